package geojson

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestFastFloat checks the fast path against strconv.ParseFloat.
func TestFastFloat(t *testing.T) {
	cases := []string{"0", "-0", "1", "-1", "121.6", "38.9", "121.5012345", "0.1", "0.3",
		"9007199254740991", "9007199254740992", "9007199254740993", "123456789012345678",
		"1234567890123456789", "12345678901234567890", "0.0000000000000000000001", "0.00000000000000000000001",
		"1.7976931348623157", "4300000.123", "1e5", "1.5E-3", "-0.000001", "00012", "5."}
	r := rand.New(rand.NewPCG(1, 2))
	n := 100000
	if testing.Short() {
		n = 10000
	}
	for range n {
		cases = append(cases, strconv.FormatFloat((r.Float64()-0.5)*400, 'f', r.IntN(12), 64))
		cases = append(cases, strconv.FormatFloat(r.Float64()*1e7, 'f', -1, 64))
	}
	for _, s := range cases {
		for _, suffix := range []string{"", ",", "]", " "} {
			c := cursor{b: []byte(s + suffix)}
			got, ok, err := c.float()
			want, werr := strconv.ParseFloat(s, 64)
			if werr != nil {
				continue
			}
			if !ok || err != nil || math.Float64bits(got) != math.Float64bits(want) || c.i != len(s) {
				t.Fatalf("%q: got %v (ok %v, err %v, at %d), want %v", s+suffix, got, ok, err, c.i, want)
			}
		}
	}
}
