package main

// citytwin simulate vehicles: a traffic simulator and load generator that
// drives vehicles along the streets of a running server, through its public
// HTTP API only. It reads the street layer (GET /api/v1/layers and
// /api/v1/layers/{layer}/features, paged), builds a graph of street
// segments with shared endpoints snapped together, moves each vehicle along
// connected streets at a varying speed, turning at random at junctions
// (deterministic by --seed), and posts the positions in batches to
// POST /api/v1/objects.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"citytwin/twin/live"
)

// Simulation limits and constants.
const (
	simMinSpeed  = 5.0  // m/s
	simMaxSpeed  = 20.0 // m/s
	simAccel     = 1.5  // m/s², towards the target speed
	simMaxStep   = 5.0  // s: the longest step a vehicle is advanced at once
	simSnap      = 1.5  // m: street endpoints closer than this are one junction
	simSnapCell  = 1e-5 // degrees: the snapping grid
	simGroupTick = 100 * time.Millisecond
	earthRadius  = 6371008.8 // m, mean
)

var simKinds = [...]string{"car", "taxi", "bus", "truck"}

func runSimulate(args []string, e env) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	n := fs.Int("n", 0, "number of vehicles")
	server := fs.String("server", "http://127.0.0.1:8080", "base URL of the citytwin server")
	rate := fs.Float64("rate", 1, "updates per second per vehicle")
	duration := fs.Duration("duration", 0, "how long to run (0: until interrupted)")
	layer := fs.String("layer", "vehicles", "live layer of the vehicles")
	streets := fs.String("streets", "streets", "the server's street layer to drive on")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same vehicles, kinds and turns")
	batch := fs.Int("batch", 1000, "most updates per POST")
	conns := fs.Int("conns", 4, "concurrent HTTP connections")
	prefix := fs.String("prefix", "veh-", "vehicle id prefix (ids are PREFIX00000, PREFIX00001, …)")
	token := fs.String("token", os.Getenv("CITYTWIN_TOKEN"), "bearer token with the device or admin role, for servers run with --tokens (default $CITYTWIN_TOKEN)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || pos[0] != "vehicles" {
		return errors.New(`want "citytwin simulate vehicles --n N [--server URL] [--rate HZ] [--duration D] [--layer L] [--seed S] [--batch B]"`)
	}
	if len(pos) > 1 {
		return fmt.Errorf("unexpected argument %q", pos[1])
	}
	switch {
	case *n < 1 || *n > 10_000_000:
		return fmt.Errorf("--n %d: want 1 to 10000000 vehicles", *n)
	case !(*rate > 0 && *rate <= 1000):
		return fmt.Errorf("--rate %v: want more than 0 and at most 1000 updates per second per vehicle", *rate)
	case *duration < 0:
		return fmt.Errorf("--duration %v: want a positive duration, or 0 to run until interrupted", *duration)
	case *batch < 1 || *batch > live.MaxBatch:
		return fmt.Errorf("--batch %d: want 1 to %d", *batch, live.MaxBatch)
	case *conns < 1 || *conns > 256:
		return fmt.Errorf("--conns %d: want 1 to 256", *conns)
	case *layer == "":
		return errors.New("--layer: want a layer name")
	}
	base, err := serverURL(*server)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var transport http.RoundTripper = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConnsPerHost: *conns,
		MaxConnsPerHost:     *conns,
		IdleConnTimeout:     90 * time.Second,
	}
	if *token != "" {
		transport = bearerTransport{token: *token, next: transport}
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: transport}
	defer client.CloseIdleConnections()

	start := time.Now()
	g, err := loadStreetGraph(ctx, client, base, *streets)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "simulate: %d street segments, %d junctions, %.1f km of streets from %s (%s)\n",
		len(g.edges)/2, len(g.nodes), g.km, base, time.Since(start).Round(time.Millisecond))

	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	s := newSimulation(g, *n, *seed, *layer, *prefix)
	p := &poster{client: client, url: base + "/api/v1/objects"}
	return s.run(ctx, e, p, *rate, *batch, *conns)
}

// serverURL checks --server and returns it without a trailing slash.
func serverURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--server %q: want a URL such as http://127.0.0.1:8080", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// ---------------------------------------------------------------- streets

// streetGraph is the street network as directed edges between junctions.
type streetGraph struct {
	nodes []simNode
	edges []simEdge // in pairs: edge i and i^1 are the two directions
	names [][]byte  // JSON-quoted street names, by street index
	km    float64
	// starts are the edges vehicles start on (the largest connected
	// part, with the traffic), with cumulative lengths for a weighted pick.
	starts    []int32
	startsCum []float64
}

