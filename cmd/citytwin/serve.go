package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"citytwin/internal/auth"
	"citytwin/internal/httpx"
	"citytwin/samples"
	"citytwin/spatial"
	"citytwin/spatial/api"
	"citytwin/spatial/pebblestore"
	"citytwin/spatial/pgstore"
	"citytwin/tiles"
	"citytwin/twin/gridmgmt"
	"citytwin/twin/hub"
	"citytwin/viewer"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// storeFlags are the flags that choose and open a store, shared by serve,
// sample and import.
type storeFlags struct {
	data, kind, pg string
}

func (sf *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&sf.data, "data", "citytwin-data", "data directory of the embedded store")
	fs.StringVar(&sf.kind, "store", "embedded", "store: embedded or postgres")
	fs.StringVar(&sf.pg, "pg", os.Getenv("CITYTWIN_PG"), "PostgreSQL URL for --store postgres (default $CITYTWIN_PG)")
}

// open opens the chosen store.
func (sf *storeFlags) open(ctx context.Context) (spatial.Store, error) {
	switch sf.kind {
	case "embedded":
		s, err := pebblestore.Open(sf.data)
		if err != nil {
			return nil, fmt.Errorf("open embedded store in %s: %w", sf.data, err)
		}
		return s, nil
	case "postgres":
		if sf.pg == "" {
			return nil, errors.New("--store postgres needs --pg URL (or $CITYTWIN_PG)")
		}
		s, err := pgstore.Open(ctx, sf.pg, nil)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unknown --store %q: want embedded or postgres", sf.kind)
}

// newLogger returns the process logger at a level named by a flag.
func newLogger(e env, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: l})), nil
}

