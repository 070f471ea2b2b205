package fence

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Object is what the engine sees of a live object update.
type Object struct {
	// ID identifies the object across layers.
	ID string
	// Layer is the object's layer, e.g. "vehicles".
	Layer string
	// Lon and Lat are its position in degrees.
	Lon, Lat float64
	// Time is the update's source time.
	Time time.Time
	// Props are the object's properties, a JSON object (may be nil). The
	// engine decodes them only when a filter needs them and copies them
	// into the events it returns.
	Props json.RawMessage
}

func (o *Object) point() orb.Point { return orb.Point{o.Lon, o.Lat} }

// Event types.
const (
	TypeEnter   = "fence.enter"
	TypeExit    = "fence.exit"
	TypeCross   = "fence.cross"
	TypeInside  = "fence.inside"
	TypeOutside = "fence.outside"
)

// Event is a geofence event, shaped for the websocket contract: marshal
// it as it is.
type Event struct {
	// Op is always "event".
	Op string `json:"op"`
	// Type is one of the Type* constants.
	Type string `json:"type"`
	// Fence is the fence's ID; Name its name.
	Fence string `json:"fence"`
	Name  string `json:"name,omitempty"`
	// Object is the object that moved (roaming fences: the roam.layer
	// object, or for a fence whose two sides are the same selection, the
	// object whose update raised the event).
	Object ObjectRef `json:"object"`
	// Near is, for roaming fences, the other object of the pair.
	Near *ObjectRef `json:"near,omitempty"`
	// Meters is, for roaming fences, the geodesic distance between them.
	Meters *float64 `json:"meters,omitempty"`
	// Time is the update's source time (the engine's clock when it has
	// none), RFC 3339 with nanoseconds.
	Time time.Time `json:"time"`
	// Webhook is the fence's webhook, if any, for the caller to deliver
	// to; never marshalled.
	Webhook *Webhook `json:"-"`
}

// ObjectRef is an object as it appears in an event.
type ObjectRef struct {
	ID    string          `json:"id"`
	Layer string          `json:"layer"`
	Lon   float64         `json:"lon"`
	Lat   float64         `json:"lat"`
	Time  time.Time       `json:"time,omitzero"`
	Props json.RawMessage `json:"props,omitempty"`
}

func refOf(o *Object) ObjectRef {
	r := ObjectRef{ID: o.ID, Layer: o.Layer, Lon: o.Lon, Lat: o.Lat, Time: o.Time}
	if len(o.Props) > 0 {
		r.Props = slices.Clone(o.Props)
	}
	return r
}

// Finder finds live objects for roaming fences: it calls fn for objects
// of a layer whose position lies in b (more is fine; the engine measures
// exactly) until fn returns false. The engine calls it with its lock
// held, so it must not call back into the Engine.
type Finder interface {
	Near(layer string, b orb.Bound, fn func(Object) bool)
}

// Saver persists fence definitions (JSON, as ParseDefinition reads them).
type Saver interface {
	SaveFence(ctx context.Context, id string, def []byte) error
	DeleteFence(ctx context.Context, id string) error
	LoadFences(ctx context.Context) (map[string][]byte, error)
}

// Engine holds the fences and the per-object state, and turns object
// updates into events. It is safe for concurrent use; Update, Forget, Add
// and Remove serialise on one lock.
type Engine struct {
	// Now is the clock for events whose object has no time; set it before
	// use (tests).
	Now func() time.Time

	mu       sync.RWMutex
	finder   Finder
	fences   map[string]*fence
	reserved map[string]bool
	tree     rtree.RTreeG[*fence]
	roamBy   map[string][]*fence // layer → roaming fences with that layer on either side
	objs     map[string]*objState

	// Scratch for Update, reused so the path allocates nothing when no
	// fence is near.
	epoch    uint64
	cands    []*fence
	collect  func(min, max [2]float64, f *fence) bool
	props    props
	oprops   props
	updating string
	cur      Object
	nearCtx  nearCtx
	nearFn   func(Object) bool
	found    []foundObj
}

// objState is what the engine remembers of one object: the static fences
// it is inside and the roaming pairs it belongs to. Objects in neither have
// no entry.
type objState struct {
	in    []*fence
	pairs []pairRef
}

func (s *objState) has(f *fence) bool {
	for _, g := range s.in {
		if g == f {
			return true
		}
	}
	return false
}

func (s *objState) empty() bool { return len(s.in) == 0 && len(s.pairs) == 0 }

// New returns an empty engine. finder may be nil if no roaming fence will
// be added.
func New(finder Finder) *Engine {
	e := &Engine{
		Now:      time.Now,
		finder:   finder,
		fences:   map[string]*fence{},
		reserved: map[string]bool{},
		roamBy:   map[string][]*fence{},
		objs:     map[string]*objState{},
	}
	e.collect = func(_, _ [2]float64, f *fence) bool {
		if f.mark != e.epoch {
			f.mark = e.epoch
			e.cands = append(e.cands, f)
		}
		return true
	}
	e.nearFn = e.nearVisit
	return e
}

