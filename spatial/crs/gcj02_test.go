package crs

import (
	"errors"
	"math"
	"testing"
)

// Public test vectors of the eviltransform project
// (github.com/googollee/eviltransform): WGS 84 → GCJ-02.
var gcjVectors = []struct {
	name           string
	wgsLon, wgsLat float64
	gcjLon, gcjLat float64
}{
	{"Shanghai", 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597},
	{"Shenzhen", 113.912316, 22.543847, 113.9171764808363, 22.540796131694766},
	{"Beijing", 116.377817, 39.911954, 116.38404722455657, 39.91334545536069},
}

func TestGCJ02PublishedVectors(t *testing.T) {
	g := mustLookup(t, "GCJ-02")
	for _, v := range gcjVectors {
		x, y, err := g.FromWGS84(v.wgsLon, v.wgsLat)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(x-v.gcjLon) > 1e-12 || math.Abs(y-v.gcjLat) > 1e-12 {
			t.Errorf("%s forward = (%.15f, %.15f), want (%.15f, %.15f)", v.name, x, y, v.gcjLon, v.gcjLat)
		}
		lon, lat, err := g.ToWGS84(v.gcjLon, v.gcjLat)
		if err != nil {
			t.Fatal(err)
		}
		if e := groundErr(v.wgsLon, v.wgsLat, lon, lat); e > 1e-6 {
			t.Errorf("%s inverse error %.3g m", v.name, e)
		}
	}
}

func TestGCJ02OutsideChinaIsIdentity(t *testing.T) {
	g := mustLookup(t, "GCJ02")
	pts := [][2]float64{
		{139.767125, 35.681236}, // Tokyo (east of 137.8347°E)
		{-0.1276, 51.5072},      // London
		{-104.9903, 39.7392},    // Denver
		{153.0251, -27.4698},    // Brisbane
		{121.6, 56},             // north of the box
		{71.9, 39},              // west of the box
		{180, 90}, {-180, -90},
	}
	for _, p := range pts {
		x, y, err := g.FromWGS84(p[0], p[1])
		if err != nil || x != p[0] || y != p[1] {
			t.Errorf("forward %v = (%v, %v, %v), want identity", p, x, y, err)
		}
		lon, lat, err := g.ToWGS84(p[0], p[1])
		if err != nil || lon != p[0] || lat != p[1] {
			t.Errorf("inverse %v = (%v, %v, %v), want identity", p, lon, lat, err)
		}
	}
}

// TestGCJ02Dalian checks the magnitude of the offset over Dalian and the
// round trip in both directions.
func TestGCJ02Dalian(t *testing.T) {
	g := mustLookup(t, "GCJ-02")
	minOff, maxOff := math.Inf(1), 0.0
	var worstRT, worstRT2 float64
	for lon := 120.9; lon <= 123.6; lon += 0.01 {
		for lat := 38.6; lat <= 40.2; lat += 0.01 {
			x, y, err := g.FromWGS84(lon, lat)
			if err != nil {
				t.Fatal(err)
			}
			off := groundErr(lon, lat, x, y)
			minOff, maxOff = math.Min(minOff, off), math.Max(maxOff, off)
			lon2, lat2, err := g.ToWGS84(x, y)
			if err != nil {
				t.Fatal(err)
			}
			worstRT = math.Max(worstRT, groundErr(lon, lat, lon2, lat2))
			// GCJ → WGS → GCJ, treating (lon, lat) as a GCJ-02 coordinate.
			wl, wt, err := g.ToWGS84(lon, lat)
			if err != nil {
				t.Fatal(err)
			}
			gl, gt, _ := g.FromWGS84(wl, wt)
			worstRT2 = math.Max(worstRT2, groundErr(lon, lat, gl, gt))
		}
	}
	t.Logf("Dalian GCJ-02 offset %.1f–%.1f m; WGS→GCJ→WGS max %.3g m; GCJ→WGS→GCJ max %.3g m",
		minOff, maxOff, worstRT, worstRT2)
	if minOff < 100 || maxOff > 1000 {
		t.Errorf("Dalian offset %.1f–%.1f m, want a few hundred metres", minOff, maxOff)
	}
	if worstRT > 1e-6 || worstRT2 > 1e-6 {
		t.Errorf("round trip %.3g / %.3g m, want < 1e-6 m", worstRT, worstRT2)
	}
	// The public algorithm's offset is smooth: central Dalian.
	x, y, _ := g.FromWGS84(121.6147, 38.9140)
	t.Logf("central Dalian (121.6147, 38.9140) → GCJ-02 (%.7f, %.7f), Δ = (%+.6f°, %+.6f°)",
		x, y, x-121.6147, y-38.9140)
}

