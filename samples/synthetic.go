package samples

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// SyntheticOptions choose a synthetic city for scale tests.
type SyntheticOptions struct {
	// Buildings is the exact number of buildings; 0 means
	// DefaultBuildings.
	Buildings int
	// Seed selects the city: the same seed gives identical output.
	Seed uint64
}

// GenerateSynthetic streams opts.Buildings buildings (layer "buildings",
// ids "syn-0000001"…) spread uniformly over the real land in the Dalian
// clip box. Each stands alone in its own square slot of a lattice sized
// to the count, so footprints never overlap, and all four corners are on
// land. Memory stays constant in the number of buildings: two passes over
// the slots (count the usable ones, then pick exactly N by selection
// sampling) with a grid-accelerated point-in-land test. Features are not
// prepared; each passes spatial.Feature.Prepare.
func GenerateSynthetic(opts SyntheticOptions, sink func(*spatial.Feature) error) error {
	if sink == nil {
		return errors.New("samples: nil sink")
	}
	land, err := loadLand(fileLandOSM)
	if err != nil {
		return err
	}
	polys := make([]orb.Polygon, len(land))
	for k, p := range land {
		polys[k] = p.poly
	}
	return generateSynthetic(opts, polys, orb.Bound{}, func(f *spatial.Feature) error {
		if err := sink(f); err != nil {
			return fmt.Errorf("samples: sink rejected %s/%s: %w", f.Layer, f.ID, err)
		}
		return nil
	})
}

// slotLayout is the lattice of building slots over the clip box.
type slotLayout struct {
	box      rect
	nx, ny   int
	sx, sy   float64 // slot size, degrees
	size     float64 // slot size, metres
	kx, ky   float64 // metres per degree
	seed     uint64
	exclude  orb.Bound // slots whose building has a corner here are skipped
	land     *landGrid
	excluded bool
}

// slot is one candidate building.
type slot struct {
	corners [4]orb.Point // degrees
	r       uint64       // random bits for the attributes
}

