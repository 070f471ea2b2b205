package mvt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// fixturesRoot is where the mapbox/mvt-fixtures copy lives, relative to this
// package directory.
const fixturesRoot = "../../../shared/data/mvt-fixtures"

// fixtureDirs returns the fixture directories, skipping the test when the
// data is absent.
func fixtureDirs(tb testing.TB) []string {
	tb.Helper()
	dirs, err := filepath.Glob(filepath.Join(fixturesRoot, "fixtures", "[0-9][0-9][0-9]"))
	if err != nil || len(dirs) == 0 {
		tb.Skipf("MVT conformance fixtures not found at %s/fixtures (relative to tiles/mvt); "+
			"copy mapbox/mvt-fixtures there to run this test", fixturesRoot)
	}
	sort.Strings(dirs)
	return dirs
}

type fixtureInfo struct {
	Description string `json:"description"`
	Validity    struct {
		V1    bool   `json:"v1"`
		V2    bool   `json:"v2"`
		Error string `json:"error"`
	} `json:"validity"`
}

type fixture struct {
	id   string
	info fixtureInfo
	mvt  []byte
	json map[string]any // tile.json, numbers as json.Number
}

func loadFixture(t *testing.T, dir string) fixture {
	t.Helper()
	fx := fixture{id: filepath.Base(dir)}
	var err error
	if fx.mvt, err = os.ReadFile(filepath.Join(dir, "tile.mvt")); err != nil {
		t.Fatal(err)
	}
	ib, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ib, &fx.info); err != nil {
		t.Fatalf("%s/info.json: %v", fx.id, err)
	}
	jb, err := os.ReadFile(filepath.Join(dir, "tile.json"))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(jb))
	dec.UseNumber()
	if err := dec.Decode(&fx.json); err != nil {
		t.Fatalf("%s/tile.json: %v", fx.id, err)
	}
	return fx
}

// expected converts a fixture's tile.json (the raw protobuf content: layers
// with keys, values, and features with tags and command integers) into the
// Tile that Decode must return: tags resolved to typed properties, command
// streams interpreted by refGeometry, absent extent = 4096, absent feature
// type = UNKNOWN with the stream kept raw.
func expected(t *testing.T, js map[string]any) Tile {
	t.Helper()
	num := func(v any) uint64 {
		n, ok := v.(json.Number)
		if !ok {
			t.Fatalf("tile.json: %v (%T) is not a number", v, v)
		}
		u, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			t.Fatalf("tile.json: %v: %v", n, err)
		}
		return u
	}
	var tile Tile
	layers, _ := js["layers"].([]any)
	for _, lv := range layers {
		lm := lv.(map[string]any)
		l := Layer{Name: lm["name"].(string), Version: uint32(num(lm["version"])), Extent: DefaultExtent}
		if e, ok := lm["extent"]; ok {
			l.Extent = uint32(num(e))
		}
		var keys []string
		for _, k := range lm["keys"].([]any) {
			keys = append(keys, k.(string))
		}
		var values []any
		for _, vv := range lm["values"].([]any) {
			for typ, raw := range vv.(map[string]any) {
				var v any
				switch typ {
				case "string_value":
					// 076 lists string_value 613 as a JSON number; its
					// tile.mvt holds the string "613" (the generator's
					// protobuf encoder stringified it), so use the text.
					switch raw := raw.(type) {
					case string:
						v = raw
					case json.Number:
						v = raw.String()
					}
				case "bool_value":
					v = raw.(bool)
				case "int_value", "sint_value":
					n, err := strconv.ParseInt(raw.(json.Number).String(), 10, 64)
					if err != nil {
						t.Fatal(err)
					}
					v = n
				case "uint_value":
					v = num(raw)
				case "float_value":
					f, err := strconv.ParseFloat(raw.(json.Number).String(), 32)
					if err != nil {
						t.Fatal(err)
					}
					v = float32(f)
				case "double_value":
					f, err := strconv.ParseFloat(raw.(json.Number).String(), 64)
					if err != nil {
						t.Fatal(err)
					}
					v = f
				default:
					t.Fatalf("tile.json: value type %q", typ)
				}
				values = append(values, v)
			}
		}
		features, _ := lm["features"].([]any)
		for _, fv := range features {
			fm := fv.(map[string]any)
			var f Feature
			if id, ok := fm["id"]; ok {
				f.ID, f.HasID = num(id), true
			}
			if typ, ok := fm["type"]; ok {
				f.Type = GeomType(num(typ))
			}
			tags, _ := fm["tags"].([]any)
			for i := 0; i+1 < len(tags); i += 2 {
				if f.Properties == nil {
					f.Properties = map[string]any{}
				}
				f.Properties[keys[num(tags[i])]] = values[num(tags[i+1])]
			}
			var geom []uint32
			gv, _ := fm["geometry"].([]any)
			for _, c := range gv {
				geom = append(geom, uint32(num(c)))
			}
			if f.Type == GeomUnknown {
				f.RawGeometry = geom
			} else {
				f.Geometry = refGeometry(uint64(f.Type), geom)
			}
			l.Features = append(l.Features, f)
		}
		tile.Layers = append(tile.Layers, l)
	}
	return tile
}

