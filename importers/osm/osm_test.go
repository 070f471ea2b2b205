package osm

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// result is what an import produced.
type result struct {
	feats map[string]*spatial.Feature // "layer/id"
	order []string
	stats *Stats
	err   error
}

func (r *result) get(t *testing.T, key string) *spatial.Feature {
	t.Helper()
	f, ok := r.feats[key]
	if !ok {
		t.Fatalf("no feature %s; have %v", key, r.order)
	}
	return f
}

// warnings returns the warnings of a kind as "element" strings.
func (r *result) warnings(kind WarningKind) []string {
	var out []string
	for _, w := range r.stats.Warnings {
		if w.Kind == kind {
			out = append(out, w.Element)
		}
	}
	return out
}

func collect(t *testing.T, r io.Reader, im *Importer) *result {
	t.Helper()
	res := &result{feats: map[string]*spatial.Feature{}}
	res.stats, res.err = im.Import(r, func(f *spatial.Feature) error {
		key := f.Layer + "/" + f.ID
		if _, dup := res.feats[key]; dup {
			t.Errorf("feature %s emitted twice", key)
		}
		res.feats[key] = f
		res.order = append(res.order, key)
		return nil
	})
	return res
}

// onlyReader hides every method but Read, forcing a single pass.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// importFile imports a testdata file twice, as a seekable *os.File (two
// passes) and as a plain io.Reader (one pass), checks that both give the
// same features and warnings, and returns the two-pass result.
func importFile(t *testing.T, name string) *result {
	t.Helper()
	path := filepath.Join("testdata", name)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	two := collect(t, f, &Importer{Options: importers.Options{File: name}})
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	one := collect(t, onlyReader{f}, &Importer{Options: importers.Options{File: name}})
	if two.stats.Passes != 2 || one.stats.Passes != 1 {
		t.Errorf("passes: file %d, reader %d; want 2 and 1", two.stats.Passes, one.stats.Passes)
	}
	if !reflect.DeepEqual(two.order, one.order) {
		t.Errorf("two passes gave %v, one pass %v", two.order, one.order)
	}
	for k, f2 := range two.feats {
		if f1 := one.feats[k]; f1 != nil && !reflect.DeepEqual(f1, f2) {
			t.Errorf("%s differs: two passes %+v, one pass %+v", k, f2, f1)
		}
	}
	if !reflect.DeepEqual(two.stats.Warnings, one.stats.Warnings) {
		t.Errorf("warnings differ: two passes %v, one pass %v", two.stats.Warnings, one.stats.Warnings)
	}
	if (two.err == nil) != (one.err == nil) {
		t.Errorf("errors differ: two passes %v, one pass %v", two.err, one.err)
	}
	return two
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestBuildings(t *testing.T) {
	res := importFile(t, "buildings.osm")
	if res.err != nil {
		t.Fatal(res.err)
	}
	tests := []struct {
		id     string
		height float64
		floors int
		props  map[string]any // expected subset
	}{
		{"w101", 12, 0, map[string]any{"building": "yes", "height": 12.0, "name": "星海广场大厦", "addr:street": "中山路", "addr:housenumber": "8"}},
		{"w102", 12, 0, map[string]any{"building": "apartments", "height": 12.0}},
		{"w103", 12.5, 0, map[string]any{"height": 12.5}},
		{"w104", 40 * 0.3048, 0, map[string]any{"height": 40 * 0.3048}},
		{"w105", 15, 5, map[string]any{"building": "residential", "levels": 5}},
		{"w106", 20, 6, map[string]any{"height": 20.0, "levels": 6, "roof:shape": "flat"}},
		{"w107", 0, 0, map[string]any{"building": "yes"}},
		{"w108", 6, 2, map[string]any{"height_raw": "tall", "levels": 2}},
		{"w112", 12*0.3048 + 6*0.0254, 3, map[string]any{"levels": 2.5}},
		{"w113", 12.5, 0, map[string]any{"height": 12.5}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			f := res.get(t, "buildings/"+tc.id)
			if !near(f.Height, tc.height) || f.Floors != tc.floors {
				t.Errorf("height %v floors %d, want %v %d", f.Height, f.Floors, tc.height, tc.floors)
			}
			for k, v := range tc.props {
				got := f.Properties[k]
				if g, ok := got.(float64); ok {
					if w, ok := v.(float64); ok && near(g, w) {
						continue
					}
				}
				if !reflect.DeepEqual(got, v) {
					t.Errorf("property %s = %#v (%T), want %#v", k, got, got, v)
				}
			}
			for _, k := range []string{"building:levels"} {
				if _, ok := f.Properties[k]; ok {
					t.Errorf("raw %s kept next to its normalised form", k)
				}
			}
			p, ok := f.Geometry.(orb.Polygon)
			if !ok || len(p) != 1 || len(p[0]) != 5 {
				t.Fatalf("geometry %#v, want a 5-point polygon", f.Geometry)
			}
			if p[0].Orientation() != orb.CCW {
				t.Errorf("outer ring is not counter-clockwise")
			}
			if f.Code.Level() == 0 {
				t.Errorf("feature not prepared (no grid code)")
			}
		})
	}
	part := res.get(t, "building_parts/w110")
	if part.Height != 9 || part.Properties["min_height"] != 3.0 || part.Properties["roof:shape"] != "gabled" || part.Properties["min_level"] != 1 {
		t.Errorf("building part %+v", part)
	}
	for _, id := range []string{"w109", "w111", "w114"} {
		if _, ok := res.feats["buildings/"+id]; ok {
			t.Errorf("%s emitted (building=no, open way, invisible)", id)
		}
	}
	if got := res.warnings(WarnBadTag); !reflect.DeepEqual(got, []string{"w108"}) {
		t.Errorf("bad-tag warnings %v, want [w108]", got)
	}
	if res.stats.Layers[LayerBuildings] != 10 || res.stats.Features != 11 {
		t.Errorf("layers %v features %d", res.stats.Layers, res.stats.Features)
	}
	// Exact coordinates from fixed point.
	p := res.get(t, "buildings/w101").Geometry.(orb.Polygon)
	if p[0][0] != (orb.Point{121.6, 38.91}) {
		t.Errorf("first point %v, want [121.6 38.91]", p[0][0])
	}
}

