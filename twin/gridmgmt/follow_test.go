package gridmgmt

import (
	"context"
	"testing"
	"time"

	"citytwin/spatial"
)

// TestFollow: two services over two kernels sharing one store, as two
// replicas share PostgreSQL; a case written through one reaches the
// other's service once its kernel refreshes (as the replica follower
// does), and the other's next case takes the next id.
func TestFollow(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	kb, err := spatial.NewKernel(ctx, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(kb, Options{Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	b.Follow(ctx)
	c := e.create(ptA)
	if _, err := b.Get(c.ID); err == nil {
		t.Fatal("b knew the case before its kernel refreshed")
	}
	if err := kb.Refresh(ctx, CasesLayer, []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if got, err := b.Get(c.ID); err == nil && got.Status == c.Status {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the case never reached the other service")
		}
		time.Sleep(10 * time.Millisecond)
	}
	moved := e.move(c.ID, Registered, "", "")
	if err := kb.Refresh(ctx, CasesLayer, []string{c.ID}); err != nil {
		t.Fatal(err)
	}
	for {
		if got, _ := b.Get(c.ID); got != nil && got.Status == moved.Status {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the transition never reached the other service")
		}
		time.Sleep(10 * time.Millisecond)
	}
	d, err := b.Create(ctxAs(admin), newCase(Event, "01", ptB))
	if err != nil {
		t.Fatal(err)
	}
	if d.ID == c.ID {
		t.Errorf("the other service reused id %s", d.ID)
	}
}
