// Package gridcode implements the hierarchical grid codes CityTwin uses to
// name every place and moment: the GeoSOT Earth-space grid of GB/T
// 40087-2021 in two and three dimensions, a time code and a space-time code
// built on it, the BeiDou grid location code of GB/T 39409-2020, and H3
// hexagons for analytics. Everything here is a pure function of its inputs.
//
// A GeoSOT 2D Code is the Z-order interleave of two 32-bit axis codes
// (latitude bit high in each base-4 digit), left-aligned in a uint64, plus a
// level from 0 (the whole extended globe, 512°×512°) to 32 (1/2048″). Each
// axis code is 1 sign bit, 8 bits of whole degrees, 6 bits of minutes (one
// degree extended to 64′), 6 bits of seconds (one minute extended to 64″) and
// 11 bits of 1/2048″, each field found by truncation. Because codes are
// left-aligned, every descendant of a cell lies in one contiguous range of
// uint64 values, so a grid-cell query is a single range scan.
package gridcode

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// MaxLevel is the finest GeoSOT level (cells of 1/2048″, about 1.5 cm).
const MaxLevel = 32

// Limits of the real globe in axis units.
const (
	latLimit = 90 * UnitsPerDegree
	lonLimit = 180 * UnitsPerDegree
)

// Errors returned for out-of-range input. They are wrapped with context by
// the functions that return them; test with errors.Is.
var (
	ErrLevel      = errors.New("level out of range")
	ErrLatitude   = errors.New("latitude out of range [-90, 90]")
	ErrLongitude  = errors.New("longitude out of range [-180, 180]")
	ErrSyntax     = errors.New("malformed grid code")
	ErrVirtual    = errors.New("cell lies in the GeoSOT virtual extension, not on the Earth")
	ErrStrayBits  = errors.New("bits set below the code's level")
	ErrEmptyBound = errors.New("empty or invalid bounding box")
)

// Bound is a rectangle in decimal degrees (WGS84/CGCS2000 longitude and
// latitude).
type Bound struct {
	West, South, East, North float64
}

// Contains reports whether the point lies in the closed rectangle.
func (b Bound) Contains(lat, lon float64) bool {
	return lat >= b.South && lat <= b.North && lon >= b.West && lon <= b.East
}

// Center returns the middle of the rectangle.
func (b Bound) Center() (lat, lon float64) {
	return (b.South + b.North) / 2, (b.West + b.East) / 2
}

// Code is a GeoSOT 2D grid cell. The zero value is the level-0 cell G, the
// whole extended globe.
type Code struct {
	bits  uint64
	level uint8
}

// Encode returns the GeoSOT cell at the given level that contains the point
// (decimal degrees). Each axis field is found by truncation, so a point on a
// cell boundary belongs to the cell on the side away from the equator or the
// prime meridian. The poles and ±180° are folded into the last real cell.
func Encode(lat, lon float64, level int) (Code, error) {
	if uint(level) > MaxLevel || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180) {
		return Code{}, encodeError(lat, lon, level)
	}
	return Code{bits: pointBits(lat, lon) &^ lowMask(level), level: uint8(level)}, nil
}

// pointBits returns the level-32 interleaved bits of a point known to be in
// range; it is written so that everything it calls is inlined.
func pointBits(lat, lon float64) uint64 {
	ul := toUnits(math.Abs(lat))
	if ul >= latLimit {
		ul = latLimit - 1
	}
	ug := toUnits(math.Abs(lon))
	if ug >= lonLimit {
		ug = lonLimit - 1
	}
	return spread(packAxis(lat < 0, ul))<<1 | spread(packAxis(lon < 0, ug))
}

// encodeError explains why Encode refused its input. It is kept out of
// Encode so the hot path stays small.
func encodeError(lat, lon float64, level int) error {
	switch {
	case level < 0 || level > MaxLevel:
		return fmt.Errorf("gridcode: encode: %w: %d (want 0–%d)", ErrLevel, level, MaxLevel)
	case !(lat >= -90 && lat <= 90):
		return fmt.Errorf("gridcode: encode: %w: %v", ErrLatitude, lat)
	}
	return fmt.Errorf("gridcode: encode: %w: %v", ErrLongitude, lon)
}

// axisCode returns the 32-bit axis code of a coordinate known to be in range.
func axisCode(deg float64, limit uint32) uint32 {
	u := toUnits(math.Abs(deg))
	if u >= limit {
		u = limit - 1
	}
	return packAxis(deg < 0, u)
}

// lowMask has ones in the bits below a code of the given level.
func lowMask(level int) uint64 {
	if level <= 0 {
		return math.MaxUint64
	}
	return 1<<(64-2*uint(level)) - 1
}

