package crs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// CRS is a coordinate reference system that can convert its coordinates to
// and from WGS 84 longitude/latitude in degrees.
//
// Axis order is always (x, y) = (easting, northing) for projected systems and
// (longitude, latitude) for geographic ones, whatever axis order the EPSG
// registry declares. In particular the Gauss–Krüger systems use x = easting
// (Chinese survey "Y") and y = northing (Chinese survey "X").
//
// Implementations are immutable values and safe for concurrent use.
type CRS interface {
	// Code returns the canonical identifier, e.g. "EPSG:4549" or "GCJ-02".
	Code() string
	// Name returns a human-readable name, e.g.
	// "CGCS2000 / 3-degree Gauss-Kruger CM 120E".
	Name() string
	// Geographic reports whether x and y are longitude and latitude in
	// degrees (true) or projected easting and northing in metres (false).
	Geographic() bool
	// ToWGS84 converts a coordinate of this CRS to WGS 84 longitude and
	// latitude in degrees.
	ToWGS84(x, y float64) (lon, lat float64, err error)
	// FromWGS84 converts WGS 84 longitude and latitude in degrees to a
	// coordinate of this CRS.
	FromWGS84(lon, lat float64) (x, y float64, err error)
}

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can test them with errors.Is.
var (
	// ErrUnknownCRS is returned by Lookup for an unsupported identifier.
	ErrUnknownCRS = errors.New("unknown coordinate reference system")
	// ErrInvalidCoordinate is returned for NaN or infinite input.
	ErrInvalidCoordinate = errors.New("invalid coordinate")
	// ErrOutOfRange is returned for finite input outside the domain of a
	// conversion (e.g. latitude beyond ±90° or a point too far from a
	// Gauss–Krüger central meridian).
	ErrOutOfRange = errors.New("coordinate out of range")
	// ErrNoConvergence is returned if an iterative inverse (GCJ-02 to
	// WGS 84) fails to reach its acceptance tolerance. It has not been
	// observed in testing and is a safeguard against silent inaccuracy.
	ErrNoConvergence = errors.New("iteration did not converge")
)

// EPSG code ranges of the CGCS2000 3-degree Gauss–Krüger systems.
const (
	firstZonedCode = 4513 // CGCS2000 / 3-degree Gauss-Kruger zone 25 (CM 75E)
	lastZonedCode  = 4533 // CGCS2000 / 3-degree Gauss-Kruger zone 45 (CM 135E)
	firstCMCode    = 4534 // CGCS2000 / 3-degree Gauss-Kruger CM 75E
	lastCMCode     = 4554 // CGCS2000 / 3-degree Gauss-Kruger CM 135E
	firstZone      = 25   // 3-degree zone number of CM 75E
	lastZone       = 45   // 3-degree zone number of CM 135E
)

// supportedSummary lists the accepted identifiers for error messages.
const supportedSummary = "EPSG:4326 (WGS 84; also WGS84, CRS84), " +
	"EPSG:4490 (CGCS2000), " +
	"EPSG:3857 (Web Mercator; alias EPSG:900913, EPSG:3785), " +
	"EPSG:4513-4533 (CGCS2000 3-degree Gauss-Kruger zones 25-45), " +
	"EPSG:4534-4554 (CGCS2000 3-degree Gauss-Kruger CM 75E-135E), " +
	"GCJ-02 (alias GCJ02); codes may be bare numbers, 'EPSG:n', " +
	"'urn:ogc:def:crs:EPSG::n' or 'http://www.opengis.net/def/crs/EPSG/0/n'"

// Supported returns the canonical codes of every CRS that Lookup can return,
// in a fresh slice the caller may modify.
func Supported() []string {
	out := []string{"EPSG:4326", "EPSG:4490", "EPSG:3857", "GCJ-02"}
	for c := firstZonedCode; c <= lastCMCode; c++ {
		out = append(out, "EPSG:"+strconv.Itoa(c))
	}
	return out
}

// Lookup returns the CRS identified by name. Matching is case-insensitive
// and ignores surrounding white space. Accepted forms are "EPSG:4549",
// "epsg:4549", "4549", "urn:ogc:def:crs:EPSG::4549",
// "http://www.opengis.net/def/crs/EPSG/0/4549" and the aliases "WGS84",
// "CRS84" / "OGC:CRS84" / "urn:ogc:def:crs:OGC:1.3:CRS84" (EPSG:4326),
// "CGCS2000" (EPSG:4490), "GCJ02" / "GCJ-02", and "EPSG:900913" /
// "EPSG:3785" (EPSG:3857). The returned CRS's Code is canonical, so aliases
// do not round-trip verbatim.
//
// An unknown name yields an error wrapping ErrUnknownCRS that quotes the
// name and lists what is supported.
func Lookup(name string) (CRS, error) {
	s := strings.ToUpper(strings.TrimSpace(name))
	switch s {
	case "GCJ02", "GCJ-02", "GCJ_02", "GCJ 02":
		return gcj02CRS{}, nil
	case "WGS84", "WGS 84", "WGS-84", "CRS84", "OGC:CRS84",
		"URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84",
		"HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84":
		return wgs84CRS(), nil
	case "CGCS2000", "CGCS 2000":
		return cgcs2000CRS(), nil
	}
	num, ok := epsgNumber(s)
	if !ok {
		return nil, unknown(name)
	}
	c, err := lookupEPSG(num)
	if err != nil {
		return nil, unknown(name)
	}
	return c, nil
}

