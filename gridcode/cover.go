package gridcode

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/paulmach/orb"
)

// Errors returned by Coverer.Cover for geometry it cannot cover. They are
// wrapped with context; test with errors.Is.
var (
	// ErrGeometryType reports a geometry that is neither an orb.Polygon nor
	// an orb.MultiPolygon.
	ErrGeometryType = errors.New("unsupported geometry type")
	// ErrGeometry reports an empty or malformed polygon: no polygons, no
	// rings, a ring of fewer than 4 points, or a coordinate that is NaN,
	// infinite or off the globe (then ErrLatitude or ErrLongitude is wrapped
	// too).
	ErrGeometry = errors.New("empty or invalid geometry")
)

// Coverer approximates a polygon by a set of GeoSOT cells of mixed levels,
// in the manner of S2's RegionCoverer. The zero value is not usable: set
// MaxLevel.
//
// Geometry is taken in degree space: a polygon's coordinates are [lon, lat]
// in decimal degrees and its edges are straight lines in the lon/lat plane,
// which is how GeoSOT cells are defined (no great circles, no wrapping at
// ±180°). Each polygon is the even-odd interior of all its rings, so holes
// are respected whatever their winding; a MultiPolygon is the union of its
// polygons.
//
// Cells are classified exactly against the polygon (orientation tests are
// computed with an exact fallback when floating point cannot decide them):
// a cell is inside when its closed rectangle lies in the closed polygon,
// outside when its open rectangle misses the polygon, and crossing
// otherwise. So a rectangle that is exactly one cell yields that one cell,
// and cells that merely touch the polygon along an edge or at a corner are
// never used.
type Coverer struct {
	// MinLevel is the coarsest level a returned cell may have, 0–MaxLevel.
	// It takes priority over MaxCells: cells coarser than MinLevel are
	// always split, however many cells that produces.
	MinLevel int
	// MaxLevel is the finest level a returned cell may have, 1–32
	// (required). Cells crossing the polygon's boundary are split down to
	// this level unless MaxCells stops the refinement first.
	MaxLevel int
	// MaxCells is a soft limit on the number of cells returned; 0 means
	// unlimited. Refinement stops, splitting the largest crossing cells
	// first, before the limit would be exceeded. As with S2, the result
	// often has fewer cells than the limit: a split whose children all meet
	// the polygon and were not split further is undone by the final
	// normalisation, which merges the children back. A covering can hold
	// more cells when MinLevel demands it, or (up to 4) when the polygon
	// straddles the equator or the prime meridian and MaxCells is below the
	// number of quadrants it touches; so a limit of at least 4 is always
	// honoured when MinLevel is 0. With MaxCells 0 the number of cells grows
	// with the boundary length over the MaxLevel cell size: at level 32 a
	// 1° edge alone needs millions.
	MaxCells int
	// Interior asks for an interior covering: only cells wholly inside the
	// polygon, so every returned cell's points are in the polygon but parts
	// of the polygon near its boundary may be missed. With MaxCells > 0 the
	// refinement work is also bounded (a few hundred cell splits per
	// allowed cell), so a thin polygon cannot make it search every
	// MaxLevel cell along its boundary; the result is then still a valid,
	// just coarser, interior covering.
	Interior bool
}

// interiorSplitsPerCell bounds the refinement work of an interior covering
// with a cell limit: at most interiorSplitsBase + interiorSplitsPerCell ×
// MaxCells candidates are split.
const (
	interiorSplitsBase    = 1 << 12
	interiorSplitsPerCell = 1 << 8
)