// FromBits returns the cell with the given left-aligned bits and level,
// checking that no bit below the level is set and that the cell is real.
func FromBits(b uint64, level int) (Code, error) {
	if level < 0 || level > MaxLevel {
		return Code{}, fmt.Errorf("gridcode: %w: %d (want 0–%d)", ErrLevel, level, MaxLevel)
	}
	if b&lowMask(level) != 0 {
		return Code{}, fmt.Errorf("gridcode: %d:%d: %w", b, level, ErrStrayBits)
	}
	c := Code{bits: b, level: uint8(level)}
	if !c.real() {
		return Code{}, fmt.Errorf("gridcode: %s: %w", c, ErrVirtual)
	}
	return c, nil
}

// Bits returns the code's interleaved bits, left-aligned: the first digit in
// bits 63–62. Bits below the level are zero.
func (c Code) Bits() uint64 { return c.bits }

// Level returns the code's level, 0–32.
func (c Code) Level() int { return int(c.level) }

// axes returns the latitude and longitude axis codes with unused bits zero.
func (c Code) axes() (lat, lon uint32) { return deinterleave(c.bits) }

// extent returns the real extent of one axis of the cell in units.
func extent(a uint32, n int, limit uint32) (neg bool, lo, hi uint32, ok bool) {
	if n == 0 {
		return false, 0, limit, true
	}
	neg, lo, hi, ok = axisRange(a, n)
	if !ok || lo >= limit {
		return neg, 0, 0, false
	}
	if hi > limit {
		hi = limit
	}
	return neg, lo, hi, true
}

// real reports whether any part of the cell lies on the Earth.
func (c Code) real() bool {
	la, lo := c.axes()
	_, _, _, okLat := extent(la, int(c.level), latLimit)
	_, _, _, okLon := extent(lo, int(c.level), lonLimit)
	return okLat && okLon
}

// signedRange converts an axis extent to degrees.
func signedRange(neg bool, lo, hi uint32) (min, max float64) {
	a, b := float64(lo)/UnitsPerDegree, float64(hi)/UnitsPerDegree
	if neg {
		return -b, -a
	}
	return a, b
}

// Bounds returns the part of the cell that lies on the Earth, in degrees.
// A cell's nominal size is 2^(9-level) degrees; cells whose range runs into
// GeoSOT's virtual minutes or seconds (60–63) are cut at the real boundary.
func (c Code) Bounds() Bound {
	la, lo := c.axes()
	n := int(c.level)
	nl, l0, l1, _ := extent(la, n, latLimit)
	ng, g0, g1, _ := extent(lo, n, lonLimit)
	if n == 0 {
		return Bound{West: -180, South: -90, East: 180, North: 90}
	}
	s, no := signedRange(nl, l0, l1)
	w, e := signedRange(ng, g0, g1)
	return Bound{West: w, South: s, East: e, North: no}
}

// Center returns the centre of the cell's real part.
func (c Code) Center() (lat, lon float64) { return c.Bounds().Center() }

// Corner returns the cell's corner nearest the equator and prime meridian,
// the point its code names exactly.
func (c Code) Corner() (lat, lon float64) {
	la, lo := c.axes()
	nl, ul, _ := unpackAxis(la)
	ng, ug, _ := unpackAxis(lo)
	lat, lon = float64(ul)/UnitsPerDegree, float64(ug)/UnitsPerDegree
	if nl {
		lat = -lat
	}
	if ng {
		lon = -lon
	}
	return lat, lon
}

// Parent returns the cell one level up; the parent of level 0 is itself.
func (c Code) Parent() Code {
	if c.level == 0 {
		return c
	}
	return c.ParentAt(int(c.level) - 1)
}

// ParentAt returns the ancestor at the given level (clamped to 0…c.Level()).
func (c Code) ParentAt(level int) Code {
	if level >= int(c.level) {
		return c
	}
	if level < 0 {
		level = 0
	}
	return Code{bits: c.bits &^ lowMask(level), level: uint8(level)}
}

// Children returns the real children of the cell (up to four, fewer where a
// child lies wholly in the virtual extension or off the globe), in Z order.
// A level-32 cell has none.
func (c Code) Children() []Code {
	if c.level >= MaxLevel {
		return nil
	}
	out := make([]Code, 0, 4)
	shift := 64 - 2*uint(c.level+1)
	for i := uint64(0); i < 4; i++ {
		k := Code{bits: c.bits | i<<shift, level: c.level + 1}
		if k.real() {
			out = append(out, k)
		}
	}
	return out
}

