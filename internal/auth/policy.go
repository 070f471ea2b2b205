package auth

import (
	"net/http"
	"strings"

	"citytwin/internal/httpx"
)

// Policy guards a server's routes by role. The zero Policy (no tokens)
// allows everything.
type Policy struct {
	// Tokens are the known tokens; nil or empty means authentication is
	// off.
	Tokens *Tokens
	// PrivateReads makes reads (GET, HEAD and websocket subscriptions)
	// need a token too; by default they are public.
	PrivateReads bool
}

// Enabled reports whether tokens are configured.
func (p *Policy) Enabled() bool { return p.Tokens != nil && p.Tokens.Len() > 0 }

// Require returns the roles that may make the request (nil: anyone):
//
//	GET/HEAD/OPTIONS, websocket /ws           anyone (any role with PrivateReads,
//	                                          except the viewer pages and /healthz)
//	POST/DELETE /api/v1/objects…              device, admin
//	POST/PUT/DELETE /api/v1/fences…           analyst, admin
//	POST/DELETE /api/v1/scenarios…            analyst, admin
//	POST/PUT/PATCH /api/v1/cases…             officer, admin (officers: their grids)
//	any other write                           admin
//
// Updates sent over a websocket need device or admin (CanUpdate).
func (p *Policy) Require(r *http.Request) []Role {
	path := r.URL.Path
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		if p.PrivateReads && !publicPage(path) {
			return []Role{Viewer, Officer, Analyst, Device, Admin}
		}
		return nil
	}
	switch {
	case under(path, "/api/v1/objects"):
		return []Role{Device, Admin}
	case under(path, "/api/v1/fences"), under(path, "/api/v1/scenarios"):
		return []Role{Analyst, Admin}
	case under(path, "/api/v1/cases"):
		return []Role{Officer, Admin}
	}
	return []Role{Admin}
}

// publicPage reports the paths that stay public even with PrivateReads:
// the viewers' pages and assets (they hold no city data) and /healthz.
func publicPage(path string) bool {
	return path == "/" || path == "/officer" || path == "/healthz" || strings.HasPrefix(path, "/assets/")
}

func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// Wrap checks every request against Require: a missing or unknown token is
// 401 (with WWW-Authenticate), a known token of another role 403. The
// principal, when there is one, goes into the request's context.
func (p *Policy) Wrap(h http.Handler) http.Handler {
	if !p.Enabled() {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := p.Require(r)
		tok := FromRequest(r)
		who, known := p.Tokens.Lookup(tok)
		if known {
			r = r.WithContext(WithPrincipal(r.Context(), who))
		}
		if need == nil {
			h.ServeHTTP(w, r)
			return
		}
		if !known {
			w.Header().Set("WWW-Authenticate", `Bearer realm="citytwin"`)
			msg := "this request needs a bearer token"
			if tok != "" {
				msg = "unknown bearer token"
			}
			httpx.Error(w, http.StatusUnauthorized, msg, map[string]any{"roles": need})
			return
		}
		for _, role := range need {
			if who.Role == role {
				h.ServeHTTP(w, r)
				return
			}
		}
		httpx.Error(w, http.StatusForbidden, "role "+string(who.Role)+" may not "+r.Method+" "+r.URL.Path, map[string]any{"roles": need})
	})
}

// CanUpdate reports whether the client behind a (websocket) request may
// send live object updates: always when authentication is off, else a
// device or admin token.
func (p *Policy) CanUpdate(r *http.Request) bool {
	if !p.Enabled() {
		return true
	}
	who, ok := p.Tokens.Lookup(FromRequest(r))
	return ok && (who.Role == Device || who.Role == Admin)
}
