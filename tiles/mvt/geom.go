package mvt

import "math/bits"

// pt is a vertex in integer tile coordinates. The encoder only produces
// int32-range values; the decoder's cursor may leave that range (fixtures
// 049/050) and is bounded by maxCursor instead, so int64 is used for both.
type pt struct{ x, y int64 }

// maxCursor bounds the decoder's cursor. ±2^40 is far beyond any real tile
// (int32 deltas from (0,0)), keeps every coordinate exactly representable
// as float64 (orb's coordinate type) and keeps the 128-bit area sums below
// free of overflow for any ring that fits in memory.
const maxCursor = 1 << 40

// i128 is a signed 128-bit integer, just enough for exact shoelace sums and
// orientation tests: products of two coordinate differences overflow int64
// once coordinates use the full int32 range.
type i128 struct {
	hi int64
	lo uint64
}

func mul(a, b int64) i128 {
	if a == int64(int32(a)) && b == int64(int32(b)) { // exact in int64: the common case
		p := a * b
		return i128{p >> 63, uint64(p)}
	}
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(a), uint64(b)
	if a < 0 {
		ua = -ua
	}
	if b < 0 {
		ub = -ub
	}
	hi, lo := bits.Mul64(ua, ub)
	r := i128{int64(hi), lo}
	if neg {
		r = r.neg()
	}
	return r
}

func (x i128) add(y i128) i128 {
	lo, c := bits.Add64(x.lo, y.lo, 0)
	return i128{x.hi + y.hi + int64(c), lo}
}

func (x i128) neg() i128 {
	lo, b := bits.Sub64(0, x.lo, 0)
	return i128{-x.hi - int64(b), lo}
}

func (x i128) sub(y i128) i128 { return x.add(y.neg()) }

func (x i128) sign() int {
	switch {
	case x.hi < 0:
		return -1
	case x.hi > 0 || x.lo != 0:
		return 1
	}
	return 0
}

// ringArea returns the sign of the ring's area by the specification's
// surveyor's (shoelace) formula in tile coordinates (y down): positive is an
// exterior ring (clockwise on screen), negative an interior ring. The ring is
// open (its first vertex is not repeated at the end). Coordinates are taken
// relative to the first vertex, which leaves the area unchanged.
func ringArea(r []pt) int {
	if len(r) < 3 {
		return 0
	}
	o := r[0]
	var sum i128
	for i := 1; i+1 < len(r); i++ {
		ax, ay := r[i].x-o.x, r[i].y-o.y
		bx, by := r[i+1].x-o.x, r[i+1].y-o.y
		sum = sum.add(mul(ax, by).sub(mul(bx, ay)))
	}
	return sum.sign()
}

// isSpike reports whether b is the tip of a zero-width spike: the path
// a→b→c turns back on itself along one line (a zero-area "bridge" that
// strict decoders reject as self-tangency). a≠b and b≠c are assumed.
func isSpike(a, b, c pt) bool {
	ux, uy := b.x-a.x, b.y-a.y
	vx, vy := c.x-b.x, c.y-b.y
	if mul(ux, vy).sub(mul(uy, vx)).sign() != 0 {
		return false // not collinear
	}
	return mul(ux, vx).add(mul(uy, vy)).sign() < 0 // direction reverses
}

// cleanRing removes, in place, repeated vertices (zero-length segments,
// including a closing vertex equal to the first one) and tips of zero-width
// spikes, treating the ring as cyclic. It returns the cleaned open ring and
// the number of vertices removed. It is idempotent: cleaning a cleaned ring
// removes nothing, which keeps Encode∘Decode a fixed point.
func cleanRing(r []pt) ([]pt, int) {
	n := len(r)
	out := r[:0]
	for _, p := range r {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		for len(out) >= 2 && isSpike(out[len(out)-2], out[len(out)-1], p) {
			out = out[:len(out)-1]
		}
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	// Cyclic junction between the last and the first vertex.
	for changed := true; changed; {
		changed = false
		switch {
		case len(out) >= 2 && out[len(out)-1] == out[0]:
			out = out[:len(out)-1]
			changed = true
		case len(out) >= 3 && isSpike(out[len(out)-2], out[len(out)-1], out[0]):
			out = out[:len(out)-1]
			changed = true
		case len(out) >= 3 && isSpike(out[len(out)-1], out[0], out[1]):
			out = out[1:]
			changed = true
		}
	}
	return out, n - len(out)
}

// reverseRing reverses an open ring in place, keeping its first vertex.
func reverseRing(r []pt) {
	for i, j := 1, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}

// Command IDs (spec 4.3.1).
const (
	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7
)

func command(id, count uint32) uint32 { return id&7 | count<<3 }

func zigzag(v int64) uint32 { return uint32(int32(v)<<1) ^ uint32(int32(v)>>31) }

func unzigzag(u uint32) int64 { return int64(int32(u>>1) ^ -int32(u&1)) }

func commandName(id uint32) string {
	switch id {
	case cmdMoveTo:
		return "MoveTo"
	case cmdLineTo:
		return "LineTo"
	case cmdClosePath:
		return "ClosePath"
	}
	return "unknown command"
}
