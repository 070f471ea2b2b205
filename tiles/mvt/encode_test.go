package mvt

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// flipY maps a y-up ("geographic", GeoJSON) ring into y-down tile space the
// way a projection does, which turns GeoJSON's counter-clockwise exteriors
// into negative-area rings: exactly the input orb/encoding/mvt writes
// inverted.
func flipY(p orb.Polygon) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		out[i] = make(orb.Ring, len(r))
		for j, v := range r {
			out[i][j] = orb.Point{v[0], 100 - v[1]}
		}
	}
	return out
}

// GeoJSON winding in a y-up frame: exteriors counter-clockwise (positive
// area), holes clockwise.
var (
	geoA = orb.Polygon{
		{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
		{{2, 2}, {2, 4}, {4, 4}, {4, 2}, {2, 2}},
	}
	geoB = orb.Polygon{
		{{20, 0}, {30, 0}, {30, 10}, {20, 10}, {20, 0}},
		{{22, 2}, {22, 4}, {24, 4}, {24, 2}, {22, 2}},
		{{26, 6}, {26, 8}, {28, 8}, {28, 6}, {26, 6}},
	}
)

// roundTrip encodes fs as one layer, decodes it strictly and returns the
// decoded features and the wire-level view of the layer.
func roundTrip(t *testing.T, fs ...Feature) ([]Feature, rawLayer) {
	t.Helper()
	in := Tile{Layers: []Layer{{Name: "l", Features: fs}}}
	b, err := Encode(in)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode(Encode): %v", err)
	}
	raw := rawParse(t, b)
	if len(out.Layers) != 1 || out.Layers[0].Version != 2 || raw[0].version != 2 || raw[0].extent != DefaultExtent {
		t.Fatalf("layer header: %+v / raw version %d extent %d", out.Layers, raw[0].version, raw[0].extent)
	}
	assertCleanCommands(t, raw)
	return out.Layers[0].Features, raw[0]
}

// assertCleanCommands checks, on the bytes, the properties strict decoders
// rely on: no command with count 0, no zero-length LineTo, every polygon's
// first ring positive and every ring classified as the input intended
// (positive exterior, negative interior; none zero).
func assertCleanCommands(t *testing.T, raw []rawLayer) {
	t.Helper()
	for _, l := range raw {
		if l.version != 2 {
			t.Errorf("layer %q written with version %d", l.name, l.version)
		}
		for i, f := range l.features {
			paths, zeroCount, zeroDelta := refPaths(f.geom)
			if zeroCount > 0 || zeroDelta > 0 {
				t.Errorf("feature %d: %d commands with count 0, %d zero-length LineTo: %v", i, zeroCount, zeroDelta, f.geom)
			}
			if f.typ == 3 {
				for j, p := range paths {
					a := refArea(p.pts)
					if a == 0 || (j == 0 && a < 0) || !p.closed {
						t.Errorf("feature %d ring %d: area %v closed %v", i, j, a, p.closed)
					}
					if p.pts[len(p.pts)-1] == p.pts[0] {
						t.Errorf("feature %d ring %d repeats its first vertex before ClosePath", i, j)
					}
				}
			}
		}
	}
}

// checkWinding asserts exterior rings positive, interior rings negative.
func checkWinding(t *testing.T, g orb.Geometry) {
	t.Helper()
	var polys orb.MultiPolygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = orb.MultiPolygon{g}
	case orb.MultiPolygon:
		polys = g
	default:
		t.Fatalf("not a polygon: %T", g)
	}
	for i, p := range polys {
		for j, r := range p {
			if r[0] != r[len(r)-1] {
				t.Errorf("polygon %d ring %d is not closed", i, j)
			}
			a := refArea(r[:len(r)-1])
			if (j == 0) != (a > 0) || a == 0 {
				t.Errorf("polygon %d ring %d: area %v", i, j, a)
			}
		}
	}
}

