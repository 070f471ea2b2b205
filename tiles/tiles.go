// Package tiles turns the spatial kernel's layers into Mapbox Vector Tiles:
// features are found through the R-tree, projected to Web Mercator tile
// pixels, clipped with a buffer, simplified to the zoom, stripped of what is
// too small to see, and encoded by tiles/mvt with typed attributes. An LRU
// cache of encoded tiles is invalidated through the kernel's change feed.
package tiles

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/planar"
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
		LeanKeys: []string{"id", "height", "floors", "use", "class", "name", "code", "type", "status"}}
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
	// lean holds Options.LeanKeys as a set and leanSorted in key order;
	// both are nil when every property is written at every zoom.
	lean       map[string]bool
	leanSorted []string
	// keepAll and keepLean say which fixed attributes are written at
	// and below DetailZoom.
	keepAll, keepLean [fixedKeys]bool
}

// NewGenerator returns a generator over an index.
func NewGenerator(ix *spatial.Index, opts Options) *Generator {
	g := &Generator{index: ix, opts: opts}
	if len(opts.LeanKeys) > 0 {
		g.lean = make(map[string]bool, len(opts.LeanKeys))
		for _, k := range opts.LeanKeys {
			if !g.lean[k] {
				g.lean[k] = true
				g.leanSorted = append(g.leanSorted, k)
			}
		}
		slices.Sort(g.leanSorted)
	}
	for i, k := range fixedNames {
		g.keepAll[i] = true
		g.keepLean[i] = g.lean == nil || g.lean[k]
	}
	return g
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

// renderState is the scratch space of one Render, pooled: a tile is
// rendered into reused buffers and only the encoded bytes are allocated
// for the caller.
type renderState struct {
	lb     mvt.LayerBuilder
	cands  []candidate
	cmds   []uint32    // geometry command streams of the candidates
	pts    []orb.Point // one projected ring
	poly   [1]orb.Ring // pts as a polygon
	clipA  []orb.Point // clipping scratch
	clipB  []orb.Point
	bridge []orb.Point
	mask   []byte // Douglas–Peucker scratch
	stack  []int
	attrs  []attr
	vals   []any    // property values in key order
	shape  []string // the last set of property keys seen, sorted
	tags   []uint32
	// keySlot caches, per layer, the key index + 1 of the fixed
	// attributes and lean keys (0: not interned yet).
	keySlot []uint32
	text    []byte // formatted attribute values
	out     []byte
}

var renderStates = sync.Pool{New: func() any { return new(renderState) }}

// maxPooled bounds the buffers a pooled renderState keeps, in elements, so
// that one dense tile does not pin its buffers for good.
const maxPooled = 1 << 20

func (st *renderState) release() {
	if cap(st.cmds) > maxPooled || cap(st.out) > 4*maxPooled || cap(st.cands) > maxPooled/8 {
		return // let the GC have it; a fresh one is cheap
	}
	clear(st.cands) // drop the feature pointers
	st.cands = st.cands[:0]
	renderStates.Put(st)
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
	rs := renderStates.Get().(*renderState)
	defer rs.release()
	out := rs.out[:0]
	var st Stats
	for i, name := range layers {
		s, err := g.layer(rs, name, tile, bound, t)
		if err != nil {
			return nil, st, err
		}
		st.Features += s.Features
		st.Dropped += s.Dropped
		if rs.lb.Len() == 0 {
			continue
		}
		// MVT layer names must be non-empty and unique within a tile.
		if name == "" {
			return nil, st, fmt.Errorf("tiles: encode %d/%d/%d: layer #%d: empty layer name", z, x, y, i)
		}
		if j := slices.Index(layers[:i], name); j >= 0 {
			return nil, st, fmt.Errorf("tiles: encode %d/%d/%d: layer #%d %q: name already used by layer #%d", z, x, y, i, name, j)
		}
		out = rs.lb.AppendTo(out)
	}
	rs.out = out
	if len(out) == 0 {
		return nil, st, nil
	}
	return bytes.Clone(out), st, nil
}

// candidate is a feature projected into the tile and its geometry encoded,
// before its attributes are.
type candidate struct {
	f          *spatial.Feature
	code       gridcode.Code // f.Code, kept here for sorting
	size       float64       // area for polygons, length for lines, for ordering drops
	typ        mvt.GeomType
	start, end int // its command stream in renderState.cmds
}

func (g *Generator) layer(rs *renderState, name string, tile maptile.Tile, bound orb.Bound, t time.Time) (Stats, error) {
	var st Stats
	rs.lb.Reset(name, Extent)
	clear(rs.keySlot)
	rs.cands = rs.cands[:0]
	rs.cmds = rs.cmds[:0]
	q := spatial.Query{Bound: &bound, BoundByBox: true, Time: t}
	z := int(tile.Z)
	detail := z >= g.opts.DetailZoom
	simplifying := !detail && g.opts.Tolerance > 0
	box := orb.Bound{Min: orb.Point{-Buffer, -Buffer}, Max: orb.Point{Extent + Buffer, Extent + Buffer}}
	pr := newProjector(tile)
	var ferr error
	err := g.index.Each(name, q, func(f *spatial.Feature) bool {
		start := len(rs.cmds)
		var geom orb.Geometry
		if p, ok := f.Geometry.(orb.Polygon); ok && len(p) == 1 {
			// The common case, a polygon without holes (a building),
			// is projected into a reused buffer and stays there unless
			// it crosses the box.
			pts, in, meets := pr.ring(rs.pts[:0], p[0], box)
			rs.pts = pts
			if !meets {
				return true
			}
			ring := pts
			if !in {
				// As clipToBox does, without allocating when the
				// clipped ring has no bridge.
				concave := !convex(orb.Ring(pts))
				ring = rs.clipRing(box, pts)
				if ring == nil && !concave {
					return true
				}
				if concave && (ring == nil || rs.bridged(box, ring)) {
					ring = nil
				}
			}
			if ring != nil {
				return rs.addRing(f, ring, g.opts, detail, simplifying, &st, &ferr, name)
			}
			geom = clipToBox(box, orb.Polygon{slices.Clone(pts)})
		} else {
			geom = clipToBox(box, project(f.Geometry, tile))
		}
		if geom == nil {
			return true
		}
		if simplifying {
			geom = simplify.DouglasPeucker(g.opts.Tolerance).Simplify(geom)
		}
		geom = roundGeometry(geom)
		size, keep := measure(geom)
		if !keep || (!detail && tooSmall(geom, size, g.opts)) {
			st.Dropped++
			return true
		}
		typ := geomType(geom)
		cmds, err := rs.lb.AppendGeometry(rs.cmds, typ, geom)
		if err != nil {
			ferr = fmt.Errorf("tiles: %s/%s: %w", name, f.ID, err)
			return false
		}
		rs.cmds = cmds
		if len(cmds) == start {
			st.Dropped++ // collapsed to nothing once encoded
			return true
		}
		rs.cands = append(rs.cands, candidate{f: f, code: f.Code, size: size, typ: typ, start: start, end: len(cmds)})
		return true
	})
	if errors.Is(err, spatial.ErrNotFound) {
		return st, nil // an empty layer: nothing there yet
	}
	if err == nil {
		err = ferr
	}
	if err != nil {
		return st, err
	}
	// A stable order (grid code, then id) keeps tiles, and their ETags,
	// identical from render to render.
	cands := rs.cands
	slices.SortFunc(cands, compareCandidates)
	if g.opts.MaxFeatures > 0 && len(cands) > g.opts.MaxFeatures {
		slices.SortStableFunc(cands, func(a, b candidate) int { return cmp.Compare(b.size, a.size) })
		st.Dropped += len(cands) - g.opts.MaxFeatures
		cands = cands[:g.opts.MaxFeatures]
	}
	lean := !detail && g.lean != nil
	for _, c := range cands {
		tags := rs.attributes(&rs.lb, c.f, g, lean)
		if err := rs.lb.AddFeature(FeatureID(c.f.ID), true, c.typ, tags, rs.cmds[c.start:c.end]); err != nil {
			return st, fmt.Errorf("tiles: %s/%s: %w", name, c.f.ID, err)
		}
	}
	st.Features = len(cands)
	return st, nil
}

// addRing adds a projected polygon without holes as a candidate, or
// counts it as dropped; it reports whether to go on.
func (rs *renderState) addRing(f *spatial.Feature, pts []orb.Point, o Options, detail, simplifying bool, st *Stats, ferr *error, name string) bool {
	if simplifying {
		pts = rs.simplifyRing(pts, o.Tolerance)
	}
	roundPoints(pts)
	a := ringArea(orb.Ring(pts))
	if a <= 0 || (!detail && a < o.MinArea) {
		st.Dropped++
		return true
	}
	start := len(rs.cmds)
	rs.poly[0] = orb.Ring(pts)
	cmds, err := rs.lb.AppendPolygon(rs.cmds, orb.Polygon(rs.poly[:]))
	rs.poly[0] = nil
	if err != nil {
		*ferr = fmt.Errorf("tiles: %s/%s: %w", name, f.ID, err)
		return false
	}
	rs.cmds = cmds
	if len(cmds) == start {
		st.Dropped++ // collapsed to nothing once encoded
		return true
	}
	rs.cands = append(rs.cands, candidate{f: f, code: f.Code, size: a, typ: mvt.GeomPolygon, start: start, end: len(cmds)})
	return true
}

// compareCandidates orders candidates by grid code, then id.
func compareCandidates(a, b candidate) int {
	if c := a.code.Compare(b.code); c != 0 {
		return c
	}
	return strings.Compare(a.f.ID, b.f.ID)
}

// geomType is the MVT type of a projected geometry.
func geomType(g orb.Geometry) mvt.GeomType {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return mvt.GeomPoint
	case orb.LineString, orb.MultiLineString:
		return mvt.GeomLineString
	}
	return mvt.GeomPolygon
}

