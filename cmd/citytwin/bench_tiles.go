package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"citytwin/samples"
	"citytwin/spatial"
	"citytwin/spatial/pgstore"
	"citytwin/tiles"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb/maptile"
)

// tileBenchOptions configure "citytwin bench tiles".
type tileBenchOptions struct {
	// buildings is the size of the synthetic city; 0 means the Dalian
	// sample city (samples.Generate with its default district).
	buildings int
	// pg is the PostgreSQL/PostGIS URL of an empty scratch database for
	// the ST_AsMVT baseline, or "" to measure CityTwin alone.
	pg string
	// minZoom and maxZoom bound the zooms measured (default 12–17).
	minZoom, maxZoom int
	// tilesPerZoom caps the tiles picked per zoom (default 200).
	tilesPerZoom int
	// concurrency is the load generator's number of keep-alive
	// connections (default 32).
	concurrency int
	// duration is how long the load generator runs per mode (default 10 s).
	duration time.Duration
	// client returns the command that runs the load generator with the
	// given bench-client arguments; nil re-executes this binary as
	// "citytwin bench-client". Tests substitute their own binary.
	client func(ctx context.Context, args []string) *exec.Cmd
}

// withDefaults fills in the zero fields.
func (o tileBenchOptions) withDefaults() tileBenchOptions {
	if o.minZoom == 0 && o.maxZoom == 0 {
		o.minZoom, o.maxZoom = 12, 17
	}
	if o.tilesPerZoom <= 0 {
		o.tilesPerZoom = 200
	}
	if o.concurrency <= 0 {
		o.concurrency = 32
	}
	if o.duration <= 0 {
		o.duration = 10 * time.Second
	}
	if o.client == nil {
		o.client = selfClient
	}
	return o
}

// selfClient runs this executable's hidden bench-client command.
func selfClient(ctx context.Context, args []string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return exec.CommandContext(ctx, exe, append([]string{"bench-client"}, args...)...)
}

// tileBenchFlags registers the flags only "bench tiles" uses on the bench
// flag set, and returns a function to call after parsing that builds the
// options from them and from the shared --pg and --buildings flags.
// --buildings counts only when given explicitly: its default belongs to
// "bench index", while "bench tiles" defaults to the sample city.
func tileBenchFlags(fs *flag.FlagSet) func() tileBenchOptions {
	perZoom := fs.Int("tiles-per-zoom", 200, "bench tiles: tiles picked per zoom, 12–17")
	concurrency := fs.Int("concurrency", 32, "bench tiles: keep-alive connections of the load generator")
	duration := fs.Duration("duration", 10*time.Second, "bench tiles: load duration per serving mode")
	return func() tileBenchOptions {
		o := tileBenchOptions{tilesPerZoom: *perZoom, concurrency: *concurrency, duration: *duration}
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "buildings" {
				if g, ok := f.Value.(flag.Getter); ok {
					o.buildings, _ = g.Get().(int)
				}
			}
		})
		if f := fs.Lookup("pg"); f != nil {
			o.pg = f.Value.String()
		}
		return o
	}
}

// pgTileSQL renders one buildings tile with PostGIS, as a tile server
// on PostGIS (pg_tileserv, Martin) would. It differs from the textbook
// query in two ways that make it draw what our generator draws: the
// index filter uses the tile envelope grown by the 64-unit buffer (our
// generator fetches the buffer too), and demolished buildings (valid_to
// set) are left out, as our generator leaves out ended features when no
// time is given.
const pgTileSQL = `WITH b AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS g,
	       ST_Transform(ST_TileEnvelope($1::int, $2::int, $3::int, margin => 64.0/4096), 4490) AS q
), m AS (
	SELECT ST_AsMVTGeom(ST_Transform(f.geom, 3857), b.g, 4096, 64, true) AS geom,
	       f.id, f.height, f.floors, f.props->>'use' AS use
	FROM features f, b
	WHERE f.layer = 'buildings' AND f.valid_to IS NULL AND f.geom && b.q
)
SELECT ST_AsMVT(m.*, 'buildings', 4096, 'geom') FROM m`

