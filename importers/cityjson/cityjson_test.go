package cityjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// lod1Feature writes a CityJSONFeature line holding one LoD1 block
// building with semantics: integer vertices (x0, y0) … (x0+w, y0+d), 0 … h.
func lod1Feature(b *bytes.Buffer, id string, x0, y0, w, d, h int64) {
	fmt.Fprintf(b, `{"type":"CityJSONFeature","id":%q,"CityObjects":{%q:{"type":"Building","attributes":{"storeysAboveGround":4,"function":"residential"},`+
		`"geometry":[{"type":"Solid","lod":"1.2","boundaries":[[[[0,3,2,1]],[[4,5,6,7]],[[0,1,5,4]],[[1,2,6,5]],[[2,3,7,6]],[[3,0,4,7]]]],`+
		`"semantics":{"surfaces":[{"type":"GroundSurface"},{"type":"RoofSurface"},{"type":"WallSurface"}],"values":[[0,1,2,2,2,2]]}}]}},`+
		`"vertices":[[%d,%d,0],[%d,%d,0],[%d,%d,0],[%d,%d,0],[%d,%d,%d],[%d,%d,%d],[%d,%d,%d],[%d,%d,%d]]}`+"\n",
		id, id, x0, y0, x0+w, y0, x0+w, y0+d, x0, y0+d, x0, y0, h, x0+w, y0, h, x0+w, y0+d, h, x0, y0+d, h)
}

// seqHeader is a CityJSONSeq first line with a millimetre transform.
func seqHeader(b *bytes.Buffer, ref string, tx, ty float64) {
	fmt.Fprintf(b, `{"type":"CityJSON","version":"2.0","transform":{"scale":[0.001,0.001,0.001],"translate":[%v,%v,0]},"metadata":{"referenceSystem":%q},"CityObjects":{},"vertices":[]}`+"\n", tx, ty, ref)
}

func collect(t *testing.T, input string, opts importers.Options) ([]*spatial.Feature, Stats, error) {
	t.Helper()
	var feats []*spatial.Feature
	st, err := Import(strings.NewReader(input), opts, func(f *spatial.Feature) error {
		feats = append(feats, f)
		return nil
	})
	return feats, st, err
}

