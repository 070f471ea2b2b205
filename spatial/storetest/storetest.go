// Package storetest is the conformance suite for spatial.Store
// implementations. An implementation's tests call Run with a Factory that
// makes fresh, empty stores and can reopen one after it is closed:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Factory{
//			New: func(t *testing.T) (spatial.Store, func() (spatial.Store, error)) {
//				dir := t.TempDir()
//				s, err := pebblestore.Open(dir)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s, func() (spatial.Store, error) { return pebblestore.Open(dir) }
//			},
//		})
//	}
//
// A PostgreSQL store's New would create a schema of its own (registering
// its removal with t.Cleanup) and reopen would connect again to the same
// URL and schema.
//
// The suite checks: round trips of every geometry type with properties
// (nested, numbers, strings, booleans, null), height, floors, validity and
// version; replacement by id (a feature moved to another cell is found only
// in the new one); delete; layer counts and exact bounds; grid-code order;
// ScanCell against a brute-force filter; persistence across close and
// reopen; a 10,000-feature batch; ErrNotFound; context cancellation;
// callback errors; no aliasing of the caller's features; odd bytes in layer
// names and ids; atomicity of a batch with an invalid feature; concurrent
// use; and past versions: round trips in ValidFrom order (Past) and in
// layer, id, ValidFrom order (ScanPast), replacement by ValidFrom, ending a
// current version, Delete purging history, layer counts, bounds, Scan and
// ScanCell seeing current versions only, atomicity of a rejected
// PutVersions. Times carry microseconds, not nanoseconds, so that stores on SQL
// timestamps pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Factory makes the stores the suite tests.
type Factory struct {
	// New returns a new, empty store private to the calling test and a
	// function that opens the same durable state again once the store has
	// been closed. The suite closes every store it is given or reopens,
	// exactly once; New registers any other cleanup (temporary
	// directories, schemas) with t.Cleanup, and calls t.Fatal on failure.
	New func(t *testing.T) (store spatial.Store, reopen func() (spatial.Store, error))
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, f Factory) {
	if f.New == nil {
		t.Fatal("storetest: Factory.New is nil")
	}
	tests := []struct {
		name string
		fn   func(*harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"Replace", testReplace},
		{"Delete", testDelete},
		{"DuplicateInBatch", testDuplicateInBatch},
		{"Layers", testLayers},
		{"ScanOrder", testScanOrder},
		{"ScanCell", testScanCell},
		{"ScanCellLevel0", testScanCellLevel0},
		{"Persistence", testPersistence},
		{"Batch10000", testBatch10000},
		{"NotFound", testNotFound},
		{"Context", testContext},
		{"CallbackError", testCallbackError},
		{"NoAliasing", testNoAliasing},
		{"OddNames", testOddNames},
		{"InvalidBatchIsAtomic", testInvalidBatch},
		{"Empty", testEmpty},
		{"Concurrent", testConcurrent},
		{"PastRoundTrip", testPastRoundTrip},
		{"PastReplace", testPastReplace},
		{"PastOrder", testPastOrder},
		{"PastEnd", testPastEnd},
		{"PastPurge", testPastPurge},
		{"PastLayersAndCells", testPastLayersAndCells},
		{"PastInvalidIsAtomic", testPastInvalidIsAtomic},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newHarness(t, f))
		})
	}
}

// harness holds the store under test and helpers that fail the test on
// error.
type harness struct {
	t      *testing.T
	ctx    context.Context
	s      spatial.Store
	reopen func() (spatial.Store, error)
}

