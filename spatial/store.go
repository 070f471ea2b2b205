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

// FeatureRef names a feature by layer and id.
type FeatureRef struct {
	Layer, ID string
}

// Versions is one atomic write to a feature's history (see the package
// documentation for the model of current and past versions). A store
// applies Ended first, then Past, then Current, all or nothing.
type Versions struct {
	// Current versions to insert or replace, by layer and id (the last
	// wins when one is named twice). A replaced current version is not
	// kept: whoever wants it in the history passes it in Past too.
	Current []*Feature
	// Past versions to insert or replace, by layer, id and ValidFrom (the
	// last wins when one is named twice). Each has a ValidTo.
	Past []*Feature
	// Ended names features whose current version is removed (their last
	// version moves to Past in the same write); absent ones are ignored.
	Ended []FeatureRef
}

// Store is a durable home for features. Implementations live in
// sub-packages (pebblestore: embedded; pgstore: PostgreSQL/PostGIS) and pass
// the conformance suite in spatial/storetest.
//
// Features given to a store have been Prepared (their Code is set) and carry
// their Version. A store never keeps a reference to a caller's feature, and
// never returns one that the caller could use to change stored state.
//
// A feature (layer, id) has at most one current version, which Put, Get,
// Layers, Scan and ScanCell deal in, and any number of past versions,
// keyed by their ValidFrom, which PutVersions writes and Past and ScanPast
// read. Layers counts and bounds current versions only; Delete purges a
// feature's current and past versions alike.
type Store interface {
	// Put inserts or replaces features (by layer and id). It returns only
	// once all of them are durable: after a crash that follows a nil return,
	// every one of them is read back. A batch is atomic.
	Put(ctx context.Context, features []*Feature) error
	// PutVersions applies one write of current and past versions,
	// atomically and durably (after a crash, all of it or none of it is
	// read back).
	PutVersions(ctx context.Context, v Versions) error
	// Delete removes features by id, their current and past versions
	// alike; ids that do not exist are ignored. Durable on return, atomic
	// per call.
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
	// Past returns the past versions of a feature in ValidFrom order (a
	// zero ValidFrom first), or none (and no error) when it has none.
	Past(ctx context.Context, layer, id string) ([]*Feature, error)
	// ScanPast calls fn for every past version of every layer, in layer,
	// id and ValidFrom order, stopping at fn's first error, which it
	// returns.
	ScanPast(ctx context.Context, fn func(*Feature) error) error
	// Close releases the store; it is safe to call once.
	Close() error
}
