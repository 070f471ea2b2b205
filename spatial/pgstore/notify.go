package pgstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"citytwin/spatial"

	"github.com/lib/pq"
)

// Change ops.
const (
	// OpPut: the features' current versions were written; re-read them
	// (Store.Get).
	OpPut = "put"
	// OpDelete: the features were purged, current and past versions.
	OpDelete = "delete"
	// OpHistory: the features' past versions were written, and their
	// current versions may have been removed (ended) in the same write;
	// re-read both (Store.Get, which may report spatial.ErrNotFound, and
	// Store.Past). An edit that archives a version sends an OpPut and an
	// OpHistory for the same ids, from one transaction.
	OpHistory = "history"
)

// Notification payload limits. PostgreSQL refuses payloads of 8000 bytes
// or more; a batch touching more than maxListedIDs features of one layer is
// announced as one summary instead of a stream of id lists.
const (
	maxPayload   = 7900
	maxListedIDs = 2000
)

// Change announces a committed write, as sent on the NOTIFY channel (JSON,
// under 8000 bytes). One Put or Delete sends one or more Changes per layer:
// the ids in chunks that fit, or, for more than 2000 ids or an id too long
// to fit, a single Summary without ids.
type Change struct {
	// Origin is the Origin of the Store that wrote.
	Origin string `json:"origin"`
	// Op is OpPut, OpDelete or OpHistory.
	Op string `json:"op"`
	// Layer is the layer written ("" on a Summary whose layer name is too
	// long to send: assume every layer changed).
	Layer string `json:"layer"`
	// IDs are the features put or deleted (nil on a Summary).
	IDs []string `json:"ids,omitempty"`
	// Versions are the put features' versions, parallel to IDs (OpPut
	// only).
	Versions []uint64 `json:"versions,omitempty"`
	// Count is the number of features this Change stands for.
	Count int `json:"count"`
	// Summary is set when IDs are omitted: the receiver should reload
	// the layer.
	Summary bool `json:"summary,omitempty"`
	// Resync is set (only) on a Change that Listen synthesises after its
	// connection was lost and re-established: changes may have been
	// missed, so the receiver should reload everything.
	Resync bool `json:"-"`
}

// putChanges groups a Put's rows by layer, in first-appearance order.
func putChanges(origin string, rows []row) []Change {
	var order []string
	byLayer := map[string]*Change{}
	for _, r := range rows {
		c := byLayer[r.layer]
		if c == nil {
			c = &Change{Origin: origin, Op: OpPut, Layer: r.layer}
			byLayer[r.layer] = c
			order = append(order, r.layer)
		}
		c.IDs = append(c.IDs, r.id)
		c.Versions = append(c.Versions, r.version)
	}
	out := make([]Change, len(order))
	for i, l := range order {
		out[i] = *byLayer[l]
	}
	return out
}

// historyChanges describes the features whose past versions a write
// stored or whose current version it ended, by layer in first-appearance
// order, each id once.
func historyChanges(origin string, past []row, ended []spatial.FeatureRef) []Change {
	var order []string
	byLayer := map[string]*Change{}
	seen := map[spatial.FeatureRef]bool{}
	add := func(layer, id string) {
		r := spatial.FeatureRef{Layer: layer, ID: id}
		if seen[r] {
			return
		}
		seen[r] = true
		c := byLayer[layer]
		if c == nil {
			c = &Change{Origin: origin, Op: OpHistory, Layer: layer}
			byLayer[layer] = c
			order = append(order, layer)
		}
		c.IDs = append(c.IDs, id)
	}
	for _, r := range ended {
		add(r.Layer, r.ID)
	}
	for _, r := range past {
		add(r.layer, r.id)
	}
	out := make([]Change, len(order))
	for i, l := range order {
		out[i] = *byLayer[l]
	}
	return out
}

// deleteChanges describes a Delete of the given (existing) ids.
func deleteChanges(origin, layer string, ids []string) []Change {
	if len(ids) == 0 {
		return nil
	}
	return []Change{{Origin: origin, Op: OpDelete, Layer: layer, IDs: ids}}
}