func newHarness(t *testing.T, f Factory) *harness {
	s, reopen := f.New(t)
	if s == nil {
		t.Fatal("storetest: Factory.New returned a nil store")
	}
	h := &harness{t: t, ctx: context.Background(), s: s, reopen: reopen}
	t.Cleanup(func() {
		if h.s != nil {
			if err := h.s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return h
}

// cycle closes the store and opens it again.
func (h *harness) cycle() {
	h.t.Helper()
	err := h.s.Close()
	h.s = nil
	if err != nil {
		h.t.Fatalf("Close: %v", err)
	}
	if h.reopen == nil {
		h.t.Fatal("storetest: Factory.New returned no reopen function")
	}
	s, err := h.reopen()
	if err != nil {
		h.t.Fatalf("reopen: %v", err)
	}
	h.s = s
}

func (h *harness) put(fs ...*spatial.Feature) {
	h.t.Helper()
	if err := h.s.Put(h.ctx, fs); err != nil {
		h.t.Fatalf("Put(%d features): %v", len(fs), err)
	}
}

func (h *harness) del(layer string, ids ...string) {
	h.t.Helper()
	if err := h.s.Delete(h.ctx, layer, ids); err != nil {
		h.t.Fatalf("Delete(%q, %q): %v", layer, ids, err)
	}
}

func (h *harness) get(layer, id string) *spatial.Feature {
	h.t.Helper()
	f, err := h.s.Get(h.ctx, layer, id)
	if err != nil {
		h.t.Fatalf("Get(%q, %q): %v", layer, id, err)
	}
	return f
}

func (h *harness) scan(layer string) []*spatial.Feature {
	h.t.Helper()
	var out []*spatial.Feature
	if err := h.s.Scan(h.ctx, layer, func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	}); err != nil {
		h.t.Fatalf("Scan(%q): %v", layer, err)
	}
	return out
}

func (h *harness) scanCell(layer string, cell gridcode.Code) []*spatial.Feature {
	h.t.Helper()
	var out []*spatial.Feature
	if err := h.s.ScanCell(h.ctx, layer, cell, func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	}); err != nil {
		h.t.Fatalf("ScanCell(%q, %s): %v", layer, cell, err)
	}
	return out
}

func (h *harness) layers() []spatial.LayerInfo {
	h.t.Helper()
	ls, err := h.s.Layers(h.ctx)
	if err != nil {
		h.t.Fatalf("Layers: %v", err)
	}
	return ls
}

// expectNotFound checks that Get reports ErrNotFound.
func (h *harness) expectNotFound(layer, id string) {
	h.t.Helper()
	f, err := h.s.Get(h.ctx, layer, id)
	if !errors.Is(err, spatial.ErrNotFound) {
		h.t.Errorf("Get(%q, %q) = %v, %v; want an error wrapping spatial.ErrNotFound", layer, id, f, err)
	}
}

// expectLayer checks that a layer holds exactly want (by id), that Scan
// returns it in grid-code order and that Get returns each feature.
func (h *harness) expectLayer(layer string, want map[string]*spatial.Feature) {
	h.t.Helper()
	got := h.scan(layer)
	checkOrder(h.t, got)
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g.ID] {
			h.t.Errorf("Scan(%q) returned %q twice", layer, g.ID)
		}
		seen[g.ID] = true
		w, ok := want[g.ID]
		if !ok {
			h.t.Errorf("Scan(%q) returned unexpected %q", layer, g.ID)
			continue
		}
		if d := Diff(w, g); d != "" {
			h.t.Errorf("Scan: %s", d)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if !seen[id] {
			h.t.Errorf("Scan(%q) did not return %q", layer, id)
		}
		if d := Diff(want[id], h.get(layer, id)); d != "" {
			h.t.Errorf("Get: %s", d)
		}
	}
}

// checkOrder checks that features are in grid-code order.
func checkOrder(t *testing.T, fs []*spatial.Feature) {
	t.Helper()
	for i := 1; i < len(fs); i++ {
		if fs[i-1].Code.Compare(fs[i].Code) > 0 {
			t.Errorf("features out of grid-code order: %q (%s) before %q (%s)", fs[i-1].ID, fs[i-1].Code, fs[i].ID, fs[i].Code)
			return
		}
	}
}

// ids returns the sorted ids of features.
func ids(fs []*spatial.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	sort.Strings(out)
	return out
}

// byID indexes features by id.
func byID(fs []*spatial.Feature) map[string]*spatial.Feature {
	m := make(map[string]*spatial.Feature, len(fs))
	for _, f := range fs {
		m[f.ID] = f
	}
	return m
}

// mustPrepare prepares a hand-made feature.
func mustPrepare(t *testing.T, f *spatial.Feature) *spatial.Feature {
	t.Helper()
	if err := f.Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return f
}

// richProperties has every JSON value kind, nested.
func richProperties() map[string]any {
	return map[string]any{
		"name":   "大连 \"Xinghai\" / Square | 1",
		"n":      42,
		"pi":     3.141592653589793,
		"neg":    -1.5e-9,
		"big":    1e300,
		"yes":    true,
		"no":     false,
		"none":   nil,
		"empty":  map[string]any{},
		"list":   []any{},
		"nested": map[string]any{"a": map[string]any{"b": []any{1, "x", nil, true, map[string]any{"c": 2.5}}}},
	}
}

// µs returns a UTC time with microsecond precision.
func µs(y int, mo time.Month, d, h, mi, s, us int) time.Time {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC)
}

