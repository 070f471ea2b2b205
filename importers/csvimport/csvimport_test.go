package csvimport

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// importAll imports in and returns the features the sink received.
func importAll(t *testing.T, in string, opts importers.Options, cfg Config) ([]*spatial.Feature, error) {
	t.Helper()
	if opts.Layer == "" {
		opts.Layer = "test"
	}
	var got []*spatial.Feature
	st, err := ImportConfig(strings.NewReader(in), opts, cfg, func(f *spatial.Feature) error {
		got = append(got, f)
		return nil
	})
	if st.Features != int64(len(got)) {
		t.Errorf("Import returned %+v, sink received %d features", st, len(got))
	}
	return got, err
}

// mustImport imports in and fails the test on error.
func mustImport(t *testing.T, in string, cfg Config) []*spatial.Feature {
	t.Helper()
	got, err := importAll(t, in, importers.Options{}, cfg)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return got
}

// summary formats features compactly for comparison.
func summary(fs []*spatial.Feature) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%s %v %v", f.ID, f.Geometry, f.Properties)
		if f.Height != 0 || f.Floors != 0 {
			fmt.Fprintf(&b, " h=%v f=%d", f.Height, f.Floors)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestImport(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cfg  Config
		want string
	}{
		{"lon lat", "id,name,lon,lat\n1,Xinghai,121.6,38.9\n2,Zhongshan,121.64,38.92\n", Config{},
			"1 [121.6 38.9] map[name:Xinghai]\n2 [121.64 38.92] map[name:Zhongshan]\n"},
		{"header case and spaces", " ID , Name ,LONGITUDE, Latitude\r\na, x ,121.6,38.9\r\n", Config{},
			"a [121.6 38.9] map[Name: x ]\n"},
		{"lng", "lng,lat\n121.6,38.9\n", Config{}, "1 [121.6 38.9] map[]\n"},
		{"long", "lat,long\n38.9,121.6\n", Config{}, "1 [121.6 38.9] map[]\n"},
		{"x y", "fid;x;y\n7;121.6;38.9\n", Config{}, "7 [121.6 38.9] map[]\n"},
		{"Chinese names", "名称,经度,纬度\n星海广场,121.6,38.9\n", Config{}, "1 [121.6 38.9] map[名称:星海广场]\n"},
		{"code id", "code,lon,lat\n210202,121.6,38.9\n", Config{}, "210202 [121.6 38.9] map[]\n"},
		{"id preferred over code", "code,id,lon,lat\n210202,a,121.6,38.9\n", Config{}, "a [121.6 38.9] map[code:210202]\n"},
		{"empty id", "id,lon,lat\n,121.6,38.9\n x ,121.6,38.9\n", Config{}, "1 [121.6 38.9] map[]\nx [121.6 38.9] map[]\n"},
		{"leading-zero id", "id,lon,lat\n007,121.6,38.9\n", Config{}, "007 [121.6 38.9] map[]\n"},
		{"semicolon", "name;lon;lat;note\n\"a;b\";121.6;38;x,y\n", Config{}, "1 [121.6 38] map[name:a;b note:x,y]\n"},
		{"tab", "name\tlon\tlat\na, b\t121.6\t38.9\n", Config{}, "1 [121.6 38.9] map[name:a, b]\n"},
		{"quoted separators and newlines", "name,lon,lat\n\"x, \"\"y\"\"\nz\",121.6,38.9\n", Config{}, "1 [121.6 38.9] map[name:x, \"y\"\nz]\n"},
		{"BOM", "\xEF\xBB\xBFlon,lat\n121.6,38.9\n", Config{}, "1 [121.6 38.9] map[]\n"},
		{"leading blank lines", "\n\r\nname;lon;lat\na,b;1;2\n", Config{}, "1 [1 2] map[name:a,b]\n"},
		{"blank lines", "lon,lat\n\n121.6,38.9\n\n121.7,39\n", Config{}, "1 [121.6 38.9] map[]\n2 [121.7 39] map[]\n"},
		{"no final newline", "lon,lat\n121.6,38.9", Config{}, "1 [121.6 38.9] map[]\n"},
		{"header only", "lon,lat\n", Config{}, ""},
		{"trailing separator", "lon,lat,\n121.6,38.9,\n", Config{}, "1 [121.6 38.9] map[]\n"},
		{"wkt", "id,wkt,name\n1,POINT(121.6 38.9),a\n", Config{}, "1 [121.6 38.9] map[name:a]\n"},
		{"wkt preferred, lon/lat kept", "wkt,lon,lat\nPOINT(121.6 38.9),1,2\n", Config{}, "1 [121.6 38.9] map[lat:2 lon:1]\n"},
		{"geometry column", "Geometry\n\"LINESTRING (121.6 38.9, 121.7 39)\"\n", Config{}, "1 [[121.6 38.9] [121.7 39]] map[]\n"},
		{"geom column", "geom\tname\nPOINT Z (121.6 38.9 12)\tz\n", Config{}, "1 [121.6 38.9] map[name:z]\n"},
		{"config columns", "a;b;c;key\n38.9;121.6;x;k1\n", Config{Lon: "B", Lat: "a", ID: "key"}, "k1 [121.6 38.9] map[c:x]\n"},
		{"config wkt", "shape,lon,lat\nPOINT(1 2),121.6,38.9\n", Config{WKT: "shape"}, "1 [1 2] map[lat:38.9 lon:121.6]\n"},
		{"config lon/lat over wkt", "wkt,e,n\nPOINT(1 2),121.6,38.9\n", Config{Lon: "e", Lat: "n"}, "1 [121.6 38.9] map[wkt:POINT(1 2)]\n"},
		{"config comma", "lon;lat;a,b,c\n121.6;38.9;1,2,3\n", Config{Comma: ';'}, "1 [121.6 38.9] map[a,b,c:1,2,3]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustImport(t, tt.in, tt.cfg)
			if s := summary(got); s != tt.want {
				t.Errorf("got\n%s\nwant\n%s", s, tt.want)
			}
			for _, f := range got {
				if f.Layer != "test" || f.Code.Level() == 0 {
					t.Errorf("feature %s: layer %q, code %v", f.ID, f.Layer, f.Code)
				}
			}
		})
	}
}

