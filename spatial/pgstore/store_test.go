package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

func TestCodeEncodingKeepsOrder(t *testing.T) {
	vals := []uint64{0, 1, 1<<62 - 1, 1 << 62, 1<<63 - 1, 1 << 63, 1<<63 + 1, math.MaxUint64 - 1, math.MaxUint64}
	for i := range vals {
		if decodeCode(encodeCode(vals[i])) != vals[i] {
			t.Errorf("%x does not round trip", vals[i])
		}
		for j := range vals {
			if (vals[i] < vals[j]) != (encodeCode(vals[i]) < encodeCode(vals[j])) {
				t.Errorf("order of %x and %x not kept", vals[i], vals[j])
			}
		}
	}
}

// allGeometries has one feature per geometry type orb offers.
func allGeometries() []*spatial.Feature {
	sq := func(x, y, d float64) orb.Ring {
		return orb.Ring{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}
	}
	gs := map[string]orb.Geometry{
		"point":      orb.Point{121.6012345678901, 38.91234567890123},
		"multipoint": orb.MultiPoint{{121.6, 38.9}, {121.61, 38.91}, {-73.98, 40.75}},
		"line":       orb.LineString{{121.6, 38.9}, {121.65, 38.95}, {121.7, 38.9}},
		"multiline":  orb.MultiLineString{{{121.6, 38.9}, {121.7, 38.9}}, {{121.6, 38.8}, {121.6, 38.7}, {121.5, 38.7}}},
		"polygon":    orb.Polygon{sq(121.6, 38.9, 0.01), sq(121.602, 38.902, 0.001)},
		"multipolygon": orb.MultiPolygon{
			{sq(121.6, 38.9, 0.01)},
			{sq(121.7, 38.9, 0.01), sq(121.702, 38.902, 0.002)},
		},
		"collection": orb.Collection{
			orb.Point{121.6, 38.9},
			orb.LineString{{121.6, 38.9}, {121.7, 38.95}},
			orb.Polygon{sq(121.6, 38.9, 0.01)},
			orb.Collection{orb.Point{121.65, 38.95}, orb.MultiPoint{{121.66, 38.96}}},
		},
		"ring":       sq(121.6, 38.9, 0.02),
		"bound":      orb.Bound{Min: orb.Point{121.6, 38.9}, Max: orb.Point{121.62, 38.93}},
		"south-west": orb.Polygon{sq(-70.5, -33.5, 0.5)},
		"antimerid":  orb.LineString{{179.9, 10}, {180, 10}, {-180, 10.1}},
		"pole":       orb.Point{0, 90},
	}
	var fs []*spatial.Feature
	for id, g := range gs {
		fs = append(fs, &spatial.Feature{Layer: "geoms", ID: id, Geometry: g})
	}
	return fs
}

