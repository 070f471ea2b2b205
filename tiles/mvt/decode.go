package mvt

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Decode decodes a vector tile strictly: every fatal defect and every
// recoverable defect is an error (errors.Is ErrInvalid; recoverable ones
// are also ErrRecoverable) naming the layer, feature and field concerned.
// The one leniency is a feature without a type field, which is decoded as
// GeomUnknown (the proto2 default; fixture 016 is valid and byte-identical to
// fixture 003). Use DecodeWithOptions with Recover to repair or skip
// recoverable defects instead.
func Decode(b []byte) (Tile, error) {
	t, _, err := DecodeWithOptions(b, DecodeOptions{})
	return t, err
}

// DecodeWithOptions decodes a vector tile, returning in Recover mode the
// warnings for the recoverable defects it repaired or skipped. On error the
// returned Tile is empty. Allocation is bounded by a small multiple of
// len(b) whatever counts the input claims.
func DecodeWithOptions(b []byte, opts DecodeOptions) (Tile, []Warning, error) {
	d := decoder{recover: opts.Recover}
	t, err := d.tile(b)
	if err != nil {
		return Tile{}, d.warnings, err
	}
	return t, d.warnings, nil
}

// decoder is per-call state.
type decoder struct {
	recover  bool
	warnings []Warning
	layerIdx int
	layer    string
	scratch  []pt
	rings    []ringInfo
	ints     []uint32
	tags     []uint32
}

// ringInfo is a decoded ring with the sign of its area.
type ringInfo struct {
	ring orb.Ring
	area int
}

// warn records a warning for the current layer (feature -1: layer-level).
func (d *decoder) warn(feature int, format string, args ...any) {
	d.warnings = append(d.warnings, Warning{
		LayerIndex: d.layerIdx, Layer: d.layer, Feature: feature,
		Message: fmt.Sprintf(format, args...),
	})
}

// defect reports a recoverable defect: an error in strict mode, nil (and
// the caller repairs or skips) in Recover mode, where the caller warns.
func (d *decoder) defect(format string, args ...any) error {
	if d.recover {
		return nil
	}
	return &defectError{msg: fmt.Sprintf(format, args...), recoverable: true}
}

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint, fixed32 and fixed64 payloads
	b   []byte // length-delimited payload (aliases the input)
}

func nextField(b []byte) (field, int, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, 0, fatalf("protobuf: bad field tag: %v", protowire.ParseError(n))
	}
	f := field{num: num, typ: typ}
	var m int
	switch typ {
	case protowire.VarintType:
		f.v, m = protowire.ConsumeVarint(b[n:])
	case protowire.Fixed32Type:
		var v uint32
		v, m = protowire.ConsumeFixed32(b[n:])
		f.v = uint64(v)
	case protowire.Fixed64Type:
		f.v, m = protowire.ConsumeFixed64(b[n:])
	case protowire.BytesType:
		f.b, m = protowire.ConsumeBytes(b[n:])
	default:
		m = protowire.ConsumeFieldValue(num, typ, b[n:])
	}
	if m < 0 {
		return field{}, 0, fatalf("protobuf: field %d: %v", num, protowire.ParseError(m))
	}
	return f, n + m, nil
}

func wireName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType, protowire.EndGroupType:
		return "group"
	}
	return fmt.Sprintf("wire type %d", t)
}

// expect checks the wire type of a known field.
func (f field) expect(t protowire.Type, name string) error {
	if f.typ != t {
		return fatalf("%s (field %d) is encoded as %s, want %s", name, f.num, wireName(f.typ), wireName(t))
	}
	return nil
}

// unpack decodes a packed repeated uint32 field into dst's storage, grown
// at most once to the exact element count (one per terminal varint byte),
// so it is bounded by len(b).
func unpack(dst []uint32, b []byte, name string) ([]uint32, error) {
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n++
		}
	}
	out := slices.Grow(dst[:0], n)
	for len(b) > 0 {
		v, m := protowire.ConsumeVarint(b)
		if m < 0 {
			return nil, fatalf("%s: element %d: %v", name, len(out), protowire.ParseError(m))
		}
		if v > math.MaxUint32 {
			return nil, fatalf("%s: element %d = %d overflows uint32", name, len(out), v)
		}
		out = append(out, uint32(v))
		b = b[m:]
	}
	return out, nil
}

