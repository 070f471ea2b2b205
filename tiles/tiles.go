// Package tiles turns the spatial kernel's layers into Mapbox Vector Tiles:
// features are found through the R-tree, projected to Web Mercator tile
// pixels, clipped with a buffer, simplified to the zoom, stripped of what is
// too small to see, and encoded by tiles/mvt with typed attributes. An LRU
// cache of encoded tiles is invalidated through the kernel's change feed.
package tiles

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"time"

	"citytwin/spatial"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	orbproject "github.com/paulmach/orb/project"
	"github.com/paulmach/orb/simplify"
)

// Tile parameters.
const (
	Extent  = 4096 // tile width in integer coordinates
	Buffer  = 64   // clip buffer around the tile, in tile coordinates
	MaxZoom = 22
)

// ErrTile reports a tile address outside the pyramid.
var ErrTile = errors.New("no such tile")

// Options tune tile generation.
type Options struct {
	// MinArea is the smallest polygon area, in square tile units, kept below
	// DetailZoom; smaller polygons are dropped (and counted).
	MinArea float64
	// MinLength is the shortest line, in tile units, kept below DetailZoom.
	MinLength float64
	// DetailZoom is the zoom from which nothing is dropped for its size.
	DetailZoom int
	// Tolerance is the Douglas–Peucker tolerance in tile units below
	// DetailZoom (at DetailZoom and above geometry is only rounded).
	Tolerance float64
	// MaxFeatures caps the features of one layer in one tile; past it the
	// smallest are dropped (and counted).
	MaxFeatures int
	// LeanKeys are the only properties written below DetailZoom, where a
	// tile holds thousands of features and the map only styles them;
	// clients fetch a feature's full record from the features API.
	// Empty means every scalar property at every zoom.
	LeanKeys []string
}

// DefaultOptions are what the server uses: at extent 4096, 4 square units
// is a sixteenth of a screen pixel of a 512-pixel tile.
func DefaultOptions() Options {
	return Options{MinArea: 4, MinLength: 2, DetailZoom: 16, Tolerance: 2, MaxFeatures: 20000,
		LeanKeys: []string{"id", "height", "floors", "use", "class", "name", "code", "type"}}
}

// Stats says what went into a tile.
type Stats struct {
	Features int // features encoded
	Dropped  int // features dropped as too small or over MaxFeatures
}

// Generator renders tiles from an index.
type Generator struct {
	index *spatial.Index
	opts  Options
}

// NewGenerator returns a generator over an index.
func NewGenerator(ix *spatial.Index, opts Options) *Generator {
	return &Generator{index: ix, opts: opts}
}

// CheckTile validates a z/x/y address.
func CheckTile(z, x, y int) error {
	if z < 0 || z > MaxZoom {
		return fmt.Errorf("%w: zoom %d (want 0–%d)", ErrTile, z, MaxZoom)
	}
	n := 1 << uint(z)
	if x < 0 || x >= n || y < 0 || y >= n {
		return fmt.Errorf("%w: %d/%d/%d (x and y must be 0–%d at zoom %d)", ErrTile, z, x, y, n-1, z)
	}
	return nil
}

// Render encodes one tile with one MVT layer per named layer (in the order
// given), showing what existed at time t (zero: now).
func (g *Generator) Render(layers []string, z, x, y int, t time.Time) ([]byte, Stats, error) {
	if err := CheckTile(z, x, y); err != nil {
		return nil, Stats{}, err
	}
	tile := maptile.New(uint32(x), uint32(y), maptile.Zoom(z))
	// The query box covers the buffer too, in degrees.
	bound := tile.Bound(float64(Buffer) / Extent)
	var out mvt.Tile
	var st Stats
	for _, name := range layers {
		l, s, err := g.layer(name, tile, bound, t)
		if err != nil {
			return nil, st, err
		}
		st.Features += s.Features
		st.Dropped += s.Dropped
		if len(l.Features) > 0 {
			out.Layers = append(out.Layers, l)
		}
	}
	b, err := mvt.Encode(out)
	if err != nil {
		return nil, st, fmt.Errorf("tiles: encode %d/%d/%d: %w", z, x, y, err)
	}
	return b, st, nil
}

