package gridcode

// BeiDou grid location codes (北斗网格位置码) per GB/T 39409-2020.
//
// A 2D code (§5) names a cell of a ten-level latitude/longitude grid: level 1
// is the 1:1 000 000 map sheet (6°×4°), level 10 is 1/2048″×1/2048″ (about
// 1.5 cm at the equator). The text form has at most 20 characters:
//
//	N 50 J | 4 7 | 5 | 3 9 | B 8 | 2 | 5 5 | 3 4 | 6 1 | 5 2
//	hemi zone band L2 (lng,lat) L3 (Z-order) L4 L5 L6 (Z-order) L7 L8 L9 L10
//
// Only the level-1 part carries the hemisphere. From level 2 on, every
// subdivision index is counted away from the prime meridian and the equator
// (the mirror rule of figures 3–8 of the standard), so the same digits in the
// four hemispheres name mirror-image cells.
//
// A 3D code (§6) adds a height layer: the geodetic height H is mapped to the
// signed layer count n = ⌊(θ0/θ)·log_{1+θ0}((r0+H)/r0)⌋ (Appendix C, C.12) with
// θ0 = 1°, θ = 1/2048″ and r0 = 6 378 137 m, and |n| is written as the
// 12-character height code a0…a11 (C.14). The 32-character 3D code
// interleaves the two: the level-1 2D part with a0 after the hemisphere letter
// and a1a2 after the band letter, then for levels 2–10 the level's 2D
// characters followed by its height character.
//
// All arithmetic is integer arithmetic on angles in units of 1/2048″, with
// truncation (floor) at every level, so encoding is exact and reproducible.
// The polar caps (|latitude| ≥ 88°, §5.3, codes N000…/S000…) use a different,
// partly merged subdivision that is not implemented: encoding such a point or
// parsing such a code returns ErrBeiDouPolar.

import (
	"errors"
	"fmt"
	"math"
)

// BeiDouMaxLevel is the finest level of the BeiDou grid.
const BeiDouMaxLevel = 10

// BeiDouEarthRadius is r0 of GB/T 39409-2020 Appendix C: the semi-major axis
// of CGCS2000 in metres, used by the height-layer formula.
const BeiDouEarthRadius = 6378137.0

// Errors returned by the BeiDou functions. They are wrapped with context;
// test with errors.Is.
var (
	ErrBeiDouLevel  = errors.New("beidou: level out of range [1, 10]")
	ErrBeiDouCoord  = errors.New("beidou: coordinate out of range")
	ErrBeiDouHeight = errors.New("beidou: height out of range")
	ErrBeiDouPolar  = errors.New("beidou: polar region (|latitude| >= 88°) is not supported")
	ErrBeiDouSyntax = errors.New("beidou: malformed code")
)

// Angles are held in units of 1/2048 arc-second.
const (
	bdUnitsPerDegree = 3600 * 2048
	bdLatLimit       = 88 * bdUnitsPerDegree  // start of the polar cap
	bdLngLimit       = 180 * bdUnitsPerDegree // antimeridian
	// bdSnap: a scaled value within this many units below an integer is taken
	// as that integer, so a decimal input naming an exact DMS boundary is not
	// pushed into the cell below by binary floating-point error. 1e-6 units is
	// about 1.5e-8 m, far below any real coordinate resolution.
	bdSnap = 1e-6
	// bdHeightBits is the number of magnitude bits of the height count n.
	bdHeightBits = 31
	bdMaxHeightN = 1<<bdHeightBits - 1
)

// bdLevel describes one level of the grid.
type bdLevel struct {
	lng, lat uint32 // cell size in units of 1/2048″
	len2D    int    // length of the 2D code up to and including this level
	len3D    int    // length of the 3D code up to and including this level
	hShift   uint   // low bits of |n| below this level's height layer
}

