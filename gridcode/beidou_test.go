package gridcode

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// beidouDataDir returns the shared reference data directory, or skips the
// test when it is absent (it lives in the team's shared/ beside the project).
func beidouDataDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data", "gridcode")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("../../shared/data/gridcode not found: %v (BeiDou reference vectors are read from the shared data beside the project)", err)
	}
	return dir
}

// beidouReadCSV returns the data rows of a shared CSV file as maps keyed by
// the header.
func beidouReadCSV(t testing.TB, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(beidouDataDir(t), name))
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if len(recs) < 2 {
		t.Fatalf("%s: no data rows", name)
	}
	rows := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, h := range recs[0] {
			if i < len(rec) {
				m[h] = strings.TrimSpace(rec[i])
			}
		}
		rows = append(rows, m)
	}
	return rows
}

func beidouFloat(t testing.TB, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("bad number %q: %v", s, err)
	}
	return v
}

var beidouDMSRe = regexp.MustCompile(`^([NSEW])?\s*(\d+)°(\d+)'([\d.]+)"\s*([NSEW])?$`)

// beidouDMS parses "39°59'35.38\"N, 116°18'45.37\"E",
// "N39°59'56.1444\", E116°19'14.3184\"" or an unsigned "lat, lon" pair.
func beidouDMS(t testing.TB, s string) (lat, lon float64) {
	t.Helper()
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		t.Fatalf("DMS pair %q: want two comma-separated angles", s)
	}
	var v [2]float64
	for i, p := range parts {
		m := beidouDMSRe.FindStringSubmatch(strings.TrimSpace(p))
		if m == nil {
			t.Fatalf("DMS angle %q: unrecognised", p)
		}
		d, _ := strconv.ParseFloat(m[2], 64)
		mi, _ := strconv.ParseFloat(m[3], 64)
		se, _ := strconv.ParseFloat(m[4], 64)
		v[i] = d + mi/60 + se/3600
		hemi := m[1] + m[5]
		if hemi == "S" || hemi == "W" {
			v[i] = -v[i]
		}
		want := "NS"
		if i == 1 {
			want = "EW"
		}
		if hemi != "" && !strings.Contains(want, hemi) {
			t.Fatalf("DMS pair %q: angle %d has hemisphere %s", s, i, hemi)
		}
	}
	return v[0], v[1]
}

// beidouDeg converts degrees, minutes and seconds to decimal degrees in
// float64 arithmetic at run time (Go constant expressions would be exact).
func beidouDeg(d, m, s float64) float64 { return d + m/60 + s/3600 }

func beidouMustEncode(t testing.TB, lat, lon float64, level int) BeiDou2D {
	t.Helper()
	c, err := EncodeBeiDou(lat, lon, level)
	if err != nil {
		t.Fatalf("EncodeBeiDou(%v, %v, %d): %v", lat, lon, level, err)
	}
	return c
}

// beidouCheckCell asserts the properties every encoded 2D cell must have:
// its text parses back to the same value, the point lies in its Rect, and
// its parent is the encoding one level up with the text as a prefix.
func beidouCheckCell(t testing.TB, c BeiDou2D, lat, lon float64) {
	t.Helper()
	s := c.String()
	p, err := ParseBeiDou(s)
	if err != nil {
		t.Fatalf("ParseBeiDou(%q) of encoded (%v, %v): %v", s, lat, lon, err)
	}
	if p != c || p.String() != s {
		t.Fatalf("round trip of %q: got %q (%+v != %+v)", s, p.String(), p, c)
	}
	w, so, e, n := c.Rect()
	const eps = 1e-9 // degrees; covers the 1e-6-unit snap at boundaries
	if !(lon >= w-eps && lon <= e+eps && lat >= so-eps && lat <= n+eps) {
		t.Fatalf("%q: point (%v, %v) not in rect W%v S%v E%v N%v", s, lat, lon, w, so, e, n)
	}
	if c.Level() > 1 {
		par, ok := c.Parent()
		if !ok {
			t.Fatalf("%q: no parent", s)
		}
		up := beidouMustEncode(t, lat, lon, c.Level()-1)
		if par != up || !strings.HasPrefix(s, par.String()) {
			t.Fatalf("%q: parent %q, encode one level up %q", s, par, up)
		}
	}
}

// TestBeiDouAppendixB2 is the worked example of GB/T 39409-2020 App. B.2,
// level by level, with level 10 as computed by the reference data's author.
func TestBeiDouAppendixB2(t *testing.T) {
	lat := 39 + 59.0/60 + 35.38/3600
	lon := 116 + 18.0/60 + 45.37/3600
	want := []string{
		"", "N50J", "N50J47", "N50J475", "N50J47539", "N50J47539B8", "N50J47539B82",
		"N50J47539B8255", "N50J47539B825534", "N50J47539B82553461", "N50J47539B8255346152",
	}
	for level := 1; level <= BeiDouMaxLevel; level++ {
		c := beidouMustEncode(t, lat, lon, level)
		if got := c.String(); got != want[level] || c.Level() != level {
			t.Errorf("level %d: got %q (level %d), want %q", level, got, c.Level(), want[level])
		}
		beidouCheckCell(t, c, lat, lon)
	}
}

