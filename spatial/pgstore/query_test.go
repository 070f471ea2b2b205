package pgstore

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

func TestBBoxMatchesBruteForce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := append(mixed(30, "q", 1500), buildings(31, "q", 0, 1500, 0.3)...)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 40; i++ {
		w := math.Pow(10, -4+rng.Float64()*3.5)
		x := dalianLon + (rng.Float64()-0.5)*0.4
		y := dalianLat + (rng.Float64()-0.5)*0.4
		b := orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + w*0.8}}
		var want []*spatial.Feature
		for _, f := range fs {
			if spatial.Intersects(f.Geometry, b) {
				want = append(want, f)
			}
		}
		sortByCode(want)
		got, err := s.BBox(ctx, "q", b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("box %v: %d features, want %d", b, len(got), len(want))
		}
		for j := range want {
			if got[j].ID != want[j].ID {
				t.Fatalf("box %v position %d: %s, want %s", b, j, got[j].ID, want[j].ID)
			}
		}
		if len(want) > 3 {
			got, err := s.BBox(ctx, "q", b, 3)
			if err != nil || len(got) != 3 || got[2].ID != want[2].ID {
				t.Fatalf("limit 3: %d features, %v", len(got), err)
			}
		}
	}
	if _, err := s.BBox(ctx, "q", orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{0, 0}}, 0); !errors.Is(err, spatial.ErrQuery) {
		t.Fatalf("inverted box: %v", err)
	}
	if got, err := s.BBox(ctx, "nope", orb.Bound{Max: orb.Point{180, 90}}, 0); err != nil || len(got) != 0 {
		t.Fatalf("missing layer: %v %v", got, err)
	}
}

func TestNearestMatchesBruteForce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := append(mixed(32, "k", 1000), buildings(33, "k", 0, 1000, 0.3)...)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 30; i++ {
		p := orb.Point{dalianLon + (rng.Float64()-0.5)*0.5, dalianLat + (rng.Float64()-0.5)*0.5}
		k := []int{1, 5, 20}[i%3]
		type cand struct {
			id string
			d  float64
		}
		all := make([]cand, len(fs))
		for j, f := range fs {
			d, _ := spatial.DistanceTo(p, f.Geometry)
			all[j] = cand{f.ID, d}
		}
		sort.Slice(all, func(a, b int) bool { return all[a].d < all[b].d })
		got, err := s.Nearest(ctx, "k", p, k)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != k {
			t.Fatalf("%d results, want %d", len(got), k)
		}
		dist := map[string]float64{}
		for _, c := range all {
			dist[c.id] = c.d
		}
		for j, n := range got {
			// To a point, PostGIS's spheroid distance and spatial's
			// Vincenty agree to well under a millimetre per kilometre. To
			// a line or polygon they differ by up to decimetres: PostGIS
			// takes edges as geodesics, spatial as straight lines in
			// longitude/latitude.
			tol := 1e-3 + 1e-6*n.Distance
			if _, isPoint := n.Feature.Geometry.(orb.Point); !isPoint {
				tol = 0.5 + 1e-4*n.Distance
			}
			if math.Abs(dist[n.Feature.ID]-n.Distance) > tol {
				t.Errorf("%s (%T): PostGIS %v m, spatial %v m", n.Feature.ID, n.Feature.Geometry, n.Distance, dist[n.Feature.ID])
			}
			if math.Abs(all[j].d-n.Distance) > 0.5+1e-4*n.Distance {
				t.Errorf("rank %d: PostGIS %v m, brute force %v m", j, n.Distance, all[j].d)
			}
			if j > 0 && n.Distance < got[j-1].Distance {
				t.Errorf("rank %d out of order", j)
			}
		}
	}
	// Inside a polygon the distance is 0.
	b := fs[1500]
	c := b.Geometry.Bound().Center()
	got, err := s.Nearest(ctx, "k", c, 1)
	if err != nil || len(got) != 1 || got[0].Distance != 0 {
		t.Fatalf("nearest to a building's centre: %+v %v", got, err)
	}
	for _, k := range []int{0, -1, spatial.MaxLimit + 1} {
		if _, err := s.Nearest(ctx, "k", c, k); !errors.Is(err, spatial.ErrQuery) {
			t.Errorf("k=%d: %v", k, err)
		}
	}
	if got, err := s.Nearest(ctx, "none", c, 3); err != nil || len(got) != 0 {
		t.Errorf("empty layer: %v %v", got, err)
	}

	// Across ±180° and over a pole the nearest is on the other side.
	far := prepared(t,
		&spatial.Feature{Layer: "w", ID: "east", Geometry: orb.Point{179.5, 10}},
		&spatial.Feature{Layer: "w", ID: "west", Geometry: orb.Point{-179.99, 10}},
		&spatial.Feature{Layer: "w", ID: "south", Geometry: orb.Point{0, 89.8}},
		&spatial.Feature{Layer: "w", ID: "over", Geometry: orb.Point{180, 89.95}},
	)
	if err := s.Put(ctx, far); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		p    orb.Point
		want string
	}{{orb.Point{179.99, 10}, "west"}, {orb.Point{0, 89.95}, "over"}} {
		got, err := s.Nearest(ctx, "w", tc.p, 1)
		if err != nil || len(got) != 1 || got[0].Feature.ID != tc.want {
			t.Errorf("nearest to %v: %+v %v, want %s", tc.p, got, err, tc.want)
		}
	}
}

// TestQueriesUseIndexes checks the plans: BBox and Nearest on the GiST
// index of geom, ScanCell on the code index.
func TestQueriesUseIndexes(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.Put(ctx, buildings(34, "i", 0, 5000, 0.3)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`ANALYZE features`); err != nil {
		t.Fatal(err)
	}
	plan := func(q string, args ...any) string {
		rs, err := s.DB().QueryContext(ctx, "EXPLAIN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out string
		for rs.Next() {
			var line string
			if err := rs.Scan(&line); err != nil {
				t.Fatal(err)
			}
			out += line + "\n"
		}
		return out
	}
	for _, tc := range []struct {
		name, index, query string
		args               []any
	}{
		{"bbox", "features_geom_idx", `SELECT record FROM features
			WHERE layer = $1 AND ST_Intersects(geom, ST_MakeEnvelope($2, $3, $4, $5, 4490))
			ORDER BY code, level, id LIMIT $6`, []any{"i", 121.6, 38.9, 121.606, 38.9045, nil}},
		{"nearest", "features_geom_idx", nearestSQL, []any{"i", 121.6, 38.9, 10}},
		{"cell", "features_code_idx", `SELECT record FROM features WHERE layer = $1 AND code BETWEEN $2 AND $3 AND level >= $4
			ORDER BY code, level, id`, []any{"i", int64(0), int64(1 << 40), 15}},
	} {
		p := plan(tc.query, tc.args...)
		if !strings.Contains(p, tc.index) || strings.Contains(p, "Seq Scan") {
			t.Errorf("%s does not use %s:\n%s", tc.name, tc.index, p)
		}
	}
}
