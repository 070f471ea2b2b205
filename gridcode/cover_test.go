package gridcode

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"
)

// coverRect returns the rectangle as a closed counter-clockwise ring.
func coverRect(w, s, e, n float64) orb.Ring {
	return orb.Ring{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}
}

// coverCellPolygon returns the polygon that is exactly the cell's real part.
func coverCellPolygon(c Code) orb.Polygon {
	b := c.Bounds()
	return orb.Polygon{coverRect(b.West, b.South, b.East, b.North)}
}

// coverDalianCoast is a ~0.12° × 0.08° stretch of the Dalian shore (Zhongshan
// and Xigang districts, around 121.64°E 38.91°N): land to the north-west,
// sea to the south and east.
var coverDalianCoast = orb.Polygon{{
	{121.600, 38.950}, {121.640, 38.952}, {121.665, 38.945}, {121.690, 38.935},
	{121.700, 38.925}, {121.690, 38.915}, {121.695, 38.905}, {121.680, 38.895},
	{121.670, 38.885}, {121.650, 38.875}, {121.635, 38.872}, {121.620, 38.878},
	{121.610, 38.870}, {121.595, 38.873}, {121.585, 38.885}, {121.580, 38.900},
	{121.590, 38.915}, {121.585, 38.930}, {121.595, 38.942}, {121.600, 38.950},
}}

// coverShapes are the polygons of the property tests.
func coverShapes() []struct {
	name string
	g    orb.Geometry
} {
	return []struct {
		name string
		g    orb.Geometry
	}{
		{"triangle Beijing", orb.Polygon{{{116.3, 39.9}, {116.5, 39.95}, {116.4, 40.1}, {116.3, 39.9}}}},
		{"square with hole", orb.Polygon{
			coverRect(116, 39, 118, 41),
			// Clockwise hole with edges on 2′ cell lines.
			{{116.5, 39.5}, {116.5, 40.5}, {117.5, 40.5}, {117.5, 39.5}, {116.5, 39.5}},
		}},
		{"multipolygon Dalian", orb.MultiPolygon{
			coverDalianCoast,
			// Bangchui island, with a pond.
			{
				{{121.705, 38.875}, {121.725, 38.872}, {121.730, 38.885}, {121.712, 38.890}, {121.705, 38.875}},
				{{121.713, 38.878}, {121.718, 38.883}, {121.721, 38.877}, {121.713, 38.878}},
			},
			// A field far away in the same level-1 quadrant.
			{{{122.2, 39.2}, {122.3, 39.2}, {122.25, 39.3}, {122.2, 39.2}}},
		}},
		{"equator and prime meridian", orb.Polygon{{{-2, -1.5}, {1.5, -2}, {2.5, 1}, {0.3, 2.2}, {-1.8, 1.2}, {-2, -1.5}}}},
		{"Dalian coast", coverDalianCoast},
		{"south-west Santiago", orb.Polygon{{{-70.8, -33.6}, {-70.5, -33.55}, {-70.55, -33.3}, {-70.75, -33.35}, {-70.8, -33.6}}}},
		{"thin sliver", orb.Polygon{{{10, 50}, {10.6, 50.001}, {10.6, 50.0012}, {10, 50}}}},
	}
}

// coverContains reports whether the point is in the polygon(s) by orb's
// planar test, the independent oracle of these tests.
func coverContains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	panic(fmt.Sprintf("coverContains: %T", g))
}

// coverRings returns all rings of g.
func coverRings(g orb.Geometry) []orb.Ring {
	var out []orb.Ring
	switch g := g.(type) {
	case orb.Polygon:
		out = append(out, g...)
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, p...)
		}
	}
	return out
}

// coverBoundaryDist returns the planar distance in degrees from p to the
// nearest edge of g.
func coverBoundaryDist(g orb.Geometry, p orb.Point) float64 {
	d := math.Inf(1)
	for _, r := range coverRings(g) {
		for i := range r {
			a, b := r[i], r[(i+1)%len(r)]
			d = min(d, planar.DistanceFromSegment(a, b, p))
		}
	}
	return d
}

// coverNearBoundary is how close to an edge a sample point may be before
// the oracle (orb's floating-point ray test) is no longer trusted.
const coverNearBoundary = 1e-9

// coverInsidePoints returns n points inside g by rejection sampling in its
// bound, skipping points within coverNearBoundary of an edge.
func coverInsidePoints(t testing.TB, rng *rand.Rand, g orb.Geometry, n int) []orb.Point {
	t.Helper()
	b := g.Bound()
	out := make([]orb.Point, 0, n)
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000*n {
			t.Fatalf("rejection sampling found only %d of %d points", len(out), n)
		}
		p := orb.Point{
			b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]),
			b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1]),
		}
		if coverContains(g, p) && coverBoundaryDist(g, p) > coverNearBoundary {
			out = append(out, p)
		}
	}
	return out
}

