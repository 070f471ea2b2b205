package spatial

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"
)

// codeKey orders features by grid code, then id, then ValidFrom: a
// depth-first walk of the GeoSOT quadtree, and the order of stable
// pagination cursors. ValidFrom tells apart the versions of one feature
// (current and past), whose intervals are disjoint.
type codeKey struct {
	bits  uint64
	level uint8
	id    string
	from  int64 // fromKey(ValidFrom)
}

// fromKey maps a ValidFrom to an int64 in the same order: a zero time
// (always existed) first, then Unix nanoseconds (Prepare keeps times in
// the years 1678–2261, where those fit).
func fromKey(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func keyOf(f *Feature) codeKey {
	return codeKey{bits: f.Code.Bits(), level: uint8(f.Code.Level()), id: f.ID, from: fromKey(f.ValidFrom)}
}

func lessKey(a, b codeKey) bool {
	if a.bits != b.bits {
		return a.bits < b.bits
	}
	if a.level != b.level {
		return a.level < b.level
	}
	if a.id != b.id {
		return a.id < b.id
	}
	return a.from < b.from
}

type codeEntry struct {
	key codeKey
	f   *Feature
}

// Layer is one layer's in-memory indexes: an R-tree over bounding boxes
// and a B-tree in grid-code order, both over every version (current and
// past), a map of current versions by id and one of past versions by id.
// Features held by a layer are never modified; a write replaces them.
type Layer struct {
	name  string
	mu    sync.RWMutex
	tree  rtree.RTreeG[*Feature]
	codes *btree.BTreeG[codeEntry]
	byID  map[string]*Feature
	// past holds each id's past versions in ValidFrom order.
	past map[string][]*Feature
}

func newLayer(name string) *Layer {
	return &Layer{
		name:  name,
		codes: btree.NewBTreeGOptions(func(a, b codeEntry) bool { return lessKey(a.key, b.key) }, btree.Options{NoLocks: true}),
		byID:  map[string]*Feature{},
		past:  map[string][]*Feature{},
	}
}

// Name returns the layer's name.
func (l *Layer) Name() string { return l.name }

// Len returns the number of features with a current version (those whose
// interval has run out included; past versions are not counted).
func (l *Layer) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.byID)
}

// Bound returns the union of the bounding boxes of every version.
func (l *Layer) Bound() orb.Bound {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.tree.Len() == 0 {
		return orb.Bound{}
	}
	min, max := l.tree.Bounds()
	return orb.Bound{Min: min, Max: max}
}

func boxOf(f *Feature) (min, max [2]float64) {
	b := f.Geometry.Bound()
	return b.Min, b.Max
}

// addEntry puts a version into the R-tree and the B-tree. The caller holds
// l.mu.
func (l *Layer) addEntry(f *Feature) {
	min, max := boxOf(f)
	l.tree.Insert(min, max, f)
	l.codes.Set(codeEntry{key: keyOf(f), f: f})
}

// dropEntry takes a version out of the R-tree and the B-tree. The caller
// holds l.mu.
func (l *Layer) dropEntry(f *Feature) {
	min, max := boxOf(f)
	l.tree.Delete(min, max, f)
	if e, ok := l.codes.Get(codeEntry{key: keyOf(f)}); ok && e.f == f {
		l.codes.Delete(e)
	}
}

// put inserts or replaces the current version f, returning the version it
// replaced, if any (which is dropped, not kept as a past version). The
// caller holds l.mu.
func (l *Layer) put(f *Feature) *Feature {
	old := l.byID[f.ID]
	if old != nil {
		l.dropEntry(old)
	}
	l.addEntry(f)
	l.byID[f.ID] = f
	return old
}

// putPast inserts or replaces (by ValidFrom) a past version. The caller
// holds l.mu.
func (l *Layer) putPast(f *Feature) {
	vs := l.past[f.ID]
	k := fromKey(f.ValidFrom)
	i := sort.Search(len(vs), func(i int) bool { return fromKey(vs[i].ValidFrom) >= k })
	if i < len(vs) && fromKey(vs[i].ValidFrom) == k {
		l.dropEntry(vs[i])
		vs[i] = f
	} else {
		vs = slices.Insert(vs, i, f)
	}
	l.past[f.ID] = vs
	l.addEntry(f)
}

// end removes the current version of id, if any, and returns it. The
// caller holds l.mu.
func (l *Layer) end(id string) *Feature {
	old := l.byID[id]
	if old != nil {
		l.dropEntry(old)
		delete(l.byID, id)
	}
	return old
}

// latest returns the current version of id, or else its latest past
// version (nil when it has none). The caller holds l.mu.
func (l *Layer) latest(id string) *Feature {
	if f := l.byID[id]; f != nil {
		return f
	}
	if vs := l.past[id]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return nil
}

