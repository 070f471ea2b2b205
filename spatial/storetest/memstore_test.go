package storetest_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"
	"citytwin/spatial/storetest"

	"github.com/paulmach/orb"
)

// disk is what a memStore "persists": encoded records by layer and id,
// and past versions' records by layer, id and ValidFrom.
type disk struct {
	mu     sync.RWMutex
	layers map[string]map[string][]byte
	past   map[spatial.FeatureRef]map[int64][]byte
}

// fromNS orders ValidFrom, a zero time first.
func fromNS(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// memStore is a minimal reference implementation of spatial.Store, used to
// check that the suite asks only what the Store contract promises.
type memStore struct {
	d      *disk
	closed bool
}

func (s *memStore) Put(ctx context.Context, fs []*spatial.Feature) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	recs := make([][]byte, len(fs))
	for i, f := range fs {
		if f == nil {
			return fmt.Errorf("%w: nil feature", spatial.ErrInvalid)
		}
		g := *f
		if err := g.Prepare(); err != nil {
			return err
		}
		var err error
		if recs[i], err = spatial.MarshalFeature(f); err != nil {
			return err
		}
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for i, f := range fs {
		if s.d.layers[f.Layer] == nil {
			s.d.layers[f.Layer] = map[string][]byte{}
		}
		s.d.layers[f.Layer][f.ID] = recs[i]
	}
	return nil
}

func (s *memStore) PutVersions(ctx context.Context, v spatial.Versions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	enc := func(fs []*spatial.Feature, past bool) ([][]byte, error) {
		recs := make([][]byte, len(fs))
		for i, f := range fs {
			if f == nil {
				return nil, fmt.Errorf("%w: nil feature", spatial.ErrInvalid)
			}
			g := *f
			if err := g.Prepare(); err != nil {
				return nil, err
			}
			if past && f.ValidTo.IsZero() {
				return nil, fmt.Errorf("%w: past version without valid-to", spatial.ErrInvalid)
			}
			var err error
			if recs[i], err = spatial.MarshalFeature(f); err != nil {
				return nil, err
			}
		}
		return recs, nil
	}
	cur, err := enc(v.Current, false)
	if err != nil {
		return err
	}
	past, err := enc(v.Past, true)
	if err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for _, r := range v.Ended {
		delete(s.d.layers[r.Layer], r.ID)
		if len(s.d.layers[r.Layer]) == 0 {
			delete(s.d.layers, r.Layer)
		}
	}
	for i, f := range v.Past {
		r := spatial.FeatureRef{Layer: f.Layer, ID: f.ID}
		if s.d.past[r] == nil {
			s.d.past[r] = map[int64][]byte{}
		}
		s.d.past[r][fromNS(f.ValidFrom)] = past[i]
	}
	for i, f := range v.Current {
		if s.d.layers[f.Layer] == nil {
			s.d.layers[f.Layer] = map[string][]byte{}
		}
		s.d.layers[f.Layer][f.ID] = cur[i]
	}
	return nil
}

func (s *memStore) Past(ctx context.Context, layer, id string) ([]*spatial.Feature, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.d.mu.RLock()
	vs := s.d.past[spatial.FeatureRef{Layer: layer, ID: id}]
	var out []*spatial.Feature
	for _, k := range slices.Sorted(maps.Keys(vs)) {
		f, err := spatial.UnmarshalFeature(vs[k])
		if err != nil {
			s.d.mu.RUnlock()
			return nil, err
		}
		out = append(out, f)
	}
	s.d.mu.RUnlock()
	return out, nil
}

func (s *memStore) ScanPast(ctx context.Context, fn func(*spatial.Feature) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.d.mu.RLock()
	refs := slices.SortedFunc(maps.Keys(s.d.past), func(a, b spatial.FeatureRef) int {
		return cmp.Or(cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.ID, b.ID))
	})
	s.d.mu.RUnlock()
	for _, r := range refs {
		vs, err := s.Past(ctx, r.Layer, r.ID)
		if err != nil {
			return err
		}
		for _, f := range vs {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *memStore) Delete(ctx context.Context, layer string, ids []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	for _, id := range ids {
		delete(s.d.layers[layer], id)
		delete(s.d.past, spatial.FeatureRef{Layer: layer, ID: id})
	}
	if len(s.d.layers[layer]) == 0 {
		delete(s.d.layers, layer)
	}
	return nil
}

func (s *memStore) Get(ctx context.Context, layer, id string) (*spatial.Feature, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.d.mu.RLock()
	rec, ok := s.d.layers[layer][id]
	s.d.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%s/%s: %w", layer, id, spatial.ErrNotFound)
	}
	return spatial.UnmarshalFeature(rec)
}

func (s *memStore) all(layer string) ([]*spatial.Feature, error) {
	s.d.mu.RLock()
	recs := slices.Collect(maps.Values(s.d.layers[layer]))
	s.d.mu.RUnlock()
	out := make([]*spatial.Feature, len(recs))
	for i, r := range recs {
		var err error
		if out[i], err = spatial.UnmarshalFeature(r); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b *spatial.Feature) int {
		return cmp.Or(a.Code.Compare(b.Code), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (s *memStore) Layers(ctx context.Context) ([]spatial.LayerInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.d.mu.RLock()
	names := slices.Sorted(maps.Keys(s.d.layers))
	s.d.mu.RUnlock()
	var out []spatial.LayerInfo
	for _, n := range names {
		fs, err := s.all(n)
		if err != nil {
			return nil, err
		}
		if len(fs) == 0 {
			continue
		}
		b := fs[0].Geometry.Bound()
		for _, f := range fs[1:] {
			b = b.Union(f.Geometry.Bound())
		}
		out = append(out, spatial.LayerInfo{Name: n, Count: len(fs), Bound: b})
	}
	return out, nil
}

func (s *memStore) Scan(ctx context.Context, layer string, fn func(*spatial.Feature) error) error {
	return s.ScanCell(ctx, layer, gridcode.Code{}, fn)
}

func (s *memStore) ScanCell(ctx context.Context, layer string, cell gridcode.Code, fn func(*spatial.Feature) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fs, err := s.all(layer)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if cell.Contains(f.Code) {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *memStore) Close() error {
	if s.closed {
		return errors.New("closed twice")
	}
	s.closed = true
	return nil
}

// TestReferenceStore runs the suite against the in-memory reference store.
func TestReferenceStore(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) (spatial.Store, func() (spatial.Store, error)) {
			d := &disk{layers: map[string]map[string][]byte{}, past: map[spatial.FeatureRef]map[int64][]byte{}}
			return &memStore{d: d}, func() (spatial.Store, error) { return &memStore{d: d}, nil }
		},
	})
}

func TestDiff(t *testing.T) {
	f := storetest.DalianFeature(1, "l", 1)
	if d := storetest.Diff(f, f.Clone()); d != "" {
		t.Errorf("Diff of a clone: %s", d)
	}
	g := f.Clone()
	g.Properties["name"] = "other"
	if storetest.Diff(f, g) == "" {
		t.Error("Diff missed a property change")
	}
	g = f.Clone()
	g.Geometry = orb.Point{1, 2}
	if storetest.Diff(f, g) == "" {
		t.Error("Diff missed a geometry change")
	}
	if a, b := storetest.DalianFeature(3, "l", 7), storetest.DalianFeature(3, "l", 7); storetest.Diff(a, b) != "" {
		t.Error("DalianFeature is not deterministic")
	}
}
