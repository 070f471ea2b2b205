package spatial_test

import (
	"context"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/pebblestore"

	"github.com/paulmach/orb"
)

// TestRefreshAndResync: two kernels over one store stand for two servers
// sharing a database; writes through one reach the other's index through
// Refresh (id by id) and Resync (everything), with hooks called.
func TestRefreshAndResync(t *testing.T) {
	store, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	a, err := spatial.NewKernel(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := spatial.NewKernel(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []spatial.Change
	b.OnCommit(func(cs []spatial.Change) { seen = append(seen, cs...) })
	sq := func(x float64) *spatial.Feature {
		return &spatial.Feature{Layer: "l", ID: "f", Geometry: orb.Polygon{{{x, 38}, {x + 0.01, 38}, {x + 0.01, 38.01}, {x, 38}}}}
	}
	lonOf := func(k *spatial.Kernel) float64 {
		f, ok := k.Index().Get("l", "f")
		if !ok {
			return 0
		}
		return f.Geometry.Bound().Min[0]
	}
	if _, err := a.Put(ctx, []*spatial.Feature{sq(121)}); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, "l", []string{"f"}); err != nil {
		t.Fatal(err)
	}
	if lonOf(b) != 121 || len(seen) != 1 || seen[0].Kind != spatial.Insert {
		t.Fatalf("after refresh of an insert: lon %v, changes %+v", lonOf(b), seen)
	}
	before := time.Now()
	time.Sleep(2 * time.Millisecond)
	if _, err := a.Put(ctx, []*spatial.Feature{sq(122)}); err != nil { // an edit: history
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, "l", []string{"f"}); err != nil {
		t.Fatal(err)
	}
	if lonOf(b) != 122 || len(b.Index().Versions("l", "f")) != 2 {
		t.Fatalf("after refresh of an edit: lon %v, %d versions", lonOf(b), len(b.Index().Versions("l", "f")))
	}
	if f, ok := b.Index().GetAt("l", "f", before); !ok || f.Geometry.Bound().Min[0] != 121 {
		t.Errorf("b lost the history of the edit: %v %v", f, ok)
	}
	// Ended on a, resynced on b: history stays, the current version goes.
	if _, err := a.End(ctx, "l", []string{"f"}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Put(ctx, []*spatial.Feature{{Layer: "l", ID: "g", Geometry: orb.Point{121.5, 38.5}}}); err != nil {
		t.Fatal(err)
	}
	if err := b.Resync(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Index().Count("l", spatial.Query{}); n != 1 {
		t.Errorf("after resync: %d current features, want 1 (g)", n)
	}
	if len(b.Index().Versions("l", "f")) != 2 {
		t.Errorf("after resync f has %d versions", len(b.Index().Versions("l", "f")))
	}
	// Purged on a: gone from b after a refresh.
	if _, err := a.Delete(ctx, "l", []string{"f", "g"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Refresh(ctx, "l", []string{"f", "g"}); err != nil {
		t.Fatal(err)
	}
	if len(b.Index().Versions("l", "f")) != 0 {
		t.Error("f survived its purge on b")
	}
	if _, ok := b.Index().Get("l", "g"); ok {
		t.Error("g survived its purge on b")
	}
}

// TestPutUnchangedAddsNoHistory: writing a feature exactly as it is (a
// re-run import) makes no change and no past version.
func TestPutUnchangedAddsNoHistory(t *testing.T) {
	store, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	k, err := spatial.NewKernel(ctx, store, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := func(h float64) *spatial.Feature {
		return &spatial.Feature{Layer: "b", ID: "1", Height: h, Properties: map[string]any{"use": "office", "floors_above": 3},
			Geometry: orb.Polygon{{{121, 38}, {121.01, 38}, {121.01, 38.01}, {121, 38}}}}
	}
	if _, err := k.Put(ctx, []*spatial.Feature{f(10)}); err != nil {
		t.Fatal(err)
	}
	changes, err := k.Put(ctx, []*spatial.Feature{f(10)})
	if err != nil || len(changes) != 0 {
		t.Fatalf("unchanged put: %v changes, %v", changes, err)
	}
	if n := len(k.Index().Versions("b", "1")); n != 1 {
		t.Errorf("%d versions after an unchanged put, want 1", n)
	}
	if changes, _ := k.Put(ctx, []*spatial.Feature{f(12)}); len(changes) != 1 || len(k.Index().Versions("b", "1")) != 2 {
		t.Errorf("a real edit: %v changes, %d versions", changes, len(k.Index().Versions("b", "1")))
	}
}
