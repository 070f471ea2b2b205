package crs

import "math"

// krugerOrder is the number of terms (order in the third flattening n) of
// the Krüger series used by transverseMercator.
const krugerOrder = 6

// transverseMercator holds the precomputed constants of an ellipsoidal
// transverse Mercator projection evaluated with Krüger's series in the third
// flattening n, to sixth order, as given by Karney (2011), equations (7),
// (9), (35)–(37). The projection is centred on longitude 0 and latitude 0;
// callers apply the central meridian and false easting/northing.
//
// The zero value is not usable; construct with newTransverseMercator.
type transverseMercator struct {
	e     float64 // first eccentricity
	e2m   float64 // 1 - e²
	k0A   float64 // k0 times the rectifying radius A
	alpha [krugerOrder]float64
	beta  [krugerOrder]float64
}

// newTransverseMercator returns the projection constants for an ellipsoid
// with semi-major axis a (metres), flattening f and central scale factor k0.
func newTransverseMercator(a, f, k0 float64) transverseMercator {
	n := f / (2 - f)
	n2 := n * n
	n3 := n2 * n
	n4 := n3 * n
	n5 := n4 * n
	n6 := n5 * n
	e2 := f * (2 - f)
	// Rectifying radius, Karney (2011) eq. (14).
	A := a / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	return transverseMercator{
		e:   math.Sqrt(e2),
		e2m: 1 - e2,
		k0A: k0 * A,
		// Karney (2011) eq. (35).
		alpha: [krugerOrder]float64{
			n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
			13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
			61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
			49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
			34729*n5/80640 - 3418889*n6/1995840,
			212378941 * n6 / 319334400,
		},
		// Karney (2011) eq. (36).
		beta: [krugerOrder]float64{
			n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
			n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
			17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
			4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
			4583*n5/161280 - 108847*n6/3991680,
			20648693 * n6 / 638668800,
		},
	}
}

// forward projects a point given as longitude difference from the central
// meridian dlon and latitude lat, both in radians, to unscaled-origin
// transverse Mercator coordinates x (easting, metres, no false easting) and
// y (northing, metres, from the equator). Inputs must be finite with
// |lat| <= π/2 and |dlon| < π/2; callers validate.
func (t *transverseMercator) forward(dlon, lat float64) (x, y float64) {
	// Conformal latitude via τ' (Karney 2011, eqs. 7–9).
	tau := math.Tan(lat)
	taup := taupf(tau, t.e)
	sl, cl := math.Sincos(dlon)
	// Gauss–Schreiber (spherical transverse Mercator) coordinates, eq. (10).
	xip := math.Atan2(taup, cl)
	etap := math.Asinh(sl / math.Hypot(taup, cl))
	s := clenshawSin(t.alpha[:], xip, etap)
	xi := xip + real(s)
	eta := etap + imag(s)
	return t.k0A * eta, t.k0A * xi
}

// inverse is the inverse of forward: it maps easting x and northing y
// (metres, without false offsets) to longitude difference from the central
// meridian and latitude, both in radians. Callers keep |x|, |y| within the
// validated domain so that every intermediate is finite.
func (t *transverseMercator) inverse(x, y float64) (dlon, lat float64) {
	xi := y / t.k0A
	eta := x / t.k0A
	s := clenshawSin(t.beta[:], xi, eta)
	xip := xi - real(s)
	etap := eta - imag(s)
	sxip, cxip := math.Sincos(xip)
	shetap := math.Sinh(etap)
	// Karney (2011) eq. (18).
	taup := sxip / math.Hypot(shetap, cxip)
	dlon = math.Atan2(shetap, cxip)
	tau := tauf(taup, t.e, t.e2m)
	return dlon, math.Atan(tau)
}

// clenshawSin evaluates S = Σ_{j=1..len(c)} c[j-1]·sin(2jζ) for the complex
// argument ζ = xi + i·eta by Clenshaw summation. Re S is the ξ correction and
// Im S the η correction of the Krüger series, since
// sin(2jζ) = sin(2jξ)cosh(2jη) + i·cos(2jξ)sinh(2jη).
func clenshawSin(c []float64, xi, eta float64) complex128 {
	s2x, c2x := math.Sincos(2 * xi)
	sh2e, ch2e := math.Sinh(2*eta), math.Cosh(2*eta)
	sin2z := complex(s2x*ch2e, c2x*sh2e)
	cos2z := complex(c2x*ch2e, -s2x*sh2e)
	twoCos := 2 * cos2z
	var b1, b2 complex128
	for k := len(c) - 1; k >= 0; k-- {
		b1, b2 = complex(c[k], 0)+twoCos*b1-b2, b1
	}
	return b1 * sin2z
}

// taupf returns τ' = tan χ, the tangent of the conformal latitude, for
// τ = tan φ on an ellipsoid of eccentricity e (Karney 2011, eqs. 7–9).
func taupf(tau, e float64) float64 {
	if math.IsInf(tau, 0) {
		return tau
	}
	tau1 := math.Hypot(1, tau)
	sig := math.Sinh(e * math.Atanh(e*tau/tau1))
	return math.Hypot(1, sig)*tau - sig*tau1
}

// tauf inverts taupf by Newton's method (Karney 2011, eqs. 19–21),
// returning τ = tan φ for the given τ'. Convergence is quadratic; two to
// three iterations reach full double precision for terrestrial latitudes.
func tauf(taup, e, e2m float64) float64 {
	if math.IsInf(taup, 0) || math.IsNaN(taup) {
		return taup
	}
	const maxIter = 10
	tol := math.Sqrt(0x1p-52) / 10
	stol := tol * math.Max(1, math.Abs(taup))
	tau := taup / e2m // Karney's starting guess, good for large |τ'| too.
	for i := 0; i < maxIter; i++ {
		taupa := taupf(tau, e)
		dtau := (taup - taupa) * (1 + e2m*tau*tau) /
			(e2m * math.Hypot(1, tau) * math.Hypot(1, taupa))
		tau += dtau
		if !(math.Abs(dtau) >= stol) { // also stops on NaN
			break
		}
	}
	return tau
}
