package movindex

import (
	"fmt"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// DefaultLevel is the GeoSOT level of the cells New's Grid buckets points
// by: level 17 cells are 16″ × 16″, about 490 m north–south and 390 m
// east–west at Dalian's latitude. It was chosen with
//
//	go test ./twin/movindex -run '^$' -bench GridLevel -benchmem -benchtime=500ms -count=3
//
// (levels 15–19, same workload as BenchmarkIndex): level 17 had the fastest
// 500 m search at both sizes (median 2.1 µs at 100,000 objects against 2.3
// at level 16 and 4.6 at 15; 15.8 µs at 1,000,000 against 20 at level 19
// and 43 at 16), a 5 km search within noise of the best, and moves as cheap
// as any level; finer levels cost more memory and far more for 5 km boxes,
// coarser ones scan too many points per small box.
const DefaultLevel = 17

// Grid is an Index that keeps, for every non-empty GeoSOT cell at a fixed
// level, a bucket of the slots in it and their points. A slot knows its
// bucket and its position there, so a move within the cell overwrites the
// point in place, and a move to another cell is a swap-remove from the old
// bucket plus an append to the new one; both are O(1) apart from one map
// lookup of the new cell.
//
// Search enumerates the cells covering the box (rows and columns computed
// from the axis codes of its corners) and looks each up; when the box covers
// more cells than there are non-empty buckets it walks the buckets instead,
// so a box over the whole city never visits millions of empty cells. Points
// of cells wholly inside the box are reported without testing them.
//
// Cells follow gridcode.Encode (truncation, so a point on a cell edge
// belongs to the cell away from the equator and the prime meridian). For
// bucketing only, latitudes are clamped to [-90, 90] and longitudes to
// [-180, 180] (points at the poles and ±180° fall in the last real cell);
// the point stored and reported is always the one given, and Search tests
// it exactly: Min ≤ p ≤ Max on both axes.
//
// A Grid is not safe for concurrent use. Use NewGrid; the zero value is not
// usable.
type Grid struct {
	level uint8
	shift uint              // 32 - level: the unused low bits of an axis code
	cells map[uint64]uint32 // cell bits → index in bkts, for non-empty buckets
	bkts  []bucket          // bkts[0] holds the NaN points; never in cells
	free  []uint32          // indexes of empty buckets in bkts, for reuse
	locs  []loc             // where each slot is
	n     int
}

// loc is where a slot lives: bucket index + 1 (0 means absent) and the
// position in that bucket.
type loc struct {
	b, i uint32
}

// bucket holds the points of one cell.
type bucket struct {
	key      uint64 // GeoSOT cell bits, or a sentinel for NaN / empty buckets
	row, col int32  // signed cell index on the latitude and longitude axes
	slots    []uint32
	pts      []orb.Point
}

// Sentinel bucket keys. A real cell of a clamped point never has bit 61
// set: it carries latitude axis bit 30, the top bit of the 8-bit degree
// field, and |latitude| < 128°. So these never equal a real cell's bits.
const (
	nanKey   = 1 << 61
	emptyKey = 1<<61 | 1
)

// signBit is the sign bit of a GeoSOT axis code.
const signBit = 1 << 31

// NewGrid returns an empty Grid bucketing by GeoSOT cells of the given
// level (1–32; a level-L cell is nominally 2^(9−L) degrees on a side, so
// level 15 is 1′ and level 17 is 16″). It panics if level is out of range.
func NewGrid(level int) *Grid {
	if level < 1 || level > gridcode.MaxLevel {
		panic(fmt.Sprintf("movindex: grid level %d out of range 1–%d", level, gridcode.MaxLevel))
	}
	return &Grid{
		level: uint8(level),
		shift: uint(32 - level),
		cells: make(map[uint64]uint32),
		bkts:  []bucket{{key: nanKey}},
	}
}

// Level returns the GeoSOT level of the grid's cells.
func (g *Grid) Level() int { return int(g.level) }

// clamp limits a coordinate to [-lim, lim] for bucketing; NaN is not
// expected here.
func clamp(v, lim float64) float64 {
	if v > lim {
		return lim
	}
	if v < -lim {
		return -lim
	}
	return v
}

// cellOf returns the GeoSOT cell bits of a point that has no NaN coordinate.
func (g *Grid) cellOf(p orb.Point) uint64 {
	// The clamped point is always in range, so Encode cannot fail.
	c, _ := gridcode.Encode(clamp(p[1], 90), clamp(p[0], 180), int(g.level))
	return c.Bits()
}

// Set inserts the slot at p or moves it there from where it was.
func (g *Grid) Set(slot uint32, p orb.Point) {
	if int(slot) >= len(g.locs) {
		g.grow(slot)
	}
	l := &g.locs[slot]
	var key uint64 = nanKey
	if !isNaN(p) {
		key = g.cellOf(p)
	}
	if l.b != 0 {
		if b := &g.bkts[l.b-1]; b.key == key {
			b.pts[l.i] = p // same cell: in place
			return
		}
	}
	nb := g.bucketFor(key) // before remove, which may recycle the old bucket
	if l.b != 0 {
		g.remove(l)
	} else {
		g.n++
	}
	b := &g.bkts[nb]
	*l = loc{b: nb + 1, i: uint32(len(b.slots))}
	b.slots = append(b.slots, slot)
	b.pts = append(b.pts, p)
}

// grow makes room for slot in locs.
func (g *Grid) grow(slot uint32) {
	locs := make([]loc, max(int(slot)+1, 2*len(g.locs), 1024))
	copy(locs, g.locs)
	g.locs = locs
}

// bucketFor returns the index of the bucket of the cell, creating it.
func (g *Grid) bucketFor(key uint64) uint32 {
	if key == nanKey {
		return 0
	}
	if i, ok := g.cells[key]; ok {
		return i
	}
	var i uint32
	if n := len(g.free); n > 0 {
		i = g.free[n-1]
		g.free = g.free[:n-1]
	} else {
		g.bkts = append(g.bkts, bucket{})
		i = uint32(len(g.bkts) - 1)
	}
	lat, lon := gridcode.Deinterleave(key)
	b := &g.bkts[i]
	b.key = key
	b.row = int32(axisIndex(lat, g.shift))
	b.col = int32(axisIndex(lon, g.shift))
	g.cells[key] = i
	return i
}

// remove takes the slot at l out of its bucket (swap-remove) without
// touching l itself; an emptied cell bucket is released for reuse.
func (g *Grid) remove(l *loc) {
	bi := l.b - 1
	b := &g.bkts[bi]
	last := uint32(len(b.slots) - 1)
	if l.i != last {
		moved := b.slots[last]
		b.slots[l.i] = moved
		b.pts[l.i] = b.pts[last]
		g.locs[moved].i = l.i
	}
	b.slots = b.slots[:last]
	b.pts = b.pts[:last]
	if last == 0 && bi != 0 {
		delete(g.cells, b.key)
		b.key = emptyKey
		g.free = append(g.free, bi)
	}
}

// Delete removes the slot (no-op if absent).
func (g *Grid) Delete(slot uint32) {
	if int(slot) >= len(g.locs) || g.locs[slot].b == 0 {
		return
	}
	l := &g.locs[slot]
	g.remove(l)
	*l = loc{}
	g.n--
}

// Len is the number of slots present.
func (g *Grid) Len() int { return g.n }

// Search calls fn for every slot whose point lies in b (edges inclusive)
// until fn returns false. fn must not modify the index.
func (g *Grid) Search(b orb.Bound, fn func(slot uint32, p orb.Point) bool) {
	if !validBound(b) || len(g.cells) == 0 {
		return
	}
	// Cell ranges on each axis. Clamping and truncation are both monotone,
	// so every point in b lies in a cell between those of b's corners, and
	// a point in a cell strictly inside the range on an axis is strictly
	// inside b on that axis.
	c0, _ := gridcode.Encode(clamp(b.Min[1], 90), clamp(b.Min[0], 180), int(g.level))
	c1, _ := gridcode.Encode(clamp(b.Max[1], 90), clamp(b.Max[0], 180), int(g.level))
	la0, lo0 := gridcode.Deinterleave(c0.Bits())
	la1, lo1 := gridcode.Deinterleave(c1.Bits())
	r0, r1 := axisIndex(la0, g.shift), axisIndex(la1, g.shift)
	k0, k1 := axisIndex(lo0, g.shift), axisIndex(lo1, g.shift)

	if float64(r1-r0+1)*float64(k1-k0+1) > float64(len(g.cells)) {
		for i := 1; i < len(g.bkts); i++ {
			bk := &g.bkts[i]
			r, k := int64(bk.row), int64(bk.col)
			if len(bk.slots) == 0 || r < r0 || r > r1 || k < k0 || k > k1 {
				continue
			}
			edge := r == r0 || r == r1 || k == k0 || k == k1
			if !scan(bk, b, edge, fn) {
				return
			}
		}
		return
	}
	for r := r0; r <= r1; r++ {
		row := axisCode(r, g.shift)
		edgeRow := r == r0 || r == r1
		for k := k0; k <= k1; k++ {
			i, ok := g.cells[gridcode.Interleave(row, axisCode(k, g.shift))]
			if !ok {
				continue
			}
			if !scan(&g.bkts[i], b, edgeRow || k == k0 || k == k1, fn) {
				return
			}
		}
	}
}

// scan reports the points of one bucket that lie in b; test is false for a
// cell wholly inside b. It returns false when fn asked to stop.
func scan(bk *bucket, b orb.Bound, test bool, fn func(uint32, orb.Point) bool) bool {
	if !test {
		for j, p := range bk.pts {
			if !fn(bk.slots[j], p) {
				return false
			}
		}
		return true
	}
	for j, p := range bk.pts {
		if p[0] >= b.Min[0] && p[0] <= b.Max[0] && p[1] >= b.Min[1] && p[1] <= b.Max[1] {
			if !fn(bk.slots[j], p) {
				return false
			}
		}
	}
	return true
}

// axisIndex turns the top 32−shift bits of a GeoSOT axis code into a signed
// cell index that increases with the coordinate: cells on the positive side
// count 0, 1, 2… away from zero, cells on the negative side −1, −2….
func axisIndex(a uint32, shift uint) int64 {
	if a&signBit == 0 {
		return int64(a >> shift)
	}
	return -1 - int64((a&^signBit)>>shift)
}

// axisCode is the inverse of axisIndex.
func axisCode(i int64, shift uint) uint32 {
	if i >= 0 {
		return uint32(i) << shift
	}
	return signBit | uint32(-1-i)<<shift
}
