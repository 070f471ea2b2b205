package api

import (
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"citytwin/internal/httpx"
	"citytwin/spatial"

	"github.com/paulmach/orb/geojson"
)

// RegisterWrites adds the feature write routes: PUT a GeoJSON Feature to
// /api/v1/layers/{layer}/features/{id} to insert it or edit it (an edit
// keeps the version it replaces in the feature's history, as
// spatial.Kernel.Put describes: 201 for a feature never seen, 200 for an
// edit), DELETE it to end it (a soft delete: 204, and it stays readable
// with ?time= and in its /history; ?at=RFC3339 dates the end, default
// now; 404 if it has no current version), DELETE ?purge=true to remove it
// with all its history (204; 404 if unknown). With a non-empty token,
// writes need "Authorization: Bearer <token>".
func (a *API) RegisterWrites(mux *http.ServeMux, token string) {
	guard := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if token != "" {
				got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
				if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
					w.Header().Set("WWW-Authenticate", `Bearer realm="citytwin"`)
					httpx.Error(w, http.StatusUnauthorized, "writes need an admin bearer token", nil)
					return
				}
			}
			h(w, r)
		}
	}
	mux.HandleFunc("PUT /api/v1/layers/{layer}/features/{id}", guard(a.putFeature))
	mux.HandleFunc("DELETE /api/v1/layers/{layer}/features/{id}", guard(a.deleteFeature))
}

// FeatureFromGeoJSON converts a GeoJSON Feature to a spatial feature of a
// layer, moving the typed properties (height, floors, valid_from,
// valid_to) into their fields and dropping the server-computed ones
// (layer, gridcode, version).
func FeatureFromGeoJSON(layer, id string, b []byte) (*spatial.Feature, error) {
	gf, err := geojson.UnmarshalFeature(b)
	if err != nil {
		return nil, badRequest("not a GeoJSON Feature: %v", err)
	}
	f := &spatial.Feature{Layer: layer, ID: id, Properties: map[string]any{}}
	if gf.Geometry != nil {
		f.Geometry = gf.Geometry
	}
	for k, v := range gf.Properties {
		switch k {
		case "layer", "gridcode", "version", "id":
		case "height":
			n, ok := v.(float64)
			if !ok {
				return nil, badRequest("property height: want a number of metres, got %v", v)
			}
			f.Height = n
		case "floors":
			n, ok := v.(float64)
			if !ok || n != float64(int(n)) {
				return nil, badRequest("property floors: want a whole number, got %v", v)
			}
			f.Floors = int(n)
		case "valid_from", "valid_to":
			s, _ := v.(string)
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return nil, badRequest("property %s: want RFC 3339, got %v", k, v)
			}
			if k == "valid_from" {
				f.ValidFrom = t
			} else {
				f.ValidTo = t
			}
		default:
			f.Properties[k] = v
		}
	}
	if len(f.Properties) == 0 {
		f.Properties = nil
	}
	return f, nil
}

func (a *API) putFeature(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, err)
		return
	}
	f, err := FeatureFromGeoJSON(r.PathValue("layer"), r.PathValue("id"), b)
	if err != nil {
		fail(w, err)
		return
	}
	changes, err := a.kernel.Put(r.Context(), []*spatial.Feature{f})
	if err != nil {
		fail(w, err)
		return
	}
	status := http.StatusOK
	if len(changes) > 0 && changes[0].Kind == spatial.Insert { // none: it was unchanged
		status = http.StatusCreated
	}
	stored, _ := a.kernel.Index().Get(f.Layer, f.ID)
	out, err := FeatureJSON(stored)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("ETag", `"`+strconv.FormatUint(stored.Version, 10)+`"`)
	w.WriteHeader(status)
	_, _ = w.Write(append(out, '\n'))
}

func (a *API) deleteFeature(w http.ResponseWriter, r *http.Request) {
	layer, id := r.PathValue("layer"), r.PathValue("id")
	v := r.URL.Query()
	purge := false
	switch p := v.Get("purge"); p {
	case "", "false", "0":
	case "true", "1":
		purge = true
	default:
		fail(w, badRequest("purge %q: want true or false", p))
		return
	}
	var changes []spatial.Change
	var err error
	if purge {
		changes, err = a.kernel.Delete(r.Context(), layer, []string{id})
	} else {
		var at time.Time
		if s := v.Get("at"); s != "" {
			if at, err = time.Parse(time.RFC3339Nano, s); err != nil {
				fail(w, badRequest("at %q: want RFC 3339, e.g. 2020-01-01T00:00:00Z", s))
				return
			}
		}
		changes, err = a.kernel.End(r.Context(), layer, []string{id}, at)
	}
	if err != nil {
		fail(w, err)
		return
	}
	if len(changes) == 0 {
		if f, ok := a.kernel.Index().Get(layer, id); ok && !f.ValidTo.IsZero() {
			fail(w, fmt.Errorf("feature %q in layer %q already ended at %s (purge=true removes it with its history): %w", id, layer, f.ValidTo.Format(time.RFC3339Nano), spatial.ErrNotFound))
			return
		}
		fail(w, fmt.Errorf("feature %q in layer %q: %w", id, layer, spatial.ErrNotFound))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
