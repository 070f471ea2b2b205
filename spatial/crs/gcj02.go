package crs

import (
	"fmt"
	"math"
)

// Constants of the public GCJ-02 ("Mars coordinates") algorithm.
const (
	gcjA  = 6378245.0              // Krasovsky 1940 semi-major axis, metres
	gcjEE = 0.00669342162296594323 // Krasovsky 1940 first eccentricity squared

	// Rough bounding box of China used by the public algorithm; outside it
	// GCJ-02 equals WGS 84.
	gcjMinLon = 72.004
	gcjMaxLon = 137.8347
	gcjMinLat = 0.8293
	gcjMaxLat = 55.8271

	// gcjTol is the target residual, in degrees, of the inverse iteration
	// (1e-13° ≈ 10 nm; a few ulps of a longitude near 120°).
	gcjTol = 1e-13
	// gcjAccept is the largest residual, in degrees, accepted if gcjTol is
	// not reached within gcjMaxIter iterations (1e-9° ≈ 0.1 mm).
	gcjAccept  = 1e-9
	gcjMaxIter = 30
)

// gcj02CRS is GCJ-02, the obfuscated WGS 84 datum mandated for published
// maps in mainland China (used by AMap/Gaode, Tencent and Google China). Its
// coordinates are longitude/latitude in degrees.
type gcj02CRS struct{}

// Code implements CRS; GCJ-02 has no EPSG code.
func (gcj02CRS) Code() string { return "GCJ-02" }

// Name implements CRS.
func (gcj02CRS) Name() string { return "GCJ-02 (China obfuscated WGS 84, \"Mars coordinates\")" }

// Geographic implements CRS; it returns true.
func (gcj02CRS) Geographic() bool { return true }

// FromWGS84 implements CRS, applying the public WGS 84 → GCJ-02 algorithm,
// which is exact by definition. Points outside the China bounding box are
// returned unchanged.
func (gcj02CRS) FromWGS84(lon, lat float64) (x, y float64, err error) {
	if err := checkLonLat(op{wgs84Name, "GCJ-02"}, lon, lat); err != nil {
		return 0, 0, err
	}
	x, y = wgsToGCJ(lon, lat)
	return x, y, nil
}

// ToWGS84 implements CRS, inverting the GCJ-02 algorithm by fixed-point
// iteration to a residual below 1e-13° (about 10 nm).
//
// A GCJ-02 coordinate outside the China bounding box is returned unchanged,
// as in the reference implementations. Because the offset is switched on
// abruptly at the box edge, a strip a few hundred metres wide just inside the
// edge has no WGS 84 preimage; such input yields an error wrapping
// ErrOutOfRange. (Conversely, a WGS 84 point just inside the edge whose
// GCJ-02 image falls outside the box is not recovered; none of this affects
// mainland China, whose nearest box edge is hundreds of kilometres away.)
func (gcj02CRS) ToWGS84(x, y float64) (lon, lat float64, err error) {
	what := op{"GCJ-02", wgs84Name}
	if err := checkLonLat(what, x, y); err != nil {
		return 0, 0, err
	}
	if outOfChina(x, y) {
		return x, y, nil
	}
	lon, lat, res := gcjToWGS(x, y)
	if !(res <= gcjAccept) {
		return 0, 0, fmt.Errorf("crs: %s: (%v, %v): residual %.3g° after %d iterations: %w",
			what, x, y, res, gcjMaxIter, ErrNoConvergence)
	}
	// The solution must lie where the offset applies; allow it to sit on
	// the edge up to the acceptance tolerance, and snap it inside.
	if outOfChina(lon, lat) {
		cl := math.Max(gcjMinLon, math.Min(gcjMaxLon, lon))
		ct := math.Max(gcjMinLat, math.Min(gcjMaxLat, lat))
		if math.Abs(cl-lon) > gcjAccept || math.Abs(ct-lat) > gcjAccept {
			return 0, 0, fmt.Errorf("crs: %s: (%v, %v) is in the band at the edge of the China region that no WGS 84 point maps to: %w",
				what, x, y, ErrOutOfRange)
		}
		lon, lat = cl, ct
	}
	return lon, lat, nil
}

// outOfChina reports whether a point lies outside the rough China bounding
// box in which the GCJ-02 offset is applied.
func outOfChina(lon, lat float64) bool {
	return lon < gcjMinLon || lon > gcjMaxLon || lat < gcjMinLat || lat > gcjMaxLat
}

// wgsToGCJ is the public WGS 84 → GCJ-02 forward algorithm.
func wgsToGCJ(lon, lat float64) (float64, float64) {
	if outOfChina(lon, lat) {
		return lon, lat
	}
	dlon, dlat := gcjDelta(lon, lat)
	return lon + dlon, lat + dlat
}

// gcjDelta returns the GCJ-02 offset (degrees) at WGS 84 point (lon, lat).
func gcjDelta(lon, lat float64) (dlon, dlat float64) {
	x, y := lon-105, lat-35
	dlat = gcjTransformLat(x, y)
	dlon = gcjTransformLon(x, y)
	radLat := lat * deg2rad
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dlat = (dlat * 180) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dlon = (dlon * 180) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return dlon, dlat
}

// gcjTransformLat is the latitude polynomial-sine function of the public
// algorithm (result in metres, roughly).
func gcjTransformLat(x, y float64) float64 {
	ret := -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	ret += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	ret += (20*math.Sin(y*math.Pi) + 40*math.Sin(y/3*math.Pi)) * 2 / 3
	ret += (160*math.Sin(y/12*math.Pi) + 320*math.Sin(y*math.Pi/30)) * 2 / 3
	return ret
}

// gcjTransformLon is the longitude polynomial-sine function of the public
// algorithm (result in metres, roughly).
func gcjTransformLon(x, y float64) float64 {
	ret := 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	ret += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	ret += (20*math.Sin(x*math.Pi) + 40*math.Sin(x/3*math.Pi)) * 2 / 3
	ret += (150*math.Sin(x/12*math.Pi) + 300*math.Sin(x/30*math.Pi)) * 2 / 3
	return ret
}

// gcjToWGS inverts the GCJ-02 offset, ignoring the bounding box, by the
// fixed-point iteration w ← w − (w + δ(w) − g), starting from w = g. The
// Jacobian of the offset δ is of order 1e-3, so each step gains two to three
// digits and three to five steps reach gcjTol. Within about 1e-9° of
// longitude 105°E the √|lon−105| terms of the public algorithm make the
// offset's derivative unbounded and the map nearly non-injective; there
// convergence slows to about ten steps and the solution is only determined
// to about 3e-12° (0.3 µm). It returns the best iterate and its residual in
// degrees (max of |Δlon|, |Δlat|).
func gcjToWGS(glon, glat float64) (lon, lat, residual float64) {
	lon, lat = glon, glat
	bestLon, bestLat, best := lon, lat, math.Inf(1)
	for i := 0; i < gcjMaxIter; i++ {
		dlon, dlat := gcjDelta(lon, lat)
		rlon, rlat := lon+dlon-glon, lat+dlat-glat
		r := math.Max(math.Abs(rlon), math.Abs(rlat))
		if r < best {
			bestLon, bestLat, best = lon, lat, r
		}
		if r <= gcjTol {
			break
		}
		lon -= rlon
		lat -= rlat
	}
	return bestLon, bestLat, best
}
