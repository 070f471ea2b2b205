package crs

import "math"

// Ellipsoid and sphere constants used by this package. They are untyped
// constants, so the package holds no mutable global state.
const (
	// CGCS2000SemiMajorAxis is the semi-major axis a of the CGCS2000
	// ellipsoid in metres.
	CGCS2000SemiMajorAxis = 6378137.0
	// CGCS2000InverseFlattening is 1/f of the CGCS2000 ellipsoid. It agrees
	// with GRS 80 (1/f = 298.257222100882711…) to about 1e-10.
	CGCS2000InverseFlattening = 298.257222101
	// WGS84SemiMajorAxis is the semi-major axis a of the WGS 84 ellipsoid in
	// metres.
	WGS84SemiMajorAxis = 6378137.0
	// WGS84InverseFlattening is 1/f of the WGS 84 ellipsoid. The resulting
	// difference from CGCS2000 is at most about 0.1 mm in latitude and is
	// ignored (see the package documentation).
	WGS84InverseFlattening = 298.257223563
)

const (
	deg2rad = math.Pi / 180
	rad2deg = 180 / math.Pi
)
