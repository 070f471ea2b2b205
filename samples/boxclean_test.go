package samples

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// cleanAndSea cleans polygon p inside box b and returns the land and the
// sea (b minus the land's exterior rings), both checked for validity and
// for adding up to the box.
func cleanAndSea(t *testing.T, b rect, p orb.Polygon) (land, sea []orb.Polygon) {
	t.Helper()
	land, err := b.cleanPolygon(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(land); err != nil {
		t.Fatalf("land invalid: %v\n%v", err, land)
	}
	var shells []orb.Polygon
	for _, q := range land {
		shells = append(shells, orb.Polygon{q[0]})
	}
	sea, err = difference([]orb.Polygon{{b.ring()}}, shells)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(sea); err != nil {
		t.Fatalf("sea invalid: %v\n%v", err, sea)
	}
	boxArea := (b.e - b.w) * (b.n - b.s)
	if got := polygonsArea(sea) + polygonsArea(shells); math.Abs(got-boxArea) > 1e-9*boxArea {
		t.Fatalf("sea %g + land %g != box %g", polygonsArea(sea), polygonsArea(shells), boxArea)
	}
	return land, sea
}

func TestCleanAgainstTheBox(t *testing.T) {
	b := rect{0, 0, 10, 10}
	cases := []struct {
		name                string
		p                   orb.Polygon
		landParts, seaParts int
		landArea, seaArea   float64
		seaHoles            int
	}{
		{
			// The lower half as a clipper leaves it: a spike up and back
			// down the west edge, a stretch of the north edge both ways.
			name: "clipping artefacts", landParts: 1, seaParts: 1, landArea: 50, seaArea: 50,
			p: orb.Polygon{{{0, 0}, {10, 0}, {10, 5}, {0, 5}, {0, 10}, {4, 10}, {0, 10}, {0, 0}}},
		},
		{
			// Clockwise input of the same; orientation is repaired.
			name: "clockwise", landParts: 1, seaParts: 1, landArea: 50, seaArea: 50,
			p: orb.Polygon{{{0, 0}, {0, 5}, {10, 5}, {10, 0}, {0, 0}}},
		},
		{
			// An arch standing on the south edge, reaching outside the box:
			// the water between its legs is a sea polygon of its own.
			name: "arch crossing the edge", landParts: 1, seaParts: 2, landArea: 36, seaArea: 64,
			p: orb.Polygon{{{2, -5}, {4, -5}, {4, 6}, {6, 6}, {6, -5}, {8, -5}, {8, 8}, {2, 8}, {2, -5}}},
		},
		{
			// Two peninsulas of one polygon joined outside the box become
			// two land polygons.
			name: "joined outside", landParts: 2, seaParts: 1, landArea: 2 * 2 * 6, seaArea: 100 - 24,
			p: orb.Polygon{{{2, -5}, {8, -5}, {8, 6}, {6, 6}, {6, -2}, {4, -2}, {4, 6}, {2, 6}, {2, -5}}},
		},
		{
			name: "touching the edge at a point", landParts: 1, seaParts: 1, landArea: 6, seaArea: 94, seaHoles: 1,
			p: orb.Polygon{{{5, 0}, {7, 3}, {3, 3}, {5, 0}}},
		},
		{
			// A lake open to the north edge is a bay: part of the sea.
			name: "hole touching the edge", landParts: 1, seaParts: 1, landArea: 94, seaArea: 6,
			p: orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}, {{4, 7}, {4, 10}, {6, 10}, {6, 7}, {4, 7}}},
		},
		{
			name: "island", landParts: 1, seaParts: 1, landArea: 4, seaArea: 96, seaHoles: 1,
			p: orb.Polygon{{{4, 4}, {6, 4}, {6, 6}, {4, 6}, {4, 4}}},
		},
		{
			// An enclosed lake stays a hole of the land, not sea.
			name: "lake", landParts: 1, seaParts: 1, landArea: 36 - 4, seaArea: 64, seaHoles: 1,
			p: orb.Polygon{{{2, 2}, {8, 2}, {8, 8}, {2, 8}, {2, 2}}, {{4, 4}, {4, 6}, {6, 6}, {6, 4}, {4, 4}}},
		},
		{
			name: "all outside", landParts: 0, seaParts: 1, landArea: 0, seaArea: 100,
			p: orb.Polygon{{{20, 20}, {30, 20}, {30, 30}, {20, 30}, {20, 20}}},
		},
		{
			name: "covering the box", landParts: 1, seaParts: 0, landArea: 100, seaArea: 0,
			p: orb.Polygon{{{-1, -1}, {11, -1}, {11, 11}, {-1, 11}, {-1, -1}}},
		},
		{
			// A coastline crossing the north-east corner.
			name: "corner", landParts: 1, seaParts: 1, landArea: 95.5, seaArea: 4.5,
			p: orb.Polygon{{{-1, -1}, {11, -1}, {11, 6}, {6, 11}, {-1, 11}, {-1, -1}}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			land, sea := cleanAndSea(t, b, c.p)
			holes := 0
			for _, s := range sea {
				holes += len(s) - 1
			}
			if len(land) != c.landParts || len(sea) != c.seaParts || holes != c.seaHoles ||
				math.Abs(polygonsArea(land)-c.landArea) > 1e-9 || math.Abs(polygonsArea(sea)-c.seaArea) > 1e-9 {
				t.Errorf("land %d parts, area %g; sea %d parts, %d holes, area %g\nland %v\nsea %v",
					len(land), polygonsArea(land), len(sea), holes, polygonsArea(sea), land, sea)
			}
		})
	}
}