func TestRoadsAndOtherLayers(t *testing.T) {
	res := importFile(t, "roads.osm")
	if res.err != nil {
		t.Fatal(res.err)
	}
	tests := []struct {
		key   string
		geom  string
		props map[string]any
		not   []string
	}{
		{"roads/w201", "LineString", map[string]any{"highway": "primary", "name": "中山路", "lanes": 4, "oneway": true, "maxspeed": 60.0, "ref": "G202", "bridge": true, "layer": 1}, []string{"bridge_type"}},
		{"roads/w202", "LineString", map[string]any{"oneway": "reverse", "maxspeed": 30 * 1.609344, "tunnel": true, "tunnel_type": "culvert", "layer": -1, "lanes_raw": "two"}, []string{"lanes"}},
		{"roads/w203", "LineString", map[string]any{"highway": "motorway", "oneway": true, "maxspeed_raw": "none"}, []string{"maxspeed"}},
		{"roads/w204", "LineString", map[string]any{"junction": "roundabout", "oneway": true}, nil},
		{"roads/w206", "LineString", map[string]any{"oneway": true, "bridge": false}, nil},
		{"roads/w207", "LineString", map[string]any{"oneway": false, "maxspeed": 50.0}, nil},
		{"roads/w216", "LineString", map[string]any{"oneway": "reversible", "maxspeed": 18.52}, nil},
		{"areas/w205", "Polygon", map[string]any{"highway": "pedestrian", "area": "yes", "name": "星海广场"}, nil},
		{"railways/w208", "LineString", map[string]any{"railway": "tram"}, nil},
		{"water/w209", "LineString", map[string]any{"waterway": "river", "name": "马栏河"}, nil},
		{"water/w210", "Polygon", map[string]any{"natural": "water"}, nil},
		{"water/w213", "Polygon", map[string]any{"landuse": "reservoir"}, nil},
		{"landuse/w211", "Polygon", map[string]any{"landuse": "residential"}, nil},
		{"areas/w212", "Polygon", map[string]any{"leisure": "park"}, nil},
		{"pois/n5", "Point", map[string]any{"amenity": "school", "name": "大连第一中学"}, nil},
		{"pois/n6", "Point", map[string]any{"railway": "station", "name": "大连站"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			f := res.get(t, tc.key)
			if f.Geometry.GeoJSONType() != tc.geom {
				t.Errorf("geometry %s, want %s", f.Geometry.GeoJSONType(), tc.geom)
			}
			for k, v := range tc.props {
				got := f.Properties[k]
				if g, ok := got.(float64); ok {
					if w, ok := v.(float64); ok && math.Abs(g-w) < 1e-9 {
						continue
					}
				}
				if !reflect.DeepEqual(got, v) {
					t.Errorf("property %s = %#v (%T), want %#v", k, got, got, v)
				}
			}
			for _, k := range tc.not {
				if v, ok := f.Properties[k]; ok {
					t.Errorf("property %s = %#v, want none", k, v)
				}
			}
		})
	}
	if n := len(res.feats); n != len(tests) {
		t.Errorf("%d features, want %d: %v", n, len(tests), res.order)
	}
	if got := res.warnings(WarnBadTag); !reflect.DeepEqual(got, []string{"w202", "w203"}) {
		t.Errorf("bad-tag warnings %v", got)
	}
	if p := res.get(t, "pois/n6").Geometry.(orb.Point); p != (orb.Point{121.6055, 38.9155}) {
		t.Errorf("station at %v", p)
	}
}

