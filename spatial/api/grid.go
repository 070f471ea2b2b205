package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"citytwin/gridcode"
	"citytwin/internal/httpx"
)

// gridLocate answers GET /grid/locate?lat=&lon=&level=&scheme=[&height=&time=&time_level=].
func (a *API) gridLocate(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	lat, err := gridcode.ParseAngle(v.Get("lat"))
	if err != nil {
		fail(w, badRequest("lat: %v", err))
		return
	}
	lon, err := gridcode.ParseAngle(v.Get("lon"))
	if err != nil {
		fail(w, badRequest("lon: %v", err))
		return
	}
	scheme := v.Get("scheme")
	if scheme == "" {
		scheme = "geosot"
	}
	level, err := strconv.Atoi(v.Get("level"))
	if err != nil {
		fail(w, badRequest("level %q is required and must be an integer", v.Get("level")))
		return
	}
	var height float64
	if s := v.Get("height"); s != "" {
		if height, err = strconv.ParseFloat(s, 64); err != nil {
			fail(w, badRequest("height %q is not a number of metres", s))
			return
		}
	}
	var t time.Time
	if s := v.Get("time"); s != "" {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			fail(w, badRequest("time %q: want RFC 3339", s))
			return
		}
	}
	timeLevel := gridcode.TimeLevelHour
	if s := v.Get("time_level"); s != "" {
		if timeLevel, err = strconv.Atoi(s); err != nil {
			fail(w, badRequest("time_level %q is not an integer", s))
			return
		}
	}
	code, err := gridcode.Locate(scheme, lat, lon, height, t, level, timeLevel)
	if err != nil {
		fail(w, badRequest("%v", err))
		return
	}
	d, err := gridcode.Describe(code)
	if err != nil {
		fail(w, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

// cellJSON is a grid cell with what lies in it.
type cellJSON struct {
	gridcode.Description
	Counts map[string]int `json:"counts"`
	// Live counts live objects per layer in the cell now (absent for a
	// past ?time= or without a live twin).
	Live  map[string]int `json:"live,omitempty"`
	Links []link         `json:"links"`
}

// parseCell reads a GeoSOT 2D code from the path (other schemes are
// described by /grid/locate and the CLI; the kernel indexes GeoSOT).
func parseCell(s string) (gridcode.Code, error) {
	c, err := gridcode.Parse(s)
	if err != nil {
		return gridcode.Code{}, badRequest("%v", err)
	}
	return c, nil
}

// gridCell answers GET /grid/{code}: the cell's bounds and, per layer, how
// many features lie in it now (or at ?time=).
func (a *API) gridCell(w http.ResponseWriter, r *http.Request) {
	c, err := parseCell(r.PathValue("code"))
	if err != nil {
		fail(w, err)
		return
	}
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		fail(w, err)
		return
	}
	q.Cell = &c
	d, err := gridcode.Describe(c.String())
	if err != nil {
		fail(w, err)
		return
	}
	out := cellJSON{Description: d, Counts: map[string]int{}}
	for _, li := range a.kernel.Index().Layers() {
		n, err := a.kernel.Index().Count(li.Name, q)
		if err != nil {
			fail(w, err)
			return
		}
		if n > 0 {
			out.Counts[li.Name] = n
		}
	}
	out.Links = []link{{Href: "/api/v1/grid/" + c.String() + "/features", Rel: "items", Type: "application/geo+json"}}
	if a.live != nil && r.URL.Query().Get("time") == "" {
		out.Live = a.live(c)
		out.Links = append(out.Links, link{Href: "/api/v1/objects?grid=" + c.String(), Rel: "live", Type: "application/json"})
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// gridFeatures answers GET /grid/{code}/features?layer=: the features in
// the cell. With a layer it pages by cursor; without, it returns up to
// limit features of every layer.
func (a *API) gridFeatures(w http.ResponseWriter, r *http.Request) {
	c, err := parseCell(r.PathValue("code"))
	if err != nil {
		fail(w, err)
		return
	}
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		fail(w, err)
		return
	}
	q.Cell = &c
	if layer := r.URL.Query().Get("layer"); layer != "" {
		p, err := a.kernel.Index().Search(layer, q)
		if err != nil {
			fail(w, err)
			return
		}
		a.writePage(w, r, p)
		return
	}
	if q.Cursor != "" {
		fail(w, badRequest("cursor needs a layer"))
		return
	}
	fc := featureCollection{Type: "FeatureCollection", Features: []json.RawMessage{}}
	for _, li := range a.kernel.Index().Layers() {
		p, err := a.kernel.Index().Search(li.Name, q)
		if err != nil {
			fail(w, err)
			return
		}
		for _, f := range p.Features {
			b, err := FeatureJSON(f)
			if err != nil {
				fail(w, fmt.Errorf("feature %s/%s: %w", f.Layer, f.ID, err))
				return
			}
			fc.Features = append(fc.Features, b)
		}
		if p.Next != "" {
			fc.Links = append(fc.Links, link{Href: fmt.Sprintf("/api/v1/grid/%s/features?layer=%s&cursor=%s", c, li.Name, p.Next), Rel: "next", Title: li.Name})
		}
	}
	fc.NumberReturned = len(fc.Features)
	httpx.WriteGeoJSON(w, http.StatusOK, fc)
}
