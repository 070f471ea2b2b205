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
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		gb := g.Bound()
		if box.Contains(gb.Min) && box.Contains(gb.Max) {
			return g
		}
		if out, ok := overlayClip(box, g); ok {
			return out
		}
	}
	return clip.Geometry(box, g)
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
