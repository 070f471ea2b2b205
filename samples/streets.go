package samples

import (
	"fmt"
	"sort"

	"github.com/paulmach/orb"
)

// street is one lattice edge between two crossings, cut to the land.
type street struct {
	id       string
	line     *line
	class    streetClass
	parts    []orb.LineString // metres, in the direction of travel when one-way
	from, to string           // node ids; empty where the street ends at the coast
	oneway   bool
	i, j     int  // lattice position of the edge's first node
	vertical bool // runs along a u-line (index i)
	whole    bool // not cut by the coast
}

func nodeID(i, j int) string { return fmt.Sprintf("n%02d-%02d", i, j) }

// streets returns every lattice edge next to an active cell, cut to the
// land, in a fixed order.
func (d *district) streets() []*street {
	var out []*street
	active := func(i, j int) bool { return d.cellAt[[2]int{i, j}] != nil }
	// Edges along v-lines (roughly east–west): nodes (i,j)→(i+1,j).
	for j := range d.vs {
		for i := 0; i+1 < len(d.us); i++ {
			if active(i, j-1) || active(i, j) {
				if s := d.street(&d.vs[j], i, j, i+1, j, fmt.Sprintf("st-h%02d-%02d", j, i)); s != nil {
					out = append(out, s)
				}
			}
		}
	}
	// Edges along u-lines (roughly north–south): nodes (i,j)→(i,j+1).
	for i := range d.us {
		for j := 0; j+1 < len(d.vs); j++ {
			if active(i-1, j) || active(i, j) {
				if s := d.street(&d.us[i], i, j, i, j+1, fmt.Sprintf("st-v%02d-%02d", i, j)); s != nil {
					s.vertical = true
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func (d *district) street(l *line, i0, j0, i1, j1 int, id string) *street {
	a, b := d.nodes[i0][j0], d.nodes[i1][j1]
	s := &street{id: id, line: l, class: l.class, i: i0, j: j0, from: nodeID(i0, j0), to: nodeID(i1, j1)}
	if d.landAt(a) && d.landAt(b) && !d.coast.crosses(a, b) {
		s.parts = []orb.LineString{{a, b}}
		s.whole = true
	} else {
		s.parts = d.clipToLand(a, b)
		if len(s.parts) == 0 {
			return nil
		}
		first, last := s.parts[0][0], s.parts[len(s.parts)-1][1]
		if first != a {
			s.from = ""
		}
		if last != b {
			s.to = ""
		}
	}
	if l.oneway != 0 {
		s.oneway = true
		if l.oneway < 0 {
			for k := range s.parts {
				s.parts[k] = orb.LineString{s.parts[k][1], s.parts[k][0]}
			}
			for x, y := 0, len(s.parts)-1; x < y; x, y = x+1, y-1 {
				s.parts[x], s.parts[y] = s.parts[y], s.parts[x]
			}
			s.from, s.to = s.to, s.from
		}
	}
	return s
}

// clipToLand returns the pieces of segment ab that lie on land, each
// pulled back a little from the shore, dropping scraps under 15 m.
func (d *district) clipToLand(a, b orb.Point) []orb.LineString {
	const pull, minLen = 2.0, 15.0
	ts := []float64{0, 1}
	bd := orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}
	l := dist(a, b)
	d.coast.each(bd, func(p, q orb.Point) bool {
		if x, ok := segmentTouch(a, b, p, q); ok {
			t := 0.0
			if l > 0 {
				t = dist(a, x) / l
			}
			ts = append(ts, t)
		}
		return true
	})
	sort.Float64s(ts)
	at := func(t float64) orb.Point { return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])} }
	var out []orb.LineString
	start := -1.0
	for k := 0; k+1 < len(ts); k++ {
		t0, t1 := ts[k], ts[k+1]
		if t1-t0 < 1e-12 {
			continue
		}
		on := d.landAt(at((t0 + t1) / 2))
		if on && start < 0 {
			start = t0
		}
		if !on && start >= 0 {
			out = append(out, d.piece(at, start, t0, l, pull))
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, d.piece(at, start, 1, l, pull))
	}
	kept := out[:0]
	for _, p := range out {
		if p != nil && dist(p[0], p[1]) >= minLen {
			kept = append(kept, p)
		}
	}
	return kept
}

// piece returns the stretch [t0, t1] of a segment, each end that is not a
// segment end pulled back from the shore by pull metres.
func (d *district) piece(at func(float64) orb.Point, t0, t1, l, pull float64) orb.LineString {
	if l == 0 {
		return nil
	}
	dt := pull / l
	if t0 > 0 {
		t0 += dt
	}
	if t1 < 1 {
		t1 -= dt
	}
	if t1 <= t0 {
		return nil
	}
	return orb.LineString{at(t0), at(t1)}
}

// length returns the street's length in metres.
func (s *street) length() float64 {
	var l float64
	for _, p := range s.parts {
		l += dist(p[0], p[1])
	}
	return l
}