func runServe(args []string, e env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	addr := fs.String("addr", ":8080", "listen address")
	buildings := fs.Int("buildings", 0, "buildings of the sample city loaded into an empty store (0: the default district)")
	seed := fs.Uint64("seed", 1, "seed of the sample city")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	mqttURL := fs.String("mqtt", "", "MQTT broker to take object updates from (tcp://host:1883; topics citytwin/objects/{layer}/{id})")
	mqttClient := fs.String("mqtt-client-id", "", "MQTT client id, stable across restarts so the broker keeps the session (default citytwin-<hostname>)")
	wsFlush := fs.Duration("ws-flush", 25*time.Millisecond, "shortest time between two state messages of a websocket subscription")
	wsObject := fs.Duration("ws-object-interval", 100*time.Millisecond, "each object's state goes to a subscription at most once per this interval (10 a second); 0: conflate per subscription only (one message per --ws-flush, e.g. --ws-flush 100ms --ws-object-interval 0)")
	liveTTL := fs.Duration("live-ttl", 0, "remove live objects that report nothing for this long (a tombstone in their history; 0: keep them)")
	history := fs.Duration("history", 7*24*time.Hour, "how long live objects' history is kept (each object's newest state is always kept)")
	adminToken := fs.String("admin-token", os.Getenv("CITYTWIN_ADMIN_TOKEN"), "a bearer token with the admin role (default $CITYTWIN_ADMIN_TOKEN)")
	tokenFile := fs.String("tokens", "", "file of bearer tokens with roles (viewer, officer, analyst, device, admin; see internal/auth); without it and --admin-token every request is allowed")
	cors := fs.String("cors", "", "origins whose browser applications may call the API (comma-separated scheme://host[:port], or *)")
	privateReads := fs.Bool("private-reads", false, "reads (GET, websocket subscriptions) need a token too; the viewer pages stay public")
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
	policy, err := loadPolicy(*tokenFile, *adminToken, *privateReads)
	if err != nil {
		return err
	}
	if !policy.Enabled() {
		log.Warn("authentication is off: anyone who can reach the server may write; set --tokens or --admin-token")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	store, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	layers, err := store.Layers(ctx)
	if err != nil {
		return err
	}
	if len(layers) == 0 {
		if err := writeSample(ctx, store, *buildings, *seed, log); err != nil {
			return err
		}
	}
	// Replicas: follow the other servers' feature writes, from before the
	// kernel loads so that nothing written meanwhile is missed.
	var follower *featureFollower
	if pg, ok := store.(*pgstore.Store); ok {
		if follower, err = startFollowing(ctx, pg, log); err != nil {
			return err
		}
	}
	kernel, err := spatial.NewKernel(ctx, store, func(layer string, n int, took time.Duration) {
		log.Info("layer loaded", "layer", layer, "features", n, "took", took.Round(time.Millisecond))
	})
	if err != nil {
		return err
	}

	if follower != nil {
		follower.attach(kernel)
	}
	lv, err := openLive(ctx, &sf, store, liveOptions{retention: *history, flush: *wsFlush, objectInterval: *wsObject, ttl: *liveTTL, checkOrigin: originChecker(splitList(*cors)), canUpdate: policy.CanUpdate}, log)
	if err != nil {
		return err
	}
	defer lv.close()
	if *mqttURL != "" {
		mc, err := lv.startMQTT(ctx, *mqttURL, *mqttClient, log)
		if err != nil {
			return err
		}
		defer mc.Close()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newLayerCollector(kernel), lv.collector())
	metrics := httpx.NewMetrics(reg)
	mux := http.NewServeMux()
	features := api.New(kernel, samples.Attribution)
	features.CountLive(lv.twin.CountCell)
	features.Register(mux)
	features.RegisterWrites(mux, "") // guarded by the policy below
	cache, err := tiles.NewCache(20000)
	if err != nil {
		return err
	}
	cache.Attach(kernel)
	tiles.NewAPI(tiles.NewGenerator(kernel.Index(), tiles.DefaultOptions()), cache, kernel.Index(), samples.Attribution).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": kernel.Version()})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	lv.register(mux)
	// Grid management: cases (docs/CASES.md), their events to websocket
	// subscribers of case.* (the event's "fence" is its unit grid's code).
	cases, err := gridmgmt.New(kernel, gridmgmt.Options{})
	if err != nil {
		return err
	}
	cases.OnEvent = func(typ, grid string, b []byte) {
		lv.hub.Publish([]hub.Event{{Type: typ, Fence: grid, JSON: b}})
	}
	cases.Register(mux)
	cases.Follow(ctx) // replicas: cases other servers write reach this one
	go cases.Run(ctx, time.Minute, func(err error) { log.Error("case deadline sweep", "err", err) })
	viewer.Register(mux) // GET / (planner), GET /officer, GET /assets/{file}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpx.Error(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), nil)
	})
	// The websocket is long-lived: it stays outside the request time limit.
	root := http.NewServeMux()
	root.Handle("GET /ws", lv.hub)
	root.Handle("/", httpx.Wrap(mux, httpx.Limits{MaxBody: 64 << 20, Timeout: 60 * time.Second}, metrics, log))
	srv := &http.Server{
		Handler:           httpx.CORS(policy.Wrap(root), splitList(*cors)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "store", sf.kind, "layers", len(kernel.Index().Layers()))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	lv.hub.Close()
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// originChecker lets websockets be opened from the pages of the --cors
// origins as well as from this server's own (nil: gorilla's same-host rule).
func originChecker(origins []string) func(*http.Request) bool {
	if len(origins) == 0 {
		return nil
	}
	allowed := httpx.NewOrigins(origins)
	return func(r *http.Request) bool {
		o := r.Header.Get("Origin")
		if o == "" || allowed.Allow(o) {
			return true
		}
		u, err := url.Parse(o)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
}

// splitList splits a comma-separated flag, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadPolicy builds the authentication policy from the serve flags.
func loadPolicy(file, adminToken string, privateReads bool) (*auth.Policy, error) {
	tokens := auth.NewTokens()
	if file != "" {
		t, err := auth.Load(file)
		if err != nil {
			return nil, fmt.Errorf("--tokens: %w", err)
		}
		tokens = t
	}
	if adminToken != "" {
		tokens.Add(adminToken, auth.Principal{Name: "admin-token", Role: auth.Admin})
	}
	if privateReads && tokens.Len() == 0 {
		return nil, errors.New("--private-reads needs --tokens or --admin-token")
	}
	return &auth.Policy{Tokens: tokens, PrivateReads: privateReads}, nil
}

// layerCollector exports feature counts per layer as Prometheus gauges.
type layerCollector struct {
	k    *spatial.Kernel
	desc *prometheus.Desc
}

func newLayerCollector(k *spatial.Kernel) layerCollector {
	return layerCollector{k: k, desc: prometheus.NewDesc("citytwin_layer_features", "Current features per layer (past versions of edited or ended features not counted).", []string{"layer"}, nil)}
}

// Describe implements prometheus.Collector.
func (c layerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c layerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, li := range c.k.Index().Layers() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(li.Count), li.Name)
	}
}
