package main

import (
	"context"
	"log/slog"

	"citytwin/spatial"
	"citytwin/spatial/pgstore"
)

// followFeatures keeps the kernel in step with the other servers sharing a
// PostgreSQL store: it listens to the store's change notifications and
// re-reads what the others wrote (Kernel.Refresh), or everything after a
// lost connection or a write too large to list (Kernel.Resync). The
// kernel's hooks then invalidate this server's tile cache as for a local
// write. It returns once listening has started.
func followFeatures(ctx context.Context, k *spatial.Kernel, pg *pgstore.Store, log *slog.Logger) error {
	changes, err := pg.Listen(ctx)
	if err != nil {
		return err
	}
	go func() {
		for c := range changes {
			if c.Origin == pg.Origin() && !c.Resync {
				continue // our own write, already applied
			}
			var err error
			switch {
			case c.Resync || c.Summary:
				log.Info("reloading features written by other servers", "resync", c.Resync, "layer", c.Layer)
				err = k.Resync(ctx)
			default:
				err = k.Refresh(ctx, c.Layer, c.IDs)
			}
			if err != nil && ctx.Err() == nil {
				log.Error("following other servers' feature writes", "layer", c.Layer, "op", c.Op, "err", err)
			}
		}
	}()
	return nil
}
