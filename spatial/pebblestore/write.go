package pebblestore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"

	"citytwin/spatial"

	"github.com/cockroachdb/pebble"
)

// prepared is a feature checked and encoded for writing.
type prepared struct {
	layer, id string
	index     indexValue
	record    []byte
}

// prepare checks a feature and encodes it. The feature must have been
// Prepared: its grid code must be the one Prepare computes.
func prepare(i int, f *spatial.Feature) (prepared, error) {
	if f == nil {
		return prepared{}, fmt.Errorf("pebblestore: put: %w: feature %d is nil", spatial.ErrInvalid, i)
	}
	check := *f // Prepare only sets Code, so a shallow copy leaves f alone
	if err := check.Prepare(); err != nil {
		return prepared{}, fmt.Errorf("pebblestore: put: feature %d: %w", i, err)
	}
	if check.Code != f.Code {
		return prepared{}, fmt.Errorf("pebblestore: put: %w: %s/%s: grid code %s does not match its geometry (want %s; call Prepare)", spatial.ErrInvalid, f.Layer, f.ID, f.Code, check.Code)
	}
	rec, err := spatial.MarshalFeature(f)
	if err != nil {
		return prepared{}, fmt.Errorf("pebblestore: put: %w", err)
	}
	return prepared{
		layer:  f.Layer,
		id:     f.ID,
		index:  indexValue{bits: f.Code.Bits(), level: byte(f.Code.Level()), bound: f.Geometry.Bound()},
		record: rec,
	}, nil
}

// Put inserts or replaces features, atomically and durably: all of them
// are in one pebble batch committed with fsync. A replaced feature's old
// record (under its old grid code) is removed in the same batch. If a batch
// names the same layer and id twice, the later feature wins.
func (s *Store) Put(ctx context.Context, features []*spatial.Feature) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: put: %w", err)
	}
	if len(features) == 0 {
		return nil
	}
	entries := make([]prepared, len(features))
	for i, f := range features {
		var err error
		if entries[i], err = prepare(i, f); err != nil {
			return err
		}
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	w := s.newWriter()
	iks := make([][]byte, len(entries))
	for i, e := range entries {
		iks[i] = indexKey(e.layer, e.id)
	}
	if err := w.prefetch(ctx, iks); err != nil {
		return err
	}
	for i, e := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("pebblestore: put: %w", err)
			}
		}
		if err := w.remove(e.layer, e.id); err != nil {
			return fmt.Errorf("pebblestore: put: %w", err)
		}
		w.insert(e)
	}
	return w.commit(ctx, "put")
}

// pastEntry is a past version encoded for writing.
type pastEntry struct {
	key, record []byte
}

// preparePast checks a past version and encodes it.
func preparePast(i int, f *spatial.Feature) (pastEntry, error) {
	e, err := prepare(i, f)
	if err != nil {
		return pastEntry{}, err
	}
	if f.ValidTo.IsZero() {
		return pastEntry{}, fmt.Errorf("pebblestore: put versions: %w: past version %s/%s from %s has no valid-to", spatial.ErrInvalid, f.Layer, f.ID, f.ValidFrom)
	}
	return pastEntry{key: pastKey(f.Layer, f.ID, f.ValidFrom), record: e.record}, nil
}

// PutVersions applies v in one pebble batch committed with fsync: the
// current versions of v.Ended are removed, v.Past are written under their
// past-version keys (replacing any of the same layer, id and ValidFrom),
// and v.Current are inserted or replaced as by Put. Nothing is written if
// any feature is invalid or ctx ends first.
func (s *Store) PutVersions(ctx context.Context, v spatial.Versions) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: put versions: %w", err)
	}
	entries := make([]prepared, len(v.Current))
	for i, f := range v.Current {
		var err error
		if entries[i], err = prepare(i, f); err != nil {
			return err
		}
	}
	past := make([]pastEntry, len(v.Past))
	for i, f := range v.Past {
		var err error
		if past[i], err = preparePast(i, f); err != nil {
			return err
		}
	}
	if len(entries)+len(past)+len(v.Ended) == 0 {
		return nil
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	w := s.newWriter()
	iks := make([][]byte, 0, len(entries)+len(v.Ended))
	for _, r := range v.Ended {
		iks = append(iks, indexKey(r.Layer, r.ID))
	}
	for _, e := range entries {
		iks = append(iks, indexKey(e.layer, e.id))
	}
	if err := w.prefetch(ctx, iks); err != nil {
		return err
	}
	for _, r := range v.Ended {
		if err := w.remove(r.Layer, r.ID); err != nil {
			return fmt.Errorf("pebblestore: put versions: %w", err)
		}
	}
	for _, p := range past {
		w.ops = append(w.ops, op{key: p.key, value: p.record})
	}
	for i, e := range entries {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("pebblestore: put versions: %w", err)
			}
		}
		if err := w.remove(e.layer, e.id); err != nil {
			return fmt.Errorf("pebblestore: put versions: %w", err)
		}
		w.insert(e)
	}
	return w.commit(ctx, "put versions")
}

