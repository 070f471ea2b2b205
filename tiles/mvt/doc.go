// Package mvt encodes and decodes Mapbox Vector Tiles (specification 2.1)
// in tile-pixel space: no projection or clipping happens here; callers hand
// in features already projected and clipped to integer tile coordinates.
//
// # API
//
// Encode(Tile) writes a version-2 tile; Decode(b) reads one strictly;
// DecodeWithOptions(b, DecodeOptions{Recover: true}) repairs or skips
// recoverable defects and returns a Warning for each. Geometry uses orb
// types holding integral float64 values (see Feature for why, and for the
// exactness rules); polygons come back with closed rings, exterior rings of
// positive and interior rings of negative shoelace area in tile coordinates
// (clockwise and counter-clockwise on screen, y down).
//
// # Wire format: hand-written on protowire
//
// The protobuf layer is written by hand on
// google.golang.org/protobuf/encoding/protowire (the Go protobuf project's
// low-level wire helpers, already in the module graph) instead of code
// generated from vector_tile.proto, because:
//   - the schema is four small messages, so the hand-written code is
//     shorter than a generated file plus its build step;
//   - a strict decoder must see what generated proto2 code hides: a field
//     sent twice (proto2 keeps the last, fixture 030 is invalid), a
//     field with the wrong wire type (fixtures 007, 008, 010, 013), unknown
//     fields inside Value (fixtures 011, 026), absent versus default values
//     (fixture 024: no version);
//   - allocation stays under control: nothing is preallocated from counts
//     claimed by the input, packed arrays are sized by counting their bytes,
//     and command counts are checked against the remaining integers before
//     any point is allocated (fixtures 051, 057, 058);
//   - encoding needs no intermediate message tree, so Encode appends
//     straight into reused buffers.
//
// # Property values
//
// Values are string, float32, float64, int64, uint64 or bool, decoded to
// the same Go types. int64 is written as int_value when non-negative and as
// sint_value (zigzag) when negative: both decode to int64, and this always
// yields the shorter varint (a negative int_value takes 10 bytes). uint64
// uses uint_value. Other Go types (int, int32, nil, ...) are rejected rather
// than converted, so a decoded value always has the type that was encoded.
// Keys and values are deduplicated per layer; floats by bit pattern.
//
// # Decoding rules
//
// Fatal in both modes (errors.Is ErrInvalid): malformed protobuf, wrong
// wire types, layers without name or version field, versions other than 1
// and 2, duplicate layer-level fields, extent 0, a Value without exactly one
// of its seven fields or with an unknown field, tag indices out of range,
// and every geometry command-structure violation: a wrong or unknown
// command, MoveTo/LineTo counts the spec forbids (0, or MoveTo count ≠ 1 in
// lines and rings, LineTo count < 2 in rings), a ClosePath count ≠ 1, a
// count whose parameters are not all present, data after a POINT's MoveTo,
// a cursor beyond ±2^40.
//
// Recoverable (strict: error that is also ErrRecoverable; Recover: repaired
// or skipped, with a Warning):
//   - no type field: decoded as GeomUnknown in both modes (the proto2
//     default; fixture 016, valid, is byte-identical to fixture 003), the
//     command stream kept in RawGeometry; Recover mode warns;
//   - no geometry field (004), empty geometry, invalid type (006), an odd
//     number of tags (005), duplicate feature fields (030: two geometry
//     fields), a key used twice in one feature: the feature is skipped;
//   - a layer name used twice (015): the later layer is skipped;
//   - zero-length segments (046), a ring repeating its first vertex before
//     ClosePath, zero-width spikes: the vertices are removed; lines left
//     with fewer than 2 vertices, rings with zero area and interior rings
//     before any exterior ring are dropped; a feature left without geometry
//     is skipped.
//
// Ring classification follows version 2: a positive ring starts a polygon,
// a negative ring is an interior ring of the current one. In version-1
// layers (which did not fix winding) the first ring's orientation defines
// exterior rings, as mapbox/vector-tile-js does, and the output is re-wound
// to the version-2 convention. Other version-1 leniencies (fixture 061:
// ClosePath in a linestring) are not supported.
//
// Coordinates are exact: the cursor is accumulated in int64, so fixtures
// 049/050 (a cursor stepping just past int32) decode to 2147483648 and
// -2147483649 rather than wrapping as int32 decoders do. Such tiles decode
// but cannot be re-encoded (Encode is limited to int32, ErrCoordinate).
//
// The decoder checks rings only locally (repeated vertices, spikes, zero
// area); it does not test rings for self-intersection or holes for
// containment, which would cost O(n log n) per feature.
//
// # Conformance fixtures: 051 versus 057
//
// mvt-fixtures 051 (fatal) and 057 (valid) carry the same geometry: one
// MoveTo with count 2^29-1 followed by a single coordinate pair. No decoder
// can honour both. This one rejects both ("MoveTo count 536870911 needs
// 1073741822 parameter integers, only 2 remain"), as spec 4.3.3.1 requires
// count pairs to follow and as mapbox/vtzero does; 057 is the only valid
// fixture not decoded, and TestFixture051And057Contradict pins the reason.
//
// # Encoding rules and their limits
//
// See Encode. The encoder fixes winding, removes repeated vertices and
// zero-width spikes and drops collapsed parts, which makes every decoded
// tile a fixed point: Encode(Decode(b)) decodes to the same tile and
// re-encodes to the same bytes (FuzzDecode). It does not clip and cannot
// remove zero-width bridges made of non-adjacent overlapping edges (as
// Sutherland-Hodgman clipping of concave polygons produces); the clipper
// must avoid those.
package mvt