func TestStats(t *testing.T) {
	tests := []struct {
		in   string
		cfg  Config
		want Stats
	}{
		{"ID;名称;经度;纬度\n1;a;121.6;38.9\n", Config{}, Stats{Comma: ';', Lon: "经度", Lat: "纬度", ID: "ID", Rows: 1, Features: 1}},
		{"Geom\tname\nPOINT(1 2)\ta\nPOINT(3 4)\tb\n", Config{}, Stats{Comma: '\t', WKT: "Geom", Rows: 2, Features: 2}},
		{"a,b\n1,2\n", Config{Lon: "B", Lat: "A"}, Stats{Comma: ',', Lon: "b", Lat: "a", Rows: 1, Features: 1}},
	}
	for _, tt := range tests {
		st, err := ImportConfig(strings.NewReader(tt.in), importers.Options{Layer: "l"}, tt.cfg, func(*spatial.Feature) error { return nil })
		tt.want.Bytes = int64(len(tt.in))
		if err != nil || st != tt.want {
			t.Errorf("%q: %+v, %v; want %+v", tt.in, st, err, tt.want)
		}
	}
}

func TestInfer(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"42", int64(42)},
		{"-3", int64(-3)},
		{"0", int64(0)},
		{"-0", int64(0)},
		{" 17 ", int64(17)},
		{"2.5", 2.5},
		{"-0.5", -0.5},
		{"0.5", 0.5},
		{"1e3", 1000.0},
		{"1.5E-2", 0.015},
		{".5", 0.5},
		{"5.", 5.0},
		{"true", true},
		{"FALSE", false},
		{"True", true},
		{"", nil},
		{"   ", nil},
		{"007", "007"},
		{"0411", "0411"},
		{"-01", "-01"},
		{"00.5", "00.5"},
		{"+86", "+86"},
		{"1,234", "1,234"},
		{"NaN", "NaN"},
		{"Inf", "Inf"},
		{"0x1F", "0x1F"},
		{"1_000", "1_000"},
		{"1e400", "1e400"},
		{"99999999999999999999", "99999999999999999999"},
		{"t", "t"},
		{"yes", "yes"},
		{"12 m", "12 m"},
		{" text ", " text "},
	}
	for _, tt := range tests {
		if got := infer(tt.in); fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", tt.want) {
			t.Errorf("infer(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestTypedColumns(t *testing.T) {
	in := "id,lon,lat,Height,building:levels,levels,valid_from,VALID_TO,note\n" +
		"a,121.6,38.9,24.5,8,3,2020-01-02T03:04:05+08:00,2030-06-01,x\n" +
		"b,121.6,38.9,30 m,,2,,,\n" +
		"c,121.6,38.9,,,,,,\n"
	got := mustImport(t, in, Config{})
	a, b, c := got[0], got[1], got[2]
	if a.Height != 24.5 || a.Floors != 8 || fmt.Sprint(a.Properties) != "map[levels:3 note:x]" {
		t.Errorf("a: height %v floors %d properties %v", a.Height, a.Floors, a.Properties)
	}
	from := time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("", 8*3600))
	if !a.ValidFrom.Equal(from) || !a.ValidTo.Equal(time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a: valid %v – %v", a.ValidFrom, a.ValidTo)
	}
	if b.Height != 30 || b.Floors != 2 || b.Properties != nil {
		t.Errorf("b: height %v floors %d properties %v", b.Height, b.Floors, b.Properties)
	}
	if c.Height != 0 || c.Floors != 0 || c.Properties != nil || !c.ValidFrom.IsZero() {
		t.Errorf("c: %+v", c)
	}
}