// epsgNumber extracts the numeric EPSG code from an upper-cased identifier.
func epsgNumber(s string) (int, bool) {
	switch {
	case strings.HasPrefix(s, "EPSG:"):
		s = strings.TrimPrefix(s, "EPSG:")
		// "urn:ogc:def:crs:EPSG:<version>:<code>" with an optional version.
	case strings.HasPrefix(s, "URN:OGC:DEF:CRS:EPSG:"):
		rest := strings.TrimPrefix(s, "URN:OGC:DEF:CRS:EPSG:")
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return 0, false
		}
		s = rest[i+1:]
	case strings.HasPrefix(s, "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/"),
		strings.HasPrefix(s, "HTTPS://WWW.OPENGIS.NET/DEF/CRS/EPSG/"):
		i := strings.LastIndexByte(s, '/')
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// lookupEPSG returns the CRS for a numeric EPSG code.
func lookupEPSG(code int) (CRS, error) {
	switch {
	case code == 4326:
		return wgs84CRS(), nil
	case code == 4490:
		return cgcs2000CRS(), nil
	case code == 3857 || code == 900913 || code == 3785:
		return webMercatorCRS{}, nil
	case code >= firstZonedCode && code <= lastCMCode:
		return newGaussKruger(code)
	}
	return nil, fmt.Errorf("crs: EPSG:%d: %w", code, ErrUnknownCRS)
}

// unknown builds the Lookup error for name, truncating absurdly long input.
func unknown(name string) error {
	const maxLen = 64
	if len(name) > maxLen {
		name = name[:maxLen] + "…"
	}
	return fmt.Errorf("crs: %w %q; supported: %s", ErrUnknownCRS, name, supportedSummary)
}

// ZoneForLon returns the EPSG code (4534–4554) of the CGCS2000 3-degree
// Gauss–Krüger "CM" system whose zone contains longitude lon (degrees).
//
// Three-degree zone n is centred on longitude 3n and covers
// [3n−1.5°, 3n+1.5°); a longitude exactly on a boundary belongs to the
// eastern zone. For example 121.4°E lies in the CM 120E zone (EPSG:4549),
// while 121.6°E — central Dalian — lies in the CM 123E zone (EPSG:4550),
// being 1.4° from 123°E but 1.6° from 120°E.
//
// ZoneForLon returns 0 if lon is not finite or lies outside
// [73.5°, 136.5°), the span of zones 25–45 defined by EPSG for CGCS2000.
// The zoned ("zone 25"…"zone 45", EPSG:4513–4533) code for the same zone is
// the returned code minus 21.
func ZoneForLon(lon float64) (cmZone int) {
	if math.IsNaN(lon) || math.IsInf(lon, 0) {
		return 0
	}
	z := math.Floor((lon + 1.5) / 3)
	if z < firstZone || z > lastZone {
		return 0
	}
	return firstCMCode + int(z) - firstZone
}

// Transform converts the coordinate (x, y) from src to dst via WGS 84. It
// returns an error if either CRS is nil or either conversion fails.
func Transform(src, dst CRS, x, y float64) (float64, float64, error) {
	if src == nil || dst == nil {
		return 0, 0, fmt.Errorf("crs: transform: nil CRS (src=%v, dst=%v)", src != nil, dst != nil)
	}
	lon, lat, err := src.ToWGS84(x, y)
	if err != nil {
		return 0, 0, fmt.Errorf("crs: transform %s -> %s: %w", src.Code(), dst.Code(), err)
	}
	ox, oy, err := dst.FromWGS84(lon, lat)
	if err != nil {
		return 0, 0, fmt.Errorf("crs: transform %s -> %s: %w", src.Code(), dst.Code(), err)
	}
	return ox, oy, nil
}

// op names a conversion in error messages. It is formatted only when an
// error is built, so the success path does not allocate.
type op struct{ src, dst string }

// String returns e.g. "EPSG:4549 to WGS 84".
func (o op) String() string { return o.src + " to " + o.dst }

// wgs84Name is the WGS 84 side of every op.
const wgs84Name = "WGS 84"

// checkFinite returns an error wrapping ErrInvalidCoordinate unless both
// values are finite. what names the operation for the message.
func checkFinite(what op, x, y float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
		return fmt.Errorf("crs: %s: (%v, %v): %w", what, x, y, ErrInvalidCoordinate)
	}
	return nil
}

// checkLonLat validates a geographic coordinate in degrees: finite, with
// longitude in [−180, 180] and latitude in [−90, 90].
func checkLonLat(what op, lon, lat float64) error {
	if err := checkFinite(what, lon, lat); err != nil {
		return err
	}
	if lon < -180 || lon > 180 {
		return fmt.Errorf("crs: %s: longitude %v outside [-180, 180]: %w", what, lon, ErrOutOfRange)
	}
	if lat < -90 || lat > 90 {
		return fmt.Errorf("crs: %s: latitude %v outside [-90, 90]: %w", what, lat, ErrOutOfRange)
	}
	return nil
}
