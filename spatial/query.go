package spatial

import (
	"container/heap"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// Query limits.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// ErrQuery reports a malformed query (bad filter, cursor or limit).
var ErrQuery = errors.New("bad query")

// Query selects features of one layer. All conditions must hold.
type Query struct {
	// Bound keeps features whose geometry intersects the box.
	Bound *orb.Bound
	// BoundByBox makes Bound test bounding boxes only, skipping the exact
	// test: for callers that clip geometry themselves (tile rendering).
	BoundByBox bool
	// Intersects keeps features whose geometry intersects this geometry.
	Intersects orb.Geometry
	// Within keeps features lying wholly inside this (areal) geometry.
	Within orb.Geometry
	// Cell keeps features in a GeoSOT cell: those whose code is the cell
	// or a descendant, and larger features (an ancestor code) whose
	// geometry intersects the cell.
	Cell *gridcode.Code
	// Time keeps the versions of features that were valid at that instant,
	// current or past; zero means now: the versions without an end.
	Time time.Time
	// AllTimes keeps every version of every feature, past ones included,
	// regardless of validity (Time ignored).
	AllTimes bool
	// Filters are property conditions.
	Filters []Filter
	// Limit is the page size (default DefaultLimit, at most MaxLimit).
	Limit int
	// Cursor continues after the last feature of a previous page.
	Cursor string
}

// Page is one page of results in grid-code order.
type Page struct {
	Features []*Feature
	// Next is the cursor for the following page, empty on the last page.
	Next string
}

// Filter is a property condition such as use=residential or height>=30.
type Filter struct {
	Key   string
	Op    string // one of = != < <= > >=
	Value string
}

// ParseFilter reads "key=value", "key!=value", "key<value", "key<=value",
// "key>value" or "key>=value".
func ParseFilter(s string) (Filter, error) {
	for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if i := strings.Index(s, op); i > 0 {
			return Filter{Key: s[:i], Op: op, Value: s[i+len(op):]}, nil
		}
	}
	return Filter{}, fmt.Errorf("%w: filter %q: want key=value, key!=value, key<value, key<=value, key>value or key>=value", ErrQuery, s)
}

// ParseBBox reads a bounding box "west,south,east,north" in degrees, as
// the HTTP APIs take it (?bbox=). Errors wrap ErrQuery.
func ParseBBox(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, fmt.Errorf("%w: bbox %q: want west,south,east,north", ErrQuery, s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return orb.Bound{}, fmt.Errorf("%w: bbox %q: %q is not a number", ErrQuery, s, p)
		}
		v[i] = f
	}
	b := orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}
	if !(v[0] <= v[2] && v[1] <= v[3]) || CheckGeometry(b) != nil {
		return orb.Bound{}, fmt.Errorf("%w: bbox %q: want west ≤ east and south ≤ north in degrees", ErrQuery, s)
	}
	return b, nil
}

// value returns the feature's value for a filter key: "id", "height" and
// "floors" name the typed fields, anything else a property.
func (f *Feature) value(key string) (any, bool) {
	switch key {
	case "id":
		return f.ID, true
	case "height":
		return f.Height, true
	case "floors":
		return float64(f.Floors), true
	}
	v, ok := f.Properties[key]
	return v, ok
}

// Match reports whether the feature satisfies the filter. Numbers compare
// numerically when both sides are numbers, otherwise as strings.
func (flt Filter) Match(f *Feature) bool {
	v, ok := f.value(flt.Key)
	return flt.MatchValue(v, ok)
}

// MatchValue applies the filter to a value found (ok) or not under its key,
// by Match's rules: a missing or null value satisfies only !=; numbers
// compare numerically when both sides are numbers, anything else as
// strings. Other property holders (live objects' state, fences) use it so
// a filter means the same everywhere.
func (flt Filter) MatchValue(v any, ok bool) bool {
	if !ok || v == nil {
		return flt.Op == "!="
	}
	var cmp int
	want, werr := strconv.ParseFloat(flt.Value, 64)
	if n, isNum := toFloat(v); isNum && werr == nil {
		switch {
		case n < want:
			cmp = -1
		case n > want:
			cmp = 1
		}
	} else if s, isStr := v.(string); isStr {
		cmp = strings.Compare(s, flt.Value)
	} else {
		cmp = strings.Compare(fmt.Sprint(v), flt.Value)
	}
	switch flt.Op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		return 0, false
	case string:
		n, err := strconv.ParseFloat(x, 64)
		return n, err == nil
	}
	return 0, false
}

// cursorVersioned marks, in the level byte of a cursor, that the key's
// ValidFrom follows (cursors of servers that kept no history lack it).
const cursorVersioned = 0x80

