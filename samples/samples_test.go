package samples

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/spatial"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"
)

// The default city is generated once for the tests that only read it.
var defaultCity = sync.OnceValues(func() (*City, error) { return Dalian(Options{Seed: 1}) })

func city(t testing.TB) *City {
	t.Helper()
	c, err := defaultCity()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// hashFeature feeds everything that describes a feature into h.
func hashFeature(h hash.Hash, f *spatial.Feature) {
	fmt.Fprintf(h, "%s\x00%s\x00", f.Layer, f.ID)
	b, err := wkb.Marshal(f.Geometry)
	if err != nil {
		panic(err)
	}
	h.Write(b)
	keys := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%T:%v\x00", k, f.Properties[k], f.Properties[k])
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], math.Float64bits(f.Height))
	h.Write(buf[:])
	fmt.Fprintf(h, "%d|%d|%d\n", f.Floors, f.ValidFrom.UnixNano(), f.ValidTo.UnixNano())
}

func hashGenerate(t *testing.T, gen func(func(*spatial.Feature) error) error) (string, int) {
	t.Helper()
	h := sha256.New()
	n := 0
	if err := gen(func(f *spatial.Feature) error { hashFeature(h, f); n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func TestDeterministic(t *testing.T) {
	c := city(t)
	h := sha256.New()
	for _, f := range c.Features {
		hashFeature(h, f)
	}
	first := hex.EncodeToString(h.Sum(nil))
	again, n := hashGenerate(t, func(s func(*spatial.Feature) error) error { return Generate(Options{Seed: 1}, s) })
	if again != first || n != len(c.Features) {
		t.Fatalf("same seed, different city: %s (%d features) vs %s (%d)", first, len(c.Features), again, n)
	}
	other, _ := hashGenerate(t, func(s func(*spatial.Feature) error) error { return Generate(Options{Seed: 2}, s) })
	if other == first {
		t.Fatal("seeds 1 and 2 give the same city")
	}
	t.Logf("seed 1: %d features, sha256 %s", n, first)
}

func TestLayerCounts(t *testing.T) {
	c := city(t)
	want := map[string][2]int{
		LayerLand: {39, 39}, LayerLandLow: {7, 8}, LayerSea: {1, 5}, LayerDistricts: {1, 1}, LayerStations: {266, 266},
		LayerGrids: {800, 2000}, LayerStreets: {1500, 4000}, LayerBlocks: {800, 2000}, LayerBuildings: {DefaultBuildings, DefaultBuildings},
		LayerSensors: {150, 600},
	}
	for _, l := range c.Metadata.Layers {
		w, ok := want[l.Name]
		if !ok {
			t.Errorf("unexpected layer %q", l.Name)
			continue
		}
		if l.Count < w[0] || l.Count > w[1] {
			t.Errorf("layer %s: %d features, want %d–%d", l.Name, l.Count, w[0], w[1])
		}
		t.Logf("%-12s %5d  %s", l.Name, l.Count, l.Title)
	}
	types := map[string]int{}
	for _, f := range c.Layer(LayerSensors) {
		types[f.Properties["type"].(string)]++
	}
	if types["water_level"] < 5 || types["traffic_detector"] < 50 || types["rain_gauge"] != 3 {
		t.Errorf("sensor types %v", types)
	}
	uses := map[string]int{}
	for _, f := range c.Layer(LayerBuildings) {
		uses[f.Properties["use"].(string)]++
	}
	for _, u := range []string{useResidential, useCommercial, useOffice, useSchool, useHospital, useIndustrial, useMixed} {
		if uses[u] == 0 {
			t.Errorf("no %s buildings: %v", u, uses)
		}
	}
	if uses[useResidential] < DefaultBuildings/2 {
		t.Errorf("uses %v: a city centre should be mostly residential", uses)
	}
	t.Logf("sensors %v; uses %v", types, uses)
}

func TestIDsUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range city(t).Features {
		k := f.Layer + "/" + f.ID
		if seen[k] {
			t.Fatalf("duplicate %s", k)
		}
		seen[k] = true
	}
}

func TestAllFeaturesPrepare(t *testing.T) {
	for _, f := range city(t).Features {
		g := f.Clone()
		if err := g.Prepare(); err != nil {
			t.Fatal(err)
		}
		if g.Code.Level() == 0 {
			t.Fatalf("%s/%s: no grid code", f.Layer, f.ID)
		}
	}
}

func TestSynthetic100kPrepare(t *testing.T) {
	const n = 100_000
	count := 0
	var ids [2]string
	err := GenerateSynthetic(SyntheticOptions{Buildings: n, Seed: 7}, func(f *spatial.Feature) error {
		if err := f.Prepare(); err != nil {
			return err
		}
		if f.Layer != LayerBuildings || f.Height <= 0 || f.Floors <= 0 || f.ValidFrom.IsZero() {
			return fmt.Errorf("bad synthetic building %+v", f)
		}
		if count == 0 {
			ids[0] = f.ID
		}
		ids[1] = f.ID
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n || ids[0] != "syn-0000001" || ids[1] != "syn-0100000" {
		t.Fatalf("got %d buildings, ids %v", count, ids)
	}
}

// landTest answers point-on-land in the district from the emitted land
// layer (cut to the district's surroundings for speed) with orb's plain
// point-in-polygon, independently of the generator's own index.
func landTest(t testing.TB, c *City) func(orb.Point) bool {
	var land []orb.Polygon
	for _, f := range c.Layer(LayerLand) {
		land = append(land, f.Geometry.(orb.Polygon))
	}
	around := DistrictBounds().Pad(0.01)
	local, err := intersection(land, []orb.Polygon{around.ToPolygon()})
	if err != nil {
		t.Fatal(err)
	}
	return func(p orb.Point) bool { return around.Contains(p) && polygonsContain(local, p) }
}

func polys(g orb.Geometry) []orb.Polygon {
	switch v := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{v}
	case orb.MultiPolygon:
		return v
	}
	panic(fmt.Sprintf("not polygonal: %T", g))
}

func TestLandAndSeaValid(t *testing.T) {
	c := city(t)
	for _, layer := range []string{LayerLand, LayerLandLow, LayerSea, LayerDistricts, LayerGrids, LayerBlocks} {
		var ps []orb.Polygon
		for _, f := range c.Layer(layer) {
			ps = append(ps, polys(f.Geometry)...)
			if err := validate(polys(f.Geometry)); err != nil {
				t.Errorf("%s/%s: %v", layer, f.ID, err)
			}
		}
		if layer == LayerLand || layer == LayerSea || layer == LayerLandLow {
			// The parts of one layer must not overlap either.
			if err := validate(ps); err != nil {
				t.Errorf("layer %s as a MultiPolygon: %v", layer, err)
			}
		}
	}
	// Sea + land (lakes filled) = clip box, and they do not overlap.
	var shells, sea []orb.Polygon
	for _, f := range c.Layer(LayerLand) {
		shells = append(shells, orb.Polygon{f.Geometry.(orb.Polygon)[0]})
	}
	for _, f := range c.Layer(LayerSea) {
		sea = append(sea, f.Geometry.(orb.Polygon))
	}
	box := dalianBox()
	boxArea := (box.e - box.w) * (box.n - box.s)
	if got := polygonsArea(sea) + polygonsArea(shells); math.Abs(got-boxArea) > 1e-9*boxArea {
		t.Errorf("sea + land = %.12f, box = %.12f", got, boxArea)
	}
	both, err := intersection(sea, shells)
	if err != nil {
		t.Fatal(err)
	}
	if a := polygonsArea(both); a > 1e-12*boxArea {
		t.Errorf("sea and land overlap by %g deg²", a)
	}
	// Islands are holes of the sea.
	if holes := len(sea[0]) - 1; holes < 30 {
		t.Errorf("main sea polygon has %d island holes, want the ~38 islands", holes)
	}
}

func TestGridsTileDistrict(t *testing.T) {
	c := city(t)
	district := polys(c.Layer(LayerDistricts)[0].Geometry)
	var grids []orb.Polygon
	var sum float64
	codes := map[string]bool{}
	for _, f := range c.Layer(LayerGrids) {
		ps := polys(f.Geometry)
		grids = append(grids, ps...)
		sum += polygonsArea(ps)
		code := f.ID
		if len(code) != 15 || !strings.HasPrefix(code, DistrictCode) || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("grid code %q is not 15 digits starting %s", code, DistrictCode)
		}
		if codes[code] {
			t.Fatalf("grid code %s twice", code)
		}
		codes[code] = true
		p := f.Properties
		if p["code"] != code || p["street_code"] != code[:9] || p["community_code"] != code[:12] || code[12:] == "000" {
			t.Fatalf("grid %s: inconsistent hierarchy %v", code, p)
		}
		if _, ok := p["officer_id"]; !ok || p["street"] == "" || p["community"] == "" {
			t.Fatalf("grid %s: missing properties %v", code, p)
		}
	}
	da := polygonsArea(district)
	if math.Abs(sum-da) > 1e-9*da {
		t.Errorf("grid areas sum to %.15g, district area %.15g (rel %g)", sum, da, (sum-da)/da)
	}
	u, err := union(grids)
	if err != nil {
		t.Fatal(err)
	}
	if ua := polygonsArea(u); math.Abs(ua-sum) > 1e-9*sum {
		t.Errorf("grids overlap: union %.15g, sum %.15g", ua, sum)
	}
	gap1, err := difference(district, u)
	if err != nil {
		t.Fatal(err)
	}
	gap2, err := difference(u, district)
	if err != nil {
		t.Fatal(err)
	}
	if g := polygonsArea(gap1) + polygonsArea(gap2); g > 1e-9*da {
		t.Errorf("grids and district differ by %g deg²", g)
	}
	t.Logf("%d grids, district %.3f km²", len(codes), c.Layer(LayerDistricts)[0].Properties["area_km2"])
}

// gridIndex finds the grids containing a point.
type gridIndex struct {
	tr    rtree.RTreeG[*spatial.Feature]
	polys map[*spatial.Feature][]orb.Polygon
}

func newGridIndex(fs []*spatial.Feature) *gridIndex {
	g := &gridIndex{polys: map[*spatial.Feature][]orb.Polygon{}}
	for _, f := range fs {
		b := f.Geometry.Bound()
		g.tr.Insert(b.Min, b.Max, f)
		g.polys[f] = polys(f.Geometry)
	}
	return g
}

func (g *gridIndex) containing(p orb.Point) []*spatial.Feature {
	var out []*spatial.Feature
	g.tr.Search(p, p, func(_, _ [2]float64, f *spatial.Feature) bool {
		if polygonsContain(g.polys[f], p) {
			out = append(out, f)
		}
		return true
	})
	return out
}

func TestEveryBuildingInExactlyOneGrid(t *testing.T) {
	c := city(t)
	gi := newGridIndex(c.Layer(LayerGrids))
	for _, b := range c.Layer(LayerBuildings) {
		ctr, _ := planar.CentroidArea(b.Geometry)
		in := gi.containing(ctr)
		if len(in) != 1 {
			t.Fatalf("building %s centroid %v is in %d grids", b.ID, ctr, len(in))
		}
		if in[0].ID != b.Properties["grid"] || !strings.Contains(b.ID, in[0].ID) {
			t.Fatalf("building %s lies in grid %s but says %v", b.ID, in[0].ID, b.Properties["grid"])
		}
	}
}

// polygonsOverlap reports whether two simple polygons share interior:
// crossing edges, or a vertex of one strictly inside the other.
func polygonsOverlap(a, b orb.Ring) bool {
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			if _, hit := segmentTouch(a[i], a[i+1], b[j], b[j+1]); hit {
				return true
			}
		}
	}
	return planar.RingContains(b, a[0]) || planar.RingContains(a, b[0])
}

