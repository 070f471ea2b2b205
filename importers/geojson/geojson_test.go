package geojson

import (
	"bytes"
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
func importAll(t *testing.T, in string, opts importers.Options) ([]*spatial.Feature, error) {
	t.Helper()
	if opts.Layer == "" {
		opts.Layer = "test"
	}
	var got []*spatial.Feature
	st, err := Import(strings.NewReader(in), opts, func(f *spatial.Feature) error {
		got = append(got, f)
		return nil
	})
	if st.Features != int64(len(got)) || st.Bytes != int64(len(in)) && err == nil {
		t.Errorf("Import returned %+v, sink received %d features", st, len(got))
	}
	return got, err
}

// mustImport imports in and fails the test on error.
func mustImport(t *testing.T, in string, opts importers.Options) []*spatial.Feature {
	t.Helper()
	got, err := importAll(t, in, opts)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	return got
}

const (
	pointA   = `{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[121.6,38.9]},"properties":{"name":"A"}}`
	pointB   = `{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[121.7,39.0]},"properties":{"name":"B"}}`
	squareFC = `{"type":"Feature","id":"sq","geometry":{"type":"Polygon","coordinates":[[[121.6,38.9],[121.61,38.9],[121.61,38.91],[121.6,38.91],[121.6,38.9]]]}}`
)

func TestInputForms(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantIDs []string
	}{
		{"FeatureCollection", `{"type":"FeatureCollection","features":[` + pointA + "," + pointB + `]}`, []string{"a", "b"}},
		{"FeatureCollection members reordered", `{"features":[` + pointA + `],"bbox":[1,2,3,4],"type":"FeatureCollection","name":"x"}`, []string{"a"}},
		{"empty FeatureCollection", `{"type":"FeatureCollection","features":[]}`, nil},
		{"pretty-printed CRLF", "{\r\n  \"type\": \"FeatureCollection\",\r\n  \"features\": [\r\n    " + pointA + "\r\n  ]\r\n}\r\n", []string{"a"}},
		{"NDJSON", pointA + "\n" + pointB + "\n", []string{"a", "b"}},
		{"NDJSON without final newline", pointA + "\n" + pointB, []string{"a", "b"}},
		{"NDJSON blank lines", "\n" + pointA + "\n\n" + pointB + "\n\n", []string{"a", "b"}},
		{"RFC 8142 sequence", "\x1e" + pointA + "\n\x1e" + pointB + "\n", []string{"a", "b"}},
		{"RFC 8142 after white space", " \n\x1e" + pointA + "\n\x1e" + squareFC + "\n", []string{"a", "sq"}},
		{"bare Feature", pointA, []string{"a"}},
		{"bare Feature members reordered", `{"properties":{"id":"p"},"geometry":{"coordinates":[121.6,38.9],"type":"Point"},"type":"Feature"}`, []string{"p"}},
		{"bare geometry", `{"type":"Point","coordinates":[121.6,38.9]}`, []string{"1"}},
		{"bare geometries NDJSON", `{"type":"Point","coordinates":[121.6,38.9]}` + "\n" + `{"type":"LineString","coordinates":[[121.6,38.9],[121.7,39]]}`, []string{"1", "2"}},
		{"array of Features", "[" + pointA + "," + pointB + "]", []string{"a", "b"}},
		{"byte order mark", "\xEF\xBB\xBF" + `{"type":"FeatureCollection","features":[` + pointA + `]}`, []string{"a"}},
		{"byte order mark NDJSON", "\xEF\xBB\xBF" + pointA + "\n" + pointB, []string{"a", "b"}},
		{"sequence of collections", `{"type":"FeatureCollection","features":[` + pointA + "]}\n" + `{"type":"FeatureCollection","features":[` + pointB + "," + squareFC + "]}", []string{"a", "b", "sq"}},
		{"Feature with a foreign features member", `{"type":"Feature","features":[1],"geometry":{"type":"Point","coordinates":[1,2]}}`, []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustImport(t, tt.in, importers.Options{})
			var ids []string
			for _, f := range got {
				ids = append(ids, f.ID)
				if f.Layer != "test" {
					t.Errorf("feature %s: layer %q", f.ID, f.Layer)
				}
				if f.Code.Level() == 0 && f.Code.Bits() == 0 {
					t.Errorf("feature %s: grid code not set (Prepare not called?)", f.ID)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestGeometryTypes(t *testing.T) {
	ring := `[[121.6,38.9],[121.61,38.9],[121.61,38.91],[121.6,38.91],[121.6,38.9]]`
	hole := `[[121.602,38.902],[121.603,38.902],[121.603,38.903],[121.602,38.902]]`
	r := orb.Ring{{121.6, 38.9}, {121.61, 38.9}, {121.61, 38.91}, {121.6, 38.91}, {121.6, 38.9}}
	h := orb.Ring{{121.602, 38.902}, {121.603, 38.902}, {121.603, 38.903}, {121.602, 38.902}}
	tests := []struct {
		geom string
		want orb.Geometry
	}{
		{`{"type":"Point","coordinates":[121.6,38.9]}`, orb.Point{121.6, 38.9}},
		{`{"type":"Point","coordinates":[121.6,38.9,12.5,7]}`, orb.Point{121.6, 38.9}},
		{`{"type":"MultiPoint","coordinates":[[121.6,38.9],[121.7,39,3]]}`, orb.MultiPoint{{121.6, 38.9}, {121.7, 39}}},
		{`{"type":"LineString","coordinates":[[121.6,38.9],[121.7,39]]}`, orb.LineString{{121.6, 38.9}, {121.7, 39}}},
		{`{"type":"MultiLineString","coordinates":[[[121.6,38.9],[121.7,39]],[[1,2],[3,4],[5,6]]]}`, orb.MultiLineString{{{121.6, 38.9}, {121.7, 39}}, {{1, 2}, {3, 4}, {5, 6}}}},
		{`{"type":"Polygon","coordinates":[` + ring + `]}`, orb.Polygon{r}},
		{`{"type":"Polygon","coordinates":[` + ring + "," + hole + `]}`, orb.Polygon{r, h}},
		{`{"type":"MultiPolygon","coordinates":[[` + ring + "," + hole + `],[` + ring + `]]}`, orb.MultiPolygon{{r, h}, {r}}},
		{`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"Polygon","coordinates":[` + ring + `]},{"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":[[1,2],[3,4]]}]}]}`,
			orb.Collection{orb.Point{1, 2}, orb.Polygon{r}, orb.Collection{orb.LineString{{1, 2}, {3, 4}}}}},
		{`{"coordinates":[121.6,38.9],"type":"Point"}`, orb.Point{121.6, 38.9}},
		{`{"coordinates":[` + ring + `],"bbox":[0,0,1,1],"type":"Polygon"}`, orb.Polygon{r}},
		{`{"type":"Point","coordinates":[ 1.5e2 , -3.25E1 ]}`, orb.Point{150, -32.5}},
	}
	for _, tt := range tests {
		in := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + tt.geom + `}]}`
		got := mustImport(t, in, importers.Options{})
		if len(got) != 1 {
			t.Fatalf("%s: %d features", tt.geom, len(got))
		}
		if !orb.Equal(got[0].Geometry, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.geom, got[0].Geometry, tt.want)
		}
		// The same geometry bare.
		bare := mustImport(t, tt.geom, importers.Options{})
		if len(bare) != 1 || !orb.Equal(bare[0].Geometry, tt.want) {
			t.Errorf("bare %s: got %v", tt.geom, bare)
		}
	}
}

func TestIDs(t *testing.T) {
	feature := func(id, props string) string {
		if id != "" {
			id = `"id":` + id + ","
		}
		return `{"type":"Feature",` + id + `"geometry":{"type":"Point","coordinates":[1,2]},"properties":` + props + `}`
	}
	tests := []struct {
		id, props, want string
	}{
		{`"way/123"`, `null`, "way/123"},
		{`12`, `null`, "12"},
		{`-7`, `null`, "-7"},
		{`12.5`, `null`, "12.5"},
		{`12.0`, `null`, "12"},
		{`1e3`, `null`, "1000"},
		{`9007199254740993`, `null`, "9007199254740993"},
		{`"\u5927\u8fde"`, `null`, "大连"},
		{``, `null`, "3"},
		{`null`, `{}`, "3"},
		{`""`, `{}`, "3"},
		{``, `{"id":"p-1"}`, "p-1"},
		{``, `{"id":42}`, "42"},
		{``, `{"id":true}`, "3"},
		{``, `{"id":""}`, "3"},
		{`"m"`, `{"id":"p"}`, "m"},
	}
	for _, tt := range tests {
		// The feature is the third, so a missing id becomes "3".
		in := "[" + pointA + "," + pointB + "," + feature(tt.id, tt.props) + "]"
		got := mustImport(t, in, importers.Options{})
		if len(got) != 3 || got[2].ID != tt.want {
			t.Errorf("id %s properties %s: got %q, want %q", tt.id, tt.props, got[2].ID, tt.want)
		}
	}
}

func TestProperties(t *testing.T) {
	in := `{"type":"Feature","geometry":{"type":"Point","coordinates":[121.6,38.9,-12.5]},"properties":{
		"name":"\u661f\u6d77\u5e7f\u573a \"Xinghai\"", "int":42, "big":9223372036854775808, "neg":-3, "float":2.5, "exp":1e2,
		"yes":true, "no":false, "gone":null, "nested":{"a":[1,2.5,"x",null,{"b":false}]},
		"height":"24.5 m", "building:levels":"8", "levels":3, "valid_from":"2020-01-02T03:04:05+08:00", "valid_to":"2030-06-01",
		"z":"replaced"}}`
	got := mustImport(t, in, importers.Options{})[0]
	want := map[string]any{
		"name":   `星海广场 "Xinghai"`,
		"int":    int64(42),
		"big":    9223372036854775808.0,
		"neg":    int64(-3),
		"float":  2.5,
		"exp":    100.0,
		"yes":    true,
		"no":     false,
		"nested": map[string]any{"a": []any{int64(1), 2.5, "x", nil, map[string]any{"b": false}}},
		"levels": int64(3),
		"z":      -12.5,
	}
	if fmt.Sprintf("%#v", got.Properties) != fmt.Sprintf("%#v", want) {
		t.Errorf("properties\n got %#v\nwant %#v", got.Properties, want)
	}
	if got.Height != 24.5 || got.Floors != 8 {
		t.Errorf("height %v floors %d, want 24.5 and 8", got.Height, got.Floors)
	}
	from := time.Date(2020, 1, 2, 3, 4, 5, 0, time.FixedZone("", 8*3600))
	to := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	if !got.ValidFrom.Equal(from) || !got.ValidTo.Equal(to) {
		t.Errorf("valid %v – %v, want %v – %v", got.ValidFrom, got.ValidTo, from, to)
	}
}

func TestTypedProperties(t *testing.T) {
	tests := []struct {
		props  string
		height float64
		floors int
		left   string // the properties left, formatted
	}{
		{`{"height":12}`, 12, 0, "map[]"},
		{`{"height":12.75}`, 12.75, 0, "map[]"},
		{`{"height":"30"}`, 30, 0, "map[]"},
		{`{"height":" 30.5m "}`, 30.5, 0, "map[]"},
		{`{"height":"1e1 m"}`, 10, 0, "map[]"},
		{`{"floors":5}`, 0, 5, "map[]"},
		{`{"floors":5.0}`, 0, 5, "map[]"},
		{`{"floors":"6"}`, 0, 6, "map[]"},
		{`{"building:levels":7}`, 0, 7, "map[]"},
		{`{"levels":"2"}`, 0, 2, "map[]"},
		{`{"floors":4,"building:levels":9,"levels":1}`, 0, 4, "map[building:levels:9 levels:1]"},
		{`{"building:levels":9,"levels":1}`, 0, 9, "map[levels:1]"},
		{`{"height":null,"floors":null}`, 0, 0, "map[]"},
		{`{"name":"x","height":3,"floors":1}`, 3, 1, "map[name:x]"},
	}
	for _, tt := range tests {
		in := `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":` + tt.props + `}`
		got := mustImport(t, in, importers.Options{})[0]
		if got.Height != tt.height || got.Floors != tt.floors || fmt.Sprint(got.Properties) != tt.left {
			t.Errorf("%s: height %v floors %d properties %v; want %v %d %s", tt.props, got.Height, got.Floors, got.Properties, tt.height, tt.floors, tt.left)
		}
		if tt.left == "map[]" && got.Properties != nil {
			t.Errorf("%s: properties %#v, want nil", tt.props, got.Properties)
		}
	}
}

// dalianGK returns the EPSG:4550 (CGCS2000 GK CM 123E) coordinates of a
// point near central Dalian.
func dalianGK(t *testing.T, lon, lat float64) (gk crs.CRS, x, y float64) {
	t.Helper()
	gk, err := crs.Lookup("EPSG:4550")
	if err != nil {
		t.Fatal(err)
	}
	x, y, err = gk.FromWGS84(lon, lat)
	if err != nil {
		t.Fatal(err)
	}
	return gk, x, y
}

func TestCRS(t *testing.T) {
	gk, x, y := dalianGK(t, 121.6, 38.9)
	if x > 400000 || x < 350000 || y < 4.3e6 || y > 4.31e6 {
		t.Fatalf("EPSG:4550 of 121.6E 38.9N = %.3f, %.3f: not the expected Gauss-Kruger easting/northing", x, y)
	}
	pt := fmt.Sprintf("[%.3f,%.3f]", x, y)
	gkPoint := `{"type":"Feature","geometry":{"type":"Point","coordinates":` + pt + `}}`
	name := func(n string) string { return `{"type":"name","properties":{"name":"` + n + `"}}` }
	tests := []struct {
		name    string
		in      string
		opts    importers.Options
		lon     float64
		lat     float64
		epsilon float64
	}{
		{"EPSG:4490 urn", `{"type":"FeatureCollection","crs":` + name("urn:ogc:def:crs:EPSG::4490") + `,"features":[` + pointA + `]}`, importers.Options{}, 121.6, 38.9, 0},
		{"CRS84", `{"type":"FeatureCollection","crs":` + name("urn:ogc:def:crs:OGC:1.3:CRS84") + `,"features":[` + pointA + `]}`, importers.Options{}, 121.6, 38.9, 0},
		{"null crs", `{"type":"FeatureCollection","crs":null,"features":[` + pointA + `]}`, importers.Options{}, 121.6, 38.9, 0},
		{"GK collection", `{"type":"FeatureCollection","crs":` + name("urn:ogc:def:crs:EPSG::4550") + `,"features":[` + gkPoint + `]}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"GK EPSG code form", `{"type":"FeatureCollection","crs":{"type":"EPSG","properties":{"code":4550}},"features":[` + gkPoint + `]}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"GK option", `{"type":"FeatureCollection","features":[` + gkPoint + `]}`, importers.Options{CRS: gk}, 121.6, 38.9, 1e-8},
		{"option overrides member", `{"type":"FeatureCollection","crs":` + name("EPSG:4326") + `,"features":[` + gkPoint + `]}`, importers.Options{CRS: gk}, 121.6, 38.9, 1e-8},
		{"feature crs overrides collection", `{"type":"FeatureCollection","crs":` + name("EPSG:4326") + `,"features":[{"type":"Feature","crs":` + name("EPSG:4550") + `,"geometry":{"type":"Point","coordinates":` + pt + `}}]}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"geometry crs overrides feature", `{"type":"Feature","crs":` + name("EPSG:4326") + `,"geometry":{"crs":` + name("EPSG:4550") + `,"type":"Point","coordinates":` + pt + `}}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"crs of a bare geometry", `{"type":"Point","coordinates":` + pt + `,"crs":` + name("EPSG:4550") + `}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"crs at the end of a bare Feature", `{"type":"Feature","geometry":{"type":"Point","coordinates":` + pt + `},"crs":` + name("EPSG:4550") + `}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"crs in NDJSON", `{"type":"Feature","crs":` + name("EPSG:4550") + `,"geometry":{"type":"Point","coordinates":` + pt + "}}\n" + `{"type":"Feature","crs":` + name("EPSG:4550") + `,"geometry":{"type":"Point","coordinates":` + pt + `}}`, importers.Options{}, 121.6, 38.9, 1e-8},
		{"collection crs does not reach the next text", `{"type":"FeatureCollection","crs":` + name("EPSG:4550") + `,"features":[` + gkPoint + "]}\n" + pointA, importers.Options{}, 121.6, 38.9, 1e-8},
		{"lon/lat crs after features", `{"type":"FeatureCollection","features":[` + pointA + `],"crs":` + name("EPSG:4490") + `}`, importers.Options{}, 121.6, 38.9, 0},
		{"GK crs after features with option", `{"type":"FeatureCollection","features":[` + gkPoint + `],"crs":` + name("EPSG:4550") + `}`, importers.Options{CRS: gk}, 121.6, 38.9, 1e-8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustImport(t, tt.in, tt.opts)
			if len(got) == 0 {
				t.Fatal("no features")
			}
			for _, f := range got {
				p := f.Geometry.(orb.Point)
				if math.Abs(p[0]-tt.lon) > tt.epsilon || math.Abs(p[1]-tt.lat) > tt.epsilon {
					t.Errorf("got %.10f, %.10f, want %v, %v ± %g", p[0], p[1], tt.lon, tt.lat, tt.epsilon)
				}
			}
		})
	}
}

func TestCRSPolygon(t *testing.T) {
	// A building footprint surveyed in Gauss–Krüger metres (EPSG:4550)
	// near Dalian's Xinghai Square, 121.6E 38.9N.
	_, x, y := dalianGK(t, 121.6, 38.9)
	in := fmt.Sprintf(`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4550"}},"features":[
{"type":"Feature","id":"b1","properties":{"height":"36"},"geometry":{"type":"MultiPolygon","coordinates":[[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[3]f,%[4]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]]}}]}`,
		x, y, x+40, y+25)
	got := mustImport(t, in, importers.Options{})
	mp := got[0].Geometry.(orb.MultiPolygon)
	r := mp[0][0]
	if len(r) != 5 || r[0] != r[4] {
		t.Fatalf("ring %v", r)
	}
	if math.Abs(r[0][0]-121.6) > 1e-8 || math.Abs(r[0][1]-38.9) > 1e-8 {
		t.Errorf("first corner %v, want 121.6 38.9", r[0])
	}
	// 40 m east is about 0.00046 degrees of longitude at 38.9N, 25 m north
	// about 0.000225 degrees of latitude.
	if d := r[1][0] - r[0][0]; math.Abs(d-40/(111320*math.Cos(38.9*math.Pi/180))) > 2e-6 {
		t.Errorf("40 m east = %v degrees", d)
	}
	if d := r[2][1] - r[1][1]; math.Abs(d-25/111030.0) > 2e-6 {
		t.Errorf("25 m north = %v degrees", d)
	}
	if got[0].Height != 36 {
		t.Errorf("height %v", got[0].Height)
	}
}

// errCase is an input that must fail at the first byte of the occurrence
// of at (the end of the input when at is empty).
type errCase struct {
	name    string
	in      string
	at      string
	feature int
	msg     string // substring of the error message
	is      error  // errors.Is target, or nil
}

// lastOf marks an errCase.at that means the last occurrence, not the
// first.
const lastOf = "\x00last\x00"

// position returns the 1-based line and column of offset i in s.
func position(s string, i int) (int, int) {
	line := strings.Count(s[:i], "\n") + 1
	return line, i - strings.LastIndexByte(s[:i], '\n')
}

// checkErr checks that err is an *importers.Error at the case's position.
func checkErr(t *testing.T, tt errCase, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error")
	}
	var e *importers.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v, want *importers.Error", err, err)
	}
	i := len(tt.in)
	if tt.at != "" {
		i = strings.Index(tt.in, tt.at)
		if at, ok := strings.CutPrefix(tt.at, lastOf); ok {
			i = strings.LastIndex(tt.in, at)
		}
		if i < 0 {
			t.Fatalf("bad test: %q not in input", tt.at)
		}
	}
	line, col := position(tt.in, i)
	if e.File != "bad.geojson" || e.Line != line || e.Column != col || e.Feature != tt.feature {
		t.Errorf("error %v\nat %s:%d:%d feature %d, want %d:%d feature %d", err, e.File, e.Line, e.Column, e.Feature, line, col, tt.feature)
	}
	if !strings.Contains(err.Error(), tt.msg) {
		t.Errorf("error %q does not contain %q", err, tt.msg)
	}
	if tt.is != nil && !errors.Is(err, tt.is) {
		t.Errorf("error %v is not %v", err, tt.is)
	}
}

func TestErrors(t *testing.T) {
	fc := func(features ...string) string {
		return "{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n    " + strings.Join(features, ",\n    ") + "\n  ]\n}\n"
	}
	open := `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[121.6,38.9],[121.61,38.9],[121.61,38.91],[121.6,38.91]]]}}`
	point := func(coords string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":` + coords + `}}`
	}
	withProps := func(props string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":` + props + `}`
	}
	gkName := `{"type":"name","properties":{"name":"EPSG:4550"}}`
	tests := []errCase{
		{"unclosed ring", fc(pointA, pointB, open), `{"type":"Polygon"`, 3, "invalid feature: test/3: ring 0: ring not closed", spatial.ErrInvalid},
		{"short ring", fc(`{"type":"Feature","id":"x","geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4],[1,2]]]}}`), `{"type":"Polygon"`, 1, "test/x: ring 0: ring with 3 points", spatial.ErrInvalid},
		{"coordinate is a string", fc(pointA, point(`[121.6,"38.9"]`)), `"38.9"`, 2, "a position must be an array of numbers, got a string", importers.ErrFormat},
		{"one number", fc(point(`[121.6]`)), `[121.6]`, 1, "a position needs at least 2 numbers, got 1", importers.ErrFormat},
		{"empty position", fc(point(`[]`)), `[]`, 1, "a position needs at least 2 numbers, got 0", importers.ErrFormat},
		{"position not an array", fc(`{"type":"Feature","geometry":{"type":"LineString","coordinates":[121.6,38.9]}}`), `121.6,38.9`, 1, "a position must be an array of numbers, got a number", importers.ErrFormat},
		{"polygon one level short", fc(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[121.6,38.9],[1,2]]}}`), `121.6,38.9]`, 1, "a position must be an array", importers.ErrFormat},
		{"number out of range", fc(point(`[1e400,2]`)), `1e400`, 1, "number 1e400 is out of range", importers.ErrFormat},
		{"not lon/lat", fc(point(`[400,2]`)), `{"type":"Point"`, 1, "coordinate [400, 2] is not a longitude/latitude in degrees (projected coordinates?", spatial.ErrInvalid},
		{"truncated in a feature", `{"type":"FeatureCollection","features":[` + pointA + `,{"type":"Feature","geometry":{"type":"Poi`, "", 2, "unexpected end of input (truncated JSON)", importers.ErrFormat},
		{"truncated after a feature", `{"type":"FeatureCollection","features":[` + pointA + "\n", "", 0, "unexpected end of input", importers.ErrFormat},
		{"truncated after features", `{"type":"FeatureCollection","features":[` + pointA + `]`, "", 0, "unexpected end of input", importers.ErrFormat},
		{"truncated bare Feature", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,`, "", 0, "unexpected end of input", importers.ErrFormat},
		{"geometry type Foo", fc(pointA, `{"type":"Feature","geometry":{"type":"Foo","coordinates":[1,2]}}`), `"Foo"`, 2, `unknown geometry type "Foo" (want Point,`, importers.ErrFormat},
		{"top-level type Foo", `{"type":"Foo","features":[]}`, `"Foo"`, 0, `unknown GeoJSON type "Foo"`, importers.ErrFormat},
		{"feature type Point", fc(`{"type":"Point","coordinates":[1,2]}`), `"Point"`, 1, `a features array holds type "Point", want "Feature"`, importers.ErrFormat},
		{"feature without type", fc(pointA, `{"geometry":{"type":"Point","coordinates":[1,2]}}`), `{"geometry"`, 2, `the feature has no "type" member`, importers.ErrFormat},
		{"type not a string", fc(`{"type":1,"geometry":null}`), `1,"geometry"`, 1, `"type" must be a string, got a number`, importers.ErrFormat},
		{"missing geometry", fc(pointA, `{"type":"Feature","properties":{}}`), `{"type":"Feature","properties"`, 2, "invalid feature: the feature has no geometry", spatial.ErrInvalid},
		{"null geometry", fc(`{"type":"Feature","geometry":null,"properties":{}}`), `null`, 1, "null geometries are rejected", spatial.ErrInvalid},
		{"geometry not an object", fc(`{"type":"Feature","geometry":[1,2]}`), `[1,2]`, 1, `"geometry" must be an object or null, got an array`, importers.ErrFormat},
		{"geometry without type", fc(`{"type":"Feature","geometry":{"coordinates":[1,2]}}`), `{"coordinates"`, 1, `geometry object has no "type" member`, importers.ErrFormat},
		{"Point without coordinates", fc(`{"type":"Feature","geometry":{"type":"Point"}}`), `{"type":"Point"}`, 1, `Point has no "coordinates"`, importers.ErrFormat},
		{"GeometryCollection without geometries", fc(`{"type":"Feature","geometry":{"type":"GeometryCollection"}}`), `{"type":"GeometryCollection"}`, 1, `GeometryCollection has no "geometries" array`, importers.ErrFormat},
		{"GeometryCollection member", fc(`{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]},{"type":"Point","coordinates":[1]}]}}`), `[1]}`, 1, "at least 2 numbers", importers.ErrFormat},
		{"empty GeometryCollection", fc(`{"type":"Feature","geometry":{"type":"GeometryCollection","geometries":[]}}`), `{"type":"GeometryCollection"`, 1, "empty GeometryCollection", spatial.ErrInvalid},
		{"bad literal", fc(pointA, `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"ok":tru}}`), "}}\n  ]", 2, "invalid JSON: invalid character '}' in literal true (expecting 'e')", importers.ErrFormat},
		{"missing comma", `{"type":"FeatureCollection","features":[` + pointA + "\n " + pointB + `]}`, pointB, 2, "invalid JSON: expected comma after array element", importers.ErrFormat},
		{"trailing comma", `{"type":"FeatureCollection","features":[` + pointA + `,]}`, lastOf + `]}`, 2, "invalid JSON: invalid character ']' looking for beginning of value", importers.ErrFormat},
		{"features not an array", `{"type":"FeatureCollection","features":{"a":1}}`, `{"a"`, 0, `"features" must be an array, got {`, importers.ErrFormat},
		{"bad height", fc(withProps(`{"height":"tall"}`)), `"tall"`, 1, `property "height": "tall" is not a height in metres`, nil},
		{"height bool", fc(withProps(`{"height":true}`)), `true`, 1, `property "height": want a number of metres, got a boolean`, nil},
		{"negative height", fc(withProps(`{"height":-3}`)), `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"prop`, 1, "invalid feature: test/1: height -3", spatial.ErrInvalid},
		{"fractional floors", fc(withProps(`{"name":"x","floors":2.5}`)), `2.5`, 1, `property "floors": 2.5 is not a whole number`, nil},
		{"bad building:levels", fc(withProps(`{"building:levels":"3;4"}`)), `"3;4"`, 1, `property "building:levels": "3;4" is not a whole number`, nil},
		{"bad valid_from", fc(withProps(`{"valid_from":"yesterday"}`)), `"yesterday"`, 1, `property "valid_from": "yesterday" is not an RFC 3339 time`, nil},
		{"valid_to number", fc(withProps(`{"valid_to":2020}`)), `2020`, 1, `property "valid_to": want an RFC 3339 time string, got a number`, nil},
		{"valid_to before valid_from", fc(withProps(`{"valid_from":"2024-01-01","valid_to":"2023-01-01"}`)), `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"prop`, 1, "valid-to 2023-01-01T00:00:00Z is not after valid-from", spatial.ErrInvalid},
		{"id is a boolean", fc(`{"type":"Feature","id":true,"geometry":{"type":"Point","coordinates":[1,2]}}`), `true`, 1, `"id" must be a string or a number, got a boolean`, importers.ErrFormat},
		{"properties an array", fc(withProps(`[1]`)), `[1]}`, 1, `"properties" must be an object or null, got an array`, importers.ErrFormat},
		{"empty input", ``, "", 0, "no GeoJSON: the input is empty", importers.ErrFormat},
		{"white space only", " \n\t\n", "", 0, "no GeoJSON: the input is empty", importers.ErrFormat},
		{"top-level string", "\n  \"FeatureCollection\"", `"Feat`, 0, "the input is a string, want a GeoJSON object", importers.ErrFormat},
		{"top-level number", `12`, `12`, 0, "the input is a number", importers.ErrFormat},
		{"unknown crs", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:2000"}},"features":[]}`, `{"type":"name"`, 0, `"crs" member: crs: unknown coordinate reference system "EPSG:2000"`, crs.ErrUnknownCRS},
		{"linked crs", `{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"x"}},"features":[]}`, `{"type":"link"`, 0, `"crs" of type "link" is not supported`, importers.ErrFormat},
		{"bad crs", `{"type":"FeatureCollection","crs":{"type":3},"features":[]}`, `{"type":3}`, 0, `bad "crs" member`, importers.ErrFormat},
		{"feature crs unknown", fc(`{"type":"Feature","crs":{"type":"name","properties":{"name":"nowhere"}},"geometry":{"type":"Point","coordinates":[1,2]}}`), `{"type":"name"`, 1, `unknown coordinate reference system "nowhere"`, crs.ErrUnknownCRS},
		{"GK out of range", `{"type":"FeatureCollection","crs":` + gkName + `,"features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[380000,4300000],[9e12,4300000]]}}]}`, `[[380000`, 1, "position 1: [9e+12, 4.3e+06] in EPSG:4550: crs:", crs.ErrOutOfRange},
		{"crs after features", `{"type":"FeatureCollection","features":[` + pointA + `],"crs":` + gkName + `}`, gkName, 0, `"crs" EPSG:4550 comes after "features": put it first, or set Options.CRS`, importers.ErrFormat},
		{"collection without features", `{"type":"FeatureCollection","bbox":[1,2,3,4]}`, `"FeatureCollection"`, 0, `FeatureCollection has no "features" array`, importers.ErrFormat},
		{"object without type", `{"features":[],"name":"x"}`, `}`, 0, `the object has no "type" member`, importers.ErrFormat},
		{"features before Feature type", `{"features":[],"type":"Feature"}`, `"Feature"`, 0, `a Feature cannot have a "features" member`, importers.ErrFormat},
		{"syntax error in a bare Feature", "{\"type\": \"Feature\",\n \"geometry\": {\"type\": \"Point\", \"coordinates\": [1, x]}}", `x]`, 0, "invalid JSON: invalid character 'x' looking for beginning of value", importers.ErrFormat},
		{"syntax error in a member name", "{\"type\": \"Feature\", geometry: null}", `geometry`, 0, "invalid JSON: invalid character 'g' looking for beginning of object key string", importers.ErrFormat},
		{"syntax error in NDJSON", pointA + "\n" + `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]]}`, lastOf + `]}`, 2, "invalid JSON: invalid character ']' after object key:value pair", importers.ErrFormat},
		{"NDJSON garbage line", pointA + "\n" + pointB + "\nnot json\n", `ot json`, 3, "invalid JSON: invalid character 'o' in literal null", importers.ErrFormat},
		{"NDJSON bad feature", pointA + "\n" + pointB + "\n" + `{"type":"Feature","geometry":{"type":"Point","coordinates":[1]}}` + "\n", `[1]}`, 3, "a position needs at least 2 numbers", importers.ErrFormat},
		{"NDJSON unknown type", pointA + "\n" + `{"type":"Foo"}`, `"Foo"`, 2, `unknown GeoJSON type "Foo"`, importers.ErrFormat},
		{"NDJSON array", pointA + "\n[1]", `[1]`, 2, "a GeoJSON text sequence holds an array, want a GeoJSON object", importers.ErrFormat},
		{"RS sequence bad text", "\x1e" + pointA + "\n\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[\"x\",1]}}\n", `"x"`, 2, "a position must be an array of numbers, got a string", importers.ErrFormat},
		{"stray RS", pointA + "\n\x1e" + pointB, "\x1e", 2, `invalid JSON: invalid character '\x1e' looking for beginning of value`, importers.ErrFormat},
		{"garbage after collection", `{"type":"FeatureCollection","features":[]} ]`, lastOf + `]`, 0, "invalid JSON: invalid character ']' looking for beginning of value", importers.ErrFormat},
		{"top-level array of geometries", `[{"type":"Point","coordinates":[1,2]}]`, `"Point"`, 1, `a features array holds type "Point", want "Feature"`, importers.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := importAll(t, tt.in, importers.Options{File: "bad.geojson"})
			checkErr(t, tt, err)
		})
	}
}

func TestErrorMessage(t *testing.T) {
	// The feature on line 12, column 5 is the third; its ring is not
	// closed.
	in := `{
  "type": "FeatureCollection",
  "features": [
    {"type": "Feature", "id": "b1", "geometry": {"type": "Point", "coordinates": [121.6, 38.9]}},
    {"type": "Feature", "id": "b2", "geometry": {"type": "Point", "coordinates": [121.6, 38.9]}},
    {
      "type": "Feature",
      "id": 3,
      "properties": {"valid_from": "2024-01-01", "valid_to": "2020-01-01"},
      "geometry": {"type": "Point", "coordinates": [121.6, 38.9]}
    },
    {
      "type": "Feature",
      "id": 4,
      "geometry": {
        "type": "Polygon",
        "coordinates": [[[121.6, 38.9], [121.7, 38.9], [121.7, 39.0], [121.6, 39.1]]]
      }
    }
  ]
}`
	_, err := importAll(t, in, importers.Options{File: "sample.geojson", Layer: "buildings"})
	want := "sample.geojson:6:5: feature 3: invalid feature: buildings/3: valid-to 2020-01-01T00:00:00Z is not after valid-from 2024-01-01T00:00:00Z"
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
	in = strings.Replace(in, `"2020-01-01"`, `"2025-01-01"`, 1)
	_, err = importAll(t, in, importers.Options{File: "sample.geojson", Layer: "buildings"})
	want = "sample.geojson:15:19: feature 4: invalid feature: buildings/4: ring 0: ring not closed (first point differs from last)"
	if err == nil || err.Error() != want {
		t.Errorf("error\n %v\nwant\n %s", err, want)
	}
}

// TestPositionsFarIntoTheInput checks line counting after thousands of
// features have passed (and their newlines been forgotten).
func TestPositionsFarIntoTheInput(t *testing.T) {
	data := generated(2000, 12) // feature i (0-based) is on line i+1
	body := strings.TrimSuffix(string(data), "]}\n")
	bad := `{"type":"Feature","geometry":{"type":"Point","coordinates":[121.6,"x"]}}`
	in := body + ",\n" + bad + "]}\n"
	tt := errCase{in: in, at: `"x"]`, feature: 2001, msg: "a position must be an array of numbers"}
	for name, r := range map[string]func() io.Reader{
		"bytes":    func() io.Reader { return strings.NewReader(in) },
		"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
		"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
	} {
		t.Run(name, func(t *testing.T) {
			st, err := Import(r(), importers.Options{File: "bad.geojson", Layer: "b"}, func(*spatial.Feature) error { return nil })
			if st.Features != 2000 || st.Vertices != 2000*13 {
				t.Errorf("%+v before the error, want 2000 features, 26000 vertices", st)
			}
			checkErr(t, tt, err)
			var e *importers.Error
			if errors.As(err, &e) && (e.Line != 2001 || e.Column != 67) {
				t.Errorf("at %d:%d, want 2001:67", e.Line, e.Column)
			}
		})
	}
}

func TestSmallReads(t *testing.T) {
	inputs := []string{
		"\xEF\xBB\xBF" + `{"type":"FeatureCollection","features":[` + pointA + "," + pointB + `]}`,
		"\x1e" + pointA + "\n\x1e" + pointB + "\n",
		"\xEF\xBB\xBF\x1e" + pointA + "\n\x1e" + pointB + "\n",
		pointA + "\r\n" + pointB,
	}
	for _, in := range inputs {
		for _, r := range []io.Reader{iotest.OneByteReader(strings.NewReader(in)), iotest.DataErrReader(strings.NewReader(in))} {
			var ids []string
			_, err := Import(r, importers.Options{Layer: "l"}, func(f *spatial.Feature) error {
				ids = append(ids, f.ID)
				return nil
			})
			if err != nil || fmt.Sprint(ids) != "[a b]" {
				t.Errorf("%q: ids %v, error %v", in, ids, err)
			}
		}
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	in := `{"type":"FeatureCollection","features":[` + pointA + ","
	r := io.MultiReader(strings.NewReader(in), iotest.ErrReader(boom))
	st, err := Import(r, importers.Options{File: "x.geojson", Layer: "l"}, func(*spatial.Feature) error { return nil })
	var e *importers.Error
	if st.Features != 1 || st.Bytes != int64(len(in)) || !errors.Is(err, boom) || !errors.As(err, &e) || e.Line != 1 || e.Column != len(in)+1 {
		t.Errorf("%+v, error %v (%#v)", st, err, e)
	}
}

func TestSinkError(t *testing.T) {
	stop := errors.New("stop here")
	in := "[\n" + pointA + ",\n" + pointB + ",\n" + squareFC + "\n]"
	var seen int
	st, err := Import(strings.NewReader(in), importers.Options{File: "x.geojson", Layer: "l"}, func(f *spatial.Feature) error {
		seen++
		if f.ID == "b" {
			return stop
		}
		return nil
	})
	var e *importers.Error
	if st.Features != 1 || seen != 2 || !errors.Is(err, stop) || !errors.As(err, &e) || e.Line != 3 || e.Column != 1 || e.Feature != 2 {
		t.Errorf("%+v seen %d error %v", st, seen, err)
	}
}

func TestOptions(t *testing.T) {
	var layer string
	sink := func(f *spatial.Feature) error { layer = f.Layer; return nil }
	if _, err := Import(strings.NewReader(pointA), importers.Options{File: "f"}, sink); err != nil || layer != DefaultLayer {
		t.Errorf("no layer: layer %q, %v", layer, err)
	}
	var e *importers.Error
	if _, err := Import(strings.NewReader(pointA), importers.Options{Layer: "l"}, nil); !errors.As(err, &e) || !strings.Contains(err.Error(), "nil reader or sink") {
		t.Errorf("nil sink: %v", err)
	}
	if _, err := Import(nil, importers.Options{Layer: "l"}, sink); !errors.As(err, &e) || !strings.Contains(err.Error(), "nil reader or sink") {
		t.Errorf("nil reader: %v", err)
	}
}

func TestStats(t *testing.T) {
	gk, x, y := dalianGK(t, 121.6, 38.9)
	gkPoint := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%f,%f]}}`, x, y)
	tests := []struct {
		in   string
		opts importers.Options
		want Stats
	}{
		{`{"type":"FeatureCollection","features":[` + pointA + "," + squareFC + `]}`, importers.Options{}, Stats{Form: "FeatureCollection", CRS: "EPSG:4326", Features: 2, Vertices: 6}},
		{`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4550"}},"features":[` + gkPoint + `]}`, importers.Options{}, Stats{Form: "FeatureCollection", CRS: "EPSG:4550", Features: 1, Vertices: 1}},
		{`{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4326"}},"features":[` + gkPoint + `]}`, importers.Options{CRS: gk}, Stats{Form: "FeatureCollection", CRS: "EPSG:4550", Features: 1, Vertices: 1}},
		{squareFC, importers.Options{}, Stats{Form: "Feature", CRS: "EPSG:4326", Features: 1, Vertices: 5}},
		{`{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}`, importers.Options{}, Stats{Form: "Geometry", CRS: "EPSG:4326", Features: 1, Vertices: 2}},
		{"[" + pointA + "]", importers.Options{}, Stats{Form: "array", CRS: "EPSG:4326", Features: 1, Vertices: 1}},
		{pointA + "\n" + pointB, importers.Options{}, Stats{Form: "sequence", CRS: "EPSG:4326", Features: 2, Vertices: 2}},
	}
	for _, tt := range tests {
		tt.opts.Layer = "l"
		st, err := Import(strings.NewReader(tt.in), tt.opts, func(*spatial.Feature) error { return nil })
		tt.want.Bytes = int64(len(tt.in))
		if err != nil || st != tt.want {
			t.Errorf("%.60s…: %+v, %v; want %+v", tt.in, st, err, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	data := generated(10000, 4)
	var reports []importers.Progress
	opts := importers.Options{File: "gen.geojson", Layer: "b", Total: int64(len(data)), Progress: func(p importers.Progress) { reports = append(reports, p) }}
	st, err := Import(bytes.NewReader(data), opts, func(*spatial.Feature) error { return nil })
	if err != nil || st.Features != 10000 {
		t.Fatalf("%+v, error %v", st, err)
	}
	if len(reports) != 3 {
		t.Fatalf("%d reports, want 3 (4096, 8192, end): %v", len(reports), reports)
	}
	for i, p := range reports[:2] {
		if p.Features != int64(4096*(i+1)) || p.Bytes <= 0 || p.Bytes > p.Total || p.File != "gen.geojson" {
			t.Errorf("report %d: %+v", i, p)
		}
	}
	if last := reports[2]; last.Features != 10000 || last.Bytes != int64(len(data)) || last.Total != int64(len(data)) {
		t.Errorf("last report %+v", last)
	}
}

func TestFeaturesAreIndependent(t *testing.T) {
	// Features must not alias the decoder's buffer: check them after the
	// whole input has been read.
	var got []*spatial.Feature
	data := generated(300, 5)
	_, err := Import(bytes.NewReader(data), importers.Options{Layer: "b"}, func(f *spatial.Feature) error {
		got = append(got, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range got {
		if f.ID != fmt.Sprintf("b%d", i) || f.Properties["name"] != fmt.Sprintf("Building %d", i) || f.Floors != 1+i%30 {
			t.Fatalf("feature %d: %+v", i, f)
		}
		if r := f.Geometry.(orb.Polygon)[0]; len(r) != 6 || r[0] != r[5] {
			t.Fatalf("feature %d ring %v", i, r)
		}
	}
}
