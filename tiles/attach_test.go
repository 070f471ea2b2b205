package tiles_test

import (
	"context"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/pebblestore"
	"citytwin/tiles"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestEditInvalidatesBeforeTheWriteReturns: once Put returns, the next
// request for an affected tile renders afresh, with no window in which
// the cache serves the old tile.
func TestEditInvalidatesBeforeTheWriteReturns(t *testing.T) {
	ctx := context.Background()
	st, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := spatial.NewKernel(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := tiles.NewCache(100)
	if err != nil {
		t.Fatal(err)
	}
	cache.Attach(k)
	gen := tiles.NewGenerator(k.Index(), tiles.DefaultOptions())
	tile := maptile.At(orb.Point{121.6408, 38.91551}, 16)
	key := tiles.Key{Layers: "buildings", Z: 16, X: int(tile.X), Y: int(tile.Y)}
	render := func() int {
		if e, ok := cache.Get(key); ok {
			d, _ := mvt.Decode(e.Data)
			return len(d.Layers[0].Features)
		}
		data, s, err := gen.Render([]string{"buildings"}, 16, int(tile.X), int(tile.Y), time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		cache.Put(key, data, s)
		return s.Features
	}
	c := tile.Center()
	for i := 0; i < 20; i++ {
		x, y := c[0]-0.001+float64(i)*0.0001, c[1]
		f := &spatial.Feature{Layer: "buildings", ID: "b" + string(rune('a'+i)),
			Geometry: orb.Polygon{{{x, y}, {x + 0.00003, y}, {x + 0.00003, y + 0.00003}, {x, y + 0.00003}, {x, y}}}}
		if _, err := k.Put(ctx, []*spatial.Feature{f}); err != nil {
			t.Fatal(err)
		}
		if n := render(); n != i+1 {
			t.Fatalf("after write %d the tile shows %d buildings", i+1, n)
		}
	}
	if _, err := k.Delete(ctx, "buildings", []string{"ba"}); err != nil {
		t.Fatal(err)
	}
	if n := render(); n != 19 {
		t.Fatalf("after a delete the tile shows %d buildings", n)
	}
}
