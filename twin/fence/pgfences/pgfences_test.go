package pgfences

import (
	"context"
	"testing"
	"time"

	"citytwin/internal/pgtest"
	"citytwin/twin/fence"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestSaveWatchSync: two stores on one database, as two servers have; a
// fence saved through one reaches the other's engine through Watch and
// Sync, and so does its deletion.
func TestSaveWatchSync(t *testing.T) {
	url := pgtest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	eb := fence.New(nil)
	changed := make(chan struct{}, 16)
	if err := b.Watch(ctx, func() { changed <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	def := []byte(`{"id":"f1","geometry":{"type":"Polygon","coordinates":[[[121.6,38.9],[121.7,38.9],[121.7,39],[121.6,38.9]]]}}`)
	if err := a.SaveFence(ctx, "f1", def); err != nil {
		t.Fatal(err)
	}
	wait := func() {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(5 * time.Second):
			t.Fatal("no change notification")
		}
	}
	wait()
	if err := Sync(ctx, b, eb); err != nil {
		t.Fatal(err)
	}
	if _, ok := eb.Get("f1"); !ok {
		t.Fatal("f1 did not reach the other engine")
	}
	// A replaced definition replaces the fence.
	if err := a.SaveFence(ctx, "f1", []byte(`{"id":"f1","grid":"G001310322","layers":["buses"]}`)); err != nil {
		t.Fatal(err)
	}
	wait()
	if err := Sync(ctx, b, eb); err != nil {
		t.Fatal(err)
	}
	if d, _ := eb.Get("f1"); d.Grid == "" || len(d.Layers) != 1 {
		t.Errorf("f1 not replaced: %+v", d)
	}
	if err := a.DeleteFence(ctx, "f1"); err != nil {
		t.Fatal(err)
	}
	wait()
	if err := Sync(ctx, b, eb); err != nil {
		t.Fatal(err)
	}
	if eb.Len() != 0 {
		t.Errorf("%d fences left after delete", eb.Len())
	}
	// A bad stored definition is reported, the rest still load.
	if err := a.SaveFence(ctx, "bad", []byte(`{"id":"bad","radius":-1}`)); err != nil {
		t.Fatal(err)
	}
	if err := a.SaveFence(ctx, "ok", []byte(`{"id":"ok","grid":"G001310322"}`)); err != nil {
		t.Fatal(err)
	}
	if err := Sync(ctx, b, eb); err == nil {
		t.Error("bad definition not reported")
	}
	if _, ok := eb.Get("ok"); !ok {
		t.Error("good definition not loaded beside a bad one")
	}
}
