package cityjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/iotest"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// conformanceDir locates the shared conformance cases relative to this
// package, or skips.
func conformanceDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "data", "cityjson", "conformance")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("CityJSON conformance data not found at %s (it lives in /work/shared): %v", dir, err)
	}
	return dir
}

type confCase struct {
	id, name string
	raw      []byte
}

func loadCases(t testing.TB) []confCase {
	t.Helper()
	dir := conformanceDir(t)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []confCase
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, e.Name(), "*.city.json*"))
		if len(files) != 1 {
			t.Fatalf("case %s: want one *.city.json[l] file, found %v", e.Name(), files)
		}
		raw, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, confCase{id: e.Name(), name: filepath.Base(files[0]), raw: raw})
	}
	if len(out) == 0 {
		t.Skip("no conformance cases found")
	}
	return out
}

type result struct {
	feats []*spatial.Feature
	stats Stats
	err   error
}

func importBytes(raw []byte, opts importers.Options, r io.Reader) result {
	var res result
	if r == nil {
		r = bytes.NewReader(raw)
	}
	res.stats, res.err = Import(r, opts, func(f *spatial.Feature) error {
		res.feats = append(res.feats, f)
		return nil
	})
	return res
}

// reference is an independent decode of a case with encoding/json.
type reference struct {
	objects   map[string]map[string]any
	order     []string
	vertices  [][]json.Number // all documents' vertices, in order
	perDoc    []refDoc
	transform map[string]any
	metadata  map[string]any
	templates map[string]any
}

type refDoc struct {
	vertices [][]json.Number
	objects  []string
}

func decodeReference(t *testing.T, raw []byte) *reference {
	t.Helper()
	ref := &reference{objects: map[string]map[string]any{}}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	for dec.More() {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("reference decode: %v", err)
		}
		var rd refDoc
		if vs, ok := doc["vertices"].([]any); ok {
			for _, v := range vs {
				var p []json.Number
				for _, c := range v.([]any) {
					p = append(p, c.(json.Number))
				}
				rd.vertices = append(rd.vertices, p)
			}
		}
		ref.vertices = append(ref.vertices, rd.vertices...)
		if tr, ok := doc["transform"].(map[string]any); ok {
			ref.transform = tr
		}
		if md, ok := doc["metadata"].(map[string]any); ok {
			ref.metadata = md
		}
		if gt, ok := doc["geometry-templates"].(map[string]any); ok {
			ref.templates = gt
		}
		cos, _ := doc["CityObjects"].(map[string]any)
		keys := make([]string, 0, len(cos))
		for k := range cos {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ref.objects[k] = cos[k].(map[string]any)
			ref.order = append(ref.order, k)
			rd.objects = append(rd.objects, k)
		}
		ref.perDoc = append(ref.perDoc, rd)
	}
	return ref
}

func num(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case float64:
		return x
	}
	return math.NaN()
}

// plain converts json.Number trees to float64 trees for comparison with
// the importer's map[string]any values.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = plain(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

func TestConformance(t *testing.T) {
	cases := loadCases(t)
	// Cases rejected by default, with the text the error must contain. The
	// files declare EPSG:2355 (Xian 1980 / 3-degree Gauss-Kruger zone 31),
	// which needs a datum shift spatial/crs does not have.
	rejects := map[string]string{
		"cityjson_fake_complete": "EPSG:2355",
		"metadata_complete":      "EPSG:2355",
	}
	var summary []string
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			opts := importers.Options{File: c.name}
			res := importBytes(c.raw, opts, nil)
			if want, ok := rejects[c.id]; ok {
				var ie *importers.Error
				if res.err == nil || !errors.As(res.err, &ie) || !errors.Is(res.err, ErrUnsupportedCRS) ||
					!strings.Contains(res.err.Error(), want) || ie.Line == 0 || ie.File != c.name {
					t.Fatalf("want a positioned unsupported-CRS error naming %s, got %v", want, res.err)
				}
				if len(res.feats) != 0 {
					t.Fatalf("rejected case emitted %d features", len(res.feats))
				}
				summary = append(summary, fmt.Sprintf("%-36s rejected: %v", c.id, res.err))
				// With an override the rest of the case is checked.
				wm, _ := crs.Lookup("EPSG:3857")
				opts.CRS = wm
				res = importBytes(c.raw, opts, nil)
				if res.err != nil {
					t.Fatalf("with Options.CRS override: %v", res.err)
				}
				summary[len(summary)-1] += fmt.Sprintf(" (with Options.CRS=EPSG:3857: imported %d features)", len(res.feats))
			} else {
				if res.err != nil {
					summary = append(summary, fmt.Sprintf("%-36s FAILED: %v", c.id, res.err))
					t.Fatalf("case should import: %v", res.err)
				}
				summary = append(summary, fmt.Sprintf("%-36s imported %d features (%d without geometry)", c.id, len(res.feats), res.stats.NoGeometry))
			}
			ref := decodeReference(t, c.raw)
			checkInvariants(t, ref, res, opts.CRS == nil)
			// The same through a non-seekable one-byte-at-a-time reader:
			// buffered CityObjects and every buffer boundary.
			slow := importBytes(c.raw, opts, iotest.OneByteReader(bytes.NewReader(c.raw)))
			if slow.err != nil {
				t.Fatalf("non-seekable reader: %v", slow.err)
			}
			sameFeatures(t, res.feats, slow.feats)
			if chk := specificChecks[c.id]; chk != nil {
				chk(t, c, ref, res)
			}
		})
	}
	t.Logf("conformance summary (%d cases):\n%s", len(cases), strings.Join(summary, "\n"))
}