// Contains reports whether o is c or one of its descendants.
func (c Code) Contains(o Code) bool {
	return o.level >= c.level && o.bits&^lowMask(int(c.level)) == c.bits
}

// Range returns the inclusive range of left-aligned bits that c and all its
// descendants occupy at every level: a cell query is one range scan.
func (c Code) Range() (first, last uint64) {
	return c.bits, c.bits | lowMask(int(c.level))
}

// Neighbour returns the adjacent cell at the same level dLat rows north
// (negative: south) and dLon columns east (negative: west), each −1, 0 or 1.
// Steps cross the equator, the prime meridian and ±180°; ok is false beyond
// a pole or at level 0.
func (c Code) Neighbour(dLat, dLon int) (Code, bool) {
	if c.level == 0 || dLat < -1 || dLat > 1 || dLon < -1 || dLon > 1 {
		return Code{}, false
	}
	n := int(c.level)
	la, lo := c.axes()
	nla, ok := stepAxis(la, n, latLimit, dLat, false)
	if !ok {
		return Code{}, false
	}
	nlo, ok := stepAxis(lo, n, lonLimit, dLon, true)
	if !ok {
		return Code{}, false
	}
	return Code{bits: interleave(nla, nlo) &^ lowMask(n), level: c.level}, true
}

// stepAxis moves one cell along an axis; wrap allows crossing ±180°.
func stepAxis(a uint32, n int, limit uint32, d int, wrap bool) (uint32, bool) {
	if d == 0 {
		return a, true
	}
	neg, lo, hi, ok := extent(a, n, limit)
	if !ok {
		return 0, false
	}
	away := (d > 0) != neg // moving away from the origin on this side
	switch {
	case away && hi < limit:
		return packAxis(neg, hi), true
	case away && wrap:
		return packAxis(!neg, limit-1), true
	case away:
		return 0, false
	case lo > 0:
		return packAxis(neg, lo-1), true
	default:
		return packAxis(!neg, 0), true
	}
}

// Neighbours returns the distinct adjacent cells at the same level in the
// order N, NE, E, SE, S, SW, W, NW, omitting those beyond a pole.
func (c Code) Neighbours() []Code {
	steps := [8][2]int{{1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}, {0, -1}, {1, -1}}
	out := make([]Code, 0, 8)
	for _, s := range steps {
		k, ok := c.Neighbour(s[0], s[1])
		if !ok || k == c {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == k
		}
		if !dup {
			out = append(out, k)
		}
	}
	return out
}

// CommonAncestor returns the smallest cell containing both a and b.
func CommonAncestor(a, b Code) Code {
	level := min(int(a.level), int(b.level), bits.LeadingZeros64(a.bits^b.bits)/2)
	return a.ParentAt(level)
}

// CoverBound returns the smallest single cell containing the rectangle,
// treating its edges away from the equator and prime meridian as open (so a
// rectangle that is exactly one cell gives that cell). A rectangle across
// the equator or the prime meridian gives the level-0 cell, as GB/T 40087
// prescribes.
func CoverBound(b Bound) (Code, error) {
	if !(b.South <= b.North && b.West <= b.East) {
		return Code{}, fmt.Errorf("gridcode: cover %v: %w", b, ErrEmptyBound)
	}
	if _, err := Encode(b.South, b.West, 0); err != nil {
		return Code{}, fmt.Errorf("gridcode: cover %v: %w", b, err)
	}
	if _, err := Encode(b.North, b.East, 0); err != nil {
		return Code{}, fmt.Errorf("gridcode: cover %v: %w", b, err)
	}
	la0, la1 := axisSpan(b.South, b.North, latLimit)
	lo0, lo1 := axisSpan(b.West, b.East, lonLimit)
	level := min(bits.LeadingZeros32(la0^la1), bits.LeadingZeros32(lo0^lo1), MaxLevel)
	return Code{bits: interleave(la0, lo0) &^ lowMask(level), level: uint8(level)}, nil
}

// axisSpan returns the axis codes of the first and last units covered by
// [min, max], whose end away from the origin is open unless min == max.
func axisSpan(min, max float64, limit uint32) (uint32, uint32) {
	if min < 0 && max >= 0 {
		return axisCode(min, limit), axisCode(max, limit)
	}
	near, far := min, max
	if max <= 0 {
		near, far = max, min
	}
	a := axisCode(near, limit)
	if near == far {
		return a, a
	}
	f := math.Abs(far) * UnitsPerDegree
	u := uint32(math.Ceil(f - snapTolerance))
	if u > 0 {
		u--
	}
	if u >= limit {
		u = limit - 1
	}
	return a, packAxis(far < 0, u)
}

