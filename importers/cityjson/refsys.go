package cityjson

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"citytwin/spatial/crs"
)

// ErrUnsupportedCRS marks a document whose reference system cannot be
// converted to longitude/latitude. Set importers.Options.CRS to override
// the declaration.
var ErrUnsupportedCRS = errors.New("unsupported coordinate reference system")

// converter turns a de-transformed vertex (x, y, z in the document's CRS)
// into longitude, latitude (degrees, WGS 84) and height (metres).
type converter interface {
	toLonLatH(p [3]float64) ([3]float64, error)
	// code names the CRS for Stats and error messages.
	code() string
}

// planarConv converts x and y with a spatial/crs CRS and keeps z.
type planarConv struct {
	c crs.CRS
	// assumed is set when the document declares no reference system and
	// EPSG:4326 was assumed; errors then say so.
	assumed bool
}

func (p planarConv) code() string { return p.c.Code() }

func (p planarConv) toLonLatH(v [3]float64) ([3]float64, error) {
	lon, lat, err := p.c.ToWGS84(v[0], v[1])
	if err == nil && !finite(v[2]) {
		err = fmt.Errorf("height %v is not finite", v[2])
	}
	if err != nil {
		if p.assumed {
			return v, fmt.Errorf("coordinate (%v, %v) is not longitude/latitude: the document declares no metadata.referenceSystem, so EPSG:4326 was assumed; set Options.CRS to the data's CRS: %w", v[0], v[1], err)
		}
		return v, fmt.Errorf("coordinate (%v, %v, %v) from %s: %w", v[0], v[1], v[2], p.c.Code(), err)
	}
	return [3]float64{lon, lat, v[2]}, nil
}

// ecefConv converts geocentric (earth-centred, earth-fixed) cartesian
// coordinates to geodetic longitude, latitude and ellipsoidal height.
type ecefConv struct {
	epsg string
	a    float64 // semi-major axis, metres
	e2   float64 // first eccentricity squared
}

func newECEF(epsg string, a, invf float64) ecefConv {
	f := 1 / invf
	return ecefConv{epsg: epsg, a: a, e2: f * (2 - f)}
}

func (c ecefConv) code() string { return c.epsg + " (geocentric)" }

func (c ecefConv) toLonLatH(v [3]float64) ([3]float64, error) {
	lon, lat, h, err := ecefToGeodetic(v[0], v[1], v[2], c.a, c.e2)
	if err != nil {
		return v, fmt.Errorf("geocentric coordinate (%v, %v, %v) from %s: %w", v[0], v[1], v[2], c.epsg, err)
	}
	return [3]float64{lon, lat, h}, nil
}

// ecefToGeodetic is Vermeille's closed-form inversion (J. Geodesy 76, 451–454,
// 2002), exact to rounding for every point farther than about e²·a (43 km)
// from the Earth's centre; nearer points are rejected.
func ecefToGeodetic(x, y, z, a, e2 float64) (lon, lat, h float64, err error) {
	if !finite(x) || !finite(y) || !finite(z) {
		return 0, 0, 0, errors.New("not finite")
	}
	e4 := e2 * e2
	a2 := a * a
	p := (x*x + y*y) / a2
	q := (1 - e2) / a2 * z * z
	r := (p + q - e4) / 6
	if !(r > 1e-9) {
		return 0, 0, 0, errors.New("too close to the Earth's centre for a geodetic position")
	}
	s := e4 * p * q / (4 * r * r * r)
	t := math.Cbrt(1 + s + math.Sqrt(s*(2+s)))
	u := r * (1 + t + 1/t)
	v := math.Sqrt(u*u + e4*q)
	w := e2 * (u + v - q) / (2 * v)
	k := math.Sqrt(u+v+w*w) - w
	d := k * math.Hypot(x, y) / (k + e2)
	dz := math.Hypot(d, z)
	lat = 2 * math.Atan2(z, d+dz) * 180 / math.Pi
	h = (k + e2 - 1) / k * dz
	lon = math.Atan2(y, x) * 180 / math.Pi
	if !finite(lon) || !finite(lat) || !finite(h) {
		return 0, 0, 0, errors.New("conversion did not yield a finite position")
	}
	return lon, lat, h, nil
}