// bdLevels is a read-only table indexed by level; entry 0 is unused.
var bdLevels = [BeiDouMaxLevel + 1]bdLevel{
	{},
	{6 * bdUnitsPerDegree, 4 * bdUnitsPerDegree, 4, 7, 25}, // 6°×4°, a1a2: 6 bits
	{30 * 60 * 2048, 30 * 60 * 2048, 6, 10, 22},            // 30′×30′ (12×8), a3: 3 bits
	{15 * 60 * 2048, 10 * 60 * 2048, 7, 12, 21},            // 15′×10′ (2×3), a4: 1 bit
	{60 * 2048, 60 * 2048, 9, 15, 17},                      // 1′×1′ (15×10), a5: 4 bits
	{4 * 2048, 4 * 2048, 11, 18, 13},                       // 4″×4″ (15×15), a6: 4 bits
	{2 * 2048, 2 * 2048, 12, 20, 12},                       // 2″×2″ (2×2), a7: 1 bit
	{2048 / 4, 2048 / 4, 14, 23, 9},                        // 1/4″ (8×8), a8: 3 bits
	{2048 / 32, 2048 / 32, 16, 26, 6},                      // 1/32″ (8×8), a9
	{2048 / 256, 2048 / 256, 18, 29, 3},                    // 1/256″ (8×8), a10
	{1, 1, 20, 32, 0},                                      // 1/2048″ (8×8), a11
}

const bdHexDigits = "0123456789ABCDEF"

// bdDigit returns the value of an upper-case digit 0-9, A-Z, or -1.
func bdDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

// bdUnits converts a non-negative angle magnitude in degrees to whole units of
// 1/2048″, truncating, after snapping floating-point error at boundaries.
func bdUnits(absDeg float64) uint32 {
	v := absDeg * bdUnitsPerDegree
	f := math.Floor(v)
	if v-f > 1-bdSnap {
		f++
	}
	return uint32(f)
}

// BeiDou2D is a cell of the BeiDou 2D grid (GB/T 39409-2020 §5) at levels
// 1–10. The zero value is not a cell (its Level is 0); make one with
// EncodeBeiDou or ParseBeiDou. BeiDou2D values are comparable with ==.
type BeiDou2D struct {
	// lng, lat: the cell corner nearest the origin, as |longitude| and
	// |latitude| in units of 1/2048″, a multiple of the level's cell size.
	lng, lat uint32
	level    uint8
	west     bool // longitude < 0 (zones 01–30)
	south    bool // latitude < 0 ("S")
}

// EncodeBeiDou returns the level-level BeiDou 2D cell containing the point
// (lat, lon) in decimal degrees. Points on a grid line belong to the cell
// farther from the prime meridian / equator; longitude 180 and −180 fall in
// the last cell of zone 60 and zone 01. Latitudes with |lat| ≥ 88° are in the
// polar cap and return ErrBeiDouPolar. Encode does not allocate.
func EncodeBeiDou(lat, lon float64, level int) (BeiDou2D, error) {
	if level < 1 || level > BeiDouMaxLevel {
		return BeiDou2D{}, fmt.Errorf("gridcode: encode beidou level %d: %w", level, ErrBeiDouLevel)
	}
	if !(lat >= -90 && lat <= 90) { // also rejects NaN
		return BeiDou2D{}, fmt.Errorf("gridcode: encode beidou latitude %v: %w", lat, ErrBeiDouCoord)
	}
	if !(lon >= -180 && lon <= 180) {
		return BeiDou2D{}, fmt.Errorf("gridcode: encode beidou longitude %v: %w", lon, ErrBeiDouCoord)
	}
	la := bdUnits(math.Abs(lat))
	if la >= bdLatLimit {
		return BeiDou2D{}, fmt.Errorf("gridcode: encode beidou latitude %v: %w", lat, ErrBeiDouPolar)
	}
	lo := bdUnits(math.Abs(lon))
	if lo >= bdLngLimit {
		lo = bdLngLimit - 1 // ±180°: the last cell before the antimeridian
	}
	lv := &bdLevels[level]
	return BeiDou2D{
		lng:   lo - lo%lv.lng,
		lat:   la - la%lv.lat,
		level: uint8(level),
		west:  lon < 0,
		south: lat < 0,
	}, nil
}

