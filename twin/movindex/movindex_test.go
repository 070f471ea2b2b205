package movindex

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// impls are the implementations every test runs against.
var impls = []struct {
	name string
	mk   func() Index
}{
	{"rtree", func() Index { return NewRTree() }},
	{"zero-rtree", func() Index { return &RTree{} }},
	{"grid15", func() Index { return NewGrid(15) }},
	{"grid17", func() Index { return NewGrid(17) }},
	{"grid19", func() Index { return NewGrid(19) }},
	{"grid3", func() Index { return NewGrid(3) }},
	{"grid1", func() Index { return NewGrid(1) }},
	{"grid32", func() Index { return NewGrid(32) }},
	{"new", New},
}

// brute is the reference: a map from slot to point.
type brute map[uint32]orb.Point

// contains is the documented test: Min ≤ p ≤ Max on both axes. It differs
// from orb.Bound.Contains only for NaN, which orb reports as inside.
func contains(b orb.Bound, p orb.Point) bool {
	return p[0] >= b.Min[0] && p[0] <= b.Max[0] && p[1] >= b.Min[1] && p[1] <= b.Max[1]
}

func (m brute) search(b orb.Bound) []uint32 {
	var out []uint32
	for s, p := range m {
		if contains(b, p) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// found collects Search's slots, sorted, and checks each reported point is
// the slot's current one and reported once.
func found(t *testing.T, idx Index, ref brute, b orb.Bound) []uint32 {
	t.Helper()
	var out []uint32
	idx.Search(b, func(s uint32, p orb.Point) bool {
		if q, ok := ref[s]; !ok || q != p {
			t.Fatalf("Search(%v) reported slot %d at %v, want %v (present %v)", b, s, p, q, ok)
		}
		out = append(out, s)
		return true
	})
	slices.Sort(out)
	if len(slices.Compact(slices.Clone(out))) != len(out) {
		t.Fatalf("Search(%v) reported a slot twice: %v", b, out)
	}
	return out
}

func check(t *testing.T, idx Index, ref brute, b orb.Bound) {
	t.Helper()
	got, want := found(t, idx, ref, b), ref.search(b)
	if !slices.Equal(got, want) {
		t.Fatalf("Search(%v): got %d slots, want %d\n got %v\nwant %v", b, len(got), len(want), head(got), head(want))
	}
}

func head(s []uint32) []uint32 { return s[:min(len(s), 20)] }

// region is a rectangle points and boxes are drawn from.
type region struct {
	name   string
	bound  orb.Bound
	step   float64 // largest move per update, degrees
	maxBox float64 // largest box side, degrees
}

var regions = []region{
	{"dalian", orb.Bound{Min: orb.Point{121.4, 38.75}, Max: orb.Point{121.8, 39.05}}, 0.0005, 0.05},
	{"dalian-coarse-moves", orb.Bound{Min: orb.Point{121.4, 38.75}, Max: orb.Point{121.8, 39.05}}, 0.02, 0.3},
	{"equator-meridian", orb.Bound{Min: orb.Point{-0.05, -0.05}, Max: orb.Point{0.05, 0.05}}, 0.002, 0.04},
	{"antimeridian", orb.Bound{Min: orb.Point{179.9, -10}, Max: orb.Point{180, -9.9}}, 0.002, 0.05},
	{"antimeridian-west", orb.Bound{Min: orb.Point{-180, 60}, Max: orb.Point{-179.9, 60.1}}, 0.002, 0.05},
	{"north-pole", orb.Bound{Min: orb.Point{-30, 89.9}, Max: orb.Point{30, 90}}, 0.01, 5},
	{"south-pole", orb.Bound{Min: orb.Point{100, -90}, Max: orb.Point{110, -89.95}}, 0.01, 3},
	{"south-west", orb.Bound{Min: orb.Point{-70.7, -33.5}, Max: orb.Point{-70.5, -33.4}}, 0.001, 0.05},
	{"world", orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, 5, 200},
	{"beyond-world", orb.Bound{Min: orb.Point{-200, -100}, Max: orb.Point{200, 100}}, 10, 300},
}

func (rg region) point(r *rand.Rand) orb.Point {
	return orb.Point{
		rg.bound.Min[0] + r.Float64()*(rg.bound.Max[0]-rg.bound.Min[0]),
		rg.bound.Min[1] + r.Float64()*(rg.bound.Max[1]-rg.bound.Min[1]),
	}
}

func (rg region) box(r *rand.Rand) orb.Bound {
	c := rg.point(r)
	w, h := r.Float64()*rg.maxBox, r.Float64()*rg.maxBox
	switch r.IntN(8) {
	case 0: // a point
		w, h = 0, 0
	case 1: // a line
		w = 0
	}
	return orb.Bound{Min: orb.Point{c[0] - w/2, c[1] - h/2}, Max: orb.Point{c[0] + w/2, c[1] + h/2}}
}

// TestAgainstBruteForce applies random inserts, moves and deletes and
// compares random box searches with a brute-force scan.
func TestAgainstBruteForce(t *testing.T) {
	for _, im := range impls {
		for ri, rg := range regions {
			t.Run(im.name+"/"+rg.name, func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(ri), 7))
				idx := im.mk()
				ref := brute{}
				const slots = 2000
				for step := range 6000 {
					s := uint32(r.IntN(slots))
					switch op := r.IntN(10); {
					case op < 6: // move (or insert)
						p, ok := ref[s]
						if !ok || r.IntN(4) == 0 {
							p = rg.point(r)
						} else {
							p = orb.Point{p[0] + (r.Float64()*2-1)*rg.step, p[1] + (r.Float64()*2-1)*rg.step}
						}
						idx.Set(s, p)
						ref[s] = p
					case op < 7:
						idx.Delete(s)
						delete(ref, s)
					case op < 8: // a point taken from another slot: equal points
						if q, ok := ref[uint32(r.IntN(slots))]; ok {
							idx.Set(s, q)
							ref[s] = q
						}
					default:
						check(t, idx, ref, rg.box(r))
						if step%50 == 0 {
							// a box with the corner at an existing point
							if q, ok := ref[s]; ok {
								check(t, idx, ref, orb.Bound{Min: q, Max: q})
								check(t, idx, ref, orb.Bound{Min: q, Max: orb.Point{q[0] + rg.maxBox, q[1] + rg.maxBox}})
								check(t, idx, ref, orb.Bound{Min: orb.Point{q[0] - rg.maxBox, q[1] - rg.maxBox}, Max: q})
							}
						}
					}
					if idx.Len() != len(ref) {
						t.Fatalf("step %d: Len %d, want %d", step, idx.Len(), len(ref))
					}
				}
				check(t, idx, ref, rg.bound)
				check(t, idx, ref, orb.Bound{Min: orb.Point{math.Inf(-1), math.Inf(-1)}, Max: orb.Point{math.Inf(1), math.Inf(1)}})
				for s := range uint32(slots) {
					idx.Delete(s)
				}
				if idx.Len() != 0 {
					t.Fatalf("Len after deleting all = %d", idx.Len())
				}
				check(t, idx, brute{}, rg.bound)
			})
		}
	}
}