// knownContradiction documents fixture 057: it is marked valid, yet its
// geometry has exactly the structure of fixture 051, which is marked fatal
// (a MoveTo with count 2^29-1 followed by a single coordinate pair). No
// decoder can satisfy both; this one rejects both, as the spec requires
// count pairs to follow (4.3.3.1) and as mapbox/vtzero does.
const knownContradiction = "057"

// recoveries checks, per recoverable fixture, what Recover mode made of it.
var recoveries = map[string]func(t *testing.T, want, got Tile){
	// 003 is byte-identical to valid 016: no type field → UNKNOWN.
	"003": func(t *testing.T, want, got Tile) {
		if d := diffTiles(want, got); d != "" {
			t.Errorf("003: want tile.json with the feature as UNKNOWN:\n%s", d)
		}
	},
	// 004 missing geometry, 005 odd tags, 006 type 8, 030 two geometry
	// fields: the feature is skipped, the layer kept.
	"004": featureSkipped, "005": featureSkipped, "006": featureSkipped, "030": featureSkipped,
	// 015 two layers named "hello": the first is kept.
	"015": func(t *testing.T, want, got Tile) {
		want.Layers = want.Layers[:1]
		if d := diffTiles(want, got); d != "" {
			t.Errorf("015: want only the first layer:\n%s", d)
		}
	},
	// 046 line (2,2) (2,10) (2,10): the repeated vertex is removed.
	"046": func(t *testing.T, want, got Tile) {
		want.Layers[0].Features[0].Geometry = orb.LineString{{2, 2}, {2, 10}}
		if d := diffTiles(want, got); d != "" {
			t.Errorf("046: want the zero-length segment removed:\n%s", d)
		}
	},
}

func featureSkipped(t *testing.T, want, got Tile) {
	want.Layers[0].Features = nil
	if d := diffTiles(want, got); d != "" {
		t.Errorf("want the layer without its defective feature:\n%s", d)
	}
}

func short(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

// TestFixtures runs Decode (strict) and DecodeWithOptions(Recover) over every
// fixture and prints the outcome table (go test -v -run TestFixtures).
func TestFixtures(t *testing.T) {
	dirs := fixtureDirs(t)
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-4s %-12s %-11s %-11s %s\n", "id", "spec (v2)", "strict", "recover", "detail")
	counts := map[string]int{}
	for _, dir := range dirs {
		fx := loadFixture(t, dir)
		class := "valid"
		switch {
		case fx.info.Validity.V2:
		case fx.info.Validity.Error == "recoverable":
			class = "recoverable"
		case fx.info.Validity.Error == "fatal":
			class = "fatal"
		default:
			class = "invalid" // 045: error handling "undefined": rejected like fatal
		}
		strictT, strictErr := Decode(fx.mvt)
		recT, warns, recErr := DecodeWithOptions(fx.mvt, DecodeOptions{Recover: true})

		outcome := func(err error, w []Warning) string {
			switch {
			case err != nil:
				return "rejected"
			case len(w) > 0:
				return "recovered"
			}
			return "decoded"
		}
		so, ro := outcome(strictErr, nil), outcome(recErr, warns)
		detail := ""
		switch class {
		case "valid":
			if fx.id == knownContradiction {
				if strictErr == nil || recErr == nil {
					t.Errorf("%s: decoded, but it is structurally identical to fatal fixture 051", fx.id)
				}
				detail = "DEVIATION (contradicts fatal 051, see TestFixture051And057Contradict): " + strictErr.Error()
				counts["valid, rejected (057 contradiction)"]++
				break
			}
			want := expected(t, fx.json)
			if strictErr != nil {
				t.Errorf("%s (valid): strict Decode: %v", fx.id, strictErr)
			} else if d := diffTiles(want, strictT); d != "" {
				t.Errorf("%s (valid): strict Decode differs from tile.json:\n%s", fx.id, d)
			}
			if recErr != nil {
				t.Errorf("%s (valid): Recover: %v", fx.id, recErr)
			} else if d := diffTiles(want, recT); d != "" {
				t.Errorf("%s (valid): Recover differs from tile.json:\n%s", fx.id, d)
			}
			detail = "= tile.json"
			if len(warns) > 0 {
				detail += "; warning: " + warns[0].Message
			}
			counts["valid, decoded = tile.json"]++
		case "fatal", "invalid":
			for mode, err := range map[string]error{"strict": strictErr, "recover": recErr} {
				if err == nil {
					t.Errorf("%s (%s): %s mode accepted it", fx.id, class, mode)
					continue
				}
				if !errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "mvt: decode: ") {
					t.Errorf("%s: %s error %q is not a wrapped ErrInvalid", fx.id, mode, err)
				}
			}
			if strictErr != nil {
				detail = strictErr.Error()
			}
			counts["invalid, rejected"]++
		case "recoverable":
			check, ok := recoveries[fx.id]
			if !ok {
				t.Fatalf("%s: recoverable fixture without a documented recovery", fx.id)
			}
			if recErr != nil {
				t.Errorf("%s (recoverable): Recover mode: %v", fx.id, recErr)
			} else {
				check(t, expected(t, fx.json), recT)
			}
			if len(warns) == 0 {
				t.Errorf("%s (recoverable): no warning", fx.id)
			}
			switch {
			case strictErr == nil && fx.id == "003":
				so = "recovered" // the proto2 default, in both modes
			case strictErr == nil:
				t.Errorf("%s (recoverable): strict mode accepted it", fx.id)
			case !errors.Is(strictErr, ErrRecoverable):
				t.Errorf("%s: strict error %q is not ErrRecoverable", fx.id, strictErr)
			}
			var ws []string
			for _, w := range warns {
				ws = append(ws, w.String())
			}
			detail = strings.Join(ws, " | ")
			counts["invalid, recovered"]++
		}
		fmt.Fprintf(&table, "%-4s %-12s %-11s %-11s %s\n", fx.id, class, so, ro, short(detail, 150))
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&table, "  %-40s %d\n", k, counts[k])
	}
	t.Log(table.String())
}