// Level returns the cell's level, 1–10 (0 for the zero value).
func (c BeiDou2D) Level() int { return int(c.level) }

// IsSouth reports whether the cell is in the southern hemisphere ("S").
func (c BeiDou2D) IsSouth() bool { return c.south }

// IsWest reports whether the cell is in the western hemisphere (zones 01–30).
func (c BeiDou2D) IsWest() bool { return c.west }

// Rect returns the cell's extent in decimal degrees. For cells in the
// western or southern hemisphere the edge nearer the origin is east or north.
// The zero value returns all zeros.
func (c BeiDou2D) Rect() (west, south, east, north float64) {
	if c.level < 1 || c.level > BeiDouMaxLevel {
		return 0, 0, 0, 0
	}
	lv := &bdLevels[c.level]
	lo0 := float64(c.lng) / bdUnitsPerDegree
	lo1 := float64(c.lng+lv.lng) / bdUnitsPerDegree
	la0 := float64(c.lat) / bdUnitsPerDegree
	la1 := float64(c.lat+lv.lat) / bdUnitsPerDegree
	west, east = lo0, lo1
	if c.west {
		west, east = -lo1, -lo0
	}
	south, north = la0, la1
	if c.south {
		south, north = -la1, -la0
	}
	return west, south, east, north
}

// Parent returns the enclosing cell one level up, and false at level 1 (or
// for the zero value).
func (c BeiDou2D) Parent() (BeiDou2D, bool) {
	if c.level <= 1 || c.level > BeiDouMaxLevel {
		return c, false
	}
	lv := &bdLevels[c.level-1]
	p := c
	p.level--
	p.lng -= p.lng % lv.lng
	p.lat -= p.lat % lv.lat
	return p, true
}

// String returns the code text, e.g. "N50J47539B8255346152" (20 characters
// at level 10), or "" for the zero value.
func (c BeiDou2D) String() string {
	var buf [20]byte
	return string(c.appendLevels(buf[:0], nil))
}

// AppendText appends the code text to b. It never fails; the zero value
// appends nothing.
func (c BeiDou2D) AppendText(b []byte) ([]byte, error) {
	return c.appendLevels(b, nil), nil
}

// MarshalText implements encoding.TextMarshaler.
func (c BeiDou2D) MarshalText() ([]byte, error) { return c.AppendText(nil) }