func TestRoundTripGeometryTypes(t *testing.T) {
	cases := []struct {
		name string
		typ  GeomType
		in   orb.Geometry
		want orb.Geometry
	}{
		{"point", GeomPoint, orb.Point{25, 17}, orb.Point{25, 17}},
		{"negative and buffer coordinates", GeomPoint, orb.Point{-200, 4296}, orb.Point{-200, 4296}},
		{"multipoint", GeomPoint, orb.MultiPoint{{5, 7}, {3, 2}, {3, 2}}, orb.MultiPoint{{5, 7}, {3, 2}, {3, 2}}},
		{"multipoint of one", GeomPoint, orb.MultiPoint{{5, 7}}, orb.Point{5, 7}},
		{"linestring", GeomLineString, orb.LineString{{2, 2}, {2, 10}, {10, 10}}, orb.LineString{{2, 2}, {2, 10}, {10, 10}}},
		{"multilinestring", GeomLineString,
			orb.MultiLineString{{{2, 2}, {2, 10}, {10, 10}}, {{1, 1}, {3, 5}}},
			orb.MultiLineString{{{2, 2}, {2, 10}, {10, 10}}, {{1, 1}, {3, 5}}}},
		{"polygon, MVT winding, open ring", GeomPolygon,
			orb.Polygon{{{3, 6}, {8, 12}, {20, 34}}},
			orb.Polygon{{{3, 6}, {8, 12}, {20, 34}, {3, 6}}}},
		{"polygon with hole, GeoJSON winding projected to y-down", GeomPolygon,
			flipY(geoA),
			orb.Polygon{
				{{0, 100}, {0, 90}, {10, 90}, {10, 100}, {0, 100}},
				{{2, 98}, {4, 98}, {4, 96}, {2, 96}, {2, 98}},
			}},
		{"multipolygon with holes, GeoJSON winding projected to y-down", GeomPolygon,
			orb.MultiPolygon{flipY(geoA), flipY(geoB)}, nil},
		{"multipolygon with holes, GeoJSON winding unprojected", GeomPolygon,
			orb.MultiPolygon{geoA, geoB}, orb.MultiPolygon{geoA, geoB}},
		{"multipolygon of one", GeomPolygon, orb.MultiPolygon{geoA}, geoA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs, _ := roundTrip(t, Feature{ID: 7, HasID: true, Type: c.typ, Geometry: c.in})
			if len(fs) != 1 {
				t.Fatalf("%d features", len(fs))
			}
			f := fs[0]
			if f.ID != 7 || !f.HasID || f.Type != c.typ {
				t.Errorf("id/type %d/%v/%v", f.ID, f.HasID, f.Type)
			}
			if c.typ == GeomPolygon {
				checkWinding(t, f.Geometry)
			}
			if c.want != nil && !reflect.DeepEqual(f.Geometry, c.want) {
				t.Errorf("got  %v\nwant %v", f.Geometry, c.want)
			}
		})
	}
}

// reverseRings reverses every ring (closed rings stay closed on the same
// vertex).
func reverseRings(p orb.Polygon, which func(i int) bool) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		out[i] = slices.Clone(r)
		if which(i) {
			slices.Reverse(out[i])
		}
	}
	return out
}

// TestWindingFixedWhateverTheInput encodes the same multipolygon with all
// four combinations of exterior/interior winding: the bytes must be
// identical and correctly wound.
func TestWindingFixedWhateverTheInput(t *testing.T) {
	base := orb.MultiPolygon{flipY(geoA), flipY(geoB)}
	var first []byte
	for _, v := range []struct {
		name string
		rev  func(int) bool
	}{
		{"as projected (inverted)", func(int) bool { return false }},
		{"all reversed (MVT winding)", func(int) bool { return true }},
		{"exteriors reversed only", func(i int) bool { return i == 0 }},
		{"holes reversed only", func(i int) bool { return i > 0 }},
	} {
		mp := orb.MultiPolygon{reverseRings(base[0], v.rev), reverseRings(base[1], v.rev)}
		b := mustEncode(t, Tile{Layers: []Layer{{Name: "w", Features: []Feature{{Type: GeomPolygon, Geometry: mp}}}}})
		assertCleanCommands(t, rawParse(t, b))
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Errorf("%s: encoding differs from the first variant", v.name)
		}
	}
}

