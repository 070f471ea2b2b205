package pgstore

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	"citytwin/spatial"

	_ "github.com/lib/pq"
)

// TestMigratesVersion1 opens a database made by a program that knew only
// migration 1 and holds features: Open adds the history table, the
// features are untouched, and history can be written.
func TestMigratesVersion1(t *testing.T) {
	url := newURL(t)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS postgis;
		CREATE TABLE schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, migrations()[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	// Features written the way version 1 wrote them: the COPY and upsert
	// of Put, which are unchanged.
	fs := mixed(40, "m", 20)
	rows, err := encodeRows(fs, false)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE features_in (LIKE features INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
		t.Fatal(err)
	}
	if err := copyRows(ctx, tx, "features_in", copyColumns, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, upsertSQL); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	s := open(t, url)
	var v int
	if err := s.DB().QueryRow(`SELECT max(version) FROM schema_version`).Scan(&v); err != nil || v != 2 {
		t.Fatalf("schema version %d after Open (%v), want 2", v, err)
	}
	for _, f := range fs {
		got, err := s.Get(ctx, "m", f.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFeature(t, f, got)
	}
	old := fs[0].Clone()
	old.ValidFrom, old.ValidTo = time.Time{}, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.PutVersions(ctx, spatial.Versions{Past: []*spatial.Feature{old}}); err != nil {
		t.Fatal(err)
	}
	past, err := s.Past(ctx, "m", old.ID)
	if err != nil || len(past) != 1 {
		t.Fatalf("Past after migrating: %d %v", len(past), err)
	}
	sameFeature(t, old, past[0])
	var fromNSCol int64
	var to time.Time
	if err := s.DB().QueryRow(`SELECT from_ns, valid_to FROM feature_versions`).Scan(&fromNSCol, &to); err != nil {
		t.Fatal(err)
	}
	if fromNSCol != fromNS(time.Time{}) || !to.Equal(old.ValidTo) {
		t.Errorf("feature_versions columns: from_ns %d valid_to %s", fromNSCol, to)
	}
}

// TestListenAnnouncesHistory: an edit announces the current versions
// (OpPut) and the archived ones (OpHistory) from one transaction, an end
// OpHistory, a purge OpDelete with the ids that had only history.
func TestListenAnnouncesHistory(t *testing.T) {
	url := newURL(t)
	a, b := open(t, url), open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := b.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fs := mixed(41, "h", 2)
	if err := a.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	next(t, ch)
	arch := fs[0].Clone()
	arch.ValidTo = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if !arch.ValidFrom.IsZero() && !arch.ValidTo.After(arch.ValidFrom) {
		arch.ValidFrom = time.Time{}
	}
	cur := fs[0].Clone()
	cur.ValidFrom, cur.ValidTo, cur.Version = arch.ValidTo, time.Time{}, 99
	if err := a.PutVersions(ctx, spatial.Versions{Current: []*spatial.Feature{cur}, Past: []*spatial.Feature{arch}}); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); !reflect.DeepEqual(c, Change{Origin: a.Origin(), Op: OpPut, Layer: "h", IDs: []string{cur.ID}, Versions: []uint64{99}, Count: 1}) {
		t.Errorf("edit, first change: %+v", c)
	}
	if c := next(t, ch); !reflect.DeepEqual(c, Change{Origin: a.Origin(), Op: OpHistory, Layer: "h", IDs: []string{cur.ID}, Count: 1}) {
		t.Errorf("edit, second change: %+v", c)
	}
	ended := fs[1].Clone()
	ended.ValidTo = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	if !ended.ValidFrom.IsZero() && !ended.ValidTo.After(ended.ValidFrom) {
		ended.ValidFrom = time.Time{}
	}
	if err := a.PutVersions(ctx, spatial.Versions{Past: []*spatial.Feature{ended}, Ended: []spatial.FeatureRef{{Layer: "h", ID: ended.ID}}}); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); !reflect.DeepEqual(c, Change{Origin: a.Origin(), Op: OpHistory, Layer: "h", IDs: []string{ended.ID}, Count: 1}) {
		t.Errorf("end: %+v", c)
	}
	if _, err := a.Get(ctx, "h", ended.ID); err == nil {
		t.Error("an ended feature still has a current version")
	}
	if err := a.Delete(ctx, "h", []string{ended.ID, cur.ID}); err != nil {
		t.Fatal(err)
	}
	c := next(t, ch)
	if c.Op != OpDelete || c.Count != 2 {
		t.Errorf("purge: %+v", c)
	}
	var n int
	if err := a.DB().QueryRow(`SELECT count(*) FROM feature_versions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d past versions left after the purge (%v)", n, err)
	}
}