// TestBeiDouKnownVectors holds the published and derived vectors that need
// no data files.
func TestBeiDouKnownVectors(t *testing.T) {
	b2lat := 39 + 59.0/60 + 35.38/3600
	b2lon := 116 + 18.0/60 + 45.37/3600
	tests := []struct {
		name     string
		lat, lon float64
		level    int
		want     string
	}{
		// Mirror rule of figures 3–8: sub-indices count away from the
		// prime meridian and the equator; only level 1 carries the sign.
		{"B.2 NE", b2lat, b2lon, 10, "N50J47539B8255346152"},
		{"B.2 mirrored NW", b2lat, -b2lon, 10, "N11J47539B8255346152"},
		{"B.2 mirrored SE", -b2lat, b2lon, 10, "S50J47539B8255346152"},
		{"B.2 mirrored SW", -b2lat, -b2lon, 10, "S11J47539B8255346152"},
		// GB/T 39409-2020 8.1, short-code example points.
		{"8.1 east gate", 39 + 59.0/60 + 56.1444/3600, 116 + 19.0/60 + 14.3184/3600, 5, "N50J475493E"},
		{"8.1 tower", 39 + 59.0/60 + 59.7012/3600, 116 + 19.0/60 + 5.9808/3600, 5, "N50J475491E"},
		{"8.1 office", 39 + 59.0/60 + 56.5260/3600, 116 + 19.0/60 + 9.3540/3600, 5, "N50J475492E"},
		// Derived reference rows (geosot_beidou_reference_vectors.csv).
		{"Dalian L4", 38.916, 121.644, 4, "N51J35484"},
		{"Dalian L10", 38.916, 121.644, 10, "N51J354849E116436134"},
		{"NYC", 40.7484, -73.9857, 10, "N18K313E42D220075503"},
		{"Sydney", -33.8688, 151.2093, 10, "S56I234C281256752670"},
		{"Buenos Aires", -34.6037, -58.3816, 10, "S21I85176D3075022147"},
		// Origin, hemisphere edges and the antimeridian.
		{"origin", 0, 0, 10, "N31A0000000000000000"},
		{"negative zeros", math.Copysign(0, -1), math.Copysign(0, -1), 1, "N31A"},
		{"just SW of origin", -1e-12, -1e-12, 1, "S30A"},
		{"lon 6 exactly", 0, 6, 2, "N32A00"},
		{"lon -6 exactly", 0, -6, 2, "N29A00"},
		{"lat -4 exactly", -4, 1, 1, "S31B"},
		{"lat band V", 87.999, 0.5, 1, "N31V"},
		{"lon 180", 0, 180, 10, "N60AB01E0E0170707070"},
		{"lon -180", 0, -180, 10, "N01AB01E0E0170707070"},
		// Exact DMS boundaries given in decimal must not fall a cell short:
		// 39°59′32″ N, 116°18′44″ E is the corner of L5 cell B8.
		{"DMS boundary", beidouDeg(39, 59, 32), beidouDeg(116, 18, 44), 10, "N50J47539B8000000000"},
		// 0°1′1″ and 0°1′3″ computed in float64 scale to 124927.99999999999
		// and 129023.99999999999 units: without the snap they would truncate
		// a cell short.
		{"DMS boundary needing the snap", beidouDeg(0, 1, 1), beidouDeg(0, 1, 3), 10, "N31A0001100144000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := beidouMustEncode(t, tc.lat, tc.lon, tc.level)
			if got := c.String(); got != tc.want {
				t.Errorf("EncodeBeiDou(%v, %v, %d) = %q, want %q", tc.lat, tc.lon, tc.level, got, tc.want)
			}
			beidouCheckCell(t, c, tc.lat, tc.lon)
		})
	}
}

func TestBeiDouRect(t *testing.T) {
	const u = 1.0 / (3600 * 2048)
	tests := []struct {
		code       string
		w, s, e, n float64
	}{
		{"N50J", 114, 36, 120, 40},
		{"N11J", -120, 36, -114, 40},
		{"S50J", 114, -40, 120, -36},
		{"S11J", -120, -40, -114, -36},
		{"N50J47", 116, 39.5, 116.5, 40},
		{"N50J475", 116.25, 39 + 50.0/60, 116.5, 40},
		{"S11J475", -116.5, -40, -116.25, -(39 + 50.0/60)},
		{"N31A0000000000000000", 0, 0, u, u},
	}
	for _, tc := range tests {
		c, err := ParseBeiDou(tc.code)
		if err != nil {
			t.Fatalf("ParseBeiDou(%q): %v", tc.code, err)
		}
		w, s, e, n := c.Rect()
		const eps = 1e-12
		if math.Abs(w-tc.w) > eps || math.Abs(s-tc.s) > eps || math.Abs(e-tc.e) > eps || math.Abs(n-tc.n) > eps {
			t.Errorf("%q.Rect() = W%v S%v E%v N%v, want W%v S%v E%v N%v", tc.code, w, s, e, n, tc.w, tc.s, tc.e, tc.n)
		}
		if c.IsWest() != (tc.w < 0) || c.IsSouth() != (tc.s < 0) {
			t.Errorf("%q: IsWest %v IsSouth %v", tc.code, c.IsWest(), c.IsSouth())
		}
	}
	var zero BeiDou2D
	if w, s, e, n := zero.Rect(); w != 0 || s != 0 || e != 0 || n != 0 || zero.String() != "" || zero.Level() != 0 {
		t.Errorf("zero value: rect %v %v %v %v, string %q", w, s, e, n, zero.String())
	}
	if _, ok := zero.Parent(); ok {
		t.Error("zero value has a parent")
	}
}

