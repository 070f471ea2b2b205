// Package liveapi serves the live twin over HTTP (prefix /api/v1):
//
//	POST   /objects                   batch of updates: JSON array, one object or NDJSON
//	GET    /objects?bbox=&grid=&layer=&time=&window=&limit=   current objects, or as of a time
//	GET    /objects/{id}              one object's current state
//	DELETE /objects/{id}              remove an object from the live twin
//	GET    /objects/{id}/history?from=&to=&limit=        GeoJSON trajectory and states
//	GET    /live                      live layers with object counts, and totals
package liveapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"citytwin/gridcode"
	"citytwin/internal/httpx"
	"citytwin/spatial"
	"citytwin/twin/live"

	"github.com/paulmach/orb"
)

// Limits of the read endpoints.
const (
	// DefaultLimit is the default number of objects or history points.
	DefaultLimit = 10000
	// MaxLimit is the largest limit a request may ask for.
	MaxLimit = 100000
	// DefaultWindow is how far before ?time= an object must have reported
	// to count as live then.
	DefaultWindow = time.Hour
)

// API serves one twin.
type API struct {
	twin    *live.Twin
	parsers sync.Pool // *live.Parser
	bodies  sync.Pool // *[]byte: request bodies, reused once parsed
}

// New returns the API of a twin.
func New(t *live.Twin) *API {
	return &API{twin: t,
		parsers: sync.Pool{New: func() any { return new(live.Parser) }},
		bodies:  sync.Pool{New: func() any { return new([]byte) }},
	}
}

// readBody reads a request body into buf, sized once from Content-Length
// when the client sent it.
func readBody(r *http.Request, buf []byte) ([]byte, error) {
	if n := r.ContentLength; n > 0 && n < 256<<20 && int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		k, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/objects", a.post)
	mux.HandleFunc("GET /api/v1/objects", a.list)
	mux.HandleFunc("GET /api/v1/objects/{id}", a.get)
	mux.HandleFunc("DELETE /api/v1/objects/{id}", a.remove)
	mux.HandleFunc("GET /api/v1/objects/{id}/history", a.history)
	mux.HandleFunc("GET /api/v1/live", a.info)
}

