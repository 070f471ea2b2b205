package crs

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name       string
		code       string
		geographic bool
	}{
		{"EPSG:4326", "EPSG:4326", true},
		{"epsg:4326", "EPSG:4326", true},
		{"4326", "EPSG:4326", true},
		{"  EPSG:4326\n", "EPSG:4326", true},
		{"WGS84", "EPSG:4326", true},
		{"wgs 84", "EPSG:4326", true},
		{"CRS84", "EPSG:4326", true},
		{"OGC:CRS84", "EPSG:4326", true},
		{"urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", true},
		{"urn:ogc:def:crs:EPSG::4326", "EPSG:4326", true},
		{"urn:ogc:def:crs:EPSG:6.6:4326", "EPSG:4326", true},
		{"http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", true},
		{"EPSG:4490", "EPSG:4490", true},
		{"epsg:4490", "EPSG:4490", true},
		{"4490", "EPSG:4490", true},
		{"CGCS2000", "EPSG:4490", true},
		{"GCJ02", "GCJ-02", true},
		{"GCJ-02", "GCJ-02", true},
		{"gcj-02", "GCJ-02", true},
		{"EPSG:3857", "EPSG:3857", false},
		{"EPSG:900913", "EPSG:3857", false},
		{"3785", "EPSG:3857", false},
		{"EPSG:4549", "EPSG:4549", false},
		{"4549", "EPSG:4549", false},
		{"epsg:4534", "EPSG:4534", false},
		{"EPSG:4554", "EPSG:4554", false},
		{"EPSG:4513", "EPSG:4513", false},
		{"EPSG:4528", "EPSG:4528", false},
		{"EPSG:4533", "EPSG:4533", false},
		{"urn:ogc:def:crs:EPSG::4550", "EPSG:4550", false},
		{"https://www.opengis.net/def/crs/EPSG/0/4529", "EPSG:4529", false},
		{"EPSG:04549", "EPSG:4549", false},
	}
	for _, tc := range tests {
		c, err := Lookup(tc.name)
		if err != nil {
			t.Errorf("Lookup(%q): %v", tc.name, err)
			continue
		}
		if c.Code() != tc.code || c.Geographic() != tc.geographic || c.Name() == "" {
			t.Errorf("Lookup(%q) = %s %q geographic=%v, want %s geographic=%v",
				tc.name, c.Code(), c.Name(), c.Geographic(), tc.code, tc.geographic)
		}
	}
}

func TestLookupUnknown(t *testing.T) {
	for _, name := range []string{"", "EPSG:", "EPSG:9999", "4512", "4555", "EPSG:-4326", "EPSG:4326x",
		"EPSG:+4326", "urn:ogc:def:crs:EPSG", "BD-09", "EPSG:99999999999999999999", "http://www.opengis.net/def/crs/EPSG/0/",
		"EPSG: 4326 x", strings.Repeat("x", 500)} {
		c, err := Lookup(name)
		if err == nil {
			t.Errorf("Lookup(%q) = %v, want error", name, c.Code())
			continue
		}
		if !errors.Is(err, ErrUnknownCRS) {
			t.Errorf("Lookup(%q) err %v does not wrap ErrUnknownCRS", name, err)
		}
		msg := err.Error()
		quoted := name
		if len(quoted) > 64 {
			quoted = quoted[:64]
		}
		if !strings.Contains(msg, quoted) || !strings.Contains(msg, "EPSG:4326") ||
			!strings.Contains(msg, "EPSG:4534-4554") || !strings.Contains(msg, "GCJ-02") {
			t.Errorf("Lookup(%q) message lacks name or supported list: %s", name, msg)
		}
	}
}

func TestSupported(t *testing.T) {
	s := Supported()
	if len(s) != 4+42 {
		t.Fatalf("len(Supported()) = %d", len(s))
	}
	for _, code := range s {
		c, err := Lookup(code)
		if err != nil || c.Code() != code {
			t.Errorf("Lookup(%q) = %v, %v", code, c, err)
		}
	}
	s[0] = "mutated"
	if Supported()[0] == "mutated" {
		t.Error("Supported shares state")
	}
}

