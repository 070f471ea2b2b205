// Package pglog is the live twin's history in PostgreSQL with PostGIS: a
// live.Log and live.Follower for deployments that run several server
// replicas against one database. Every replica appends the updates it
// takes to one table, live_history (see migrations for the schema), and
// follows the others' appends through LISTEN/NOTIFY.
//
// # Durability
//
// Append writes a batch in one transaction: COPY into a session-local
// staging table, one INSERT … ON CONFLICT (id, t) DO UPDATE (a replay of
// the same id and time replaces its row; within a batch the last update of
// an id and time wins), a NOTIFY, and a commit with synchronous_commit on
// (set for the transaction, whatever the server's default). It returns
// after the commit: the batch is then in the primary's flushed WAL (and
// confirmed by its synchronous standbys, if synchronous_standby_names names
// any) and survives a crash of the server process or of the machine, with
// a disk that honours fsync. The batch is atomic: all of it or nothing is
// stored. When Append returns an error the batch was rolled back, except
// when the connection fails during COMMIT itself, when PostgreSQL cannot
// tell the client the outcome: appending the batch again is then always
// safe, since replays are idempotent.
//
// # Delivery
//
// Follow delivers, at least once, every batch that another Log (another
// replica) commits after this Log's most recent Latest began (or after
// Open, when Follow starts before any Latest), in commit order as long as
// the listening connection lasts. Batches this Log appended itself are not
// delivered. After the listening connection is lost and re-established
// (notifications sent meanwhile are lost) Follow re-reads, from the
// table, every batch that may have committed since the last one it knows
// to be delivered, in transaction-start order, which may differ from
// commit order. Duplicates are possible around a reconnect, and an update
// replayed by another Log arrives again with its batch. Both are harmless
// to the twin, which applies an update only when it is newer than the
// object's current state, so its end state does not depend on the order.
//
// How missed batches are found: a batch's id is its transaction's 64-bit
// id (xid8), which is assigned at the transaction's first write, not at
// commit, so batch ids do not commit in order and "everything after the
// last batch seen" would miss a batch that started earlier and committed
// later. Instead every notification carries, beside the batch id, the
// xmin of a snapshot its transaction took just before committing: every
// transaction with a smaller id had finished by then, and, since
// notifications arrive in commit order, its notification (if it
// committed) has already arrived. Follow keeps the largest such xmin it has
// received as its watermark; after a reconnect it fetches the rows of every
// batch at or above the watermark, from a snapshot taken after LISTEN was
// re-established, and skips the batches it already delivered or appended
// itself. A long-running write transaction elsewhere in the database holds
// the watermark back and so makes a catch-up re-read more (never less).
//
// Requirements: PostgreSQL 13 or newer (pg_current_xact_id) with PostGIS,
// and session-level connections (LISTEN and the staging table need them:
// not a transaction-pooling proxy).
package pglog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"citytwin/gridcode"
	"citytwin/twin/live"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// DefaultChannel is the NOTIFY channel appends are announced on.
const DefaultChannel = "citytwin_live"

// Options tune a Log. The zero value is usable.
type Options struct {
	// MaxOpenConns caps the connection pool (default 8). Follow uses one
	// more connection, for LISTEN.
	MaxOpenConns int
	// Channel is the NOTIFY channel (default DefaultChannel). Logs that
	// should follow each other must use the same channel and database.
	Channel string
}

// Log is a live.Log and live.Follower in a PostgreSQL database. It is safe
// for concurrent use.
type Log struct {
	db      *sql.DB
	url     string
	channel string
	writer  string // random id of this Log in its notifications

	closing context.Context // canceled by Close
	cancel  context.CancelFunc

	mu        sync.RWMutex // held for reading by every call, for writing by Close
	closed    bool
	following bool
	follows   sync.WaitGroup

	wmu   sync.Mutex
	start int64              // Follow's first watermark: xmin of Open's or the last Latest's snapshot
	own   map[int64]struct{} // batches this Log appended, not yet below a follower's watermark
}

var (
	_ live.Log      = (*Log)(nil)
	_ live.Follower = (*Log)(nil)
)

// maxOwn bounds the set of own batch ids kept for Follow to skip. When
// nothing prunes it (no Follow running) it is cleared when full: at worst
// a later catch-up delivers some of this Log's own batches, harmlessly.
const maxOwn = 1 << 16