func (a *API) post(w http.ResponseWriter, r *http.Request) {
	bp := a.bodies.Get().(*[]byte)
	defer a.bodies.Put(bp)
	body, err := readBody(r, (*bp)[:0])
	*bp = body
	if err != nil {
		if httpx.TooLarge(err) {
			httpx.Error(w, http.StatusRequestEntityTooLarge, "request body too large", nil)
			return
		}
		httpx.Error(w, http.StatusBadRequest, "reading body: "+err.Error(), nil)
		return
	}
	p := a.parsers.Get().(*live.Parser)
	objs, rejected, err := p.Parse(body, a.twin.Now())
	a.parsers.Put(p)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	res, err := a.twin.Ingest(r.Context(), objs, rejected)
	if err != nil {
		httpx.Error(w, http.StatusServiceUnavailable, err.Error(), nil)
		return
	}
	if res.Rejected == nil {
		res.Rejected = []live.Rejection{}
	}
	status := http.StatusOK
	if res.Accepted == 0 && len(res.Rejected) > 0 {
		status = http.StatusBadRequest
	}
	httpx.WriteJSON(w, status, res)
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	o, err := a.twin.Get(r.PathValue("id"))
	if err != nil {
		httpx.Error(w, http.StatusNotFound, err.Error(), nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(o.AppendJSON(nil), '\n'))
}

func (a *API) remove(w http.ResponseWriter, r *http.Request) {
	err := a.twin.Remove(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, live.ErrNotFound):
		httpx.Error(w, http.StatusNotFound, err.Error(), nil)
	case err != nil:
		httpx.Error(w, http.StatusServiceUnavailable, err.Error(), nil)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// list answers GET /objects: {"objects":[…],"count":n,"truncated":bool,"time":…}.
func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	b := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	var err error
	if s := q.Get("bbox"); s != "" {
		if b, err = spatial.ParseBBox(s); err != nil {
			httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
	}
	var layers []string
	if s := q.Get("layer"); s != "" {
		layers = strings.Split(s, ",")
	}
	var cell *gridcode.Code
	if s := q.Get("grid"); s != "" {
		c, err := gridcode.Parse(s)
		if err != nil {
			httpx.Error(w, http.StatusBadRequest, "grid: "+err.Error(), nil)
			return
		}
		cell = &c
		cb := live.CellBound(c)
		if !b.Intersects(cb) {
			b = orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{0, 0}} // nothing
		} else {
			b = orb.Bound{Min: orb.Point{max(b.Min[0], cb.Min[0]), max(b.Min[1], cb.Min[1])},
				Max: orb.Point{min(b.Max[0], cb.Max[0]), min(b.Max[1], cb.Max[1])}}
		}
	}
	limit, err := intParam(q.Get("limit"), "limit", DefaultLimit, MaxLimit)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	buf := make([]byte, 0, 4096)
	buf = append(buf, `{"objects":[`...)
	n, truncated := 0, false
	add := func(o *live.Object) bool {
		if cell != nil && !cell.Contains(o.Code) {
			return true
		}
		if n == limit {
			truncated = true
			return false
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = o.AppendJSON(buf)
		n++
		return true
	}
	at := "now"
	if s := q.Get("time"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			httpx.Error(w, http.StatusBadRequest, fmt.Sprintf("time %q: want RFC 3339", s), nil)
			return
		}
		window := DefaultWindow
		if ws := q.Get("window"); ws != "" {
			if window, err = time.ParseDuration(ws); err != nil || window <= 0 {
				httpx.Error(w, http.StatusBadRequest, fmt.Sprintf("window %q: want a positive duration such as 10m", ws), nil)
				return
			}
		}
		errStop := errors.New("limit")
		err = a.twin.AsOf(r.Context(), layers, b, t, window, func(o *live.Object) error {
			if !add(o) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			httpx.Error(w, http.StatusServiceUnavailable, err.Error(), nil)
			return
		}
		at = t.UTC().Format(time.RFC3339Nano)
	} else {
		a.twin.Search(layers, b, add)
	}
	buf = append(buf, `],"count":`...)
	buf = strconv.AppendInt(buf, int64(n), 10)
	buf = append(buf, `,"truncated":`...)
	buf = strconv.AppendBool(buf, truncated)
	buf = append(buf, `,"time":`...)
	buf = strconv.AppendQuote(buf, at)
	buf = append(buf, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf)
}

// history answers GET /objects/{id}/history with a GeoJSON Feature: a
// LineString of the positions [lon, lat, height] (a Point for a single
// state, null geometry for none) and, in its properties, the times,
// headings, speeds and states position by position.
func (a *API) history(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	from, to := time.Unix(0, 0), a.twin.Now().Add(live.MaxFuture)
	var err error
	if s := q.Get("from"); s != "" {
		if from, err = time.Parse(time.RFC3339Nano, s); err != nil {
			httpx.Error(w, http.StatusBadRequest, fmt.Sprintf("from %q: want RFC 3339", s), nil)
			return
		}
	}
	if s := q.Get("to"); s != "" {
		if to, err = time.Parse(time.RFC3339Nano, s); err != nil {
			httpx.Error(w, http.StatusBadRequest, fmt.Sprintf("to %q: want RFC 3339", s), nil)
			return
		}
	}
	if to.Before(from) {
		httpx.Error(w, http.StatusBadRequest, "to is before from", nil)
		return
	}
	limit, err := intParam(q.Get("limit"), "limit", DefaultLimit, MaxLimit)
	if err != nil {
		httpx.Error(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	states, more, err := a.twin.History(r.Context(), id, from, to, limit)
	if err != nil {
		httpx.Error(w, http.StatusServiceUnavailable, err.Error(), nil)
		return
	}
	if len(states) == 0 {
		if _, err := a.twin.Get(id); err != nil {
			httpx.Error(w, http.StatusNotFound, fmt.Sprintf("object %q has no history between %s and %s", id, from.Format(time.RFC3339), to.Format(time.RFC3339)), nil)
			return
		}
	}
	type props struct {
		ID        string     `json:"id"`
		Layer     string     `json:"layer,omitempty"`
		Times     []string   `json:"times"`
		Headings  []*float32 `json:"headings"`
		Speeds    []*float32 `json:"speeds"`
		States    []rawJSON  `json:"states"`
		Gone      []string   `json:"gone,omitempty"`
		Truncated bool       `json:"truncated"`
	}
	p := props{ID: id, Times: []string{}, Headings: []*float32{}, Speeds: []*float32{}, States: []rawJSON{}, Truncated: more}
	var coords [][3]float64
	for _, o := range states {
		if o.Gone {
			p.Gone = append(p.Gone, o.SourceTime().Format(time.RFC3339Nano))
			continue
		}
		p.Layer = o.Layer
		coords = append(coords, [3]float64{o.Lon, o.Lat, o.Height})
		p.Times = append(p.Times, o.SourceTime().Format(time.RFC3339Nano))
		p.Headings = append(p.Headings, optional(o.Heading))
		p.Speeds = append(p.Speeds, optional(o.Speed))
		p.States = append(p.States, rawJSON(o.State))
	}
	var geom any
	switch len(coords) {
	case 0:
	case 1:
		geom = map[string]any{"type": "Point", "coordinates": coords[0]}
	default:
		geom = map[string]any{"type": "LineString", "coordinates": coords}
	}
	httpx.WriteGeoJSON(w, http.StatusOK, map[string]any{"type": "Feature", "id": id, "geometry": geom, "properties": p})
}

func (a *API) info(w http.ResponseWriter, r *http.Request) {
	s := a.twin.Stats()
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"layers": a.twin.Layers(),
		"stats": map[string]any{"objects": s.Objects, "accepted": s.Accepted, "applied": s.Applied,
			"superseded": s.Superseded, "rejected": s.Rejected, "remote": s.Remote},
	})
}

// rawJSON is a JSON value kept as bytes; empty is null.
type rawJSON []byte

// MarshalJSON implements json.Marshaler.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

func optional(f float32) *float32 {
	if f != f {
		return nil
	}
	return &f
}

func intParam(s, name string, def, max int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("%s %q: want a whole number from 1 to %d", name, s, max)
	}
	return n, nil
}
