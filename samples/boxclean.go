package samples

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// rect is an axis-aligned rectangle in the coordinates of the rings it
// clips (degrees for the embedded data).
type rect struct{ w, s, e, n float64 }

func (b rect) bound() orb.Bound {
	return orb.Bound{Min: orb.Point{b.w, b.s}, Max: orb.Point{b.e, b.n}}
}

// ring returns the rectangle as a counter-clockwise closed ring.
func (b rect) ring() orb.Ring {
	return orb.Ring{{b.w, b.s}, {b.e, b.s}, {b.e, b.n}, {b.w, b.n}, {b.w, b.s}}
}

// Sides of the rectangle as bits, so that a point on a corner is on two.
const (
	sideS = 1 << iota
	sideE
	sideN
	sideW
)

func (b rect) sides(p orb.Point) int {
	s := 0
	if p[1] == b.s {
		s |= sideS
	}
	if p[0] == b.e {
		s |= sideE
	}
	if p[1] == b.n {
		s |= sideN
	}
	if p[0] == b.w {
		s |= sideW
	}
	return s
}

func (b rect) perimeter() float64 { return 2 * ((b.e - b.w) + (b.n - b.s)) }

// pos is the counter-clockwise distance along the boundary from the
// south-west corner to p, which must lie on the boundary.
func (b rect) pos(p orb.Point) float64 {
	w, h := b.e-b.w, b.n-b.s
	switch {
	case p[1] == b.s:
		return p[0] - b.w
	case p[0] == b.e:
		return w + (p[1] - b.s)
	case p[1] == b.n:
		return w + h + (b.e - p[0])
	}
	return 2*w + h + (b.n - p[1])
}

// corners returns the rectangle's corners met when walking counter-clockwise
// along the boundary from position t0 (exclusive) a distance d further
// (exclusive).
func (b rect) corners(t0, d float64) []orb.Point {
	w, h := b.e-b.w, b.n-b.s
	pts := [4]orb.Point{{b.e, b.s}, {b.e, b.n}, {b.w, b.n}, {b.w, b.s}}
	ts := [4]float64{w, w + h, 2*w + h, 2 * (w + h)}
	P := b.perimeter()
	var out []orb.Point
	// Two laps cover every wrap-around; corners are ordered by distance.
	for lap := 0; lap < 2; lap++ {
		for i := range pts {
			ct := ts[i] + float64(lap)*P
			dist := ct - t0
			if dist > 0 && dist < d {
				out = append(out, pts[i])
			}
		}
	}
	return out
}

// clipRing clips a closed ring to the rectangle with the Sutherland–Hodgman
// algorithm. Where the ring leaves and re-enters the rectangle the result
// runs along the rectangle's edges, possibly back and forth; cleanPolygon
// removes those degenerate stretches. Points on the boundary are snapped
// exactly onto it so that later tests by equality hold.
func (b rect) clipRing(r orb.Ring) orb.Ring {
	pts := []orb.Point(r)
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1]
	}
	type plane struct {
		inside func(orb.Point) bool
		cut    func(a, c orb.Point) orb.Point
	}
	planes := []plane{
		{func(p orb.Point) bool { return p[0] >= b.w }, func(a, c orb.Point) orb.Point {
			return orb.Point{b.w, a[1] + (c[1]-a[1])*(b.w-a[0])/(c[0]-a[0])}
		}},
		{func(p orb.Point) bool { return p[0] <= b.e }, func(a, c orb.Point) orb.Point {
			return orb.Point{b.e, a[1] + (c[1]-a[1])*(b.e-a[0])/(c[0]-a[0])}
		}},
		{func(p orb.Point) bool { return p[1] >= b.s }, func(a, c orb.Point) orb.Point {
			return orb.Point{a[0] + (c[0]-a[0])*(b.s-a[1])/(c[1]-a[1]), b.s}
		}},
		{func(p orb.Point) bool { return p[1] <= b.n }, func(a, c orb.Point) orb.Point {
			return orb.Point{a[0] + (c[0]-a[0])*(b.n-a[1])/(c[1]-a[1]), b.n}
		}},
	}
	for _, pl := range planes {
		if len(pts) == 0 {
			break
		}
		var out []orb.Point
		prev := pts[len(pts)-1]
		for _, cur := range pts {
			switch ci, pi := pl.inside(cur), pl.inside(prev); {
			case ci && pi:
				out = append(out, cur)
			case ci && !pi:
				out = append(out, pl.cut(prev, cur), cur)
			case !ci && pi:
				out = append(out, pl.cut(prev, cur))
			}
			prev = cur
		}
		pts = out
	}
	out := make(orb.Ring, 0, len(pts)+1)
	for _, p := range pts {
		p[0] = math.Min(math.Max(p[0], b.w), b.e)
		p[1] = math.Min(math.Max(p[1], b.s), b.n)
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	if len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	if len(out) < 3 {
		return nil
	}
	return append(out, out[0])
}

