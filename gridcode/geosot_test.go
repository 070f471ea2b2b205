package gridcode

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func mustEncode(t testing.TB, lat, lon float64, level int) Code {
	t.Helper()
	c, err := Encode(lat, lon, level)
	if err != nil {
		t.Fatalf("Encode(%v, %v, %d): %v", lat, lon, level, err)
	}
	return c
}

func mustParse(t testing.TB, s string) Code {
	t.Helper()
	c, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return c
}

func mustAngle(t testing.TB, s string) float64 {
	t.Helper()
	v, err := ParseAngle(s)
	if err != nil {
		t.Fatalf("ParseAngle(%q): %v", s, err)
	}
	return v
}

func TestEncodeKnown(t *testing.T) {
	// GB/T 40087-2021 Appendix D: 39°54'37.0"N, 116°18'54.8"E.
	lat, lon := mustAngle(t, `39°54'37.0"N`), mustAngle(t, `116°18'54.8"E`)
	tests := []struct {
		name     string
		lat, lon float64
		level    int
		want     string
	}{
		{"App.D L7", lat, lon, 7, "G0013103"},
		{"App.D L8", lat, lon, 8, "G00131032"},
		{"App.D L9", lat, lon, 9, "G001310322"},
		{"App.D L15", lat, lon, 15, "G001310322-230230"},
		{"App.D L21", lat, lon, 21, "G001310322-230230-310312"},
		{"App.D L32", lat, lon, 32, "G001310322-230230-310312.11001100110"},
		{"dadream L21", mustAngle(t, `39°54'37.01"N`), mustAngle(t, `116°18'54.82"E`), 21, "G001310322-230230-310312"},
		{"NE", 1, 1, 1, "G0"},
		{"NW", 1, -1, 1, "G1"},
		{"SE", -1, 1, 1, "G2"},
		{"SW", -1, -1, 1, "G3"},
		{"origin", 0, 0, 3, "G000"},
		{"level 0", 38.9, 121.6, 0, "G"},
		{"catnuko L15", 39.91028, 116.315228, 15, "G001310322-230230"},
		{"catnuko L32", 27.688, 76.233, 32, "G001023122-203103-131010.33003300330"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustEncode(t, tc.lat, tc.lon, tc.level)
			if got.String() != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if back := mustParse(t, tc.want); back != got {
				t.Errorf("Parse(%s) = %v, want %v", tc.want, back, got)
			}
		})
	}
}

func TestPublishedVectors(t *testing.T) {
	v := readVectors(t)
	n := 0
	for _, e := range v["geosot_2d"] {
		if e["verified"] != true {
			continue
		}
		src, _ := e["src"].(string)
		if dms, ok := e["dms"].(string); ok {
			parts := strings.Split(dms, ",")
			lat, lon := mustAngle(t, parts[0]), mustAngle(t, parts[1])
			for _, key := range []string{"level7", "level8", "L9", "L15", "L21"} {
				if want, ok := e[key].(string); ok {
					level := len(strings.NewReplacer("-", "", ".", "").Replace(want)) - 1
					if got := mustEncode(t, lat, lon, level); got.String() != want {
						t.Errorf("%s %s: got %s want %s", src, key, got, want)
					}
					n++
				}
			}
			if cs, ok := e["computed_same_point"].(map[string]any); ok {
				for key, w := range cs {
					var got Code
					switch key {
					case "L15_uint64":
						// A level-15 code has its low 34 bits zero, so float64 holds it exactly.
						got = mustEncode(t, lat, lon, 15)
						if got.Bits() != uint64(w.(float64)) {
							t.Errorf("%s %s: got %d want %.0f", src, key, got.Bits(), w)
						}
						n++
					default:
						level, _ := strconv.Atoi(key[1:])
						got = mustEncode(t, lat, lon, level)
						if got.Digits() != strings.NewReplacer("-", "", ".", "").Replace(w.(string)) {
							t.Errorf("%s %s: got %s want %s", src, key, got, w)
						}
						n++
					}
				}
			}
		}
		if list, ok := e["level1"].([]any); ok {
			for _, it := range list {
				m := it.(map[string]any)
				if got := mustEncode(t, m["lat"].(float64), m["lng"].(float64), 1); got.String() != m["code"] {
					t.Errorf("%s: level1 %v got %s", src, m, got)
				}
				n++
			}
		}
		if code, ok := e["code"].(string); ok && e["X_col"] != nil {
			c := mustParse(t, code)
			la, lo := c.axes()
			L := c.Level()
			if x, y := lo>>(32-L), la>>(32-L); float64(x) != e["X_col"].(float64) || float64(y) != e["Y_row"].(float64) {
				t.Errorf("%s: %s X,Y = %d,%d", src, code, x, y)
			}
			n++
		}
		if bb, ok := e["bbox_L15"].([]any); ok {
			c := mustEncode(t, e["lat"].(float64), e["lng"].(float64), 15)
			if c.String() != e["L15"] {
				t.Errorf("%s: got %s", src, c)
			}
			b := c.Bounds()
			got := []float64{b.West, b.South, b.East, b.North}
			for i := range got {
				if math.Abs(got[i]-bb[i].(float64)) > 1e-6 {
					t.Errorf("%s: bbox %v want %v", src, got, bb)
				}
			}
			b9 := c.ParentAt(9).Bounds()
			if b9 != (Bound{116, 39, 117, 40}) {
				t.Errorf("%s: L9 bbox %v", src, b9)
			}
			n++
		}
	}
	if n < 16 {
		t.Errorf("only %d published vectors checked", n)
	}
}

