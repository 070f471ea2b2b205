package crs

import "math"

// groundErr returns the approximate ground distance in metres between two
// nearby geographic points (degrees), using the CGCS2000 meridional and
// prime-vertical radii of curvature at the first point.
func groundErr(lon1, lat1, lon2, lat2 float64) float64 {
	const a = CGCS2000SemiMajorAxis
	f := 1 / CGCS2000InverseFlattening
	e2 := f * (2 - f)
	s := math.Sin(lat1 * deg2rad)
	w := math.Sqrt(1 - e2*s*s)
	m := a * (1 - e2) / (w * w * w) // meridional radius
	n := a / w                      // prime-vertical radius
	dn := (lat2 - lat1) * deg2rad * m
	dlon := lon2 - lon1
	if dlon > 180 {
		dlon -= 360
	} else if dlon < -180 {
		dlon += 360
	}
	de := dlon * deg2rad * n * math.Cos(lat1*deg2rad)
	return math.Hypot(dn, de)
}

// mustLookup is Lookup for tests with known-good names.
func mustLookup(t interface {
	Helper()
	Fatalf(string, ...any)
}, name string) CRS {
	t.Helper()
	c, err := Lookup(name)
	if err != nil {
		t.Fatalf("Lookup(%q): %v", name, err)
	}
	return c
}