// cellBound returns the bounds of the level-L GeoSOT cell holding a point.
func cellBound(t *testing.T, lat, lon float64, level int) gridcode.Bound {
	t.Helper()
	c, err := gridcode.Encode(lat, lon, level)
	if err != nil {
		t.Fatal(err)
	}
	return c.Bounds()
}

// TestCellEdges puts points exactly on cell edges and corners (all four
// quadrants) and searches with boxes whose edges are cell edges, boxes just
// inside and outside them, and degenerate boxes.
func TestCellEdges(t *testing.T) {
	centres := [][2]float64{{38.9, 121.6}, {-33.45, -70.6}, {0.001, -0.001}, {-0.001, 0.001}, {51.5, -0.12}, {-89.99, 179.99}}
	for _, im := range impls {
		for _, level := range []int{15, 17, 19} {
			t.Run(fmt.Sprintf("%s/L%d", im.name, level), func(t *testing.T) {
				idx := im.mk()
				ref := brute{}
				var slot uint32
				var boxes []orb.Bound
				for _, c := range centres {
					cb := cellBound(t, c[0], c[1], level)
					xs := []float64{cb.West, (cb.West + cb.East) / 2, cb.East}
					ys := []float64{cb.South, (cb.South + cb.North) / 2, cb.North}
					for _, x := range xs {
						for _, y := range ys {
							for _, d := range []float64{0, 1e-9, -1e-9} {
								p := orb.Point{x + d, y - d}
								idx.Set(slot, p)
								ref[slot] = p
								slot++
								boxes = append(boxes, orb.Bound{Min: p, Max: p})
							}
						}
					}
					for _, d := range []float64{0, 1e-12, -1e-12, 1e-9, -1e-9} {
						boxes = append(boxes,
							orb.Bound{Min: orb.Point{cb.West + d, cb.South + d}, Max: orb.Point{cb.East - d, cb.North - d}},
							orb.Bound{Min: orb.Point{cb.West + d, cb.South}, Max: orb.Point{cb.West + d, cb.North}},
							orb.Bound{Min: orb.Point{cb.West, cb.North + d}, Max: orb.Point{cb.East, cb.North + d}},
							orb.Bound{Min: orb.Point{cb.East + d, cb.North + d}, Max: orb.Point{cb.East + d, cb.North + d}},
						)
					}
				}
				for _, b := range boxes {
					check(t, idx, ref, b)
				}
				// Move everything by one cell-edge-sized step and back.
				for s, p := range ref {
					q := orb.Point{p[0] + 1e-9, p[1] - 1e-9}
					idx.Set(s, q)
					ref[s] = q
				}
				for _, b := range boxes {
					check(t, idx, ref, b)
				}
			})
		}
	}
}

