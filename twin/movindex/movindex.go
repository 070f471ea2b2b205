// Package movindex indexes moving points — live vehicles, phones, sensors —
// for the city twin: a set of lon/lat points (orb.Point{lon, lat}, degrees,
// CGCS2000 ≈ WGS84) keyed by a dense uint32 slot number that the caller
// chooses and maps to its own ids. It is built for a stream of small moves
// (hundreds of thousands of position updates per second over up to a million
// live objects) interleaved with small bounding-box searches.
//
// Two implementations share the Index interface: RTree wraps
// github.com/tidwall/rtree (a move is a delete and an insert), and Grid keeps
// one bucket per non-empty GeoSOT cell at a fixed level (a move inside a
// cell is an in-place update). New returns the faster of the two for that
// workload, chosen by benchmark (see New and docs/PERFORMANCE.md).
//
// Search finds a point when Min ≤ p ≤ Max on both axes, edges included (as
// orb.Bound.Contains, except that a NaN coordinate is never inside). Coordinates are
// not wrapped: a box that crosses ±180° must be passed as two boxes, and a
// box whose Min exceeds its Max on either axis (or has a NaN coordinate)
// finds nothing. Points may lie anywhere, even outside [-180, 180]×[-90, 90]
// or at ±Inf; they are found by the boxes that contain them as given. A
// point with a NaN coordinate is kept (it counts in Len and can be moved or
// deleted) but no box contains it, so Search never reports it.
//
// No implementation is safe for concurrent use: the caller serialises all
// calls (for instance one ingest goroutine owning the index, or a mutex).
package movindex

import "github.com/paulmach/orb"

// Index is a set of points keyed by slot.
//
// Implementations are not safe for concurrent use, and fn passed to Search
// must not modify the index.
type Index interface {
	// Set inserts the slot at p or moves it there from where it was.
	Set(slot uint32, p orb.Point)
	// Delete removes the slot (no-op if absent).
	Delete(slot uint32)
	// Search calls fn for every slot whose point lies in b (edges inclusive) until fn returns false.
	Search(b orb.Bound, fn func(slot uint32, p orb.Point) bool)
	// Len is the number of slots present.
	Len() int
}

// New returns the index to use for live objects: a Grid at DefaultLevel.
//
// The Grid was chosen for many small moves plus small-box searches by
//
//	go test ./twin/movindex -run '^$' -bench Index -benchmem -benchtime=1s -count=3
//
// (100,000 and 1,000,000 objects in a 30 km × 30 km box around Dalian, each
// update moving a random object by up to 20 m; medians of 3, two runs,
// Grid ÷ RTree): a move costs 0.08–0.12× at 100,000 objects (171–181
// against 1,491–2,273 ns) and 0.23–0.25× at 1,000,000 (462–596 against
// 1,820–2,605 ns); a 500 m box search 0.86–0.92× and 0.69–1.17× (a tie
// within the machine's noise: 1.6–2.1 µs and 12–17 µs either way); a 5 km
// search 0.49–0.80× and 0.55–0.56×; and an object takes 62 and 38 heap bytes
// against the RTree's 82 and 81. Moves decide it: 300,000 updates a second
// cost the RTree 0.45–0.78 of a core, the Grid 0.05–0.18. The full table
// is in docs/PERFORMANCE.md, "Moving-object index (issue 5)".
func New() Index { return NewGrid(DefaultLevel) }

// Compile-time checks that both implementations satisfy Index.
var (
	_ Index = (*RTree)(nil)
	_ Index = (*Grid)(nil)
)

// isNaN reports whether either coordinate of p is NaN.
func isNaN(p orb.Point) bool { return p[0] != p[0] || p[1] != p[1] }

// validBound reports whether b can contain any point: Min ≤ Max on both axes
// and no NaN.
func validBound(b orb.Bound) bool {
	return b.Min[0] <= b.Max[0] && b.Min[1] <= b.Max[1]
}
