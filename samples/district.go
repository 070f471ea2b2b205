package samples

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// The nominal extent of the generated central district, in degrees.
const districtWest, districtSouth, districtEast, districtNorth = 121.60, 38.90, 121.68, 38.94

// DistrictCode is the GB/T 2260 code of 中山区 (Zhongshan District), whose
// centre the generated district imitates; it is the first six digits of
// every unit-grid code.
const DistrictCode = "210202"

// DistrictBounds returns the nominal extent of the generated district,
// [121.60, 38.90, 121.68, 38.94]; the district itself is the land inside it,
// bounded by the street lattice.
func DistrictBounds() orb.Bound {
	return orb.Bound{Min: orb.Point{districtWest, districtSouth}, Max: orb.Point{districtEast, districtNorth}}
}

// streetClass ranks streets; it sets lanes, width and speed.
type streetClass int

const (
	classLocal streetClass = iota
	classSecondary
	classArterial
)

func (c streetClass) String() string {
	return [...]string{"local", "secondary", "arterial"}[c]
}

func (c streetClass) lanes() int { return [...]int{2, 4, 6}[c] }

// width is the carriageway width in metres (3.5 m lanes, a 2 m median on
// arterials).
func (c streetClass) width() float64 {
	w := float64(c.lanes()) * 3.5
	if c == classArterial {
		w += 2
	}
	return w
}

func (c streetClass) sidewalk() float64 { return [...]float64{3, 4, 5}[c] }

func (c streetClass) speed() int { return [...]int{30, 50, 60}[c] }

// setback is the distance from a street's centre line to the block edge.
func (c streetClass) setback() float64 { return c.width()/2 + c.sidewalk() }

// line is one street of the lattice: a family of nodes at nominal
// position pos across the lattice axis, wobbling gently along it.
type line struct {
	pos         float64
	class       streetClass
	name        string
	amp, wl, ph float64
	oneway      int // 0 both ways, +1 towards increasing index, −1 the other way
}

func (l line) at(along float64) float64 {
	return l.pos + l.amp*math.Sin(2*math.Pi*along/l.wl+l.ph)
}

// cell is one active lattice cell: a block, its unit grid, its place in
// the street/community hierarchy.
type cell struct {
	i, j      int
	quad      orb.Ring      // metres, counter-clockwise: (i,j) (i+1,j) (i+1,j+1) (i,j+1)
	grid      []orb.Polygon // quad ∩ land: the unit grid
	block     []orb.Polygon // quad inset by the streets, ∩ land
	onLand    bool          // the whole quad is land
	inset     orb.Ring      // the inset quad (convex)
	code      string        // 15-digit unit-grid code
	jiedao    int           // index into district.jiedaos
	community int           // index into district.communities
	compound  string        // residential compound name for the block
	zone      zone
	elev      float64
}

// zone is the land-use character of a block.
type zone int

const (
	zoneResidential zone = iota
	zoneCentre
	zonePort
)

type jiedao struct {
	code, name string
	key        [2]int
}

type community struct {
	code, name string
	jiedao     int
	key        [2]int
}

// district is the generated centre: everything in metres in a local
// projection, converted to degrees on output.
type district struct {
	seed        uint64
	pr          proj
	theta       float64 // lattice rotation, radians
	land        []orb.Polygon
	coast       *segIndex
	box         orb.Ring // nominal extent, metres
	us, vs      []line   // u-lines (index i, across u) and v-lines (index j)
	nodes       [][]orb.Point
	cells       []*cell
	cellAt      map[[2]int]*cell
	area        []orb.Polygon // the district: ∪ grids
	jiedaos     []jiedao
	communities []community
	centre      orb.Point // metres: the commercial centre
	nodeElev    [][]float64
	loc         *time.Location // China Standard Time
}

// Lattice parameters (metres).
const (
	gapMin, gapMax = 125.0, 175.0
	latticeMargin  = 250.0
	workMargin     = 1500.0
)

