package crs

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// snyderTM is an independent reference for the transverse Mercator forward
// projection: the classic power series in A = Δλ·cos φ of USGS Professional
// Paper 1395 (Snyder 1987), equations (8-9) and (8-10), with the meridian
// arc by equation (3-21). It is accurate to well under a millimetre within a
// few degrees of the central meridian. dlon and lat are in degrees.
func snyderTM(a, e2, k0, dlon, lat float64) (x, y float64) {
	phi := lat * deg2rad
	ep2 := e2 / (1 - e2)
	s, c := math.Sincos(phi)
	N := a / math.Sqrt(1-e2*s*s)
	T := math.Tan(phi) * math.Tan(phi)
	C := ep2 * c * c
	A := dlon * deg2rad * c
	e4, e6 := e2*e2, e2*e2*e2
	M := a * ((1-e2/4-3*e4/64-5*e6/256)*phi -
		(3*e2/8+3*e4/32+45*e6/1024)*math.Sin(2*phi) +
		(15*e4/256+45*e6/1024)*math.Sin(4*phi) -
		(35*e6/3072)*math.Sin(6*phi))
	A2 := A * A
	x = k0 * N * (A + (1-T+C)*A2*A/6 + (5-18*T+T*T+72*C-58*ep2)*A2*A2*A/120)
	y = k0 * (M + N*math.Tan(phi)*(A2/2+(5-T+9*C+4*C*C)*A2*A2/24+
		(61-58*T+T*T+600*C-330*ep2)*A2*A2*A2/720))
	return x, y
}

// meridianArc integrates the meridional radius of curvature
// M(φ) = a(1−e²)/(1−e² sin²φ)^{3/2} from the equator to lat (degrees) with
// composite Simpson's rule: an independent check of the northing on the
// central meridian.
func meridianArc(a, f, lat float64) float64 {
	e2 := f * (2 - f)
	phi := lat * deg2rad
	m := func(p float64) float64 {
		s := math.Sin(p)
		w := 1 - e2*s*s
		return a * (1 - e2) / (w * math.Sqrt(w))
	}
	const n = 20000 // even
	h := phi / n
	sum := m(0) + m(phi)
	for i := 1; i < n; i++ {
		if i%2 == 1 {
			sum += 4 * m(float64(i)*h)
		} else {
			sum += 2 * m(float64(i)*h)
		}
	}
	return sum * h / 3
}

func TestGaussKrugerCodes(t *testing.T) {
	tests := []struct {
		epsg  int
		zone  int
		cm    float64
		fe    float64
		zoned bool
		name  string
	}{
		{4534, 25, 75, 500000, false, "CGCS2000 / 3-degree Gauss-Kruger CM 75E"},
		{4549, 40, 120, 500000, false, "CGCS2000 / 3-degree Gauss-Kruger CM 120E"},
		{4550, 41, 123, 500000, false, "CGCS2000 / 3-degree Gauss-Kruger CM 123E"},
		{4554, 45, 135, 500000, false, "CGCS2000 / 3-degree Gauss-Kruger CM 135E"},
		{4513, 25, 75, 25500000, true, "CGCS2000 / 3-degree Gauss-Kruger zone 25"},
		{4528, 40, 120, 40500000, true, "CGCS2000 / 3-degree Gauss-Kruger zone 40"},
		{4529, 41, 123, 41500000, true, "CGCS2000 / 3-degree Gauss-Kruger zone 41"},
		{4533, 45, 135, 45500000, true, "CGCS2000 / 3-degree Gauss-Kruger zone 45"},
	}
	for _, tc := range tests {
		g, err := NewGaussKruger(tc.epsg)
		if err != nil {
			t.Fatalf("NewGaussKruger(%d): %v", tc.epsg, err)
		}
		if g.EPSG() != tc.epsg || g.Zone() != tc.zone || g.CentralMeridian() != tc.cm ||
			g.FalseEasting() != tc.fe || g.Zoned() != tc.zoned || g.Name() != tc.name || g.Geographic() {
			t.Errorf("EPSG:%d: got epsg=%d zone=%d cm=%v fe=%v zoned=%v name=%q",
				tc.epsg, g.EPSG(), g.Zone(), g.CentralMeridian(), g.FalseEasting(), g.Zoned(), g.Name())
		}
	}
	for _, bad := range []int{4512, 4555, 0, -1, 4326} {
		if _, err := NewGaussKruger(bad); !errors.Is(err, ErrUnknownCRS) {
			t.Errorf("NewGaussKruger(%d) err = %v, want ErrUnknownCRS", bad, err)
		}
	}
}

