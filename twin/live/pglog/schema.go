package pglog

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations returns the schema changes in order; migration i brings the
// schema to version i+1. Never edit an applied migration: append one.
//
// live_history holds one row per stored update, keyed by object id and
// source time (a replay of the same id and time replaces its row):
//
//   - id: the object id, COLLATE "C" (bytewise order, as in Go).
//   - t: the source time, Unix microseconds (live.Object.Time).
//   - layer: the object's layer at that time.
//   - geom: geometry(PointZ, 4490): longitude, latitude (CGCS2000) and
//     height in metres above the ellipsoid; the float64 values exactly.
//   - heading, speed: real (float32, exactly); NULL when not reported.
//   - recv: when a server received the update, Unix microseconds.
//   - state: the state object's exact JSON bytes as ingested (bytea, not
//     jsonb, which would reorder keys); NULL when there is none. SQL users
//     read it with convert_from(state, 'UTF8')::jsonb.
//   - gone: a tombstone (the object left the twin at t).
//   - batch: the 64-bit id (xid8, pg_current_xact_id()) of the transaction
//     that last wrote the row, which Follow fetches by.
//
// Indexes: the primary key (id, t) serves History, and Latest and AsOf as
// a skip scan (one probe for each next id, one backward probe for its
// newest row at or before a time); batch serves Follow; a BRIN index on t
// (a few pages for the whole table) serves time-range queries from SQL.
// Version 1 also had a GiST index on geom; no query of ours used it and it
// halved Append's throughput (41,000 → 59,000 updates/s without it), so
// version 2 drops it: a spatial query over the history from SQL should
// filter by time first.
func migrations() []string {
	return []string{
		// 1: live_history and its indexes.
		`CREATE TABLE live_history (
			id      text COLLATE "C" NOT NULL,
			t       bigint NOT NULL,
			layer   text NOT NULL,
			geom    geometry(PointZ, 4490) NOT NULL,
			heading real,
			speed   real,
			recv    bigint NOT NULL,
			state   bytea,
			gone    boolean NOT NULL DEFAULT false,
			batch   bigint NOT NULL,
			PRIMARY KEY (id, t)
		);
		CREATE INDEX live_history_batch_idx ON live_history (batch);
		CREATE INDEX live_history_geom_idx ON live_history USING gist (geom);`,
		// 2: the GiST index goes, a BRIN index on time comes.
		`DROP INDEX IF EXISTS live_history_geom_idx;
		CREATE INDEX live_history_t_brin ON live_history USING brin (t);`,
	}
}

// lockKey names the advisory lock that serialises migrations of one
// schema; it is hashed with the schema name in SQL.
const lockKey = "citytwin.pglog.migrate:"

// migrate brings the live tables in the connection's current schema up to
// date, in one transaction under an advisory lock so that concurrent Opens
// queue rather than collide. It is idempotent. The version is kept in
// live_schema_version (the feature store keeps its own in schema_version,
// so both can share a schema).
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || current_schema(), 0))`, lockKey); err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	var hasPostGIS bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`).Scan(&hasPostGIS); err != nil {
		return fmt.Errorf("check postgis: %w", err)
	}
	if !hasPostGIS {
		if _, err := tx.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
			return fmt.Errorf("postgis extension is missing and could not be created (a superuser must run CREATE EXTENSION postgis): %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS live_schema_version (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("create live_schema_version: %w", err)
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM live_schema_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	ms := migrations()
	if version > len(ms) {
		return fmt.Errorf("live schema version %d is newer than this program knows (%d)", version, len(ms))
	}
	for i := version; i < len(ms); i++ {
		if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO live_schema_version (version) VALUES ($1)`, i+1); err != nil {
			return fmt.Errorf("record migration %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}
