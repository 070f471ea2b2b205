package spatial

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// randomCity returns n prepared features around Dalian: buildings of
// varied size (so their codes have many levels), some points and lines,
// some with validity intervals.
func randomCity(t testing.TB, n int, seed uint64) []*Feature {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]*Feature, 0, n)
	base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		x, y := 121.55+r.Float64()*0.15, 38.88+r.Float64()*0.08
		var g orb.Geometry
		switch i % 5 {
		case 0:
			g = orb.Point{x, y}
		case 1:
			g = orb.LineString{{x, y}, {x + r.Float64()*0.003, y + r.Float64()*0.003}}
		default:
			w := math.Pow(10, -4-r.Float64()*1.5) * (1 + 10*float64(i%7/6))
			g = orb.Polygon{{{x, y}, {x + w, y}, {x + w, y + w}, {x, y + w}, {x, y}}}
		}
		f := &Feature{Layer: "b", ID: fmt.Sprintf("f%05d", i), Geometry: g,
			Properties: map[string]any{"use": []string{"residential", "office", "school"}[i%3], "storeys": float64(i % 30)},
			Height:     float64(i%30) * 3, Floors: i % 30}
		if i%4 == 0 {
			f.ValidFrom = base.AddDate(i%20, 0, 0)
		}
		if i%9 == 0 {
			f.ValidTo = base.AddDate(20+i%10, 0, 0)
		}
		if err := f.Prepare(); err != nil {
			t.Fatal(err)
		}
		f.Version = uint64(i + 1)
		out = append(out, f)
	}
	return out
}

func ids(fs []*Feature) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.ID
	}
	sort.Strings(out)
	return out
}

// pageAll follows cursors to the end.
func pageAll(t *testing.T, ix *Index, q Query) []*Feature {
	t.Helper()
	var all []*Feature
	for i := 0; ; i++ {
		p, err := ix.Search("b", q)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && len(p.Features) == 0 && p.Next == "" && q.Cursor != "" {
			break
		}
		for j := 1; j < len(p.Features); j++ {
			if !lessKey(keyOf(p.Features[j-1]), keyOf(p.Features[j])) {
				t.Fatalf("page not in grid-code order")
			}
		}
		all = append(all, p.Features...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	return all
}

func equalIDs(t *testing.T, name string, got []*Feature, want []*Feature) {
	t.Helper()
	g, w := ids(got), ids(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d results, want %d", name, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: result %d is %s, want %s", name, i, g[i], w[i])
		}
	}
}

func TestSearchMatchesBruteForce(t *testing.T) {
	city := randomCity(t, 3000, 1)
	ix := NewIndex()
	ix.Apply(city)
	when := time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC)
	box := orb.Bound{Min: orb.Point{121.6, 38.9}, Max: orb.Point{121.63, 38.92}}
	tri := orb.Polygon{{{121.58, 38.89}, {121.68, 38.90}, {121.62, 38.95}, {121.58, 38.89}}}
	cell, _ := gridcode.Encode(38.91, 121.61, 14)
	cb := cell.Bounds()
	cellBox := orb.Bound{Min: orb.Point{cb.West, cb.South}, Max: orb.Point{cb.East, cb.North}}
	tests := []struct {
		name string
		q    Query
		keep func(f *Feature) bool
	}{
		{"all now", Query{}, func(f *Feature) bool { return f.ValidTo.IsZero() }},
		{"all times", Query{AllTimes: true}, func(f *Feature) bool { return true }},
		{"as of 2015", Query{Time: when}, func(f *Feature) bool { return f.AliveAt(when) }},
		{"bbox", Query{Bound: &box}, func(f *Feature) bool { return f.ValidTo.IsZero() && Intersects(f.Geometry, box) }},
		{"intersects triangle", Query{Intersects: tri, AllTimes: true}, func(f *Feature) bool { return Intersects(f.Geometry, tri) }},
		{"within triangle", Query{Within: tri, AllTimes: true}, func(f *Feature) bool { return Within(f.Geometry, tri) }},
		{"filter", Query{AllTimes: true, Filters: []Filter{{"use", "=", "office"}, {"height", ">=", "30"}}},
			func(f *Feature) bool { return f.Properties["use"] == "office" && f.Height >= 30 }},
		{"cell", Query{Cell: &cell, AllTimes: true}, func(f *Feature) bool {
			return cell.Contains(f.Code) || (f.Code.Contains(cell) && Intersects(f.Geometry, cellBox))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []*Feature
			for _, f := range city {
				if tc.keep(f) {
					want = append(want, f)
				}
			}
			if len(want) == 0 {
				t.Fatalf("test selects nothing")
			}
			if n, err := ix.Count("b", tc.q); err != nil || n != len(want) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(want))
			}
			for _, limit := range []int{7, 100, MaxLimit} {
				q := tc.q
				q.Limit = limit
				equalIDs(t, fmt.Sprintf("%s limit %d", tc.name, limit), pageAll(t, ix, q), want)
			}
		})
	}
}

