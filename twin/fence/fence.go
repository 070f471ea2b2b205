// Package fence raises geofence events for live objects: enter, exit,
// cross, inside and outside for static fences (polygons with holes,
// multipolygons, geodesic circles and GeoSOT grid cells), and enter/exit
// for roaming fences, which follow the objects of one layer and fire when
// objects of another layer come within a distance of them.
//
// The Engine is a leaf: it knows nothing of ingest, stores or the
// websocket hub. The caller feeds it object updates in source-time order
// per object (Update), deletions (Forget), and — for roaming fences — a
// Finder over the live objects; it returns Events shaped for the websocket
// contract ({"op":"event","type":"fence.enter",…}).
//
// Semantics, chosen and fixed here:
//
//   - An object is inside a static fence when the fence applies to it (its
//     layer is one of the fence's layers, or the fence has none, and its
//     properties match every filter) and its position lies in the fence's
//     area, boundary included.
//   - First sight counts as coming from outside: an object whose first
//     update (or the first update after the fence was added) is inside
//     raises enter.
//   - enter fires once on the update that goes from not-inside to inside,
//     exit once on the update that goes from inside to not-inside — also
//     when the object stops matching the fence's layers or filters, and
//     when it is deleted (Forget).
//   - cross fires when the segment from the previous to the current
//     position passes through the fence while neither end is inside
//     (entered and left between two updates).
//   - inside and outside are state reports, not transitions: inside fires
//     on every update of an object that is inside (the entering update
//     included), outside on every update of a matching object that is not
//     inside — bounded: only when the update's box (the point, or the box
//     of the previous→current segment) touches the fence's bounding box.
//     An object far from a fence never raises outside for it, so the cost
//     stays proportional to the fences near each update. A transition and
//     a state report on one update come in that order.
//   - Removing a fence raises no events; it just stops them.
//
// Objects are identified by ID alone (IDs are unique across layers).
package fence

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Detect values accepted in Definition.Detect.
const (
	DetectEnter   = "enter"
	DetectExit    = "exit"
	DetectCross   = "cross"
	DetectInside  = "inside"
	DetectOutside = "outside"
)

// Limits on definitions.
const (
	// MaxRadius is the largest circle radius in metres: the engine's
	// local-plane geometry is exact to parts per million at city scale,
	// not for continents.
	MaxRadius = 100_000
	// MaxRoamMeters is the largest roaming distance in metres; it bounds
	// how many objects one update can pair with.
	MaxRoamMeters = 10_000
	// MaxVertices bounds the vertices of one fence geometry.
	MaxVertices = 100_000
	maxIDLen    = 128
	maxNameLen  = 256
)

// DefaultDetect is what a static fence detects when Detect is empty.
var DefaultDetect = []string{DetectEnter, DetectExit, DetectCross}

// DefaultRoamDetect is what a roaming fence detects when Detect is empty
// (enter and exit are the only values it accepts).
var DefaultRoamDetect = []string{DetectEnter, DetectExit}

// Definition is a fence as clients POST it and as it is persisted. Exactly
// one of Geometry, Grid and Roam is set.
type Definition struct {
	// ID names the fence (letters, digits and . _ ~ : -; at most 128
	// bytes). Add generates one when it is empty.
	ID string `json:"id"`
	// Name is a free label.
	Name string `json:"name,omitempty"`
	// Geometry is a GeoJSON Polygon or MultiPolygon (holes allowed), or a
	// Point with Radius for a circle.
	Geometry json.RawMessage `json:"geometry,omitempty"`
	// Radius is the circle's radius in metres (geodesic), with a Point
	// geometry. A "radius" member inside the geometry object is accepted
	// too and moved here.
	Radius float64 `json:"radius,omitempty"`
	// Grid is a GeoSOT 2D code in the standard text form (or
	// "bits:level"); the fence is the cell's bounds.
	Grid string `json:"grid,omitempty"`
	// Layers restricts the fence to objects of these layers (empty: all).
	Layers []string `json:"layers,omitempty"`
	// Filters are property conditions with spatial.ParseFilter's syntax
	// ("kind=ambulance", "speed>5"); all must hold. The keys "id" and
	// "layer" name the object's own fields.
	Filters []string `json:"filters,omitempty"`
	// Detect lists the event kinds wanted: enter, exit, cross, inside,
	// outside (roaming fences: enter and exit). Empty means
	// DefaultDetect (DefaultRoamDetect).
	Detect []string `json:"detect,omitempty"`
	// Webhook, when set, is where the caller should also POST the
	// fence's events (Event.Webhook carries it).
	Webhook *Webhook `json:"webhook,omitempty"`
	// Roam makes this a roaming fence.
	Roam *Roam `json:"roam,omitempty"`
}