func TestIntegerForms(t *testing.T) {
	tests := []struct {
		name       string
		lat, lon   float64
		level      int
		text, want string
	}{
		// iBEST-DB ST_AsGridcell(113.22, 40.1, 12).
		{name: "iBEST AsGridcell", lat: 40.1, lon: 113.22, level: 12, want: "531496224285523968:12"},
		// catnuko/geosot, geosot-rs: level-32 integer.
		{name: "catnuko L32", lat: 27.688, lon: 76.233, level: 32, want: "339638376531246140:32"},
		// GB/T 40087 App. D point at level 15.
		{name: "App.D L15", lat: 39 + 54.0/60 + 37.0/3600, lon: 116 + 18.0/60 + 54.8/3600, level: 15, want: "526548078363148288:15"},
		// iBEST-DB ST_GridCellFromText.
		{name: "iBEST FromText 12", text: "G001312100003", want: "532553954471444480:12"},
		{name: "iBEST FromText 14", text: "G00131032220212", want: "526536739649486848:14"},
		// iWhere golden response.
		{name: "iWhere", text: "G00112322303233231203131", want: "412869894958481408:23"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Code
			if tc.text != "" {
				c = mustParse(t, tc.text)
			} else {
				c = mustEncode(t, tc.lat, tc.lon, tc.level)
			}
			if c.Integer() != tc.want {
				t.Errorf("got %s want %s", c.Integer(), tc.want)
			}
			if back := mustParse(t, tc.want); back != c {
				t.Errorf("Parse(%s) = %s, want %s", tc.want, back, c)
			}
		})
	}
}

func TestIWhereCornerAndCentre(t *testing.T) {
	c := mustParse(t, "G00112322303233231203131")
	lat, lon := c.Corner()
	if math.Abs(lon-105.38104166666666) > 1e-12 || math.Abs(lat-31.528472222222224) > 1e-12 {
		t.Errorf("corner %v,%v", lon, lat)
	}
	lat, lon = c.Center()
	if math.Abs(lon-105.38107638888889) > 1e-12 || math.Abs(lat-31.528506944444445) > 1e-12 {
		t.Errorf("centre %v,%v", lon, lat)
	}
}

