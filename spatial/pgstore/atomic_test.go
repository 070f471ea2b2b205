package pgstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// checkUntouched fails t unless the store holds exactly before, unchanged.
func checkUntouched(t *testing.T, s *Store, before []*spatial.Feature) {
	t.Helper()
	if n := count(t, s); n != len(before) {
		t.Fatalf("%d rows after a failed batch, want %d", n, len(before))
	}
	for _, f := range before {
		got, err := s.Get(context.Background(), f.Layer, f.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFeature(t, f, got)
	}
}

// failingBatch returns replacements of before (new versions) plus new
// features, with bad inserted at position at.
func failingBatch(before []*spatial.Feature, fresh []*spatial.Feature, bad *spatial.Feature, at int) []*spatial.Feature {
	var batch []*spatial.Feature
	for _, f := range before {
		g := f.Clone()
		g.Version += 100
		g.Properties = map[string]any{"should": "not persist"}
		batch = append(batch, g)
	}
	batch = append(batch, fresh...)
	if bad != nil {
		batch = append(batch[:at:at], append([]*spatial.Feature{bad}, batch[at:]...)...)
	}
	return batch
}

func TestFailedBatchWritesNothing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	before := mixed(10, "x", 100)
	if err := s.Put(ctx, before); err != nil {
		t.Fatal(err)
	}
	fresh := buildings(11, "x", 0, 1500, 0.1)

	// More floors than PostgreSQL's integer holds.
	manyFloors := &spatial.Feature{Layer: "x", ID: "many-floors", Version: 1, Geometry: orb.Point{121.6, 38.9}, Floors: 1 << 40}
	for _, bad := range []*spatial.Feature{manyFloors} {
		err := s.Put(ctx, failingBatch(before, fresh, bad, 1200))
		if err == nil {
			t.Fatalf("%s: put succeeded", bad.ID)
		}
		if !strings.Contains(err.Error(), "feature x/"+bad.ID+":") {
			t.Errorf("%s: error does not name the feature: %v", bad.ID, err)
		}
		t.Logf("%s: %v", bad.ID, err)
		checkUntouched(t, s, before)
	}

	// A rejection after COPY, when the rows are moved into features (a
	// trigger stands in for any constraint the server enforces there).
	if _, err := s.DB().Exec(`CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.id = 'poison' THEN RAISE EXCEPTION 'poisoned feature'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER reject_poison BEFORE INSERT OR UPDATE ON features FOR EACH ROW EXECUTE FUNCTION reject_poison()`); err != nil {
		t.Fatal(err)
	}
	poison := &spatial.Feature{Layer: "x", ID: "poison", Version: 1, Geometry: orb.Point{121.6, 38.9}}
	prepared(t, poison)
	if err := s.Put(ctx, failingBatch(before, fresh, poison, len(before)+len(fresh))); err == nil || !strings.Contains(err.Error(), "poisoned") {
		t.Fatalf("poisoned batch: %v", err)
	}
	checkUntouched(t, s, before)
	if _, err := s.DB().Exec(`DROP TRIGGER reject_poison ON features`); err != nil {
		t.Fatal(err)
	}

	// The store is still usable, on every pooled connection.
	if err := s.Put(ctx, failingBatch(before, fresh, nil, 0)); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != len(before)+len(fresh) {
		t.Fatalf("%d rows, want %d", n, len(before)+len(fresh))
	}
}

// cancelAfter is a context canceled by its n-th Done call: database/sql
// checks Done before each row it sends to COPY, so this cancels in the
// middle of the stream, deterministically.
type cancelAfter struct {
	context.Context
	calls, n int64
	once     sync.Once
	done     chan struct{}
}

func newCancelAfter(n int64) *cancelAfter {
	return &cancelAfter{Context: context.Background(), n: n, done: make(chan struct{})}
}

func (c *cancelAfter) Done() <-chan struct{} {
	if atomic.AddInt64(&c.calls, 1) >= c.n {
		c.once.Do(func() { close(c.done) })
	}
	return c.done
}

func (c *cancelAfter) Err() error {
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

func TestCanceledPutWritesNothing(t *testing.T) {
	s, _ := newStore(t)
	before := mixed(12, "c", 100)
	if err := s.Put(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	fresh := buildings(13, "c", 0, 6000, 0.1)
	batch := failingBatch(before, fresh, nil, 0)

	// Canceled mid-COPY, after about 2,000 rows.
	ctx := newCancelAfter(2000)
	err := s.Put(ctx, batch)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("put canceled mid-COPY: %v", err)
	}
	if calls := atomic.LoadInt64(&ctx.calls); calls >= int64(len(batch)) {
		t.Fatalf("cancel came after the COPY (%d Done calls)", calls)
	}
	checkUntouched(t, s, before)

	// Canceled by the clock, wherever that lands: all or nothing.
	for _, d := range []time.Duration{150 * time.Millisecond, 600 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		err := s.Put(ctx, batch)
		cancel()
		n := count(t, s)
		t.Logf("timeout %v: %v, %d rows", d, err, n)
		switch {
		case err == nil && n == len(before)+len(fresh):
			return // finished before the deadline: all written
		case err != nil && n == len(before):
			checkUntouched(t, s, before)
		default:
			t.Fatalf("timeout %v: err %v with %d rows", d, err, n)
		}
	}
	if err := s.Put(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != len(before)+len(fresh) {
		t.Fatalf("%d rows, want %d", n, len(before)+len(fresh))
	}
}

func TestDeleteIsAtomic(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	fs := mixed(14, "d", 200)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().Exec(`CREATE FUNCTION keep_last() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF OLD.id = 'm00199' THEN RAISE EXCEPTION 'keep the last one'; END IF; RETURN OLD; END $$;
		CREATE TRIGGER keep_last BEFORE DELETE ON features FOR EACH ROW EXECUTE FUNCTION keep_last()`); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d", idsOf(fs)); err == nil {
		t.Fatal("delete succeeded")
	}
	checkUntouched(t, s, fs)
}

// TestConcurrentPutsRetryDeadlocks has two writers move the same features
// in opposite grid-code orders, so their row locks are taken in opposite
// orders and PostgreSQL detects deadlocks; Put retries and both succeed.
func TestConcurrentPutsRetryDeadlocks(t *testing.T) {
	url := newURL(t)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	// Detect deadlocks after 50 ms rather than 1 s.
	if _, err := db.Exec(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET deadlock_timeout = ' || quote_literal('50ms'), current_database()); END $$`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := open(t, url)
	ctx := context.Background()
	batch := func(reverse bool, version uint64) []*spatial.Feature {
		var fs []*spatial.Feature
		for i := range 300 {
			x := i
			if reverse {
				x = 299 - i
			}
			fs = append(fs, &spatial.Feature{Layer: "dl", ID: fmt.Sprintf("p%03d", i),
				Geometry: orb.Point{121.6 + float64(x)*1e-4, 38.9}, Version: version})
		}
		return prepared(t, fs...)
	}
	if err := s.Put(ctx, batch(false, 1)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if err := s.Put(ctx, batch((i+w)%2 == 1, uint64(10*w+i+2))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var deadlocks int
	if err := s.DB().QueryRow(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&deadlocks); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d deadlocks detected and retried", deadlocks)
	if n := count(t, s); n != 300 {
		t.Fatalf("%d rows", n)
	}
}
