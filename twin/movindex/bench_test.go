package movindex

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/paulmach/orb"
)

// The benchmark city: a 30 km × 30 km box centred on Dalian.
const (
	benchLat      = 38.9
	benchLon      = 121.6
	metresPerDeg  = 111_320.0
	benchSide     = 30_000.0 // metres
	benchMaxStep  = 20.0     // metres, largest move per update on each axis
	benchTableLen = 1 << 16  // pregenerated moves and boxes
)

var benchSizes = []int{100_000, 1_000_000}

// world is the benchmark's data: the objects' starting points and tables of
// moves and search boxes, generated with fixed seeds.
type world struct {
	pts   []orb.Point
	steps []orb.Point // (dLon, dLat) of at most benchMaxStep metres
	small []orb.Bound // 500 m boxes
	large []orb.Bound // 5 km boxes
}

func newWorld(n int) *world {
	r := rand.New(rand.NewPCG(uint64(n), 2026))
	dLat := 1 / metresPerDeg
	dLon := 1 / (metresPerDeg * math.Cos(benchLat*math.Pi/180))
	w := &world{pts: make([]orb.Point, n)}
	at := func(x, y float64) orb.Point { // metres from the south-west corner
		return orb.Point{benchLon + (x-benchSide/2)*dLon, benchLat + (y-benchSide/2)*dLat}
	}
	for i := range w.pts {
		w.pts[i] = at(r.Float64()*benchSide, r.Float64()*benchSide)
	}
	for range benchTableLen {
		w.steps = append(w.steps, orb.Point{(r.Float64()*2 - 1) * benchMaxStep * dLon, (r.Float64()*2 - 1) * benchMaxStep * dLat})
		for _, side := range []float64{500, 5000} {
			x, y := side/2+r.Float64()*(benchSide-side), side/2+r.Float64()*(benchSide-side)
			b := orb.Bound{Min: at(x-side/2, y-side/2), Max: at(x+side/2, y+side/2)}
			if side == 500 {
				w.small = append(w.small, b)
			} else {
				w.large = append(w.large, b)
			}
		}
	}
	return w
}

var worlds = map[int]*world{}

func getWorld(n int) *world {
	if w, ok := worlds[n]; ok {
		return w
	}
	w := newWorld(n)
	worlds[n] = w
	return w
}

// BenchmarkIndex compares RTree and New's Grid in one run: build (ns and
// heap bytes per object), vehicle-like moves, and 500 m and 5 km searches,
// over 100,000 and 1,000,000 objects.
func BenchmarkIndex(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("n=%d/rtree", n), func(b *testing.B) { benchIndex(b, n, func() Index { return NewRTree() }) })
		b.Run(fmt.Sprintf("n=%d/grid", n), func(b *testing.B) { benchIndex(b, n, New) })
	}
}

// BenchmarkGridLevel runs the same workload for Grid at levels 15–19, to
// choose DefaultLevel.
func BenchmarkGridLevel(b *testing.B) {
	for _, n := range benchSizes {
		for level := 15; level <= 19; level++ {
			b.Run(fmt.Sprintf("n=%d/level=%d", n, level), func(b *testing.B) {
				benchIndex(b, n, func() Index { return NewGrid(level) })
			})
		}
	}
}

var sinkSlot uint32

func benchIndex(b *testing.B, n int, mk func() Index) {
	w := getWorld(n)
	cur := make([]orb.Point, n) // where the benchmark has put each object
	var idx Index
	build := func() Index {
		copy(cur, w.pts)
		x := mk()
		for i, p := range cur {
			x.Set(uint32(i), p)
		}
		return x
	}
	b.Run("build", func(b *testing.B) {
		var bytes uint64
		for b.Loop() {
			b.StopTimer()
			idx = nil
			var m0, m1 runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m0)
			b.StartTimer()
			x := build()
			b.StopTimer()
			runtime.GC()
			runtime.ReadMemStats(&m1)
			bytes = m1.HeapInuse - m0.HeapInuse
			idx = x
			b.StartTimer()
		}
		b.ReportMetric(float64(bytes)/float64(n), "heapB/obj")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/obj")
	})
	if idx == nil {
		idx = build()
	}
	b.Run("move", func(b *testing.B) {
		x := uint64(0x9e3779b97f4a7c15)
		for b.Loop() {
			x ^= x << 13 // xorshift64
			x ^= x >> 7
			x ^= x << 17
			s := uint32((x >> 32) * uint64(n) >> 32)
			d := w.steps[x&(benchTableLen-1)]
			p := orb.Point{cur[s][0] + d[0], cur[s][1] + d[1]}
			cur[s] = p
			idx.Set(s, p)
		}
	})
	search := func(boxes []orb.Bound) func(b *testing.B) {
		return func(b *testing.B) {
			hits := 0
			i := 0
			for b.Loop() {
				idx.Search(boxes[i&(benchTableLen-1)], func(s uint32, _ orb.Point) bool {
					sinkSlot += s
					hits++
					return true
				})
				i++
			}
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		}
	}
	b.Run("search500m", search(w.small))
	b.Run("search5km", search(w.large))
	if idx.Len() != n {
		b.Fatalf("Len %d, want %d", idx.Len(), n)
	}
}
