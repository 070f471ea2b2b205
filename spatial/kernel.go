package spatial

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Kernel is the spatial kernel: a durable Store, the in-memory Index that
// answers queries, and the change Feed. Writes go to the store first and
// are applied to the index and published only once durable, so a reader
// never sees what a crash could lose.
type Kernel struct {
	store Store
	index *Index
	feed  Feed

	wmu     sync.Mutex // serialises writes so versions are assigned in commit order
	version uint64     // the newest version assigned (see nextVersion)
	hooks   []func([]Change)
}

// OnCommit registers a function called with every write's changes after
// they are durable and indexed and before the write returns, so that
// derived state (a tile cache) is never stale once a writer has its
// answer. Hooks run under the write lock: they must be quick and must not
// write to the kernel. Register hooks before serving.
func (k *Kernel) OnCommit(fn func([]Change)) {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	k.hooks = append(k.hooks, fn)
}

// commit runs the hooks and publishes the changes. The caller holds wmu.
func (k *Kernel) commit(changes []Change) {
	for _, h := range k.hooks {
		h(changes)
	}
	k.feed.Publish(changes)
}

// NewKernel loads every layer of the store into memory and returns the
// kernel. progress, when set, is called after each layer loads.
func NewKernel(ctx context.Context, store Store, progress func(layer string, n int, took time.Duration)) (*Kernel, error) {
	k := &Kernel{store: store, index: NewIndex()}
	layers, err := store.Layers(ctx)
	if err != nil {
		return nil, fmt.Errorf("spatial: load: %w", err)
	}
	for _, li := range layers {
		start := time.Now()
		n, err := k.loadLayer(ctx, li.Name)
		if err != nil {
			return nil, fmt.Errorf("spatial: load layer %q: %w", li.Name, err)
		}
		if progress != nil {
			progress(li.Name, n, time.Since(start))
		}
	}
	return k, nil
}

// loadLayer scans one layer of the store into the index. Decoding (in the
// store's scan) and indexing overlap: batches go to a second goroutine,
// so loading takes about the longer of the two rather than their sum.
func (k *Kernel) loadLayer(ctx context.Context, layer string) (int, error) {
	batches := make(chan []*Feature, 4)
	applied := make(chan int)
	go func() {
		n := 0
		for b := range batches {
			k.index.Apply(b)
			n += len(b)
		}
		applied <- n
	}()
	batch := make([]*Feature, 0, 4096)
	err := k.store.Scan(ctx, layer, func(f *Feature) error {
		k.version = max(k.version, f.Version)
		batch = append(batch, f)
		if len(batch) == cap(batch) {
			batches <- batch
			batch = make([]*Feature, 0, 4096)
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	n := <-applied
	return n, err
}

// Index returns the in-memory index for queries.
func (k *Kernel) Index() *Index { return k.index }

// Store returns the durable store.
func (k *Kernel) Store() Store { return k.store }

// Subscribe returns a change-feed subscription with a buffer of n changes.
func (k *Kernel) Subscribe(n int) *Subscription { return k.feed.Subscribe(n) }

// nextVersion returns a version greater than every one assigned before,
// across restarts too: the larger of the last version plus one and the
// wall clock in microseconds (below 2^53, so JSON clients read it exactly,
// until the year 2255). A delete leaves no record in the store to
// remember its version by, so a plain counter restored from the stored
// features could hand out a deleted feature's version again after a
// restart; the clock cannot (unless it is set back by more than the
// downtime). The caller holds wmu.
func (k *Kernel) nextVersion() uint64 {
	k.version = max(k.version+1, uint64(time.Now().UnixMicro()))
	return k.version
}

// Version returns the newest version written.
func (k *Kernel) Version() uint64 {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	return k.version
}

// Put validates, versions and durably writes features (copies of those
// given), then indexes and publishes them. The batch is all or nothing: the
// first invalid feature fails it with an error naming the feature.
func (k *Kernel) Put(ctx context.Context, features []*Feature) ([]Change, error) {
	own := make([]*Feature, len(features))
	for i, f := range features {
		c := f.Clone()
		if err := c.Prepare(); err != nil {
			return nil, fmt.Errorf("spatial: put: feature %d: %w", i+1, err)
		}
		own[i] = c
	}
	k.wmu.Lock()
	defer k.wmu.Unlock()
	prev := k.version
	for _, f := range own {
		f.Version = k.nextVersion()
	}
	if err := k.store.Put(ctx, own); err != nil {
		k.version = prev
		return nil, fmt.Errorf("spatial: put: %w", err)
	}
	changes := k.index.Apply(own)
	k.commit(changes)
	return changes, nil
}

// Delete durably removes features by id, then from the index, and
// publishes the deletions.
func (k *Kernel) Delete(ctx context.Context, layer string, ids []string) ([]Change, error) {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if err := k.store.Delete(ctx, layer, ids); err != nil {
		return nil, fmt.Errorf("spatial: delete: %w", err)
	}
	changes := k.index.Remove(layer, ids, k.nextVersion())
	k.commit(changes)
	return changes, nil
}