func newDistrict(seed uint64, land []orb.Polygon) (*district, error) {
	d := &district{seed: seed, cellAt: map[[2]int]*cell{}, loc: cst()}
	d.pr = newProj((districtWest+districtEast)/2, (districtSouth+districtNorth)/2)
	lo := d.pr.fwd(orb.Point{districtWest, districtSouth})
	hi := d.pr.fwd(orb.Point{districtEast, districtNorth})
	d.box = orb.Ring{lo, {hi[0], lo[1]}, hi, {lo[0], hi[1]}, lo}

	// Land of the working area, in metres.
	work := orb.Polygon{{{lo[0] - workMargin, lo[1] - workMargin}, {hi[0] + workMargin, lo[1] - workMargin},
		{hi[0] + workMargin, hi[1] + workMargin}, {lo[0] - workMargin, hi[1] + workMargin}, {lo[0] - workMargin, lo[1] - workMargin}}}
	var near []orb.Polygon
	wb := work.Bound()
	for _, p := range land {
		q := d.pr.mapPolygon(p, d.pr.fwd)
		if q.Bound().Intersects(wb) {
			near = append(near, q)
		}
	}
	var err error
	if d.land, err = intersection(near, []orb.Polygon{work}); err != nil {
		return nil, fmt.Errorf("samples: district land: %w", err)
	}
	if len(d.land) == 0 {
		return nil, fmt.Errorf("samples: district box has no land")
	}
	d.coast = newSegIndex(d.land)
	d.theta = d.coastAngle(lo, hi)
	d.centre = d.pr.fwd(orb.Point{121.6445, 38.9180})

	d.layLattice()
	if err := d.buildCells(); err != nil {
		return nil, err
	}
	d.assignCodes()
	d.elevations()
	return d, nil
}

