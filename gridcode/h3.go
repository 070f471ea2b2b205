package gridcode

import (
	"errors"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/uber/h3-go/v4"
)

// MaxH3Resolution is H3's finest resolution.
const MaxH3Resolution = 15

// ErrH3 reports an invalid H3 index.
var ErrH3 = errors.New("invalid H3 cell")

// H3Cell is an H3 hexagon (or pentagon), used for hexagon analytics beside
// the national GeoSOT grid. It wraps github.com/uber/h3-go.
type H3Cell struct{ c h3.Cell }

// EncodeH3 returns the H3 cell of the given resolution (0–15) containing the
// point.
func EncodeH3(lat, lon float64, res int) (H3Cell, error) {
	if res < 0 || res > MaxH3Resolution {
		return H3Cell{}, fmt.Errorf("gridcode: encode H3: %w: %d (want 0–%d)", ErrLevel, res, MaxH3Resolution)
	}
	if !(lat >= -90 && lat <= 90) {
		return H3Cell{}, fmt.Errorf("gridcode: encode H3: %w: %v", ErrLatitude, lat)
	}
	if !(lon >= -180 && lon <= 180) {
		return H3Cell{}, fmt.Errorf("gridcode: encode H3: %w: %v", ErrLongitude, lon)
	}
	return H3Cell{h3.LatLngToCell(h3.NewLatLng(lat, lon), res)}, nil
}

// ParseH3 reads an H3 index in its hexadecimal text form.
func ParseH3(s string) (H3Cell, error) {
	c := h3.Cell(h3.IndexFromString(s))
	if len(s) == 0 || len(s) > 16 || !c.IsValid() || c.String() != lowerHex(s) {
		return H3Cell{}, fmt.Errorf("gridcode: parse H3 %q: %w", s, ErrH3)
	}
	return H3Cell{c}, nil
}

func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'F' {
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// Level returns the H3 resolution.
func (c H3Cell) Level() int { return c.c.Resolution() }

// String returns the hexadecimal index.
func (c H3Cell) String() string { return c.c.String() }

// Index returns the 64-bit H3 index.
func (c H3Cell) Index() uint64 { return uint64(c.c) }

// Center returns the cell's centroid.
func (c H3Cell) Center() (lat, lon float64) {
	ll := c.c.LatLng()
	return ll.Lat, ll.Lng
}

// Boundary returns the cell's outline as a closed ring of [lon, lat] points.
func (c H3Cell) Boundary() orb.Ring {
	b := c.c.Boundary()
	r := make(orb.Ring, 0, len(b)+1)
	for _, p := range b {
		r = append(r, orb.Point{p.Lng, p.Lat})
	}
	return append(r, r[0])
}

// Bounds returns the rectangle around the cell's outline. (Cells crossing
// ±180° get the full longitude range.)
func (c H3Cell) Bounds() Bound {
	b := c.Boundary().Bound()
	if b.Max[0]-b.Min[0] > 180 {
		return Bound{West: -180, South: b.Min[1], East: 180, North: b.Max[1]}
	}
	return Bound{West: b.Min[0], South: b.Min[1], East: b.Max[0], North: b.Max[1]}
}

// Parent returns the cell one resolution up (resolution 0 is its own parent).
func (c H3Cell) Parent() H3Cell {
	if c.Level() == 0 {
		return c
	}
	return H3Cell{c.c.ImmediateParent()}
}

// Children returns the cells one resolution down (7, or 6 for a pentagon).
func (c H3Cell) Children() []H3Cell {
	if c.Level() >= MaxH3Resolution {
		return nil
	}
	return wrapH3(c.c.ImmediateChildren())
}

// Neighbours returns the cells that share an edge with c.
func (c H3Cell) Neighbours() []H3Cell {
	var out []H3Cell
	for _, k := range c.c.GridDisk(1) {
		if k != c.c {
			out = append(out, H3Cell{k})
		}
	}
	return out
}

func wrapH3(cs []h3.Cell) []H3Cell {
	out := make([]H3Cell, len(cs))
	for i, k := range cs {
		out[i] = H3Cell{k}
	}
	return out
}

// CoverH3 returns the H3 cells of a resolution whose centres lie inside the
// polygon or multipolygon (H3's polyfill rule).
func CoverH3(g orb.Geometry, res int) ([]H3Cell, error) {
	if res < 0 || res > MaxH3Resolution {
		return nil, fmt.Errorf("gridcode: cover H3: %w: %d", ErrLevel, res)
	}
	var polys []orb.Polygon
	switch v := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{v}
	case orb.MultiPolygon:
		polys = v
	default:
		return nil, fmt.Errorf("gridcode: cover H3: want a Polygon or MultiPolygon, got %T", g)
	}
	var out []H3Cell
	for _, p := range polys {
		if len(p) == 0 {
			continue
		}
		gp := h3.GeoPolygon{GeoLoop: toLoop(p[0])}
		for _, hole := range p[1:] {
			gp.Holes = append(gp.Holes, toLoop(hole))
		}
		out = append(out, wrapH3(h3.PolygonToCells(gp, res))...)
	}
	return out, nil
}

func toLoop(r orb.Ring) h3.GeoLoop {
	n := len(r)
	if n > 1 && r[0] == r[n-1] {
		n--
	}
	loop := make(h3.GeoLoop, n)
	for i := 0; i < n; i++ {
		loop[i] = h3.NewLatLng(r[i][1], r[i][0])
	}
	return loop
}
