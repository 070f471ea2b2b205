package pebblelog_test

import (
	"context"
	"testing"

	"citytwin/twin/live"
	"citytwin/twin/live/logtest"
	"citytwin/twin/live/pebblelog"
)

func open(t testing.TB, dir string) *pebblelog.Log {
	t.Helper()
	l, err := pebblelog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestConformance runs the live.Log suite on a log in a temporary
// directory.
func TestConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) live.Log { return open(t, t.TempDir()) })
}

// TestReopen checks that appended updates survive closing and reopening.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir)
	a := logtest.Obj("a", "v", 121.6, 38.9, logtest.Sec(1), `{"k":1}`)
	b := logtest.Tomb("b", "v", logtest.Sec(2))
	if err := l.Append(context.Background(), []*live.Object{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open(t, dir)
	defer l.Close()
	got := map[string]*live.Object{}
	if err := l.Latest(context.Background(), func(o *live.Object) error { got[o.ID] = o; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !logtest.Same(a, got["a"]) || !logtest.Same(b, got["b"]) {
		t.Errorf("after reopening: %d objects: %s, %s", len(got), logtest.Describe(got["a"]), logtest.Describe(got["b"]))
	}
}

// TestPrune runs logtest's Prune checks.
func TestPrune(t *testing.T) {
	logtest.RunPrune(t, open(t, t.TempDir()))
}

// BenchmarkAppend appends fsynced batches of 1,000 updates (1,000
// vehicles moving) and reports updates/s.
//
//	go test -run '^$' -bench Append ./twin/live/pebblelog/
func BenchmarkAppend(b *testing.B) {
	l := open(b, b.TempDir())
	defer l.Close()
	logtest.BenchAppend(b, l, 1000)
}