func (d *decoder) tile(b []byte) (Tile, error) {
	var t Tile
	var names map[string]int
	for li := 0; len(b) > 0; {
		f, n, err := nextField(b)
		if err != nil {
			return Tile{}, fmt.Errorf("mvt: decode: tile: %w", err)
		}
		b = b[n:]
		if f.num != fieldTileLayers {
			continue // unknown field or extension (16-8191): skipped, as proto2 does
		}
		if err := f.expect(protowire.BytesType, "layers"); err != nil {
			return Tile{}, fmt.Errorf("mvt: decode: tile: %w", err)
		}
		d.layerIdx, d.layer = li, ""
		l, err := d.decodeLayer(f.b)
		if err != nil {
			if d.layer != "" {
				return Tile{}, fmt.Errorf("mvt: decode: layer #%d %q: %w", li, d.layer, err)
			}
			return Tile{}, fmt.Errorf("mvt: decode: layer #%d: %w", li, err)
		}
		if j, dup := names[l.Name]; dup {
			if err := d.defect("name duplicates layer #%d (spec 4.1: names MUST be unique)", j); err != nil {
				return Tile{}, fmt.Errorf("mvt: decode: layer #%d %q: %w", li, l.Name, err)
			}
			d.warn(-1, "name duplicates layer #%d (spec 4.1); layer dropped, the first one kept", j)
		} else {
			if names == nil {
				names = make(map[string]int)
			}
			names[l.Name] = li
			t.Layers = append(t.Layers, l)
		}
		li++
	}
	return t, nil
}

func (d *decoder) decodeLayer(b []byte) (Layer, error) {
	l := Layer{Extent: DefaultExtent}
	var haveVersion, haveName, haveExtent bool
	var keys []string
	var values []any
	var feats [][]byte
	for len(b) > 0 {
		f, n, err := nextField(b)
		if err != nil {
			return Layer{}, err
		}
		b = b[n:]
		switch f.num {
		case fieldLayerVersion:
			if err := f.expect(protowire.VarintType, "version"); err != nil {
				return Layer{}, err
			}
			if haveVersion {
				return Layer{}, fatalf("duplicate version field")
			}
			if f.v > math.MaxUint32 {
				return Layer{}, fatalf("version %d overflows uint32", f.v)
			}
			l.Version, haveVersion = uint32(f.v), true
		case fieldLayerName:
			if err := f.expect(protowire.BytesType, "name"); err != nil {
				return Layer{}, err
			}
			if haveName {
				return Layer{}, fatalf("duplicate name field")
			}
			l.Name, haveName = string(f.b), true
			d.layer = l.Name
		case fieldLayerFeatures:
			if err := f.expect(protowire.BytesType, "features"); err != nil {
				return Layer{}, err
			}
			feats = append(feats, f.b) // decoded once keys and values are known
		case fieldLayerKeys:
			if err := f.expect(protowire.BytesType, "keys"); err != nil {
				return Layer{}, fmt.Errorf("key #%d: %w", len(keys), err)
			}
			keys = append(keys, string(f.b))
		case fieldLayerValues:
			if err := f.expect(protowire.BytesType, "values"); err != nil {
				return Layer{}, fmt.Errorf("value #%d: %w", len(values), err)
			}
			v, err := decodeValue(f.b)
			if err != nil {
				return Layer{}, fmt.Errorf("value #%d: %w", len(values), err)
			}
			values = append(values, v)
		case fieldLayerExtent:
			if err := f.expect(protowire.VarintType, "extent"); err != nil {
				return Layer{}, err
			}
			if haveExtent {
				return Layer{}, fatalf("duplicate extent field")
			}
			if f.v == 0 || f.v > math.MaxUint32 {
				return Layer{}, fatalf("extent %d is not a positive uint32", f.v)
			}
			l.Extent, haveExtent = uint32(f.v), true
		default:
			// unknown field or extension (16-max): skipped, as proto2 does
		}
	}
	if !haveName || l.Name == "" {
		return Layer{}, fatalf("layer has no name (spec 4.1: a layer MUST contain a name)")
	}
	if !haveVersion {
		return Layer{}, fatalf("layer has no version field (spec 4.1: a layer MUST contain a version)")
	}
	if l.Version != 1 && l.Version != 2 {
		return Layer{}, fatalf("unsupported layer version %d (want 1 or 2)", l.Version)
	}
	l.Features = make([]Feature, 0, len(feats))
	for i, fb := range feats {
		f, keep, err := d.decodeFeature(i, fb, keys, values, l.Version)
		if err != nil {
			return Layer{}, err
		}
		if keep {
			l.Features = append(l.Features, f)
		}
	}
	return l, nil
}

