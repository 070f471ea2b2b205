package pebblestore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"
	"citytwin/spatial/storetest"

	"github.com/cockroachdb/pebble"
)

// BenchmarkDalian1M builds a store of 1,000,000 Dalian features (100,000
// with -short) and measures, in order: Put in batches of 10,000 (one
// fsynced batch each; ns/feature is wall time inside Put, cpu-ns/feature
// the process's CPU time including pebble's background flushes and
// compactions, less that of generating the features), Open of the built
// store, ScanCell of
// level-15 cells, Get, Layers, a full Scan and Check. Run it with
//
//	go test -run '^$' -bench Dalian1M -timeout 30m ./spatial/pebblestore/
//
// Put, ScanAll and Check take longer than the default -benchtime and so
// run once; the others repeat. PEBBLESTORE_BENCH_N=n overrides the size.
func BenchmarkDalian1M(b *testing.B) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	if v, err := strconv.Atoi(os.Getenv("PEBBLESTORE_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	const batch = 10_000
	ctx := context.Background()
	var dir string
	b.Run("Put", func(pb *testing.B) {
		// The CPU time of generating the features, to subtract.
		gen := cpuTime()
		for i := 0; i < n; i += batch {
			storetest.DalianFeatures(1, "bench", i, batch)
		}
		gen = cpuTime() - gen
		var elapsed, stalled time.Duration
		var stallStart time.Time
		stalls := WithPebbleOptions(func(o *pebble.Options) {
			o.EventListener = &pebble.EventListener{
				WriteStallBegin: func(pebble.WriteStallBeginInfo) { stallStart = time.Now() },
				WriteStallEnd:   func() { stalled += time.Since(stallStart) },
			}
		})
		cpu0 := cpuTime()
		for range pb.N {
			dir = b.TempDir()
			s, err := Open(dir, stalls)
			if err != nil {
				pb.Fatal(err)
			}
			for i := 0; i < n; i += batch {
				pb.StopTimer()
				fs := storetest.DalianFeatures(1, "bench", i, batch)
				pb.StartTimer()
				t0 := time.Now()
				if err := s.Put(ctx, fs); err != nil {
					pb.Fatal(err)
				}
				elapsed += time.Since(t0)
			}
			pb.StopTimer()
			if err := s.Close(); err != nil {
				pb.Fatal(err)
			}
			pb.StartTimer()
		}
		pb.ReportMetric(float64(elapsed.Nanoseconds())/float64(pb.N*n), "ns/feature")
		pb.ReportMetric(float64((cpuTime()-cpu0-time.Duration(pb.N)*gen).Nanoseconds())/float64(pb.N*n), "cpu-ns/feature")
		pb.ReportMetric(float64(stalled.Nanoseconds())/float64(pb.N*n), "stall-ns/feature")
		pb.ReportMetric(float64(dirSize(pb, dir))/float64(n), "disk-B/feature")
		pb.ReportMetric(0, "ns/op")
	})
	if dir == "" {
		b.Skip("Put did not run")
	}
	b.Run("Open", func(pb *testing.B) {
		for range pb.N {
			s, err := Open(dir)
			if err != nil {
				pb.Fatal(err)
			}
			pb.StopTimer()
			if err := s.Close(); err != nil {
				pb.Fatal(err)
			}
			pb.StartTimer()
		}
	})
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// Level-15 cells (about 1.4 km × 1.7 km) holding features.
	var cells []gridcode.Code
	for i := 0; i < n; i += n / 1000 {
		if f := storetest.DalianFeature(1, "bench", i); f.Code.Level() >= 15 {
			cells = append(cells, f.Code.ParentAt(15))
		}
	}
	b.Run("ScanCell15", func(pb *testing.B) {
		found := 0
		for i := range pb.N {
			if err := s.ScanCell(ctx, "bench", cells[i%len(cells)], func(*spatial.Feature) error { found++; return nil }); err != nil {
				pb.Fatal(err)
			}
		}
		pb.ReportMetric(float64(found)/float64(pb.N), "features/op")
		if found > 0 {
			pb.ReportMetric(float64(pb.Elapsed().Nanoseconds())/float64(found), "ns/feature")
		}
	})
	b.Run("Get", func(pb *testing.B) {
		for i := range pb.N {
			if _, err := s.Get(ctx, "bench", fmt.Sprintf("f%07d", (i*7919)%n)); err != nil {
				pb.Fatal(err)
			}
		}
	})
	b.Run("Layers", func(pb *testing.B) {
		for range pb.N {
			ls, err := s.Layers(ctx)
			if err != nil || len(ls) != 1 || ls[0].Count != n {
				pb.Fatalf("Layers = %v, %v", ls, err)
			}
		}
	})
	b.Run("ScanAll", func(pb *testing.B) {
		cpu0 := cpuTime()
		for range pb.N {
			found := 0
			if err := s.Scan(ctx, "bench", func(*spatial.Feature) error { found++; return nil }); err != nil || found != n {
				pb.Fatalf("Scan found %d: %v", found, err)
			}
		}
		pb.ReportMetric(float64(pb.Elapsed().Nanoseconds())/float64(pb.N*n), "ns/feature")
		pb.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(pb.N*n), "cpu-ns/feature")
	})
	b.Run("Check", func(pb *testing.B) {
		for range pb.N {
			if err := s.Check(ctx); err != nil {
				pb.Fatal(err)
			}
		}
	})
}

// BenchmarkPutSmall measures a Put of one feature: the cost of one fsynced
// batch.
func BenchmarkPutSmall(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	fs := storetest.DalianFeatures(2, "small", 0, 1000)
	b.ResetTimer()
	for i := range b.N {
		if err := s.Put(ctx, fs[i%len(fs):i%len(fs)+1]); err != nil {
			b.Fatal(err)
		}
	}
}

// dirSize returns the total size of the sstables in a store directory (the
// WAL files, recycled or preallocated, are left out).
func dirSize(b *testing.B, dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && filepath.Ext(e.Name()) == ".sst" {
			n += info.Size()
		}
	}
	return n
}
