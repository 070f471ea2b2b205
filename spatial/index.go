package spatial

import (
	"fmt"
	"sort"
	"sync"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"
)

// codeKey orders features by grid code, then id: a depth-first walk of the
// GeoSOT quadtree, and the order of stable pagination cursors.
type codeKey struct {
	bits  uint64
	level uint8
	id    string
}

func keyOf(f *Feature) codeKey {
	return codeKey{bits: f.Code.Bits(), level: uint8(f.Code.Level()), id: f.ID}
}

func lessKey(a, b codeKey) bool {
	if a.bits != b.bits {
		return a.bits < b.bits
	}
	if a.level != b.level {
		return a.level < b.level
	}
	return a.id < b.id
}

type codeEntry struct {
	key codeKey
	f   *Feature
}

// Layer is one layer's in-memory indexes: an R-tree over bounding boxes, a
// B-tree in grid-code order and a map by id. Features held by a layer are
// never modified; a write replaces them.
type Layer struct {
	name  string
	mu    sync.RWMutex
	tree  rtree.RTreeG[*Feature]
	codes *btree.BTreeG[codeEntry]
	byID  map[string]*Feature
}

func newLayer(name string) *Layer {
	return &Layer{
		name:  name,
		codes: btree.NewBTreeGOptions(func(a, b codeEntry) bool { return lessKey(a.key, b.key) }, btree.Options{NoLocks: true}),
		byID:  map[string]*Feature{},
	}
}

// Name returns the layer's name.
func (l *Layer) Name() string { return l.name }

// Len returns the number of features, ended ones included.
func (l *Layer) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.byID)
}

// Bound returns the union of the features' bounding boxes.
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

// put inserts or replaces f, returning the feature it replaced, if any.
// The caller holds l.mu.
func (l *Layer) put(f *Feature) *Feature {
	old := l.byID[f.ID]
	if old != nil {
		min, max := boxOf(old)
		l.tree.Delete(min, max, old)
		l.codes.Delete(codeEntry{key: keyOf(old)})
	}
	min, max := boxOf(f)
	l.tree.Insert(min, max, f)
	l.codes.Set(codeEntry{key: keyOf(f), f: f})
	l.byID[f.ID] = f
	return old
}

// remove deletes a feature by id, returning it (nil when absent). The
// caller holds l.mu.
func (l *Layer) remove(id string) *Feature {
	old := l.byID[id]
	if old == nil {
		return nil
	}
	min, max := boxOf(old)
	l.tree.Delete(min, max, old)
	l.codes.Delete(codeEntry{key: keyOf(old)})
	delete(l.byID, id)
	return old
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

// Layers returns the layers with their counts and bounds, by name.
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

// Get returns a feature by layer and id. The feature must not be modified.
func (ix *Index) Get(layer, id string) (*Feature, bool) {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil, false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	f, ok := l.byID[id]
	return f, ok
}

// Apply puts features (already Prepared and versioned) into the index and
// returns the changes it made, in order. The index keeps the pointers: the
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

// Remove deletes features by id and returns the changes made (absent ids
// make none). Each change carries the version given.
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
	start := codeEntry{key: codeKey{bits: first, level: uint8(cell.Level())}}
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
