// Package api serves the spatial kernel over HTTP: layers and their
// features as GeoJSON (with OGC API – Features paths), and the grid-code
// endpoints that let other city systems ask "what is in cell G…?".
//
// Features keep history (see package spatial): PUT of an existing feature
// archives the version it replaces, DELETE ends a feature (?purge=true
// removes it with its history), GET …/features/{id}?time=T returns the
// version valid at T (an ended feature is 404 "ended at …" without a
// time), and GET …/features/{id}/history lists every version, oldest
// first, with its valid_from and valid_to. Times are RFC 3339, written
// to the nanosecond where they have fractions.
package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"citytwin/gridcode"
	"citytwin/internal/httpx"
	"citytwin/spatial"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// API serves one kernel.
type API struct {
	kernel *spatial.Kernel
	// Attribution is credited in layer metadata (e.g. OpenStreetMap's).
	attribution string
	// live counts live objects per layer in a cell (nil: none).
	live func(cell gridcode.Code) map[string]int
}

// CountLive makes GET /grid/{code} also answer how many live objects of
// each layer are in the cell now, with fn (the live twin's CountCell).
func (a *API) CountLive(fn func(cell gridcode.Code) map[string]int) { a.live = fn }

// New returns the API for a kernel.
func New(k *spatial.Kernel, attribution string) *API {
	return &API{kernel: k, attribution: attribution}
}

// Register adds the routes under /api/v1 to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/layers", a.layers)
	mux.HandleFunc("GET /api/v1/layers/{layer}", a.layer)
	mux.HandleFunc("GET /api/v1/layers/{layer}/features", a.features)
	mux.HandleFunc("POST /api/v1/layers/{layer}/query", a.query)
	mux.HandleFunc("GET /api/v1/layers/{layer}/features/{id}", a.feature)
	mux.HandleFunc("GET /api/v1/layers/{layer}/features/{id}/history", a.history)
	mux.HandleFunc("GET /api/v1/layers/{layer}/nearest", a.nearest)

	mux.HandleFunc("GET /api/v1/{$}", a.landing)
	mux.HandleFunc("GET /api/v1/conformance", a.conformance)
	mux.HandleFunc("GET /api/v1/collections", a.collections)
	mux.HandleFunc("GET /api/v1/collections/{layer}", a.collection)
	mux.HandleFunc("GET /api/v1/collections/{layer}/items", a.items)
	mux.HandleFunc("GET /api/v1/collections/{layer}/items/{id}", a.feature)

	mux.HandleFunc("GET /api/v1/grid/locate", a.gridLocate)
	mux.HandleFunc("GET /api/v1/grid/{code}", a.gridCell)
	mux.HandleFunc("GET /api/v1/grid/{code}/features", a.gridFeatures)
}

// fail maps an error to a status and writes it.
func fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, spatial.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, spatial.ErrQuery), errors.Is(err, spatial.ErrInvalid), errors.Is(err, errBadRequest):
		status = http.StatusBadRequest
	case httpx.TooLarge(err):
		status = http.StatusRequestEntityTooLarge
	}
	httpx.Error(w, status, err.Error(), nil)
}

var errBadRequest = errors.New("bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, args...))
}

// layerJSON describes a layer.
type layerJSON struct {
	Name        string     `json:"name"`
	Count       int        `json:"count"`
	Bounds      [4]float64 `json:"bounds"`
	Attribution string     `json:"attribution,omitempty"`
	Links       []link     `json:"links"`
}

type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

func (a *API) layerInfo(li spatial.LayerInfo) layerJSON {
	esc := url.PathEscape(li.Name)
	return layerJSON{
		Name: li.Name, Count: li.Count,
		Bounds:      [4]float64{li.Bound.Min[0], li.Bound.Min[1], li.Bound.Max[0], li.Bound.Max[1]},
		Attribution: a.attribution,
		Links: []link{
			{Href: "/api/v1/layers/" + esc + "/features", Rel: "items", Type: "application/geo+json"},
			{Href: "/api/v1/tiles/" + esc + ".json", Rel: "tiles", Type: "application/json"},
		},
	}
}

func (a *API) layers(w http.ResponseWriter, r *http.Request) {
	var out []layerJSON
	for _, li := range a.kernel.Index().Layers() {
		out = append(out, a.layerInfo(li))
	}
	if out == nil {
		out = []layerJSON{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"layers": out})
}

func (a *API) layer(w http.ResponseWriter, r *http.Request) {
	li, err := a.findLayer(r.PathValue("layer"))
	if err != nil {
		fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, a.layerInfo(li))
}

func (a *API) findLayer(name string) (spatial.LayerInfo, error) {
	for _, li := range a.kernel.Index().Layers() {
		if li.Name == name {
			return li, nil
		}
	}
	return spatial.LayerInfo{}, fmt.Errorf("layer %q: %w", name, spatial.ErrNotFound)
}