// TestBeiDouHeightVectors: formula C.12 / C.14 on the values of the height
// layer table (geosot_beidou_height_layers.csv), which need no data file.
func TestBeiDouHeightVectors(t *testing.T) {
	tests := []struct {
		h    float64
		n    int64
		code string
	}{
		{-1234, -82449, "100000A01021"},
		{-10, -669, "100000001235"},
		{0, 0, "000000000000"},
		{0.5, 33, "000000000041"},
		{10, 668, "000000001234"},
		{50, 3340, "000000006414"},
		{100, 6680, "000000015030"},
		{3000, 200374, "000001807266"},
		{8848.86, 590758, "000004801646"},
		{52800, 3512904, "00001AC15110"},
	}
	for _, tc := range tests {
		n, err := BeiDouHeightIndex(tc.h)
		if err != nil || n != tc.n {
			t.Errorf("BeiDouHeightIndex(%v) = %d, %v; want %d", tc.h, n, err, tc.n)
		}
		code, err := BeiDouHeightCode(tc.h)
		if err != nil || code != tc.code {
			t.Errorf("BeiDouHeightCode(%v) = %q, %v; want %q", tc.h, code, err, tc.code)
		}
		beidouCheckHeight(t, tc.h)
	}
}

// beidouCheckHeight asserts, at every level, that the layer of h contains
// h, parses back from its text, and nests in its parent.
func beidouCheckHeight(t testing.TB, h float64) {
	t.Helper()
	for level := 1; level <= BeiDouMaxLevel; level++ {
		l, err := EncodeBeiDouHeight(h, level)
		if err != nil {
			t.Fatalf("EncodeBeiDouHeight(%v, %d): %v", h, level, err)
		}
		s := l.String()
		if len(s) != level+2 || l.Level() != level {
			t.Fatalf("height %v level %d: code %q", h, level, s)
		}
		p, err := ParseBeiDouHeightCode(s)
		if err != nil || p != l {
			t.Fatalf("ParseBeiDouHeightCode(%q) = %+v, %v; want %+v", s, p, err, l)
		}
		lo, hi := l.Range()
		tol := 1e-9 * math.Max(1, math.Abs(h))
		if !(h >= lo-tol && h < hi+tol) || !(lo < hi) {
			t.Fatalf("height %v level %d (%q): not in [%v, %v)", h, level, s, lo, hi)
		}
		if l.Negative() != (h < 0) {
			t.Fatalf("height %v level %d: Negative() = %v", h, level, l.Negative())
		}
		if level > 1 {
			par, ok := l.Parent()
			up, _ := EncodeBeiDouHeight(h, level-1)
			if !ok || par != up || !strings.HasPrefix(s, par.String()) {
				t.Fatalf("height %v level %d: parent %q, one level up %q", h, level, par, up)
			}
			plo, phi := par.Range()
			if plo > lo+tol || phi < hi-tol {
				t.Fatalf("height %v level %d: layer [%v,%v) not inside parent [%v,%v)", h, level, lo, hi, plo, phi)
			}
		}
	}
}

func TestBeiDouHeightIndexRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 39409))
	ns := []int64{0, 1, -1, 2, -2, 668, -669, 1<<31 - 1, -(1<<31 - 1), 1 << 30, -(1 << 30)}
	for range 20000 {
		ns = append(ns, r.Int64N(1<<31)-(1<<30))
	}
	for _, n := range ns {
		h := BeiDouHeightOfIndex(n)
		got, err := BeiDouHeightIndex(h)
		if err != nil || got != n {
			t.Fatalf("BeiDouHeightIndex(BeiDouHeightOfIndex(%d) = %v) = %d, %v", n, h, got, err)
		}
		l, _ := EncodeBeiDouHeight(h, BeiDouMaxLevel)
		if first, last := l.IndexRange(); first != n || last != n {
			t.Fatalf("layer of n=%d: IndexRange %d..%d", n, first, last)
		}
	}
	// Coarser negative layers: |n| in [M·2^s, (M+1)·2^s), never n = −0.
	l, err := ParseBeiDouHeightCode("100000000")
	if err != nil {
		t.Fatal(err)
	}
	if first, last := l.IndexRange(); first != -(1<<9-1) || last != -1 {
		t.Errorf("100000000 (level 7, negative, M=0): IndexRange %d..%d, want -511..-1", first, last)
	}
	if _, top := l.Range(); top != 0 {
		t.Errorf("100000000: top %v, want 0", top)
	}
}