// decodeValue decodes a Value message, which must hold exactly one of the
// seven fields of spec 2.1; any other field is fatal (fixtures 011, 026).
func decodeValue(b []byte) (any, error) {
	var v any
	n := 0
	for len(b) > 0 {
		f, m, err := nextField(b)
		if err != nil {
			return nil, err
		}
		b = b[m:]
		switch f.num {
		case fieldValueString:
			err = f.expect(protowire.BytesType, "string_value")
			v = string(f.b)
		case fieldValueFloat:
			err = f.expect(protowire.Fixed32Type, "float_value")
			v = math.Float32frombits(uint32(f.v))
		case fieldValueDouble:
			err = f.expect(protowire.Fixed64Type, "double_value")
			v = math.Float64frombits(f.v)
		case fieldValueInt:
			err = f.expect(protowire.VarintType, "int_value")
			v = int64(f.v)
		case fieldValueUint:
			err = f.expect(protowire.VarintType, "uint_value")
			v = f.v
		case fieldValueSint:
			err = f.expect(protowire.VarintType, "sint_value")
			v = protowire.DecodeZigZag(f.v)
		case fieldValueBool:
			err = f.expect(protowire.VarintType, "bool_value")
			v = f.v != 0
		default:
			return nil, fatalf("unknown field %d (%s) in Value (spec 2.x defines fields 1-7 only)", f.num, wireName(f.typ))
		}
		if err != nil {
			return nil, err
		}
		n++
	}
	switch {
	case n == 0:
		return nil, fatalf("Value has no field (spec 4.1: exactly one)")
	case n > 1:
		return nil, fatalf("Value has %d fields (spec 4.1: exactly one)", n)
	}
	return v, nil
}

