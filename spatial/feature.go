// Package spatial is CityTwin's spatial kernel: features with geometry,
// properties, height, a GeoSOT grid code and a validity interval; layers
// indexed by an R-tree and by grid code; queries by box, geometry, nearest
// distance on the ellipsoid, grid cell and time; and a change feed. Durable
// stores (embedded pebble, PostgreSQL/PostGIS) live in sub-packages behind
// the Store interface.
//
// # History
//
// The kernel answers "what stood here at time T": edits and deletes keep
// history. A feature (layer, id) has at most one current version and any
// number of past versions, each a whole Feature with its own geometry,
// properties and version, whose validity intervals [ValidFrom, ValidTo)
// are disjoint; past versions always have a ValidTo.
//
//   - Kernel.Put of a feature never seen before stores it as given.
//   - Kernel.Put of a feature whose latest version (current, or the last
//     past one of an ended feature) is old is an edit. Let T be the new
//     feature's ValidFrom, or the kernel's clock (now, UTC, truncated to
//     the microsecond) if that is zero. If T is after old.ValidFrom, old
//     becomes a past version with ValidTo = min(old.ValidTo if set, T)
//     and the new version is stored with ValidFrom = T, both in one store
//     write (after a crash, both or neither). Otherwise (T ≤
//     old.ValidFrom) the new feature corrects the current version in
//     place and no past version is made; its ValidFrom is raised to the
//     end of the latest past version if it would reach back before it.
//     An ended feature cannot be corrected that way (ErrInvalid): a new
//     version must begin after its last one began.
//   - Kernel.End is a soft delete: the current version gets ValidTo = at
//     (or keeps an earlier ValidTo) and becomes a past version, so the
//     feature no longer has a current version; it stays in queries as of
//     earlier times. Kernel.Delete purges: the current and every past
//     version go.
//   - Queries (Search, Count, Each, Nearest, cells, tiles) at Time T see
//     whichever version was valid at T, current or past; at the zero
//     time, "now", they see the versions without an end (so an edit or an
//     end shows at once, even if dated in the future); AllTimes sees every
//     version. The grid-code order and paging cursors take ValidFrom as
//     the last tie-breaker, so the versions of one id page stably.
//   - Index.Get returns the current version, or the latest past one of an
//     ended feature; Index.GetAt the version valid at a time; Index.Versions
//     every version in ValidFrom order.
//   - Layer counts (Index.Layers, Store.Layers) count current versions;
//     past versions are not counted.
package spatial

import (
	"errors"
	"fmt"
	"math"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// ErrInvalid reports a feature that cannot be stored: a missing layer or
// id, or a geometry that is empty, not finite, outside longitude/latitude
// range, or has unclosed or too-short rings.
var ErrInvalid = errors.New("invalid feature")

// Feature is one object of a layer: a building, a road, a pipe, a sensor.
// Coordinates are longitude/latitude in degrees (WGS84/CGCS2000).
type Feature struct {
	// Layer names the layer, e.g. "buildings".
	Layer string
	// ID is unique within the layer.
	ID string
	// Geometry is the feature's shape (orb types: Point, LineString,
	// Polygon, their Multi forms, or a Collection).
	Geometry orb.Geometry
	// Properties are typed attributes (JSON-compatible values).
	Properties map[string]any
	// Height is the height above ground in metres (0 where flat).
	Height float64
	// Floors is the number of storeys above ground (0 where not a building).
	Floors int
	// Code is the smallest GeoSOT cell containing the geometry's bounding
	// box (GB/T 40087's rule for area objects), set by Prepare.
	Code gridcode.Code
	// ValidFrom is when the feature came to be (zero: always existed).
	ValidFrom time.Time
	// ValidTo is when it ceased to be (zero: it still exists).
	ValidTo time.Time
	// Version is assigned by the index or store on each write.
	Version uint64
}

// Prepare checks the feature and computes its grid code. It never panics on
// bad geometry; the error names the feature and what is wrong.
func (f *Feature) Prepare() error {
	if f.Layer == "" {
		return fmt.Errorf("%w: feature %q has no layer", ErrInvalid, f.ID)
	}
	if f.ID == "" {
		return fmt.Errorf("%w: feature in layer %q has no id", ErrInvalid, f.Layer)
	}
	if err := CheckGeometry(f.Geometry); err != nil {
		return fmt.Errorf("%w: %s/%s: %v", ErrInvalid, f.Layer, f.ID, err)
	}
	if math.IsNaN(f.Height) || math.IsInf(f.Height, 0) || f.Height < 0 {
		return fmt.Errorf("%w: %s/%s: height %v", ErrInvalid, f.Layer, f.ID, f.Height)
	}
	if f.Floors < 0 {
		return fmt.Errorf("%w: %s/%s: floors %d", ErrInvalid, f.Layer, f.ID, f.Floors)
	}
	for _, t := range []time.Time{f.ValidFrom, f.ValidTo} {
		if !t.IsZero() && (t.Year() < 1678 || t.Year() > 2261) {
			return fmt.Errorf("%w: %s/%s: time %s outside the years 1678–2261 that the store holds to the nanosecond", ErrInvalid, f.Layer, f.ID, t.Format(time.RFC3339))
		}
	}
	if !f.ValidTo.IsZero() && !f.ValidTo.After(f.ValidFrom) {
		return fmt.Errorf("%w: %s/%s: valid-to %s is not after valid-from %s", ErrInvalid, f.Layer, f.ID, f.ValidTo.Format(time.RFC3339), f.ValidFrom.Format(time.RFC3339))
	}
	b := f.Geometry.Bound()
	c, err := gridcode.CoverBound(gridcode.Bound{West: b.Min[0], South: b.Min[1], East: b.Max[0], North: b.Max[1]})
	if err != nil {
		return fmt.Errorf("%w: %s/%s: %v", ErrInvalid, f.Layer, f.ID, err)
	}
	f.Code = c
	return nil
}

// AliveAt reports whether the feature existed at time t. The zero time
// means "now": features that have ended are excluded.
func (f *Feature) AliveAt(t time.Time) bool {
	if t.IsZero() {
		return f.ValidTo.IsZero()
	}
	if !f.ValidFrom.IsZero() && t.Before(f.ValidFrom) {
		return false
	}
	return f.ValidTo.IsZero() || t.Before(f.ValidTo)
}

// Clone returns a copy that shares no mutable state with f (geometry and
// properties are deep-copied).
func (f *Feature) Clone() *Feature {
	g := *f
	if f.Geometry != nil {
		g.Geometry = orb.Clone(f.Geometry)
	}
	if f.Properties != nil {
		g.Properties = cloneProps(f.Properties)
	}
	return &g
}

func cloneProps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return cloneProps(x)
	case []any:
		y := make([]any, len(x))
		for i := range x {
			y[i] = cloneValue(x[i])
		}
		return y
	}
	return v
}