var errClosed = errors.New("pglog: log is closed")

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN; a search_path parameter selects the schema), creates the PostGIS
// extension if it can and it is missing, and creates or migrates the live
// tables. Concurrent Opens of one database are safe: migrations run in one
// transaction under an advisory lock.
func Open(ctx context.Context, url string, opts *Options) (*Log, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 8
	}
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("pglog: open: %w", err)
	}
	db.SetMaxOpenConns(o.MaxOpenConns)
	db.SetMaxIdleConns(o.MaxOpenConns)
	fail := func(what string, err error) (*Log, error) {
		db.Close()
		return nil, fmt.Errorf("pglog: %s: %w", what, err)
	}
	if err := db.PingContext(ctx); err != nil {
		return fail("connect", err)
	}
	if err := migrate(ctx, db); err != nil {
		return fail("migrate schema", err)
	}
	var start int64
	if err := db.QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&start); err != nil {
		return fail("read snapshot", err)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return fail("writer id", err)
	}
	closing, cancel := context.WithCancel(context.Background())
	return &Log{
		db:      db,
		url:     url,
		channel: o.Channel,
		writer:  hex.EncodeToString(id[:]),
		closing: closing,
		cancel:  cancel,
		start:   start,
		own:     map[int64]struct{}{},
	}, nil
}

// DB returns the connection pool, for queries this package does not offer.
func (l *Log) DB() *sql.DB { return l.db }

// Writer returns the random id this Log puts in its notifications.
func (l *Log) Writer() string { return l.writer }

// enter starts a call: it fails after Close, and otherwise holds mu for
// reading until the caller's l.mu.RUnlock.
func (l *Log) enter() error {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return errClosed
	}
	return nil
}

// Close stops Follow (and waits for it to return), waits for running calls
// and closes the connections. Calls after Close fail. fn passed to Follow
// must not call Close.
func (l *Log) Close() error {
	l.cancel()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	l.closed = true
	l.mu.Unlock()
	l.follows.Wait()
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("pglog: close: %w", err)
	}
	return nil
}

// copySQL loads the staging table.
const copySQL = `COPY live_in (id, t, layer, lon, lat, height, heading, speed, recv, state, gone) FROM STDIN`

// stageSQL creates the session's staging table on first use; its rows go
// at every commit.
const stageSQL = `SET LOCAL synchronous_commit = on;
	CREATE TEMP TABLE IF NOT EXISTS live_in (
		id text, t bigint, layer text, lon float8, lat float8, height float8,
		heading real, speed real, recv bigint, state bytea, gone boolean
	) ON COMMIT DELETE ROWS`

// upsertSQL moves the staged batch into live_history, in key order (so
// that concurrent batches lock rows in the same order), stamping the rows
// with the transaction's id.
const upsertSQL = `INSERT INTO live_history (id, t, layer, geom, heading, speed, recv, state, gone, batch)
	SELECT id, t, layer, ST_SetSRID(ST_MakePoint(lon, lat, height), 4490), heading, speed, recv, state, gone, $1
	FROM live_in ORDER BY id, t
	ON CONFLICT (id, t) DO UPDATE SET
		layer = EXCLUDED.layer, geom = EXCLUDED.geom, heading = EXCLUDED.heading,
		speed = EXCLUDED.speed, recv = EXCLUDED.recv, state = EXCLUDED.state,
		gone = EXCLUDED.gone, batch = EXCLUDED.batch`

// key is an object's id and time.
type key struct {
	id string
	t  int64
}

// Append implements live.Log: one transaction, durable on return (see the
// package documentation).
func (l *Log) Append(ctx context.Context, objs []*live.Object) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	// The last update of an (id, time) wins; ON CONFLICT cannot touch a
	// row twice in one statement.
	rows := make([]*live.Object, 0, len(objs))
	index := make(map[key]int, len(objs))
	for _, o := range objs {
		if err := storable(o); err != nil {
			return err
		}
		k := key{o.ID, o.Time}
		if i, ok := index[k]; ok {
			rows[i] = o
			continue
		}
		index[k] = len(rows)
		rows = append(rows, o)
	}
	err := retry(ctx, func() error { return l.appendOnce(ctx, rows) })
	if err != nil {
		return fmt.Errorf("pglog: append %d updates: %w", len(rows), err)
	}
	return nil
}

// addOwn records a batch of this Log's, before it commits, so that a
// catch-up never delivers it (a batch that then fails stays recorded,
// harmlessly).
func (l *Log) addOwn(batch int64) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if len(l.own) >= maxOwn {
		clear(l.own)
	}
	l.own[batch] = struct{}{}
}

// storable checks what PostgreSQL needs of an update: text columns hold
// valid UTF-8 without NUL (live.Object.Prepare ensures more).
func storable(o *live.Object) error {
	if o == nil {
		return fmt.Errorf("pglog: %w: nil object", live.ErrInvalid)
	}
	for _, s := range []string{o.ID, o.Layer} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("pglog: %w: object %q in layer %q: id and layer must be UTF-8 without NUL", live.ErrInvalid, o.ID, o.Layer)
		}
	}
	return nil
}

