// Package logtest is the conformance suite for live.Log implementations.
// An implementation's tests call Run with a function that opens a fresh,
// empty log private to the calling test:
//
//	func TestConformance(t *testing.T) {
//		logtest.Run(t, func(t *testing.T) live.Log {
//			l, err := pebblelog.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return l
//		})
//	}
//
// The suite closes every log it is given (the Close subtest checks that
// calls fail afterwards); open registers any other cleanup (directories,
// databases) with t.Cleanup.
//
// The suite checks, per the live.Log contract: Latest gives each object's
// newest state by source time whatever the append order, tombstones
// included; appending the same id and time again (in a later batch or in
// the same one) replaces the state instead of adding one; History is
// inclusive at both ends, oldest first, cut to the earliest limit states,
// and never mixes objects whose ids are prefixes of each other; AsOf gives
// each object's newest state with Time in (at−window, at] (a tombstone
// included, since the twin filters it) and nothing for objects silent
// longer or with no state at or before at; every field round-trips exactly
// (layer, lon/lat/height to the bit, heading and speed reported or NaN,
// Time, Recv, the state's exact bytes, Gone, the grid code); ids with
// quotes, spaces, '%', '_', '/', backslashes, emoji and other non-ASCII
// characters; a 10,000-update batch and a state of live.MaxStateLen bytes;
// no aliasing between the caller's objects and stored ones; concurrent
// Appends from several goroutines; callback errors end scans and are
// returned; a done context fails every call (before and during scans, on
// large and on small logs) and a canceled Append stores nothing; after
// Close every call fails.
//
// RunPrune checks a log's Prune (not part of live.Log) and BenchAppend is
// the Append benchmark every implementation runs, so their figures compare.
package logtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/twin/live"
)

// Run runs the conformance suite as subtests of t. open returns a new,
// empty log private to the calling (sub)test; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) live.Log) {
	if open == nil {
		t.Fatal("logtest: open is nil")
	}
	tests := []struct {
		name string
		fn   func(*harness)
	}{
		{"Empty", testEmpty},
		{"LatestNewest", testLatestNewest},
		{"Replay", testReplay},
		{"History", testHistory},
		{"AsOf", testAsOf},
		{"RoundTrip", testRoundTrip},
		{"OddIDs", testOddIDs},
		{"LargeBatch", testLargeBatch},
		{"NoAliasing", testNoAliasing},
		{"Concurrent", testConcurrent},
		{"CallbackError", testCallbackError},
		{"Context", testContext},
		{"ContextSmallLog", testContextSmallLog},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newHarness(t, open))
		})
	}
}

// Base is the source time the suite's updates are relative to.
var Base = time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)

// base is Base in Unix microseconds.
var base = Base.UnixMicro()

// now is the server clock objects are Prepared with: a day after Base, so
// that every update of the suite is in the past.
var now = Base.Add(24 * time.Hour)

// Sec returns Base plus s seconds in Unix microseconds.
func Sec(s float64) int64 { return base + int64(math.Round(s*1e6)) }

// harness holds the log under test and helpers that fail the test on
// error.
type harness struct {
	t      *testing.T
	ctx    context.Context
	l      live.Log
	closed bool
}