// remove purges every version of id, returning its latest (nil when
// absent). The caller holds l.mu.
func (l *Layer) remove(id string) *Feature {
	last := l.latest(id)
	if last == nil {
		return nil
	}
	l.end(id)
	for _, f := range l.past[id] {
		l.dropEntry(f)
	}
	delete(l.past, id)
	return last
}

// Index holds every layer in memory. It is safe for concurrent use: many
// readers, writers serialised per layer.
type Index struct {
	mu     sync.RWMutex
	layers map[string]*Layer
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{layers: map[string]*Layer{}} }

// Layer returns a layer by name.
func (ix *Index) Layer(name string) (*Layer, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	l, ok := ix.layers[name]
	return l, ok
}

func (ix *Index) layerFor(name string) *Layer {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	l, ok := ix.layers[name]
	if !ok {
		l = newLayer(name)
		ix.layers[name] = l
	}
	return l
}

// Layers returns the layers that have current versions, by name, with
// their counts of current versions and the bounds of all their versions
// (past ones included, so that a map of any time fits).
func (ix *Index) Layers() []LayerInfo {
	ix.mu.RLock()
	ls := make([]*Layer, 0, len(ix.layers))
	for _, l := range ix.layers {
		ls = append(ls, l)
	}
	ix.mu.RUnlock()
	out := make([]LayerInfo, 0, len(ls))
	for _, l := range ls {
		if n := l.Len(); n > 0 {
			out = append(out, LayerInfo{Name: l.name, Count: n, Bound: l.Bound()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns a feature by layer and id: its current version, or, for a
// feature that has ended, its latest past version. The feature must not
// be modified.
func (ix *Index) Get(layer, id string) (*Feature, bool) {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	f := l.latest(id)
	return f, f != nil
}

// currentAndLast returns a feature's current version and its latest past
// version (either nil when absent).
func (ix *Index) currentAndLast(layer, id string) (cur, last *Feature) {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil, nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if vs := l.past[id]; len(vs) > 0 {
		last = vs[len(vs)-1]
	}
	return l.byID[id], last
}

// GetAt returns the version of a feature that was valid at t (the zero
// time: the version without an end, as queries read "now"). The feature
// must not be modified.
func (ix *Index) GetAt(layer, id string, t time.Time) (*Feature, bool) {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if f := l.byID[id]; f != nil && f.AliveAt(t) {
		return f, true
	}
	vs := l.past[id]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].AliveAt(t) {
			return vs[i], true
		}
	}
	return nil, false
}

// Versions returns every version of a feature, past and current, in
// ValidFrom order (nil when there is none). The features must not be
// modified.
func (ix *Index) Versions(layer, id string) []*Feature {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := slices.Clone(l.past[id])
	if f := l.byID[id]; f != nil {
		out = append(out, f)
	}
	return out
}

// Apply puts features (already Prepared and versioned) into the index as
// current versions and returns the changes it made, in order. A replaced
// current version is dropped, not kept as a past one: the Kernel, which
// decides what becomes history, uses ApplyVersions. The index keeps the pointers: the
// caller must not modify the features afterwards.
func (ix *Index) Apply(features []*Feature) []Change {
	changes := make([]Change, 0, len(features))
	// Large batches go in in grid-code (Z) order: neighbouring inserts
	// touch the same R-tree and B-tree nodes, which loads 1 M buildings
	// markedly faster. Changes are still reported in the caller's order.
	// A batch naming one feature twice keeps the caller's order, so the
	// last write wins.
	order := features
	if len(features) > 256 && !hasDuplicates(features) {
		order = append([]*Feature(nil), features...)
		sort.Slice(order, func(i, j int) bool { return lessKey(keyOf(order[i]), keyOf(order[j])) })
	}
	replaced := make(map[*Feature]*Feature)
	for _, f := range order {
		l := ix.layerFor(f.Layer)
		l.mu.Lock()
		if old := l.put(f); old != nil {
			replaced[f] = old
		}
		l.mu.Unlock()
	}
	for _, f := range features {
		c := Change{Kind: Insert, Layer: f.Layer, ID: f.ID, Version: f.Version, New: f.Geometry.Bound()}
		if old := replaced[f]; old != nil {
			c.Kind, c.Old = Update, old.Geometry.Bound()
		}
		changes = append(changes, c)
	}
	return changes
}

// hasDuplicates reports whether a batch names a feature more than once.
func hasDuplicates(features []*Feature) bool {
	type lid struct{ layer, id string }
	seen := make(map[lid]struct{}, len(features))
	for _, f := range features {
		k := lid{f.Layer, f.ID}
		if _, dup := seen[k]; dup {
			return true
		}
		seen[k] = struct{}{}
	}
	return false
}

// ApplyPast puts past versions (already Prepared) into the index,
// replacing any of the same layer, id and ValidFrom. The index keeps the
// pointers.
func (ix *Index) ApplyPast(features []*Feature) {
	for _, f := range features {
		l := ix.layerFor(f.Layer)
		l.mu.Lock()
		l.putPast(f)
		l.mu.Unlock()
	}
}

// ApplyVersions applies one write of current and past versions as a
// Store applies it (Ended, then Past, then Current), each layer's part
// under one lock, so that a reader never sees a version both as it was and
// as it was archived. The index keeps the pointers.
func (ix *Index) ApplyVersions(v Versions) {
	type part struct {
		current, past []*Feature
		ended         []string
	}
	parts := map[string]*part{}
	var order []string
	get := func(layer string) *part {
		p := parts[layer]
		if p == nil {
			p = &part{}
			parts[layer] = p
			order = append(order, layer)
		}
		return p
	}
	for _, r := range v.Ended {
		get(r.Layer).ended = append(get(r.Layer).ended, r.ID)
	}
	for _, f := range v.Past {
		get(f.Layer).past = append(get(f.Layer).past, f)
	}
	for _, f := range v.Current {
		get(f.Layer).current = append(get(f.Layer).current, f)
	}
	for _, name := range order {
		p := parts[name]
		cur := p.current
		if len(cur) > 256 && !hasDuplicates(cur) {
			// Z order, as in Apply.
			cur = slices.Clone(cur)
			sort.Slice(cur, func(i, j int) bool { return lessKey(keyOf(cur[i]), keyOf(cur[j])) })
		}
		l := ix.layerFor(name)
		l.mu.Lock()
		for _, id := range p.ended {
			l.end(id)
		}
		// Replaced current versions leave first: an archived copy of one
		// has the same B-tree key.
		for _, f := range cur {
			l.end(f.ID)
		}
		for _, f := range p.past {
			l.putPast(f)
		}
		for _, f := range cur {
			l.put(f)
		}
		l.mu.Unlock()
	}
}

// Remove purges features by id, their current and past versions alike,
// and returns the changes made (absent ids make none; Old is the bound of
// the latest version). Each change carries the version given.
func (ix *Index) Remove(layer string, ids []string, version uint64) []Change {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil
	}
	var changes []Change
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		if old := l.remove(id); old != nil {
			changes = append(changes, Change{Kind: Delete, Layer: layer, ID: id, Version: version, Old: old.Geometry.Bound()})
		}
	}
	return changes
}

// checkLayer returns a layer or an error wrapping ErrNotFound.
func (ix *Index) checkLayer(name string) (*Layer, error) {
	l, ok := ix.Layer(name)
	if !ok {
		return nil, fmt.Errorf("spatial: layer %q: %w", name, ErrNotFound)
	}
	return l, nil
}

// cellAncestors calls fn, in grid-code order, for features whose grid code
// is a strict ancestor of cell and whose bounding box meets the cell's:
// features larger than the cell that may overlap it. It finds them through
// the R-tree rather than by walking the ancestor cells' code ranges, which
// would visit every feature straddling any of the ancestors' dividing
// lines. The caller holds l.mu for reading.
func (l *Layer) cellAncestors(cell gridcode.Code, fn func(*Feature) bool) bool {
	if cell.Level() == 0 {
		return true
	}
	cb := cellBox(cell)
	var found []*Feature
	l.tree.Search(cb.Min, cb.Max, func(_, _ [2]float64, f *Feature) bool {
		if f.Code.Level() < cell.Level() && f.Code.Contains(cell) {
			found = append(found, f)
		}
		return true
	})
	sort.Slice(found, func(i, j int) bool { return lessKey(keyOf(found[i]), keyOf(found[j])) })
	for _, f := range found {
		if !fn(f) {
			return false
		}
	}
	return true
}

// cellDescendants calls fn for features whose grid code is cell or lies
// inside it, in grid-code order, starting after key from when given.
func (l *Layer) cellDescendants(cell gridcode.Code, from *codeKey, fn func(*Feature) bool) {
	first, last := cell.Range()
	start := codeEntry{key: codeKey{bits: first, level: uint8(cell.Level()), from: math.MinInt64}}
	if from != nil && lessKey(start.key, *from) {
		start.key = *from
	}
	l.codes.Ascend(start, func(e codeEntry) bool {
		if e.key.bits > last {
			return false
		}
		if from != nil && !lessKey(*from, e.key) {
			return true
		}
		if int(e.key.level) < cell.Level() {
			return true
		}
		return fn(e.f)
	})
}
