package crs

import (
	"errors"
	"math"
	"testing"
)

func TestWebMercator(t *testing.T) {
	w := mustLookup(t, "EPSG:3857")
	tests := []struct {
		lon, lat float64
		x, y     float64
	}{
		{0, 0, 0, 0},
		{180, 0, 20037508.342789244, 0},
		{-180, 0, -20037508.342789244, 0},
		// ln tan(45° + 22.5°) = asinh(1).
		{0, 45, 0, 6378137 * math.Asinh(1)},
		// The latitude limit maps (almost exactly) to the square's edge.
		{0, WebMercatorMaxLat, 0, 20037508.342789244},
		// Latitudes beyond the limit are clamped.
		{0, 89.9, 0, 6378137 * math.Asinh(math.Tan(WebMercatorMaxLat*deg2rad))},
		{0, -90, 0, -6378137 * math.Asinh(math.Tan(WebMercatorMaxLat*deg2rad))},
	}
	for _, tc := range tests {
		x, y, err := w.FromWGS84(tc.lon, tc.lat)
		if err != nil || math.Abs(x-tc.x) > 1e-6 || math.Abs(y-tc.y) > 1e-2 {
			t.Errorf("FromWGS84(%v, %v) = (%.6f, %.6f, %v), want (%.6f, %.6f)", tc.lon, tc.lat, x, y, err, tc.x, tc.y)
		}
	}
	var worst float64
	for lon := -180.0; lon <= 180; lon += 2.5 {
		for lat := -85.0; lat <= 85; lat += 0.5 {
			x, y, err := w.FromWGS84(lon, lat)
			if err != nil {
				t.Fatal(err)
			}
			lon2, lat2, err := w.ToWGS84(x, y)
			if err != nil {
				t.Fatal(err)
			}
			worst = math.Max(worst, groundErr(lon, lat, lon2, lat2))
		}
	}
	t.Logf("EPSG:3857 round trip max %.3g m", worst)
	if worst > 1e-6 {
		t.Errorf("round trip %.3g m", worst)
	}
	for _, p := range [][2]float64{{2.1e7, 0}, {0, -2.1e7}, {math.NaN(), 0}, {0, math.Inf(1)}} {
		if _, _, err := w.ToWGS84(p[0], p[1]); err == nil {
			t.Errorf("ToWGS84%v: want error", p)
		}
	}
	if _, _, err := w.FromWGS84(181, 0); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("FromWGS84(181, 0) err = %v", err)
	}
	lon, lat, err := w.ToWGS84(WebMercatorExtent+5e-4, -WebMercatorExtent-5e-4)
	if err != nil || lon != 180 || lat != -WebMercatorMaxLat {
		t.Errorf("edge slack: (%v, %v, %v)", lon, lat, err)
	}
	if w.Geographic() || w.Name() == "" {
		t.Errorf("metadata %v %q", w.Geographic(), w.Name())
	}
}