type simNode struct {
	lon, lat float64
	out      []int32
}

// simEdge is one direction of a street part: a polyline from one junction
// to another.
type simEdge struct {
	from, to int32
	lon, lat []float64 // vertices in the direction of travel
	cum      []float64 // metres from the first vertex to each vertex
	street   int32     // index into names
	max      float64   // speed limit in m/s (simMaxSpeed when unknown)
	against  bool      // against the direction of a one-way street
}

func (e *simEdge) length() float64 { return e.cum[len(e.cum)-1] }

// metres returns the distance between two points (equirectangular: good to
// millimetres over a street segment).
func metres(lon1, lat1, lon2, lat2 float64) float64 {
	x, y := project(lon2-lon1, lat2-lat1, (lat1+lat2)/2)
	return math.Hypot(x, y)
}

// project turns a small difference of degrees into east and north metres.
func project(dlon, dlat, lat float64) (x, y float64) {
	const rad = math.Pi / 180
	return dlon * rad * earthRadius * math.Cos(lat*rad), dlat * rad * earthRadius
}

// featurePage is the part of a GeoJSON FeatureCollection page we read.
type featurePage struct {
	Features []struct {
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties struct {
			Name     string   `json:"name"`
			Oneway   bool     `json:"oneway"`
			MaxSpeed *float64 `json:"maxspeed_kmh"`
		} `json:"properties"`
	} `json:"features"`
	Next string `json:"next"`
}

// getJSON fetches base+path and decodes the JSON answer into v.
func simGetJSON(ctx context.Context, c *http.Client, base, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("cannot reach the server at %s: %v", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s%s: %v", base, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var msg struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &msg) != nil || msg.Error == "" {
			msg.Error = strings.TrimSpace(string(body))
			if len(msg.Error) > 200 {
				msg.Error = msg.Error[:200] + "…"
			}
		}
		return fmt.Errorf("GET %s%s: %s: %s", base, path, resp.Status, msg.Error)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s%s: not a citytwin server? %v", base, path, err)
	}
	return nil
}