func TestWKT(t *testing.T) {
	r := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}
	h := orb.Ring{{0.2, 0.1}, {0.8, 0.1}, {0.8, 0.7}, {0.2, 0.1}}
	tests := []struct {
		wkt  string
		want orb.Geometry
	}{
		{"POINT(1 2)", orb.Point{1, 2}},
		{"point (1 2)", orb.Point{1, 2}},
		{"  Point\t( 1.5e1\t-2 )  ", orb.Point{15, -2}},
		{"POINT Z (1 2 3)", orb.Point{1, 2}},
		{"POINT ZM (1 2 3 4)", orb.Point{1, 2}},
		{"POINT M (1 2 3)", orb.Point{1, 2}},
		{"POINTZ(1 2 3)", orb.Point{1, 2}},
		{"POINT(1 2 3)", orb.Point{1, 2}},
		{"LINESTRING(0 0,1 1)", orb.LineString{{0, 0}, {1, 1}}},
		{"LINESTRING Z (0 0 5, 1 1 6)", orb.LineString{{0, 0}, {1, 1}}},
		{"LineString(0  0 ,\n 1   1)", orb.LineString{{0, 0}, {1, 1}}},
		{"POLYGON((0 0,1 0,1 1,0 0))", orb.Polygon{r}},
		{"POLYGON ((0 0, 1 0, 1 1, 0 0), (0.2 0.1, 0.8 0.1, 0.8 0.7, 0.2 0.1))", orb.Polygon{r, h}},
		{"MULTIPOINT((1 2),(3 4))", orb.MultiPoint{{1, 2}, {3, 4}}},
		{"MULTIPOINT (1 2, 3 4)", orb.MultiPoint{{1, 2}, {3, 4}}},
		{"MULTIPOINT Z (1 2 9, (3 4 9))", orb.MultiPoint{{1, 2}, {3, 4}}},
		{"MULTILINESTRING((0 0,1 1),(2 2,3 3,4 4))", orb.MultiLineString{{{0, 0}, {1, 1}}, {{2, 2}, {3, 3}, {4, 4}}}},
		{"MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((0 0,1 0,1 1,0 0),(0.2 0.1,0.8 0.1,0.8 0.7,0.2 0.1)))", orb.MultiPolygon{{r}, {r, h}}},
		{"MULTIPOLYGON Z (((0 0 1,1 0 1,1 1 1,0 0 1)))", orb.MultiPolygon{{r}}},
		{"GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1),GEOMETRYCOLLECTION(POINT Z (3 4 5)))",
			orb.Collection{orb.Point{1, 2}, orb.LineString{{0, 0}, {1, 1}}, orb.Collection{orb.Point{3, 4}}}},
		{"SRID=4326;POINT(1 2)", orb.Point{1, 2}},
	}
	for _, tt := range tests {
		g, _, _, err := parseWKT(tt.wkt, nil)
		if err != nil {
			t.Errorf("%q: %v", tt.wkt, err)
			continue
		}
		if !orb.Equal(g, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.wkt, g, tt.want)
		}
	}
}

