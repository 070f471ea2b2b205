// Package auth is CityTwin's bearer-token authentication with roles
// (ARCHITECTURE.md: viewer, officer bound to grids, analyst, admin; plus
// device, for sensors, vehicles and gateways that send live updates).
//
// Tokens come from a file (Load) with one token per line:
//
//	# token                 role     name            grids (officers)
//	3f9a…c2                 admin    ops-team
//	sha256:5e884898da28…    device   bus-gateway
//	b71e…0d                 officer  wang.li         G001310322-230230,G001310322-230231
//
// A token may be given as "sha256:" and the hex SHA-256 of the token, so
// the file need not hold secrets. Requests carry the token as
// "Authorization: Bearer TOKEN", or as ?access_token=TOKEN where a header
// cannot be set (browsers' websockets).
//
// Policy decides what each role may do (see Policy.Require); with no
// tokens configured every request is allowed, and the server warns.
package auth

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"citytwin/gridcode"
)

// Role is what a token may do.
type Role string

// The roles.
const (
	// Viewer reads everything public to the city's staff.
	Viewer Role = "viewer"
	// Officer is a grid officer: a viewer who works cases in their grids.
	Officer Role = "officer"
	// Analyst runs scenarios and manages geofences.
	Analyst Role = "analyst"
	// Device sends live object updates (vehicles, sensors, gateways).
	Device Role = "device"
	// Admin may do everything, including editing features.
	Admin Role = "admin"
)

var roles = map[Role]bool{Viewer: true, Officer: true, Analyst: true, Device: true, Admin: true}

// Principal is who a token belongs to.
type Principal struct {
	Name string
	Role Role
	// Grids are the unit grids an officer is bound to.
	Grids []gridcode.Code
}

// Tokens maps tokens to principals by the tokens' SHA-256, so a lookup
// takes the same time whatever the token and the table keeps no secrets.
type Tokens struct {
	byHash map[[sha256.Size]byte]Principal
}

// NewTokens returns an empty table.
func NewTokens() *Tokens { return &Tokens{byHash: map[[sha256.Size]byte]Principal{}} }

// Add adds a token.
func (t *Tokens) Add(token string, p Principal) { t.byHash[sha256.Sum256([]byte(token))] = p }

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.byHash) }

// Lookup returns the principal of a token.
func (t *Tokens) Lookup(token string) (Principal, bool) {
	if token == "" {
		return Principal{}, false
	}
	p, ok := t.byHash[sha256.Sum256([]byte(token))]
	return p, ok
}

// Load reads a token file (see the package doc). Errors name the file and
// line.
func Load(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	defer f.Close()
	t := NewTokens()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if err := t.parseLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("auth: %s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("auth: %s: %w", path, err)
	}
	return t, nil
}

func (t *Tokens) parseLine(s string) error {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil
	}
	if len(fields) < 2 {
		return errors.New("want: TOKEN ROLE [NAME] [GRID,GRID…]")
	}
	token, role := fields[0], Role(fields[1])
	if !roles[role] {
		return fmt.Errorf("unknown role %q (want viewer, officer, analyst, device or admin)", role)
	}
	p := Principal{Role: role}
	if len(fields) > 2 {
		p.Name = fields[2]
	}
	if len(fields) > 3 {
		for _, g := range strings.Split(fields[3], ",") {
			c, err := gridcode.Parse(g)
			if err != nil {
				return fmt.Errorf("grid %q: %v", g, err)
			}
			p.Grids = append(p.Grids, c)
		}
	}
	if len(fields) > 4 {
		return fmt.Errorf("unexpected %q after the grids", fields[4])
	}
	if role == Officer && len(p.Grids) == 0 {
		return errors.New("an officer needs the grid codes they are bound to")
	}
	var sum [sha256.Size]byte
	if hexSum, ok := strings.CutPrefix(token, "sha256:"); ok {
		b, err := hex.DecodeString(hexSum)
		if err != nil || len(b) != sha256.Size {
			return errors.New("sha256: token: want 64 hex digits")
		}
		copy(sum[:], b)
	} else {
		if len(token) < 16 {
			return errors.New("token shorter than 16 characters")
		}
		sum = sha256.Sum256([]byte(token))
	}
	if _, dup := t.byHash[sum]; dup {
		return errors.New("token listed twice")
	}
	t.byHash[sum] = p
	return nil
}

// FromRequest returns the request's bearer token: the Authorization
// header, or the access_token query parameter.
func FromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal a Policy put in ctx.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
