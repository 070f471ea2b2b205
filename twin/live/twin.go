package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/gridcode"
	"citytwin/twin/movindex"

	"github.com/paulmach/orb"
)

// ErrNotFound reports an object that is not live.
var ErrNotFound = errors.New("object not found")

// Change is one object's accepted update: Prev is its state before (nil on
// first sight), Cur its new state. Cur.Gone marks a removal. Remote marks
// an update another replica ingested (see ApplyRemote): effects that must
// happen once in the whole system, such as webhooks, belong to the replica
// that took the update.
type Change struct {
	Prev, Cur *Object
	Remote    bool
}

// Hook is called with every batch of changes after they are durable and
// applied, under the twin's write lock and in apply order: hooks see every
// change exactly once and in the order readers see them. They must be
// quick (hand slow work to another goroutine) and must not call back into
// the twin's write methods.
type Hook func([]Change)

// Result reports what became of a batch.
type Result struct {
	// Accepted updates are durable (in the history), including those that
	// were older than the object's current state.
	Accepted int `json:"accepted"`
	// Applied updates changed an object's current state.
	Applied int `json:"applied"`
	// Superseded updates were accepted into history but were not newer
	// than the current state (late or replayed updates).
	Superseded int `json:"superseded"`
	// Rejected updates were invalid; nothing of them was stored.
	Rejected []Rejection `json:"rejected"`
}

// Stats are running totals since start.
type Stats struct {
	Objects    int
	Accepted   uint64
	Applied    uint64
	Superseded uint64
	Rejected   uint64
	Remote     uint64 // applied from other replicas
}

// Twin holds the live objects: current state in memory, indexed by
// position per layer, and every accepted update in a Log.
type Twin struct {
	log   Log
	clock func() time.Time

	mu     sync.RWMutex
	slots  []*Object         // by slot; nil when free
	ids    map[string]uint32 // id → slot
	free   []uint32
	layers map[string]*layerIndex
	gone   map[string]int64 // removed ids → the removal's time
	hooks  []Hook

	accepted, applied, superseded, rejected, remote atomic.Uint64
}

// layerIndex is one layer's moving-object index.
type layerIndex struct {
	idx movindex.Index
}

