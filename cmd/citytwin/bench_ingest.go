package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"citytwin/twin/hub"
	"citytwin/twin/live"
	"citytwin/twin/live/pebblelog"
	"citytwin/twin/liveapi"

	"github.com/gorilla/websocket"
	"github.com/valyala/fastjson"
)

// ingestBenchOptions size `citytwin bench ingest`.
type ingestBenchOptions struct {
	objects     int           // live objects
	updates     int           // updates sent in each throughput phase
	batch       int           // updates per HTTP/websocket batch
	conns       int           // concurrent ingest connections
	subscribers int           // websocket subscribers in the latency phase
	rate        int           // updates per second in the latency phase
	duration    time.Duration // length of the latency phase
	memObjects  []int         // object counts for the memory figure
	flushes     []conflation  // websocket conflation of the latency runs
	tile38      string        // a running Tile38 to ingest the same updates into (host:port)
}

func ingestBenchFlags(fs *flag.FlagSet) func() ingestBenchOptions {
	o := ingestBenchOptions{}
	fs.IntVar(&o.objects, "objects", 100_000, "bench ingest: live objects")
	fs.IntVar(&o.updates, "updates", 2_000_000, "bench ingest: updates sent in each throughput phase")
	fs.IntVar(&o.batch, "batch", 10_000, "bench ingest: updates per batch")
	fs.IntVar(&o.conns, "conns", 4, "bench ingest: concurrent ingest connections")
	fs.IntVar(&o.subscribers, "subscribers", 1000, "bench ingest: websocket subscribers in the latency phase")
	fs.IntVar(&o.rate, "rate", 50_000, "bench ingest: updates per second in the latency phase")
	fs.DurationVar(&o.duration, "latency-duration", 10*time.Second, "bench ingest: length of the latency phase")
	mem := fs.String("mem-objects", "100000,1000000", "bench ingest: object counts for the memory-per-object figure")
	fs.StringVar(&o.tile38, "tile38", "", "bench ingest: also SET the same updates into a running Tile38 server at host:port (RESP, pipelined), for comparison")
	flushes := fs.String("flush", "25ms/100ms,100ms,10ms", "bench ingest: websocket conflation of the latency runs: FLUSH/OBJECT for per-object conflation (serve --ws-flush FLUSH --ws-object-interval OBJECT; 25ms/100ms is serve's default), or FLUSH alone for one message per FLUSH per subscription")
	return func() ingestBenchOptions {
		for _, s := range strings.Split(*flushes, ",") {
			flush, object, _ := strings.Cut(strings.TrimSpace(s), "/")
			var c conflation
			var err error
			if c.flush, err = time.ParseDuration(flush); err != nil || c.flush <= 0 {
				continue
			}
			if object != "" {
				if c.object, err = time.ParseDuration(object); err != nil {
					continue
				}
			}
			o.flushes = append(o.flushes, c)
		}
		for _, s := range strings.Split(*mem, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 {
				o.memObjects = append(o.memObjects, n)
			}
		}
		return o
	}
}

// conflation is a hub setting of a latency run.
type conflation struct {
	flush, object time.Duration
}

func (c conflation) String() string {
	if c.object > 0 {
		return fmt.Sprintf("messages every %v, each object at most every %v", c.flush, c.object)
	}
	return fmt.Sprintf("flush every %v", c.flush)
}

// benchArea is where the benchmark's objects move: central Dalian.
var benchArea = [4]float64{121.45, 38.85, 121.75, 39.05} // w s e n

// benchFleet generates update bodies for a fleet of objects moving about
// the bench area.
type benchFleet struct {
	lon, lat []float64
	rng      *rand.Rand
}

func newBenchFleet(n int, seed uint64) *benchFleet {
	f := &benchFleet{lon: make([]float64, n), lat: make([]float64, n), rng: rand.New(rand.NewPCG(seed, 7))}
	for i := range n {
		f.lon[i] = benchArea[0] + f.rng.Float64()*(benchArea[2]-benchArea[0])
		f.lat[i] = benchArea[1] + f.rng.Float64()*(benchArea[3]-benchArea[1])
	}
	return f
}