// Delete removes features by id, their current and past versions alike,
// atomically and durably; ids that do not exist are ignored.
func (s *Store) Delete(ctx context.Context, layer string, ids []string) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: delete: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	w := s.newWriter()
	iks := make([][]byte, len(ids))
	for i, id := range ids {
		iks[i] = indexKey(layer, id)
	}
	if err := w.prefetch(ctx, iks); err != nil {
		return err
	}
	for i, id := range ids {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("pebblestore: delete: %w", err)
			}
		}
		if err := w.remove(layer, id); err != nil {
			return fmt.Errorf("pebblestore: delete: %w", err)
		}
	}
	if err := w.removePast(ctx, layer, ids); err != nil {
		return err
	}
	return w.commit(ctx, "delete")
}

// writer builds one write batch. It remembers the index entries the batch
// has written so a feature written twice in one batch is replaced
// correctly, and the change in each layer's count. Operations are
// collected and handed to pebble in key order at commit: pebble inserts a
// batch into its memtable in batch order, and sorted inserts reuse the
// skiplist position, which roughly halves the cost of a large Put.
type writer struct {
	s   *Store
	ops []op
	// index holds the batch's view of index entries it has touched: nil
	// for a feature it deleted or that is absent.
	index  map[string]*indexValue
	counts map[string]int64
}

// op is one Set (del false) or Delete of a batch.
type op struct {
	key, value []byte
	del        bool
	seq        int
}

func (s *Store) newWriter() *writer {
	return &writer{s: s, index: map[string]*indexValue{}, counts: map[string]int64{}}
}

// prefetch reads the index entries of a batch's features with one
// iterator, seeking in key order, which is much cheaper than a point read
// per feature; it records absent ones as nil.
func (w *writer) prefetch(ctx context.Context, iks [][]byte) error {
	if len(iks) < 8 {
		return nil // point reads in lookup
	}
	sorted := slices.SortedFunc(slices.Values(iks), bytes.Compare)
	sorted = slices.CompactFunc(sorted, bytes.Equal)
	upper := append(bytes.Clone(sorted[len(sorted)-1]), 0)
	return w.s.iterate(ctx, "read index", &pebble.IterOptions{LowerBound: sorted[0], UpperBound: upper}, func(it *pebble.Iterator) error {
		for _, k := range sorted {
			if !it.SeekGE(k) || !bytes.Equal(it.Key(), k) {
				if err := it.Error(); err != nil {
					return err
				}
				w.index[string(k)] = nil
				continue
			}
			b, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			v, err := decodeIndexValue(b)
			if err != nil {
				return fmt.Errorf("%w: index entry (key %x): %v", spatial.ErrCorrupt, k, err)
			}
			w.index[string(k)] = &v
		}
		return nil
	})
}

// lookup returns a feature's current index entry as the batch sees it.
func (w *writer) lookup(layer, id string, ik []byte) (*indexValue, error) {
	if v, ok := w.index[string(ik)]; ok {
		return v, nil
	}
	b, closer, err := w.s.db.Get(ik)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read index of %q/%q: %w", layer, id, markCorrupt(err))
	}
	defer closer.Close()
	v, err := decodeIndexValue(b)
	if err != nil {
		return nil, fmt.Errorf("%w: index entry of layer %q id %q (key %x): %v", spatial.ErrCorrupt, layer, id, ik, err)
	}
	return &v, nil
}