func TestZoneForLon(t *testing.T) {
	tests := []struct {
		lon  float64
		want int
	}{
		{121.6, 4550}, // central Dalian: 1.4° from 123°E, 1.6° from 120°E
		{121.64, 4550},
		{121.26, 4549}, // Lüshunkou, west of the 121.5° boundary
		{121.4999999, 4549},
		{121.5, 4550}, // boundary belongs to the eastern zone
		{120, 4549},
		{118.5, 4549},
		{118.4999, 4548},
		{116.4, 4548}, // Beijing, CM 117E
		{75, 4534},
		{73.5, 4534},
		{73.4999, 0},
		{135, 4554},
		{136.4999, 4554},
		{136.5, 0},
		{-121.6, 0},
		{0, 0},
		{math.NaN(), 0},
		{math.Inf(1), 0},
		{math.Inf(-1), 0},
		{1e308, 0},
	}
	for _, tc := range tests {
		if got := ZoneForLon(tc.lon); got != tc.want {
			t.Errorf("ZoneForLon(%v) = %d, want %d", tc.lon, got, tc.want)
		}
	}
	// Every zone's central meridian maps to its own code.
	for code := firstCMCode; code <= lastCMCode; code++ {
		g, _ := NewGaussKruger(code)
		if got := ZoneForLon(g.CentralMeridian()); got != code {
			t.Errorf("ZoneForLon(%v) = %d, want %d", g.CentralMeridian(), got, code)
		}
	}
	// EPSG:4549 is CM 120E.
	if c := mustLookup(t, "EPSG:4549"); c.Name() != "CGCS2000 / 3-degree Gauss-Kruger CM 120E" {
		t.Errorf("EPSG:4549 name %q", c.Name())
	}
}

func TestGeographic(t *testing.T) {
	for _, code := range []string{"EPSG:4326", "EPSG:4490"} {
		g := mustLookup(t, code)
		lon, lat, err := g.ToWGS84(121.6, 38.9)
		if err != nil || lon != 121.6 || lat != 38.9 {
			t.Errorf("%s ToWGS84 = (%v, %v, %v)", code, lon, lat, err)
		}
		x, y, err := g.FromWGS84(-180, 90)
		if err != nil || x != -180 || y != 90 {
			t.Errorf("%s FromWGS84 = (%v, %v, %v)", code, x, y, err)
		}
		for _, p := range [][2]float64{{math.NaN(), 0}, {0, math.Inf(1)}, {180.0001, 0}, {0, -90.5}} {
			if _, _, err := g.ToWGS84(p[0], p[1]); err == nil {
				t.Errorf("%s ToWGS84%v: want error", code, p)
			}
			if _, _, err := g.FromWGS84(p[0], p[1]); err == nil {
				t.Errorf("%s FromWGS84%v: want error", code, p)
			}
		}
	}
}

func TestTransform(t *testing.T) {
	cm120 := mustLookup(t, "EPSG:4549")
	cm123 := mustLookup(t, "EPSG:4550")
	z41 := mustLookup(t, "EPSG:4529")
	gcj := mustLookup(t, "GCJ-02")
	wm := mustLookup(t, "EPSG:3857")
	cgcs := mustLookup(t, "EPSG:4490")

	// Zone change CM 120E → CM 123E → zone 41 → back.
	x0, y0, err := cm120.FromWGS84(121.6147, 38.914)
	if err != nil {
		t.Fatal(err)
	}
	x1, y1, err := Transform(cm120, cm123, x0, y0)
	if err != nil {
		t.Fatal(err)
	}
	x2, y2, err := Transform(cm123, z41, x1, y1)
	if err != nil || math.Abs(x2-x1-41e6) > 1e-7 || math.Abs(y2-y1) > 1e-7 {
		t.Errorf("CM 123E → zone 41: (%v, %v) → (%v, %v), %v", x1, y1, x2, y2, err)
	}
	x3, y3, err := Transform(z41, cm120, x2, y2)
	if err != nil || math.Hypot(x3-x0, y3-y0) > 1e-6 {
		t.Errorf("zone change round trip off by %.3g m (%v)", math.Hypot(x3-x0, y3-y0), err)
	}

	// GCJ-02 → Web Mercator → CGCS2000.
	gx, gy, _ := gcj.FromWGS84(121.6147, 38.914)
	mx, my, err := Transform(gcj, wm, gx, gy)
	if err != nil {
		t.Fatal(err)
	}
	lon, lat, err := Transform(wm, cgcs, mx, my)
	if err != nil || groundErr(121.6147, 38.914, lon, lat) > 1e-6 {
		t.Errorf("GCJ-02 → 3857 → 4490 = (%v, %v, %v)", lon, lat, err)
	}

	if _, _, err := Transform(nil, cm120, 0, 0); err == nil {
		t.Error("nil src: want error")
	}
	if _, _, err := Transform(cm120, nil, 0, 0); err == nil {
		t.Error("nil dst: want error")
	}
	_, _, err = Transform(cm120, wm, math.NaN(), 0)
	if !errors.Is(err, ErrInvalidCoordinate) || !strings.Contains(err.Error(), "EPSG:4549 -> EPSG:3857") {
		t.Errorf("error lacks context: %v", err)
	}
	_, _, err = Transform(cgcs, cm120, 60, 0)
	if !errors.Is(err, ErrOutOfRange) {
		t.Errorf("far longitude: %v", err)
	}
}