// TestBeiDou3DKnownVectors: GB/T 39409 Table 1 and the derived rows.
func TestBeiDou3DKnownVectors(t *testing.T) {
	tests := []struct {
		lat, lon, h float64
		level       int
		want        string
	}{
		{38.916, 121.644, 50, 4, "N051J0035040840"},
		{38.916, 121.644, 50, 10, "N051J00350408409E010166434611344"},
		{39.910278, 116.315222, -10, 10, "N150J0047050340D9010341102403415"},
		{-0.1, 0.1, 1, 10, "S031A000000066000000000001000002"},
		{39.9102778, 116.3152222, 100, 6, "N050J0047050340D9011"},
	}
	for _, tc := range tests {
		c, err := EncodeBeiDou3D(tc.lat, tc.lon, tc.h, tc.level)
		if err != nil {
			t.Fatalf("EncodeBeiDou3D(%v, %v, %v, %d): %v", tc.lat, tc.lon, tc.h, tc.level, err)
		}
		if got := c.String(); got != tc.want {
			t.Errorf("EncodeBeiDou3D(%v, %v, %v, %d) = %q, want %q", tc.lat, tc.lon, tc.h, tc.level, got, tc.want)
		}
		beidouCheck3D(t, c, tc.lat, tc.lon, tc.h)
	}

	// Table 1: the 3D example is the 2D example interleaved with an
	// all-zero height code.
	const t2, t3 = "N36J93078B3101524314", "N036J0093000780B3010010520430140"
	c2, err := ParseBeiDou(t2)
	if err != nil {
		t.Fatal(err)
	}
	c3, err := ParseBeiDou3D(t3)
	if err != nil {
		t.Fatal(err)
	}
	if c3.String() != t3 || c3.Cell2D() != c2 || c3.Height().String() != "000000000000" {
		t.Errorf("Table 1: %q parsed as 2D %q height %q", t3, c3.Cell2D(), c3.Height())
	}
	zeroH, err := ParseBeiDouHeightCode("000000000000")
	if err != nil {
		t.Fatal(err)
	}
	if built, err := NewBeiDou3D(c2, zeroH); err != nil || built != c3 {
		t.Errorf("NewBeiDou3D(Table 1 2D, zero height) = %q, %v", built, err)
	}
	// The 2D example re-encodes from its own corner (it is in the NE).
	w, s, _, _ := c2.Rect()
	if got := beidouMustEncode(t, s, w, 10).String(); got != t2 {
		t.Errorf("Table 1 corner re-encodes to %q", got)
	}
	if lo, hi := c3.HeightRange(); lo != 0 || !(hi > 0 && hi < 0.02) {
		t.Errorf("Table 1 height range [%v, %v)", lo, hi)
	}
}

// beidouCheck3D is beidouCheckCell for 3D cells.
func beidouCheck3D(t testing.TB, c BeiDou3D, lat, lon, h float64) {
	t.Helper()
	s := c.String()
	p, err := ParseBeiDou3D(s)
	if err != nil {
		t.Fatalf("ParseBeiDou3D(%q): %v", s, err)
	}
	if p != c || p.String() != s {
		t.Fatalf("3D round trip of %q: got %q", s, p)
	}
	if c.Level() != c.Cell2D().Level() || c.Level() != c.Height().Level() {
		t.Fatalf("%q: levels %d/%d/%d", s, c.Level(), c.Cell2D().Level(), c.Height().Level())
	}
	beidouCheckCell(t, c.Cell2D(), lat, lon)
	if cw, cs, ce, cn := c.Rect(); func() bool {
		w, so, e, n := c.Cell2D().Rect()
		return cw != w || cs != so || ce != e || cn != n
	}() {
		t.Fatalf("%q: 3D Rect differs from its 2D cell's", s)
	}
	lo, hi := c.HeightRange()
	tol := 1e-9 * math.Max(1, math.Abs(h))
	if !(h >= lo-tol && h < hi+tol) {
		t.Fatalf("%q: height %v not in [%v, %v)", s, h, lo, hi)
	}
	// Removing the height characters leaves the 2D code.
	var b strings.Builder
	twoD := c.Cell2D().String()
	hc := c.Height().String()
	b.WriteByte(twoD[0])
	b.WriteByte(hc[0])
	b.WriteString(twoD[1:4])
	b.WriteString(hc[1:3])
	for l := 2; l <= c.Level(); l++ {
		b.WriteString(twoD[bdLevels[l-1].len2D:bdLevels[l].len2D])
		b.WriteByte(hc[l+1])
	}
	if b.String() != s {
		t.Fatalf("%q is not the interleave of %q and %q (%q)", s, twoD, hc, b.String())
	}
	if c.Level() > 1 {
		par, ok := c.Parent()
		up, err := EncodeBeiDou3D(lat, lon, h, c.Level()-1)
		if !ok || err != nil || par != up || !strings.HasPrefix(s, par.String()) {
			t.Fatalf("%q: parent %q, one level up %q (%v)", s, par, up, err)
		}
	}
}

// TestBeiDouRoundTripRandom encodes random points at every level and checks
// the cell invariants (parse round trip, containment, nesting).
func TestBeiDouRoundTripRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(39409, 2020))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		lat := (r.Float64()*2 - 1) * 87.9999
		lon := (r.Float64()*2 - 1) * 180
		h := r.Float64()*60000 - 10000
		switch r.IntN(8) { // snap some onto coarse grid lines
		case 0:
			lat = math.Round(lat*60) / 60
			lon = math.Round(lon*60) / 60
		case 1:
			lat = math.Round(lat*3600) / 3600
			lon = math.Round(lon*3600) / 3600
		}
		for level := 1; level <= BeiDouMaxLevel; level++ {
			c, err := EncodeBeiDou3D(lat, lon, h, level)
			if err != nil {
				t.Fatalf("EncodeBeiDou3D(%v, %v, %v, %d): %v", lat, lon, h, level, err)
			}
			if got := beidouMustEncode(t, lat, lon, level); got != c.Cell2D() {
				t.Fatalf("2D and 3D encodings differ: %q vs %q", got, c.Cell2D())
			}
			if len(c.String()) != bdLevels[level].len3D || len(c.Cell2D().String()) != bdLevels[level].len2D {
				t.Fatalf("level %d lengths: %q %q", level, c, c.Cell2D())
			}
			beidouCheck3D(t, c, lat, lon, h)
		}
		beidouCheckHeight(t, h)
	}
}

