package spatial_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/pebblestore"
	"citytwin/spatial/storetest"

	"github.com/paulmach/orb"
)

func openKernel(t *testing.T, dir string) (*spatial.Kernel, spatial.Store) {
	t.Helper()
	st, err := pebblestore.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k, err := spatial.NewKernel(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k, st
}

func TestKernelWritesThroughAndReloads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k, st := openKernel(t, dir)
	sub := k.Subscribe(100)
	fs := storetest.DalianFeatures(1, "buildings", 0, 50)
	changes, err := k.Put(ctx, fs)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 50 {
		t.Fatalf("%d changes", len(changes))
	}
	for i := 1; i < len(changes); i++ {
		if changes[i].Version <= changes[i-1].Version {
			t.Fatalf("versions not increasing: %d then %d", changes[i-1].Version, changes[i].Version)
		}
	}
	// The kernel keeps its own copies: changing the caller's feature
	// changes nothing stored or indexed.
	fs[0].Properties = map[string]any{"tampered": true}
	got, _ := k.Index().Get("buildings", fs[0].ID)
	if got.Properties["tampered"] != nil {
		t.Errorf("index aliased the caller's feature")
	}
	// A batch with one invalid feature writes nothing.
	bad := []*spatial.Feature{storetest.DalianFeature(1, "buildings", 99), {Layer: "buildings", ID: "broken", Geometry: orb.LineString{{1, 1}}}}
	if _, err := k.Put(ctx, bad); !errors.Is(err, spatial.ErrInvalid) {
		t.Fatalf("invalid batch: %v", err)
	}
	if _, ok := k.Index().Get("buildings", bad[0].ID); ok {
		t.Errorf("half of an invalid batch was indexed")
	}
	if _, err := st.Get(ctx, "buildings", bad[0].ID); !errors.Is(err, spatial.ErrNotFound) {
		t.Errorf("half of an invalid batch was stored: %v", err)
	}
	if _, err := k.Delete(ctx, "buildings", []string{fs[1].ID}); err != nil {
		t.Fatal(err)
	}
	kinds := map[spatial.ChangeKind]int{}
	for i := 0; i < 51; i++ {
		select {
		case c := <-sub.C:
			kinds[c.Kind]++
		case <-time.After(time.Second):
			t.Fatalf("feed delivered %v", kinds)
		}
	}
	if kinds[spatial.Insert] != 50 || kinds[spatial.Delete] != 1 {
		t.Errorf("feed kinds %v", kinds)
	}
	v := k.Version() // the delete's version, which no stored feature carries
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	k2, st2 := openKernel(t, dir)
	defer st2.Close()
	if n := k2.Index().Layers()[0].Count; n != 49 {
		t.Errorf("reloaded %d features, want 49", n)
	}
	if k2.Version() == 0 || k2.Version() >= v {
		t.Errorf("version after reload %d (the delete was %d)", k2.Version(), v)
	}
	ch, err := k2.Put(ctx, []*spatial.Feature{storetest.DalianFeature(1, "buildings", 200)})
	if err != nil {
		t.Fatal(err)
	}
	if ch[0].Version <= v {
		t.Errorf("a write after restart got version %d, not above the delete's %d", ch[0].Version, v)
	}
}
