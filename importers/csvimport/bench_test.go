package csvimport

import (
	"bytes"
	"io"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
)

// benchmark imports the CSV from gen and reports features/s besides MB/s.
func benchmark(b *testing.B, gen *rowGen) {
	data, err := io.ReadAll(gen)
	if err != nil {
		b.Fatal(err)
	}
	opts := importers.Options{File: "bench.csv", Layer: "buildings"}
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
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(features)/b.Elapsed().Seconds(), "features/s")
	if cpu > 0 {
		b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
		b.ReportMetric(float64(features)/cpu.Seconds(), "features/cpu-s")
	}
}

// BenchmarkImportPoints imports 10,000 rows with lon/lat columns and six
// typed properties (~95 bytes a row).
func BenchmarkImportPoints(b *testing.B) { benchmark(b, newRowGen(10000, 0)) }

// BenchmarkImportWKT imports 10,000 rows of building footprints as WKT
// polygons of 12 vertices with six typed properties (~390 bytes a row).
func BenchmarkImportWKT(b *testing.B) { benchmark(b, newRowGen(10000, 12)) }
