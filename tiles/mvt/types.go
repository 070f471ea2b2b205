package mvt

import (
	"errors"
	"fmt"

	"github.com/paulmach/orb"
)

// GeomType is the feature geometry type of spec 4.3.4 (the GeomType enum).
type GeomType uint8

// Geometry types. The numeric values are the wire values.
const (
	// GeomUnknown is the UNKNOWN type: an experimental geometry the
	// specification does not interpret. Its command stream is carried
	// verbatim in Feature.RawGeometry.
	GeomUnknown GeomType = 0
	// GeomPoint is a point or multipoint (orb.Point / orb.MultiPoint).
	GeomPoint GeomType = 1
	// GeomLineString is a linestring or multilinestring
	// (orb.LineString / orb.MultiLineString).
	GeomLineString GeomType = 2
	// GeomPolygon is a polygon or multipolygon (orb.Polygon / orb.MultiPolygon).
	GeomPolygon GeomType = 3
)

// String returns the specification's name of the type.
func (t GeomType) String() string {
	switch t {
	case GeomUnknown:
		return "UNKNOWN"
	case GeomPoint:
		return "POINT"
	case GeomLineString:
		return "LINESTRING"
	case GeomPolygon:
		return "POLYGON"
	}
	return fmt.Sprintf("GeomType(%d)", uint8(t))
}

// DefaultExtent is the extent written when Layer.Extent is 0 and assumed when
// a decoded layer has no extent field (the proto2 default).
const DefaultExtent = 4096

// Tile is a decoded or to-be-encoded vector tile: an ordered list of layers
// with distinct names.
type Tile struct {
	Layers []Layer
}

// Layer is one named layer of a tile.
type Layer struct {
	// Name must be non-empty and unique within the tile.
	Name string
	// Version is the layer's specification major version as decoded (1 or
	// 2). Encode ignores it and always writes 2, because it always writes
	// version-2 geometry (fixed winding, no degenerate segments).
	Version uint32
	// Extent is the tile width and height in integer coordinates; 0 means
	// DefaultExtent when encoding.
	Extent uint32
	// Features in wire order.
	Features []Feature
}

// Feature is one feature of a layer.
//
// Geometry is in integer tile coordinates (x right, y down) stored in orb
// types: float64 values that must be integral. orb was chosen over a private
// int32 point type because the callers already project and clip with orb;
// exactness is kept by validation instead of by the type: Encode rejects NaN,
// infinities, non-integral values and values outside int32 rather than
// truncating or rounding them (round with orb.Round(g, 1) first), and every
// decoded coordinate is an exact integer (float64 represents all integers up
// to 2^53; the decoder bounds its cursor to ±2^40).
type Feature struct {
	// ID is the feature id; it is meaningful only when HasID is true
	// (an id of 0 is a valid, present id).
	ID uint64
	// HasID reports whether the feature has an id field.
	HasID bool
	// Type is the geometry type and must match Geometry: orb.Point or
	// orb.MultiPoint for GeomPoint, orb.LineString or orb.MultiLineString
	// for GeomLineString, orb.Polygon or orb.MultiPolygon for GeomPolygon.
	// GeomUnknown features carry RawGeometry instead of Geometry.
	Type GeomType
	// Geometry in tile coordinates. Decoded polygons have closed rings
	// (first vertex repeated last, as GeoJSON and orb do), exterior rings
	// with positive and interior rings with negative area by the spec's
	// shoelace formula, and a single part is returned as the single type
	// (orb.Point rather than a one-point orb.MultiPoint): MVT does not
	// distinguish the two.
	Geometry orb.Geometry
	// RawGeometry is the undecoded command stream of a GeomUnknown feature,
	// kept verbatim on decode and written verbatim on encode. It must be
	// empty for the other types.
	RawGeometry []uint32
	// Properties are the feature's attributes. Values must have one of the
	// Go types string, float32, float64, int64, uint64 or bool, which map to
	// the Value fields string_value, float_value, double_value,
	// int_value/sint_value, uint_value and bool_value. Decoding yields the
	// same Go types; both int_value and sint_value decode to int64.
	Properties map[string]any
}

// DecodeOptions selects how DecodeWithOptions treats recoverable defects.
type DecodeOptions struct {
	// Recover, when true, repairs or skips recoverable defects and reports
	// each as a Warning instead of failing. Fatal defects fail in both
	// modes. See the package documentation for the list.
	Recover bool
}

// Warning describes a recoverable defect that DecodeWithOptions repaired or
// skipped in Recover mode.
type Warning struct {
	// LayerIndex is the index of the layer in the encoded tile.
	LayerIndex int
	// Layer is the layer name ("" when the defect precedes it).
	Layer string
	// Feature is the index of the feature in the encoded layer, or -1 for a
	// layer-level defect.
	Feature int
	// Message says what was wrong and what was done about it.
	Message string
}

// String formats the warning with its location.
func (w Warning) String() string {
	if w.Feature < 0 {
		return fmt.Sprintf("layer #%d %q: %s", w.LayerIndex, w.Layer, w.Message)
	}
	return fmt.Sprintf("layer #%d %q: feature #%d: %s", w.LayerIndex, w.Layer, w.Feature, w.Message)
}

// Errors reported by the package; test them with errors.Is. Messages wrap
// them with the layer, feature and field concerned.
var (
	// ErrInvalid marks every decoding failure: malformed protobuf or a
	// violation of the specification.
	ErrInvalid = errors.New("invalid vector tile")
	// ErrRecoverable additionally marks a strict-mode decoding failure
	// that DecodeOptions{Recover: true} would have repaired or skipped.
	ErrRecoverable = errors.New("recoverable defect")
	// ErrCoordinate marks an encoding failure caused by a coordinate: NaN,
	// infinite, non-integral, outside int32, or too far from the previous
	// vertex for a 32-bit delta.
	ErrCoordinate = errors.New("unencodable coordinate")
	// ErrInput marks every other encoding failure: empty or duplicate
	// layer name, unsupported property type, geometry not matching Type.
	ErrInput = errors.New("invalid input")
)

// defectError is a decoding error that is always ErrInvalid and, when
// recoverable, also ErrRecoverable.
type defectError struct {
	msg         string
	recoverable bool
}

func (e *defectError) Error() string {
	if e.recoverable {
		return e.msg + " (" + ErrInvalid.Error() + ", " + ErrRecoverable.Error() + ")"
	}
	return e.msg + " (" + ErrInvalid.Error() + ")"
}

func (e *defectError) Is(target error) bool {
	return target == ErrInvalid || (e.recoverable && target == ErrRecoverable)
}

func fatalf(format string, args ...any) error {
	return &defectError{msg: fmt.Sprintf(format, args...)}
}