func TestIBESTNeighbours(t *testing.T) {
	// ST_GetNextBrother: next = id + 2^(64-2L), the next cell in Z order.
	// Its last digit is 1 (north 0, east 1), so the next brother is the cell
	// to the north-west.
	a := mustParse(t, "394383914082238464:18")
	if d := a.Bits() >> (64 - 2*18) & 3; d != 1 {
		t.Fatalf("last digit %d", d)
	}
	next, ok := a.Neighbour(1, -1)
	if !ok || next.Integer() != "394383914350673920:18" || next.Parent() != a.Parent() {
		t.Errorf("next brother of %s: %s", a.Integer(), next.Integer())
	}
	// ST_GetNeiber: south-east neighbour of AsGridcell(28.01, 39.5, 15) (x=lng, y=lat).
	c := mustEncode(t, 39.5, 28.01, 15)
	se, ok := c.Neighbour(-1, 1)
	if !ok || se.Integer() != "170726169786712064:15" {
		t.Errorf("south-east of %s: %s", c, se.Integer())
	}
}

func TestProtectione055Levels(t *testing.T) {
	for _, level := range []int{9, 15, 28} {
		name := fmt.Sprintf("geosot_protectione055_level-%d-size1000.csv", level)
		t.Run(name, func(t *testing.T) {
			rows := readCSV(t, name)
			bad := 0
			for i, r := range rows[1:] {
				lat, lon := mustAngle(t, r[0]), mustAngle(t, r[1])
				got := mustEncode(t, lat, lon, level)
				if got.String() != r[2] {
					bad++
					if bad < 5 {
						t.Errorf("line %d: %s %s: got %s want %s", i+2, r[0], r[1], got, r[2])
					}
				}
				if back := mustParse(t, r[2]); back != got {
					t.Errorf("line %d: Parse(%s) = %s", i+2, r[2], back)
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d rows differ", bad, len(rows)-1)
			}
		})
	}
}

func TestProtectione055Level32Axes(t *testing.T) {
	rows := readCSV(t, "geosot_protectione055_1dcode-level-32-size1000.csv")
	for i, r := range rows[1:] {
		lat, lon := mustAngle(t, r[0]), mustAngle(t, r[1])
		la, lo := mustEncode(t, lat, lon, 32).axes()
		if strconv.FormatUint(uint64(la), 10) != r[2] || strconv.FormatUint(uint64(lo), 10) != r[3] {
			t.Errorf("line %d: axes %d,%d want %s,%s", i+2, la, lo, r[2], r[3])
		}
	}
}

func TestReferenceVectors(t *testing.T) {
	rows := readCSV(t, "geosot_beidou_reference_vectors.csv")
	h := rows[0]
	iLng, iLat, iLevel := column(t, h, "lng"), column(t, h, "lat"), column(t, h, "level")
	iQ, iU := column(t, h, "geosot_quaternary"), column(t, h, "geosot_uint64_leftaligned")
	iCx, iCy := column(t, h, "geosot_corner_lng"), column(t, h, "geosot_corner_lat")
	for i, r := range rows[1:] {
		lng, _ := strconv.ParseFloat(r[iLng], 64)
		lat, _ := strconv.ParseFloat(r[iLat], 64)
		level, _ := strconv.Atoi(r[iLevel])
		c := mustEncode(t, lat, lng, level)
		if c.Digits() != r[iQ] || strconv.FormatUint(c.Bits(), 10) != r[iU] {
			t.Errorf("line %d (%s): got %s %d want %s %s", i+2, r[0], c.Digits(), c.Bits(), r[iQ], r[iU])
		}
		cy, cx := c.Corner()
		wx, _ := strconv.ParseFloat(r[iCx], 64)
		wy, _ := strconv.ParseFloat(r[iCy], 64)
		if level > 1 && (math.Abs(cx-wx) > 1e-9 || math.Abs(cy-wy) > 1e-9) {
			t.Errorf("line %d: corner %v,%v want %v,%v", i+2, cx, cy, wx, wy)
		}
	}
}

// randomPoint returns a point spread over the globe with a bias to Dalian.
func randomPoint(r *rand.Rand) (lat, lon float64) {
	if r.IntN(2) == 0 {
		return 38.6 + r.Float64()*1.7, 120.8 + r.Float64()*2.8
	}
	return r.Float64()*180 - 90, r.Float64()*360 - 180
}

func TestEncodeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		lat, lon := randomPoint(r)
		level := r.IntN(MaxLevel + 1)
		c := mustEncode(t, lat, lon, level)
		if !c.Bounds().Contains(lat, lon) {
			t.Fatalf("%s bounds %v do not contain %v,%v", c, c.Bounds(), lat, lon)
		}
		if back := mustParse(t, c.String()); back != c {
			t.Fatalf("round trip %s -> %s", c, back)
		}
		if back := mustParse(t, c.Digits()); back != c {
			t.Fatalf("round trip %s -> %s", c.Digits(), back)
		}
		if back := mustParse(t, c.Integer()); back != c {
			t.Fatalf("round trip %s -> %s", c.Integer(), back)
		}
		if level > 0 {
			p := c.Parent()
			if !p.Contains(c) || p.Level() != level-1 {
				t.Fatalf("parent %s of %s", p, c)
			}
			if pp := mustEncode(t, lat, lon, level-1); pp != p {
				t.Fatalf("parent %s != encode at level-1 %s", p, pp)
			}
			found := false
			for _, k := range p.Children() {
				found = found || k == c
			}
			if !found {
				t.Fatalf("%s not among children of %s", c, p)
			}
		}
		first, last := c.Range()
		fine := mustEncode(t, lat, lon, MaxLevel)
		if fine.Bits() < first || fine.Bits() > last {
			t.Fatalf("level-32 code %d outside range [%d,%d] of %s", fine.Bits(), first, last, c)
		}
	}
}

