package tiles

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/peterstace/simplefeatures/geom"
)

// clipToBox clips a projected geometry to the tile's buffered box.
//
// Points and lines go through orb/clip. A polygon that crosses the box is
// intersected exactly with it by simplefeatures' overlay, because orb/clip
// (a Sutherland–Hodgman-style ring clipper) joins the pieces of a concave
// ring along the box edge with zero-width bridges, which strict consumers
// reject as invalid polygons. Polygons wholly inside the box are returned
// as they are; a polygon the overlay cannot take (invalid input) falls back
// to orb/clip rather than being lost.
func clipToBox(box orb.Bound, g orb.Geometry) orb.Geometry {
	if g == nil || !box.Intersects(g.Bound()) {
		return nil
	}
	switch v := g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		gb := g.Bound()
		if box.Contains(gb.Min) && box.Contains(gb.Max) {
			return g
		}
		// Clipping a convex ring to a rectangle cannot leave a bridge, and
		// most buildings are convex: keep the fast clipper for them.
		if p, ok := v.(orb.Polygon); ok && len(p) == 1 && convex(p[0]) {
			return clip.Geometry(box, g)
		}
		if out, ok := overlayClip(box, g); ok {
			return out
		}
	}
	return clip.Geometry(box, g)
}

// convex reports whether a closed ring turns the same way at every vertex
// (collinear vertices allowed).
func convex(r orb.Ring) bool {
	n := len(r) - 1 // the last point repeats the first
	if n < 3 {
		return false
	}
	sign := 0
	for i := 0; i < n; i++ {
		a, b, c := r[i], r[(i+1)%n], r[(i+2)%n]
		cross := (b[0]-a[0])*(c[1]-b[1]) - (b[1]-a[1])*(c[0]-b[0])
		switch {
		case cross > 0:
			if sign < 0 {
				return false
			}
			sign = 1
		case cross < 0:
			if sign > 0 {
				return false
			}
			sign = -1
		}
	}
	return sign != 0
}

// overlayClip intersects an areal geometry with the box exactly.
func overlayClip(box orb.Bound, g orb.Geometry) (orb.Geometry, bool) {
	b, err := wkb.Marshal(g)
	if err != nil {
		return nil, false
	}
	sg, err := geom.UnmarshalWKB(b)
	if err != nil {
		return nil, false
	}
	env := geom.NewEnvelope(geom.XY{X: box.Min[0], Y: box.Min[1]}, geom.XY{X: box.Max[0], Y: box.Max[1]})
	out, err := geom.Intersection(sg, env.AsGeometry())
	if err != nil {
		return nil, false
	}
	if out.IsEmpty() {
		return nil, true
	}
	res, err := wkb.Unmarshal(out.AsBinary())
	if err != nil {
		return nil, false
	}
	// Keep only the areal part: an intersection can add slivers of
	// lower dimension where the polygon touches the box.
	var polys orb.MultiPolygon
	var walk func(orb.Geometry)
	walk = func(x orb.Geometry) {
		switch v := x.(type) {
		case orb.Polygon:
			polys = append(polys, v)
		case orb.MultiPolygon:
			polys = append(polys, v...)
		case orb.Collection:
			for _, m := range v {
				walk(m)
			}
		}
	}
	walk(res)
	switch len(polys) {
	case 0:
		return nil, true
	case 1:
		return polys[0], true
	}
	return polys, true
}

// clipRing is orb/clip's ring clipping (Sutherland–Hodgman against each
// side of the box in turn, keeping points on the box) without allocating:
// the result, a closed ring or nil when nothing is left, lives in the
// renderState's clip buffers and the input is left alone.
func (rs *renderState) clipRing(box orb.Bound, in []orb.Point) []orb.Point {
	if len(in) == 0 {
		return nil
	}
	initClosed := in[0] == in[len(in)-1]
	bufs := [2][]orb.Point{rs.clipA[:0], rs.clipB[:0]}
	defer func() { rs.clipA, rs.clipB = bufs[0], bufs[1] }()
	k := 0
	for edge := 1; edge <= 8; edge <<= 1 {
		out := bufs[k][:0]
		prev := in[len(in)-1]
		if !initClosed {
			prev = in[0]
		}
		prevInside := bitCode(box, prev)&edge == 0
		for _, p := range in {
			inside := bitCode(box, p)&edge == 0
			if inside != prevInside {
				out = append(out, intersect(box, edge, prev, p))
			}
			if inside {
				out = append(out, p)
			}
			prev, prevInside = p, inside
		}
		bufs[k] = out
		if len(out) == 0 {
			return nil
		}
		in = out
		k ^= 1
	}
	if initClosed && in[0] != in[len(in)-1] {
		in = append(in, in[0])
		bufs[k^1] = in
	}
	return in
}

// bitCode and intersect are orb/clip's.
func bitCode(b orb.Bound, p orb.Point) int {
	code := 0
	if p[0] < b.Min[0] {
		code |= 1
	} else if p[0] > b.Max[0] {
		code |= 2
	}
	if p[1] < b.Min[1] {
		code |= 4
	} else if p[1] > b.Max[1] {
		code |= 8
	}
	return code
}

func intersect(box orb.Bound, edge int, a, b orb.Point) orb.Point {
	switch {
	case edge&8 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Max[1]-a[1])/(b[1]-a[1]), box.Max[1]}
	case edge&4 != 0:
		return orb.Point{a[0] + (b[0]-a[0])*(box.Min[1]-a[1])/(b[1]-a[1]), box.Min[1]}
	case edge&2 != 0:
		return orb.Point{box.Max[0], a[1] + (b[1]-a[1])*(box.Max[0]-a[0])/(b[0]-a[0])}
	}
	return orb.Point{box.Min[0], a[1] + (b[1]-a[1])*(box.Min[0]-a[0])/(b[0]-a[0])}
}

// bridged reports whether a ring clipped by clipRing may touch itself on
// the box: whether a vertex lies on an edge that runs along a side of the
// box and is not one of that edge's own ends. Sutherland–Hodgman joins the
// pieces a concave ring leaves inside the box by such zero-width bridges;
// a clipped ring without them is the exact intersection. The test is
// conservative: a ring it flags is clipped exactly by overlay instead.
func (rs *renderState) bridged(box orb.Bound, r []orb.Point) bool {
	// Open ring without repeated vertices.
	v := rs.bridge[:0]
	for _, p := range r {
		if len(v) == 0 || v[len(v)-1] != p {
			v = append(v, p)
		}
	}
	for len(v) > 1 && v[len(v)-1] == v[0] {
		v = v[:len(v)-1]
	}
	rs.bridge = v
	n := len(v)
	// on reports the coordinate along side s (0: x = min x, 1: x = max x,
	// 2: y = min y, 3: y = max y) of a point on that side.
	on := func(p orb.Point, s int) (float64, bool) {
		switch s {
		case 0:
			return p[1], p[0] == box.Min[0]
		case 1:
			return p[1], p[0] == box.Max[0]
		case 2:
			return p[0], p[1] == box.Min[1]
		}
		return p[0], p[1] == box.Max[1]
	}
	for s := range 4 {
		for i := range n {
			j := (i + 1) % n
			a, okA := on(v[i], s)
			b, okB := on(v[j], s)
			if !okA || !okB {
				continue
			}
			lo, hi := min(a, b), max(a, b)
			for k := range n {
				if k == i || k == j {
					continue
				}
				if c, ok := on(v[k], s); ok && c >= lo && c <= hi {
					return true
				}
			}
		}
	}
	return false
}