// Add validates a definition and adds the fence, generating an ID when it
// is empty. It returns the stored (normalised) definition. Errors are
// *FieldError for invalid definitions and ErrDuplicate for an ID in use.
func (e *Engine) Add(def Definition) (Definition, error) {
	f, err := e.prepare(def)
	if err != nil {
		return Definition{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.insertLocked(f, false); err != nil {
		return Definition{}, err
	}
	return cloneDef(f.def), nil
}

// prepare compiles a definition, generating an ID when it has none.
func (e *Engine) prepare(def Definition) (*fence, error) {
	if def.ID == "" {
		def.ID = newID()
	}
	f, err := compile(def, true)
	if err != nil {
		return nil, err
	}
	if f.roam != nil && e.finder == nil {
		return nil, fieldErr("roam", "this engine has no object finder, so it cannot run roaming fences")
	}
	return f, nil
}

// reserve holds an ID while its definition is being saved.
func (e *Engine) reserve(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fences[id] != nil || e.reserved[id] {
		return fmt.Errorf("%w: %q", ErrDuplicate, id)
	}
	e.reserved[id] = true
	return nil
}

func (e *Engine) release(id string) {
	e.mu.Lock()
	delete(e.reserved, id)
	e.mu.Unlock()
}

// commit inserts a fence whose ID was reserved.
func (e *Engine) commit(f *fence) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.reserved, f.def.ID)
	_ = e.insertLocked(f, true)
}

func (e *Engine) insertLocked(f *fence, reservedOK bool) error {
	id := f.def.ID
	if e.fences[id] != nil || e.reserved[id] && !reservedOK {
		return fmt.Errorf("%w: %q", ErrDuplicate, id)
	}
	e.fences[id] = f
	if f.roam != nil {
		e.roamBy[f.roam.aLayer] = append(e.roamBy[f.roam.aLayer], f)
		if f.roam.bLayer != f.roam.aLayer {
			e.roamBy[f.roam.bLayer] = append(e.roamBy[f.roam.bLayer], f)
		}
		return nil
	}
	f.inside = map[string]struct{}{}
	e.tree.Insert(f.bound.Min, f.bound.Max, f)
	return nil
}

// Remove deletes a fence; it raises no events. It reports whether the
// fence existed.
func (e *Engine) Remove(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.fences[id]
	if f == nil {
		return false
	}
	delete(e.fences, id)
	if r := f.roam; r != nil {
		e.roamBy[r.aLayer] = slices.DeleteFunc(e.roamBy[r.aLayer], func(g *fence) bool { return g == f })
		e.roamBy[r.bLayer] = slices.DeleteFunc(e.roamBy[r.bLayer], func(g *fence) bool { return g == f })
		for _, l := range []string{r.aLayer, r.bLayer} {
			if len(e.roamBy[l]) == 0 {
				delete(e.roamBy, l)
			}
		}
		for k := range r.pairs {
			e.unlinkPair(f, k)
		}
		clear(r.pairs)
		return true
	}
	e.tree.Delete(f.bound.Min, f.bound.Max, f)
	for id := range f.inside {
		if st := e.objs[id]; st != nil {
			st.in = slices.DeleteFunc(st.in, func(g *fence) bool { return g == f })
			if st.empty() {
				delete(e.objs, id)
			}
		}
	}
	clear(f.inside)
	return true
}

// Get returns a fence's definition.
func (e *Engine) Get(id string) (Definition, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	f := e.fences[id]
	if f == nil {
		return Definition{}, false
	}
	return cloneDef(f.def), true
}

// List returns every fence's definition, by ID.
func (e *Engine) List() []Definition {
	e.mu.RLock()
	out := make([]Definition, 0, len(e.fences))
	for _, f := range e.fences {
		out = append(out, cloneDef(f.def))
	}
	e.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Len returns the number of fences.
func (e *Engine) Len() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.fences)
}

// cloneDef copies the slices and pointers of a definition so callers
// cannot reach the engine's copy.
func cloneDef(d Definition) Definition {
	d.Geometry = slices.Clone(d.Geometry)
	d.Layers = slices.Clone(d.Layers)
	d.Filters = slices.Clone(d.Filters)
	d.Detect = slices.Clone(d.Detect)
	if d.Webhook != nil {
		w := *d.Webhook
		d.Webhook = &w
	}
	if d.Roam != nil {
		r := *d.Roam
		r.Filters = slices.Clone(r.Filters)
		r.Near.Filters = slices.Clone(r.Near.Filters)
		d.Roam = &r
	}
	return d
}