// TestFixture051And057Contradict proves that fixtures 051 (fatal) and 057
// (valid) cannot both be honoured: their geometries are the same command
// integer followed by one coordinate pair.
func TestFixture051And057Contradict(t *testing.T) {
	fixtureDirs(t)
	get := func(id string) (uint64, []uint32) {
		fx := loadFixture(t, filepath.Join(fixturesRoot, "fixtures", id))
		raw := rawParse(t, fx.mvt)
		if len(raw) != 1 || len(raw[0].features) != 1 {
			t.Fatalf("%s: unexpected structure", id)
		}
		return raw[0].features[0].typ, raw[0].features[0].geom
	}
	t51, g51 := get("051")
	t57, g57 := get("057")
	if t51 != 1 || t57 != 1 || len(g51) != 3 || len(g57) != 3 || g51[0] != g57[0] {
		t.Fatalf("fixtures changed: 051 type %d %v, 057 type %d %v", t51, g51, t57, g57)
	}
	if id, count := g57[0]&7, g57[0]>>3; id != cmdMoveTo || count != 1<<29-1 {
		t.Fatalf("057 command: id %d count %d", id, count)
	}
	for _, id := range []string{"051", "057"} {
		fx := loadFixture(t, filepath.Join(fixturesRoot, "fixtures", id))
		_, err := Decode(fx.mvt)
		if err == nil || !strings.Contains(err.Error(), "needs 1073741822 parameter integers, only 2 remain") {
			t.Errorf("%s: want the count-too-large rejection, got %v", id, err)
		}
	}
}

// TestFixturesReencode encodes every decoded fixture again and checks that
// the result decodes to the same tile (the encoder's normalisation is a
// fixed point of the decoder's output).
func TestFixturesReencode(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		fx := loadFixture(t, dir)
		tile, _, err := DecodeWithOptions(fx.mvt, DecodeOptions{Recover: true})
		if err != nil {
			continue
		}
		b, err := Encode(tile)
		if err != nil {
			if errors.Is(err, ErrCoordinate) {
				t.Logf("%s: not re-encodable: %v", fx.id, err) // 049/050: cursor beyond int32
				continue
			}
			t.Errorf("%s: Encode: %v", fx.id, err)
			continue
		}
		back, err := Decode(b)
		if err != nil {
			t.Errorf("%s: Decode(Encode): %v", fx.id, err)
			continue
		}
		for i := range tile.Layers {
			tile.Layers[i].Version = 2
		}
		if d := diffTiles(tile, back); d != "" {
			t.Errorf("%s: round trip differs:\n%s", fx.id, d)
		}
		if !reflect.DeepEqual(rawParse(t, b), rawParse(t, mustEncode(t, back))) {
			t.Errorf("%s: Encode is not deterministic", fx.id)
		}
	}
}

func mustEncode(tb testing.TB, t Tile) []byte {
	tb.Helper()
	b, err := Encode(t)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
