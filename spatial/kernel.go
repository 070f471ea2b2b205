package spatial

import (
	"bytes"
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

	// now is the clock that dates edits and ends given no time.
	now func() time.Time
}

// clock returns the time that dates an edit or an end given none: now, in
// UTC, truncated to the microsecond (what SQL timestamps hold).
func (k *Kernel) clock() time.Time {
	now := time.Now
	if k.now != nil {
		now = k.now
	}
	return now().UTC().Truncate(time.Microsecond)
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
	if err := k.loadPast(ctx); err != nil {
		return nil, fmt.Errorf("spatial: load past versions: %w", err)
	}
	return k, nil
}

// loadPast scans every past version of the store into the index.
func (k *Kernel) loadPast(ctx context.Context) error {
	batch := make([]*Feature, 0, 4096)
	err := k.store.ScanPast(ctx, func(f *Feature) error {
		k.version = max(k.version, f.Version)
		batch = append(batch, f)
		if len(batch) == cap(batch) {
			k.index.ApplyPast(batch)
			batch = batch[:0]
		}
		return nil
	})
	if err != nil {
		return err
	}
	k.index.ApplyPast(batch)
	return nil
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
//
// A feature whose layer and id already have a version is an edit, which
// keeps history (see the package documentation): with T the new
// feature's ValidFrom, or the kernel's clock if that is zero, and old the
// latest version, if T is after old.ValidFrom then old becomes (or stays)
// a past version ending at T at the latest and the new version is stored
// from T, in the same store write; otherwise the new feature corrects the
// current version in place. Its change is an Update whose Old is the
// latest version's bound; a feature never seen before makes an Insert.
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
	now := k.clock()
	// state follows each feature's versions through the batch.
	type state struct{ cur, last *Feature }
	states := map[FeatureRef]*state{}
	var past []*Feature
	pastAt := map[pastKey]int{}
	addPast := func(f *Feature) {
		pk := pastKey{FeatureRef{f.Layer, f.ID}, fromKey(f.ValidFrom)}
		if i, ok := pastAt[pk]; ok {
			past[i] = f
			return
		}
		pastAt[pk] = len(past)
		past = append(past, f)
	}
	// A feature equal to its current version (same content, no new
	// validity) is not written again: re-running an import adds no history
	// and makes no change.
	kept := own[:0]
	for _, f := range own {
		if !k.unchanged(f) {
			kept = append(kept, f)
		}
	}
	own = kept
	if len(own) == 0 {
		return nil, nil
	}
	changes := make([]Change, len(own))
	prev := k.version
	fail := func(err error) ([]Change, error) {
		k.version = prev
		return nil, err
	}
	for i, f := range own {
		f.Version = k.nextVersion() // before an archived copy is taken
		ref := FeatureRef{f.Layer, f.ID}
		st := states[ref]
		if st == nil {
			st = &state{}
			st.cur, st.last = k.index.currentAndLast(f.Layer, f.ID)
			states[ref] = st
		}
		c := Change{Kind: Insert, Layer: f.Layer, ID: f.ID, Version: f.Version, New: f.Geometry.Bound()}
		latest := st.cur
		if latest == nil {
			latest = st.last
		}
		if latest != nil {
			c.Kind, c.Old = Update, latest.Geometry.Bound()
			t := f.ValidFrom
			if t.IsZero() {
				t = now
			}
			switch {
			case t.After(latest.ValidFrom):
				// An edit: the latest version ends at t at the latest.
				if latest.ValidTo.IsZero() || latest.ValidTo.After(t) {
					arch := *latest
					arch.ValidTo = t
					addPast(&arch)
					st.last = &arch
				} else if latest == st.cur {
					addPast(latest) // it ended before t: history as it is
					st.last = latest
				}
				f.ValidFrom = t
			case st.cur != nil:
				// A correction of the current version, in place; it never
				// reaches back into the history.
				if st.last != nil && f.ValidFrom.Before(st.last.ValidTo) {
					f.ValidFrom = st.last.ValidTo
				}
			default:
				return fail(fmt.Errorf("spatial: put: feature %d: %w: %s/%s ended at %s; a new version must begin after its last one began (%s)",
					i+1, ErrInvalid, f.Layer, f.ID, formatTime(latest.ValidTo), formatTime(latest.ValidFrom)))
			}
			if !f.ValidTo.IsZero() && !f.ValidTo.After(f.ValidFrom) {
				return fail(fmt.Errorf("spatial: put: feature %d: %w: %s/%s: valid-to %s is not after valid-from %s (the edit's time)",
					i+1, ErrInvalid, f.Layer, f.ID, formatTime(f.ValidTo), formatTime(f.ValidFrom)))
			}
		}
		st.cur = f
		changes[i] = c
	}
	var err error
	if len(past) == 0 {
		err = k.store.Put(ctx, own)
	} else {
		err = k.store.PutVersions(ctx, Versions{Current: own, Past: past})
	}
	if err != nil {
		return fail(fmt.Errorf("spatial: put: %w", err))
	}
	k.index.ApplyVersions(Versions{Current: own, Past: past})
	k.commit(changes)
	return changes, nil
}

