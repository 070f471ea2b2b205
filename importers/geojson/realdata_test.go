package geojson

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// dalianDir is the team's reference data, beside the project.
var dalianDir = filepath.Join("..", "..", "..", "shared", "data", "dalian")

// openDalian opens a reference file or skips the test without it.
func openDalian(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(dalianDir, name))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("reference data %s not present (needs the shared data beside the project): %v", name, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestDalianData imports the reference files and checks them against the
// figures in their README.
func TestDalianData(t *testing.T) {
	clip := orb.Bound{Min: orb.Point{120.85, 38.60}, Max: orb.Point{123.65, 40.32}}
	tests := []struct {
		file               string
		features, polygons int
		vertices           int
	}{
		// "~39 polygons incl. Changshan islands … 2,479 vertices."
		{"dalian_land_osm_geomaps10m.geojson", 1, 39, 2479},
		// "7 polygons, 534 vertices."
		{"dalian_land_naturalearth10m.geojson", 1, 7, 534},
		// "266 railway points."
		{"dalian_railway_stations_osm.geojson", 266, 0, 266},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := openDalian(t, tt.file)
			size, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			var feats []*spatial.Feature
			var last importers.Progress
			opts := importers.Options{File: tt.file, Layer: "dalian", Total: size.Size(), Progress: func(p importers.Progress) { last = p }}
			stats, err := Import(f, opts, func(f *spatial.Feature) error {
				feats = append(feats, f)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if stats.Features != int64(tt.features) || len(feats) != tt.features || stats.Vertices != int64(tt.vertices) || stats.Bytes != size.Size() || stats.CRS != "EPSG:4326" || stats.Form != "FeatureCollection" {
				t.Errorf("%+v, want %d features, %d vertices", stats, tt.features, tt.vertices)
			}
			if last.Bytes != size.Size() || last.Features != stats.Features {
				t.Errorf("final progress %+v, want %d bytes", last, size.Size())
			}
			polys, verts := 0, 0
			for _, f := range feats {
				verts += vertices(f.Geometry)
				switch g := f.Geometry.(type) {
				case orb.Polygon:
					polys++
				case orb.MultiPolygon:
					polys += len(g)
				}
				if b := f.Geometry.Bound(); !clip.Contains(b.Min) || !clip.Contains(b.Max) {
					t.Errorf("feature %s bound %v outside the clip box", f.ID, b)
				}
			}
			if polys != tt.polygons || verts != tt.vertices {
				t.Errorf("%d polygons, %d vertices; want %d, %d", polys, verts, tt.polygons, tt.vertices)
			}
		})
	}
}

// TestDalianStations checks the station properties the README describes.
func TestDalianStations(t *testing.T) {
	f := openDalian(t, "dalian_railway_stations_osm.geojson")
	kinds := map[any]int{}
	named := 0
	ids := map[string]bool{}
	_, err := Import(f, importers.Options{File: "stations", Layer: "stations"}, func(f *spatial.Feature) error {
		kinds[f.Properties["station"]]++
		if _, ok := f.Properties["name"]; ok {
			named++ // null names are left out
		}
		ids[f.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// "115 subway, 69 train, 62 tram_stop, 20 tram; only 45 carry a name."
	want := map[any]int{"subway": 115, "train": 69, "tram_stop": 62, "tram": 20}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %v stations, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	if named != 45 {
		t.Errorf("%d named stations, want 45", named)
	}
	if len(ids) != 266 {
		t.Errorf("%d distinct ids, want 266 (feature numbers)", len(ids))
	}
}