// retry runs a transaction again, up to 4 times in all, while it fails
// with a deadlock or serialization failure: PostgreSQL rolled it back
// whole, and appends are idempotent.
func retry(ctx context.Context, tx func() error) error {
	for attempt := 1; ; attempt++ {
		err := tx()
		if attempt == 4 || pq.As(err, pqerror.TRDeadlockDetected, pqerror.TRSerializationFailure) == nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		}
	}
}

// appendOnce writes the rows in one transaction.
func (l *Log) appendOnce(ctx context.Context, rows []*live.Object) error {
	// The transaction ignores ctx: database/sql would roll back from
	// another goroutine while COPY is streaming. Each statement gets ctx
	// instead, and any failure rolls back here.
	tx, err := l.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, stageSQL); err != nil {
		return fmt.Errorf("staging table: %w", err)
	}
	if err := copyRows(ctx, tx, rows); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	var batch, xmin int64
	if err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&batch); err != nil {
		return fmt.Errorf("transaction id: %w", err)
	}
	l.addOwn(batch)
	if _, err := tx.ExecContext(ctx, upsertSQL, batch); err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	// The snapshot's xmin is taken after the upsert, as late as possible:
	// see the package documentation.
	if err := tx.QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&xmin); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, l.channel, payload(l.writer, batch, xmin)); err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// copyRows streams rows into live_in with COPY FROM STDIN.
func copyRows(ctx context.Context, tx *sql.Tx, rows []*live.Object) error {
	stmt, err := tx.PrepareContext(ctx, copySQL)
	if err != nil {
		return err
	}
	defer stmt.Close() // ends the COPY if we stop early; the caller rolls back
	for _, o := range rows {
		var heading, speed, state any // NULL
		if !isNaN32(o.Heading) {
			heading = float64(o.Heading)
		}
		if !isNaN32(o.Speed) {
			speed = float64(o.Speed)
		}
		if len(o.State) > 0 {
			state = o.State
		}
		if _, err := stmt.ExecContext(ctx, o.ID, o.Time, o.Layer, o.Lon, o.Lat, o.Height, heading, speed, o.Recv, state, o.Gone); err != nil {
			return fmt.Errorf("object %q: %w", o.ID, err)
		}
	}
	_, err = stmt.ExecContext(ctx) // flush and finish
	return err
}

func isNaN32(f float32) bool { return f != f }

// payload is a notification: "writer:batch:xmin".
func payload(writer string, batch, xmin int64) string {
	return writer + ":" + strconv.FormatInt(batch, 10) + ":" + strconv.FormatInt(xmin, 10)
}

// parsePayload reads a notification written by payload.
func parsePayload(s string) (writer string, batch, xmin int64, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return "", 0, 0, false
	}
	b, err1 := strconv.ParseInt(parts[1], 10, 64)
	x, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, 0, false
	}
	return parts[0], b, x, true
}

