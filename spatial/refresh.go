package spatial

import (
	"context"
	"errors"
	"fmt"
)

// Refresh makes the index match the store for some features, written to
// the store by another server sharing it (a replica): it re-reads each
// one's current version (which may be gone) and past versions and applies
// them as that server's write did, then runs the hooks and publishes, as
// for a local write, so tile caches and subscribers follow. Ids the store
// no longer has at all are removed.
func (k *Kernel) Refresh(ctx context.Context, layer string, ids []string) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	var v Versions
	var gone []string
	var changes []Change
	for _, id := range ids {
		cur, err := k.store.Get(ctx, layer, id)
		if errors.Is(err, ErrNotFound) {
			cur, err = nil, nil
		}
		if err != nil {
			return fmt.Errorf("spatial: refresh %s/%s: %w", layer, id, err)
		}
		past, err := k.store.Past(ctx, layer, id)
		if err != nil {
			return fmt.Errorf("spatial: refresh %s/%s: %w", layer, id, err)
		}
		oldCur, oldLast := k.index.currentAndLast(layer, id)
		old := oldCur
		if old == nil {
			old = oldLast
		}
		c := Change{Layer: layer, ID: id}
		switch {
		case cur == nil && len(past) == 0:
			if old == nil {
				continue
			}
			gone = append(gone, id)
			c.Kind, c.Old = Delete, old.Geometry.Bound()
		case cur == nil:
			v.Ended = append(v.Ended, FeatureRef{layer, id})
			c.Kind = Delete
			if old != nil {
				c.Old = old.Geometry.Bound()
			}
		default:
			v.Current = append(v.Current, cur)
			c.Kind, c.New = Insert, cur.Geometry.Bound()
			if old != nil {
				c.Kind, c.Old = Update, old.Geometry.Bound()
			}
			k.version = max(k.version, cur.Version)
		}
		v.Past = append(v.Past, past...)
		changes = append(changes, c)
	}
	if len(gone) > 0 {
		k.index.Remove(layer, gone, 0)
	}
	k.index.ApplyVersions(v)
	if len(changes) == 0 {
		return nil
	}
	version := k.nextVersion()
	for i := range changes {
		changes[i].Version = version
	}
	k.commit(changes)
	return nil
}

// Resync reloads everything from the store, after changes from other
// servers may have been missed (a lost notification connection, or a
// write too large to announce id by id): every layer's current versions
// and every past version are applied again, and features the store no
// longer has are removed. Hooks see one Update per feature of the layers
// touched, which for a tile cache means starting afresh.
func (k *Kernel) Resync(ctx context.Context) error {
	k.wmu.Lock()
	defer k.wmu.Unlock()
	layers, err := k.store.Layers(ctx)
	if err != nil {
		return fmt.Errorf("spatial: resync: %w", err)
	}
	current := map[FeatureRef]bool{} // in the store now
	hasPast := map[FeatureRef]bool{}
	var changes []Change
	for _, li := range layers {
		var batch []*Feature
		flush := func() {
			k.index.ApplyVersions(Versions{Current: batch})
			batch = nil
		}
		err := k.store.Scan(ctx, li.Name, func(f *Feature) error {
			k.version = max(k.version, f.Version)
			current[FeatureRef{f.Layer, f.ID}] = true
			batch = append(batch, f)
			changes = append(changes, Change{Kind: Update, Layer: f.Layer, ID: f.ID, New: f.Geometry.Bound()})
			if len(batch) == 4096 {
				flush()
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("spatial: resync %s: %w", li.Name, err)
		}
		flush()
	}
	var past []*Feature
	err = k.store.ScanPast(ctx, func(f *Feature) error {
		hasPast[FeatureRef{f.Layer, f.ID}] = true
		past = append(past, f)
		return nil
	})
	if err != nil {
		return fmt.Errorf("spatial: resync: %w", err)
	}
	k.index.ApplyPast(past)
	// What the index holds beyond the store: ended elsewhere (keep the
	// history, drop the current version) or purged (drop everything).
	for _, li := range k.index.Layers() {
		var ended, purged []string
		for _, id := range k.index.ids(li.Name) {
			ref := FeatureRef{li.Name, id}
			switch {
			case current[ref]:
			case hasPast[ref]:
				if cur, _ := k.index.currentAndLast(li.Name, id); cur != nil {
					ended = append(ended, id)
					changes = append(changes, Change{Kind: Delete, Layer: li.Name, ID: id, Old: cur.Geometry.Bound()})
				}
			default:
				purged = append(purged, id)
			}
		}
		var v Versions
		for _, id := range ended {
			v.Ended = append(v.Ended, FeatureRef{li.Name, id})
		}
		k.index.ApplyVersions(v)
		changes = append(changes, k.index.Remove(li.Name, purged, 0)...)
	}
	version := k.nextVersion()
	for i := range changes {
		changes[i].Version = version
	}
	k.commit(changes)
	return nil
}

// ids lists every id of a layer with a current or past version.
func (ix *Index) ids(layer string) []string {
	l, ok := ix.Layer(layer)
	if !ok {
		return nil
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]string, 0, len(l.byID)+len(l.past))
	for id := range l.byID {
		out = append(out, id)
	}
	for id := range l.past {
		if _, ok := l.byID[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}