// at computes the candidate building of slot (ix, iy), a pure function of
// the seed and the slot, and reports whether it is usable.
func (l *slotLayout) at(ix, iy int) (slot, bool) {
	var s slot
	h := splitmix(l.seed ^ splitmix(uint64(iy)*uint64(l.nx)+uint64(ix)+0x9e3779b97f4a7c15))
	f := func() float64 { h = splitmix(h); return float64(h>>11) / (1 << 53) }
	cx := l.box.w + (float64(ix)+0.5)*l.sx
	cy := l.box.s + (float64(iy)+0.5)*l.sy
	if !l.land.contains(orb.Point{cx, cy}) {
		return s, false
	}
	// Footprint in metres: 12–40 × 8–22 m, never more than 70% of the slot.
	w := math.Min(12+28*f(), 0.7*l.size)
	d := math.Min(8+14*f(), 0.7*l.size)
	rad := math.Hypot(w, d) / 2
	j := math.Max(0, l.size/2-rad)
	ox, oy := (2*f()-1)*j, (2*f()-1)*j
	a := f() * math.Pi / 2
	ca, sa := math.Cos(a), math.Sin(a)
	hw, hd := w/2, d/2
	for k, c := range [4][2]float64{{-hw, -hd}, {hw, -hd}, {hw, hd}, {-hw, hd}} {
		x := ox + c[0]*ca - c[1]*sa
		y := oy + c[0]*sa + c[1]*ca
		s.corners[k] = orb.Point{cx + x/l.kx, cy + y/l.ky}
	}
	for _, p := range s.corners {
		if !l.land.contains(p) || (l.excluded && l.exclude.Contains(p)) {
			return s, false
		}
	}
	h = splitmix(h)
	s.r = h
	return s, true
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// maxSlot is the largest slot side (metres), so that a small synthetic
// city still samples the whole land rather than a few huge cells.
const maxSlot = 2000.0

// newSlotLayout sizes the slots so that about 1.3 n of them are usable.
func newSlotLayout(seed uint64, n int, lg *landGrid, landArea float64, exclude orb.Bound) (*slotLayout, int) {
	box := dalianBox()
	pr := newProj((box.w+box.e)/2, (box.s+box.n)/2)
	l := &slotLayout{box: box, kx: pr.kx, ky: pr.ky, seed: seed, land: lg, exclude: exclude, excluded: exclude != (orb.Bound{})}
	areaM2 := landArea * pr.kx * pr.ky
	size := math.Min(maxSlot, math.Sqrt(areaM2/(1.3*float64(n))))
	for try := 0; ; try++ {
		l.size = size
		l.sx, l.sy = size/l.kx, size/l.ky
		l.nx = int((box.e - box.w) / l.sx)
		l.ny = int((box.n - box.s) / l.sy)
		m := l.count()
		if m >= n || try == 8 {
			return l, m
		}
		// Too few usable slots (the coast rejects some): shrink.
		size *= math.Max(0.5, math.Sqrt(float64(m)/(1.3*float64(n)))*0.98)
	}
}

func (l *slotLayout) count() int {
	m := 0
	for iy := 0; iy < l.ny; iy++ {
		for ix := 0; ix < l.nx; ix++ {
			if _, ok := l.at(ix, iy); ok {
				m++
			}
		}
	}
	return m
}

func generateSynthetic(opts SyntheticOptions, land []orb.Polygon, exclude orb.Bound, emit func(*spatial.Feature) error) error {
	n := opts.Buildings
	switch {
	case n < 0:
		return fmt.Errorf("samples: %d synthetic buildings requested", n)
	case n == 0:
		n = DefaultBuildings
	}
	lg := newLandGrid(land, dalianBox(), 512)
	var area float64
	for _, p := range land {
		area += polygonsArea([]orb.Polygon{p})
	}
	l, m := newSlotLayout(opts.Seed, n, lg, area, exclude)
	if m < n {
		return fmt.Errorf("samples: only %d building slots on land for %d synthetic buildings", m, n)
	}
	// Selection sampling (Knuth's algorithm S): each usable slot is taken
	// with probability (still needed)/(still available), giving exactly n.
	rng := rngFor(opts.Seed, "synthetic-select")
	loc := cst()
	chosen, seen := 0, 0
	buf := make([]byte, 0, 16)
	for iy := 0; iy < l.ny && chosen < n; iy++ {
		for ix := 0; ix < l.nx && chosen < n; ix++ {
			s, ok := l.at(ix, iy)
			if !ok {
				continue
			}
			if rng.IntN(m-seen) >= n-chosen {
				seen++
				continue
			}
			seen++
			chosen++
			buf = appendID(buf[:0], chosen)
			if err := emit(syntheticFeature(string(buf), s, loc)); err != nil {
				return err
			}
		}
	}
	if chosen != n {
		return fmt.Errorf("samples: placed %d of %d synthetic buildings", chosen, n)
	}
	return nil
}

// appendID writes "syn-" and k zero-padded to seven digits.
func appendID(b []byte, k int) []byte {
	b = append(b, "syn-"...)
	s := strconv.Itoa(k)
	for i := len(s); i < 7; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// syntheticUse maps a uniform draw to a use and its range of storeys.
func syntheticUse(x float64) (use string, minFloors, spanFloors int) {
	switch {
	case x < .70:
		return useResidential, 4, 30
	case x < .78:
		return useCommercial, 2, 20
	case x < .82:
		return useOffice, 6, 40
	case x < .92:
		return useIndustrial, 1, 3
	case x < .97:
		return useMixed, 6, 19
	case x < .99:
		return useSchool, 3, 3
	}
	return useHospital, 5, 14
}

func syntheticFeature(id string, s slot, loc *time.Location) *spatial.Feature {
	r := s.r
	next := func() uint64 { r = splitmix(r); return r }
	use, minFl, spanFl := syntheticUse(float64(next()>>11) / (1 << 53))
	floors := minFl + int(next()%uint64(spanFl))
	year := 1950 + int(next()%75)
	height := float64(floors)*3 + float64(next()%13)/10
	ring := orb.Ring{s.corners[0], s.corners[1], s.corners[2], s.corners[3], s.corners[0]}
	return &spatial.Feature{
		Layer: LayerBuildings, ID: id, Geometry: orb.Polygon{ring},
		Properties: map[string]any{"use": use, "year_built": year, "synthetic": true},
		Height:     height, Floors: floors,
		ValidFrom: time.Date(year, time.Month(1+next()%12), 1+int(next()%28), 0, 0, 0, 0, loc),
	}
}

// landGrid answers "is this point on land?" in constant time: the box is
// cut into cells; for each cell it knows whether its centre is on land and
// which polygon edges cross it. A query starts from the centre's answer and
// flips it for every edge crossed on an L-shaped path to the point, all
// inside one cell. Even–odd over all rings, so lakes are not land.
type landGrid struct {
	box    rect
	nx, ny int
	cw, ch float64
	inside []bool
	start  []int32
	edges  [][2]orb.Point
}

func newLandGrid(land []orb.Polygon, box rect, n int) *landGrid {
	g := &landGrid{box: box, nx: n, ny: n, cw: (box.e - box.w) / float64(n), ch: (box.n - box.s) / float64(n)}
	var all [][2]orb.Point
	for _, p := range land {
		for _, r := range p {
			for k := 0; k+1 < len(r); k++ {
				if r[k] != r[k+1] {
					all = append(all, [2]orb.Point{r[k], r[k+1]})
				}
			}
		}
	}
	cellRange := func(e [2]orb.Point) (x0, x1, y0, y1 int) {
		x0, y0 = g.cellOf(orb.Point{min(e[0][0], e[1][0]), min(e[0][1], e[1][1])})
		x1, y1 = g.cellOf(orb.Point{max(e[0][0], e[1][0]), max(e[0][1], e[1][1])})
		return
	}
	counts := make([]int32, n*n+1)
	for _, e := range all {
		x0, x1, y0, y1 := cellRange(e)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				counts[y*n+x+1]++
			}
		}
	}
	for k := 1; k < len(counts); k++ {
		counts[k] += counts[k-1]
	}
	g.start = counts
	g.edges = make([][2]orb.Point, counts[n*n])
	fill := make([]int32, n*n)
	for _, e := range all {
		x0, x1, y0, y1 := cellRange(e)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				c := y*n + x
				g.edges[g.start[c]+fill[c]] = e
				fill[c]++
			}
		}
	}
	// Centre of every cell by scanline (half-open rule on y).
	g.inside = make([]bool, n*n)
	xs := make([]float64, 0, 256)
	for y := 0; y < n; y++ {
		cy := box.s + (float64(y)+0.5)*g.ch
		xs = xs[:0]
		for _, e := range all {
			a, b := e[0], e[1]
			if (a[1] > cy) != (b[1] > cy) {
				xs = append(xs, a[0]+(cy-a[1])*(b[0]-a[0])/(b[1]-a[1]))
			}
		}
		sort.Float64s(xs)
		k := 0
		for x := 0; x < n; x++ {
			cx := box.w + (float64(x)+0.5)*g.cw
			for k < len(xs) && xs[k] < cx {
				k++
			}
			g.inside[y*n+x] = k%2 == 1
		}
	}
	return g
}