// EncodeCursor returns an opaque cursor positioned after f: its grid code,
// ValidFrom (which tells apart the versions of one feature) and id.
func EncodeCursor(f *Feature) string {
	k := keyOf(f)
	b := make([]byte, 0, 17+len(k.id))
	b = binary.BigEndian.AppendUint64(b, k.bits)
	b = append(b, k.level|cursorVersioned)
	b = binary.BigEndian.AppendUint64(b, uint64(k.from)^1<<63)
	b = append(b, k.id...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*codeKey, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	bad := fmt.Errorf("%w: cursor %q is not one this server issued", ErrQuery, s)
	if err != nil || len(b) < 9 {
		return nil, bad
	}
	k := codeKey{bits: binary.BigEndian.Uint64(b), level: b[8] &^ cursorVersioned}
	if k.level > gridcode.MaxLevel {
		return nil, bad
	}
	if b[8]&cursorVersioned == 0 {
		// An older cursor names an id only: continue after all its
		// versions.
		k.id, k.from = string(b[9:]), math.MaxInt64
		return &k, nil
	}
	if len(b) < 17 {
		return nil, bad
	}
	k.from = int64(binary.BigEndian.Uint64(b[9:]) ^ 1<<63)
	k.id = string(b[17:])
	return &k, nil
}

// accepts applies the non-spatial conditions and the exact geometry tests.
func (q *Query) accepts(f *Feature, cellBound *orb.Bound) bool {
	if !q.AllTimes && !f.AliveAt(q.Time) {
		return false
	}
	for _, flt := range q.Filters {
		if !flt.Match(f) {
			return false
		}
	}
	if q.Bound != nil && !q.BoundByBox && !Intersects(f.Geometry, *q.Bound) {
		return false
	}
	if q.Intersects != nil && !Intersects(f.Geometry, q.Intersects) {
		return false
	}
	if q.Within != nil && !Within(f.Geometry, q.Within) {
		return false
	}
	if cellBound != nil && !Intersects(f.Geometry, *cellBound) {
		return false
	}
	return true
}

// Search returns one page of the features of a layer matching q, in
// grid-code order; pages are stable under concurrent writes (a feature
// written after a page was served appears in a later page if its key sorts
// after the cursor).
func (ix *Index) Search(layer string, q Query) (Page, error) {
	l, err := ix.checkLayer(layer)
	if err != nil {
		return Page{}, err
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return Page{}, fmt.Errorf("%w: limit %d (want 1–%d)", ErrQuery, limit, MaxLimit)
	}
	from, err := decodeCursor(q.Cursor)
	if err != nil {
		return Page{}, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []*Feature
	collect := func(f *Feature, cellBound *orb.Bound) bool {
		if q.accepts(f, cellBound) {
			out = append(out, f)
		}
		return len(out) <= limit
	}
	switch {
	case q.Cell != nil:
		cellBound := cellBox(*q.Cell)
		more := l.cellAncestors(*q.Cell, func(f *Feature) bool {
			if from != nil && !lessKey(*from, keyOf(f)) {
				return true
			}
			return collect(f, &cellBound)
		})
		if more {
			l.cellDescendants(*q.Cell, from, func(f *Feature) bool { return collect(f, nil) })
		}
	case q.Bound != nil || q.Intersects != nil || q.Within != nil:
		box := spatialBox(q)
		h := &featureHeap{}
		l.tree.Search(box.Min, box.Max, func(_, _ [2]float64, f *Feature) bool {
			k := keyOf(f)
			if from != nil && !lessKey(*from, k) {
				return true
			}
			if h.Len() > limit && !lessKey(k, keyOf((*h)[0])) {
				return true
			}
			if q.accepts(f, nil) {
				heap.Push(h, f)
				if h.Len() > limit+1 {
					heap.Pop(h)
				}
			}
			return true
		})
		out = make([]*Feature, h.Len())
		for i := len(out) - 1; i >= 0; i-- {
			out[i] = heap.Pop(h).(*Feature)
		}
	default:
		start := codeEntry{}
		if from != nil {
			start.key = *from
		}
		l.codes.Ascend(start, func(e codeEntry) bool {
			if from != nil && !lessKey(*from, e.key) {
				return true
			}
			return collect(e.f, nil)
		})
	}
	p := Page{Features: out}
	if len(out) > limit {
		p.Features = out[:limit]
		p.Next = EncodeCursor(out[limit-1])
	}
	return p, nil
}

// cellBox is a grid cell's bounds as an orb.Bound.
func cellBox(c gridcode.Code) orb.Bound {
	b := c.Bounds()
	return orb.Bound{Min: orb.Point{b.West, b.South}, Max: orb.Point{b.East, b.North}}
}

// spatialBox is the smallest box that every spatial condition allows.
func spatialBox(q Query) orb.Bound {
	b := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	for _, g := range []orb.Geometry{boundGeom(q.Bound), q.Intersects, q.Within} {
		if g == nil {
			continue
		}
		gb := g.Bound()
		b.Min = orb.Point{math.Max(b.Min[0], gb.Min[0]), math.Max(b.Min[1], gb.Min[1])}
		b.Max = orb.Point{math.Min(b.Max[0], gb.Max[0]), math.Min(b.Max[1], gb.Max[1])}
	}
	return b
}

func boundGeom(b *orb.Bound) orb.Geometry {
	if b == nil {
		return nil
	}
	return *b
}

// featureHeap is a max-heap by grid-code key, to keep the smallest keys.
type featureHeap []*Feature

func (h featureHeap) Len() int           { return len(h) }
func (h featureHeap) Less(i, j int) bool { return lessKey(keyOf(h[j]), keyOf(h[i])) }
func (h featureHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *featureHeap) Push(x any)        { *h = append(*h, x.(*Feature)) }
func (h *featureHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	*h = old[:len(old)-1]
	return f
}

// Neighbour is a nearest-neighbour result.
type Neighbour struct {
	Feature *Feature
	// Distance is the geodesic distance in metres on the CGCS2000
	// ellipsoid from the query point to the feature (0 inside it).
	Distance float64
}

// Nearest returns the k features of a layer nearest to p, by true distance
// on the ellipsoid, that satisfy q's non-spatial conditions (time and
// filters) and, when set, its spatial ones. Ties are broken by grid-code
// order.
func (ix *Index) Nearest(layer string, p orb.Point, k int, q Query) ([]Neighbour, error) {
	if k <= 0 || k > MaxLimit {
		return nil, fmt.Errorf("%w: k %d (want 1–%d)", ErrQuery, k, MaxLimit)
	}
	if err := checkPoint(p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrQuery, err)
	}
	l, err := ix.checkLayer(layer)
	if err != nil {
		return nil, err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	// Items are queued by the same metric lower bound as nodes, so the
	// geodesic distance (Vincenty) is computed only for items actually
	// dequeued; the walk stops once the next lower bound passes the k-th
	// best exact distance found.
	var out []Neighbour
	l.tree.Nearby(
		func(min, max [2]float64, _ *Feature, _ bool) float64 {
			return boxDistanceLowerBound(p, orb.Bound{Min: min, Max: max})
		},
		func(_, _ [2]float64, f *Feature, lb float64) bool {
			if len(out) >= k && lb > out[k-1].Distance {
				return false
			}
			if !q.accepts(f, nil) {
				return true
			}
			d, _ := DistanceTo(p, f.Geometry)
			i := sort.Search(len(out), func(i int) bool {
				if out[i].Distance != d {
					return out[i].Distance > d
				}
				return lessKey(keyOf(f), keyOf(out[i].Feature))
			})
			out = append(out, Neighbour{})
			copy(out[i+1:], out[i:])
			out[i] = Neighbour{Feature: f, Distance: d}
			if len(out) > k {
				out = out[:k]
			}
			return true
		},
	)
	return out, nil
}

// Count returns how many features of a layer match q (Limit and Cursor are
// ignored).
func (ix *Index) Count(layer string, q Query) (int, error) {
	n := 0
	err := ix.Each(layer, q, func(*Feature) bool { n++; return true })
	return n, err
}

// Each calls fn for every feature of a layer matching q, in no particular
// order, until fn returns false (Limit and Cursor are ignored). It is the
// cheap path for consumers that take everything in an area, such as tile
// rendering, and skips the ordering that pagination needs.
func (ix *Index) Each(layer string, q Query, fn func(*Feature) bool) error {
	l, err := ix.checkLayer(layer)
	if err != nil {
		return err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if q.Cell != nil {
		cellBound := cellBox(*q.Cell)
		more := l.cellAncestors(*q.Cell, func(f *Feature) bool {
			return !q.accepts(f, &cellBound) || fn(f)
		})
		if more {
			l.cellDescendants(*q.Cell, nil, func(f *Feature) bool { return !q.accepts(f, nil) || fn(f) })
		}
		return nil
	}
	box := spatialBox(q)
	l.tree.Search(box.Min, box.Max, func(_, _ [2]float64, f *Feature) bool {
		return !q.accepts(f, nil) || fn(f)
	})
	return nil
}