// Webhook is an HTTP endpoint for a fence's events.
type Webhook struct {
	// URL is an absolute http or https URL.
	URL string `json:"url"`
	// Secret, when set, keys the HMAC-SHA256 signature of each delivery.
	// The HTTP API never echoes it.
	Secret string `json:"secret,omitempty"`
}

// Roam is a roaming fence: objects of Layer (matching Filters) carry a
// circle of Meters that fires when objects of Near enter or leave it.
type Roam struct {
	// Layer is the layer of the objects that carry the fence.
	Layer string `json:"layer"`
	// Filters restrict the carriers (same syntax as Definition.Filters).
	Filters []string `json:"filters,omitempty"`
	// Near selects the objects watched for.
	Near Target `json:"near"`
	// Meters is the geodesic distance that counts as near (0 < m ≤
	// MaxRoamMeters).
	Meters float64 `json:"meters"`
}

// Target selects objects by layer and property filters.
type Target struct {
	// Layer is the objects' layer.
	Layer string `json:"layer"`
	// Filters restrict them (same syntax as Definition.Filters).
	Filters []string `json:"filters,omitempty"`
}

// ErrDuplicate reports a fence ID that is already in use.
var ErrDuplicate = errors.New("fence id already exists")

// FieldError reports an invalid definition; Field names the JSON field
// ("geometry", "filters[1]", "roam.near.layer", …).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return "fence: " + e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ParseDefinition decodes and validates a definition from JSON (an HTTP
// body or a stored record). Unknown fields are rejected. The result is
// normalised (default detect list, canonical grid code, radius moved out
// of the geometry) except for the ID, which may still be empty.
func ParseDefinition(data []byte) (Definition, error) {
	var def Definition
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&def); err != nil {
		return Definition{}, &FieldError{Field: "body", Reason: "not a fence definition: " + err.Error()}
	}
	if dec.More() {
		return Definition{}, &FieldError{Field: "body", Reason: "trailing data after the JSON object"}
	}
	c, err := compile(def, false)
	if err != nil {
		return Definition{}, err
	}
	return c.def, nil
}

// Detect flags.
const (
	flagEnter uint8 = 1 << iota
	flagExit
	flagCross
	flagInside
	flagOutside
)

var detectFlags = map[string]uint8{
	DetectEnter: flagEnter, DetectExit: flagExit, DetectCross: flagCross,
	DetectInside: flagInside, DetectOutside: flagOutside,
}

// compile validates a definition and builds the engine's form of it. With
// needID an empty ID is an error (the caller generates one first).
func compile(def Definition, needID bool) (*fence, error) {
	f := &fence{}
	if def.ID == "" {
		if needID {
			return nil, fieldErr("id", "empty")
		}
	} else if err := checkID(def.ID); err != nil {
		return nil, err
	}
	if len(def.Name) > maxNameLen {
		return nil, fieldErr("name", "longer than %d bytes", maxNameLen)
	}
	if def.Webhook != nil {
		if err := checkURL(def.Webhook.URL); err != nil {
			return nil, err
		}
		wh := *def.Webhook
		def.Webhook = &wh
	}
	kinds := 0
	if len(def.Geometry) > 0 && !bytes.Equal(bytes.TrimSpace(def.Geometry), []byte("null")) {
		kinds++
	} else {
		def.Geometry = nil
	}
	if def.Grid != "" {
		kinds++
	}
	if def.Roam != nil {
		kinds++
	}
	switch {
	case kinds == 0:
		return nil, fieldErr("geometry", "missing: set one of geometry, grid or roam")
	case kinds > 1:
		return nil, fieldErr("geometry", "set only one of geometry, grid and roam")
	}
	var err error
	switch {
	case def.Roam != nil:
		err = f.compileRoam(&def)
	case def.Grid != "":
		err = f.compileGrid(&def)
	default:
		err = f.compileGeometry(&def)
	}
	if err != nil {
		return nil, err
	}
	if def.Roam == nil {
		if f.filters, err = parseFilters("filters", def.Filters); err != nil {
			return nil, err
		}
		for i, l := range def.Layers {
			if l == "" {
				return nil, fieldErr(fmt.Sprintf("layers[%d]", i), "empty layer name")
			}
		}
		def.Layers = slices.Clone(def.Layers)
		def.Filters = slices.Clone(def.Filters)
		f.layers = def.Layers
	}
	allowed, defaults := uint8(flagEnter|flagExit|flagCross|flagInside|flagOutside), DefaultDetect
	if def.Roam != nil {
		allowed, defaults = flagEnter|flagExit, DefaultRoamDetect
	}
	if len(def.Detect) == 0 {
		def.Detect = slices.Clone(defaults)
	} else {
		def.Detect = slices.Clone(def.Detect)
	}
	for i, d := range def.Detect {
		fl, ok := detectFlags[d]
		if !ok {
			return nil, fieldErr(fmt.Sprintf("detect[%d]", i), "unknown value %q (want enter, exit, cross, inside or outside)", d)
		}
		if fl&allowed == 0 {
			return nil, fieldErr(fmt.Sprintf("detect[%d]", i), "a roaming fence detects only enter and exit, not %q", d)
		}
		f.detect |= fl
	}
	f.def = def
	return f, nil
}