func testRoundTrip(h *harness) {
	lon, lat := DalianLon, DalianLat
	sq := func(x, y, s float64) orb.Ring {
		return orb.Ring{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}
	}
	cases := []struct {
		name string
		g    orb.Geometry
	}{
		{"Point", orb.Point{lon, lat}},
		{"LineString", orb.LineString{{lon, lat}, {lon + 0.001, lat + 0.0005}, {lon + 0.002, lat - 0.0003}}},
		{"PolygonWithHole", orb.Polygon{sq(lon, lat, 0.01), sq(lon+0.003, lat+0.003, 0.002)}},
		{"MultiPolygon", orb.MultiPolygon{{sq(lon, lat, 0.01), sq(lon+0.003, lat+0.003, 0.002)}, {sq(lon+0.02, lat, 0.005)}}},
		{"MultiPoint", orb.MultiPoint{{lon, lat}, {lon + 0.0001, lat + 0.0002}, {lon - 0.0003, lat}}},
		{"MultiLineString", orb.MultiLineString{{{lon, lat}, {lon + 0.001, lat}}, {{lon, lat + 0.001}, {lon + 0.001, lat + 0.002}, {lon + 0.003, lat + 0.001}}}},
		{"Collection", orb.Collection{orb.Point{lon, lat}, orb.LineString{{lon, lat}, {lon + 0.001, lat + 0.001}}, orb.Polygon{sq(lon+0.002, lat, 0.001)}}},
		{"Southwest", orb.Polygon{sq(-70.65, -33.45, 0.01)}},
		{"CrossesPrimeMeridian", orb.LineString{{-0.01, 51.5}, {0.01, 51.5}}},
	}
	for i, c := range cases {
		h.t.Run(c.name, func(t *testing.T) {
			h := &harness{t: t, ctx: h.ctx, s: h.s}
			f := mustPrepare(t, &spatial.Feature{
				Layer: "round", ID: c.name, Geometry: c.g, Properties: richProperties(),
				Height: 31.5, Floors: 9, Version: uint64(7 + i),
				ValidFrom: µs(2020, 1, 2, 3, 4, 5, 123456),
				ValidTo:   µs(2031, 12, 30, 23, 59, 58, 999999),
			})
			want := f.Clone()
			h.put(f)
			if d := Diff(want, h.get("round", c.name)); d != "" {
				t.Errorf("Get: %s", d)
			}
			found := false
			for _, g := range h.scanCell("round", want.Code) {
				if g.ID == c.name {
					found = true
					if d := Diff(want, g); d != "" {
						t.Errorf("ScanCell: %s", d)
					}
				}
			}
			if !found {
				t.Errorf("ScanCell(%s) did not return %q", want.Code, c.name)
			}
		})
	}
	h.t.Run("Minimal", func(t *testing.T) {
		h := &harness{t: t, ctx: h.ctx, s: h.s}
		f := mustPrepare(t, &spatial.Feature{Layer: "round", ID: "minimal", Geometry: orb.Point{lon, lat}})
		h.put(f)
		got := h.get("round", "minimal")
		if d := Diff(f, got); d != "" {
			t.Errorf("Get: %s", d)
		}
		if !got.ValidFrom.IsZero() || !got.ValidTo.IsZero() {
			t.Errorf("zero validity came back as %v–%v", got.ValidFrom, got.ValidTo)
		}
	})
	h.t.Run("OpenEnded", func(t *testing.T) {
		h := &harness{t: t, ctx: h.ctx, s: h.s}
		f := mustPrepare(t, &spatial.Feature{Layer: "round", ID: "open", Geometry: orb.Point{lon, lat}, ValidFrom: µs(1999, 5, 6, 7, 8, 9, 1)})
		h.put(f)
		if d := Diff(f, h.get("round", "open")); d != "" {
			t.Errorf("Get: %s", d)
		}
	})
}

func testReplace(h *harness) {
	old := mustPrepare(h.t, &spatial.Feature{Layer: "l", ID: "x", Geometry: orb.Point{121.6, 38.9}, Properties: map[string]any{"v": 1}, Version: 1})
	other := mustPrepare(h.t, &spatial.Feature{Layer: "l", ID: "y", Geometry: orb.Point{121.6000001, 38.9000001}, Version: 1})
	h.put(old, other)
	moved := mustPrepare(h.t, &spatial.Feature{Layer: "l", ID: "x", Geometry: orb.Polygon{{{121.47, 31.23}, {121.48, 31.23}, {121.48, 31.24}, {121.47, 31.23}}}, Properties: map[string]any{"v": 2}, Version: 2})
	if gridcode.CommonAncestor(old.Code, moved.Code).Level() > 4 {
		h.t.Fatalf("test setup: %s and %s are too close", old.Code, moved.Code)
	}
	h.put(moved)
	h.expectLayer("l", map[string]*spatial.Feature{"x": moved, "y": other})
	for level := old.Code.Level(); level >= 5; level-- {
		cell := old.Code.ParentAt(level)
		if got := ids(h.scanCell("l", cell)); !slices.Equal(got, []string{"y"}) {
			h.t.Errorf("ScanCell(old cell %s) = %q, want [y]: the old key of x survived the replace", cell, got)
		}
	}
	if got := ids(h.scanCell("l", moved.Code)); !slices.Equal(got, []string{"x"}) {
		h.t.Errorf("ScanCell(new cell %s) = %q, want [x]", moved.Code, got)
	}
	if ls := h.layers(); len(ls) != 1 || ls[0].Count != 2 {
		h.t.Errorf("Layers = %+v, want one layer of 2", ls)
	}
	// A replace within the same cell changes only the record.
	same := moved.Clone()
	same.Properties = map[string]any{"v": 3}
	same.Version = 3
	h.put(same)
	h.expectLayer("l", map[string]*spatial.Feature{"x": same, "y": other})
	if ls := h.layers(); len(ls) != 1 || ls[0].Count != 2 {
		h.t.Errorf("Layers = %+v, want one layer of 2", ls)
	}
}

