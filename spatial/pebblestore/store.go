// Package pebblestore is CityTwin's embedded feature store: a
// spatial.Store on a cockroachdb/pebble LSM tree in a data directory.
//
// Feature records are keyed by layer, grid code and id, so the features of
// a grid cell and all its descendants are one contiguous key range and
// ScanCell is a single bounded range scan. A secondary index maps (layer,
// id) to the record's grid code so a replace or delete finds the old record
// without a scan; four small keys per feature (one per bounding-box edge)
// and a count per layer keep Layers exact and O(layers), whatever the store
// holds. Past versions of features (see spatial's package documentation)
// are records under keys of their own, by layer, id and ValidFrom, outside
// the grid-code range of current ones, so cell scans and layer counts do
// not see them. Every Put, PutVersions and Delete is one pebble batch
// committed with fsync: a nil return means the write is durable and,
// being one batch, atomic (an edit's archived version and its new current
// one, or a purge of a feature with its history, are all or nothing).
// Records carry the CRC-32C of spatial.MarshalFeature and pebble checksums
// every block, so a damaged record is reported as an error wrapping
// spatial.ErrCorrupt, never skipped. See keys.go for the key layout.
package pebblestore

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"citytwin/spatial"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"
)

// ErrClosed is returned by the methods of a Store that has been closed.
var ErrClosed = errors.New("pebblestore: store is closed")

// Store is a spatial.Store in a pebble database. It is safe for concurrent
// use; writes are serialised (each is one fsynced batch), reads run in
// parallel with writes and with each other and see a consistent snapshot.
type Store struct {
	db  *pebble.DB
	dir string

	gate gate

	// writeMu serialises Put and Delete: each reads the index and the
	// layer counts it then rewrites.
	writeMu sync.Mutex
	// commits counts committed write batches (guarded by writeMu); it is
	// persisted under commitsKey() in every batch and in the clean-shutdown
	// marker, so Open can tell a store that lost writes after a clean Close.
	commits uint64
}

// Option configures Open.
type Option func(*config)

type config struct {
	cacheSize    int64
	memTableSize uint64
	tune         []func(*pebble.Options)
}

// WithCacheSize sets the size in bytes of pebble's block cache (default
// 64 MiB).
func WithCacheSize(bytes int64) Option {
	return func(c *config) { c.cacheSize = bytes }
}

// WithMemTableSize sets the size in bytes of each pebble memtable (default
// 32 MiB); larger tables speed bulk loads at the cost of memory.
func WithMemTableSize(bytes uint64) Option {
	return func(c *config) { c.memTableSize = bytes }
}

// WithPebbleOptions lets the caller adjust pebble's options after the
// store has set its own (for example Logger — by default pebble's
// informational messages are dropped — or EventListener). The store relies
// on the default comparer and on the operating system's file system: do
// not replace Comparer or FS.
func WithPebbleOptions(fn func(*pebble.Options)) Option {
	return func(c *config) { c.tune = append(c.tune, fn) }
}

// Open opens the store in dir, creating the directory and an empty store
// if they do not exist. If the store was closed cleanly, Open checks that
// pebble's state is the one Close left (a store that lost writes after a
// clean Close, for example to a damaged MANIFEST, is reported as an error
// wrapping spatial.ErrCorrupt rather than opened).
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{cacheSize: 64 << 20, memTableSize: 32 << 20}
	for _, o := range opts {
		o(&cfg)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pebblestore: open %s: %w", dir, err)
	}
	cache := pebble.NewCache(cfg.cacheSize)
	defer cache.Unref()
	po := &pebble.Options{
		Cache:              cache,
		MemTableSize:       cfg.memTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{},
		Levels:             make([]pebble.LevelOptions, 7),
	}
	for i := range po.Levels {
		l := &po.Levels[i]
		l.FilterPolicy = bloom.FilterPolicy(10)
		l.FilterType = pebble.TableFilter
	}
	for _, fn := range cfg.tune {
		fn(po)
	}
	walDir := dir
	if po.WALDir != "" {
		walDir = po.WALDir
	}
	if err := checkWAL(walDir); err != nil {
		return nil, err
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, dbError("open "+dir, err)
	}
	s := &Store{db: db, dir: dir}
	s.gate.cond.L = &s.gate.mu
	if err := s.start(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return s, nil
}