func TestNeighbours(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 5000; i++ {
		lat, lon := randomPoint(r)
		level := 1 + r.IntN(MaxLevel)
		c := mustEncode(t, lat, lon, level)
		b := c.Bounds()
		for _, d := range [][2]int{{1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}, {0, -1}, {1, -1}} {
			n, ok := c.Neighbour(d[0], d[1])
			if !ok {
				if (d[0] == 1 && b.North < 90) || (d[0] == -1 && b.South > -90) {
					t.Fatalf("%s: missing neighbour %v", c, d)
				}
				continue
			}
			nb := n.Bounds()
			// Adjacent: they share an edge or a corner (modulo ±180°).
			if d[0] == 1 && nb.South != b.North || d[0] == -1 && nb.North != b.South {
				t.Fatalf("%s %v: neighbour %s %v not adjacent in latitude", c, b, n, nb)
			}
			if d[1] == 1 && nb.West != b.East && !(b.East == 180 && nb.West == -180) ||
				d[1] == -1 && nb.East != b.West && !(b.West == -180 && nb.East == 180) {
				t.Fatalf("%s %v: neighbour %s %v not adjacent in longitude", c, b, n, nb)
			}
			// Stepping back returns to the cell.
			if back, ok := n.Neighbour(-d[0], -d[1]); !ok || back != c {
				t.Fatalf("%s %v -> %s -> %s", c, d, n, back)
			}
		}
	}
}

func TestNeighboursAcrossSpecialLines(t *testing.T) {
	tests := []struct {
		name              string
		lat, lon          float64
		level, dLat, dLon int
		wantLat, wantLon  float64 // a point inside the expected neighbour
	}{
		{"equator north to south", 0.1, 10.1, 9, -1, 0, -0.5, 10.5},
		{"equator south to north", -0.1, 10.1, 9, 1, 0, 0.5, 10.5},
		{"prime meridian east to west", 10.1, 0.1, 9, 0, -1, 10.5, -0.5},
		{"prime meridian west to east", 10.1, -0.1, 9, 0, 1, 10.5, 0.5},
		{"antimeridian east", 10.1, 179.9, 9, 0, 1, 10.5, -179.5},
		{"antimeridian west", 10.1, -179.9, 9, 0, -1, 10.5, 179.5},
		{"minute 59 to next degree", 38.99, 121.5, 15, 1, 0, 39.001, 121.5},
		{"second 59 to next minute", 38.5, 121.0 + 59.5/3600, 21, 0, 1, 38.5, 121.0 + 60.5/3600},
		{"diagonal across origin", 0.1, 0.1, 12, -1, -1, -0.1, -0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := mustEncode(t, tc.lat, tc.lon, tc.level)
			n, ok := c.Neighbour(tc.dLat, tc.dLon)
			want := mustEncode(t, tc.wantLat, tc.wantLon, tc.level)
			if !ok || n != want {
				t.Errorf("neighbour of %s: %s (%v), want %s", c, n, ok, want)
			}
		})
	}
	north := mustEncode(t, 89.99, 10, 9)
	if _, ok := north.Neighbour(1, 0); ok {
		t.Errorf("neighbour beyond the north pole")
	}
	if got := len(north.Neighbours()); got != 5 {
		t.Errorf("polar cell has %d neighbours, want 5", got)
	}
	if got := len(mustEncode(t, 38.9, 121.6, 20).Neighbours()); got != 8 {
		t.Errorf("Dalian cell has %d neighbours, want 8", got)
	}
}