// candidate is a feature projected into the tile, before encoding.
type candidate struct {
	f    *spatial.Feature
	geom orb.Geometry
	size float64 // area for polygons, length for lines, for ordering drops
}

func (g *Generator) layer(name string, tile maptile.Tile, bound orb.Bound, t time.Time) (mvt.Layer, Stats, error) {
	var st Stats
	l := mvt.Layer{Name: name, Extent: Extent}
	q := spatial.Query{Bound: &bound, BoundByBox: true, Time: t}
	z := int(tile.Z)
	detail := z >= g.opts.DetailZoom
	box := orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}}
	var cands []candidate
	err := g.index.Each(name, q, func(f *spatial.Feature) bool {
		geom := clipToBox(box, project(f.Geometry, tile))
		if geom == nil {
			return true
		}
		if !detail && g.opts.Tolerance > 0 {
			geom = simplify.DouglasPeucker(g.opts.Tolerance).Simplify(geom)
		}
		geom = roundGeometry(geom)
		size, keep := measure(geom)
		if !keep || (!detail && tooSmall(geom, size, g.opts)) {
			st.Dropped++
			return true
		}
		cands = append(cands, candidate{f: f, geom: geom, size: size})
		return true
	})
	if errors.Is(err, spatial.ErrNotFound) {
		return l, st, nil // an empty layer: nothing there yet
	}
	if err != nil {
		return l, st, err
	}
	// A stable order (grid code, then id) keeps tiles, and their ETags,
	// identical from render to render.
	sort.Slice(cands, func(i, j int) bool { return lessCandidate(cands[i], cands[j]) })
	if g.opts.MaxFeatures > 0 && len(cands) > g.opts.MaxFeatures {
		sort.SliceStable(cands, func(i, j int) bool { return cands[i].size > cands[j].size })
		st.Dropped += len(cands) - g.opts.MaxFeatures
		cands = cands[:g.opts.MaxFeatures]
	}
	var lean map[string]bool
	if !detail && len(g.opts.LeanKeys) > 0 {
		lean = make(map[string]bool, len(g.opts.LeanKeys))
		for _, k := range g.opts.LeanKeys {
			lean[k] = true
		}
	}
	for _, c := range cands {
		l.Features = append(l.Features, toMVT(c, lean))
	}
	st.Features = len(l.Features)
	return l, st, nil
}

func lessCandidate(a, b candidate) bool {
	ca, cb := a.f.Code, b.f.Code
	if c := ca.Compare(cb); c != 0 {
		return c < 0
	}
	return a.f.ID < b.f.ID
}