func TestDegenerateInputs(t *testing.T) {
	square := orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	cases := []struct {
		name string
		typ  GeomType
		in   orb.Geometry
		want orb.Geometry // nil: the feature is dropped
	}{
		{"1-point line", GeomLineString, orb.LineString{{1, 1}}, nil},
		{"line of one repeated point", GeomLineString, orb.LineString{{1, 1}, {1, 1}, {1, 1}}, nil},
		{"empty line", GeomLineString, orb.LineString{}, nil},
		{"line with repeated points", GeomLineString,
			orb.LineString{{0, 0}, {0, 0}, {5, 5}, {5, 5}, {5, 5}, {9, 0}},
			orb.LineString{{0, 0}, {5, 5}, {9, 0}}},
		{"multiline with a 1-point line", GeomLineString,
			orb.MultiLineString{{{1, 1}}, {{0, 0}, {3, 3}}, {{4, 4}, {4, 4}}},
			orb.LineString{{0, 0}, {3, 3}}},
		{"empty multipoint", GeomPoint, orb.MultiPoint{}, nil},
		{"zero-area ring (collinear)", GeomPolygon, orb.Polygon{{{0, 0}, {5, 0}, {10, 0}, {0, 0}}}, nil},
		{"ring of 2 distinct points", GeomPolygon, orb.Polygon{{{0, 0}, {5, 5}, {0, 0}, {5, 5}}}, nil},
		{"exterior collapses: holes go too", GeomPolygon,
			orb.Polygon{{{0, 0}, {9, 9}, {0, 0}}, {{2, 2}, {2, 4}, {4, 4}, {2, 2}}}, nil},
		{"zero-area hole dropped", GeomPolygon,
			orb.Polygon{square, {{2, 2}, {4, 2}, {6, 2}, {2, 2}}},
			orb.Polygon{square}},
		{"repeated vertices in ring", GeomPolygon,
			orb.Polygon{{{0, 0}, {0, 0}, {10, 0}, {10, 10}, {10, 10}, {0, 10}, {0, 0}, {0, 0}}},
			orb.Polygon{square}},
		{"zero-width spike", GeomPolygon,
			orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {10, 20}, {10, 10}, {0, 10}}},
			orb.Polygon{square}},
		{"spike overshooting back along its edge", GeomPolygon,
			orb.Polygon{{{0, 0}, {10, 0}, {15, 0}, {12, 0}, {10, 0}, {10, 10}, {0, 10}}},
			orb.Polygon{square}},
		{"spike at the first vertex", GeomPolygon,
			orb.Polygon{{{-5, 0}, {0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}},
			orb.Polygon{square}},
		{"multipolygon, one part collapses", GeomPolygon,
			orb.MultiPolygon{{{{0, 0}, {1, 1}, {2, 2}}}, {square}},
			orb.Polygon{square}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keep := Feature{Type: GeomPoint, Geometry: orb.Point{1, 2}}
			fs, raw := roundTrip(t, Feature{ID: 1, HasID: true, Type: c.typ, Geometry: c.in}, keep)
			if c.want == nil {
				if len(fs) != 1 || len(raw.features) != 1 || fs[0].Type != GeomPoint {
					t.Fatalf("want the degenerate feature dropped, got %+v", fs)
				}
				return
			}
			if len(fs) != 2 {
				t.Fatalf("%d features", len(fs))
			}
			if !reflect.DeepEqual(fs[0].Geometry, c.want) {
				t.Errorf("got  %v\nwant %v", fs[0].Geometry, c.want)
			}
		})
	}
}

