package pebblelog

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"citytwin/twin/live"

	"github.com/paulmach/orb"
)

// TestSnapshot: a clean shutdown's snapshot gives the same Latest as a
// scan; an append after reopening drops it (durably), so a crash later
// cannot bring back a stale state; a damaged snapshot is ignored.
func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() (*Log, *live.Twin) {
		t.Helper()
		l, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		tw, err := live.New(ctx, l, nil)
		if err != nil {
			t.Fatal(err)
		}
		return l, tw
	}
	var p live.Parser
	put := func(tw *live.Twin, body string) {
		t.Helper()
		objs, rej, err := p.Parse([]byte(body), time.Now())
		if err != nil || len(rej) > 0 {
			t.Fatal(err, rej)
		}
		if _, err := tw.Ingest(ctx, objs, nil); err != nil {
			t.Fatal(err)
		}
	}
	state := func(tw *live.Twin) string {
		var out []string
		tw.Search(nil, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, func(o *live.Object) bool {
			out = append(out, string(o.AppendJSON(nil)))
			return true
		})
		sort.Strings(out)
		return strings.Join(out, "\n")
	}
	l, tw := open()
	put(tw, `[{"id":"a","layer":"v","lon":121.6,"lat":38.9,"time":"2026-11-30T01:00:00Z","state":{"k":1}},{"id":"b","layer":"w","lon":121.7,"lat":38.9,"time":"2026-11-30T01:00:00Z"},{"id":"c","layer":"v","lon":1,"lat":2,"time":"2026-11-30T01:00:00Z"}]`)
	if err := tw.Remove(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	want := state(tw)
	if err := tw.SaveLatest(ctx); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := os.Stat(filepath.Join(dir, snapshotName)); err != nil {
		t.Fatal("no snapshot after a clean shutdown")
	}
	l, tw = open()
	if got := state(tw); got != want {
		t.Fatalf("from the snapshot:\n%s\nwant\n%s", got, want)
	}
	// The removal survived: a late update older than it stays out.
	if res, _ := tw.Ingest(ctx, mustParse(t, &p, `{"id":"c","layer":"v","lon":1,"lat":2,"time":"2026-11-30T01:00:00Z"}`), nil); res.Applied != 0 {
		t.Error("c came back from the snapshot")
	}
	if _, err := os.Stat(filepath.Join(dir, snapshotName)); !os.IsNotExist(err) {
		t.Fatal("the snapshot outlived an append")
	}
	put(tw, `{"id":"a","layer":"v","lon":121.65,"lat":38.9,"time":"2026-11-30T02:00:00Z"}`)
	want = state(tw)
	l.Close() // no SaveLatest: as after a crash
	l, tw = open()
	if got := state(tw); got != want {
		t.Fatalf("after a restart without snapshot:\n%s\nwant\n%s", got, want)
	}
	// A damaged snapshot is ignored (the scan answers).
	if err := tw.SaveLatest(ctx); err != nil {
		t.Fatal(err)
	}
	l.Close()
	path := filepath.Join(dir, snapshotName)
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	l, tw = open()
	defer l.Close()
	if got := state(tw); got != want {
		t.Fatalf("with a damaged snapshot:\n%s\nwant\n%s", got, want)
	}
}

func mustParse(t *testing.T, p *live.Parser, body string) []*live.Object {
	t.Helper()
	objs, rej, err := p.Parse([]byte(body), time.Now())
	if err != nil || len(rej) > 0 {
		t.Fatal(err, rej)
	}
	return objs
}