func checkID(id string) error {
	if len(id) > maxIDLen {
		return fieldErr("id", "longer than %d bytes", maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._~:-", c) >= 0) {
			return fieldErr("id", "%q: byte %d is %q; use letters, digits and . _ ~ : -", id, i, c)
		}
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fieldErr("webhook.url", "%v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fieldErr("webhook.url", "%q is not an absolute http or https URL", s)
	}
	return nil
}

// newID returns a fresh random fence ID.
func newID() string { return "f" + strings.ToLower(rand.Text()[:16]) }

func parseFilters(field string, in []string) ([]spatial.Filter, error) {
	out := make([]spatial.Filter, 0, len(in))
	for i, s := range in {
		flt, err := spatial.ParseFilter(s)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("%s[%d]", field, i), "%q: want key=value, key!=value, key<value, key<=value, key>value or key>=value", s)
		}
		out = append(out, flt)
	}
	return out, nil
}

func (f *fence) compileGrid(def *Definition) error {
	if def.Radius != 0 {
		return fieldErr("radius", "only with a Point geometry")
	}
	c, err := gridcode.Parse(def.Grid)
	if err != nil {
		return fieldErr("grid", "%v", err)
	}
	b := c.Bounds()
	// Clamp to the Earth: cells of the extended globe reach past ±180/±90.
	box := orb.Bound{
		Min: orb.Point{math.Max(-180, b.West), math.Max(-90, b.South)},
		Max: orb.Point{math.Min(180, b.East), math.Min(90, b.North)},
	}
	def.Grid = c.String()
	f.setPolygons([]orb.Polygon{box.ToPolygon()})
	return nil
}

// geoJSON is the strict decoding of a fence geometry.
type geoJSON struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
	Radius      *float64        `json:"radius"`
}

func (f *fence) compileGeometry(def *Definition) error {
	var g geoJSON
	if err := json.Unmarshal(def.Geometry, &g); err != nil {
		return fieldErr("geometry", "not a GeoJSON geometry object: %v", err)
	}
	if g.Radius != nil {
		if def.Radius != 0 && def.Radius != *g.Radius {
			return fieldErr("radius", "given both beside and inside the geometry, differently")
		}
		def.Radius = *g.Radius
	}
	if len(g.Coordinates) == 0 {
		return fieldErr("geometry.coordinates", "missing")
	}
	switch g.Type {
	case "Point":
		var c []float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return fieldErr("geometry.coordinates", "not a position: %v", err)
		}
		p, err := position("geometry.coordinates", c)
		if err != nil {
			return err
		}
		if !(def.Radius > 0) || math.IsInf(def.Radius, 0) {
			return fieldErr("radius", "a Point geometry needs a radius > 0 metres, got %v", def.Radius)
		}
		if def.Radius > MaxRadius {
			return fieldErr("radius", "%v metres is more than the maximum %d", def.Radius, MaxRadius)
		}
		f.setCircle(p, def.Radius)
		g.Coordinates, _ = json.Marshal([]float64{p[0], p[1]})
	case "Polygon":
		if def.Radius != 0 {
			return fieldErr("radius", "only with a Point geometry")
		}
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return fieldErr("geometry.coordinates", "not polygon coordinates: %v", err)
		}
		p, err := polygon("geometry.coordinates", c)
		if err != nil {
			return err
		}
		if err := f.setPolygonsChecked([]orb.Polygon{p}); err != nil {
			return err
		}
	case "MultiPolygon":
		if def.Radius != 0 {
			return fieldErr("radius", "only with a Point geometry")
		}
		var c [][][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return fieldErr("geometry.coordinates", "not multipolygon coordinates: %v", err)
		}
		if len(c) == 0 {
			return fieldErr("geometry.coordinates", "a MultiPolygon needs at least one polygon")
		}
		ps := make([]orb.Polygon, len(c))
		for i, pc := range c {
			p, err := polygon(fmt.Sprintf("geometry.coordinates[%d]", i), pc)
			if err != nil {
				return err
			}
			ps[i] = p
		}
		if err := f.setPolygonsChecked(ps); err != nil {
			return err
		}
	case "":
		return fieldErr("geometry.type", "missing")
	default:
		return fieldErr("geometry.type", "%q is not supported: want Polygon, MultiPolygon, or Point with radius", g.Type)
	}
	// Store the geometry compactly, without a radius member (a circle's
	// centre in 2D).
	def.Geometry, _ = json.Marshal(struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}{g.Type, compact(g.Coordinates)})
	return nil
}

