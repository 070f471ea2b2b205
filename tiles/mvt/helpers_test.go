package mvt

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawLayer/rawFeature are a wire-level view of an encoded tile, parsed by
// rawParse independently of Decode, so tests can inspect exactly what
// Encode wrote (versions, command integers, value tables).
type rawLayer struct {
	version  uint64
	name     string
	extent   uint64
	features []rawFeature
	keys     []string
	values   [][]byte
}

type rawFeature struct {
	id    uint64
	hasID bool
	typ   uint64
	tags  []uint32
	geom  []uint32
}

func rawParse(tb testing.TB, b []byte) []rawLayer {
	tb.Helper()
	var out []rawLayer
	walk(tb, b, func(num protowire.Number, _ uint64, lb []byte) {
		if num != fieldTileLayers {
			return
		}
		var l rawLayer
		walk(tb, lb, func(num protowire.Number, v uint64, fb []byte) {
			switch num {
			case fieldLayerVersion:
				l.version = v
			case fieldLayerName:
				l.name = string(fb)
			case fieldLayerExtent:
				l.extent = v
			case fieldLayerKeys:
				l.keys = append(l.keys, string(fb))
			case fieldLayerValues:
				l.values = append(l.values, fb)
			case fieldLayerFeatures:
				var f rawFeature
				walk(tb, fb, func(num protowire.Number, v uint64, pb []byte) {
					switch num {
					case fieldFeatureID:
						f.id, f.hasID = v, true
					case fieldFeatureType:
						f.typ = v
					case fieldFeatureTags:
						f.tags = rawPacked(tb, pb)
					case fieldFeatureGeometry:
						f.geom = rawPacked(tb, pb)
					}
				})
				l.features = append(l.features, f)
			}
		})
		out = append(out, l)
	})
	return out
}

func walk(tb testing.TB, b []byte, fn func(protowire.Number, uint64, []byte)) {
	tb.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			tb.Fatalf("raw parse: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v uint64
		var payload []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			payload, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			tb.Fatalf("raw parse: %v", protowire.ParseError(n))
		}
		b = b[n:]
		fn(num, v, payload)
	}
}

func rawPacked(tb testing.TB, b []byte) []uint32 {
	var out []uint32
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			tb.Fatalf("raw packed: %v", protowire.ParseError(n))
		}
		out = append(out, uint32(v))
		b = b[n:]
	}
	return out
}

// refPath is one MoveTo-started path of a command stream.
type refPath struct {
	pts    []orb.Point
	closed bool
}

// refPaths interprets a command stream with no validation, as a plain
// reference for what the bytes say. Coordinates use int64 arithmetic.
func refPaths(g []uint32) (paths []refPath, zeroCount, zeroDelta int) {
	var x, y int64
	for i := 0; i < len(g); {
		id, count := g[i]&7, g[i]>>3
		i++
		if count == 0 {
			zeroCount++
		}
		switch id {
		case 1, 2:
			for k := uint32(0); k < count && i+1 < len(g); k++ {
				dx := int64(int32(g[i]>>1) ^ -int32(g[i]&1))
				dy := int64(int32(g[i+1]>>1) ^ -int32(g[i+1]&1))
				i += 2
				x, y = x+dx, y+dy
				p := orb.Point{float64(x), float64(y)}
				if id == 1 {
					paths = append(paths, refPath{pts: []orb.Point{p}})
				} else {
					if dx == 0 && dy == 0 {
						zeroDelta++
					}
					paths[len(paths)-1].pts = append(paths[len(paths)-1].pts, p)
				}
			}
		case 7:
			paths[len(paths)-1].closed = true
		}
	}
	return paths, zeroCount, zeroDelta
}

// refArea is the spec's shoelace area of an open vertex list (float64 is
// exact enough for test-sized coordinates).
func refArea(pts []orb.Point) float64 {
	a := 0.0
	for i := range pts {
		j := (i + 1) % len(pts)
		a += pts[i][0]*pts[j][1] - pts[j][0]*pts[i][1]
	}
	return a / 2
}