func TestSeqGaussKrugerBuilding(t *testing.T) {
	gk, err := crs.Lookup("EPSG:4549")
	if err != nil {
		t.Fatal(err)
	}
	e0, n0, err := gk.FromWGS84(120.5, 38.9)
	if err != nil {
		t.Fatal(err)
	}
	e0, n0 = math.Round(e0), math.Round(n0)
	var b bytes.Buffer
	seqHeader(&b, "https://www.opengis.net/def/crs/EPSG/0/4549", e0, n0)
	lod1Feature(&b, "b1", 0, 0, 10000, 20000, 12500)
	lod1Feature(&b, "b2", 50000, 0, 8000, 8000, 3000)
	feats, st, err := collect(t, b.String(), importers.Options{File: "gk.city.jsonl", Layer: "buildings"})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Seq || st.CRS != "EPSG:4549" || st.Vertices != 16 || len(feats) != 2 {
		t.Fatalf("stats %+v, %d features", st, len(feats))
	}
	f := feats[0]
	if f.Layer != "buildings" || f.ID != "b1" || f.Height != 12.5 || f.Floors != 4 {
		t.Fatalf("feature %s/%s height %v floors %d", f.Layer, f.ID, f.Height, f.Floors)
	}
	if err := f.Clone().Prepare(); err != nil {
		t.Fatal(err)
	}
	poly, ok := f.Geometry.(orb.Polygon)
	if !ok || len(poly) != 1 || len(poly[0]) != 5 || poly[0].Orientation() != orb.CCW {
		t.Fatalf("footprint %v", f.Geometry)
	}
	if f.Properties[PropFootprint] != "ground" || f.Properties[PropLoD] != "1.2" || f.Properties[PropFeature] != "b1" ||
		f.Properties["function"] != "residential" || f.Properties[PropType] != "Building" {
		t.Fatalf("properties %v", f.Properties)
	}
	want := map[string]any{"GroundSurface": 1, "RoofSurface": 1, "WallSurface": 4}
	if !reflect.DeepEqual(f.Properties[PropSemantics], want) {
		t.Errorf("semantics %v", f.Properties[PropSemantics])
	}
	// Corners back in Gauss-Krüger metres: exact to well under a millimetre.
	corners := map[[2]float64]bool{{e0, n0}: true, {e0 + 10, n0}: true, {e0 + 10, n0 + 20}: true, {e0, n0 + 20}: true}
	for _, p := range poly[0][:4] {
		x, y, err := gk.FromWGS84(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for c := range corners {
			if math.Abs(x-c[0]) < 1e-6 && math.Abs(y-c[1]) < 1e-6 {
				found = true
			}
		}
		if !found {
			t.Errorf("corner %v -> (%v, %v) is not a building corner", p, x, y)
		}
	}
	// The 3D geometry keeps all 8 vertices with heights.
	coords := geometryCoords(t, f)
	if len(coords) != 24 {
		t.Fatalf("%d coordinates in %s", len(coords), PropGeometry)
	}
	zs := map[float64]bool{}
	for _, c := range coords {
		zs[c[2]] = true
	}
	if !reflect.DeepEqual(zs, map[float64]bool{0: true, 12.5: true}) {
		t.Errorf("heights %v", zs)
	}
}

// hierarchyDoc is a plain file whose CityObjects precede the vertices:
// a building with a storey (no geometry) holding a room, a unit (no
// geometry, no children), and a geometry-less building of two parts.
const hierarchyDoc = `{"type":"CityJSON","version":"2.0",
"CityObjects":{
 "s1":{"type":"BuildingStorey","parents":["b"],"children":["r1"],"attributes":{"storeyNumber":1}},
 "b":{"type":"Building","children":["s1","u1"],"geometry":[{"type":"Solid","lod":"1","boundaries":[[[[0,3,2,1]],[[4,5,6,7]],[[0,1,5,4]],[[1,2,6,5]],[[2,3,7,6]],[[3,0,4,7]]]]}]},
 "u1":{"type":"BuildingUnit","parents":["b"]},
 "r1":{"type":"BuildingRoom","parents":["s1"],"geometry":[{"type":"MultiSurface","lod":"2","boundaries":[[[8,11,10,9]],[[12,13,14,15]]]}]},
 "b2":{"type":"Building","children":["p1","p2"],"attributes":{"measuredHeight":9.5}},
 "p1":{"type":"BuildingPart","parents":["b2"],"geometry":[{"type":"MultiSurface","lod":"0","boundaries":[[[16,17,18,19]]]}]},
 "p2":{"type":"BuildingPart","parents":["b2"],"geometry":[{"type":"MultiSurface","lod":"0","boundaries":[[[20,21,22,23]]]}]}
},
"vertices":[
 [0,0,0],[1000,0,0],[1000,1000,0],[0,1000,0],[0,0,9000],[1000,0,9000],[1000,1000,9000],[0,1000,9000],
 [100,100,0],[400,100,0],[400,400,0],[100,400,0],[100,100,3000],[400,100,3000],[400,400,3000],[100,400,3000],
 [2000,0,0],[3000,0,0],[3000,1000,0],[2000,1000,0],[3000,0,0],[4000,0,0],[4000,1000,0],[3000,1000,0]
],
"transform":{"scale":[0.0001,0.0001,0.001],"translate":[121.6,38.9,10]},
"metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/4326"}}`

func TestHierarchy(t *testing.T) {
	for _, mode := range []string{"seekable", "stream"} {
		t.Run(mode, func(t *testing.T) {
			var r io.Reader = strings.NewReader(hierarchyDoc)
			if mode == "stream" {
				r = iotest.HalfReader(r)
			}
			var feats []*spatial.Feature
			st, err := Import(r, importers.Options{}, func(f *spatial.Feature) error { feats = append(feats, f); return nil })
			if err != nil {
				t.Fatal(err)
			}
			by := map[string]*spatial.Feature{}
			for _, f := range feats {
				by[f.ID] = f
				if err := f.Clone().Prepare(); err != nil {
					t.Errorf("%s: %v", f.ID, err)
				}
			}
			if len(feats) != 7 || st.NoGeometry != 0 {
				t.Fatalf("%d features, %d without geometry", len(feats), st.NoGeometry)
			}
			// Located objects come first, parked ones at the end in input order.
			var order []string
			for _, f := range feats {
				order = append(order, f.ID)
			}
			if !reflect.DeepEqual(order, []string{"b", "r1", "p1", "p2", "s1", "u1", "b2"}) {
				t.Errorf("order %v", order)
			}
			if by["s1"].Properties[PropFootprint] != "children" || !reflect.DeepEqual(by["s1"].Geometry, by["r1"].Geometry) || by["s1"].Height != 3 {
				t.Errorf("storey %v %v %v", by["s1"].Properties[PropFootprint], by["s1"].Geometry, by["s1"].Height)
			}
			if by["u1"].Properties[PropFootprint] != "parent" || !reflect.DeepEqual(by["u1"].Geometry, by["b"].Geometry) {
				t.Errorf("unit %v %v", by["u1"].Properties[PropFootprint], by["u1"].Geometry)
			}
			if !reflect.DeepEqual(by["u1"].Properties[PropParents], []any{"b"}) || by["s1"].Properties["storeyNumber"] != 1.0 {
				t.Errorf("unit parents %v", by["u1"].Properties)
			}
			b2 := by["b2"]
			if b2.Properties[PropFootprint] != "children" || b2.Height != 9.5 {
				t.Errorf("b2 %v height %v", b2.Properties[PropFootprint], b2.Height)
			}
			if bd := b2.Geometry.Bound(); math.Abs(bd.Min[0]-121.8) > 1e-9 || math.Abs(bd.Max[0]-122.0) > 1e-9 {
				t.Errorf("b2 bound %v", bd)
			}
			if by["b"].Height != 9 || by["b"].Properties[PropFootprint] != "lowest" || by["b"].Properties[PropZMin] != 10.0 {
				t.Errorf("b %v %v", by["b"].Height, by["b"].Properties)
			}
		})
	}
}

func TestMemberOrders(t *testing.T) {
	body := map[string]string{
		"type":        `"type":"CityJSON","version":"2.0"`,
		"transform":   `"transform":{"scale":[0.001,0.001,0.001],"translate":[121,39,0]}`,
		"metadata":    `"metadata":{"referenceSystem":"urn:ogc:def:crs:EPSG::4326"}`,
		"vertices":    `"vertices":[[0,0,0],[1000,0,0],[1000,1000,0],[0,1000,5000]]`,
		"templates":   `"geometry-templates":{"templates":[{"type":"MultiSurface","lod":"1","boundaries":[[[0,1,2]]]}],"vertices-templates":[[0,0,0],[0.001,0,0],[0,0.001,0]]}`,
		"CityObjects": `"CityObjects":{"a":{"type":"Building","geometry":[{"type":"MultiSurface","lod":"2","boundaries":[[[0,1,2,3]]]}]},"t":{"type":"SolitaryVegetationObject","geometry":[{"type":"GeometryInstance","template":0,"boundaries":[1],"transformationMatrix":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}]}}`,
	}
	orders := [][]string{
		{"type", "transform", "metadata", "vertices", "templates", "CityObjects"},
		{"type", "transform", "metadata", "vertices", "CityObjects", "templates"},
		{"type", "CityObjects", "vertices", "transform", "metadata", "templates"},
		{"CityObjects", "templates", "vertices", "metadata", "transform", "type"},
	}
	var first []*spatial.Feature
	for i, o := range orders {
		parts := make([]string, len(o))
		for j, k := range o {
			parts[j] = body[k]
		}
		doc := "{" + strings.Join(parts, ",\n") + "}"
		for _, seek := range []bool{true, false} {
			var r io.Reader = strings.NewReader(doc)
			if !seek {
				r = iotest.OneByteReader(r)
			}
			var feats []*spatial.Feature
			st, err := Import(r, importers.Options{}, func(f *spatial.Feature) error { feats = append(feats, f); return nil })
			if err != nil {
				t.Fatalf("order %v: %v", o, err)
			}
			if st.Instances != 1 || len(feats) != 2 {
				t.Fatalf("order %v: %d features, %d instances", o, len(feats), st.Instances)
			}
			sortFeatures(feats)
			if first == nil {
				first = feats
				continue
			}
			if !reflect.DeepEqual(first, feats) {
				t.Errorf("order %d (seek %v) gives different features", i, seek)
			}
		}
	}
	tree := first[1]
	if tree.ID != "t" || tree.Properties[PropFootprint] != "ground" && tree.Properties[PropFootprint] != "lowest" {
		t.Errorf("tree %v", tree.Properties)
	}
}

func sortFeatures(fs []*spatial.Feature) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].ID < fs[j-1].ID; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

