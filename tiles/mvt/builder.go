package mvt

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// LayerBuilder writes one layer feature by feature, for callers that render
// many tiles and want neither a Feature per feature nor a property map:
// they intern keys and values themselves (Key, StringValue, DoubleValue,
// ...), encode geometry with AppendGeometry or AppendPolygon into their own
// buffer, and add the feature with AddFeature. Encode is built on it, so
// both write the same bytes for the same features, tags and order.
//
// A LayerBuilder is reused across layers and tiles with Reset (its buffers
// and dedup tables are kept), which is what makes it cheap; it is not safe
// for concurrent use. The zero value is ready after Reset.
type LayerBuilder struct {
	name   string
	extent uint32

	feats  []byte // encoded Layer.features fields
	nfeat  int
	keys   []string
	keyLen int // encoded size of the keys fields
	keyIdx map[string]uint32
	vals   []byte // encoded Layer.values fields
	valIdx map[valueKey]uint32
	strIdx map[string]uint32 // string values
	nvals  uint32

	// Scratch for Encode and the geometry encoders.
	cmds    []uint32
	tags    []uint32
	ring    []pt
	sortBuf []string
}

// valueKey identifies a non-string property value for per-layer
// deduplication: the Value field number and the payload bits, so floats are
// compared by bit pattern and NaN and -0 deduplicate consistently.
type valueKey struct {
	kind uint64
	bits uint64
}

// reuseLimit is the most entries a dedup table may have held for it to be
// cleared and reused; a bigger one (a dense low-zoom tile) is dropped so
// that clearing it does not tax every later small tile.
const reuseLimit = 4096

// Reset starts a new layer named name with the given extent (0:
// DefaultExtent). The name is not checked here (Encode checks it).
func (b *LayerBuilder) Reset(name string, extent uint32) {
	if extent == 0 {
		extent = DefaultExtent
	}
	b.name, b.extent = name, extent
	b.feats = b.feats[:0]
	b.nfeat = 0
	clear(b.keys)
	b.keys = b.keys[:0]
	b.keyLen = 0
	b.vals = b.vals[:0]
	b.nvals = 0
	if b.keyIdx == nil || len(b.keyIdx) > reuseLimit {
		b.keyIdx = make(map[string]uint32)
	} else {
		clear(b.keyIdx)
	}
	if b.valIdx == nil || len(b.valIdx) > reuseLimit {
		b.valIdx = make(map[valueKey]uint32)
	} else {
		clear(b.valIdx)
	}
	if b.strIdx == nil || len(b.strIdx) > reuseLimit {
		b.strIdx = make(map[string]uint32)
	} else {
		clear(b.strIdx)
	}
}

// Len returns the number of features added since Reset.
func (b *LayerBuilder) Len() int { return b.nfeat }

// Key returns the layer index of key k, adding it if new.
func (b *LayerBuilder) Key(k string) uint32 {
	if i, ok := b.keyIdx[k]; ok {
		return i
	}
	i := uint32(len(b.keys))
	b.keys = append(b.keys, k)
	b.keyIdx[k] = i
	b.keyLen += protowire.SizeTag(fieldLayerKeys) + protowire.SizeBytes(len(k))
	return i
}

// StringValue returns the layer index of the string value v, adding it if
// new.
func (b *LayerBuilder) StringValue(v string) uint32 {
	if i, ok := b.strIdx[v]; ok {
		return i
	}
	i := b.appendString(v)
	b.strIdx[v] = i
	return i
}

// appendString appends a string Value message and returns its index.
func (b *LayerBuilder) appendString(v string) uint32 {
	b.vals = protowire.AppendTag(b.vals, fieldLayerValues, protowire.BytesType)
	b.vals = protowire.AppendVarint(b.vals, uint64(protowire.SizeTag(fieldValueString)+protowire.SizeBytes(len(v))))
	b.vals = protowire.AppendTag(b.vals, fieldValueString, protowire.BytesType)
	b.vals = protowire.AppendString(b.vals, v)
	i := b.nvals
	b.nvals++
	return i
}

// UniqueStringValue adds the string value v without looking for it among
// the layer's values, for a value the caller knows is not there yet (a
// feature id); later StringValue calls find it. Were it there, the layer
// would carry the value twice, which wastes bytes but is valid.
func (b *LayerBuilder) UniqueStringValue(v string) uint32 {
	i := b.appendString(v)
	b.strIdx[v] = i
	return i
}

