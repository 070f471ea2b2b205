package pglog_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/internal/pgtest"
	"citytwin/twin/live"
	"citytwin/twin/live/logtest"
	"citytwin/twin/live/pglog"

	"github.com/lib/pq"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a Log on url, closed when t ends (unless the test closed it).
func open(t testing.TB, url string) *pglog.Log {
	t.Helper()
	l, err := pglog.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestConformance runs the live.Log suite, each test on a fresh database
// of the shared cluster.
func TestConformance(t *testing.T) {
	logtest.Run(t, func(t *testing.T) live.Log {
		l, err := pglog.Open(context.Background(), pgtest.Start(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestPrune(t *testing.T) {
	l, err := pglog.Open(context.Background(), pgtest.Start(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	logtest.RunPrune(t, l)
}

// TestConcurrentOpen opens several Logs on a fresh database at once: the
// schema is created once, under the advisory lock.
func TestConcurrentOpen(t *testing.T) {
	url := pgtest.Start(t)
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := pglog.Open(context.Background(), url, nil)
			if err == nil {
				err = l.Append(context.Background(), []*live.Object{logtest.Obj("a", "v", 121.6, 38.9, logtest.Sec(1), "")})
				l.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// follow runs l.Follow in the background, sending each batch to the
// returned channel, until the test ends; the second channel receives
// Follow's result.
func follow(t *testing.T, l *pglog.Log) (<-chan []*live.Object, <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	batches := make(chan []*live.Object, 100)
	done := make(chan error, 1)
	go func() { done <- l.Follow(ctx, func(objs []*live.Object) { batches <- objs }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Follow still running 10 s after its context ended")
		}
	})
	return batches, done
}

// waitListening waits until n connections of the test's database are
// listening.
func waitListening(t *testing.T, l *pglog.Log, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got int
		if err := l.DB().QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listening connections after 10 s, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// next receives one batch or fails t after a timeout.
func next(t *testing.T, ch <-chan []*live.Object) []*live.Object {
	t.Helper()
	select {
	case objs := <-ch:
		return objs
	case <-time.After(10 * time.Second):
		t.Fatal("no batch within 10 s")
	}
	return nil
}

// quiet fails t if a batch arrives within d.
func quiet(t *testing.T, ch <-chan []*live.Object, d time.Duration, who string) {
	t.Helper()
	select {
	case objs := <-ch:
		t.Errorf("%s got an unexpected batch of %d: %s…", who, len(objs), logtest.Describe(objs[0]))
	case <-time.After(d):
	}
}

// sameBatch fails t unless got holds exactly want's updates, in any order.
func sameBatch(t *testing.T, what string, want, got []*live.Object) {
	t.Helper()
	byKey := map[string]*live.Object{}
	for _, o := range got {
		byKey[fmt.Sprintf("%s@%d", o.ID, o.Time)] = o
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d updates, want %d", what, len(got), len(want))
	}
	for _, w := range want {
		if g := byKey[fmt.Sprintf("%s@%d", w.ID, w.Time)]; !logtest.Same(w, g) {
			t.Errorf("%s: got %s, want %s", what, logtest.Describe(g), logtest.Describe(w))
		}
	}
}

// batchOf returns n updates of objects prefix-0… at second sec.
func batchOf(prefix string, n int, sec float64) []*live.Object {
	objs := make([]*live.Object, n)
	for i := range objs {
		objs[i] = logtest.Obj(fmt.Sprintf("%s-%d", prefix, i), "vehicles", 121.6+float64(i)/1000, 38.9, logtest.Sec(sec), fmt.Sprintf(`{"i":%d}`, i))
	}
	return objs
}

// TestFollow: two Logs on one database, as two servers have. What one
// appends reaches the other's Follow, in commit order, and not its own.
func TestFollow(t *testing.T) {
	url := pgtest.Start(t)
	a, b := open(t, url), open(t, url)
	ctx := context.Background()
	toA, _ := follow(t, a)
	toB, _ := follow(t, b)
	waitListening(t, a, 2)

	x := batchOf("x", 3, 1)
	x = append(x, logtest.Tomb("gone", "vehicles", logtest.Sec(1)))
	if err := a.Append(ctx, x); err != nil {
		t.Fatal(err)
	}
	sameBatch(t, "b got a's batch", x, next(t, toB))
	y := batchOf("y", 2, 2)
	if err := b.Append(ctx, y); err != nil {
		t.Fatal(err)
	}
	sameBatch(t, "a got b's batch", y, next(t, toA))

	// Many batches arrive one by one, in commit order.
	for i := range 20 {
		if err := a.Append(ctx, batchOf(fmt.Sprintf("seq%02d", i), 5, 3)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		got := next(t, toB)
		if len(got) != 5 || got[0].ID[:5] != fmt.Sprintf("seq%02d", i) {
			t.Fatalf("batch %d: %d updates of %q", i, len(got), got[0].ID)
		}
	}
	// A replay is announced again (the twin ignores it).
	if err := a.Append(ctx, x[:1]); err != nil {
		t.Fatal(err)
	}
	sameBatch(t, "replay", x[:1], next(t, toB))
	quiet(t, toA, 300*time.Millisecond, "a (its own batches)")
	quiet(t, toB, 0, "b")
}

// TestFollowTwins wires two twins to two Logs of one database: updates
// and removals taken by one appear in the other.
func TestFollowTwins(t *testing.T) {
	url := pgtest.Start(t)
	la, lb := open(t, url), open(t, url)
	ctx := context.Background()
	clock := func() time.Time { return logtest.Base.Add(time.Hour) }
	ta, err := live.New(ctx, la, clock)
	if err != nil {
		t.Fatal(err)
	}
	// b takes an update after a loaded and before a follows: Follow
	// delivers it (it committed after a's Latest).
	if err := lb.Append(ctx, []*live.Object{logtest.Obj("early", "v", 121.6, 38.9, logtest.Sec(1), "")}); err != nil {
		t.Fatal(err)
	}
	tb, err := live.New(ctx, lb, clock)
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go la.Follow(fctx, ta.ApplyRemote)
	go lb.Follow(fctx, tb.ApplyRemote)
	waitListening(t, la, 2)

	var p live.Parser
	objs, rej, err := p.Parse([]byte(`[{"id":"bus-1","layer":"vehicles","lon":121.6,"lat":38.9,"time":"2026-11-30T04:00:10Z","state":{"route":"23"}}]`), clock())
	if err != nil || len(rej) > 0 {
		t.Fatal(err, rej)
	}
	if _, err := ta.Ingest(ctx, objs, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bus-1 in b", func() bool { o, err := tb.Get("bus-1"); return err == nil && string(o.State) == `{"route":"23"}` })
	eventually(t, "early in a", func() bool { _, err := ta.Get("early"); return err == nil })
	if err := tb.Remove(ctx, "bus-1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bus-1 removed from a", func() bool { _, err := ta.Get("bus-1"); return errors.Is(err, live.ErrNotFound) })
	if s := ta.Stats(); s.Remote != 2 {
		t.Errorf("a applied %d remote updates, want 2 (early, bus-1's removal)", s.Remote)
	}
	if s := tb.Stats(); s.Remote != 1 {
		t.Errorf("b applied %d remote updates, want 1 (bus-1)", s.Remote)
	}
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestFollowReconnect kills the follower's listening connection and keeps
// it from reconnecting while the other Log appends: once it is back, the
// follower catches up on what it missed, and goes on following.
func TestFollowReconnect(t *testing.T) {
	url := pgtest.Start(t)
	a, b := open(t, url), open(t, url)
	ctx := context.Background()
	toB, _ := follow(t, b)
	waitListening(t, a, 1)
	warm := batchOf("warm", 2, 1)
	if err := a.Append(ctx, warm); err != nil {
		t.Fatal(err)
	}
	sameBatch(t, "before the kill", warm, next(t, toB))

	// Keep b from reconnecting: the database refuses connections (a
	// appends through the connections its pool already holds). That is
	// switched from another database of the cluster.
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	allow := func(on bool) {
		t.Helper()
		if _, err := admin.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s ALLOW_CONNECTIONS %t`, pq.QuoteIdentifier(db), on)); err != nil {
			t.Fatal(err)
		}
	}
	allow(false)
	defer allow(true)
	var killed int
	if err := a.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listening connections: %v", killed, err)
	}
	// Appended while b has no listening connection: no notification
	// reaches b.
	missed := batchOf("missed", 3, 2)
	if err := a.Append(ctx, missed); err != nil {
		t.Fatal(err)
	}
	missed2 := batchOf("missed2", 2, 2)
	if err := a.Append(ctx, missed2); err != nil {
		t.Fatal(err)
	}
	quiet(t, toB, 300*time.Millisecond, "b while disconnected")
	allow(true)
	t0 := time.Now()
	sameBatch(t, "first missed batch", missed, next(t, toB))
	sameBatch(t, "second missed batch", missed2, next(t, toB))
	t.Logf("caught up %v after connections were allowed again", time.Since(t0))
	waitListening(t, a, 1)
	after := batchOf("after", 2, 3)
	if err := a.Append(ctx, after); err != nil {
		t.Fatal(err)
	}
	sameBatch(t, "after reconnecting", after, next(t, toB))
	quiet(t, toB, 300*time.Millisecond, "b (duplicates)")
}

// TestFollowEnds: Follow returns the context's error when it ends, and
// an error when the Log is closed; a second Follow on one Log fails.
func TestFollowEnds(t *testing.T) {
	url := pgtest.Start(t)
	l, err := pglog.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Follow(ctx, func([]*live.Object) {}) }()
	waitListening(t, l, 1)
	if err := l.Follow(context.Background(), func([]*live.Object) {}); err == nil {
		t.Error("a second Follow on one Log succeeded")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Follow after its context ended: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow still running 10 s after its context ended")
	}
	go func() { done <- l.Follow(context.Background(), func([]*live.Object) {}) }()
	waitListening(t, l, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Error("Follow on a closed Log returned nil")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow still running 10 s after Close")
	}
	if err := l.Follow(context.Background(), func([]*live.Object) {}); err == nil {
		t.Error("Follow after Close succeeded")
	}
}

// BenchmarkAppend appends batches of 1,000 updates and reports updates/s.
//
//	go test -run '^$' -bench Append ./twin/live/pglog/
func BenchmarkAppend(b *testing.B) {
	l := open(b, pgtest.Start(b))
	logtest.BenchAppend(b, l, 1000)
}
