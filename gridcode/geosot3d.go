package gridcode

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// EarthRadius is r0 of GB/T 40087 and GB/T 39409, the length in metres that
// the height dimension is scaled by (the CGCS2000 semi-major axis).
const EarthRadius = 6378137.0

// Height limits accepted by the 3D codes, in metres: from deep inside the
// Earth to beyond geostationary orbit (both well inside the 8-bit degree
// field of the height angle).
const (
	MinHeight = -6e6
	MaxHeight = 1e8
)

// ErrHeight reports a height outside [MinHeight, MaxHeight].
var ErrHeight = errors.New("height out of range")

// heightScale is ln(1+θ0), θ0 = 1° in radians: GeoSOT's height layers grow
// geometrically so that a layer is as thick as its cell is wide. (Checked
// against math.Log1p(math.Pi/180) in the tests.)
const heightScale = 0.017302733123681042

// HeightUnits returns the GeoSOT height of h metres as an angle in units of
// 1/2048″, the convention of GEOVIS iBEST-DB's GGER-3D code (GB/T 40087 with
// r0 = 6 378 137 m): magnitude floor(|ln((r0+h)/r0)|/ln(1+θ0)·3600·2048)
// and a separate sign bit, so layers below the ellipsoid are the mirror of
// the angle, not of the height (−1234 m → 82448 units, +1234 m → 82432).
func HeightUnits(h float64) (neg bool, units uint32) {
	v := math.Abs(math.Log1p(h/EarthRadius)) / heightScale * UnitsPerDegree
	f := math.Floor(v)
	if v-f > 1-snapTolerance {
		f++
	}
	return h < 0, uint32(f)
}

// unitsToHeight is the inverse of HeightUnits for a layer boundary.
func unitsToHeight(neg bool, units uint32) float64 {
	a := float64(units) / UnitsPerDegree * heightScale
	if neg {
		a = -a
	}
	return EarthRadius * math.Expm1(a)
}

// HeightAxis returns the 32-bit height axis code (the iBEST-DB "z" word):
// the height angle packed like a latitude (degrees, minutes and seconds with
// the 64′/64″ extension) with bit 31 set below the ellipsoid.
func HeightAxis(h float64) uint32 {
	neg, u := HeightUnits(h)
	return packAxis(neg, u)
}

// Code3D is a GeoSOT 3D grid cell: the 2D cell extended by a height layer.
// Each level adds one octal digit latBit·4 + lonBit·2 + heightBit, so a
// level-L cell nests in its level-(L−1) parent exactly as in 2D. The text
// form is "GZ" followed by the digits (GGER-3D, as GEOVIS iBEST-DB writes
// it).
type Code3D struct {
	lat, lon, z uint32
	level       uint8
}

// Encode3D returns the GeoSOT 3D cell at the given level containing the
// point at height metres above the ellipsoid.
func Encode3D(lat, lon, height float64, level int) (Code3D, error) {
	c2, err := Encode(lat, lon, level)
	if err != nil {
		return Code3D{}, fmt.Errorf("gridcode: encode 3D: %w", err)
	}
	if !(height >= MinHeight && height <= MaxHeight) {
		return Code3D{}, fmt.Errorf("gridcode: encode 3D: %w: %v m (want %v to %v)", ErrHeight, height, MinHeight, MaxHeight)
	}
	la, lo := c2.axes()
	return Code3D{lat: la, lon: lo, z: HeightAxis(height) & axisMask(level), level: uint8(level)}, nil
}

// axisMask keeps the first level bits of an axis code.
func axisMask(level int) uint32 {
	if level <= 0 {
		return 0
	}
	return ^uint32(0) << (32 - uint(level))
}

// Level returns the cell's level, 0–32.
func (c Code3D) Level() int { return int(c.level) }

// Code2D returns the cell's footprint, the 2D cell at the same level.
func (c Code3D) Code2D() Code {
	return Code{bits: interleave(c.lat, c.lon), level: c.level}
}

// Bounds returns the cell's footprint in degrees.
func (c Code3D) Bounds() Bound { return c.Code2D().Bounds() }

// HeightRange returns the bottom and top of the cell's height layer in
// metres. Level 0 spans every height the code can hold.
func (c Code3D) HeightRange() (bottom, top float64) {
	if c.level == 0 {
		return MinHeight, MaxHeight
	}
	neg, lo, hi, _ := axisRange(c.z, int(c.level))
	if neg {
		return unitsToHeight(true, hi), unitsToHeight(true, lo)
	}
	return unitsToHeight(false, lo), unitsToHeight(false, hi)
}

// Parent returns the cell one level up (level 0 is its own parent).
func (c Code3D) Parent() Code3D { return c.ParentAt(int(c.level) - 1) }

