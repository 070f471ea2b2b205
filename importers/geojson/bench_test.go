package geojson

import (
	"bytes"
	"testing"
	"time"

	"citytwin/importers"
	"citytwin/spatial"
)

// BenchmarkImport converts a generated FeatureCollection of 10,000
// building polygons (12 vertices, 5 properties, ~640 bytes each) and
// reports features/s besides MB/s.
func BenchmarkImport(b *testing.B) {
	data := generated(10000, 12)
	opts := importers.Options{File: "bench.geojson", Layer: "buildings"}
	discard := func(*spatial.Feature) error { return nil }
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var features int64
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := Import(bytes.NewReader(data), opts, discard)
		if err != nil {
			b.Fatal(err)
		}
		features += st.Features
	}
	reportCPU(b, cpuTime()-cpu0, int64(len(data)), features)
}

// reportCPU reports features/s, and MB and features per second of CPU
// time (all threads, including the garbage collector's): on a busy
// machine these vary far less than the wall-clock figures.
func reportCPU(b *testing.B, cpu time.Duration, size, features int64) {
	b.ReportMetric(float64(features)/b.Elapsed().Seconds(), "features/s")
	if cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
		b.ReportMetric(float64(features)/cpu.Seconds(), "features/cpu-s")
	}
}