// Compare orders codes by their bits, then coarser first: a depth-first
// (pre-order) walk of the quadtree.
func (c Code) Compare(o Code) int {
	switch {
	case c.bits < o.bits:
		return -1
	case c.bits > o.bits:
		return 1
	case c.level < o.level:
		return -1
	case c.level > o.level:
		return 1
	}
	return 0
}

// Segment boundaries of the text form: degree digits (levels 1–9), minute
// digits (10–15), second digits (16–21), sub-second digits (22–32).
const (
	degreeDigits = 9
	minuteDigits = 15
	secondDigits = 21
)

// String returns the standard text form: "G" and one base-4 digit per level,
// with "-" after the degree and minute parts and "." before the sub-second
// part, e.g. "G001310322-230230-310312".
func (c Code) String() string {
	return string(c.AppendText(make([]byte, 0, 40)))
}

// AppendText appends the standard text form (see String) to dst.
func (c Code) AppendText(dst []byte) []byte {
	dst = append(dst, 'G')
	for i := 0; i < int(c.level); i++ {
		switch i {
		case degreeDigits, minuteDigits:
			dst = append(dst, '-')
		case secondDigits:
			dst = append(dst, '.')
		}
		dst = append(dst, byte('0'+c.bits>>(62-2*uint(i))&3))
	}
	return dst
}

// Digits returns the text form without separators, e.g. "G001310322230230".
func (c Code) Digits() string {
	b := make([]byte, 0, 33)
	b = append(b, 'G')
	for i := 0; i < int(c.level); i++ {
		b = append(b, byte('0'+c.bits>>(62-2*uint(i))&3))
	}
	return string(b)
}

// Integer returns the code in the integer form of GEOVIS iBEST-DB,
// "bits:level", e.g. "531496224285523968:12".
func (c Code) Integer() string {
	return strconv.FormatUint(c.bits, 10) + ":" + strconv.Itoa(int(c.level))
}

// MarshalText implements encoding.TextMarshaler with the standard form.
func (c Code) MarshalText() ([]byte, error) { return c.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler; see Parse.
func (c *Code) UnmarshalText(b []byte) error {
	k, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = k
	return nil
}

// Parse reads a GeoSOT 2D code in the standard text form, with or without
// the separators ("G001310322-230230", "G001310322230230", and "." or "-"
// before the sub-second part), or in the integer form "bits:level" (also
// "bits-level"). The cell must lie on the Earth.
func Parse(s string) (Code, error) {
	if s == "" {
		return Code{}, fmt.Errorf("gridcode: parse %q: %w: empty", s, ErrSyntax)
	}
	if s[0] >= '0' && s[0] <= '9' {
		return parseInteger(s)
	}
	if s[0] != 'G' && s[0] != 'g' {
		return Code{}, fmt.Errorf("gridcode: parse %q: %w: want a leading G", s, ErrSyntax)
	}
	var b uint64
	level := 0
	for i := 1; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '3':
			if level == MaxLevel {
				return Code{}, fmt.Errorf("gridcode: parse %q: %w: more than %d digits", s, ErrSyntax, MaxLevel)
			}
			b |= uint64(ch-'0') << (62 - 2*uint(level))
			level++
		case (ch == '-' || ch == '.') && (level == degreeDigits || level == minuteDigits || level == secondDigits) &&
			i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && (ch == '-' || level == secondDigits):
		default:
			return Code{}, fmt.Errorf("gridcode: parse %q: %w: unexpected %q at byte %d", s, ErrSyntax, ch, i)
		}
	}
	c := Code{bits: b, level: uint8(level)}
	if !c.real() {
		return Code{}, fmt.Errorf("gridcode: parse %q: %w", s, ErrVirtual)
	}
	return c, nil
}

// parseInteger reads the "bits:level" form.
func parseInteger(s string) (Code, error) {
	for i := 0; i < len(s); i++ {
		if s[i] != ':' && s[i] != '-' {
			continue
		}
		b, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return Code{}, fmt.Errorf("gridcode: parse %q: %w: bad bits", s, ErrSyntax)
		}
		level, err := strconv.Atoi(s[i+1:])
		if err != nil {
			return Code{}, fmt.Errorf("gridcode: parse %q: %w: bad level", s, ErrSyntax)
		}
		c, err := FromBits(b, level)
		if err != nil {
			return Code{}, fmt.Errorf("gridcode: parse %q: %w", s, err)
		}
		return c, nil
	}
	return Code{}, fmt.Errorf("gridcode: parse %q: %w: want bits:level", s, ErrSyntax)
}