func TestECEF(t *testing.T) {
	const a, invf = 6378137.0, 298.257223563
	e2 := (1 / invf) * (2 - 1/invf)
	// Dalian, a roof 45 m above the ellipsoid; and the conformance
	// vertices at full Earth radius.
	x, y, z := geodeticToECEF(121.6, 38.9, 45, a, e2)
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"CityJSON","version":"2.0","transform":{"scale":[0.001,0.001,0.001],"translate":[-6378137,-6378137,-6378137]},`+
		`"metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/4978"},"vertices":[`)
	ints := [][3]int64{
		{int64(math.Round((x + 6378137) * 1000)), int64(math.Round((y + 6378137) * 1000)), int64(math.Round((z + 6378137) * 1000))},
		{0, 0, 0}, {12756274000, 12756274000, 12756274000}, {12756274000, 0, 0}, {6378137000, 6378137000, 12756274000},
	}
	for i, v := range ints {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "[%d,%d,%d]", v[0], v[1], v[2])
	}
	b.WriteString(`],"CityObjects":{"p":{"type":"GenericCityObject","geometry":[{"type":"MultiPoint","lod":"0","boundaries":[0,1,2,3,4]}]}}}`)
	feats, st, err := collect(t, b.String(), importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.CRS != "EPSG:4978 (geocentric)" {
		t.Errorf("CRS %q", st.CRS)
	}
	got := geometryCoords(t, feats[0])
	if math.Abs(got[0][0]-121.6) > 1e-8 || math.Abs(got[0][1]-38.9) > 1e-8 || math.Abs(got[0][2]-45) > 1e-3 {
		t.Errorf("Dalian point %v", got[0])
	}
	worst := 0.0
	for i, v := range ints {
		var want [3]float64
		for k := 0; k < 3; k++ {
			want[k] = float64(v[k])*0.001 - 6378137
		}
		bx, by, bz := geodeticToECEF(got[i][0], got[i][1], got[i][2], a, e2)
		d := math.Sqrt((bx-want[0])*(bx-want[0]) + (by-want[1])*(by-want[1]) + (bz-want[2])*(bz-want[2]))
		worst = math.Max(worst, d)
	}
	if worst >= 1e-4 {
		t.Errorf("ECEF round trip drift %g m", worst)
	}
	t.Logf("ECEF -> geodetic -> ECEF worst drift %.3g m", worst)
	if _, _, _, err := ecefToGeodetic(10, 10, 10, a, e2); err == nil {
		t.Error("centre of the Earth converted")
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, input    string
		line, col, fea int
		is             error
		contains       string
	}{
		{"syntax", "{\"type\":\"CityJSON\",\"version\":\"2.0\",\"transform\":{\"scale\":[1,1,1],\"translate\":[0,0,0]},\"metadata\":{},\"vertices\":[],\n\"CityObjects\":{\n  \"a\":{\"type\":\"Building\",, \"x\":1}}}",
			3, 26, 1, importers.ErrFormat, `CityObject "a": format error: CityObject member name: expected a string, found ','`},
		{"vertex index", `{"type":"CityJSON","version":"2.0","vertices":[[0,0,0]],"CityObjects":{"a":{"type":"Building"},` + "\n" +
			`"bad":{"type":"Building","geometry":[{"type":"MultiSurface","lod":"1","boundaries":[[[0,7,0]]]}]}}}`,
			2, 89, 2, importers.ErrFormat, `CityObject "bad": format error: vertex index 7 out of range (1 vertices)`},
		{"version", `{"type":"CityJSON","version":"3.0","CityObjects":{},"vertices":[]}`, 1, 30, 0, ErrUnsupportedVersion, `"3.0"`},
		{"not cityjson", `{"type":"FeatureCollection","features":[]}`, 1, 1, 0, importers.ErrFormat, "FeatureCollection"},
		{"array", `[1,2]`, 1, 1, 0, importers.ErrFormat, "expected '{'"},
		{"empty", ``, 1, 1, 0, importers.ErrFormat, "empty input"},
		{"utm", `{"type":"CityJSON","version":"2.0","metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/32650"},"CityObjects":{},"vertices":[]}`,
			1, 47, 0, ErrUnsupportedCRS, "UTM zone 50N"},
		{"undeclared projected", `{"type":"CityJSON","version":"2.0","CityObjects":{"a":{"type":"Building","geometry":[{"type":"MultiPoint","boundaries":[0]}]}},"vertices":[[500000,4300000,0]]}`,
			1, 121, 1, nil, "declares no metadata.referenceSystem, so EPSG:4326 was assumed; set Options.CRS"},
		{"truncated", `{"type":"CityJSON","version":"2.0","CityObjects":{"a":{"type":"Buil`, 1, 68, 0, importers.ErrFormat, "unexpected end of input"},
		{"seq line", "{\"type\":\"CityJSON\",\"version\":\"2.0\",\"CityObjects\":{},\"vertices\":[]}\n" +
			"{\"type\":\"CityJSONFeature\",\"id\":\"a\",\"CityObjects\":{\"a\":{\"type\":\"Building\"}},\"vertices\":[]}\n" +
			"{\"type\":\"CityJSONFeature\",\"id\":\"b\",\"CityObjects\":{\"b\":{\"type\":\"Building\",\"geometry\":[{\"type\":\"Bogus\",\"boundaries\":[]}]}},\"vertices\":[]}\n",
			3, 115, 2, importers.ErrFormat, `CityObject "b": format error: unsupported geometry type "Bogus"`},
		{"seq vertices", "{\"type\":\"CityJSON\",\"version\":\"2.0\",\"CityObjects\":{},\"vertices\":[]}\n" +
			"{\"type\":\"CityJSONFeature\",\"id\":\"a\",\"CityObjects\":{\"a\":{\"type\":\"Building\"}},\"vertices\":[]}\n" +
			"{\"type\":\"CityJSONFeature\",\"id\":\"b\",\"CityObjects\":{},\"vertices\":[[1,2]]}\n",
			3, 69, 0, importers.ErrFormat, "vertex (want 3 coordinates)"},
		{"duplicate vertices", `{"type":"CityJSON","version":"2.0","vertices":[],"vertices":[]}`, 1, 50, 0, importers.ErrFormat, "duplicate"},
		{"instance template", `{"type":"CityJSON","version":"2.0","vertices":[[0,0,0]],"CityObjects":{"a":{"type":"Building","geometry":[{"type":"GeometryInstance","template":3,"boundaries":[0],"transformationMatrix":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}]}}}`,
			1, 160, 1, importers.ErrFormat, "template 3 does not exist (0 templates)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := collect(t, c.input, importers.Options{File: "in.json"})
			var ie *importers.Error
			if !errors.As(err, &ie) {
				t.Fatalf("want *importers.Error, got %T %v", err, err)
			}
			if ie.File != "in.json" || ie.Line != c.line || ie.Column != c.col || ie.Feature != c.fea {
				t.Errorf("position %s:%d:%d feature %d, want %d:%d feature %d (%v)", ie.File, ie.Line, ie.Column, ie.Feature, c.line, c.col, c.fea, err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("%v is not %v", err, c.is)
			}
			if !strings.Contains(err.Error(), c.contains) {
				t.Errorf("%q does not mention %q", err, c.contains)
			}
		})
	}
}

func TestSinkErrorAndProgress(t *testing.T) {
	var b bytes.Buffer
	seqHeader(&b, "EPSG:4326", 121, 39)
	for i := 0; i < 5000; i++ {
		lod1Feature(&b, fmt.Sprintf("b%d", i), int64(i)*2, 0, 1, 1, 3000)
	}
	var reports []importers.Progress
	opts := importers.Options{File: "p.jsonl", Total: int64(b.Len()), Progress: func(p importers.Progress) { reports = append(reports, p) }}
	st, err := Import(bytes.NewReader(b.Bytes()), opts, func(*spatial.Feature) error { return nil })
	if err != nil || st.Features != 5000 {
		t.Fatal(err, st.Features)
	}
	if len(reports) != 2 || reports[0].Features != 4096 || reports[1].Features != 5000 || reports[1].Bytes != int64(b.Len()) || reports[0].Bytes >= reports[1].Bytes {
		t.Errorf("reports %+v", reports)
	}
	stop := errors.New("disk full")
	_, err = Import(bytes.NewReader(b.Bytes()), opts, func(f *spatial.Feature) error {
		if f.ID == "b7" {
			return stop
		}
		return nil
	})
	var ie *importers.Error
	if !errors.Is(err, stop) || !errors.As(err, &ie) || ie.Feature != 8 {
		t.Errorf("sink error: %v", err)
	}
}

func TestOverrideCRS(t *testing.T) {
	// No referenceSystem, projected coordinates: Options.CRS supplies it.
	gk, _ := crs.Lookup("EPSG:4550")
	doc := `{"type":"CityJSON","version":"1.0","metadata":{"referenceSystem":"urn:ogc:def:crs:EPSG::2355"},"CityObjects":{"a":{"type":"Building","geometry":[{"type":"MultiSurface","lod":2,"boundaries":[[[0,1,2]]]}]}},"vertices":[[553000.5,4306000.25,12],[553010.5,4306000.25,12],[553010.5,4306010.25,15]]}`
	feats, st, err := collect(t, doc, importers.Options{CRS: gk})
	if err != nil {
		t.Fatal(err)
	}
	if st.CRS != "EPSG:4550" || st.Version != "1.0" || feats[0].Properties[PropLoD] != "2" || feats[0].Height != 3 {
		t.Errorf("stats %+v props %v", st, feats[0].Properties)
	}
	lon, lat, _ := gk.ToWGS84(553000.5, 4306000.25)
	got := geometryCoords(t, feats[0])[0]
	if got[0] != lon || got[1] != lat || got[2] != 12 {
		t.Errorf("first vertex %v, want %v %v", got, lon, lat)
	}
}

func TestGroundSurfaceWithHole(t *testing.T) {
	// A courtyard building: the GroundSurface has an inner ring, written
	// clockwise seen from above (its normal points down) as CityJSON does.
	doc := `{"type":"CityJSON","version":"2.0","transform":{"scale":[0.00001,0.00001,0.01],"translate":[121,39,0]},"metadata":{},
"vertices":[[0,0,0],[100,0,0],[100,100,0],[0,100,0],[40,40,0],[60,40,0],[60,60,0],[40,60,0],[0,0,1000],[100,0,1000],[100,100,1000],[0,100,1000]],
"CityObjects":{"c":{"type":"Building","geometry":[{"type":"MultiSurface","lod":"2.2","boundaries":[[[0,3,2,1],[4,5,6,7]],[[8,9,10,11]]],
"semantics":{"surfaces":[{"type":"GroundSurface"},{"type":"RoofSurface"}],"values":[0,1]}}]}}}`
	feats, _, err := collect(t, doc, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, ok := feats[0].Geometry.(orb.Polygon)
	if !ok || len(p) != 2 || p[0].Orientation() != orb.CCW || p[1].Orientation() != orb.CW || feats[0].Height != 10 {
		t.Fatalf("footprint %v height %v", feats[0].Geometry, feats[0].Height)
	}
	if err := feats[0].Clone().Prepare(); err != nil {
		t.Fatal(err)
	}
}

func TestConvexHull(t *testing.T) {
	pts := []orb.Point{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 0}, {0, 0}}
	if g := hullGeometry(pts); !reflect.DeepEqual(g, orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {0, 2}, {0, 0}}}) {
		t.Errorf("hull %v", g)
	}
	if g := hullGeometry([]orb.Point{{0, 0}, {1, 1}, {2, 2}}); !reflect.DeepEqual(g, orb.LineString{{0, 0}, {2, 2}}) {
		t.Errorf("collinear hull %v", g)
	}
	if g := hullGeometry([]orb.Point{{3, 3}, {3, 3}}); g != (orb.Point{3, 3}) {
		t.Errorf("point hull %v", g)
	}
	if hullGeometry(nil) != nil {
		t.Error("empty hull")
	}
}