// refGeometry builds the expected orb geometry of a command stream: the
// spec's interpretation, with v2 ring classification by area sign.
func refGeometry(typ uint64, g []uint32) orb.Geometry {
	paths, _, _ := refPaths(g)
	switch typ {
	case 1:
		var mp orb.MultiPoint
		for _, p := range paths {
			mp = append(mp, p.pts...)
		}
		if len(mp) == 1 {
			return mp[0]
		}
		return mp
	case 2:
		var ml orb.MultiLineString
		for _, p := range paths {
			ml = append(ml, orb.LineString(p.pts))
		}
		if len(ml) == 1 {
			return ml[0]
		}
		return ml
	case 3:
		var mp orb.MultiPolygon
		for _, p := range paths {
			r := append(orb.Ring(p.pts), p.pts[0])
			if refArea(p.pts) > 0 {
				mp = append(mp, orb.Polygon{r})
			} else {
				mp[len(mp)-1] = append(mp[len(mp)-1], r)
			}
		}
		if len(mp) == 1 {
			return mp[0]
		}
		return mp
	}
	return nil
}

// diffTiles lists the differences between two tiles (empty if equal).
// Floating-point property values are compared by bit pattern.
func diffTiles(want, got Tile) string {
	var d []string
	if len(want.Layers) != len(got.Layers) {
		return fmt.Sprintf("%d layers, want %d", len(got.Layers), len(want.Layers))
	}
	for i := range want.Layers {
		w, g := want.Layers[i], got.Layers[i]
		if w.Name != g.Name || w.Version != g.Version || w.Extent != g.Extent {
			d = append(d, fmt.Sprintf("layer %d: name/version/extent %q/%d/%d, want %q/%d/%d",
				i, g.Name, g.Version, g.Extent, w.Name, w.Version, w.Extent))
		}
		if len(w.Features) != len(g.Features) {
			d = append(d, fmt.Sprintf("layer %d: %d features, want %d", i, len(g.Features), len(w.Features)))
			continue
		}
		for j := range w.Features {
			wf, gf := w.Features[j], g.Features[j]
			at := fmt.Sprintf("layer %d feature %d", i, j)
			if wf.ID != gf.ID || wf.HasID != gf.HasID {
				d = append(d, fmt.Sprintf("%s: id %d/%v, want %d/%v", at, gf.ID, gf.HasID, wf.ID, wf.HasID))
			}
			if wf.Type != gf.Type {
				d = append(d, fmt.Sprintf("%s: type %v, want %v", at, gf.Type, wf.Type))
			}
			if !reflect.DeepEqual(wf.Geometry, gf.Geometry) {
				d = append(d, fmt.Sprintf("%s: geometry %#v, want %#v", at, gf.Geometry, wf.Geometry))
			}
			if !reflect.DeepEqual(wf.RawGeometry, gf.RawGeometry) {
				d = append(d, fmt.Sprintf("%s: raw geometry %v, want %v", at, gf.RawGeometry, wf.RawGeometry))
			}
			if !propsEqual(wf.Properties, gf.Properties) {
				d = append(d, fmt.Sprintf("%s: properties %#v, want %#v", at, gf.Properties, wf.Properties))
			}
		}
	}
	return strings.Join(d, "\n")
}

func propsEqual(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, av := range a {
		bv, ok := b[k]
		if !ok {
			return false
		}
		switch av := av.(type) {
		case float32:
			bv, ok := bv.(float32)
			if !ok || math.Float32bits(av) != math.Float32bits(bv) {
				return false
			}
		case float64:
			bv, ok := bv.(float64)
			if !ok || math.Float64bits(av) != math.Float64bits(bv) {
				return false
			}
		default:
			if av != bv {
				return false
			}
		}
	}
	return true
}
