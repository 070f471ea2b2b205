package samples

import (
	"fmt"
	"sort"

	"github.com/paulmach/orb"
)

// repairRing removes the small defects that line simplification leaves in
// a coastline ring: zero-width spikes (the ring turning back on itself
// along a line) and small twisted loops (two edges crossing or touching).
// A loop is cut out on its shorter side. Edges along the boundary of box
// are left alone: they are clipping artefacts that cleanPolygon drops.
// The ring must be closed.
func repairRing(r orb.Ring, box rect) (orb.Ring, error) {
	for iter := 0; ; iter++ {
		if iter > len(r) {
			return nil, fmt.Errorf("ring of %d points: defects do not resolve", len(r))
		}
		r = removeSpikes(r)
		if len(r) < 4 {
			return nil, nil
		}
		i, j, x, ok := firstTouch(r, box)
		if !ok {
			return r, nil
		}
		n := len(r) - 1
		if j-i <= n-(j-i) {
			// Drop the loop r[i+1..j]: a → x → d.
			out := make(orb.Ring, 0, len(r))
			out = append(out, r[:i+1]...)
			out = append(out, x)
			out = append(out, r[j+1:]...)
			r = dedupe(out)
		} else {
			// Keep only the loop x → r[i+1..j] → x.
			out := orb.Ring{x}
			out = append(out, r[i+1:j+1]...)
			r = dedupe(append(out, x))
		}
	}
}

// removeSpikes drops vertices where a closed ring reverses direction along
// a straight line, and repeated points.
func removeSpikes(r orb.Ring) orb.Ring {
	pts := append([]orb.Point(nil), dedupe(r)...)
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1]
	}
	for changed := true; changed && len(pts) >= 3; {
		changed = false
		for k := 0; k < len(pts) && len(pts) >= 3; k++ {
			p, v, q := pts[(k+len(pts)-1)%len(pts)], pts[k], pts[(k+1)%len(pts)]
			if v == q || (orient(p, v, q) == 0 && (v[0]-p[0])*(q[0]-v[0])+(v[1]-p[1])*(q[1]-v[1]) <= 0) {
				pts = append(pts[:k], pts[k+1:]...)
				changed = true
				k--
			}
		}
	}
	if len(pts) < 3 {
		return nil
	}
	return append(orb.Ring(pts), pts[0])
}

// firstTouch finds two non-adjacent edges i < j of a closed ring, neither
// along the box boundary, that cross or touch, and a point they share.
// Edges are swept by x so that the cost is near-linear for a coastline.
func firstTouch(r orb.Ring, box rect) (i, j int, x orb.Point, ok bool) {
	n := len(r) - 1
	idx := make([]int, 0, n)
	for k := 0; k < n; k++ {
		if box.sides(r[k])&box.sides(r[k+1]) == 0 {
			idx = append(idx, k)
		}
	}
	n = len(idx)
	minX := func(k int) float64 { return min(r[k][0], r[k+1][0]) }
	maxX := func(k int) float64 { return max(r[k][0], r[k+1][0]) }
	sort.SliceStable(idx, func(a, b int) bool { return minX(idx[a]) < minX(idx[b]) })
	best := [2]int{-1, -1}
	var bx orb.Point
	for a := 0; a < n; a++ {
		ka := idx[a]
		for b := a + 1; b < n && minX(idx[b]) <= maxX(ka); b++ {
			kb := idx[b]
			lo, hi := min(ka, kb), max(ka, kb)
			if hi-lo == 1 || (lo == 0 && hi == len(r)-2) {
				continue
			}
			if p, hit := segmentTouch(r[lo], r[lo+1], r[hi], r[hi+1]); hit {
				if best[0] < 0 || lo < best[0] || (lo == best[0] && hi < best[1]) {
					best, bx = [2]int{lo, hi}, p
				}
			}
		}
	}
	if best[0] < 0 {
		return 0, 0, orb.Point{}, false
	}
	return best[0], best[1], bx, true
}

// orient is twice the signed area of triangle p, q, r: positive when r lies
// to the left of p→q.
func orient(p, q, r orb.Point) float64 {
	return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0])
}

func inBox(p, q, r orb.Point) bool {
	return min(p[0], q[0]) <= r[0] && r[0] <= max(p[0], q[0]) && min(p[1], q[1]) <= r[1] && r[1] <= max(p[1], q[1])
}

// segmentTouch reports whether segments ab and cd share a point and returns
// one such point.
func segmentTouch(a, b, c, d orb.Point) (orb.Point, bool) {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) {
		t := o3 / (o3 - o4)
		return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}, true
	}
	switch {
	case o1 == 0 && inBox(a, b, c):
		return c, true
	case o2 == 0 && inBox(a, b, d):
		return d, true
	case o3 == 0 && inBox(c, d, a):
		return a, true
	case o4 == 0 && inBox(c, d, b):
		return b, true
	}
	return orb.Point{}, false
}