// pgTile renders tile z/x/y with pgTileSQL.
func pgTile(ctx context.Context, db *sql.DB, z, x, y int) ([]byte, error) {
	var b []byte
	if err := db.QueryRowContext(ctx, pgTileSQL, z, x, y).Scan(&b); err != nil {
		return nil, fmt.Errorf("PostGIS tile %d/%d/%d: %w", z, x, y, err)
	}
	return b, nil
}

// tileFeatures counts the features of a tile's buildings layer, after
// checking that the tile decodes.
func tileFeatures(b []byte) (int, error) {
	t, err := mvt.Decode(b)
	if err != nil {
		return 0, err
	}
	for _, l := range t.Layers {
		if l.Name == samples.LayerBuildings {
			return len(l.Features), nil
		}
	}
	return 0, nil
}

// loadAverage returns the 1-, 5- and 15-minute load averages from
// /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// benchTileCity generates the city: the Dalian sample city for n == 0,
// otherwise n synthetic buildings; every feature is prepared.
func benchTileCity(n int) ([]*spatial.Feature, error) {
	var feats []*spatial.Feature
	sink := func(f *spatial.Feature) error {
		feats = append(feats, f)
		return nil
	}
	var err error
	switch {
	case n < 0:
		return nil, fmt.Errorf("--buildings %d: want 0 (the sample city) or more", n)
	case n == 0:
		err = samples.Generate(samples.Options{Seed: 1}, sink)
	default:
		err = samples.GenerateSynthetic(samples.SyntheticOptions{Buildings: n, Seed: 7}, sink)
	}
	if err != nil {
		return nil, err
	}
	for _, f := range feats {
		if err := f.Prepare(); err != nil {
			return nil, err
		}
	}
	return feats, nil
}

// pickTiles chooses up to perZoom tiles per zoom, deterministically, that
// contain buildings standing now: it walks the buildings in a seeded random
// order and takes the tile of each one's bounding-box centre until every
// zoom has enough, so dense areas are picked about as often as a map's
// users look at them. Tiles are listed per zoom in the order found.
func pickTiles(feats []*spatial.Feature, minZ, maxZ, perZoom int) [][]maptile.Tile {
	var standing []*spatial.Feature
	for _, f := range feats {
		if f.Layer == samples.LayerBuildings && f.ValidTo.IsZero() {
			standing = append(standing, f)
		}
	}
	out := make([][]maptile.Tile, maxZ-minZ+1)
	seen := make([]map[maptile.Tile]bool, len(out))
	for i := range seen {
		seen[i] = map[maptile.Tile]bool{}
	}
	full := 0
	r := rand.New(rand.NewPCG(12, 17))
	for _, k := range r.Perm(len(standing)) {
		c := standing[k].Geometry.Bound().Center()
		for i := range out {
			if len(out[i]) == perZoom {
				continue
			}
			t := maptile.At(c, maptile.Zoom(minZ+i))
			if seen[i][t] {
				continue
			}
			seen[i][t] = true
			out[i] = append(out[i], t)
			if len(out[i]) == perZoom {
				full++
			}
		}
		if full == len(out) {
			break
		}
	}
	return out
}