// Load adds every definition the saver holds. A record that does not
// parse, or whose ID disagrees with its key, is skipped and reported in
// the joined error; the others are added.
func (e *Engine) Load(ctx context.Context, s Saver) error {
	m, err := s.LoadFences(ctx)
	if err != nil {
		return fmt.Errorf("fence: load: %w", err)
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var errs []error
	for _, id := range ids {
		def, err := ParseDefinition(m[id])
		if err == nil && def.ID != id {
			err = fmt.Errorf("stored under %q but its id is %q", id, def.ID)
		}
		if err == nil {
			_, err = e.Add(def)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("fence: load %q: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Update processes one object update and returns its events (nil when
// there are none). prev is the object's previous state, nil on first
// sight; the caller passes updates in source-time order per object.
func (e *Engine) Update(prev *Object, cur Object) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.epoch++
	// Work on the engine's copy: the scratch state points at it, and a
	// pointer to the parameter would move it to the heap on every call.
	e.cur = cur
	c := &e.cur
	e.updating = c.ID
	e.cands = e.cands[:0]
	e.props.reset(c.Props)
	p := c.point()
	box := orb.Bound{Min: p, Max: p}
	var pp orb.Point
	moved := false
	if prev != nil {
		pp = prev.point()
		if pp != p {
			moved = true
			box = box.Extend(pp)
		}
	}
	e.tree.Search(box.Min, box.Max, e.collect)
	st := e.objs[c.ID]
	if st != nil {
		for _, f := range st.in {
			if f.mark != e.epoch {
				f.mark = e.epoch
				e.cands = append(e.cands, f)
			}
		}
	}
	var evs []Event
	for _, f := range e.cands {
		applies := f.applies(c, &e.props)
		was := st != nil && st.has(f)
		now := applies && f.contains(p)
		switch {
		case now && !was:
			if st == nil {
				st = e.state(c.ID)
			}
			st.in = append(st.in, f)
			f.inside[c.ID] = struct{}{}
			if f.detect&flagEnter != 0 {
				evs = append(evs, e.event(f, TypeEnter, c))
			}
		case was && !now:
			st.in = slices.DeleteFunc(st.in, func(g *fence) bool { return g == f })
			delete(f.inside, c.ID)
			if f.detect&flagExit != 0 {
				evs = append(evs, e.event(f, TypeExit, c))
			}
		case !now && applies && moved && f.detect&flagCross != 0:
			if !f.contains(pp) && f.segmentHits(pp, p) {
				evs = append(evs, e.event(f, TypeCross, c))
			}
		}
		switch {
		case now && f.detect&flagInside != 0:
			evs = append(evs, e.event(f, TypeInside, c))
		case !now && applies && f.detect&flagOutside != 0 && f.bound.Intersects(box):
			evs = append(evs, e.event(f, TypeOutside, c))
		}
	}
	clear(e.cands)
	if len(evs) > 1 {
		// The R-tree's order is arbitrary: report by fence ID, each
		// fence's transition before its state report.
		slices.SortStableFunc(evs, func(a, b Event) int { return strings.Compare(a.Fence, b.Fence) })
	}
	if rs := e.roamBy[c.Layer]; len(rs) > 0 {
		evs = e.updateRoaming(rs, c, evs)
	}
	if st := e.objs[c.ID]; st != nil {
		// Roaming fences may hold pairs for a layer the object has left.
		if len(st.pairs) > 0 {
			evs = e.dropStalePairs(st, c, evs)
		}
		if st.empty() {
			delete(e.objs, c.ID)
		}
	}
	e.cur, e.updating = Object{}, ""
	return evs
}

// Forget processes the deletion of an object: it exits every fence it is
// inside and every roaming pair it belongs to, and the engine forgets it.
// obj is the object's last state (its Time, if set, is the deletion time).
func (e *Engine) Forget(obj Object) []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.objs[obj.ID]
	if st == nil {
		return nil
	}
	delete(e.objs, obj.ID)
	var evs []Event
	for _, f := range st.in {
		delete(f.inside, obj.ID)
		if f.detect&flagExit != 0 {
			evs = append(evs, e.event(f, TypeExit, &obj))
		}
	}
	for _, ref := range slices.Clone(st.pairs) {
		evs = e.exitPair(ref.f, ref.key, &obj, evs)
	}
	return evs
}

func (e *Engine) state(id string) *objState {
	st := e.objs[id]
	if st == nil {
		st = &objState{}
		e.objs[id] = st
	}
	return st
}

// applies reports whether a static fence watches this object.
func (f *fence) applies(o *Object, p *props) bool {
	if len(f.layers) > 0 && !slices.Contains(f.layers, o.Layer) {
		return false
	}
	return matches(f.filters, o, p)
}

func (e *Engine) event(f *fence, typ string, o *Object) Event {
	return Event{Op: "event", Type: typ, Fence: f.def.ID, Name: f.def.Name, Object: refOf(o), Time: e.timeOf(o), Webhook: f.def.Webhook}
}

func (e *Engine) timeOf(o *Object) time.Time {
	if !o.Time.IsZero() {
		return o.Time
	}
	return e.Now()
}
