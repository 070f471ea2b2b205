package gridcode

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestBeiDouLevelsAreGeoSOTCells checks the statement of GB/T 39409 that
// BeiDou levels 4–10 name the same cells as GeoSOT levels 15, 19, 20, 23,
// 26, 29 and 32: for random points in all four hemispheres the two cells
// containing a point have identical bounds.
func TestBeiDouLevelsAreGeoSOTCells(t *testing.T) {
	pairs := [][2]int{{4, 15}, {5, 19}, {6, 20}, {7, 23}, {8, 26}, {9, 29}, {10, 32}}
	r := rand.New(rand.NewPCG(21, 22))
	for i := 0; i < 20000; i++ {
		lat := (r.Float64()*2 - 1) * 87.9
		lon := (r.Float64()*2 - 1) * 179.9
		if i%2 == 0 {
			lat, lon = 38.6+r.Float64()*1.7, 120.8+r.Float64()*2.8
		}
		p := pairs[i%len(pairs)]
		bd, err := EncodeBeiDou(lat, lon, p[0])
		if err != nil {
			t.Fatal(err)
		}
		gs := mustEncode(t, lat, lon, p[1])
		w, s, e, n := bd.Rect()
		g := gs.Bounds()
		if math.Abs(w-g.West) > 1e-12 || math.Abs(s-g.South) > 1e-12 || math.Abs(e-g.East) > 1e-12 || math.Abs(n-g.North) > 1e-12 {
			t.Fatalf("%v,%v: BeiDou L%d %s [%v %v %v %v] != GeoSOT L%d %s %v", lat, lon, p[0], bd, w, s, e, n, p[1], gs, g)
		}
	}
}

func TestLocateAndDescribeEveryScheme(t *testing.T) {
	at := time.Date(2026, 7, 21, 9, 15, 0, 0, time.UTC)
	for _, scheme := range Schemes() {
		lo, hi, ok := LevelRange(scheme)
		if !ok {
			t.Fatalf("%s: no level range", scheme)
		}
		for level := lo; level <= hi; level += max(1, (hi-lo)/4) {
			code, err := Locate(scheme, 38.916, 121.644, 50, at, level, TimeLevelHour)
			if err != nil {
				t.Fatalf("%s L%d: %v", scheme, level, err)
			}
			d, err := Describe(code)
			if err != nil {
				t.Fatalf("%s L%d: Describe(%s): %v", scheme, level, code, err)
			}
			if d.Scheme != scheme || d.Code != code || d.Level != level {
				t.Errorf("%s L%d: %s described as %+v", scheme, level, code, d)
			}
			if scheme != "time" && (d.Bounds[0] > 121.644 || d.Bounds[2] < 121.644 || d.Bounds[1] > 38.916 || d.Bounds[3] < 38.916) {
				t.Errorf("%s L%d: %s bounds %v miss the point", scheme, level, code, d.Bounds)
			}
		}
	}
	if _, err := Locate("s2", 1, 1, 0, at, 3, 0); err == nil {
		t.Errorf("unknown scheme accepted")
	}
	if _, err := Locate("time", 1, 1, 0, time.Time{}, 3, 0); err == nil {
		t.Errorf("time scheme without a time accepted")
	}
}

func FuzzDescribe(f *testing.F) {
	for _, s := range []string{"G001310322-230230", "GZ002626044", "N50J47539B8255346152", "N051J0035040840", "8928308280fffff", "T2026-11-30T14", "GZ002622442@T2026-07-21T09", "1:1", "1,0:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Describe(s)
		if err != nil {
			return
		}
		if d.Code == "" || d.Scheme == "" {
			t.Fatalf("%q described as %+v", s, d)
		}
		again, err := Describe(d.Code)
		if err != nil || again.Code != d.Code || again.Scheme != d.Scheme {
			t.Fatalf("%q -> %s -> %+v %v", s, d.Code, again, err)
		}
	})
}
