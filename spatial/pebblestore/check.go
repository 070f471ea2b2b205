package pebblestore

import (
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"

	"citytwin/spatial"

	"github.com/cockroachdb/pebble"
)

// layerTally accumulates what Check finds of one layer. The sums are
// multiset hashes (sums of 64-bit hashes), so the index entries and bound
// keys, which sort differently from the records, can be matched against
// them in one sequential pass with no memory per feature.
type layerTally struct {
	records, indexes, bounds, count uint64
	// recIndex and index sum hash(id, code, bound) over records and over
	// index entries; recBound and bound sum hash(edge, value, id) over the
	// bound keys the records imply and over those present.
	recIndex, index, recBound, bound uint64
}

// Check verifies the store's internal consistency on a snapshot, in one
// sequential pass: every record decodes and lies under the key its layer,
// grid code and id name; the index entries and bound keys are exactly those
// the records imply (compared as multiset hashes); each layer's count is
// its number of records; every past version decodes and lies under the key
// its layer, id and ValidFrom name; no key is of an unknown kind. It reads the whole
// store (a fsck, not a query) and returns the first problem found,
// wrapping spatial.ErrCorrupt.
func (s *Store) Check(ctx context.Context) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if _, err := s.readCommits(); err != nil {
		return err
	}
	seed := maphash.MakeSeed()
	tally := map[string]*layerTally{}
	get := func(layer string) *layerTally {
		t := tally[layer]
		if t == nil {
			t = &layerTally{}
			tally[layer] = t
		}
		return t
	}
	var buf []byte
	err := s.iterate(ctx, "check", &pebble.IterOptions{}, func(it *pebble.Iterator) error {
		seen := 0
		for ok := it.First(); ok; ok = it.Next() {
			if seen++; seen%1024 == 0 {
				if err := ctxErr(ctx); err != nil {
					return err
				}
			}
			k := it.Key()
			if len(k) == 1 && k[0] == tagCommits {
				continue
			}
			if len(k) == 0 {
				return fmt.Errorf("%w: empty key", spatial.ErrCorrupt)
			}
			layer, rest, err := decodeEscaped(k[1:])
			if err != nil {
				return fmt.Errorf("%w: key %x has no valid layer name", spatial.ErrCorrupt, k)
			}
			t := get(layer)
			switch k[0] {
			case tagBound:
				if len(rest) < 9 || rest[0] > edgeNorth {
					return fmt.Errorf("%w: bound key %x", spatial.ErrCorrupt, k)
				}
				t.bounds++
				t.bound += maphash.Bytes(seed, rest)
			case tagIndex:
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				if _, err := decodeIndexValue(v); err != nil {
					return fmt.Errorf("%w: index entry of layer %q id %q (key %x): %v", spatial.ErrCorrupt, layer, rest, k, err)
				}
				t.indexes++
				buf = append(append(buf[:0], rest...), v...)
				t.index += maphash.Bytes(seed, buf)
			case tagMeta:
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				n, err := decodeCount(v)
				if err != nil || n == 0 || len(rest) != 0 {
					return fmt.Errorf("%w: layer %q count key %x value %x", spatial.ErrCorrupt, layer, k, v)
				}
				t.count = n
			case tagPast:
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				if _, err := decodePast(k, v); err != nil {
					return err
				}
			case tagFeature:
				v, err := it.ValueAndErr()
				if err != nil {
					return err
				}
				f, err := decodeRecord(layer, len(k)-len(rest), k, v)
				if err != nil {
					return err
				}
				t.records++
				iv := indexValue{bits: f.Code.Bits(), level: byte(f.Code.Level()), bound: f.Geometry.Bound()}
				buf = append(append(buf[:0], f.ID...), iv.encode()...)
				t.recIndex += maphash.Bytes(seed, buf)
				for _, bk := range boundKeys(layer, f.ID, iv.bound) {
					t.recBound += maphash.Bytes(seed, bk[len(bk)-len(f.ID)-9:])
				}
			default:
				return fmt.Errorf("%w: key %x of unknown kind %q", spatial.ErrCorrupt, k, k[0])
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, l := range slices.Sorted(maps.Keys(tally)) {
		t := tally[l]
		if t.indexes != t.records || t.bounds != 4*t.records || t.count != t.records {
			return fmt.Errorf("pebblestore: check: %w: layer %q has %d records, %d index entries, %d bound keys (want 4 per record) and count %d", spatial.ErrCorrupt, l, t.records, t.indexes, t.bounds, t.count)
		}
		if t.index != t.recIndex {
			return fmt.Errorf("pebblestore: check: %w: layer %q: the index entries do not match the records", spatial.ErrCorrupt, l)
		}
		if t.bound != t.recBound {
			return fmt.Errorf("pebblestore: check: %w: layer %q: the bound keys do not match the records", spatial.ErrCorrupt, l)
		}
	}
	return nil
}
