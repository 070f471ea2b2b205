package spatial

import (
	"github.com/paulmach/orb"
)

// Planar predicates in longitude/latitude degrees. At city scale the
// difference between planar and geodesic edges is far below the precision
// of the data; the predicates are exact for the planar interpretation that
// GeoJSON (RFC 7946) prescribes.

// Intersects reports whether two geometries share at least one point.
func Intersects(a, b orb.Geometry) bool {
	if a == nil || b == nil || !a.Bound().Intersects(b.Bound()) {
		return false
	}
	pa, la, ga := parts(a)
	pb, lb, gb := parts(b)
	// A vertex of one inside an area of the other.
	for _, p := range pa {
		if inAreas(p, gb) || onLines(p, lb) || containsPoint(pb, p) {
			return true
		}
	}
	for _, p := range pb {
		if inAreas(p, ga) || onLines(p, la) {
			return true
		}
	}
	lineA, lineB := append(la, ringsOf(ga)...), append(lb, ringsOf(gb)...)
	for _, l := range lineA {
		for _, p := range l {
			if inAreas(p, gb) {
				return true
			}
		}
	}
	for _, l := range lineB {
		for _, p := range l {
			if inAreas(p, ga) {
				return true
			}
		}
	}
	// Crossing segments between any linework (lines and ring edges).
	return segmentsCross(lineA, lineB)
}

// Within reports whether a lies wholly inside b (its interior or boundary).
// b must be areal (Polygon, MultiPolygon, Bound or a Collection of them)
// for anything but points; a point is within a point or line it lies on.
func Within(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return false
	}
	ab, bb := a.Bound(), b.Bound()
	if ab.Min[0] < bb.Min[0] || ab.Min[1] < bb.Min[1] || ab.Max[0] > bb.Max[0] || ab.Max[1] > bb.Max[1] {
		return false
	}
	pa, la, ga := parts(a)
	pb, lb, gb := parts(b)
	if len(gb) == 0 {
		// Only points can be within points or lines.
		if len(la) > 0 || len(ga) > 0 {
			return false
		}
		for _, p := range pa {
			if !containsPoint(pb, p) && !onLines(p, lb) {
				return false
			}
		}
		return true
	}
	for _, p := range pa {
		if !inAreas(p, gb) {
			return false
		}
	}
	ringsA := ringsOf(ga)
	lines := append(la, ringsA...)
	for _, l := range lines {
		for _, p := range l {
			if !inAreas(p, gb) {
				return false
			}
		}
	}
	// No edge of a may cross b's boundary properly; and no hole of b may sit
	// inside a's areas.
	if segmentsCrossProperly(lines, ringsOf(gb)) {
		return false
	}
	for _, poly := range gb {
		for _, hole := range poly[1:] {
			for _, v := range hole {
				if inAreas(v, ga) && !onLines(v, ringsA) {
					return false // a covers part of the hole
				}
			}
		}
	}
	return true
}

// parts splits a geometry into points, lines and polygons.
func parts(g orb.Geometry) (pts []orb.Point, lines []orb.LineString, polys []orb.Polygon) {
	var walk func(g orb.Geometry)
	walk = func(g orb.Geometry) {
		switch v := g.(type) {
		case orb.Point:
			pts = append(pts, v)
		case orb.MultiPoint:
			pts = append(pts, v...)
		case orb.LineString:
			lines = append(lines, v)
		case orb.MultiLineString:
			lines = append(lines, v...)
		case orb.Ring:
			polys = append(polys, orb.Polygon{v})
		case orb.Polygon:
			polys = append(polys, v)
		case orb.MultiPolygon:
			polys = append(polys, v...)
		case orb.Bound:
			polys = append(polys, v.ToPolygon())
		case orb.Collection:
			for _, m := range v {
				walk(m)
			}
		}
	}
	walk(g)
	return pts, lines, polys
}

func ringsOf(polys []orb.Polygon) []orb.LineString {
	var out []orb.LineString
	for _, p := range polys {
		for _, r := range p {
			out = append(out, orb.LineString(r))
		}
	}
	return out
}

