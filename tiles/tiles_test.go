package tiles

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

func square(id string, x, y, w float64) *spatial.Feature {
	f := &spatial.Feature{Layer: "buildings", ID: id,
		Geometry: orb.Polygon{{{x, y}, {x + w, y}, {x + w, y + w}, {x, y + w}, {x, y}}},
		Height:   30, Floors: 10, Properties: map[string]any{"use": "office", "n": 3.5, "nested": map[string]any{"a": 1.0}}}
	if err := f.Prepare(); err != nil {
		panic(err)
	}
	return f
}

func TestRenderTile(t *testing.T) {
	ix := spatial.NewIndex()
	big := square("big", 121.640, 38.915, 0.002)
	tiny := square("tiny", 121.645, 38.916, 0.00001)
	road := &spatial.Feature{Layer: "streets", ID: "7", Geometry: orb.LineString{{121.60, 38.916}, {121.70, 38.916}}, Properties: map[string]any{"class": "arterial"}}
	if err := road.Prepare(); err != nil {
		t.Fatal(err)
	}
	ended := square("gone", 121.642, 38.917, 0.001)
	ended.ValidTo = time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	ix.Apply([]*spatial.Feature{big, tiny, road, ended})
	g := NewGenerator(ix, DefaultOptions())
	tile := maptile.At(orb.Point{121.641, 38.916}, 14)
	data, st, err := g.Render([]string{"buildings", "streets"}, 14, int(tile.X), int(tile.Y), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Features != 2 || st.Dropped != 1 {
		t.Errorf("stats %+v, want 2 features and the tiny one dropped", st)
	}
	dec, err := mvt.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.Layers) != 2 || dec.Layers[0].Name != "buildings" || dec.Layers[1].Name != "streets" {
		t.Fatalf("layers %+v", dec.Layers)
	}
	// Below the detail zoom only the lean keys travel.
	b := dec.Layers[0].Features[0]
	if b.Properties["id"] != "big" || b.Properties["height"] != 30.0 || b.Properties["floors"] != int64(10) ||
		b.Properties["use"] != "office" || b.Properties["gridcode"] != nil || b.Properties["n"] != nil || b.Properties["nested"] != nil {
		t.Errorf("z14 attributes %v", b.Properties)
	}
	if b.ID != FeatureID("big") || FeatureID("7") != 7 {
		t.Errorf("ids %d", b.ID)
	}
	// The road crosses the whole tile: clipped to the buffer.
	for _, p := range dec.Layers[1].Features[0].Geometry.(orb.LineString) {
		if p[0] < -Buffer || p[0] > Extent+Buffer {
			t.Errorf("road point %v outside the buffer", p)
		}
	}
	// At a detail zoom nothing is dropped for size and every scalar
	// attribute travels.
	tile = maptile.At(orb.Point{121.6405, 38.9155}, 18)
	data, st, err = g.Render([]string{"buildings"}, 18, int(tile.X), int(tile.Y), time.Time{})
	if err != nil || st.Features < 1 || st.Dropped != 0 {
		t.Errorf("z18: %+v %v", st, err)
	}
	if dec, err = mvt.Decode(data); err != nil {
		t.Fatal(err)
	}
	b = dec.Layers[0].Features[0]
	if b.Properties["id"] != "big" || b.Properties["gridcode"] != big.Code.String() || b.Properties["n"] != 3.5 || b.Properties["nested"] != nil {
		t.Errorf("z18 attributes %v", b.Properties)
	}
	// As of 2005 the demolished building is there.
	tile = maptile.At(orb.Point{121.6425, 38.9175}, 16)
	_, now, _ := g.Render([]string{"buildings"}, 16, int(tile.X), int(tile.Y), time.Time{})
	_, then, _ := g.Render([]string{"buildings"}, 16, int(tile.X), int(tile.Y), time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC))
	if then.Features != now.Features+1 {
		t.Errorf("as of 2005: %d features, now %d", then.Features, now.Features)
	}
	// Missing layers render empty, bad addresses fail.
	if data, _, err := g.Render([]string{"nothing"}, 3, 1, 1, time.Time{}); err != nil || len(data) != 0 {
		t.Errorf("empty layer: %d bytes %v", len(data), err)
	}
	for _, zxy := range [][3]int{{-1, 0, 0}, {23, 0, 0}, {2, 4, 0}, {2, 0, -1}} {
		if _, _, err := g.Render([]string{"buildings"}, zxy[0], zxy[1], zxy[2], time.Time{}); err == nil {
			t.Errorf("%v accepted", zxy)
		}
	}
}

func TestProjection(t *testing.T) {
	// The tile's own corners project to 0 and Extent.
	tile := maptile.New(6843, 3101, 13)
	b := tile.Bound()
	nw := project(orb.Point{b.Min[0], b.Max[1]}, tile).(orb.Point)
	se := project(orb.Point{b.Max[0], b.Min[1]}, tile).(orb.Point)
	if math.Abs(nw[0]) > 1e-6 || math.Abs(nw[1]) > 1e-6 || math.Abs(se[0]-Extent) > 1e-6 || math.Abs(se[1]-Extent) > 1e-6 {
		t.Errorf("corners project to %v and %v", nw, se)
	}
}

