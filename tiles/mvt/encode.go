package mvt

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of vector_tile.proto (spec 2.1).
const (
	fieldTileLayers = 3

	fieldLayerName     = 1
	fieldLayerFeatures = 2
	fieldLayerKeys     = 3
	fieldLayerValues   = 4
	fieldLayerExtent   = 5
	fieldLayerVersion  = 15

	fieldFeatureID       = 1
	fieldFeatureTags     = 2
	fieldFeatureType     = 3
	fieldFeatureGeometry = 4

	fieldValueString = 1
	fieldValueFloat  = 2
	fieldValueDouble = 3
	fieldValueInt    = 4
	fieldValueUint   = 5
	fieldValueSint   = 6
	fieldValueBool   = 7
)

// Encode encodes t as a version-2 Mapbox Vector Tile.
//
// Layers are written in order with version 2 and their extent (DefaultExtent
// when 0). Features are normalised to what strict version-2 decoders accept:
//   - repeated consecutive vertices (zero-length segments) are dropped;
//   - zero-width spikes (a ring turning back on itself along a line) are
//     removed from rings;
//   - lines left with fewer than 2 distinct vertices and rings left with
//     fewer than 3 vertices or zero area are dropped; a polygon whose
//     exterior ring is dropped is dropped with its holes; a feature left
//     without geometry is dropped (MVT has no empty geometry), so no command
//     with a count of 0 is ever written;
//   - rings are re-wound: the first ring of each orb.Polygon becomes an
//     exterior ring with positive shoelace area in tile coordinates
//     (clockwise on screen, y down), the others interior rings with negative
//     area, whatever winding the input had (GeoJSON's counter-clockwise
//     exteriors included); multipolygons are written as exterior, its
//     interiors, next exterior, ...
//
// Keys and values are deduplicated per layer; a feature's properties are
// written in key order, so the output is deterministic. Encode reports an
// error, naming the layer and feature, for an empty or duplicate layer name,
// a coordinate that is NaN, infinite, non-integral or outside int32 (or whose
// delta from the previous vertex exceeds the ±(2^31-1) a ParameterInteger
// can hold), a property value of an unsupported type, and a geometry that
// does not match the feature's Type.
func Encode(t Tile) ([]byte, error) {
	var e encoder
	var out []byte
	names := make(map[string]int, len(t.Layers))
	for i := range t.Layers {
		l := &t.Layers[i]
		if l.Name == "" {
			return nil, fmt.Errorf("mvt: encode: layer #%d: empty layer name: %w", i, ErrInput)
		}
		if j, dup := names[l.Name]; dup {
			return nil, fmt.Errorf("mvt: encode: layer #%d %q: name already used by layer #%d: %w", i, l.Name, j, ErrInput)
		}
		names[l.Name] = i
		body, err := e.layer(l)
		if err != nil {
			return nil, fmt.Errorf("mvt: encode: layer #%d %q: %w", i, l.Name, err)
		}
		out = slices.Grow(out, protowire.SizeTag(fieldTileLayers)+protowire.SizeBytes(len(body)))
		out = protowire.AppendTag(out, fieldTileLayers, protowire.BytesType)
		out = protowire.AppendBytes(out, body)
	}
	return out, nil
}

// valueKey identifies a non-string property value for per-layer
// deduplication: the Value field number and the payload bits, so floats are
// compared by bit pattern and NaN and -0 deduplicate consistently.
type valueKey struct {
	kind uint64
	bits uint64
}

// encoder holds per-call scratch state; Encode allocates one per call, so
// there is no shared mutable state.
type encoder struct {
	buf     []byte // layer body under construction
	feat    []byte // feature body under construction
	cmds    []uint32
	tags    []uint32
	ring    []pt
	keys    []string
	keyIdx  map[string]uint32
	vals    []byte // encoded Value messages, each with its tag
	valIdx  map[valueKey]uint32
	strIdx  map[string]uint32 // string values
	nvals   uint32
	sortBuf []string
}

