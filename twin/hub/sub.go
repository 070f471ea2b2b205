package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"citytwin/gridcode"
	"citytwin/twin/live"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
)

// Request is a client's message (see the websocket contract).
type Request struct {
	Op string `json:"op"`
	// ID names a subscription (subscribe, unsubscribe) or an update batch
	// (echoed in its ack). Update messages ({"op":"update","id":…,
	// "objects":[…]}) are parsed apart, without this type.
	ID string `json:"id,omitempty"`
	// Layers restricts a subscription to these layers (none: all).
	Layers []string `json:"layers,omitempty"`
	// BBox is [west, south, east, north] in degrees.
	BBox []float64 `json:"bbox,omitempty"`
	// Grid is a GeoSOT cell code.
	Grid string `json:"grid,omitempty"`
	// Fence is a GeoJSON Polygon or MultiPolygon.
	Fence json.RawMessage `json:"fence,omitempty"`
	// Events are event type patterns ("fence.enter", "fence.*", "*") the
	// subscription receives.
	Events []string `json:"events,omitempty"`
	// Fences restricts fence events to these fence ids (none: all).
	Fences []string `json:"fences,omitempty"`
}

// region is where a subscription looks.
type region struct {
	bound orb.Bound
	world bool           // no spatial restriction
	cell  *gridcode.Code // grid subscription
	poly  orb.MultiPolygon
}

func (r *region) contains(o *live.Object) bool {
	switch {
	case r.world:
		return true
	case r.cell != nil:
		return r.cell.Contains(o.Code)
	case r.poly != nil:
		return planar.MultiPolygonContains(r.poly, orb.Point{o.Lon, o.Lat})
	}
	return r.bound.Contains(orb.Point{o.Lon, o.Lat})
}

// sub is one subscription of one client.
type sub struct {
	id     string
	client *client
	layers map[string]bool // nil: all
	region region
	events []string
	fences map[string]bool
	state  bool // wants object state (not only events)

	mu      sync.Mutex
	pending map[string]pendingEntry // conflated: latest per object
	sent    map[string]time.Time    // per-object conflation: when each was last sent
	pruned  time.Time               // when sent was last pruned
}

// pendingEntry is an object's latest state for a subscription, or its
// departure (left the region, changed layer or was removed).
type pendingEntry struct {
	obj  *live.Object
	left bool
}

func (s *sub) wantsLayer(l string) bool { return s.layers == nil || s.layers[l] }

func (s *sub) matches(o *live.Object) bool {
	return !o.Gone && s.wantsLayer(o.Layer) && s.region.contains(o)
}

// mark records an object's new state or departure; it returns the number
// of objects pending for the subscription's client, all subscriptions
// together.
func (s *sub) mark(o *live.Object, left bool) int64 {
	s.mu.Lock()
	n := len(s.pending)
	s.pending[o.ID] = pendingEntry{obj: o, left: left}
	grew := len(s.pending) > n
	s.mu.Unlock()
	if grew {
		return s.client.pending.Add(1)
	}
	return s.client.pending.Load()
}

// take swaps out the pending map.
func (s *sub) take() map[string]pendingEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return nil
	}
	p := s.pending
	s.pending = make(map[string]pendingEntry, len(p)/2)
	s.client.pending.Add(-int64(len(p)))
	return p
}

// throttle applies per-object conflation (Options.ObjectInterval) to a
// taken batch at time now: objects sent less than every ago go back to
// pending (unless a newer state is already there) and leave p; the others
// are stamped as sent. It returns how long until the earliest held-back
// object is due (0: none held).
func (s *sub) throttle(p map[string]pendingEntry, now time.Time, every time.Duration) (next time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]time.Time{}
	}
	for id, e := range p {
		if e.left {
			delete(s.sent, id)
			continue
		}
		if last, ok := s.sent[id]; ok && now.Sub(last) < every {
			delete(p, id)
			if _, newer := s.pending[id]; !newer {
				s.pending[id] = e
				s.client.pending.Add(1)
			}
			if wait := every - now.Sub(last); next == 0 || wait < next {
				next = wait
			}
			continue
		}
		s.sent[id] = now
	}
	if now.Sub(s.pruned) > 10*every {
		for id, t := range s.sent {
			if now.Sub(t) >= every {
				delete(s.sent, id)
			}
		}
		s.pruned = now
	}
	return next
}

