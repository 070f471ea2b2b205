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
	var b LayerBuilder
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
		b.Reset(l.Name, l.Extent)
		if err := b.addLayer(l); err != nil {
			return nil, fmt.Errorf("mvt: encode: layer #%d %q: %w", i, l.Name, err)
		}
		out = b.AppendTo(slices.Grow(out, b.Size()))
	}
	return out, nil
}

// addLayer adds l's features.
func (b *LayerBuilder) addLayer(l *Layer) error {
	// Rough size guess (a small polygon feature takes ~50 bytes) to save
	// most of the buffer's doublings.
	b.feats = slices.Grow(b.feats, 48*len(l.Features))
	for i := range l.Features {
		f := &l.Features[i]
		if err := b.addFeature(f); err != nil {
			if f.HasID {
				return fmt.Errorf("feature #%d (id %d): %w", i, f.ID, err)
			}
			return fmt.Errorf("feature #%d: %w", i, err)
		}
	}
	return nil
}

// addFeature adds f, or nothing when its geometry collapsed.
func (b *LayerBuilder) addFeature(f *Feature) error {
	if !f.HasID && f.ID != 0 {
		return fmt.Errorf("ID %d set but HasID is false: %w", f.ID, ErrInput)
	}
	var cmds []uint32
	var err error
	switch f.Type {
	case GeomUnknown:
		if f.Geometry != nil {
			return fmt.Errorf("type UNKNOWN carries RawGeometry, but Geometry is %T (set Type): %w", f.Geometry, ErrInput)
		}
		if len(f.RawGeometry) == 0 {
			return fmt.Errorf("type UNKNOWN with empty RawGeometry: %w", ErrInput)
		}
		cmds = f.RawGeometry
	case GeomPoint, GeomLineString, GeomPolygon:
		if len(f.RawGeometry) != 0 {
			return fmt.Errorf("RawGeometry is only for type UNKNOWN, type is %v: %w", f.Type, ErrInput)
		}
		if cmds, err = b.AppendGeometry(b.cmds[:0], f.Type, f.Geometry); err != nil {
			return err
		}
		b.cmds = cmds
		if len(cmds) == 0 {
			return nil
		}
	default:
		return fmt.Errorf("invalid geometry type %v: %w", f.Type, ErrInput)
	}
	if err := b.properties(f.Properties); err != nil {
		return err
	}
	b.writeFeature(f.ID, f.HasID, f.Type, b.tags, cmds)
	return nil
}

func packedSize(vs []uint32) int {
	n := 0
	for _, v := range vs {
		n += protowire.SizeVarint(uint64(v))
	}
	return n
}

// properties fills b.tags with key/value index pairs in key order.
func (b *LayerBuilder) properties(props map[string]any) error {
	b.tags = b.tags[:0]
	if len(props) == 0 {
		return nil
	}
	keys := b.sortBuf[:0]
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.sortBuf = keys
	for _, k := range keys {
		vi, err := b.Value(props[k])
		if err != nil {
			return fmt.Errorf("property %q: %w", k, err)
		}
		b.tags = append(b.tags, b.Key(k), vi)
	}
	return nil
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
func (e *LayerBuilder) geometry(dst []uint32, t GeomType, g orb.Geometry) ([]uint32, error) {
	w := geomWriter{cmds: dst}
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

func (e *LayerBuilder) points(w *geomWriter, ps []orb.Point) error {
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
func (e *LayerBuilder) line(w *geomWriter, ls orb.LineString) error {
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
func (e *LayerBuilder) polygon(w *geomWriter, p orb.Polygon) error {
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