// checkInvariants compares an import with the independent decode: object
// count, ids, types, hierarchy, attributes, vertex count, transform,
// metadata, LoDs, semantic surfaces and (for identity CRS) every vertex
// reference of every geometry.
func checkInvariants(t *testing.T, ref *reference, res result, identity bool) {
	t.Helper()
	st := res.stats
	if len(res.feats) != len(ref.objects) || st.CityObjects != len(ref.objects) || st.Features != len(res.feats) {
		t.Fatalf("features %d, stats.CityObjects %d, stats.Features %d; want %d objects", len(res.feats), st.CityObjects, st.Features, len(ref.objects))
	}
	if st.Vertices != len(ref.vertices) {
		t.Errorf("stats.Vertices %d, want %d", st.Vertices, len(ref.vertices))
	}
	if ref.transform != nil {
		if st.Transform == nil {
			t.Fatal("transform lost")
		}
		sc, _ := ref.transform["scale"].([]any)
		tr, _ := ref.transform["translate"].([]any)
		for i := 0; i < 3; i++ {
			if st.Transform.Scale[i] != num(sc[i]) || st.Transform.Translate[i] != num(tr[i]) {
				t.Errorf("transform %+v, want %v %v", *st.Transform, sc, tr)
			}
		}
	}
	if ref.metadata != nil && !reflect.DeepEqual(st.Metadata, plain(ref.metadata)) {
		t.Errorf("metadata %v, want %v", st.Metadata, plain(ref.metadata))
	}
	byID := map[string]*spatial.Feature{}
	for _, f := range res.feats {
		if byID[f.ID] != nil {
			t.Fatalf("duplicate feature %s", f.ID)
		}
		byID[f.ID] = f
		if f.Layer != DefaultLayer {
			t.Errorf("%s: layer %q", f.ID, f.Layer)
		}
		if f.Geometry != nil {
			g := f.Clone()
			if err := g.Prepare(); err != nil {
				t.Errorf("%s: Prepare: %v", f.ID, err)
			}
		}
	}
	lods := map[string]int{}
	surfaces := map[string]int{}
	// Global vertex offset of each document.
	docOf := map[string]int{}
	offsets := []int{}
	off := 0
	for i, d := range ref.perDoc {
		offsets = append(offsets, off)
		off += len(d.vertices)
		for _, id := range d.objects {
			docOf[id] = i
		}
	}
	for _, id := range ref.order {
		o := ref.objects[id]
		f := byID[id]
		if f == nil {
			t.Fatalf("object %s not imported", id)
		}
		if f.Properties[PropType] != o["type"] {
			t.Errorf("%s: type %v, want %v", id, f.Properties[PropType], o["type"])
		}
		for key, prop := range map[string]string{"parents": PropParents, "children": PropChildren, "children_roles": PropRoles} {
			if v, ok := o[key]; ok && !reflect.DeepEqual(f.Properties[prop], plain(v)) {
				t.Errorf("%s: %s %v, want %v", id, key, f.Properties[prop], v)
			}
		}
		if attrs, ok := o["attributes"].(map[string]any); ok {
			for k, v := range attrs {
				if !reflect.DeepEqual(f.Properties[k], plain(v)) {
					t.Errorf("%s: attribute %s = %v, want %v", id, k, f.Properties[k], v)
				}
			}
		}
		for k := range o {
			switch k {
			case "type", "attributes", "geometry", "parents", "children", "children_roles", "geographicalExtent", "address":
			default:
				if _, ok := f.Properties[PropExtPrefix+k]; !ok {
					t.Errorf("%s: member %s not kept", id, k)
				}
			}
		}
		gs, _ := o["geometry"].([]any)
		if len(gs) == 0 {
			continue
		}
		var got []any
		if err := json.Unmarshal([]byte(f.Properties[PropGeometry].(string)), &got); err != nil {
			t.Fatalf("%s: %s is not JSON: %v", id, PropGeometry, err)
		}
		if len(got) != len(gs) {
			t.Fatalf("%s: %d geometries, want %d", id, len(got), len(gs))
		}
		for i, rg := range gs {
			rgm := rg.(map[string]any)
			gm := got[i].(map[string]any)
			if rgm["type"] == "GeometryInstance" {
				tpl := ref.templates["templates"].([]any)[int(num(rgm["template"]))].(map[string]any)
				lods[tpl["lod"].(string)]++
				countSemantics(tpl, surfaces)
				continue
			}
			if gm["type"] != rgm["type"] || fmt.Sprint(gm["lod"]) != fmt.Sprint(rgm["lod"]) {
				t.Errorf("%s geometry %d: type/lod %v/%v, want %v/%v", id, i, gm["type"], gm["lod"], rgm["type"], rgm["lod"])
			}
			lods[fmt.Sprint(rgm["lod"])]++
			countSemantics(rgm, surfaces)
			if sem, ok := rgm["semantics"]; ok && !reflect.DeepEqual(gm["semantics"], plain(sem)) {
				t.Errorf("%s geometry %d: semantics %v, want %v", id, i, gm["semantics"], sem)
			}
			if !identity {
				continue
			}
			base := offsets[docOf[id]]
			compareBoundaries(t, id, rgm["boundaries"], gm["boundaries"], func(idx int) [3]float64 {
				v := ref.vertices[base+idx]
				var p [3]float64
				for k := 0; k < 3; k++ {
					p[k] = num(v[k])
					if ref.transform != nil {
						p[k] = p[k]*num(ref.transform["scale"].([]any)[k]) + num(ref.transform["translate"].([]any)[k])
					}
				}
				return p
			})
		}
	}
	if !reflect.DeepEqual(lods, st.LoDs) {
		t.Errorf("stats.LoDs %v, want %v", st.LoDs, lods)
	}
	if !reflect.DeepEqual(surfaces, st.Surfaces) {
		t.Errorf("stats.Surfaces %v, want %v", st.Surfaces, surfaces)
	}
}

