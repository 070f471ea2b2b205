// Package pebblelog is the live twin's embedded history: a live.Log in a
// cockroachdb/pebble database of its own (beside the feature store, so the
// high write rate of live updates never competes with feature compactions).
//
// One key per update: 'h', the object id, 0x00, and the source time as a
// big-endian unsigned 64-bit count of microseconds. An object's history is
// one contiguous range in time order; the same id and time written twice is
// one key (replays are idempotent). Ids never contain control characters
// (live.Object.Prepare), so 0x00 ends an id unambiguously and ids sort as
// strings.
//
// Durability: Append commits one batch with fsync and returns after it;
// concurrent Appends share fsyncs through pebble's commit pipeline (group
// commit). An acknowledged update survives a process kill and, with a disk
// that honours fsync, a power loss.
package pebblelog

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"citytwin/twin/live"

	"github.com/cockroachdb/pebble"
)

const tagHistory = 'h'

// Log is a live.Log in a pebble database. It is safe for concurrent use.
type Log struct {
	db  *pebble.DB
	dir string

	// snapshot: a latest-state snapshot was found at Open and nothing has
	// been appended since (see snapshot.go); snapMu guards it.
	snapMu   sync.Mutex
	snapshot bool

	mu     sync.RWMutex // held for reading by every call, for writing by Close
	closed bool
}

// Open opens (or creates) the log in dir.
func Open(dir string) (*Log, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pebblelog: open %s: %w", dir, err)
	}
	cache := pebble.NewCache(32 << 20)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:              cache,
		MemTableSize:       64 << 20,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{},
	})
	if err != nil {
		return nil, fmt.Errorf("pebblelog: open %s: %w", dir, err)
	}
	_, err = os.Stat(filepath.Join(dir, snapshotName))
	return &Log{db: db, dir: dir, snapshot: err == nil}, nil
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)      {}
func (quietLogger) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, "pebblelog: "+f+"\n", a...) }
func (quietLogger) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }

var errClosed = errors.New("pebblelog: log is closed")

func (l *Log) enter() error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return errClosed
	}
	return nil
}

// key returns the history key of an object at a time.
func key(dst []byte, id string, t int64) []byte {
	dst = append(dst, tagHistory)
	dst = append(dst, id...)
	dst = append(dst, 0)
	return binary.BigEndian.AppendUint64(dst, uint64(t))
}

// idEnd is the first key after every key of the id.
func idEnd(id string) []byte {
	k := append([]byte{tagHistory}, id...)
	return append(k, 1)
}

// splitKey returns the id and time of a history key.
func splitKey(k []byte) (string, int64, bool) {
	if len(k) < 10 || k[0] != tagHistory || k[len(k)-9] != 0 {
		return "", 0, false
	}
	return string(k[1 : len(k)-9]), int64(binary.BigEndian.Uint64(k[len(k)-8:])), true
}

// Append implements live.Log: one fsynced batch.
func (l *Log) Append(ctx context.Context, objs []*live.Object) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := l.invalidateSnapshot(); err != nil {
		return err
	}
	b := l.db.NewBatch()
	defer b.Close()
	var k, v []byte
	for _, o := range objs {
		if o.Time < 0 {
			return fmt.Errorf("pebblelog: object %q: negative time", o.ID)
		}
		k = key(k[:0], o.ID, o.Time)
		v = o.AppendRecord(v[:0])
		if err := b.Set(k, v, nil); err != nil {
			return fmt.Errorf("pebblelog: append: %w", err)
		}
	}
	if err := l.db.Apply(b, pebble.Sync); err != nil {
		return fmt.Errorf("pebblelog: append %d updates: %w", len(objs), err)
	}
	return nil
}

// eachID visits the first key of every object in id order; visit positions
// the iterator as it likes and returns the key to continue from.
func (l *Log) eachID(ctx context.Context, visit func(it *pebble.Iterator, id string) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tagHistory}, UpperBound: []byte{tagHistory + 1}})
	if err != nil {
		return fmt.Errorf("pebblelog: %w", err)
	}
	defer it.Close()
	n := 0
	for ok := it.First(); ok; {
		if n++; n%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		id, _, good := splitKey(it.Key())
		if !good {
			return fmt.Errorf("pebblelog: %w: malformed key %q", live.ErrCorrupt, it.Key())
		}
		if err := visit(it, id); err != nil {
			return err
		}
		ok = it.SeekGE(idEnd(id))
	}
	return it.Error()
}

