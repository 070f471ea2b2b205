package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"citytwin/gridcode"
	"citytwin/spatial"
	"citytwin/spatial/storetest"

	"github.com/paulmach/orb"
)

// open opens a store in a fresh directory and closes it after the test.
func open(t testing.TB) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) (spatial.Store, func() (spatial.Store, error)) {
			dir := t.TempDir()
			s, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			return s, func() (spatial.Store, error) {
				s, err := Open(dir)
				if err != nil {
					return nil, err
				}
				// Every reopen also checks the store's internal consistency.
				if err := s.Check(context.Background()); err != nil {
					s.Close()
					return nil, err
				}
				return s, nil
			}
		},
	})
}

// TestEscapingOrder checks that the escaped layer encoding is prefix-free
// and sorts like the raw names.
func TestEscapingOrder(t *testing.T) {
	alphabet := []byte{0, 1, 2, 0xFE, 0xFF, 'a', '|', '/'}
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"", "a", "a\x00", "a\x00\x00", "a\x01", "a\xff", "\x00", "\xff"}
	for range 2000 {
		b := make([]byte, rng.IntN(6))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		names = append(names, string(b))
	}
	for _, a := range names {
		ea := appendEscaped(nil, a)
		got, rest, err := decodeEscaped(append(bytes.Clone(ea), "tail"...))
		if err != nil || got != a || string(rest) != "tail" {
			t.Fatalf("decode(encode(%q)) = %q, %q, %v", a, got, rest, err)
		}
		for _, b := range names[:200] {
			eb := appendEscaped(nil, b)
			if c := bytes.Compare(ea, eb); c != strings.Compare(a, b) {
				t.Fatalf("compare(enc %q, enc %q) = %d, raw %d", a, b, c, strings.Compare(a, b))
			}
			if a != b && bytes.HasPrefix(eb, ea) {
				t.Fatalf("encoding of %q is a prefix of that of %q", a, b)
			}
		}
	}
}

// TestFeatureKeyOrder checks that feature keys sort by layer, then
// gridcode.Code.Compare, then id, and that cellBounds admits exactly the
// cell's descendants.
func TestFeatureKeyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	type rec struct {
		layer, id string
		code      gridcode.Code
	}
	var recs []rec
	for range 3000 {
		c, err := gridcode.Encode(38.9+rng.Float64()-0.5, 121.6+rng.Float64()-0.5, rng.IntN(33))
		if err != nil {
			t.Fatal(err)
		}
		if rng.IntN(4) == 0 {
			c = c.ParentAt(rng.IntN(c.Level() + 1))
		}
		recs = append(recs, rec{[]string{"a", "a\x00", "ab"}[rng.IntN(3)], []string{"x", "x\x00", "y", ""}[rng.IntN(4)], c})
	}
	for i := range recs {
		for j := range recs[:300] {
			a, b := recs[i], recs[j]
			want := strings.Compare(a.layer, b.layer)
			if want == 0 {
				want = a.code.Compare(b.code)
			}
			if want == 0 {
				want = strings.Compare(a.id, b.id)
			}
			if got := bytes.Compare(featureKey(a.layer, a.code, a.id), featureKey(b.layer, b.code, b.id)); got != want {
				t.Fatalf("key order of %v vs %v = %d, want %d", a, b, got, want)
			}
			lo, hi := cellBounds(a.layer, a.code)
			k := featureKey(b.layer, b.code, b.id)
			in := bytes.Compare(k, lo) >= 0 && bytes.Compare(k, hi) < 0
			if want := a.layer == b.layer && a.code.Contains(b.code); in != want {
				t.Fatalf("key of %v in cell range of %v = %v, want %v", b, a, in, want)
			}
		}
	}
}

func TestOrderedFloat(t *testing.T) {
	vals := []float64{math.Inf(-1), -180, -1, -1e-300, math.Copysign(0, -1), 0, 1e-300, 0.5, 38.9, 121.6, 180, math.Inf(1)}
	for i := range vals {
		if got := unorderedFloat(orderedFloat(vals[i])); got != vals[i] || math.Signbit(got) != math.Signbit(vals[i]) {
			t.Errorf("round trip of %v = %v", vals[i], got)
		}
		if i > 0 && orderedFloat(vals[i-1]) >= orderedFloat(vals[i]) {
			t.Errorf("orderedFloat(%v) >= orderedFloat(%v)", vals[i-1], vals[i])
		}
	}
}