// countSemantics counts the non-null semantic values of a geometry by type.
func countSemantics(g map[string]any, out map[string]int) {
	sem, ok := g["semantics"].(map[string]any)
	if !ok {
		return
	}
	surf, _ := sem["surfaces"].([]any)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case json.Number, float64:
			i := int(num(x))
			if i >= 0 && i < len(surf) {
				out[surf[i].(map[string]any)["type"].(string)]++
			}
		}
	}
	walk(sem["values"])
}

// compareBoundaries walks reference boundaries (indices) and ours
// (coordinates) together.
func compareBoundaries(t *testing.T, id string, want, got any, vertex func(int) [3]float64) {
	t.Helper()
	switch w := want.(type) {
	case json.Number, float64:
		g, ok := got.([]any)
		if !ok || len(g) != 3 {
			t.Fatalf("%s: coordinate %v for index %v", id, got, w)
		}
		p := vertex(int(num(w)))
		for k := 0; k < 3; k++ {
			if math.Abs(num(g[k])-p[k]) > 1e-9 {
				t.Fatalf("%s: vertex %v is %v, want %v", id, w, g, p)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: boundaries shape %v, want %v", id, got, want)
		}
		for i := range w {
			compareBoundaries(t, id, w[i], g[i], vertex)
		}
	default:
		t.Fatalf("%s: unexpected boundary %v", id, want)
	}
}

func sameFeatures(t *testing.T, a, b []*spatial.Feature) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d vs %d features", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || !reflect.DeepEqual(a[i].Geometry, b[i].Geometry) ||
			!reflect.DeepEqual(a[i].Properties, b[i].Properties) || a[i].Height != b[i].Height {
			t.Fatalf("feature %d differs: %+v vs %+v", i, a[i], b[i])
		}
	}
}