func compact(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return b
	}
	return buf.Bytes()
}

func (f *fence) setPolygonsChecked(ps []orb.Polygon) error {
	n := 0
	for _, p := range ps {
		for _, r := range p {
			n += len(r)
		}
	}
	if n > MaxVertices {
		return fieldErr("geometry.coordinates", "%d vertices; at most %d", n, MaxVertices)
	}
	f.setPolygons(ps)
	return nil
}

func position(field string, c []float64) (orb.Point, error) {
	if len(c) < 2 || len(c) > 3 {
		return orb.Point{}, fieldErr(field, "a position has 2 or 3 numbers, got %d", len(c))
	}
	lon, lat := c[0], c[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return orb.Point{}, fieldErr(field, "[%v, %v] is not a longitude/latitude", lon, lat)
	}
	return orb.Point{lon, lat}, nil
}

func polygon(field string, c [][][]float64) (orb.Polygon, error) {
	if len(c) == 0 {
		return nil, fieldErr(field, "a polygon needs an outer ring")
	}
	p := make(orb.Polygon, len(c))
	for i, rc := range c {
		rf := fmt.Sprintf("%s[%d]", field, i)
		if len(rc) < 4 {
			return nil, fieldErr(rf, "a ring needs at least 4 positions, got %d", len(rc))
		}
		r := make(orb.Ring, len(rc))
		for j, pc := range rc {
			pt, err := position(fmt.Sprintf("%s[%d]", rf, j), pc)
			if err != nil {
				return nil, err
			}
			r[j] = pt
		}
		if r[0] != r[len(r)-1] {
			return nil, fieldErr(rf, "ring is not closed: first position %v, last %v", r[0], r[len(r)-1])
		}
		p[i] = r
	}
	return p, nil
}

func (f *fence) compileRoam(def *Definition) error {
	if def.Radius != 0 {
		return fieldErr("radius", "only with a Point geometry")
	}
	if len(def.Layers) > 0 {
		return fieldErr("layers", "not used by a roaming fence: set roam.layer")
	}
	if len(def.Filters) > 0 {
		return fieldErr("filters", "not used by a roaming fence: set roam.filters and roam.near.filters")
	}
	r := *def.Roam
	if r.Layer == "" {
		return fieldErr("roam.layer", "missing")
	}
	if r.Near.Layer == "" {
		return fieldErr("roam.near.layer", "missing")
	}
	if !(r.Meters > 0) || r.Meters > MaxRoamMeters {
		return fieldErr("roam.meters", "want 0 < meters ≤ %d, got %v", MaxRoamMeters, r.Meters)
	}
	af, err := parseFilters("roam.filters", r.Filters)
	if err != nil {
		return err
	}
	bf, err := parseFilters("roam.near.filters", r.Near.Filters)
	if err != nil {
		return err
	}
	r.Filters = slices.Clone(r.Filters)
	r.Near.Filters = slices.Clone(r.Near.Filters)
	def.Roam = &r
	f.roam = &roaming{
		aLayer: r.Layer, aFilters: af,
		bLayer: r.Near.Layer, bFilters: bf,
		meters:    r.Meters,
		symmetric: r.Layer == r.Near.Layer && slices.Equal(r.Filters, r.Near.Filters),
		pairs:     map[pairKey]*pair{},
	}
	return nil
}
