package gridcode

import (
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestH3(t *testing.T) {
	// Known index: h3 docs' example point (37.775938728915946, -122.41795063018799) at res 9.
	c, err := EncodeH3(37.775938728915946, -122.41795063018799, 9)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != "8928308280fffff" {
		t.Errorf("got %s", c)
	}
	back, err := ParseH3("8928308280FFFFF")
	if err != nil || back != c {
		t.Errorf("ParseH3: %v %v", back, err)
	}
	if len(c.Neighbours()) != 6 || len(c.Children()) != 7 || c.Parent().Level() != 8 {
		t.Errorf("neighbours %d children %d parent %d", len(c.Neighbours()), len(c.Children()), c.Parent().Level())
	}
	r := rand.New(rand.NewPCG(13, 14))
	for i := 0; i < 2000; i++ {
		lat, lon := 38.6+r.Float64()*1.7, 120.8+r.Float64()*2.8
		c, err := EncodeH3(lat, lon, r.IntN(16))
		if err != nil {
			t.Fatal(err)
		}
		clat, clon := c.Center()
		if k, _ := EncodeH3(clat, clon, c.Level()); k != c {
			t.Fatalf("centre of %s encodes to %s", c, k)
		}
		if k, err := ParseH3(c.String()); err != nil || k != c {
			t.Fatalf("round trip %s: %v", c, err)
		}
		if b := c.Bounds(); !b.Contains(lat, lon) {
			t.Fatalf("%s bounds %v miss %v,%v", c, b, lat, lon)
		}
	}
	for _, s := range []string{"", "zz", "0", "8928308280fffffff"} {
		if _, err := ParseH3(s); err == nil {
			t.Errorf("ParseH3(%q) accepted", s)
		}
	}
	if _, err := EncodeH3(0, 0, 16); err == nil {
		t.Errorf("res 16 accepted")
	}
}

func TestCoverH3(t *testing.T) {
	poly := orb.Polygon{{{121.60, 38.90}, {121.68, 38.90}, {121.68, 38.94}, {121.60, 38.94}, {121.60, 38.90}}}
	cells, err := CoverH3(poly, 8)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) < 20 {
		t.Fatalf("%d cells", len(cells))
	}
	for _, c := range cells {
		lat, lon := c.Center()
		if !planar.PolygonContains(poly, orb.Point{lon, lat}) {
			t.Errorf("%s centre outside", c)
		}
	}
	if _, err := CoverH3(orb.Point{1, 2}, 8); err == nil {
		t.Errorf("point accepted")
	}
}
