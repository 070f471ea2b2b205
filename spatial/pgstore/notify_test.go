package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"citytwin/spatial"

	"github.com/lib/pq"
	"github.com/paulmach/orb"
)

func TestPayloadsFitAndCoverEveryID(t *testing.T) {
	long := strings.Repeat("长", 900) // 2,700 bytes
	for _, tc := range []struct {
		name    string
		c       Change
		summary bool
	}{
		{name: "few", c: Change{Op: OpPut, Layer: "l", IDs: []string{"a", "b"}, Versions: []uint64{1, 1 << 63}}},
		{name: "chunked", c: manyIDs(1500, 40)},
		{name: "long ids", c: Change{Op: OpDelete, Layer: "l", IDs: []string{long, long, long, long, long, "x"}}},
		{name: "too many", c: manyIDs(maxListedIDs+1, 4), summary: true},
		{name: "id too long", c: Change{Op: OpDelete, Layer: "l", IDs: []string{"a", strings.Repeat("x", 8000)}}, summary: true},
		{name: "layer too long", c: Change{Op: OpDelete, Layer: strings.Repeat("L", 9000), IDs: []string{"a"}}, summary: true},
		{name: "escapes", c: Change{Op: OpDelete, Layer: "l", IDs: []string{strings.Repeat("<\"\x01", 400), strings.Repeat("\\", 3000)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Origin = "0123456789abcdef"
			ps, err := payloads([]Change{tc.c})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			var versions []uint64
			for _, p := range ps {
				if len(p) >= 8000 {
					t.Errorf("payload of %d bytes", len(p))
				}
				var c Change
				if err := json.Unmarshal([]byte(p), &c); err != nil {
					t.Fatal(err)
				}
				if c.Summary != tc.summary || c.Op != tc.c.Op || c.Origin != tc.c.Origin {
					t.Fatalf("payload %.200s", p)
				}
				if c.Summary {
					if len(ps) != 1 || c.Count != len(tc.c.IDs) || (c.Layer != tc.c.Layer && c.Layer != "") {
						t.Fatalf("summary %.200s of %d payloads", p, len(ps))
					}
					return
				}
				if c.Count != len(c.IDs) || c.Layer != tc.c.Layer {
					t.Fatalf("payload %.200s", p)
				}
				ids = append(ids, c.IDs...)
				versions = append(versions, c.Versions...)
			}
			if !reflect.DeepEqual(ids, tc.c.IDs) || len(versions) != len(tc.c.Versions) {
				t.Fatalf("ids or versions lost across %d payloads", len(ps))
			}
			t.Logf("%d ids in %d payloads", len(ids), len(ps))
		})
	}
}

func manyIDs(n, size int) Change {
	c := Change{Op: OpPut, Layer: "layer"}
	for i := range n {
		c.IDs = append(c.IDs, fmt.Sprintf("%0*d", size, i))
		c.Versions = append(c.Versions, uint64(i)*1e15)
	}
	return c
}

// next receives one change or fails t after a timeout.
func next(t *testing.T, ch <-chan Change) Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("change channel closed")
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change within 10 s")
	}
	return Change{}
}

func TestListenSeesOtherStoresWrites(t *testing.T) {
	url := newURL(t)
	a, b := open(t, url), open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := b.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}

	fs := mixed(20, "n", 3)
	if err := a.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	c := next(t, ch)
	want := Change{Origin: a.Origin(), Op: OpPut, Layer: "n", IDs: idsOf(fs), Versions: []uint64{1, 2, 3}, Count: 3}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}

	// A failed batch announces nothing; deletes announce the ids that
	// existed; a batch over two layers announces each.
	bad := &spatial.Feature{Layer: "n", ID: "bad", Geometry: orb.Point{1, 1}, Floors: 1 << 40}
	if err := a.Put(ctx, []*spatial.Feature{fs[0], bad}); err == nil {
		t.Fatal("bad put succeeded")
	}
	if err := a.Delete(ctx, "n", []string{fs[1].ID, "absent"}); err != nil {
		t.Fatal(err)
	}
	c = next(t, ch)
	if want := (Change{Origin: a.Origin(), Op: OpDelete, Layer: "n", IDs: []string{fs[1].ID}, Count: 1}); !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if err := b.Put(ctx, append(mixed(21, "p", 2), mixed(22, "q", 1)...)); err != nil {
		t.Fatal(err)
	}
	if c1, c2 := next(t, ch), next(t, ch); c1.Layer != "p" || c1.Count != 2 || c2.Layer != "q" || c2.Count != 1 || c1.Origin != b.Origin() {
		t.Fatalf("two-layer batch: %+v %+v", c1, c2)
	}

	// A large batch is one summary.
	if err := a.Put(ctx, buildings(23, "big", 0, 2500, 0.1)); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); !c.Summary || c.Count != 2500 || c.Layer != "big" || c.IDs != nil {
		t.Fatalf("large batch: %+v", c)
	}

	// Ending ctx closes the channel.
	cancel()
	for range ch {
	}
}

func TestListenEndsWithStore(t *testing.T) {
	s, _ := newStore(t)
	ch, err := s.Listen(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(10 * time.Second):
		t.Fatal("channel still open after Close")
	}
	if _, err := s.Listen(context.Background()); err == nil {
		t.Fatal("Listen on a closed store succeeded")
	}
}

func TestListenFailsWithoutServer(t *testing.T) {
	bad := &Store{
		url:       "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
		channel:   DefaultChannel,
		listeners: map[*pq.Listener]struct{}{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := bad.Listen(ctx); err == nil {
		t.Fatal("Listen to a closed port succeeded")
	} else {
		t.Log(err)
	}
}

// TestListenResyncsAfterReconnect kills the listener's server connection:
// Listen reconnects, says Resync, and goes on delivering changes.
func TestListenResyncsAfterReconnect(t *testing.T) {
	url := newURL(t)
	a, b := open(t, url), open(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := b.Listen(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var killed int
	if err := a.DB().QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections: %v", killed, err)
	}
	t0 := time.Now()
	if c := next(t, ch); !c.Resync {
		t.Fatalf("first change after the connection died: %+v, want Resync", c)
	}
	t.Logf("resynchronised after %v", time.Since(t0))
	fs := mixed(24, "r", 2)
	if err := a.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ch); c.Resync || c.Count != 2 || c.Layer != "r" {
		t.Fatalf("after reconnecting: %+v", c)
	}
}
