package importers

import (
	"fmt"

	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// ToWGS84 converts a geometry read in coordinate system c to longitude and
// latitude, in place (a Point is returned converted). The error names the
// position and the coordinate that failed.
func ToWGS84(g orb.Geometry, c crs.CRS) (orb.Geometry, error) {
	switch v := g.(type) {
	case orb.Point:
		return pointToWGS84(v, c)
	case orb.MultiPoint:
		return v, pointsToWGS84(v, c)
	case orb.LineString:
		return v, pointsToWGS84(v, c)
	case orb.MultiLineString:
		for _, l := range v {
			if err := pointsToWGS84(l, c); err != nil {
				return nil, err
			}
		}
	case orb.Polygon:
		for _, r := range v {
			if err := pointsToWGS84(r, c); err != nil {
				return nil, err
			}
		}
	case orb.MultiPolygon:
		for _, p := range v {
			for _, r := range p {
				if err := pointsToWGS84(r, c); err != nil {
					return nil, err
				}
			}
		}
	case orb.Collection:
		for i, m := range v {
			var err error
			if v[i], err = ToWGS84(m, c); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}

// pointsToWGS84 converts points in place.
func pointsToWGS84(pts []orb.Point, c crs.CRS) error {
	for i, p := range pts {
		q, err := pointToWGS84(p, c)
		if err != nil {
			return fmt.Errorf("position %d: %w", i, err)
		}
		pts[i] = q
	}
	return nil
}

// pointToWGS84 converts one point.
func pointToWGS84(p orb.Point, c crs.CRS) (orb.Point, error) {
	lon, lat, err := c.ToWGS84(p[0], p[1])
	if err != nil {
		return p, fmt.Errorf("[%v, %v] in %s: %w", p[0], p[1], c.Code(), err)
	}
	return orb.Point{lon, lat}, nil
}