// StringValueBytes is StringValue for a value held in a byte slice, which
// is copied only when the value is new to the layer.
func (b *LayerBuilder) StringValueBytes(v []byte) uint32 {
	if i, ok := b.strIdx[string(v)]; ok {
		return i
	}
	return b.StringValue(string(v))
}

// DoubleValue returns the layer index of the double_value v.
func (b *LayerBuilder) DoubleValue(v float64) uint32 {
	return b.scalar(valueKey{fieldValueDouble, math.Float64bits(v)})
}

// FloatValue returns the layer index of the float_value v.
func (b *LayerBuilder) FloatValue(v float32) uint32 {
	return b.scalar(valueKey{fieldValueFloat, uint64(math.Float32bits(v))})
}

// IntValue returns the layer index of the integer v: int_value when
// non-negative, sint_value when negative (see the package documentation).
func (b *LayerBuilder) IntValue(v int64) uint32 {
	if v >= 0 {
		return b.scalar(valueKey{fieldValueInt, uint64(v)})
	}
	return b.scalar(valueKey{fieldValueSint, protowire.EncodeZigZag(v)})
}

// UintValue returns the layer index of the uint_value v.
func (b *LayerBuilder) UintValue(v uint64) uint32 {
	return b.scalar(valueKey{fieldValueUint, v})
}

// BoolValue returns the layer index of the bool_value v.
func (b *LayerBuilder) BoolValue(v bool) uint32 {
	k := valueKey{kind: fieldValueBool}
	if v {
		k.bits = 1
	}
	return b.scalar(k)
}

// Value returns the layer index of v, which must have one of the types
// Feature.Properties allows.
func (b *LayerBuilder) Value(v any) (uint32, error) {
	switch v := v.(type) {
	case string:
		return b.StringValue(v), nil
	case float32:
		return b.FloatValue(v), nil
	case float64:
		return b.DoubleValue(v), nil
	case int64:
		return b.IntValue(v), nil
	case uint64:
		return b.UintValue(v), nil
	case bool:
		return b.BoolValue(v), nil
	}
	return 0, fmt.Errorf("unsupported value type %T (want string, float32, float64, int64, uint64 or bool): %w", v, ErrInput)
}

// scalar returns the layer index of a non-string value, appending its
// Value message if new.
func (b *LayerBuilder) scalar(k valueKey) uint32 {
	if i, ok := b.valIdx[k]; ok {
		return i
	}
	var msg [16]byte
	m := msg[:0]
	num := protowire.Number(k.kind)
	switch k.kind {
	case fieldValueFloat:
		m = protowire.AppendTag(m, num, protowire.Fixed32Type)
		m = protowire.AppendFixed32(m, uint32(k.bits))
	case fieldValueDouble:
		m = protowire.AppendTag(m, num, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, k.bits)
	default:
		m = protowire.AppendTag(m, num, protowire.VarintType)
		m = protowire.AppendVarint(m, k.bits)
	}
	b.vals = protowire.AppendTag(b.vals, fieldLayerValues, protowire.BytesType)
	b.vals = protowire.AppendBytes(b.vals, m)
	i := b.nvals
	b.nvals++
	b.valIdx[k] = i
	return i
}

// AppendGeometry appends g's command stream for type t (GeomPoint,
// GeomLineString or GeomPolygon) to dst, normalised and validated as
// Encode does (see Encode). When the geometry collapses entirely nothing is
// appended: a caller must then not add the feature.
func (b *LayerBuilder) AppendGeometry(dst []uint32, t GeomType, g orb.Geometry) ([]uint32, error) {
	return b.geometry(dst, t, g)
}

// AppendPolygon is AppendGeometry for one polygon (GeomPolygon), without
// boxing it in an interface.
func (b *LayerBuilder) AppendPolygon(dst []uint32, p orb.Polygon) ([]uint32, error) {
	w := geomWriter{cmds: dst}
	err := b.polygon(&w, p)
	if err != nil {
		return dst, err
	}
	return w.cmds, nil
}