func TestBeiDouTextMarshal(t *testing.T) {
	type doc struct {
		Cell BeiDou2D
		Vox  BeiDou3D
	}
	in := doc{}
	var err error
	if in.Cell, err = ParseBeiDou("N50J47539B8255346152"); err != nil {
		t.Fatal(err)
	}
	if in.Vox, err = ParseBeiDou3D("N051J0035040840"); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Cell":"N50J47539B8255346152","Vox":"N051J0035040840"}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("json round trip: %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"Cell":"N50J4"}`), &out); !errors.Is(err, ErrBeiDouSyntax) {
		t.Fatalf("bad json code: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"Vox":"N50J47"}`), &out); !errors.Is(err, ErrBeiDouSyntax) {
		t.Fatalf("bad json 3D code: %v", err)
	}
}

// TestBeiDouBadInput: every bad input returns the right error, never panics.
func TestBeiDouBadInput(t *testing.T) {
	parse2D := []struct {
		code string
		want error
	}{
		{"", ErrBeiDouSyntax},
		{"N", ErrBeiDouSyntax},
		{"N50", ErrBeiDouSyntax},
		{"N50J4", ErrBeiDouSyntax},                   // length 5
		{"N50J47539B825534615", ErrBeiDouSyntax},     // length 19
		{"N50J47539B82553461520", ErrBeiDouSyntax},   // length 21
		{"N50J47539B8255346152 ", ErrBeiDouSyntax},   // trailing space
		{" N50J47539B825534615", ErrBeiDouSyntax},    // leading space
		{"n50J", ErrBeiDouSyntax},                    // lower case
		{"N50j", ErrBeiDouSyntax},                    // lower case band
		{"X50J", ErrBeiDouSyntax},                    // hemisphere
		{"E50J", ErrBeiDouSyntax},                    // hemisphere
		{"N61J", ErrBeiDouSyntax},                    // zone > 60
		{"N99J", ErrBeiDouSyntax},                    // zone > 60
		{"N00J", ErrBeiDouPolar},                     // polar zone 00
		{"N5AJ", ErrBeiDouSyntax},                    // zone digit
		{"N-1J", ErrBeiDouSyntax},                    // zone digit
		{"N50W", ErrBeiDouSyntax},                    // band W (88°+ is polar)
		{"N500", ErrBeiDouSyntax},                    // band digit
		{"N50JC7", ErrBeiDouSyntax},                  // L2 lng 12
		{"N50J48", ErrBeiDouSyntax},                  // L2 lat 8
		{"N50J476", ErrBeiDouSyntax},                 // L3 6
		{"N50J47F39", ErrBeiDouSyntax},               // L3 F
		{"N50J475F9", ErrBeiDouSyntax},               // L4 lng F
		{"N50J4753A", ErrBeiDouSyntax},               // L4 lat A
		{"N50J47539F8", ErrBeiDouSyntax},             // L5 lng F
		{"N50J47539BF", ErrBeiDouSyntax},             // L5 lat F
		{"N50J47539B84", ErrBeiDouSyntax},            // L6 4
		{"N50J47539B8285", ErrBeiDouSyntax},          // L7 8
		{"N50J47539B825538", ErrBeiDouSyntax},        // L8 8
		{"N50J47539B82553491", ErrBeiDouSyntax},      // L9 9
		{"N50J47539B825534615A", ErrBeiDouSyntax},    // L10 A
		{"N50J 7539B8255346152", ErrBeiDouSyntax},    // space
		{"N50J47539B8255346\x0052", ErrBeiDouSyntax}, // NUL
		{"N50J４７", ErrBeiDouSyntax},                  // full-width digits (len 10)
		{"N036J00", ErrBeiDouSyntax},                 // a 3D code (length 7)
	}
	for _, tc := range parse2D {
		c, err := ParseBeiDou(tc.code)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseBeiDou(%q) = %q, %v; want %v", tc.code, c, err, tc.want)
		}
		if c != (BeiDou2D{}) {
			t.Errorf("ParseBeiDou(%q) returned non-zero %+v with error", tc.code, c)
		}
	}

	parse3D := []struct {
		code string
		want error
	}{
		{"", ErrBeiDouSyntax},
		{"N036J0", ErrBeiDouSyntax},                            // length 6
		{"N50J47539B8255346152", ErrBeiDouSyntax},              // a 2D code (len 20 = 3D L6, a0 '5')
		{"N236J00", ErrBeiDouSyntax},                           // a0 = 2
		{"N036J64", ErrBeiDouSyntax},                           // a1a2 = 64
		{"N036J0A", ErrBeiDouSyntax},                           // a1a2 digit
		{"N000J00", ErrBeiDouPolar},                            // zone 00
		{"N036W00", ErrBeiDouSyntax},                           // band W
		{"N036J00938", ErrBeiDouSyntax},                        // a3 = 8
		{"N036J00C30", ErrBeiDouSyntax},                        // L2 lng 12
		{"N036J0093002", ErrBeiDouSyntax},                      // a4 = 2
		{"N036J009300078G", ErrBeiDouSyntax},                   // a5 = G
		{"N036J0093000780B3G", ErrBeiDouSyntax},                // a6 = G
		{"N036J0093000780B3012", ErrBeiDouSyntax},              // a7 = 2
		{"N036J0093000780B3010018", ErrBeiDouSyntax},           // a8 = 8
		{"N036J0093000780B3010010520430148", ErrBeiDouSyntax},  // a11 = 8
		{"N036J0093000780B3010010520430140 ", ErrBeiDouSyntax}, // length 33
		{"N136J0093000780B3010010520430140", ErrBeiDouSyntax},  // negative zero layer
		{"n036J0093000780B3010010520430140", ErrBeiDouSyntax},  // lower case
	}
	for _, tc := range parse3D {
		c, err := ParseBeiDou3D(tc.code)
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseBeiDou3D(%q) = %q, %v; want %v", tc.code, c, err, tc.want)
		}
	}

	for _, code := range []string{"", "0", "00", "0000000000000", "200", "064", "0A0", "0008", "00002", "0000G", "000000G", "00000002", "000000008", "00000000008", "100000000000", "-00"} {
		if h, err := ParseBeiDouHeightCode(code); !errors.Is(err, ErrBeiDouSyntax) {
			t.Errorf("ParseBeiDouHeightCode(%q) = %q, %v; want ErrBeiDouSyntax", code, h, err)
		}
	}

	nan, inf := math.NaN(), math.Inf(1)
	encode := []struct {
		lat, lon float64
		level    int
		want     error
	}{
		{39, 116, 0, ErrBeiDouLevel},
		{39, 116, 11, ErrBeiDouLevel},
		{39, 116, -1, ErrBeiDouLevel},
		{nan, 116, 5, ErrBeiDouCoord},
		{39, nan, 5, ErrBeiDouCoord},
		{inf, 116, 5, ErrBeiDouCoord},
		{39, -inf, 5, ErrBeiDouCoord},
		{90.0001, 116, 5, ErrBeiDouCoord},
		{-91, 116, 5, ErrBeiDouCoord},
		{39, 180.0001, 5, ErrBeiDouCoord},
		{39, -181, 5, ErrBeiDouCoord},
		{88, 116, 5, ErrBeiDouPolar},
		{-88, 116, 5, ErrBeiDouPolar},
		{90, 0, 1, ErrBeiDouPolar},
		{87.99999999999999, 0, 10, ErrBeiDouPolar}, // snaps to 88°
	}
	for _, tc := range encode {
		c, err := EncodeBeiDou(tc.lat, tc.lon, tc.level)
		if !errors.Is(err, tc.want) || c != (BeiDou2D{}) {
			t.Errorf("EncodeBeiDou(%v, %v, %d) = %q, %v; want %v", tc.lat, tc.lon, tc.level, c, err, tc.want)
		}
		c3, err := EncodeBeiDou3D(tc.lat, tc.lon, 0, tc.level)
		if !errors.Is(err, tc.want) || c3 != (BeiDou3D{}) {
			t.Errorf("EncodeBeiDou3D(%v, %v, 0, %d) = %q, %v; want %v", tc.lat, tc.lon, tc.level, c3, err, tc.want)
		}
	}

	for _, h := range []float64{nan, inf, -inf, -BeiDouEarthRadius, -BeiDouEarthRadius - 1, -6.35e6, 1e10, math.MaxFloat64} {
		if _, err := BeiDouHeightIndex(h); !errors.Is(err, ErrBeiDouHeight) {
			t.Errorf("BeiDouHeightIndex(%v): %v; want ErrBeiDouHeight", h, err)
		}
		if _, err := BeiDouHeightCode(h); !errors.Is(err, ErrBeiDouHeight) {
			t.Errorf("BeiDouHeightCode(%v): %v; want ErrBeiDouHeight", h, err)
		}
		if _, err := EncodeBeiDou3D(39, 116, h, 10); !errors.Is(err, ErrBeiDouHeight) {
			t.Errorf("EncodeBeiDou3D(39, 116, %v, 10): %v; want ErrBeiDouHeight", h, err)
		}
	}
	if _, err := EncodeBeiDouHeight(0, 0); !errors.Is(err, ErrBeiDouLevel) {
		t.Errorf("EncodeBeiDouHeight(0, 0): %v", err)
	}
	c5 := beidouMustEncode(t, 39, 116, 5)
	h4, _ := EncodeBeiDouHeight(0, 4)
	if _, err := NewBeiDou3D(c5, h4); !errors.Is(err, ErrBeiDouLevel) {
		t.Errorf("NewBeiDou3D with levels 5 and 4: %v", err)
	}
	if _, err := NewBeiDou3D(BeiDou2D{}, BeiDouHeight{}); !errors.Is(err, ErrBeiDouLevel) {
		t.Errorf("NewBeiDou3D of zero values: %v", err)
	}
	var z3 BeiDou3D
	var zh BeiDouHeight
	if z3.String() != "" || zh.String() != "" || z3.Level() != 0 {
		t.Errorf("zero values format as %q %q", z3.String(), zh.String())
	}
	if lo, hi := zh.Range(); lo != 0 || hi != 0 {
		t.Errorf("zero height range %v %v", lo, hi)
	}
	if _, ok := z3.Parent(); ok {
		t.Error("zero 3D value has a parent")
	}
	if _, ok := zh.Parent(); ok {
		t.Error("zero height has a parent")
	}
}

