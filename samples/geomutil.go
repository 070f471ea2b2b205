package samples

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// proj is a local equirectangular projection: metres east and north of an
// origin. Over the few kilometres of the generated district its scale error
// is far below a metre, and being affine it maps valid polygons to valid
// polygons and preserves area ratios.
type proj struct{ lon0, lat0, kx, ky float64 }

func newProj(lon0, lat0 float64) proj {
	phi := lat0 * math.Pi / 180
	return proj{
		lon0: lon0, lat0: lat0,
		kx: 111412.84*math.Cos(phi) - 93.5*math.Cos(3*phi),
		ky: 111132.92 - 559.82*math.Cos(2*phi) + 1.175*math.Cos(4*phi),
	}
}

func (p proj) fwd(q orb.Point) orb.Point {
	return orb.Point{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky}
}

func (p proj) inv(q orb.Point) orb.Point {
	return orb.Point{p.lon0 + q[0]/p.kx, p.lat0 + q[1]/p.ky}
}

func (p proj) mapRing(r orb.Ring, f func(orb.Point) orb.Point) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, q := range r {
		out[i] = f(q)
	}
	return out
}

func (p proj) mapPolygon(pg orb.Polygon, f func(orb.Point) orb.Point) orb.Polygon {
	out := make(orb.Polygon, len(pg))
	for i, r := range pg {
		out[i] = p.mapRing(r, f)
	}
	return out
}

// invPolygons returns degrees: a Polygon for one part, else a MultiPolygon.
func (p proj) invPolygons(ps []orb.Polygon) orb.Geometry {
	if len(ps) == 1 {
		return p.mapPolygon(ps[0], p.inv)
	}
	mp := make(orb.MultiPolygon, len(ps))
	for i, pg := range ps {
		mp[i] = p.mapPolygon(pg, p.inv)
	}
	return mp
}

func (p proj) invLine(l orb.LineString) orb.LineString {
	out := make(orb.LineString, len(l))
	for i, q := range l {
		out[i] = p.inv(q)
	}
	return out
}

// polygonsArea is the planar area of polygons (holes subtracted).
func polygonsArea(ps []orb.Polygon) float64 {
	var a float64
	for _, p := range ps {
		a += planar.Area(p)
	}
	return a
}

// polygonsContain reports whether a point lies inside any of the polygons.
func polygonsContain(ps []orb.Polygon, q orb.Point) bool {
	for _, p := range ps {
		if p.Bound().Contains(q) && planar.PolygonContains(p, q) {
			return true
		}
	}
	return false
}

// lineIntersect returns the intersection of the infinite lines a+s·u and
// b+t·v, and false when they are parallel.
func lineIntersect(a, u, b, v orb.Point) (orb.Point, bool) {
	den := u[0]*v[1] - u[1]*v[0]
	if math.Abs(den) < 1e-12 {
		return orb.Point{}, false
	}
	s := ((b[0]-a[0])*v[1] - (b[1]-a[1])*v[0]) / den
	return orb.Point{a[0] + s*u[0], a[1] + s*u[1]}, true
}

// insetQuad moves each edge of a counter-clockwise convex quadrilateral
// inward by its own distance and reports false if the result degenerates.
func insetQuad(q orb.Ring, d [4]float64) (orb.Ring, bool) {
	var lines [4][2]orb.Point // point, direction
	for k := 0; k < 4; k++ {
		a, b := q[k], q[k+1]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(dx, dy)
		if l == 0 {
			return nil, false
		}
		n := orb.Point{-dy / l, dx / l}
		lines[k] = [2]orb.Point{{a[0] + n[0]*d[k], a[1] + n[1]*d[k]}, {dx, dy}}
	}
	out := make(orb.Ring, 5)
	for k := 0; k < 4; k++ {
		prev := lines[(k+3)%4]
		p, ok := lineIntersect(prev[0], prev[1], lines[k][0], lines[k][1])
		if !ok {
			return nil, false
		}
		out[k] = p
	}
	out[4] = out[0]
	for k := 0; k < 4; k++ {
		// Each new edge must keep its direction and the quad its convexity.
		a, b := out[k], out[k+1]
		o := lines[k][1]
		if (b[0]-a[0])*o[0]+(b[1]-a[1])*o[1] <= 0 {
			return nil, false
		}
		if orient(out[k], out[k+1], out[(k+2)%4]) <= 0 {
			return nil, false
		}
	}
	return out, true
}

// convexContains reports whether q lies strictly inside a counter-clockwise
// convex ring.
func convexContains(r orb.Ring, q orb.Point) bool {
	for k := 0; k+1 < len(r); k++ {
		if orient(r[k], r[k+1], q) <= 0 {
			return false
		}
	}
	return true
}

// obb is an oriented rectangle: centre, unit axis, half extents.
type obb struct {
	c      orb.Point
	ax     orb.Point // unit vector along the length
	hw, hd float64   // half length along ax, half depth across
}

func (b obb) corners() [4]orb.Point {
	ux, uy := b.ax[0]*b.hw, b.ax[1]*b.hw
	vx, vy := -b.ax[1]*b.hd, b.ax[0]*b.hd
	return [4]orb.Point{
		{b.c[0] - ux - vx, b.c[1] - uy - vy},
		{b.c[0] + ux - vx, b.c[1] + uy - vy},
		{b.c[0] + ux + vx, b.c[1] + uy + vy},
		{b.c[0] - ux + vx, b.c[1] - uy + vy},
	}
}

func (b obb) grow(m float64) obb {
	b.hw += m
	b.hd += m
	return b
}

// overlaps reports whether two oriented rectangles overlap (separating
// axis test); touching counts as overlapping.
func (b obb) overlaps(o obb) bool {
	d := orb.Point{o.c[0] - b.c[0], o.c[1] - b.c[1]}
	axes := [4]orb.Point{b.ax, {-b.ax[1], b.ax[0]}, o.ax, {-o.ax[1], o.ax[0]}}
	for _, a := range axes {
		dist := math.Abs(d[0]*a[0] + d[1]*a[1])
		rb := b.hw*math.Abs(b.ax[0]*a[0]+b.ax[1]*a[1]) + b.hd*math.Abs(-b.ax[1]*a[0]+b.ax[0]*a[1])
		ro := o.hw*math.Abs(o.ax[0]*a[0]+o.ax[1]*a[1]) + o.hd*math.Abs(-o.ax[1]*a[0]+o.ax[0]*a[1])
		if dist > rb+ro {
			return false
		}
	}
	return true
}

// ringOf closes a list of points into a counter-clockwise ring.
func ringOf(pts ...orb.Point) orb.Ring {
	r := make(orb.Ring, 0, len(pts)+1)
	r = append(r, pts...)
	r = append(r, pts[0])
	if signedArea(r) < 0 {
		r.Reverse()
	}
	return r
}

func sqrt(x float64) float64 { return math.Sqrt(x) }
