package crs

// geographicCRS is a longitude/latitude system in degrees that this package
// treats as identical to WGS 84 (EPSG:4326 and EPSG:4490 CGCS2000).
type geographicCRS struct {
	code string
	name string
}

// wgs84CRS returns EPSG:4326.
func wgs84CRS() geographicCRS { return geographicCRS{code: "EPSG:4326", name: "WGS 84"} }

// cgcs2000CRS returns EPSG:4490, treated as identical to WGS 84.
func cgcs2000CRS() geographicCRS {
	return geographicCRS{code: "EPSG:4490", name: "China Geodetic Coordinate System 2000"}
}

// Code implements CRS.
func (g geographicCRS) Code() string { return g.code }

// Name implements CRS.
func (g geographicCRS) Name() string { return g.name }

// Geographic implements CRS; it always returns true.
func (g geographicCRS) Geographic() bool { return true }

// ToWGS84 implements CRS. x is longitude and y latitude in degrees; they are
// validated and returned unchanged.
func (g geographicCRS) ToWGS84(x, y float64) (lon, lat float64, err error) {
	if err := checkLonLat(op{g.code, wgs84Name}, x, y); err != nil {
		return 0, 0, err
	}
	return x, y, nil
}

// FromWGS84 implements CRS. The coordinate is validated and returned
// unchanged.
func (g geographicCRS) FromWGS84(lon, lat float64) (x, y float64, err error) {
	if err := checkLonLat(op{wgs84Name, g.code}, lon, lat); err != nil {
		return 0, 0, err
	}
	return lon, lat, nil
}
