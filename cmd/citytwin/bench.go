package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"testing"
	"text/tabwriter"
	"time"

	"citytwin/gridcode"

	"github.com/golang/geo/s2"
	"github.com/uber/h3-go/v4"
)

// runBench runs the named benchmark families in this process and prints
// each result beside a baseline measured in the same run, as a ratio.
func runBench(args []string, e env) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	buildings := fs.Int("buildings", 1_000_000, "bench index: buildings in the synthetic city")
	queries := fs.Int("queries", 1000, "bench index: queries of each kind")
	pg := fs.String("pg", "", "bench index and tiles: PostgreSQL/PostGIS URL for the baseline (an empty scratch database)")
	tileOpts := tileBenchFlags(fs)
	ingestOpts := ingestBenchFlags(fs)
	trafficFiles := trafficBenchFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if len(pos) == 0 {
		pos = []string{"gridcode"}
	}
	for _, name := range pos {
		switch name {
		case "gridcode":
			if err := benchGridcode(e); err != nil {
				return err
			}
		case "index":
			if err := benchIndex(e, indexBenchOptions{buildings: *buildings, queries: *queries, pg: *pg}); err != nil {
				return err
			}
		case "tiles":
			if err := benchTiles(e, tileOpts()); err != nil {
				return err
			}
		case "ingest":
			if err := benchIngest(e, ingestOpts()); err != nil {
				return err
			}
		case "traffic":
			net, trips := trafficFiles()
			if err := benchTraffic(e, net, trips); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown benchmark %q: this build has gridcode, index, tiles, ingest and traffic", name)
		}
	}
	return nil
}

// benchPoints returns n deterministic points over greater Dalian.
func benchPoints(n int) [][2]float64 {
	r := rand.New(rand.NewPCG(42, 42))
	pts := make([][2]float64, n)
	for i := range pts {
		pts[i] = [2]float64{38.6 + r.Float64()*1.7, 120.8 + r.Float64()*2.8}
	}
	return pts
}

// benchGridcode measures point encoding in every scheme against h3-go's
// LatLngToCell and S2's CellIDFromLatLng.
func benchGridcode(e env) error {
	pts := benchPoints(1 << 12)
	at := time.Date(2026, 7, 21, 9, 15, 0, 0, time.UTC)
	var sink uint64
	cases := []struct {
		name string
		f    func(b *testing.B)
	}{
		{"h3-go LatLngToCell res 15 (baseline)", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := pts[i&(len(pts)-1)]
				sink += uint64(h3.LatLngToCell(h3.NewLatLng(p[0], p[1]), 15))
			}
		}},
		{"S2 CellIDFromLatLng level 30", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := pts[i&(len(pts)-1)]
				sink += uint64(s2.CellIDFromLatLng(s2.LatLngFromDegrees(p[0], p[1])))
			}
		}},
		{"GeoSOT 2D Encode level 32", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := pts[i&(len(pts)-1)]
				c, _ := gridcode.Encode(p[0], p[1], 32)
				sink += c.Bits()
			}
		}},
		{"GeoSOT 3D Encode3D level 32", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := pts[i&(len(pts)-1)]
				c, _ := gridcode.Encode3D(p[0], p[1], 50, 32)
				xy, _ := c.Bits()
				sink += xy
			}
		}},
		{"BeiDou 2D EncodeBeiDou level 10", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := pts[i&(len(pts)-1)]
				c, _ := gridcode.EncodeBeiDou(p[0], p[1], 10)
				sink += uint64(c.Level())
			}
		}},
		{"space-time EncodeSpaceTime 32/48", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p := pts[i&(len(pts)-1)]
				c, _ := gridcode.EncodeSpaceTime(p[0], p[1], 50, at, 32, 48)
				sink += c.Time.Bits()
			}
		}},
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tns/op\tallocs/op\tspeed-up vs h3-go")
	var base float64
	for i, c := range cases {
		r := testing.Benchmark(c.f)
		ns := float64(r.T.Nanoseconds()) / float64(r.N)
		if i == 0 {
			base = ns
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%d\t%.1f×\n", c.name, ns, r.AllocsPerOp(), base/ns)
	}
	_ = sink
	if err := tw.Flush(); err != nil {
		return err
	}
	return benchEncodeStream(e)
}

// benchEncodeStream measures "citytwin grid encode" end to end (parse the
// text line, encode, format, write) over 100,000 in-memory lines, with the
// same pipeline driving h3-go as the baseline.
func benchEncodeStream(e env) error {
	var in bytes.Buffer
	for _, p := range benchPoints(100_000) {
		fmt.Fprintf(&in, "%.7f, %.7f\n", p[0], p[1])
	}
	lines := 100_000
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\ngrid encode stream (100,000 lines)\tpoints/s\tspeed-up vs h3-go")
	var base float64
	for i, c := range []struct{ name, scheme string }{{"h3 res 15 (baseline)", "h3"}, {"geosot level 32", "geosot"}, {"beidou level 10", "beidou"}} {
		level := 32
		switch c.scheme {
		case "h3":
			level = 15
		case "beidou":
			level = 10
		}
		enc, err := newEncoder(c.scheme, level, gridcode.MaxTimeLevel)
		if err != nil {
			return err
		}
		var failed error
		r := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := encodeStream(enc, 0, env{stdin: bytes.NewReader(in.Bytes()), stdout: io.Discard}); err != nil {
					failed = err
				}
			}
		})
		if failed != nil {
			return failed
		}
		rate := float64(lines) * float64(r.N) / r.T.Seconds()
		if i == 0 {
			base = rate
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f×\n", c.name, rate, rate/base)
	}
	return tw.Flush()
}