func featureByID(t *testing.T, res result, id string) *spatial.Feature {
	t.Helper()
	for _, f := range res.feats {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no feature %s", id)
	return nil
}

// geometryCoords returns every coordinate in a feature's cityjson:geometry.
func geometryCoords(t *testing.T, f *spatial.Feature) [][3]float64 {
	t.Helper()
	var gs []any
	if err := json.Unmarshal([]byte(f.Properties[PropGeometry].(string)), &gs); err != nil {
		t.Fatal(err)
	}
	var out [][3]float64
	var walk func(v any)
	walk = func(v any) {
		a, ok := v.([]any)
		if !ok {
			return
		}
		if len(a) == 3 {
			if x, ok := a[0].(float64); ok {
				out = append(out, [3]float64{x, a[1].(float64), a[2].(float64)})
				return
			}
		}
		for _, e := range a {
			walk(e)
		}
	}
	for _, g := range gs {
		walk(g.(map[string]any)["boundaries"])
	}
	return out
}

// specificChecks hold what a case asserts beyond the generic invariants.
var specificChecks = map[string]func(t *testing.T, c confCase, ref *reference, res result){
	"geometry_instance": func(t *testing.T, _ confCase, _ *reference, res result) {
		f := featureByID(t, res, "fixture")
		got := geometryCoords(t, f)
		want := [][3]float64{{2, 4, 6}, {3, 4, 5}} // ref + M·[1 2 3]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("instances %v, want %v", got, want)
		}
		if res.stats.Instances != 2 || res.stats.Templates != 1 {
			t.Errorf("instances %d templates %d", res.stats.Instances, res.stats.Templates)
		}
		if !reflect.DeepEqual(f.Geometry, orb.MultiPoint{{2, 4}, {3, 4}}) || f.Height != 1 {
			t.Errorf("geometry %v height %v", f.Geometry, f.Height)
		}
	},
	"cityobject_building_address": func(t *testing.T, _ confCase, _ *reference, res result) {
		f := featureByID(t, res, "fixture")
		addr := f.Properties[PropAddress].([]any)
		if len(addr) != 2 {
			t.Fatalf("address %v", addr)
		}
		for i, want := range [][]any{{0.0, 0.0, 0.0}, {1.0, 0.0, 0.0}} {
			loc := addr[i].(map[string]any)["location"].(map[string]any)
			if !reflect.DeepEqual(loc["coordinates"], []any{want}) {
				t.Errorf("address %d location %v, want %v", i, loc, want)
			}
		}
		if f.Properties[PropFootprint] != "address" || !reflect.DeepEqual(f.Geometry, orb.MultiPoint{{0, 0}, {1, 0}}) {
			t.Errorf("geometry %v from %v", f.Geometry, f.Properties[PropFootprint])
		}
	},
	"cityobject_complete": func(t *testing.T, _ confCase, _ *reference, res result) {
		f := featureByID(t, res, "fixture")
		if f.Height != 22.3 || f.Properties[PropExtent] == nil {
			t.Errorf("fixture height %v extent %v", f.Height, f.Properties[PropExtent])
		}
		// The extent is in an undeclared projected CRS: not lon/lat, so
		// the group stays without geometry rather than being misplaced.
		if f.Geometry != nil {
			t.Errorf("fixture geometry %v", f.Geometry)
		}
	},
	"cityobject_all_types": func(t *testing.T, _ confCase, _ *reference, res result) {
		if len(res.stats.Types) != 33 || res.stats.NoGeometry != 33 {
			t.Errorf("types %d, without geometry %d", len(res.stats.Types), res.stats.NoGeometry)
		}
		for _, typ := range []string{"BuildingStorey", "BuildingUnit", "BuildingRoom"} {
			f := featureByID(t, res, typ)
			if !reflect.DeepEqual(f.Properties[PropParents], []any{"Building"}) {
				t.Errorf("%s parents %v", typ, f.Properties[PropParents])
			}
		}
	},
	"cityobject_extended": func(t *testing.T, _ confCase, _ *reference, res result) {
		if featureByID(t, res, "fixture").Properties[PropType] != "+ExtendedCityObject" {
			t.Error("extension type lost")
		}
		if !reflect.DeepEqual(res.stats.Extensions, []string{"Noise"}) {
			t.Errorf("extensions %v", res.stats.Extensions)
		}
	},
	"extension": func(t *testing.T, _ confCase, _ *reference, res result) {
		if !reflect.DeepEqual(res.stats.Extensions, []string{"Noise"}) {
			t.Errorf("extensions %v", res.stats.Extensions)
		}
	},
	"cityjsonfeature_minimal": func(t *testing.T, _ confCase, _ *reference, res result) {
		if !res.stats.Seq || len(res.feats) != 1 || res.feats[0].ID != "myid" || res.feats[0].Properties[PropFeature] != nil && res.feats[0].Properties[PropFeature] != "myid" {
			t.Errorf("seq %v features %v", res.stats.Seq, res.feats)
		}
	},
	"cityjson_fake_complete": func(t *testing.T, _ confCase, _ *reference, res result) {
		if !reflect.DeepEqual(res.stats.ExtraMembers, []string{"+census"}) || res.stats.Instances != 1 {
			t.Errorf("extra members %v instances %d", res.stats.ExtraMembers, res.stats.Instances)
		}
		if f := featureByID(t, res, "id-1"); f.Height != 22.3 || f.Geometry == nil {
			t.Errorf("id-1 height %v geometry %v", f.Height, f.Geometry)
		}
		// +NoiseBuilding has no geometry: it takes its child's footprint.
		if f := featureByID(t, res, "id-3"); f.Properties[PropFootprint] != "children" || f.Geometry == nil {
			t.Errorf("id-3 footprint %v", f.Properties[PropFootprint])
		}
		if f := featureByID(t, res, "a-tree"); f.Geometry == nil || f.Properties[PropLoD] != "2.1" {
			t.Errorf("a-tree %v %v", f.Geometry, f.Properties[PropLoD])
		}
	},
	"coordinates_precision_ecef":       checkPrecision,
	"coordinates_precision_local":      checkPrecision,
	"coordinates_precision_stateplane": checkPrecision,
	"coordinates_precision_utm":        checkPrecision,
	"coordinates_precision_wgs84":      checkPrecision,
	"coordinates_precision_worst":      checkPrecision,
	"vertices":                         checkPrecision,
}