// benchTiles measures tile generation and serving on the sample city or
// a synthetic one: cold render time per zoom with our generator, and
// tiles per second and server CPU time when serving over HTTP to a load
// generator in a second process (tile cache cold, bare generator, cache
// warm); with o.pg, the same tiles rendered and served by PostGIS's
// ST_AsMVT as the baseline, with ratios. The machine's load average is
// printed at the start and end, as the numbers depend on it.
func benchTiles(e env, o tileBenchOptions) error {
	o = o.withDefaults()
	ctx := context.Background()
	fmt.Fprintf(e.stdout, "load average at start: %s\n", loadAverage())
	if o.buildings == 0 {
		fmt.Fprintln(e.stdout, "generating the Dalian sample city…")
	} else {
		fmt.Fprintf(e.stdout, "generating %d synthetic buildings over Dalian's land…\n", o.buildings)
	}
	start := time.Now()
	feats, err := benchTileCity(o.buildings)
	if err != nil {
		return err
	}
	ix := spatial.NewIndex()
	ix.Apply(feats)
	nb := 0
	if l, ok := ix.Layer(samples.LayerBuildings); ok {
		nb = l.Len()
	}
	fmt.Fprintf(e.stdout, "%d features (%d buildings) generated and indexed in %v\n", len(feats), nb, time.Since(start).Round(time.Millisecond))

	var db *sql.DB
	if o.pg != "" {
		pg, err := pgstore.Open(ctx, o.pg, &pgstore.Options{MaxOpenConns: o.concurrency})
		if err != nil {
			return fmt.Errorf("--pg: %w", err)
		}
		defer pg.Close()
		fmt.Fprintln(e.stdout, "loading the same features into PostGIS…")
		start := time.Now()
		for i := 0; i < len(feats); i += 10000 {
			if err := pg.Put(ctx, feats[i:min(i+10000, len(feats))]); err != nil {
				return fmt.Errorf("PostGIS load: %w", err)
			}
		}
		fmt.Fprintf(e.stdout, "PostGIS COPY load: %v\n", time.Since(start).Round(time.Millisecond))
		if _, err := pg.DB().ExecContext(ctx, "VACUUM ANALYZE features"); err != nil {
			return fmt.Errorf("PostGIS analyze: %w", err)
		}
		db = pg.DB()
		var version string
		if err := db.QueryRowContext(ctx, "SELECT postgis_lib_version()").Scan(&version); err == nil {
			fmt.Fprintf(e.stdout, "PostGIS %s\n", version)
		}
	}

	picked := pickTiles(feats, o.minZoom, o.maxZoom, o.tilesPerZoom)
	gen := tiles.NewGenerator(ix, tiles.DefaultOptions())
	var pids []int
	if db != nil {
		if pids, err = warmPool(ctx, db, o.concurrency, picked); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "PostGIS baseline: %d pooled connections with %s\n", len(pids), strings.Join(pgSessionSettings, ", "))
	}
	if err := benchTileRender(e, gen, db, picked, o); err != nil {
		return err
	}
	var paths []string
	for _, ts := range picked {
		for _, t := range ts {
			paths = append(paths, fmt.Sprintf("%d/%d/%d.mvt", t.Z, t.X, t.Y))
		}
	}
	return benchTileServe(e, gen, ix, db, pids, paths, o)
}

// pgSessionSettings are applied to every baseline connection, to give
// PostGIS its best showing for tile queries: parallel workers are new
// processes that each set up PROJ's 4490 → 3857 pipeline again (over
// 100 ms of a dense z12 tile's ~130 ms), and JIT compilation only adds
// latency to queries whose time goes into PostGIS's C functions.
var pgSessionSettings = []string{"SET max_parallel_workers_per_gather = 0", "SET jit = off"}

// warmPool opens n connections to the database at once (the pool's
// maximum, so the pool keeps exactly these), applies pgSessionSettings to
// each and renders a tile on each, so that no measurement pays for
// connecting or for a backend's first ST_Transform (PROJ sets up the
// pipeline once per backend, which costs over 100 ms). It returns the
// backends' process ids.
func warmPool(ctx context.Context, db *sql.DB, n int, picked [][]maptile.Tile) ([]int, error) {
	t := picked[len(picked)-1]
	if len(t) == 0 {
		return nil, errors.New("no tiles to serve: the city has no standing buildings")
	}
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var pids []int
	for range n {
		c, err := db.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("PostGIS connection: %w", err)
		}
		conns = append(conns, c)
		for _, set := range pgSessionSettings {
			if _, err := c.ExecContext(ctx, set); err != nil {
				return nil, fmt.Errorf("PostGIS %s: %w", set, err)
			}
		}
		var pid int
		if err := c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return nil, fmt.Errorf("PostGIS backend pid: %w", err)
		}
		pids = append(pids, pid)
		var b []byte
		if err := c.QueryRowContext(ctx, pgTileSQL, t[0].Z, t[0].X, t[0].Y).Scan(&b); err != nil {
			return nil, fmt.Errorf("PostGIS warm-up tile: %w", err)
		}
	}
	return pids, nil
}