// columns are the columns scan reads, in order.
const columns = `id, t, layer, ST_X(geom), ST_Y(geom), ST_Z(geom), heading::float8, speed::float8, recv, state, gone`

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scan decodes a row of columns (plus extra destinations).
func scan(r scanner, extra ...any) (*live.Object, error) {
	o := &live.Object{}
	var heading, speed sql.NullFloat64
	dest := append([]any{&o.ID, &o.Time, &o.Layer, &o.Lon, &o.Lat, &o.Height, &heading, &speed, &o.Recv, &o.State, &o.Gone}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	o.Heading, o.Speed = float32(math.NaN()), float32(math.NaN())
	if heading.Valid {
		o.Heading = float32(heading.Float64) // exact: the float64 of a real
	}
	if speed.Valid {
		o.Speed = float32(speed.Float64)
	}
	if len(o.State) == 0 {
		o.State = nil
	}
	code, err := gridcode.Encode(o.Lat, o.Lon, live.CodeLevel)
	if err != nil {
		return nil, fmt.Errorf("%w: object %q at %d: %v", live.ErrCorrupt, o.ID, o.Time, err)
	}
	o.Code = code
	return o, nil
}

// idsSQL lists the distinct ids in order, one index probe per id (a skip
// scan), for a LATERAL join that picks each id's row.
const idsSQL = `WITH RECURSIVE ids(id) AS (
		(SELECT id FROM live_history ORDER BY id LIMIT 1)
		UNION ALL
		SELECT (SELECT h.id FROM live_history h WHERE h.id > ids.id ORDER BY h.id LIMIT 1)
		FROM ids WHERE ids.id IS NOT NULL
	)`

// latestSQL selects every object's newest row.
const latestSQL = idsSQL + `
	SELECT s.* FROM ids CROSS JOIN LATERAL (
		SELECT ` + columns + ` FROM live_history h
		WHERE h.id = ids.id ORDER BY h.t DESC LIMIT 1
	) s`

// asOfSQL selects every object's newest row with $2 < t ≤ $1.
const asOfSQL = idsSQL + `
	SELECT s.* FROM ids CROSS JOIN LATERAL (
		SELECT ` + columns + ` FROM live_history h
		WHERE h.id = ids.id AND h.t <= $1 AND h.t > $2 ORDER BY h.t DESC LIMIT 1
	) s`

// each runs a query and calls fn with every row, stopping early (and
// canceling the query) when fn fails or ctx ends.
func each(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args []any, fn func(*live.Object) error) error {
	qctx, cancel := context.WithCancel(ctx)
	rows, err := q.QueryContext(qctx, query, args...)
	if err != nil {
		cancel()
		return ctxOr(ctx, err)
	}
	defer func() {
		cancel() // before Close, which would otherwise read the rest
		rows.Close()
	}()
	for rows.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := scan(rows)
		if err != nil {
			return ctxOr(ctx, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return ctxOr(ctx, err)
	}
	return ctx.Err()
}

// ctxOr returns ctx's error if it is done (a query it ended fails with
// the server's "canceling statement"), and err otherwise.
func ctxOr(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return e
	}
	return err
}

// Latest implements live.Log. It reads from one snapshot, and remembers
// the snapshot for Follow: a Follow started later first delivers what
// other Logs committed after it.
func (l *Log) Latest(ctx context.Context, fn func(*live.Object) error) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return fmt.Errorf("pglog: latest: %w", err)
	}
	defer tx.Rollback()
	var xmin int64
	if err := tx.QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`).Scan(&xmin); err != nil {
		return fmt.Errorf("pglog: latest: %w", err)
	}
	var fnErr error
	err = each(ctx, tx, latestSQL, nil, func(o *live.Object) error {
		fnErr = fn(o)
		return fnErr
	})
	if err != nil {
		if fnErr != nil || errors.Is(err, ctx.Err()) {
			return err
		}
		return fmt.Errorf("pglog: latest: %w", err)
	}
	l.wmu.Lock()
	if !l.following {
		l.start = xmin
	}
	l.wmu.Unlock()
	return nil
}

// AsOf implements live.Log: each object's newest state with Time in
// (at−window, at].
func (l *Log) AsOf(ctx context.Context, at, window int64, fn func(*live.Object) error) error {
	if err := l.enter(); err != nil {
		return err
	}
	defer l.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if window <= 0 {
		return nil
	}
	lo := at - window
	if lo > at { // overflow
		lo = math.MinInt64
	}
	var fnErr error
	err := each(ctx, l.db, asOfSQL, []any{at, lo}, func(o *live.Object) error {
		fnErr = fn(o)
		return fnErr
	})
	if err != nil && fnErr == nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("pglog: as of %d: %w", at, err)
	}
	return err
}

// History implements live.Log.
func (l *Log) History(ctx context.Context, id string, from, to int64, limit int) ([]*live.Object, error) {
	if err := l.enter(); err != nil {
		return nil, err
	}
	defer l.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 || to < from {
		return nil, nil
	}
	var out []*live.Object
	err := each(ctx, l.db, `SELECT `+columns+` FROM live_history WHERE id = $1 AND t BETWEEN $2 AND $3 ORDER BY t LIMIT $4`,
		[]any{id, from, to, int64(limit)}, func(o *live.Object) error {
			out = append(out, o)
			return nil
		})
	if err != nil {
		if errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("pglog: history of %q: %w", id, err)
	}
	return out, nil
}

// Prune deletes every update older than before, except each object's
// newest one (its current state, or its tombstone), and returns how many
// objects it pruned. It is one statement: pruning a large backlog holds
// row locks until it commits.
func (l *Log) Prune(ctx context.Context, before int64) (int, error) {
	if err := l.enter(); err != nil {
		return 0, err
	}
	defer l.mu.RUnlock()
	var n int
	err := l.db.QueryRowContext(ctx, `WITH d AS (
			DELETE FROM live_history h WHERE h.t < $1
				AND EXISTS (SELECT 1 FROM live_history n WHERE n.id = h.id AND n.t > h.t)
			RETURNING id
		) SELECT count(DISTINCT id) FROM d`, before).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pglog: prune: %w", err)
	}
	return n, nil
}