// TestSpecialValues covers the empty index, absent deletes, repeated sets,
// points off the globe, infinities and NaN, and invalid boxes.
func TestSpecialValues(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	everything := orb.Bound{Min: orb.Point{-inf, -inf}, Max: orb.Point{inf, inf}}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			idx := im.mk()
			ref := brute{}
			if idx.Len() != 0 {
				t.Fatal("new index not empty")
			}
			check(t, idx, ref, everything)
			check(t, idx, ref, orb.Bound{})
			idx.Delete(0)
			idx.Delete(1 << 30)
			idx.Delete(math.MaxUint32)
			if idx.Len() != 0 {
				t.Fatalf("Len after deleting absent slots = %d", idx.Len())
			}

			pts := []orb.Point{
				{121.6, 38.9}, {121.6, 38.9}, // two slots, one point
				{180, 90}, {-180, -90}, {180, -90}, {-180, 90},
				{0, 0}, {math.Copysign(0, -1), math.Copysign(0, -1)},
				{181, 38.9}, {-181, 38.9}, {121.6, 91}, {121.6, -91}, {540, 200},
				{inf, 0}, {-inf, 0}, {0, inf}, {0, -inf}, {inf, inf},
				{nan, 0}, {0, nan}, {nan, nan},
				{1e-300, -1e-300}, {-1e-300, 1e-300},
			}
			for i, p := range pts {
				idx.Set(uint32(i), p)
				ref[uint32(i)] = p
			}
			big := uint32(5_000_000) // far beyond the others: growth
			idx.Set(big, orb.Point{1, 2})
			ref[big] = orb.Point{1, 2}
			idx.Set(big, orb.Point{1, 2}) // same point again
			if idx.Len() != len(ref) {
				t.Fatalf("Len %d, want %d", idx.Len(), len(ref))
			}
			boxes := []orb.Bound{
				everything,
				{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}},
				{Min: orb.Point{179, 89}, Max: orb.Point{180, 90}},
				{Min: orb.Point{180, 90}, Max: orb.Point{180, 90}},
				{Min: orb.Point{-180, -90}, Max: orb.Point{-180, -90}},
				{Min: orb.Point{180, -90}, Max: orb.Point{inf, 90}},
				{Min: orb.Point{180.5, 0}, Max: orb.Point{600, 300}},
				{Min: orb.Point{-1, -1}, Max: orb.Point{1, 1}},
				{Min: orb.Point{0, 0}, Max: orb.Point{0, 0}},
				{Min: orb.Point{-1e-200, -1e-200}, Max: orb.Point{0, 0}},
				{Min: orb.Point{121.6, 38.9}, Max: orb.Point{121.6, 38.9}},
				{Min: orb.Point{inf, 0}, Max: orb.Point{inf, 0}},
				{Min: orb.Point{0, -inf}, Max: orb.Point{0, -inf}},
				// invalid: Min > Max, NaN — nothing
				{Min: orb.Point{170, 0}, Max: orb.Point{-170, 10}},
				{Min: orb.Point{0, 10}, Max: orb.Point{10, 0}},
				{Min: orb.Point{nan, -90}, Max: orb.Point{180, 90}},
				{Min: orb.Point{-180, -90}, Max: orb.Point{180, nan}},
			}
			for _, b := range boxes {
				check(t, idx, ref, b)
			}
			// NaN points can move out and back in, and be deleted.
			idx.Set(18, orb.Point{3, 4})
			ref[18] = orb.Point{3, 4}
			idx.Set(0, orb.Point{nan, nan})
			ref[0] = orb.Point{nan, nan}
			idx.Delete(19)
			delete(ref, 19)
			idx.Delete(19)
			for _, b := range boxes {
				check(t, idx, ref, b)
			}
			if idx.Len() != len(ref) {
				t.Fatalf("Len %d, want %d", idx.Len(), len(ref))
			}
		})
	}
}

