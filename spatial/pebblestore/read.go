package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/cockroachdb/pebble"
	"github.com/paulmach/orb"
)

// Get returns one feature, or an error wrapping spatial.ErrNotFound. The
// feature is decoded afresh: the caller owns it.
func (s *Store) Get(ctx context.Context, layer, id string) (*spatial.Feature, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pebblestore: get %q/%q: %w", layer, id, err)
	}
	snap := s.db.NewSnapshot()
	defer snap.Close()
	ik := indexKey(layer, id)
	b, closer, err := snap.Get(ik)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("pebblestore: get %q/%q: %w", layer, id, spatial.ErrNotFound)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("get %q/%q: index", layer, id), err)
	}
	iv, err := decodeIndexValue(b)
	closer.Close()
	if err != nil {
		return nil, fmt.Errorf("pebblestore: get %q/%q: %w: index entry (key %x): %v", layer, id, spatial.ErrCorrupt, ik, err)
	}
	prefix := layerPrefix(tagFeature, layer)
	fk := appendFeatureSuffix(bytes.Clone(prefix), iv.bits, iv.level, id)
	rec, closer, err := snap.Get(fk)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("pebblestore: get %q/%q: %w: index entry names key %x, which holds no record", layer, id, spatial.ErrCorrupt, fk)
	}
	if err != nil {
		return nil, dbError(fmt.Sprintf("get %q/%q: record", layer, id), err)
	}
	defer closer.Close()
	f, err := decodeRecord(layer, len(prefix), fk, rec)
	if err != nil {
		return nil, fmt.Errorf("pebblestore: get: %w", err)
	}
	return f, nil
}

// decodeRecord decodes the record stored under feature key k (whose layer
// prefix has length n) and checks that it is the record the key names.
func decodeRecord(layer string, n int, k, v []byte) (*spatial.Feature, error) {
	bits, level, id, ok := splitFeatureKey(k, n)
	if !ok {
		return nil, fmt.Errorf("layer %q key %x: %w: short feature key", layer, k, spatial.ErrCorrupt)
	}
	f, err := spatial.UnmarshalFeature(v)
	if err != nil {
		return nil, fmt.Errorf("layer %q id %q key %x: %w", layer, id, k, err)
	}
	if f.Layer != layer || f.ID != id || f.Code.Bits() != bits || f.Code.Level() != int(level) {
		return nil, fmt.Errorf("layer %q id %q key %x: %w: key holds the record of %q/%q at %s", layer, id, k, spatial.ErrCorrupt, f.Layer, f.ID, f.Code)
	}
	return f, nil
}

// Scan calls fn for every feature of a layer in grid-code order
// (gridcode.Code.Compare, then id), stopping at fn's first error, which it
// returns unwrapped. A record that does not decode stops the scan with an
// error naming its layer, id and key and wrapping spatial.ErrCorrupt.
func (s *Store) Scan(ctx context.Context, layer string, fn func(*spatial.Feature) error) error {
	p := layerPrefix(tagFeature, layer)
	return s.scan(ctx, fmt.Sprintf("scan %q", layer), layer, len(p), p, prefixEnd(p), fn)
}

// ScanCell calls fn for every feature of a layer whose grid code is the
// cell or one of its descendants, in grid-code order: one bounded range
// scan over the cell's keys. Errors are as for Scan.
func (s *Store) ScanCell(ctx context.Context, layer string, cell gridcode.Code, fn func(*spatial.Feature) error) error {
	lower, upper := cellBounds(layer, cell)
	return s.scan(ctx, fmt.Sprintf("scan %q cell %s", layer, cell), layer, len(layerPrefix(tagFeature, layer)), lower, upper, fn)
}

// fnError carries an error returned by a scan callback, which is passed
// back unwrapped.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// scan iterates the feature keys in [lower, upper), checking ctx between
// steps.
func (s *Store) scan(ctx context.Context, op, layer string, n int, lower, upper []byte, fn func(*spatial.Feature) error) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	err := s.iterate(ctx, op, &pebble.IterOptions{LowerBound: lower, UpperBound: upper}, func(it *pebble.Iterator) error {
		var last *spatial.Feature
		for ok := it.First(); ok; ok = it.Next() {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("key %x: %w", it.Key(), err)
			}
			f, err := decodeRecord(layer, n, it.Key(), v)
			if err != nil {
				return err
			}
			if err := fn(f); err != nil {
				return fnError{err}
			}
			last = f
		}
		if err := it.Error(); err != nil && last != nil {
			// Say where the unreadable part begins.
			return fmt.Errorf("after id %q (cell %s): %w", last.ID, last.Code, err)
		}
		return nil
	})
	if fe, ok := err.(fnError); ok {
		return fe.err
	}
	return err
}

// ctxErr is a cheap check for a done context.
func ctxErr(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}