// coverFind returns the index of the cell of the sorted, disjoint set that
// contains the level-32 cell p, or −1.
func coverFind(cells []Code, p Code) int {
	i := sort.Search(len(cells), func(i int) bool { return cells[i].Bits() > p.Bits() }) - 1
	if i >= 0 && cells[i].Contains(p) {
		return i
	}
	return -1
}

// coverCheckStructure checks that the cells are sorted, pairwise disjoint,
// normalised and within the coverer's levels.
func coverCheckStructure(t testing.TB, cv Coverer, cells []Code) {
	t.Helper()
	for i, c := range cells {
		if c.Level() < cv.MinLevel || c.Level() > cv.MaxLevel {
			t.Fatalf("cell %s: level %d outside %d–%d", c, c.Level(), cv.MinLevel, cv.MaxLevel)
		}
		if _, err := FromBits(c.Bits(), c.Level()); err != nil {
			t.Fatalf("cell %s: %v", c, err)
		}
		if i == 0 {
			continue
		}
		// Sorted by Compare in pre-order, a cell containing a later one
		// contains every cell between them, so adjacent pairs suffice.
		p := cells[i-1]
		if p.Compare(c) >= 0 {
			t.Fatalf("cells %d, %d not sorted: %s, %s", i-1, i, p, c)
		}
		if p.Contains(c) || c.Contains(p) {
			t.Fatalf("cell %s contains %s", p, c)
		}
	}
	// Normalised: no complete set of a parent's real children above MinLevel.
	for i, c := range cells {
		if c.Level() <= cv.MinLevel {
			continue
		}
		kids := c.Parent().Children()
		if kids[0] == c && i+len(kids) <= len(cells) && slices.Equal(cells[i:i+len(kids)], kids) {
			t.Fatalf("cells %v are all the real children of %s", kids, c.Parent())
		}
	}
}

// coverCheckRanges checks Ranges(cells) against the cells and the points.
func coverCheckRanges(t testing.TB, cells []Code, pts []Code) {
	t.Helper()
	rs := Ranges(cells)
	if len(cells) == 0 {
		if rs != nil {
			t.Fatalf("Ranges(nil) = %v", rs)
		}
		return
	}
	for i, r := range rs {
		if r[0] > r[1] {
			t.Fatalf("range %d reversed: %v", i, r)
		}
		if i > 0 && r[0] <= rs[i-1][1]+1 {
			t.Fatalf("ranges %d, %d not sorted, disjoint and separated: %v %v", i-1, i, rs[i-1], r)
		}
	}
	in := func(v uint64) bool {
		k := sort.Search(len(rs), func(k int) bool { return rs[k][1] >= v })
		return k < len(rs) && rs[k][0] <= v
	}
	for _, c := range cells {
		f, l := c.Range()
		k := sort.Search(len(rs), func(k int) bool { return rs[k][1] >= f })
		if k == len(rs) || rs[k][0] > f || rs[k][1] < l {
			t.Fatalf("cell %s range [%d, %d] not inside one merged range", c, f, l)
		}
	}
	for _, p := range pts {
		if !in(p.Bits()) {
			t.Fatalf("point cell %s bits %d in no range", p, p.Bits())
		}
	}
}

// coverArea returns the planar area of the cells in square degrees.
func coverArea(cells []Code) float64 {
	a := 0.0
	for _, c := range cells {
		b := c.Bounds()
		a += (b.East - b.West) * (b.North - b.South)
	}
	return a
}

