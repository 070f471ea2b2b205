package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"citytwin/importers"
	"citytwin/importers/cityjson"
	"citytwin/importers/csvimport"
	"citytwin/importers/geojson"
	"citytwin/importers/osm"
	"citytwin/samples"
	"citytwin/spatial"
	"citytwin/spatial/crs"
)

// batchWriter collects features into batches written through the kernel,
// so each batch is durable before the next is read.
type batchWriter struct {
	ctx   context.Context
	k     *spatial.Kernel
	batch []*spatial.Feature
	total int
	// noGeometry counts features skipped for having no geometry (CityJSON
	// storeys, units and rooms without their own shape): the spatial
	// kernel indexes shapes; the building registry will hold the rest.
	noGeometry int
}

func (b *batchWriter) add(f *spatial.Feature) error {
	if f.Geometry == nil {
		b.noGeometry++
		return nil
	}
	b.batch = append(b.batch, f)
	if len(b.batch) >= 5000 {
		return b.flush()
	}
	return nil
}

func (b *batchWriter) flush() error {
	if len(b.batch) == 0 {
		return nil
	}
	if _, err := b.k.Put(b.ctx, b.batch); err != nil {
		return err
	}
	b.total += len(b.batch)
	b.batch = b.batch[:0]
	return nil
}

// progressPrinter shows import progress on the terminal: a rewritten line
// when stderr is a terminal, a log line every few seconds otherwise.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	start time.Time
	last  time.Time
	log   *slog.Logger
}

func newProgressPrinter(e env, log *slog.Logger) *progressPrinter {
	tty := false
	if f, ok := e.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressPrinter{w: e.stderr, tty: tty, start: time.Now(), log: log}
}

func (p *progressPrinter) report(pr importers.Progress) {
	now := time.Now()
	pct := ""
	if pr.Total > 0 {
		pct = fmt.Sprintf(" %5.1f%%", 100*float64(pr.Bytes)/float64(pr.Total))
	}
	rate := float64(pr.Features) / now.Sub(p.start).Seconds()
	if p.tty {
		fmt.Fprintf(p.w, "\r%s:%s %d features, %.0f/s   ", pr.File, pct, pr.Features, rate)
		return
	}
	if now.Sub(p.last) >= 2*time.Second {
		p.last = now
		p.log.Info("importing", "file", pr.File, "bytes", pr.Bytes, "total", pr.Total, "features", pr.Features)
	}
}

func (p *progressPrinter) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// importFunc runs one format's importer.
type importFunc func(r io.Reader, opts importers.Options, sink importers.Sink) error

func importerFor(format string) (importFunc, error) {
	switch format {
	case "geojson":
		return func(r io.Reader, o importers.Options, s importers.Sink) error {
			_, err := geojson.Import(r, o, s)
			return err
		}, nil
	case "cityjson":
		return func(r io.Reader, o importers.Options, s importers.Sink) error {
			_, err := cityjson.Import(r, o, s)
			return err
		}, nil
	case "osm":
		return func(r io.Reader, o importers.Options, s importers.Sink) error {
			_, err := osm.Import(r, o, s)
			return err
		}, nil
	case "csv":
		return func(r io.Reader, o importers.Options, s importers.Sink) error {
			_, err := csvimport.Import(r, o, s)
			return err
		}, nil
	case "swmm":
		return nil, errors.New("swmm import arrives with the drainage twin (use citytwin drainage run --inp FILE meanwhile)")
	case "tntp":
		return nil, errors.New("tntp import arrives with the traffic twin")
	}
	return nil, fmt.Errorf("unknown format %q: want geojson, cityjson, osm or csv", format)
}

func runImport(args []string, e env) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	layer := fs.String("layer", "", "layer to import into (default: the file's base name; OSM: per-class layers)")
	crsName := fs.String("crs", "", "coordinate system of the input, e.g. EPSG:4549 or GCJ-02 (default: the file's own, else EPSG:4326)")
	logLevel := fs.String("log-level", "info", "log level")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New("want FORMAT FILE: citytwin import geojson|cityjson|osm|csv FILE [--layer NAME] [--data DIR] [--crs EPSG:…]")
	}
	imp, err := importerFor(pos[0])
	if err != nil {
		return err
	}
	log, err := newLogger(e, *logLevel)
	if err != nil {
		return err
	}
	opts := importers.Options{File: pos[1], Layer: *layer}
	if opts.Layer == "" && pos[0] != "osm" && pos[0] != "cityjson" {
		base := pos[1][strings.LastIndex(pos[1], "/")+1:]
		if i := strings.IndexByte(base, '.'); i > 0 {
			base = base[:i]
		}
		opts.Layer = base
	}
	if *crsName != "" {
		c, err := crs.Lookup(*crsName)
		if err != nil {
			return fmt.Errorf("--crs: %w", err)
		}
		opts.CRS = c
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		opts.Total = fi.Size()
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	k, err := spatial.NewKernel(ctx, store, nil)
	if err != nil {
		return err
	}
	pp := newProgressPrinter(e, log)
	opts.Progress = pp.report
	bw := &batchWriter{ctx: ctx, k: k}
	start := time.Now()
	err = imp(f, opts, bw.add)
	pp.done()
	if err == nil {
		err = bw.flush()
	}
	if err != nil {
		return fmt.Errorf("%w (%d features written before the error are kept)", err, bw.total)
	}
	log.Info("imported", "file", pos[1], "features", bw.total, "took", time.Since(start).Round(time.Millisecond))
	if bw.noGeometry > 0 {
		log.Warn("skipped objects without geometry", "count", bw.noGeometry)
	}
	return nil
}

func runSample(args []string, e env) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	buildings := fs.Int("buildings", 0, "buildings (0: the default district; more spill over the rest of Dalian's land)")
	seed := fs.Uint64("seed", 1, "seed: the same seed gives the same city")
	logLevel := fs.String("log-level", "info", "log level")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	log, err := newLogger(e, *logLevel)
	if err != nil {
		return err
	}
	ctx := context.Background()
	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	layers, err := store.Layers(ctx)
	if err != nil {
		return err
	}
	if len(layers) > 0 {
		return fmt.Errorf("the store already holds %d layers (%s…): generate into an empty one (a new --data directory)", len(layers), layers[0].Name)
	}
	return writeSample(ctx, store, *buildings, *seed, log)
}

// writeSample streams the sample city (n buildings; 0 for the default
// district, more spill over the rest of the land) straight into an empty
// store in synced batches; serve then loads it like any other store.
func writeSample(ctx context.Context, store spatial.Store, n int, seed uint64, log *slog.Logger) error {
	log.Info("generating the Dalian sample city", "seed", seed, "buildings", n)
	start := time.Now()
	batch := make([]*spatial.Feature, 0, 10000)
	var version uint64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := store.Put(ctx, batch); err != nil {
			return err
		}
		if version%100000 < uint64(len(batch)) {
			log.Info("writing sample city", "features", version, "elapsed", time.Since(start).Round(time.Millisecond))
		}
		batch = batch[:0]
		return nil
	}
	err := samples.Generate(samples.Options{Seed: seed, Buildings: n}, func(f *spatial.Feature) error {
		if err := f.Prepare(); err != nil {
			return err
		}
		version++
		f.Version = version
		batch = append(batch, f)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("write sample city: %w", err)
	}
	log.Info("sample city loaded", "features", version, "took", time.Since(start).Round(time.Millisecond))
	return nil
}
