package tiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/crc64"
	"sync"

	"citytwin/spatial"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// Key names a cached tile: the layer set, z/x/y, and the "as of" time
// (empty for now).
type Key struct {
	Layers  string // comma-separated layer names
	Z, X, Y int
	AsOf    string
}

// Entry is an encoded tile with its ETag. The gzipped form is made on the
// first request that accepts gzip, then kept.
type Entry struct {
	Data  []byte
	ETag  string
	Stats Stats

	gzOnce sync.Once
	gz     []byte
}

// Gzip returns the tile gzipped, compressing it on first use with a pooled
// writer.
func (e *Entry) Gzip(pool *sync.Pool) []byte {
	e.gzOnce.Do(func() {
		var buf bytes.Buffer
		w, _ := pool.Get().(*gzip.Writer)
		if w == nil {
			w, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		} else {
			w.Reset(&buf)
		}
		_, _ = w.Write(e.Data)
		_ = w.Close()
		pool.Put(w)
		e.gz = buf.Bytes()
	})
	return e.gz
}

// Cache is an LRU cache of encoded tiles, invalidated by the kernel's
// writes (see Attach): a change evicts every cached tile (at any zoom)
// whose buffered bounds meet the changed feature's old or new bounding
// box.
type Cache struct {
	lru *lru.Cache[Key, *Entry]
	// gzipWriters are reused: a new gzip.Writer allocates about 1 MB.
	gzipWriters sync.Pool

	mu    sync.Mutex
	byZXY map[Key]struct{} // the same keys, to scan on invalidation
}

// NewCache returns a cache holding up to size tiles.
func NewCache(size int) (*Cache, error) {
	c := &Cache{byZXY: map[Key]struct{}{}}
	l, err := lru.NewWithEvict(size, func(k Key, _ *Entry) {
		c.mu.Lock()
		delete(c.byZXY, k)
		c.mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	c.lru = l
	return c, nil
}

// Get returns a cached tile.
func (c *Cache) Get(k Key) (*Entry, bool) { return c.lru.Get(k) }

// GzipOf returns an entry's gzipped bytes using the cache's writer pool.
func (c *Cache) GzipOf(e *Entry) []byte { return e.Gzip(&c.gzipWriters) }

// Put caches a tile and returns its entry with the ETag (a CRC-64 of the
// bytes, with the length) set.
func (c *Cache) Put(k Key, data []byte, st Stats) *Entry {
	sum := crc64.Checksum(data, crc64.MakeTable(crc64.ECMA))
	e := &Entry{Data: data, ETag: fmt.Sprintf(`"%016x-%x"`, sum, len(data)), Stats: st}
	c.mu.Lock()
	c.byZXY[k] = struct{}{}
	c.mu.Unlock()
	c.lru.Add(k, e)
	return e
}

// Len returns the number of cached tiles.
func (c *Cache) Len() int { return c.lru.Len() }

// Invalidate evicts the tiles that a change touches.
func (c *Cache) Invalidate(ch spatial.Change) {
	var boxes []orb.Bound
	if ch.Kind != spatial.Insert {
		boxes = append(boxes, ch.Old)
	}
	if ch.Kind != spatial.Delete {
		boxes = append(boxes, ch.New)
	}
	c.mu.Lock()
	var stale []Key
	for k := range c.byZXY {
		tb := maptile.New(uint32(k.X), uint32(k.Y), maptile.Zoom(k.Z)).Bound(float64(Buffer) / Extent)
		for _, b := range boxes {
			if tb.Intersects(b) {
				stale = append(stale, k)
				break
			}
		}
	}
	c.mu.Unlock()
	for _, k := range stale {
		c.lru.Remove(k)
	}
}

// Purge empties the cache.
func (c *Cache) Purge() { c.lru.Purge() }

// InvalidateAll applies a write's changes: each evicts the tiles it
// touches; a write of more than 1,000 changes purges the cache instead of
// testing every cached tile against every change.
func (c *Cache) InvalidateAll(changes []spatial.Change) {
	if len(changes) > 1000 {
		c.Purge()
		return
	}
	for _, ch := range changes {
		c.Invalidate(ch)
	}
}

// Attach keeps the cache in step with a kernel: every write invalidates
// the tiles it touches before the write returns, so an edit shows on the
// next request.
func (c *Cache) Attach(k *spatial.Kernel) { k.OnCommit(c.InvalidateAll) }
