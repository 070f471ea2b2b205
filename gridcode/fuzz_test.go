package gridcode

import (
	"math"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"G", "G0", "G001310322-230230", "G001310322-230230-310312.11001100110", "G00131032223023031031211001100110",
		"526548078363148288:15", "1-2", "G001310322-", "G02", "g3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			return
		}
		back, err := Parse(c.String())
		if err != nil || back != c {
			t.Fatalf("%q -> %s -> %v %v", s, c, back, err)
		}
		b := c.Bounds()
		if !(b.West <= b.East && b.South <= b.North) || b.West < -180 || b.East > 180 || b.South < -90 || b.North > 90 {
			t.Fatalf("%s: bounds %v", c, b)
		}
		lat, lon := c.Center()
		if k, err := Encode(lat, lon, c.Level()); err != nil || k != c {
			t.Fatalf("%s: centre %v,%v encodes to %s %v", c, lat, lon, k, err)
		}
	})
}

func FuzzParse3D(f *testing.F) {
	for _, s := range []string{"GZ", "GZ002626044", "GZ00262064446046062063523002211204", "536632043098865664,0:9", "1,2:3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse3D(s)
		if err != nil {
			return
		}
		back, err := Parse3D(c.String())
		if err != nil || back != c {
			t.Fatalf("%q -> %s -> %v %v", s, c, back, err)
		}
		if lo, hi := c.HeightRange(); !(lo <= hi) {
			t.Fatalf("%s: height range %v %v", c, lo, hi)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"T2026", "T2026-11-30T14", "T2026-09/14", "T0000/0", "T2026-11-30T14:35:12.345", "T2026-02-29"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseTime(s)
		if err != nil {
			return
		}
		back, err := ParseTime(c.String())
		if err != nil || back != c {
			t.Fatalf("%q -> %s -> %v %v", s, c, back, err)
		}
		if !c.Start().Before(c.End()) {
			t.Fatalf("%s: empty", c)
		}
	})
}

func FuzzParseSpaceTime(f *testing.F) {
	f.Add("GZ002622442@T2026-07-21T09")
	f.Add("GZ@T0000/0")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseSpaceTime(s)
		if err != nil {
			return
		}
		if back, err := ParseSpaceTime(c.String()); err != nil || back != c {
			t.Fatalf("%q -> %s -> %v %v", s, c, back, err)
		}
	})
}

func FuzzParseAngle(f *testing.F) {
	for _, s := range []string{"121.6", `42°38'59.68" S`, `N39°59'56.1444"`, "39 54 37.0 N", "121d36m0s", "-12°30'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseAngle(s)
		if err == nil && math.IsNaN(v) && s != "NaN" && s != "nan" {
			// strconv accepts "NaN"; DMS parsing must never produce one.
			t.Fatalf("%q -> NaN", s)
		}
	})
}

func FuzzEncode(f *testing.F) {
	f.Add(38.916, 121.644, 50.0, uint8(32))
	f.Add(-90.0, 180.0, -10.0, uint8(1))
	f.Fuzz(func(t *testing.T, lat, lon, h float64, level uint8) {
		c, err := Encode(lat, lon, int(level))
		if err != nil {
			return
		}
		if !c.Bounds().Contains(math.Max(-90, math.Min(lat, 90)), lon) && math.Abs(lat) < 90 && math.Abs(lon) < 180 {
			t.Fatalf("%s misses %v,%v", c, lat, lon)
		}
		if c3, err := Encode3D(lat, lon, h, int(level)); err == nil {
			if lo, hi := c3.HeightRange(); h < lo-1e-6*math.Abs(h)-1e-9 || h > hi+1e-6*math.Abs(h)+1e-9 {
				t.Fatalf("%s: %v outside [%v,%v]", c3, h, lo, hi)
			}
		}
	})
}
