package osm

import (
	"bytes"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestParseLength(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"12", 12, true},
		{"12 m", 12, true},
		{"12.5m", 12.5, true},
		{" 12.5 metres ", 12.5, true},
		{"40 ft", 12.192, true},
		{"40ft", 12.192, true},
		{"40 feet", 12.192, true},
		{"12'6\"", 12*0.3048 + 6*0.0254, true},
		{"12'", 12 * 0.3048, true},
		{"12,5", 12.5, true},
		{"0.5 km", 500, true},
		{"350 cm", 3.5, true},
		{"0", 0, true},
		{"", 0, false},
		{"tall", 0, false},
		{"-3", 0, false},
		{"12 parsecs", 0, false},
		{"1e3", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"12;15", 0, false},
		{"1,234.5", 0, false},
		{"12'6", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseLength(tc.in)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ParseLength(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSpeed(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"50", 50, true},
		{"50 km/h", 50, true},
		{"50kmh", 50, true},
		{"30 mph", 30 * 1.609344, true},
		{"30mph", 30 * 1.609344, true},
		{"10 knots", 18.52, true},
		{"none", 0, false},
		{"signals", 0, false},
		{"RU:urban", 0, false},
		{"50;30", 0, false},
		{"walk", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := ParseSpeed(tc.in)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ParseSpeed(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseFixed(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"38.9123456", 389123456, true},
		{"-38.9123456", -389123456, true},
		{"121.6", 1216000000, true},
		{"+121.6", 1216000000, true},
		{"180", 1800000000, true},
		{"-180.0000000", -1800000000, true},
		{"0.00000005", 1, true},
		{"0.00000004", 0, true},
		{"-0.00000005", -1, true},
		{"38.99999999", 390000000, true},
		{".5", 5000000, true},
		{"5.", 50000000, true},
		{"3.8e1", 380000000, true},
		{"12345.6", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{".", 0, false},
		{"abc", 0, false},
		{"1.2.3", 0, false},
		{"NaN", 0, false},
		{"1e400", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseFixed(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseFixed(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	// Fixed point round-trips every 7-decimal coordinate exactly.
	if got := toDegrees(389123456); got != 38.9123456 {
		t.Errorf("toDegrees = %v", got)
	}
}

func TestNodeStore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s nodeStore
	want := map[int64][2]int32{}
	id := int64(0)
	for i := 0; i < 3*nodeBlockSize+17; i++ {
		switch {
		case i == 5000:
			id += 1 << 33 // a gap beyond uint32 starts a new block
		case i%1000 == 999:
			id += int64(rng.IntN(1 << 20))
		default:
			id += 1 + int64(rng.IntN(3))
		}
		c := [2]int32{rng.Int32(), -rng.Int32()}
		s.add(id, c[0], c[1])
		want[id] = c
	}
	// Out of order and duplicates go to the overflow map; later wins.
	s.add(7, 1, 2)
	want[7] = [2]int32{1, 2}
	first := slices.Min(slices.Collect(func(yield func(int64) bool) {
		for k := range want {
			if !yield(k) {
				return
			}
		}
	}))
	s.add(first, 3, 4)
	want[first] = [2]int32{3, 4}
	for id, c := range want {
		lon, lat, ok := s.get(id)
		if !ok || lon != c[0] || lat != c[1] {
			t.Fatalf("get(%d) = %d, %d, %v; want %v", id, lon, lat, ok, c)
		}
		if _, _, ok := s.get(id + 1<<40); ok {
			t.Fatalf("get(%d) found a node never added", id+1<<40)
		}
	}
	for _, id := range []int64{-1, 0, math.MinInt64, math.MaxInt64} {
		if _, ok := want[id]; !ok {
			if _, _, ok := s.get(id); ok {
				t.Errorf("get(%d) found a node never added", id)
			}
		}
	}
	if per := float64(s.bytes()) / float64(len(want)); per > 20 {
		t.Errorf("%.1f bytes per node", per)
	}
}

func TestWayStore(t *testing.T) {
	var s wayStore
	lists := map[int64][]int64{
		1: {1, 2, 3, 1},
		2: {math.MaxInt64, math.MinInt64 + 1, -5, 0},
		3: {},
		4: {10_000_000_000, 10_000_000_001, 9_999_999_999},
	}
	for id, l := range lists {
		s.add(id, l)
	}
	for id, l := range lists {
		got, ok := s.get(id, nil)
		if !ok || !slices.Equal(got, l) {
			t.Errorf("way %d: %v, %v; want %v", id, got, ok, l)
		}
	}
	if _, ok := s.get(5, nil); ok {
		t.Error("way 5 found")
	}
}

func TestJoinRings(t *testing.T) {
	tests := []struct {
		name  string
		segs  []seg
		rings [][]int64 // as node-id sets in ring order up to rotation/direction
		open  int
	}{
		{"closed way", []seg{{1, []int64{1, 2, 3, 1}}}, [][]int64{{1, 2, 3, 1}}, 0},
		{"forward", []seg{{1, []int64{1, 2}}, {2, []int64{2, 3}}, {3, []int64{3, 1}}}, [][]int64{{1, 2, 3, 1}}, 0},
		{"mixed", []seg{{3, []int64{1, 3}}, {1, []int64{2, 1}}, {2, []int64{2, 3}}}, [][]int64{{1, 2, 3, 1}}, 0},
		{"start in the middle", []seg{{2, []int64{2, 3}}, {1, []int64{9, 1, 2}}, {3, []int64{3, 4, 9}}}, [][]int64{{9, 1, 2, 3, 4, 9}}, 0},
		{"two rings", []seg{{1, []int64{1, 2, 3}}, {2, []int64{11, 12}}, {3, []int64{3, 1}}, {4, []int64{13, 12}}, {5, []int64{11, 13}}},
			[][]int64{{1, 2, 3, 1}, {11, 12, 13, 11}}, 0},
		{"figure eight", []seg{{1, []int64{1, 2, 5}}, {2, []int64{5, 3, 1}}, {3, []int64{1, 4, 6}}, {4, []int64{6, 7, 1}}},
			[][]int64{{1, 2, 5, 3, 1}, {1, 4, 6, 7, 1}}, 0},
		{"gap", []seg{{1, []int64{1, 2, 3}}, {2, []int64{3, 4}}}, nil, 1},
		{"gap, later piece first", []seg{{2, []int64{3, 4}}, {1, []int64{1, 2, 3}}, {3, []int64{7, 8}}}, nil, 2},
		{"single node way", []seg{{1, []int64{1}}}, nil, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rings, open := joinRings(tc.segs)
			if len(open) != tc.open {
				t.Errorf("%d open chains, want %d: %v", len(open), tc.open, open)
			}
			if len(rings) != len(tc.rings) {
				t.Fatalf("%d rings, want %d: %v", len(rings), len(tc.rings), rings)
			}
			for _, want := range tc.rings {
				found := false
				for _, r := range rings {
					if sameRing(r.ids, want) {
						found = true
					}
				}
				if !found {
					t.Errorf("ring %v not among %v", want, rings)
				}
			}
			var ways []int64
			for _, r := range rings {
				ways = append(ways, r.ways...)
			}
			for _, c := range open {
				ways = append(ways, c.ways...)
			}
			slices.Sort(ways)
			var all []int64
			for _, s := range tc.segs {
				all = append(all, s.way)
			}
			slices.Sort(all)
			if !slices.Equal(ways, all) {
				t.Errorf("ways of rings and chains %v, want each of %v once", ways, all)
			}
		})
	}
}

// sameRing compares closed rings up to rotation and direction.
func sameRing(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = a[:len(a)-1], b[:len(b)-1]
	for _, bb := range [][]int64{b, reversed(b)} {
		for k := range bb {
			rot := append(slices.Clone(bb[k:]), bb[:k]...)
			if slices.Equal(a, rot) {
				return true
			}
		}
	}
	return false
}

func reversed(s []int64) []int64 {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func TestAssembleNested(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	// An island (outer) in a lake (inner) in a big outer: the island's
	// own inner goes to the island, the lake to the big outer.
	outers := []orb.Ring{sq(0, 0, 10, 10), sq(3, 3, 7, 7)}
	inners := []orb.Ring{sq(4, 4, 5, 5), sq(2, 2, 8, 8), sq(20, 20, 21, 21)}
	g, dropped, err := assemble(outers, inners)
	if err != nil {
		t.Fatal(err)
	}
	mp := g.(orb.MultiPolygon)
	if len(mp[0]) != 2 || mp[0][1][0] != (orb.Point{2, 2}) || len(mp[1]) != 2 || !slices.Contains(mp[1][1], orb.Point{4, 4}) {
		t.Errorf("assignment %v", mp)
	}
	if !reflect.DeepEqual(dropped, []int{2}) {
		t.Errorf("dropped %v, want [2]", dropped)
	}
	if _, _, err := assemble([]orb.Ring{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}}, nil); err == nil {
		t.Error("ring without area accepted")
	}
}

func TestFindRelations(t *testing.T) {
	pad := strings.Repeat("<node id='1' lat='1' lon='1'/>\n", 40000) // > 1 MiB
	for _, cut := range []int{0, 1, 5, 9} {
		// Put "<relation" across the chunk boundary in several ways.
		pre := pad[:1<<20-cut]
		in := pre + "<relations/><relation id='1'>"
		off, ok, err := findRelations(strings.NewReader(in))
		want := int64(len(pre) + len("<relations/>"))
		if err != nil || !ok || off != want {
			t.Errorf("cut %d: offset %d, %v, %v; want %d", cut, off, ok, err, want)
		}
	}
	if _, ok, _ := findRelations(strings.NewReader("<osm><relation")); !ok {
		t.Error("relation tag at the very end not found")
	}
	if _, ok, _ := findRelations(strings.NewReader("<osm><relationship/>")); ok {
		t.Error("<relationship> taken for <relation>")
	}
}

func TestPrescanFallback(t *testing.T) {
	// A comment mentioning "<relation" before the real ones sends the
	// fragment decoder astray; the first pass must rescan the whole file.
	in := `<osm>
<!-- the <relation elements come last -->
<node id="1" lat="0" lon="0"/><node id="2" lat="0" lon="1"/><node id="3" lat="1" lon="1"/>
<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/></way>
<way id="2"><nd ref="1"/><nd ref="3"/></way>
<relation id="1"><member type="way" ref="1" role="outer"/><tag k="type" v="multipolygon"/><tag k="landuse" v="grass"/></relation>
</osm>`
	want, err := prescan(bytes.NewReader([]byte(in)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want.ids, []int64{1}) {
		t.Errorf("ways wanted %v, want [1]", want.ids)
	}
	res := collect(t, bytes.NewReader([]byte(in)), &Importer{})
	if res.err != nil || res.stats.Passes != 2 || res.stats.KeptWays != 1 {
		t.Fatalf("err %v passes %d kept %d", res.err, res.stats.Passes, res.stats.KeptWays)
	}
	res.get(t, "landuse/r1")
}
