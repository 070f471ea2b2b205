package spatial

import (
	"math"

	"github.com/paulmach/orb"
)

// CGCS2000 / GRS80 ellipsoid (WGS84 differs by 0.1 mm in the semi-minor
// axis, far below anything measured here).
const (
	ellipsoidA = 6378137.0
	ellipsoidF = 1 / 298.257222101
	ellipsoidB = ellipsoidA * (1 - ellipsoidF)
)

// GeodesicDistance returns the distance in metres between two points on the
// CGCS2000 ellipsoid by Vincenty's inverse formula (accurate to well under
// a millimetre; for nearly antipodal points, where it may not converge, it
// falls back to the last iterate, which is within a few metres of the
// truth — irrelevant at city scale).
func GeodesicDistance(p, q orb.Point) float64 {
	if p == q {
		return 0
	}
	const rad = math.Pi / 180
	L := (q[0] - p[0]) * rad
	U1 := math.Atan((1 - ellipsoidF) * math.Tan(p[1]*rad))
	U2 := math.Atan((1 - ellipsoidF) * math.Tan(q[1]*rad))
	sinU1, cosU1 := math.Sincos(U1)
	sinU2, cosU2 := math.Sincos(U2)
	lambda := L
	var sinSigma, cosSigma, sigma, cos2Alpha, cos2SigmaM float64
	for i := 0; i < 200; i++ {
		sinLambda, cosLambda := math.Sincos(lambda)
		sinSigma = math.Hypot(cosU2*sinLambda, cosU1*sinU2-sinU1*cosU2*cosLambda)
		if sinSigma == 0 {
			return 0
		}
		cosSigma = sinU1*sinU2 + cosU1*cosU2*cosLambda
		sigma = math.Atan2(sinSigma, cosSigma)
		sinAlpha := cosU1 * cosU2 * sinLambda / sinSigma
		cos2Alpha = 1 - sinAlpha*sinAlpha
		cos2SigmaM = 0
		if cos2Alpha != 0 {
			cos2SigmaM = cosSigma - 2*sinU1*sinU2/cos2Alpha
		}
		C := ellipsoidF / 16 * cos2Alpha * (4 + ellipsoidF*(4-3*cos2Alpha))
		prev := lambda
		lambda = L + (1-C)*ellipsoidF*sinAlpha*(sigma+C*sinSigma*(cos2SigmaM+C*cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)))
		if math.Abs(lambda-prev) < 1e-13 {
			break
		}
	}
	u2 := cos2Alpha * (ellipsoidA*ellipsoidA - ellipsoidB*ellipsoidB) / (ellipsoidB * ellipsoidB)
	A := 1 + u2/16384*(4096+u2*(-768+u2*(320-175*u2)))
	B := u2 / 1024 * (256 + u2*(-128+u2*(74-47*u2)))
	dSigma := B * sinSigma * (cos2SigmaM + B/4*(cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)-
		B/6*cos2SigmaM*(-3+4*sinSigma*sinSigma)*(-3+4*cos2SigmaM*cos2SigmaM)))
	return ellipsoidB * A * (sigma - dSigma)
}

// LocalPlane maps longitude/latitude near an origin to metres east and
// north using the ellipsoid's radii of curvature at the origin. Within a few
// kilometres its distortion is a few parts per million; it serves to find
// the closest point of a geometry (whose distance is then measured
// geodesically) and the nearest approach of a segment to a point (circle
// fences).
type LocalPlane struct {
	lon0, lat0 float64
	kx, ky     float64 // metres per degree
}

// NewLocalPlane returns the local plane at an origin.
func NewLocalPlane(origin orb.Point) LocalPlane {
	const rad = math.Pi / 180
	s := math.Sin(origin[1] * rad)
	e2 := ellipsoidF * (2 - ellipsoidF)
	w := math.Sqrt(1 - e2*s*s)
	N := ellipsoidA / w                      // prime vertical radius
	M := ellipsoidA * (1 - e2) / (w * w * w) // meridional radius
	return LocalPlane{lon0: origin[0], lat0: origin[1], kx: N * math.Cos(origin[1]*rad) * rad, ky: M * rad}
}

// Metres returns p's position east and north of the origin in metres.
func (lp LocalPlane) Metres(p orb.Point) [2]float64 {
	return [2]float64{(p[0] - lp.lon0) * lp.kx, (p[1] - lp.lat0) * lp.ky}
}

func (lp LocalPlane) from(x, y float64) orb.Point {
	return orb.Point{lp.lon0 + x/lp.kx, lp.lat0 + y/lp.ky}
}

// DistanceTo returns the geodesic distance in metres from p to the nearest
// point of g (0 when p lies on or inside g), and that nearest point.
func DistanceTo(p orb.Point, g orb.Geometry) (float64, orb.Point) {
	pts, lines, polys := parts(g)
	if inAreas(p, polys) {
		return 0, p
	}
	lp := NewLocalPlane(p)
	best, bestPt := math.Inf(1), p
	consider := func(q orb.Point) {
		v := lp.Metres(q)
		if d := v[0]*v[0] + v[1]*v[1]; d < best {
			best, bestPt = d, q
		}
	}
	for _, q := range pts {
		consider(q)
	}
	seg := func(l orb.LineString) {
		if len(l) == 1 {
			consider(l[0])
		}
		for i := 1; i < len(l); i++ {
			a, b := lp.Metres(l[i-1]), lp.Metres(l[i])
			dx, dy := b[0]-a[0], b[1]-a[1]
			t := 0.0
			if den := dx*dx + dy*dy; den > 0 {
				t = math.Max(0, math.Min(1, -(a[0]*dx+a[1]*dy)/den))
			}
			x, y := a[0]+t*dx, a[1]+t*dy
			if d := x*x + y*y; d < best {
				best, bestPt = d, lp.from(x, y)
			}
		}
	}
	for _, l := range lines {
		seg(l)
	}
	for _, l := range ringsOf(polys) {
		seg(l)
	}
	if math.IsInf(best, 1) {
		return best, p
	}
	return GeodesicDistance(p, bestPt), bestPt
}

// boxDistanceLowerBound returns a lower bound in metres on the distance from
// p to any point in box b, used to order nearest-neighbour candidates. It
// uses the smallest metres-per-degree of longitude over the box's latitudes
// and a safety factor of 0.99 for the local approximation.
func boxDistanceLowerBound(p orb.Point, b orb.Bound) float64 {
	const rad = math.Pi / 180
	dx := math.Max(0, math.Max(b.Min[0]-p[0], p[0]-b.Max[0]))
	dy := math.Max(0, math.Max(b.Min[1]-p[1], p[1]-b.Max[1]))
	if dx == 0 && dy == 0 {
		return 0
	}
	maxAbsLat := math.Max(math.Abs(math.Max(b.Min[1], math.Min(p[1], b.Max[1]))), math.Abs(p[1]))
	kx := 111_319.49 * math.Cos(math.Min(89.9, maxAbsLat)*rad) * (1 - 0.0068) // N·cosφ ≥ a·cosφ·(1−e²)
	ky := 110_574.0                                                           // the meridional metres per degree at the equator, its minimum
	return 0.99 * math.Hypot(dx*kx, dy*ky)
}