// TestBeiDouNoAllocs: encoding, appending and parsing valid codes do not
// allocate (String does, once).
func TestBeiDouNoAllocs(t *testing.T) {
	var sink BeiDou3D
	allocs := testing.AllocsPerRun(200, func() {
		c, err := EncodeBeiDou3D(39.99316, 116.31260, 52.5, 10)
		if err != nil {
			panic(err)
		}
		sink = c
	})
	if allocs != 0 {
		t.Errorf("EncodeBeiDou3D allocates %v times per call", allocs)
	}
	buf := make([]byte, 0, 64)
	allocs = testing.AllocsPerRun(200, func() {
		buf, _ = sink.AppendText(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("AppendText allocates %v times per call", allocs)
	}
	allocs = testing.AllocsPerRun(200, func() {
		c2, err2 := ParseBeiDou("N50J47539B8255346152")
		c3, err3 := ParseBeiDou3D("N150J0047050340D9010341102403415")
		if err2 != nil || err3 != nil || c3.Cell2D() == c2 {
			panic("unexpected parse result")
		}
	})
	if allocs != 0 {
		t.Errorf("parsing a valid code allocates %v times per call", allocs)
	}
}

// TestBeiDouReferenceVectors checks every BeiDou cell of
// geosot_beidou_reference_vectors.csv (derived data, see SOURCES.md).
func TestBeiDouReferenceVectors(t *testing.T) {
	// GeoSOT level of each row → BeiDou level of the same cell size.
	levelOf := map[int]int{15: 4, 19: 5, 20: 6, 23: 7, 26: 8, 29: 9, 32: 10}
	rows := beidouReadCSV(t, "geosot_beidou_reference_vectors.csv")
	checked := 0
	for i, row := range rows {
		want2, want3 := row["beidou2d"], row["beidou3d"]
		if want2 == "" && want3 == "" {
			continue
		}
		g, _ := strconv.Atoi(row["level"])
		level, ok := levelOf[g]
		if !ok {
			t.Errorf("row %d (%s): BeiDou code at GeoSOT level %d", i+2, row["name"], g)
			continue
		}
		if bdLevelOfLen(len(want2), false) != level || bdLevelOfLen(len(want3), true) != level {
			t.Errorf("row %d (%s): code lengths %d/%d do not match BeiDou level %d", i+2, row["name"], len(want2), len(want3), level)
			continue
		}
		lat, lon, h := beidouFloat(t, row["lat"]), beidouFloat(t, row["lng"]), beidouFloat(t, row["height_m"])
		c, err := EncodeBeiDou3D(lat, lon, h, level)
		if err != nil {
			t.Errorf("row %d (%s): %v", i+2, row["name"], err)
			continue
		}
		if got := c.Cell2D().String(); got != want2 {
			t.Errorf("row %d (%s) level %d: 2D %q, want %q", i+2, row["name"], level, got, want2)
		}
		if got := c.String(); got != want3 {
			t.Errorf("row %d (%s) level %d: 3D %q, want %q", i+2, row["name"], level, got, want3)
		}
		beidouCheck3D(t, c, lat, lon, h)
		checked++
	}
	if checked == 0 {
		t.Fatal("no BeiDou rows in geosot_beidou_reference_vectors.csv")
	}
	t.Logf("%d BeiDou 2D+3D rows reproduced", checked)
}

// TestBeiDouHeightLayers checks geosot_beidou_height_layers.csv: n (C.12),
// the 12-character code (C.14) and the level-10 layer's lower bound (C.8).
func TestBeiDouHeightLayers(t *testing.T) {
	rows := beidouReadCSV(t, "geosot_beidou_height_layers.csv")
	for _, row := range rows {
		h := beidouFloat(t, row["height_m"])
		wantN, err := strconv.ParseInt(row["beidou_n_floor_1_2048arcsec_units"], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		wantCode := row["beidou_height_code_a0_to_a11"]
		wantLo := beidouFloat(t, row["beidou_level10_layer_lower_bound_m"])

		n, err := BeiDouHeightIndex(h)
		if err != nil || n != wantN {
			t.Errorf("height %v: n = %d, %v; want %d", h, n, err, wantN)
		}
		code, err := BeiDouHeightCode(h)
		if err != nil || code != wantCode {
			t.Errorf("height %v: code %q, %v; want %q", h, code, err, wantCode)
		}
		if lo := BeiDouHeightOfIndex(wantN); math.Abs(lo-wantLo) > 0.5e-4+1e-9 {
			t.Errorf("height %v: lower bound of layer %d = %.6f, want %.4f", h, wantN, lo, wantLo)
		}
		l, err := ParseBeiDouHeightCode(wantCode)
		if err != nil {
			t.Errorf("ParseBeiDouHeightCode(%q): %v", wantCode, err)
			continue
		}
		if first, last := l.IndexRange(); first != wantN || last != wantN {
			t.Errorf("%q: IndexRange %d..%d, want %d", wantCode, first, last, wantN)
		}
		if lo, hi := l.Range(); math.Abs(lo-wantLo) > 0.5e-4+1e-9 || !(h >= lo && h < hi) {
			t.Errorf("%q: range [%v, %v), want lower %v containing %v", wantCode, lo, hi, wantLo, h)
		}
		beidouCheckHeight(t, h)
	}
}

// TestBeiDouPublishedVectors checks the "beidou_2d" entries of
// published_vectors.json.
func TestBeiDouPublishedVectors(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(beidouDataDir(t), "published_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		BeiDou []map[string]json.RawMessage `json:"beidou_2d"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("published_vectors.json: %v", err)
	}
	if len(doc.BeiDou) == 0 {
		t.Fatal("published_vectors.json: no beidou_2d entries")
	}
	str := func(e map[string]json.RawMessage, k string) string {
		var s string
		if raw, ok := e[k]; ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		return s
	}
	levelKey := regexp.MustCompile(`^L(\d+)(_computed)?$`)
	for i, e := range doc.BeiDou {
		src := str(e, "src")
		handled := 0
		// Level-by-level vectors of one point ("dms" + "L1".."L10_computed").
		if dms := str(e, "dms"); dms != "" {
			lat, lon := beidouDMS(t, dms)
			for k := range e {
				m := levelKey.FindStringSubmatch(k)
				if m == nil {
					continue
				}
				level, _ := strconv.Atoi(m[1])
				want := str(e, k)
				c := beidouMustEncode(t, lat, lon, level)
				if got := c.String(); got != want {
					t.Errorf("entry %d (%s) %s: got %q, want %q", i, src, k, got, want)
				}
				beidouCheckCell(t, c, lat, lon)
				handled++
			}
		}
		// 8.1: several points, each at one level.
		if raw, ok := e["points"]; ok {
			var pts []map[string]string
			if err := json.Unmarshal(raw, &pts); err != nil {
				t.Fatal(err)
			}
			for _, p := range pts {
				lat, lon := beidouDMS(t, p["dms"])
				for k, want := range p {
					m := levelKey.FindStringSubmatch(k)
					if m == nil {
						continue
					}
					level, _ := strconv.Atoi(m[1])
					c := beidouMustEncode(t, lat, lon, level)
					if got := c.String(); got != want {
						t.Errorf("entry %d (%s) %s: got %q, want %q", i, src, p["dms"], got, want)
					}
					handled++
				}
			}
		}
		// Table 1: a 2D code, its 3D form, and a reference code.
		if two, three := str(e, "2d"), str(e, "3d"); two != "" && three != "" {
			c2, err := ParseBeiDou(two)
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			w, s, _, _ := c2.Rect()
			if got := beidouMustEncode(t, s, w, c2.Level()).String(); got != two {
				t.Errorf("entry %d (%s): corner of %q re-encodes to %q", i, src, two, got)
			}
			c3, err := ParseBeiDou3D(three)
			if err != nil {
				t.Fatalf("entry %d: %v", i, err)
			}
			if c3.Cell2D() != c2 || c3.Height().String() != "000000000000" || c3.String() != three {
				t.Errorf("entry %d (%s): %q is not %q with a zero height", i, src, three, two)
			}
			if got, err := EncodeBeiDou3D(s, w, 0, c2.Level()); err != nil || got != c3 {
				t.Errorf("entry %d (%s): corner at 0 m encodes to %q, %v; want %q", i, src, got, err, three)
			}
			handled++
			// The reference code (§7) starts with a level-5 2D code.
			if ref := str(e, "reference"); ref != "" {
				if _, err := ParseBeiDou(ref[:bdLevels[5].len2D]); err != nil {
					t.Errorf("entry %d: reference %q: %v", i, ref, err)
				}
			}
		}
		// Mirror rule: the same |lat|, |lon| in the other hemispheres.
		if dms := str(e, "dms_abs"); dms != "" {
			lat, lon := beidouDMS(t, dms)
			for hemi, sign := range map[string][2]float64{"NE": {1, 1}, "NW": {1, -1}, "SE": {-1, 1}, "SW": {-1, -1}} {
				want := str(e, hemi)
				if want == "" {
					continue
				}
				c := beidouMustEncode(t, sign[0]*lat, sign[1]*lon, bdLevelOfLen(len(want), false))
				if got := c.String(); got != want {
					t.Errorf("entry %d (%s) %s: got %q, want %q", i, src, hemi, got, want)
				}
				beidouCheckCell(t, c, sign[0]*lat, sign[1]*lon)
				handled++
			}
		}
		if handled == 0 {
			t.Errorf("entry %d (%s): no vector recognised; extend this test", i, src)
		}
	}
}

func BenchmarkBeiDouEncode(b *testing.B) {
	b.ReportAllocs()
	var sink BeiDou2D
	lat, lon := 39.99316, 116.31260
	for b.Loop() {
		c, err := EncodeBeiDou(lat, lon, BeiDouMaxLevel)
		if err != nil {
			b.Fatal(err)
		}
		sink = c
	}
	_ = sink
}

func BenchmarkBeiDouEncode3D(b *testing.B) {
	b.ReportAllocs()
	var sink BeiDou3D
	for b.Loop() {
		c, err := EncodeBeiDou3D(39.99316, 116.31260, 52.5, BeiDouMaxLevel)
		if err != nil {
			b.Fatal(err)
		}
		sink = c
	}
	_ = sink
}

func BenchmarkBeiDouAppendText(b *testing.B) {
	b.ReportAllocs()
	c, _ := EncodeBeiDou(39.99316, 116.31260, BeiDouMaxLevel)
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf, _ = c.AppendText(buf[:0])
	}
}

func BenchmarkBeiDouParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBeiDou("N50J47539B8255346152"); err != nil {
			b.Fatal(err)
		}
	}
}