func TestWKTErrors(t *testing.T) {
	tests := []struct{ wkt, want string }{
		{"", `WKT character 1: want a geometry type (POINT,`},
		{"CIRCLE(1 2)", `WKT character 1: want a geometry type (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION), got "CIRCLE"`},
		{"POINT EMPTY", `WKT character 7: POINT EMPTY: features need a geometry`},
		{"LINESTRING EMPTY", `LINESTRING EMPTY: features need a geometry`},
		{"POINT(1)", `WKT character 8: want a number, got ")"`},
		{"POINT(1 2", `WKT character 10: want ')', got end of text`},
		{"POINT(1 2 3 4 5)", `WKT character 15: want ')', got "5"`},
		{"POINT(1 2 x)", `WKT character 11: want ')', got "x"`},
		{"POINT(1 x)", `WKT character 9: want a number, got "x"`},
		{"POINT(1 NaN)", `WKT character 9: want a number, got "NaN"`},
		{"POINT(1 2) junk", `WKT character 12: unexpected "junk" after the geometry`},
		{"POINT(1 2),", `WKT character 11: unexpected "," after the geometry`},
		{"POLYGON(0 0,1 0,1 1,0 0)", `WKT character 9: want '(', got "0"`},
		{"POLYGON((0 0,1 0,1 1,0 0)", `want ')', got end of text`},
		{"LINESTRING(1 2,,3 4)", `WKT character 16: want a number, got ","`},
		{"MULTIPOLYGON((0 0,1 0,1 1,0 0))", `WKT character 15: want '(', got "0"`},
		{"SRID=abc;POINT(1 2)", `bad SRID "abc"`},
		{"SRID=4326 POINT(1 2)", `EWKT "SRID=" without ";"`},
		{strings.Repeat("GEOMETRYCOLLECTION(", 40) + "POINT(1 2)" + strings.Repeat(")", 40), "nested more than 32 deep"},
	}
	for _, tt := range tests {
		_, _, _, err := parseWKT(tt.wkt, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.wkt, err, tt.want)
		}
	}
}

func TestCRS(t *testing.T) {
	gk, err := crs.Lookup("EPSG:4550")
	if err != nil {
		t.Fatal(err)
	}
	x, y, err := gk.FromWGS84(121.6, 38.9)
	if err != nil {
		t.Fatal(err)
	}
	near := func(t *testing.T, p orb.Point) {
		t.Helper()
		if math.Abs(p[0]-121.6) > 1e-8 || math.Abs(p[1]-38.9) > 1e-8 {
			t.Errorf("got %.10f %.10f, want 121.6 38.9", p[0], p[1])
		}
	}
	in := fmt.Sprintf("x,y\n%.3f,%.3f\n", x, y)
	got, err := importAll(t, in, importers.Options{CRS: gk}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, got[0].Geometry.(orb.Point))

	in = fmt.Sprintf("wkt\n\"POLYGON ((%[1]f %[2]f, %[3]f %[2]f, %[3]f %[4]f, %[1]f %[2]f))\"\n", x, y, x+40, y+25)
	got, err = importAll(t, in, importers.Options{CRS: gk}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, got[0].Geometry.(orb.Polygon)[0][0])

	in = fmt.Sprintf("wkt\nSRID=4550;POINT(%f %f)\nSRID=4550;GEOMETRYCOLLECTION(POINT(%[1]f %[2]f))\n", x, y)
	got = mustImport(t, in, Config{})
	near(t, got[0].Geometry.(orb.Point))
	near(t, got[1].Geometry.(orb.Collection)[0].(orb.Point))

	// Options.CRS overrides the SRID.
	in = fmt.Sprintf("wkt\nSRID=4326;POINT(%f %f)\n", x, y)
	got, err = importAll(t, in, importers.Options{CRS: gk}, Config{})
	if err != nil {
		t.Fatal(err)
	}
	near(t, got[0].Geometry.(orb.Point))
}

// errCase is an input that must fail at the first byte of at (1:1 when
// at is empty).
type errCase struct {
	name    string
	in      string
	cfg     Config
	at      string
	feature int
	msg     string
	is      error
}