// Cover returns a covering of g, an orb.Polygon or orb.MultiPolygon with
// [lon, lat] coordinates in degrees: a set of non-overlapping cells (no
// cell contains another), sorted by Compare, such that every point of the
// polygon's interior lies in one of them, i.e. Encode at the cell's level
// returns that cell. (Points exactly on the polygon's boundary can fall in
// the neighbouring cell when the boundary runs along a cell edge, since
// Encode gives each edge to one side only; likewise points within
// GeoSOT's floating-point snap tolerance, about 1e-11°, of such an edge.)
//
// Cells wholly inside the polygon are kept as coarse as MinLevel allows;
// cells crossing its boundary are split down to MaxLevel while MaxCells
// permits, largest first. Finally any complete set of a cell's real
// children (fewer than four where GeoSOT's virtual minutes and seconds
// 60–63 leave no real child) is replaced by that cell, down to MinLevel.
//
// With Interior set, Cover returns only cells wholly inside the polygon
// instead. The result may be empty, e.g. for a polygon of zero area or a
// polygon smaller than any MaxLevel cell in Interior mode.
func (cv Coverer) Cover(g orb.Geometry) ([]Code, error) {
	if err := cv.check(); err != nil {
		return nil, err
	}
	rg, err := newCoverRegion(g)
	if err != nil {
		return nil, err
	}
	bb := Bound{West: rg.bound.Min[0], South: rg.bound.Min[1], East: rg.bound.Max[0], North: rg.bound.Max[1]}
	start, err := CoverBound(bb)
	if err != nil {
		return nil, fmt.Errorf("gridcode: cover: %w", err)
	}
	// CoverBound gives the level-0 cell for a polygon across the equator or
	// the prime meridian; start from the four quadrants then and let the
	// refinement discard those it misses and descend through single-child
	// chains to the smallest cell of each quadrant holding the polygon.
	roots := []Code{start.ParentAt(cv.MaxLevel)}
	if start.Level() == 0 {
		roots = Code{}.Children()
	}

	s := coverState{cv: cv, rg: rg, maxCells: cv.MaxCells, splits: -1}
	if s.maxCells == 0 {
		s.maxCells = math.MaxInt
	} else if cv.Interior && cv.MaxCells <= (math.MaxInt-interiorSplitsBase)/interiorSplitsPerCell {
		s.splits = interiorSplitsBase + interiorSplitsPerCell*cv.MaxCells
	}
	all := make([]int32, len(rg.edges))
	for i := range all {
		all[i] = int32(i)
	}
	for _, r := range roots {
		if c := s.newCandidate(r, all, false); c != nil {
			s.add(c)
		}
	}
	s.refine()
	return normalizeCover(s.result, cv.MinLevel), nil
}

// check validates the options.
func (cv Coverer) check() error {
	if cv.MaxLevel < 1 || cv.MaxLevel > MaxLevel {
		return fmt.Errorf("gridcode: cover: %w: MaxLevel %d (want 1–%d)", ErrLevel, cv.MaxLevel, MaxLevel)
	}
	if cv.MinLevel < 0 || cv.MinLevel > cv.MaxLevel {
		return fmt.Errorf("gridcode: cover: %w: MinLevel %d (want 0–MaxLevel %d)", ErrLevel, cv.MinLevel, cv.MaxLevel)
	}
	if cv.MaxCells < 0 {
		return fmt.Errorf("gridcode: cover: MaxCells %d is negative (want 0 for unlimited, or a limit)", cv.MaxCells)
	}
	return nil
}

