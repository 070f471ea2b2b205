package crs

import "testing"

// Sinks defeat dead-code elimination in benchmarks.
var sinkX, sinkY float64

func BenchmarkGaussKrugerForward(b *testing.B) {
	g := mustLookup(b, "EPSG:4549")
	for i := 0; b.Loop(); i++ {
		x, y, err := g.FromWGS84(121.6147+float64(i&1023)*1e-4, 38.914)
		if err != nil {
			b.Fatal(err)
		}
		sinkX, sinkY = x, y
	}
}

func BenchmarkGaussKrugerInverse(b *testing.B) {
	g := mustLookup(b, "EPSG:4549")
	for i := 0; b.Loop(); i++ {
		lon, lat, err := g.ToWGS84(640000+float64(i&1023), 4310000)
		if err != nil {
			b.Fatal(err)
		}
		sinkX, sinkY = lon, lat
	}
}

func BenchmarkGCJ02Forward(b *testing.B) {
	g := mustLookup(b, "GCJ-02")
	for i := 0; b.Loop(); i++ {
		x, y, err := g.FromWGS84(121.6147+float64(i&1023)*1e-4, 38.914)
		if err != nil {
			b.Fatal(err)
		}
		sinkX, sinkY = x, y
	}
}

func BenchmarkGCJ02Inverse(b *testing.B) {
	g := mustLookup(b, "GCJ-02")
	for i := 0; b.Loop(); i++ {
		lon, lat, err := g.ToWGS84(121.6196+float64(i&1023)*1e-4, 38.9148)
		if err != nil {
			b.Fatal(err)
		}
		sinkX, sinkY = lon, lat
	}
}

func BenchmarkWebMercatorForward(b *testing.B) {
	w := mustLookup(b, "EPSG:3857")
	for i := 0; b.Loop(); i++ {
		x, y, err := w.FromWGS84(121.6147+float64(i&1023)*1e-4, 38.914)
		if err != nil {
			b.Fatal(err)
		}
		sinkX, sinkY = x, y
	}
}

func BenchmarkLookup(b *testing.B) {
	for b.Loop() {
		c, err := Lookup("EPSG:4549")
		if err != nil {
			b.Fatal(err)
		}
		_ = c
	}
}
