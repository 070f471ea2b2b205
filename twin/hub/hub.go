// Package hub is the live twin's websocket hub (GET /ws): clients
// subscribe to live objects by layer, bounding box, GeoSOT cell or fence
// polygon and to events (geofence, case, warning, scenario), send object
// updates, and receive conflated batches of object state.
//
// A slow client never slows ingest. The twin's change hook only records,
// per subscription, the latest state of each object that changed
// (conflation) and wakes the client's writer; the writer sends what is
// pending at most once per flush interval (10 per second by default). Memory
// per client is bounded by the objects in its subscriptions' regions; a
// client whose backlog passes MaxPending objects (all its subscriptions together) or MaxEvents events, or
// whose socket accepts nothing for WriteTimeout, is closed with a reason
// (close code 1008).
package hub

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/twin/live"

	"github.com/gorilla/websocket"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Options tune the hub; zero values take the defaults.
type Options struct {
	// FlushInterval is the shortest time between two state messages of a
	// subscription (default 100 ms: at most 10 per second).
	FlushInterval time.Duration
	// ObjectInterval, when set, makes conflation per object instead of per
	// subscription: each object's state goes to a subscription at most
	// once per ObjectInterval, and state messages may go every
	// FlushInterval (set that low, e.g. 10 ms). Objects that change less
	// often than ObjectInterval then reach subscribers without waiting for
	// a window; chatty ones are still held to one state per interval.
	// Zero (the default): at most one state message per FlushInterval per
	// subscription, as ARCHITECTURE's contract reads.
	ObjectInterval time.Duration
	// MaxPending is the most objects a client may have waiting, all its
	// subscriptions together, before it is closed as too far behind
	// (default 200,000).
	MaxPending int
	// MaxEvents is the most events a client may have waiting (default
	// 4,096).
	MaxEvents int
	// WriteTimeout closes a client whose socket accepts nothing for this
	// long (default 10 s).
	WriteTimeout time.Duration
	// PingInterval is how often the server pings; a client that answers
	// nothing (no pong, no message) for 2.5 intervals is closed (default
	// 20 s).
	PingInterval time.Duration
	// MaxSubscriptions per client (default 100).
	MaxSubscriptions int
	// MaxBatch is the most objects in one state message (default 5,000;
	// a larger backlog goes out in several messages).
	MaxBatch int
	// CheckOrigin decides whether a browser's Origin may connect (default:
	// same host only, as gorilla/websocket does).
	CheckOrigin func(r *http.Request) bool
	// CanUpdate decides whether a client may send object updates (nil:
	// every client may); it sees the websocket's opening request.
	CanUpdate func(r *http.Request) bool
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 200000
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 4096
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = 100
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 5000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Hub serves websocket clients of one twin.
type Hub struct {
	twin     *live.Twin
	opt      Options
	upgrader websocket.Upgrader

	mu      sync.RWMutex
	regions rtree.RTreeG[*sub] // state subscriptions with a region
	world   map[*sub]struct{}  // state subscriptions without one
	evsubs  map[*sub]struct{}  // subscriptions to events
	clients map[*client]struct{}

	stats counters
}

// counters are the hub's running totals.
type counters struct {
	connected, closedSlow, messages, objects, events, updates atomic.Uint64
}

// Stats are the hub's gauges and running totals.
type Stats struct {
	Clients, Subscriptions                                 int
	Connected, ClosedSlow, Messages, Objects, Events, Upds uint64
}

// New returns a hub over a twin and registers its change hook.
func New(t *live.Twin, opt Options) *Hub {
	opt.defaults()
	h := &Hub{twin: t, opt: opt, world: map[*sub]struct{}{}, evsubs: map[*sub]struct{}{}, clients: map[*client]struct{}{}}
	h.upgrader = websocket.Upgrader{ReadBufferSize: 4096, WriteBufferSize: 16384, CheckOrigin: opt.CheckOrigin, EnableCompression: false}
	t.OnChange(h.onChange)
	return h
}

// Stats returns the hub's counts.
func (h *Hub) Stats() Stats {
	h.mu.RLock()
	clients, subs := len(h.clients), h.regions.Len()+len(h.world)
	h.mu.RUnlock()
	return Stats{Clients: clients, Subscriptions: subs, Connected: h.stats.connected.Load(), ClosedSlow: h.stats.closedSlow.Load(),
		Messages: h.stats.messages.Load(), Objects: h.stats.objects.Load(), Events: h.stats.events.Load(), Upds: h.stats.updates.Load()}
}

// onChange is the twin's hook: it marks each change in the subscriptions
// that see the object now (its new state) or saw it before (its departure).
func (h *Hub) onChange(changes []live.Change) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var hit []*sub
	for _, c := range changes {
		hit = hit[:0]
		cur := c.Cur
		visit := func(s *sub) {
			if s.matches(cur) {
				hit = append(hit, s)
				h.mark(s, cur, false)
			}
		}
		if !cur.Gone {
			p := orb.Point{cur.Lon, cur.Lat}
			h.regions.Search(p, p, func(_, _ [2]float64, s *sub) bool { visit(s); return true })
			for s := range h.world {
				visit(s)
			}
		}
		if prev := c.Prev; prev != nil {
			left := func(s *sub) {
				if !s.matches(prev) {
					return
				}
				for _, x := range hit {
					if x == s {
						return
					}
				}
				h.mark(s, cur, true)
			}
			p := orb.Point{prev.Lon, prev.Lat}
			h.regions.Search(p, p, func(_, _ [2]float64, s *sub) bool { left(s); return true })
			for s := range h.world {
				left(s)
			}
		}
	}
}

