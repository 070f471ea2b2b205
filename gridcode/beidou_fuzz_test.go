package gridcode

import (
	"math"
	"strings"
	"testing"
)

// FuzzParseBeiDou feeds arbitrary text to the BeiDou 2D, 3D and height-code
// parsers: none may panic, and whatever parses must format back to exactly
// the input and describe a sane cell.
func FuzzParseBeiDou(f *testing.F) {
	for _, s := range []string{
		"N50J", "N50J47", "N50J475", "N50J47539", "N50J47539B8", "N50J47539B82",
		"N50J47539B8255", "N50J47539B825534", "N50J47539B82553461", "N50J47539B8255346152",
		"S11J47539B8255346152", "N60AB01E0E0170707070", "N01AV", "N000", "S61J",
		"N036J0093000780B3010010520430140", "N051J0035040840", "N150J0047050340D9010341102403415",
		"N136J0093000780B3010010520430140", "N036J63", "N036J64",
		"000000015030", "00001AC15110", "100000001235", "100000000000", "063", "0631F1F1777",
		"", "N", "N50J4", "n50j", "N50JC7", "N50J476", "N50J47539B84", "\xff\xfe", "N50J４７",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := ParseBeiDou(s); err == nil {
			if got := c.String(); got != s {
				t.Fatalf("ParseBeiDou(%q).String() = %q", s, got)
			}
			beidouFuzzCell(t, s, c)
		} else if c != (BeiDou2D{}) {
			t.Fatalf("ParseBeiDou(%q) returned %+v with error %v", s, c, err)
		}
		if c, err := ParseBeiDou3D(s); err == nil {
			if got := c.String(); got != s {
				t.Fatalf("ParseBeiDou3D(%q).String() = %q", s, got)
			}
			beidouFuzzCell(t, c.Cell2D().String(), c.Cell2D())
			beidouFuzzHeight(t, s, c.Height())
			if c.Level() != c.Height().Level() {
				t.Fatalf("%q: 2D level %d, height level %d", s, c.Level(), c.Height().Level())
			}
			if p, ok := c.Parent(); ok && !strings.HasPrefix(s, p.String()) {
				t.Fatalf("%q: parent %q is not a prefix", s, p)
			}
		}
		if h, err := ParseBeiDouHeightCode(s); err == nil {
			if got := h.String(); got != s {
				t.Fatalf("ParseBeiDouHeightCode(%q).String() = %q", s, got)
			}
			beidouFuzzHeight(t, s, h)
		}
	})
}

// beidouFuzzCell checks a parsed 2D cell: a finite rectangle inside the
// non-polar globe, which re-encodes from its interior to itself.
func beidouFuzzCell(t *testing.T, s string, c BeiDou2D) {
	t.Helper()
	if c.Level() < 1 || c.Level() > BeiDouMaxLevel {
		t.Fatalf("%q: level %d", s, c.Level())
	}
	w, so, e, n := c.Rect()
	if !(w >= -180 && w < e && e <= 180 && so >= -88 && so < n && n <= 88) {
		t.Fatalf("%q: bad rect W%v S%v E%v N%v", s, w, so, e, n)
	}
	// The cell's centre encodes back to the cell.
	got, err := EncodeBeiDou((so+n)/2, (w+e)/2, c.Level())
	if err != nil || got != c {
		t.Fatalf("%q: centre re-encodes to %q, %v", s, got, err)
	}
	if p, ok := c.Parent(); ok && !strings.HasPrefix(s, p.String()) {
		t.Fatalf("%q: parent %q is not a prefix", s, p)
	}
}

// beidouFuzzHeight checks a parsed height layer: a non-empty, finite range
// that nests in its parent's.
func beidouFuzzHeight(t *testing.T, s string, h BeiDouHeight) {
	t.Helper()
	lo, hi := h.Range()
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo <= -BeiDouEarthRadius {
		t.Fatalf("%q: bad height range [%v, %v)", s, lo, hi)
	}
	if lo < 0 != h.Negative() && lo != 0 {
		t.Fatalf("%q: range [%v, %v) on the wrong side (negative %v)", s, lo, hi, h.Negative())
	}
	if p, ok := h.Parent(); ok {
		plo, phi := p.Range()
		if plo > lo || phi < hi {
			t.Fatalf("%q: range [%v, %v) not in parent %q [%v, %v)", s, lo, hi, p, plo, phi)
		}
	}
}

// FuzzEncodeBeiDou: encoding arbitrary floats never panics, and any cell it
// returns contains the point and parses back from its text.
func FuzzEncodeBeiDou(f *testing.F) {
	f.Add(39.99316, 116.31260, 52.5, uint8(10))
	f.Add(-33.8688, 151.2093, -10.0, uint8(7))
	f.Add(0.0, 180.0, 0.0, uint8(10))
	f.Add(87.9999, -180.0, 1e9, uint8(1))
	f.Add(math.NaN(), math.Inf(1), math.Inf(-1), uint8(0))
	f.Fuzz(func(t *testing.T, lat, lon, h float64, level uint8) {
		c, err := EncodeBeiDou3D(lat, lon, h, int(level))
		if err != nil {
			return
		}
		s := c.String()
		p, err := ParseBeiDou3D(s)
		if err != nil || p != c {
			t.Fatalf("EncodeBeiDou3D(%v, %v, %v, %d) = %q; parses to %q, %v", lat, lon, h, level, s, p, err)
		}
		w, so, e, n := c.Rect()
		const eps = 1e-9
		if !(lon >= w-eps && lon <= e+eps && lat >= so-eps && lat <= n+eps) {
			t.Fatalf("%q: (%v, %v) not in W%v S%v E%v N%v", s, lat, lon, w, so, e, n)
		}
		lo, hi := c.HeightRange()
		tol := 1e-9 * math.Max(1, math.Abs(h))
		if !(h >= lo-tol && h < hi+tol) {
			t.Fatalf("%q: height %v not in [%v, %v)", s, h, lo, hi)
		}
	})
}