// procStat is what CPU accounting needs of /proc/PID/stat (Linux).
type procStat struct {
	name       string
	ppid       int
	self, kids time.Duration // user+system time; of waited-for children
}

// readProcStat reads /proc/PID/stat; USER_HZ is 100 on Linux.
func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	// Fields from 3 (state) on; utime, stime, cutime, cstime are 14–17.
	f := strings.Fields(s[end+1:])
	if len(f) < 15 {
		return procStat{}, false
	}
	var v [5]int64
	for i, k := range []int{1, 11, 12, 13, 14} {
		if v[i], err = strconv.ParseInt(f[k], 10, 64); err != nil {
			return procStat{}, false
		}
	}
	tick := time.Second / 100
	return procStat{name: s[open+1 : end], ppid: int(v[0]), self: time.Duration(v[1]+v[2]) * tick, kids: time.Duration(v[3]+v[4]) * tick}, true
}

// cpuMeter measures the CPU time used so far by some local processes.
type cpuMeter func() (time.Duration, bool)

// selfCPU measures this process.
func selfCPU() (time.Duration, bool) {
	st, ok := readProcStat(os.Getpid())
	return st.self, ok
}

// postgresCPU measures a local PostgreSQL server: the postmaster that is
// the parent of the backends, its live children (backends, parallel
// workers, background processes) and the children it has reaped, so
// backends that exit mid-measurement still count. It reports false for a
// remote server.
func postgresCPU(backends []int) cpuMeter {
	postmaster := 0
	for _, pid := range backends {
		if st, ok := readProcStat(pid); ok && st.name == "postgres" {
			postmaster = st.ppid
			break
		}
	}
	return func() (time.Duration, bool) {
		pm, ok := readProcStat(postmaster)
		if postmaster == 0 || !ok || pm.name != "postgres" {
			return 0, false
		}
		sum := pm.self + pm.kids
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return 0, false
		}
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if st, ok := readProcStat(pid); ok && st.ppid == postmaster {
				sum += st.self
			}
		}
		return sum, true
	}
}

