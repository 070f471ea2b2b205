package samples

import (
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// segIndex is an R-tree over the edges of polygons (the coastline of the
// working area), for fast crossing and distance queries.
type segIndex struct {
	segs [][2]orb.Point
	tr   rtree.RTreeG[int]
}

func newSegIndex(ps []orb.Polygon) *segIndex {
	s := &segIndex{}
	for _, p := range ps {
		for _, r := range p {
			for k := 0; k+1 < len(r); k++ {
				a, b := r[k], r[k+1]
				s.tr.Insert([2]float64{min(a[0], b[0]), min(a[1], b[1])}, [2]float64{max(a[0], b[0]), max(a[1], b[1])}, len(s.segs))
				s.segs = append(s.segs, [2]orb.Point{a, b})
			}
		}
	}
	return s
}

// each calls fn for every edge whose box meets b until fn returns false.
func (s *segIndex) each(b orb.Bound, fn func(a, c orb.Point) bool) {
	s.tr.Search([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, func(_, _ [2]float64, i int) bool {
		return fn(s.segs[i][0], s.segs[i][1])
	})
}

// crosses reports whether segment ab touches any edge.
func (s *segIndex) crosses(a, b orb.Point) bool {
	hit := false
	s.each(orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}, func(p, q orb.Point) bool {
		_, hit = segmentTouch(a, b, p, q)
		return !hit
	})
	return hit
}

// ringCrosses reports whether any edge of ring r touches an indexed edge.
func (s *segIndex) ringCrosses(r []orb.Point) bool {
	for k := range r {
		if s.crosses(r[k], r[(k+1)%len(r)]) {
			return true
		}
	}
	return false
}

// nearest returns the distance from q to the closest edge within radius,
// or radius when there is none.
func (s *segIndex) nearest(q orb.Point, radius float64) float64 {
	best := radius
	s.each(orb.Bound{Min: orb.Point{q[0] - radius, q[1] - radius}, Max: orb.Point{q[0] + radius, q[1] + radius}}, func(a, b orb.Point) bool {
		if d := distToSegment(q, a, b); d < best {
			best = d
		}
		return true
	})
	return best
}

func distToSegment(q, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((q[0]-a[0])*dx + (q[1]-a[1])*dy) / l2
		t = max(0, min(1, t))
	}
	px, py := a[0]+t*dx-q[0], a[1]+t*dy-q[1]
	return sqrt(px*px + py*py)
}