// geodeticToECEF is the forward conversion (for tests and round trips).
func geodeticToECEF(lon, lat, h, a, e2 float64) (x, y, z float64) {
	phi := lat * math.Pi / 180
	lam := lon * math.Pi / 180
	sp, cp := math.Sincos(phi)
	sl, cl := math.Sincos(lam)
	n := a / math.Sqrt(1-e2*sp*sp)
	return (n + h) * cp * cl, (n + h) * cp * sl, (n*(1-e2) + h) * sp
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// epsgOf extracts the EPSG code from a CityJSON referenceSystem: the 2.0
// URL form "https://www.opengis.net/def/crs/EPSG/0/7415" (also http), the
// 1.0 URN form "urn:ogc:def:crs:EPSG::7415" (with or without a version) or
// "EPSG:7415".
func epsgOf(ref string) (int, bool) {
	s := strings.ToUpper(strings.TrimSpace(ref))
	var num string
	switch {
	case strings.HasPrefix(s, "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/"),
		strings.HasPrefix(s, "HTTPS://WWW.OPENGIS.NET/DEF/CRS/EPSG/"),
		strings.HasPrefix(s, "HTTP://OPENGIS.NET/DEF/CRS/EPSG/"),
		strings.HasPrefix(s, "HTTPS://OPENGIS.NET/DEF/CRS/EPSG/"):
		num = s[strings.LastIndexByte(s, '/')+1:]
	case strings.HasPrefix(s, "URN:OGC:DEF:CRS:EPSG:"):
		num = s[strings.LastIndexByte(s, ':')+1:]
	case strings.HasPrefix(s, "EPSG:"):
		num = s[len("EPSG:"):]
	default:
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > 999999999 {
		return 0, false
	}
	return n, true
}

// Ellipsoid constants for the geocentric systems.
const (
	grs80InvF = 298.257222101 // GRS 80 and CGCS2000
	wgs84InvF = 298.257223563
	semiMajor = 6378137.0
)

// resolveCRS returns the converter for a declared referenceSystem.
func resolveCRS(ref string) (converter, error) {
	code, ok := epsgOf(ref)
	if ok {
		switch code {
		case 4978: // WGS 84 geocentric
			return newECEF("EPSG:4978", semiMajor, wgs84InvF), nil
		case 4479: // China Geodetic Coordinate System 2000, geocentric
			return newECEF("EPSG:4479", semiMajor, grs80InvF), nil
		case 4979: // WGS 84 geographic 3D
			code = 4326
		case 4480: // CGCS2000 geographic 3D
			code = 4490
		}
		c, err := crs.Lookup("EPSG:" + strconv.Itoa(code))
		if err == nil {
			return planarConv{c: c}, nil
		}
		return nil, unsupportedCRS(ref, code)
	}
	c, err := crs.Lookup(ref)
	if err == nil {
		return planarConv{c: c}, nil
	}
	return nil, unsupportedCRS(ref, 0)
}

// supportedCRS lists what resolveCRS accepts, for error messages.
const supportedCRS = "EPSG:4326/4979 (WGS 84), EPSG:4490/4480 (CGCS2000), " +
	"EPSG:4978/4479 (geocentric WGS 84/CGCS2000), EPSG:3857, " +
	"EPSG:4513-4554 (CGCS2000 3-degree Gauss-Kruger)"

func unsupportedCRS(ref string, code int) error {
	name := truncate(ref, 80)
	if code > 0 {
		name = fmt.Sprintf("%q (EPSG:%d%s)", name, code, describeEPSG(code))
	} else {
		name = strconv.Quote(name)
	}
	return fmt.Errorf("%w %s: cannot convert it to longitude/latitude (supported: %s); set Options.CRS to override",
		ErrUnsupportedCRS, name, supportedCRS)
}

// describeEPSG names a few common families of codes that are not supported,
// so the error tells the user what they have.
func describeEPSG(code int) string {
	switch {
	case code >= 32601 && code <= 32660:
		return fmt.Sprintf(", WGS 84 / UTM zone %dN", code-32600)
	case code >= 32701 && code <= 32760:
		return fmt.Sprintf(", WGS 84 / UTM zone %dS", code-32700)
	case code >= 25828 && code <= 25838:
		return fmt.Sprintf(", ETRS89 / UTM zone %dN", code-25800)
	case code >= 2349 && code <= 2369:
		return fmt.Sprintf(", Xian 1980 / 3-degree Gauss-Kruger zone %d", code-2349+25)
	case code >= 2370 && code <= 2390:
		return fmt.Sprintf(", Xian 1980 / 3-degree Gauss-Kruger CM %dE", 3*(code-2370+25))
	case code >= 2401 && code <= 2421:
		return fmt.Sprintf(", Beijing 1954 / 3-degree Gauss-Kruger zone %d", code-2401+25)
	case code >= 2422 && code <= 2442:
		return fmt.Sprintf(", Beijing 1954 / 3-degree Gauss-Kruger CM %dE", 3*(code-2422+25))
	case code == 7415:
		return ", Amersfoort / RD New + NAP height"
	case code == 28992:
		return ", Amersfoort / RD New"
	case code == 4936 || code == 4937:
		return ", ETRS89"
	}
	return ""
}