func TestLayerPrefix(t *testing.T) {
	f, err := os.Open("testdata/roads.osm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res := collect(t, f, &Importer{Options: importers.Options{Layer: "dalian"}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	res.get(t, "dalian_roads/w201")
	res.get(t, "dalian_pois/n5")
	if res.stats.Layers[LayerRoads] != 7 {
		t.Errorf("stats by base layer: %v", res.stats.Layers)
	}
}

func TestMultipolygon(t *testing.T) {
	res := importFile(t, "multipolygon.osm")
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.stats.WarningCount != 0 {
		t.Errorf("warnings: %v", res.stats.Warnings)
	}
	// r1: three outer ways, mixed order and direction, and an inner.
	b := res.get(t, "buildings/r1")
	p, ok := b.Geometry.(orb.Polygon)
	if !ok || len(p) != 2 {
		t.Fatalf("r1 geometry %#v, want a polygon with a hole", b.Geometry)
	}
	if len(p[0]) != 6 || len(p[1]) != 5 {
		t.Errorf("ring sizes %d, %d; want 6, 5", len(p[0]), len(p[1]))
	}
	if p[0].Orientation() != orb.CCW || p[1].Orientation() != orb.CW {
		t.Errorf("orientation outer %v inner %v; want CCW, CW", p[0].Orientation(), p[1].Orientation())
	}
	wantOuter := map[orb.Point]bool{{121.60, 38.90}: true, {121.62, 38.90}: true, {121.62, 38.92}: true, {121.60, 38.92}: true, {121.60, 38.91}: true}
	for _, q := range p[0] {
		if !wantOuter[q] {
			t.Errorf("unexpected outer point %v", q)
		}
	}
	if a := planar.Area(p); !near(a, 0.02*0.02-0.01*0.01) {
		t.Errorf("area %v", a)
	}
	if b.Height != 30 || b.Floors != 10 || b.Properties["name"] != "希望大厦" {
		t.Errorf("r1 height %v floors %d props %v", b.Height, b.Floors, b.Properties)
	}
	// r2: a MultiPolygon whose inner goes to the second outer.
	w := res.get(t, "water/r2")
	mp, ok := w.Geometry.(orb.MultiPolygon)
	if !ok || len(mp) != 2 {
		t.Fatalf("r2 geometry %#v, want 2 polygons", w.Geometry)
	}
	if len(mp[0]) != 1 || len(mp[1]) != 2 {
		t.Errorf("r2 rings per polygon %d, %d; want 1, 2", len(mp[0]), len(mp[1]))
	}
	for i, poly := range mp {
		for j, r := range poly {
			want := orb.CCW
			if j > 0 {
				want = orb.CW
			}
			if r.Orientation() != want {
				t.Errorf("r2 polygon %d ring %d orientation %v", i, j, r.Orientation())
			}
		}
	}
	if !planar.PolygonContains(orb.Polygon{mp[1][0]}, mp[1][1][0]) {
		t.Errorf("inner not in its outer")
	}
	// r3: boundary relation.
	bd := res.get(t, "boundaries/r3")
	if bd.Properties["admin_level"] != "6" || bd.Geometry.GeoJSONType() != "Polygon" {
		t.Errorf("r3 %+v", bd)
	}
	// r4 (route), r5 (old-style, no tags), untagged member ways: nothing.
	for _, k := range res.order {
		if strings.HasSuffix(k, "/r4") || strings.HasSuffix(k, "/r5") || strings.Contains(k, "/w1") || strings.Contains(k, "/w3") {
			t.Errorf("unexpected feature %s", k)
		}
	}
	if len(res.feats) != 5 { // r1, r2, r3, w40 road, n5 poi
		t.Errorf("features %v", res.order)
	}
	// Two passes keep only the 8 member ways of r1-r3 (not w40, a route member).
	if res.stats.KeptWays != 8 {
		t.Errorf("kept %d ways, want 8", res.stats.KeptWays)
	}
}

func TestBrokenRelations(t *testing.T) {
	res := importFile(t, "unclosable.osm")
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantWarn := map[WarningKind][]string{
		WarnOpenRing:        {"r7"},
		WarnMissingMember:   {"r8"},
		WarnInnerOutside:    {"r9"},
		WarnMissingNode:     {"r10"},
		WarnDuplicateMember: {"r11"},
	}
	for kind, want := range wantWarn {
		if got := res.warnings(kind); !reflect.DeepEqual(got, want) {
			t.Errorf("%s warnings %v, want %v", kind, got, want)
		}
	}
	if res.stats.WarningCount != 5 || res.stats.Skipped != 3 {
		t.Errorf("warnings %d skipped %d; want 5, 3: %v", res.stats.WarningCount, res.stats.Skipped, res.stats.Warnings)
	}
	for _, w := range res.stats.Warnings {
		if w.Kind == WarnOpenRing {
			s := w.String()
			for _, part := range []string{"unclosable.osm:", "r7", "open-ring", "w1", "w2", "n1", "n4", "skipped"} {
				if !strings.Contains(s, part) {
					t.Errorf("warning %q does not mention %q", s, part)
				}
			}
			if w.Line != 20 {
				t.Errorf("warning line %d, want 20", w.Line)
			}
		}
	}
	// The import went on: the building, the park without its stray
	// inner and the meadow are there.
	res.get(t, "buildings/w9")
	if p := res.get(t, "areas/r9").Geometry.(orb.Polygon); len(p) != 1 {
		t.Errorf("r9 has %d rings, want the outer only", len(p))
	}
	res.get(t, "landuse/r11")
	if len(res.feats) != 3 {
		t.Errorf("features %v", res.order)
	}
}

func TestMissingNodes(t *testing.T) {
	res := importFile(t, "missing_node.osm")
	if res.err != nil {
		t.Fatal(res.err)
	}
	mls, ok := res.get(t, "roads/w1").Geometry.(orb.MultiLineString)
	if !ok || len(mls) != 2 || len(mls[0]) != 2 || len(mls[1]) != 2 {
		t.Errorf("w1 %#v, want 2 parts of 2 points", res.feats["roads/w1"].Geometry)
	}
	if ls, ok := res.get(t, "roads/w2").Geometry.(orb.LineString); !ok || len(ls) != 2 {
		t.Errorf("w2 %#v, want 2 points", res.feats["roads/w2"].Geometry)
	}
	for _, k := range []string{"buildings/w3", "roads/w4", "roads/w5"} {
		if _, ok := res.feats[k]; ok {
			t.Errorf("%s emitted", k)
		}
	}
	if got := res.warnings(WarnMissingNode); !reflect.DeepEqual(got, []string{"w1", "w2", "w3", "w4"}) {
		t.Errorf("missing-node warnings %v", got)
	}
	if got := res.warnings(WarnBadGeometry); !reflect.DeepEqual(got, []string{"w5"}) {
		t.Errorf("bad-geometry warnings %v", got)
	}
	for _, w := range res.stats.Warnings {
		if w.Element == "w1" && !strings.Contains(w.Msg, "n999") {
			t.Errorf("w1 warning does not name the node: %s", w)
		}
	}
	if res.stats.Skipped != 3 {
		t.Errorf("skipped %d, want 3", res.stats.Skipped)
	}
}

func TestCoastline(t *testing.T) {
	res := importFile(t, "coastline.osm")
	if res.err != nil {
		t.Fatal(res.err)
	}
	var lines []orb.LineString
	for _, k := range res.order {
		f := res.feats[k]
		if f.Layer != LayerCoastline {
			t.Errorf("%s not in coastline layer", k)
		}
		ls, ok := f.Geometry.(orb.LineString)
		if !ok {
			t.Fatalf("%s is %T, want LineString", k, f.Geometry)
		}
		lines = append(lines, ls)
	}
	if len(lines) != 5 {
		t.Fatalf("%d coastline ways, want 5", len(lines))
	}
	rings, open := MergeCoastlines(lines)
	if len(rings) != 2 || len(open) != 1 {
		t.Fatalf("%d rings, %d open; want 2, 1", len(rings), len(open))
	}
	sort.Slice(rings, func(i, j int) bool { return len(rings[i]) > len(rings[j]) })
	if len(rings[0]) != 7 || len(rings[1]) != 4 {
		t.Errorf("ring sizes %d, %d; want 7, 4", len(rings[0]), len(rings[1]))
	}
	for i, r := range rings {
		if r.Orientation() != orb.CCW {
			t.Errorf("island %d is not counter-clockwise", i)
		}
		if err := spatial.CheckGeometry(orb.Polygon{r}); err != nil {
			t.Errorf("island %d: %v", i, err)
		}
	}
}

func TestMergeCoastlinesOrder(t *testing.T) {
	p := func(x float64) orb.Point { return orb.Point{x, x * x} }
	// A ring of 6 pieces given in every rotation and a shuffled order:
	// joined forwards and backwards from whichever piece comes first.
	pieces := []orb.LineString{{p(0), p(1)}, {p(1), p(2)}, {p(2), p(3)}, {p(3), p(4)}, {p(4), p(5)}, {p(5), p(0)}}
	orders := [][]int{{0, 1, 2, 3, 4, 5}, {3, 0, 5, 1, 4, 2}, {5, 4, 3, 2, 1, 0}, {2, 5, 0, 3, 1, 4}}
	for _, ord := range orders {
		in := make([]orb.LineString, len(ord))
		for i, k := range ord {
			in[i] = pieces[k]
		}
		rings, open := MergeCoastlines(in)
		if len(rings) != 1 || len(open) != 0 || len(rings[0]) != 7 {
			t.Errorf("order %v: %d rings %d open", ord, len(rings), len(open))
		}
	}
	// A reversed piece is not joined: direction carries the land side.
	rev := []orb.LineString{{p(0), p(1)}, {p(2), p(1)}, {p(2), p(0)}}
	if rings, open := MergeCoastlines(rev); len(rings) != 0 || len(open) != 2 {
		t.Errorf("reversed piece: %d rings, %d open; want 0, 2", len(rings), len(open))
	}
}

func TestMalformedXML(t *testing.T) {
	res := importFile(t, "malformed.osm")
	var ie *importers.Error
	if !errors.As(res.err, &ie) {
		t.Fatalf("error %v (%T), want *importers.Error", res.err, res.err)
	}
	if ie.Line != 7 || ie.File != "malformed.osm" || !errors.Is(res.err, importers.ErrFormat) {
		t.Errorf("error %+v: want line 7 of malformed.osm, ErrFormat", ie)
	}
	if !strings.Contains(ie.Error(), "in way w5") {
		t.Errorf("error %q does not name the way", ie.Error())
	}
}

func TestFormatErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		want     string
	}{
		{"empty", "", 1, "no <osm> element"},
		{"not osm", "<?xml version='1.0'?>\n<gpx>\n</gpx>", 2, "root element <gpx>"},
		{"osmChange", "<osmChange version='0.6'><create/></osmChange>", 1, "osmChange"},
		{"truncated", "<osm>\n<node id='1' lat='1' lon='2'>\n<tag k='a' v='b'/>\n", 4, "in node n1"},
		{"bad attribute", "<osm>\n<node id='1' lat='1 lon='2'/>\n</osm>", 2, "malformed XML"},
		{"bad entity", "<osm>\n\n<node id='1' lat='1' lon='2'><tag k='a' v='&nope;'/></node></osm>", 3, "in node n1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Import(strings.NewReader(tc.in), importers.Options{File: "x.osm"}, func(*spatial.Feature) error { return nil })
			var ie *importers.Error
			if !errors.As(err, &ie) || !errors.Is(err, importers.ErrFormat) {
				t.Fatalf("error %v, want *importers.Error with ErrFormat", err)
			}
			if ie.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q at line %d, want line %d mentioning %q", err, ie.Line, tc.line, tc.want)
			}
		})
	}
}