// decodeFeature decodes feature number idx. keep is false when a recoverable
// defect made Recover mode skip it.
func (d *decoder) decodeFeature(idx int, b []byte, keys []string, values []any, version uint32) (f Feature, keep bool, err error) {
	defer func() {
		if err != nil {
			if f.HasID {
				err = fmt.Errorf("feature #%d (id %d): %w", idx, f.ID, err)
			} else {
				err = fmt.Errorf("feature #%d: %w", idx, err)
			}
		}
	}()
	var tagsB, geomB []byte
	var nID, nTags, nType, nGeom int
	var typ uint64
	for len(b) > 0 {
		fl, n, err := nextField(b)
		if err != nil {
			return f, false, err
		}
		b = b[n:]
		switch fl.num {
		case fieldFeatureID:
			if err := fl.expect(protowire.VarintType, "id"); err != nil {
				return f, false, err
			}
			nID++
			f.ID, f.HasID = fl.v, true
		case fieldFeatureTags:
			if err := fl.expect(protowire.BytesType, "tags (packed)"); err != nil {
				return f, false, err
			}
			nTags++
			tagsB = fl.b
		case fieldFeatureType:
			if err := fl.expect(protowire.VarintType, "type"); err != nil {
				return f, false, err
			}
			nType++
			typ = fl.v
		case fieldFeatureGeometry:
			if err := fl.expect(protowire.BytesType, "geometry (packed)"); err != nil {
				return f, false, err
			}
			nGeom++
			geomB = fl.b
		default:
			// unknown field: skipped, as proto2 does
		}
	}

	// Fatal checks first, so that Recover mode never hides a fatal defect
	// behind a skipped feature.
	tags, err := unpack(d.tags, tagsB, "tags")
	if err != nil {
		return f, false, err
	}
	d.tags = tags
	geom, err := unpack(d.ints, geomB, "geometry")
	if err != nil {
		return f, false, err
	}
	d.ints = geom
	for i, t := range tags {
		if i%2 == 0 && int64(t) >= int64(len(keys)) {
			return f, false, fatalf("tag %d: key index %d out of range (layer has %d keys)", i, t, len(keys))
		}
		if i%2 == 1 && int64(t) >= int64(len(values)) {
			return f, false, fatalf("tag %d: value index %d out of range (layer has %d values)", i, t, len(values))
		}
	}

	// Recoverable defects that make the whole feature unusable.
	skip := func(format string, args ...any) (Feature, bool, error) {
		msg := fmt.Sprintf(format, args...)
		if err := d.defect("%s", msg); err != nil {
			return f, false, err
		}
		d.warn(idx, "%s; feature skipped", msg)
		return Feature{}, false, nil
	}
	switch {
	case nID > 1:
		return skip("%d id fields (spec: at most one)", nID)
	case nTags > 1:
		return skip("%d tags fields (spec: at most one)", nTags)
	case nType > 1:
		return skip("%d type fields (spec: at most one)", nType)
	case nGeom > 1:
		return skip("%d geometry fields (spec 4.2: exactly one)", nGeom)
	case nGeom == 0:
		return skip("no geometry field (spec 4.2: a feature MUST contain a geometry field)")
	case len(geom) == 0:
		return skip("empty geometry")
	case typ > uint64(GeomPolygon):
		return skip("invalid geometry type %d (spec 4.3.4: 0-3)", typ)
	case len(tags)%2 != 0:
		return skip("odd number of tags (%d) (spec 4.4: pairs of key and value indices)", len(tags))
	}
	if nType == 0 && d.recover {
		d.warn(idx, "no type field (spec 4.2: MUST contain one); decoded as UNKNOWN, the proto2 default")
	}
	f.Type = GeomType(typ)

	if len(tags) > 0 {
		f.Properties = make(map[string]any, len(tags)/2)
		for i := 0; i < len(tags); i += 2 {
			k := tags[i]
			if _, dup := f.Properties[keys[k]]; dup {
				for j := 0; j < i; j += 2 {
					if tags[j] == k {
						return skip("key index %d used twice (spec 4.4: key indices MUST be unique within a feature)", k)
					}
				}
				return skip("key %q used twice through different key indices", keys[k])
			}
			f.Properties[keys[k]] = values[tags[i+1]]
		}
	}

	if f.Type == GeomUnknown {
		f.RawGeometry = slices.Clone(geom) // geom is scratch space
		return f, true, nil
	}
	g, fixes, err := d.decodeGeometry(f.Type, geom, version)
	if err != nil {
		return f, false, fmt.Errorf("geometry: %w", err)
	}
	if fixes != "" {
		d.warn(idx, "geometry repaired: %s", fixes)
	}
	if g == nil {
		d.warn(idx, "no geometry left after repairs; feature skipped")
		return Feature{}, false, nil
	}
	f.Geometry = g
	return f, true, nil
}

// part names a line or ring in error messages; formatted only on error.
type part struct {
	kind string
	n    int
}

func (p part) String() string {
	if p.n < 0 {
		return p.kind
	}
	return p.kind + " " + strconv.Itoa(p.n)
}

// geomReader walks a command stream.
type geomReader struct {
	ints   []uint32
	i      int
	cursor pt
}

func (r *geomReader) done() bool { return r.i >= len(r.ints) }

// command reads a CommandInteger. ClosePath must have count 1 (spec
// 4.3.3.3; fixtures 047, 048); unknown command IDs are fatal.
func (r *geomReader) command() (id, count uint32, err error) {
	c := r.ints[r.i]
	r.i++
	id, count = c&7, c>>3
	switch id {
	case cmdMoveTo, cmdLineTo:
	case cmdClosePath:
		if count != 1 {
			return id, count, fatalf("integer %d: ClosePath with count %d (spec 4.3.3.3: MUST be 1)", r.i-1, count)
		}
	default:
		return id, count, fatalf("integer %d: unknown command id %d", r.i-1, id)
	}
	return id, count, nil
}