func newHarness(t *testing.T, open func(*testing.T) live.Log) *harness {
	l := open(t)
	if l == nil {
		t.Fatal("logtest: open returned a nil log")
	}
	h := &harness{t: t, ctx: context.Background(), l: l}
	t.Cleanup(func() {
		if !h.closed {
			if err := h.l.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return h
}

// Obj returns a Prepared update of an object at a source time (Unix
// microseconds) with heading and speed not reported; state is compact
// JSON or "" for none.
func Obj(id, layer string, lon, lat float64, tm int64, state string) *live.Object {
	o := &live.Object{ID: id, Layer: layer, Lon: lon, Lat: lat, Time: tm,
		Heading: float32(math.NaN()), Speed: float32(math.NaN())}
	if state != "" {
		o.State = []byte(state)
	}
	if err := o.Prepare(now); err != nil {
		panic(fmt.Sprintf("logtest: %v", err))
	}
	return o
}

// Tomb returns a tombstone of the object at a source time.
func Tomb(id, layer string, tm int64) *live.Object {
	o := Obj(id, layer, 121.6, 38.9, tm, "")
	o.Gone = true
	return o
}

func (h *harness) append(objs ...*live.Object) {
	h.t.Helper()
	if err := h.l.Append(h.ctx, objs); err != nil {
		h.t.Fatalf("Append(%d updates): %v", len(objs), err)
	}
}

// latest returns Latest's objects by id, failing on an id seen twice.
func (h *harness) latest() map[string]*live.Object {
	h.t.Helper()
	out := map[string]*live.Object{}
	err := h.l.Latest(h.ctx, func(o *live.Object) error {
		if out[o.ID] != nil {
			h.t.Errorf("Latest: object %q delivered twice", o.ID)
		}
		out[o.ID] = o
		return nil
	})
	if err != nil {
		h.t.Fatalf("Latest: %v", err)
	}
	return out
}

func (h *harness) history(id string, from, to int64, limit int) []*live.Object {
	h.t.Helper()
	objs, err := h.l.History(h.ctx, id, from, to, limit)
	if err != nil {
		h.t.Fatalf("History(%q, %d, %d, %d): %v", id, from, to, limit, err)
	}
	for i, o := range objs {
		if o == nil {
			h.t.Fatalf("History(%q): nil object at %d", id, i)
		}
		if o.ID != id {
			h.t.Errorf("History(%q): got object %q", id, o.ID)
		}
	}
	return objs
}

// asOf returns AsOf's objects by id, failing on an id seen twice.
func (h *harness) asOf(at, window int64) map[string]*live.Object {
	h.t.Helper()
	out := map[string]*live.Object{}
	err := h.l.AsOf(h.ctx, at, window, func(o *live.Object) error {
		if out[o.ID] != nil {
			h.t.Errorf("AsOf: object %q delivered twice", o.ID)
		}
		out[o.ID] = o
		return nil
	})
	if err != nil {
		h.t.Fatalf("AsOf(%d, %d): %v", at, window, err)
	}
	return out
}

// Describe renders an object as its JSON plus the fields JSON leaves out
// (Recv, the full grid code), for comparisons and messages.
func Describe(o *live.Object) string {
	if o == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s recv=%d code=%d/%d", o.AppendJSON(nil), o.Recv, o.Code.Bits(), o.Code.Level())
}

// Same reports whether two states are identical in every stored field.
func Same(a, b *live.Object) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.AppendJSON(nil), b.AppendJSON(nil)) && a.Recv == b.Recv && a.Gone == b.Gone &&
		a.Code == b.Code && math.Float64bits(a.Lon) == math.Float64bits(b.Lon) &&
		math.Float64bits(a.Lat) == math.Float64bits(b.Lat) && a.Height == b.Height
}

// same fails h's test unless got is want in every stored field.
func (h *harness) same(what string, want, got *live.Object) {
	h.t.Helper()
	if !Same(want, got) {
		h.t.Errorf("%s:\n got  %s\n want %s", what, Describe(got), Describe(want))
	}
}

// sameSet checks that got holds exactly want's objects (by id).
func (h *harness) sameSet(what string, want []*live.Object, got map[string]*live.Object) {
	h.t.Helper()
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.ID] = true
		if g, ok := got[w.ID]; !ok {
			h.t.Errorf("%s: object %q missing, want %s", what, w.ID, Describe(w))
		} else {
			h.same(fmt.Sprintf("%s: object %q", what, w.ID), w, g)
		}
	}
	var extra []string
	for id := range got {
		if !seen[id] {
			extra = append(extra, fmt.Sprintf("%q", id))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		h.t.Errorf("%s: unexpected objects %s", what, strings.Join(extra, ", "))
	}
}

func testEmpty(h *harness) {
	if err := h.l.Append(h.ctx, nil); err != nil {
		h.t.Fatalf("Append(nil): %v", err)
	}
	if got := h.latest(); len(got) != 0 {
		h.t.Errorf("Latest of an empty log: %d objects", len(got))
	}
	if got := h.history("a", 0, math.MaxInt64, 10); len(got) != 0 {
		h.t.Errorf("History of an empty log: %d states", len(got))
	}
	if got := h.asOf(Sec(0), int64(time.Hour/time.Microsecond)); len(got) != 0 {
		h.t.Errorf("AsOf of an empty log: %d objects", len(got))
	}
}

// testLatestNewest: Latest gives the newest state by source time, not by
// append order, tombstones included, each object once.
func testLatestNewest(h *harness) {
	a1 := Obj("a", "vehicles", 121.60, 38.90, Sec(10), `{"route":"23"}`)
	a2 := Obj("a", "vehicles", 121.61, 38.91, Sec(20), `{"route":"23"}`)
	a3 := Obj("a", "vehicles", 121.62, 38.92, Sec(30), "")
	b1 := Obj("b", "phones", 121.70, 38.95, Sec(5), `{"officer":"o7"}`)
	c1 := Obj("c", "vehicles", 121.50, 38.80, Sec(10), "")
	c2 := Tomb("c", "vehicles", Sec(40))
	d1 := Tomb("d", "vehicles", Sec(50))
	d0 := Obj("d", "vehicles", 121.50, 38.80, Sec(45), "")
	e1 := Obj("e", "vehicles", 121.50, 38.80, Sec(1), "")
	e2 := Obj("e", "buses", 121.51, 38.81, Sec(2), "")
	// Out of order within a batch and across batches.
	h.append(a2, b1, a3, c1, e2)
	h.append(a1, c2, d1, e1)
	h.append(d0) // older than d's tombstone, appended after it
	h.sameSet("Latest", []*live.Object{a3, b1, c2, d1, e2}, h.latest())

	// A newer state after a tombstone brings the object back.
	c3 := Obj("c", "vehicles", 121.52, 38.82, Sec(60), `{"back":true}`)
	h.append(c3)
	h.sameSet("Latest after c came back", []*live.Object{a3, b1, c3, d1, e2}, h.latest())
}