func TestPropertyTypes(t *testing.T) {
	props := map[string]any{
		"s": "hello", "empty": "", "f32": float32(1.5), "f64": 2.25,
		"i": int64(7), "neg": int64(-7), "min": int64(math.MinInt64), "max": int64(math.MaxInt64),
		"u": uint64(1 << 63), "t": true, "f": false,
		"nan": math.NaN(), "two32": float32(2), "two64": float64(2), "twoI": int64(2), "twoU": uint64(2),
	}
	fs, raw := roundTrip(t,
		Feature{Type: GeomPoint, Geometry: orb.Point{1, 1}, Properties: props},
		Feature{Type: GeomPoint, Geometry: orb.Point{2, 2}, Properties: map[string]any{"s": "hello", "i": int64(7), "other": "hello"}},
		Feature{Type: GeomPoint, Geometry: orb.Point{3, 3}},
	)
	if !propsEqual(props, fs[0].Properties) {
		t.Errorf("properties\n got %#v\nwant %#v", fs[0].Properties, props)
	}
	if fs[2].Properties != nil {
		t.Errorf("feature without properties decoded with %v", fs[2].Properties)
	}
	// Dedupe: feature 1 adds one key ("other") and no value.
	l := raw
	if len(l.keys) != len(props)+1 || len(l.values) != len(props) {
		t.Errorf("%d keys, %d values; want %d, %d", len(l.keys), len(l.values), len(props)+1, len(props))
	}
	// int64: int_value (field 4) when >= 0, sint_value (field 6) when < 0.
	for key, field := range map[string]byte{"i": fieldValueInt, "neg": fieldValueSint, "min": fieldValueSint, "u": fieldValueUint} {
		ki := slices.Index(l.keys, key)
		var vi uint32
		for i := 0; i < len(l.features[0].tags); i += 2 {
			if l.features[0].tags[i] == uint32(ki) {
				vi = l.features[0].tags[i+1]
			}
		}
		if got := l.values[vi][0] >> 3; got != field {
			t.Errorf("%s written as Value field %d, want %d", key, got, field)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	pt := func(x, y float64) Feature {
		return Feature{ID: 42, HasID: true, Type: GeomPoint, Geometry: orb.Point{x, y}}
	}
	layer := func(fs ...Feature) Layer {
		return Layer{Name: "buildings", Features: append([]Feature{pt(1, 1)}, fs...)}
	}
	cases := []struct {
		name    string
		tile    Tile
		is      error
		message []string
	}{
		{"duplicate layer name", Tile{Layers: []Layer{layer(), layer()}}, ErrInput, []string{`layer #1 "buildings"`, "layer #0"}},
		{"empty layer name", Tile{Layers: []Layer{{}}}, ErrInput, []string{"layer #0", "empty layer name"}},
		{"NaN", Tile{Layers: []Layer{layer(pt(math.NaN(), 1))}}, ErrCoordinate, []string{`layer #0 "buildings"`, "feature #1 (id 42)", "NaN"}},
		{"+Inf", Tile{Layers: []Layer{layer(pt(1, math.Inf(1)))}}, ErrCoordinate, []string{"feature #1", "infinite"}},
		{"non-integral", Tile{Layers: []Layer{layer(pt(1.5, 1))}}, ErrCoordinate, []string{"feature #1", "1.5 is not an integer"}},
		{"beyond int32", Tile{Layers: []Layer{layer(pt(3e9, 1))}}, ErrCoordinate, []string{"feature #1", "3000000000 is outside int32"}},
		{"NaN in a hole of a collapsing polygon", Tile{Layers: []Layer{layer(Feature{Type: GeomPolygon,
			Geometry: orb.Polygon{{{0, 0}, {1, 1}}, {{math.NaN(), 0}, {1, 0}, {1, 1}}}})}}, ErrCoordinate, []string{"feature #1", "ring 1"}},
		{"delta beyond int32", Tile{Layers: []Layer{layer(Feature{Type: GeomPoint,
			Geometry: orb.MultiPoint{{-2147483647, 0}, {2147483647, 0}}})}}, ErrCoordinate, []string{"feature #1", "ParameterInteger"}},
		{"unsupported property type", Tile{Layers: []Layer{layer(Feature{ID: 42, HasID: true, Type: GeomPoint, Geometry: orb.Point{},
			Properties: map[string]any{"bad": 3}})}}, ErrInput, []string{`layer #0 "buildings"`, "feature #1 (id 42)", `property "bad"`, "type int"}},
		{"nil property", Tile{Layers: []Layer{layer(Feature{Type: GeomPoint, Geometry: orb.Point{},
			Properties: map[string]any{"nil": nil}})}}, ErrInput, []string{"feature #1", `property "nil"`}},
		{"geometry does not match type", Tile{Layers: []Layer{layer(Feature{Type: GeomPoint, Geometry: orb.LineString{{0, 0}, {1, 1}}})}},
			ErrInput, []string{"feature #1", "orb.LineString does not match type POINT"}},
		{"nil geometry", Tile{Layers: []Layer{layer(Feature{Type: GeomPolygon})}}, ErrInput, []string{"feature #1", "nil Geometry"}},
		{"raw geometry with a known type", Tile{Layers: []Layer{layer(Feature{Type: GeomPoint, Geometry: orb.Point{}, RawGeometry: []uint32{9, 0, 0}})}},
			ErrInput, []string{"feature #1", "RawGeometry is only for type UNKNOWN"}},
		{"unknown type without raw geometry", Tile{Layers: []Layer{layer(Feature{Type: GeomUnknown})}}, ErrInput, []string{"feature #1", "empty RawGeometry"}},
		{"unknown type with geometry", Tile{Layers: []Layer{layer(Feature{Type: GeomUnknown, Geometry: orb.Point{}})}}, ErrInput, []string{"feature #1", "set Type"}},
		{"invalid type", Tile{Layers: []Layer{layer(Feature{Type: 9, Geometry: orb.Point{}})}}, ErrInput, []string{"feature #1", "GeomType(9)"}},
		{"id without HasID", Tile{Layers: []Layer{layer(Feature{ID: 5, Type: GeomPoint, Geometry: orb.Point{}})}}, ErrInput, []string{"feature #1", "HasID"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Encode(c.tile)
			if err == nil {
				t.Fatalf("accepted: %x", b)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
			for _, m := range c.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

func TestEncodeDefaultsAndDeterminism(t *testing.T) {
	props := map[string]any{}
	for _, k := range strings.Fields("a b c d e f g h i j k l m n o p") {
		props[k] = k
	}
	tile := Tile{Layers: []Layer{
		{Name: "one", Version: 1, Features: []Feature{{Type: GeomPoint, Geometry: orb.Point{1, 1}, Properties: props}}},
		{Name: "two", Extent: 512},
	}}
	first := mustEncode(t, tile)
	for range 20 {
		if !bytes.Equal(first, mustEncode(t, tile)) {
			t.Fatal("Encode output depends on map iteration order")
		}
	}
	raw := rawParse(t, first)
	if raw[0].version != 2 || raw[0].extent != 4096 || raw[1].extent != 512 || len(raw[1].features) != 0 {
		t.Errorf("headers: %+v", raw)
	}
	if b := mustEncode(t, Tile{}); len(b) != 0 {
		t.Errorf("empty tile encoded as %x", b)
	}
	// Unknown geometry and a present zero id survive verbatim.
	fs, raws := roundTrip(t, Feature{HasID: true, Type: GeomUnknown, RawGeometry: []uint32{9, 50, 34, 7 | 3<<3}})
	if !fs[0].HasID || fs[0].ID != 0 || fs[0].Type != GeomUnknown || !reflect.DeepEqual(raws.features[0].geom, []uint32{9, 50, 34, 31}) {
		t.Errorf("unknown feature: %+v", fs[0])
	}
}
