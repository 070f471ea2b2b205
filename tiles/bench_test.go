package tiles

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"citytwin/samples"
	"citytwin/spatial"

	"github.com/paulmach/orb/maptile"
)

var benchCity struct {
	once  sync.Once
	ix    *spatial.Index
	tiles [][]maptile.Tile // per zoom 12–17
	err   error
}

// sampleCity indexes the Dalian sample city (or, with
// CITYTWIN_BENCH_BUILDINGS=n, n synthetic buildings as "citytwin bench
// tiles --buildings n" makes) and picks up to 50 tiles per zoom 12–17
// under building centroids, as "citytwin bench tiles" does.
func sampleCity(b testing.TB) (*spatial.Index, [][]maptile.Tile) {
	benchCity.once.Do(func() {
		var feats []*spatial.Feature
		sink := func(f *spatial.Feature) error {
			feats = append(feats, f)
			return f.Prepare()
		}
		if n, _ := strconv.Atoi(os.Getenv("CITYTWIN_BENCH_BUILDINGS")); n > 0 {
			benchCity.err = samples.GenerateSynthetic(samples.SyntheticOptions{Buildings: n, Seed: 7}, sink)
		} else {
			benchCity.err = samples.Generate(samples.Options{Seed: 1}, sink)
		}
		if benchCity.err != nil {
			return
		}
		ix := spatial.NewIndex()
		ix.Apply(feats)
		var standing []*spatial.Feature
		for _, f := range feats {
			if f.Layer == samples.LayerBuildings && f.ValidTo.IsZero() {
				standing = append(standing, f)
			}
		}
		out := make([][]maptile.Tile, 6)
		seen := map[maptile.Tile]bool{}
		r := rand.New(rand.NewPCG(12, 17))
		for _, k := range r.Perm(len(standing)) {
			c := standing[k].Geometry.Bound().Center()
			for i := range out {
				t := maptile.At(c, maptile.Zoom(12+i))
				if len(out[i]) < 50 && !seen[t] {
					seen[t] = true
					out[i] = append(out[i], t)
				}
			}
		}
		benchCity.ix, benchCity.tiles = ix, out
	})
	if benchCity.err != nil {
		b.Fatal(benchCity.err)
	}
	return benchCity.ix, benchCity.tiles
}

// BenchmarkRender renders the buildings layer of the sample city's tiles,
// one zoom per sub-benchmark, cycling through up to 50 tiles.
func BenchmarkRender(b *testing.B) {
	ix, picked := sampleCity(b)
	g := NewGenerator(ix, DefaultOptions())
	layers := []string{samples.LayerBuildings}
	for i, ts := range picked {
		b.Run(fmt.Sprintf("z%d", 12+i), func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				t := ts[n%len(ts)]
				n++
				if _, _, err := g.Render(layers, int(t.Z), int(t.X), int(t.Y), time.Time{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
