package crs

import (
	"fmt"
	"math"
	"strconv"
)

// Domain limits of the Gauss–Krüger conversions. They are far wider than a
// 3-degree zone (±1.5°) so that data spilling across a zone boundary still
// converts exactly, yet well inside the region where the sixth-order Krüger
// series is accurate to nanometres (Karney 2011: within 3900 km of the
// central meridian).
const (
	// GaussKrugerMaxDeltaLon is the largest accepted distance, in degrees of
	// longitude, between a point and the central meridian.
	GaussKrugerMaxDeltaLon = 30.0
	// gkMaxOffset bounds |easting − false easting| in metres accepted by the
	// inverse; every forward result lies inside it (30° at the equator is
	// about 3.5e6 m).
	gkMaxOffset = 4e6
	// gkNorthSlack is how far, in metres, a northing may exceed the quarter
	// meridian before the inverse rejects it.
	gkNorthSlack = 1.0
)

// GaussKruger is one of the CGCS2000 3-degree Gauss–Krüger projected
// systems: a transverse Mercator projection of the CGCS2000 ellipsoid with
// scale factor 1 on a central meridian that is a multiple of 3°, latitude of
// origin 0 and no false northing.
//
// Two EPSG families are represented:
//
//   - EPSG:4534–4554, "CGCS2000 / 3-degree Gauss-Kruger CM 75E" … "CM 135E",
//     with false easting 500 000 m;
//   - EPSG:4513–4533, "CGCS2000 / 3-degree Gauss-Kruger zone 25" … "zone 45",
//     with false easting zone×1 000 000 + 500 000 m, i.e. the zone number is
//     prefixed to the easting (zone 40: 40 500 000 m on CM 120E).
//
// x is easting and y is northing (see CRS for axis order). Obtain values with
// Lookup or NewGaussKruger; the zero value returns errors from every
// conversion.
type GaussKruger struct {
	code  string // "EPSG:<epsg>"
	epsg  int
	zone  int  // 3-degree zone number, 25..45; central meridian = 3*zone
	zoned bool // zone number prefixed to the easting (EPSG:4513–4533)
	tm    transverseMercator
}

// NewGaussKruger returns the CGCS2000 3-degree Gauss–Krüger system with the
// given EPSG code, which must lie in 4513–4554.
func NewGaussKruger(epsg int) (GaussKruger, error) {
	return newGaussKruger(epsg)
}

// newGaussKruger implements NewGaussKruger.
func newGaussKruger(epsg int) (GaussKruger, error) {
	g := GaussKruger{epsg: epsg, code: "EPSG:" + strconv.Itoa(epsg)}
	switch {
	case epsg >= firstCMCode && epsg <= lastCMCode:
		g.zone = firstZone + epsg - firstCMCode
	case epsg >= firstZonedCode && epsg <= lastZonedCode:
		g.zone = firstZone + epsg - firstZonedCode
		g.zoned = true
	default:
		return GaussKruger{}, fmt.Errorf("crs: EPSG:%d is not a CGCS2000 3-degree Gauss-Kruger code (want %d-%d): %w",
			epsg, firstZonedCode, lastCMCode, ErrUnknownCRS)
	}
	g.tm = newTransverseMercator(CGCS2000SemiMajorAxis, 1/CGCS2000InverseFlattening, 1)
	return g, nil
}

// Code implements CRS, returning e.g. "EPSG:4549".
func (g GaussKruger) Code() string { return g.code }

// Name implements CRS, returning the EPSG name, e.g.
// "CGCS2000 / 3-degree Gauss-Kruger CM 120E" or
// "CGCS2000 / 3-degree Gauss-Kruger zone 40".
func (g GaussKruger) Name() string {
	if g.zoned {
		return "CGCS2000 / 3-degree Gauss-Kruger zone " + strconv.Itoa(g.zone)
	}
	return "CGCS2000 / 3-degree Gauss-Kruger CM " + strconv.Itoa(3*g.zone) + "E"
}

// Geographic implements CRS; it returns false.
func (g GaussKruger) Geographic() bool { return false }

// EPSG returns the numeric EPSG code.
func (g GaussKruger) EPSG() int { return g.epsg }

// Zone returns the 3-degree zone number (25–45); the central meridian is
// 3×Zone degrees east. It is defined for both the "CM" and "zone" families.
func (g GaussKruger) Zone() int { return g.zone }

// Zoned reports whether the zone number is prefixed to the easting
// (EPSG:4513–4533).
func (g GaussKruger) Zoned() bool { return g.zoned }

// CentralMeridian returns the central meridian in degrees east.
func (g GaussKruger) CentralMeridian() float64 { return float64(3 * g.zone) }