// testReplay: the same id and time again replaces the state.
func testReplay(h *harness) {
	a := Obj("a", "vehicles", 121.60, 38.90, Sec(10), `{"v":1}`)
	b := Obj("b", "vehicles", 121.60, 38.90, Sec(10), `{"v":1}`)
	h.append(a, b)
	h.append(a, b) // identical replay
	if got := h.history("a", 0, math.MaxInt64, 100); len(got) != 1 {
		h.t.Fatalf("after an identical replay: %d states, want 1", len(got))
	}
	// A replay with other contents replaces the stored state.
	a2 := Obj("a", "buses", 121.65, 38.95, Sec(10), `{"v":2}`)
	a2.Heading, a2.Speed, a2.Recv = 90, 3.5, a.Recv+1000
	h.append(a2)
	got := h.history("a", 0, math.MaxInt64, 100)
	if len(got) != 1 {
		h.t.Fatalf("after a replay with other contents: %d states, want 1", len(got))
	}
	h.same("replaced state", a2, got[0])
	h.sameSet("Latest after replay", []*live.Object{a2, b}, h.latest())

	// Within one batch the later update of an (id, time) wins.
	x1 := Obj("b", "vehicles", 121.61, 38.91, Sec(20), `{"v":"first"}`)
	x2 := Obj("b", "vehicles", 121.62, 38.92, Sec(20), `{"v":"second"}`)
	y := Obj("b", "vehicles", 121.63, 38.93, Sec(15), "")
	h.append(x1, y, x2)
	got = h.history("b", 0, math.MaxInt64, 100)
	if len(got) != 3 {
		h.t.Fatalf("b after a batch naming (b, 20 s) twice: %d states, want 3", len(got))
	}
	h.same("b at 20 s", x2, got[2])
	h.sameSet("Latest after in-batch duplicate", []*live.Object{a2, x2}, h.latest())

	// A tombstone replayed over a state replaces it, and back.
	tb := Tomb("b", "vehicles", Sec(20))
	h.append(tb)
	h.sameSet("Latest after tombstone replay", []*live.Object{a2, tb}, h.latest())
	h.append(x2)
	h.sameSet("Latest after state replay", []*live.Object{a2, x2}, h.latest())
}

// testHistory: inclusive range, oldest first, earliest limit states, no
// other objects' states.
func testHistory(h *harness) {
	var all []*live.Object
	var batch []*live.Object
	for s := 19; s >= 0; s-- { // appended newest first
		o := Obj("h", "vehicles", 121.6+float64(s)/1000, 38.9, Sec(float64(s)), fmt.Sprintf(`{"s":%d}`, s))
		all = append([]*live.Object{o}, all...)
		batch = append(batch, o)
	}
	h.append(batch[:10]...)
	h.append(batch[10:]...)
	// Objects whose ids extend or precede "h" must not leak in.
	for _, id := range []string{"h ", "h/x", "hh", "h\u00e9", "h~", "H", "g", "i", "hi"} {
		h.append(Obj(id, "vehicles", 121.6, 38.9, Sec(7), ""))
	}
	h.append(Obj("h ", "vehicles", 121.6, 38.9, Sec(8), ""), Obj("hh", "vehicles", 121.6, 38.9, Sec(8), ""))

	check := func(what string, got, want []*live.Object) {
		h.t.Helper()
		if len(got) != len(want) {
			h.t.Errorf("%s: %d states, want %d", what, len(got), len(want))
			return
		}
		for i := range want {
			h.same(fmt.Sprintf("%s: state %d", what, i), want[i], got[i])
		}
	}
	check("5..14 s", h.history("h", Sec(5), Sec(14), 100), all[5:15])
	check("5..14 s limit 5", h.history("h", Sec(5), Sec(14), 5), all[5:10])
	check("5..14 s limit 10", h.history("h", Sec(5), Sec(14), 10), all[5:15])
	check("5..14 s limit 1", h.history("h", Sec(5), Sec(14), 1), all[5:6])
	check("5..14 s limit 0", h.history("h", Sec(5), Sec(14), 0), nil)
	check("7..7 s", h.history("h", Sec(7), Sec(7), 100), all[7:8])
	check("5 s+1µs .. 14 s−1µs", h.history("h", Sec(5)+1, Sec(14)-1, 100), all[6:14])
	check("everything", h.history("h", 0, math.MaxInt64, 100), all)
	check("from before 1970", h.history("h", math.MinInt64, Sec(2), 100), all[:3])
	check("from after to", h.history("h", Sec(14), Sec(5), 100), nil)
	check("before the first state", h.history("h", 0, Sec(0)-1, 100), nil)
	check("after the last state", h.history("h", Sec(19)+1, math.MaxInt64, 100), nil)
	check("unknown id", h.history("nope", 0, math.MaxInt64, 100), nil)
	check("prefix id", h.history("", 0, math.MaxInt64, 100), nil)
	if got := h.history("hh", 0, math.MaxInt64, 100); len(got) != 2 {
		h.t.Errorf(`History("hh"): %d states, want 2`, len(got))
	}
	if got := h.history("h ", 0, math.MaxInt64, 100); len(got) != 2 {
		h.t.Errorf(`History("h "): %d states, want 2`, len(got))
	}
}

