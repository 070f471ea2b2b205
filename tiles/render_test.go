package tiles

import (
	"bytes"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
)

// TestClipRingMatchesOrb checks the allocation-free ring clipper against
// orb/clip on random rings, convex and not.
func TestClipRingMatchesOrb(t *testing.T) {
	box := orb.Bound{Min: orb.Point{-64, -64}, Max: orb.Point{4160, 4160}}
	r := rand.New(rand.NewPCG(3, 4))
	var rs renderState
	for i := range 2000 {
		n := 3 + r.IntN(8)
		ring := make(orb.Ring, 0, n+1)
		cx, cy := r.Float64()*5000-400, r.Float64()*5000-400
		for k := range n {
			rad := 50 + r.Float64()*800
			if i%2 == 0 {
				rad = 600 // regular polygon: convex
			}
			a := 2 * math.Pi * float64(k) / float64(n)
			ring = append(ring, orb.Point{cx + rad*math.Cos(a), cy + rad*math.Sin(a)})
		}
		ring = append(ring, ring[0])
		in := slices.Clone(ring)
		got := rs.clipRing(box, in)
		want := clip.Ring(box, slices.Clone(ring))
		if !slices.Equal(got, want) || !slices.Equal(in, ring) {
			t.Fatalf("ring %v: clipRing %v, orb %v (input now %v)", ring, got, want, in)
		}
	}
}

// TestBridged checks the bridge detector on clipped rings.
func TestBridged(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{100, 100}}
	var rs renderState
	cases := []struct {
		name string
		ring orb.Ring
		want bool
	}{
		// A U whose arms leave the box: two pieces joined along y = 100.
		{"U", orb.Ring{{10, 50}, {30, 50}, {30, 150}, {70, 150}, {70, 50}, {90, 50}, {90, 200}, {10, 200}, {10, 50}}, true},
		// An L crossing one side in one piece.
		{"L", orb.Ring{{50, 50}, {150, 50}, {150, 70}, {70, 70}, {70, 90}, {50, 90}, {50, 50}}, false},
		// A square across a corner.
		{"square", orb.Ring{{50, 50}, {150, 50}, {150, 150}, {50, 150}, {50, 50}}, false},
		// A C whose notch reaches the side exactly: one piece.
		{"C", orb.Ring{{50, 10}, {150, 10}, {150, 40}, {100, 50}, {150, 60}, {150, 90}, {50, 90}, {50, 10}}, false},
		// An E whose three arms leave the box: three pieces.
		{"E", orb.Ring{{10, 10}, {150, 10}, {150, 20}, {60, 20}, {60, 45}, {150, 45}, {150, 55}, {60, 55}, {60, 80}, {150, 80}, {150, 90}, {10, 90}, {10, 10}}, false},
	}
	for _, c := range cases {
		r := rs.clipRing(box, c.ring)
		if got := rs.bridged(box, r); got != c.want {
			t.Errorf("%s: clipped to %v, bridged = %v, want %v", c.name, r, got, c.want)
		}
	}
}

