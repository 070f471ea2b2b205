package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Past versions: the suite's subtests of PutVersions, Past, ScanPast and
// Delete's purge of history.

func (h *harness) putVersions(v spatial.Versions) {
	h.t.Helper()
	if err := h.s.PutVersions(h.ctx, v); err != nil {
		h.t.Fatalf("PutVersions(%d current, %d past, %d ended): %v", len(v.Current), len(v.Past), len(v.Ended), err)
	}
}

func (h *harness) past(layer, id string) []*spatial.Feature {
	h.t.Helper()
	fs, err := h.s.Past(h.ctx, layer, id)
	if err != nil {
		h.t.Fatalf("Past(%q, %q): %v", layer, id, err)
	}
	return fs
}

func (h *harness) scanPast() []*spatial.Feature {
	h.t.Helper()
	var out []*spatial.Feature
	if err := h.s.ScanPast(h.ctx, func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	}); err != nil {
		h.t.Fatalf("ScanPast: %v", err)
	}
	return out
}

// expectPast checks that Past returns exactly want, in order.
func (h *harness) expectPast(layer, id string, want ...*spatial.Feature) {
	h.t.Helper()
	got := h.past(layer, id)
	if len(got) != len(want) {
		h.t.Errorf("Past(%q, %q) returned %d versions, want %d", layer, id, len(got), len(want))
		return
	}
	for i := range want {
		if d := Diff(want[i], got[i]); d != "" {
			h.t.Errorf("Past(%q, %q) version %d: %s", layer, id, i, d)
		}
	}
}

// version returns a Prepared version of a feature valid [from, to).
func version(t interface{ Fatalf(string, ...any) }, layer, id string, g orb.Geometry, from, to time.Time, v uint64) *spatial.Feature {
	f := &spatial.Feature{Layer: layer, ID: id, Geometry: g, ValidFrom: from, ValidTo: to, Version: v,
		Properties: map[string]any{"v": float64(v), "nested": map[string]any{"a": []any{1.0, "x", nil}}}, Height: float64(v), Floors: int(v)}
	if err := f.Prepare(); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	return f
}

func testPastRoundTrip(h *harness) {
	t0 := µs(2001, 2, 3, 4, 5, 6, 7)
	t1 := µs(2010, 6, 1, 0, 0, 0, 123456)
	t2 := µs(2020, 1, 1, 12, 0, 0, 999999)
	sq := orb.Polygon{{{121.6, 38.9}, {121.61, 38.9}, {121.61, 38.91}, {121.6, 38.91}, {121.6, 38.9}}}
	p0 := version(h.t, "hist", "x", orb.Point{121.6, 38.9}, time.Time{}, t0, 1)
	p1 := version(h.t, "hist", "x", orb.LineString{{121.5, 38.8}, {121.7, 39.0}}, t0, t1, 2)
	p2 := version(h.t, "hist", "x", sq, t1, t2, 3)
	cur := version(h.t, "hist", "x", orb.Point{121.65, 38.95}, t2, time.Time{}, 4)
	h.put(DalianFeature(30, "hist", 1))
	h.putVersions(spatial.Versions{Current: []*spatial.Feature{cur}, Past: []*spatial.Feature{p2, p0, p1}})
	check := func() {
		h.t.Helper()
		h.expectPast("hist", "x", p0, p1, p2)
		if d := Diff(cur, h.get("hist", "x")); d != "" {
			h.t.Errorf("Get: %s", d)
		}
		if got := h.past("hist", "nosuch"); len(got) != 0 {
			h.t.Errorf("Past of an id without history returned %d versions", len(got))
		}
		if got := h.past("nolayer", "x"); len(got) != 0 {
			h.t.Errorf("Past in a missing layer returned %d versions", len(got))
		}
		if got := h.past("hist", DalianFeature(30, "hist", 1).ID); len(got) != 0 {
			h.t.Errorf("Past of a feature never edited returned %d versions", len(got))
		}
	}
	check()
	h.cycle()
	check()
	// PutVersions without past versions is a plain put; one that adds a
	// version to the history leaves the current one alone.
	cur2 := version(h.t, "hist", "y", orb.Point{121.66, 38.96}, time.Time{}, time.Time{}, 5)
	h.putVersions(spatial.Versions{Current: []*spatial.Feature{cur2}})
	if d := Diff(cur2, h.get("hist", "y")); d != "" {
		h.t.Errorf("Get after a PutVersions of a current version only: %s", d)
	}
	p3 := version(h.t, "hist", "x", sq, µs(1990, 1, 1, 0, 0, 0, 0), µs(1995, 1, 1, 0, 0, 0, 0), 6)
	p0b := version(h.t, "hist", "x", orb.Point{121.6, 38.9}, time.Time{}, µs(1990, 1, 1, 0, 0, 0, 0), 7)
	h.putVersions(spatial.Versions{Past: []*spatial.Feature{p3, p0b}})
	h.expectPast("hist", "x", p0b, p3, p1, p2)
	if d := Diff(cur, h.get("hist", "x")); d != "" {
		h.t.Errorf("Get after adding history: %s", d)
	}
}