func testDelete(h *harness) {
	fs := DalianFeatures(1, "d", 0, 10)
	keep := DalianFeatures(1, "keep", 0, 3)
	h.put(append(slices.Clone(fs), keep...)...)
	h.del("d", "f0000001", "f0000003", "missing", "f0000003")
	want := byID(fs)
	delete(want, "f0000001")
	delete(want, "f0000003")
	h.expectLayer("d", want)
	h.expectNotFound("d", "f0000001")
	h.expectNotFound("d", "f0000003")
	for _, f := range []*spatial.Feature{fs[1], fs[3]} {
		for _, g := range h.scanCell("d", f.Code) {
			if g.ID == f.ID {
				h.t.Errorf("ScanCell(%s) still returns deleted %q", f.Code, f.ID)
			}
		}
	}
	h.expectLayer("keep", byID(keep))
	h.del("nosuchlayer", "x")
	h.del("d") // no ids
	h.del("d", slices.Collect(maps.Keys(want))...)
	h.expectLayer("d", nil)
	ls := h.layers()
	if len(ls) != 1 || ls[0].Name != "keep" || ls[0].Count != 3 {
		h.t.Errorf("Layers after deleting every feature of d = %+v, want only keep (3)", ls)
	}
	// Deleted ids can be reused.
	h.put(fs[1])
	h.expectLayer("d", map[string]*spatial.Feature{fs[1].ID: fs[1]})
}

func testDuplicateInBatch(h *harness) {
	a := DalianFeature(2, "dup", 5)
	b := DalianFeature(2, "dup", 6)
	b.ID = a.ID
	b.Version = 99
	c := DalianFeature(2, "dup", 7)
	c.ID = a.ID
	c.Version = 100
	h.put(a, b, c)
	h.expectLayer("dup", map[string]*spatial.Feature{a.ID: c})
	if ls := h.layers(); len(ls) != 1 || ls[0].Count != 1 {
		h.t.Errorf("Layers = %+v, want one layer of 1", ls)
	}
}

// union returns the union of the features' bounding boxes.
func union(fs []*spatial.Feature) orb.Bound {
	b := fs[0].Geometry.Bound()
	for _, f := range fs[1:] {
		b = b.Union(f.Geometry.Bound())
	}
	return b
}

func testLayers(h *harness) {
	if ls := h.layers(); len(ls) != 0 {
		h.t.Fatalf("Layers of an empty store = %+v", ls)
	}
	roads := DalianFeatures(3, "roads", 0, 40)
	bldg := DalianFeatures(3, "buildings", 100, 70)
	pipes := DalianFeatures(3, "pipes", 200, 1)
	h.put(roads...)
	h.put(append(slices.Clone(bldg), pipes...)...)
	check := func(when string, want ...spatial.LayerInfo) {
		h.t.Helper()
		got := h.layers()
		if len(got) != len(want) {
			h.t.Fatalf("%s: Layers = %+v, want %+v", when, got, want)
		}
		for i := range want {
			if got[i].Name != want[i].Name || got[i].Count != want[i].Count || got[i].Bound != want[i].Bound {
				h.t.Errorf("%s: layer %d = %+v, want %+v", when, i, got[i], want[i])
			}
		}
	}
	check("after put",
		spatial.LayerInfo{Name: "buildings", Count: 70, Bound: union(bldg)},
		spatial.LayerInfo{Name: "pipes", Count: 1, Bound: union(pipes)},
		spatial.LayerInfo{Name: "roads", Count: 40, Bound: union(roads)})

	// Deleting the features that touch the bound's edges shrinks it.
	b := union(roads)
	var edge []string
	var rest []*spatial.Feature
	for _, f := range roads {
		fb := f.Geometry.Bound()
		if fb.Min[0] == b.Min[0] || fb.Min[1] == b.Min[1] || fb.Max[0] == b.Max[0] || fb.Max[1] == b.Max[1] {
			edge = append(edge, f.ID)
		} else {
			rest = append(rest, f)
		}
	}
	h.del("roads", edge...)
	check("after deleting edge features",
		spatial.LayerInfo{Name: "buildings", Count: 70, Bound: union(bldg)},
		spatial.LayerInfo{Name: "pipes", Count: 1, Bound: union(pipes)},
		spatial.LayerInfo{Name: "roads", Count: len(rest), Bound: union(rest)})

	// Replacing a feature with a larger one grows the bound; moving it
	// back shrinks it again.
	big := bldg[0].Clone()
	big.Geometry = orb.Polygon{{{120, 38}, {123, 38}, {123, 40}, {120, 40}, {120, 38}}}
	mustPrepare(h.t, big)
	h.put(big)
	check("after growing a building",
		spatial.LayerInfo{Name: "buildings", Count: 70, Bound: union(append([]*spatial.Feature{big}, bldg[1:]...))},
		spatial.LayerInfo{Name: "pipes", Count: 1, Bound: union(pipes)},
		spatial.LayerInfo{Name: "roads", Count: len(rest), Bound: union(rest)})
	h.put(bldg[0])
	h.del("pipes", pipes[0].ID)
	check("after shrinking it and emptying pipes",
		spatial.LayerInfo{Name: "buildings", Count: 70, Bound: union(bldg)},
		spatial.LayerInfo{Name: "roads", Count: len(rest), Bound: union(rest)})
}