// appendUpdate moves object i a few metres and appends its update.
func (f *benchFleet) appendUpdate(b []byte, i int, at time.Time) []byte {
	f.lon[i] = min(max(f.lon[i]+(f.rng.Float64()-0.5)*2e-4, benchArea[0]), benchArea[2])
	f.lat[i] = min(max(f.lat[i]+(f.rng.Float64()-0.5)*2e-4, benchArea[1]), benchArea[3])
	b = append(b, `{"id":"v`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","layer":"vehicles","lon":`...)
	b = strconv.AppendFloat(b, f.lon[i], 'f', 6, 64)
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, f.lat[i], 'f', 6, 64)
	b = append(b, `,"heading":`...)
	b = strconv.AppendInt(b, int64(f.rng.IntN(360)), 10)
	b = append(b, `,"speed":`...)
	b = strconv.AppendFloat(b, 5+f.rng.Float64()*15, 'f', 1, 64)
	b = append(b, `,"time":"`...)
	b = at.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","state":{"kind":"car","load":`...)
	b = strconv.AppendInt(b, int64(f.rng.IntN(5)), 10)
	return append(b, `}}`...)
}

// batches returns bodies of batch updates each (JSON arrays), total
// updates over the fleet round-robin, every update newer than the last
// one of its object, starting at start.
func (f *benchFleet) batches(total, batch int, start time.Time, prefix, suffix string) [][]byte {
	var out [][]byte
	n := len(f.lon)
	for sent := 0; sent < total; {
		k := min(batch, total-sent)
		b := make([]byte, 0, k*190+len(prefix)+len(suffix))
		b = append(b, prefix...)
		b = append(b, '[')
		for j := range k {
			if j > 0 {
				b = append(b, ',')
			}
			u := sent + j
			b = f.appendUpdate(b, u%n, start.Add(time.Duration(u/n)*time.Millisecond))
		}
		b = append(b, ']')
		b = append(b, suffix...)
		out = append(out, b)
		sent += k
	}
	return out
}

// benchServer is a live twin served on a loopback port, as `serve` runs
// it (pebble history with fsync, the hub, the HTTP API).
type benchServer struct {
	twin *live.Twin
	hub  *hub.Hub
	log  *pebblelog.Log
	srv  *http.Server
	base string
	dir  string
}

func startBenchServer(c conflation) (*benchServer, error) {
	dir, err := os.MkdirTemp("", "citytwin-bench-ingest")
	if err != nil {
		return nil, err
	}
	lg, err := pebblelog.Open(dir)
	if err != nil {
		return nil, err
	}
	tw, err := live.New(context.Background(), lg, nil)
	if err != nil {
		return nil, err
	}
	h := hub.New(tw, hub.Options{FlushInterval: c.flush, ObjectInterval: c.object})
	mux := http.NewServeMux()
	liveapi.New(tw).Register(mux)
	mux.Handle("GET /ws", h)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: mux}
	go func() { _ = srv.Serve(ln) }()
	return &benchServer{twin: tw, hub: h, log: lg, srv: srv, base: "http://" + ln.Addr().String(), dir: dir}, nil
}

func (s *benchServer) close() {
	s.hub.Close()
	_ = s.srv.Close()
	_ = s.log.Close()
	_ = os.RemoveAll(s.dir)
}

func (s *benchServer) wsURL() string { return "ws" + strings.TrimPrefix(s.base, "http") + "/ws" }

