package pgtest

import (
	"context"
	"database/sql"
	"os"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// TestStart checks that a database has PostGIS and that two tests get
// different databases of one shared cluster.
func TestStart(t *testing.T) {
	var names [2]string
	for i := range names {
		u := Start(t)
		db, err := sql.Open("postgres", u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var v string
		if err := db.QueryRowContext(context.Background(), "SELECT current_database() || ' ' || postgis_lib_version()").Scan(&v); err != nil {
			t.Fatal(err)
		}
		names[i] = v
		t.Log(v)
	}
	if names[0] == names[1] {
		t.Fatalf("two Starts gave the same database %q", names[0])
	}
	c, _ := sharedCluster()
	if c == nil {
		t.Fatal("no shared cluster under Main")
	}
	if n := len(c.Dir()) + len("/.s.PGSQL.65535"); n > 107 {
		t.Errorf("socket path %d bytes", n)
	}
}

// TestDedicatedCluster starts a cluster of its own and checks that Stop
// removes it.
func TestDedicatedCluster(t *testing.T) {
	c, err := StartCluster()
	if err != nil {
		SkipOrFail(t, err)
	}
	defer c.Stop()
	ctx := context.Background()
	name, u, err := c.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := c.DropDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Fatalf("%s still there after Stop: %v", c.Dir(), err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

// TestSkipOrFail checks the skip/fail decision on a missing server.
func TestSkipOrFail(t *testing.T) {
	t.Setenv("PG_BINDIR", t.TempDir())
	_, err := StartCluster()
	if err == nil {
		t.Fatal("StartCluster succeeded without binaries")
	}
	for _, ci := range []string{"", "true"} {
		t.Setenv("CI", ci)
		ft := &fakeTB{TB: t}
		func() {
			defer func() { recover() }()
			SkipOrFail(ft, err)
		}()
		if ci == "true" && (!ft.failed || ft.skipped) {
			t.Errorf("CI=true: skipped=%v failed=%v, want a failure", ft.skipped, ft.failed)
		}
		if ci == "" && (!ft.skipped || ft.failed) {
			t.Errorf("CI unset: skipped=%v failed=%v, want a skip", ft.skipped, ft.failed)
		}
	}
}

// fakeTB records Skip and Fatal instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeTB) Helper()              {}
func (f *fakeTB) Skipf(string, ...any) { f.skipped = true; panic("skip") }
func (f *fakeTB) Fatal(...any)         { f.failed = true; panic("fatal") }
