package pgstore

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

func TestKeyTextKeepsOrderAndRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	alphabet := []string{"\x00", "\x01", "\x02", "a", "|", "中", "\u00ff", "\U0001F600"}
	var strs []string
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		strs = append(strs, b.String())
	}
	for i, a := range strs {
		ta, ok := keyText(a)
		if !ok || strings.IndexByte(ta, 0) >= 0 || !utf8.ValidString(ta) || fromKeyText(ta) != a {
			t.Fatalf("%q: escaped %q, ok %v", a, ta, ok)
		}
		b := strs[(i+1)%len(strs)]
		tb, _ := keyText(b)
		if strings.Compare(a, b) != strings.Compare(ta, tb) {
			t.Fatalf("order of %q and %q not kept: %q %q", a, b, ta, tb)
		}
	}
	if _, ok := keyText("\xff"); ok {
		t.Fatal("invalid UTF-8 accepted")
	}
}

// TestNULNamesSortLikeGo stores names with NUL and 0x01 bytes and checks
// that PostgreSQL orders them as Go does.
func TestNULNamesSortLikeGo(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	ids := []string{"", "\x00", "\x00\x00", "\x00\x01", "\x01", "\x01\x00", "\x02", "a", "a\x00", "a\x00b", "a\x01", "ab", "中\x00"}
	var fs []*spatial.Feature
	for _, id := range ids[1:] {
		fs = append(fs, &spatial.Feature{Layer: "l\x00", ID: id, Geometry: orb.Point{121.6, 38.9}, Version: 1})
	}
	prepared(t, fs...)
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	got := collect(t, func(fn func(*spatial.Feature) error) error { return s.Scan(ctx, "l\x00", fn) })
	var gotIDs []string
	for _, f := range got {
		gotIDs = append(gotIDs, f.ID)
	}
	if want := slices.Sorted(slices.Values(ids[1:])); !slices.Equal(gotIDs, want) {
		t.Fatalf("scan order %q, want %q", gotIDs, want)
	}
	infos, err := s.Layers(ctx)
	if err != nil || len(infos) != 1 || infos[0].Name != "l\x00" {
		t.Fatalf("layers %+v %v", infos, err)
	}
}