// coverCheck runs all property checks of one covering.
func coverCheck(t *testing.T, rng *rand.Rand, g orb.Geometry, cv Coverer, cells []Code, nPoints int) {
	t.Helper()
	coverCheckStructure(t, cv, cells)
	if cv.MaxCells >= 4 && cv.MinLevel == 0 && len(cells) > cv.MaxCells {
		t.Fatalf("%d cells, MaxCells %d", len(cells), cv.MaxCells)
	}
	area, cellArea := planar.Area(g), coverArea(cells)
	if cv.Interior {
		if cellArea > area*(1+1e-9) {
			t.Fatalf("interior cells cover %g deg², more than the polygon's %g", cellArea, area)
		}
		for _, c := range cells {
			b := c.Bounds()
			probe := []orb.Point{{b.West, b.South}, {b.East, b.South}, {b.East, b.North}, {b.West, b.North}}
			for range 8 {
				probe = append(probe, orb.Point{
					b.West + rng.Float64()*(b.East-b.West),
					b.South + rng.Float64()*(b.North-b.South),
				})
			}
			for _, p := range probe {
				if !coverContains(g, p) && coverBoundaryDist(g, p) > coverNearBoundary {
					t.Fatalf("interior cell %s (%v): point %v outside the polygon", c, b, p)
				}
			}
		}
		coverCheckRanges(t, cells, nil)
		return
	}
	if cellArea < area*(1-1e-9) {
		t.Fatalf("covering cells cover %g deg², less than the polygon's %g", cellArea, area)
	}
	pts := coverInsidePoints(t, rng, g, nPoints)
	codes := make([]Code, len(pts))
	for i, p := range pts {
		codes[i] = mustEncode(t, p[1], p[0], MaxLevel)
		k := coverFind(cells, codes[i])
		if k < 0 {
			t.Fatalf("point %v (%s) in no cell of %d", p, codes[i], len(cells))
		}
		if i < 200 { // belt and braces: count by brute force, via Encode
			n := 0
			for _, c := range cells {
				if mustEncode(t, p[1], p[0], c.Level()) == c {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("point %v lies in %d cells", p, n)
			}
		}
	}
	coverCheckRanges(t, cells, codes)
}

func TestCoverProperties(t *testing.T) {
	coverers := []Coverer{
		{MaxLevel: 16},
		{MaxLevel: 18, MaxCells: 64},
		{MaxLevel: 20, MaxCells: 256},
		{MaxLevel: 14, MaxCells: 4},
		{MinLevel: 12, MaxLevel: 16, MaxCells: 16},
		{MaxLevel: 16, Interior: true},
		{MaxLevel: 20, MaxCells: 64, Interior: true},
		{MinLevel: 13, MaxLevel: 17, MaxCells: 8, Interior: true},
	}
	rng := rand.New(rand.NewPCG(40087, 2021))
	for _, sh := range coverShapes() {
		for _, cv := range coverers {
			t.Run(fmt.Sprintf("%s/%+v", sh.name, cv), func(t *testing.T) {
				cells, err := cv.Cover(sh.g)
				if err != nil {
					t.Fatal(err)
				}
				if !cv.Interior && len(cells) == 0 {
					t.Fatal("empty covering")
				}
				coverCheck(t, rng, sh.g, cv, cells, 10000)
			})
		}
	}
}

// TestCoverInteriorWithinCovering checks that every interior cell lies in
// the covering with the same levels, that the covering keeps wholly inside
// cells coarse, and that it refines the boundary to MaxLevel.
func TestCoverInteriorWithinCovering(t *testing.T) {
	for _, sh := range coverShapes() {
		t.Run(sh.name, func(t *testing.T) {
			cover, err := Coverer{MaxLevel: 17}.Cover(sh.g)
			if err != nil {
				t.Fatal(err)
			}
			inner, err := Coverer{MaxLevel: 17, Interior: true}.Cover(sh.g)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range inner {
				if k := coverFind(cover, c); k < 0 {
					t.Fatalf("interior cell %s not in the covering", c)
				}
			}
			minLevel, atMax := MaxLevel, 0
			for _, c := range cover {
				minLevel = min(minLevel, c.Level())
				if c.Level() >= 16 {
					atMax++
				}
			}
			if len(inner) > 0 && minLevel >= 16 {
				t.Errorf("no coarse interior cell: coarsest level %d", minLevel)
			}
			if atMax == 0 && !slices.Equal(cover, inner) {
				t.Errorf("boundary not refined to MaxLevel")
			}
			t.Logf("%d covering cells (coarsest level %d), %d interior", len(cover), minLevel, len(inner))
		})
	}
}

// coverOracle returns, for every level-L cell meeting g's bound, the
// fraction of the cell that g covers, found independently of Cover by
// clipping g to the cell with orb/clip and measuring the clipped area.
func coverOracle(g orb.Geometry, level int) map[Code]float64 {
	b := g.Bound()
	out := map[Code]float64{}
	var walk func(c Code)
	walk = func(c Code) {
		cb := c.Bounds()
		if cb.East < b.Min[0] || cb.West > b.Max[0] || cb.North < b.Min[1] || cb.South > b.Max[1] {
			return
		}
		if c.Level() < level {
			for _, k := range c.Children() {
				walk(k)
			}
			return
		}
		box := orb.Bound{Min: orb.Point{cb.West, cb.South}, Max: orb.Point{cb.East, cb.North}}
		a := planar.Area(clip.Geometry(box, orb.Clone(g))) // clip works in place
		out[c] = a / ((cb.East - cb.West) * (cb.North - cb.South))
	}
	for _, q := range (Code{}).Children() {
		walk(q)
	}
	return out
}

// coverExpand returns the real descendants of the cells at the level.
func coverExpand(cells []Code, level int) map[Code]bool {
	out := map[Code]bool{}
	var walk func(c Code)
	walk = func(c Code) {
		if c.Level() == level {
			out[c] = true
			return
		}
		for _, k := range c.Children() {
			walk(k)
		}
	}
	for _, c := range cells {
		walk(c)
	}
	return out
}

// TestCoverMatchesClipOracle compares unlimited coverings, cell by cell at
// MaxLevel, with the area an independent clipping computation finds in each
// cell. Cells the polygon covers by a fraction within 1e-9 of 0 or 1 are
// left to the exact predicates, which floating-point clipping cannot match
// (an edge through a cell corner in decimal terms misses it by an ulp).
func TestCoverMatchesClipOracle(t *testing.T) {
	const tol = 1e-9
	tests := []struct {
		name  string
		g     orb.Geometry
		level int
	}{
		{"triangle", coverShapes()[0].g, 13},
		{"square with hole", coverShapes()[1].g, 11},
		{"multipolygon Dalian", coverShapes()[2].g, 15},
		{"equator and prime meridian", coverShapes()[3].g, 10},
		{"Dalian coast", coverDalianCoast, 16},
		{"south-west", coverShapes()[5].g, 14},
		{"thin sliver", coverShapes()[6].g, 18},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frac := coverOracle(tc.g, tc.level)
			cover, err := Coverer{MaxLevel: tc.level}.Cover(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			inner, err := Coverer{MaxLevel: tc.level, Interior: true}.Cover(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			for _, cells := range [][]Code{cover, inner} {
				if n := normalizeCover(slices.Collect(maps.Keys(coverExpand(cells, tc.level))), 0); !slices.Equal(n, cells) {
					t.Errorf("result not in normal form: %v, normalised %v", cells, n)
				}
			}
			inCover, inInner := coverExpand(cover, tc.level), coverExpand(inner, tc.level)
			decided := 0
			for c := range inCover {
				if _, ok := frac[c]; !ok {
					t.Errorf("covering cell %s lies outside the polygon's bound", c)
				}
			}
			for c, f := range frac {
				switch {
				case f > tol && !inCover[c]:
					t.Errorf("cell %s: %.3g covered by the polygon, missing from the covering", c, f)
				case f < 1-tol && inInner[c]:
					t.Errorf("cell %s: only %.3g covered by the polygon, in the interior covering", c, f)
				case f <= tol && inCover[c], f >= 1-tol && !inInner[c]:
					decided++
				}
			}
			t.Logf("%d level-%d cells (%d in the covering, %d interior), %d decided exactly where clipping is too coarse",
				len(frac), tc.level, len(inCover), len(inInner), decided)
		})
	}
}

func TestCoverExactCell(t *testing.T) {
	tests := []struct {
		name string
		cell Code
	}{
		{"1° cell NE", mustEncode(t, 39.5, 116.5, 9)},
		{"2° cell NE", mustEncode(t, 39.5, 116.5, 8)},
		{"App.D level 15", mustParse(t, "G001310322-230230")},
		{"level 12 SW", mustEncode(t, -33.45, -70.66, 12)},
		{"level 20 SE", mustEncode(t, -6.2, 106.8, 20)},
		{"level 21 NW", mustEncode(t, 51.5007, -0.1246, 21)},
		{"level 26 Dalian", mustEncode(t, 38.9140, 121.6147, 26)},
		{"level 10 cut by virtual minutes", mustEncode(t, 39.9, 116.9, 10)},
		{"quadrant NW", mustParse(t, "G1")},
		{"quadrant SE", mustParse(t, "G2")},
		{"whole globe", Code{}},
	}
	for _, tc := range tests {
		poly := coverCellPolygon(tc.cell)
		for _, cv := range []Coverer{
			{MaxLevel: max(tc.cell.Level(), 1)},
			{MaxLevel: MaxLevel, MaxCells: 1},
			{MinLevel: tc.cell.Level(), MaxLevel: MaxLevel, Interior: true},
		} {
			t.Run(fmt.Sprintf("%s/%+v", tc.name, cv), func(t *testing.T) {
				got, err := cv.Cover(poly)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != 1 || got[0] != tc.cell {
					t.Fatalf("Cover(%v) = %v, want [%s]", tc.cell.Bounds(), got, tc.cell)
				}
			})
		}
	}
}

func TestCoverCellShapes(t *testing.T) {
	c := mustParse(t, "G001310322-230230") // level 15, a 1′ cell with 4 real children
	kids := c.Children()
	// The real part of a level-13 cell at minutes 56–59 on both axes: the
	// only real child of its level-12 parent (minutes 56–63).
	lone := mustEncode(t, 39.95, 116.95, 13)
	if n := len(lone.Parent().Children()); n != 1 {
		t.Fatalf("%s has %d real children, want 1", lone.Parent(), n)
	}
	union := func(cells ...Code) orb.Polygon {
		b := cells[0].Bounds()
		for _, k := range cells[1:] {
			kb := k.Bounds()
			b = Bound{min(b.West, kb.West), min(b.South, kb.South), max(b.East, kb.East), max(b.North, kb.North)}
		}
		return orb.Polygon{coverRect(b.West, b.South, b.East, b.North)}
	}
	// Children split a minute at 32″, so they differ in size.
	k0, k1, k2 := kids[0].Bounds(), kids[1].Bounds(), kids[2].Bounds()
	lshape := orb.Polygon{{
		{k0.West, k0.South}, {k1.East, k1.South}, {k1.East, k1.North}, {k0.East, k0.North},
		{k2.East, k2.North}, {k2.West, k2.North}, {k0.West, k0.South},
	}}
	tests := []struct {
		name string
		cv   Coverer
		g    orb.Polygon
		want []Code
	}{
		{"two siblings", Coverer{MaxLevel: 20}, union(kids[0], kids[1]), kids[:2]},
		{"L of three siblings", Coverer{MaxLevel: 20}, lshape, kids[:3]},
		{"four siblings merge", Coverer{MaxLevel: 20}, union(kids...), []Code{c}},
		{"four siblings above MinLevel", Coverer{MinLevel: 16, MaxLevel: 20}, union(kids...), kids},
		{"lone real child merges", Coverer{MaxLevel: 20}, coverCellPolygon(lone), []Code{lone.Parent()}},
		{"lone real child at MinLevel", Coverer{MinLevel: 13, MaxLevel: 20}, coverCellPolygon(lone), []Code{lone}},
		{"coarser than MaxLevel", Coverer{MaxLevel: 13}, coverCellPolygon(kids[2]), []Code{c.ParentAt(13)}},
		{"finer than MaxLevel interior", Coverer{MaxLevel: 13, Interior: true}, coverCellPolygon(kids[2]), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cv.Cover(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if lone.Bounds() != lone.Parent().Bounds() {
		t.Errorf("lone child %v and parent %v differ", lone.Bounds(), lone.Parent().Bounds())
	}
}

func TestCoverAcrossEquatorAndMeridian(t *testing.T) {
	g := coverShapes()[3].g
	for _, cv := range []Coverer{{MaxLevel: 12}, {MaxLevel: 20, MaxCells: 4}, {MaxLevel: 20, MaxCells: 1}, {MaxLevel: 15, Interior: true}} {
		cells, err := cv.Cover(g)
		if err != nil {
			t.Fatal(err)
		}
		quads := map[Code]bool{}
		for _, c := range cells {
			if c.Level() == 0 {
				t.Fatalf("%+v: level-0 cell in %v", cv, cells)
			}
			quads[c.ParentAt(1)] = true
		}
		if len(quads) != 4 {
			t.Errorf("%+v: cells in %d quadrants, want 4", cv, len(quads))
		}
		if cv.MaxCells > 0 && len(cells) > max(cv.MaxCells, 4) {
			t.Errorf("%+v: %d cells", cv, len(cells))
		}
		if cv.MaxCells == 4 {
			// One cell per quadrant, each the smallest holding that part
			// (the polygon reaches 2.5° from the origin: a 4° cell).
			for _, c := range cells {
				if c.Level() < 7 {
					t.Errorf("%+v: quadrant cell %s is coarser than 4°", cv, c)
				}
			}
		}
	}
}

func TestCoverMaxCells(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sh := range coverShapes() {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 16, 33, 100} {
			for _, interior := range []bool{false, true} {
				cv := Coverer{MaxLevel: 24, MaxCells: n, Interior: interior}
				cells, err := cv.Cover(sh.g)
				if err != nil {
					t.Fatal(err)
				}
				if len(cells) > max(n, 4) || (interior && len(cells) > n) {
					t.Errorf("%s %+v: %d cells", sh.name, cv, len(cells))
				}
				coverCheck(t, rng, sh.g, cv, cells, 500)
			}
		}
	}
}

func TestCoverErrors(t *testing.T) {
	good := orb.Polygon{coverRect(116, 39, 117, 40)}
	tests := []struct {
		name string
		cv   Coverer
		g    orb.Geometry
		is   []error
		msg  string
	}{
		{"nil geometry", Coverer{MaxLevel: 10}, nil, []error{ErrGeometryType}, "<nil>"},
		{"point", Coverer{MaxLevel: 10}, orb.Point{116, 39}, []error{ErrGeometryType}, "orb.Point"},
		{"line string", Coverer{MaxLevel: 10}, orb.LineString{{116, 39}, {117, 40}}, []error{ErrGeometryType}, "orb.LineString"},
		{"ring", Coverer{MaxLevel: 10}, good[0], []error{ErrGeometryType}, "orb.Ring"},
		{"bound", Coverer{MaxLevel: 10}, good.Bound(), []error{ErrGeometryType}, "orb.Bound"},
		{"collection", Coverer{MaxLevel: 10}, orb.Collection{good}, []error{ErrGeometryType}, "orb.Collection"},
		{"pointer", Coverer{MaxLevel: 10}, &good, []error{ErrGeometryType}, "*orb.Polygon"},
		{"empty polygon", Coverer{MaxLevel: 10}, orb.Polygon{}, []error{ErrGeometry}, "no rings"},
		{"empty multipolygon", Coverer{MaxLevel: 10}, orb.MultiPolygon{}, []error{ErrGeometry}, "no polygons"},
		{"multipolygon with empty polygon", Coverer{MaxLevel: 10}, orb.MultiPolygon{good, {}}, []error{ErrGeometry}, "polygon 1"},
		{"empty ring", Coverer{MaxLevel: 10}, orb.Polygon{{}}, []error{ErrGeometry}, "0 points"},
		{"3-point ring", Coverer{MaxLevel: 10}, orb.Polygon{{{116, 39}, {117, 39}, {116, 39}}}, []error{ErrGeometry}, "3 points"},
		{"3-point hole", Coverer{MaxLevel: 10}, orb.Polygon{good[0], {{116.2, 39.2}, {116.4, 39.2}, {116.2, 39.2}}}, []error{ErrGeometry}, "ring 1"},
		{"NaN lat", Coverer{MaxLevel: 10}, orb.Polygon{{{116, 39}, {117, math.NaN()}, {117, 40}, {116, 39}}}, []error{ErrGeometry, ErrLatitude}, "point 1"},
		{"NaN lon", Coverer{MaxLevel: 10}, orb.Polygon{{{116, 39}, {math.NaN(), 39}, {117, 40}, {116, 39}}}, []error{ErrGeometry, ErrLongitude}, "NaN"},
		{"Inf lon", Coverer{MaxLevel: 10}, orb.Polygon{{{116, 39}, {math.Inf(1), 39}, {117, 40}, {116, 39}}}, []error{ErrGeometry, ErrLongitude}, "+Inf"},
		{"lat 91", Coverer{MaxLevel: 10}, orb.Polygon{coverRect(116, 39, 117, 91)}, []error{ErrGeometry, ErrLatitude}, "91"},
		{"lon -181", Coverer{MaxLevel: 10}, orb.MultiPolygon{good, {coverRect(-181, 39, 117, 40)}}, []error{ErrGeometry, ErrLongitude}, "polygon 1 ring 0 point 0"},
		{"swapped lat lon", Coverer{MaxLevel: 10}, orb.Polygon{coverRect(39, 116, 40, 117)}, []error{ErrGeometry, ErrLatitude}, "116"},
		{"MaxLevel 0", Coverer{}, good, []error{ErrLevel}, "MaxLevel 0"},
		{"MaxLevel 33", Coverer{MaxLevel: 33}, good, []error{ErrLevel}, "MaxLevel 33"},
		{"MinLevel -1", Coverer{MinLevel: -1, MaxLevel: 10}, good, []error{ErrLevel}, "MinLevel -1"},
		{"MinLevel above MaxLevel", Coverer{MinLevel: 11, MaxLevel: 10}, good, []error{ErrLevel}, "MinLevel 11"},
		{"MaxCells negative", Coverer{MaxLevel: 10, MaxCells: -1}, good, nil, "MaxCells -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cells, err := tc.cv.Cover(tc.g)
			if err == nil {
				t.Fatalf("no error, cells %v", cells)
			}
			if cells != nil {
				t.Errorf("cells %v returned with the error", cells)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "gridcode: cover: ") || !strings.Contains(msg, tc.msg) {
				t.Errorf("error %q: want prefix %q and %q", msg, "gridcode: cover: ", tc.msg)
			}
			for _, e := range tc.is {
				if !errors.Is(err, e) {
					t.Errorf("error %q is not %v", msg, e)
				}
			}
		})
	}
}

func TestCoverDegenerate(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
	}{
		{"all one point", orb.Polygon{{{116, 39}, {116, 39}, {116, 39}, {116, 39}}}},
		{"collinear", orb.Polygon{{{116, 39}, {117, 40}, {116.5, 39.5}, {116, 39}}}},
		{"on a cell line", orb.Polygon{{{116, 39}, {117, 39}, {116.5, 39}, {116, 39}}}},
		{"hole equals outer", orb.Polygon{coverRect(116, 39, 117, 40), coverRect(116, 39, 117, 40)}},
		{"unclosed ring", orb.Polygon{{{116, 39}, {117, 39}, {117, 40}, {116, 40}}}},
		{"poles and antimeridian", orb.Polygon{coverRect(-180, -90, 180, 90)}},
		{"at the pole", orb.Polygon{{{170, 89}, {180, 89}, {180, 90}, {170, 90}, {170, 89}}}},
		{"tiny", orb.Polygon{{{116, 39}, {116 + 1e-12, 39}, {116, 39 + 1e-12}, {116, 39}}}},
	}
	for _, tc := range tests {
		for _, cv := range []Coverer{{MaxLevel: 20, MaxCells: 32}, {MaxLevel: 12}, {MaxLevel: 20, MaxCells: 32, Interior: true}} {
			cells, err := cv.Cover(tc.g)
			if err != nil {
				t.Fatalf("%s %+v: %v", tc.name, cv, err)
			}
			coverCheckStructure(t, cv, cells)
			t.Logf("%s %+v: %d cells %v", tc.name, cv, len(cells), cells[:min(len(cells), 4)])
		}
	}
	// Zero-area polygons have nothing inside.
	for _, g := range []orb.Geometry{tests[0].g, tests[1].g, tests[2].g, tests[3].g} {
		if cells, _ := (Coverer{MaxLevel: 20, Interior: true}).Cover(g); len(cells) != 0 {
			t.Errorf("interior of zero-area %v: %v", g, cells)
		}
	}
	if cells, _ := (Coverer{MaxLevel: 20}).Cover(tests[5].g); !slices.Equal(cells, []Code{{}}) {
		t.Errorf("whole globe: %v, want [G]", cells)
	}
	unclosed, _ := Coverer{MaxLevel: 20}.Cover(tests[4].g)
	closed, _ := Coverer{MaxLevel: 20}.Cover(orb.Polygon{coverRect(116, 39, 117, 40)})
	if !slices.Equal(unclosed, closed) || len(closed) != 1 {
		t.Errorf("unclosed ring %v, closed %v", unclosed, closed)
	}
}

func TestRanges(t *testing.T) {
	c := mustParse(t, "G001310322-230230")
	kids := c.Children()
	f, l := c.Range()
	k3f, k3l := kids[3].Range()
	gf, gl := Code{}.Range()
	tests := []struct {
		name  string
		cells []Code
		want  [][2]uint64
	}{
		{"none", nil, nil},
		{"one", []Code{c}, [][2]uint64{{f, l}}},
		{"siblings merge", []Code{kids[2], kids[0], kids[1], kids[3]}, [][2]uint64{{f, l}}},
		{"gap", []Code{kids[3], kids[0], kids[1]}, [][2]uint64{{f, kids[2].Bits() - 1}, {k3f, k3l}}},
		{"nested", []Code{kids[1], c, kids[1].Children()[2]}, [][2]uint64{{f, l}}},
		{"globe", []Code{c, {}}, [][2]uint64{{gf, gl}}},
		{"to the end", []Code{mustParse(t, "G31"), mustParse(t, "G3"), mustParse(t, "G2")}, [][2]uint64{{2 << 62, math.MaxUint64}}},
		{"after the end", []Code{mustParse(t, "G3"), mustParse(t, "G0")}, [][2]uint64{{0, 1<<62 - 1}, {3 << 62, math.MaxUint64}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Ranges(tc.cells); !slices.Equal(got, tc.want) {
				t.Fatalf("Ranges(%v) = %v, want %v", tc.cells, got, tc.want)
			}
		})
	}
}

func TestCoverSegmentCrossesBox(t *testing.T) {
	// The open box (0, 1) × (0, 1).
	tests := []struct {
		name           string
		ax, ay, bx, by float64
		want           bool
	}{
		{"diagonal", -1, -1, 2, 2, true},
		{"anti-diagonal through a corner", -1, 1, 1, -1, false},
		{"anti-diagonal through the middle", -0.5, 1.5, 1.5, -0.5, true},
		{"along the bottom edge", -1, 0, 2, 0, false},
		{"along the left edge", 0, 0.2, 0, 0.8, false},
		{"outside, right", 1.5, -1, 1.5, 2, false},
		{"ends on the edge", 0.5, -1, 0.5, 0, false},
		{"ends just inside", 0.5, -1, 0.5, 1e-300, true},
		{"inside", 0.2, 0.2, 0.3, 0.4, true},
		{"horizontal through", -5, 0.5, 5, 0.5, true},
		{"vertical through", 0.5, -5, 0.5, 5, true},
		{"corner touch from outside", 1, 1, 2, 3, false},
		{"misses the corner", 0.5, 2, 2, 0.5, false},
		{"clips the corner", 0.5, 1.4, 1.4, 0.5, true},
		{"through opposite corners", -1, 2, 2, -1, true},
		{"zero length inside", 0.5, 0.5, 0.5, 0.5, true},
		{"zero length on edge", 0.5, 0, 0.5, 0, false},
	}
	for _, tc := range tests {
		for _, rev := range []bool{false, true} {
			ax, ay, bx, by := tc.ax, tc.ay, tc.bx, tc.by
			if rev {
				ax, ay, bx, by = bx, by, ax, ay
			}
			if got := segmentCrossesBox(ax, ay, bx, by, 0, 0, 1, 1); got != tc.want {
				t.Errorf("%s (reversed %v): got %v", tc.name, rev, got)
			}
		}
	}
}

func TestCoverOrientExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ratSign := func(ax, ay, bx, by, cx, cy float64) int {
		r := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
		l := new(big.Rat).Mul(new(big.Rat).Sub(r(bx), r(ax)), new(big.Rat).Sub(r(cy), r(ay)))
		m := new(big.Rat).Mul(new(big.Rat).Sub(r(by), r(ay)), new(big.Rat).Sub(r(cx), r(ax)))
		return l.Cmp(m)
	}
	naiveWrong := 0
	for i := range 20000 {
		// Nearly collinear points: c on the line a→b, then nudged a few ulps.
		ax, ay := 121+rng.Float64(), 38+rng.Float64()
		bx, by := 121+rng.Float64(), 38+rng.Float64()
		s := rng.Float64()
		cx, cy := ax+s*(bx-ax), ay+s*(by-ay)
		for range rng.IntN(3) {
			cx = math.Nextafter(cx, math.Inf(2*rng.IntN(2)-1))
		}
		switch i % 4 {
		case 1: // tiny magnitudes
			ax, ay, bx, by, cx, cy = ax*1e-300, ay*1e-300, bx*1e-300, by*1e-300, cx*1e-300, cy*1e-300
		case 2: // axis-aligned
			by, cy = ay, ay
		case 3: // subnormal differences
			bx, by, cx, cy = ax, math.Nextafter(ay, 100), math.Nextafter(ax, 200), ay
		}
		want := ratSign(ax, ay, bx, by, cx, cy)
		if got := orient(ax, ay, bx, by, cx, cy); got != want {
			t.Fatalf("orient(%v, %v, %v, %v, %v, %v) = %d, want %d", ax, ay, bx, by, cx, cy, got, want)
		}
		if naive := sign((bx-ax)*(cy-ay) - (by-ay)*(cx-ax)); naive != want {
			naiveWrong++
		}
	}
	t.Logf("naive floating point was wrong in %d of 20000 near-degenerate cases", naiveWrong)
}

