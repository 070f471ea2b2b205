package mvt

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
)

// TestLayerBuilderMatchesEncode builds benchTile's layer feature by
// feature, interning in key order as Encode does, and expects Encode's
// bytes; a reused builder (after a big layer) must give the same.
func TestLayerBuilderMatchesEncode(t *testing.T) {
	tile := benchTile(300)
	want := mustEncode(t, tile)
	var b LayerBuilder
	build := func() []byte {
		l := tile.Layers[0]
		b.Reset(l.Name, l.Extent)
		var cmds, tags []uint32
		for _, f := range l.Features {
			var err error
			if cmds, err = b.AppendPolygon(cmds[:0], f.Geometry.(orb.Polygon)); err != nil {
				t.Fatal(err)
			}
			keys := make([]string, 0, len(f.Properties))
			for k := range f.Properties {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			tags = tags[:0]
			for _, k := range keys {
				vi, err := b.Value(f.Properties[k])
				if err != nil {
					t.Fatal(err)
				}
				tags = append(tags, b.Key(k), vi)
			}
			if err := b.AddFeature(f.ID, f.HasID, f.Type, tags, cmds); err != nil {
				t.Fatal(err)
			}
		}
		if b.Len() != len(l.Features) {
			t.Errorf("Len %d", b.Len())
		}
		out := b.AppendTo(nil)
		if len(out) != b.Size() {
			t.Errorf("Size %d, appended %d", b.Size(), len(out))
		}
		return out
	}
	if got := build(); !bytes.Equal(got, want) {
		t.Fatalf("builder and Encode differ: %d and %d bytes", len(got), len(want))
	}
	// A layer with more values than reuseLimit, then the same layer again.
	b.Reset("big", 0)
	for i := range reuseLimit + 10 {
		b.StringValue(strconv.Itoa(i))
		b.IntValue(int64(-i))
		b.Key(strconv.Itoa(i))
	}
	if got := build(); !bytes.Equal(got, want) {
		t.Fatal("a reused builder writes different bytes")
	}
}

func TestLayerBuilderAddFeatureErrors(t *testing.T) {
	var b LayerBuilder
	b.Reset("l", 0)
	k, v := b.Key("a"), b.StringValue("x")
	sq := []uint32{9, 0, 0, 26, 2, 0, 0, 2, 1, 0, 15}
	for name, add := range map[string]func() error{
		"id without HasID": func() error { return b.AddFeature(3, false, GeomPolygon, nil, sq) },
		"bad type":         func() error { return b.AddFeature(0, false, 4, nil, sq) },
		"no geometry":      func() error { return b.AddFeature(0, false, GeomPolygon, nil, nil) },
		"odd tags":         func() error { return b.AddFeature(0, false, GeomPolygon, []uint32{k}, sq) },
		"key out of range": func() error { return b.AddFeature(0, false, GeomPolygon, []uint32{k + 1, v}, sq) },
		"value beyond":     func() error { return b.AddFeature(0, false, GeomPolygon, []uint32{k, v + 1}, sq) },
	} {
		if err := add(); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b.Len() != 0 {
		t.Errorf("%d features added by failed calls", b.Len())
	}
	if err := b.AddFeature(0, false, GeomPolygon, []uint32{k, v}, sq); err != nil {
		t.Fatal(err)
	}
	dec, err := Decode(b.AppendTo(nil))
	if err != nil || len(dec.Layers[0].Features) != 1 || dec.Layers[0].Features[0].Properties["a"] != "x" {
		t.Fatalf("%+v %v", dec, err)
	}
	// Collapsed geometry appends nothing; StringValueBytes interns.
	cmds, err := b.AppendGeometry(nil, GeomPolygon, orb.Polygon{{{0, 0}, {1, 1}, {2, 2}, {0, 0}}})
	if err != nil || len(cmds) != 0 {
		t.Errorf("collapsed polygon: %v %v", cmds, err)
	}
	if b.StringValueBytes([]byte("x")) != v {
		t.Error("StringValueBytes did not find the value")
	}
}
