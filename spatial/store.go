package spatial

import (
	"context"
	"errors"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// ErrNotFound reports a feature or layer that does not exist.
var ErrNotFound = errors.New("not found")

// LayerInfo describes a stored layer.
type LayerInfo struct {
	Name  string
	Count int
	// Bound is the union of the features' bounding boxes (zero when empty).
	Bound orb.Bound
}

// Store is a durable home for features. Implementations live in
// sub-packages (pebblestore: embedded; pgstore: PostgreSQL/PostGIS) and pass
// the conformance suite in spatial/storetest.
//
// Features given to a store have been Prepared (their Code is set) and carry
// their Version. A store never keeps a reference to a caller's feature, and
// never returns one that the caller could use to change stored state.
type Store interface {
	// Put inserts or replaces features (by layer and id). It returns only
	// once all of them are durable: after a crash that follows a nil return,
	// every one of them is read back. A batch is atomic.
	Put(ctx context.Context, features []*Feature) error
	// Delete removes features by id; ids that do not exist are ignored.
	// Durable on return, atomic per call.
	Delete(ctx context.Context, layer string, ids []string) error
	// Get returns one feature, or an error wrapping ErrNotFound.
	Get(ctx context.Context, layer, id string) (*Feature, error)
	// Layers lists the non-empty layers in name order.
	Layers(ctx context.Context) ([]LayerInfo, error)
	// Scan calls fn for every feature of a layer in grid-code order, stopping
	// at fn's first error, which it returns.
	Scan(ctx context.Context, layer string, fn func(*Feature) error) error
	// ScanCell calls fn for every feature of a layer whose grid code is the
	// cell or one of its descendants (one range scan in grid-code order).
	ScanCell(ctx context.Context, layer string, cell gridcode.Code, fn func(*Feature) error) error
	// Close releases the store; it is safe to call once.
	Close() error
}
