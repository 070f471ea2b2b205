package mvt

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Hand-built wire messages for defects the fixtures do not cover.

func msgField(b []byte, num protowire.Number, payload []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, payload)
}

func varintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func packed(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = protowire.AppendVarint(b, uint64(v))
	}
	return b
}

// rawFeatureMsg builds a Feature with id 1 and the given type and geometry.
func rawFeatureMsg(typ uint64, geom ...uint32) []byte {
	b := varintField(nil, fieldFeatureID, 1)
	b = varintField(b, fieldFeatureType, typ)
	return msgField(b, fieldFeatureGeometry, packed(geom...))
}

// rawTileMsg wraps layer bodies into a tile.
func rawTileMsg(layers ...[]byte) []byte {
	var b []byte
	for _, l := range layers {
		b = msgField(b, fieldTileLayers, l)
	}
	return b
}

// rawLayerMsg builds a layer body with version, name "l" and features.
func rawLayerMsg(version uint64, extra []byte, features ...[]byte) []byte {
	b := varintField(nil, fieldLayerVersion, version)
	b = msgField(b, fieldLayerName, []byte("l"))
	for _, f := range features {
		b = msgField(b, fieldLayerFeatures, f)
	}
	return append(b, extra...)
}

func zz(v int64) uint32 { return zigzag(v) }

// ring encodes one closed ring from absolute vertices, updating the cursor.
func ringCmds(cur *[2]int64, pts ...[2]int64) []uint32 {
	out := []uint32{command(cmdMoveTo, 1), zz(pts[0][0] - cur[0]), zz(pts[0][1] - cur[1]), command(cmdLineTo, uint32(len(pts)-1))}
	*cur = pts[0]
	for _, p := range pts[1:] {
		out = append(out, zz(p[0]-cur[0]), zz(p[1]-cur[1]))
		*cur = p
	}
	return append(out, command(cmdClosePath, 1))
}