func TestNearestMatchesBruteForce(t *testing.T) {
	city := randomCity(t, 2000, 2)
	ix := NewIndex()
	ix.Apply(city)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 30; i++ {
		p := orb.Point{121.55 + r.Float64()*0.15, 38.88 + r.Float64()*0.08}
		got, err := ix.Nearest("b", p, 10, Query{AllTimes: true})
		if err != nil {
			t.Fatal(err)
		}
		type fd struct {
			f *Feature
			d float64
		}
		var all []fd
		for _, f := range city {
			d, _ := DistanceTo(p, f.Geometry)
			all = append(all, fd{f, d})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].d < all[j].d })
		if len(got) != 10 {
			t.Fatalf("%d results", len(got))
		}
		for j := range got {
			if math.Abs(got[j].Distance-all[j].d) > 1e-9 {
				t.Fatalf("point %v: result %d at %.3f m, brute force %.3f m", p, j, got[j].Distance, all[j].d)
			}
		}
	}
	if _, err := ix.Nearest("b", orb.Point{200, 0}, 3, Query{}); err == nil {
		t.Errorf("bad point accepted")
	}
	if _, err := ix.Nearest("nope", orb.Point{1, 1}, 3, Query{}); err == nil {
		t.Errorf("missing layer accepted")
	}
}

func TestGeodesicDistance(t *testing.T) {
	tests := []struct {
		p, q orb.Point
		want float64
		tol  float64
	}{
		// Vincenty (1975) test line: Flinders Peak to Buninyong (GRS80).
		{orb.Point{144 + 25/60.0 + 29.52440/3600, -(37 + 57/60.0 + 3.72030/3600)}, orb.Point{143 + 55/60.0 + 35.38390/3600, -(37 + 39/60.0 + 10.15610/3600)}, 54972.271, 0.001},
		// One degree of latitude at 38.5°: M·π/180 with M ≈ 6 360 168 m.
		{orb.Point{121.6, 38}, orb.Point{121.6, 39}, 111006, 1},
		{orb.Point{121.6, 38.9}, orb.Point{121.6, 38.9}, 0, 0},
	}
	for _, tc := range tests {
		if d := GeodesicDistance(tc.p, tc.q); math.Abs(d-tc.want) > tc.tol {
			t.Errorf("%v→%v: %.4f m, want %.4f", tc.p, tc.q, d, tc.want)
		}
	}
	sq := orb.Polygon{{{121.6, 38.9}, {121.61, 38.9}, {121.61, 38.91}, {121.6, 38.91}, {121.6, 38.9}}}
	if d, _ := DistanceTo(orb.Point{121.605, 38.905}, sq); d != 0 {
		t.Errorf("inside: %v", d)
	}
	d, q := DistanceTo(orb.Point{121.605, 38.92}, sq)
	if want := GeodesicDistance(orb.Point{121.605, 38.92}, orb.Point{121.605, 38.91}); math.Abs(d-want) > 0.01 || math.Abs(q[1]-38.91) > 1e-9 {
		t.Errorf("north of square: %v at %v, want %v", d, q, want)
	}
}