// FuzzLookup checks that Lookup never panics and that every CRS it returns
// looks itself up again by its canonical code.
func FuzzLookup(f *testing.F) {
	for _, s := range []string{"EPSG:4326", "epsg:4490", "4549", "GCJ02", "GCJ-02", "EPSG:3857",
		"EPSG:900913", "EPSG:4513", "urn:ogc:def:crs:EPSG::4549", "urn:ogc:def:crs:EPSG:",
		"http://www.opengis.net/def/crs/EPSG/0/", "", ":", "EPSG:\x00", "\xff\xfe", "EPSG:9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c, err := Lookup(name)
		if err != nil {
			if !errors.Is(err, ErrUnknownCRS) {
				t.Fatalf("Lookup(%q) error %v does not wrap ErrUnknownCRS", name, err)
			}
			return
		}
		if c == nil {
			t.Fatalf("Lookup(%q) returned nil CRS and nil error", name)
		}
		c2, err := Lookup(c.Code())
		if err != nil || c2.Code() != c.Code() {
			t.Fatalf("Lookup(%q).Code() = %q does not round-trip: %v", name, c.Code(), err)
		}
	})
}

// FuzzConvert checks that conversions never panic and never return
// non-finite values without an error.
func FuzzConvert(f *testing.F) {
	f.Add("EPSG:4549", 121.6, 38.9)
	f.Add("EPSG:4549", 500000.0, 4300000.0)
	f.Add("EPSG:4528", 40500000.0, 4300000.0)
	f.Add("GCJ-02", 121.6, 38.9)
	f.Add("GCJ-02", 72.004, 0.8293)
	f.Add("EPSG:3857", 1.3e7, 4.7e6)
	f.Add("EPSG:4326", math.NaN(), math.Inf(1))
	f.Add("EPSG:4554", 1e300, -1e300)
	f.Fuzz(func(t *testing.T, name string, x, y float64) {
		c, err := Lookup(name)
		if err != nil {
			return
		}
		finite := func(a, b float64) bool {
			return !math.IsNaN(a) && !math.IsNaN(b) && !math.IsInf(a, 0) && !math.IsInf(b, 0)
		}
		if lon, lat, err := c.ToWGS84(x, y); err == nil {
			if !finite(lon, lat) || math.Abs(lon) > 180 || math.Abs(lat) > 90 {
				t.Fatalf("%s ToWGS84(%v, %v) = (%v, %v) without error", c.Code(), x, y, lon, lat)
			}
		}
		if px, py, err := c.FromWGS84(x, y); err == nil {
			if !finite(px, py) {
				t.Fatalf("%s FromWGS84(%v, %v) = (%v, %v) without error", c.Code(), x, y, px, py)
			}
			// Whatever FromWGS84 accepts, ToWGS84 inverts (Web Mercator
			// clamps latitude, so compare the clamped value).
			lon, lat, err := c.ToWGS84(px, py)
			if errors.Is(err, ErrOutOfRange) && c.Code() == "GCJ-02" {
				return // the gap at the box edge; see gcj02CRS.ToWGS84
			}
			if err != nil {
				t.Fatalf("%s ToWGS84(FromWGS84(%v, %v)) = %v", c.Code(), x, y, err)
			}
			wantLat := y
			if c.Code() == "EPSG:3857" {
				wantLat = math.Max(-WebMercatorMaxLat, math.Min(WebMercatorMaxLat, y))
			}
			// GCJ-02 is not invertible within ~0.01° of its bounding box.
			nearGCJEdge := c.Code() == "GCJ-02" &&
				(math.Abs(x-gcjMinLon) < 0.02 || math.Abs(x-gcjMaxLon) < 0.02 ||
					math.Abs(y-gcjMinLat) < 0.02 || math.Abs(y-gcjMaxLat) < 0.02)
			if nearGCJEdge {
				return
			}
			if math.Abs(lat) < 89.99 && groundErr(x, wantLat, lon, lat) > 1e-3 {
				t.Fatalf("%s round trip (%v, %v) → (%v, %v) → (%v, %v)", c.Code(), x, y, px, py, lon, lat)
			}
		}
	})
}