func testScanOrder(h *harness) {
	fs := DalianFeatures(4, "order", 0, 2000)
	rng := rand.New(rand.NewPCG(4, 4))
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	h.put(fs[:1000]...)
	h.put(fs[1000:]...)
	got := h.scan("order")
	if len(got) != len(fs) {
		h.t.Fatalf("Scan returned %d features, want %d", len(got), len(fs))
	}
	checkOrder(h.t, got)
	if !slices.Equal(ids(got), ids(fs)) {
		h.t.Errorf("Scan returned other ids than were put")
	}
}

// spanning returns features whose codes are coarse: across the prime
// meridian or the equator (level 0) and large areas (levels 1–6).
func spanning(t *testing.T, layer string) []*spatial.Feature {
	geoms := []orb.Geometry{
		orb.LineString{{-1, 10}, {1, 10}},
		orb.LineString{{120, -1}, {120, 1}},
		orb.Polygon{{{100, 20}, {140, 20}, {140, 50}, {100, 50}, {100, 20}}},
		orb.Polygon{{{120, 38}, {123, 38}, {123, 40}, {120, 40}, {120, 38}}},
		orb.Polygon{{{121, 38.5}, {122, 38.5}, {122, 39.5}, {121, 39.5}, {121, 38.5}}},
		orb.Point{DalianLon, DalianLat},
		orb.Point{0, 0},
		orb.Point{180, 90},
	}
	out := make([]*spatial.Feature, len(geoms))
	for i, g := range geoms {
		out[i] = mustPrepare(t, &spatial.Feature{Layer: layer, ID: fmt.Sprintf("span%d", i), Geometry: g})
	}
	return out
}

