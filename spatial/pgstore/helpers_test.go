package pgstore

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"
	"time"

	"citytwin/internal/pgtest"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// open opens a Store on url, closed when t ends.
func open(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// newStore opens a Store on a fresh database.
func newStore(t testing.TB) (*Store, string) {
	t.Helper()
	url := pgtest.Start(t)
	return open(t, url), url
}

// newURL returns the URL of a fresh database.
func newURL(t testing.TB) string {
	t.Helper()
	return pgtest.Start(t)
}

// codecRoundTrip is what any store must give back for f: the feature after
// spatial's own record codec (JSON property types, Ring/Bound as Polygon,
// UTC times).
func codecRoundTrip(t testing.TB, f *spatial.Feature) *spatial.Feature {
	t.Helper()
	b, err := spatial.MarshalFeature(f)
	if err != nil {
		t.Fatal(err)
	}
	g, err := spatial.UnmarshalFeature(b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// sameFeature fails t unless got is identical to what the codec makes of
// want: same record bytes and deeply equal values.
func sameFeature(t testing.TB, want, got *spatial.Feature) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s/%s: got nil", want.Layer, want.ID)
	}
	wb, _ := spatial.MarshalFeature(want)
	gb, _ := spatial.MarshalFeature(got)
	if !bytes.Equal(wb, gb) {
		t.Errorf("%s/%s: record differs:\nwant %+v\ngot  %+v", want.Layer, want.ID, want, got)
	}
	if w := codecRoundTrip(t, want); !reflect.DeepEqual(w, got) {
		t.Errorf("%s/%s: not deeply equal:\nwant %#v\ngot  %#v", want.Layer, want.ID, w, got)
	}
}

// prepared prepares and versions features, failing t on error.
func prepared(t testing.TB, fs ...*spatial.Feature) []*spatial.Feature {
	t.Helper()
	for i, f := range fs {
		if err := f.Prepare(); err != nil {
			t.Fatal(err)
		}
		if f.Version == 0 {
			f.Version = uint64(i) + 1
		}
	}
	return fs
}

// Dalian, where generated features lie.
const (
	dalianLon = 121.6
	dalianLat = 38.9
)

// buildings returns n Prepared building footprints (rotated rectangles of
// 8–40 m) scattered uniformly over a square of side spanDeg degrees centred
// on Dalian, ids fmt.Sprintf("b%07d", first+i). Deterministic by seed.
func buildings(seed uint64, layer string, first, n int, spanDeg float64) []*spatial.Feature {
	out := make([]*spatial.Feature, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(first+i)))
		lon := dalianLon + (rng.Float64()-0.5)*spanDeg
		lat := dalianLat + (rng.Float64()-0.5)*spanDeg
		w, h := 8+rng.Float64()*32, 8+rng.Float64()*32 // metres
		a := rng.Float64() * math.Pi
		const mLat = 1 / 111_000.0
		mLon := mLat / math.Cos(lat*math.Pi/180)
		ring := make(orb.Ring, 0, 5)
		for _, c := range [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}} {
			x, y := c[0]*w/2, c[1]*h/2
			x, y = x*math.Cos(a)-y*math.Sin(a), x*math.Sin(a)+y*math.Cos(a)
			ring = append(ring, orb.Point{lon + x*mLon, lat + y*mLat})
		}
		floors := 1 + rng.IntN(33)
		f := &spatial.Feature{
			Layer:    layer,
			ID:       fmt.Sprintf("b%07d", first+i),
			Geometry: orb.Polygon{ring},
			Properties: map[string]any{
				"use":  []string{"residential", "office", "retail", "school"}[rng.IntN(4)],
				"year": float64(1950 + rng.IntN(75)),
				"name": fmt.Sprintf("大连 %d 号楼", first+i),
			},
			Height:  float64(floors) * 3,
			Floors:  floors,
			Version: uint64(first+i) + 1,
		}
		if err := f.Prepare(); err != nil {
			panic(err)
		}
		out[i] = f
	}
	return out
}

// mixed returns n Prepared features of mixed kinds and sizes (points,
// boxes from centimetres to kilometres, lines, multipolygons) so grid codes
// span many levels.
func mixed(seed uint64, layer string, n int) []*spatial.Feature {
	out := make([]*spatial.Feature, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		lon := dalianLon + (rng.Float64()-0.5)*0.4
		lat := dalianLat + (rng.Float64()-0.5)*0.4
		size := math.Pow(10, -6+rng.Float64()*4.5)
		var g orb.Geometry
		switch k := rng.IntN(10); {
		case k < 4:
			g = orb.Point{lon, lat}
		case k < 7:
			g = orb.Polygon{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat + size}, {lon, lat}}}
		case k < 9:
			g = orb.LineString{{lon, lat}, {lon + size, lat + size/2}, {lon + size/3, lat + size}}
		default:
			g = orb.MultiPolygon{
				{{{lon, lat}, {lon + size, lat}, {lon + size, lat + size}, {lon, lat}}},
				{{{lon + 2*size, lat}, {lon + 3*size, lat}, {lon + 3*size, lat + size}, {lon + 2*size, lat}}},
			}
		}
		f := &spatial.Feature{
			Layer: layer, ID: fmt.Sprintf("m%05d", i), Geometry: g,
			Properties: map[string]any{"i": i},
			Version:    uint64(i + 1),
		}
		if rng.IntN(4) == 0 {
			f.ValidFrom = time.Date(2001, 2, 3, 4, 5, 6, rng.IntN(1e9), time.UTC)
		}
		if err := f.Prepare(); err != nil {
			panic(err)
		}
		out[i] = f
	}
	return out
}

// sortByCode orders features as stores scan them: code, level, id.
func sortByCode(fs []*spatial.Feature) {
	sort.Slice(fs, func(i, j int) bool {
		if c := fs[i].Code.Compare(fs[j].Code); c != 0 {
			return c < 0
		}
		return fs[i].ID < fs[j].ID
	})
}

// collect returns what a scan delivers.
func collect(t testing.TB, scan func(fn func(*spatial.Feature) error) error) []*spatial.Feature {
	t.Helper()
	var out []*spatial.Feature
	if err := scan(func(f *spatial.Feature) error {
		out = append(out, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// count returns the number of rows in features.
func count(t testing.TB, s *Store) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(`SELECT count(*) FROM features`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