func TestPredicates(t *testing.T) {
	sq := orb.Polygon{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}, {{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}}
	tests := []struct {
		name              string
		g                 orb.Geometry
		intersects, wthin bool
	}{
		{"point inside", orb.Point{3, 3}, true, true},
		{"point in hole", orb.Point{1.5, 1.5}, false, false},
		{"point on edge", orb.Point{4, 2}, true, true},
		{"point outside", orb.Point{5, 5}, false, false},
		{"line crossing", orb.LineString{{-1, 3}, {5, 3}}, true, false},
		{"line inside", orb.LineString{{3, 0.5}, {3, 3.5}}, true, true},
		{"line across hole", orb.LineString{{0.5, 1.5}, {3, 1.5}}, true, false},
		{"polygon around hole", orb.Polygon{{{0.5, 0.5}, {3, 0.5}, {3, 3}, {0.5, 3}, {0.5, 0.5}}}, true, false},
		{"polygon inside", orb.Polygon{{{2.5, 2.5}, {3, 2.5}, {3, 3}, {2.5, 2.5}}}, true, true},
		{"polygon containing", orb.Polygon{{{-1, -1}, {5, -1}, {5, 5}, {-1, 5}, {-1, -1}}}, true, false},
		{"polygon far", orb.Polygon{{{10, 10}, {11, 10}, {11, 11}, {10, 10}}}, false, false},
		{"collection", orb.Collection{orb.Point{9, 9}, orb.Point{3, 3}}, true, false},
	}
	for _, tc := range tests {
		if got := Intersects(tc.g, sq); got != tc.intersects {
			t.Errorf("%s: Intersects = %v", tc.name, got)
		}
		if got := Intersects(sq, tc.g); got != tc.intersects {
			t.Errorf("%s: Intersects reversed = %v", tc.name, got)
		}
		if got := Within(tc.g, sq); got != tc.wthin {
			t.Errorf("%s: Within = %v", tc.name, got)
		}
	}
}

func TestApplyReplaceRemoveAndFeed(t *testing.T) {
	var fd Feed
	sub := fd.Subscribe(10)
	small := fd.Subscribe(1)
	ix := NewIndex()
	a := &Feature{Layer: "b", ID: "a", Geometry: orb.Point{121.6, 38.9}}
	if err := a.Prepare(); err != nil {
		t.Fatal(err)
	}
	fd.Publish(ix.Apply([]*Feature{a}))
	moved := &Feature{Layer: "b", ID: "a", Geometry: orb.Point{121.7, 38.95}}
	if err := moved.Prepare(); err != nil {
		t.Fatal(err)
	}
	fd.Publish(ix.Apply([]*Feature{moved}))
	old := a.Code
	if p, _ := ix.Search("b", Query{Cell: &old}); len(p.Features) != 0 {
		t.Errorf("moved feature still found in its old cell")
	}
	fd.Publish(ix.Remove("b", []string{"a", "missing"}, 3))
	if _, ok := ix.Get("b", "a"); ok {
		t.Errorf("removed feature still there")
	}
	var kinds []ChangeKind
	for i := 0; i < 3; i++ {
		kinds = append(kinds, (<-sub.C).Kind)
	}
	if kinds[0] != Insert || kinds[1] != Update || kinds[2] != Delete {
		t.Errorf("kinds %v", kinds)
	}
	if !small.Lagged() {
		t.Errorf("full subscriber not dropped")
	}
	<-small.C // the one change that fitted before it was dropped
	if _, open := <-small.C; open {
		t.Errorf("lagged subscription channel still open")
	}
	sub.Cancel()
	sub.Cancel()
	if len(ix.Layers()) != 0 {
		t.Errorf("empty layer listed")
	}
}

func TestSearchErrors(t *testing.T) {
	ix := NewIndex()
	ix.Apply(randomCity(t, 10, 5))
	for _, q := range []Query{{Limit: -1}, {Limit: MaxLimit + 1}, {Cursor: "!!"}, {Cursor: "AAAA"}} {
		if _, err := ix.Search("b", q); err == nil {
			t.Errorf("%+v accepted", q)
		}
	}
	if _, err := ix.Search("missing", Query{}); err == nil {
		t.Errorf("missing layer accepted")
	}
	if _, err := ParseFilter("novalue"); err == nil {
		t.Errorf("bad filter accepted")
	}
	f, err := ParseFilter("height>=30")
	if err != nil || f != (Filter{"height", ">=", "30"}) {
		t.Errorf("ParseFilter: %+v %v", f, err)
	}
}

func TestApplyLargeBatchWithDuplicatesKeepsLastWrite(t *testing.T) {
	city := randomCity(t, 600, 9)
	moved := city[10].Clone()
	moved.Geometry = orb.Point{121.9, 39.5}
	if err := moved.Prepare(); err != nil {
		t.Fatal(err)
	}
	ix := NewIndex()
	changes := ix.Apply(append(city, moved))
	got, _ := ix.Get("b", city[10].ID)
	if got != moved {
		t.Errorf("first write won over the last")
	}
	if last := changes[len(changes)-1]; last.Kind != Update || last.ID != moved.ID {
		t.Errorf("last change %+v", last)
	}
	if n := ix.Layers()[0].Count; n != 600 {
		t.Errorf("%d features", n)
	}
}