// projector maps lon/lat to one tile's pixel space in Web Mercator.
//
// Near the tile (within a tile height of its centre latitude, from zoom 12 on,
// away from the poles) y comes from a degree-5 Taylor polynomial of the
// Mercator ordinate around the centre instead of a sine and a logarithm
// per vertex: its truncation error there is below 1e-12 tile units, far
// below the rounding error of the closed form itself (TestProjector), so
// the rounded coordinates are the same. Other points take the closed form.
type projector struct {
	n, ox, oy float64
	poly      bool
	lat0      float64    // centre latitude, radians
	maxDLat   float64    // radians
	y0        float64    // tile y of lat0
	c         [5]float64 // tile y per radian^k, k = 1..5
}

const (
	polyMinZoom = 12
	polyMaxLat  = 80.0
)

func newProjector(tile maptile.Tile) projector {
	pr := projector{n: math.Exp2(float64(tile.Z)), ox: float64(tile.X), oy: float64(tile.Y)}
	if tile.Z < polyMinZoom {
		return pr
	}
	b := tile.Bound()
	latC := (b.Min[1] + b.Max[1]) / 2
	if math.Abs(latC) > polyMaxLat {
		return pr
	}
	// One tile height either side: the tile, its buffer and then some.
	pr.maxDLat = (b.Max[1] - b.Min[1]) * math.Pi / 180
	pr.lat0 = latC * math.Pi / 180
	// asinh(tan φ) is the better conditioned form of the ordinate at the
	// centre (the closed form loses digits in 1-sin φ at high latitudes).
	pr.y0 = ((0.5-math.Asinh(math.Tan(pr.lat0))/(2*math.Pi))*pr.n - pr.oy) * Extent
	sec, tan := 1/math.Cos(pr.lat0), math.Tan(pr.lat0)
	// Derivatives of ψ = atanh(sin φ) (the Mercator ordinate in radians).
	d1 := sec
	d2 := sec * tan
	d3 := sec * (tan*tan + sec*sec)
	d4 := sec*tan*tan*tan + 5*sec*sec*sec*tan
	d5 := sec*tan*tan*tan*tan + 18*sec*sec*sec*tan*tan + 5*sec*sec*sec*sec*sec
	// Tile y = (0.5 - ψ/2π)·n·Extent - oy·Extent: y decreases with ψ.
	k := -pr.n * Extent / (2 * math.Pi)
	pr.c = [5]float64{k * d1, k * d2 / 2, k * d3 / 6, k * d4 / 24, k * d5 / 120}
	pr.poly = true
	return pr
}

