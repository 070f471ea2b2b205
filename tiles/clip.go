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