// New returns a twin over a log, loaded with every object's newest state
// from it. clock is the server's clock (nil: time.Now).
func New(ctx context.Context, log Log, clock func() time.Time) (*Twin, error) {
	if clock == nil {
		clock = time.Now
	}
	t := &Twin{log: log, clock: clock, ids: make(map[string]uint32), layers: make(map[string]*layerIndex), gone: make(map[string]int64)}
	err := log.Latest(ctx, func(o *Object) error {
		if o.Gone {
			t.gone[o.ID] = o.Time
		} else {
			t.put(o)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("live: load current state: %w", err)
	}
	return t, nil
}

// OnChange registers a hook. Register hooks before ingesting.
func (t *Twin) OnChange(h Hook) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hooks = append(t.hooks, h)
}

// Now returns the twin's clock.
func (t *Twin) Now() time.Time { return t.clock() }

// Ingest persists a batch of prepared updates and applies those newer than
// each object's current state. It returns once they are durable; the error
// is the log's (nothing of the batch was applied then). rejected are the
// parser's rejections, carried into the result.
func (t *Twin) Ingest(ctx context.Context, objs []*Object, rejected []Rejection) (Result, error) {
	res := Result{Rejected: rejected}
	t.rejected.Add(uint64(len(rejected)))
	if len(objs) == 0 {
		return res, nil
	}
	t.carryState(objs)
	if err := t.log.Append(ctx, objs); err != nil {
		return res, fmt.Errorf("live: persist %d updates: %w", len(objs), err)
	}
	res.Accepted = len(objs)
	res.Applied = t.apply(objs, false)
	res.Superseded = res.Accepted - res.Applied
	t.accepted.Add(uint64(res.Accepted))
	t.applied.Add(uint64(res.Applied))
	t.superseded.Add(uint64(res.Superseded))
	return res, nil
}

// carryState gives updates that did not mention state the state of the
// object's newest earlier update (in the batch, or current), so that a
// position-only update keeps the route, load or level an object reported
// before, in memory and in the stored history alike.
func (t *Twin) carryState(objs []*Object) {
	if !slices.ContainsFunc(objs, func(o *Object) bool { return o.noState }) {
		return // every update says its state: nothing to carry
	}
	groups := make(map[string][]*Object, len(objs))
	for _, o := range objs {
		groups[o.ID] = append(groups[o.ID], o)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for id, g := range groups {
		if slot, ok := t.ids[id]; ok {
			// The current state goes first so that a replay with its time
			// carries its state (it is never changed: it is not noState).
			g = append([]*Object{t.slots[slot]}, g...)
		}
		if len(g) > 1 {
			sort.SliceStable(g, func(i, j int) bool { return g[i].Time < g[j].Time })
		}
		var last *Object
		for _, o := range g {
			if o.noState && last != nil {
				o.State = last.State
			}
			last = o
		}
	}
	for _, o := range objs {
		o.noState = false // objects are immutable from here on
	}
}

// ApplyRemote applies updates that another replica has already persisted
// (see Follower); they reach hooks like local ones.
func (t *Twin) ApplyRemote(objs []*Object) {
	n := t.apply(objs, true)
	t.remote.Add(uint64(n))
}

// Remove ends an object's life in the twin at the server's time: a
// tombstone is persisted (so a restart does not bring it back and history
// shows when it left) and hooks see a change whose Cur is Gone.
func (t *Twin) Remove(ctx context.Context, id string) error {
	t.mu.RLock()
	slot, ok := t.ids[id]
	var cur *Object
	if ok {
		cur = t.slots[slot]
	}
	t.mu.RUnlock()
	if !ok {
		return fmt.Errorf("live: %w: %q", ErrNotFound, id)
	}
	now := t.clock().UnixMicro()
	tomb := *cur
	tomb.Time, tomb.Recv, tomb.Gone = max(now, cur.Time+1), now, true
	if err := t.log.Append(ctx, []*Object{&tomb}); err != nil {
		return fmt.Errorf("live: persist removal of %q: %w", id, err)
	}
	t.apply([]*Object{&tomb}, false)
	return nil
}

// Expire removes the objects whose last update was received before the
// given time (silent ones: a vehicle switched off, a phone gone offline)
// and returns how many. Each gets a tombstone dated a microsecond after its
// last source time, so that any real update still on its way wins over the
// expiry; subscribers see the objects leave.
func (t *Twin) Expire(ctx context.Context, before time.Time) (int, error) {
	cut := before.UnixMicro()
	now := t.clock().UnixMicro()
	var tombs []*Object
	t.mu.RLock()
	for _, o := range t.slots {
		if o != nil && o.Recv < cut {
			tomb := *o
			tomb.Time, tomb.Recv, tomb.Gone, tomb.State = o.Time+1, now, true, nil
			tombs = append(tombs, &tomb)
		}
	}
	t.mu.RUnlock()
	total := len(tombs)
	for len(tombs) > 0 {
		n := min(len(tombs), MaxBatch)
		if err := t.log.Append(ctx, tombs[:n]); err != nil {
			return 0, fmt.Errorf("live: persist expiry: %w", err)
		}
		t.apply(tombs[:n], false)
		tombs = tombs[n:]
	}
	return total, nil
}

// apply makes the newer updates current and calls the hooks.
func (t *Twin) apply(objs []*Object, remote bool) int {
	changes := make([]Change, 0, len(objs))
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range objs {
		slot, ok := t.ids[o.ID]
		var prev *Object
		if ok {
			prev = t.slots[slot]
			if o.Time <= prev.Time {
				continue // older or the same: history only
			}
		} else if o.Gone || o.Time <= t.gone[o.ID] {
			// Removed, and this update is not newer than the removal; a
			// tombstone of an object this twin never had (another
			// replica's) is remembered as New would.
			if o.Gone && o.Time > t.gone[o.ID] {
				t.gone[o.ID] = o.Time
			}
			continue
		}
		if o.Gone {
			t.drop(slot, prev)
			t.gone[o.ID] = o.Time
		} else {
			t.put(o)
			delete(t.gone, o.ID)
		}
		changes = append(changes, Change{Prev: prev, Cur: o, Remote: remote})
	}
	if len(changes) > 0 {
		for _, h := range t.hooks {
			h(changes)
		}
	}
	return len(changes)
}

// put makes o current. The caller holds mu (or owns t during New).
func (t *Twin) put(o *Object) {
	slot, ok := t.ids[o.ID]
	if ok {
		prev := t.slots[slot]
		if prev.Layer != o.Layer {
			t.layer(prev.Layer).idx.Delete(slot)
		}
	} else {
		if n := len(t.free); n > 0 {
			slot, t.free = t.free[n-1], t.free[:n-1]
		} else {
			slot = uint32(len(t.slots))
			t.slots = append(t.slots, nil)
		}
		t.ids[o.ID] = slot
	}
	t.slots[slot] = o
	t.layer(o.Layer).idx.Set(slot, orb.Point{o.Lon, o.Lat})
}

// drop removes the object in slot. The caller holds mu.
func (t *Twin) drop(slot uint32, prev *Object) {
	t.layer(prev.Layer).idx.Delete(slot)
	delete(t.ids, prev.ID)
	t.slots[slot] = nil
	t.free = append(t.free, slot)
}

func (t *Twin) layer(name string) *layerIndex {
	li := t.layers[name]
	if li == nil {
		li = &layerIndex{idx: movindex.New()}
		t.layers[name] = li
	}
	return li
}

// Get returns an object's current state.
func (t *Twin) Get(id string) (*Object, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if slot, ok := t.ids[id]; ok {
		return t.slots[slot], nil
	}
	return nil, fmt.Errorf("live: %w: %q", ErrNotFound, id)
}

// Search calls fn for every current object of the layers (all layers when
// none are named) whose position lies in b, until fn returns false. fn runs
// under the twin's read lock: it must be quick and must not call the
// twin's write methods.
func (t *Twin) Search(layers []string, b orb.Bound, fn func(*Object) bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	t.search(layers, b, fn)
}

// search is Search for a caller that holds mu (a hook).
func (t *Twin) search(layers []string, b orb.Bound, fn func(*Object) bool) {
	more := true
	visit := func(li *layerIndex) {
		li.idx.Search(b, func(slot uint32, _ orb.Point) bool {
			more = fn(t.slots[slot])
			return more
		})
	}
	if len(layers) == 0 {
		for _, li := range t.layers {
			if visit(li); !more {
				return
			}
		}
		return
	}
	for _, name := range layers {
		if li := t.layers[name]; li != nil {
			if visit(li); !more {
				return
			}
		}
	}
}

// SearchLocked is Search for hooks, which already run under the twin's
// lock (calling Search from a hook would deadlock).
func (t *Twin) SearchLocked(layers []string, b orb.Bound, fn func(*Object) bool) {
	t.search(layers, b, fn)
}

// CellBound returns a GeoSOT cell's bounds as an orb.Bound.
func CellBound(cell gridcode.Code) orb.Bound {
	b := cell.Bounds()
	return orb.Bound{Min: orb.Point{b.West, b.South}, Max: orb.Point{b.East, b.North}}
}

// SearchCell calls fn for every current object of the layers (all when
// none are named) in a GeoSOT cell (by code: the cell or a descendant),
// until fn returns false.
func (t *Twin) SearchCell(layers []string, cell gridcode.Code, fn func(*Object) bool) {
	t.Search(layers, CellBound(cell), func(o *Object) bool {
		if cell.Contains(o.Code) {
			return fn(o)
		}
		return true
	})
}

// CountCell returns how many live objects of each layer are in a cell.
func (t *Twin) CountCell(cell gridcode.Code) map[string]int {
	out := map[string]int{}
	t.SearchCell(nil, cell, func(o *Object) bool { out[o.Layer]++; return true })
	return out
}

// LayerCount is the number of live objects in a layer.
type LayerCount struct {
	Layer   string `json:"layer"`
	Objects int    `json:"objects"`
}

// Layers lists the layers with live objects, by name.
func (t *Twin) Layers() []LayerCount {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]LayerCount, 0, len(t.layers))
	for name, li := range t.layers {
		if n := li.idx.Len(); n > 0 {
			out = append(out, LayerCount{Layer: name, Objects: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Layer < out[j].Layer })
	return out
}

// Stats returns running totals.
func (t *Twin) Stats() Stats {
	t.mu.RLock()
	n := len(t.ids)
	t.mu.RUnlock()
	return Stats{Objects: n, Accepted: t.accepted.Load(), Applied: t.applied.Load(), Superseded: t.superseded.Load(),
		Rejected: t.rejected.Load(), Remote: t.remote.Load()}
}

// History returns an object's stored states with from ≤ time ≤ to, oldest
// first, at most limit of them (the earliest), and whether there were more.
func (t *Twin) History(ctx context.Context, id string, from, to time.Time, limit int) ([]*Object, bool, error) {
	objs, err := t.log.History(ctx, id, from.UnixMicro(), to.UnixMicro(), limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("live: history of %q: %w", id, err)
	}
	if len(objs) > limit {
		return objs[:limit], true, nil
	}
	return objs, false, nil
}

// AsOf calls fn for every object of the layers (all when none are named)
// whose newest state at or before at lies in b and was reported within
// window before at (objects silent for longer, or removed, are not live
// at that time).
func (t *Twin) AsOf(ctx context.Context, layers []string, b orb.Bound, at time.Time, window time.Duration, fn func(*Object) error) error {
	want := map[string]bool{}
	for _, l := range layers {
		want[l] = true
	}
	err := t.log.AsOf(ctx, at.UnixMicro(), window.Microseconds(), func(o *Object) error {
		if o.Gone || len(want) > 0 && !want[o.Layer] || !b.Contains(orb.Point{o.Lon, o.Lat}) {
			return nil
		}
		return fn(o)
	})
	if err != nil {
		return fmt.Errorf("live: objects as of %s: %w", at.Format(time.RFC3339), err)
	}
	return nil
}

// Log is the durable history of updates. Implementations: the embedded
// pebble log (sub-package pebblelog) and PostgreSQL (pglog).
type Log interface {
	// Append stores updates (tombstones included). It returns once they
	// are durable. Storing an update with the same id and time again
	// replaces it (replays are idempotent).
	Append(ctx context.Context, objs []*Object) error
	// Latest calls fn with the newest stored state of every object,
	// tombstones included.
	Latest(ctx context.Context, fn func(*Object) error) error
	// History returns one object's states with from ≤ Time ≤ to, oldest
	// first, at most limit.
	History(ctx context.Context, id string, from, to int64, limit int) ([]*Object, error)
	// AsOf calls fn with each object's newest state with Time in
	// (at−window, at].
	AsOf(ctx context.Context, at, window int64, fn func(*Object) error) error
	// Close releases the log.
	Close() error
}

// LatestSaver is a Log that can keep a snapshot of every object's newest
// state for a fast start-up (pebblelog); see Twin.SaveLatest.
type LatestSaver interface {
	SaveLatest(ctx context.Context, each func(yield func(*Object) bool)) error
}

// SaveLatest hands the twin's current state (and its removals, as
// tombstones) to a log that keeps a start-up snapshot; a no-op for other
// logs. Call it at shutdown, once nothing ingests any more.
func (t *Twin) SaveLatest(ctx context.Context) error {
	s, ok := t.log.(LatestSaver)
	if !ok {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return s.SaveLatest(ctx, func(yield func(*Object) bool) {
		for _, o := range t.slots {
			if o != nil && !yield(o) {
				return
			}
		}
		for id, at := range t.gone {
			if !yield(&Object{ID: id, Time: at, Gone: true}) {
				return
			}
		}
	})
}

// Follower is a Log shared by several servers (PostgreSQL): Follow calls
// fn with batches that other servers appended, in their commit order,
// until ctx ends.
type Follower interface {
	Follow(ctx context.Context, fn func([]*Object)) error
}