// TestGaussKrugerPublished checks exact and published values.
func TestGaussKrugerPublished(t *testing.T) {
	cm120 := mustLookup(t, "EPSG:4549")
	z40 := mustLookup(t, "EPSG:4528")
	cm75 := mustLookup(t, "EPSG:4534")

	// On the equator at the central meridian: exactly the false easting.
	for _, tc := range []struct {
		c    CRS
		lon  float64
		east float64
	}{{cm120, 120, 500000}, {z40, 120, 40500000}, {cm75, 75, 500000}} {
		x, y, err := tc.c.FromWGS84(tc.lon, 0)
		if err != nil || x != tc.east || y != 0 {
			t.Errorf("%s (%v, 0) = (%v, %v, %v), want (%v, 0) exactly", tc.c.Code(), tc.lon, x, y, err, tc.east)
		}
		lon, lat, err := tc.c.ToWGS84(tc.east, 0)
		if err != nil || lon != tc.lon || lat != 0 {
			t.Errorf("%s inverse (%v, 0) = (%v, %v, %v), want (%v, 0) exactly", tc.c.Code(), tc.east, lon, lat, err, tc.lon)
		}
	}

	// PROJ's test vector (test/gie/builtins.gie) for the exact
	// (Poder/Engsager) algorithm, +proj=etmerc +ellps=GRS80 (k0=1, lon_0=0):
	// (±2°, ±1°) → (±222650.79679758527, ±110642.22941193319). PROJ's
	// "+approx" Evenden/Snyder algorithm gives 222650.79679577847, 1.8 µm
	// less. CGCS2000 and GRS 80 differ in 1/f by 1.2e-10, negligible here.
	const pe, pn = 222650.79679758527, 110642.22941193319
	for _, s := range [][2]float64{{1, 1}, {1, -1}, {-1, 1}, {-1, -1}} {
		x, y, err := cm75.FromWGS84(75+2*s[0], 1*s[1])
		if err != nil {
			t.Fatal(err)
		}
		dx, dy := x-(500000+s[0]*pe), y-s[1]*pn
		t.Logf("PROJ etmerc GRS80 vector %v: difference (%.3g, %.3g) m", s, dx, dy)
		if math.Abs(dx) > 1e-8 || math.Abs(dy) > 1e-8 {
			t.Errorf("PROJ GRS80 vector %v: error (%.3g, %.3g) m, want < 10 nm", s, dx, dy)
		}
		lon, lat, err := cm75.ToWGS84(500000+s[0]*pe, s[1]*pn)
		if err != nil {
			t.Fatal(err)
		}
		if e := groundErr(75+2*s[0], s[1], lon, lat); e > 1e-8 {
			t.Errorf("PROJ GRS80 vector %v inverse: error %.3g m", s, e)
		}
	}

	// Published GRS 80 meridian quadrant (Moritz, "Geodetic Reference System
	// 1980"): 10 001 965.7293 m = northing of the pole.
	_, y, err := cm120.FromWGS84(120, 90)
	if err != nil || math.Abs(y-10001965.7293) > 1e-4 {
		t.Errorf("pole northing = %.4f (%v), want 10001965.7293", y, err)
	}
	lon, lat, err := cm120.ToWGS84(500000, 10001965.7293)
	if err != nil || math.Abs(lat-90) > 1e-9 || lon != 120 {
		t.Errorf("inverse of pole = (%v, %v, %v)", lon, lat, err)
	}

	// Snyder (1987) p. 269 worked example, Clarke 1866, k0 = 0.9996,
	// φ = 40.5°N, λ − λ0 = 1.5°: x = 127106.5 m, y = 4484124.4 m.
	clarke := newTransverseMercator(6378206.4, 1-math.Sqrt(1-0.00676866), 0.9996)
	x, y := clarke.forward(1.5*deg2rad, 40.5*deg2rad)
	if math.Abs(x-127106.5) > 0.05 || math.Abs(y-4484124.4) > 0.05 {
		t.Errorf("Snyder example = (%.3f, %.3f), want (127106.5, 4484124.4)", x, y)
	}
}

// TestGaussKrugerMeridianArc checks that on the central meridian the
// northing equals the meridian arc length from the equator.
func TestGaussKrugerMeridianArc(t *testing.T) {
	g := mustLookup(t, "EPSG:4549")
	for _, lat := range []float64{0.5, 10, 18, 30, 38.9, 45, 54, 60, 89, 90, -38.9} {
		x, y, err := g.FromWGS84(120, lat)
		if err != nil {
			t.Fatal(err)
		}
		want := meridianArc(CGCS2000SemiMajorAxis, 1/CGCS2000InverseFlattening, lat)
		if x != 500000 || math.Abs(y-want) > 1e-6 {
			t.Errorf("lat %v: (%.9f, %.9f), want (500000, %.9f): diff %.3g m", lat, x, y, want, y-want)
		}
	}
}