// CheckGeometry reports what is wrong with a geometry: nil, empty, a
// coordinate that is not finite or outside [-180,180]×[-90,90], a line with
// fewer than 2 points, a ring with fewer than 4 points or not closed.
func CheckGeometry(g orb.Geometry) error {
	switch v := g.(type) {
	case nil:
		return errors.New("no geometry")
	case orb.Point:
		return checkPoint(v)
	case orb.MultiPoint:
		if len(v) == 0 {
			return errors.New("empty MultiPoint")
		}
		for i, p := range v {
			if err := checkPoint(p); err != nil {
				return fmt.Errorf("point %d: %w", i, err)
			}
		}
	case orb.LineString:
		return checkLine(v)
	case orb.MultiLineString:
		if len(v) == 0 {
			return errors.New("empty MultiLineString")
		}
		for i, l := range v {
			if err := checkLine(l); err != nil {
				return fmt.Errorf("line %d: %w", i, err)
			}
		}
	case orb.Ring:
		return checkRing(v)
	case orb.Polygon:
		return checkPolygon(v)
	case orb.MultiPolygon:
		if len(v) == 0 {
			return errors.New("empty MultiPolygon")
		}
		for i, p := range v {
			if err := checkPolygon(p); err != nil {
				return fmt.Errorf("polygon %d: %w", i, err)
			}
		}
	case orb.Collection:
		if len(v) == 0 {
			return errors.New("empty GeometryCollection")
		}
		for i, m := range v {
			if err := CheckGeometry(m); err != nil {
				return fmt.Errorf("member %d: %w", i, err)
			}
		}
	case orb.Bound:
		if err := checkPoint(v.Min); err != nil {
			return err
		}
		return checkPoint(v.Max)
	default:
		return fmt.Errorf("unsupported geometry type %T", g)
	}
	return nil
}

func checkPoint(p orb.Point) error {
	if !(p[0] >= -180 && p[0] <= 180) || !(p[1] >= -90 && p[1] <= 90) {
		return fmt.Errorf("coordinate [%v, %v] is not a longitude/latitude in degrees", p[0], p[1])
	}
	return nil
}

func checkLine(l orb.LineString) error {
	if len(l) < 2 {
		return fmt.Errorf("LineString with %d points (want at least 2)", len(l))
	}
	for i, p := range l {
		if err := checkPoint(p); err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
	}
	return nil
}

func checkRing(r orb.Ring) error {
	if len(r) < 4 {
		return fmt.Errorf("ring with %d points (want at least 4)", len(r))
	}
	if r[0] != r[len(r)-1] {
		return errors.New("ring not closed (first point differs from last)")
	}
	for i, p := range r {
		if err := checkPoint(p); err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
	}
	return nil
}

func checkPolygon(p orb.Polygon) error {
	if len(p) == 0 {
		return errors.New("polygon without rings")
	}
	for i, r := range p {
		if err := checkRing(r); err != nil {
			return fmt.Errorf("ring %d: %w", i, err)
		}
	}
	return nil
}