// checkPrecision compares the de-transformed vertices with the exact
// decimal value int × scale + translate (drift < 1e-4 in CRS units) and
// checks that re-quantising returns the stored integers.
func checkPrecision(t *testing.T, c confCase, ref *reference, _ result) {
	imp := newImporter(importers.Options{File: c.name}, func(*spatial.Feature) error { return nil })
	if err := imp.importFrom(bytes.NewReader(c.raw)); err != nil {
		t.Fatal(err)
	}
	got := imp.global.v
	if len(got) != len(ref.vertices) {
		t.Fatalf("%d vertices, want %d", len(got), len(ref.vertices))
	}
	sc := ref.transform["scale"].([]any)
	tr := ref.transform["translate"].([]any)
	exact := func(n any) *big.Float {
		f, _, err := big.ParseFloat(string(n.(json.Number)), 10, 256, big.ToNearestEven)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	worst := 0.0
	for i, v := range ref.vertices {
		for k := 0; k < 3; k++ {
			want := new(big.Float).SetPrec(256).Mul(exact(v[k]), exact(sc[k]))
			want.Add(want, exact(tr[k]))
			d, _ := new(big.Float).Sub(big.NewFloat(got[i][k]).SetPrec(256), want).Float64()
			worst = math.Max(worst, math.Abs(d))
			if math.Abs(d) >= 1e-4 {
				t.Errorf("vertex %d axis %d: %v drifts %g from exact %s", i, k, got[i][k], d, want.Text('g', 20))
			}
			q := math.Round((got[i][k] - num(tr[k])) / num(sc[k]))
			if q != num(v[k]) {
				t.Errorf("vertex %d axis %d: re-quantised %v, stored %v", i, k, q, v[k])
			}
		}
	}
	t.Logf("%s: worst drift %.3g over %d vertices", c.id, worst, len(got))
}