func testScanCell(h *harness) {
	fs := append(DalianFeatures(5, "cells", 0, 2000), spanning(h.t, "cells")...)
	h.put(fs...)
	h.put(DalianFeatures(5, "other", 0, 200)...) // must never appear
	levels := map[int]int{}
	for _, f := range fs {
		levels[f.Code.Level()]++
	}
	if len(levels) < 15 {
		h.t.Fatalf("test setup: codes span only %d levels: %v", len(levels), levels)
	}

	// Query cells: ancestors of features' codes at every level, the codes
	// themselves, their first descendants (same bits, finer level, which
	// must not contain the feature), random points at random levels and
	// cells far away.
	rng := rand.New(rand.NewPCG(5, 5))
	cells := map[gridcode.Code]bool{{}: true}
	for range 150 {
		c := fs[rng.IntN(len(fs))].Code
		cells[c] = true
		cells[c.ParentAt(rng.IntN(c.Level()+1))] = true
		if k := c.Children(); len(k) > 0 {
			cells[k[0]] = true
			if kk := k[0].Children(); len(kk) > 0 {
				cells[kk[0]] = true
			}
		}
	}
	for range 150 {
		c, err := gridcode.Encode(DalianLat+rng.Float64()-0.5, DalianLon+rng.Float64()-0.5, 1+rng.IntN(gridcode.MaxLevel))
		if err != nil {
			h.t.Fatal(err)
		}
		cells[c] = true
	}
	for _, p := range [][2]float64{{-33.9, 18.4}, {51.5, -0.1}, {0, 0}, {89.9, 179.9}} {
		for _, l := range []int{1, 9, 20} {
			c, err := gridcode.Encode(p[0], p[1], l)
			if err != nil {
				h.t.Fatal(err)
			}
			cells[c] = true
		}
	}
	queries := slices.SortedFunc(maps.Keys(cells), gridcode.Code.Compare)
	nonEmpty := 0
	for _, cell := range queries {
		var want []string
		for _, f := range fs {
			if cell.Contains(f.Code) {
				want = append(want, f.ID)
			}
		}
		sort.Strings(want)
		got := h.scanCell("cells", cell)
		checkOrder(h.t, got)
		for _, g := range got {
			if g.Layer != "cells" {
				h.t.Fatalf("ScanCell(cells, %s) returned a feature of layer %q", cell, g.Layer)
			}
		}
		if gi := ids(got); !slices.Equal(gi, want) {
			h.t.Fatalf("ScanCell(%s, level %d) returned %d features, want %d\n got %q\nwant %q", cell, cell.Level(), len(gi), len(want), head(gi), head(want))
		}
		if len(want) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty < len(queries)/3 {
		h.t.Errorf("test setup: only %d of %d query cells are non-empty", nonEmpty, len(queries))
	}
	h.t.Logf("%d cells checked (%d non-empty); feature codes at %d levels", len(queries), nonEmpty, len(levels))
}

// head returns at most 10 items, for messages.
func head(s []string) []string {
	if len(s) > 10 {
		return append(slices.Clip(s[:10]), "…")
	}
	return s
}

func testScanCellLevel0(h *harness) {
	fs := append(DalianFeatures(6, "all", 0, 300), spanning(h.t, "all")...)
	h.put(fs...)
	h.put(DalianFeatures(6, "al", 0, 10)...)
	h.put(DalianFeatures(6, "all2", 0, 10)...)
	got := h.scanCell("all", gridcode.Code{})
	if len(got) != len(fs) {
		h.t.Fatalf("ScanCell at level 0 returned %d features, want %d", len(got), len(fs))
	}
	checkOrder(h.t, got)
	if !slices.Equal(ids(got), ids(fs)) {
		h.t.Errorf("ScanCell at level 0 returned other ids than were put")
	}
	// The level-0 features are found only at level 0.
	for _, f := range fs {
		if f.Code.Level() != 0 {
			continue
		}
		for _, c := range (gridcode.Code{}).Children() {
			for _, g := range h.scanCell("all", c) {
				if g.ID == f.ID {
					h.t.Errorf("level-0 feature %q returned by ScanCell(%s)", f.ID, c)
				}
			}
		}
	}
}

func testPersistence(h *harness) {
	a := DalianFeatures(7, "a", 0, 500)
	b := DalianFeatures(7, "b", 0, 50)
	h.put(a...)
	h.put(b...)
	moved := DalianFeature(8, "a", 10)
	moved.ID = a[10].ID
	h.put(moved)
	h.del("a", a[20].ID, a[21].ID)
	h.del("b", b[0].ID)
	want := byID(a)
	want[moved.ID] = moved
	delete(want, a[20].ID)
	delete(want, a[21].ID)
	wantB := byID(b[1:])
	layersBefore := h.layers()

	h.cycle()
	h.expectLayer("a", want)
	h.expectLayer("b", wantB)
	if got := h.layers(); !slices.Equal(got, layersBefore) {
		h.t.Errorf("Layers after reopen = %+v, want %+v", got, layersBefore)
	}
	// The reopened store takes writes, and they persist too.
	c := DalianFeatures(7, "a", 1000, 5)
	h.put(c...)
	for _, f := range c {
		want[f.ID] = f
	}
	h.cycle()
	h.expectLayer("a", want)
	h.expectLayer("b", wantB)
	h.cycle() // reopen without writes in between
	h.expectLayer("a", want)
}

func testBatch10000(h *harness) {
	fs := DalianFeatures(9, "big", 0, 10000)
	start := time.Now()
	h.put(fs...)
	h.t.Logf("Put of 10,000 features in one batch: %v", time.Since(start))
	got := h.scan("big")
	if len(got) != len(fs) {
		h.t.Fatalf("Scan returned %d features, want 10000", len(got))
	}
	checkOrder(h.t, got)
	if !slices.Equal(ids(got), ids(fs)) {
		h.t.Fatalf("Scan returned other ids than were put")
	}
	want := byID(fs)
	for _, g := range got {
		if d := Diff(want[g.ID], g); d != "" {
			h.t.Fatalf("Scan: %s", d)
		}
	}
	if ls := h.layers(); len(ls) != 1 || ls[0].Count != 10000 || ls[0].Bound != union(fs) {
		h.t.Errorf("Layers = %+v, want big with 10000 features and bound %v", ls, union(fs))
	}
	for _, i := range []int{0, 4999, 9999} {
		if d := Diff(fs[i], h.get("big", fs[i].ID)); d != "" {
			h.t.Errorf("Get: %s", d)
		}
	}
}

func testNotFound(h *harness) {
	h.expectNotFound("nolayer", "x")
	h.put(DalianFeature(10, "l", 1))
	h.expectNotFound("l", "f0000002")
	h.expectNotFound("l", "f000000")
	h.expectNotFound("l", "f00000011")
	h.expectNotFound("l", "")
	h.expectNotFound("", "f0000001")
	h.expectNotFound("L", "f0000001")
	h.expectNotFound("l2", "f0000001")
}

func testContext(h *harness) {
	fs := DalianFeatures(11, "ctx", 0, 3000)
	h.put(fs...)
	canceled, cancel := context.WithCancel(h.ctx)
	cancel()
	wantCanceled := func(op string, err error) {
		h.t.Helper()
		if !errors.Is(err, context.Canceled) {
			h.t.Errorf("%s with a canceled context: %v; want an error wrapping context.Canceled", op, err)
		}
	}
	extra := DalianFeature(11, "ctx", 5000)
	wantCanceled("Put", h.s.Put(canceled, []*spatial.Feature{extra}))
	h.expectNotFound("ctx", extra.ID)
	wantCanceled("Delete", h.s.Delete(canceled, "ctx", []string{fs[0].ID}))
	h.get("ctx", fs[0].ID)
	_, err := h.s.Get(canceled, "ctx", fs[0].ID)
	wantCanceled("Get", err)
	_, err = h.s.Layers(canceled)
	wantCanceled("Layers", err)
	calls := 0
	count := func(*spatial.Feature) error { calls++; return nil }
	wantCanceled("Scan", h.s.Scan(canceled, "ctx", count))
	wantCanceled("ScanCell", h.s.ScanCell(canceled, "ctx", gridcode.Code{}, count))
	if calls != 0 {
		h.t.Errorf("scans with a canceled context called fn %d times", calls)
	}

	// Cancelling during a scan stops it.
	for _, cell := range []bool{false, true} {
		ctx, cancel := context.WithCancel(h.ctx)
		calls := 0
		fn := func(*spatial.Feature) error {
			calls++
			if calls == 10 {
				cancel()
			}
			return nil
		}
		var err error
		if cell {
			err = h.s.ScanCell(ctx, "ctx", gridcode.Code{}, fn)
		} else {
			err = h.s.Scan(ctx, "ctx", fn)
		}
		cancel()
		wantCanceled(fmt.Sprintf("scan (cell %v) cancelled after 10 features", cell), err)
		if calls >= len(fs) {
			h.t.Errorf("scan (cell %v) cancelled after 10 features went on to all %d", cell, calls)
		}
	}
}

func testCallbackError(h *harness) {
	h.put(DalianFeatures(12, "cb", 0, 100)...)
	stop := errors.New("stop here")
	for _, cell := range []bool{false, true} {
		calls := 0
		fn := func(*spatial.Feature) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		}
		var err error
		if cell {
			err = h.s.ScanCell(h.ctx, "cb", gridcode.Code{}, fn)
		} else {
			err = h.s.Scan(h.ctx, "cb", fn)
		}
		if !errors.Is(err, stop) {
			h.t.Errorf("scan (cell %v) returned %v, want fn's error", cell, err)
		}
		if calls != 3 {
			h.t.Errorf("scan (cell %v) called fn %d times after it failed on the 3rd", cell, calls)
		}
	}
}

