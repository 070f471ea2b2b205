package crs

import (
	"fmt"
	"math"
)

// Web Mercator (EPSG:3857) constants.
const (
	// WebMercatorMaxLat is the latitude limit, in degrees, of EPSG:3857;
	// FromWGS84 clamps latitudes to ±WebMercatorMaxLat, which makes the
	// projected world square.
	WebMercatorMaxLat = 85.05112878
	// WebMercatorExtent is the half-width of the EPSG:3857 square world in
	// metres (π × 6378137).
	WebMercatorExtent = math.Pi * WGS84SemiMajorAxis
	// webMercatorSlack is the tolerance in metres by which inverse input may
	// exceed WebMercatorExtent before being rejected.
	webMercatorSlack = 1e-3
)

// webMercatorCRS is EPSG:3857, "WGS 84 / Pseudo-Mercator": a spherical
// Mercator projection of WGS 84 longitude/latitude on a sphere of radius
// 6378137 m.
type webMercatorCRS struct{}

// Code implements CRS.
func (webMercatorCRS) Code() string { return "EPSG:3857" }

// Name implements CRS.
func (webMercatorCRS) Name() string { return "WGS 84 / Pseudo-Mercator" }

// Geographic implements CRS; it returns false.
func (webMercatorCRS) Geographic() bool { return false }

// FromWGS84 implements CRS. Latitude is clamped to ±WebMercatorMaxLat.
func (webMercatorCRS) FromWGS84(lon, lat float64) (x, y float64, err error) {
	if err := checkLonLat(op{wgs84Name, "EPSG:3857"}, lon, lat); err != nil {
		return 0, 0, err
	}
	lat = math.Max(-WebMercatorMaxLat, math.Min(WebMercatorMaxLat, lat))
	x = WGS84SemiMajorAxis * lon * deg2rad
	y = WGS84SemiMajorAxis * math.Asinh(math.Tan(lat*deg2rad))
	return x, y, nil
}

// ToWGS84 implements CRS. Coordinates more than 1 mm outside the square
// ±WebMercatorExtent are rejected; the result latitude is clamped to
// ±WebMercatorMaxLat and longitude to ±180°.
func (webMercatorCRS) ToWGS84(x, y float64) (lon, lat float64, err error) {
	if err := checkFinite(op{"EPSG:3857", wgs84Name}, x, y); err != nil {
		return 0, 0, err
	}
	const lim = WebMercatorExtent + webMercatorSlack
	if math.Abs(x) > lim || math.Abs(y) > lim {
		return 0, 0, fmt.Errorf("crs: EPSG:3857 to WGS 84: (%v, %v) outside ±%.3f m: %w",
			x, y, WebMercatorExtent, ErrOutOfRange)
	}
	lon = math.Max(-180, math.Min(180, x/WGS84SemiMajorAxis*rad2deg))
	lat = math.Atan(math.Sinh(y/WGS84SemiMajorAxis)) * rad2deg
	lat = math.Max(-WebMercatorMaxLat, math.Min(WebMercatorMaxLat, lat))
	return lon, lat, nil
}
