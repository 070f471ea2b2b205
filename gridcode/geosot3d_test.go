package gridcode

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestHeightScale(t *testing.T) {
	if heightScale != math.Log1p(math.Pi/180) {
		t.Errorf("heightScale %v != %v", heightScale, math.Log1p(math.Pi/180))
	}
}

func TestEncode3DPublished(t *testing.T) {
	// GGER-3D, verified against iBEST-DB ST_AsGridcell3D.
	tests := []struct {
		lat, lon, h float64
		level       int
		want        string
	}{
		{39.910278, 116.315222, 100, 32, "GZ00262064446046062063523002211204"},
		{39.910278, 116.315222, 100, 15, "GZ002620644460460"},
	}
	for _, tc := range tests {
		c, err := Encode3D(tc.lat, tc.lon, tc.h, tc.level)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != tc.want {
			t.Errorf("Encode3D(%v,%v,%v,%d) = %s want %s", tc.lat, tc.lon, tc.h, tc.level, c, tc.want)
		}
		back, err := Parse3D(tc.want)
		if err != nil || back != c {
			t.Errorf("Parse3D(%s) = %s, %v", tc.want, back, err)
		}
	}
	// iBEST-DB ST_GridCellFromText("GZ002626044") = "536632043098865664,0:9".
	c, err := Parse3D("GZ002626044")
	if err != nil {
		t.Fatal(err)
	}
	if c.Integer() != "536632043098865664,0:9" {
		t.Errorf("integer form %s", c.Integer())
	}
	if back, err := Parse3D(c.Integer()); err != nil || back != c {
		t.Errorf("Parse3D(%s) = %s, %v", c.Integer(), back, err)
	}
}

func TestHeightAxisVectors(t *testing.T) {
	// GGER-3D z words from the published note.
	for _, v := range [][2]float64{{100, 6680}, {9999, 708443}, {-10, 2147484316}, {-1234, 2147566096}} {
		if got := HeightAxis(v[0]); float64(got) != v[1] {
			t.Errorf("HeightAxis(%v) = %d want %.0f", v[0], got, v[1])
		}
	}
	rows := readCSV(t, "geosot_beidou_height_layers.csv")
	h := rows[0]
	iH, iZ := column(t, h, "height_m"), column(t, h, "gger3d_z_uint32_ibest_convention")
	for i, r := range rows[1:] {
		hm, _ := strconv.ParseFloat(r[iH], 64)
		if got := strconv.FormatUint(uint64(HeightAxis(hm)), 10); got != r[iZ] {
			t.Errorf("line %d: HeightAxis(%v) = %s want %s", i+2, hm, got, r[iZ])
		}
	}
}

func TestReferenceVectors3D(t *testing.T) {
	rows := readCSV(t, "geosot_beidou_reference_vectors.csv")
	h := rows[0]
	iLng, iLat, iH, iLevel, iG := column(t, h, "lng"), column(t, h, "lat"), column(t, h, "height_m"), column(t, h, "level"), column(t, h, "gger3d_octal")
	for i, r := range rows[1:] {
		lng, _ := strconv.ParseFloat(r[iLng], 64)
		lat, _ := strconv.ParseFloat(r[iLat], 64)
		hm, _ := strconv.ParseFloat(r[iH], 64)
		level, _ := strconv.Atoi(r[iLevel])
		c, err := Encode3D(lat, lng, hm, level)
		if err != nil {
			t.Fatalf("line %d: %v", i+2, err)
		}
		if c.String() != r[iG] {
			t.Errorf("line %d (%s): got %s want %s", i+2, r[0], c, r[iG])
		}
	}
}

func TestCode3DProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		lat, lon := randomPoint(r)
		hm := (r.Float64() - 0.2) * 2000
		if r.IntN(10) == 0 {
			hm = (r.Float64() - 0.5) * 4e6
		}
		level := r.IntN(MaxLevel + 1)
		c, err := Encode3D(lat, lon, hm, level)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := c.HeightRange()
		if hm < lo-1e-6 || hm > hi+1e-6 {
			t.Fatalf("%s: height %v outside [%v, %v]", c, hm, lo, hi)
		}
		if !c.Bounds().Contains(lat, lon) {
			t.Fatalf("%s: footprint %v misses %v,%v", c, c.Bounds(), lat, lon)
		}
		if c2 := mustEncode(t, lat, lon, level); c.Code2D() != c2 {
			t.Fatalf("%s footprint %s != %s", c, c.Code2D(), c2)
		}
		back, err := Parse3D(c.String())
		if err != nil || back != c {
			t.Fatalf("round trip %s -> %s %v", c, back, err)
		}
		back, err = Parse3D(c.Integer())
		if err != nil || back != c {
			t.Fatalf("round trip %s -> %s %v", c.Integer(), back, err)
		}
		if level > 0 {
			p := c.Parent()
			if !p.Contains(c) {
				t.Fatalf("%s parent %s", c, p)
			}
			found := false
			for _, k := range p.Children() {
				found = found || k == c
			}
			if !found {
				t.Fatalf("%s not among children of %s", c, p)
			}
		}
	}
}

func TestHeightLayerThickness(t *testing.T) {
	// At level 32 near the ground a layer is about as thick as a cell is
	// wide at the equator (≈1.5 cm); at level 21 about 31 m.
	c, _ := Encode3D(38.9, 121.6, 10, 32)
	lo, hi := c.HeightRange()
	if d := hi - lo; d < 0.01 || d > 0.02 {
		t.Errorf("level-32 layer %v m thick", d)
	}
	c, _ = Encode3D(38.9, 121.6, 10, 21)
	lo, hi = c.HeightRange()
	if d := hi - lo; d < 25 || d > 35 {
		t.Errorf("level-21 layer %v m thick", d)
	}
}

func TestParse3DErrors(t *testing.T) {
	for _, s := range []string{"", "G", "GZ8", "GZ0-1", "1,2", "1,x:3", "1,1:3", "GZ" + strings.Repeat("0", 33), "1,0:40", "12,0:1"} {
		if c, err := Parse3D(s); err == nil {
			t.Errorf("Parse3D(%q) = %s, want an error", s, c)
		}
	}
	if _, err := Encode3D(0, 0, math.NaN(), 3); err == nil {
		t.Errorf("NaN height accepted")
	}
	if _, err := Encode3D(0, 0, -7e6, 3); err == nil {
		t.Errorf("height below the Earth's centre accepted")
	}
}
