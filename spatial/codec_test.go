package spatial

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

func TestCodecRoundTrip(t *testing.T) {
	geoms := []orb.Geometry{
		orb.Point{121.6, 38.9},
		orb.MultiPoint{{121.6, 38.9}, {121.61, 38.91}},
		orb.LineString{{121.6, 38.9}, {121.61, 38.91}},
		orb.MultiLineString{{{121.6, 38.9}, {121.61, 38.91}}},
		orb.Polygon{{{121.6, 38.9}, {121.7, 38.9}, {121.7, 39}, {121.6, 38.9}}, {{121.65, 38.92}, {121.66, 38.92}, {121.66, 38.93}, {121.65, 38.92}}},
		orb.MultiPolygon{{{{121.6, 38.9}, {121.7, 38.9}, {121.7, 39}, {121.6, 38.9}}}},
		orb.Collection{orb.Point{121.6, 38.9}, orb.LineString{{121.6, 38.9}, {121.61, 38.91}}},
	}
	for _, g := range geoms {
		f := &Feature{Layer: "层/a|b", ID: "id\x00x", Geometry: g, Height: 31.5, Floors: 10, Version: 42,
			Properties: map[string]any{"name": "星海广场", "n": 3.0, "ok": true, "nested": map[string]any{"a": []any{1.0, "b", nil}}},
			ValidFrom:  time.Date(1990, 1, 2, 3, 4, 5, 6, time.UTC), ValidTo: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
		if err := f.Prepare(); err != nil {
			t.Fatal(err)
		}
		b, err := MarshalFeature(f)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalFeature(b)
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		if !reflect.DeepEqual(f, back) {
			t.Errorf("%T: round trip\n got %+v\nwant %+v", g, back, f)
		}
		for i := range b {
			c := append([]byte(nil), b...)
			c[i] ^= 0x40
			if _, err := UnmarshalFeature(c); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%T: flipped byte %d not detected: %v", g, i, err)
			}
		}
		if _, err := UnmarshalFeature(b[:len(b)-1]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated record accepted")
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	bad := []*Feature{
		{ID: "x", Geometry: orb.Point{1, 1}},
		{Layer: "l", Geometry: orb.Point{1, 1}},
		{Layer: "l", ID: "x"},
		{Layer: "l", ID: "x", Geometry: orb.Point{200, 1}},
		{Layer: "l", ID: "x", Geometry: orb.LineString{{1, 1}}},
		{Layer: "l", ID: "x", Geometry: orb.Polygon{{{1, 1}, {2, 1}, {2, 2}}}},
		{Layer: "l", ID: "x", Geometry: orb.Polygon{{{1, 1}, {2, 1}, {2, 2}, {1, 2}}}},
		{Layer: "l", ID: "x", Geometry: orb.MultiPolygon{}},
		{Layer: "l", ID: "x", Geometry: orb.Point{1, 1}, Height: -1},
		{Layer: "l", ID: "x", Geometry: orb.Point{1, 1}, ValidFrom: time.Unix(10, 0), ValidTo: time.Unix(5, 0)},
		{Layer: "l", ID: "x", Geometry: orb.Point{1, 1}, ValidFrom: time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i, f := range bad {
		if err := f.Prepare(); !errors.Is(err, ErrInvalid) {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

func FuzzUnmarshalFeature(f *testing.F) {
	ft := &Feature{Layer: "b", ID: "1", Geometry: orb.Point{121.6, 38.9}, Properties: map[string]any{"a": 1.0}}
	if err := ft.Prepare(); err != nil {
		f.Fatal(err)
	}
	b, _ := MarshalFeature(ft)
	f.Add(b)
	f.Add([]byte{1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := UnmarshalFeature(b)
		if err != nil {
			return
		}
		if _, err := MarshalFeature(g); err != nil {
			t.Fatalf("decoded feature does not re-encode: %v", err)
		}
	})
}