// TestSearchStops checks that Search stops as soon as fn returns false, on
// both Grid search paths (cell enumeration and bucket walk).
func TestSearchStops(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			idx := im.mk()
			r := rand.New(rand.NewPCG(3, 3))
			for i := range 1000 {
				idx.Set(uint32(i), orb.Point{121.6 + r.Float64()*0.01, 38.9 + r.Float64()*0.01})
			}
			for _, b := range []orb.Bound{
				{Min: orb.Point{121.6, 38.9}, Max: orb.Point{121.61, 38.91}},
				{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}},
			} {
				calls := 0
				idx.Search(b, func(uint32, orb.Point) bool { calls++; return calls < 5 })
				if calls != 5 {
					t.Errorf("Search(%v) called fn %d times after it returned false, want 5", b, calls)
				}
			}
		})
	}
}

// TestGridInPlace checks that a move within a cell neither changes the
// bucket nor allocates, and that emptied buckets are reused.
func TestGridInPlace(t *testing.T) {
	g := NewGrid(DefaultLevel)
	g.Set(7, orb.Point{121.6001, 38.9001})
	before := g.locs[7]
	allocs := testing.AllocsPerRun(100, func() {
		g.Set(7, orb.Point{121.6002, 38.9002})
		g.Set(7, orb.Point{121.6001, 38.9001})
	})
	if allocs != 0 || g.locs[7] != before {
		t.Errorf("in-cell move: %v allocs, loc %v → %v", allocs, before, g.locs[7])
	}
	g.Set(7, orb.Point{121.7, 38.95}) // another cell: old bucket emptied
	if len(g.cells) != 1 || len(g.free) != 1 {
		t.Errorf("after a move between cells: %d cells, %d free buckets; want 1, 1", len(g.cells), len(g.free))
	}
	g.Set(8, orb.Point{121.6001, 38.9001}) // reuses the freed bucket
	if len(g.bkts) != 3 || len(g.free) != 0 {
		t.Errorf("bucket not reused: %d buckets, %d free", len(g.bkts), len(g.free))
	}
}

// TestGridCellsAreGeoSOT checks that Grid buckets by gridcode.Encode's cell
// and that enumerated cell keys round-trip through axisIndex/axisCode.
func TestGridCellsAreGeoSOT(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, level := range []int{1, 9, 15, 17, 24, 32} {
		g := NewGrid(level)
		for i := range 2000 {
			p := orb.Point{r.Float64()*360 - 180, r.Float64()*180 - 90}
			g.Set(uint32(i), p)
			c, err := gridcode.Encode(p[1], p[0], level)
			if err != nil {
				t.Fatal(err)
			}
			bk := g.bkts[g.locs[i].b-1]
			if bk.key != c.Bits() {
				t.Fatalf("level %d %v: bucket %x, Encode %x", level, p, bk.key, c.Bits())
			}
			if got := gridcode.Interleave(axisCode(int64(bk.row), g.shift), axisCode(int64(bk.col), g.shift)); got != bk.key {
				t.Fatalf("level %d %v: key from row/col %x, want %x", level, p, got, bk.key)
			}
		}
	}
}

func TestNewGridPanics(t *testing.T) {
	for _, level := range []int{-1, 0, 33} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewGrid(%d) did not panic", level)
				}
			}()
			NewGrid(level)
		}()
	}
	if NewGrid(18).Level() != 18 {
		t.Error("Level")
	}
}
