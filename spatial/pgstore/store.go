// Package pgstore keeps CityTwin features in PostgreSQL with PostGIS: a
// spatial.Store for deployments that run several server replicas against one
// database, or that want the features queryable from SQL and desktop GIS.
//
// Geometry is stored as geometry(Geometry, 4490) (CGCS2000), written as
// EWKB through github.com/twpayne/go-geom, with a GiST index; grid codes are
// a B-tree-indexed bigint, so a GeoSOT cell query is one range scan. Each row
// also keeps the feature's exact binary record (spatial.MarshalFeature),
// which is what reads decode: a feature reads back identical to what was
// written. Past versions of features (see spatial's package documentation)
// live in a second table, feature_versions, keyed by layer, id and
// ValidFrom; PutVersions writes both tables in one transaction, and
// Delete purges both. See migrations for the schema.
//
// Writes are bulk loads: COPY into a temporary table, then one INSERT … ON
// CONFLICT DO UPDATE, in one transaction committed with synchronous_commit
// on, so a batch is atomic and durable when Put returns. Each write also
// sends a NOTIFY in the same transaction (delivered only if it commits), so
// replicas can follow each other's changes through Listen.
package pgstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"citytwin/gridcode"
	"citytwin/spatial"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// DefaultChannel is the LISTEN/NOTIFY channel changes are announced on.
const DefaultChannel = "citytwin_changes"

// Options tune a Store. The zero value is usable.
type Options struct {
	// MaxOpenConns caps the connection pool (default 8). Listen uses one
	// more connection per call.
	MaxOpenConns int
	// Channel is the NOTIFY channel (default DefaultChannel). Stores that
	// should see each other's changes must use the same channel.
	Channel string
}

// Store is a spatial.Store in a PostgreSQL database with PostGIS. It is
// safe for concurrent use.
type Store struct {
	db      *sql.DB
	url     string
	channel string
	origin  string

	mu        sync.Mutex
	closed    bool
	listeners map[*pq.Listener]struct{}
}

var _ spatial.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN; a search_path parameter selects the schema), creates the PostGIS
// extension if it can and it is missing, and creates or migrates the
// schema. Concurrent Opens of one database are safe: migrations run in one
// transaction under an advisory lock.
func Open(ctx context.Context, url string, opts *Options) (*Store, error) {
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
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	db.SetMaxOpenConns(o.MaxOpenConns)
	db.SetMaxIdleConns(o.MaxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if _, err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("pgstore: migrate schema: %w", err)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		db.Close()
		return nil, fmt.Errorf("pgstore: origin id: %w", err)
	}
	return &Store{
		db:        db,
		url:       url,
		channel:   o.Channel,
		origin:    hex.EncodeToString(id[:]),
		listeners: map[*pq.Listener]struct{}{},
	}, nil
}

// Origin returns the random id this Store puts in the changes it
// announces, so a replica can recognise its own writes.
func (s *Store) Origin() string { return s.origin }

// DB returns the underlying connection pool, for queries this package does
// not offer. Writing to the features table through it bypasses the record
// column that reads decode; see migrations.
func (s *Store) DB() *sql.DB { return s.db }

// Close stops the Store's listeners and closes its connections.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ls := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	for l := range ls {
		l.Close()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("pgstore: close: %w", err)
	}
	return nil
}

// encodeCode maps a GeoSOT code's left-aligned uint64 bits to the bigint
// column: the bits with the sign bit flipped, reinterpreted as int64. The
// map is monotonic (a < b as uint64 exactly when encodeCode(a) <
// encodeCode(b) as int64), so ORDER BY code is grid-code order and a cell's
// Range is one BETWEEN.
func encodeCode(bits uint64) int64 { return int64(bits ^ 1<<63) }

// decodeCode inverts encodeCode.
func decodeCode(v int64) uint64 { return uint64(v) ^ 1<<63 }

// copyColumns are the columns Put loads, in row order.
const copyColumns = "layer, id, code, level, geom, props, height, floors, valid_from, valid_to, version, record"

// upsertSQL moves a loaded batch into features. Rows go in grid-code order,
// which keeps the heap roughly clustered for cell scans.
const upsertSQL = `INSERT INTO features (` + copyColumns + `)
	SELECT ` + copyColumns + ` FROM features_in ORDER BY layer, code, level, id
	ON CONFLICT (layer, id) DO UPDATE SET
		code = EXCLUDED.code, level = EXCLUDED.level, geom = EXCLUDED.geom,
		props = EXCLUDED.props, height = EXCLUDED.height, floors = EXCLUDED.floors,
		valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
		version = EXCLUDED.version, record = EXCLUDED.record`

