package geojson

import (
	"runtime"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
)

// TestConstantMemory streams a generated FeatureCollection of 300,000
// building polygons (over 200 MB) through Import without holding it
// anywhere, and checks that the heap stays small while the sink discards
// the features. With -short it streams a tenth as much.
func TestConstantMemory(t *testing.T) {
	n, minBytes := 300_000, int64(200e6)
	if testing.Short() {
		n, minBytes = 30_000, 20e6
	}
	const limit = 50 << 20       // bytes of heap in use
	gen := newBuildingGen(n, 18) // about 680 bytes a feature
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	sample()
	start := peak
	seen := 0
	st, err := Import(gen, importers.Options{File: "generated.geojson", Layer: "buildings"}, func(f *spatial.Feature) error {
		if seen++; seen%10_000 == 0 {
			sample()
		}
		if f.Floors == 0 || f.Height == 0 {
			t.Errorf("feature %s: floors %d height %v", f.ID, f.Floors, f.Height)
		}
		return nil
	})
	sample()
	if err != nil {
		t.Fatal(err)
	}
	if st.Features != int64(n) || st.Bytes != gen.bytes {
		t.Errorf("%+v, want %d features, %d bytes", st, n, gen.bytes)
	}
	if gen.bytes < minBytes {
		t.Errorf("generated only %d bytes, want at least %d", gen.bytes, minBytes)
	}
	t.Logf("%d features, %.1f MB streamed; heap in use: %.1f MB at start, peak %.1f MB", st.Features, float64(gen.bytes)/1e6, float64(start)/1e6, float64(peak)/1e6)
	if peak > limit {
		t.Errorf("peak heap in use %.1f MB, want under %d MB", float64(peak)/1e6, limit>>20)
	}
}