// payloads splits changes into NOTIFY payloads under maxPayload bytes.
func payloads(changes []Change) ([]string, error) {
	var out []string
	for _, c := range changes {
		ps, err := chunks(c)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// chunks encodes one layer's change as id lists that each fit a payload,
// or as a summary.
func chunks(c Change) ([]string, error) {
	if len(c.IDs) > maxListedIDs {
		return summary(c)
	}
	head := c
	head.IDs, head.Versions = nil, nil
	head.Count = len(c.IDs)
	base, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	// base holds the largest count; add the two arrays' brackets and keys.
	empty := len(base) + len(`,"ids":[],"versions":[]`)
	var out []string
	start, size := 0, empty
	flush := func(end int) error {
		chunk := c
		chunk.IDs = c.IDs[start:end]
		if c.Versions != nil {
			chunk.Versions = c.Versions[start:end]
		}
		chunk.Count = end - start
		b, err := json.Marshal(chunk)
		if err != nil {
			return err
		}
		out = append(out, string(b))
		start, size = end, empty
		return nil
	}
	for i, id := range c.IDs {
		q, err := json.Marshal(id)
		if err != nil {
			return nil, err
		}
		add := len(q) + 1 // the id and a comma
		if c.Versions != nil {
			add += len(strconv.FormatUint(c.Versions[i], 10)) + 1
		}
		if empty+add > maxPayload { // this id alone does not fit
			return summary(c)
		}
		if size+add > maxPayload {
			if err := flush(i); err != nil {
				return nil, err
			}
		}
		size += add
	}
	if start < len(c.IDs) {
		if err := flush(len(c.IDs)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// summary encodes c without ids, and without its layer if that is too
// long to send.
func summary(c Change) ([]string, error) {
	s := Change{Origin: c.Origin, Op: c.Op, Layer: c.Layer, Count: len(c.IDs), Summary: true}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	if len(b) > maxPayload {
		s.Layer = ""
		if b, err = json.Marshal(s); err != nil {
			return nil, err
		}
	}
	return []string{string(b)}, nil
}

// notify queues the changes' payloads in tx; PostgreSQL delivers them when
// tx commits, and never if it rolls back.
func (s *Store) notify(ctx context.Context, tx *sql.Tx, changes []Change) error {
	ps, err := payloads(changes)
	if err != nil {
		return fmt.Errorf("encode notifications: %w", err)
	}
	if len(ps) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p`, s.channel, pq.Array(ps)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// Listen subscribes to the changes every Store on the database (this one
// included: compare Origin) announces on the channel, over a dedicated
// connection that reconnects by itself; after a reconnect it delivers a
// Change with Resync set, since notifications sent meanwhile are lost. The
// channel is closed when ctx ends or the Store is closed. The receiver must
// keep reading: while it does not, notifications queue in the server.
func (s *Store) Listen(ctx context.Context) (<-chan Change, error) {
	failed := make(chan error, 1)
	l := pq.NewListener(s.url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventConnectionAttemptFailed && err != nil {
			select {
			case failed <- err:
			default:
			}
		}
	})
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil, fmt.Errorf("pgstore: listen: store is closed")
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	drop := func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}

	listened := make(chan error, 1)
	go func() { listened <- l.Listen(s.channel) }()
	select {
	case err := <-listened:
		if err != nil {
			drop()
			return nil, fmt.Errorf("pgstore: listen on %s: %w", s.channel, err)
		}
	case err := <-failed:
		drop()
		<-listened
		return nil, fmt.Errorf("pgstore: listen on %s: connect: %w", s.channel, err)
	case <-ctx.Done():
		drop()
		<-listened
		return nil, fmt.Errorf("pgstore: listen on %s: %w", s.channel, ctx.Err())
	}

	out := make(chan Change, 64)
	go func() {
		defer close(out)
		defer drop()
		for {
			var c Change
			select {
			case <-ctx.Done():
				return
			case n, ok := <-l.Notify:
				if !ok {
					return // listener closed (Store.Close)
				}
				if n == nil {
					c.Resync = true
				} else if err := json.Unmarshal([]byte(n.Extra), &c); err != nil || c.Op == "" {
					continue // not ours
				}
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
