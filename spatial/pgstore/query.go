package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// BBox returns up to limit features of a layer whose geometry intersects
// the box (ST_Intersects with ST_MakeEnvelope in SRID 4490, planar in
// degrees like spatial.Intersects, boundary contact included), in
// grid-code order. It uses the GiST index on geom. limit <= 0 means no
// limit.
func (s *Store) BBox(ctx context.Context, layer string, b orb.Bound, limit int) ([]*spatial.Feature, error) {
	if err := spatial.CheckGeometry(b); err != nil || b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return nil, fmt.Errorf("pgstore: bbox %v: %w", b, spatial.ErrQuery)
	}
	layerT, ok := keyText(layer)
	if !ok {
		return nil, ctx.Err()
	}
	var lim any // NULL: LIMIT ALL
	if limit > 0 {
		lim = limit
	}
	var out []*spatial.Feature
	err := s.scan(ctx, "bbox "+layer, func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	}, `SELECT record FROM features
		WHERE layer = $1 AND ST_Intersects(geom, ST_MakeEnvelope($2, $3, $4, $5, 4490))
		ORDER BY code, level, id LIMIT $6`,
		layerT, b.Min[0], b.Min[1], b.Max[0], b.Max[1], lim)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nearestSQL finds the k nearest features by geodesic distance on the
// ellipsoid of SRID 4490 (CGCS2000: ST_Distance on geography with
// use_spheroid), using only the GiST index on geom, in three steps:
//
//  1. the KNN operator <-> on geometry (planar, in degrees) picks k
//     candidates, and r is the largest of their geodesic distances, so
//     the k nearest all lie within r;
//  2. a lon/lat box surely holding every point within r of p: r over
//     110 574 m per degree of latitude (the least, at the equator) and
//     over a·cos φ per degree of longitude at the box's most poleward
//     latitude, widened by 1 % and 0.0001° (about 11 m, for geodesic edges
//     that bow out of their vertices' box), spanning all longitudes near a
//     pole or across ±180°;
//  3. every feature whose box meets it (geom &&, the index again) ranked
//     by geodesic distance, ties in grid-code order.
//
// $1 layer, $2 lon, $3 lat, $4 k.
const nearestSQL = `WITH knn AS (
		SELECT ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4490)::geography, true) AS d
		FROM features f WHERE f.layer = $1
		ORDER BY f.geom <-> ST_SetSRID(ST_MakePoint($2, $3), 4490) LIMIT $4
	),
	r AS (SELECT max(d) * 1.01 AS m FROM knn),
	dlat AS (SELECT m / 110574.0 + 0.0001 AS dy, m FROM r),
	dlon AS (
		SELECT dy, CASE WHEN abs($3) + dy >= 89.9 THEN 360
			ELSE m / (111319.49 * cos(radians(abs($3) + dy))) + 0.0001 END AS dx
		FROM dlat
	),
	box AS (
		SELECT CASE WHEN $2 - dx < -180 OR $2 + dx > 180
			THEN ST_MakeEnvelope(-180, $3 - dy, 180, $3 + dy, 4490)
			ELSE ST_MakeEnvelope($2 - dx, $3 - dy, $2 + dx, $3 + dy, 4490) END AS env
		FROM dlon
	)
	SELECT f.record, ST_Distance(f.geom::geography, ST_SetSRID(ST_MakePoint($2, $3), 4490)::geography, true) AS dist
	FROM features f, box
	WHERE f.layer = $1 AND f.geom && box.env
	ORDER BY dist, f.code, f.level, f.id
	LIMIT $4`

// Nearest returns the k features of a layer nearest to p by geodesic
// distance in metres on the CGCS2000 ellipsoid (PostGIS ST_Distance on
// geography with use_spheroid, which takes edges as geodesics; 0 inside a
// polygon), nearest first, ties in grid-code order. It is ordered by that
// distance, not by the KNN operator: <-> on geometry only gathers
// candidates through the GiST index; see nearestSQL. k must be
// 1–spatial.MaxLimit.
func (s *Store) Nearest(ctx context.Context, layer string, p orb.Point, k int) ([]spatial.Neighbour, error) {
	if k <= 0 || k > spatial.MaxLimit {
		return nil, fmt.Errorf("pgstore: nearest: %w: k %d (want 1–%d)", spatial.ErrQuery, k, spatial.MaxLimit)
	}
	if err := spatial.CheckGeometry(p); err != nil {
		return nil, fmt.Errorf("pgstore: nearest: %w: %v", spatial.ErrQuery, err)
	}
	layerT, ok := keyText(layer)
	if !ok {
		return nil, ctx.Err()
	}
	rs, err := s.db.QueryContext(ctx, nearestSQL, layerT, p[0], p[1], k)
	if err != nil {
		return nil, fmt.Errorf("pgstore: nearest in %s: %w", layer, err)
	}
	defer rs.Close()
	var out []spatial.Neighbour
	for rs.Next() {
		var rec sql.RawBytes
		var d float64
		if err := rs.Scan(&rec, &d); err != nil {
			return nil, fmt.Errorf("pgstore: nearest in %s: %w", layer, err)
		}
		f, err := spatial.UnmarshalFeature(rec)
		if err != nil {
			return nil, fmt.Errorf("pgstore: nearest in %s: %w", layer, err)
		}
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		out = append(out, spatial.Neighbour{Feature: f, Distance: d})
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: nearest in %s: %w", layer, err)
	}
	return out, nil
}