// start loads the commit counter and checks and removes the clean-shutdown
// marker.
func (s *Store) start() error {
	n, err := s.readCommits()
	if err != nil {
		return err
	}
	s.commits = n
	want, clean, err := readMarker(s.dir)
	if err != nil {
		return err
	}
	if !clean {
		return nil
	}
	if want != n {
		return fmt.Errorf("pebblestore: open %s: %w: the store was closed cleanly after %d write batches but holds %d: pebble lost committed data (damaged MANIFEST or missing table?)", s.dir, spatial.ErrCorrupt, want, n)
	}
	return removeMarker(s.dir)
}

// readCommits returns the persisted commit counter.
func (s *Store) readCommits() (uint64, error) {
	v, closer, err := s.db.Get(commitsKey())
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, dbError("read commit counter", err)
	}
	defer closer.Close()
	n, err := decodeCount(v)
	if err != nil {
		return 0, fmt.Errorf("pebblestore: commit counter: %w: %v", spatial.ErrCorrupt, err)
	}
	return n, nil
}

// Close flushes the memtable to checksummed sstables, writes the
// clean-shutdown marker and closes the database. It waits for running
// calls to finish; it must not be called from inside a Scan callback.
// Calls after the first return ErrClosed.
func (s *Store) Close() error {
	if !s.gate.close() {
		return ErrClosed
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var errs []error
	if err := s.db.Flush(); err != nil {
		errs = append(errs, dbError("close: flush", err))
	} else if err := writeMarker(s.dir, s.commits); err != nil {
		errs = append(errs, err)
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, dbError("close", err))
	}
	return errors.Join(errs...)
}

// Flush writes the memtable to sstables. Writes are durable without it
// (they are in the fsynced WAL); it exists for tests and tools.
func (s *Store) Flush() error {
	if err := s.gate.enter(); err != nil {
		return err
	}
	defer s.gate.leave()
	if err := s.db.Flush(); err != nil {
		return dbError("flush", err)
	}
	return nil
}

// Dir returns the store's data directory.
func (s *Store) Dir() string { return s.dir }

// dbError wraps an error from pebble with the operation, marking pebble's
// corruption errors as spatial.ErrCorrupt too.
func dbError(op string, err error) error {
	return fmt.Errorf("pebblestore: %s: %w", op, markCorrupt(err))
}

// markCorrupt makes a pebble corruption error (a block checksum mismatch,
// a malformed table or log) wrap spatial.ErrCorrupt as well.
func markCorrupt(err error) error {
	if pebble.IsCorruptionError(err) && !errors.Is(err, spatial.ErrCorrupt) {
		return fmt.Errorf("%w: %w", spatial.ErrCorrupt, err)
	}
	return err
}

// quietLogger drops pebble's informational messages (it logs every WAL
// replay) and keeps its fatal ones, which end the process.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}

func (quietLogger) Fatalf(format string, args ...any) { pebble.DefaultLogger.Fatalf(format, args...) }

// gate tracks running calls so Close can wait for them, and refuses new
// calls once Close has begun (returning ErrClosed rather than blocking, so
// a call made from inside a Scan callback during Close cannot deadlock).
type gate struct {
	mu     sync.Mutex
	cond   sync.Cond
	active int
	closed bool
}

func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return ErrClosed
	}
	g.active++
	return nil
}

func (g *gate) leave() {
	g.mu.Lock()
	g.active--
	if g.active == 0 {
		g.cond.Broadcast()
	}
	g.mu.Unlock()
}

// close marks the gate closed and waits for running calls; it reports
// false if the gate was already closed.
func (g *gate) close() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.closed = true
	for g.active > 0 {
		g.cond.Wait()
	}
	return true
}

var _ spatial.Store = (*Store)(nil)