// testAsOf: each object's newest state with Time in (at−window, at].
func testAsOf(h *harness) {
	const window = 60 * 1e6 // µs
	at := Sec(100)          // the window is (40 s, 100 s]
	p := []*live.Object{
		Obj("p", "v", 121.1, 38.9, Sec(10), ""),
		Obj("p", "v", 121.2, 38.9, Sec(50), ""),
		Obj("p", "v", 121.3, 38.9, Sec(90), ""),
		Obj("p", "v", 121.4, 38.9, Sec(100), `{"at":"exactly"}`), // at is inclusive
		Obj("p", "v", 121.5, 38.9, Sec(110), ""),
	}
	q := Obj("q", "v", 121.1, 38.9, Sec(40), "")     // at−window is exclusive
	r := Obj("r", "v", 121.1, 38.9, Sec(40)+1, "")   // just inside
	s1 := Obj("s", "v", 121.1, 38.9, Sec(30), "")    // silent too long…
	s2 := Obj("s", "v", 121.1, 38.9, Sec(120), "")   // …then after at
	u := Obj("u", "v", 121.1, 38.9, Sec(100)+1, "")  // first seen after at
	v1 := Obj("v", "v", 121.1, 38.9, Sec(60), "")    // a state…
	v2 := Tomb("v", "v", Sec(80))                    // …then its removal
	w1 := Tomb("w", "v", Sec(20))                    // removed…
	w2 := Obj("w", "v", 121.2, 38.8, Sec(70), "")    // …and back
	x1 := Obj("x", "v", 121.1, 38.9, Sec(95), "")    //
	x2 := Obj("x", "bus", 121.2, 38.9, Sec(99), "")  // the newest before at…
	x3 := Obj("x", "v", 121.3, 38.9, Sec(100)+1, "") // …not the one a µs after
	h.append(p[4], p[0], q, s2, u, v2, w2, x3)
	h.append(p[2], p[1], p[3], r, s1, v1, w1, x2, x1)

	h.sameSet("AsOf 100 s, 60 s", []*live.Object{p[3], r, v2, w2, x2}, h.asOf(at, window))
	h.sameSet("AsOf 100 s−1µs, 60 s", []*live.Object{p[2], q, r, v2, w2, x2}, h.asOf(at-1, window))
	h.sameSet("AsOf 45 s, 20 s", []*live.Object{q, r, s1}, h.asOf(Sec(45), 20e6))
	h.sameSet("AsOf 45 s, 5 s", []*live.Object{r}, h.asOf(Sec(45), 5e6))
	h.sameSet("AsOf 25 s, 60 s", []*live.Object{p[0], w1}, h.asOf(Sec(25), window))
	h.sameSet("AsOf 200 s, 1 h", []*live.Object{p[4], q, r, s2, u, v2, w2, x3}, h.asOf(Sec(200), 3600e6))
	h.sameSet("AsOf 100 s, window 0", nil, h.asOf(at, 0))
	h.sameSet("AsOf 100 s, window 1µs", []*live.Object{p[3]}, h.asOf(at, 1))
	h.sameSet("AsOf before every state", nil, h.asOf(Sec(5), window))
	h.sameSet("AsOf the end of time, all time", []*live.Object{p[4], q, r, s2, u, v2, w2, x3}, h.asOf(math.MaxInt64, math.MaxInt64))
}

