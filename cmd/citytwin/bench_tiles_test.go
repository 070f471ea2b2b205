package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchClientEnv makes this test binary act as "citytwin bench-client"
// (see TestBenchClientProcess), so tests need not build the command.
const benchClientEnv = "CITYTWIN_BENCH_CLIENT_PROCESS"

// testClient runs the load generator as a child process: this test binary,
// in TestBenchClientProcess.
func testClient(ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^TestBenchClientProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), benchClientEnv+"=1")
	return cmd
}

// TestBenchClientProcess is not a test: it is the load generator's
// process when testClient starts this binary.
func TestBenchClientProcess(t *testing.T) {
	if os.Getenv(benchClientEnv) != "1" {
		t.Skip("runs only as the child process of a tile benchmark")
	}
	i := slices.Index(os.Args, "--")
	if i < 0 {
		fmt.Fprintln(os.Stderr, "bench-client: no arguments after --")
		os.Exit(2)
	}
	if err := runBenchClient(os.Args[i+1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "bench-client:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestBenchTiles runs the tile benchmark on the sample city with tiny
// settings and no PostGIS.
func TestBenchTiles(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the sample city and runs a load test")
	}
	var out bytes.Buffer
	err := benchTiles(env{stdout: &out, stderr: &out}, tileBenchOptions{
		tilesPerZoom: 3, concurrency: 4, duration: time.Second, client: testClient,
	})
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for z := 12; z <= 17; z++ {
		if !strings.Contains(s, "\nz"+strconv.Itoa(z)+" ") {
			t.Errorf("no row for zoom %d", z)
		}
	}
	for _, want := range []string{"tile generation, buildings layer, cold", "(no --pg)", "ours, cache cold", "ours, bare Generator.Render", "ours, cache warm", "load average at end"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "ours, ") {
			continue
		}
		// name (…) tiles/s p50 ms p99 ms errors hits …: some tiles must
		// have been served, without errors, and only the warm cache hits.
		f := strings.Fields(line[strings.Index(line, ")")+1:])
		if len(f) < 7 {
			t.Fatalf("short row %q", line)
		}
		rate, err := strconv.ParseFloat(f[0], 64)
		if err != nil || rate <= 0 {
			t.Errorf("row %q: tiles/s %q", line, f[0])
		}
		if f[5] != "0" {
			t.Errorf("row %q: %s errors", line, f[5])
		}
		// The 1-tile cache can hit when two connections ask for the same
		// tile at once, which a set of 17 tiles makes possible: rarely.
		hits, _ := strconv.Atoi(f[6])
		if warm := strings.HasPrefix(line, "ours, cache warm"); warm && float64(hits) < rate/2 || !warm && float64(hits) > rate/10 {
			t.Errorf("row %q: %d cache hits", line, hits)
		}
	}
}

// TestBenchClientLoopbackOnly checks that the load generator refuses
// URLs that are not on a loopback address.
func TestBenchClientLoopbackOnly(t *testing.T) {
	f := t.TempDir() + "/urls"
	if err := os.WriteFile(f, []byte("http://127.0.0.1:1/a\nhttp://example.com/b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := runBenchClient([]string{"--url-file", f, "--duration", "10ms"}, env{stdout: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("got %v, want a loopback-only error", err)
	}
}

// TestBenchTilesFull runs the full benchmark when CITYTWIN_BENCH_TILES_FULL
// is 1, with PostGIS at $CITYTWIN_PG if set and a synthetic city of
// $CITYTWIN_BENCH_TILES_BUILDINGS buildings (default 0, the sample city):
//
//	bash scripts/with-postgis.sh env CITYTWIN_BENCH_TILES_FULL=1 go test -run TestBenchTilesFull -v -timeout 30m ./cmd/citytwin
func TestBenchTilesFull(t *testing.T) {
	if os.Getenv("CITYTWIN_BENCH_TILES_FULL") != "1" {
		t.Skip("set CITYTWIN_BENCH_TILES_FULL=1 (and CITYTWIN_PG) for the full tile benchmark")
	}
	n := 0
	if s := os.Getenv("CITYTWIN_BENCH_TILES_BUILDINGS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("CITYTWIN_BENCH_TILES_BUILDINGS: %v", err)
		}
	}
	err := benchTiles(env{stdout: os.Stdout, stderr: os.Stderr}, tileBenchOptions{buildings: n, pg: os.Getenv("CITYTWIN_PG"), client: testClient})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTileBenchFlags checks that bench tiles reads its flags from the
// bench flag set, and takes --buildings only when it is given (its default
// there is bench index's).
func TestTileBenchFlags(t *testing.T) {
	parse := func(args ...string) tileBenchOptions {
		t.Helper()
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		fs.Int("buildings", 1_000_000, "")
		fs.String("pg", "", "")
		opts := tileBenchFlags(fs)
		if _, err := parseFlags(fs, args); err != nil {
			t.Fatal(err)
		}
		return opts()
	}
	if o := parse("tiles"); o.buildings != 0 || o.pg != "" || o.tilesPerZoom != 200 || o.concurrency != 32 || o.duration != 10*time.Second {
		t.Errorf("defaults: %+v", o)
	}
	o := parse("tiles", "--buildings", "5000", "--pg", "postgres://x", "--tiles-per-zoom", "7", "--concurrency", "3", "--duration", "2s")
	if o.buildings != 5000 || o.pg != "postgres://x" || o.tilesPerZoom != 7 || o.concurrency != 3 || o.duration != 2*time.Second {
		t.Errorf("flags: %+v", o)
	}
}