func TestRepairRing(t *testing.T) {
	// A bow-tie twist near the end of a square's bottom edge, and a spike.
	r := orb.Ring{{0, 0}, {8, 0}, {9, 1}, {9, -1}, {10, 0}, {10, 10}, {5, 10}, {5, 12}, {5, 10}, {0, 10}, {0, 0}}
	got, err := repairRing(r, rect{100, 100, 200, 200})
	if err != nil {
		t.Fatal(err)
	}
	if err := validate([]orb.Polygon{{got}}); err != nil {
		t.Fatalf("repaired ring invalid: %v: %v", err, got)
	}
	if a := signedArea(got); math.Abs(a-100) > 1 {
		t.Errorf("area %g, want about 100: %v", a, got)
	}
}

func TestRealLandValid(t *testing.T) {
	for _, name := range []string{fileLandOSM, fileLandNE} {
		parts, err := loadLand(name)
		if err != nil {
			t.Fatal(err)
		}
		var ps []orb.Polygon
		for _, p := range parts {
			ps = append(ps, p.poly)
		}
		if err := validate(ps); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLandGridMatchesPolygons(t *testing.T) {
	parts, err := loadLand(fileLandOSM)
	if err != nil {
		t.Fatal(err)
	}
	var land []orb.Polygon
	for _, p := range parts {
		land = append(land, p.poly)
	}
	box := dalianBox()
	g := newLandGrid(land, box, 512)
	// Reference: plain even–odd ray casting over every ring, each ring's
	// box checked first.
	type ringBox struct {
		r orb.Ring
		b orb.Bound
	}
	var rings []ringBox
	for _, p := range land {
		for _, r := range p {
			rings = append(rings, ringBox{r, r.Bound()})
		}
	}
	reference := func(p orb.Point) bool {
		in := false
		for _, rb := range rings {
			if !rb.b.Contains(p) {
				continue
			}
			r := rb.r
			for k := 0; k+1 < len(r); k++ {
				a, c := r[k], r[k+1]
				if (a[1] > p[1]) != (c[1] > p[1]) && p[0] < a[0]+(p[1]-a[1])*(c[0]-a[0])/(c[1]-a[1]) {
					in = !in
				}
			}
		}
		return in
	}
	rng := rngFor(1, "test-landgrid")
	const n = 50_000
	in := 0
	for k := 0; k < n; k++ {
		p := orb.Point{randIn(rng, box.w, box.e), randIn(rng, box.s, box.n)}
		want := reference(p)
		if g.contains(p) != want {
			t.Fatalf("point %v: grid says %v, polygons %v", p, !want, want)
		}
		if want {
			in++
		}
	}
	// Land is about 38% of the box.
	if f := float64(in) / n; f < 0.3 || f > 0.45 {
		t.Errorf("land fraction %.3f", f)
	}
}