// TestCorruptRecord writes damaged values straight into pebble and checks
// that reads report them, naming layer, id and key.
func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		damage func(t *testing.T, s *Store, f *spatial.Feature)
	}{
		{"FlippedBit", func(t *testing.T, s *Store, f *spatial.Feature) {
			k := featureKey(f.Layer, f.Code, f.ID)
			v, closer, err := s.db.Get(k)
			if err != nil {
				t.Fatal(err)
			}
			v = bytes.Clone(v)
			closer.Close()
			v[len(v)/2] ^= 0x10
			if err := s.db.Set(k, v, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"Truncated", func(t *testing.T, s *Store, f *spatial.Feature) {
			if err := s.db.Set(featureKey(f.Layer, f.Code, f.ID), []byte{1, 2, 3}, nil); err != nil {
				t.Fatal(err)
			}
		}},
		{"WrongRecord", func(t *testing.T, s *Store, f *spatial.Feature) {
			other := storetest.DalianFeature(1, f.Layer, 999)
			rec, err := spatial.MarshalFeature(other)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.db.Set(featureKey(f.Layer, f.Code, f.ID), rec, nil); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := open(t)
			fs := storetest.DalianFeatures(1, "bad", 0, 50)
			if err := s.Put(ctx, fs); err != nil {
				t.Fatal(err)
			}
			victim := fs[17]
			c.damage(t, s, victim)
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, spatial.ErrCorrupt) {
					t.Fatalf("%s: %v, want an error wrapping spatial.ErrCorrupt", op, err)
				}
				for _, want := range []string{`"bad"`, `"` + victim.ID + `"`, "key "} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s error %q does not mention %s", op, err, want)
					}
				}
			}
			_, err := s.Get(ctx, "bad", victim.ID)
			check("Get", err)
			n := 0
			err = s.Scan(ctx, "bad", func(*spatial.Feature) error { n++; return nil })
			check("Scan", err)
			check("ScanCell", s.ScanCell(ctx, "bad", victim.Code, func(*spatial.Feature) error { return nil }))
			check("Check", s.Check(ctx))
			if _, err := s.Get(ctx, "bad", fs[0].ID); err != nil {
				t.Errorf("Get of an intact feature: %v", err)
			}
		})
	}
}

// TestCheckFindsInconsistency damages the secondary keys and checks that
// Check notices.
func TestCheckFindsInconsistency(t *testing.T) {
	ctx := context.Background()
	del := func(k func(f *spatial.Feature) []byte) func(*Store, []*spatial.Feature) error {
		return func(s *Store, fs []*spatial.Feature) error { return s.db.Delete(k(fs[5]), nil) }
	}
	for _, c := range []struct {
		name   string
		damage func(s *Store, fs []*spatial.Feature) error
	}{
		{"MissingIndex", del(func(f *spatial.Feature) []byte { return indexKey(f.Layer, f.ID) })},
		{"MissingBound", del(func(f *spatial.Feature) []byte { return boundKeys(f.Layer, f.ID, f.Geometry.Bound())[2] })},
		{"MissingCount", del(func(f *spatial.Feature) []byte { return metaKey(f.Layer) })},
		{"WrongIndex", func(s *Store, fs []*spatial.Feature) error {
			// Feature 5's index entry names feature 6's cell and bound.
			v := indexValue{bits: fs[6].Code.Bits(), level: byte(fs[6].Code.Level()), bound: fs[6].Geometry.Bound()}
			return s.db.Set(indexKey("chk", fs[5].ID), v.encode(), nil)
		}},
		{"WrongBound", func(s *Store, fs []*spatial.Feature) error {
			k := boundKeys("chk", fs[5].ID, fs[5].Geometry.Bound())[0]
			if err := s.db.Delete(k, nil); err != nil {
				return err
			}
			k[len(k)-len(fs[5].ID)-1]++
			return s.db.Set(k, nil, nil)
		}},
		{"StrayRecord", func(s *Store, fs []*spatial.Feature) error {
			// A second record of feature 5 under feature 6's code.
			f := fs[5].Clone()
			f.Code = fs[6].Code
			rec, err := spatial.MarshalFeature(f)
			if err != nil {
				return err
			}
			return s.db.Set(featureKey("chk", f.Code, f.ID), rec, nil)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := open(t)
			fs := storetest.DalianFeatures(2, "chk", 0, 20)
			if err := s.Put(ctx, fs); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(ctx); err != nil {
				t.Fatalf("Check of a sound store: %v", err)
			}
			if err := c.damage(s, fs); err != nil {
				t.Fatal(err)
			}
			if err := s.Check(ctx); !errors.Is(err, spatial.ErrCorrupt) {
				t.Errorf("Check: %v, want an error wrapping spatial.ErrCorrupt", err)
			} else {
				t.Log(err)
			}
		})
	}
}

func TestPutRejectsUnpreparedCode(t *testing.T) {
	s, _ := open(t)
	f := &spatial.Feature{Layer: "l", ID: "x", Geometry: orb.Point{121.6, 38.9}}
	err := s.Put(context.Background(), []*spatial.Feature{f})
	if !errors.Is(err, spatial.ErrInvalid) || !strings.Contains(err.Error(), "Prepare") {
		t.Errorf("Put of an unprepared feature: %v", err)
	}
	if err := s.Put(context.Background(), []*spatial.Feature{nil}); !errors.Is(err, spatial.ErrInvalid) {
		t.Errorf("Put of nil: %v", err)
	}
}

func TestClosed(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	if err := s.Put(ctx, storetest.DalianFeatures(1, "l", 0, 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Get(ctx, "l", "f0000000"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := s.Scan(ctx, "l", func(*spatial.Feature) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Scan after Close: %v", err)
	}
	if err := s.Put(ctx, storetest.DalianFeatures(1, "l", 5, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Put after Close: %v", err)
	}
	// A second store in the same directory is refused while one is open.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s3, err := Open(dir); err == nil {
		s3.Close()
		t.Errorf("Open of a directory already open succeeded")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/file"
	if err := writeSynced(file, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(file); err == nil || !strings.Contains(err.Error(), "pebblestore: open") {
		t.Errorf("Open of a file: %v", err)
	}
}
