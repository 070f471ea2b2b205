package samples

import (
	"fmt"
	"sort"

	"github.com/paulmach/orb"
	"github.com/peterstace/simplefeatures/geom"
)

// Polygon boolean operations (difference, intersection, union) come from
// github.com/peterstace/simplefeatures, a maintained pure-Go library whose
// overlay is DCEL-based and validates its output. orb has no boolean ops.
// These helpers convert between the two geometry models and normalise the
// result so that it does not depend on the library's internal order.

func sfRing(r orb.Ring) geom.LineString {
	c := make([]float64, 0, 2*len(r))
	for _, p := range r {
		c = append(c, p[0], p[1])
	}
	return geom.NewLineString(geom.NewSequence(c, geom.DimXY))
}

func sfPolygon(p orb.Polygon) geom.Polygon {
	rs := make([]geom.LineString, len(p))
	for i, r := range p {
		rs[i] = sfRing(r)
	}
	return geom.NewPolygon(rs)
}

func sfPolygons(ps []orb.Polygon) geom.Geometry {
	out := make([]geom.Polygon, len(ps))
	for i, p := range ps {
		out[i] = sfPolygon(p)
	}
	return geom.NewMultiPolygon(out).AsGeometry()
}

func fromSFRing(ls geom.LineString) orb.Ring {
	seq := ls.Coordinates()
	r := make(orb.Ring, seq.Length())
	for i := range r {
		xy := seq.GetXY(i)
		r[i] = orb.Point{xy.X, xy.Y}
	}
	return r
}

func fromSFPolygon(p geom.Polygon) orb.Polygon {
	out := make(orb.Polygon, 0, p.NumRings())
	out = append(out, fromSFRing(p.ExteriorRing()))
	for i := 0; i < p.NumInteriorRings(); i++ {
		out = append(out, fromSFRing(p.InteriorRingN(i)))
	}
	return out
}

// fromSF returns the polygonal parts of g (lines and points that an overlay
// may produce where inputs touch are dropped), normalised.
func fromSF(g geom.Geometry) []orb.Polygon {
	var out []orb.Polygon
	var walk func(g geom.Geometry)
	walk = func(g geom.Geometry) {
		switch g.Type() {
		case geom.TypePolygon:
			p, _ := g.AsPolygon()
			if !p.IsEmpty() {
				out = append(out, fromSFPolygon(p))
			}
		case geom.TypeMultiPolygon:
			mp, _ := g.AsMultiPolygon()
			for i := 0; i < mp.NumPolygons(); i++ {
				if p := mp.PolygonN(i); !p.IsEmpty() {
					out = append(out, fromSFPolygon(p))
				}
			}
		case geom.TypeGeometryCollection:
			gc, _ := g.AsGeometryCollection()
			for i := 0; i < gc.NumGeometries(); i++ {
				walk(gc.GeometryN(i))
			}
		}
	}
	walk(g)
	for i := range out {
		out[i] = normalizePolygon(out[i])
	}
	sortPolygons(out)
	return out
}

// normalizePolygon orients the exterior ring counter-clockwise and holes
// clockwise (RFC 7946), starts every ring at its lowest-left vertex and
// sorts the holes, so equal shapes have equal coordinates.
func normalizePolygon(p orb.Polygon) orb.Polygon {
	for i, r := range p {
		r = dedupe(r)
		if (i == 0) != (signedArea(r) > 0) {
			r.Reverse()
		}
		p[i] = rotateRing(r)
	}
	holes := p[1:]
	sort.Slice(holes, func(i, j int) bool { return lessPoint(holes[i][0], holes[j][0]) })
	return p
}

// rotateRing starts a closed ring at its lowest-left vertex.
func rotateRing(r orb.Ring) orb.Ring {
	n := len(r) - 1
	if n < 1 {
		return r
	}
	k := 0
	for i := 1; i < n; i++ {
		if lessPoint(r[i], r[k]) {
			k = i
		}
	}
	if k == 0 {
		return r
	}
	out := make(orb.Ring, 0, len(r))
	out = append(out, r[k:n]...)
	out = append(out, r[:k]...)
	return append(out, out[0])
}

// difference returns a − b as normalised polygons.
func difference(a, b []orb.Polygon) ([]orb.Polygon, error) {
	g, err := geom.Difference(sfPolygons(a), sfPolygons(b))
	if err != nil {
		return nil, fmt.Errorf("polygon difference: %w", err)
	}
	return fromSF(g), nil
}

// intersection returns a ∩ b as normalised polygons.
func intersection(a, b []orb.Polygon) ([]orb.Polygon, error) {
	g, err := geom.Intersection(sfPolygons(a), sfPolygons(b))
	if err != nil {
		return nil, fmt.Errorf("polygon intersection: %w", err)
	}
	return fromSF(g), nil
}

// union returns the union of the polygons, normalised.
func union(ps []orb.Polygon) ([]orb.Polygon, error) {
	g, err := geom.UnaryUnion(sfPolygons(ps))
	if err != nil {
		return nil, fmt.Errorf("polygon union: %w", err)
	}
	return fromSF(g), nil
}

// validate reports whether polygons form a valid OGC MultiPolygon: simple
// closed rings, holes inside their shell, no overlaps between parts.
func validate(ps []orb.Polygon) error {
	return sfPolygons(ps).Validate()
}