func TestErrors(t *testing.T) {
	tests := []errCase{
		{"bad latitude", "id;lon;lat\n1;121.6;38.9\n2;121.6;38.9N\n", Config{}, "38.9N", 2, `column "lat": "38.9N" is not a number`, importers.ErrFormat},
		{"empty longitude", "lon,lat\n121.6,38.9\n,38.9\n", Config{}, "\n,38.9", 2, `column "lon": no value`, importers.ErrFormat},
		{"latitude out of range", "lon,lat\n121.6,98.9\n", Config{}, "121.6,98", 1, "invalid feature: test/1: coordinate [121.6, 98.9] is not a longitude/latitude in degrees", spatial.ErrInvalid},
		{"projected without CRS", "x,y\n380000,4300000\n", Config{}, "380000", 1, "(projected coordinates? set Options.CRS)", spatial.ErrInvalid},
		{"bad WKT", "id,wkt\n1,POINT(1 2)\n2,\"POLYGON((0 0,1 0,1 1)\"\n", Config{}, `"POLYGON`, 2, `column "wkt": WKT character 22: want ')', got end of text`, importers.ErrFormat},
		{"unclosed ring", "id,wkt\nr,\"POLYGON((0 0,1 0,1 1,0 1))\"\n", Config{}, `"POLYGON`, 1, "invalid feature: test/r: ring 0: ring not closed", spatial.ErrInvalid},
		{"unknown SRID", "wkt\nSRID=2000;POINT(1 2)\n", Config{}, "SRID", 1, `column "wkt": crs: unknown coordinate reference system "EPSG:2000"`, crs.ErrUnknownCRS},
		{"GK out of range", "wkt\nSRID=4550;POINT(9e12 4300000)\n", Config{}, "SRID", 1, `column "wkt": [9e+12, 4.3e+06] in EPSG:4550: crs:`, crs.ErrOutOfRange},
		{"bad height", "lon,lat,height\n1,2,3\n1,2,tall\n", Config{}, "tall", 2, `column "height": "tall" is not a height in metres`, nil},
		{"fractional floors", "lon,lat,Floors\n1,2,2.5\n", Config{}, "2.5", 1, `column "Floors": 2.5 is not a whole number`, nil},
		{"bad valid_from", "lon,lat,valid_from\n1,2,yesterday\n", Config{}, "yesterday", 1, `column "valid_from": "yesterday" is not an RFC 3339 time`, nil},
		{"negative height", "lon,lat,height\n1,2,-4\n", Config{}, "1,2,-4", 1, "invalid feature: test/1: height -4", spatial.ErrInvalid},
		{"too few fields", "lon,lat,name\n1,2,a\n1,2\n", Config{}, "\n1,2\n", 2, "csv: wrong number of fields: the header has 3", importers.ErrFormat},
		{"bare quote", "lon,lat,name\n1,2,a\"b\n", Config{}, "\"b", 1, `csv: bare " in non-quoted-field`, importers.ErrFormat},
		{"unterminated quote", "lon,lat,name\n1,2,\"abc\n", Config{}, "", 1, `csv: extraneous or missing " in quoted-field`, importers.ErrFormat},
		{"no geometry columns", "name,value\na,1\n", Config{}, "name", 0, `no geometry columns in the header ["name" "value"]: want longitude and latitude (lon, lng, long, longitude, x, 经度 / lat, latitude, y, 纬度) or WKT (wkt, geometry, geom)`, importers.ErrFormat},
		{"latitude column missing", "lon,name\n1,a\n", Config{}, "lon", 0, "no geometry columns", importers.ErrFormat},
		{"duplicate column", "lon,lat,Name,name\n1,2,a,b\n", Config{}, "name", 0, `column "name": duplicate column name`, importers.ErrFormat},
		{"missing configured column", "lon,lat\n1,2\n", Config{ID: "key"}, "lon", 0, `no column "key" in the header ["lon" "lat"]`, importers.ErrFormat},
		{"empty input", "", Config{}, "", 0, "empty input: no header line", importers.ErrFormat},
		{"BOM only", "\xEF\xBB\xBF", Config{}, "", 0, "empty input", importers.ErrFormat},
		{"BOM and no geometry", "\xEF\xBB\xBFname\n", Config{}, "name", 0, "no geometry columns", importers.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importAll(t, tt.in, importers.Options{File: "bad.csv"}, tt.cfg)
			checkErr(t, tt, err)
		})
	}
}

// checkErr checks that err is an *importers.Error at the case's position.
func checkErr(t *testing.T, tt errCase, err error) {
	t.Helper()
	var e *importers.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v, want *importers.Error", err, err)
	}
	line, col := 1, 1
	if tt.at != "" {
		i := strings.Index(tt.in, tt.at)
		if i < 0 {
			t.Fatalf("bad test: %q not in input", tt.at)
		}
		if tt.in[i] == '\n' || tt.in[i] == ',' {
			i++ // the field after the separator
		}
		line = strings.Count(tt.in[:i], "\n") + 1
		col = i - strings.LastIndexByte(tt.in[:i], '\n')
	}
	switch tt.name {
	case "unterminated quote":
		line, col = 2, 10 // where encoding/csv reports it
	case "BOM only":
		line, col = 1, 4 // after the byte order mark
	}
	if e.File != "bad.csv" || e.Line != line || e.Column != col || e.Feature != tt.feature {
		t.Errorf("error %v\nat %s:%d:%d feature %d, want %d:%d feature %d", err, e.File, e.Line, e.Column, e.Feature, line, col, tt.feature)
	}
	if !strings.Contains(err.Error(), tt.msg) {
		t.Errorf("error %q does not contain %q", err, tt.msg)
	}
	if tt.is != nil && !errors.Is(err, tt.is) {
		t.Errorf("error %v is not %v", err, tt.is)
	}
}