func testPastReplace(h *harness) {
	from, to := µs(2015, 3, 4, 5, 6, 7, 8), µs(2016, 1, 1, 0, 0, 0, 0)
	a := version(h.t, "rep", "x", orb.Point{121.6, 38.9}, from, to, 1)
	b := version(h.t, "rep", "x", orb.Point{122.6, 39.9}, from, µs(2015, 6, 1, 0, 0, 0, 0), 2)
	h.putVersions(spatial.Versions{Past: []*spatial.Feature{a}})
	h.putVersions(spatial.Versions{Past: []*spatial.Feature{b}})
	h.expectPast("rep", "x", b)
	// Twice in one call: the last wins.
	c := version(h.t, "rep", "x", orb.Point{121.7, 38.8}, from, to, 3)
	d := version(h.t, "rep", "x", orb.Point{121.8, 38.7}, from, to, 4)
	h.putVersions(spatial.Versions{Past: []*spatial.Feature{c, d}})
	h.expectPast("rep", "x", d)
	h.cycle()
	h.expectPast("rep", "x", d)
}

func testPastOrder(h *harness) {
	layers := []string{"l", "l2", "la"}
	ids := []string{"a", "ab", "b", "x1", "x10", "x2"}
	rng := rand.New(rand.NewPCG(31, 31))
	var all []*spatial.Feature
	for _, l := range layers {
		for _, id := range ids {
			start := µs(2000, 1, 1, 0, 0, 0, 0)
			for i := range 1 + rng.IntN(5) {
				from := start
				if i == 0 && rng.IntN(2) == 0 {
					from = time.Time{}
				}
				to := start.Add(time.Duration(1+rng.IntN(1e6)) * time.Microsecond * 1000)
				all = append(all, version(h.t, l, id, orb.Point{DalianLon + rng.Float64()*0.1, DalianLat + rng.Float64()*0.1}, from, to, uint64(len(all)+1)))
				start = to
			}
		}
	}
	shuffled := slices.Clone(all)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	h.putVersions(spatial.Versions{Past: shuffled[:len(shuffled)/2]})
	h.putVersions(spatial.Versions{Past: shuffled[len(shuffled)/2:]})
	check := func() {
		h.t.Helper()
		got := h.scanPast()
		if len(got) != len(all) {
			h.t.Fatalf("ScanPast returned %d versions, want %d", len(got), len(all))
		}
		for i := range all {
			if d := Diff(all[i], got[i]); d != "" {
				h.t.Fatalf("ScanPast version %d (want %s/%s from %s): %s", i, all[i].Layer, all[i].ID, all[i].ValidFrom, d)
			}
		}
		for _, l := range layers {
			for _, id := range ids {
				var want []*spatial.Feature
				for _, f := range all {
					if f.Layer == l && f.ID == id {
						want = append(want, f)
					}
				}
				h.expectPast(l, id, want...)
			}
		}
	}
	check()
	h.cycle()
	check()
}

