package samples

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/paulmach/orb"
)

// Uses of buildings.
const (
	useResidential = "residential"
	useCommercial  = "commercial"
	useOffice      = "office"
	useSchool      = "school"
	useHospital    = "hospital"
	useIndustrial  = "industrial"
	useMixed       = "mixed"
)

// building is one placed footprint in a block, with its attributes.
type building struct {
	cell      *cell
	k         int // order of placement within the block
	fp        obb // footprint rectangle (metres)
	lShape    bool
	notch     int     // corner cut from the rectangle for an L: 0–3
	nw, nd    float64 // notch size as a fraction of length and depth
	use       string
	floors    int
	height    float64
	year      int
	built     time.Time
	demolish  time.Time // zero: standing
	schoolLvl string
}

// lotGap is the clearance around every footprint: buildings stand at least
// twice this apart and this far inside their block (which is already set
// back from the street by half its width plus the sidewalk).
const lotGap = 3.0

// Limits of dart-throwing in one block.
const (
	maxFailures      = 90
	maxPerBlock      = 60
	demolishedChance = 0.05 // of buildings built before 1990
)

// cst is China Standard Time, for dates of construction and demolition.
func cst() *time.Location { return time.FixedZone("CST", 8*3600) }

// place fills a block with non-overlapping buildings by dart-throwing, in
// an order that depends only on the seed and the block, so any prefix of
// the list is itself a valid, non-overlapping set.
func (d *district) place(c *cell) []*building {
	if len(c.block) == 0 {
		return nil
	}
	rng := rngFor(d.seed, "block", c.i, c.j)
	q := c.quad
	ax := orb.Point{q[1][0] - q[0][0], q[1][1] - q[0][1]}
	l := math.Hypot(ax[0], ax[1])
	ax = orb.Point{ax[0] / l, ax[1] / l}
	convex := len(c.block) == 1 && len(c.block[0]) == 1 && len(c.block[0][0]) == 5 && c.inset != nil && c.block[0][0][0] == c.inset[0]
	var bb orb.Bound
	for k, p := range c.block {
		if k == 0 {
			bb = p.Bound()
		} else {
			bb = bb.Union(p.Bound())
		}
	}
	var out []*building
	var lots []obb
	for fails := 0; fails < maxFailures && len(out) < maxPerBlock; {
		b := d.draw(rng, c)
		// Orientation: along the block, now and then turned a quarter,
		// always with a few degrees of scatter.
		a := (rng.Float64() - 0.5) * 6 * math.Pi / 180
		if b.use != useResidential && rng.Float64() < 0.25 {
			a += math.Pi / 2
		}
		ca, sa := math.Cos(a), math.Sin(a)
		b.fp.ax = orb.Point{ax[0]*ca - ax[1]*sa, ax[0]*sa + ax[1]*ca}
		b.fp.c = orb.Point{randIn(rng, bb.Min[0], bb.Max[0]), randIn(rng, bb.Min[1], bb.Max[1])}
		lot := b.fp.grow(lotGap)
		if !d.lotFits(lot, c, convex) || overlapsAny(lot, lots) {
			fails++
			continue
		}
		fails = 0
		b.cell, b.k = c, len(out)
		out = append(out, b)
		lots = append(lots, lot)
	}
	return out
}

func overlapsAny(b obb, others []obb) bool {
	for _, o := range others {
		if b.overlaps(o) {
			return true
		}
	}
	return false
}

// lotFits reports whether a lot lies inside the block (and so on land and
// clear of the streets).
func (d *district) lotFits(lot obb, c *cell, convex bool) bool {
	cs := lot.corners()
	if convex {
		for _, p := range cs {
			if !convexContains(c.inset, p) {
				return false
			}
		}
		return true
	}
	for _, p := range cs {
		if !polygonsContain(c.block, p) {
			return false
		}
	}
	for k := range cs {
		a, b := cs[k], cs[(k+1)%4]
		for _, pg := range c.block {
			for _, r := range pg {
				for m := 0; m+1 < len(r); m++ {
					if _, hit := segmentTouch(a, b, r[m], r[m+1]); hit {
						return false
					}
				}
			}
		}
	}
	return true
}

// useWeight is the chance of a use.
type useWeight struct {
	use string
	w   float64
}

// useWeights are the chances of each use by zone.
func useWeights(z zone) [7]useWeight {
	switch z {
	case zoneCentre:
		return [7]useWeight{{useCommercial, .28}, {useOffice, .27}, {useMixed, .20}, {useResidential, .19}, {useSchool, .03}, {useHospital, .02}, {useIndustrial, .01}}
	case zonePort:
		return [7]useWeight{{useIndustrial, .50}, {useCommercial, .10}, {useOffice, .12}, {useResidential, .20}, {useMixed, .06}, {useSchool, .01}, {useHospital, .01}}
	}
	return [7]useWeight{{useResidential, .72}, {useMixed, .10}, {useCommercial, .07}, {useOffice, .03}, {useSchool, .035}, {useHospital, .01}, {useIndustrial, .035}}
}

// yearBuilt draws a construction year, 1950–2024, weighted by decade as
// in a port city's old centre.
func yearBuilt(rng *rand.Rand) int {
	w := [...]float64{.04, .04, .07, .15, .22, .25, .18, .05}
	x := rng.Float64()
	for k, p := range w {
		if x < p || k == len(w)-1 {
			y := 1950 + 10*k + rng.IntN(10)
			return min(y, 2024)
		}
		x -= p
	}
	return 2000
}

