package mvt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzDecode checks that decoding never panics and that whatever decodes
// (strictly, or in Recover mode) re-encodes to bytes that decode strictly
// to the same tile, with the encoder's normalisation a fixed point: encoding
// that result again gives identical bytes. The only tolerated re-encoding
// failure is ErrCoordinate (decoded cursors beyond int32, e.g. fixtures
// 049/050, or merged deltas beyond a ParameterInteger).
//
// Seeds: every fixture tile.mvt (when present) and a few encoded tiles.
func FuzzDecode(f *testing.F) {
	if dirs, _ := filepath.Glob(filepath.Join(fixturesRoot, "fixtures", "[0-9][0-9][0-9]")); len(dirs) > 0 {
		for _, d := range dirs {
			b, err := os.ReadFile(filepath.Join(d, "tile.mvt"))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add(mustEncode(f, benchTile(3)))
	f.Add(mustEncode(f, Tile{Layers: []Layer{{Name: "mixed", Features: []Feature{
		{Type: GeomPolygon, Geometry: orb.MultiPolygon{geoA, geoB}, Properties: map[string]any{"a": int64(-1), "b": float32(2)}},
		{Type: GeomLineString, Geometry: orb.MultiLineString{{{0, 0}, {5, 5}}, {{1, 0}, {1, 9}}}},
		{Type: GeomPoint, Geometry: orb.MultiPoint{{1, 2}, {3, 4}}, HasID: true},
		{Type: GeomUnknown, RawGeometry: []uint32{9, 2, 2}},
	}}}}))

	f.Fuzz(func(t *testing.T, b []byte) {
		for _, recover := range []bool{false, true} {
			tile, _, err := DecodeWithOptions(b, DecodeOptions{Recover: recover})
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("recover=%v: error is not ErrInvalid: %v", recover, err)
				}
				continue
			}
			b2, err := Encode(tile)
			if err != nil {
				if errors.Is(err, ErrCoordinate) {
					continue
				}
				t.Fatalf("recover=%v: decoded tile does not re-encode: %v", recover, err)
			}
			back, err := Decode(b2)
			if err != nil {
				t.Fatalf("recover=%v: re-encoded tile does not decode: %v", recover, err)
			}
			for i := range tile.Layers {
				tile.Layers[i].Version = 2 // Encode always writes version 2
			}
			if d := diffTiles(tile, back); d != "" {
				t.Fatalf("recover=%v: round trip differs:\n%s", recover, d)
			}
			b3, err := Encode(back)
			if err != nil || !bytes.Equal(b2, b3) {
				t.Fatalf("recover=%v: encoding is not a fixed point (err %v)", recover, err)
			}
		}
	})
}