func testPastEnd(h *harness) {
	fs := DalianFeatures(32, "end", 0, 20)
	h.put(fs...)
	ended := make([]*spatial.Feature, 3)
	var refs []spatial.FeatureRef
	for i := range ended {
		e := fs[i].Clone()
		e.ValidTo = µs(2262, 1, 1, 0, 0, 0, 0).AddDate(-1, 0, 0)
		ended[i] = e
		refs = append(refs, spatial.FeatureRef{Layer: "end", ID: e.ID})
	}
	refs = append(refs, spatial.FeatureRef{Layer: "end", ID: "missing"}, spatial.FeatureRef{Layer: "nolayer", ID: "x"})
	h.putVersions(spatial.Versions{Past: ended, Ended: refs})
	check := func() {
		h.t.Helper()
		want := byID(fs[3:])
		h.expectLayer("end", want)
		for i, e := range ended {
			h.expectNotFound("end", e.ID)
			h.expectPast("end", e.ID, ended[i])
		}
		if ls := h.layers(); len(ls) != 1 || ls[0].Count != len(fs)-3 || ls[0].Bound != union(fs[3:]) {
			h.t.Errorf("Layers after ending 3 = %+v, want one layer of %d with bound %v", ls, len(fs)-3, union(fs[3:]))
		}
	}
	check()
	h.cycle()
	check()
	// Ending and putting one feature in one call: the put wins.
	again := fs[0].Clone()
	again.Version = 1000
	h.putVersions(spatial.Versions{Current: []*spatial.Feature{again}, Ended: []spatial.FeatureRef{{Layer: "end", ID: again.ID}}})
	if d := Diff(again, h.get("end", again.ID)); d != "" {
		h.t.Errorf("Get after an end and a put in one call: %s", d)
	}
	// Ending every feature of a layer empties it.
	var all []spatial.FeatureRef
	for _, f := range h.scan("end") {
		all = append(all, spatial.FeatureRef{Layer: "end", ID: f.ID})
	}
	h.putVersions(spatial.Versions{Ended: all})
	if ls := h.layers(); len(ls) != 0 {
		h.t.Errorf("Layers after ending every feature = %+v", ls)
	}
	h.expectPast("end", ended[1].ID, ended[1])
}

func testPastPurge(h *harness) {
	fs := DalianFeatures(33, "purge", 0, 6)
	h.put(fs...)
	var past []*spatial.Feature
	for i, f := range fs {
		for j := range 1 + i%3 {
			from := µs(1990+j, 1, 1, 0, 0, 0, i)
			past = append(past, version(h.t, "purge", f.ID, orb.Point{DalianLon + float64(j)*0.01, DalianLat}, from, from.AddDate(1, 0, 0), uint64(100*i+j)))
		}
	}
	only := version(h.t, "purge", "only-past", orb.Point{DalianLon, DalianLat}, time.Time{}, µs(2000, 1, 1, 0, 0, 0, 0), 7)
	other := version(h.t, "purge2", fs[0].ID, orb.Point{DalianLon, DalianLat}, time.Time{}, µs(2000, 1, 1, 0, 0, 0, 0), 8)
	h.putVersions(spatial.Versions{Past: append(past, only, other)})
	h.del("purge", fs[0].ID, fs[1].ID, "only-past", "missing")
	check := func() {
		h.t.Helper()
		for _, id := range []string{fs[0].ID, fs[1].ID, "only-past"} {
			h.expectNotFound("purge", id)
			if got := h.past("purge", id); len(got) != 0 {
				h.t.Errorf("Past(%q) after Delete returned %d versions", id, len(got))
			}
		}
		h.expectLayer("purge", byID(fs[2:]))
		for _, f := range fs[2:] {
			var want []*spatial.Feature
			for _, p := range past {
				if p.ID == f.ID {
					want = append(want, p)
				}
			}
			h.expectPast("purge", f.ID, want...)
		}
		h.expectPast("purge2", fs[0].ID, other)
		if n := len(h.scanPast()); n != len(past)-3+1 {
			h.t.Errorf("ScanPast after Delete returned %d versions, want %d", n, len(past)-3+1)
		}
	}
	check()
	h.cycle()
	check()
	// A purged id can be used again, without its old history.
	h.put(fs[0])
	h.expectPast("purge", fs[0].ID)
}