// chain is a stretch of a ring through the rectangle's interior from one
// boundary point to another, with the region on its left.
type chain struct {
	pts         []orb.Point
	entry, exit float64
}

// cleanPolygon returns the region of polygon p inside the rectangle as
// valid polygons: rings are clipped, every stretch that runs along the
// rectangle's boundary is dropped (those are clipping artefacts such as
// zero-width spikes, possibly traversed in both directions), and the
// remaining coastline pieces are reconnected counter-clockwise along the
// boundary. Exterior rings of the result are counter-clockwise and holes
// clockwise (RFC 7946).
func (b rect) cleanPolygon(p orb.Polygon) ([]orb.Polygon, error) {
	if len(p) == 0 {
		return nil, nil
	}
	rings := make([]orb.Ring, 0, len(p))
	for i, r := range p {
		c := b.clipRing(r)
		if c != nil {
			var err error
			if c, err = repairRing(c, b); err != nil {
				return nil, fmt.Errorf("ring %d: %w", i, err)
			}
		}
		if c == nil {
			if i == 0 {
				return nil, nil // no area inside the rectangle
			}
			continue
		}
		// Land on the left: exterior counter-clockwise, holes clockwise.
		if a := signedArea(c); (i == 0) != (a > 0) {
			c.Reverse()
		}
		rings = append(rings, c)
	}
	var chains []chain
	var shells, holes []orb.Ring
	wholeBox := false
	for i, r := range rings {
		cs, closed := b.chains(r)
		if !closed && len(cs) == 0 {
			// The ring runs only along the boundary: the whole box if
			// it encloses area, else nothing.
			wholeBox = wholeBox || signedArea(r) > 0
			continue
		}
		if closed {
			if signedArea(r) == 0 {
				continue
			}
			if i == 0 || signedArea(r) > 0 {
				shells = append(shells, r)
			} else {
				holes = append(holes, r)
			}
			continue
		}
		chains = append(chains, cs...)
	}
	joined, err := b.join(chains)
	if err != nil {
		return nil, err
	}
	if wholeBox && len(chains) == 0 {
		joined = []orb.Ring{b.ring()}
	}
	shells = append(joined, shells...)
	return assignHoles(shells, holes)
}