// FuzzCover builds a quadrilateral (possibly self-intersecting, degenerate
// or off the globe) from fuzzed coordinates and checks that Cover never
// panics, rejects exactly the invalid input, and returns a sorted, disjoint
// set within the limits that holds sample points inside the polygon.
func FuzzCover(f *testing.F) {
	f.Add(121.6, 38.9, 121.7, 38.9, 121.7, 39.0, 121.6, 39.0, uint8(20), uint8(32), false)
	f.Add(-2.0, -1.5, 1.5, -2.0, 2.5, 1.0, -1.8, 1.2, uint8(14), uint8(8), true)
	f.Add(116.0, 39.0, 117.0, 40.0, 116.0, 40.0, 117.0, 39.0, uint8(9), uint8(3), false)
	f.Add(-180.0, -90.0, 180.0, -90.0, 180.0, 90.0, -180.0, 90.0, uint8(5), uint8(64), true)
	f.Add(116.0, 39.0, 116.0, 39.0, 116.0, 39.0, 116.0, 39.0, uint8(31), uint8(0), false)
	f.Add(116.0, 39.0, 117.0, 40.0, 118.0, 41.0, 116.5, 39.5, uint8(20), uint8(255), true)
	f.Add(math.NaN(), 39.0, 117.0, 40.0, 118.0, 41.0, 116.5, 39.5, uint8(20), uint8(255), false)
	f.Add(1e-300, 5e-324, -1e-300, 1e-300, 0.0, -1e-300, 1e-310, 0.0, uint8(31), uint8(16), false)
	f.Add(0.0, 0.0, 190.0, 0.0, 0.0, 95.0, 0.0, 0.0, uint8(10), uint8(10), false)
	f.Fuzz(func(t *testing.T, x0, y0, x1, y1, x2, y2, x3, y3 float64, level, cells uint8, interior bool) {
		ring := orb.Ring{{x0, y0}, {x1, y1}, {x2, y2}, {x3, y3}, {x0, y0}}
		poly := orb.Polygon{ring}
		// Bounded work: at most 64 cells, levels to 24.
		cv := Coverer{MaxLevel: 1 + int(level)%24, MaxCells: 1 + int(cells)%64, Interior: interior}
		if cells >= 128 {
			cv.MinLevel = cv.MaxLevel / 4
		}
		got, err := cv.Cover(poly)
		valid := true
		for _, p := range ring {
			valid = valid && p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
		}
		if !valid {
			if err == nil || !errors.Is(err, ErrGeometry) {
				t.Fatalf("invalid %v: cells %v, error %v", ring, got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("valid %v: %v", ring, err)
		}
		coverCheckStructure(t, cv, got)
		if len(got) > max(cv.MaxCells, 4) && cv.MinLevel == 0 {
			t.Fatalf("%d cells, MaxCells %d", len(got), cv.MaxCells)
		}
		rng := rand.New(rand.NewPCG(math.Float64bits(x0)^math.Float64bits(y2), math.Float64bits(x3)))
		b := ring.Bound()
		checked := 0
		for range 200 {
			if checked == 5 {
				break
			}
			p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) ||
				!planar.PolygonContains(poly, p) || coverBoundaryDist(poly, p) <= coverNearBoundary {
				continue
			}
			checked++
			pc := mustEncode(t, p[1], p[0], MaxLevel)
			k := coverFind(got, pc)
			if !interior && k < 0 {
				t.Fatalf("%v %+v: inside point %v in no cell of %v", ring, cv, p, got)
			}
		}
		if interior {
			for _, c := range got {
				lat, lon := c.Center()
				p := orb.Point{lon, lat}
				if !planar.PolygonContains(poly, p) && coverBoundaryDist(poly, p) > coverNearBoundary {
					t.Fatalf("%v %+v: interior cell %s centre %v outside", ring, cv, c, p)
				}
			}
		}
	})
}

// BenchmarkCoverDalianDistrict covers a ~0.1° stretch of the Dalian shore at
// MaxLevel 20 (about 0.5″, 15 m) with at most 256 cells.
func BenchmarkCoverDalianDistrict(b *testing.B) {
	for _, interior := range []bool{false, true} {
		name := "covering"
		if interior {
			name = "interior"
		}
		b.Run(name, func(b *testing.B) {
			cv := Coverer{MaxLevel: 20, MaxCells: 256, Interior: interior}
			var cells []Code
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if cells, err = cv.Cover(coverDalianCoast); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(cells)), "cells")
			b.ReportMetric(float64(len(Ranges(cells))), "ranges")
		})
	}
}
