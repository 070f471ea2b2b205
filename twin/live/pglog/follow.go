package pglog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"citytwin/twin/live"

	"github.com/lib/pq"
)

// Follow implements live.Follower: it calls fn with the batches other Logs
// on the database (other replicas) commit, until ctx ends or the Log is
// closed, and returns ctx's error or one saying the Log is closed. It
// returns early with an error only when it cannot start listening. See the
// package documentation for what is delivered and in which order.
//
// fn runs on Follow's goroutine, one batch at a time; it must not call
// Close. One Follow at a time may run on a Log (it keeps the Log's set of
// own batches); a second one fails.
//
// Follow listens on a dedicated connection that reconnects by itself; a
// failed read (the database unreachable) is retried with backoff, and
// everything that may have been missed meanwhile is re-read from the
// table.
func (l *Log) Follow(ctx context.Context, fn func([]*live.Object)) error {
	if err := l.enter(); err != nil {
		return err
	}
	l.wmu.Lock()
	busy := l.following
	l.following = true
	w := l.start
	l.wmu.Unlock()
	if busy {
		l.mu.RUnlock()
		return errors.New("pglog: follow: another Follow is running on this Log")
	}
	l.follows.Add(1)
	l.mu.RUnlock()
	defer func() {
		l.wmu.Lock()
		l.following = false
		l.wmu.Unlock()
		l.follows.Done()
	}()

	// Close ends ctx too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(l.closing, cancel)()

	failed := make(chan error, 1)
	ln := pq.NewListener(l.url, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventConnectionAttemptFailed && err != nil {
			select {
			case failed <- err:
			default:
			}
		}
	})
	defer ln.Close()
	listened := make(chan error, 1)
	go func() { listened <- ln.Listen(l.channel) }()
	select {
	case err := <-listened:
		if err != nil {
			return fmt.Errorf("pglog: listen on %s: %w", l.channel, err)
		}
	case err := <-failed:
		ln.Close()
		<-listened
		return fmt.Errorf("pglog: listen on %s: connect: %w", l.channel, err)
	case <-ctx.Done():
		ln.Close()
		<-listened
		return l.endErr(ctx)
	}

	f := &follower{l: l, fn: fn, w: w, delivered: map[int64]struct{}{}}
	resync := true // catch up on what committed since Latest or Open
	backoff := 100 * time.Millisecond
	for {
		if resync {
			if err := f.catchUp(ctx); err != nil {
				if ctx.Err() != nil {
					return l.endErr(ctx)
				}
				// Wait, draining notifications: the catch-up covers them.
				timer := time.NewTimer(backoff)
				backoff = min(2*backoff, 10*time.Second)
			wait:
				for {
					select {
					case <-ctx.Done():
						timer.Stop()
						return l.endErr(ctx)
					case _, ok := <-ln.Notify:
						if !ok {
							timer.Stop()
							return l.endErr(ctx)
						}
					case <-timer.C:
						break wait
					}
				}
				continue
			}
			resync, backoff = false, 100*time.Millisecond
		}
		select {
		case <-ctx.Done():
			return l.endErr(ctx)
		case n, ok := <-ln.Notify:
			switch {
			case !ok:
				return l.endErr(ctx)
			case n == nil:
				// Reconnected: notifications may have been lost.
				resync = true
			default:
				if err := f.notified(ctx, n.Extra); err != nil {
					if ctx.Err() != nil {
						return l.endErr(ctx)
					}
					resync = true
				}
			}
		}
	}
}

// endErr is what Follow returns when it stops.
func (l *Log) endErr(ctx context.Context) error {
	if l.closing.Err() != nil {
		return errClosed
	}
	return ctx.Err()
}

// follower is the state of one Follow.
type follower struct {
	l  *Log
	fn func([]*live.Object)
	// w is the watermark: every committed batch with a smaller id has been
	// delivered (or was this Log's own).
	w int64
	// delivered holds the batches at or above w already delivered.
	delivered map[int64]struct{}
}

// advance raises the watermark and forgets the batches below it.
func (f *follower) advance(w int64) {
	if w <= f.w {
		return
	}
	f.w = w
	for b := range f.delivered {
		if b < w {
			delete(f.delivered, b)
		}
	}
	f.l.wmu.Lock()
	for b := range f.l.own {
		if b < w {
			delete(f.l.own, b)
		}
	}
	f.l.wmu.Unlock()
}

// skip reports whether a batch was delivered or is this Log's own.
func (f *follower) skip(batch int64) bool {
	if _, ok := f.delivered[batch]; ok {
		return true
	}
	f.l.wmu.Lock()
	_, own := f.l.own[batch]
	f.l.wmu.Unlock()
	return own
}

// notified handles a notification: it fetches and delivers the batch
// unless it is this Log's own or already delivered, then raises the
// watermark to the xmin the notification carries. On error the watermark
// stays, so that a catch-up covers the batch.
func (f *follower) notified(ctx context.Context, extra string) error {
	writer, batch, xmin, ok := parsePayload(extra)
	if !ok {
		return nil // not ours
	}
	if writer != f.l.writer && !f.skip(batch) {
		objs, err := f.fetch(ctx, batch)
		if err != nil {
			return err
		}
		if len(objs) > 0 {
			f.fn(objs)
		}
		f.delivered[batch] = struct{}{}
	}
	f.advance(xmin)
	return nil
}

// fetch reads a batch's rows.
func (f *follower) fetch(ctx context.Context, batch int64) ([]*live.Object, error) {
	if err := f.l.enter(); err != nil {
		return nil, err
	}
	defer f.l.mu.RUnlock()
	var out []*live.Object
	err := each(ctx, f.l.db, `SELECT `+columns+` FROM live_history WHERE batch = $1`, []any{batch}, func(o *live.Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pglog: follow: fetch batch %d: %w", batch, err)
	}
	return out, nil
}

// catchUp delivers every batch at or above the watermark that is visible
// now and not yet delivered nor this Log's own, in batch order, and raises
// the watermark to the xmin of the snapshot it read. It runs after LISTEN
// is (re-)established, so every batch committing later is notified.
func (f *follower) catchUp(ctx context.Context) error {
	if err := f.l.enter(); err != nil {
		return err
	}
	defer f.l.mu.RUnlock()
	tx, err := f.l.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("pglog: follow: catch up: %w", err)
	}
	defer tx.Rollback()
	var xmin int64
	if err := tx.QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&xmin); err != nil {
		return fmt.Errorf("pglog: follow: catch up: %w", err)
	}
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rows, err := tx.QueryContext(qctx, `SELECT `+columns+`, batch FROM live_history WHERE batch >= $1 ORDER BY batch`, f.w)
	if err != nil {
		return fmt.Errorf("pglog: follow: catch up: %w", ctxOr(ctx, err))
	}
	defer rows.Close()
	// Rows come grouped by batch; each group is delivered when the next
	// begins. On failure what was delivered stays delivered and the
	// watermark stays where it was.
	var group []*live.Object
	cur, have := int64(0), false
	flush := func() {
		if len(group) > 0 {
			f.fn(group)
			group = nil
		}
		if have {
			f.delivered[cur] = struct{}{}
		}
	}
	for rows.Next() {
		var batch int64
		o, err := scan(rows, &batch)
		if err != nil {
			return fmt.Errorf("pglog: follow: catch up: %w", ctxOr(ctx, err))
		}
		if !have || batch != cur {
			flush()
			cur, have = batch, true
		}
		if !f.skip(batch) {
			group = append(group, o)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("pglog: follow: catch up: %w", ctxOr(ctx, err))
	}
	flush()
	f.advance(xmin)
	return nil
}