// chains splits a closed ring at the stretches that lie on the rectangle's
// boundary. closed is true when the ring has no such stretch.
func (b rect) chains(r orb.Ring) (cs []chain, closed bool) {
	n := len(r) - 1 // edges
	onB := func(i int) bool { return b.sides(r[i])&b.sides(r[i+1]) != 0 }
	start := -1
	for i := 0; i < n; i++ {
		if onB(i) {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, true
	}
	var cur []orb.Point
	for k := 1; k <= n; k++ {
		i := (start + k) % n // edge i runs r[i] → r[i+1]
		if onB(i) {
			if len(cur) > 0 {
				cs = append(cs, chain{pts: cur, entry: b.pos(cur[0]), exit: b.pos(cur[len(cur)-1])})
				cur = nil
			}
			continue
		}
		if len(cur) == 0 {
			cur = append(cur, r[i])
		}
		cur = append(cur, r[i+1])
	}
	if len(cur) > 0 {
		cs = append(cs, chain{pts: cur, entry: b.pos(cur[0]), exit: b.pos(cur[len(cur)-1])})
	}
	return cs, false
}

// join links chains into closed rings: after a chain exits, walk
// counter-clockwise along the boundary to the nearest chain entry.
func (b rect) join(chains []chain) ([]orb.Ring, error) {
	P := b.perimeter()
	used := make([]bool, len(chains))
	var out []orb.Ring
	for first := range chains {
		if used[first] {
			continue
		}
		var ring orb.Ring
		cur := first
		for steps := 0; ; steps++ {
			if steps > len(chains) {
				return nil, errors.New("coastline chains do not close")
			}
			used[cur] = true
			c := chains[cur]
			if len(ring) > 0 && ring[len(ring)-1] == c.pts[0] {
				ring = append(ring, c.pts[1:]...)
			} else {
				ring = append(ring, c.pts...)
			}
			next, best := -1, math.Inf(1)
			for j, o := range chains {
				d := o.entry - c.exit
				if d < 0 {
					d += P
				}
				if d < best || (d == best && j == first) {
					next, best = j, d
				}
			}
			ring = append(ring, b.corners(c.exit, best)...)
			if next == first {
				break
			}
			if used[next] {
				return nil, fmt.Errorf("coastline chain %d reached twice", next)
			}
			cur = next
		}
		if ring[0] != ring[len(ring)-1] {
			ring = append(ring, ring[0])
		}
		ring = dedupe(ring)
		if len(ring) < 4 || signedArea(ring) <= 0 {
			return nil, fmt.Errorf("joined coastline ring has %d points and area %g", len(ring), signedArea(ring))
		}
		out = append(out, ring)
	}
	return out, nil
}

// assignHoles puts each hole into the smallest shell that contains it.
func assignHoles(shells, holes []orb.Ring) ([]orb.Polygon, error) {
	polys := make([]orb.Polygon, len(shells))
	areas := make([]float64, len(shells))
	for i, s := range shells {
		polys[i] = orb.Polygon{s}
		areas[i] = signedArea(s)
	}
	for hi, h := range holes {
		best := -1
		probe := interiorProbe(h)
		for i, s := range shells {
			if planar.RingContains(s, probe) && (best < 0 || areas[i] < areas[best]) {
				best = i
			}
		}
		if best < 0 {
			return nil, fmt.Errorf("hole %d lies in no exterior ring", hi)
		}
		polys[best] = append(polys[best], h)
	}
	return polys, nil
}

// interiorProbe returns a point just inside a clockwise hole ring (on the
// hole's side of its first edge), used to find the shell that contains it.
func interiorProbe(r orb.Ring) orb.Point {
	a, c := r[0], r[1]
	return orb.Point{(a[0] + c[0]) / 2, (a[1] + c[1]) / 2}
}

// signedArea is the shoelace area, positive for counter-clockwise rings.
func signedArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

// dedupe removes consecutive duplicate points.
func dedupe(r orb.Ring) orb.Ring {
	out := r[:0:0]
	for _, p := range r {
		if len(out) == 0 || out[len(out)-1] != p {
			out = append(out, p)
		}
	}
	return out
}

// sortPolygons orders polygons by decreasing area, then by first vertex, so
// that output is independent of the order an algorithm produced them in.
func sortPolygons(ps []orb.Polygon) {
	sort.SliceStable(ps, func(i, j int) bool {
		ai, aj := signedArea(ps[i][0]), signedArea(ps[j][0])
		if ai != aj {
			return ai > aj
		}
		return lessPoint(ps[i][0][0], ps[j][0][0])
	})
}

func lessPoint(a, b orb.Point) bool {
	if a[0] != b[0] {
		return a[0] < b[0]
	}
	return a[1] < b[1]
}