func testPastLayersAndCells(h *harness) {
	fs := DalianFeatures(34, "pl", 0, 300)
	h.put(fs...)
	before := h.layers()
	// Past versions of every third feature, far away and large, and of
	// ids that have no current version.
	var past []*spatial.Feature
	for i, f := range fs {
		if i%3 != 0 {
			continue
		}
		g := orb.Polygon{{{100, 20}, {140, 20}, {140, 50}, {100, 50}, {100, 20}}}
		if i%2 == 0 {
			g = orb.Polygon{{{-70.7, -33.5}, {-70.6, -33.5}, {-70.6, -33.4}, {-70.7, -33.5}}}
		}
		past = append(past, version(h.t, "pl", f.ID, g, time.Time{}, µs(1999, 1, 1, 0, 0, 0, 0), uint64(5000+i)))
	}
	for i := range 5 {
		past = append(past, version(h.t, "pl", fmt.Sprintf("gone%d", i), orb.Point{-1, -1}, time.Time{}, µs(1999, 1, 1, 0, 0, 0, 0), uint64(9000+i)))
	}
	h.putVersions(spatial.Versions{Past: past})
	if got := h.layers(); !slices.Equal(got, before) {
		h.t.Errorf("Layers after adding past versions = %+v, want %+v (current versions only)", got, before)
	}
	h.expectLayer("pl", byID(fs))
	if got := h.scanCell("pl", gridcode.Code{}); len(got) != len(fs) {
		h.t.Errorf("ScanCell(level 0) returned %d features, want the %d current ones", len(got), len(fs))
	}
	for _, p := range past {
		for _, g := range h.scanCell("pl", p.Code) {
			if g.ValidTo.Equal(p.ValidTo) && g.ID == p.ID && g.ValidFrom.Equal(p.ValidFrom) {
				h.t.Errorf("ScanCell(%s) returned the past version of %q", p.Code, p.ID)
			}
		}
	}
	// Replacing and deleting current versions leaves history alone.
	moved := DalianFeature(35, "pl", 0)
	moved.ID = fs[0].ID
	h.put(moved)
	h.expectPast("pl", fs[0].ID, past[0])
	h.del("pl", fs[1].ID) // no history
	h.cycle()
	if ls := h.layers(); len(ls) != 1 || ls[0].Count != len(fs)-1 {
		h.t.Errorf("Layers after a replace and a delete = %+v, want %d features", ls, len(fs)-1)
	}
}

func testPastInvalidIsAtomic(h *harness) {
	good := DalianFeature(36, "pinv", 1)
	goodPast := version(h.t, "pinv", "p", orb.Point{DalianLon, DalianLat}, time.Time{}, µs(2000, 1, 1, 0, 0, 0, 0), 1)
	open := version(h.t, "pinv", "q", orb.Point{DalianLon, DalianLat}, time.Time{}, time.Time{}, 2) // no valid-to
	noGeom := goodPast.Clone()
	noGeom.ID, noGeom.Geometry = "r", nil
	for _, v := range []spatial.Versions{
		{Current: []*spatial.Feature{good}, Past: []*spatial.Feature{goodPast, open}},
		{Current: []*spatial.Feature{good}, Past: []*spatial.Feature{goodPast, noGeom}},
		{Current: []*spatial.Feature{good, {Layer: "pinv", ID: "bad", Geometry: orb.LineString{{1, 1}}}}, Past: []*spatial.Feature{goodPast}},
	} {
		err := h.s.PutVersions(h.ctx, v)
		if !errors.Is(err, spatial.ErrInvalid) {
			h.t.Errorf("PutVersions with an invalid version: %v, want an error wrapping spatial.ErrInvalid", err)
		}
		h.expectNotFound("pinv", good.ID)
		if got := h.past("pinv", "p"); len(got) != 0 {
			h.t.Errorf("a rejected PutVersions wrote %d past versions", len(got))
		}
	}
	canceled, cancel := context.WithCancel(h.ctx)
	cancel()
	if err := h.s.PutVersions(canceled, spatial.Versions{Current: []*spatial.Feature{good}, Past: []*spatial.Feature{goodPast}}); !errors.Is(err, context.Canceled) {
		h.t.Errorf("PutVersions with a canceled context: %v", err)
	}
	h.expectNotFound("pinv", good.ID)
	if got := h.past("pinv", "p"); len(got) != 0 {
		h.t.Errorf("a canceled PutVersions wrote %d past versions", len(got))
	}
	if _, err := h.s.Past(canceled, "pinv", "p"); !errors.Is(err, context.Canceled) {
		h.t.Errorf("Past with a canceled context: %v", err)
	}
	if err := h.s.ScanPast(canceled, func(*spatial.Feature) error { return nil }); !errors.Is(err, context.Canceled) {
		h.t.Errorf("ScanPast with a canceled context: %v", err)
	}
	if ls := h.layers(); len(ls) != 0 {
		h.t.Errorf("Layers after rejected writes = %+v", ls)
	}
	if got := h.scanPast(); len(got) != 0 {
		h.t.Errorf("ScanPast after rejected writes returned %d versions", len(got))
	}
}