func TestBuildingsOnLandApartAndOffStreets(t *testing.T) {
	c := city(t)
	onLand := landTest(t, c)
	bs := c.Layer(LayerBuildings)
	var tr rtree.RTreeG[*spatial.Feature]
	for _, b := range bs {
		for _, p := range b.Geometry.(orb.Polygon)[0] {
			if !onLand(p) {
				t.Fatalf("building %s vertex %v is not on land", b.ID, p)
			}
		}
		bd := b.Geometry.Bound()
		tr.Insert(bd.Min, bd.Max, b)
	}
	pairs := 0
	for _, b := range bs {
		bd := b.Geometry.Bound()
		tr.Search(bd.Min, bd.Max, func(_, _ [2]float64, o *spatial.Feature) bool {
			if o.ID <= b.ID {
				return true
			}
			pairs++
			if polygonsOverlap(b.Geometry.(orb.Polygon)[0], o.Geometry.(orb.Polygon)[0]) {
				t.Errorf("buildings %s and %s overlap", b.ID, o.ID)
			}
			return true
		})
	}
	// Streets: no building within half the carriageway plus the sidewalk
	// of a centre line (checked in metres).
	pr := newProj((districtWest+districtEast)/2, (districtSouth+districtNorth)/2)
	type seg struct {
		a, b  orb.Point
		clear float64
	}
	var st rtree.RTreeG[seg]
	for _, s := range c.Layer(LayerStreets) {
		var lines []orb.LineString
		switch g := s.Geometry.(type) {
		case orb.LineString:
			lines = []orb.LineString{g}
		case orb.MultiLineString:
			lines = g
		}
		clear := s.Properties["width_m"].(float64) / 2
		for _, l := range lines {
			for k := 0; k+1 < len(l); k++ {
				a, b := pr.fwd(l[k]), pr.fwd(l[k+1])
				st.Insert([2]float64{min(a[0], b[0]), min(a[1], b[1])}, [2]float64{max(a[0], b[0]), max(a[1], b[1])}, seg{a, b, clear})
			}
		}
	}
	for _, b := range bs {
		r := pr.mapRing(b.Geometry.(orb.Polygon)[0], pr.fwd)
		bd := r.Bound().Pad(20)
		st.Search(bd.Min, bd.Max, func(_, _ [2]float64, s seg) bool {
			for k := 0; k+1 < len(r); k++ {
				if _, hit := segmentTouch(r[k], r[k+1], s.a, s.b); hit {
					t.Fatalf("building %s crosses a street", b.ID)
				}
			}
			for _, p := range r {
				if d := distToSegment(p, s.a, s.b); d < s.clear {
					t.Fatalf("building %s is %.1f m from a street centre line (carriageway half-width %.1f m)", b.ID, d, s.clear)
				}
			}
			return true
		})
	}
	t.Logf("%d buildings, %d candidate pairs checked", len(bs), pairs)
}