// coastAngle orients the lattice along the coast: the principal direction
// of the coastline vertices of the working area (the district box and a
// margin around it), limited to ±30°.
func (d *district) coastAngle(lo, hi orb.Point) float64 {
	var pts []orb.Point
	m := workMargin - 1
	for _, s := range d.coast.segs {
		p := s[0]
		if p[0] > lo[0]-m && p[0] < hi[0]+m && p[1] > lo[1]-m && p[1] < hi[1]+m {
			pts = append(pts, p)
		}
	}
	if len(pts) < 3 {
		return 0
	}
	var mx, my float64
	for _, p := range pts {
		mx += p[0]
		my += p[1]
	}
	mx /= float64(len(pts))
	my /= float64(len(pts))
	var sxx, syy, sxy float64
	for _, p := range pts {
		dx, dy := p[0]-mx, p[1]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	a := 0.5 * math.Atan2(2*sxy, sxx-syy)
	if a > math.Pi/2 {
		a -= math.Pi
	}
	return max(-math.Pi/6, min(math.Pi/6, a))
}

func (d *district) toUV(p orb.Point) (u, v float64) {
	c, s := math.Cos(d.theta), math.Sin(d.theta)
	return p[0]*c + p[1]*s, -p[0]*s + p[1]*c
}

func (d *district) fromUV(u, v float64) orb.Point {
	c, s := math.Cos(d.theta), math.Sin(d.theta)
	return orb.Point{u*c - v*s, u*s + v*c}
}

// layLattice places the streets: lines across u (index i, running roughly
// north–south) and across v (index j, roughly east–west), with irregular
// spacing and a gentle wobble, and their crossing nodes.
func (d *district) layLattice() {
	umin, umax, vmin, vmax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range d.box[:4] {
		u, v := d.toUV(p)
		umin, umax = min(umin, u), max(umax, u)
		vmin, vmax = min(vmin, v), max(vmax, v)
	}
	rng := rngFor(d.seed, "lattice")
	lay := func(from, to float64) []line {
		var ls []line
		for k, pos := 0, from-latticeMargin; pos <= to+latticeMargin; k++ {
			c := classLocal
			switch {
			case k%4 == 0:
				c = classArterial
			case k%2 == 0:
				c = classSecondary
			}
			l := line{pos: pos, class: c, wl: 900 + 1300*rng.Float64(), ph: 2 * math.Pi * rng.Float64()}
			l.amp = [...]float64{14, 10, 5}[c] * rng.Float64()
			if c == classLocal && rng.Float64() < 0.3 {
				l.oneway = 1 - 2*rng.IntN(2)
			}
			ls = append(ls, l)
			pos += gapMin + (gapMax-gapMin)*rng.Float64()
		}
		return ls
	}
	d.us = lay(umin, umax)
	d.vs = lay(vmin, vmax)
	names := shuffled(cityNameList, len(d.us)+len(d.vs), rngFor(d.seed, "street-names"))
	for i := range d.us {
		d.us[i].name = names[i] + "街"
	}
	for j := range d.vs {
		d.vs[j].name = names[len(d.us)+j] + "路"
	}
	d.nodes = make([][]orb.Point, len(d.us))
	for i, lu := range d.us {
		d.nodes[i] = make([]orb.Point, len(d.vs))
		for j, lv := range d.vs {
			d.nodes[i][j] = d.fromUV(lu.at(lv.pos), lv.at(lu.pos))
		}
	}
}

// quad returns cell (i,j)'s corners, counter-clockwise and closed.
func (d *district) quad(i, j int) orb.Ring {
	n := d.nodes
	return orb.Ring{n[i][j], n[i+1][j], n[i+1][j+1], n[i][j+1], n[i][j]}
}

// landAt reports whether a point (metres) is on land.
func (d *district) landAt(p orb.Point) bool { return polygonsContain(d.land, p) }

// quadOnLand reports whether a ring lies entirely on land.
func (d *district) ringOnLand(r orb.Ring) bool {
	for _, p := range r[:len(r)-1] {
		if !d.landAt(p) {
			return false
		}
	}
	return !d.coast.ringCrosses(r[:len(r)-1])
}

// buildCells chooses the active cells (centre inside the district box and
// on land), cuts their unit grids and blocks to the land, and forms the
// district as the union of the grids.
func (d *district) buildCells() error {
	var quads []orb.Polygon
	for i := 0; i+1 < len(d.us); i++ {
		for j := 0; j+1 < len(d.vs); j++ {
			q := d.quad(i, j)
			if orient(q[0], q[1], q[2]) <= 0 || orient(q[1], q[2], q[3]) <= 0 || orient(q[2], q[3], q[0]) <= 0 || orient(q[3], q[0], q[1]) <= 0 {
				return fmt.Errorf("samples: lattice cell %d,%d is not convex", i, j)
			}
			c := orb.Point{(q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4, (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4}
			if !convexContains(d.box, c) || !d.landAt(c) {
				continue
			}
			ce := &cell{i: i, j: j, quad: q}
			ce.onLand = d.ringOnLand(q)
			if ce.onLand {
				ce.grid = []orb.Polygon{{q}}
			} else {
				g, err := intersection([]orb.Polygon{{q}}, d.land)
				if err != nil {
					return fmt.Errorf("samples: unit grid %d,%d: %w", i, j, err)
				}
				ce.grid = g
			}
			if len(ce.grid) == 0 {
				continue
			}
			inset, ok := insetQuad(q, [4]float64{
				d.vs[j].class.setback(), d.us[i+1].class.setback(),
				d.vs[j+1].class.setback(), d.us[i].class.setback(),
			})
			if ok {
				ce.inset = inset
				if ce.onLand || d.ringOnLand(inset) {
					ce.block = []orb.Polygon{{inset}}
				} else {
					b, err := intersection([]orb.Polygon{{inset}}, d.land)
					if err != nil {
						return fmt.Errorf("samples: block %d,%d: %w", i, j, err)
					}
					for _, p := range b {
						if math.Abs(polygonsArea([]orb.Polygon{p})) >= minBlockArea {
							ce.block = append(ce.block, p)
						}
					}
				}
			}
			d.cells = append(d.cells, ce)
			d.cellAt[[2]int{i, j}] = ce
			quads = append(quads, orb.Polygon{q})
		}
	}
	if len(d.cells) == 0 {
		return fmt.Errorf("samples: district has no cells on land")
	}
	u, err := union(quads)
	if err != nil {
		return fmt.Errorf("samples: district outline: %w", err)
	}
	if d.area, err = intersection(u, d.land); err != nil {
		return fmt.Errorf("samples: district area: %w", err)
	}
	return nil
}

const minBlockArea = 400.0 // m²; smaller land scraps are not blocks

// assignCodes groups cells into communities (between arterials, 4×4
// cells) and communities into sub-district streets (街道, 4×3
// communities), numbers them north-west first, and gives every cell its
// 15-digit GB/T 30428 unit-grid code and every block its land use.
func (d *district) assignCodes() {
	jKey := func(c *cell) [2]int { return [2]int{c.j / 12, c.i / 16} }
	cKey := func(c *cell) [2]int { return [2]int{c.j / 4, c.i / 4} }
	// North first (larger j), then west (smaller i).
	less := func(a, b [2]int) bool {
		if a[0] != b[0] {
			return a[0] > b[0]
		}
		return a[1] < b[1]
	}
	sort.Slice(d.cells, func(x, y int) bool {
		a, b := d.cells[x], d.cells[y]
		if ka, kb := jKey(a), jKey(b); ka != kb {
			return less(ka, kb)
		}
		if ka, kb := cKey(a), cKey(b); ka != kb {
			return less(ka, kb)
		}
		return less([2]int{a.j, a.i}, [2]int{b.j, b.i})
	})
	rng := rngFor(d.seed, "admin-names")
	jNames := shuffled(placeWordList, 64, rng)
	cNames := shuffled(placeWordList, 512, rngFor(d.seed, "community-names"))
	var seq int
	for k, c := range d.cells {
		newJ := k == 0 || jKey(c) != jKey(d.cells[k-1])
		newC := newJ || cKey(c) != cKey(d.cells[k-1])
		if newJ {
			n := len(d.jiedaos)
			d.jiedaos = append(d.jiedaos, jiedao{code: fmt.Sprintf("%s%03d", DistrictCode, n+1), name: jNames[n] + "街道", key: jKey(c)})
		}
		if newC {
			jc := len(d.jiedaos) - 1
			nth := 1
			if !newJ {
				nth = len(d.communities) - d.firstCommunity(jc) + 1
			}
			d.communities = append(d.communities, community{
				code: fmt.Sprintf("%s%03d", d.jiedaos[jc].code, nth), name: cNames[len(d.communities)] + "社区",
				jiedao: jc, key: cKey(c),
			})
			seq = 0
		}
		seq++
		c.jiedao = len(d.jiedaos) - 1
		c.community = len(d.communities) - 1
		c.code = fmt.Sprintf("%s%03d", d.communities[c.community].code, seq)
	}
	words := shuffled(placeWordList, len(d.cells), rngFor(d.seed, "compounds"))
	suffixes := strings.Fields(compoundSuffixList)
	for k, c := range d.cells {
		c.compound = words[k] + suffixes[(c.i*7+c.j*3)%len(suffixes)]
		centre := quadCentre(c.quad)
		switch {
		case dist(centre, d.centre) < 1100:
			c.zone = zoneCentre
		case d.coast.nearest(centre, 450) < 450 && centre[0] > d.centre[0]+300:
			c.zone = zonePort
		default:
			c.zone = zoneResidential
		}
	}
}

func (d *district) firstCommunity(jc int) int {
	for k, c := range d.communities {
		if c.jiedao == jc {
			return k
		}
	}
	return len(d.communities)
}

func quadCentre(q orb.Ring) orb.Point {
	return orb.Point{(q[0][0] + q[1][0] + q[2][0] + q[3][0]) / 4, (q[0][1] + q[1][1] + q[2][1] + q[3][1]) / 4}
}

func dist(a, b orb.Point) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

// elevations gives every lattice node a ground height: a coastal plain
// rising inland, a few hills, sharp hollows (underpasses, old creek beds,
// where water collects)
// and a little noise.
func (d *district) elevations() {
	rng := rngFor(d.seed, "terrain")
	type bump struct {
		c        orb.Point
		h, sigma float64
	}
	var bumps []bump
	lo, hi := d.box[0], d.box[2]
	for k := 0; k < 3; k++ {
		bumps = append(bumps, bump{
			c:     orb.Point{lo[0] + (hi[0]-lo[0])*rng.Float64(), lo[1] + (hi[1]-lo[1])*0.5*rng.Float64()},
			h:     15 + 35*rng.Float64(),
			sigma: 500 + 400*rng.Float64(),
		})
	}
	for k := 0; k < 40; k++ {
		bumps = append(bumps, bump{
			c:     orb.Point{lo[0] + (hi[0]-lo[0])*rng.Float64(), lo[1] + (hi[1]-lo[1])*rng.Float64()},
			h:     -(4 + 6*rng.Float64()),
			sigma: 60 + 50*rng.Float64(),
		})
	}
	d.nodeElev = make([][]float64, len(d.us))
	for i := range d.nodes {
		d.nodeElev[i] = make([]float64, len(d.vs))
		for j, p := range d.nodes[i] {
			if !d.landAt(p) {
				continue // sea level
			}
			cd := d.coast.nearest(p, 3000)
			e := 2 + 12*(1-math.Exp(-cd/1200))
			for _, b := range bumps {
				dx, dy := p[0]-b.c[0], p[1]-b.c[1]
				e += b.h * math.Exp(-(dx*dx+dy*dy)/(2*b.sigma*b.sigma))
			}
			e += 0.6 * (rng.Float64() - 0.5)
			d.nodeElev[i][j] = math.Round(max(0.5, e)*10) / 10
		}
	}
	for _, c := range d.cells {
		c.elev = (d.nodeElev[c.i][c.j] + d.nodeElev[c.i+1][c.j] + d.nodeElev[c.i+1][c.j+1] + d.nodeElev[c.i][c.j+1]) / 4
	}
}

// randIn returns a uniform value in [a, b).
func randIn(rng *rand.Rand, a, b float64) float64 { return a + (b-a)*rng.Float64() }
