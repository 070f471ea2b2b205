package pgstore

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Benchmark scale: 100,000 building footprints over about 22 × 17 km
// around Dalian (121.6E 38.9N), some 270 per km².
const (
	benchN    = 100_000
	benchSpan = 0.2 // degrees
)

// BenchmarkCopyLoad100k measures Put of 100,000 buildings into an empty
// table in one batch (COPY, upsert, commit), in features/s.
//
//	go test -run '^$' -bench CopyLoad ./spatial/pgstore/
func BenchmarkCopyLoad100k(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	fs := buildings(42, "buildings", 0, benchN, benchSpan)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := s.DB().Exec(`TRUNCATE features`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.Put(ctx, fs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(benchN)*float64(b.N)/b.Elapsed().Seconds(), "features/s")
}

// BenchmarkQueries100k loads 100,000 buildings once, then measures a 500 m
// bounding box, a level-15 GeoSOT cell scan, the 10 nearest and a
// one-feature Put, reporting latency percentiles.
//
//	go test -run '^$' -bench Queries ./spatial/pgstore/
func BenchmarkQueries100k(b *testing.B) {
	s, _ := newStore(b)
	ctx := context.Background()
	if err := s.Put(ctx, buildings(42, "buildings", 0, benchN, benchSpan)); err != nil {
		b.Fatal(err)
	}
	if _, err := s.DB().Exec(`VACUUM ANALYZE features`); err != nil {
		b.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(7, 7))
	randomPoint := func() orb.Point {
		return orb.Point{dalianLon + (rng.Float64()-0.5)*benchSpan*0.9, dalianLat + (rng.Float64()-0.5)*benchSpan*0.9}
	}

	b.Run("BBox500m", func(b *testing.B) {
		const dLat = 500 / 111_000.0
		dLon := dLat / math.Cos(dalianLat*math.Pi/180)
		found := 0
		lat := latencies(b, func() {
			p := randomPoint()
			got, err := s.BBox(ctx, "buildings", orb.Bound{Min: p, Max: orb.Point{p[0] + dLon, p[1] + dLat}}, 0)
			if err != nil {
				b.Fatal(err)
			}
			found += len(got)
		})
		b.ReportMetric(float64(found)/float64(b.N), "features/op")
		lat.report(b)
	})

	b.Run("ScanCellL15", func(b *testing.B) {
		found := 0
		lat := latencies(b, func() {
			p := randomPoint()
			cell, err := gridcode.Encode(p[1], p[0], 15)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.ScanCell(ctx, "buildings", cell, func(*spatial.Feature) error { found++; return nil }); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(found)/float64(b.N), "features/op")
		lat.report(b)
	})

	b.Run("Nearest10", func(b *testing.B) {
		lat := latencies(b, func() {
			got, err := s.Nearest(ctx, "buildings", randomPoint(), 10)
			if err != nil || len(got) != 10 {
				b.Fatal(len(got), err)
			}
		})
		lat.report(b)
	})

	b.Run("PutOne", func(b *testing.B) {
		one := buildings(43, "buildings", benchN, 1, benchSpan)
		lat := latencies(b, func() {
			one[0].Version++
			if err := s.Put(ctx, one); err != nil {
				b.Fatal(err)
			}
		})
		lat.report(b)
	})
}

// lat holds per-operation latencies.
type lat []time.Duration

// latencies runs op b.N times, timing each.
func latencies(b *testing.B, op func()) lat {
	out := make(lat, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		op()
		out = append(out, time.Since(t0))
	}
	return out
}

// report adds p50 and p99 in microseconds to b's results.
func (l lat) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	pct := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	b.ReportMetric(float64(pct(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(pct(0.99).Microseconds()), "p99-µs")
}
