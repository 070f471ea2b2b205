package mvt

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// benchTile returns one "buildings" layer of n polygons of 10 vertices each
// (irregular footprints on a grid over the 4096 extent), given in GeoJSON
// winding after a y-down projection (so every ring needs re-winding), with
// four properties each.
func benchTile(n int) Tile {
	rng := rand.New(rand.NewPCG(1, 2))
	side := int(math.Ceil(math.Sqrt(float64(n))))
	cell := 4096.0 / float64(side)
	classes := []string{"house", "apartments", "commercial", "industrial", "school"}
	fs := make([]Feature, n)
	for i := range fs {
		cx := (float64(i%side) + 0.5) * cell
		cy := (float64(i/side) + 0.5) * cell
		ring := make(orb.Ring, 0, 11)
		for k := range 10 {
			a := -2 * math.Pi * float64(k) / 10 // negative area in y-down space
			r := cell * (0.25 + 0.15*rng.Float64())
			ring = append(ring, orb.Point{math.Round(cx + r*math.Cos(a)), math.Round(cy + r*math.Sin(a))})
		}
		ring = append(ring, ring[0])
		fs[i] = Feature{
			ID: uint64(i + 1), HasID: true, Type: GeomPolygon, Geometry: orb.Polygon{ring},
			Properties: map[string]any{
				"height": math.Round(30*rng.Float64()*10) / 10,
				"levels": int64(1 + rng.IntN(12)),
				"class":  classes[rng.IntN(len(classes))],
				"name":   "b" + string(rune('A'+i%26)),
			},
		}
	}
	return Tile{Layers: []Layer{{Name: "buildings", Features: fs}}}
}

func TestBenchTileRoundTrip(t *testing.T) {
	tile := benchTile(2000)
	b := mustEncode(t, tile)
	back, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(back.Layers[0].Features); n != 2000 {
		t.Fatalf("%d features", n)
	}
	for _, f := range back.Layers[0].Features {
		checkWinding(t, f.Geometry)
		if len(f.Geometry.(orb.Polygon)[0]) != 11 {
			t.Fatalf("feature %d: %d vertices", f.ID, len(f.Geometry.(orb.Polygon)[0]))
		}
	}
	t.Logf("2000 buildings: %d bytes", len(b))
}

func BenchmarkEncode(b *testing.B) {
	tile := benchTile(2000)
	out := mustEncode(b, tile)
	b.SetBytes(int64(len(out)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(tile); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	data := mustEncode(b, benchTile(2000))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
