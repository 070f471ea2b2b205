package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"citytwin/gridcode"
	"citytwin/samples"
	"citytwin/spatial"
	"citytwin/spatial/pgstore"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// indexBenchOptions configure "citytwin bench index".
type indexBenchOptions struct {
	buildings int
	queries   int
	pg        string // PostgreSQL URL for the PostGIS baseline, or ""
}

// residentMemory returns the process's resident set size from
// /proc/self/status, or "unknown" where that is not available.
func residentMemory() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.Join(strings.Fields(line[6:]), " ")
		}
	}
	return "unknown"
}

// latencies summarises a set of query durations.
type latencies []time.Duration

func (l latencies) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

// benchIndex loads a synthetic Dalian of n buildings into the in-memory
// index and measures load time, memory and query latencies, beside a bare
// R-tree load and (with --pg) the same queries on PostGIS.
func benchIndex(e env, o indexBenchOptions) error {
	fmt.Fprintf(e.stdout, "generating %d synthetic buildings over Dalian's land…\n", o.buildings)
	var feats []*spatial.Feature
	err := samples.GenerateSynthetic(samples.SyntheticOptions{Buildings: o.buildings, Seed: 7}, func(f *spatial.Feature) error {
		feats = append(feats, f)
		return nil
	})
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nload %d buildings\ttime\tratio to bare R-tree\theap\n", len(feats))

	// Baseline: the bounding boxes alone into a bare R-tree.
	start := time.Now()
	var bare rtree.RTreeG[int]
	for i, f := range feats {
		b := f.Geometry.Bound()
		bare.Insert(b.Min, b.Max, i)
	}
	bareTook := time.Since(start)
	fmt.Fprintf(tw, "bare tidwall/rtree insert of boxes (baseline)\t%v\t1.0×\t\n", bareTook.Round(time.Millisecond))
	bare = rtree.RTreeG[int]{}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start = time.Now()
	for _, f := range feats {
		if err := f.Prepare(); err != nil {
			return err
		}
	}
	ix := spatial.NewIndex()
	ix.Apply(feats)
	took := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Fprintf(tw, "grid codes + R-tree + grid-code B-tree + id map\t%v\t%.1f×\t+%.0f MB for the index; process resident %s\n",
		took.Round(time.Millisecond), float64(took)/float64(bareTook), float64(after.HeapInuse-before.HeapInuse)/(1<<20), residentMemory())
	if err := tw.Flush(); err != nil {
		return err
	}

	r := rand.New(rand.NewPCG(9, 9))
	pick := func() orb.Point { return feats[r.IntN(len(feats))].Geometry.Bound().Center() }
	type query struct {
		name string
		run  func() (int, error)
		pg   func(ctx context.Context, s *pgstore.Store) (int, error)
	}
	var qs []query
	for i := 0; i < o.queries; i++ {
		c := pick()
		// About 500 m × 500 m around a building.
		b := orb.Bound{Min: orb.Point{c[0] - 0.0029, c[1] - 0.00225}, Max: orb.Point{c[0] + 0.0029, c[1] + 0.00225}}
		cell, _ := gridcode.Encode(c[1], c[0], 17)
		qs = append(qs, query{"bbox 500 m", func() (int, error) {
			p, err := ix.Search("buildings", spatial.Query{Bound: &b, Limit: spatial.MaxLimit})
			return len(p.Features), err
		}, func(ctx context.Context, s *pgstore.Store) (int, error) {
			fs, err := s.BBox(ctx, "buildings", b, spatial.MaxLimit)
			return len(fs), err
		}})
		qs = append(qs, query{"grid cell level 17 (~500 m)", func() (int, error) {
			p, err := ix.Search("buildings", spatial.Query{Cell: &cell, Limit: spatial.MaxLimit})
			return len(p.Features), err
		}, func(ctx context.Context, s *pgstore.Store) (int, error) {
			n := 0
			err := s.ScanCell(ctx, "buildings", cell, func(*spatial.Feature) error { n++; return nil })
			return n, err
		}})
		qs = append(qs, query{"nearest 10", func() (int, error) {
			ns, err := ix.Nearest("buildings", c, 10, spatial.Query{})
			return len(ns), err
		}, func(ctx context.Context, s *pgstore.Store) (int, error) {
			fs, err := s.Nearest(ctx, "buildings", c, 10)
			return len(fs), err
		}})
	}

	var pg *pgstore.Store
	ctx := context.Background()
	if o.pg != "" {
		if pg, err = pgstore.Open(ctx, o.pg, nil); err != nil {
			return fmt.Errorf("--pg: %w", err)
		}
		defer pg.Close()
		fmt.Fprintf(e.stdout, "loading the same buildings into PostGIS…\n")
		start := time.Now()
		for i := 0; i < len(feats); i += 10000 {
			if err := pg.Put(ctx, feats[i:min(i+10000, len(feats))]); err != nil {
				return fmt.Errorf("PostGIS load: %w", err)
			}
		}
		fmt.Fprintf(e.stdout, "PostGIS COPY load: %v\n", time.Since(start).Round(time.Millisecond))
		// Fresh statistics, so the planner uses the GiST and B-tree indexes
		// as it would on a database in service.
		if _, err := pg.DB().ExecContext(ctx, "VACUUM ANALYZE features"); err != nil {
			return fmt.Errorf("PostGIS analyze: %w", err)
		}
	}

	tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nquery\tin-memory p50\tp99\tresults\tPostGIS p50\tp99\tresults\tspeed-up (p50)")
	for _, name := range []string{"bbox 500 m", "grid cell level 17 (~500 m)", "nearest 10"} {
		var mem, base latencies
		found, pgFound := 0, 0
		for _, q := range qs {
			if q.name != name {
				continue
			}
			t0 := time.Now()
			n, err := q.run()
			if err != nil {
				return err
			}
			found += n
			mem = append(mem, time.Since(t0))
			if pg != nil {
				t0 = time.Now()
				m, err := q.pg(ctx, pg)
				if err != nil {
					return err
				}
				base = append(base, time.Since(t0))
				pgFound += m
			}
		}
		if pg != nil {
			fmt.Fprintf(tw, "%s\t%v\t%v\t%d\t%v\t%v\t%d\t%.0f×\n", name, mem.pct(0.5), mem.pct(0.99), found, base.pct(0.5), base.pct(0.99), pgFound, float64(base.pct(0.5))/float64(mem.pct(0.5)))
		} else {
			fmt.Fprintf(tw, "%s\t%v\t%v\t%d\t(no --pg)\t\t\t\n", name, mem.pct(0.5), mem.pct(0.99), found)
		}
	}
	return tw.Flush()
}