func (g *landGrid) cellOf(p orb.Point) (int, int) {
	x := int((p[0] - g.box.w) / g.cw)
	y := int((p[1] - g.box.s) / g.ch)
	return max(0, min(g.nx-1, x)), max(0, min(g.ny-1, y))
}

// contains reports whether p is on land.
func (g *landGrid) contains(p orb.Point) bool {
	if !(p[0] >= g.box.w && p[0] <= g.box.e && p[1] >= g.box.s && p[1] <= g.box.n) {
		return false
	}
	x, y := g.cellOf(p)
	c := y*g.nx + x
	in := g.inside[c]
	X := g.box.w + (float64(x)+0.5)*g.cw
	Y := g.box.s + (float64(y)+0.5)*g.ch
	for _, e := range g.edges[g.start[c]:g.start[c+1]] {
		a, b := e[0], e[1]
		// Vertical leg: x = X from Y to p.y.
		if (a[0] > X) != (b[0] > X) {
			yi := a[1] + (X-a[0])*(b[1]-a[1])/(b[0]-a[0])
			if (yi > Y) != (yi > p[1]) {
				in = !in
			}
		}
		// Horizontal leg: y = p.y from X to p.x.
		if (a[1] > p[1]) != (b[1] > p[1]) {
			xi := a[0] + (p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1])
			if (xi > X) != (xi > p[0]) {
				in = !in
			}
		}
	}
	return in
}