// decode decodes the record under the iterator.
func decode(it *pebble.Iterator) (*live.Object, error) {
	id, t, ok := splitKey(it.Key())
	if !ok {
		return nil, fmt.Errorf("pebblelog: %w: malformed key %q", live.ErrCorrupt, it.Key())
	}
	o, err := live.DecodeRecord(id, it.Value())
	if err != nil {
		return nil, fmt.Errorf("pebblelog: %w", err)
	}
	if o.Time != t {
		return nil, fmt.Errorf("pebblelog: %w: object %q: record time %d under key time %d", live.ErrCorrupt, id, o.Time, t)
	}
	return o, nil
}

// invalidateSnapshot removes the snapshot before the first append.
func (l *Log) invalidateSnapshot() error {
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	if !l.snapshot {
		return nil
	}
	if err := l.dropSnapshot(); err != nil {
		return err
	}
	l.snapshot = false
	return nil
}

// Latest implements live.Log; after a clean shutdown it reads the snapshot
// the twin saved instead of scanning.
func (l *Log) Latest(ctx context.Context, fn func(*live.Object) error) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	l.snapMu.Lock()
	snap := l.snapshot
	l.snapMu.Unlock()
	if snap {
		if ok, err := readSnapshot(filepath.Join(l.dir, snapshotName), fn); ok || err != nil {
			return err
		}
	}
	return l.eachID(ctx, func(it *pebble.Iterator, id string) error {
		if !it.SeekLT(idEnd(id)) {
			return fmt.Errorf("pebblelog: lost position after %q", id)
		}
		o, err := decode(it)
		if err != nil {
			return err
		}
		return fn(o)
	})
}

// AsOf implements live.Log: one seek per object.
func (l *Log) AsOf(ctx context.Context, at, window int64, fn func(*live.Object) error) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if at < 0 {
		return nil
	}
	var k []byte
	return l.eachID(ctx, func(it *pebble.Iterator, id string) error {
		k = key(k[:0], id, at)
		// The newest key ≤ at: seek to the first key > at, step back.
		if !it.SeekGE(append(k, 0)) {
			it.Last()
		} else {
			it.Prev()
		}
		if !it.Valid() {
			return it.Error()
		}
		kid, t, ok := splitKey(it.Key())
		if !ok || kid != id || t <= at-window {
			return nil
		}
		o, err := decode(it)
		if err != nil {
			return err
		}
		return fn(o)
	})
}

// History implements live.Log.
func (l *Log) History(ctx context.Context, id string, from, to int64, limit int) ([]*live.Object, error) {
	if err := l.enter(); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	if to < 0 || to < from {
		return nil, nil
	}
	from = max(from, 0)
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: key(nil, id, from), UpperBound: append(key(nil, id, to), 0)})
	if err != nil {
		return nil, fmt.Errorf("pebblelog: %w", err)
	}
	defer it.Close()
	var out []*live.Object
	for ok := it.First(); ok && len(out) < limit; ok = it.Next() {
		o, err := decode(it)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	if err := it.Error(); err != nil {
		return nil, fmt.Errorf("pebblelog: history of %q: %w", id, err)
	}
	return out, ctx.Err()
}

// Prune deletes every update older than before, except each object's
// newest one (its current state, or its tombstone), and returns how many
// objects it pruned. Deletion is by range tombstones, one per object.
func (l *Log) Prune(ctx context.Context, before int64) (int, error) {
	if err := l.enter(); err != nil {
		return 0, err
	}
	defer l.mu.RUnlock()
	b := l.db.NewBatch()
	defer b.Close()
	n := 0
	err := l.eachID(ctx, func(it *pebble.Iterator, id string) error {
		first := append([]byte(nil), it.Key()...)
		if !it.SeekLT(idEnd(id)) {
			return fmt.Errorf("pebblelog: lost position after %q", id)
		}
		last := it.Key()
		end := key(nil, id, max(before, 0))
		if bytes.Compare(last, end) < 0 {
			end = append(end[:0], last...)
		}
		if bytes.Compare(first, end) < 0 {
			n++
			return b.DeleteRange(first, end, nil)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := l.db.Apply(b, pebble.Sync); err != nil {
		return 0, fmt.Errorf("pebblelog: prune: %w", err)
	}
	return n, nil
}

// Close closes the database after running calls finish.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	l.closed = true
	return l.db.Close()
}
