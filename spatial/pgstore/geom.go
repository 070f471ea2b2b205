package pgstore

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
)

// SRID is the spatial reference of the geometry column: EPSG:4490,
// CGCS2000 geographic longitude/latitude in degrees.
const SRID = 4490

// toGeom converts an orb geometry to go-geom (2D). A Ring or a Bound
// becomes a Polygon, as orb's WKB encoder does.
func toGeom(g orb.Geometry) (geom.T, error) {
	switch v := g.(type) {
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{v[0], v[1]}), nil
	case orb.MultiPoint:
		return geom.NewMultiPointFlat(geom.XY, flatPoints(nil, v)), nil
	case orb.LineString:
		return geom.NewLineStringFlat(geom.XY, flatPoints(nil, v)), nil
	case orb.MultiLineString:
		var flat []float64
		ends := make([]int, len(v))
		for i, l := range v {
			flat = flatPoints(flat, l)
			ends[i] = len(flat)
		}
		return geom.NewMultiLineStringFlat(geom.XY, flat, ends), nil
	case orb.Ring:
		return polygon(orb.Polygon{v}), nil
	case orb.Bound:
		return polygon(v.ToPolygon()), nil
	case orb.Polygon:
		return polygon(v), nil
	case orb.MultiPolygon:
		var flat []float64
		endss := make([][]int, len(v))
		for i, p := range v {
			ends := make([]int, len(p))
			for j, r := range p {
				flat = flatPoints(flat, r)
				ends[j] = len(flat)
			}
			endss[i] = ends
		}
		return geom.NewMultiPolygonFlat(geom.XY, flat, endss), nil
	case orb.Collection:
		gc := geom.NewGeometryCollection()
		for i, m := range v {
			mg, err := toGeom(m)
			if err != nil {
				return nil, fmt.Errorf("member %d: %w", i, err)
			}
			if err := gc.Push(mg); err != nil {
				return nil, fmt.Errorf("member %d: %w", i, err)
			}
		}
		return gc, nil
	case nil:
		return nil, fmt.Errorf("no geometry")
	}
	return nil, fmt.Errorf("unsupported geometry type %T", g)
}

func polygon(p orb.Polygon) *geom.Polygon {
	var flat []float64
	ends := make([]int, len(p))
	for i, r := range p {
		flat = flatPoints(flat, r)
		ends[i] = len(flat)
	}
	return geom.NewPolygonFlat(geom.XY, flat, ends)
}

func flatPoints[P ~[]orb.Point](flat []float64, ps P) []float64 {
	for _, p := range ps {
		flat = append(flat, p[0], p[1])
	}
	return flat
}

// setSRID sets the SRID of a converted geometry (only the outermost one
// carries it in EWKB).
func setSRID(g geom.T, srid int) geom.T {
	switch v := g.(type) {
	case *geom.Point:
		return v.SetSRID(srid)
	case *geom.MultiPoint:
		return v.SetSRID(srid)
	case *geom.LineString:
		return v.SetSRID(srid)
	case *geom.MultiLineString:
		return v.SetSRID(srid)
	case *geom.Polygon:
		return v.SetSRID(srid)
	case *geom.MultiPolygon:
		return v.SetSRID(srid)
	case *geom.GeometryCollection:
		return v.SetSRID(srid)
	}
	return g
}

// EWKB encodes an orb geometry as little-endian EWKB with SRID 4490, the
// form PostGIS stores.
func EWKB(g orb.Geometry) ([]byte, error) {
	gg, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	b, err := ewkb.Marshal(setSRID(gg, SRID), binary.LittleEndian)
	if err != nil {
		return nil, fmt.Errorf("encode EWKB: %w", err)
	}
	return b, nil
}

// hexEWKB returns the EWKB as the hex text PostGIS's geometry input reads
// (the COPY text format carries it unescaped).
func hexEWKB(g orb.Geometry) (string, error) {
	b, err := EWKB(g)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