func TestEPSGForms(t *testing.T) {
	for in, want := range map[string]int{
		"https://www.opengis.net/def/crs/EPSG/0/7415": 7415,
		"http://www.opengis.net/def/crs/EPSG/0/4326":  4326,
		"urn:ogc:def:crs:EPSG::4549":                  4549,
		"urn:ogc:def:crs:EPSG:8.9:4326":               4326,
		"EPSG:4978":                                   4978,
	} {
		if got, ok := epsgOf(in); !ok || got != want {
			t.Errorf("epsgOf(%q) = %d, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "EPSG:", "EPSG:abc", "https://example.org/crs/4326"} {
		if _, ok := epsgOf(in); ok {
			t.Errorf("epsgOf(%q) accepted", in)
		}
	}
	for ref, code := range map[string]string{"EPSG:4979": "EPSG:4326", "EPSG:4480": "EPSG:4490", "EPSG:4479": "EPSG:4479 (geocentric)", "CRS84": "EPSG:4326"} {
		c, err := resolveCRS(ref)
		if err != nil || c.code() != code {
			t.Errorf("resolveCRS(%q) = %v, %v", ref, c, err)
		}
	}
	if _, err := resolveCRS("https://www.opengis.net/def/crs/EPSG/0/7415"); !errors.Is(err, ErrUnsupportedCRS) || !strings.Contains(err.Error(), "RD New") {
		t.Errorf("7415: %v", err)
	}
}

func TestMemberErrorPositions(t *testing.T) {
	head := `{"type":"CityJSON","version":"2.0","transform":{"scale":[1,1,1],"translate":[0,0,0]},"metadata":{},"vertices":[],"CityObjects":{"a":{"type":"Building",` + "\n"
	for name, c := range map[string]struct {
		body      string
		line, col int
		contains  string
	}{
		"syntax in attributes": {"\"attributes\":\n  {\"x\": 1, \"y\": tru}}}}", 3, 21, "invalid character"},
		"type in parents":      {"\"parents\":\n  [\"p\",\n   7]}}}", 4, 5, "cannot unmarshal number"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := collect(t, head+c.body, importers.Options{})
			var ie *importers.Error
			if !errors.As(err, &ie) || ie.Line != c.line || ie.Column != c.col || !strings.Contains(err.Error(), c.contains) || !errors.Is(err, importers.ErrFormat) {
				t.Fatalf("got %v (line %d col %d), want %d:%d %q", err, ie.Line, ie.Column, c.line, c.col, c.contains)
			}
		})
	}
}

func TestGroundCoverTypes(t *testing.T) {
	doc := `{"type":"CityJSON","version":"2.0","transform":{"scale":[0.0001,0.0001,0.01],"translate":[121,39,0]},"metadata":{},
"vertices":[[0,0,0],[10,0,100],[0,10,200],[10,10,50]],
"CityObjects":{"t":{"type":"TINRelief","geometry":[{"type":"CompositeSurface","lod":"1","boundaries":[[[0,1,2]],[[1,3,2]]]}]}}}`
	feats, _, err := collect(t, doc, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mp, ok := feats[0].Geometry.(orb.MultiPolygon)
	if !ok || len(mp) != 2 || feats[0].Properties[PropFootprint] != "surfaces" || feats[0].Height != 2 {
		t.Fatalf("TIN footprint %v (%v), height %v", feats[0].Geometry, feats[0].Properties[PropFootprint], feats[0].Height)
	}
	for _, p := range mp {
		if p[0].Orientation() != orb.CCW {
			t.Errorf("triangle %v not counter-clockwise", p)
		}
	}
}

func TestBOM(t *testing.T) {
	feats, _, err := collect(t, "\ufeff"+`{"type":"CityJSON","version":"2.0","CityObjects":{"a":{"type":"Building"}},"vertices":[]}`, importers.Options{})
	if err != nil || len(feats) != 1 {
		t.Fatal(err, len(feats))
	}
	_, _, err = collect(t, "\ufeff"+`{"type":"CityJSON","version":"2.0",}`, importers.Options{})
	var ie *importers.Error
	if !errors.As(err, &ie) || ie.Line != 1 || ie.Column != 36 {
		t.Fatalf("%v", err)
	}
}

// genSeq generates a CityJSONSeq of n LoD1 buildings on demand, so the
// input itself takes no memory.
type genSeq struct {
	i, n int
	buf  bytes.Buffer
}

func (g *genSeq) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) && g.i < g.n {
		if g.i == 0 {
			seqHeader(&g.buf, "EPSG:4326", 121, 39)
		}
		lod1Feature(&g.buf, fmt.Sprintf("b%d", g.i), int64(g.i%1000)*20, int64(g.i/1000)*20, 10, 10, 3000)
		g.i++
	}
	return g.buf.Read(p)
}

func TestSeqConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 40,000 features")
	}
	var heap []uint64
	n := 0
	_, err := Import(&genSeq{n: 40000}, importers.Options{}, func(*spatial.Feature) error {
		if n++; n%10000 == 0 {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			heap = append(heap, ms.HeapAlloc)
		}
		return nil
	})
	if err != nil || len(heap) != 4 {
		t.Fatal(err, len(heap))
	}
	if heap[3] > heap[0]+1<<20 {
		t.Errorf("live heap grew from %d to %d bytes over 30,000 features", heap[0], heap[3])
	}
	t.Logf("live heap every 10,000 features: %v bytes", heap)
}
