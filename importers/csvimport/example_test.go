package csvimport_test

import (
	"fmt"
	"strings"

	"citytwin/importers"
	"citytwin/importers/csvimport"
	"citytwin/spatial"
)

func ExampleImport() {
	in := "站点ID;名称;经度;纬度;floors;opened\n" +
		"S01;星海广场;121.5857;38.8819;;2002-11-08\n" +
		"S02;\"Zhongshan; Square\";121.6448;38.9180;3;true\n"
	opts := importers.Options{File: "stations.csv", Layer: "stations"}
	st, err := csvimport.Import(strings.NewReader(in), opts, func(f *spatial.Feature) error {
		fmt.Println(f.ID, f.Geometry, f.Floors, f.Properties)
		return nil
	})
	fmt.Printf("%q %s/%s %d %v\n", st.Comma, st.Lon, st.Lat, st.Features, err)

	_, err = csvimport.Import(strings.NewReader("id,wkt\n1,\"POLYGON ((0 0, 1 0, 1 1))\"\n"), opts, func(*spatial.Feature) error { return nil })
	fmt.Println(err)
	// Output:
	// 1 [121.5857 38.8819] 0 map[opened:2002-11-08 名称:星海广场 站点ID:S01]
	// 2 [121.6448 38.918] 3 map[opened:true 名称:Zhongshan; Square 站点ID:S02]
	// ';' 经度/纬度 2 <nil>
	// stations.csv:2:3: feature 1: invalid feature: stations/1: ring 0: ring with 3 points (want at least 4)
}