// TestRenderIndependentOfHistory renders tiles in different orders and
// from several goroutines at once: the pooled scratch state must never
// show in the bytes.
func TestRenderIndependentOfHistory(t *testing.T) {
	ix := spatial.NewIndex()
	var fs []*spatial.Feature
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 400 {
		f := square("b"+string(rune('a'+i%26))+string(rune('a'+i/26)), 121.63+r.Float64()*0.02, 38.91+r.Float64()*0.01, 0.0001+r.Float64()*0.0004)
		switch i % 3 {
		case 0:
			f.Properties = map[string]any{"use": "office", "floors_above": int64(3)}
		case 1:
			f.Properties = map[string]any{"name": "x", "z": true, "a": uint64(7), "height": 99.0}
			f.Height = 0
		}
		fs = append(fs, f)
	}
	ix.Apply(fs)
	g := NewGenerator(ix, DefaultOptions())
	var tiles []maptile.Tile
	for z := maptile.Zoom(12); z <= 17; z++ {
		tiles = append(tiles, maptile.At(orb.Point{121.64, 38.915}, z))
	}
	render := func(tl maptile.Tile) []byte {
		b, _, err := g.Render([]string{"buildings"}, int(tl.Z), int(tl.X), int(tl.Y), time.Time{})
		if err != nil {
			t.Error(err)
		}
		return b
	}
	want := make([][]byte, len(tiles))
	for i, tl := range tiles {
		want[i] = render(tl)
		if _, err := mvt.Decode(want[i]); err != nil {
			t.Fatalf("%v: %v", tl, err)
		}
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				i := (k*7 + w*3) % len(tiles)
				if got := render(tiles[i]); !bytes.Equal(got, want[i]) {
					t.Errorf("tile %v differs on render %d of worker %d", tiles[i], k, w)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Attribute rules: a property named like a fixed attribute is used
	// only when the fixed one is not set; ints become int64.
	dec, err := mvt.Decode(want[len(want)-1])
	if err != nil || len(dec.Layers) != 1 {
		t.Fatal(err)
	}
	for _, f := range dec.Layers[0].Features {
		p := f.Properties
		switch {
		case p["name"] == "x":
			if p["height"] != 99.0 || p["z"] != true || p["a"] != uint64(7) || p["floors"] != int64(10) {
				t.Errorf("attributes %v", p)
			}
		case p["floors_above"] != nil:
			if p["height"] != 30.0 || p["floors_above"] != int64(3) || p["use"] != "office" || p["gridcode"] == nil {
				t.Errorf("attributes %v", p)
			}
		}
	}
}

func TestFeatureID(t *testing.T) {
	for id, want := range map[string]uint64{"7": 7, "0042": 42, "18446744073709551615": 18446744073709551615} {
		if got := FeatureID(id); got != want {
			t.Errorf("FeatureID(%q) = %d", id, got)
		}
	}
	// FNV-1a 64 of other ids, decimals beyond uint64 included.
	for _, id := range []string{"b-1", "", "+5", "1_000", "18446744073709551616", "syn-0000001"} {
		h := fnv.New64a()
		h.Write([]byte(id))
		if got := FeatureID(id); got != h.Sum64() {
			t.Errorf("FeatureID(%q) = %#x, want %#x", id, got, h.Sum64())
		}
	}
}

// TestProjector checks the polynomial projection around tiles at every
// zoom it is used at, out to where it hands over, against the Mercator
// ordinate asinh(tan φ). Every form, the closed one included, carries
// float64 rounding error that grows with the world coordinate the tile
// origin is subtracted from (2^z·4096) and with 1/cos φ: about 1e-6 tile
// units at z19 near 80°, 1e-9 at z12 at Dalian's latitude. The bound
// scales with 2^z, from 2e-5 at z22.
func TestProjector(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	worst := 0.0
	for z := polyMinZoom; z <= MaxZoom; z++ {
		for range 50 {
			lon, lat := r.Float64()*360-180, r.Float64()*160-80
			tile := maptile.At(orb.Point{lon, lat}, maptile.Zoom(z))
			pr := newProjector(tile)
			b := tile.Bound()
			for range 50 {
				p := orb.Point{b.Min[0] + (r.Float64()*3-1)*(b.Max[0]-b.Min[0]), b.Min[1] + (r.Float64()*4-1.5)*(b.Max[1]-b.Min[1])}
				got := pr.point(p)
				psi := math.Asinh(math.Tan(p[1] * math.Pi / 180))
				want := orb.Point{((p[0]+180)/360*pr.n - pr.ox) * Extent, ((0.5-psi/(2*math.Pi))*pr.n - pr.oy) * Extent}
				d := math.Max(math.Abs(got[0]-want[0]), math.Abs(got[1]-want[1]))
				worst = math.Max(worst, d)
				if d > 2e-5*math.Exp2(float64(z-MaxZoom)) {
					t.Fatalf("z%d %v: %v, closed form %v", z, p, got, want)
				}
			}
		}
	}
	t.Logf("largest difference %.3g tile units", worst)
}
