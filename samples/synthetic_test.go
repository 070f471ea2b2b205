package samples

import (
	"crypto/sha256"
	"encoding/hex"
	"runtime"
	"testing"
	"time"

	"citytwin/spatial"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

func TestSyntheticExactCountsAndDeterminism(t *testing.T) {
	for _, n := range []int{1, 7, 1000} {
		got := 0
		if err := GenerateSynthetic(SyntheticOptions{Buildings: n, Seed: 5}, func(*spatial.Feature) error { got++; return nil }); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("asked for %d, got %d", n, got)
		}
	}
	run := func(seed uint64) string {
		h := sha256.New()
		if err := GenerateSynthetic(SyntheticOptions{Buildings: 20000, Seed: seed}, func(f *spatial.Feature) error { hashFeature(h, f); return nil }); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	a, b, c := run(11), run(11), run(12)
	if a != b || a == c {
		t.Errorf("seed 11: %s, %s; seed 12: %s", a, b, c)
	}
}

func TestSyntheticOnLandApartAndSpread(t *testing.T) {
	parts, err := loadLand(fileLandOSM)
	if err != nil {
		t.Fatal(err)
	}
	var land []orb.Polygon
	for _, p := range parts {
		land = append(land, p.poly)
	}
	var fs []*spatial.Feature
	if err := GenerateSynthetic(SyntheticOptions{Buildings: 20000, Seed: 9}, func(f *spatial.Feature) error { fs = append(fs, f); return nil }); err != nil {
		t.Fatal(err)
	}
	var tr rtree.RTreeG[*spatial.Feature]
	var west, east int
	for k, f := range fs {
		r := f.Geometry.(orb.Polygon)[0]
		if k%20 == 0 {
			// Check a sample against the real polygons, independently of
			// the generator's grid index.
			for _, p := range r[:4] {
				if !polygonsContain(land, p) {
					t.Fatalf("%s: corner %v is not on land", f.ID, p)
				}
			}
		}
		b := f.Geometry.Bound()
		tr.Insert(b.Min, b.Max, f)
		if b.Center()[0] < 122.2 {
			west++
		} else {
			east++
		}
		if f.ValidFrom.After(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("%s built in the future", f.ID)
		}
	}
	for _, f := range fs {
		b := f.Geometry.Bound()
		tr.Search(b.Min, b.Max, func(_, _ [2]float64, o *spatial.Feature) bool {
			if o.ID > f.ID && polygonsOverlap(f.Geometry.(orb.Polygon)[0], o.Geometry.(orb.Polygon)[0]) {
				t.Fatalf("%s and %s overlap", f.ID, o.ID)
			}
			return true
		})
	}
	if west < 2000 || east < 2000 {
		t.Errorf("not spread over the land: %d west of 122.2°E, %d east", west, east)
	}
}

func TestSyntheticConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 300,000 buildings")
	}
	var peak uint64
	var ms runtime.MemStats
	n := 0
	err := GenerateSynthetic(SyntheticOptions{Buildings: 300_000, Seed: 2}, func(*spatial.Feature) error {
		n++
		if n%20_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 300,000 buildings held at once would take well over 200 MB.
	if peak > 64<<20 {
		t.Errorf("heap reached %d MB while streaming", peak>>20)
	}
	t.Logf("peak heap %d MB", peak>>20)
}
