package cityjson

import (
	"math"
	"sort"
	"strconv"

	"github.com/paulmach/orb"
)

// groundTolerance is how far above an object's lowest point, in metres, a
// horizontal surface still counts as part of the bottom.
const groundTolerance = 0.01

// areaEpsilon is the projected area, in square degrees (about 1e-8 m²),
// below which a ring counts as degenerate (vertical or collapsed).
const areaEpsilon = 1e-18

// coverType reports CityObject types whose surfaces cover the ground
// (terrain, land use, water, transport, vegetation): their footprint is the
// 2D union of all surfaces rather than the bottom of a volume.
func coverType(t string) bool {
	switch t {
	case "TINRelief", "LandUse", "PlantCover", "WaterBody", "Road", "Railway", "TransportSquare", "Waterway":
		return true
	}
	return false
}

// lodValue orders LoD strings numerically ("1.2" < "2"); unparsable ones
// sort last.
func lodValue(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !finite(v) {
		return math.Inf(1)
	}
	return v
}

// chooseGeom picks the geometry whose projection becomes the footprint:
// surface geometries before lines and points, then the lowest LoD.
func chooseGeom(gs []*geom) *geom {
	var best *geom
	for _, g := range gs {
		if best == nil {
			best = g
			continue
		}
		if g.isSurface() != best.isSurface() {
			if g.isSurface() {
				best = g
			}
			continue
		}
		if lodValue(g.lod) < lodValue(best.lod) {
			best = g
		}
	}
	return best
}

// footprint computes the 2D geometry of an object and names the rule used.
func footprint(gs []*geom, objType string) (orb.Geometry, string) {
	g := chooseGeom(gs)
	if g == nil {
		return nil, ""
	}
	switch g.t.depth {
	case 1:
		// Points of every MultiPoint at this LoD (e.g. several instances
		// of a point template).
		var mp orb.MultiPoint
		for _, o := range gs {
			if o.t.depth == 1 && o.lod == g.lod {
				for _, c := range o.coords {
					mp = append(mp, orb.Point{c[0], c[1]})
				}
			}
		}
		return mp, "points"
	case 2:
		var ml orb.MultiLineString
		for k := 0; k < g.t.count(1); k++ {
			s, e := g.t.span(1, k)
			var ls orb.LineString
			for _, c := range g.coords[s:e] {
				p := orb.Point{c[0], c[1]}
				if len(ls) == 0 || ls[len(ls)-1] != p {
					ls = append(ls, p)
				}
			}
			if len(ls) >= 2 {
				ml = append(ml, ls)
			}
		}
		if len(ml) > 0 {
			return ml, "lines"
		}
		return hullGeometry(allPoints(g)), "hull"
	}
	pl := g.t.primLevel()
	n := g.t.count(pl)
	if coverType(objType) {
		var mp orb.MultiPolygon
		for k := 0; k < n; k++ {
			if p := g.polygon(k); p != nil {
				mp = append(mp, p)
			}
		}
		switch len(mp) {
		case 0:
		case 1:
			return mp[0], "surface"
		default:
			return mp, "surfaces"
		}
		return hullGeometry(allPoints(g)), "hull"
	}
	// GroundSurface semantics first.
	var picked []int
	for k := 0; k < n; k++ {
		if g.surfaceType(k) == "GroundSurface" {
			picked = append(picked, k)
		}
	}
	rule := "ground"
	if fp := g.bottom(picked); fp != nil {
		return fp, rule
	}
	// Else the horizontal surfaces at the lowest height.
	zmin := math.Inf(1)
	for _, c := range g.coords {
		zmin = math.Min(zmin, c[2])
	}
	picked = picked[:0]
	for k := 0; k < n; k++ {
		rs, re := g.t.span(pl, k)
		low := true
		for r := rs; r < re && low; r++ {
			s, e := g.t.span(pl+1, r)
			for _, c := range g.coords[s:e] {
				if c[2] > zmin+groundTolerance {
					low = false
					break
				}
			}
		}
		if low {
			picked = append(picked, k)
		}
	}
	if fp := g.bottom(picked); fp != nil {
		return fp, "lowest"
	}
	return hullGeometry(allPoints(g)), "hull"
}

// bottom turns the chosen bottom surfaces into a footprint: one surface
// gives its polygon (with holes), several the convex outline of them all.
func (g *geom) bottom(surfaces []int) orb.Geometry {
	var polys []orb.Polygon
	for _, k := range surfaces {
		if p := g.polygon(k); p != nil {
			polys = append(polys, p)
		}
	}
	switch len(polys) {
	case 0:
		return nil
	case 1:
		return polys[0]
	}
	var pts []orb.Point
	for _, p := range polys {
		pts = append(pts, p[0]...)
	}
	return hullGeometry(pts)
}