// pastColumns are the columns PutVersions loads into feature_versions.
const pastColumns = copyColumns + ", from_ns"

// upsertPastSQL moves a loaded batch of past versions into feature_versions.
const upsertPastSQL = `INSERT INTO feature_versions (` + pastColumns + `)
	SELECT ` + pastColumns + ` FROM past_in ORDER BY layer, id, from_ns
	ON CONFLICT (layer, id, from_ns) DO UPDATE SET
		code = EXCLUDED.code, level = EXCLUDED.level, geom = EXCLUDED.geom,
		props = EXCLUDED.props, height = EXCLUDED.height, floors = EXCLUDED.floors,
		valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
		version = EXCLUDED.version, record = EXCLUDED.record`

// fromNS is the from_ns column of a past version: its ValidFrom in Unix
// nanoseconds, or -2^63 for a zero ValidFrom.
func fromNS(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

// row is one feature encoded for COPY.
type row struct {
	layer, id string
	version   uint64
	args      []any
}

// encodeRow encodes a feature for COPY.
func encodeRow(f *spatial.Feature) (row, error) {
	if f == nil {
		return row{}, fmt.Errorf("%w: nil feature", spatial.ErrInvalid)
	}
	if f.Layer == "" || f.ID == "" {
		return row{}, fmt.Errorf("%w: feature %q in layer %q: empty layer or id", spatial.ErrInvalid, f.ID, f.Layer)
	}
	layer, ok1 := keyText(f.Layer)
	id, ok2 := keyText(f.ID)
	if !ok1 || !ok2 {
		return row{}, fmt.Errorf("%w: %q/%q: layer and id must be valid UTF-8 to be stored in PostgreSQL", spatial.ErrInvalid, f.Layer, f.ID)
	}
	if err := spatial.CheckGeometry(f.Geometry); err != nil {
		return row{}, fmt.Errorf("%w: %s/%s: %v", spatial.ErrInvalid, f.Layer, f.ID, err)
	}
	g, err := hexEWKB(f.Geometry)
	if err != nil {
		return row{}, fmt.Errorf("%w: %s/%s: geometry: %v", spatial.ErrInvalid, f.Layer, f.ID, err)
	}
	var props any // NULL
	if len(f.Properties) > 0 {
		p, err := propsJSON(f.Properties)
		if err != nil {
			return row{}, fmt.Errorf("%w: %s/%s: properties: %v", spatial.ErrInvalid, f.Layer, f.ID, err)
		}
		props = p
	}
	rec, err := spatial.MarshalFeature(f)
	if err != nil {
		return row{}, fmt.Errorf("%w: %v", spatial.ErrInvalid, err)
	}
	for _, t := range []time.Time{f.ValidFrom, f.ValidTo} {
		if !t.IsZero() && !time.Unix(0, t.UnixNano()).Equal(t) {
			return row{}, fmt.Errorf("%w: %s/%s: time %s is outside the years 1678–2262 the record format holds", spatial.ErrInvalid, f.Layer, f.ID, t)
		}
	}
	var from, to any // NULL: unbounded
	if !f.ValidFrom.IsZero() {
		from = f.ValidFrom
	}
	if !f.ValidTo.IsZero() {
		to = f.ValidTo
	}
	return row{
		layer:   f.Layer,
		id:      f.ID,
		version: f.Version,
		args: []any{layer, id, encodeCode(f.Code.Bits()), int64(f.Code.Level()), g, props,
			f.Height, int64(f.Floors), from, to, int64(f.Version), rec},
	}, nil
}

// propsJSON encodes properties for the jsonb column. jsonb cannot hold
// U+0000, so NULs in keys and strings become U+FFFD there (the record
// keeps them).
func propsJSON(p map[string]any) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	if bytes.Contains(b, []byte(`\u0000`)) {
		// Rewrite the JSON itself, whatever Go types made it; numbers
		// pass through as written.
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return "", err
		}
		if b, err = json.Marshal(replaceNUL(v)); err != nil {
			return "", err
		}
	}
	return string(b), nil
}

