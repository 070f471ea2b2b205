package gridmgmt

import (
	"context"
	"sync"

	"citytwin/spatial"
)

// Follow keeps the service's cases in step with its kernel's cases layer
// when other servers write it (replicas sharing PostgreSQL: the kernel
// applies their writes through Kernel.Refresh and calls its hooks): each
// changed case is re-read from the index. Local writes come back the same
// way and change nothing. Call it once, before serving; it stops with ctx.
//
// Two replicas taking intake at the same moment may still draw the same
// case id (the day's sequence is per server until the other's case
// arrives): give intake to one server, or accept that the later write
// replaces the earlier.
func (s *Service) Follow(ctx context.Context) {
	var mu sync.Mutex
	var queued []string
	wake := make(chan struct{}, 1)
	s.kernel.OnCommit(func(changes []spatial.Change) {
		// Called under the kernel's write lock, possibly while this
		// service holds its own (a local write): only queue.
		mu.Lock()
		for _, c := range changes {
			if c.Layer == s.opt.Layer {
				queued = append(queued, c.ID)
			}
		}
		n := len(queued)
		mu.Unlock()
		if n > 0 {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			mu.Lock()
			ids := queued
			queued = nil
			mu.Unlock()
			s.reload(ids)
		}
	}()
}

// reload re-reads cases from the kernel's index.
func (s *Service) reload(ids []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		f, ok := s.kernel.Index().Get(s.opt.Layer, id)
		if !ok || !f.ValidTo.IsZero() {
			delete(s.cases, id) // purged or ended elsewhere
			continue
		}
		c, err := decodeCase(f)
		if err != nil {
			continue
		}
		if old := s.cases[id]; old == nil || !c.Updated.Before(old.Updated) {
			s.cases[id] = c
		}
		if day, n, ok := parseID(id); ok && n > s.seq[day] {
			s.seq[day] = n
		}
	}
}