func testNoAliasing(h *harness) {
	f := mustPrepare(h.t, &spatial.Feature{
		Layer: "alias", ID: "a",
		Geometry:   orb.Polygon{{{121.6, 38.9}, {121.61, 38.9}, {121.61, 38.91}, {121.6, 38.9}}},
		Properties: map[string]any{"m": map[string]any{"k": "v"}, "l": []any{1.0, 2.0}},
		Height:     10, Floors: 3, Version: 1,
	})
	want := f.Clone()
	h.put(f)
	// Mutate everything the caller still holds.
	poly := f.Geometry.(orb.Polygon)
	poly[0][1][0] = 0
	f.Properties["m"].(map[string]any)["k"] = "changed"
	f.Properties["l"].([]any)[0] = 99.0
	f.Properties["new"] = true
	f.Height = 99
	f.Version = 2
	if d := Diff(want, h.get("alias", "a")); d != "" {
		h.t.Errorf("after mutating the input: %s", d)
	}
	// Mutate what Get and Scan returned.
	g := h.get("alias", "a")
	g.Geometry.(orb.Polygon)[0][1][0] = 0
	g.Properties["m"].(map[string]any)["k"] = "changed"
	g.Properties["l"].([]any)[0] = 99.0
	for _, s := range h.scan("alias") {
		s.Geometry.(orb.Polygon)[0][2][1] = 0
		s.Properties["m"].(map[string]any)["k"] = "changed again"
	}
	if d := Diff(want, h.get("alias", "a")); d != "" {
		h.t.Errorf("after mutating returned features: %s", d)
	}
}