// TestGCJ02RoundTripChina sweeps the whole box, including longitude 105°E
// where the sqrt|lon−105| term has an infinite derivative.
func TestGCJ02RoundTripChina(t *testing.T) {
	g := mustLookup(t, "GCJ-02")
	var worst float64
	n := 0
	check := func(lon, lat float64) {
		x, y, err := g.FromWGS84(lon, lat)
		if err != nil {
			t.Fatal(err)
		}
		lon2, lat2, err := g.ToWGS84(x, y)
		if err != nil {
			t.Fatalf("ToWGS84(%v, %v) from (%v, %v): %v", x, y, lon, lat, err)
		}
		e := groundErr(lon, lat, lon2, lat2)
		worst = math.Max(worst, e)
		n++
		if d := math.Max(math.Abs(lon2-lon), math.Abs(lat2-lat)); d > 1e-7 {
			t.Fatalf("(%v, %v): inverse off by %.3g°", lon, lat, d)
		}
	}
	for lon := 73.0; lon <= 135.0; lon += 0.25 {
		for lat := 18.0; lat <= 54.0; lat += 0.25 {
			check(lon, lat)
		}
	}
	for _, d := range []float64{0, 1e-15, -1e-15, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6, 1e-3, -1e-3} {
		for _, lat := range []float64{20, 35, 50} {
			check(105+d, lat)
		}
	}
	t.Logf("GCJ-02 WGS→GCJ→WGS over China (%d points): max %.3g m", n, worst)
	if worst > 1e-6 {
		t.Errorf("max round trip error %.3g m, want < 1e-6 m", worst)
	}
}

// TestGCJ02Edge checks behaviour at the bounding-box edge: no panic, either
// a consistent answer or ErrOutOfRange (the gap no WGS 84 point maps to).
func TestGCJ02Edge(t *testing.T) {
	g := mustLookup(t, "GCJ-02")
	for _, lat := range []float64{gcjMinLat, gcjMinLat + 1e-3, gcjMaxLat - 1e-3, gcjMaxLat} {
		for lon := gcjMinLon - 0.01; lon <= gcjMinLon+0.01; lon += 0.0005 {
			for _, L := range []float64{lon, lon + (gcjMaxLon - gcjMinLon)} {
				wl, wt, err := g.ToWGS84(L, lat)
				if err != nil {
					if !errors.Is(err, ErrOutOfRange) {
						t.Fatalf("(%v, %v): unexpected error %v", L, lat, err)
					}
					continue
				}
				gl, gt, _ := g.FromWGS84(wl, wt)
				if outOfChina(L, lat) {
					if wl != L || wt != lat {
						t.Errorf("(%v, %v) outside the box: got (%v, %v), want identity", L, lat, wl, wt)
					}
					continue
				}
				if d := math.Max(math.Abs(gl-L), math.Abs(gt-lat)); d > 1e-8 {
					t.Errorf("(%v, %v): accepted inverse with residual %.3g°", L, lat, d)
				}
			}
		}
	}
}

// TestGCJ02EdgeCases pins the documented edge behaviour.
func TestGCJ02EdgeCases(t *testing.T) {
	g := mustLookup(t, "GCJ-02")
	// The south-west corner is inside the box: offset applied and inverted.
	x, y, _ := g.FromWGS84(gcjMinLon, gcjMinLat)
	if x == gcjMinLon {
		t.Fatalf("corner not offset")
	}
	lon, lat, err := g.ToWGS84(x, y)
	if err != nil || groundErr(gcjMinLon, gcjMinLat, lon, lat) > 1e-6 {
		t.Errorf("corner inverse = (%v, %v, %v)", lon, lat, err)
	}
	// A GCJ-02 point in the gap just inside the western edge (the offset
	// there is about +0.0037° east) has no preimage.
	if _, _, err := g.ToWGS84(gcjMinLon+0.001, 30); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("gap point err = %v, want ErrOutOfRange", err)
	}
}

func TestGCJ02Errors(t *testing.T) {
	g := mustLookup(t, "GCJ-02")
	for _, p := range [][2]float64{{math.NaN(), 39}, {121, math.Inf(-1)}, {200, 39}, {121, -91}} {
		if _, _, err := g.FromWGS84(p[0], p[1]); err == nil {
			t.Errorf("FromWGS84%v: want error", p)
		}
		if _, _, err := g.ToWGS84(p[0], p[1]); err == nil {
			t.Errorf("ToWGS84%v: want error", p)
		}
	}
	if g.Code() != "GCJ-02" || !g.Geographic() || g.Name() == "" {
		t.Errorf("metadata: %q %v %q", g.Code(), g.Geographic(), g.Name())
	}
}