// Ranges returns the inclusive ranges of left-aligned code bits that the
// cells and all their descendants occupy (each cell's Range), sorted and
// with overlapping or adjacent ranges merged, ready for range scans over an
// index keyed by level-32 bits. The cells need not be sorted or disjoint.
func Ranges(cells []Code) [][2]uint64 {
	if len(cells) == 0 {
		return nil
	}
	rs := make([][2]uint64, len(cells))
	for i, c := range cells {
		rs[i][0], rs[i][1] = c.Range()
	}
	slices.SortFunc(rs, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if last[1] == math.MaxUint64 || r[0] <= last[1]+1 {
			last[1] = max(last[1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// normalizeCover sorts the cells, drops any contained in an earlier one and
// replaces every complete set of a parent's real children by the parent,
// repeatedly, never producing a cell coarser than minLevel.
func normalizeCover(cells []Code, minLevel int) []Code {
	slices.SortFunc(cells, Code.Compare)
	out := make([]Code, 0, len(cells))
	for _, c := range cells {
		if n := len(out); n > 0 && out[n-1].Contains(c) {
			continue
		}
		out = append(out, c)
		for {
			top := out[len(out)-1]
			if top.Level() <= minLevel {
				break
			}
			parent := top.Parent()
			kids := parent.Children()
			n := len(out) - len(kids)
			if n < 0 || !slices.Equal(out[n:], kids) {
				break
			}
			out = append(out[:n], parent)
		}
	}
	return out
}

// Cell classes relative to the polygon.
const (
	cellOutside = iota
	cellCrossing
	cellInside
)

// coverEdge is one polygon edge from (ax, ay) to (bx, by), x = lon, y = lat.
type coverEdge struct{ ax, ay, bx, by float64 }

// coverPoly is one polygon: its edges are coverRegion.edges[lo:hi].
type coverPoly struct {
	lo, hi int32
	bound  orb.Bound
}

// coverRegion is the validated input: the edges of all rings of all
// polygons (zero-length edges dropped), grouped by polygon.
type coverRegion struct {
	edges []coverEdge
	polys []coverPoly
	bound orb.Bound
}

// newCoverRegion validates g and collects its edges.
func newCoverRegion(g orb.Geometry) (*coverRegion, error) {
	var polys []orb.Polygon
	kind := fmt.Sprintf("%T", g)
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		if len(g) == 0 {
			return nil, fmt.Errorf("gridcode: cover: %s: %w: no polygons", kind, ErrGeometry)
		}
		polys = g
	default:
		return nil, fmt.Errorf("gridcode: cover: %w %s (want orb.Polygon or orb.MultiPolygon)", ErrGeometryType, kind)
	}
	rg := &coverRegion{}
	for pi, p := range polys {
		where := kind
		if len(polys) > 1 || kind != "orb.Polygon" {
			where = fmt.Sprintf("%s polygon %d", kind, pi)
		}
		if len(p) == 0 {
			return nil, fmt.Errorf("gridcode: cover: %s: %w: no rings", where, ErrGeometry)
		}
		cp := coverPoly{lo: int32(len(rg.edges))}
		for ri, r := range p {
			if len(r) < 4 {
				return nil, fmt.Errorf("gridcode: cover: %s ring %d: %w: %d points (want at least 4)", where, ri, ErrGeometry, len(r))
			}
			for i, pt := range r {
				lon, lat := pt[0], pt[1]
				if !(lat >= -90 && lat <= 90) {
					return nil, fmt.Errorf("gridcode: cover: %s ring %d point %d: %w: %w: %v", where, ri, i, ErrGeometry, ErrLatitude, lat)
				}
				if !(lon >= -180 && lon <= 180) {
					return nil, fmt.Errorf("gridcode: cover: %s ring %d point %d: %w: %w: %v", where, ri, i, ErrGeometry, ErrLongitude, lon)
				}
			}
			// The ring is closed implicitly; the closing edge of a ring
			// that repeats its first point has zero length and is dropped.
			for i := range r {
				a, b := r[i], r[(i+1)%len(r)]
				if a != b {
					rg.edges = append(rg.edges, coverEdge{a[0], a[1], b[0], b[1]})
				}
			}
			if ri == 0 {
				cp.bound = r.Bound()
			} else {
				cp.bound = cp.bound.Union(r.Bound())
			}
		}
		cp.hi = int32(len(rg.edges))
		rg.polys = append(rg.polys, cp)
		if pi == 0 {
			rg.bound = cp.bound
		} else {
			rg.bound = rg.bound.Union(cp.bound)
		}
	}
	return rg, nil
}

// classify returns the class of the cell with rectangle b. Only the edges
// listed in cand (ascending indices, a superset of those crossing the
// cell's interior, such as the crossing edges of its parent) are tested;
// for a crossing cell it also returns the edges crossing its interior.
func (rg *coverRegion) classify(b Bound, cand []int32) (int, []int32) {
	x0, y0, x1, y1 := b.West, b.South, b.East, b.North
	var cross []int32
	for _, i := range cand {
		e := &rg.edges[i]
		if segmentCrossesBox(e.ax, e.ay, e.bx, e.by, x0, y0, x1, y1) {
			cross = append(cross, i)
		}
	}
	// No polygon edge meets the open rectangle of the cell, so its interior
	// lies wholly inside or wholly outside that polygon: test the centre.
	cy, cx := b.Center()
	for pi := range rg.polys {
		p := &rg.polys[pi]
		if !(p.bound.Min[0] <= x0 && x1 <= p.bound.Max[0] && p.bound.Min[1] <= y0 && y1 <= p.bound.Max[1]) {
			continue // the polygon cannot contain the cell
		}
		if k, _ := slices.BinarySearch(cross, p.lo); k < len(cross) && cross[k] < p.hi {
			continue // the polygon's boundary runs through the cell
		}
		if rg.polyContains(p, cx, cy) {
			return cellInside, nil
		}
	}
	if len(cross) == 0 {
		return cellOutside, nil
	}
	return cellCrossing, cross
}

// polyContains reports whether (x, y), which must not lie on an edge, is
// inside the polygon by the even-odd rule over all its rings.
func (rg *coverRegion) polyContains(p *coverPoly, x, y float64) bool {
	in := false
	for _, e := range rg.edges[p.lo:p.hi] {
		if (e.ay > y) == (e.by > y) {
			continue
		}
		// The edge crosses the horizontal line through the point; count it
		// when it crosses to the right of the point.
		o := orient(e.ax, e.ay, e.bx, e.by, x, y)
		if (e.by > e.ay && o > 0) || (e.by < e.ay && o < 0) {
			in = !in
		}
	}
	return in
}

// segmentCrossesBox reports whether the closed segment a–b meets the open
// rectangle (x0, x1) × (y0, y1). By the separating-axis theorem they are
// disjoint exactly when the rectangle's own axes or the segment's normal
// separate them weakly; touching the rectangle's boundary is not crossing.
func segmentCrossesBox(ax, ay, bx, by, x0, y0, x1, y1 float64) bool {
	if max(ax, bx) <= x0 || min(ax, bx) >= x1 || max(ay, by) <= y0 || min(ay, by) >= y1 {
		return false
	}
	if (ax > x0 && ax < x1 && ay > y0 && ay < y1) || (bx > x0 && bx < x1 && by > y0 && by < y1) {
		return true
	}
	var pos, neg bool
	for _, c := range [4][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}} {
		switch o := orient(ax, ay, bx, by, c[0], c[1]); {
		case o > 0:
			pos = true
		case o < 0:
			neg = true
		}
		if pos && neg {
			return true
		}
	}
	return false
}

// orientErrBound is Shewchuk's ccwerrboundA, (3 + 16ε)ε with ε = 2⁻⁵³: if
// the floating-point determinant exceeds it times the sum of the magnitudes
// of its two products, its sign is exact.
const orientErrBound = (3 + 16*0x1p-53) * 0x1p-53

// orient returns the sign of the cross product (b−a) × (c−a): +1 when c is
// to the left of the directed line a→b, −1 to the right, 0 on it. The sign
// is exact: a floating-point filter decides almost every case and the rest
// are computed exactly in multi-precision arithmetic.
func orient(ax, ay, bx, by, cx, cy float64) int {
	dx1, dy1, dx2, dy2 := bx-ax, by-ay, cx-ax, cy-ay
	lz, rz := dx1 == 0 || dy2 == 0, dy1 == 0 || dx2 == 0
	l, r := dx1*dy2, dy1*dx2
	switch {
	case lz && rz, cx == bx && cy == by: // c == a gives lz && rz
		return 0
	case lz && r != 0: // exact differences keep their sign; r did not underflow
		return -sign(r)
	case rz && l != 0:
		return sign(l)
	case !lz && !rz:
		det := l - r
		sum := math.Abs(l) + math.Abs(r)
		if sum > 0x1p-960 && math.Abs(det) > orientErrBound*sum {
			return sign(det)
		}
	}
	return orientExact(ax, ay, bx, by, cx, cy)
}

// exactPrec is enough bits to hold the difference of two float64 values
// (at most 2098 significant bits, from 2¹⁰²³ down to 2⁻¹⁰⁷⁴) and the product
// of two such differences exactly.
const exactPrec = 4400

// orientExact computes the sign of orient exactly with big.Float, whose
// operations are exact when the precision holds every result.
func orientExact(ax, ay, bx, by, cx, cy float64) int {
	var dx1, dy1, dx2, dy2, l, r, u, v big.Float
	for _, z := range [...]*big.Float{&dx1, &dy1, &dx2, &dy2, &l, &r} {
		z.SetPrec(exactPrec)
	}
	dx1.Sub(u.SetFloat64(bx), v.SetFloat64(ax))
	dy1.Sub(u.SetFloat64(by), v.SetFloat64(ay))
	dx2.Sub(u.SetFloat64(cx), v.SetFloat64(ax))
	dy2.Sub(u.SetFloat64(cy), v.SetFloat64(ay))
	l.Mul(&dx1, &dy2)
	r.Mul(&dy1, &dx2)
	return l.Cmp(&r)
}

// sign returns −1, 0 or +1.
func sign(f float64) int {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

// candidate is a cell under consideration, S2 style: when it is added, its
// children are classified, so its priority can favour large cells with few
// intersecting children.
type candidate struct {
	cell     Code
	edges    []int32      // edges crossing the cell's interior
	inside   bool         // the cell lies wholly inside the polygon
	terminal bool         // the cell goes into the result as it is
	children []*candidate // the children that meet the polygon
	nTerm    int          // how many children are terminal
}

// coverState is one run of the covering algorithm.
type coverState struct {
	cv       Coverer
	rg       *coverRegion
	maxCells int // MaxCells, or MaxInt for unlimited
	splits   int // remaining candidate splits in interior mode; −1: unlimited
	pq       candidateQueue
	result   []Code
}

// newCandidate classifies the cell and returns its candidate, or nil when
// it cannot contribute. inside says the parent is already known inside.
func (s *coverState) newCandidate(cell Code, edges []int32, inside bool) *candidate {
	c := &candidate{cell: cell, inside: inside}
	if !inside {
		cls, cross := s.rg.classify(cell.Bounds(), edges)
		switch cls {
		case cellOutside:
			return nil
		case cellInside:
			c.inside = true
		default:
			c.edges = cross
		}
	}
	if level := cell.Level(); level >= s.cv.MinLevel {
		switch {
		case c.inside:
			c.terminal = true
		case level >= s.cv.MaxLevel && s.cv.Interior:
			return nil
		case level >= s.cv.MaxLevel:
			c.terminal = true
		}
	}
	return c
}

// add puts a terminal candidate into the result; otherwise it classifies
// the candidate's children and queues it.
func (s *coverState) add(c *candidate) {
	if c.terminal {
		s.result = append(s.result, c.cell)
		return
	}
	kids := c.cell.Children()
	for _, k := range kids {
		if ch := s.newCandidate(k, c.edges, c.inside); ch != nil {
			c.children = append(c.children, ch)
			if ch.terminal {
				c.nTerm++
			}
		}
	}
	c.edges = nil
	switch {
	case len(c.children) == 0:
		// Only a polygon of zero area crosses a cell without any child
		// meeting it; nothing of its interior is lost.
	case !s.cv.Interior && c.nTerm == len(kids) && c.cell.Level() >= s.cv.MinLevel:
		// Every real child would be used: use the cell instead.
		s.result = append(s.result, c.cell)
	default:
		heap.Push(&s.pq, c)
	}
}

// refine runs the S2 refinement loop: split the largest candidates first
// while the cell limit allows, and keep (covering) or drop (interior) the
// rest.
func (s *coverState) refine() {
	for s.pq.Len() > 0 && (!s.cv.Interior || len(s.result) < s.maxCells) && s.splits != 0 {
		c := heap.Pop(&s.pq).(*candidate)
		queued := 0
		if !s.cv.Interior {
			queued = s.pq.Len() // each will add at least one cell
		}
		switch {
		case c.cell.Level() < s.cv.MinLevel || len(c.children) == 1 ||
			len(s.result)+queued+len(c.children) <= s.maxCells:
			if s.splits > 0 {
				s.splits--
			}
			for _, ch := range c.children {
				if s.cv.Interior && len(s.result) >= s.maxCells {
					break
				}
				s.add(ch)
			}
		case !s.cv.Interior:
			s.result = append(s.result, c.cell)
		}
	}
}

// candidateQueue is a priority queue of candidates: coarser cells first,
// then those with fewer children and fewer terminal children (S2's order),
// then by code for a deterministic result.
type candidateQueue []*candidate

func (q candidateQueue) Len() int { return len(q) }

func (q candidateQueue) Less(i, j int) bool {
	a, b := q[i], q[j]
	if c := cmp.Compare(a.cell.Level(), b.cell.Level()); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(len(a.children), len(b.children)); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.nTerm, b.nTerm); c != 0 {
		return c < 0
	}
	return a.cell.Compare(b.cell) < 0
}

func (q candidateQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }

func (q *candidateQueue) Push(x any) { *q = append(*q, x.(*candidate)) }

func (q *candidateQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return c
}