func (e *encoder) layer(l *Layer) ([]byte, error) {
	extent := l.Extent
	if extent == 0 {
		extent = DefaultExtent
	}
	e.keys = e.keys[:0]
	e.vals = e.vals[:0]
	e.nvals = 0
	if e.keyIdx == nil {
		e.keyIdx = make(map[string]uint32)
		e.valIdx = make(map[valueKey]uint32)
		e.strIdx = make(map[string]uint32)
	}
	clear(e.keyIdx)
	clear(e.valIdx)
	clear(e.strIdx)

	// Rough size guess (a small polygon feature takes ~50 bytes) to save
	// most of the buffer's doublings; the buffer is reused across layers.
	b := slices.Grow(e.buf[:0], 48*len(l.Features))
	b = protowire.AppendTag(b, fieldLayerVersion, protowire.VarintType)
	b = protowire.AppendVarint(b, 2)
	b = protowire.AppendTag(b, fieldLayerName, protowire.BytesType)
	b = protowire.AppendString(b, l.Name)
	for i := range l.Features {
		f := &l.Features[i]
		body, ok, err := e.feature(f)
		if err != nil {
			if f.HasID {
				return nil, fmt.Errorf("feature #%d (id %d): %w", i, f.ID, err)
			}
			return nil, fmt.Errorf("feature #%d: %w", i, err)
		}
		if !ok {
			continue // collapsed to nothing
		}
		b = protowire.AppendTag(b, fieldLayerFeatures, protowire.BytesType)
		b = protowire.AppendBytes(b, body)
	}
	for _, k := range e.keys {
		b = protowire.AppendTag(b, fieldLayerKeys, protowire.BytesType)
		b = protowire.AppendString(b, k)
	}
	b = append(b, e.vals...)
	b = protowire.AppendTag(b, fieldLayerExtent, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(extent))
	e.buf = b
	return b, nil
}

// feature returns the encoded Feature message, or ok=false when the geometry
// collapsed and the feature is dropped.
func (e *encoder) feature(f *Feature) (body []byte, ok bool, err error) {
	if !f.HasID && f.ID != 0 {
		return nil, false, fmt.Errorf("ID %d set but HasID is false: %w", f.ID, ErrInput)
	}
	var cmds []uint32
	switch f.Type {
	case GeomUnknown:
		if f.Geometry != nil {
			return nil, false, fmt.Errorf("type UNKNOWN carries RawGeometry, but Geometry is %T (set Type): %w", f.Geometry, ErrInput)
		}
		if len(f.RawGeometry) == 0 {
			return nil, false, fmt.Errorf("type UNKNOWN with empty RawGeometry: %w", ErrInput)
		}
		cmds = f.RawGeometry
	case GeomPoint, GeomLineString, GeomPolygon:
		if len(f.RawGeometry) != 0 {
			return nil, false, fmt.Errorf("RawGeometry is only for type UNKNOWN, type is %v: %w", f.Type, ErrInput)
		}
		if cmds, err = e.geometry(f.Type, f.Geometry); err != nil {
			return nil, false, err
		}
		if len(cmds) == 0 {
			return nil, false, nil
		}
	default:
		return nil, false, fmt.Errorf("invalid geometry type %v: %w", f.Type, ErrInput)
	}
	if err := e.properties(f.Properties); err != nil {
		return nil, false, err
	}

	b := e.feat[:0]
	if f.HasID {
		b = protowire.AppendTag(b, fieldFeatureID, protowire.VarintType)
		b = protowire.AppendVarint(b, f.ID)
	}
	if len(e.tags) > 0 {
		b = appendPacked(b, fieldFeatureTags, e.tags)
	}
	b = protowire.AppendTag(b, fieldFeatureType, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(f.Type))
	b = appendPacked(b, fieldFeatureGeometry, cmds)
	e.feat = b
	return b, true, nil
}