func randInt(rng *rand.Rand, lo, hi int) int { return lo + rng.IntN(hi-lo+1) }

// draw chooses a building's use, age, storeys and footprint size.
func (d *district) draw(rng *rand.Rand, c *cell) *building {
	b := &building{}
	x := rng.Float64()
	for _, u := range useWeights(c.zone) {
		if x < u.w {
			b.use = u.use
			break
		}
		x -= u.w
	}
	if b.use == "" {
		b.use = useResidential
	}
	b.year = yearBuilt(rng)
	var w, dp float64 // length and depth, metres
	lChance := 0.12
	switch b.use {
	case useResidential:
		switch {
		case b.year < 1990:
			b.floors = randInt(rng, 4, 7)
		case b.year < 2005:
			b.floors = randInt(rng, 6, 18)
		case rng.Float64() < 0.5:
			b.floors = randInt(rng, 11, 18)
		default:
			b.floors = randInt(rng, 19, 33)
		}
		switch {
		case b.floors <= 7:
			w, dp = randIn(rng, 30, 60), randIn(rng, 10, 13)
		case b.floors <= 18:
			w, dp = randIn(rng, 35, 70), randIn(rng, 12, 16)
		default:
			w, dp = randIn(rng, 22, 34), randIn(rng, 18, 26)
			lChance = 0.05
		}
	case useOffice:
		if c.zone == zoneCentre {
			b.floors = 12 + int(48*math.Pow(rng.Float64(), 2))
		} else {
			b.floors = randInt(rng, 6, 24)
		}
		w, dp = randIn(rng, 28, 55), randIn(rng, 22, 40)
	case useCommercial:
		if rng.Float64() < 0.6 {
			b.floors = randInt(rng, 2, 6)
			w, dp = randIn(rng, 30, 80), randIn(rng, 25, 55)
		} else {
			if c.zone == zoneCentre {
				b.floors = randInt(rng, 7, 30)
			} else {
				b.floors = randInt(rng, 7, 12)
			}
			w, dp = randIn(rng, 30, 50), randIn(rng, 25, 40)
		}
	case useMixed:
		b.floors = randInt(rng, 6, 24)
		w, dp = randIn(rng, 25, 55), randIn(rng, 15, 28)
	case useSchool:
		b.floors = randInt(rng, 3, 5)
		w, dp = randIn(rng, 55, 85), randIn(rng, 14, 20)
		lChance = 0.7
	case useHospital:
		b.floors = randInt(rng, 5, 18)
		w, dp = randIn(rng, 45, 80), randIn(rng, 18, 35)
		lChance = 0.5
	case useIndustrial:
		b.floors = randInt(rng, 1, 3)
		w, dp = randIn(rng, 35, 100), randIn(rng, 20, 60)
	}
	b.fp = obb{hw: w / 2, hd: dp / 2}
	if rng.Float64() < lChance {
		b.lShape = true
		b.notch = rng.IntN(4)
		b.nw, b.nd = randIn(rng, 0.4, 0.6), randIn(rng, 0.4, 0.65)
		if b.use == useSchool || b.use == useHospital {
			// A wing: make the building deep enough to carry one.
			b.fp.hd *= 2.2
		}
	}
	b.height = math.Round((float64(b.floors)*3+randIn(rng, 0.3, 1.5))*10) / 10
	loc := d.loc
	b.built = time.Date(b.year, time.Month(randInt(rng, 1, 12)), randInt(rng, 1, 28), 0, 0, 0, 0, loc)
	if b.year < 1990 && rng.Float64() < demolishedChance {
		y := randInt(rng, max(b.year+20, 1998), 2023)
		b.demolish = time.Date(y, time.Month(randInt(rng, 1, 12)), randInt(rng, 1, 28), 0, 0, 0, 0, loc)
	}
	if b.use == useSchool {
		b.schoolLvl = [...]string{"幼儿园", "小学", "小学", "中学"}[rng.IntN(4)]
	}
	return b
}

// footprint returns the building outline in metres, counter-clockwise.
func (b *building) footprint() orb.Ring {
	cs := b.fp.corners()
	if !b.lShape {
		return ringOf(cs[0], cs[1], cs[2], cs[3])
	}
	// Cut the rectangle [−1,1]² in local units at corner b.notch.
	u := b.fp.ax
	v := orb.Point{-u[1], u[0]}
	pt := func(s, t float64) orb.Point {
		return orb.Point{b.fp.c[0] + u[0]*s*b.fp.hw + v[0]*t*b.fp.hd, b.fp.c[1] + u[1]*s*b.fp.hw + v[1]*t*b.fp.hd}
	}
	sx, sy := 1-2*b.nw, 1-2*b.nd // cut lines in local units
	var loc [6][2]float64
	switch b.notch {
	case 0: // top-right
		loc = [6][2]float64{{-1, -1}, {1, -1}, {1, sy}, {sx, sy}, {sx, 1}, {-1, 1}}
	case 1: // top-left
		loc = [6][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-sx, 1}, {-sx, sy}, {-1, sy}}
	case 2: // bottom-left
		loc = [6][2]float64{{-sx, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -sy}, {-sx, -sy}}
	default: // bottom-right
		loc = [6][2]float64{{-1, -1}, {sx, -1}, {sx, -sy}, {1, -sy}, {1, 1}, {-1, 1}}
	}
	pts := make([]orb.Point, 6)
	for k, l := range loc {
		pts[k] = pt(l[0], l[1])
	}
	return ringOf(pts...)
}
