// Package pgfences keeps fence definitions in PostgreSQL (a fence.Saver)
// and tells every server sharing the database when they change, so that
// replicas raise the same fence events.
//
// Definitions live in the table citytwin_fences(id, def); each save or
// delete commits with a NOTIFY on the channel citytwin_fences, and Watch
// calls back on every notification (and after a lost connection, when
// notifications may have been missed), whereupon the server reloads the
// definitions with Sync.
package pgfences

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"citytwin/twin/fence"

	"github.com/lib/pq"
)

// Channel is the NOTIFY channel of fence changes.
const Channel = "citytwin_fences"

// Store is a fence.Saver in PostgreSQL.
type Store struct {
	db  *sql.DB
	url string
}

// Open connects and creates the table if it is missing.
func Open(ctx context.Context, url string) (*Store, error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("pgfences: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS citytwin_fences (id text PRIMARY KEY, def bytea NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("pgfences: create table: %w", err)
	}
	return &Store{db: db, url: url}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) exec(ctx context.Context, what, query string, args ...any) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgfences: %s: %w", what, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("pgfences: %s: %w", what, err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, args[0]); err != nil {
		return fmt.Errorf("pgfences: %s: notify: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgfences: %s: %w", what, err)
	}
	return nil
}

// SaveFence implements fence.Saver.
func (s *Store) SaveFence(ctx context.Context, id string, def []byte) error {
	return s.exec(ctx, "save "+id, `INSERT INTO citytwin_fences (id, def) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET def = EXCLUDED.def`, id, def)
}

// DeleteFence implements fence.Saver.
func (s *Store) DeleteFence(ctx context.Context, id string) error {
	return s.exec(ctx, "delete "+id, `DELETE FROM citytwin_fences WHERE id = $1`, id)
}

// LoadFences implements fence.Saver.
func (s *Store) LoadFences(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, def FROM citytwin_fences`)
	if err != nil {
		return nil, fmt.Errorf("pgfences: load: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id string
		var def []byte
		if err := rows.Scan(&id, &def); err != nil {
			return nil, fmt.Errorf("pgfences: load: %w", err)
		}
		out[id] = def
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgfences: load: %w", err)
	}
	return out, nil
}

// Watch calls changed after every committed fence change of any server,
// and after the listening connection is re-established, until ctx ends.
// It returns once listening has started.
func (s *Store) Watch(ctx context.Context, changed func()) error {
	l := pq.NewListener(s.url, 100*time.Millisecond, 10*time.Second, nil)
	if err := l.Listen(Channel); err != nil {
		l.Close()
		return fmt.Errorf("pgfences: listen: %w", err)
	}
	go func() {
		defer l.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case <-l.Notify: // nil after a reconnection: reload as well
				changed()
			case <-time.After(time.Minute):
				go func() { _ = l.Ping() }()
			}
		}
	}()
	return nil
}

// Sync makes the engine hold exactly the stored definitions: it removes
// fences no longer stored and adds or replaces the others. It returns
// the errors of definitions that could not be added.
func Sync(ctx context.Context, s fence.Saver, e *fence.Engine) error {
	stored, err := s.LoadFences(ctx)
	if err != nil {
		return err
	}
	for _, d := range e.List() {
		if _, ok := stored[d.ID]; !ok {
			e.Remove(d.ID)
		}
	}
	var errs []error
	for id, raw := range stored {
		def, err := fence.ParseDefinition(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("fence %q: %w", id, err))
			continue
		}
		if old, ok := e.Get(id); ok {
			if same(old, def) {
				continue
			}
			e.Remove(id)
		}
		if _, err := e.Add(def); err != nil {
			errs = append(errs, fmt.Errorf("fence %q: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// same reports whether two definitions are equal (by their JSON).
func same(a, b fence.Definition) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}