// benchTileRender renders every picked tile with our generator (no cache)
// and, with a database, with PostGIS, alternating tile by tile so both see
// the same machine load, and prints latency percentiles and decoded
// feature counts per zoom.
func benchTileRender(e env, gen *tiles.Generator, db *sql.DB, picked [][]maptile.Tile, o tileBenchOptions) error {
	ctx := context.Background()
	layers := []string{samples.LayerBuildings}
	// One untimed render per zoom on each side, so neither pays for first
	// use (page faults, planner caches) in the measurements.
	for i, ts := range picked {
		if len(ts) == 0 {
			continue
		}
		z, x, y := o.minZoom+i, int(ts[0].X), int(ts[0].Y)
		if _, _, err := gen.Render(layers, z, x, y, time.Time{}); err != nil {
			return err
		}
		if db != nil {
			if _, err := pgTile(ctx, db, z, x, y); err != nil {
				return err
			}
		}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\ntile generation, buildings layer, cold\ttiles\tours p50\tp99\tfeatures\tKB/tile\tPostGIS p50\tp99\tfeatures\tKB/tile\tspeed-up p50\tp99")
	for i, ts := range picked {
		z := o.minZoom + i
		var ours, base latencies
		var n, pn, size, psize int
		for _, t := range ts {
			x, y := int(t.X), int(t.Y)
			t0 := time.Now()
			b, _, err := gen.Render(layers, z, x, y, time.Time{})
			if err != nil {
				return err
			}
			ours = append(ours, time.Since(t0))
			c, err := tileFeatures(b)
			if err != nil {
				return fmt.Errorf("our tile %d/%d/%d does not decode: %w", z, x, y, err)
			}
			n += c
			size += len(b)
			if db == nil {
				continue
			}
			t0 = time.Now()
			pb, err := pgTile(ctx, db, z, x, y)
			if err != nil {
				return err
			}
			base = append(base, time.Since(t0))
			c, err = tileFeatures(pb)
			if err != nil {
				return fmt.Errorf("PostGIS tile %d/%d/%d does not decode: %w", z, x, y, err)
			}
			pn += c
			psize += len(pb)
		}
		kb := func(total int) string {
			if len(ts) == 0 {
				return "0"
			}
			return fmt.Sprintf("%.1f", float64(total)/float64(len(ts))/1024)
		}
		us := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
		if db == nil {
			fmt.Fprintf(tw, "z%d\t%d\t%v\t%v\t%d\t%s\t(no --pg)\t\t\t\t\t\n", z, len(ts), us(ours.pct(0.5)), us(ours.pct(0.99)), n, kb(size))
			continue
		}
		ratio := func(a, b time.Duration) string {
			if a <= 0 {
				return "–"
			}
			return fmt.Sprintf("%.1f×", float64(b)/float64(a))
		}
		fmt.Fprintf(tw, "z%d\t%d\t%v\t%v\t%d\t%s\t%v\t%v\t%d\t%s\t%s\t%s\n", z, len(ts),
			us(ours.pct(0.5)), us(ours.pct(0.99)), n, kb(size),
			us(base.pct(0.5)), us(base.pct(0.99)), pn, kb(psize),
			ratio(ours.pct(0.5), base.pct(0.5)), ratio(ours.pct(0.99), base.pct(0.99)))
	}
	return tw.Flush()
}

// benchTileServe serves the picked tiles over HTTP on 127.0.0.1 and
// drives each serving mode in turn with the load generator in a second
// process, printing tiles per second, latencies and the server's CPU time
// (ours: this process; PostGIS: its backends, when local). The modes are:
// with a database, a handler running pgTileSQL per request (the
// baseline); our tile API with a one-tile cache, so every request renders
// and pays the cache's ETag and gzip work as a miss does in service; a
// bare handler calling Generator.Render (no cache, no API), to show what
// the cache miss adds; and our tile API with every tile cached.
func benchTileServe(e env, gen *tiles.Generator, ix *spatial.Index, db *sql.DB, pids []int, paths []string, o tileBenchOptions) error {
	if len(paths) == 0 {
		return errors.New("no tiles to serve: the city has no standing buildings")
	}
	dir, err := os.MkdirTemp("", "citytwin-bench-tiles-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	type mode struct {
		name   string
		prefix string // URL path before z/x/y.mvt
		mux    func() (*http.ServeMux, error)
		cpu    cpuMeter
	}
	ourMux := func(size int, warm bool) func() (*http.ServeMux, error) {
		return func() (*http.ServeMux, error) {
			cache, err := tiles.NewCache(size)
			if err != nil {
				return nil, err
			}
			mux := http.NewServeMux()
			tiles.NewAPI(gen, cache, ix, samples.Attribution).Register(mux)
			if warm {
				for _, p := range paths {
					rec := httptest.NewRecorder()
					mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/tiles/buildings/"+p, nil))
					if rec.Code != http.StatusOK && rec.Code != http.StatusNoContent {
						return nil, fmt.Errorf("warming the cache: %s: status %d", p, rec.Code)
					}
				}
				if cache.Len() != len(paths) {
					return nil, fmt.Errorf("warming the cache: %d of %d tiles cached", cache.Len(), len(paths))
				}
			}
			return mux, nil
		}
	}
	var modes []mode
	if db != nil {
		modes = append(modes, mode{"PostGIS ST_AsMVT per request (baseline)", "/pg/", func() (*http.ServeMux, error) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /pg/{z}/{x}/{y}", pgTileHandler(db))
			return mux, nil
		}, postgresCPU(pids)})
	}
	modes = append(modes,
		mode{"ours, cache cold (1-tile cache: every request renders)", "/api/v1/tiles/buildings/", ourMux(1, false), selfCPU},
		mode{"ours, bare Generator.Render per request (no cache, no API)", "/render/", func() (*http.ServeMux, error) {
			mux := http.NewServeMux()
			mux.HandleFunc("GET /render/{z}/{x}/{y}", renderHandler(gen))
			return mux, nil
		}, selfCPU},
		mode{"ours, cache warm (every tile cached)", "/api/v1/tiles/buildings/", ourMux(len(paths)+16, true), selfCPU},
	)

	type result struct {
		name   string
		r      clientResult
		cpu    time.Duration
		cpuOK  bool
		perCPU float64
	}
	var results []result
	for i, m := range modes {
		mux, err := m.mux()
		if err != nil {
			return err
		}
		cpu0, ok0 := m.cpu()
		r, err := runLoad(e, mux, m.prefix, paths, filepath.Join(dir, fmt.Sprintf("urls-%d.txt", i)), o)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		cpu1, ok1 := m.cpu()
		res := result{name: m.name, r: r, cpu: cpu1 - cpu0, cpuOK: ok0 && ok1 && cpu1 > cpu0}
		if res.cpuOK {
			res.perCPU = float64(r.Requests-r.Errors) / res.cpu.Seconds()
		}
		results = append(results, res)
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(e.stdout, "\ntiles served over HTTP to a load generator in a second process: %d keep-alive connections, %v per mode, %d tile URLs z%d–%d round-robin, no gzip\n",
		o.concurrency, o.duration, len(paths), o.minZoom, o.maxZoom)
	fmt.Fprintln(tw, "serving mode\ttiles/s\tp50\tp99\terrors\tcache hits\tclient CPU\tserver CPU\ttiles/CPU-s\tspeed-up vs PostGIS: tiles/s\ttiles/CPU-s")
	var base, baseCPU float64
	if db != nil {
		base, baseCPU = results[0].r.rate(), results[0].perCPU
	}
	ratio := func(x, b float64) string {
		if b <= 0 || x <= 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f×", x/b)
	}
	for _, r := range results {
		cpu, perCPU := "n/a", "n/a"
		if r.cpuOK {
			cpu, perCPU = fmt.Sprintf("%.1f s", r.cpu.Seconds()), fmt.Sprintf("%.0f", r.perCPU)
		}
		ratios := "(no --pg)\t"
		if db != nil {
			ratios = ratio(r.r.rate(), base) + "\t" + ratio(r.perCPU, baseCPU)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f ms\t%.2f ms\t%d\t%d\t%.1f s\t%s\t%s\t%s\n", r.name, r.r.rate(), r.r.P50ms, r.r.P99ms, r.r.Errors, r.r.CacheHits, r.r.clientCPU.Seconds(), cpu, perCPU, ratios)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.r.FirstError != "" {
			fmt.Fprintf(e.stdout, "%s: first error: %s\n", r.name, r.r.FirstError)
		}
	}
	if db != nil {
		cold, warm := results[1].r.rate()/base, results[3].r.rate()/base
		verdict := func(x float64) string {
			if x >= 3 {
				return "met"
			}
			return "NOT met"
		}
		fmt.Fprintf(e.stdout, "target ≥3× PostGIS tiles/s: cache cold %.1f× (%s), cache warm %.1f× (%s)\n", cold, verdict(cold), warm, verdict(warm))
	}
	fmt.Fprintf(e.stdout, "load average at end: %s\n", loadAverage())
	return nil
}

// renderHandler answers GET /render/{z}/{x}/{y}.mvt with the buildings
// layer straight from the generator.
func renderHandler(gen *tiles.Generator) http.HandlerFunc {
	layers := []string{samples.LayerBuildings}
	return func(w http.ResponseWriter, r *http.Request) {
		z, x, y, ok := tilePath(r)
		if !ok {
			http.Error(w, "want /render/{z}/{x}/{y}.mvt", http.StatusBadRequest)
			return
		}
		b, _, err := gen.Render(layers, z, x, y, time.Time{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeTile(w, b)
	}
}

// tilePath parses the {z}, {x} and {y}.mvt path values of a tile request.
func tilePath(r *http.Request) (z, x, y int, ok bool) {
	ys, ok := strings.CutSuffix(r.PathValue("y"), ".mvt")
	z, err1 := strconv.Atoi(r.PathValue("z"))
	x, err2 := strconv.Atoi(r.PathValue("x"))
	y, err3 := strconv.Atoi(ys)
	if !ok || err1 != nil || err2 != nil || err3 != nil || tiles.CheckTile(z, x, y) != nil {
		return 0, 0, 0, false
	}
	return z, x, y, true
}

// writeTile writes an MVT response body (204 when empty).
func writeTile(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
	if len(b) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// pgTileHandler answers GET /pg/{z}/{x}/{y}.mvt with pgTileSQL.
func pgTileHandler(db *sql.DB) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		z, x, y, ok := tilePath(r)
		if !ok {
			http.Error(w, "want /pg/{z}/{x}/{y}.mvt", http.StatusBadRequest)
			return
		}
		b, err := pgTile(r.Context(), db, z, x, y)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		writeTile(w, b)
	}
}

// runLoad serves mux on 127.0.0.1, writes the tile URLs to urlFile, runs
// the load generator against them and returns what it reports.
func runLoad(e env, mux *http.ServeMux, prefix string, paths []string, urlFile string, o tileBenchOptions) (clientResult, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return clientResult{}, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
	}()

	var buf bytes.Buffer
	base := "http://" + ln.Addr().String() + prefix
	for _, p := range paths {
		buf.WriteString(base + p + "\n")
	}
	if err := os.WriteFile(urlFile, buf.Bytes(), 0o600); err != nil {
		return clientResult{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.duration+2*time.Minute)
	defer cancel()
	cmd := o.client(ctx, []string{"--url-file", urlFile, "--concurrency", strconv.Itoa(o.concurrency), "--duration", o.duration.String()})
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return clientResult{}, fmt.Errorf("load generator: %w: %s", err, oneLine(stderr.String()))
	}
	// The result is the last JSON line: a test binary standing in for the
	// client may print other lines.
	r := clientResult{clientCPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "{") {
			if err := json.Unmarshal([]byte(lines[i]), &r); err != nil {
				return r, fmt.Errorf("load generator output: %w", err)
			}
			return r, nil
		}
	}
	return r, fmt.Errorf("load generator printed no result: %q %s", stdout.String(), oneLine(stderr.String()))
}