// unchanged reports whether f (prepared) would write nothing new over its
// current version: the same stored record but for the version, and a
// ValidFrom that is zero or the current one's.
func (k *Kernel) unchanged(f *Feature) bool {
	cur, _ := k.index.currentAndLast(f.Layer, f.ID)
	if cur == nil || !f.ValidTo.Equal(cur.ValidTo) || !f.ValidFrom.IsZero() && !f.ValidFrom.Equal(cur.ValidFrom) {
		return false
	}
	g := *f
	g.Version, g.ValidFrom = cur.Version, cur.ValidFrom
	a, err1 := MarshalFeature(&g)
	b, err2 := MarshalFeature(cur)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// pastKey names one past version.
type pastKey struct {
	ref  FeatureRef
	from int64
}

// formatTime formats a validity bound for messages.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "the beginning"
	}
	return t.Format(time.RFC3339Nano)
}

// End ends features (a soft delete): the current version of each gets
// ValidTo at (the kernel's clock if at is zero; an earlier ValidTo is
// kept) and becomes a past version, durably, in one store write. The
// features stay in queries as of earlier times and in their history, and
// leave "now"; Index.Get returns their last version. Ids without a current
// version make no change. Each change is a Delete.
func (k *Kernel) End(ctx context.Context, layer string, ids []string, at time.Time) ([]Change, error) {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	if at.IsZero() {
		at = k.clock()
	}
	var v Versions
	var changes []Change
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		cur, _ := k.index.currentAndLast(layer, id)
		if cur == nil {
			continue
		}
		if !at.After(cur.ValidFrom) {
			return nil, fmt.Errorf("spatial: end: %w: %s/%s cannot end at %s: its current version began at %s",
				ErrInvalid, layer, id, formatTime(at), formatTime(cur.ValidFrom))
		}
		arch := *cur
		if arch.ValidTo.IsZero() || arch.ValidTo.After(at) {
			arch.ValidTo = at
		}
		if err := arch.Prepare(); err != nil {
			return nil, fmt.Errorf("spatial: end: %w", err)
		}
		v.Past = append(v.Past, &arch)
		v.Ended = append(v.Ended, FeatureRef{layer, id})
		changes = append(changes, Change{Kind: Delete, Layer: layer, ID: id, Old: cur.Geometry.Bound()})
	}
	if len(changes) == 0 {
		return nil, nil
	}
	if err := k.store.PutVersions(ctx, v); err != nil {
		return nil, fmt.Errorf("spatial: end: %w", err)
	}
	k.index.ApplyVersions(v)
	version := k.nextVersion()
	for i := range changes {
		changes[i].Version = version
	}
	k.commit(changes)
	return changes, nil
}

// Delete durably purges features by id, their current and past versions
// alike, then from the index, and publishes the deletions (one per id
// that had any version).
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
