package fence

import (
	"math"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Planar predicates in longitude/latitude degrees, as in spatial (GeoJSON's
// planar interpretation), written allocation-free for the update path.
// Boundaries count as inside, including the boundary of a hole.

// fence is the engine's compiled form of a Definition.
type fence struct {
	def     Definition
	detect  uint8
	layers  []string
	filters []spatial.Filter

	// Static area: polygons (with their boxes) or a circle.
	polys  []orb.Polygon
	pboxes []orb.Bound
	circle bool
	center orb.Point
	radius float64
	plane  spatial.LocalPlane
	bound  orb.Bound

	// inside holds the IDs of objects inside a static fence.
	inside map[string]struct{}
	// mark dedups candidates within one update.
	mark uint64

	roam *roaming
}

func (f *fence) setPolygons(ps []orb.Polygon) {
	f.polys = ps
	f.pboxes = make([]orb.Bound, len(ps))
	for i, p := range ps {
		f.pboxes[i] = p[0].Bound()
		if i == 0 {
			f.bound = f.pboxes[0]
		} else {
			f.bound = f.bound.Union(f.pboxes[i])
		}
	}
}

func (f *fence) setCircle(c orb.Point, r float64) {
	f.circle, f.center, f.radius = true, c, r
	f.plane = spatial.NewLocalPlane(c)
	f.bound = nearBound(c, r)
}

// contains reports whether p lies in the fence's area.
func (f *fence) contains(p orb.Point) bool {
	if !f.bound.Contains(p) {
		return false
	}
	if f.circle {
		return spatial.GeodesicDistance(f.center, p) <= f.radius
	}
	for i, poly := range f.polys {
		if f.pboxes[i].Contains(p) && spatial.PointInPolygon(p, poly) {
			return true
		}
	}
	return false
}

// segmentHits reports whether the segment a→b meets the fence's area, for
// segments whose ends are both outside it: such a segment meets the area
// exactly when it meets its boundary.
func (f *fence) segmentHits(a, b orb.Point) bool {
	sb := orb.Bound{Min: a, Max: a}.Extend(b)
	if !sb.Intersects(f.bound) {
		return false
	}
	if f.circle {
		pa, pb := f.plane.Metres(a), f.plane.Metres(b)
		dx, dy := pb[0]-pa[0], pb[1]-pa[1]
		t := 0.0
		if den := dx*dx + dy*dy; den > 0 {
			t = math.Max(0, math.Min(1, -(pa[0]*dx+pa[1]*dy)/den))
		}
		x, y := pa[0]+t*dx, pa[1]+t*dy
		return math.Hypot(x, y) <= f.radius
	}
	for i, poly := range f.polys {
		if !sb.Intersects(f.pboxes[i]) {
			continue
		}
		for _, r := range poly {
			for j := 1; j < len(r); j++ {
				c, d := r[j-1], r[j]
				if max(c[0], d[0]) < sb.Min[0] || min(c[0], d[0]) > sb.Max[0] ||
					max(c[1], d[1]) < sb.Min[1] || min(c[1], d[1]) > sb.Max[1] {
					continue
				}
				if spatial.SegmentsTouch(a, b, c, d) {
					return true
				}
			}
		}
	}
	return false
}

// nearBound is a box surely holding every point within m metres of p.
func nearBound(p orb.Point, m float64) orb.Bound {
	dLat := m / 110_574.0 * 1.01
	lo, hi := p[1]-dLat, p[1]+dLat
	b := orb.Bound{Min: orb.Point{-180, math.Max(-90, lo)}, Max: orb.Point{180, math.Min(90, hi)}}
	if maxLat := math.Max(math.Abs(lo), math.Abs(hi)); maxLat < 89.9 {
		dLon := m / (111_319.49 * math.Cos(maxLat*math.Pi/180) * (1 - 0.0068)) * 1.01
		b.Min[0], b.Max[0] = math.Max(-180, p[0]-dLon), math.Min(180, p[0]+dLon)
	}
	return b
}