func TestErrorMessage(t *testing.T) {
	in := "id;name;lon;lat\n"
	for i := 1; i <= 10; i++ {
		in += fmt.Sprintf("%d;stop %d;121.6%d;38.9%d\n", i, i, i, i)
	}
	in += "11;stop 11;121.61;38.9N\n"
	_, err := importAll(t, in, importers.Options{File: "points.csv"}, Config{})
	want := `points.csv:12:19: feature 11: column "lat": "38.9N" is not a number`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestOptionsAndSink(t *testing.T) {
	sink := func(*spatial.Feature) error { return nil }
	in := "lon,lat\n1,2\n3,4\n"
	var layer string
	if _, err := Import(strings.NewReader(in), importers.Options{}, func(f *spatial.Feature) error { layer = f.Layer; return nil }); err != nil || layer != DefaultLayer {
		t.Errorf("no layer: layer %q, %v", layer, err)
	}
	if _, err := Import(strings.NewReader(in), importers.Options{Layer: "l"}, nil); err == nil || !strings.Contains(err.Error(), "nil reader or sink") {
		t.Errorf("nil sink: %v", err)
	}
	if _, err := Import(nil, importers.Options{Layer: "l"}, sink); err == nil || !strings.Contains(err.Error(), "nil reader or sink") {
		t.Errorf("nil reader: %v", err)
	}
	if _, err := ImportConfig(strings.NewReader(in), importers.Options{Layer: "l"}, Config{Comma: '"'}, sink); err == nil || !strings.Contains(err.Error(), "invalid separator") {
		t.Errorf("bad separator: %v", err)
	}
	stop := errors.New("stop")
	st, err := Import(strings.NewReader(in), importers.Options{File: "s.csv", Layer: "l"}, func(f *spatial.Feature) error {
		if f.ID == "2" {
			return stop
		}
		return nil
	})
	var e *importers.Error
	if st.Features != 1 || st.Rows != 2 || !errors.Is(err, stop) || !errors.As(err, &e) || e.Line != 3 || e.Column != 1 || e.Feature != 2 {
		t.Errorf("sink error: %+v, %v", st, err)
	}
	boom := errors.New("disk on fire")
	for _, in := range []string{"", "lon,lat", "lon,lat\n", "lon,lat\n1,2\n3,"} {
		r := io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom))
		if _, err := Import(r, importers.Options{Layer: "l"}, sink); !errors.Is(err, boom) || !errors.As(err, &e) || e.Line < 1 {
			t.Errorf("read error after %q: %v", in, err)
		}
	}
}

func TestSmallReads(t *testing.T) {
	in := "\xEF\xBB\xBFname;lon;lat\n\"a;b\";121.6;38.9\nc;121.7;39\n"
	for _, r := range []io.Reader{iotest.OneByteReader(strings.NewReader(in)), iotest.HalfReader(strings.NewReader(in))} {
		var got []*spatial.Feature
		_, err := Import(r, importers.Options{Layer: "l"}, func(f *spatial.Feature) error {
			got = append(got, f)
			return nil
		})
		if err != nil || summary(got) != "1 [121.6 38.9] map[name:a;b]\n2 [121.7 39] map[name:c]\n" {
			t.Errorf("got %s, %v", summary(got), err)
		}
	}
}

func TestProgress(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,lon,lat\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "%d,121.%04d,38.9\n", i, i)
	}
	in := b.String()
	var reports []importers.Progress
	opts := importers.Options{File: "p.csv", Layer: "l", Total: int64(len(in)), Progress: func(p importers.Progress) { reports = append(reports, p) }}
	st, err := Import(strings.NewReader(in), opts, func(*spatial.Feature) error { return nil })
	if err != nil || st.Features != 5000 || st.Rows != 5000 || st.Bytes != int64(len(in)) {
		t.Fatal(st, err)
	}
	if len(reports) != 2 || reports[0].Features != 4096 || reports[1].Features != 5000 || reports[1].Bytes != int64(len(in)) {
		t.Errorf("reports %+v", reports)
	}
}