// clientResult is what "citytwin bench-client" prints, as one JSON line.
type clientResult struct {
	// Requests counts the requests completed within the duration, failed
	// ones included; requests cut off by the deadline are not counted.
	Requests int `json:"requests"`
	// Errors counts transport errors and responses other than 200 and 204.
	Errors int `json:"errors"`
	// P50ms and P99ms are latency percentiles of the successful requests.
	P50ms float64 `json:"p50_ms"`
	P99ms float64 `json:"p99_ms"`
	// Seconds is the measured wall time.
	Seconds float64 `json:"seconds"`
	// Bytes is the body bytes received.
	Bytes int64 `json:"bytes"`
	// CacheHits counts responses with "X-Cache: hit".
	CacheHits int `json:"cache_hits"`
	// FirstError describes the first error, if any.
	FirstError string `json:"first_error,omitempty"`
	// clientCPU is the load generator's CPU time, filled in by runLoad.
	clientCPU time.Duration
}

// rate is the successful requests per second.
func (r clientResult) rate() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.Requests-r.Errors) / r.Seconds
}

// runBenchClient is the hidden "citytwin bench-client" command, the load
// generator of "bench tiles": it requests the URLs of --url-file (one per
// line, loopback addresses only) round-robin over --concurrency keep-alive
// connections for --duration, without gzip, and prints a clientResult as
// JSON.
func runBenchClient(args []string, e env) error {
	fs := flag.NewFlagSet("bench-client", flag.ContinueOnError)
	urlFile := fs.String("url-file", "", "file of URLs to request, one per line (127.0.0.1 only)")
	concurrency := fs.Int("concurrency", 32, "concurrent keep-alive connections")
	duration := fs.Duration("duration", 10*time.Second, "how long to send requests")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *concurrency < 1 || *concurrency > 4096 {
		return fmt.Errorf("--concurrency %d: want 1–4096", *concurrency)
	}
	if *duration <= 0 || *duration > time.Hour {
		return fmt.Errorf("--duration %v: want more than 0 and at most an hour", *duration)
	}
	urls, err := readLoopbackURLs(*urlFile)
	if err != nil {
		return err
	}
	r := loadTest(urls, *concurrency, *duration)
	return json.NewEncoder(e.stdout).Encode(r)
}