// expectCommand reads a command that must be want, with a count in
// [minCount, maxCount], and checks that its parameters are all present
// before anything is allocated for them (fixtures 051, 052, 057, 058).
func (r *geomReader) expectCommand(want, minCount, maxCount uint32, ctx part) (uint32, error) {
	if r.done() {
		return 0, fatalf("%s: geometry ends where %s is required", ctx, commandName(want))
	}
	id, count, err := r.command()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", ctx, err)
	}
	if id != want {
		return 0, fatalf("%s: integer %d: %s where %s is required", ctx, r.i-1, commandName(id), commandName(want))
	}
	if count < minCount || count > maxCount {
		if minCount == maxCount {
			return 0, fatalf("%s: integer %d: %s count %d, must be %d", ctx, r.i-1, commandName(id), count, minCount)
		}
		return 0, fatalf("%s: integer %d: %s count %d, must be at least %d", ctx, r.i-1, commandName(id), count, minCount)
	}
	if id != cmdClosePath {
		if need, left := 2*uint64(count), uint64(len(r.ints)-r.i); need > left {
			return 0, fatalf("%s: integer %d: %s count %d needs %d parameter integers, only %d remain",
				ctx, r.i-1, commandName(id), count, need, left)
		}
	}
	return count, nil
}

// next reads one (dX, dY) pair and moves the cursor. zero reports a zero
// delta.
func (r *geomReader) next() (p pt, zero bool, err error) {
	dx, dy := unzigzag(r.ints[r.i]), unzigzag(r.ints[r.i+1])
	r.i += 2
	p = pt{r.cursor.x + dx, r.cursor.y + dy}
	if p.x > maxCursor || p.x < -maxCursor || p.y > maxCursor || p.y < -maxCursor {
		return p, false, fatalf("integer %d: cursor (%d,%d) is beyond ±2^40", r.i-2, p.x, p.y)
	}
	r.cursor = p
	return p, dx == 0 && dy == 0, nil
}

func toOrb(p pt) orb.Point { return orb.Point{float64(p.x), float64(p.y)} }

// decodeGeometry decodes a POINT, LINESTRING or POLYGON command stream.
// Structural violations are fatal; degenerate geometry (zero-length
// segments, repeated closing vertices, zero-width spikes, zero-area rings,
// interior rings without an exterior) is a recoverable defect, repaired in
// Recover mode and summarised in fixes. A nil geometry means nothing was
// left after repairs.
func (d *decoder) decodeGeometry(t GeomType, ints []uint32, version uint32) (g orb.Geometry, fixes string, err error) {
	r := geomReader{ints: ints}
	switch t {
	case GeomPoint:
		count, err := r.expectCommand(cmdMoveTo, 1, math.MaxUint32, part{"POINT", -1})
		if err != nil {
			return nil, "", err
		}
		mp := make(orb.MultiPoint, count)
		for i := range mp {
			p, _, err := r.next()
			if err != nil {
				return nil, "", err
			}
			mp[i] = toOrb(p)
		}
		if !r.done() {
			return nil, "", fatalf("POINT: %d integers after the MoveTo command (spec 4.3.4.2: a single MoveTo)", len(ints)-r.i)
		}
		if len(mp) == 1 {
			return mp[0], "", nil
		}
		return mp, "", nil
	case GeomLineString:
		return d.decodeLines(&r)
	case GeomPolygon:
		return d.decodePolygons(&r, version)
	}
	return nil, "", fatalf("geometry type %v cannot be decoded", t)
}

func (d *decoder) decodeLines(r *geomReader) (orb.Geometry, string, error) {
	var lines orb.MultiLineString
	zeroSegs, dropped := 0, 0
	for n := 0; !r.done(); n++ {
		ctx := part{"line", n}
		if _, err := r.expectCommand(cmdMoveTo, 1, 1, ctx); err != nil {
			return nil, "", err
		}
		start, _, err := r.next()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", ctx, err)
		}
		count, err := r.expectCommand(cmdLineTo, 1, math.MaxUint32, ctx)
		if err != nil {
			return nil, "", err
		}
		line := make(orb.LineString, 1, count+1)
		line[0] = toOrb(start)
		for v := 1; v <= int(count); v++ {
			p, zero, err := r.next()
			if err != nil {
				return nil, "", fmt.Errorf("%s: %w", ctx, err)
			}
			if zero {
				if err := d.defect("%s: vertex %d repeats the previous one: zero-length segment (spec 4.3.3.2)", ctx, v); err != nil {
					return nil, "", err
				}
				zeroSegs++
				continue
			}
			line = append(line, toOrb(p))
		}
		if len(line) < 2 {
			dropped++ // only reachable in Recover mode
			continue
		}
		lines = append(lines, line)
	}
	var fixes []string
	if zeroSegs > 0 {
		fixes = append(fixes, fmt.Sprintf("%d zero-length segments removed", zeroSegs))
	}
	if dropped > 0 {
		fixes = append(fixes, fmt.Sprintf("%d lines with fewer than 2 distinct vertices dropped", dropped))
	}
	fix := strings.Join(fixes, "; ")
	switch len(lines) {
	case 0:
		return nil, fix, nil
	case 1:
		return lines[0], fix, nil
	}
	return lines, fix, nil
}