func TestCacheInvalidation(t *testing.T) {
	c, err := NewCache(100)
	if err != nil {
		t.Fatal(err)
	}
	near := maptile.At(orb.Point{121.641, 38.916}, 15)
	far := maptile.At(orb.Point{122.5, 39.5}, 15)
	parent := near.Parent()
	for _, tl := range []maptile.Tile{near, far, parent} {
		c.Put(Key{Layers: "buildings", Z: int(tl.Z), X: int(tl.X), Y: int(tl.Y)}, []byte{1}, Stats{})
	}
	ch := spatial.Change{Kind: spatial.Update, Old: orb.Bound{Min: orb.Point{121.6409, 38.9159}, Max: orb.Point{121.6411, 38.9161}},
		New: orb.Bound{Min: orb.Point{121.6409, 38.9159}, Max: orb.Point{121.6411, 38.9161}}}
	c.Invalidate(ch)
	if _, ok := c.Get(Key{Layers: "buildings", Z: 15, X: int(near.X), Y: int(near.Y)}); ok {
		t.Errorf("touched tile still cached")
	}
	if _, ok := c.Get(Key{Layers: "buildings", Z: 14, X: int(parent.X), Y: int(parent.Y)}); ok {
		t.Errorf("touched parent tile still cached")
	}
	if _, ok := c.Get(Key{Layers: "buildings", Z: 15, X: int(far.X), Y: int(far.Y)}); !ok {
		t.Errorf("untouched tile evicted")
	}
	e := c.Put(Key{Layers: "x"}, []byte("abc"), Stats{})
	gz := c.GzipOf(e)
	if e.ETag == "" || len(gz) == 0 || &c.GzipOf(e)[0] != &gz[0] {
		t.Errorf("entry %+v, gzip %d bytes", e, len(gz))
	}
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "abc" {
		t.Errorf("gzip round trip %q", b)
	}
	if c.Put(Key{Layers: "y"}, []byte("abd"), Stats{}).ETag == e.ETag {
		t.Errorf("different tiles share an ETag")
	}
}

// TestClipConcavePolygonLeavesNoBridge clips a U-shaped polygon whose two
// arms leave the box: the result must be two separate valid polygons, not
// one ring joined by a zero-width bridge along the box edge (what
// Sutherland–Hodgman clipping produces).
func TestClipConcavePolygonLeavesNoBridge(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{100, 100}}
	u := orb.Polygon{{{10, 50}, {30, 50}, {30, 150}, {70, 150}, {70, 50}, {90, 50}, {90, 200}, {10, 200}, {10, 50}}}
	got := clipToBox(box, u)
	mp, ok := got.(orb.MultiPolygon)
	if !ok || len(mp) != 2 {
		t.Fatalf("clip of a U gives %T %v, want two polygons", got, got)
	}
	area := 0.0
	for _, p := range mp {
		area += polygonArea(p)
		for _, q := range p[0] {
			if q[0] < 0 || q[0] > 100 || q[1] < 0 || q[1] > 100 {
				t.Errorf("point %v outside the box", q)
			}
		}
	}
	if math.Abs(area-2*20*50) > 1e-9 {
		t.Errorf("clipped area %v, want 2000", area)
	}
	inside := orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 1}}}
	if got := clipToBox(box, inside); !orb.Equal(got, inside) {
		t.Errorf("inside polygon changed: %v", got)
	}
	if got := clipToBox(box, orb.Polygon{{{200, 200}, {300, 200}, {300, 300}, {200, 200}}}); got != nil {
		t.Errorf("outside polygon kept: %v", got)
	}
}

func TestConvex(t *testing.T) {
	tests := []struct {
		r    orb.Ring
		want bool
	}{
		{orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}, true},
		{orb.Ring{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}, true},
		{orb.Ring{{0, 0}, {1, 0}, {2, 0}, {2, 1}, {0, 1}, {0, 0}}, true},
		{orb.Ring{{0, 0}, {2, 0}, {2, 2}, {1, 1}, {0, 2}, {0, 0}}, false},
		{orb.Ring{{0, 0}, {1, 0}, {2, 0}, {0, 0}}, false},
	}
	for i, tc := range tests {
		if got := convex(tc.r); got != tc.want {
			t.Errorf("case %d: convex = %v", i, got)
		}
	}
	// A convex polygon crossing the box clips to the same area either way.
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{100, 100}}
	sq := orb.Polygon{{{50, 50}, {150, 50}, {150, 150}, {50, 150}, {50, 50}}}
	if a := polygonArea(clipToBox(box, sq).(orb.Polygon)); a != 2500 {
		t.Errorf("clipped square area %v", a)
	}
}