// exactY is the closed form of the tile y of a latitude in degrees.
func (pr *projector) exactY(latDeg float64) float64 {
	lat := math.Max(-85.05112878, math.Min(85.05112878, latDeg))
	s := math.Sin(lat * math.Pi / 180)
	y := (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * pr.n
	return (y - pr.oy) * Extent
}

func (pr *projector) point(p orb.Point) orb.Point {
	x := ((p[0]+180)/360*pr.n - pr.ox) * Extent
	if pr.poly {
		if d := p[1]*(math.Pi/180) - pr.lat0; d <= pr.maxDLat && d >= -pr.maxDLat {
			c := &pr.c
			return orb.Point{x, pr.y0 + d*(c[0]+d*(c[1]+d*(c[2]+d*(c[3]+d*c[4]))))}
		}
	}
	return orb.Point{x, pr.exactY(p[1])}
}

// ring projects r, appending to dst, and reports whether the projected
// ring lies inside box and whether it meets it at all.
func (pr *projector) ring(dst []orb.Point, r orb.Ring, box orb.Bound) (pts []orb.Point, in, meets bool) {
	if len(r) == 0 {
		return dst, false, false
	}
	q := pr.point(r[0])
	b := orb.Bound{Min: q, Max: q}
	for _, p := range r {
		q := pr.point(p)
		if q[0] < b.Min[0] {
			b.Min[0] = q[0]
		} else if q[0] > b.Max[0] {
			b.Max[0] = q[0]
		}
		if q[1] < b.Min[1] {
			b.Min[1] = q[1]
		} else if q[1] > b.Max[1] {
			b.Max[1] = q[1]
		}
		dst = append(dst, q)
	}
	if !box.Intersects(b) {
		return dst, false, false
	}
	return dst, box.Contains(b.Min) && box.Contains(b.Max), true
}

// roundPoints snaps to integer tile coordinates in place.
func roundPoints(ps []orb.Point) {
	for i := range ps {
		ps[i] = orb.Point{math.Round(ps[i][0]), math.Round(ps[i][1])}
	}
}

// simplifyRing is orb/simplify's Douglas–Peucker on one ring, in place and
// without allocating: the same points are kept.
func (rs *renderState) simplifyRing(ls []orb.Point, tolerance float64) []orb.Point {
	if len(ls) <= 2 {
		return ls
	}
	mask := slices.Grow(rs.mask[:0], len(ls))[:len(ls)]
	clear(mask)
	mask[0], mask[len(ls)-1] = 1, 1
	stack := append(rs.stack[:0], 0, len(ls)-1)
	for len(stack) > 0 {
		start, end := stack[len(stack)-2], stack[len(stack)-1]
		maxDist, maxIndex := 0.0, 0
		for i := start + 1; i < end; i++ {
			if d := planar.DistanceFromSegmentSquared(ls[start], ls[end], ls[i]); d > maxDist {
				maxDist, maxIndex = d, i
			}
		}
		if maxDist > tolerance*tolerance {
			mask[maxIndex] = 1
			stack[len(stack)-1] = maxIndex
			stack = append(stack, maxIndex, end)
		} else {
			stack = stack[:len(stack)-2]
		}
	}
	n := 0
	for i, v := range mask {
		if v == 1 {
			ls[n] = ls[i]
			n++
		}
	}
	rs.mask, rs.stack = mask, stack
	return ls[:n]
}

// project maps a lon/lat geometry to the tile's pixel space (x right, y
// down, 0–Extent across the tile) in Web Mercator, on a copy.
func project(g orb.Geometry, tile maptile.Tile) orb.Geometry {
	pr := newProjector(tile)
	if b, ok := g.(orb.Bound); ok {
		g = b.ToPolygon() // a box is drawn as the area it covers
	} else {
		g = orb.Clone(g)
	}
	return orbproject.Geometry(g, pr.point)
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
	if decimal(id) {
		if n, err := strconv.ParseUint(id, 10, 64); err == nil {
			return n
		}
	}
	h := uint64(14695981039346656037) // FNV-1a offset basis
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 1099511628211
	}
	return h
}

// decimal reports whether s is what strconv.ParseUint might accept in
// base 10: up to 20 ASCII digits (an underscore-free form); checking first
// spares the error ParseUint allocates for every non-numeric id.
func decimal(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