// decodePolygons decodes rings and classifies them (spec 4.3.4.4): in a
// version-2 layer a positive-area ring starts a polygon and a negative-area
// ring is an interior ring of the current one. Version 1 did not fix the
// winding, so there the first ring's orientation defines exterior rings (as
// mapbox vector-tile-js does) and the output is re-wound to the version-2
// convention.
func (d *decoder) decodePolygons(r *geomReader, version uint32) (orb.Geometry, string, error) {
	rings := d.rings[:0]
	zeroSegs, cleaned, zeroArea := 0, 0, 0
	for n := 0; !r.done(); n++ {
		ctx := part{"ring", n}
		if _, err := r.expectCommand(cmdMoveTo, 1, 1, ctx); err != nil {
			return nil, "", err
		}
		start, _, err := r.next()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", ctx, err)
		}
		count, err := r.expectCommand(cmdLineTo, 2, math.MaxUint32, ctx)
		if err != nil {
			return nil, "", err
		}
		pts := append(d.scratch[:0], start)
		for v := 1; v <= int(count); v++ {
			p, zero, err := r.next()
			if err != nil {
				return nil, "", fmt.Errorf("%s: %w", ctx, err)
			}
			if zero {
				if err := d.defect("%s: vertex %d repeats the previous one: zero-length segment (spec 4.3.3.2)", ctx, v); err != nil {
					return nil, "", err
				}
				zeroSegs++
				continue
			}
			pts = append(pts, p)
		}
		d.scratch = pts
		if _, err := r.expectCommand(cmdClosePath, 1, 1, ctx); err != nil {
			return nil, "", err
		}
		pts, removed := cleanRing(pts)
		if removed > 0 {
			if err := d.defect("%s: %d vertices repeat the first vertex or are tips of zero-width spikes (spec 4.3.4.4)", ctx, removed); err != nil {
				return nil, "", err
			}
			cleaned += removed
		}
		area := ringArea(pts)
		if area == 0 {
			if err := d.defect("%s: zero area (spec 4.3.4.4)", ctx); err != nil {
				return nil, "", err
			}
			zeroArea++
			continue
		}
		or := make(orb.Ring, len(pts)+1)
		for j, p := range pts {
			or[j] = toOrb(p)
		}
		or[len(pts)] = or[0]
		rings = append(rings, ringInfo{ring: or, area: area})
	}
	d.rings = rings

	exterior := 1
	if version == 1 && len(rings) > 0 {
		exterior = rings[0].area
	}
	var polys orb.MultiPolygon
	orphans := 0
	for i, rg := range rings {
		or := rg.ring
		if exterior < 0 {
			slices.Reverse(or[1 : len(or)-1]) // keeps the first vertex and closure
		}
		switch {
		case rg.area == exterior:
			polys = append(polys, orb.Polygon{or})
		case len(polys) == 0:
			if err := d.defect("ring %d: interior ring before any exterior ring (spec 4.3.4.4)", i); err != nil {
				return nil, "", err
			}
			orphans++
		default:
			polys[len(polys)-1] = append(polys[len(polys)-1], or)
		}
	}

	var fixes []string
	if zeroSegs > 0 {
		fixes = append(fixes, fmt.Sprintf("%d zero-length segments removed", zeroSegs))
	}
	if cleaned > 0 {
		fixes = append(fixes, fmt.Sprintf("%d repeated closing or spike vertices removed", cleaned))
	}
	if zeroArea > 0 {
		fixes = append(fixes, fmt.Sprintf("%d zero-area rings dropped", zeroArea))
	}
	if orphans > 0 {
		fixes = append(fixes, fmt.Sprintf("%d interior rings without exterior dropped", orphans))
	}
	fix := strings.Join(fixes, "; ")
	switch len(polys) {
	case 0:
		return nil, fix, nil
	case 1:
		return polys[0], fix, nil
	}
	return polys, fix, nil
}