// parseQuery reads the common query parameters: bbox, time (or OGC
// datetime), all_times, limit, cursor, filter (repeated), intersects and
// within (GeoJSON geometries).
func parseQuery(v url.Values) (spatial.Query, error) {
	var q spatial.Query
	if s := v.Get("bbox"); s != "" {
		b, err := spatial.ParseBBox(s)
		if err != nil {
			return q, err
		}
		q.Bound = &b
	}
	t := v.Get("time")
	if t == "" {
		t = v.Get("datetime")
	}
	if t != "" {
		tt, err := time.Parse(time.RFC3339Nano, t)
		if err != nil {
			return q, badRequest("time %q: want RFC 3339, e.g. 2020-01-01T00:00:00Z", t)
		}
		q.Time = tt
	}
	if s := v.Get("all_times"); s == "true" || s == "1" {
		q.AllTimes = true
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > spatial.MaxLimit {
			return q, badRequest("limit %q: want 1–%d", s, spatial.MaxLimit)
		}
		q.Limit = n
	}
	q.Cursor = v.Get("cursor")
	for _, s := range v["filter"] {
		f, err := spatial.ParseFilter(s)
		if err != nil {
			return q, err
		}
		q.Filters = append(q.Filters, f)
	}
	for _, p := range []struct {
		name string
		dst  *orb.Geometry
	}{{"intersects", &q.Intersects}, {"within", &q.Within}} {
		if s := v.Get(p.name); s != "" {
			g, err := geojson.UnmarshalGeometry([]byte(s))
			if err != nil {
				return q, badRequest("%s: not a GeoJSON geometry: %v", p.name, err)
			}
			if err := spatial.CheckGeometry(g.Geometry()); err != nil {
				return q, badRequest("%s: %v", p.name, err)
			}
			*p.dst = g.Geometry()
		}
	}
	if s := v.Get("cell"); s != "" {
		c, err := gridcode.Parse(s)
		if err != nil {
			return q, badRequest("cell: %v", err)
		}
		q.Cell = &c
	}
	return q, nil
}

// featureCollection is the GeoJSON response of a search.
type featureCollection struct {
	Type           string            `json:"type"`
	Features       []json.RawMessage `json:"features"`
	NumberReturned int               `json:"numberReturned"`
	Next           string            `json:"next,omitempty"`
	Links          []link            `json:"links,omitempty"`
}

// FeatureJSON renders a feature as a GeoJSON Feature with its typed fields
// in the properties (layer, gridcode, height, floors, valid_from,
// valid_to, version).
func FeatureJSON(f *spatial.Feature) (json.RawMessage, error) {
	props := make(map[string]any, len(f.Properties)+8)
	for k, v := range f.Properties {
		props[k] = v
	}
	props["layer"] = f.Layer
	props["gridcode"] = f.Code.String()
	props["version"] = f.Version
	if f.Height > 0 {
		props["height"] = f.Height
	}
	if f.Floors > 0 {
		props["floors"] = f.Floors
	}
	if !f.ValidFrom.IsZero() {
		props["valid_from"] = f.ValidFrom.Format(time.RFC3339Nano)
	}
	if !f.ValidTo.IsZero() {
		props["valid_to"] = f.ValidTo.Format(time.RFC3339Nano)
	}
	gf := geojson.NewFeature(f.Geometry)
	gf.ID = f.ID
	gf.Properties = props
	return json.Marshal(gf)
}

func (a *API) writePage(w http.ResponseWriter, r *http.Request, p spatial.Page) {
	fc := featureCollection{Type: "FeatureCollection", Features: make([]json.RawMessage, 0, len(p.Features)), NumberReturned: len(p.Features), Next: p.Next}
	for _, f := range p.Features {
		b, err := FeatureJSON(f)
		if err != nil {
			fail(w, fmt.Errorf("feature %s/%s: %w", f.Layer, f.ID, err))
			return
		}
		fc.Features = append(fc.Features, b)
	}
	if p.Next != "" {
		u := *r.URL
		v := u.Query()
		v.Set("cursor", p.Next)
		u.RawQuery = v.Encode()
		fc.Links = append(fc.Links, link{Href: u.RequestURI(), Rel: "next", Type: "application/geo+json"})
	}
	httpx.WriteGeoJSON(w, http.StatusOK, fc)
}

func (a *API) features(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		fail(w, err)
		return
	}
	p, err := a.kernel.Index().Search(r.PathValue("layer"), q)
	if err != nil {
		fail(w, err)
		return
	}
	a.writePage(w, r, p)
}

// queryBody is the JSON body of POST /layers/{layer}/query, for geometries
// too large for a URL.
type queryBody struct {
	BBox       []float64       `json:"bbox"`
	Intersects json.RawMessage `json:"intersects"`
	Within     json.RawMessage `json:"within"`
	Cell       string          `json:"cell"`
	Time       string          `json:"time"`
	AllTimes   bool            `json:"all_times"`
	Filters    []string        `json:"filters"`
	Limit      int             `json:"limit"`
	Cursor     string          `json:"cursor"`
}

