package pgstore

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations returns the schema changes in order; migration i brings the
// schema to version i+1. Never edit an applied migration: append one.
//
// The features table holds one row per feature. record is the feature as
// spatial.MarshalFeature encodes it (with its CRC): it is what reads decode,
// so a feature reads back exactly as it was written (property types,
// nanosecond times, the uint64 version, strings jsonb cannot hold). The
// other columns are derived from it on every write, for SQL users and the
// indexes; a tool that updates them must rewrite record too.
//
//   - layer, id: COLLATE "C", so ordering is bytewise as in Go; NUL and
//     0x01 bytes escaped as keyText describes (other names are stored
//     as they are).
//   - code: the GeoSOT code's left-aligned uint64 bits with the sign bit
//     flipped, as int64 (see encodeCode): signed order is unsigned order,
//     so a cell and its descendants are one BETWEEN range.
//   - level: the code's level, 0–32.
//   - geom: geometry(Geometry, 4490), CGCS2000 longitude/latitude.
//   - props: the properties as jsonb (NUL characters, which jsonb cannot
//     hold, replaced by U+FFFD); NULL when there are none.
//   - height, floors, valid_from, valid_to (NULL: unbounded).
//   - version: the uint64 version reinterpreted as int64.
//
// The feature_versions table (migration 2) holds past versions, one row per
// version, with the same columns derived the same way, plus from_ns, the
// ValidFrom in Unix nanoseconds (-2^63 for a zero ValidFrom, which no other
// time maps to), which tells apart the versions of one feature: the key
// is (layer, id, from_ns). valid_to is never NULL there. Reads of history
// decode record, as for features.
func migrations() []string {
	return []string{
		// 1: features and their indexes.
		`CREATE TABLE features (
			layer      text COLLATE "C" NOT NULL,
			id         text COLLATE "C" NOT NULL,
			code       bigint NOT NULL,
			level      smallint NOT NULL CHECK (level BETWEEN 0 AND 32),
			geom       geometry(Geometry, 4490) NOT NULL,
			props      jsonb,
			height     double precision NOT NULL DEFAULT 0,
			floors     integer NOT NULL DEFAULT 0,
			valid_from timestamptz,
			valid_to   timestamptz,
			version    bigint NOT NULL,
			record     bytea NOT NULL,
			PRIMARY KEY (layer, id)
		);
		CREATE INDEX features_code_idx ON features (layer, code, level, id);
		CREATE INDEX features_geom_idx ON features USING gist (geom);`,
		// 2: past versions of features.
		`CREATE TABLE feature_versions (
			layer      text COLLATE "C" NOT NULL,
			id         text COLLATE "C" NOT NULL,
			from_ns    bigint NOT NULL,
			code       bigint NOT NULL,
			level      smallint NOT NULL CHECK (level BETWEEN 0 AND 32),
			geom       geometry(Geometry, 4490) NOT NULL,
			props      jsonb,
			height     double precision NOT NULL DEFAULT 0,
			floors     integer NOT NULL DEFAULT 0,
			valid_from timestamptz,
			valid_to   timestamptz NOT NULL,
			version    bigint NOT NULL,
			record     bytea NOT NULL,
			PRIMARY KEY (layer, id, from_ns)
		);
		CREATE INDEX feature_versions_geom_idx ON feature_versions USING gist (geom);`,
	}
}

// lockKey names the advisory lock that serialises migrations of one
// schema; it is hashed with the schema name in SQL.
const lockKey = "citytwin.pgstore.migrate:"

// migrate brings the schema in the connection's current schema up to date,
// in one transaction under an advisory lock so concurrent Opens queue
// rather than collide. It is idempotent.
func migrate(ctx context.Context, db *sql.DB) (version int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || current_schema(), 0))`, lockKey); err != nil {
		return 0, fmt.Errorf("advisory lock: %w", err)
	}
	var hasPostGIS bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`).Scan(&hasPostGIS); err != nil {
		return 0, fmt.Errorf("check postgis: %w", err)
	}
	if !hasPostGIS {
		if _, err := tx.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
			return 0, fmt.Errorf("postgis extension is missing and could not be created (a superuser must run CREATE EXTENSION postgis): %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return 0, fmt.Errorf("create schema_version: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	ms := migrations()
	if version > len(ms) {
		return version, fmt.Errorf("database schema version %d is newer than this program knows (%d)", version, len(ms))
	}
	for i := version; i < len(ms); i++ {
		if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
			return version, fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES ($1)`, i+1); err != nil {
			return version, fmt.Errorf("record migration %d: %w", i+1, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return version, fmt.Errorf("commit migrations: %w", err)
	}
	return len(ms), nil
}