// FalseEasting returns the false easting in metres: 500 000, or
// zone×1 000 000 + 500 000 for the zoned family.
func (g GaussKruger) FalseEasting() float64 {
	if g.zoned {
		return float64(g.zone)*1e6 + 500000
	}
	return 500000
}

// valid reports whether g was properly constructed.
func (g GaussKruger) valid() error {
	if g.tm.k0A == 0 {
		return fmt.Errorf("crs: zero GaussKruger value; use Lookup or NewGaussKruger: %w", ErrUnknownCRS)
	}
	return nil
}

// FromWGS84 implements CRS, projecting WGS 84 (treated as CGCS2000)
// longitude/latitude in degrees to easting/northing in metres. Points more
// than GaussKrugerMaxDeltaLon from the central meridian are rejected.
func (g GaussKruger) FromWGS84(lon, lat float64) (x, y float64, err error) {
	if err := g.valid(); err != nil {
		return 0, 0, err
	}
	what := op{wgs84Name, g.code}
	if err := checkLonLat(what, lon, lat); err != nil {
		return 0, 0, err
	}
	dlon := normalizeLon(lon - g.CentralMeridian())
	if math.Abs(dlon) > GaussKrugerMaxDeltaLon {
		return 0, 0, fmt.Errorf("crs: %s: longitude %v is %.6g° from central meridian %v°E (limit %v°; the zone for this longitude is EPSG:%d): %w",
			what, lon, math.Abs(dlon), g.CentralMeridian(), GaussKrugerMaxDeltaLon, ZoneForLon(lon), ErrOutOfRange)
	}
	e, n := g.tm.forward(dlon*deg2rad, lat*deg2rad)
	return e + g.FalseEasting(), n, nil
}

// ToWGS84 implements CRS, converting easting/northing in metres to WGS 84
// (treated as CGCS2000) longitude/latitude in degrees. It rejects coordinates
// more than 4000 km from the central meridian, northings beyond the pole and
// results more than GaussKrugerMaxDeltaLon from the central meridian.
func (g GaussKruger) ToWGS84(x, y float64) (lon, lat float64, err error) {
	if err := g.valid(); err != nil {
		return 0, 0, err
	}
	what := op{g.code, wgs84Name}
	if err := checkFinite(what, x, y); err != nil {
		return 0, 0, err
	}
	fe := g.FalseEasting()
	if math.Abs(x-fe) > gkMaxOffset {
		hint := ""
		if g.zoned && math.Abs(x-500000) <= gkMaxOffset {
			hint = fmt.Sprintf(" (easting lacks the zone-%d prefix? use EPSG:%d for unprefixed eastings)",
				g.zone, g.epsg-firstZonedCode+firstCMCode)
		} else if !g.zoned && x >= 1e7 {
			hint = fmt.Sprintf(" (easting has a zone prefix? use the zoned EPSG:%d-%d codes)", firstZonedCode, lastZonedCode)
		}
		return 0, 0, fmt.Errorf("crs: %s: easting %v is more than %v m from false easting %v%s: %w",
			what, x, gkMaxOffset, fe, hint, ErrOutOfRange)
	}
	quarter := g.tm.k0A * math.Pi / 2 // meridian quadrant: northing of the pole
	if math.Abs(y) > quarter+gkNorthSlack {
		return 0, 0, fmt.Errorf("crs: %s: northing %v beyond the pole (|northing| <= %.3f m): %w",
			what, y, quarter, ErrOutOfRange)
	}
	// Northings within the slack beyond the pole are taken as the pole.
	y = math.Max(-quarter, math.Min(quarter, y))
	dlon, phi := g.tm.inverse(x-fe, y)
	dlon *= rad2deg
	if !(math.Abs(dlon) <= GaussKrugerMaxDeltaLon*(1+1e-12)) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v) maps %.6g° from central meridian %v°E (limit %v°): %w",
			what, x, y, math.Abs(dlon), g.CentralMeridian(), GaussKrugerMaxDeltaLon, ErrOutOfRange)
	}
	lat = math.Max(-90, math.Min(90, phi*rad2deg))
	lon = normalizeLon(g.CentralMeridian() + dlon)
	if math.IsNaN(lat) || math.IsNaN(lon) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): numerical failure: %w", what, x, y, ErrOutOfRange)
	}
	return lon, lat, nil
}

// normalizeLon maps a longitude in degrees, assumed within ±540°, to
// [−180, 180].
func normalizeLon(lon float64) float64 {
	switch {
	case lon > 180:
		return lon - 360
	case lon < -180:
		return lon + 360
	}
	return lon
}