// readLoopbackURLs reads a URL file, refusing any URL that is not plain
// HTTP to a loopback IP address.
func readLoopbackURLs(name string) ([]string, error) {
	if name == "" {
		return nil, errors.New("--url-file is required")
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var urls []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if ip := net.ParseIP(u.Hostname()); u.Scheme != "http" || ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("%s: %q: only http://127.0.0.1 (loopback) URLs are allowed", name, line)
		}
		urls = append(urls, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("%s: no URLs", name)
	}
	return urls, nil
}

// loadTest requests urls round-robin from n workers, each with its own
// sequence of requests over a pool of n keep-alive connections, until d has
// passed. It dials loopback addresses only and ignores proxy settings.
func loadTest(urls []string, n int, d time.Duration) clientResult {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("refusing to dial %s: loopback only", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		MaxConnsPerHost:     n,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var next atomic.Uint64
	type worker struct {
		lat              latencies
		requests, errors int
		hits             int
		bytes            int64
		firstErr         string
	}
	ws := make([]worker, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		w := &ws[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(msg string) {
				w.errors++
				if w.firstErr == "" {
					w.firstErr = msg
				}
			}
			for ctx.Err() == nil {
				u := urls[(next.Add(1)-1)%uint64(len(urls))]
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				if err != nil {
					w.requests++
					fail(err.Error())
					continue
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						break // cut off by the deadline
					}
					w.requests++
					fail(err.Error())
					continue
				}
				nb, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil && ctx.Err() != nil {
					break
				}
				took := time.Since(t0)
				w.requests++
				w.bytes += nb
				switch {
				case err != nil:
					fail(err.Error())
				case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent:
					fail(fmt.Sprintf("%s: %s", u, resp.Status))
				default:
					w.lat = append(w.lat, took)
					if resp.Header.Get("X-Cache") == "hit" {
						w.hits++
					}
				}
			}
		}()
	}
	wg.Wait()
	var r clientResult
	r.Seconds = min(time.Since(start), d).Seconds()
	var all latencies
	for _, w := range ws {
		r.Requests += w.requests
		r.Errors += w.errors
		r.CacheHits += w.hits
		r.Bytes += w.bytes
		all = append(all, w.lat...)
		if r.FirstError == "" {
			r.FirstError = w.firstErr
		}
	}
	slices.Sort(all)
	ms := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	r.P50ms, r.P99ms = ms(0.5), ms(0.99)
	return r
}