// benchIngest measures live-object ingest: updates per second accepted by
// HTTP batches and websocket messages, end-to-end latency from ingest to
// websocket subscribers, and memory per live object. The baseline is
// encoding/json decoding the same bodies in the same process: a ratio
// above 1 means the whole ingest path (parse, validate, fsynced history,
// index, hooks) outruns the standard library merely decoding the JSON.
func benchIngest(e env, o ingestBenchOptions) error {
	if o.objects < 1 || o.batch < 1 || o.batch > live.MaxBatch || o.conns < 1 || o.updates < o.batch {
		return fmt.Errorf("bench ingest: want --objects ≥ 1, --batch 1–%d, --conns ≥ 1, --updates ≥ --batch", live.MaxBatch)
	}
	fleet := newBenchFleet(o.objects, 1)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	fmt.Fprintf(e.stderr, "bench ingest: generating %d updates of %d objects in batches of %d…\n", o.updates, o.objects, o.batch)
	httpBodies := fleet.batches(o.updates, o.batch, start, "", "")
	wsBodies := fleet.batches(o.updates, o.batch, start.Add(30*time.Minute), `{"op":"update","objects":`, `}`)

	// Baseline: encoding/json decoding the same bodies, same concurrency.
	type update struct {
		ID      string          `json:"id"`
		Layer   string          `json:"layer"`
		Lon     float64         `json:"lon"`
		Lat     float64         `json:"lat"`
		Heading float64         `json:"heading"`
		Speed   float64         `json:"speed"`
		Time    time.Time       `json:"time"`
		State   json.RawMessage `json:"state"`
	}
	base, err := parallel(httpBodies, o.conns, func(b []byte) (int, error) {
		var us []update
		err := json.Unmarshal(b, &us)
		return len(us), err
	})
	if err != nil {
		return err
	}

	srv, err := startBenchServer(conflation{})
	if err != nil {
		return fmt.Errorf("bench ingest: %w", err)
	}
	defer srv.close()
	fmt.Fprintf(e.stderr, "bench ingest: HTTP phase…\n")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.conns, DisableCompression: true}}
	httpRate, err := parallel(httpBodies, o.conns, func(b []byte) (int, error) {
		resp, err := client.Post(srv.base+"/api/v1/objects", "application/json", bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var r live.Result
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != 200 {
			return 0, fmt.Errorf("POST /objects: %d %v", resp.StatusCode, err)
		}
		if r.Applied != o.batch {
			return 0, fmt.Errorf("POST /objects: %d of %d applied", r.Applied, o.batch)
		}
		return r.Accepted, nil
	})
	if err != nil {
		return fmt.Errorf("bench ingest: %w", err)
	}

	fmt.Fprintf(e.stderr, "bench ingest: websocket phase…\n")
	conns := make(chan *websocket.Conn, o.conns)
	for range o.conns {
		c, _, err := websocket.DefaultDialer.Dial(srv.wsURL(), nil)
		if err != nil {
			return fmt.Errorf("bench ingest: %w", err)
		}
		defer c.Close()
		conns <- c
	}
	wsRate, err := parallel(wsBodies, o.conns, func(b []byte) (int, error) {
		c := <-conns
		defer func() { conns <- c }()
		if err := c.WriteMessage(websocket.TextMessage, b); err != nil {
			return 0, err
		}
		_, msg, err := c.ReadMessage()
		if err != nil {
			return 0, err
		}
		var r live.Result
		if err := json.Unmarshal(msg, &r); err != nil || r.Applied != o.batch {
			return 0, fmt.Errorf("websocket update: %s", truncate(msg, 200))
		}
		return r.Accepted, nil
	})
	if err != nil {
		return fmt.Errorf("bench ingest: %w", err)
	}
	httpBodies, wsBodies = nil, nil
	var t38Rate float64
	if o.tile38 != "" {
		fmt.Fprintf(e.stderr, "bench ingest: Tile38 phase…\n")
		if t38Rate, err = benchTile38(o, fleet); err != nil {
			return fmt.Errorf("bench ingest: Tile38: %w", err)
		}
	}

	srv.close()
	var lats []*latencyResult
	for _, flush := range o.flushes {
		fmt.Fprintf(e.stderr, "bench ingest: latency phase: %d subscribers, %d updates/s for %v, %v…\n", o.subscribers, o.rate, o.duration, flush)
		srv, err := startBenchServer(flush)
		if err != nil {
			return fmt.Errorf("bench ingest: %w", err)
		}
		lat, err := benchLatency(srv, newBenchFleet(o.objects, 2), o)
		srv.close()
		if err != nil {
			return fmt.Errorf("bench ingest: %w", err)
		}
		lat.flush = flush
		lats = append(lats, lat)
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\ningest (%d objects, batches of %d, %d connections, %d cores)\tupdates/s\tratio to encoding/json decode\n", o.objects, o.batch, o.conns, runtime.NumCPU())
	fmt.Fprintf(tw, "encoding/json decode of the same bodies (baseline)\t%.0f\t1.00\n", base)
	fmt.Fprintf(tw, "HTTP POST /api/v1/objects (parsed, fsynced, applied)\t%.0f\t%.2f\n", httpRate, httpRate/base)
	fmt.Fprintf(tw, "websocket update (parsed, fsynced, applied, acked)\t%.0f\t%.2f\n", wsRate, wsRate/base)
	if t38Rate > 0 {
		fmt.Fprintf(tw, "Tile38 SET … POINT, pipelined RESP (AOF, fsync once a second)\t%.0f\t%.2f\n", t38Rate, t38Rate/base)
		fmt.Fprintf(tw, "ours ÷ Tile38: HTTP %.2f×, websocket %.2f×\t\t\n", httpRate/t38Rate, wsRate/t38Rate)
	}
	tw.Flush()
	for _, lat := range lats {
		fmt.Fprintf(tw, "\nlatency ingest → subscriber (%d subscribers, %d objects, %d updates/s offered, %v)\tvalue\n", o.subscribers, o.objects, o.rate, lat.flush)
		fmt.Fprintf(tw, "updates sent / applied\t%d / %d\n", lat.sent, lat.applied)
		fmt.Fprintf(tw, "object states delivered (after conflation) / messages\t%d / %d\n", lat.delivered, lat.messages)
		fmt.Fprintf(tw, "p50 / p99 / max\t%v / %v / %v\n", lat.pct(0.50), lat.pct(0.99), lat.pct(1))
		tw.Flush()
	}

	fmt.Fprintf(tw, "\nmemory per live object (measured in a fresh process)\theap bytes/object\tstart-up: loading them from the history\n")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, n := range o.memObjects {
		out, err := exec.Command(self, "bench-live-mem", "--objects", strconv.Itoa(n)).Output()
		if err != nil {
			return fmt.Errorf("bench ingest: memory of %d objects: %w", n, err)
		}
		fmt.Fprintf(tw, "%d objects (state, index, id map; history on disk)\t%s\n", n, strings.TrimSpace(string(out)))
		tw.Flush()
	}
	return nil
}

// runBenchLiveMem is the hidden command in which bench ingest measures the
// heap per live object, in a process that has done nothing else.
func runBenchLiveMem(args []string, e env) error {
	fs := flag.NewFlagSet("bench-live-mem", flag.ContinueOnError)
	n := fs.Int("objects", 100000, "live objects")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	per, reload, err := benchObjectMemory(*n)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%.0f\t%v after a crash (history scan), %v after a clean shutdown (snapshot)\n", per, reload.scan.Round(time.Millisecond), reload.snapshot.Round(time.Millisecond))
	return nil
}

// benchTile38 sends the throughput phase's updates to a Tile38 server as
// pipelined SET commands (id, position, heading and speed as fields; its
// fields hold numbers, so the state object is left out), batch commands
// per round trip over the same number of connections, and returns updates
// per second acknowledged.
func benchTile38(o ingestBenchOptions, fleet *benchFleet) (float64, error) {
	var batches [][]byte
	arg := func(b []byte, s []byte) []byte {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, "\r\n"...)
		b = append(b, s...)
		return append(b, "\r\n"...)
	}
	var num []byte
	n := len(fleet.lon)
	for sent := 0; sent < o.updates; {
		k := min(o.batch, o.updates-sent)
		b := make([]byte, 0, k*150)
		for j := range k {
			i := (sent + j) % n
			fleet.appendUpdate(nil, i, time.Time{}) // move it as the other phases do
			b = append(b, "*12\r\n"...)
			b = arg(b, []byte("SET"))
			b = arg(b, []byte("vehicles"))
			b = arg(b, strconv.AppendInt(append(num[:0], 'v'), int64(i), 10))
			b = arg(b, []byte("FIELD"))
			b = arg(b, []byte("speed"))
			b = arg(b, strconv.AppendFloat(num[:0], 5+float64(i%150)/10, 'f', 1, 64))
			b = arg(b, []byte("FIELD"))
			b = arg(b, []byte("heading"))
			b = arg(b, strconv.AppendInt(num[:0], int64(i%360), 10))
			b = arg(b, []byte("POINT"))
			b = arg(b, strconv.AppendFloat(num[:0], fleet.lat[i], 'f', 6, 64))
			b = arg(b, strconv.AppendFloat(num[:0], fleet.lon[i], 'f', 6, 64))
		}
		batches = append(batches, b)
		sent += k
	}
	conns := make(chan net.Conn, o.conns)
	for range o.conns {
		c, err := net.Dial("tcp", o.tile38)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		conns <- c
	}
	return parallel(batches, o.conns, func(b []byte) (int, error) {
		c := <-conns
		defer func() { conns <- c }()
		if _, err := c.Write(b); err != nil {
			return 0, err
		}
		// One reply line per command ("+OK" or an error).
		want := bytes.Count(b, []byte("*12\r\n"))
		r := bufio.NewReaderSize(c, 64<<10)
		for got := 0; got < want; got++ {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return 0, err
			}
			if line[0] != '+' {
				return 0, fmt.Errorf("Tile38 answered %q", bytes.TrimSpace(line))
			}
		}
		return want, nil
	})
}

