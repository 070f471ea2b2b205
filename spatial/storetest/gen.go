package storetest

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"time"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Dalian's centre, around which the generated features lie.
const (
	DalianLon = 121.6
	DalianLat = 38.9
)

// DalianFeatures returns n Prepared features of a layer scattered over about
// one degree around Dalian (121.6E 38.9N), with ids fmt.Sprintf("f%07d", i)
// for i in [first, first+n). Feature i depends only on seed and i, so a
// test can regenerate any of them. Kinds (points, boxes, lines, two-box
// multipolygons) and sizes (about 0.3 m to 7 km) are mixed so the grid
// codes span many levels; properties, height, floors and validity vary.
func DalianFeatures(seed uint64, layer string, first, n int) []*spatial.Feature {
	out := make([]*spatial.Feature, n)
	for i := range out {
		out[i] = DalianFeature(seed, layer, first+i)
	}
	return out
}

// DalianFeature returns feature i of DalianFeatures(seed, layer, …).
func DalianFeature(seed uint64, layer string, i int) *spatial.Feature {
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	lon := DalianLon + rng.Float64() - 0.5
	lat := DalianLat + rng.Float64() - 0.5
	size := math.Pow(10, -5.5+rng.Float64()*4.3) // degrees
	var g orb.Geometry
	switch k := rng.IntN(20); {
	case k < 8:
		g = orb.Point{lon, lat}
	case k < 15:
		g = box(lon, lat, size, size*(0.3+rng.Float64()))
	case k < 18:
		ls := orb.LineString{{lon, lat}}
		for range 1 + rng.IntN(4) {
			p := ls[len(ls)-1]
			ls = append(ls, orb.Point{p[0] + (rng.Float64()-0.3)*size, p[1] + (rng.Float64()-0.3)*size})
		}
		g = ls
	default:
		g = orb.MultiPolygon{
			box(lon, lat, size, size/2),
			box(lon+size*1.5, lat+size*0.5, size/3, size/3),
		}
	}
	f := &spatial.Feature{
		Layer:    layer,
		ID:       fmt.Sprintf("f%07d", i),
		Geometry: g,
		Properties: map[string]any{
			"name":  fmt.Sprintf("building %d", i),
			"area":  math.Round(size*size*1e12) / 100,
			"kinds": []any{"residential", float64(rng.IntN(100))},
			"meta":  map[string]any{"ok": rng.IntN(2) == 0, "note": nil},
		},
		Height:  math.Round(rng.Float64()*2000) / 10,
		Floors:  rng.IntN(60),
		Version: uint64(i) + 1,
	}
	if rng.IntN(3) == 0 {
		f.ValidFrom = time.Date(2000+rng.IntN(20), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, rng.IntN(1e6)*1e3, time.UTC)
		if rng.IntN(2) == 0 {
			f.ValidTo = f.ValidFrom.Add(time.Duration(1+rng.IntN(1e6)) * time.Hour)
		}
	}
	if err := f.Prepare(); err != nil {
		panic(fmt.Sprintf("storetest: generated feature %d is invalid: %v", i, err))
	}
	return f
}

// box returns a rectangle with its south-west corner at (lon, lat).
func box(lon, lat, w, h float64) orb.Polygon {
	return orb.Polygon{{{lon, lat}, {lon + w, lat}, {lon + w, lat + h}, {lon, lat + h}, {lon, lat}}}
}

// Diff describes how got differs from want, or returns "" if a store gave
// back what it was given. Properties compare after a JSON round trip of
// want (stores keep JSON values: numbers come back as float64); nil and
// empty properties are equal; times compare with time.Time.Equal.
func Diff(want, got *spatial.Feature) string {
	switch {
	case want == nil || got == nil:
		if want == got {
			return ""
		}
		return fmt.Sprintf("want %v, got %v", want, got)
	case want.Layer != got.Layer || want.ID != got.ID:
		return fmt.Sprintf("want %q/%q, got %q/%q", want.Layer, want.ID, got.Layer, got.ID)
	case !orb.Equal(want.Geometry, got.Geometry):
		return fmt.Sprintf("%q/%q: geometry: want %v, got %v", want.Layer, want.ID, want.Geometry, got.Geometry)
	case want.Height != got.Height || want.Floors != got.Floors:
		return fmt.Sprintf("%q/%q: height/floors: want %v/%d, got %v/%d", want.Layer, want.ID, want.Height, want.Floors, got.Height, got.Floors)
	case want.Code != got.Code:
		return fmt.Sprintf("%q/%q: code: want %s, got %s", want.Layer, want.ID, want.Code, got.Code)
	case !want.ValidFrom.Equal(got.ValidFrom) || !want.ValidTo.Equal(got.ValidTo):
		return fmt.Sprintf("%q/%q: validity: want %v–%v, got %v–%v", want.Layer, want.ID, want.ValidFrom, want.ValidTo, got.ValidFrom, got.ValidTo)
	case want.Version != got.Version:
		return fmt.Sprintf("%q/%q: version: want %d, got %d", want.Layer, want.ID, want.Version, got.Version)
	}
	wp, err := jsonRoundTrip(want.Properties)
	if err != nil {
		return fmt.Sprintf("%q/%q: want properties: %v", want.Layer, want.ID, err)
	}
	gp := got.Properties
	if len(wp) == 0 && len(gp) == 0 {
		return ""
	}
	if !reflect.DeepEqual(wp, gp) {
		return fmt.Sprintf("%q/%q: properties: want %#v, got %#v", want.Layer, want.ID, wp, gp)
	}
	return ""
}

func jsonRoundTrip(m map[string]any) (map[string]any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}