func testOddNames(h *harness) {
	type name struct{ layer, id string }
	names := []name{
		{"a", "b|c"}, {"a|b", "c"},
		{"a", "\x00b"}, {"a\x00", "b"},
		{"a", "b/c"}, {"a/b", "c"},
		{"a\x00b", "c"}, {"a", "b\x00c"},
		{"a\x01", "x"}, {"a", "\x01x"},
		{"ab", "c"}, {"a", "bc"},
		{"城市/建筑", "楼|1"}, {"城市", "建筑/楼|1"},
		{"a b", "%2F"}, {"a", " b"},
		{"a\x00\x00", "\x00"}, {"a\x00\x01", "\x00\x01"},
	}
	var fs []*spatial.Feature
	for i, n := range names {
		fs = append(fs, mustPrepare(h.t, &spatial.Feature{
			Layer: n.layer, ID: n.id,
			Geometry:   orb.Point{DalianLon + float64(i)*1e-4, DalianLat},
			Properties: map[string]any{"i": float64(i)},
		}))
	}
	h.put(fs...)
	perLayer := map[string]map[string]*spatial.Feature{}
	for _, f := range fs {
		if perLayer[f.Layer] == nil {
			perLayer[f.Layer] = map[string]*spatial.Feature{}
		}
		perLayer[f.Layer][f.ID] = f
	}
	check := func() {
		h.t.Helper()
		for _, l := range slices.Sorted(maps.Keys(perLayer)) {
			h.expectLayer(l, perLayer[l])
			got := h.scanCell(l, gridcode.Code{})
			if len(got) != len(perLayer[l]) {
				h.t.Errorf("ScanCell(%q, level 0) returned %d features, want %d", l, len(got), len(perLayer[l]))
			}
			for _, g := range got {
				if g.Layer != l {
					h.t.Errorf("ScanCell(%q) returned a feature of layer %q", l, g.Layer)
				}
			}
		}
		ls := h.layers()
		var gotNames []string
		for _, li := range ls {
			gotNames = append(gotNames, li.Name)
			if li.Count != len(perLayer[li.Name]) {
				h.t.Errorf("layer %q: count %d, want %d", li.Name, li.Count, len(perLayer[li.Name]))
			}
		}
		if want := slices.Sorted(maps.Keys(perLayer)); !slices.Equal(gotNames, want) {
			h.t.Errorf("Layers = %q, want %q", gotNames, want)
		}
	}
	check()
	h.cycle()
	check()
	// Deleting in one layer leaves look-alikes in others alone.
	h.del("a", "b|c", "\x00b", "b/c")
	for _, id := range []string{"b|c", "\x00b", "b/c"} {
		delete(perLayer["a"], id)
		h.expectNotFound("a", id)
	}
	check()
}

func testInvalidBatch(h *harness) {
	good := DalianFeature(13, "inv", 1)
	noID := DalianFeature(13, "inv", 2)
	noID.ID = ""
	noGeom := DalianFeature(13, "inv", 3)
	noGeom.Geometry = nil
	noLayer := DalianFeature(13, "inv", 4)
	noLayer.Layer = ""
	for _, bad := range []*spatial.Feature{noID, noGeom, noLayer} {
		err := h.s.Put(h.ctx, []*spatial.Feature{good, bad})
		if !errors.Is(err, spatial.ErrInvalid) {
			h.t.Errorf("Put of a batch with an invalid feature: %v, want an error wrapping spatial.ErrInvalid", err)
		}
		h.expectNotFound("inv", good.ID)
	}
	if ls := h.layers(); len(ls) != 0 {
		h.t.Errorf("Layers after rejected batches = %+v, want none", ls)
	}
}

func testEmpty(h *harness) {
	if err := h.s.Put(h.ctx, nil); err != nil {
		h.t.Errorf("Put(nil): %v", err)
	}
	h.del("x")
	if got := h.scan("x"); len(got) != 0 {
		h.t.Errorf("Scan of a missing layer returned %d features", len(got))
	}
	if got := h.scanCell("x", gridcode.Code{}); len(got) != 0 {
		h.t.Errorf("ScanCell of a missing layer returned %d features", len(got))
	}
	if ls := h.layers(); len(ls) != 0 {
		h.t.Errorf("Layers of an empty store = %+v", ls)
	}
}

func testConcurrent(h *harness) {
	const writers, batches, size = 4, 25, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers+2)
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				fs := DalianFeatures(14, fmt.Sprintf("c%d", w%2), (w*batches+b)*size, size)
				if err := h.s.Put(h.ctx, fs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, l := range []string{"c0", "c1"} {
					var prev *spatial.Feature
					err := h.s.Scan(h.ctx, l, func(f *spatial.Feature) error {
						if prev != nil && prev.Code.Compare(f.Code) > 0 {
							return fmt.Errorf("scan out of order during writes: %s before %s", prev.Code, f.Code)
						}
						prev = f
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
				if _, err := h.s.Layers(h.ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errs)
	for err := range errs {
		h.t.Error(err)
	}
	total := 0
	for _, l := range h.layers() {
		total += l.Count
		if n := len(h.scan(l.Name)); n != l.Count {
			h.t.Errorf("layer %q: Layers says %d, Scan finds %d", l.Name, l.Count, n)
		}
	}
	if total != writers*batches*size {
		h.t.Errorf("after concurrent puts the store holds %d features, want %d", total, writers*batches*size)
	}
}