// roundTripObjects returns updates that exercise every stored field.
func roundTripObjects() []*live.Object {
	nan := float32(math.NaN())
	mk := func(id, layer string, lon, lat, height float64, heading, speed float32, tm, recv int64, state string, gone bool) *live.Object {
		o := &live.Object{ID: id, Layer: layer, Lon: lon, Lat: lat, Height: height, Heading: heading, Speed: speed, Time: tm}
		if state != "" {
			o.State = []byte(state)
		}
		if err := o.Prepare(now); err != nil {
			panic(fmt.Sprintf("logtest: %v", err))
		}
		o.Recv, o.Gone = recv, gone
		return o
	}
	return []*live.Object{
		mk("plain", "vehicles", 121.6, 38.9, 0, nan, nan, Sec(1), Sec(1), "", false),
		mk("full", "buses", 121.61234567890123, 38.91234567890123, 12.345678901234567, 359.99997, 12.5, Sec(2)+123456, Sec(3)+1,
			`{"route":"23","load":0.7,"z":[1,2.5e-7,{"b":null,"a":true}],"name":"大连 \"east\" \\ 站"}`, false),
		mk("heading-only", "vehicles", -0.000001, -0.000001, -12.25, 0, nan, Sec(3), Sec(3), "", false),
		mk("speed-only", "vehicles", 180, 90, 99999.5, nan, math.Nextafter32(12.5, 13), Sec(4), Sec(4)-1, "", false),
		mk("corner", "vehicles", -180, -90, -1e5, math.Float32frombits(1), math.Float32frombits(1), Sec(5), Sec(5)+int64(time.Hour/time.Microsecond), `{}`, false),
		mk("tiny", "sensors", 5e-324, -5e-324, 1e-300, 1e-7, 3.4028235e38, Sec(6)+1, 0, `{"k":"v"}`, false),
		mk("late", "vehicles", 121.6, 38.9, 0, 45, 0, Sec(7)+999999, Sec(7)+86400e6, `{"late":true}`, false),
		mk("removed", "vehicles", 121.6, 38.9, 3, 10, 1, Sec(8), Sec(8)+5, `{"last":"state"}`, true),
		mk("epoch", "vehicles", 1, 1, 0, nan, nan, 1, 1, "", false),
		mk("layer-max", strings.Repeat("l", live.MaxLayerLen), 1, 1, 0, nan, nan, Sec(9), Sec(9), "", false),
	}
}

// testRoundTrip: every field comes back exactly from Latest, History and
// AsOf.
func testRoundTrip(h *harness) {
	objs := roundTripObjects()
	h.append(objs...)
	h.sameSet("Latest", objs, h.latest())
	for _, o := range objs {
		got := h.history(o.ID, o.Time, o.Time, 10)
		if len(got) != 1 {
			h.t.Errorf("History(%q) at its time: %d states", o.ID, len(got))
			continue
		}
		h.same(fmt.Sprintf("History(%q)", o.ID), o, got[0])
	}
	h.sameSet("AsOf", objs, h.asOf(Sec(100), Sec(100)))
}

