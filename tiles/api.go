package tiles

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"citytwin/internal/httpx"
	"citytwin/spatial"
)

// API serves tiles, TileJSON and a MapLibre style over HTTP.
type API struct {
	gen         *Generator
	cache       *Cache
	index       *spatial.Index
	attribution string
}

// NewAPI returns the tile API.
func NewAPI(gen *Generator, cache *Cache, ix *spatial.Index, attribution string) *API {
	return &API{gen: gen, cache: cache, index: ix, attribution: attribution}
}

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/tiles/{layer}/{z}/{x}/{y}", a.tile)
	mux.HandleFunc("GET /api/v1/tiles/{file}", a.tileJSON)
	mux.HandleFunc("GET /api/v1/style.json", a.style)
}

// layerNames resolves "all" or a comma-separated list to layer names.
func (a *API) layerNames(spec string) ([]string, error) {
	if spec == "all" {
		infos := a.index.Layers()
		names := make([]string, 0, len(infos))
		for _, li := range drawOrder(infos) {
			names = append(names, li.Name)
		}
		return names, nil
	}
	names := strings.Split(spec, ",")
	for _, n := range names {
		// Known layers are those the index has, current features or not:
		// a layer whose features have all ended still draws as of earlier
		// times.
		if _, ok := a.index.Layer(n); !ok {
			return nil, fmt.Errorf("layer %q: %w", n, spatial.ErrNotFound)
		}
	}
	return names, nil
}

// drawOrder puts area layers under lines under points, as a map draws them.
func drawOrder(infos []spatial.LayerInfo) []spatial.LayerInfo {
	rank := map[string]int{"sea": 0, "land_lowres": 1, "land": 2, "districts": 3, "blocks": 4, "grids": 5, "streets": 6, "buildings": 7, "stations": 8, "sensors": 9}
	out := append([]spatial.LayerInfo(nil), infos...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, oki := rank[out[i].Name]
		rj, okj := rank[out[j].Name]
		if !oki {
			ri = 100
		}
		if !okj {
			rj = 100
		}
		return ri < rj
	})
	return out
}

func (a *API) tile(w http.ResponseWriter, r *http.Request) {
	ys := r.PathValue("y")
	ys, ok := strings.CutSuffix(ys, ".mvt")
	if !ok {
		ys, ok = strings.CutSuffix(ys, ".pbf")
	}
	if !ok {
		httpx.Error(w, http.StatusNotFound, "want /api/v1/tiles/{layer}/{z}/{x}/{y}.mvt", nil)
		return
	}
	z, err1 := strconv.Atoi(r.PathValue("z"))
	x, err2 := strconv.Atoi(r.PathValue("x"))
	y, err3 := strconv.Atoi(ys)
	if err1 != nil || err2 != nil || err3 != nil {
		httpx.Error(w, http.StatusBadRequest, "z, x and y must be integers", nil)
		return
	}
	if err := CheckTile(z, x, y); err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	names, err := a.layerNames(r.PathValue("layer"))
	if err != nil {
		httpx.Error(w, http.StatusNotFound, err.Error(), nil)
		return
	}
	var asOf time.Time
	if s := r.URL.Query().Get("time"); s != "" {
		if asOf, err = time.Parse(time.RFC3339Nano, s); err != nil {
			httpx.Error(w, http.StatusBadRequest, fmt.Sprintf("time %q: want RFC 3339", s), nil)
			return
		}
	}
	key := Key{Layers: strings.Join(names, ","), Z: z, X: x, Y: y}
	if !asOf.IsZero() {
		key.AsOf = asOf.UTC().Format(time.RFC3339Nano) // two instants never share a tile
	}
	e, hit := a.cache.Get(key)
	if !hit {
		data, st, err := a.gen.Render(names, z, x, y, asOf)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, ErrTile) {
				status = http.StatusBadRequest
			}
			httpx.Error(w, status, err.Error(), nil)
			return
		}
		e = a.cache.Put(key, data, st)
	}
	h := w.Header()
	h.Set("ETag", e.ETag)
	h.Set("Cache-Control", "no-cache") // revalidate: edits show on the next request
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Tile-Features", strconv.Itoa(e.Stats.Features))
	h.Set("X-Tile-Dropped", strconv.Itoa(e.Stats.Dropped))
	if hit {
		h.Set("X-Cache", "hit")
	} else {
		h.Set("X-Cache", "miss")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, e.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if len(e.Data) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body := e.Data
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.cache.GzipOf(e)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func etagMatch(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == "*" || p == etag || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// baseURL is the scheme and host the client used.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// vectorLayer is a TileJSON vector_layers entry.
type vectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
	Count       int               `json:"count"`
}

// fields samples a layer's attribute types for TileJSON.
func (a *API) fields(layer string) map[string]string {
	out := map[string]string{"id": "String", "gridcode": "String"}
	p, err := a.index.Search(layer, spatial.Query{Limit: 500})
	if err != nil {
		return out
	}
	for _, f := range p.Features {
		if f.Height > 0 {
			out["height"] = "Number"
		}
		if f.Floors > 0 {
			out["floors"] = "Number"
		}
		if !f.ValidFrom.IsZero() {
			out["valid_from"] = "String"
		}
		if !f.ValidTo.IsZero() {
			out["valid_to"] = "String"
		}
		for k, v := range f.Properties {
			switch v.(type) {
			case string:
				out[k] = "String"
			case float64, int, int64, uint64:
				out[k] = "Number"
			case bool:
				out[k] = "Boolean"
			}
		}
	}
	return out
}

func (a *API) tileJSON(w http.ResponseWriter, r *http.Request) {
	spec, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	if !ok {
		httpx.Error(w, http.StatusNotFound, "want /api/v1/tiles/{layer}.json", nil)
		return
	}
	names, err := a.layerNames(spec)
	if err != nil {
		httpx.Error(w, http.StatusNotFound, err.Error(), nil)
		return
	}
	var vls []vectorLayer
	bounds := [4]float64{180, 90, -180, -90}
	for _, li := range a.index.Layers() {
		for _, n := range names {
			if n != li.Name {
				continue
			}
			vls = append(vls, vectorLayer{ID: n, MinZoom: 0, MaxZoom: MaxZoom, Fields: a.fields(n), Count: li.Count})
			bounds[0] = min(bounds[0], li.Bound.Min[0])
			bounds[1] = min(bounds[1], li.Bound.Min[1])
			bounds[2] = max(bounds[2], li.Bound.Max[0])
			bounds[3] = max(bounds[3], li.Bound.Max[1])
		}
	}
	if len(vls) == 0 {
		bounds = [4]float64{-180, -85.05112878, 180, 85.05112878}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"tilejson":      "3.0.0",
		"name":          spec,
		"scheme":        "xyz",
		"tiles":         []string{baseURL(r) + "/api/v1/tiles/" + spec + "/{z}/{x}/{y}.mvt"},
		"minzoom":       0,
		"maxzoom":       MaxZoom,
		"bounds":        bounds,
		"center":        []float64{(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2, 13},
		"attribution":   a.attribution,
		"vector_layers": vls,
	})
}

// style answers GET /api/v1/style.json: a MapLibre style for the city.
func (a *API) style(w http.ResponseWriter, r *http.Request) {
	httpx.WriteJSON(w, http.StatusOK, Style(baseURL(r), a.index.Layers()))
}
