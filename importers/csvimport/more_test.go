package csvimport

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// TestDalianAdminCodes imports the team's admin-code list, which has no
// geometry: the error must say so and name the file and header.
func TestDalianAdminCodes(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "dalian", "dalian_admin_codes.csv")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("reference data not present (needs the shared data beside the project): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = Import(f, importers.Options{File: "dalian_admin_codes.csv", Layer: "admin"}, func(*spatial.Feature) error { return nil })
	var e *importers.Error
	want := `dalian_admin_codes.csv:1:1: no geometry columns in the header ["adcode" "name_zh" "name_en" "level" "parent_adcode" "note"]`
	if !errors.As(err, &e) || !errors.Is(err, importers.ErrFormat) || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error %v\nwant %s…", err, want)
	}
}

// TestConstantMemory streams 200,000 generated WKT rows (about 80 MB)
// without holding them and checks the heap stays small.
func TestConstantMemory(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	gen := newRowGen(n, 12)
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	seen := 0
	st, err := Import(gen, importers.Options{File: "gen.csv", Layer: "b"}, func(f *spatial.Feature) error {
		if seen++; seen%10_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		if f.Floors == 0 || len(f.Geometry.(orb.Polygon)[0]) != 13 {
			t.Fatalf("feature %s: %+v", f.ID, f)
		}
		return nil
	})
	if err != nil || st.Features != int64(n) || st.WKT != "wkt" || st.ID != "id" {
		t.Fatalf("%+v, %v", st, err)
	}
	t.Logf("%d rows, %.1f MB; peak heap in use %.1f MB", n, float64(gen.bytes)/1e6, float64(peak)/1e6)
	if peak > 32<<20 {
		t.Errorf("peak heap in use %.1f MB, want under 32 MB", float64(peak)/1e6)
	}
}