func TestVirtualCells(t *testing.T) {
	// Level 10 splits a degree into 0–32′ and 32–64′; the second half is
	// real only up to 60′.
	c := mustEncode(t, 38.9, 121.6, 10)
	b := c.Bounds()
	if math.Abs(b.North-39) > 1e-12 || math.Abs(b.South-(38+32.0/60)) > 1e-12 {
		t.Errorf("level-10 cell %s bounds %v", c, b)
	}
	// Level 13 cell with minute bits 1111 (60–63′) is virtual.
	p := mustEncode(t, 38.99, 121.6, 12)
	if got := len(p.Children()); got != 2 {
		t.Errorf("%s has %d real children, want 2 (60–63′ is virtual)", p, got)
	}
	if _, err := Parse("G001311221-2222"); !errors.Is(err, ErrVirtual) { // minutes 60–63
		t.Errorf("virtual cell parsed: %v", err)
	}
	if _, err := Parse("G02"); !errors.Is(err, ErrVirtual) { // latitudes 128–256°
		t.Errorf("cell beyond the pole parsed: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{"", "X", "G4", "G0-1", "G001310322--230230", "G001310322-23023-0", "G0.1",
		"G" + strings.Repeat("0", 33), "12:", ":3", "1:40", "3:1", "abc:1", "G001310322 230230", "G001310322-"}
	for _, s := range bad {
		if c, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", s, c)
		}
	}
	if _, err := Encode(91, 0, 3); !errors.Is(err, ErrLatitude) {
		t.Errorf("lat 91: %v", err)
	}
	if _, err := Encode(0, math.NaN(), 3); !errors.Is(err, ErrLongitude) {
		t.Errorf("lon NaN: %v", err)
	}
	if _, err := Encode(0, 0, 33); !errors.Is(err, ErrLevel) {
		t.Errorf("level 33: %v", err)
	}
}

func TestPolesAndAntimeridian(t *testing.T) {
	for _, p := range [][2]float64{{90, 0}, {-90, 0}, {0, 180}, {0, -180}, {90, 180}, {-90, -180}} {
		c := mustEncode(t, p[0], p[1], 32)
		if !c.Bounds().Contains(p[0], p[1]) && !(math.Abs(c.Bounds().North-p[0]) < 1e-6 || math.Abs(c.Bounds().South-p[0]) < 1e-6) {
			t.Errorf("%v: %s %v", p, c, c.Bounds())
		}
		if _, err := Parse(c.String()); err != nil {
			t.Errorf("%v: %v", p, err)
		}
	}
}