// replaceNUL replaces U+0000 in the strings and keys of a decoded JSON
// value.
func replaceNUL(v any) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, "\x00", "\uFFFD")
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[strings.ReplaceAll(k, "\x00", "\uFFFD")] = replaceNUL(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = replaceNUL(e)
		}
		return x
	}
	return v
}

// Put inserts or replaces features by layer and id, atomically: COPY into a
// temporary table, then one upsert, committed with synchronous_commit on.
// When a batch names a feature twice the last one wins. A canceled ctx or
// any rejected feature (the error names it) leaves nothing written.
func (s *Store) Put(ctx context.Context, features []*spatial.Feature) error {
	if len(features) == 0 {
		return nil
	}
	rows, err := encodeRows(features, false)
	if err != nil {
		return fmt.Errorf("pgstore: put: %w", err)
	}
	if err := retry(ctx, func() error { return s.writeOnce(ctx, write{current: rows}) }); err != nil {
		return fmt.Errorf("pgstore: put %d features: %w", len(rows), err)
	}
	return nil
}

// encodeRows encodes features for COPY, the last of duplicates winning
// (by layer and id, or for past versions by layer, id and ValidFrom).
func encodeRows(features []*spatial.Feature, past bool) ([]row, error) {
	type key struct {
		layer, id string
		from      int64
	}
	rows := make([]row, 0, len(features))
	index := make(map[key]int, len(features))
	for _, f := range features {
		r, err := encodeRow(f)
		if err != nil {
			return nil, err
		}
		k := key{layer: r.layer, id: r.id}
		if past {
			if f.ValidTo.IsZero() {
				return nil, fmt.Errorf("%w: past version %s/%s from %s has no valid-to", spatial.ErrInvalid, f.Layer, f.ID, f.ValidFrom)
			}
			k.from = fromNS(f.ValidFrom)
			r.args = append(r.args, k.from)
		}
		if i, ok := index[k]; ok {
			rows[i] = r // last one wins; ON CONFLICT cannot touch a row twice
			continue
		}
		index[k] = len(rows)
		rows = append(rows, r)
	}
	return rows, nil
}

// PutVersions applies v in one transaction committed with synchronous_commit
// on: the current versions of v.Ended are deleted, v.Past are upserted into
// feature_versions, v.Current into features. It announces OpPut for the
// current versions and OpHistory for the features whose past versions were
// written or that ended. A canceled ctx or any rejected feature leaves
// nothing written.
func (s *Store) PutVersions(ctx context.Context, v spatial.Versions) error {
	cur, err := encodeRows(v.Current, false)
	if err != nil {
		return fmt.Errorf("pgstore: put versions: %w", err)
	}
	past, err := encodeRows(v.Past, true)
	if err != nil {
		return fmt.Errorf("pgstore: put versions: %w", err)
	}
	w := write{current: cur, past: past}
	for _, r := range v.Ended {
		layer, ok1 := keyText(r.Layer)
		id, ok2 := keyText(r.ID)
		if ok1 && ok2 { // others cannot be stored, so they are absent
			w.ended = append(w.ended, [2]string{layer, id})
			w.endedRefs = append(w.endedRefs, r)
		}
	}
	if len(w.current)+len(w.past)+len(w.ended) == 0 {
		return ctx.Err()
	}
	if err := retry(ctx, func() error { return s.writeOnce(ctx, w) }); err != nil {
		return fmt.Errorf("pgstore: put versions (%d current, %d past, %d ended): %w", len(cur), len(past), len(w.ended), err)
	}
	return nil
}

// write is one transaction's worth of encoded changes.
type write struct {
	current, past []row
	// ended are the (escaped) layer and id of features whose current
	// version goes; endedRefs the same, unescaped.
	ended     [][2]string
	endedRefs []spatial.FeatureRef
}

// retry runs a transaction again, up to 4 times in all, while it fails
// with a deadlock or serialization failure: PostgreSQL rolled it back
// whole, and Put and Delete are idempotent. Concurrent Puts lock rows in
// grid-code order, so two batches that move the same features to
// different cells can deadlock.
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

