package spatial

import (
	"sync"

	"github.com/paulmach/orb"
)

// ChangeKind says what a change did.
type ChangeKind uint8

// Kinds of change.
const (
	Insert ChangeKind = iota + 1
	Update
	Delete
)

// String returns "insert", "update" or "delete".
func (k ChangeKind) String() string {
	switch k {
	case Insert:
		return "insert"
	case Update:
		return "update"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// Change is one entry of the change feed.
type Change struct {
	Kind    ChangeKind
	Layer   string
	ID      string
	Version uint64
	// Old is the bounding box before the change (updates and deletes);
	// New after it (inserts and updates). Tile caches invalidate both.
	Old, New orb.Bound
}

// Feed fans changes out to subscribers without ever blocking the writer: a
// subscriber whose buffer is full is dropped, its channel closed and its
// Lagged flag set, so it knows to resynchronise (for a tile cache: flush
// everything) and subscribe again.
type Feed struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// Subscription receives changes on C until it is cancelled or falls behind.
type Subscription struct {
	// C delivers changes in commit order.
	C      <-chan Change
	c      chan Change
	feed   *Feed
	mu     sync.Mutex
	lagged bool
}

// Subscribe returns a subscription with a buffer of n changes.
func (fd *Feed) Subscribe(n int) *Subscription {
	ch := make(chan Change, n)
	s := &Subscription{C: ch, c: ch, feed: fd}
	fd.mu.Lock()
	if fd.subs == nil {
		fd.subs = map[*Subscription]struct{}{}
	}
	fd.subs[s] = struct{}{}
	fd.mu.Unlock()
	return s
}

// Lagged reports whether the subscription was dropped for falling behind.
func (s *Subscription) Lagged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lagged
}

// Cancel ends the subscription and closes C. It is safe to call more than
// once.
func (s *Subscription) Cancel() {
	s.feed.mu.Lock()
	defer s.feed.mu.Unlock()
	if _, ok := s.feed.subs[s]; ok {
		delete(s.feed.subs, s)
		close(s.c)
	}
}

// Publish delivers changes to every subscriber, dropping any that is full.
func (fd *Feed) Publish(changes []Change) {
	if len(changes) == 0 {
		return
	}
	fd.mu.Lock()
	defer fd.mu.Unlock()
	for s := range fd.subs {
	deliver:
		for _, c := range changes {
			select {
			case s.c <- c:
			default:
				s.mu.Lock()
				s.lagged = true
				s.mu.Unlock()
				delete(fd.subs, s)
				close(s.c)
				break deliver
			}
		}
	}
}
