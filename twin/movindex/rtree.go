package movindex

import (
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// RTree is an Index backed by github.com/tidwall/rtree. Each point is a
// degenerate rectangle in the tree; a move deletes the old rectangle and
// inserts the new one, so the current point of every slot is kept beside
// the tree to find the old rectangle. Points with a NaN coordinate are kept
// out of the tree (no rectangle search could find them anyway).
//
// The zero value is an empty index ready to use. An RTree is not safe for
// concurrent use.
type RTree struct {
	tr      rtree.RTreeG[uint32]
	pts     []orb.Point // current point of each slot
	present []uint64    // bit set of slots present
	n       int
}

// NewRTree returns an empty RTree.
func NewRTree() *RTree { return &RTree{} }

// has reports whether the slot is present.
func (t *RTree) has(slot uint32) bool {
	w := int(slot >> 6)
	return w < len(t.present) && t.present[w]&(1<<(slot&63)) != 0
}

// Set inserts the slot at p or moves it there from where it was.
func (t *RTree) Set(slot uint32, p orb.Point) {
	if t.has(slot) {
		old := t.pts[slot]
		if old == p {
			return
		}
		if !isNaN(old) {
			t.tr.Delete(old, old, slot)
		}
	} else {
		if int(slot) >= len(t.pts) {
			t.grow(slot)
		}
		t.present[slot>>6] |= 1 << (slot & 63)
		t.n++
	}
	t.pts[slot] = p
	if !isNaN(p) {
		t.tr.Insert(p, p, slot)
	}
}

// grow makes room for slot in the per-slot slices.
func (t *RTree) grow(slot uint32) {
	n := max(int(slot)+1, 2*len(t.pts), 1024)
	pts := make([]orb.Point, n)
	copy(pts, t.pts)
	t.pts = pts
	present := make([]uint64, (n+63)/64)
	copy(present, t.present)
	t.present = present
}

// Delete removes the slot (no-op if absent).
func (t *RTree) Delete(slot uint32) {
	if !t.has(slot) {
		return
	}
	if old := t.pts[slot]; !isNaN(old) {
		t.tr.Delete(old, old, slot)
	}
	t.pts[slot] = orb.Point{}
	t.present[slot>>6] &^= 1 << (slot & 63)
	t.n--
}

// Search calls fn for every slot whose point lies in b (edges inclusive)
// until fn returns false. fn must not modify the index.
func (t *RTree) Search(b orb.Bound, fn func(slot uint32, p orb.Point) bool) {
	if !validBound(b) {
		return
	}
	t.tr.Search(b.Min, b.Max, func(min, _ [2]float64, slot uint32) bool {
		return fn(slot, min)
	})
}

// Len is the number of slots present.
func (t *RTree) Len() int { return t.n }