// writeOnce applies a write in one transaction.
func (s *Store) writeOnce(ctx context.Context, w write) error {
	// The transaction ignores ctx: database/sql would roll back from another
	// goroutine while COPY is streaming. Each statement gets ctx instead,
	// and any failure rolls back here.
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
		return err
	}
	if len(w.ended) > 0 {
		layers := make([]string, len(w.ended))
		ids := make([]string, len(w.ended))
		for i, e := range w.ended {
			layers[i], ids[i] = e[0], e[1]
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM features f USING unnest($1::text[], $2::text[]) AS e(layer, id)
			WHERE f.layer = e.layer AND f.id = e.id`, pq.Array(layers), pq.Array(ids)); err != nil {
			return fmt.Errorf("end: %w", err)
		}
	}
	if len(w.past) > 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE past_in (LIKE feature_versions INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create load table: %w", err)
		}
		if err := copyRows(ctx, tx, "past_in", pastColumns, w.past); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, upsertPastSQL); err != nil {
			return fmt.Errorf("upsert past versions: %w", err)
		}
	}
	if len(w.current) > 0 {
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE features_in (LIKE features INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create load table: %w", err)
		}
		if err := copyRows(ctx, tx, "features_in", copyColumns, w.current); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.ExecContext(ctx, upsertSQL); err != nil {
			return fmt.Errorf("upsert: %w", err)
		}
	}
	changes := putChanges(s.origin, w.current)
	changes = append(changes, historyChanges(s.origin, w.past, w.endedRefs)...)
	if err := s.notify(ctx, tx, changes); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// copyRows streams rows into a load table with COPY FROM STDIN.
func copyRows(ctx context.Context, tx *sql.Tx, table, columns string, rows []row) error {
	stmt, err := tx.PrepareContext(ctx, "COPY "+table+" ("+columns+") FROM STDIN")
	if err != nil {
		return err
	}
	defer stmt.Close() // ends the COPY if we stop early; the caller rolls back
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r.args...); err != nil {
			return nameCopyError(err, rows)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil { // flush and finish
		return nameCopyError(err, rows)
	}
	return nil
}

// copyLine finds the line number in a COPY error's context.
var copyLine = regexp.MustCompile(`COPY (?:features_in|past_in), line (\d+)`)

// nameCopyError adds the layer and id of the row a COPY error is about.
func nameCopyError(err error, rows []row) error {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return err
	}
	m := copyLine.FindStringSubmatch(pqErr.Where)
	if m == nil {
		return err
	}
	n, _ := strconv.Atoi(m[1])
	if n < 1 || n > len(rows) {
		return err
	}
	return fmt.Errorf("feature %s/%s: %w", rows[n-1].layer, rows[n-1].id, err)
}

// Delete removes features of a layer by id, their current and past
// versions alike; ids that do not exist (or could not be stored) are
// ignored. Atomic and durable on return.
func (s *Store) Delete(ctx context.Context, layer string, ids []string) error {
	layerT, ok := keyText(layer)
	if !ok {
		return nil
	}
	keep := make([]string, 0, len(ids))
	for _, id := range ids {
		if t, ok := keyText(id); ok {
			keep = append(keep, t)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	if err := retry(ctx, func() error { return s.deleteOnce(ctx, layer, layerT, keep) }); err != nil {
		return fmt.Errorf("pgstore: delete %d from %s: %w", len(keep), layer, err)
	}
	return nil
}

// deleteOnce deletes in one transaction; ids are escaped (keyText).
func (s *Store) deleteOnce(ctx context.Context, layer, layerT string, ids []string) error {
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
		return err
	}
	rs, err := tx.QueryContext(ctx, `DELETE FROM features WHERE layer = $1 AND id = ANY($2) RETURNING id`, layerT, pq.Array(ids))
	if err != nil {
		return err
	}
	var gone []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return err
		}
		gone = append(gone, fromKeyText(id))
	}
	if err := rs.Close(); err != nil {
		return err
	}
	if err := rs.Err(); err != nil {
		return err
	}
	rs, err = tx.QueryContext(ctx, `WITH d AS (DELETE FROM feature_versions WHERE layer = $1 AND id = ANY($2) RETURNING id) SELECT DISTINCT id FROM d`, layerT, pq.Array(ids))
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(gone))
	for _, id := range gone {
		seen[id] = true
	}
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return err
		}
		if id = fromKeyText(id); !seen[id] {
			seen[id] = true
			gone = append(gone, id)
		}
	}
	if err := rs.Close(); err != nil {
		return err
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if err := s.notify(ctx, tx, deleteChanges(s.origin, layer, gone)); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Get returns one feature, or an error wrapping spatial.ErrNotFound.
func (s *Store) Get(ctx context.Context, layer, id string) (*spatial.Feature, error) {
	layerT, ok1 := keyText(layer)
	idT, ok2 := keyText(id)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("pgstore: get %q/%q: %w", layer, id, spatial.ErrNotFound)
	}
	var rec []byte
	err := s.db.QueryRowContext(ctx, `SELECT record FROM features WHERE layer = $1 AND id = $2`, layerT, idT).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", layer, id, spatial.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", layer, id, err)
	}
	f, err := spatial.UnmarshalFeature(rec)
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s/%s: %w", layer, id, err)
	}
	return f, nil
}

// Past returns the past versions of a feature in ValidFrom order (none,
// with no error, when it has none).
func (s *Store) Past(ctx context.Context, layer, id string) ([]*spatial.Feature, error) {
	layerT, ok1 := keyText(layer)
	idT, ok2 := keyText(id)
	if !ok1 || !ok2 {
		return nil, ctx.Err()
	}
	var out []*spatial.Feature
	err := s.scan(ctx, "past versions of "+layer+"/"+id, func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	}, `SELECT record FROM feature_versions WHERE layer = $1 AND id = $2 ORDER BY from_ns`, layerT, idT)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ScanPast calls fn for every past version, in layer, id and ValidFrom
// order, stopping at fn's first error, which it returns.
func (s *Store) ScanPast(ctx context.Context, fn func(*spatial.Feature) error) error {
	return s.scan(ctx, "scan past versions", fn, `SELECT record FROM feature_versions ORDER BY layer, id, from_ns`)
}

// Layers lists the non-empty layers in name order (bytewise), with their
// feature counts and the union of their bounding boxes (ST_Extent).
func (s *Store) Layers(ctx context.Context) ([]spatial.LayerInfo, error) {
	rs, err := s.db.QueryContext(ctx, `SELECT layer, n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
		FROM (SELECT layer, count(*) AS n, ST_Extent(geom) AS e FROM features GROUP BY layer) AS l
		ORDER BY layer`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: layers: %w", err)
	}
	defer rs.Close()
	var out []spatial.LayerInfo
	for rs.Next() {
		var li spatial.LayerInfo
		if err := rs.Scan(&li.Name, &li.Count, &li.Bound.Min[0], &li.Bound.Min[1], &li.Bound.Max[0], &li.Bound.Max[1]); err != nil {
			return nil, fmt.Errorf("pgstore: layers: %w", err)
		}
		li.Name = fromKeyText(li.Name)
		out = append(out, li)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: layers: %w", err)
	}
	return out, nil
}

// Scan calls fn for every feature of a layer in grid-code order (code,
// then level, then id), stopping at fn's first error, which it returns.
func (s *Store) Scan(ctx context.Context, layer string, fn func(*spatial.Feature) error) error {
	layerT, ok := keyText(layer)
	if !ok {
		return ctx.Err()
	}
	return s.scan(ctx, "scan "+layer, fn,
		`SELECT record FROM features WHERE layer = $1 ORDER BY code, level, id`, layerT)
}

// ScanCell calls fn for every feature of a layer whose grid code is cell or
// a descendant of it, in grid-code order: one range scan of the (layer,
// code) index. Features with a coarser (ancestor) code are not included.
func (s *Store) ScanCell(ctx context.Context, layer string, cell gridcode.Code, fn func(*spatial.Feature) error) error {
	layerT, ok := keyText(layer)
	if !ok {
		return ctx.Err()
	}
	lo, hi := cell.Range()
	return s.scan(ctx, "scan cell "+cell.String()+" of "+layer, fn,
		`SELECT record FROM features WHERE layer = $1 AND code BETWEEN $2 AND $3 AND level >= $4
		ORDER BY code, level, id`, layerT, encodeCode(lo), encodeCode(hi), cell.Level())
}

// scan runs a query returning records and calls fn for each decoded one.
func (s *Store) scan(ctx context.Context, what string, fn func(*spatial.Feature) error, query string, args ...any) error {
	rs, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	defer rs.Close()
	for rs.Next() {
		var rec sql.RawBytes
		if err := rs.Scan(&rec); err != nil {
			return fmt.Errorf("pgstore: %s: %w", what, err)
		}
		f, err := spatial.UnmarshalFeature(rec) // copies everything out of rec
		if err != nil {
			return fmt.Errorf("pgstore: %s: %w", what, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	return nil
}