// iterate opens an iterator, runs body, and closes the iterator, reporting
// the iterator's own error too (an I/O or checksum failure ends iteration
// as if the range were exhausted, so it must be checked). Errors other
// than a callback's fnError are wrapped with op, and pebble's corruption
// errors are marked as spatial.ErrCorrupt.
func (s *Store) iterate(ctx context.Context, op string, o *pebble.IterOptions, body func(*pebble.Iterator) error) (err error) {
	defer func() {
		if _, ok := err.(fnError); !ok && err != nil {
			err = dbError(op, err)
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	it, err := s.db.NewIter(o)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := it.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := body(it); err != nil {
		return err
	}
	return it.Error()
}

// Layers lists the non-empty layers in name (byte) order with their exact
// counts and bounds. It reads one count key and four bound keys per layer,
// whatever the layers hold.
func (s *Store) Layers(ctx context.Context) ([]spatial.LayerInfo, error) {
	if err := s.gate.enter(); err != nil {
		return nil, err
	}
	defer s.gate.leave()
	var out []spatial.LayerInfo
	err := s.iterate(ctx, "layers", &pebble.IterOptions{}, func(it *pebble.Iterator) error {
		for ok := it.SeekGE([]byte{tagMeta}); ok && it.Key()[0] == tagMeta; ok = it.Next() {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			k := it.Key()
			name, rest, err := decodeEscaped(k[1:])
			if err != nil || len(rest) != 0 {
				return fmt.Errorf("%w: layer count key %x: bad name", spatial.ErrCorrupt, k)
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("layer %q count: %w", name, err)
			}
			n, err := decodeCount(v)
			if err != nil {
				return fmt.Errorf("%w: layer %q count: %v", spatial.ErrCorrupt, name, err)
			}
			out = append(out, spatial.LayerInfo{Name: name, Count: int(n)})
		}
		for i := range out {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			b, err := layerBound(it, out[i].Name)
			if err != nil {
				return err
			}
			out[i].Bound = b
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// layerBound reads the first b key of each edge of a non-empty layer.
func layerBound(it *pebble.Iterator, layer string) (orb.Bound, error) {
	p := layerPrefix(tagBound, layer)
	var v [4]float64
	for e := range v {
		seek := append(bytes.Clone(p), byte(e))
		if !it.SeekGE(seek) || !bytes.HasPrefix(it.Key(), seek) {
			if err := it.Error(); err != nil {
				return orb.Bound{}, fmt.Errorf("layer %q bound: %w", layer, err)
			}
			return orb.Bound{}, fmt.Errorf("%w: layer %q has a count but no bound keys for edge %d", spatial.ErrCorrupt, layer, e)
		}
		_, x, ok := edgeValue(it.Key(), len(p))
		if !ok {
			return orb.Bound{}, fmt.Errorf("%w: layer %q bound key %x", spatial.ErrCorrupt, layer, it.Key())
		}
		v[e] = x
	}
	return orb.Bound{Min: orb.Point{v[edgeWest], v[edgeSouth]}, Max: orb.Point{v[edgeEast], v[edgeNorth]}}, nil
}

// Past returns the past versions of a feature in ValidFrom order (none,
// with no error, when it has none). Errors are as for Scan.
func (s *Store) Past(ctx context.Context, layer, id string) ([]*spatial.Feature, error) {
	var out []*spatial.Feature
	p := pastPrefix(layer, id)
	err := s.scanPast(ctx, fmt.Sprintf("past %q/%q", layer, id), p, prefixEnd(p), func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanPast calls fn for every past version in the store, in layer
// (bytewise), id and ValidFrom order, stopping at fn's first error, which
// it returns unwrapped. Errors are otherwise as for Scan.
func (s *Store) ScanPast(ctx context.Context, fn func(*spatial.Feature) error) error {
	return s.scanPast(ctx, "scan past versions", []byte{tagPast}, []byte{tagPast + 1}, fn)
}

// scanPast iterates the past-version keys in [lower, upper).
func (s *Store) scanPast(ctx context.Context, op string, lower, upper []byte, fn func(*spatial.Feature) error) error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	err := s.iterate(ctx, op, &pebble.IterOptions{LowerBound: lower, UpperBound: upper}, func(it *pebble.Iterator) error {
		for ok := it.First(); ok; ok = it.Next() {
			if err := ctxErr(ctx); err != nil {
				return err
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("key %x: %w", it.Key(), err)
			}
			f, err := decodePast(it.Key(), v)
			if err != nil {
				return err
			}
			if err := fn(f); err != nil {
				return fnError{err}
			}
		}
		return nil
	})
	if fe, ok := err.(fnError); ok {
		return fe.err
	}
	return err
}

// decodePast decodes a past version's record and checks that it is the
// one its key names.
func decodePast(k, v []byte) (*spatial.Feature, error) {
	layer, id, from, err := splitPastKey(k)
	if err != nil {
		return nil, fmt.Errorf("%w: past-version key %x: %v", spatial.ErrCorrupt, k, err)
	}
	f, err := spatial.UnmarshalFeature(v)
	if err != nil {
		return nil, fmt.Errorf("past version of layer %q id %q key %x: %w", layer, id, k, err)
	}
	if f.Layer != layer || f.ID != id || fromBytes(f.ValidFrom) != from || f.ValidTo.IsZero() {
		return nil, fmt.Errorf("past version of layer %q id %q key %x: %w: key holds the record of %q/%q valid %s–%s", layer, id, k, spatial.ErrCorrupt, f.Layer, f.ID, f.ValidFrom, f.ValidTo)
	}
	return f, nil
}
