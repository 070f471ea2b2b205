package fence

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"citytwin/internal/httpx"
)

// maxBody bounds a POSTed definition (1 MiB: ~30,000 vertices).
const maxBody = 1 << 20

// Change tells the caller that the HTTP API added or removed a fence.
type Change struct {
	// Op is "add" or "remove".
	Op string
	// Fence is the definition added or removed (with its webhook secret).
	Fence Definition
}

// Register adds the fence routes to mux:
//
//	POST   /api/v1/fences       201 with the stored definition; 400 (the
//	                            error's detail names the field), 409 on a
//	                            duplicate id, 500 if saving failed (the fence
//	                            is then not added)
//	GET    /api/v1/fences       {"fences": [definition, …]} by id
//	GET    /api/v1/fences/{id}  the definition, or 404
//	DELETE /api/v1/fences/{id}  204, 404, or 500 if the saver failed (the
//	                            fence then stays)
//
// Definitions are saved through s (nil: kept in memory only) before the
// request is acknowledged. onChange (may be nil) is called after each
// successful change. Responses never include webhook secrets.
func (e *Engine) Register(mux *http.ServeMux, s Saver, onChange func(Change)) {
	a := &api{e: e, saver: s, onChange: onChange}
	mux.HandleFunc("POST /api/v1/fences", a.create)
	mux.HandleFunc("GET /api/v1/fences", a.list)
	mux.HandleFunc("GET /api/v1/fences/{id}", a.get)
	mux.HandleFunc("DELETE /api/v1/fences/{id}", a.delete)
}

type api struct {
	e        *Engine
	saver    Saver
	onChange func(Change)
}

// fieldDetail is the detail of a 400 for an invalid definition.
type fieldDetail struct {
	Field string `json:"field"`
}

func (a *api) create(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if httpx.TooLarge(err) {
			httpx.Error(w, http.StatusRequestEntityTooLarge, "fence definition larger than 1 MiB", nil)
			return
		}
		httpx.Error(w, http.StatusBadRequest, "reading the request body: "+err.Error(), nil)
		return
	}
	def, err := ParseDefinition(body)
	if err != nil {
		badDefinition(w, err)
		return
	}
	f, err := a.e.prepare(def)
	if err != nil {
		badDefinition(w, err)
		return
	}
	id := f.def.ID
	if err := a.e.reserve(id); err != nil {
		httpx.Error(w, http.StatusConflict, err.Error(), nil)
		return
	}
	if a.saver != nil {
		data, err := json.Marshal(f.def)
		if err == nil {
			err = a.saver.SaveFence(r.Context(), id, data)
		}
		if err != nil {
			a.e.release(id)
			httpx.Error(w, http.StatusInternalServerError, "saving fence "+id+" failed", err.Error())
			return
		}
	}
	a.e.commit(f)
	stored := cloneDef(f.def)
	if a.onChange != nil {
		a.onChange(Change{Op: "add", Fence: cloneDef(stored)})
	}
	w.Header().Set("Location", "/api/v1/fences/"+id)
	httpx.WriteJSON(w, http.StatusCreated, redact(stored))
}

func badDefinition(w http.ResponseWriter, err error) {
	var fe *FieldError
	if errors.As(err, &fe) {
		httpx.Error(w, http.StatusBadRequest, err.Error(), fieldDetail{Field: fe.Field})
		return
	}
	httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
}

func (a *api) list(w http.ResponseWriter, _ *http.Request) {
	defs := a.e.List()
	for i := range defs {
		defs[i] = redact(defs[i])
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"fences": defs})
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	def, ok := a.e.Get(r.PathValue("id"))
	if !ok {
		httpx.Error(w, http.StatusNotFound, "fence "+r.PathValue("id")+" not found", nil)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, redact(def))
}

func (a *api) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	def, ok := a.e.Get(id)
	if !ok {
		httpx.Error(w, http.StatusNotFound, "fence "+id+" not found", nil)
		return
	}
	if a.saver != nil {
		if err := a.saver.DeleteFence(r.Context(), id); err != nil {
			httpx.Error(w, http.StatusInternalServerError, "deleting fence "+id+" failed", err.Error())
			return
		}
	}
	if !a.e.Remove(id) {
		httpx.Error(w, http.StatusNotFound, "fence "+id+" not found", nil)
		return
	}
	if a.onChange != nil {
		a.onChange(Change{Op: "remove", Fence: def})
	}
	w.WriteHeader(http.StatusNoContent)
}

// redact drops the webhook secret from a definition for a response.
func redact(d Definition) Definition {
	if d.Webhook != nil && d.Webhook.Secret != "" {
		w := *d.Webhook
		w.Secret = ""
		d.Webhook = &w
	}
	return d
}