// remove deletes a feature's record, index entry and bound keys if it
// exists.
func (w *writer) remove(layer, id string) error {
	ik := indexKey(layer, id)
	old, err := w.lookup(layer, id, ik)
	if err != nil || old == nil {
		return err
	}
	fk := appendFeatureSuffix(layerPrefix(tagFeature, layer), old.bits, old.level, id)
	w.ops = append(w.ops, op{key: fk, del: true}, op{key: ik, del: true})
	for _, k := range boundKeys(layer, id, old.bound) {
		w.ops = append(w.ops, op{key: k, del: true})
	}
	w.index[string(ik)] = nil
	w.counts[layer]--
	return nil
}

// removePast deletes every past version of the given ids, found with one
// iterator over the layer's past-version keys.
func (w *writer) removePast(ctx context.Context, layer string, ids []string) error {
	lp := layerPrefix(tagPast, layer)
	sorted := slices.Sorted(slices.Values(ids))
	sorted = slices.Compact(sorted)
	return w.s.iterate(ctx, "read past versions", &pebble.IterOptions{LowerBound: lp, UpperBound: prefixEnd(lp)}, func(it *pebble.Iterator) error {
		for _, id := range sorted {
			p := pastPrefix(layer, id)
			for ok := it.SeekGE(p); ok && bytes.HasPrefix(it.Key(), p); ok = it.Next() {
				w.ops = append(w.ops, op{key: bytes.Clone(it.Key()), del: true})
			}
			if err := it.Error(); err != nil {
				return err
			}
		}
		return nil
	})
}

// insert writes a feature that the batch has just removed or that did not
// exist.
func (w *writer) insert(e prepared) {
	ik := indexKey(e.layer, e.id)
	fk := appendFeatureSuffix(layerPrefix(tagFeature, e.layer), e.index.bits, e.index.level, e.id)
	w.ops = append(w.ops, op{key: fk, value: e.record}, op{key: ik, value: e.index.encode()})
	for _, k := range boundKeys(e.layer, e.id, e.index.bound) {
		w.ops = append(w.ops, op{key: k})
	}
	v := e.index
	w.index[string(ik)] = &v
	w.counts[e.layer]++
}

// commit adds the new layer counts and the commit counter, writes the
// operations into a pebble batch in key order (stable, so that of two
// operations on one key the later still wins) and commits it with fsync.
func (w *writer) commit(ctx context.Context, opName string) error {
	if len(w.ops) == 0 {
		return nil
	}
	for _, layer := range slices.Sorted(maps.Keys(w.counts)) {
		d := w.counts[layer]
		if d == 0 {
			continue
		}
		n, err := w.s.count(layer)
		if err != nil {
			return fmt.Errorf("pebblestore: %s: %w", opName, err)
		}
		c := int64(n) + d
		switch {
		case c < 0:
			return fmt.Errorf("pebblestore: %s: %w: layer %q count would become %d", opName, spatial.ErrCorrupt, layer, c)
		case c == 0:
			w.ops = append(w.ops, op{key: metaKey(layer), del: true})
		default:
			w.ops = append(w.ops, op{key: metaKey(layer), value: binary.BigEndian.AppendUint64(nil, uint64(c))})
		}
	}
	w.ops = append(w.ops, op{key: commitsKey(), value: binary.BigEndian.AppendUint64(nil, w.s.commits+1)})
	// Ops on the same key stay in order (slices.SortStableFunc is several
	// times slower than sorting with the position as tie-break).
	for i := range w.ops {
		w.ops[i].seq = i
	}
	slices.SortFunc(w.ops, func(a, b op) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	b := w.s.db.NewBatch()
	defer b.Close()
	for _, o := range w.ops {
		var err error
		if o.del {
			err = b.Delete(o.key, nil)
		} else {
			err = b.Set(o.key, o.value, nil)
		}
		if err != nil {
			return fmt.Errorf("pebblestore: %s: %w", opName, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pebblestore: %s: %w", opName, err)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return dbError(opName+": commit", err)
	}
	w.s.commits++
	return nil
}

// count returns a layer's stored feature count.
func (s *Store) count(layer string) (uint64, error) {
	v, closer, err := s.db.Get(metaKey(layer))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, dbError(fmt.Sprintf("read count of layer %q", layer), err)
	}
	defer closer.Close()
	n, err := decodeCount(v)
	if err != nil {
		return 0, fmt.Errorf("%w: count of layer %q: %v", spatial.ErrCorrupt, layer, err)
	}
	return n, nil
}