// loadStreetGraph reads the street layer from the server and builds the
// graph.
func loadStreetGraph(ctx context.Context, c *http.Client, base, layer string) (*streetGraph, error) {
	var layers struct {
		Layers []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"layers"`
	}
	if err := simGetJSON(ctx, c, base, "/api/v1/layers", &layers); err != nil {
		return nil, err
	}
	var names []string
	found := false
	for _, l := range layers.Layers {
		names = append(names, l.Name)
		found = found || l.Name == layer && l.Count > 0
	}
	if !found {
		if len(names) == 0 {
			names = []string{"none"}
		}
		return nil, fmt.Errorf("the server at %s has no %q layer with features to drive on (its layers: %s); name the street layer with --streets", base, layer, strings.Join(names, ", "))
	}
	b := newGraphBuilder()
	cursor := ""
	for {
		q := url.Values{"limit": {"10000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page featurePage
		if err := simGetJSON(ctx, c, base, "/api/v1/layers/"+url.PathEscape(layer)+"/features?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		for _, f := range page.Features {
			var lines [][][]float64
			switch f.Geometry.Type {
			case "LineString":
				var l [][]float64
				if json.Unmarshal(f.Geometry.Coordinates, &l) == nil {
					lines = [][][]float64{l}
				}
			case "MultiLineString":
				_ = json.Unmarshal(f.Geometry.Coordinates, &lines)
			}
			max := simMaxSpeed
			if p := f.Properties; p.MaxSpeed != nil && *p.MaxSpeed > 0 {
				max = math.Min(simMaxSpeed, math.Max(simMinSpeed+1, *p.MaxSpeed/3.6*1.1))
			}
			for _, l := range lines {
				b.add(l, f.Properties.Name, f.Properties.Oneway, max)
			}
		}
		if page.Next == "" || len(page.Features) == 0 {
			break
		}
		cursor = page.Next
	}
	g := b.finish()
	if len(g.starts) == 0 {
		return nil, fmt.Errorf("the %q layer of %s has no lines to drive on", layer, base)
	}
	return g, nil
}

// graphBuilder snaps street endpoints to junctions.
type graphBuilder struct {
	g     *streetGraph
	grid  map[[2]int64][]int32
	names map[string]int32
}

func newGraphBuilder() *graphBuilder {
	return &graphBuilder{g: &streetGraph{}, grid: map[[2]int64][]int32{}, names: map[string]int32{}}
}

// node returns the junction at a point, adding one if none is within
// simSnap metres.
func (b *graphBuilder) node(lon, lat float64) int32 {
	kx, ky := int64(math.Floor(lon/simSnapCell)), int64(math.Floor(lat/simSnapCell))
	for dx := int64(-1); dx <= 1; dx++ {
		for dy := int64(-1); dy <= 1; dy++ {
			for _, i := range b.grid[[2]int64{kx + dx, ky + dy}] {
				if nd := &b.g.nodes[i]; metres(nd.lon, nd.lat, lon, lat) <= simSnap {
					return i
				}
			}
		}
	}
	i := int32(len(b.g.nodes))
	b.g.nodes = append(b.g.nodes, simNode{lon: lon, lat: lat})
	k := [2]int64{kx, ky}
	b.grid[k] = append(b.grid[k], i)
	return i
}

// add adds a street part in both directions.
func (b *graphBuilder) add(coords [][]float64, name string, oneway bool, max float64) {
	lon := make([]float64, 0, len(coords))
	lat := make([]float64, 0, len(coords))
	for _, c := range coords {
		if len(c) < 2 || math.IsNaN(c[0]) || math.IsNaN(c[1]) {
			continue
		}
		if k := len(lon); k > 0 && lon[k-1] == c[0] && lat[k-1] == c[1] {
			continue
		}
		lon, lat = append(lon, c[0]), append(lat, c[1])
	}
	if len(lon) < 2 {
		return
	}
	cum := make([]float64, len(lon))
	for k := 1; k < len(lon); k++ {
		cum[k] = cum[k-1] + metres(lon[k-1], lat[k-1], lon[k], lat[k])
	}
	total := cum[len(cum)-1]
	if total < 0.5 {
		return
	}
	st, ok := b.names[name]
	if !ok {
		st = int32(len(b.g.names))
		b.names[name] = st
		q, _ := json.Marshal(name)
		b.g.names = append(b.g.names, q)
	}
	from, to := b.node(lon[0], lat[0]), b.node(lon[len(lon)-1], lat[len(lat)-1])
	rlon, rlat, rcum := make([]float64, len(lon)), make([]float64, len(lon)), make([]float64, len(lon))
	for k := range lon {
		rlon[k], rlat[k] = lon[len(lon)-1-k], lat[len(lat)-1-k]
		rcum[k] = total - cum[len(cum)-1-k]
	}
	i := int32(len(b.g.edges))
	b.g.edges = append(b.g.edges,
		simEdge{from: from, to: to, lon: lon, lat: lat, cum: cum, street: st, max: max},
		simEdge{from: to, to: from, lon: rlon, lat: rlat, cum: rcum, street: st, max: max, against: oneway})
	b.g.nodes[from].out = append(b.g.nodes[from].out, i)
	b.g.nodes[to].out = append(b.g.nodes[to].out, i+1)
	b.g.km += total / 1000
}

// finish picks the start edges: those of the largest connected part.
func (b *graphBuilder) finish() *streetGraph {
	g := b.g
	parent := make([]int32, len(g.nodes))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i := 0; i < len(g.edges); i += 2 {
		if a, c := find(g.edges[i].from), find(g.edges[i].to); a != c {
			parent[a] = c
		}
	}
	size := map[int32]float64{}
	for i := 0; i < len(g.edges); i += 2 {
		size[find(g.edges[i].from)] += g.edges[i].length()
	}
	best, bestLen := int32(-1), -1.0
	for r, l := range size {
		if l > bestLen || l == bestLen && r < best {
			best, bestLen = r, l
		}
	}
	total := 0.0
	for i := range g.edges {
		e := &g.edges[i]
		if e.against || find(e.from) != best {
			continue
		}
		total += e.length()
		g.starts = append(g.starts, int32(i))
		g.startsCum = append(g.startsCum, total)
	}
	return g
}

// --------------------------------------------------------------- vehicles

// vehicle is one simulated vehicle.
type vehicle struct {
	rng    *rand.Rand
	head   []byte // {"id":"veh-00001","layer":"vehicles","lon":
	tail   []byte // ,"state":{…}}
	kind   int
	route  string
	occ    int
	edge   int32
	at     float64 // metres along the edge
	seg    int     // the edge's segment holding at
	speed  float64 // m/s
	target float64 // m/s
	last   time.Time
}

type simulation struct {
	g        *streetGraph
	vehicles []vehicle
}

func newSimulation(g *streetGraph, n int, seed uint64, layer, prefix string) *simulation {
	s := &simulation{g: g, vehicles: make([]vehicle, n)}
	lq, _ := json.Marshal(layer)
	for i := range s.vehicles {
		v := &s.vehicles[i]
		v.rng = rand.New(rand.NewPCG(seed, uint64(i)))
		id, _ := json.Marshal(fmt.Sprintf("%s%05d", prefix, i))
		v.head = fmt.Appendf(nil, `{"id":%s,"layer":%s,"lon":`, id, lq)
		switch r := v.rng.Float64(); {
		case r < 0.6:
			v.kind = 0
			v.route = "private"
			v.occ = 1 + v.rng.IntN(3)
		case r < 0.8:
			v.kind = 1
			v.route = fmt.Sprintf("taxi %03d", 1+v.rng.IntN(400))
			v.occ = v.rng.IntN(4)
		case r < 0.92:
			v.kind = 2
			v.route = strconv.Itoa(1 + v.rng.IntN(40))
			v.occ = v.rng.IntN(60)
		default:
			v.kind = 3
			v.route = fmt.Sprintf("freight %02d", 1+v.rng.IntN(60))
			v.occ = 1
		}
		// A start edge, picked by length, and a point along it.
		x := v.rng.Float64() * g.startsCum[len(g.startsCum)-1]
		k := sort.SearchFloat64s(g.startsCum, x)
		v.edge = g.starts[min(k, len(g.starts)-1)]
		v.at = v.rng.Float64() * g.edges[v.edge].length()
		v.target = s.newTarget(v)
		v.speed = v.target
		v.locate(g)
		s.setState(v)
	}
	return s
}

// newTarget picks a speed to drive at on the vehicle's street.
func (s *simulation) newTarget(v *vehicle) float64 {
	max := s.g.edges[v.edge].max
	if v.kind >= 2 { // buses and trucks are slower
		max = math.Max(simMinSpeed+1, max*0.8)
	}
	return simMinSpeed + v.rng.Float64()*(max-simMinSpeed)
}

// setState rebuilds the tail of the vehicle's update: its state.
func (s *simulation) setState(v *vehicle) {
	b := append(v.tail[:0], `,"state":{"kind":"`...)
	b = append(b, simKinds[v.kind]...)
	b = append(b, `","route":`...)
	b = strconv.AppendQuote(b, v.route) // ASCII
	b = append(b, `,"occupancy":`...)
	b = strconv.AppendInt(b, int64(v.occ), 10)
	b = append(b, `,"street":`...)
	b = append(b, s.g.names[s.g.edges[v.edge].street]...)
	v.tail = append(b, "}}"...)
}

// locate finds the segment of the edge that holds v.at.
func (v *vehicle) locate(g *streetGraph) {
	cum := g.edges[v.edge].cum
	v.seg = sort.SearchFloat64s(cum, v.at) - 1
	v.seg = max(0, min(v.seg, len(cum)-2))
}

// advance moves the vehicle by dt seconds.
func (s *simulation) advance(v *vehicle, dt float64) {
	dt = math.Min(dt, simMaxStep)
	if v.rng.Float64() < 0.1*dt { // now and then, a new pace
		v.target = s.newTarget(v)
	}
	dv := v.target - v.speed
	step := simAccel * dt
	v.speed += math.Max(-step, math.Min(step, dv))
	v.speed = math.Max(simMinSpeed, math.Min(simMaxSpeed, v.speed))
	v.at += v.speed * dt
	turned := false
	for e := &s.g.edges[v.edge]; v.at >= e.length(); e = &s.g.edges[v.edge] {
		v.at -= e.length()
		v.edge = s.next(v)
		turned = true
	}
	if turned {
		if s.g.edges[v.edge].max < v.target {
			v.target = s.newTarget(v)
		}
		switch v.kind {
		case 1: // taxis pick up and drop off
			if v.rng.IntN(4) == 0 {
				v.occ = v.rng.IntN(5)
			}
		case 2: // buses at stops
			v.occ = max(0, min(80, v.occ+v.rng.IntN(11)-5))
		}
		v.seg = 0
		s.setState(v)
	}
	cum := s.g.edges[v.edge].cum
	for v.seg < len(cum)-2 && v.at >= cum[v.seg+1] {
		v.seg++
	}
}

// next picks the edge after a junction: any way on but back, not against
// a one-way street; where there is none, against one; at a dead end, back.
func (s *simulation) next(v *vehicle) int32 {
	cur := v.edge
	out := s.g.nodes[s.g.edges[cur].to].out
	var ok, against int
	for _, o := range out {
		if o == cur^1 {
			continue
		}
		if s.g.edges[o].against {
			against++
		} else {
			ok++
		}
	}
	pick := func(n int, wantAgainst bool) int32 {
		k := v.rng.IntN(n)
		for _, o := range out {
			if o == cur^1 || s.g.edges[o].against != wantAgainst {
				continue
			}
			if k == 0 {
				return o
			}
			k--
		}
		return cur ^ 1
	}
	switch {
	case ok > 0:
		return pick(ok, false)
	case against > 0:
		return pick(against, true)
	}
	return cur ^ 1
}

// appendUpdate appends the vehicle's update as JSON; ts is the quoted time.
func (s *simulation) appendUpdate(b []byte, v *vehicle, ts []byte) []byte {
	e := &s.g.edges[v.edge]
	k := v.seg
	f := 0.0
	if l := e.cum[k+1] - e.cum[k]; l > 0 {
		f = math.Max(0, math.Min(1, (v.at-e.cum[k])/l))
	}
	lon := e.lon[k] + f*(e.lon[k+1]-e.lon[k])
	lat := e.lat[k] + f*(e.lat[k+1]-e.lat[k])
	x, y := project(e.lon[k+1]-e.lon[k], e.lat[k+1]-e.lat[k], lat)
	heading := math.Atan2(x, y) * 180 / math.Pi
	if heading < 0 {
		heading += 360
	}
	b = append(b, v.head...)
	b = strconv.AppendFloat(b, lon, 'f', 7, 64)
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, lat, 'f', 7, 64)
	b = append(b, `,"heading":`...)
	b = strconv.AppendFloat(b, heading, 'f', 1, 64)
	b = append(b, `,"speed":`...)
	b = strconv.AppendFloat(b, v.speed, 'f', 2, 64)
	b = append(b, `,"time":`...)
	b = append(b, ts...)
	return append(b, v.tail...)
}

// ---------------------------------------------------------------- posting

// simCounts are the running totals, read by the progress printer.
type simCounts struct {
	sent, batches, accepted, applied, superseded, rejected, errors atomic.Int64
	mu                                                             sync.Mutex
	lastErr, lastReject                                            string
}

// poster sends batches to POST /api/v1/objects.
type poster struct {
	client *http.Client
	url    string
}

// bearerTransport adds an Authorization header to every request.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// wrapped transport.
func (b bearerTransport) CloseIdleConnections() {
	if c, ok := b.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// simResult is the answer to a batch.
type simResult struct {
	Accepted   int64 `json:"accepted"`
	Applied    int64 `json:"applied"`
	Superseded int64 `json:"superseded"`
	Rejected   []struct {
		ID    string `json:"id"`
		Error string `json:"error"`
	} `json:"rejected"`
	Error string `json:"error"`
}

func (p *poster) post(ctx context.Context, body []byte, n int, c *simCounts) {
	fail := func(msg string) {
		c.errors.Add(1)
		c.mu.Lock()
		c.lastErr = msg
		c.mu.Unlock()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		fail(err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	c.sent.Add(int64(n))
	c.batches.Add(1)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		fail(err.Error())
		return
	}
	defer resp.Body.Close()
	var r simResult
	derr := json.NewDecoder(resp.Body).Decode(&r)
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusBadRequest || derr != nil {
		msg := resp.Status
		if r.Error != "" {
			msg += ": " + r.Error
		}
		fail(msg)
		return
	}
	if r.Error != "" && r.Accepted == 0 && len(r.Rejected) == 0 {
		fail(resp.Status + ": " + r.Error)
		return
	}
	c.accepted.Add(r.Accepted)
	c.applied.Add(r.Applied)
	c.superseded.Add(r.Superseded)
	if len(r.Rejected) > 0 {
		c.rejected.Add(int64(len(r.Rejected)))
		c.mu.Lock()
		c.lastReject = r.Rejected[0].ID + ": " + r.Rejected[0].Error
		c.mu.Unlock()
	}
}

// run drives the vehicles until ctx ends: every vehicle reports rate
// times a second, spread over ticks of about 100 ms so that the load is
// even; batches go to conns posting goroutines.
func (s *simulation) run(ctx context.Context, e env, p *poster, rate float64, batch, conns int) error {
	period := time.Duration(float64(time.Second) / rate)
	groups := 1
	if period > simGroupTick {
		groups = int(math.Ceil(float64(period) / float64(simGroupTick)))
	}
	tick := period / time.Duration(groups)

	var c simCounts
	jobs := make(chan simJob, conns)
	free := make(chan []byte, 2*conns+2)
	// In-flight posts finish after ctx ends, for up to a few seconds.
	postCtx, postCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer postCancel()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for j := range jobs {
				p.post(postCtx, j.body, j.n, &c)
				select {
				case free <- j.body[:0]:
				default:
				}
			}
		})
	}

	start := time.Now()
	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	progressWG.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		prev, prevT := int64(0), start
		var prevErrs, prevRej int64
		for {
			select {
			case <-progressDone:
				return
			case now := <-t.C:
				sent := c.sent.Load()
				line := fmt.Sprintf("simulate: %5.0fs  %d vehicles  %.0f updates/s  sent %d  accepted %d  rejected %d  errors %d",
					now.Sub(start).Seconds(), len(s.vehicles), float64(sent-prev)/now.Sub(prevT).Seconds(), sent, c.accepted.Load(), c.rejected.Load(), c.errors.Load())
				errs, rej := c.errors.Load(), c.rejected.Load()
				c.mu.Lock()
				if errs > prevErrs {
					line += "  (last error: " + oneLine(c.lastErr) + ")"
				} else if rej > prevRej {
					line += "  (last rejection: " + oneLine(c.lastReject) + ")"
				}
				c.mu.Unlock()
				prevErrs, prevRej = errs, rej
				fmt.Fprintln(e.stderr, line)
				prev, prevT = sent, now
			}
		}
	})

	getBuf := func() []byte {
		select {
		case b := <-free:
			return b
		default:
			return make([]byte, 0, 256*batch+2)
		}
	}
	var (
		buf     = getBuf()
		inBatch = 0
		ts      []byte
		stopped = false
	)
	send := func() {
		if inBatch == 0 {
			return
		}
		buf = append(buf, ']')
		select {
		case jobs <- simJob{body: buf, n: inBatch}:
		case <-ctx.Done():
			stopped = true
		}
		buf, inBatch = getBuf(), 0
	}
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	for round := 0; !stopped; round++ {
		now := time.Now()
		ts = append(ts[:0], '"')
		ts = now.UTC().AppendFormat(ts, time.RFC3339Nano)
		ts = append(ts, '"')
		for i := round % groups; i < len(s.vehicles) && !stopped; i += groups {
			v := &s.vehicles[i]
			if !v.last.IsZero() {
				s.advance(v, now.Sub(v.last).Seconds())
			}
			v.last = now
			if inBatch == 0 {
				buf = append(buf[:0], '[')
			} else {
				buf = append(buf, ',')
			}
			buf = s.appendUpdate(buf, v, ts)
			if inBatch++; inBatch == batch {
				send()
			}
		}
		send()
		select {
		case <-ctx.Done():
			stopped = true
		case <-ticker.C:
		}
	}
	close(jobs)
	waited := make(chan struct{})
	go func() { wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		postCancel()
		<-waited
	}
	close(progressDone)
	progressWG.Wait()

	took := time.Since(start)
	sent := c.sent.Load()
	fmt.Fprintf(e.stderr, "simulate: %d vehicles for %s: %d updates sent (%.0f/s) in %d batches; accepted %d, applied %d, superseded %d, rejected %d; errors %d\n",
		len(s.vehicles), took.Round(time.Millisecond), sent, float64(sent)/took.Seconds(), c.batches.Load(),
		c.accepted.Load(), c.applied.Load(), c.superseded.Load(), c.rejected.Load(), c.errors.Load())
	c.mu.Lock()
	lastErr, lastReject := c.lastErr, c.lastReject
	c.mu.Unlock()
	if c.accepted.Load() == 0 {
		switch {
		case c.errors.Load() > 0:
			return fmt.Errorf("no update was accepted: %d failed batches (last: %s)", c.errors.Load(), lastErr)
		case c.rejected.Load() > 0:
			return fmt.Errorf("no update was accepted: %d rejected (last: %s)", c.rejected.Load(), lastReject)
		}
	}
	return nil
}

// simJob is one batch to post.
type simJob struct {
	body []byte
	n    int
}