// polygon projects surface k to 2D: exterior counter-clockwise, holes
// clockwise; nil when the exterior has no projected area (a vertical or
// collapsed surface).
func (g *geom) polygon(k int) orb.Polygon {
	pl := g.t.primLevel()
	rs, re := g.t.span(pl, k)
	var poly orb.Polygon
	for r := rs; r < re; r++ {
		s, e := g.t.span(pl+1, r)
		ring := make(orb.Ring, 0, e-s+1)
		for _, c := range g.coords[s:e] {
			p := orb.Point{c[0], c[1]}
			if len(ring) == 0 || ring[len(ring)-1] != p {
				ring = append(ring, p)
			}
		}
		for len(ring) > 1 && ring[len(ring)-1] == ring[0] {
			ring = ring[:len(ring)-1]
		}
		a := signedArea(ring)
		if len(ring) < 3 || math.Abs(a) < areaEpsilon {
			if r == rs {
				return nil
			}
			continue
		}
		if (r == rs) != (a > 0) {
			reverse(ring)
		}
		ring = append(ring, ring[0])
		poly = append(poly, ring)
	}
	return poly
}

// signedArea is the shoelace area of an open ring (positive when
// counter-clockwise).
func signedArea(r []orb.Point) float64 {
	if len(r) < 3 {
		return 0
	}
	var a float64
	o := r[0]
	for i := 1; i+1 < len(r); i++ {
		a += (r[i][0]-o[0])*(r[i+1][1]-o[1]) - (r[i+1][0]-o[0])*(r[i][1]-o[1])
	}
	return a / 2
}

func reverse(r orb.Ring) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}

func allPoints(g *geom) []orb.Point {
	pts := make([]orb.Point, len(g.coords))
	for i, c := range g.coords {
		pts[i] = orb.Point{c[0], c[1]}
	}
	return pts
}

// pointsOf lists the vertices of a 2D geometry.
func pointsOf(g orb.Geometry) []orb.Point {
	switch v := g.(type) {
	case orb.Point:
		return []orb.Point{v}
	case orb.MultiPoint:
		return v
	case orb.LineString:
		return v
	case orb.MultiLineString:
		var out []orb.Point
		for _, l := range v {
			out = append(out, l...)
		}
		return out
	case orb.Polygon:
		if len(v) > 0 {
			return v[0]
		}
	case orb.MultiPolygon:
		var out []orb.Point
		for _, p := range v {
			if len(p) > 0 {
				out = append(out, p[0]...)
			}
		}
		return out
	}
	return nil
}

// convexHull returns the hull of pts counter-clockwise without repeating
// the first point (Andrew's monotone chain).
func convexHull(pts []orb.Point) []orb.Point {
	p := make([]orb.Point, len(pts))
	copy(p, pts)
	sort.Slice(p, func(i, j int) bool {
		if p[i][0] != p[j][0] {
			return p[i][0] < p[j][0]
		}
		return p[i][1] < p[j][1]
	})
	u := p[:0]
	for i := range p {
		if i == 0 || p[i] != p[i-1] {
			u = append(u, p[i])
		}
	}
	p = u
	if len(p) < 3 {
		return p
	}
	cross := func(o, a, b orb.Point) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	h := make([]orb.Point, 0, 2*len(p))
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		q := p[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	return h[:len(h)-1]
}

// hullGeometry is the convex outline of pts as a Polygon, or a LineString
// or Point when the points are collinear or coincide.
func hullGeometry(pts []orb.Point) orb.Geometry {
	h := convexHull(pts)
	switch {
	case len(h) == 0:
		return nil
	case len(h) == 1:
		return h[0]
	case len(h) == 2 || math.Abs(signedArea(h)) < areaEpsilon:
		// Collinear: the segment between the extreme points.
		lo, hi := h[0], h[0]
		for _, q := range h {
			if q[0] < lo[0] || q[0] == lo[0] && q[1] < lo[1] {
				lo = q
			}
			if q[0] > hi[0] || q[0] == hi[0] && q[1] > hi[1] {
				hi = q
			}
		}
		return orb.LineString{lo, hi}
	}
	ring := make(orb.Ring, len(h)+1)
	copy(ring, h)
	ring[len(h)] = h[0]
	return orb.Polygon{ring}
}