// OddIDs are ids every log must store and find exactly.
var OddIDs = []string{
	"a",
	"a b",
	"a  b",
	" leading and trailing ",
	`"quoted"`,
	"it's",
	`back\slash`,
	`\`,
	"100%",
	"%",
	"%25",
	"_",
	"a_b",
	"/",
	"a/b/c",
	"/leading",
	"https://example.com/x?y=1&z=2#f",
	"'; DROP TABLE live_history; --",
	"$1",
	"{}",
	"[1,2]",
	"null",
	"大连-出租车-0001",
	"Ünïcødé",
	"e\u0301", // e + combining acute
	"é",
	"🚌🚌",
	"👩‍🚒",
	"עברית",
	"\u200b",
	"\ufeffbom",
	"\U0010ffff",
	"~",
	"\u0080",
	"A",
	strings.Repeat("x", live.MaxIDLen),
	strings.Repeat("长", live.MaxIDLen/3),
}

// testOddIDs: odd ids round-trip through every call.
func testOddIDs(h *harness) {
	var first, second []*live.Object
	for i, id := range OddIDs {
		first = append(first, Obj(id, "odd", 121.6+float64(i)/1e4, 38.9, Sec(1), fmt.Sprintf(`{"i":%d}`, i)))
		second = append(second, Obj(id, "odd", 121.7+float64(i)/1e4, 38.8, Sec(2), fmt.Sprintf(`{"i":%d,"id":%q}`, i, id)))
	}
	h.append(first...)
	h.append(second...)
	h.sameSet("Latest", second, h.latest())
	h.sameSet("AsOf 1.5 s", first, h.asOf(Sec(1.5), 10e6))
	for i, id := range OddIDs {
		got := h.history(id, 0, math.MaxInt64, 10)
		if len(got) != 2 {
			h.t.Errorf("History(%q): %d states, want 2", id, len(got))
			continue
		}
		h.same(fmt.Sprintf("History(%q)[0]", id), first[i], got[0])
		h.same(fmt.Sprintf("History(%q)[1]", id), second[i], got[1])
	}
}

// testLargeBatch: a batch of live.MaxBatch updates, one with a state of
// live.MaxStateLen bytes.
func testLargeBatch(h *harness) {
	objs := make([]*live.Object, live.MaxBatch)
	for i := range objs {
		objs[i] = Obj(fmt.Sprintf("bulk-%05d", i), "vehicles", 121.5+float64(i%100)/1000, 38.8+float64(i/100)/1000, Sec(float64(i%60)), fmt.Sprintf(`{"i":%d}`, i))
	}
	big := `{"s":"` + strings.Repeat("x", live.MaxStateLen-8) + `"}`
	objs[4321] = Obj("bulk-04321", "vehicles", 121.6, 38.9, Sec(30), big)
	if len(objs[4321].State) != live.MaxStateLen {
		h.t.Fatalf("big state is %d bytes", len(objs[4321].State))
	}
	h.append(objs...)
	h.sameSet("Latest", objs, h.latest())
	got := h.history("bulk-04321", 0, math.MaxInt64, 10)
	if len(got) != 1 {
		h.t.Fatalf("History(bulk-04321): %d states", len(got))
	}
	h.same("big state", objs[4321], got[0])
}

// testNoAliasing: the log keeps no reference to appended objects, and
// what it returns is the caller's to change.
func testNoAliasing(h *harness) {
	o := Obj("a", "vehicles", 121.6, 38.9, Sec(1), `{"k":"v"}`)
	want := *o
	want.State = append([]byte(nil), o.State...)
	h.append(o)
	o.State[2] = 'X' // the caller reuses its buffer
	o.Lon = 0
	got := h.history("a", 0, math.MaxInt64, 10)
	if len(got) != 1 {
		h.t.Fatalf("History: %d states", len(got))
	}
	h.same("after changing the appended object", &want, got[0])
	got[0].State[2] = 'Y' // the caller changes what it got
	h.same("Latest after changing a returned state", &want, h.latest()["a"])
	got = h.history("a", 0, math.MaxInt64, 10)
	h.same("History after changing a returned state", &want, got[0])

	// States delivered by Latest and AsOf stay intact after the scan.
	h.append(Obj("b", "vehicles", 121.6, 38.9, Sec(1), `{"b":1}`), Obj("c", "vehicles", 121.6, 38.9, Sec(1), `{"c":22}`))
	var kept []*live.Object
	if err := h.l.Latest(h.ctx, func(o *live.Object) error { kept = append(kept, o); return nil }); err != nil {
		h.t.Fatal(err)
	}
	for _, o := range kept {
		if o.ID == "a" {
			continue
		}
		if want := fmt.Sprintf(`{%q:`, o.ID); !bytes.HasPrefix(o.State, []byte(want)) {
			h.t.Errorf("state of %q changed after Latest returned: %s", o.ID, o.State)
		}
	}
}

// testConcurrent: Appends from several goroutines all land.
func testConcurrent(h *harness) {
	const workers, batches, size = 8, 25, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				objs := make([]*live.Object, size)
				for i := range objs {
					// Each worker has objects of its own, and all share
					// "shared-i" at distinct times.
					id := fmt.Sprintf("w%d-%d", w, i)
					if i%4 == 0 {
						id = fmt.Sprintf("shared-%d", i)
					}
					objs[i] = Obj(id, "vehicles", 121.6, 38.9, Sec(float64(b*workers+w)), fmt.Sprintf(`{"w":%d,"b":%d}`, w, b))
				}
				if err := h.l.Append(h.ctx, objs); err != nil {
					errs <- fmt.Errorf("worker %d batch %d: %w", w, b, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.t.Fatal(err)
	}
	latest := h.latest()
	if want := workers*size*3/4 + size/4; len(latest) != want {
		h.t.Errorf("Latest: %d objects, want %d", len(latest), want)
	}
	for id, o := range latest {
		want := Sec(float64((batches-1)*workers + workers - 1))
		if !strings.HasPrefix(id, "shared-") {
			var w int
			fmt.Sscanf(id, "w%d-", &w)
			want = Sec(float64((batches-1)*workers + w))
		}
		if o.Time != want {
			h.t.Errorf("Latest %q at %d, want %d", id, o.Time, want)
		}
	}
	if got := h.history("shared-0", 0, math.MaxInt64, 1000); len(got) != workers*batches {
		h.t.Errorf("History(shared-0): %d states, want %d", len(got), workers*batches)
	}
	if got := h.history("w3-1", 0, math.MaxInt64, 1000); len(got) != batches {
		h.t.Errorf("History(w3-1): %d states, want %d", len(got), batches)
	}
}

// testCallbackError: an error from fn ends Latest and AsOf and is
// returned.
func testCallbackError(h *harness) {
	h.append(Obj("a", "v", 121.6, 38.9, Sec(1), ""), Obj("b", "v", 121.6, 38.9, Sec(1), ""), Obj("c", "v", 121.6, 38.9, Sec(1), ""))
	stop := errors.New("stop here")
	calls := 0
	err := h.l.Latest(h.ctx, func(*live.Object) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		h.t.Errorf("Latest with a failing fn: %v after %d calls, want %v after 1", err, calls, stop)
	}
	calls = 0
	err = h.l.AsOf(h.ctx, Sec(2), 10e6, func(*live.Object) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		h.t.Errorf("AsOf with a failing fn: %v after %d calls, want %v after 1", err, calls, stop)
	}
	// The log still works.
	if got := h.latest(); len(got) != 3 {
		h.t.Errorf("Latest after callback errors: %d objects", len(got))
	}
}

// testContext: a done context fails every call, before or during a scan,
// and a canceled Append stores nothing.
func testContext(h *harness) {
	const n = 3000 // enough that a scan cannot finish before noticing
	objs := make([]*live.Object, n)
	for i := range objs {
		objs[i] = Obj(fmt.Sprintf("o%05d", i), "v", 121.6, 38.9, Sec(1), "")
	}
	h.append(objs...)

	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.l.Append(done, []*live.Object{Obj("canceled", "v", 121.6, 38.9, Sec(2), "")}); err == nil {
		h.t.Error("Append with a canceled context succeeded")
	}
	calls := 0
	if err := h.l.Latest(done, func(*live.Object) error { calls++; return nil }); err == nil {
		h.t.Errorf("Latest with a canceled context succeeded after %d calls", calls)
	}
	calls = 0
	if err := h.l.AsOf(done, Sec(2), 10e6, func(*live.Object) error { calls++; return nil }); err == nil {
		h.t.Errorf("AsOf with a canceled context succeeded after %d calls", calls)
	}
	if _, err := h.l.History(done, "o00001", 0, math.MaxInt64, 10); err == nil {
		h.t.Error("History with a canceled context succeeded")
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if err := h.l.Latest(expired, func(*live.Object) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		h.t.Errorf("Latest with an expired deadline: %v, want context.DeadlineExceeded", err)
	}

	// Canceled while scanning.
	for _, scan := range []struct {
		name string
		run  func(context.Context, func(*live.Object) error) error
	}{
		{"Latest", h.l.Latest},
		{"AsOf", func(ctx context.Context, fn func(*live.Object) error) error { return h.l.AsOf(ctx, Sec(2), 10e6, fn) }},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		err := scan.run(ctx, func(*live.Object) error {
			if calls++; calls == 1 {
				cancel()
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			h.t.Errorf("%s canceled in its first callback: %v after %d of %d objects, want context.Canceled", scan.name, err, calls, n)
		} else if calls == n {
			h.t.Errorf("%s canceled in its first callback went on to all %d objects", scan.name, n)
		}
	}

	// Nothing of the canceled Append was stored; the log still works.
	latest := h.latest()
	if latest["canceled"] != nil {
		h.t.Error("the canceled Append was stored")
	}
	if len(latest) != n {
		h.t.Errorf("Latest: %d objects, want %d", len(latest), n)
	}
}

// testContextSmallLog: a done context fails every call on a log of a few
// objects too (a scan that checks its context only every so many objects
// would finish and succeed).
func testContextSmallLog(h *harness) {
	h.append(Obj("a", "v", 121.6, 38.9, Sec(1), ""), Tomb("b", "v", Sec(1)))
	done, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	if err := h.l.Latest(done, func(*live.Object) error { calls++; return nil }); !errors.Is(err, context.Canceled) {
		h.t.Errorf("Latest with a canceled context: %v after %d calls, want context.Canceled", err, calls)
	}
	calls = 0
	if err := h.l.AsOf(done, Sec(2), 10e6, func(*live.Object) error { calls++; return nil }); !errors.Is(err, context.Canceled) {
		h.t.Errorf("AsOf with a canceled context: %v after %d calls, want context.Canceled", err, calls)
	}
	if _, err := h.l.History(done, "a", 0, math.MaxInt64, 10); !errors.Is(err, context.Canceled) {
		h.t.Errorf("History with a canceled context: %v, want context.Canceled", err)
	}
	if err := h.l.Append(done, []*live.Object{Obj("c", "v", 121.6, 38.9, Sec(2), "")}); !errors.Is(err, context.Canceled) {
		h.t.Errorf("Append with a canceled context: %v, want context.Canceled", err)
	}
}

// testClose: every call fails after Close.
func testClose(h *harness) {
	h.append(Obj("a", "v", 121.6, 38.9, Sec(1), ""))
	h.closed = true
	if err := h.l.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	if err := h.l.Append(h.ctx, []*live.Object{Obj("b", "v", 121.6, 38.9, Sec(2), "")}); err == nil {
		h.t.Error("Append after Close succeeded")
	}
	if err := h.l.Latest(h.ctx, func(*live.Object) error { return nil }); err == nil {
		h.t.Error("Latest after Close succeeded")
	}
	if _, err := h.l.History(h.ctx, "a", 0, math.MaxInt64, 10); err == nil {
		h.t.Error("History after Close succeeded")
	}
	if err := h.l.AsOf(h.ctx, Sec(2), 10e6, func(*live.Object) error { return nil }); err == nil {
		h.t.Error("AsOf after Close succeeded")
	}
}

// BenchAppend measures l.Append with batches of size updates: size
// vehicles with heading, speed and a small state, all moving on every
// batch (every update a new key). It reports updates/s.
func BenchAppend(b *testing.B, l live.Log, size int) {
	ctx := context.Background()
	objs := make([]*live.Object, size)
	for i := range objs {
		objs[i] = Obj(fmt.Sprintf("bus-%05d", i), "vehicles", 121.5+float64(i%40)/100, 38.8+float64(i/40%40)/100, Sec(0),
			`{"route":"23","load":0.7}`)
		objs[i].Heading, objs[i].Speed = 90, 12.5
	}
	var round int64
	for b.Loop() {
		round++
		for i, o := range objs {
			o.Time = Sec(0) + round*int64(size) + int64(i)
			o.Recv = o.Time + 1500
			o.Lon += 1e-6
		}
		if err := l.Append(ctx, objs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// Pruner is a log that can drop old history, as the server's retention
// does.
type Pruner interface {
	live.Log
	// Prune deletes every update older than before, except each
	// object's newest one, and returns how many objects it pruned.
	Prune(ctx context.Context, before int64) (int, error)
}

// RunPrune checks Prune's boundaries exactly: states older than before
// go, except each object's newest one; a state at before stays; objects
// with nothing older are not counted; tombstones are kept when newest;
// Latest is unchanged; Prune fails after Close. l must be empty; RunPrune
// closes it.
func RunPrune(t *testing.T, l Pruner) {
	t.Helper()
	ctx := context.Background()
	sec := Sec
	var objs []*live.Object
	for s := range 10 {
		objs = append(objs,
			Obj("a", "v", 121.6, 38.9, sec(float64(s)), ""),       // 0–9 s: all before 50 s
			Obj("b", "v", 121.6, 38.9, sec(float64(s*10)), ""),    // 0–90 s
			Obj("b ", "v", 121.6, 38.9, sec(float64(s*10)+1), ""), // an id extending b
		)
	}
	objs = append(objs,
		Obj("c", "v", 121.6, 38.9, sec(50), ""),   // exactly at before: nothing older
		Obj("d", "v", 121.6, 38.9, sec(60), ""),   // only newer states
		Obj("e", "v", 121.6, 38.9, sec(10), ""),   // removed before the cut:
		Tomb("e", "v", sec(20)),                   // only the tombstone stays
		Obj("f", "v", 121.6, 38.9, sec(49), ""),   // one state, older: stays
		Obj("g", "v", 121.6, 38.9, sec(50)-1, ""), // a µs before the cut…
		Obj("g", "v", 121.6, 38.9, sec(50), ""),   // …and at it
	)
	if err := l.Append(ctx, objs); err != nil {
		t.Fatal(err)
	}
	before := map[string]*live.Object{}
	if err := l.Latest(ctx, func(o *live.Object) error { before[o.ID] = o; return nil }); err != nil {
		t.Fatal(err)
	}
	n, err := l.Prune(ctx, sec(50))
	if err != nil {
		t.Fatal(err)
	}
	// a (9 of 10), b (0–40 s), "b " (1–41 s), e (its state), g (49.999999 s).
	if n != 5 {
		t.Errorf("pruned %d objects, want 5", n)
	}
	for _, c := range []struct {
		id    string
		times []int64
	}{
		{"a", []int64{sec(9)}},
		{"b", []int64{sec(50), sec(60), sec(70), sec(80), sec(90)}},
		{"b ", []int64{sec(51), sec(61), sec(71), sec(81), sec(91)}},
		{"c", []int64{sec(50)}},
		{"d", []int64{sec(60)}},
		{"e", []int64{sec(20)}},
		{"f", []int64{sec(49)}},
		{"g", []int64{sec(50)}},
	} {
		h, err := l.History(ctx, c.id, math.MinInt64, math.MaxInt64, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, o := range h {
			got = append(got, o.Time)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.times) {
			t.Errorf("%q keeps %v, want %v", c.id, got, c.times)
		}
	}
	after := map[string]*live.Object{}
	if err := l.Latest(ctx, func(o *live.Object) error { after[o.ID] = o; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("Latest: %d objects after pruning, %d before", len(after), len(before))
	}
	for id, o := range before {
		if !Same(o, after[id]) {
			t.Errorf("Latest %q changed by pruning: %s", id, Describe(after[id]))
		}
	}
	if !after["e"].Gone {
		t.Error("e's tombstone was pruned")
	}
	// Pruning again finds nothing; pruning before 1970 neither.
	if n, err := l.Prune(ctx, sec(50)); err != nil || n != 0 {
		t.Errorf("second prune: %d, %v", n, err)
	}
	if n, err := l.Prune(ctx, -1); err != nil || n != 0 {
		t.Errorf("prune before 1970: %d, %v", n, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Prune(ctx, sec(50)); err == nil {
		t.Error("Prune after Close succeeded")
	}
}