func TestRoundTripEveryGeometryType(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := prepared(t, allGeometries()...)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		got, err := s.Get(ctx, f.Layer, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFeature(t, f, got)

		// The PostGIS column holds the same geometry (orb writes Ring and
		// Bound as Polygon, as our EWKB does), with SRID 4490, and the
		// derived columns agree with the feature.
		var geomWKB []byte
		var srid, level int
		var code int64
		if err := s.DB().QueryRow(`SELECT ST_AsBinary(geom, 'NDR'), ST_SRID(geom), code, level FROM features WHERE layer = $1 AND id = $2`,
			f.Layer, f.ID).Scan(&geomWKB, &srid, &code, &level); err != nil {
			t.Fatal(err)
		}
		want, err := wkb.Marshal(f.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		if string(geomWKB) != string(want) {
			t.Errorf("%s: PostGIS holds %x, want %x", f.ID, geomWKB, want)
		}
		if srid != SRID || decodeCode(code) != f.Code.Bits() || level != f.Code.Level() {
			t.Errorf("%s: srid %d code %x level %d, want %d %x %d", f.ID, srid, decodeCode(code), level, SRID, f.Code.Bits(), f.Code.Level())
		}
	}
}

func TestRoundTripExactValues(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	f := &spatial.Feature{
		Layer:    "层/layer|with:odd chars",
		ID:       "id with spaces, 'quotes', \"dq\", \\back\\slash, tab\tnewline\n and 中文",
		Geometry: orb.Point{121.6, 38.9},
		Properties: map[string]any{
			"string": "héllo <b>&</b>",
			"int":    42,
			"int64":  int64(1) << 53,
			"float":  1.0 / 3,
			"tiny":   5e-324,
			"huge":   1.7976931348623157e308,
			"neg":    -0.5,
			"bool":   true,
			"null":   nil,
			"array":  []any{1, "two", []any{3.5}, map[string]any{"x": nil}},
			"object": map[string]any{"nested": map[string]any{"deep": []string{"a", "b"}}},
			"nul":    "a\x00b",
			"typed":  []string{"x\x00y"},
			"k\x00":  "key with NUL",
			"empty":  "",
		},
		Height:    123.456789,
		Floors:    41,
		ValidFrom: time.Date(1999, 12, 31, 23, 59, 59, 123456789, time.FixedZone("CST", 8*3600)),
		ValidTo:   time.Date(2099, 1, 2, 3, 4, 5, 999999999, time.UTC),
		Version:   math.MaxUint64 - 7,
	}
	prepared(t, f)
	if err := s.Put(ctx, []*spatial.Feature{f}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, f.Layer, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameFeature(t, f, got)
	if _, ok := got.Properties["int"].(float64); !ok {
		t.Errorf("int property came back as %T, want float64 as encoding/json gives", got.Properties["int"])
	}

	// The SQL columns are faithful too, NULs excepted (jsonb cannot hold
	// them).
	var props []byte
	var height float64
	var floors int
	var from, to time.Time
	var version int64
	if err := s.DB().QueryRow(`SELECT props, height, floors, valid_from, valid_to, version FROM features`).
		Scan(&props, &height, &floors, &from, &to, &version); err != nil {
		t.Fatal(err)
	}
	var pm map[string]any
	if err := json.Unmarshal(props, &pm); err != nil {
		t.Fatal(err)
	}
	if typed, _ := pm["typed"].([]any); len(typed) != 1 || typed[0] != "x\uFFFDy" {
		t.Errorf("jsonb typed: %v", pm["typed"])
	}
	if pm["nul"] != "a\uFFFDb" || pm["k\uFFFD"] != "key with NUL" || pm["huge"] != 1.7976931348623157e308 || pm["float"] != 1.0/3 {
		t.Errorf("jsonb props: %v", pm)
	}
	if height != f.Height || floors != f.Floors || uint64(version) != f.Version ||
		from.Sub(f.ValidFrom).Abs() > time.Microsecond || to.Sub(f.ValidTo).Abs() > time.Microsecond {
		t.Errorf("columns %v %v %v %v %v", height, floors, version, from, to)
	}
}

func TestPutReplaceDeleteGet(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := mixed(1, "a", 50)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	// Replace some, moving them elsewhere and changing every field; a
	// feature named twice in a batch ends as the last one.
	var repl []*spatial.Feature
	for i := 0; i < 10; i++ {
		g := fs[i].Clone()
		g.Geometry = orb.Point{-100 + float64(i), -40}
		g.Properties = map[string]any{"replaced": true}
		g.Height, g.Floors, g.Version = 9, 3, 1000+uint64(i)
		g.ValidFrom, g.ValidTo = time.Time{}, time.Time{}
		prepared(t, g)
		repl = append(repl, g)
	}
	last := repl[0].Clone()
	last.Version = 5000
	last.Properties = map[string]any{"last": "wins"}
	repl = append(repl, last)
	if err := s.Put(ctx, repl); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		want := f
		if i < 10 {
			want = repl[i]
		}
		if i == 0 {
			want = last
		}
		got, err := s.Get(ctx, "a", f.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFeature(t, want, got)
	}
	if n := count(t, s); n != 50 {
		t.Fatalf("%d rows after replace, want 50", n)
	}

	// Delete some, with ids that do not exist and ids PostgreSQL could
	// never hold.
	if err := s.Delete(ctx, "a", []string{fs[0].ID, fs[1].ID, "nope", "bad\x00id", "\xff"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "no such layer", []string{fs[2].ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "a", nil); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs[:3] {
		_, err := s.Get(ctx, "a", f.ID)
		if deleted := i < 2; deleted != errors.Is(err, spatial.ErrNotFound) {
			t.Errorf("Get %s after delete: %v", f.ID, err)
		}
	}
	for _, id := range []string{"nope", "bad\x00id", "\xff", ""} {
		if _, err := s.Get(ctx, "a", id); !errors.Is(err, spatial.ErrNotFound) {
			t.Errorf("Get %q: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := s.Get(ctx, "zzz", fs[5].ID); !errors.Is(err, spatial.ErrNotFound) {
		t.Errorf("Get in missing layer: %v", err)
	}
	infos, err := s.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != "a" || infos[0].Count != 48 {
		t.Fatalf("layers %+v", infos)
	}
	if err := s.Delete(ctx, "a", idsOf(fs)); err != nil {
		t.Fatal(err)
	}
	if infos, err := s.Layers(ctx); err != nil || len(infos) != 0 {
		t.Fatalf("layers after deleting all: %+v, %v", infos, err)
	}
}

func idsOf(fs []*spatial.Feature) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}

func TestLayersCountsAndBounds(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	byLayer := map[string][]*spatial.Feature{
		"b":     mixed(2, "b", 300),
		"a":     buildings(3, "a", 0, 200, 0.1),
		"B":     mixed(4, "B", 10),
		"geoms": prepared(t, allGeometries()...),
	}
	for _, fs := range byLayer {
		if err := s.Put(ctx, fs); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := s.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"B", "a", "b", "geoms"} // bytewise order
	if len(infos) != len(names) {
		t.Fatalf("layers %+v", infos)
	}
	for i, li := range infos {
		fs := byLayer[li.Name]
		b := fs[0].Geometry.Bound()
		for _, f := range fs[1:] {
			b = b.Union(f.Geometry.Bound())
		}
		if li.Name != names[i] || li.Count != len(fs) || li.Bound != b {
			t.Errorf("layer %d: %+v, want %s %d %v", i, li, names[i], len(fs), b)
		}
	}
}

func TestScanAndScanCellMatchBruteForce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := mixed(5, "m", 3000)
	other := mixed(6, "n", 200) // another layer must not leak in
	if err := s.Put(ctx, append(append([]*spatial.Feature{}, fs...), other...)); err != nil {
		t.Fatal(err)
	}
	want := append([]*spatial.Feature{}, fs...)
	sortByCode(want)
	got := collect(t, func(fn func(*spatial.Feature) error) error { return s.Scan(ctx, "m", fn) })
	if len(got) != len(want) {
		t.Fatalf("scan gave %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("scan position %d: %s, want %s", i, got[i].ID, want[i].ID)
		}
		sameFeature(t, want[i], got[i])
	}

	// Cells at every level around features, including cells equal to a
	// feature's code, whose ancestors-coded features must not appear.
	var cells []gridcode.Code
	for i, f := range fs[:60] {
		lvl := i % 33
		if lvl > f.Code.Level() {
			cells = append(cells, f.Code)
			continue
		}
		cells = append(cells, f.Code.ParentAt(lvl))
	}
	cells = append(cells, gridcode.Code{})
	for _, cell := range cells {
		var want []*spatial.Feature
		for _, f := range fs {
			if cell.Contains(f.Code) {
				want = append(want, f)
			}
		}
		sortByCode(want)
		got := collect(t, func(fn func(*spatial.Feature) error) error { return s.ScanCell(ctx, "m", cell, fn) })
		if len(got) != len(want) {
			t.Fatalf("cell %s: %d features, want %d", cell, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID {
				t.Fatalf("cell %s position %d: %s, want %s", cell, i, got[i].ID, want[i].ID)
			}
		}
	}

	// fn's error stops the scan and is returned as is.
	stop := errors.New("stop")
	n := 0
	err := s.ScanCell(ctx, "m", gridcode.Code{}, func(*spatial.Feature) error {
		n++
		if n == 5 {
			return stop
		}
		return nil
	})
	if err != stop || n != 5 {
		t.Fatalf("scan stopped with %v after %d", err, n)
	}
	if got := collect(t, func(fn func(*spatial.Feature) error) error { return s.Scan(ctx, "missing", fn) }); len(got) != 0 {
		t.Fatalf("missing layer scanned %d", len(got))
	}
}

func TestPersistsAcrossReconnectAndReopen(t *testing.T) {
	s, url := newStore(t)
	ctx := context.Background()
	fs := mixed(7, "p", 500)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // safe twice
		t.Fatal(err)
	}
	s2 := open(t, url)
	for _, f := range fs {
		got, err := s2.Get(ctx, "p", f.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFeature(t, f, got)
	}
	var versions int
	if err := s2.DB().QueryRow(`SELECT count(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrations()) {
		t.Fatalf("%d schema_version rows after reopening, want %d", versions, len(migrations()))
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	url := newURL(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	stores := make([]*Store, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), url, &Options{MaxOpenConns: 2})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var versions int
	if err := stores[0].DB().QueryRow(`SELECT count(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrations()) {
		t.Fatalf("%d schema_version rows, want %d", versions, len(migrations()))
	}
	// And a schema newer than the program is refused.
	if _, err := stores[0].DB().Exec(`INSERT INTO schema_version (version) VALUES (999)`); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(context.Background(), url, nil); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

func TestBatchOf10000(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := buildings(8, "big", 0, 10000, 0.2)
	start := time.Now()
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	t.Logf("put 10,000 features in %v", time.Since(start))
	if n := count(t, s); n != 10000 {
		t.Fatalf("%d rows, want 10000", n)
	}
	for _, i := range []int{0, 1, 4999, 9999} {
		got, err := s.Get(ctx, "big", fs[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFeature(t, fs[i], got)
	}
	got := collect(t, func(fn func(*spatial.Feature) error) error { return s.Scan(ctx, "big", fn) })
	if len(got) != 10000 {
		t.Fatalf("scanned %d", len(got))
	}
	// Replacing the whole batch keeps the count.
	for _, f := range fs {
		f.Version += 10000
	}
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != 10000 {
		t.Fatalf("%d rows after replacing, want 10000", n)
	}
	f, err := s.Get(ctx, "big", fs[123].ID)
	if err != nil || f.Version != fs[123].Version {
		t.Fatalf("after replace: %v %v", f, err)
	}
}

func TestInvalidFeaturesAreRefused(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	good := mixed(9, "v", 20)
	for _, bad := range []*spatial.Feature{
		{Layer: "v", ID: "bad utf-8 \xc3\x28", Geometry: orb.Point{1, 2}},
		{Layer: "v\xff", ID: "x", Geometry: orb.Point{1, 2}},
		{Layer: "v", ID: "", Geometry: orb.Point{1, 2}},
		{Layer: "v", ID: "nogeom"},
		{Layer: "v", ID: "nan", Geometry: orb.Point{1, 2}, Properties: map[string]any{"x": math.NaN()}},
		{Layer: "v", ID: "far-future", Geometry: orb.Point{1, 2}, ValidFrom: time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Layer: "v", ID: "far-past", Geometry: orb.Point{1, 2}, ValidTo: time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), ValidFrom: time.Date(900, 1, 1, 0, 0, 0, 0, time.UTC)},
		nil,
	} {
		batch := append(append([]*spatial.Feature{}, good...), bad)
		err := s.Put(ctx, batch)
		if !errors.Is(err, spatial.ErrInvalid) {
			t.Errorf("put with %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if n := count(t, s); n != 0 {
		t.Fatalf("%d rows written by refused batches", n)
	}
}

func TestGeometryTypeRoundTripThroughEWKB(t *testing.T) {
	// EWKB is what the geometry column gets: check it against orb's WKB
	// (EWKB is WKB plus the SRID flag and value).
	for _, f := range allGeometries() {
		e, err := EWKB(f.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		w, err := wkb.Marshal(f.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		if e[0] != 1 || len(e) != len(w)+4 || string(e[9:]) != string(w[5:]) || string(e[1:4]) != string(w[1:4]) || e[4] != w[4]|0x20 {
			t.Errorf("%s: EWKB %x vs WKB %x", f.ID, e, w)
		}
	}
	if _, err := EWKB(nil); err == nil {
		t.Error("EWKB(nil) succeeded")
	}
}

// TestSchemasAreSeparate opens stores in two schemas of one database,
// chosen by search_path in the URL.
func TestSchemasAreSeparate(t *testing.T) {
	url := newURL(t)
	ctx := context.Background()
	admin := open(t, url)
	if _, err := admin.DB().Exec(`CREATE SCHEMA city_a; CREATE SCHEMA city_b`); err != nil {
		t.Fatal(err)
	}
	a := open(t, url+"&search_path=city_a,public")
	b := open(t, url+"&search_path=city_b,public")
	if err := a.Put(ctx, mixed(40, "l", 5)); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, mixed(41, "l", 7)); err != nil {
		t.Fatal(err)
	}
	for s, want := range map[*Store]int{admin: 0, a: 5, b: 7} {
		infos, err := s.Layers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(infos); (want == 0 && n != 0) || (want > 0 && (n != 1 || infos[0].Count != want)) {
			t.Errorf("want %d features, got layers %+v", want, infos)
		}
	}
	var tables int
	if err := admin.DB().QueryRow(`SELECT count(*) FROM pg_tables WHERE tablename = 'features' AND schemaname IN ('city_a', 'city_b')`).Scan(&tables); err != nil || tables != 2 {
		t.Fatalf("%d features tables: %v", tables, err)
	}
}