func TestDecodeDefects(t *testing.T) {
	sq := [][2]int64{{0, 0}, {10, 0}, {10, 10}, {0, 10}} // positive: exterior
	hole := [][2]int64{{2, 2}, {2, 4}, {4, 4}, {4, 2}}   // negative: interior
	rings := func(rs ...[][2]int64) []uint32 {
		var cur [2]int64
		var out []uint32
		for _, r := range rs {
			out = append(out, ringCmds(&cur, r...)...)
		}
		return out
	}
	rev := func(r [][2]int64) [][2]int64 {
		out := [][2]int64{r[0]}
		for i := len(r) - 1; i > 0; i-- {
			out = append(out, r[i])
		}
		return out
	}
	square := orb.Ring{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}
	holeRing := orb.Ring{{2, 2}, {2, 4}, {4, 4}, {4, 2}, {2, 2}}

	cases := []struct {
		name    string
		tile    []byte
		fatal   bool         // rejected in both modes
		strict  string       // strict error substring ("" = strict accepts)
		recover orb.Geometry // geometry after Recover (nil: feature skipped)
	}{
		{name: "v1 layer with inverted winding is normalised",
			tile:    rawTileMsg(rawLayerMsg(1, nil, rawFeatureMsg(3, rings(rev(sq), rev(hole))...))),
			recover: orb.Polygon{square, holeRing}},
		{name: "v2 interior ring first",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings(hole, sq)...))),
			strict: "ring 0: interior ring before any exterior ring", recover: orb.Polygon{square}},
		{name: "v2 polygon with hole",
			tile:    rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings(sq, hole)...))),
			recover: orb.Polygon{square, holeRing}},
		{name: "zero-area ring (bow-tie)",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings(sq, [][2]int64{{1, 1}, {5, 5}, {5, 1}, {1, 5}})...))),
			strict: "ring 1: zero area", recover: orb.Polygon{square}},
		{name: "collinear ring: a spike, then nothing",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings(sq, [][2]int64{{1, 1}, {3, 1}, {5, 1}})...))),
			strict: "ring 1: 1 vertices repeat the first vertex or are tips of zero-width spikes", recover: orb.Polygon{square}},
		{name: "only a zero-area ring",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings([][2]int64{{1, 1}, {5, 5}, {5, 1}, {1, 5}})...))),
			strict: "ring 0: zero area", recover: nil},
		{name: "spike in ring",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings([][2]int64{{0, 0}, {10, 0}, {10, 10}, {10, 20}, {10, 10}, {0, 10}})...))),
			strict: "tips of zero-width spikes", recover: orb.Polygon{square}},
		{name: "closing vertex repeated before ClosePath",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, rings([][2]int64{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}})...))),
			strict: "repeat the first vertex", recover: orb.Polygon{square}},
		{name: "line of repeated points only",
			tile:   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(2, 9, 2, 2, command(cmdLineTo, 2), 0, 0, 0, 0))),
			strict: "zero-length segment", recover: nil},
		{name: "LineTo count 0", fatal: true, strict: "LineTo count 0, must be at least 1",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(2, 9, 2, 2, command(cmdLineTo, 0))))},
		{name: "polygon LineTo count 1", fatal: true, strict: "LineTo count 1, must be at least 2",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, 9, 2, 2, command(cmdLineTo, 1), 4, 4, 15)))},
		{name: "ring without ClosePath", fatal: true, strict: "geometry ends where ClosePath is required",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, 9, 2, 2, command(cmdLineTo, 2), 4, 0, 0, 4)))},
		{name: "linestring MoveTo count 2", fatal: true, strict: "MoveTo count 2, must be 1",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(2, 17, 2, 2, 4, 4, 10, 2, 2)))},
		{name: "two MoveTo commands in a point", fatal: true, strict: "3 integers after the MoveTo command",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(1, 9, 2, 2, 9, 2, 2)))},
		{name: "unknown command id", fatal: true, strict: "unknown command id 3",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(2, 9, 2, 2, 3<<3|3, 2, 2)))},
		{name: "cursor beyond 2^40", fatal: true, strict: "beyond ±2^40",
			tile: rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(2, append([]uint32{9, 0, 0, command(cmdLineTo, 600)},
				repeat(600, zz(2147483647), 0)...)...)))},
		{name: "unpacked geometry", fatal: true, strict: "geometry (packed) (field 4) is encoded as varint",
			tile: rawTileMsg(rawLayerMsg(2, nil, varintField(varintField(nil, fieldFeatureType, 1), fieldFeatureGeometry, 9)))},
		{name: "geometry integer beyond uint32", fatal: true, strict: "overflows uint32",
			tile: rawTileMsg(rawLayerMsg(2, nil, msgField(varintField(nil, fieldFeatureType, 1), fieldFeatureGeometry,
				protowire.AppendVarint(nil, 1<<33))))},
		{name: "truncated varint", fatal: true, strict: "protobuf",
			tile: append(rawTileMsg(rawLayerMsg(2, nil)), 0x78, 0xff)},
		{name: "extent 0", fatal: true, strict: "extent 0 is not a positive uint32",
			tile: rawTileMsg(rawLayerMsg(2, varintField(nil, fieldLayerExtent, 0)))},
		{name: "duplicate name field", fatal: true, strict: "duplicate name field",
			tile: rawTileMsg(rawLayerMsg(2, msgField(nil, fieldLayerName, []byte("m"))))},
		{name: "Value with two fields", fatal: true, strict: "Value has 2 fields",
			tile: rawTileMsg(rawLayerMsg(2, msgField(nil, fieldLayerValues, varintField(varintField(nil, fieldValueInt, 1), fieldValueUint, 1))))},
		{name: "empty Value", fatal: true, strict: "Value has no field",
			tile: rawTileMsg(rawLayerMsg(2, msgField(nil, fieldLayerValues, nil)))},
		{name: "duplicate key index in a feature",
			tile: rawTileMsg(rawLayerMsg(2, append(msgField(nil, fieldLayerKeys, []byte("k")), msgField(nil, fieldLayerValues, varintField(nil, fieldValueInt, 1))...),
				msgField(rawFeatureMsg(1, 9, 2, 2), fieldFeatureTags, packed(0, 0, 0, 0)))),
			strict: "key index 0 used twice", recover: nil},
		{name: "same key string through two indices",
			tile: rawTileMsg(rawLayerMsg(2, append(append(msgField(nil, fieldLayerKeys, []byte("k")), msgField(nil, fieldLayerKeys, []byte("k"))...),
				msgField(nil, fieldLayerValues, varintField(nil, fieldValueInt, 1))...),
				msgField(rawFeatureMsg(1, 9, 2, 2), fieldFeatureTags, packed(0, 0, 1, 0)))),
			strict: `key "k" used twice`, recover: nil},
		{name: "unknown fields and extensions are skipped",
			tile: append(rawTileMsg(rawLayerMsg(2, varintField(nil, 16, 7), append(rawFeatureMsg(1, 9, 2, 2), varintField(nil, 9, 1)...))),
				varintField(nil, 20, 1)...),
			recover: orb.Point{1, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tile, err := Decode(c.tile)
			switch {
			case c.strict == "" && err != nil:
				t.Fatalf("strict: %v", err)
			case c.strict != "" && (err == nil || !strings.Contains(err.Error(), c.strict)):
				t.Fatalf("strict: want error containing %q, got %v", c.strict, err)
			case err != nil && !errors.Is(err, ErrInvalid):
				t.Errorf("strict error is not ErrInvalid: %v", err)
			case err != nil && errors.Is(err, ErrRecoverable) == c.fatal:
				t.Errorf("strict error: ErrRecoverable = %v, want %v", errors.Is(err, ErrRecoverable), !c.fatal)
			case err == nil && len(tile.Layers[0].Features) != 1:
				t.Errorf("strict: %d features", len(tile.Layers[0].Features))
			case err == nil && !reflect.DeepEqual(tile.Layers[0].Features[0].Geometry, c.recover):
				t.Errorf("strict: geometry %v, want %v", tile.Layers[0].Features[0].Geometry, c.recover)
			}
			tile, warns, err := DecodeWithOptions(c.tile, DecodeOptions{Recover: true})
			if c.fatal {
				if err == nil {
					t.Fatal("Recover accepted a fatal defect")
				}
				return
			}
			if err != nil {
				t.Fatalf("Recover: %v", err)
			}
			if c.strict != "" && len(warns) == 0 {
				t.Error("Recover: no warning")
			}
			fs := tile.Layers[0].Features
			if c.recover == nil {
				if len(fs) != 0 {
					t.Errorf("Recover: want the feature skipped, got %v", fs[0].Geometry)
				}
				return
			}
			if len(fs) != 1 || !reflect.DeepEqual(fs[0].Geometry, c.recover) {
				t.Errorf("Recover: got %+v, want geometry %v (warnings %v)", fs, c.recover, warns)
			}
		})
	}
}

