package pebblestore

import (
	"context"
	"errors"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/storetest"

	"github.com/cockroachdb/pebble"
)

// TestCheckHistory: Check accepts past versions and reports one stored
// under another version's key, as do Past and ScanPast.
func TestCheckHistory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs := storetest.DalianFeatures(50, "h", 0, 10)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	var past []*spatial.Feature
	for i, f := range fs[:5] {
		p := f.Clone()
		p.ValidFrom = time.Date(1990, 1, 1+i, 0, 0, 0, 0, time.UTC)
		p.ValidTo = time.Date(1991, 1, 1, 0, 0, 0, 0, time.UTC)
		past = append(past, p)
	}
	if err := s.PutVersions(ctx, spatial.Versions{Past: past, Ended: []spatial.FeatureRef{{Layer: "h", ID: fs[0].ID}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check of a store with history: %v", err)
	}
	if err := s.Delete(ctx, "h", []string{fs[1].ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check after a purge: %v", err)
	}
	// Put past[3]'s record under past[2]'s key.
	rec, err := spatial.MarshalFeature(past[3])
	if err != nil {
		t.Fatal(err)
	}
	if err := s.db.Set(pastKey("h", past[2].ID, past[2].ValidFrom), rec, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); !errors.Is(err, spatial.ErrCorrupt) {
		t.Errorf("Check of a misplaced past version: %v", err)
	}
	if _, err := s.Past(ctx, "h", past[2].ID); !errors.Is(err, spatial.ErrCorrupt) {
		t.Errorf("Past of a misplaced past version: %v", err)
	}
	if err := s.ScanPast(ctx, func(*spatial.Feature) error { return nil }); !errors.Is(err, spatial.ErrCorrupt) {
		t.Errorf("ScanPast over a misplaced past version: %v", err)
	}
}

func TestPastKeyOrder(t *testing.T) {
	t0 := time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)
	t1 := time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	keys := [][]byte{
		pastKey("a", "x", time.Time{}), pastKey("a", "x", t0), pastKey("a", "x", t1),
		pastKey("a", "x\x00", time.Time{}), pastKey("a", "xy", time.Time{}), pastKey("a\x00", "a", time.Time{}), pastKey("ab", "a", time.Time{}),
	}
	for i := 1; i < len(keys); i++ {
		if string(keys[i-1]) >= string(keys[i]) {
			t.Errorf("past key %d (%x) does not sort before %d (%x)", i-1, keys[i-1], i, keys[i])
		}
	}
	layer, id, from, err := splitPastKey(pastKey("l\x00", "i\x00d", t1))
	if err != nil || layer != "l\x00" || id != "i\x00d" || from != fromBytes(t1) {
		t.Errorf("splitPastKey: %q %q %d %v", layer, id, from, err)
	}
}
