package spatial_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/storetest"

	"github.com/paulmach/orb"
)

// square returns a small square polygon with its south-west corner at
// lon, lat.
func square(lon, lat float64) orb.Polygon {
	d := 0.0005
	return orb.Polygon{{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}}
}

func box(lon, lat float64) *orb.Bound {
	b := orb.Bound{Min: orb.Point{lon - 0.0001, lat - 0.0001}, Max: orb.Point{lon + 0.0006, lat + 0.0006}}
	return &b
}

// versionsOf summarises a feature's versions for comparisons.
func versionsOf(fs []*spatial.Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%v %s–%s v%d", f.Geometry.Bound().Min, f.ValidFrom.Format(time.RFC3339Nano), f.ValidTo.Format(time.RFC3339Nano), f.Version)
	}
	return out
}

func searchIDs(t *testing.T, ix *spatial.Index, layer string, q spatial.Query) []*spatial.Feature {
	t.Helper()
	var out []*spatial.Feature
	q.Limit = 1 // page through every version, one at a time
	for pages := 0; ; pages++ {
		p, err := ix.Search(layer, q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Features...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
		if pages > 1000 {
			t.Fatal("cursor loop")
		}
	}
}

func TestKernelHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k, st := openKernel(t, dir)
	ix := k.Index()
	t1 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	p1, p2, p3 := orb.Point{121.60, 38.90}, orb.Point{121.62, 38.91}, orb.Point{121.64, 38.92}
	put := func(g orb.Geometry, from time.Time, props map[string]any) spatial.Change {
		t.Helper()
		ch, err := k.Put(ctx, []*spatial.Feature{{Layer: "b", ID: "a", Geometry: g, ValidFrom: from, Properties: props}})
		if err != nil {
			t.Fatal(err)
		}
		return ch[0]
	}
	if c := put(square(p1[0], p1[1]), time.Time{}, map[string]any{"v": 1.0}); c.Kind != spatial.Insert {
		t.Errorf("first put: %v", c.Kind)
	}
	if _, err := k.Put(ctx, storetest.DalianFeatures(2, "b", 0, 20)); err != nil {
		t.Fatal(err)
	}
	if c := put(square(p2[0], p2[1]), t1, map[string]any{"v": 2.0}); c.Kind != spatial.Update || c.Old != square(p1[0], p1[1]).Bound() {
		t.Errorf("edit: %+v", c)
	}
	before := time.Now()
	put(square(p3[0], p3[1]), time.Time{}, map[string]any{"v": 3.0})
	vs := ix.Versions("b", "a")
	if len(vs) != 3 {
		t.Fatalf("%d versions after two edits: %q", len(vs), versionsOf(vs))
	}
	if !vs[0].ValidFrom.IsZero() || !vs[0].ValidTo.Equal(t1) || !vs[1].ValidFrom.Equal(t1) || !vs[1].ValidTo.Equal(vs[2].ValidFrom) || !vs[2].ValidTo.IsZero() {
		t.Errorf("intervals: %q", versionsOf(vs))
	}
	if now := vs[2].ValidFrom; now.Before(before.Add(-time.Microsecond)) || now.After(time.Now()) || now.Nanosecond()%1000 != 0 {
		t.Errorf("an edit without valid-from is dated %s, not now to the microsecond", now)
	}
	if vs[0].Properties["v"] != 1.0 || vs[1].Properties["v"] != 2.0 || vs[2].Properties["v"] != 3.0 {
		t.Errorf("properties of the versions: %v %v %v", vs[0].Properties, vs[1].Properties, vs[2].Properties)
	}
	if f, _ := ix.Get("b", "a"); f != vs[2] {
		t.Errorf("Get returned %v, not the current version", f)
	}

	checkTimes := func(t *testing.T, ix *spatial.Index) {
		t.Helper()
		early, mid := t1.Add(-time.Hour), t1.Add(time.Hour)
		for _, c := range []struct {
			at   time.Time
			want orb.Point
		}{{early, p1}, {mid, p2}, {time.Time{}, p3}} {
			f, ok := ix.GetAt("b", "a", c.at)
			if !ok || f.Geometry.Bound().Min != c.want {
				t.Errorf("GetAt(%s) = %v", c.at, f)
			}
			for _, p := range []orb.Point{p1, p2, p3} {
				n, err := ix.Count("b", spatial.Query{Bound: box(p[0], p[1]), Time: c.at})
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 1, false: 0}[p == c.want]; n != want {
					t.Errorf("Count at %s around %v = %d, want %d", c.at, p, n, want)
				}
				page, _ := ix.Search("b", spatial.Query{Bound: box(p[0], p[1]), Time: c.at})
				if len(page.Features) != n {
					t.Errorf("Search at %s around %v: %d features, Count %d", c.at, p, len(page.Features), n)
				}
			}
			ns, err := ix.Nearest("b", c.want, 1, spatial.Query{Time: c.at, Filters: []spatial.Filter{{Key: "id", Op: "=", Value: "a"}}})
			if err != nil || len(ns) != 1 || ns[0].Feature.Geometry.Bound().Min != c.want {
				t.Errorf("Nearest at %s: %v %v", c.at, ns, err)
			}
		}
		// AllTimes pages through every version of a, each once.
		got := searchIDs(t, ix, "b", spatial.Query{AllTimes: true, Filters: []spatial.Filter{{Key: "id", Op: "=", Value: "a"}}})
		if len(got) != 3 {
			t.Errorf("AllTimes paged %d versions of a: %q", len(got), versionsOf(got))
		}
		seen := map[*spatial.Feature]bool{}
		for _, f := range got {
			if seen[f] {
				t.Errorf("version served twice: %q", versionsOf([]*spatial.Feature{f}))
			}
			seen[f] = true
		}
		cell := vs[0].Code.ParentAt(5)
		all := searchIDs(t, ix, "b", spatial.Query{AllTimes: true, Cell: &cell})
		if n, _ := ix.Count("b", spatial.Query{AllTimes: true, Cell: &cell}); n != len(all) {
			t.Errorf("cell %s: paged %d, counted %d", cell, len(all), n)
		}
		if ls := ix.Layers(); ls[0].Count != 21 {
			t.Errorf("layer count %d, want 21 current features", ls[0].Count)
		}
	}
	checkTimes(t, ix)

	// A correction (valid-from not after the current one's) replaces the
	// current version in place and never reaches back into the history.
	put(square(p3[0], p3[1]), t1, map[string]any{"v": 3.5})
	vs2 := ix.Versions("b", "a")
	if len(vs2) != 3 || vs2[2].Properties["v"] != 3.5 || !vs2[2].ValidFrom.Equal(vs[2].ValidFrom) {
		t.Errorf("after a correction: %q", versionsOf(vs2))
	}
	vs = vs2

	// The history survives a restart.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	k, st = openKernel(t, dir)
	ix = k.Index()
	if got := versionsOf(ix.Versions("b", "a")); fmt.Sprint(got) != fmt.Sprint(versionsOf(vs)) {
		t.Errorf("after reload:\n got %q\nwant %q", got, versionsOf(vs))
	}
	checkTimes(t, ix)

	// End: gone now, there before; Get returns the last version.
	ch, err := k.End(ctx, "b", []string{"a", "a", "missing"}, time.Time{})
	if err != nil || len(ch) != 1 || ch[0].Kind != spatial.Delete {
		t.Fatalf("End: %v %v", ch, err)
	}
	if _, ok := ix.GetAt("b", "a", time.Time{}); ok {
		t.Error("an ended feature is still there now")
	}
	if f, ok := ix.GetAt("b", "a", t1.Add(time.Hour)); !ok || f.Geometry.Bound().Min != p2 {
		t.Errorf("ended feature as of %s: %v", t1.Add(time.Hour), f)
	}
	if f, ok := ix.Get("b", "a"); !ok || f.ValidTo.IsZero() || f.Geometry.Bound().Min != p3 {
		t.Errorf("Get of an ended feature: %v", f)
	}
	if ls := ix.Layers(); ls[0].Count != 20 {
		t.Errorf("layer count after End %d, want 20", ls[0].Count)
	}
	if ch, err := k.End(ctx, "b", []string{"a"}, time.Time{}); err != nil || len(ch) != 0 {
		t.Errorf("second End: %v %v", ch, err)
	}
	if n, _ := ix.Count("b", spatial.Query{Bound: box(p3[0], p3[1])}); n != 0 {
		t.Errorf("an ended feature counts now")
	}
	// An end before the current version began is refused.
	f0 := storetest.DalianFeature(2, "b", 0)
	if _, err := k.End(ctx, "b", []string{f0.ID}, time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, spatial.ErrInvalid) {
		t.Errorf("End before the beginning: %v", err)
	}
	// A new version of an ended feature must begin after its last began.
	if _, err := k.Put(ctx, []*spatial.Feature{{Layer: "b", ID: "a", Geometry: orb.Point{121.6, 38.9}, ValidFrom: t1}}); !errors.Is(err, spatial.ErrInvalid) {
		t.Errorf("backdated put of an ended feature: %v", err)
	}
	if c := put(orb.Point{121.65, 38.93}, time.Time{}, nil); c.Kind != spatial.Update {
		t.Errorf("re-creating an ended feature: %v", c.Kind)
	}
	if vs := ix.Versions("b", "a"); len(vs) != 4 || !vs[3].ValidFrom.After(vs[2].ValidTo.Add(-time.Nanosecond)) {
		t.Errorf("after re-creating: %q", versionsOf(vs))
	}

	// Two versions in one batch: the first is archived by the second.
	t2 := t1.AddDate(1, 0, 0)
	if _, err := k.Put(ctx, []*spatial.Feature{
		{Layer: "b", ID: "twice", Geometry: orb.Point{121.61, 38.9}, ValidFrom: t1},
		{Layer: "b", ID: "twice", Geometry: orb.Point{121.62, 38.9}, ValidFrom: t2},
	}); err != nil {
		t.Fatal(err)
	}
	if vs := ix.Versions("b", "twice"); len(vs) != 2 || !vs[0].ValidTo.Equal(t2) || vs[0].Version == 0 || vs[0].Version >= vs[1].Version {
		t.Errorf("two versions in a batch: %q", versionsOf(vs))
	}

	// Delete purges every version, durably.
	if ch, err := k.Delete(ctx, "b", []string{"a", "twice"}); err != nil || len(ch) != 2 {
		t.Fatalf("Delete: %v %v", ch, err)
	}
	if vs := ix.Versions("b", "a"); len(vs) != 0 {
		t.Errorf("versions after purge: %q", versionsOf(vs))
	}
	if n, _ := ix.Count("b", spatial.Query{AllTimes: true, Filters: []spatial.Filter{{Key: "id", Op: "=", Value: "a"}}}); n != 0 {
		t.Errorf("%d versions of a after a purge", n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	k, st = openKernel(t, dir)
	defer st.Close()
	if vs := k.Index().Versions("b", "a"); len(vs) != 0 {
		t.Errorf("versions after purge and reload: %q", versionsOf(vs))
	}
	if past, err := st.Past(ctx, "b", "twice"); err != nil || len(past) != 0 {
		t.Errorf("stored history after purge: %d %v", len(past), err)
	}
}

// failingStore fails every PutVersions.
type failingStore struct{ spatial.Store }

func (failingStore) PutVersions(context.Context, spatial.Versions) error {
	return errors.New("disk on fire")
}

func TestKernelEditIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	_, st := openKernel(t, t.TempDir())
	defer st.Close()
	k, err := spatial.NewKernel(ctx, failingStore{st}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Put(ctx, []*spatial.Feature{{Layer: "b", ID: "a", Geometry: orb.Point{121.6, 38.9}}}); err != nil {
		t.Fatal(err)
	}
	v := k.Version()
	if _, err := k.Put(ctx, []*spatial.Feature{{Layer: "b", ID: "a", Geometry: orb.Point{121.7, 38.9}}}); err == nil {
		t.Fatal("edit through a failing store succeeded")
	}
	if _, err := k.End(ctx, "b", []string{"a"}, time.Time{}); err == nil {
		t.Fatal("end through a failing store succeeded")
	}
	if vs := k.Index().Versions("b", "a"); len(vs) != 1 || vs[0].Geometry != (orb.Point{121.6, 38.9}) || !vs[0].ValidTo.IsZero() {
		t.Errorf("after failed writes the index holds %q", versionsOf(vs))
	}
	if k.Version() != v {
		t.Errorf("version moved from %d to %d on a failed write", v, k.Version())
	}
	if past, _ := st.Past(ctx, "b", "a"); len(past) != 0 {
		t.Errorf("a failed write stored %d past versions", len(past))
	}
}

func TestCursorFromBeforeHistory(t *testing.T) {
	ix := spatial.NewIndex()
	fs := storetest.DalianFeatures(3, "l", 0, 30)
	ix.Apply(fs)
	p, err := ix.Search("l", spatial.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// A cursor as servers without history issued it: code bits, level, id.
	last := p.Features[9]
	old := make([]byte, 0, 9+len(last.ID))
	old = append(old, byte(last.Code.Bits()>>56), byte(last.Code.Bits()>>48), byte(last.Code.Bits()>>40), byte(last.Code.Bits()>>32),
		byte(last.Code.Bits()>>24), byte(last.Code.Bits()>>16), byte(last.Code.Bits()>>8), byte(last.Code.Bits()))
	old = append(old, byte(last.Code.Level()))
	old = append(old, last.ID...)
	q1, err := ix.Search("l", spatial.Query{Limit: 10, Cursor: p.Next})
	if err != nil {
		t.Fatal(err)
	}
	q2, err := ix.Search("l", spatial.Query{Limit: 10, Cursor: encodeRaw(old)})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(versionsOf(q1.Features)) != fmt.Sprint(versionsOf(q2.Features)) || q1.Features[0] == last {
		t.Errorf("old cursor continues elsewhere")
	}
}

func encodeRaw(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