// ParentAt returns the ancestor at the given level (clamped to 0…Level()).
func (c Code3D) ParentAt(level int) Code3D {
	if level >= int(c.level) {
		return c
	}
	level = max(level, 0)
	m := axisMask(level)
	return Code3D{lat: c.lat & m, lon: c.lon & m, z: c.z & m, level: uint8(level)}
}

// Contains reports whether o is c or one of its descendants.
func (c Code3D) Contains(o Code3D) bool {
	return o.level >= c.level && o.ParentAt(int(c.level)) == c
}

// Children returns the real children (up to eight) in digit order.
func (c Code3D) Children() []Code3D {
	if c.level >= MaxLevel {
		return nil
	}
	out := make([]Code3D, 0, 8)
	bit := uint32(1) << (31 - uint(c.level))
	for d := uint32(0); d < 8; d++ {
		k := c
		k.level++
		if d&4 != 0 {
			k.lat |= bit
		}
		if d&2 != 0 {
			k.lon |= bit
		}
		if d&1 != 0 {
			k.z |= bit
		}
		if k.real() {
			out = append(out, k)
		}
	}
	return out
}

// real reports whether the footprint is on the Earth and the layer is not in
// the virtual extension of the height angle.
func (c Code3D) real() bool {
	if !c.Code2D().real() {
		return false
	}
	if c.level == 0 {
		return true
	}
	_, _, _, ok := axisRange(c.z, int(c.level))
	return ok
}

// digit returns the octal digit of level i+1.
func (c Code3D) digit(i int) byte {
	s := 31 - uint(i)
	return byte(c.lat>>s&1<<2 | c.lon>>s&1<<1 | c.z>>s&1)
}

// String returns the GGER-3D text form, "GZ" and one octal digit per level.
func (c Code3D) String() string {
	b := make([]byte, 0, 2+MaxLevel)
	b = append(b, 'G', 'Z')
	for i := 0; i < int(c.level); i++ {
		b = append(b, '0'+c.digit(i))
	}
	return string(b)
}

// Bits returns the code as GEOVIS iBEST-DB stores it: the 2D interleaved
// bits of the footprint (left-aligned) and the height axis code (left-aligned,
// bits below the level zero).
func (c Code3D) Bits() (xy uint64, z uint32) {
	return interleave(c.lat, c.lon), c.z
}

// Integer returns the iBEST-DB integer form "xy,z:level".
func (c Code3D) Integer() string {
	xy, z := c.Bits()
	return strconv.FormatUint(xy, 10) + "," + strconv.FormatUint(uint64(z), 10) + ":" + strconv.Itoa(int(c.level))
}

// Parse3D reads a GeoSOT 3D code: "GZ" and octal digits (separators "-"
// and "." at the degree, minute and second boundaries are accepted), or the
// integer form "hi,lo:level".
func Parse3D(s string) (Code3D, error) {
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		return parse3DInteger(s)
	}
	if len(s) < 2 || !strings.EqualFold(s[:2], "GZ") {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w: want a leading GZ", s, ErrSyntax)
	}
	var c Code3D
	for i := 2; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= '0' && ch <= '7':
			if c.level == MaxLevel {
				return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w: more than %d digits", s, ErrSyntax, MaxLevel)
			}
			bit := uint32(1) << (31 - uint(c.level))
			d := ch - '0'
			if d&4 != 0 {
				c.lat |= bit
			}
			if d&2 != 0 {
				c.lon |= bit
			}
			if d&1 != 0 {
				c.z |= bit
			}
			c.level++
		case (ch == '-' || ch == '.') && (c.level == degreeDigits || c.level == minuteDigits || c.level == secondDigits) &&
			i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7':
		default:
			return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w: unexpected %q at byte %d", s, ErrSyntax, ch, i)
		}
	}
	if !c.real() {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w", s, ErrVirtual)
	}
	return c, nil
}

// parse3DInteger reads "xy,z:level".
func parse3DInteger(s string) (Code3D, error) {
	comma, colon := strings.IndexByte(s, ','), strings.IndexByte(s, ':')
	if comma < 0 || colon < comma {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w: want xy,z:level", s, ErrSyntax)
	}
	xy, err1 := strconv.ParseUint(s[:comma], 10, 64)
	z, err2 := strconv.ParseUint(s[comma+1:colon], 10, 32)
	level, err3 := strconv.Atoi(s[colon+1:])
	if err1 != nil || err2 != nil || err3 != nil {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w: bad number", s, ErrSyntax)
	}
	c2, err := FromBits(xy, level)
	if err != nil {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w", s, err)
	}
	if uint32(z)&^axisMask(level) != 0 {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w", s, ErrStrayBits)
	}
	la, lo := c2.axes()
	c := Code3D{lat: la, lon: lo, z: uint32(z), level: uint8(level)}
	if !c.real() {
		return Code3D{}, fmt.Errorf("gridcode: parse 3D %q: %w", s, ErrVirtual)
	}
	return c, nil
}