func TestBuildingAttributes(t *testing.T) {
	c := city(t)
	demolished := 0
	addrs := map[string]bool{}
	for _, b := range c.Layer(LayerBuildings) {
		p := b.Properties
		if b.Floors < 1 || math.Abs(b.Height-3*float64(b.Floors)) > 2 {
			t.Fatalf("%s: %d floors, %.1f m", b.ID, b.Floors, b.Height)
		}
		y := p["year_built"].(int)
		if y < 1950 || y > 2024 || b.ValidFrom.Year() != y {
			t.Fatalf("%s: built %d, valid from %v", b.ID, y, b.ValidFrom)
		}
		if p["name"] == "" || p["address"] == "" {
			t.Fatalf("%s: no name or address: %v", b.ID, p)
		}
		if a := p["address"].(string); addrs[a] {
			t.Fatalf("address %s twice", a)
		} else {
			addrs[a] = true
		}
		if !b.ValidTo.IsZero() {
			demolished++
			if !b.ValidTo.After(b.ValidFrom) || p["status"] != "demolished" {
				t.Fatalf("%s: demolished %v, built %v, status %v", b.ID, b.ValidTo, b.ValidFrom, p["status"])
			}
		}
	}
	if demolished < 10 || demolished > 300 {
		t.Errorf("%d demolished buildings", demolished)
	}
	// History: the city of 2000 differs from today's.
	then, now := 0, 0
	t2000 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range c.Layer(LayerBuildings) {
		if b.AliveAt(t2000) {
			then++
		}
		if b.AliveAt(time.Time{}) {
			now++
		}
	}
	if then >= now || now != DefaultBuildings-demolished {
		t.Errorf("alive in 2000: %d, now: %d, demolished %d", then, now, demolished)
	}
}

