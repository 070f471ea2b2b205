package main

import (
	"context"
	"log/slog"

	"citytwin/spatial"
	"citytwin/spatial/pgstore"
)

// featureFollower keeps a kernel in step with the other servers sharing a
// PostgreSQL store: it listens to the store's change notifications and
// re-reads what the others wrote (Kernel.Refresh), or everything after a
// lost connection or a write too large to list (Kernel.Resync). The
// kernel's hooks then invalidate this server's tile cache as for a local
// write.
//
// It starts listening before the kernel loads (startFollowing) and holds
// what arrives until attach gives it the loaded kernel, so that a write
// landing while the kernel loads is applied, not missed.
type featureFollower struct {
	pg  *pgstore.Store
	log *slog.Logger

	kernel   *spatial.Kernel // set by attach, read after attached closes
	attached chan struct{}
}

// startFollowing listens to the store's notifications.
func startFollowing(ctx context.Context, pg *pgstore.Store, log *slog.Logger) (*featureFollower, error) {
	changes, err := pg.Listen(ctx)
	if err != nil {
		return nil, err
	}
	f := &featureFollower{pg: pg, log: log, attached: make(chan struct{})}
	go f.run(ctx, changes)
	return f, nil
}

// attach hands over the loaded kernel; held changes are applied first.
func (f *featureFollower) attach(k *spatial.Kernel) {
	f.kernel = k
	close(f.attached)
}

func (f *featureFollower) run(ctx context.Context, changes <-chan pgstore.Change) {
	var held []pgstore.Change
	for waiting := true; waiting; {
		select {
		case c, ok := <-changes:
			if !ok {
				return
			}
			held = append(held, c)
		case <-f.attached:
			waiting = false
		case <-ctx.Done():
			return
		}
	}
	for _, c := range held {
		f.apply(ctx, c)
	}
	for c := range changes {
		f.apply(ctx, c)
	}
}

func (f *featureFollower) apply(ctx context.Context, c pgstore.Change) {
	if c.Origin == f.pg.Origin() && !c.Resync {
		return // our own write, already applied
	}
	var err error
	switch {
	case c.Resync || c.Summary:
		f.log.Info("reloading features written by other servers", "resync", c.Resync, "layer", c.Layer)
		err = f.kernel.Resync(ctx)
	default:
		err = f.kernel.Refresh(ctx, c.Layer, c.IDs)
	}
	if err != nil && ctx.Err() == nil {
		f.log.Error("following other servers' feature writes", "layer", c.Layer, "op", c.Op, "err", err)
	}
}