// AddFeature adds a feature with the given tags (key and value index pairs
// from Key and the value methods, each key at most once) and geometry (a
// non-empty command stream from AppendGeometry or AppendPolygon for the
// same type, or any command stream for GeomUnknown). Features are written
// in the order added.
func (b *LayerBuilder) AddFeature(id uint64, hasID bool, t GeomType, tags, geometry []uint32) error {
	switch {
	case !hasID && id != 0:
		return fmt.Errorf("ID %d set but HasID is false: %w", id, ErrInput)
	case t > GeomPolygon:
		return fmt.Errorf("invalid geometry type %v: %w", t, ErrInput)
	case len(geometry) == 0:
		return fmt.Errorf("empty geometry: %w", ErrInput)
	case len(tags)%2 != 0:
		return fmt.Errorf("%d tags, want key and value pairs: %w", len(tags), ErrInput)
	}
	for i := 0; i < len(tags); i += 2 {
		if int(tags[i]) >= len(b.keys) || tags[i+1] >= b.nvals {
			return fmt.Errorf("tag pair %d (%d, %d) out of range (%d keys, %d values): %w", i/2, tags[i], tags[i+1], len(b.keys), b.nvals, ErrInput)
		}
	}
	b.writeFeature(id, hasID, t, tags, geometry)
	return nil
}

// writeFeature appends one Layer.features field.
func (b *LayerBuilder) writeFeature(id uint64, hasID bool, t GeomType, tags, cmds []uint32) {
	n := 0
	if hasID {
		n += protowire.SizeTag(fieldFeatureID) + protowire.SizeVarint(id)
	}
	tagLen := 0
	if len(tags) > 0 {
		tagLen = packedSize(tags)
		n += protowire.SizeTag(fieldFeatureTags) + protowire.SizeBytes(tagLen)
	}
	n += protowire.SizeTag(fieldFeatureType) + protowire.SizeVarint(uint64(t))
	cmdLen := packedSize(cmds)
	n += protowire.SizeTag(fieldFeatureGeometry) + protowire.SizeBytes(cmdLen)

	f := b.feats
	f = protowire.AppendTag(f, fieldLayerFeatures, protowire.BytesType)
	f = protowire.AppendVarint(f, uint64(n))
	if hasID {
		f = protowire.AppendTag(f, fieldFeatureID, protowire.VarintType)
		f = protowire.AppendVarint(f, id)
	}
	if len(tags) > 0 {
		f = protowire.AppendTag(f, fieldFeatureTags, protowire.BytesType)
		f = protowire.AppendVarint(f, uint64(tagLen))
		for _, v := range tags {
			f = protowire.AppendVarint(f, uint64(v))
		}
	}
	f = protowire.AppendTag(f, fieldFeatureType, protowire.VarintType)
	f = protowire.AppendVarint(f, uint64(t))
	f = protowire.AppendTag(f, fieldFeatureGeometry, protowire.BytesType)
	f = protowire.AppendVarint(f, uint64(cmdLen))
	for _, v := range cmds {
		f = protowire.AppendVarint(f, uint64(v))
	}
	b.feats = f
	b.nfeat++
}

// size returns the encoded size of the Layer message.
func (b *LayerBuilder) size() int {
	n := protowire.SizeTag(fieldLayerVersion) + protowire.SizeVarint(2)
	n += protowire.SizeTag(fieldLayerName) + protowire.SizeBytes(len(b.name))
	n += len(b.feats) + b.keyLen + len(b.vals)
	n += protowire.SizeTag(fieldLayerExtent) + protowire.SizeVarint(uint64(b.extent))
	return n
}

// Size returns how many bytes AppendTo appends.
func (b *LayerBuilder) Size() int {
	return protowire.SizeTag(fieldTileLayers) + protowire.SizeBytes(b.size())
}

// AppendTo appends the layer, as a Tile.layers field, to dst: a tile is
// the concatenation of its layers. Layer names must be non-empty and
// unique within a tile; the caller sees to that.
func (b *LayerBuilder) AppendTo(dst []byte) []byte {
	dst = protowire.AppendTag(dst, fieldTileLayers, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(b.size()))
	dst = protowire.AppendTag(dst, fieldLayerVersion, protowire.VarintType)
	dst = protowire.AppendVarint(dst, 2)
	dst = protowire.AppendTag(dst, fieldLayerName, protowire.BytesType)
	dst = protowire.AppendString(dst, b.name)
	dst = append(dst, b.feats...)
	for _, k := range b.keys {
		dst = protowire.AppendTag(dst, fieldLayerKeys, protowire.BytesType)
		dst = protowire.AppendString(dst, k)
	}
	dst = append(dst, b.vals...)
	dst = protowire.AppendTag(dst, fieldLayerExtent, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(b.extent))
	return dst
}
