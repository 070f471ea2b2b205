package geojson_test

import (
	"fmt"
	"strings"

	"citytwin/importers"
	"citytwin/importers/geojson"
	"citytwin/spatial"
)

func ExampleImport() {
	in := `{"type": "FeatureCollection", "features": [
  {"type": "Feature", "id": "xinghai-1",
   "properties": {"name": "星海广场 1号楼", "height": "36 m", "building:levels": "12"},
   "geometry": {"type": "Polygon", "coordinates": [[[121.6, 38.9], [121.6004, 38.9], [121.6004, 38.9003], [121.6, 38.9]]]}},
  {"type": "Feature",
   "geometry": {"type": "Point", "coordinates": [121.6, 38.9, 12.5]}}
]}`
	opts := importers.Options{File: "xinghai.geojson", Layer: "buildings"}
	st, err := geojson.Import(strings.NewReader(in), opts, func(f *spatial.Feature) error {
		fmt.Println(f.ID, f.Geometry.GeoJSONType(), f.Height, f.Floors, f.Properties)
		return nil
	})
	fmt.Println(st.Features, st.Vertices, err)

	_, err = geojson.Import(strings.NewReader(`{"type": "Feature", "geometry": null}`), opts, func(*spatial.Feature) error { return nil })
	fmt.Println(err)
	// Output:
	// xinghai-1 Polygon 36 12 map[name:星海广场 1号楼]
	// 2 Point 0 0 map[z:12.5]
	// 2 5 <nil>
	// xinghai.geojson:1:33: feature 1: invalid feature: the feature has no geometry (CityTwin features need one: null geometries are rejected)
}