func TestStreetsOnLand(t *testing.T) {
	c := city(t)
	onLand := landTest(t, c)
	classes := map[string]int{}
	oneway := 0
	for _, s := range c.Layer(LayerStreets) {
		var lines []orb.LineString
		switch g := s.Geometry.(type) {
		case orb.LineString:
			lines = []orb.LineString{g}
		case orb.MultiLineString:
			lines = g
		}
		for _, l := range lines {
			for k, p := range l {
				if !onLand(p) {
					t.Fatalf("street %s point %v is in the sea", s.ID, p)
				}
				if k > 0 {
					mid := orb.Point{(p[0] + l[k-1][0]) / 2, (p[1] + l[k-1][1]) / 2}
					if !onLand(mid) {
						t.Fatalf("street %s crosses the sea at %v", s.ID, mid)
					}
				}
			}
		}
		p := s.Properties
		classes[p["class"].(string)]++
		if p["oneway"].(bool) {
			oneway++
		}
		if p["name"] == "" || p["lanes"].(int) < 1 || p["maxspeed_kmh"].(int) < 20 {
			t.Fatalf("street %s: %v", s.ID, p)
		}
	}
	if classes["arterial"] == 0 || classes["secondary"] == 0 || classes["local"] == 0 || oneway == 0 {
		t.Errorf("classes %v, %d one-way", classes, oneway)
	}
}

