package gridmgmt

import (
	"context"
	"testing"

	"citytwin/samples"
	"citytwin/spatial"
	"citytwin/spatial/pebblestore"
)

// TestSampleCityGrids locates cases in the sample city's unit grids.
func TestSampleCityGrids(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the sample city")
	}
	st, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := spatial.NewKernel(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	var grids []*spatial.Feature
	err = samples.Generate(samples.Options{Buildings: 10}, func(f *spatial.Feature) error {
		if f.Layer == samples.LayerGrids {
			grids = append(grids, f)
		}
		return nil
	})
	if err != nil || len(grids) == 0 {
		t.Fatalf("%d grids, %v", len(grids), err)
	}
	if _, err := k.Put(context.Background(), grids); err != nil {
		t.Fatal(err)
	}
	s, err := New(k, Options{})
	if err != nil {
		t.Fatal(err)
	}
	located := 0
	for i := 0; i < len(grids); i += max(1, len(grids)/100) {
		g := grids[i]
		if len(g.ID) != 15 || g.Properties["code"] != g.ID {
			t.Fatalf("grid %s: %v", g.ID, g.Properties)
		}
		p := g.Geometry.Bound().Center()
		if !spatial.Intersects(g.Geometry, p) {
			continue // a coastal grid whose box centre is at sea
		}
		located++
		lon, lat := p[0], p[1]
		c, err := s.Create(context.Background(), NewCase{Kind: Component, Category: "01", Title: "井盖缺失", Lon: &lon, Lat: &lat})
		if err != nil {
			t.Fatal(err)
		}
		if c.Grid != g.ID || c.Community == "" || c.Street == "" {
			t.Fatalf("case at the centre of %s: %+v", g.ID, c)
		}
	}
	if located < 50 {
		t.Fatalf("only %d grid centres tried", located)
	}
}
