package gridcode

// UnitsPerDegree is the number of the finest GeoSOT axis units (1/2048
// arc-second, the level-32 cell size) in one degree.
const UnitsPerDegree = 3600 * 2048

// Units in one arc-minute and one arc-second.
const (
	unitsPerMinute = 60 * 2048
	unitsPerSecond = 2048
)

// snapTolerance is how close (in units of 1/2048″) a scaled coordinate must
// be to the next integer to be taken as that integer. A decimal-degree input
// such as 39.910277… (39°54′37″) is not exact in binary floating point and
// may land a hair below the boundary it names; 1e-6 units is 1.4e-11 degrees
// (about 1.5 µm), far below the resolution of any real coordinate, so the
// snap only repairs floating-point error and never moves a real point.
const snapTolerance = 1e-6

// toUnits converts a non-negative angle magnitude in degrees to whole units
// of 1/2048″, truncating (floor) as GB/T 40087 requires, after snapping
// floating-point error at exact boundaries.
func toUnits(deg float64) uint32 {
	v := deg * UnitsPerDegree
	u := uint32(v) // truncation is floor for v ≥ 0
	if v-float64(u) > 1-snapTolerance {
		u++
	}
	return u
}

// packAxis turns a magnitude in units of 1/2048″ and a sign into the 32-bit
// GeoSOT axis code: 1 sign bit, 8 bits of degrees, 6 bits of minutes (1° is
// extended to 64′), 6 bits of seconds (1′ extended to 64″) and 11 bits of
// 1/2048″.
func packAxis(neg bool, units uint32) uint32 {
	// 7 372 800 = 225·2^15 and 122 880 = 60·2^11, so both divisions are a
	// shift and a division by a small constant, done here by multiplying
	// with a rounded-up reciprocal; the constants are exact over the whole
	// input range (units < 256°, checked exhaustively in the tests).
	deg := (units >> 15) * 74566 >> 24
	rem := units - deg*UnitsPerDegree
	min := (rem >> 11) * 34953 >> 21
	rem -= min * unitsPerMinute
	a := deg<<23 | min<<17 | rem
	if neg {
		a |= 1 << 31
	}
	return a
}

// unpackAxis is the inverse of packAxis. ok is false where the minute or
// second field names one of GeoSOT's virtual extension values (60–63), which
// lie on no real place.
func unpackAxis(a uint32) (neg bool, units uint32, ok bool) {
	neg = a>>31 != 0
	deg := a >> 23 & 0xff
	min := a >> 17 & 0x3f
	sec := a >> 11 & 0x3f
	frac := a & 0x7ff
	units = deg*UnitsPerDegree + min*unitsPerMinute + sec*unitsPerSecond + frac
	return neg, units, min < 60 && sec < 60
}

// axisRange returns the real extent [lo, hi) in units of 1/2048″ of the axis
// cell given by the first n bits of axis code a (n ≥ 1, which includes the
// sign bit). ok is false when the whole cell lies in GeoSOT's virtual
// extension (minutes or seconds ≥ 60).
func axisRange(a uint32, n int) (neg bool, lo, hi uint32, ok bool) {
	mask := uint32(0xffffffff) << (32 - n)
	first := a & mask
	neg, lo, ok = unpackAxis(first)
	if !ok {
		return neg, 0, 0, false
	}
	// The last real unit inside the cell: fill the free bits with ones and
	// clamp the minute and second fields to 59, which stays inside the cell
	// because the fixed bits already allow values below 60.
	last := first | ^mask
	deg := last >> 23 & 0xff
	min := last >> 17 & 0x3f
	sec := last >> 11 & 0x3f
	frac := last & 0x7ff
	if min > 59 {
		min, sec, frac = 59, 59, 2047
	}
	if sec > 59 {
		sec, frac = 59, 2047
	}
	hi = deg*UnitsPerDegree + min*unitsPerMinute + sec*unitsPerSecond + frac + 1
	return neg, lo, hi, true
}

// interleave spreads the 32 bits of lat and lon into 64 bits, the latitude
// bit high in each 2-bit (base-4) digit, most significant digit first.
func interleave(lat, lon uint32) uint64 {
	return spread(lat)<<1 | spread(lon)
}

// spreadByte[b] is byte b with its bits moved to the even positions of a
// uint16. Read-only after package initialisation.
var spreadByte = func() (t [256]uint16) {
	for i := range t {
		t[i] = uint16(spreadSlow(uint32(i)))
	}
	return t
}()

// spread moves bit i of x to bit 2i.
func spread(x uint32) uint64 {
	return uint64(spreadByte[x>>24])<<48 | uint64(spreadByte[x>>16&0xff])<<32 |
		uint64(spreadByte[x>>8&0xff])<<16 | uint64(spreadByte[x&0xff])
}

// spreadSlow is spread by bit tricks, used to build the table.
func spreadSlow(x uint32) uint64 {
	v := uint64(x)
	v = (v | v<<16) & 0x0000ffff0000ffff
	v = (v | v<<8) & 0x00ff00ff00ff00ff
	v = (v | v<<4) & 0x0f0f0f0f0f0f0f0f
	v = (v | v<<2) & 0x3333333333333333
	v = (v | v<<1) & 0x5555555555555555
	return v
}

// squash is the inverse of spread: it gathers the even bits of v.
func squash(v uint64) uint32 {
	v &= 0x5555555555555555
	v = (v | v>>1) & 0x3333333333333333
	v = (v | v>>2) & 0x0f0f0f0f0f0f0f0f
	v = (v | v>>4) & 0x00ff00ff00ff00ff
	v = (v | v>>8) & 0x0000ffff0000ffff
	v = (v | v>>16) & 0x00000000ffffffff
	return uint32(v)
}

// deinterleave is the inverse of interleave.
func deinterleave(v uint64) (lat, lon uint32) {
	return squash(v >> 1), squash(v)
}

// Interleave returns the cell bits of a pair of GeoSOT axis codes (32 bits
// each, sign bit first, as in GB/T 40087's latitude and longitude
// encodings): bit i of lon goes to bit 2i, bit i of lat to bit 2i+1, so the
// base-4 digits of a Code are its (lat, lon) bit pairs, latitude high. It
// is for callers that step along axes (grids of cells) without building
// Codes; FromBits turns the result into a Code.
func Interleave(lat, lon uint32) uint64 { return interleave(lat, lon) }

// Deinterleave is the inverse of Interleave.
func Deinterleave(bits uint64) (lat, lon uint32) { return deinterleave(bits) }