func containsPoint(pts []orb.Point, p orb.Point) bool {
	for _, q := range pts {
		if q == p {
			return true
		}
	}
	return false
}

// inAreas reports whether p is inside or on the boundary of any polygon.
func inAreas(p orb.Point, polys []orb.Polygon) bool {
	for _, poly := range polys {
		if inPolygon(p, poly) {
			return true
		}
	}
	return false
}

// inPolygon is PointInPolygon after a bounding-box test.
func inPolygon(p orb.Point, poly orb.Polygon) bool {
	return len(poly) > 0 && poly.Bound().Contains(p) && PointInPolygon(p, poly)
}

// PointInPolygon reports whether p lies in the polygon, boundaries
// included: inside its outer ring or on it, and not strictly inside a hole
// (a hole's boundary belongs to the polygon). Coordinates are planar, as
// given. It allocates nothing, for hot paths such as geofences.
func PointInPolygon(p orb.Point, poly orb.Polygon) bool {
	if len(poly) == 0 {
		return false
	}
	if in, _ := inRing(p, poly[0]); !in {
		return false
	}
	for _, h := range poly[1:] {
		if in, on := inRing(p, h); in && !on {
			return false
		}
	}
	return true
}

// inRing is an even-odd test in one pass; on reports p on the ring (which
// counts as in).
func inRing(p orb.Point, r orb.Ring) (in, on bool) {
	n := len(r)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := r[i], r[j]
		if onSegment(a, b, p) {
			return true, true
		}
		if (a[1] > p[1]) != (b[1] > p[1]) {
			x := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if p[0] < x {
				in = !in
			}
		}
	}
	return in, false
}

func onLines(p orb.Point, ls []orb.LineString) bool {
	for _, l := range ls {
		if onLine(p, l) {
			return true
		}
	}
	return false
}

func onLine(p orb.Point, l orb.LineString) bool {
	if len(l) == 1 {
		return l[0] == p
	}
	for i := 1; i < len(l); i++ {
		if onSegment(l[i-1], l[i], p) {
			return true
		}
	}
	return false
}

// orient returns the sign of the cross product (b−a)×(c−a).
func orient(a, b, c orb.Point) int {
	v := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p orb.Point) bool {
	return orient(a, b, p) == 0 &&
		p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) &&
		p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1])
}

// SegmentsTouch reports whether segments ab and cd share a point.
func SegmentsTouch(a, b, c, d orb.Point) bool {
	hit, _ := segIntersect(a, b, c, d)
	return hit
}

// segIntersect reports whether segments ab and cd share a point; proper
// is true when they cross at a single interior point of both.
func segIntersect(a, b, c, d orb.Point) (any, proper bool) {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true, true
	}
	return onSegment(a, b, c) || onSegment(a, b, d) || onSegment(c, d, a) || onSegment(c, d, b), false
}

func segmentsCross(as, bs []orb.LineString) bool {
	return anySegmentPair(as, bs, func(a, b, c, d orb.Point) bool {
		hit, _ := segIntersect(a, b, c, d)
		return hit
	})
}

func segmentsCrossProperly(as, bs []orb.LineString) bool {
	return anySegmentPair(as, bs, func(a, b, c, d orb.Point) bool {
		_, proper := segIntersect(a, b, c, d)
		return proper
	})
}

// anySegmentPair tests every pair of segments whose boxes overlap.
func anySegmentPair(as, bs []orb.LineString, f func(a, b, c, d orb.Point) bool) bool {
	for _, l := range as {
		for i := 1; i < len(l); i++ {
			a, b := l[i-1], l[i]
			sb := orb.Bound{Min: a, Max: a}.Extend(b)
			for _, m := range bs {
				if !sb.Intersects(m.Bound()) {
					continue
				}
				for j := 1; j < len(m); j++ {
					c, d := m[j-1], m[j]
					if !sb.Intersects(orb.Bound{Min: c, Max: c}.Extend(d)) {
						continue
					}
					if f(a, b, c, d) {
						return true
					}
				}
			}
		}
	}
	return false
}