func TestBadElements(t *testing.T) {
	in := `<osm>
<node id="1" lat="38.9" lon="121.6"/>
<node id="x" lat="38.9" lon="121.6"/>
<node id="3" lat="95" lon="121.6"/>
<node id="4" lon="121.6"/>
<node id="5" lat="38.9" lon="121.7"/>
<way id="1"><nd ref="1"/><nd ref="oops"/><nd ref="5"/><tag k="highway" v="path"/></way>
</osm>`
	res := collect(t, strings.NewReader(in), &Importer{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := res.stats.WarningsByKind[WarnBadElement]; got != 3 {
		t.Errorf("bad-element warnings %d, want 3: %v", got, res.stats.Warnings)
	}
	if res.stats.StoredNodes != 2 {
		t.Errorf("stored nodes %d", res.stats.StoredNodes)
	}
	// The invalid ref splits the path: each side has one node only.
	if len(res.feats) != 0 || res.warnings(WarnMissingNode)[0] != "w1" {
		t.Errorf("features %v warnings %v", res.order, res.stats.Warnings)
	}
}

func TestUnsortedAndNegativeIDs(t *testing.T) {
	// JOSM files: negative ids counting down, action="delete".
	in := `<osm version="0.6" generator="JOSM">
<node id="-1" lat="38.90" lon="121.60"/>
<node id="-2" lat="38.90" lon="121.61" action="modify"/>
<node id="-3" lat="38.91" lon="121.61"/>
<node id="7" lat="38.91" lon="121.60"/>
<node id="5" lat="38.95" lon="121.65"/>
<node id="5" lat="38.91" lon="121.60"/>
<way id="-4"><nd ref="-1"/><nd ref="-2"/><nd ref="-3"/><nd ref="5"/><nd ref="-1"/><tag k="building" v="yes"/></way>
<way id="-5" action="delete"><nd ref="-1"/><nd ref="-2"/><tag k="highway" v="path"/></way>
</osm>`
	res := collect(t, strings.NewReader(in), &Importer{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	f := res.get(t, "buildings/w-4")
	if p := f.Geometry.(orb.Polygon); p[0][3] != (orb.Point{121.60, 38.91}) {
		t.Errorf("duplicate node 5 did not take its later position: %v", p)
	}
	// -2, -3 and both 5s come after a higher id.
	if len(res.feats) != 1 || res.stats.UnsortedNodes != 4 {
		t.Errorf("features %v, unsorted %d", res.order, res.stats.UnsortedNodes)
	}
}

func TestSinkError(t *testing.T) {
	stop := errors.New("disk full")
	n := 0
	st, err := Import(onlyReader{mustOpen(t, "testdata/roads.osm")}, importers.Options{File: "roads.osm"}, func(*spatial.Feature) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	var ie *importers.Error
	if !errors.Is(err, stop) || !errors.As(err, &ie) || ie.Feature != 3 || ie.Line == 0 || errors.Is(err, importers.ErrFormat) {
		t.Fatalf("error %v (%+v), want sink error at feature 3 with a line", err, ie)
	}
	if st.Features != 2 {
		t.Errorf("stats count %d features, want 2", st.Features)
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("<osm>\n<node id='1' lat='1' lon='1'/>\n"), errAfter{boom})
	_, err := Import(r, importers.Options{}, func(*spatial.Feature) error { return nil })
	if !errors.Is(err, boom) || errors.Is(err, importers.ErrFormat) {
		t.Errorf("error %v, want the read error, not a format error", err)
	}
}

type errAfter struct{ err error }

func (e errAfter) Read([]byte) (int, error) { return 0, e.err }

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWarningsCapAndCallback(t *testing.T) {
	var b strings.Builder
	b.WriteString("<osm>\n")
	for i := 0; i < 50; i++ {
		b.WriteString(`<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="path"/></way>` + "\n")
	}
	b.WriteString("</osm>")
	calls := 0
	im := &Importer{MaxWarnings: 10, OnWarning: func(Warning) { calls++ }}
	res := collect(t, strings.NewReader(b.String()), im)
	if res.stats.WarningCount != 50 || len(res.stats.Warnings) != 10 || calls != 50 {
		t.Errorf("count %d kept %d calls %d", res.stats.WarningCount, len(res.stats.Warnings), calls)
	}
	if w := res.stats.Warnings[9]; w.Line != 11 {
		t.Errorf("10th warning at line %d, want 11", w.Line)
	}
}

func TestProgress(t *testing.T) {
	var last importers.Progress
	calls := 0
	opts := importers.Options{File: "roads.osm", Total: 1234, Progress: func(p importers.Progress) { last = p; calls++ }}
	st, err := Import(mustOpen(t, "testdata/roads.osm"), opts, func(*spatial.Feature) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat("testdata/roads.osm")
	if calls == 0 || last.Features != st.Features || last.Bytes != fi.Size() || last.Total != 1234 {
		t.Errorf("last progress %+v after %d calls; stats %d features, file %d bytes", last, calls, st.Features, fi.Size())
	}
}

func TestCRS(t *testing.T) {
	gcj, err := crs.Lookup("GCJ-02")
	if err != nil {
		t.Fatal(err)
	}
	// Dalian station in WGS 84, written in GCJ-02 as Chinese map services
	// give it; the importer converts it back.
	lon, lat := 121.6303, 38.9223
	x, y, err := gcj.FromWGS84(lon, lat)
	if err != nil {
		t.Fatal(err)
	}
	in := fmt.Sprintf(`<osm><node id="1" lat="%.10f" lon="%.10f"><tag k="railway" v="station"/></node>
<node id="2" lat="95" lon="0"><tag k="amenity" v="x"/></node></osm>`, y, x)
	res := collect(t, strings.NewReader(in), &Importer{Options: importers.Options{CRS: gcj}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	p := res.get(t, "pois/n1").Geometry.(orb.Point)
	if math.Abs(p[0]-lon) > 1e-6 || math.Abs(p[1]-lat) > 1e-6 {
		t.Errorf("converted to %v, want [%v %v]", p, lon, lat)
	}
	if len(res.feats) != 1 || res.stats.WarningsByKind[WarnBadElement] != 1 {
		t.Errorf("features %v warnings %v", res.order, res.stats.Warnings)
	}
}