func repeat(n int, vs ...uint32) []uint32 {
	var out []uint32
	for range n {
		out = append(out, vs...)
	}
	return out
}

// TestDecodeAllocationBounded decodes tiles claiming gigantic command counts
// (fixtures 051, 057, 058 and a synthetic polygon) and checks that decoding
// allocates a few KiB, not the gigabytes the counts claim.
func TestDecodeAllocationBounded(t *testing.T) {
	inputs := map[string][]byte{
		"polygon LineTo 2^29-1": rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(3, 9, 0, 0, command(cmdLineTo, 1<<29-1), 2, 0, 0, 2, 15))),
		"point MoveTo 2^29-1":   rawTileMsg(rawLayerMsg(2, nil, rawFeatureMsg(1, command(cmdMoveTo, 1<<29-1), 2, 2))),
	}
	if dirs, _ := filepath.Glob(filepath.Join(fixturesRoot, "fixtures", "05[178]")); len(dirs) == 3 {
		for _, d := range dirs {
			b, err := os.ReadFile(filepath.Join(d, "tile.mvt"))
			if err != nil {
				t.Fatal(err)
			}
			inputs["fixture "+filepath.Base(d)] = b
		}
	}
	for name, b := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err1 := Decode(b)
		_, _, err2 := DecodeWithOptions(b, DecodeOptions{Recover: true})
		runtime.ReadMemStats(&after)
		if err1 == nil || err2 == nil {
			t.Errorf("%s: accepted", name)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
			t.Errorf("%s: decoding allocated %d bytes", name, alloc)
		}
	}
}

// TestDecodeTruncatedNeverPanics decodes every prefix of every fixture and
// of an encoded sample in both modes.
func TestDecodeTruncatedNeverPanics(t *testing.T) {
	inputs := [][]byte{mustEncode(t, benchTile(20))}
	if dirs, _ := filepath.Glob(filepath.Join(fixturesRoot, "fixtures", "[0-9][0-9][0-9]")); len(dirs) > 0 {
		for _, d := range dirs {
			b, err := os.ReadFile(filepath.Join(d, "tile.mvt"))
			if err != nil {
				t.Fatal(err)
			}
			inputs = append(inputs, b)
		}
	}
	for _, b := range inputs {
		for i := range len(b) {
			_, _ = Decode(b[:i])
			_, _, _ = DecodeWithOptions(b[:i], DecodeOptions{Recover: true})
		}
	}
}