// parallel runs fn over the bodies with n goroutines and returns the
// items per second fn reported.
func parallel(bodies [][]byte, n int, fn func([]byte) (int, error)) (float64, error) {
	next := atomic.Int64{}
	var total atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				k, err := fn(bodies[i])
				if err != nil {
					once.Do(func() { firstErr = err })
					next.Store(int64(len(bodies)))
					return
				}
				total.Add(int64(k))
			}
		}()
	}
	wg.Wait()
	return float64(total.Load()) / time.Since(began).Seconds(), firstErr
}

// latencyResult gathers the latency phase's figures.
type latencyResult struct {
	flush                              conflation
	sent, applied, delivered, messages int64
	samples                            []time.Duration
}

func (l *latencyResult) pct(p float64) time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	i := int(p * float64(len(l.samples)-1))
	return l.samples[i].Round(100 * time.Microsecond)
}

// benchLatency connects the subscribers (a grid of boxes over the bench
// area, so every object is in one subscription), then sends updates at
// the given rate stamped with the time of sending, and measures for each
// delivered state its arrival time minus that stamp.
func benchLatency(srv *benchServer, fleet *benchFleet, o ingestBenchOptions) (*latencyResult, error) {
	cols := 1
	for cols*cols < o.subscribers {
		cols++
	}
	rows := (o.subscribers + cols - 1) / cols
	res := &latencyResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var subs []*websocket.Conn
	defer func() {
		for _, c := range subs {
			c.Close()
		}
		wg.Wait()
	}()
	dialer := &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ready := make(chan error, o.subscribers)
	for i := range o.subscribers {
		r, c := i/cols, i%cols
		w := benchArea[0] + (benchArea[2]-benchArea[0])*float64(c)/float64(cols)
		e := benchArea[0] + (benchArea[2]-benchArea[0])*float64(c+1)/float64(cols)
		s := benchArea[1] + (benchArea[3]-benchArea[1])*float64(r)/float64(rows)
		n := benchArea[1] + (benchArea[3]-benchArea[1])*float64(r+1)/float64(rows)
		conn, _, err := dialer.Dial(srv.wsURL(), nil)
		if err != nil {
			return nil, fmt.Errorf("subscriber %d: %w", i, err)
		}
		subs = append(subs, conn)
		req := fmt.Sprintf(`{"op":"subscribe","id":"s%d","layers":["vehicles"],"bbox":[%f,%f,%f,%f]}`, i, w, s, e, n)
		if err := conn.WriteMessage(websocket.TextMessage, []byte(req)); err != nil {
			return nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var p fastjson.Parser
			var local []time.Duration
			var delivered, messages int64
			subscribed := false
			measuring := false
			for {
				_, msg, err := conn.ReadMessage()
				now := time.Now()
				if err != nil {
					break
				}
				v, err := p.ParseBytes(msg)
				if err != nil {
					continue
				}
				switch string(v.GetStringBytes("op")) {
				case "subscribed":
					subscribed = true
					ready <- nil
				case "state":
					if !subscribed {
						continue
					}
					objs := v.GetArray("objects")
					// Snapshot messages carry old stamps: measure from the
					// first object stamped after the phase began.
					messages++
					for _, ob := range objs {
						t, err := time.Parse(time.RFC3339Nano, string(ob.GetStringBytes("time")))
						if err != nil {
							continue
						}
						if !measuring && t.Before(now.Add(-time.Minute)) {
							continue
						}
						measuring = true
						delivered++
						local = append(local, now.Sub(t))
					}
				}
			}
			mu.Lock()
			res.samples = append(res.samples, local...)
			res.delivered += delivered
			res.messages += messages
			mu.Unlock()
		}()
	}
	for i := 0; i < o.subscribers; i++ {
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			return nil, errors.New("subscribers did not all get their subscriptions confirmed within 30 s")
		}
	}
	// The sender: every 10 ms a batch of rate/100 updates stamped now.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
	before := srv.twin.Stats().Applied
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	per := max(1, o.rate/100)
	end := time.Now().Add(o.duration)
	next := 0
	var inflight sync.WaitGroup
	sem := make(chan struct{}, 4)
	var sendErr atomic.Value
	buf := make([]byte, 0, per*190)
	for now := range tick.C {
		if now.After(end) {
			break
		}
		buf = append(buf[:0], '[')
		for j := range per {
			if j > 0 {
				buf = append(buf, ',')
			}
			buf = fleet.appendUpdate(buf, next%len(fleet.lon), time.Now())
			next++
		}
		buf = append(buf, ']')
		body := slices.Clone(buf)
		res.sent += int64(per)
		select {
		case sem <- struct{}{}:
		default:
			// The server is behind the offered rate: wait (and count it
			// as offered late).
			sem <- struct{}{}
		}
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			defer func() { <-sem }()
			resp, err := client.Post(srv.base+"/api/v1/objects", "application/json", bytes.NewReader(body))
			if err != nil {
				sendErr.Store(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
	inflight.Wait()
	if err, _ := sendErr.Load().(error); err != nil {
		return nil, err
	}
	time.Sleep(500 * time.Millisecond) // the last flushes
	res.applied = int64(srv.twin.Stats().Applied - before)
	for _, c := range subs {
		c.Close()
	}
	subs = nil
	wg.Wait()
	slices.Sort(res.samples)
	return res, nil
}

// benchObjectMemory ingests n objects into a fresh twin (history in a
// temporary pebble log) and returns the heap growth per object after GC.
//
// It then closes the log, reopens it and returns how long loading the n
// objects back took (a server's start-up with that many live objects).
func benchObjectMemory(n int) (perObject float64, reload reloads, err error) {
	dir, err := os.MkdirTemp("", "citytwin-bench-mem")
	if err != nil {
		return 0, reloads{}, err
	}
	defer os.RemoveAll(dir)
	lg, err := pebblelog.Open(dir)
	if err != nil {
		return 0, reloads{}, err
	}
	defer func() {
		if lg != nil {
			lg.Close()
		}
	}()
	tw, err := live.New(context.Background(), lg, nil)
	if err != nil {
		return 0, reloads{}, err
	}
	fleet := newBenchFleet(n, 3)
	start := time.Now().Add(-time.Hour)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var p live.Parser
	var body []byte
	for off := 0; off < n; off += live.MaxBatch {
		body = append(body[:0], '[')
		for i := off; i < min(n, off+live.MaxBatch); i++ {
			if i > off {
				body = append(body, ',')
			}
			body = fleet.appendUpdate(body, i, start)
		}
		body = append(body, ']')
		objs, rej, err := p.Parse(body, time.Now())
		if err != nil || len(rej) > 0 {
			return 0, reloads{}, fmt.Errorf("parse: %v %v", err, rej)
		}
		if _, err := tw.Ingest(context.Background(), objs, nil); err != nil {
			return 0, reloads{}, err
		}
	}
	// What the loop keeps (the parser's cache, one body) is not the
	// twin's: release it before measuring; the fleet (16 B an object)
	// lived before and after.
	p, body = live.Parser{}, nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	if got := tw.Stats().Objects; got != n {
		return 0, reloads{}, fmt.Errorf("%d objects live, want %d", got, n)
	}
	per := float64(int64(ms.HeapAlloc)-int64(before)) / float64(n)
	runtime.KeepAlive(tw)
	runtime.KeepAlive(fleet)
	tw = nil
	if err := lg.Close(); err != nil {
		return 0, reloads{}, err
	}
	if lg, err = pebblelog.Open(dir); err != nil {
		return 0, reloads{}, err
	}
	began := time.Now()
	tw, err = live.New(context.Background(), lg, nil)
	if err != nil {
		return 0, reloads{}, err
	}
	took := time.Since(began)
	if got := tw.Stats().Objects; got != n {
		return 0, reloads{}, fmt.Errorf("reloaded %d objects, want %d", got, n)
	}
	// And after a clean shutdown, which leaves a snapshot.
	if err := tw.SaveLatest(context.Background()); err != nil {
		return 0, reloads{}, err
	}
	if err := lg.Close(); err != nil {
		return 0, reloads{}, err
	}
	if lg, err = pebblelog.Open(dir); err != nil {
		return 0, reloads{}, err
	}
	began = time.Now()
	if tw, err = live.New(context.Background(), lg, nil); err != nil {
		return 0, reloads{}, err
	}
	fromSnapshot := time.Since(began)
	if got := tw.Stats().Objects; got != n {
		return 0, reloads{}, fmt.Errorf("reloaded %d objects from the snapshot, want %d", got, n)
	}
	return per, reloads{scan: took, snapshot: fromSnapshot}, nil
}

// reloads are the start-up times of a twin: scanning the history (after a
// crash) and reading the snapshot (after a clean shutdown).
type reloads struct{ scan, snapshot time.Duration }

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