func appendPacked(b []byte, num protowire.Number, vs []uint32) []byte {
	n := 0
	for _, v := range vs {
		n += protowire.SizeVarint(uint64(v))
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(n))
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

// properties fills e.tags with key/value index pairs in key order.
func (e *encoder) properties(props map[string]any) error {
	e.tags = e.tags[:0]
	if len(props) == 0 {
		return nil
	}
	keys := e.sortBuf[:0]
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.sortBuf = keys
	for _, k := range keys {
		vi, err := e.value(props[k])
		if err != nil {
			return fmt.Errorf("property %q: %w", k, err)
		}
		ki, ok := e.keyIdx[k]
		if !ok {
			ki = uint32(len(e.keys))
			e.keys = append(e.keys, k)
			e.keyIdx[k] = ki
		}
		e.tags = append(e.tags, ki, vi)
	}
	return nil
}

// value returns the layer index of v, appending its Value message if new.
//
// int64 values are written as int_value when non-negative and as sint_value
// (zigzag) when negative: both decode to int64, and this picks the shorter
// varint either way (a negative int_value always takes 10 bytes, a
// non-negative sint_value needs one more bit than int_value).
func (e *encoder) value(v any) (uint32, error) {
	var k valueKey
	switch v := v.(type) {
	case string:
		if i, ok := e.strIdx[v]; ok {
			return i, nil
		}
		e.vals = protowire.AppendTag(e.vals, fieldLayerValues, protowire.BytesType)
		e.vals = protowire.AppendVarint(e.vals, uint64(protowire.SizeTag(fieldValueString)+protowire.SizeBytes(len(v))))
		e.vals = protowire.AppendTag(e.vals, fieldValueString, protowire.BytesType)
		e.vals = protowire.AppendString(e.vals, v)
		i := e.nvals
		e.nvals++
		e.strIdx[v] = i
		return i, nil
	case float32:
		k = valueKey{fieldValueFloat, uint64(math.Float32bits(v))}
	case float64:
		k = valueKey{fieldValueDouble, math.Float64bits(v)}
	case int64:
		if v >= 0 {
			k = valueKey{fieldValueInt, uint64(v)}
		} else {
			k = valueKey{fieldValueSint, protowire.EncodeZigZag(v)}
		}
	case uint64:
		k = valueKey{fieldValueUint, v}
	case bool:
		k = valueKey{kind: fieldValueBool}
		if v {
			k.bits = 1
		}
	default:
		return 0, fmt.Errorf("unsupported value type %T (want string, float32, float64, int64, uint64 or bool): %w", v, ErrInput)
	}
	if i, ok := e.valIdx[k]; ok {
		return i, nil
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
	e.vals = protowire.AppendTag(e.vals, fieldLayerValues, protowire.BytesType)
	e.vals = protowire.AppendBytes(e.vals, m)
	i := e.nvals
	e.nvals++
	e.valIdx[k] = i
	return i, nil
}

// geomWriter accumulates a command stream, tracking the cursor.
type geomWriter struct {
	cmds   []uint32
	cursor pt
}

func (w *geomWriter) param(p pt) error {
	dx, dy := p.x-w.cursor.x, p.y-w.cursor.y
	if dx > math.MaxInt32 || dx < -math.MaxInt32 || dy > math.MaxInt32 || dy < -math.MaxInt32 {
		return fmt.Errorf("vertex (%d,%d) is (%d,%d) from the previous one, beyond a ParameterInteger's ±(2^31-1): %w",
			p.x, p.y, dx, dy, ErrCoordinate)
	}
	w.cmds = append(w.cmds, zigzag(dx), zigzag(dy))
	w.cursor = p
	return nil
}

func (w *geomWriter) path(ps []pt, closed bool) error {
	w.cmds = append(w.cmds, command(cmdMoveTo, 1))
	if err := w.param(ps[0]); err != nil {
		return err
	}
	w.cmds = append(w.cmds, command(cmdLineTo, uint32(len(ps)-1)))
	for _, p := range ps[1:] {
		if err := w.param(p); err != nil {
			return err
		}
	}
	if closed {
		w.cmds = append(w.cmds, command(cmdClosePath, 1))
	}
	return nil
}

// toPt validates and converts an orb coordinate.
func toPt(p orb.Point) (pt, error) {
	x, err := toInt(p[0])
	if err != nil {
		return pt{}, fmt.Errorf("x of (%s,%s): %w", fmtF(p[0]), fmtF(p[1]), err)
	}
	y, err := toInt(p[1])
	if err != nil {
		return pt{}, fmt.Errorf("y of (%s,%s): %w", fmtF(p[0]), fmtF(p[1]), err)
	}
	return pt{x, y}, nil
}

func toInt(f float64) (int64, error) {
	switch {
	case math.IsNaN(f):
		return 0, fmt.Errorf("NaN: %w", ErrCoordinate)
	case math.IsInf(f, 0):
		return 0, fmt.Errorf("infinite: %w", ErrCoordinate)
	case f < math.MinInt32 || f > math.MaxInt32:
		return 0, fmt.Errorf("%s is outside int32: %w", fmtF(f), ErrCoordinate)
	case f != math.Trunc(f):
		return 0, fmt.Errorf("%s is not an integer (round with orb.Round(g, 1)): %w", fmtF(f), ErrCoordinate)
	}
	return int64(f), nil
}

func fmtF(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// geometry encodes g as a command stream for type t. An empty result means
// the geometry collapsed entirely.
func (e *encoder) geometry(t GeomType, g orb.Geometry) ([]uint32, error) {
	w := geomWriter{cmds: e.cmds[:0]}
	defer func() { e.cmds = w.cmds }()
	var err error
	switch g := g.(type) {
	case orb.Point:
		if t == GeomPoint {
			err = e.points(&w, []orb.Point{g})
			return w.cmds, err
		}
	case orb.MultiPoint:
		if t == GeomPoint {
			err = e.points(&w, g)
			return w.cmds, err
		}
	case orb.LineString:
		if t == GeomLineString {
			err = e.line(&w, g)
			return w.cmds, err
		}
	case orb.MultiLineString:
		if t == GeomLineString {
			for i, ls := range g {
				if err = e.line(&w, ls); err != nil {
					return nil, fmt.Errorf("line %d: %w", i, err)
				}
			}
			return w.cmds, nil
		}
	case orb.Polygon:
		if t == GeomPolygon {
			err = e.polygon(&w, g)
			return w.cmds, err
		}
	case orb.MultiPolygon:
		if t == GeomPolygon {
			for i, p := range g {
				if err = e.polygon(&w, p); err != nil {
					return nil, fmt.Errorf("polygon %d: %w", i, err)
				}
			}
			return w.cmds, nil
		}
	case nil:
		return nil, fmt.Errorf("type %v with nil Geometry: %w", t, ErrInput)
	}
	return nil, fmt.Errorf("geometry %T does not match type %v: %w", g, t, ErrInput)
}

func (e *encoder) points(w *geomWriter, ps []orb.Point) error {
	if len(ps) == 0 {
		return nil
	}
	w.cmds = append(w.cmds, command(cmdMoveTo, uint32(len(ps))))
	for i, p := range ps {
		q, err := toPt(p)
		if err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
		if err := w.param(q); err != nil {
			return fmt.Errorf("point %d: %w", i, err)
		}
	}
	return nil
}

// line writes ls without repeated vertices, or nothing if fewer than two
// distinct vertices remain.
func (e *encoder) line(w *geomWriter, ls orb.LineString) error {
	r := e.ring[:0]
	for i, p := range ls {
		q, err := toPt(p)
		if err != nil {
			return fmt.Errorf("vertex %d: %w", i, err)
		}
		if len(r) == 0 || r[len(r)-1] != q {
			r = append(r, q)
		}
	}
	e.ring = r
	if len(r) < 2 {
		return nil
	}
	return w.path(r, false)
}

// polygon writes p's rings, exterior first, with fixed winding.
func (e *encoder) polygon(w *geomWriter, p orb.Polygon) error {
	dropped := false // exterior collapsed: drop the polygon with its holes
	for i, ring := range p {
		r := e.ring[:0]
		for j, v := range ring {
			q, err := toPt(v) // validate every ring, even of a dropped polygon
			if err != nil {
				return fmt.Errorf("ring %d vertex %d: %w", i, j, err)
			}
			r = append(r, q)
		}
		e.ring = r
		if dropped {
			continue
		}
		r, _ = cleanRing(r)
		area := ringArea(r)
		if area == 0 {
			dropped = i == 0
			continue
		}
		want := -1 // interior: negative area
		if i == 0 {
			want = 1 // exterior: positive area
		}
		if area != want {
			reverseRing(r)
		}
		if err := w.path(r, true); err != nil {
			return fmt.Errorf("ring %d: %w", i, err)
		}
	}
	return nil
}
