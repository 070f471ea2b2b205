package crs_test

import (
	"fmt"

	"citytwin/spatial/crs"
)

func ExampleLookup() {
	gk, err := crs.Lookup("EPSG:4549")
	if err != nil {
		fmt.Println(err)
		return
	}
	x, y, err := gk.FromWGS84(120, 0)
	fmt.Println(gk.Code(), gk.Name(), x, y, err)

	_, err = crs.Lookup("EPSG:2000")
	fmt.Println(err != nil)
	// Output:
	// EPSG:4549 CGCS2000 / 3-degree Gauss-Kruger CM 120E 500000 0 <nil>
	// true
}

func ExampleZoneForLon() {
	fmt.Println(crs.ZoneForLon(121.26)) // Lüshunkou
	fmt.Println(crs.ZoneForLon(121.6))  // central Dalian
	// Output:
	// 4549
	// 4550
}

func ExampleTransform() {
	gcj, _ := crs.Lookup("GCJ-02")
	gk, _ := crs.Lookup("EPSG:4550")
	// A point read from an AMap (GCJ-02) layer, converted to CGCS2000 GK.
	x, y, err := crs.Transform(gcj, gk, 121.6196433, 38.9147773)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("E %.1f N %.1f\n", x, y)
	lon, lat, _ := gk.ToWGS84(x, y)
	fmt.Printf("lon %.5f lat %.5f\n", lon, lat)
	// Output:
	// E 379848.8 N 4309869.2
	// lon 121.61470 lat 38.91400
}

func ExampleGaussKruger() {
	c, _ := crs.Lookup("EPSG:4528")
	if gk, ok := c.(crs.GaussKruger); ok {
		fmt.Println(gk.Zone(), gk.CentralMeridian(), gk.FalseEasting(), gk.Zoned())
	}
	// Output:
	// 40 120 4.05e+07 true
}