// project maps a lon/lat geometry to the tile's pixel space (x right, y
// down, 0–Extent across the tile) in Web Mercator, on a copy.
func project(g orb.Geometry, tile maptile.Tile) orb.Geometry {
	n := math.Exp2(float64(tile.Z))
	ox, oy := float64(tile.X), float64(tile.Y)
	pt := func(p orb.Point) orb.Point {
		lat := math.Max(-85.05112878, math.Min(85.05112878, p[1]))
		x := (p[0] + 180) / 360 * n
		s := math.Sin(lat * math.Pi / 180)
		y := (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * n
		return orb.Point{(x - ox) * Extent, (y - oy) * Extent}
	}
	if b, ok := g.(orb.Bound); ok {
		g = b.ToPolygon() // a box is drawn as the area it covers
	} else {
		g = orb.Clone(g)
	}
	return orbproject.Geometry(g, pt)
}

// roundGeometry snaps to integer tile coordinates, in place: the geometry
// is the renderer's own projected copy. The MVT encoder drops the repeated
// points and collapsed parts this can create.
func roundGeometry(g orb.Geometry) orb.Geometry {
	return orbproject.Geometry(g, func(p orb.Point) orb.Point { return orb.Point{math.Round(p[0]), math.Round(p[1])} })
}

// measure returns a polygon's area or a line's length in tile units, and
// whether anything drawable is left.
func measure(g orb.Geometry) (float64, bool) {
	switch v := g.(type) {
	case orb.Point, orb.MultiPoint:
		return 0, true
	case orb.LineString:
		return lineLength(v), len(v) >= 2
	case orb.MultiLineString:
		s := 0.0
		for _, l := range v {
			s += lineLength(l)
		}
		return s, len(v) > 0
	case orb.Polygon:
		a := polygonArea(v)
		return a, a > 0
	case orb.MultiPolygon:
		a := 0.0
		for _, p := range v {
			a += polygonArea(p)
		}
		return a, a > 0
	case orb.Collection:
		return 0, false // MVT has no collections; such features are not tiled
	}
	return 0, false
}

func tooSmall(g orb.Geometry, size float64, o Options) bool {
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		return size < o.MinArea
	case orb.LineString, orb.MultiLineString:
		return size < o.MinLength
	}
	return false
}

func lineLength(l orb.LineString) float64 {
	s := 0.0
	for i := 1; i < len(l); i++ {
		s += math.Hypot(l[i][0]-l[i-1][0], l[i][1]-l[i-1][1])
	}
	return s
}

func ringArea(r orb.Ring) float64 {
	s := 0.0
	for i := 1; i < len(r); i++ {
		s += r[i-1][0]*r[i][1] - r[i][0]*r[i-1][1]
	}
	return math.Abs(s) / 2
}

func polygonArea(p orb.Polygon) float64 {
	if len(p) == 0 {
		return 0
	}
	a := ringArea(p[0])
	for _, h := range p[1:] {
		a -= ringArea(h)
	}
	return math.Max(a, 0)
}

// FeatureID maps a feature id to the MVT uint64 id: the number itself for
// decimal ids, otherwise a 64-bit FNV-1a hash (the original id is also
// kept in the "id" attribute).
func FeatureID(id string) uint64 {
	if n, err := strconv.ParseUint(id, 10, 64); err == nil {
		return n
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()
}

// toMVT converts a projected candidate with typed attributes: id, gridcode,
// height and floors where set, and every scalar property (nested values
// are left to the features API); with lean set, only the keys in it.
func toMVT(c candidate, lean map[string]bool) mvt.Feature {
	f := c.f
	keep := func(k string) bool { return lean == nil || lean[k] }
	props := make(map[string]any, 8)
	props["id"] = f.ID
	if keep("gridcode") {
		props["gridcode"] = f.Code.String()
	}
	if f.Height > 0 && keep("height") {
		props["height"] = f.Height
	}
	if f.Floors > 0 && keep("floors") {
		props["floors"] = int64(f.Floors)
	}
	if !f.ValidFrom.IsZero() && keep("valid_from") {
		props["valid_from"] = f.ValidFrom.Format(time.RFC3339)
	}
	if !f.ValidTo.IsZero() && keep("valid_to") {
		props["valid_to"] = f.ValidTo.Format(time.RFC3339)
	}
	for k, v := range f.Properties {
		if _, taken := props[k]; taken || !keep(k) {
			continue
		}
		switch x := v.(type) {
		case string, bool, float64, int64, uint64:
			props[k] = x
		case int:
			props[k] = int64(x)
		}
	}
	mf := mvt.Feature{ID: FeatureID(f.ID), HasID: true, Geometry: c.geom, Properties: props}
	switch c.geom.(type) {
	case orb.Point, orb.MultiPoint:
		mf.Type = mvt.GeomPoint
	case orb.LineString, orb.MultiLineString:
		mf.Type = mvt.GeomLineString
	default:
		mf.Type = mvt.GeomPolygon
	}
	return mf
}