// TestGaussKrugerSymmetry checks E(cm+d) − FE = −(E(cm−d) − FE), and the
// 40 000 000 m prefix difference between zone 40 and CM 120E.
func TestGaussKrugerSymmetry(t *testing.T) {
	cm, z := mustLookup(t, "4549"), mustLookup(t, "4528")
	for _, d := range []float64{0.1, 0.7, 1.5} {
		for _, lat := range []float64{18, 38.9, 54} {
			xe, ye, _ := cm.FromWGS84(120+d, lat)
			xw, yw, _ := cm.FromWGS84(120-d, lat)
			if math.Abs((xe-500000)+(xw-500000)) > 1e-9 || ye != yw {
				t.Errorf("asymmetry at d=%v lat=%v: (%v,%v) vs (%v,%v)", d, lat, xe, ye, xw, yw)
			}
			zx, zy, _ := z.FromWGS84(120+d, lat)
			if math.Abs(zx-xe-40e6) > 1e-8 || zy != ye {
				t.Errorf("zone prefix at d=%v lat=%v: %v vs %v", d, lat, zx, xe)
			}
		}
	}
}

// TestGaussKrugerVersusSnyder compares the Krüger series with the
// independent Snyder series over every zone's full width.
func TestGaussKrugerVersusSnyder(t *testing.T) {
	f := 1 / CGCS2000InverseFlattening
	e2 := f * (2 - f)
	var worst float64
	for code := firstCMCode; code <= lastCMCode; code++ {
		g, _ := NewGaussKruger(code)
		for d := -1.5; d <= 1.5001; d += 0.1 {
			for lat := 18.0; lat <= 54.0001; lat += 0.5 {
				x, y, err := g.FromWGS84(g.CentralMeridian()+d, lat)
				if err != nil {
					t.Fatal(err)
				}
				sx, sy := snyderTM(CGCS2000SemiMajorAxis, e2, 1, d, lat)
				e := math.Hypot(x-500000-sx, y-sy)
				worst = math.Max(worst, e)
				if e > 0.01 {
					t.Fatalf("%s (%+.1f°, %.1f°): Krüger vs Snyder differ by %.4g m", g.Code(), d, lat, e)
				}
			}
		}
	}
	t.Logf("max |Krüger − Snyder| over ±1.5°, 18–54°N, all 21 zones: %.3g m", worst)
}

