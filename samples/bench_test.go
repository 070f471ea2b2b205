package samples

import (
	"testing"
	"time"

	"citytwin/spatial"
)

// reportRates adds features per second of wall time and, where the
// platform tells, per second of process CPU time (meaningful when the
// machine is shared).
func reportRates(b *testing.B, features int, wall, cpu time.Duration) {
	b.ReportMetric(float64(features)/wall.Seconds(), "features/s")
	if cpu > 0 {
		b.ReportMetric(float64(features)/cpu.Seconds(), "features/cpu-s")
	}
}

// BenchmarkDalian measures generating the default sample city (about
// 10,500 features), streaming to a sink that drops them.
func BenchmarkDalian(b *testing.B) {
	n := 0
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		if err := Generate(Options{Seed: 1}, func(*spatial.Feature) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, n, time.Since(start), cpuTime()-cpu0)
}

// BenchmarkSynthetic1M measures streaming one million synthetic buildings;
// run it with -benchtime=1x.
func BenchmarkSynthetic1M(b *testing.B) {
	const n = 1_000_000
	total := 0
	start, cpu0 := time.Now(), cpuTime()
	for b.Loop() {
		if err := GenerateSynthetic(SyntheticOptions{Buildings: n, Seed: 1}, func(*spatial.Feature) error { total++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, total, time.Since(start), cpuTime()-cpu0)
}