func TestCommonAncestorAndCoverBound(t *testing.T) {
	a := mustEncode(t, 38.91, 121.61, 32)
	b := mustEncode(t, 38.92, 121.64, 32)
	ca := CommonAncestor(a, b)
	if !ca.Contains(a) || !ca.Contains(b) {
		t.Fatalf("%s does not contain both", ca)
	}
	for _, k := range ca.Children() {
		if k.Contains(a) && k.Contains(b) {
			t.Fatalf("child %s of %s contains both", k, ca)
		}
	}
	tests := []struct {
		name string
		b    Bound
		want string
	}{
		{"exact degree cell", Bound{121, 38, 122, 39}, "G001311221"},
		{"exact minute cell", Bound{121 + 36.0/60, 38 + 54.0/60, 121 + 37.0/60, 38 + 55.0/60}, ""},
		{"point", Bound{121.6, 38.9, 121.6, 38.9}, mustEncode(t, 38.9, 121.6, 32).String()},
		{"across equator", Bound{10, -1, 11, 1}, "G"},
		{"across prime meridian", Bound{-1, 10, 1, 11}, "G"},
		{"southwest degree", Bound{-122, -39, -121, -38}, "G301311221"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := CoverBound(tc.b)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == "" {
				want = mustEncode(t, tc.b.South+1e-9, tc.b.West+1e-9, 15).String()
			}
			if c.String() != want {
				t.Errorf("got %s want %s", c, want)
			}
		})
	}
	if _, err := CoverBound(Bound{1, 1, 0, 0}); err == nil {
		t.Errorf("inverted bound accepted")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 2000; i++ {
		lat, lon := randomPoint(r)
		d := r.Float64() * 0.05
		b := Bound{West: lon, South: lat, East: min(lon+d, 180), North: min(lat+d, 90)}
		c, err := CoverBound(b)
		if err != nil {
			t.Fatal(err)
		}
		cb := c.Bounds()
		if cb.West > b.West || cb.South > b.South || cb.East < b.East || cb.North < b.North {
			t.Fatalf("cover %s %v does not contain %v", c, cb, b)
		}
	}
}

func TestParseAngle(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"121.6", 121.6},
		{"-38.9", -38.9},
		{`42°38'59.68" S`, -(42 + 38.0/60 + 59.68/3600)},
		{`1°32'0.06" E`, 1 + 32.0/60 + 0.06/3600},
		{`N39°59'56.1444"`, 39 + 59.0/60 + 56.1444/3600},
		{`116°18′54.8″E`, 116 + 18.0/60 + 54.8/3600},
		{`39 54 37.0 N`, 39 + 54.0/60 + 37.0/3600},
		{`121d36m0s`, 121.6},
		{`W 1°44'25.01"`, -(1 + 44.0/60 + 25.01/3600)},
		{`-12°30'`, -12.5},
	}
	for _, tc := range tests {
		got, err := ParseAngle(tc.in)
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("ParseAngle(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, s := range []string{"", "abc", "N", `12°60'`, `12°10'60"`, "1 2 3 4", "-N12", "12x", "1..2"} {
		if v, err := ParseAngle(s); err == nil {
			t.Errorf("ParseAngle(%q) = %v, want an error", s, v)
		}
	}
}

// TestPackAxisReciprocals checks the reciprocal-multiplication divisions of
// packAxis against plain division for every whole second of arc up to 181°
// and at every 1/2048″ unit around each minute boundary.
func TestPackAxisReciprocals(t *testing.T) {
	want := func(u uint32) uint32 {
		deg := u / UnitsPerDegree
		rem := u % UnitsPerDegree
		return deg<<23 | rem/unitsPerMinute<<17 | rem%unitsPerMinute
	}
	for s := uint32(0); s <= 181*3600; s++ {
		for _, d := range []uint32{0, 1, 2047} {
			u := s*unitsPerSecond + d
			if got := packAxis(false, u); got != want(u) {
				t.Fatalf("packAxis(%d) = %x, want %x", u, got, want(u))
			}
		}
		if s > 0 {
			u := s*unitsPerSecond - 1
			if got := packAxis(false, u); got != want(u) {
				t.Fatalf("packAxis(%d) = %x, want %x", u, got, want(u))
			}
		}
	}
}

func TestSpreadTable(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for i := 0; i < 100000; i++ {
		x := r.Uint32()
		if spread(x) != spreadSlow(x) || squash(spread(x)) != x {
			t.Fatalf("spread(%x) = %x, want %x", x, spread(x), spreadSlow(x))
		}
	}
}