// TestGaussKrugerRoundTrip measures geographic → projected → geographic and
// projected → geographic → projected errors.
func TestGaussKrugerRoundTrip(t *testing.T) {
	type region struct {
		name             string
		codes            []string
		lon0, lon1, dlon float64 // absolute, or relative to CM if rel
		lat0, lat1, dlat float64
		rel              bool
	}
	regions := []region{
		{name: "Dalian in CM 120E", codes: []string{"EPSG:4549", "EPSG:4528"},
			lon0: 120.9, lon1: 123.6, dlon: 0.013, lat0: 38.6, lat1: 40.2, dlat: 0.011},
		{name: "Dalian in CM 123E", codes: []string{"EPSG:4550", "EPSG:4529"},
			lon0: 120.9, lon1: 123.6, dlon: 0.013, lat0: 38.6, lat1: 40.2, dlat: 0.011},
		{name: "all zones ±1.5°, 18–54°N", rel: true,
			lon0: -1.5, lon1: 1.5, dlon: 0.05, lat0: 18, lat1: 54, dlat: 0.25},
		{name: "CM 120E ±10°, -80–89.9°", codes: []string{"EPSG:4549"}, rel: true,
			lon0: -10, lon1: 10, dlon: 0.5, lat0: -80, lat1: 89.9, dlat: 0.5},
	}
	for i := range regions {
		if regions[i].rel && regions[i].codes == nil {
			for c := firstZonedCode; c <= lastCMCode; c++ {
				regions[i].codes = append(regions[i].codes, "EPSG:"+itoa(c))
			}
		}
	}
	for _, r := range regions {
		var geoWorst, projWorst float64
		n := 0
		for _, code := range r.codes {
			c := mustLookup(t, code)
			cm := c.(GaussKruger).CentralMeridian()
			for lon := r.lon0; lon <= r.lon1+1e-9; lon += r.dlon {
				for lat := r.lat0; lat <= r.lat1+1e-9; lat += r.dlat {
					L := lon
					if r.rel {
						L = cm + lon
					}
					x, y, err := c.FromWGS84(L, lat)
					if err != nil {
						t.Fatalf("%s FromWGS84(%v, %v): %v", code, L, lat, err)
					}
					lon2, lat2, err := c.ToWGS84(x, y)
					if err != nil {
						t.Fatalf("%s ToWGS84(%v, %v): %v", code, x, y, err)
					}
					geoWorst = math.Max(geoWorst, groundErr(L, lat, lon2, lat2))
					x2, y2, err := c.FromWGS84(lon2, lat2)
					if err != nil {
						t.Fatal(err)
					}
					projWorst = math.Max(projWorst, math.Hypot(x2-x, y2-y))
					n++
				}
			}
		}
		t.Logf("%-28s %6d points: geo→proj→geo max %.3g m, proj→geo→proj max %.3g m", r.name, n, geoWorst, projWorst)
		if geoWorst > 1e-3 || projWorst > 1e-3 {
			t.Errorf("%s: round trip error %.3g / %.3g m exceeds 1 mm", r.name, geoWorst, projWorst)
		}
		if geoWorst > 1e-6 || projWorst > 1e-6 {
			t.Errorf("%s: round trip error %.3g / %.3g m exceeds 1 µm (regression)", r.name, geoWorst, projWorst)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func TestGaussKrugerErrors(t *testing.T) {
	cm := mustLookup(t, "EPSG:4549")
	z := mustLookup(t, "EPSG:4528")
	nan, inf := math.NaN(), math.Inf(1)
	fwd := []struct {
		c        CRS
		lon, lat float64
		want     error
	}{
		{cm, nan, 0, ErrInvalidCoordinate},
		{cm, 120, inf, ErrInvalidCoordinate},
		{cm, 120, 90.0001, ErrOutOfRange},
		{cm, 181, 0, ErrOutOfRange},
		{cm, 150.5, 0, ErrOutOfRange},
		{cm, -60, 40, ErrOutOfRange},
		{z, 89, 40, ErrOutOfRange},
	}
	for _, tc := range fwd {
		if _, _, err := tc.c.FromWGS84(tc.lon, tc.lat); !errors.Is(err, tc.want) {
			t.Errorf("%s FromWGS84(%v, %v) err = %v, want %v", tc.c.Code(), tc.lon, tc.lat, err, tc.want)
		}
	}
	inv := []struct {
		c       CRS
		x, y    float64
		want    error
		message string
	}{
		{cm, nan, 0, ErrInvalidCoordinate, ""},
		{cm, 500000, -inf, ErrInvalidCoordinate, ""},
		{cm, 40500000, 4300000, ErrOutOfRange, "zone prefix"},
		{z, 500000, 4300000, ErrOutOfRange, "EPSG:4549"},
		{cm, 500000, 10001967, ErrOutOfRange, "pole"},
		{cm, 500000, -1e300, ErrOutOfRange, ""},
		{cm, 4400000, 0, ErrOutOfRange, ""},
		// Near the pole a 3000 km easting maps far from the meridian.
		{cm, 3500000, 9900000, ErrOutOfRange, "from central meridian"},
	}
	for _, tc := range inv {
		_, _, err := tc.c.ToWGS84(tc.x, tc.y)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s ToWGS84(%v, %v) err = %v, want %v containing %q", tc.c.Code(), tc.x, tc.y, err, tc.want, tc.message)
		}
	}
	var zero GaussKruger
	if _, _, err := zero.FromWGS84(120, 39); err == nil {
		t.Error("zero GaussKruger FromWGS84: want error")
	}
	if _, _, err := zero.ToWGS84(500000, 4e6); err == nil {
		t.Error("zero GaussKruger ToWGS84: want error")
	}
}

// TestGaussKrugerWideDomain checks conversions far outside the zone but
// within GaussKrugerMaxDeltaLon, and longitude normalisation across the
// antimeridian (−179° is 46° from CM 135E, so it is rejected).
func TestGaussKrugerWideDomain(t *testing.T) {
	g := mustLookup(t, "EPSG:4554") // CM 135E
	for _, lon := range []float64{106, 164, 164.999} {
		x, y, err := g.FromWGS84(lon, 30)
		if err != nil {
			t.Fatalf("FromWGS84(%v): %v", lon, err)
		}
		lon2, lat2, err := g.ToWGS84(x, y)
		if err != nil || groundErr(lon, 30, lon2, lat2) > 1e-6 {
			t.Errorf("wide round trip %v: (%v, %v, %v)", lon, lon2, lat2, err)
		}
	}
	if _, _, err := g.FromWGS84(-179, 30); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("-179° (46° across antimeridian) err = %v", err)
	}
}