// mark records a change for a subscription and wakes its client; a client
// whose backlog grows past MaxPending is closed.
func (h *Hub) mark(s *sub, o *live.Object, left bool) {
	if n := s.mark(o, left); n > int64(h.opt.MaxPending) {
		s.client.fail(websocket.ClosePolicyViolation, "too far behind: more than "+itoa(h.opt.MaxPending)+" objects pending")
		return
	}
	s.client.wake()
}

// Event is something that happened, sent to clients subscribed to its
// type: its JSON form (which must be an object with "op":"event" and a
// "type") goes out with "sub" added.
type Event struct {
	// Type is e.g. "fence.enter".
	Type string
	// Fence is the fence id for fence events (for subscriptions that name
	// fences).
	Fence string
	// JSON is the event as a JSON object.
	JSON []byte
}

// Publish sends events to the subscriptions that want them. It never
// blocks: a client with more than MaxEvents waiting is closed.
func (h *Hub) Publish(events []Event) {
	if len(events) == 0 {
		return
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, e := range events {
		for s := range h.evsubs {
			if s.wantsEvent(e.Type, e.Fence) {
				s.client.event(s.id, e.JSON)
			}
		}
	}
	h.stats.events.Add(uint64(len(events)))
}

// add registers a subscription and queues its snapshot.
func (h *Hub) add(s *sub) {
	h.mu.Lock()
	if s.state {
		if s.region.world {
			h.world[s] = struct{}{}
		} else {
			h.regions.Insert(s.region.bound.Min, s.region.bound.Max, s)
		}
	}
	if len(s.events) > 0 {
		h.evsubs[s] = struct{}{}
	}
	h.mu.Unlock()
	if !s.state {
		return
	}
	// The snapshot: every object now in the region. Changes from here on
	// are marked by the hook too; both are the latest state, so the order
	// does not matter.
	var layers []string
	for l := range s.layers {
		layers = append(layers, l)
	}
	b := s.region.bound
	if s.region.world {
		b = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	}
	var n int64
	h.twin.Search(layers, b, func(o *live.Object) bool {
		if s.region.contains(o) {
			n = s.mark(o, false)
		}
		return n <= int64(h.opt.MaxPending)
	})
	if n > int64(h.opt.MaxPending) {
		s.client.fail(websocket.ClosePolicyViolation, "subscription "+s.id+" holds more than "+itoa(h.opt.MaxPending)+" objects: narrow it")
		return
	}
	s.client.wake()
}

// remove unregisters a subscription.
func (h *Hub) remove(s *sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.world, s)
	delete(h.evsubs, s)
	if s.state && !s.region.world {
		h.regions.Delete(s.region.bound.Min, s.region.bound.Max, s)
	}
	s.take() // what it had pending no longer counts against its client
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}

// Close closes every client with "going away" (a server shutting down;
// http.Server.Shutdown does not close hijacked websocket connections).
func (h *Hub) Close() {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.clients {
		c.fail(websocket.CloseGoingAway, "server shutting down")
	}
}