func (a *API) query(w http.ResponseWriter, r *http.Request) {
	var body queryBody
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		if httpx.TooLarge(err) {
			fail(w, err)
			return
		}
		fail(w, badRequest("query body: %v", err))
		return
	}
	v := url.Values{}
	if len(body.BBox) > 0 {
		if len(body.BBox) != 4 {
			fail(w, badRequest("bbox: want 4 numbers"))
			return
		}
		v.Set("bbox", fmt.Sprintf("%v,%v,%v,%v", body.BBox[0], body.BBox[1], body.BBox[2], body.BBox[3]))
	}
	if len(body.Intersects) > 0 {
		v.Set("intersects", string(body.Intersects))
	}
	if len(body.Within) > 0 {
		v.Set("within", string(body.Within))
	}
	if body.Cell != "" {
		v.Set("cell", body.Cell)
	}
	if body.Time != "" {
		v.Set("time", body.Time)
	}
	if body.AllTimes {
		v.Set("all_times", "true")
	}
	if body.Limit != 0 {
		v.Set("limit", strconv.Itoa(body.Limit))
	}
	v.Set("cursor", body.Cursor)
	v["filter"] = body.Filters
	q, err := parseQuery(v)
	if err != nil {
		fail(w, err)
		return
	}
	p, err := a.kernel.Index().Search(r.PathValue("layer"), q)
	if err != nil {
		fail(w, err)
		return
	}
	a.writePage(w, r, p)
}

// feature answers GET /layers/{layer}/features/{id}: the version valid at
// ?time= (or OGC datetime=) when given, else the current version. A
// feature that has ended (its latest version's valid_to is not in the
// future) is 404 "ended at …" now, and still served as of earlier times
// and in its history.
func (a *API) feature(w http.ResponseWriter, r *http.Request) {
	layer, id := r.PathValue("layer"), r.PathValue("id")
	v := r.URL.Query()
	ts := v.Get("time")
	if ts == "" {
		ts = v.Get("datetime")
	}
	ix := a.kernel.Index()
	latest, ok := ix.Get(layer, id)
	if !ok {
		fail(w, fmt.Errorf("feature %q in layer %q: %w", id, layer, spatial.ErrNotFound))
		return
	}
	f := latest
	if ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			fail(w, badRequest("time %q: want RFC 3339, e.g. 2020-01-01T00:00:00Z", ts))
			return
		}
		if f, ok = ix.GetAt(layer, id, t); !ok {
			fail(w, fmt.Errorf("feature %q in layer %q did not exist at %s (see its /history): %w", id, layer, t.Format(time.RFC3339Nano), spatial.ErrNotFound))
			return
		}
	} else if !latest.ValidTo.IsZero() && !latest.ValidTo.After(time.Now()) {
		fail(w, fmt.Errorf("feature %q in layer %q ended at %s (ask with ?time= or for its /history): %w", id, layer, latest.ValidTo.Format(time.RFC3339Nano), spatial.ErrNotFound))
		return
	}
	b, err := FeatureJSON(f)
	if err != nil {
		fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	_, _ = w.Write(append(b, '\n'))
}

// history answers GET /layers/{layer}/features/{id}/history: every
// version of the feature, oldest first, as a GeoJSON FeatureCollection
// whose features carry their valid_from and valid_to.
func (a *API) history(w http.ResponseWriter, r *http.Request) {
	layer, id := r.PathValue("layer"), r.PathValue("id")
	vs := a.kernel.Index().Versions(layer, id)
	if len(vs) == 0 {
		fail(w, fmt.Errorf("feature %q in layer %q: %w", id, layer, spatial.ErrNotFound))
		return
	}
	a.writePage(w, r, spatial.Page{Features: vs})
}

func (a *API) nearest(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	lat, err1 := strconv.ParseFloat(v.Get("lat"), 64)
	lon, err2 := strconv.ParseFloat(v.Get("lon"), 64)
	if err1 != nil || err2 != nil {
		fail(w, badRequest("lat and lon are required, in decimal degrees"))
		return
	}
	k := 10
	if s := v.Get("k"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fail(w, badRequest("k %q is not an integer", s))
			return
		}
		k = n
	}
	v.Del("limit")
	v.Del("cursor")
	q, err := parseQuery(v)
	if err != nil {
		fail(w, err)
		return
	}
	ns, err := a.kernel.Index().Nearest(r.PathValue("layer"), orb.Point{lon, lat}, k, q)
	if err != nil {
		fail(w, err)
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: make([]json.RawMessage, 0, len(ns)), NumberReturned: len(ns)}
	for _, n := range ns {
		f := *n.Feature
		f.Properties = make(map[string]any, len(n.Feature.Properties)+1)
		for key, val := range n.Feature.Properties {
			f.Properties[key] = val
		}
		f.Properties["distance_m"] = n.Distance
		b, err := FeatureJSON(&f)
		if err != nil {
			fail(w, err)
			return
		}
		fc.Features = append(fc.Features, b)
	}
	httpx.WriteGeoJSON(w, http.StatusOK, fc)
}