// UnmarshalText implements encoding.TextUnmarshaler using ParseBeiDou.
func (c *BeiDou2D) UnmarshalText(text []byte) error {
	v, err := ParseBeiDou(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// appendLevels writes the 2D code; if h is non-nil it interleaves the height
// code characters of the same levels (3D form).
func (c BeiDou2D) appendLevels(b []byte, h *BeiDouHeight) []byte {
	if c.level < 1 || c.level > BeiDouMaxLevel {
		return b
	}
	hemi := byte('N')
	if c.south {
		hemi = 'S'
	}
	b = append(b, hemi)
	if h != nil {
		b = append(b, h.signDigit())
	}
	zi := c.lng / bdLevels[1].lng
	zone := 31 + zi
	if c.west {
		zone = 30 - zi
	}
	b = append(b, byte('0'+zone/10), byte('0'+zone%10), byte('A'+c.lat/bdLevels[1].lat))
	if h != nil {
		b = h.appendLevel(b, 1)
	}
	for l := 2; l <= int(c.level); l++ {
		up, lv := &bdLevels[l-1], &bdLevels[l]
		i := c.lng % up.lng / lv.lng
		j := c.lat % up.lat / lv.lat
		if l == 3 || l == 6 { // Z-order, counted away from the origin
			b = append(b, byte('0'+j*2+i))
		} else {
			b = append(b, bdHexDigits[i], bdHexDigits[j])
		}
		if h != nil {
			b = h.appendLevel(b, l)
		}
	}
	return b
}

// bdLevelOfLen returns the level whose code length in table lens is n, or 0.
func bdLevelOfLen(n int, threeD bool) int {
	for l := 1; l <= BeiDouMaxLevel; l++ {
		ln := bdLevels[l].len2D
		if threeD {
			ln = bdLevels[l].len3D
		}
		if ln == n {
			return l
		}
	}
	return 0
}

// bdSyntax wraps ErrBeiDouSyntax with the code and the offending position.
func bdSyntax(kind, s string, pos int, what string) error {
	return fmt.Errorf("gridcode: parse beidou %s %q: position %d: %s: %w", kind, s, pos+1, what, ErrBeiDouSyntax)
}

// bdParser walks a 2D or 3D code.
type bdParser struct {
	s    string
	kind string
	pos  int
}

// next returns the value of the next character if it is a digit below
// radix. The error names the field: what, prefixed by "level N" if level > 0
// (formatted only on failure, so parsing a valid code does not allocate).
func (p *bdParser) next(radix, level int, what string) (uint32, error) {
	if p.pos < len(p.s) {
		if d := bdDigit(p.s[p.pos]); d >= 0 && d < radix {
			p.pos++
			return uint32(d), nil
		}
	}
	if level > 0 {
		what = fmt.Sprintf("level %d %s", level, what)
	}
	if p.pos >= len(p.s) {
		return 0, bdSyntax(p.kind, p.s, p.pos, "truncated "+what)
	}
	return 0, bdSyntax(p.kind, p.s, p.pos, fmt.Sprintf("invalid %s character %q", what, p.s[p.pos]))
}

// parse reads a code of the given level; h is nil for 2D codes.
func (p *bdParser) parse(level int, h *BeiDouHeight) (BeiDou2D, error) {
	var c BeiDou2D
	c.level = uint8(level)
	switch p.s[0] {
	case 'N':
	case 'S':
		c.south = true
	default:
		return c, bdSyntax(p.kind, p.s, 0, fmt.Sprintf("hemisphere %q is not N or S", p.s[0]))
	}
	p.pos = 1
	if h != nil {
		h.level = uint8(level)
		a0, err := p.next(2, 0, "height sign (a0)")
		if err != nil {
			return c, err
		}
		h.negative = a0 == 1
	}
	z1, err := p.next(10, 0, "zone")
	if err != nil {
		return c, err
	}
	z2, err := p.next(10, 0, "zone")
	if err != nil {
		return c, err
	}
	zone := z1*10 + z2
	if zone == 0 {
		return c, fmt.Errorf("gridcode: parse beidou %s %q: zone 00: %w", p.kind, p.s, ErrBeiDouPolar)
	}
	if zone > 60 {
		return c, bdSyntax(p.kind, p.s, p.pos-2, fmt.Sprintf("zone %02d is not in 01–60", zone))
	}
	if zone >= 31 {
		c.lng = (zone - 31) * bdLevels[1].lng
	} else {
		c.west = true
		c.lng = (30 - zone) * bdLevels[1].lng
	}
	band, err := p.next(10+22, 0, "latitude band (A–V)")
	if err != nil {
		return c, err
	}
	if band < 10 {
		return c, bdSyntax(p.kind, p.s, p.pos-1, "latitude band is not a letter A–V")
	}
	c.lat = (band - 10) * bdLevels[1].lat
	if h != nil {
		d1, err := p.next(10, 0, "height (a1a2)")
		if err != nil {
			return c, err
		}
		d2, err := p.next(10, 0, "height (a1a2)")
		if err != nil {
			return c, err
		}
		v := d1*10 + d2
		if v > 63 {
			return c, bdSyntax(p.kind, p.s, p.pos-2, fmt.Sprintf("height a1a2 %02d is not in 00–63", v))
		}
		h.mag = v << bdLevels[1].hShift
	}
	for l := 2; l <= level; l++ {
		up, lv := &bdLevels[l-1], &bdLevels[l]
		ni, nj := up.lng/lv.lng, up.lat/lv.lat
		var i, j uint32
		if l == 3 || l == 6 {
			v, err := p.next(int(ni*nj), l, "Z-order")
			if err != nil {
				return c, err
			}
			i, j = v%2, v/2
		} else {
			if i, err = p.next(int(ni), l, "longitude"); err != nil {
				return c, err
			}
			if j, err = p.next(int(nj), l, "latitude"); err != nil {
				return c, err
			}
		}
		c.lng += i * lv.lng
		c.lat += j * lv.lat
		if h != nil {
			bits := bdLevels[l-1].hShift - lv.hShift
			v, err := p.next(1<<bits, l, "height")
			if err != nil {
				return c, err
			}
			h.mag |= v << lv.hShift
		}
	}
	if p.pos != len(p.s) {
		return c, bdSyntax(p.kind, p.s, p.pos, "trailing characters")
	}
	return c, nil
}

// ParseBeiDou parses a BeiDou 2D code of any level 1–10 (4, 6, 7, 9, 11, 12,
// 14, 16, 18 or 20 characters). Letters must be upper case. Every character
// is checked against the range of its level, e.g. the level-2 longitude digit
// must be 0–B and the level-4 latitude digit 0–9. Polar codes (zone 00)
// return ErrBeiDouPolar.
func ParseBeiDou(s string) (BeiDou2D, error) {
	level := bdLevelOfLen(len(s), false)
	if level == 0 {
		return BeiDou2D{}, fmt.Errorf("gridcode: parse beidou 2D %q: length %d is not a level's length (4,6,7,9,11,12,14,16,18,20): %w", s, len(s), ErrBeiDouSyntax)
	}
	p := bdParser{s: s, kind: "2D"}
	c, err := p.parse(level, nil)
	if err != nil {
		return BeiDou2D{}, err
	}
	return c, nil
}

// BeiDouHeight is a height layer of the BeiDou 3D grid (GB/T 39409-2020 §6
// and Appendix C) at levels 1–10. Layers are counted by the signed integer n
// of formula C.12 in units of θ = 1/2048″; a level-L layer is the set of n
// whose magnitude |n| shares its leading bits down to level L. The zero value
// is not a layer (its Level is 0).
type BeiDouHeight struct {
	mag      uint32 // |n| with the bits below the level cleared
	level    uint8
	negative bool // a0 = 1: below the ellipsoid
}

// BeiDouHeightIndex returns n = ⌊(θ0/θ)·ln(1+H/r0)/ln(1+θ0)⌋ (C.12), the
// signed level-10 layer count of geodetic height heightM in metres. It fails
// for non-finite heights, heights at or below −r0, and heights whose |n|
// does not fit the code's 31 magnitude bits (roughly −6336 km … +9.7e8 m).
func BeiDouHeightIndex(heightM float64) (int64, error) {
	if !(heightM > -BeiDouEarthRadius) || math.IsInf(heightM, 1) {
		return 0, fmt.Errorf("gridcode: beidou height %v m: %w", heightM, ErrBeiDouHeight)
	}
	v := bdUnitsPerDegree * math.Log1p(heightM/BeiDouEarthRadius) / math.Log1p(math.Pi/180)
	f := math.Floor(v)
	if v-f > 1-bdSnap {
		f++
	}
	if f > bdMaxHeightN || f < -bdMaxHeightN {
		return 0, fmt.Errorf("gridcode: beidou height %v m (n = %v): %w", heightM, f, ErrBeiDouHeight)
	}
	return int64(f), nil
}

// BeiDouHeightOfIndex returns H_n = r0·((1+θ0)^(n·θ/θ0) − 1) (C.8), the
// geodetic height in metres of the lower surface of level-10 layer n.
func BeiDouHeightOfIndex(n int64) float64 {
	return BeiDouEarthRadius * math.Expm1(float64(n)/bdUnitsPerDegree*math.Log1p(math.Pi/180))
}

// EncodeBeiDouHeight returns the level-level height layer containing the
// geodetic height heightM in metres. Errors are as for BeiDouHeightIndex.
func EncodeBeiDouHeight(heightM float64, level int) (BeiDouHeight, error) {
	if level < 1 || level > BeiDouMaxLevel {
		return BeiDouHeight{}, fmt.Errorf("gridcode: encode beidou height level %d: %w", level, ErrBeiDouLevel)
	}
	n, err := BeiDouHeightIndex(heightM)
	if err != nil {
		return BeiDouHeight{}, err
	}
	return bdHeightOf(n, level), nil
}

// bdHeightOf returns the level-level layer holding layer count n.
func bdHeightOf(n int64, level int) BeiDouHeight {
	h := BeiDouHeight{level: uint8(level), negative: n < 0}
	m := uint32(n)
	if n < 0 {
		m = uint32(-n)
	}
	sh := bdLevels[level].hShift
	h.mag = m >> sh << sh
	return h
}

// BeiDouHeightCode returns the full 12-character height code a0…a11 of
// geodetic height heightM in metres, e.g. "000000015030" for 100 m.
func BeiDouHeightCode(heightM float64) (string, error) {
	h, err := EncodeBeiDouHeight(heightM, BeiDouMaxLevel)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// ParseBeiDouHeightCode parses a height code a0a1…: 3 characters (a0a1a2)
// for level 1 and one more per level, 12 for level 10. a1a2 is 00–63; a3,
// a8–a11 are 0–7; a4 and a7 are 0–1; a5 and a6 are hexadecimal 0–F (the
// standard's text says 0–E, but they carry four bits of n, so F occurs, e.g.
// at n = 15·2¹⁷). The negative level-10 layer "100000000000" (n = −0) holds no
// height and is rejected.
func ParseBeiDouHeightCode(s string) (BeiDouHeight, error) {
	level := len(s) - 2
	if level < 1 || level > BeiDouMaxLevel {
		return BeiDouHeight{}, fmt.Errorf("gridcode: parse beidou height code %q: length %d is not in 3–12: %w", s, len(s), ErrBeiDouSyntax)
	}
	p := bdParser{s: s, kind: "height code"}
	var h BeiDouHeight
	h.level = uint8(level)
	a0, err := p.next(2, 0, "height sign (a0)")
	if err != nil {
		return BeiDouHeight{}, err
	}
	h.negative = a0 == 1
	d1, err := p.next(10, 0, "a1a2")
	if err != nil {
		return BeiDouHeight{}, err
	}
	d2, err := p.next(10, 0, "a1a2")
	if err != nil {
		return BeiDouHeight{}, err
	}
	v := d1*10 + d2
	if v > 63 {
		return BeiDouHeight{}, bdSyntax(p.kind, s, 1, fmt.Sprintf("a1a2 %02d is not in 00–63", v))
	}
	h.mag = v << bdLevels[1].hShift
	for l := 2; l <= level; l++ {
		bits := bdLevels[l-1].hShift - bdLevels[l].hShift
		v, err := p.next(1<<bits, l, "height")
		if err != nil {
			return BeiDouHeight{}, err
		}
		h.mag |= v << bdLevels[l].hShift
	}
	if err := h.checkEmpty(p.kind, s); err != nil {
		return BeiDouHeight{}, err
	}
	return h, nil
}

// checkEmpty rejects the one empty layer, negative zero at level 10.
func (h BeiDouHeight) checkEmpty(kind, s string) error {
	if h.negative && h.mag == 0 && h.level == BeiDouMaxLevel {
		return fmt.Errorf("gridcode: parse beidou %s %q: negative zero height layer holds no height: %w", kind, s, ErrBeiDouSyntax)
	}
	return nil
}

// Level returns the layer's level, 1–10 (0 for the zero value).
func (h BeiDouHeight) Level() int { return int(h.level) }

// Negative reports whether the layer is below the ellipsoid (a0 = 1).
func (h BeiDouHeight) Negative() bool { return h.negative }

// IndexRange returns the first and last layer counts n (formula C.12) in
// the layer. For a level-10 layer they are equal.
func (h BeiDouHeight) IndexRange() (first, last int64) {
	if h.level < 1 || h.level > BeiDouMaxLevel {
		return 0, -1
	}
	lo := int64(h.mag)
	hi := lo + int64(1)<<bdLevels[h.level].hShift - 1
	if !h.negative {
		return lo, hi
	}
	if lo == 0 {
		lo = 1 // n = −0 does not occur
	}
	return -hi, -lo
}

// Range returns the geodetic heights in metres of the layer's bottom and top
// surfaces; a height H is in the layer when bottom ≤ H < top. Unlike the
// literal procedure of C.6, which decodes the zero-padded code as the lower
// bound, this is exact for negative layers too, whose zero-padded code names
// the top-most level-10 layer (sign-magnitude counts away from the surface).
// The zero value returns 0, 0.
func (h BeiDouHeight) Range() (bottom, top float64) {
	first, last := h.IndexRange()
	if last < first {
		return 0, 0
	}
	return BeiDouHeightOfIndex(first), BeiDouHeightOfIndex(last + 1)
}

// Parent returns the enclosing layer one level up, and false at level 1 (or
// for the zero value).
func (h BeiDouHeight) Parent() (BeiDouHeight, bool) {
	if h.level <= 1 || h.level > BeiDouMaxLevel {
		return h, false
	}
	p := h
	p.level--
	sh := bdLevels[p.level].hShift
	p.mag = p.mag >> sh << sh
	return p, true
}

// String returns the height code a0a1…, 3 characters at level 1 up to 12 at
// level 10, e.g. "000000015030"; "" for the zero value.
func (h BeiDouHeight) String() string {
	if h.level < 1 || h.level > BeiDouMaxLevel {
		return ""
	}
	var buf [12]byte
	b := append(buf[:0], h.signDigit())
	for l := 1; l <= int(h.level); l++ {
		b = h.appendLevel(b, l)
	}
	return string(b)
}

func (h BeiDouHeight) signDigit() byte {
	if h.negative {
		return '1'
	}
	return '0'
}

// appendLevel appends the height character(s) of level l: a1a2 as two
// decimal digits at level 1, one digit in base 2^bits after that.
func (h BeiDouHeight) appendLevel(b []byte, l int) []byte {
	lv := &bdLevels[l]
	if l == 1 {
		v := h.mag >> lv.hShift
		return append(b, byte('0'+v/10), byte('0'+v%10))
	}
	bits := bdLevels[l-1].hShift - lv.hShift
	v := h.mag >> lv.hShift & (1<<bits - 1)
	return append(b, bdHexDigits[v])
}

// BeiDou3D is a cell of the BeiDou 3D grid (GB/T 39409-2020 §6): a 2D cell
// and a height layer of the same level. The zero value is not a cell (its
// Level is 0). BeiDou3D values are comparable with ==.
type BeiDou3D struct {
	cell   BeiDou2D
	height BeiDouHeight
}

// EncodeBeiDou3D returns the level-level BeiDou 3D cell containing the point
// (lat, lon) in decimal degrees at geodetic height heightM in metres. Errors
// are as for EncodeBeiDou and BeiDouHeightIndex. It does not allocate.
func EncodeBeiDou3D(lat, lon, heightM float64, level int) (BeiDou3D, error) {
	c, err := EncodeBeiDou(lat, lon, level)
	if err != nil {
		return BeiDou3D{}, err
	}
	h, err := EncodeBeiDouHeight(heightM, level)
	if err != nil {
		return BeiDou3D{}, err
	}
	return BeiDou3D{cell: c, height: h}, nil
}

// NewBeiDou3D combines a 2D cell and a height layer of the same level.
func NewBeiDou3D(cell BeiDou2D, height BeiDouHeight) (BeiDou3D, error) {
	if cell.level < 1 || cell.level > BeiDouMaxLevel || cell.level != height.level {
		return BeiDou3D{}, fmt.Errorf("gridcode: beidou 3D from 2D level %d and height level %d: %w", cell.level, height.level, ErrBeiDouLevel)
	}
	return BeiDou3D{cell: cell, height: height}, nil
}

// ParseBeiDou3D parses a BeiDou 3D code of any level 1–10 (7, 10, 12, 15,
// 18, 20, 23, 26, 29 or 32 characters), e.g.
// "N036J0093000780B3010010520430140". The 2D characters are checked as in
// ParseBeiDou and the height characters as in ParseBeiDouHeightCode.
func ParseBeiDou3D(s string) (BeiDou3D, error) {
	level := bdLevelOfLen(len(s), true)
	if level == 0 {
		return BeiDou3D{}, fmt.Errorf("gridcode: parse beidou 3D %q: length %d is not a level's length (7,10,12,15,18,20,23,26,29,32): %w", s, len(s), ErrBeiDouSyntax)
	}
	p := bdParser{s: s, kind: "3D"}
	var h BeiDouHeight
	c, err := p.parse(level, &h)
	if err != nil {
		return BeiDou3D{}, err
	}
	if err := h.checkEmpty(p.kind, s); err != nil {
		return BeiDou3D{}, err
	}
	return BeiDou3D{cell: c, height: h}, nil
}

// Level returns the cell's level, 1–10 (0 for the zero value).
func (c BeiDou3D) Level() int { return int(c.cell.level) }

// Cell2D returns the 2D cell (the footprint).
func (c BeiDou3D) Cell2D() BeiDou2D { return c.cell }

// Height returns the height layer.
func (c BeiDou3D) Height() BeiDouHeight { return c.height }

// Rect returns the footprint's extent in decimal degrees, as BeiDou2D.Rect.
func (c BeiDou3D) Rect() (west, south, east, north float64) { return c.cell.Rect() }

// HeightRange returns the geodetic heights in metres of the cell's bottom
// and top, as BeiDouHeight.Range.
func (c BeiDou3D) HeightRange() (bottom, top float64) { return c.height.Range() }

// Parent returns the enclosing cell one level up, and false at level 1 (or
// for the zero value).
func (c BeiDou3D) Parent() (BeiDou3D, bool) {
	pc, ok := c.cell.Parent()
	if !ok {
		return c, false
	}
	ph, _ := c.height.Parent()
	return BeiDou3D{cell: pc, height: ph}, true
}

// String returns the code text, e.g. "N036J0093000780B3010010520430140" (32
// characters at level 10), or "" for the zero value.
func (c BeiDou3D) String() string {
	var buf [32]byte
	b, _ := c.AppendText(buf[:0])
	return string(b)
}

// AppendText appends the code text to b. It never fails; the zero value
// appends nothing.
func (c BeiDou3D) AppendText(b []byte) ([]byte, error) {
	if c.cell.level != c.height.level {
		return b, nil
	}
	return c.cell.appendLevels(b, &c.height), nil
}

// MarshalText implements encoding.TextMarshaler.
func (c BeiDou3D) MarshalText() ([]byte, error) { return c.AppendText(nil) }

// UnmarshalText implements encoding.TextUnmarshaler using ParseBeiDou3D.
func (c *BeiDou3D) UnmarshalText(text []byte) error {
	v, err := ParseBeiDou3D(string(text))
	if err != nil {
		return err
	}
	*c = v
	return nil
}
