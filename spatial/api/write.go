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
// /api/v1/layers/{layer}/features/{id} to insert or replace it, DELETE it
// to remove it. With a non-empty token, writes need "Authorization:
// Bearer <token>".
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
	if changes[0].Kind == spatial.Insert {
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
	changes, err := a.kernel.Delete(r.Context(), layer, []string{id})
	if err != nil {
		fail(w, err)
		return
	}
	if len(changes) == 0 {
		fail(w, fmt.Errorf("feature %q in layer %q: %w", id, layer, spatial.ErrNotFound))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