// wantsEvent reports whether an event type and fence id are for this
// subscription.
func (s *sub) wantsEvent(typ, fence string) bool {
	if s.fences != nil && !s.fences[fence] {
		return false
	}
	for _, p := range s.events {
		if p == "*" || p == typ || strings.HasSuffix(p, ".*") && strings.HasPrefix(typ, p[:len(p)-1]) {
			return true
		}
	}
	return false
}

// errRequest reports a bad client message.
var errRequest = errors.New("bad request")

// newSub validates a subscribe request.
func newSub(c *client, r *Request) (*sub, error) {
	if r.ID == "" {
		return nil, fmt.Errorf("%w: subscribe needs an id", errRequest)
	}
	if len(r.ID) > 128 {
		return nil, fmt.Errorf("%w: subscription id longer than 128 bytes", errRequest)
	}
	s := &sub{id: r.ID, client: c, pending: map[string]pendingEntry{}, events: r.Events}
	if len(r.Layers) > 0 {
		s.layers = map[string]bool{}
		for _, l := range r.Layers {
			s.layers[l] = true
		}
	}
	if len(r.Fences) > 0 {
		s.fences = map[string]bool{}
		for _, f := range r.Fences {
			s.fences[f] = true
		}
	}
	for _, p := range r.Events {
		if p == "" || strings.Contains(p[:len(p)-1], "*") {
			return nil, fmt.Errorf("%w: subscription %q: event pattern %q: want a type such as fence.enter, a prefix such as fence.*, or *", errRequest, r.ID, p)
		}
	}
	kinds := 0
	if r.BBox != nil {
		kinds++
		b := r.BBox
		if len(b) != 4 {
			return nil, fmt.Errorf("%w: subscription %q: bbox has %d numbers, want [west, south, east, north]", errRequest, r.ID, len(b))
		}
		if !(b[0] >= -180 && b[2] <= 180 && b[1] >= -90 && b[3] <= 90 && b[0] <= b[2] && b[1] <= b[3]) {
			return nil, fmt.Errorf("%w: subscription %q: bbox %v: want west ≤ east in [-180, 180], south ≤ north in [-90, 90]", errRequest, r.ID, b)
		}
		s.region.bound = orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}
	}
	if r.Grid != "" {
		kinds++
		code, err := gridcode.Parse(r.Grid)
		if err != nil {
			return nil, fmt.Errorf("%w: subscription %q: grid: %v", errRequest, r.ID, err)
		}
		cb := code.Bounds()
		s.region.cell = &code
		s.region.bound = orb.Bound{Min: orb.Point{cb.West, cb.South}, Max: orb.Point{cb.East, cb.North}}
	}
	if len(r.Fence) > 0 {
		kinds++
		g, err := geojson.UnmarshalGeometry(r.Fence)
		if err != nil {
			return nil, fmt.Errorf("%w: subscription %q: fence: %v", errRequest, r.ID, err)
		}
		switch p := g.Geometry().(type) {
		case orb.Polygon:
			s.region.poly = orb.MultiPolygon{p}
		case orb.MultiPolygon:
			s.region.poly = p
		default:
			return nil, fmt.Errorf("%w: subscription %q: fence is a %s, want a Polygon or MultiPolygon", errRequest, r.ID, g.Geometry().GeoJSONType())
		}
		for _, p := range s.region.poly {
			for _, ring := range p {
				if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
					return nil, fmt.Errorf("%w: subscription %q: fence has a ring that is not closed or has fewer than 4 positions", errRequest, r.ID)
				}
			}
		}
		s.region.bound = s.region.poly.Bound()
	}
	if kinds > 1 {
		return nil, fmt.Errorf("%w: subscription %q: give one of bbox, grid or fence", errRequest, r.ID)
	}
	s.state = kinds > 0 || len(r.Layers) > 0 || len(r.Events) == 0
	s.region.world = kinds == 0
	return s, nil
}
