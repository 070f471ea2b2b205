// Package crs converts coordinates between the reference systems used by the
// Dalian digital twin: WGS 84 and CGCS2000 longitude/latitude, the CGCS2000
// 3-degree Gauss–Krüger projections, Web Mercator and China's GCJ-02
// obfuscated coordinates. It is pure Go with no dependencies beyond the
// standard library, holds no mutable global state, never panics on bad input
// and reports failures as wrapped errors (see ErrUnknownCRS,
// ErrInvalidCoordinate, ErrOutOfRange, ErrNoConvergence).
//
// # Usage
//
// Lookup returns a CRS for an identifier such as "EPSG:4549", "4490",
// "urn:ogc:def:crs:EPSG::4326", "GCJ-02" or "EPSG:900913". Every CRS converts
// to and from WGS 84 longitude/latitude in degrees; Transform chains two of
// them. Coordinates are always (x, y) = (easting, northing) or (longitude,
// latitude), regardless of the axis order declared by the EPSG registry: the
// Chinese survey convention X = northing, Y = easting is NOT used.
// ZoneForLon picks the 3-degree zone for a longitude.
//
// # Geographic: EPSG:4326 (WGS 84) and EPSG:4490 (CGCS2000)
//
// Both are longitude/latitude in degrees and are treated as the same system:
// converting between them is the identity. The ellipsoids differ only in
// flattening (1/298.257223563 vs 1/298.257222101), which moves latitudes by
// at most about 0.1 mm, and the datum definitions agree to a few centimetres
// at a common epoch. Users needing better than sub-metre agreement should
// note one real effect this package ignores: CGCS2000 coordinates are frozen
// at epoch 2000.0 (ITRF97), whereas WGS 84 coordinates from a modern GNSS
// receiver or service refer to the current epoch, and north-east China moves
// about 3 cm/yr with the Eurasian plate, so the same ground point can differ
// by several decimetres (of order 0.7 m by the mid-2020s) between a
// CGCS2000 survey and a current-epoch WGS 84 fix. Correcting that requires a
// plate-motion or station-velocity model and is out of scope.
//
// # CGCS2000 3-degree Gauss–Krüger: EPSG:4534–4554 and EPSG:4513–4533
//
// Transverse Mercator on the CGCS2000 ellipsoid (a = 6378137 m,
// f = 1/298.257222101), scale factor 1 on a central meridian (CM) at a
// multiple of 3°, latitude of origin 0, no false northing. The "CM" family
// EPSG:4534 (CM 75E) … EPSG:4554 (CM 135E) uses false easting 500 000 m;
// the "zone" family EPSG:4513 (zone 25, CM 75E) … EPSG:4533 (zone 45, CM
// 135E) prefixes the zone number, false easting zone×1e6 + 500 000 m. For
// example EPSG:4549 is "CGCS2000 / 3-degree Gauss-Kruger CM 120E" and
// EPSG:4528 is "zone 40" on the same meridian.
//
// The projection is evaluated with Krüger's series in the third flattening n
// to sixth order, in the form given by Karney (2011): the conformal latitude
// is computed exactly (and inverted by Newton's method), and the series are
// summed by Clenshaw's method with complex arithmetic. Within 3900 km of the
// CM the truncation error is about 5 nm. Conversions are accepted up to
// GaussKrugerMaxDeltaLon (30°) from the CM, so data spilling over a zone
// edge converts exactly (only the scale distortion grows).
//
// Dalian straddles the boundary at 121.5°E between the CM 120E zone
// (EPSG:4549 / 4528; Lüshunkou, ~121.26°E) and the CM 123E zone (EPSG:4550
// / 4529; the city centre, ~121.6°E). ZoneForLon(121.6) is therefore 4550.
// A twin should use one zone for the whole city — whichever the source
// surveys use; check their metadata rather than trusting ZoneForLon — and
// accept the point scale factor ≈ 1 + (Δλ cos φ)²/2, at Dalian's latitude
// about 1 + 2.1e-4 (21 cm per km) at 1.5° from the CM and 1 + 2.8e-4 at
// 1.74° (Lüshunkou in the CM 123E zone).
//
// # GCJ-02
//
// GCJ-02 ("Mars coordinates") is the obfuscated WGS 84 required for maps
// published in mainland China (AMap/Gaode, Tencent, Google Maps China; Baidu's
// BD-09 is a further transform and is not supported). This package
// implements the widely circulated reverse-engineered algorithm — Krasovsky
// a = 6378245 m, e² = 0.00669342162296594323 and the polynomial-sine
// transformLat/transformLon functions — applied only inside the rough box
// 72.004–137.8347°E, 0.8293–55.8271°N and the identity outside it. It
// reproduces the eviltransform project's published vectors to 1e-12°; its
// agreement with the official (unpublished) implementation is not asserted.
// Over Dalian the offset is 418–535 m, mostly eastward.
//
// WGS 84 → GCJ-02 is exact by definition. GCJ-02 → WGS 84 inverts it by
// fixed-point iteration to a residual of 1e-13° (3–5 iterations). Two
// properties of the algorithm limit the inverse, neither anywhere near
// Dalian: the offset switches on abruptly at the box edge, so a band a few
// hundred metres wide just inside the edge has no preimage (ErrOutOfRange);
// and the √|lon − 105°| terms make the map ill-conditioned within ~1e-9° of
// 105°E, where the inverse is good to only ~3e-7 m.
//
// # Web Mercator: EPSG:3857 (alias EPSG:900913, EPSG:3785)
//
// Spherical Mercator of WGS 84 longitude/latitude on a sphere of radius
// 6378137 m, as used by web map tiles. Latitudes are clamped to
// ±WebMercatorMaxLat (85.05112878°); inverse input more than 1 mm outside
// the ±WebMercatorExtent square is rejected. Web Mercator is not conformal on
// the ellipsoid and its scale error at Dalian is about 1/cos φ ≈ 1.29; use
// the Gauss–Krüger systems for measurement.
//
// # Measured accuracy
//
// From the package tests (float64, amd64):
//
//   - Gauss–Krüger round trip, geographic → projected → geographic: at most
//     5.4e-9 m over all 21 zones for |Δλ| ≤ 1.5°, 18–54°N (371 490 points),
//     4.8e-9 m over Dalian (120.9–123.6°E, 38.6–40.2°N) in both candidate
//     zones, and 3.2e-9 m for |Δλ| ≤ 10°, 80°S–89.9°N; projected →
//     geographic → projected: at most 2.8e-9 m.
//   - Against PROJ's exact transverse Mercator test vector (GRS 80, (2°, 1°)
//     → 222650.79679758527 m, 110642.22941193319 m): within 5e-10 m. On the
//     central meridian the northing equals the meridian arc length
//     (numerically integrated) within 1e-6 m, and at the pole the published
//     GRS 80 meridian quadrant 10 001 965.7293 m within 1e-4 m. The lat-0
//     CM point maps to easting 500 000 exactly.
//   - Against the independent Snyder (1987) power series: at most 0.55 mm
//     within the zone (±1.5°, 18–54°N), the truncation error of Snyder's
//     series; Snyder's own worked example (Clarke 1866, k0 = 0.9996) is
//     reproduced to its printed 0.1 m.
//   - GCJ-02 round trip: at most 1.4e-8 m over Dalian in either direction,
//     and at most 3.6e-7 m over 73–135°E, 18–54°N (the worst case on the
//     105°E cusp).
//   - Web Mercator round trip: at most 3.2e-9 m.
//
// # References
//
//   - C. F. F. Karney, "Transverse Mercator with an accuracy of a few
//     nanometers", Journal of Geodesy 85(8), 475–485 (2011),
//     doi:10.1007/s00190-011-0445-3.
//   - L. Krüger, "Konforme Abbildung des Erdellipsoids in der Ebene",
//     Royal Prussian Geodetic Institute, new series 52 (1912).
//   - J. P. Snyder, "Map Projections — A Working Manual", USGS Professional
//     Paper 1395 (1987), pp. 60–64 and 269.
//   - H. Moritz, "Geodetic Reference System 1980", Journal of Geodesy 74(1),
//     128–133 (2000).
//   - IOGP EPSG Geodetic Parameter Dataset, https://epsg.org (codes 4326,
//     4490, 3857, 4513–4554).
//   - Chinese State Bureau of Surveying and Mapping, announcement on the
//     adoption of CGCS2000 (2008); Yang Y., "Chinese geodetic coordinate
//     system 2000", Chinese Science Bulletin 54, 2714–2721 (2009).
//   - PROJ test suite, test/gie/builtins.gie (tmerc/etmerc vectors).
//   - eviltransform, https://github.com/googollee/eviltransform (GCJ-02
//     reference implementation and test vectors).
package crs