func TestSensorsPlaced(t *testing.T) {
	c := city(t)
	onLand := landTest(t, c)
	district := polys(c.Layer(LayerDistricts)[0].Geometry)
	for _, s := range c.Layer(LayerSensors) {
		p := s.Geometry.(orb.Point)
		// Detectors on the outermost streets sit on the district's edge.
		inside := polygonsContain(district, p) || planar.DistanceFrom(orb.MultiPolygon(district), p) < 1e-5
		if !onLand(p) || !inside {
			t.Errorf("sensor %s at %v is not on the district's land", s.ID, p)
		}
	}
}

func TestMetadata(t *testing.T) {
	c := city(t)
	m := c.Metadata
	if m.Attribution != Attribution || !strings.Contains(Attribution, "© OpenStreetMap contributors") {
		t.Errorf("attribution %q", m.Attribution)
	}
	if len(m.AdminCodes) != 11 || m.DistrictCode != "210202" {
		t.Fatalf("admin codes %v", m.AdminCodes)
	}
	found := false
	for _, a := range m.AdminCodes {
		if a.Code == "210202" && a.NameZh == "中山区" && a.Parent == "210200" {
			found = true
		}
	}
	if !found {
		t.Errorf("中山区 210202 missing from %v", m.AdminCodes)
	}
	if d := c.Layer(LayerDistricts)[0]; d.Properties["adcode"] != "210202" || d.Properties["name_zh"] != "中山区" {
		t.Errorf("district properties %v", d.Properties)
	}
}

func TestOverflowToSynthetic(t *testing.T) {
	const n = 9000
	district, synthetic := 0, 0
	var db orb.Bound // the district's extent, known before any building
	err := Generate(Options{Seed: 3, Buildings: n}, func(f *spatial.Feature) error {
		if f.Layer == LayerDistricts {
			db = f.Geometry.Bound()
		}
		if f.Layer != LayerBuildings {
			return nil
		}
		if strings.HasPrefix(f.ID, "syn-") {
			synthetic++
			if db.Intersects(f.Geometry.Bound()) {
				return fmt.Errorf("synthetic building %s inside the district", f.ID)
			}
		} else {
			district++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if district+synthetic != n || synthetic == 0 || district < DefaultBuildings {
		t.Errorf("district %d + synthetic %d, want %d", district, synthetic, n)
	}
}

func TestErrors(t *testing.T) {
	stop := errors.New("stop")
	calls := 0
	err := Generate(Options{}, func(*spatial.Feature) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("sink error: %v after %d calls", err, calls)
	}
	err = GenerateSynthetic(SyntheticOptions{Buildings: 10}, func(*spatial.Feature) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("synthetic sink error: %v", err)
	}
	if err := Generate(Options{Buildings: -1}, func(*spatial.Feature) error { return nil }); err == nil {
		t.Error("negative buildings accepted")
	}
	if err := GenerateSynthetic(SyntheticOptions{Buildings: -1}, func(*spatial.Feature) error { return nil }); err == nil {
		t.Error("negative synthetic buildings accepted")
	}
	if err := Generate(Options{}, nil); err == nil {
		t.Error("nil sink accepted")
	}
}

func TestFewerBuildings(t *testing.T) {
	n := 0
	grids := map[any]bool{}
	err := Generate(Options{Seed: 1, Buildings: 300}, func(f *spatial.Feature) error {
		if f.Layer == LayerBuildings {
			n++
			grids[f.Properties["grid"]] = true
		}
		return nil
	})
	if err != nil || n != 300 {
		t.Fatalf("%d buildings, %v", n, err)
	}
	if len(grids) < 200 {
		t.Errorf("300 buildings fall in only %d grids: not spread over the district", len(grids))
	}
}
