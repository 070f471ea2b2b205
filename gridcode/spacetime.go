package gridcode

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// SpaceTime is a space-time cell: a GeoSOT 3D cell during a time cell.
type SpaceTime struct {
	Space Code3D
	Time  TimeCode
}

// EncodeSpaceTime returns the space-time cell containing a point at a height
// (metres) and an instant, at the given space and time levels.
func EncodeSpaceTime(lat, lon, height float64, t time.Time, spaceLevel, timeLevel int) (SpaceTime, error) {
	s, err := Encode3D(lat, lon, height, spaceLevel)
	if err != nil {
		return SpaceTime{}, err
	}
	tc, err := EncodeTime(t, timeLevel)
	if err != nil {
		return SpaceTime{}, err
	}
	return SpaceTime{Space: s, Time: tc}, nil
}

// String returns the text form: the 3D code, "@", the time code, e.g.
// "GZ002622442640660644@T2026-11-30T14".
func (st SpaceTime) String() string { return st.Space.String() + "@" + st.Time.String() }

// Contains reports whether o lies inside st in both space and time.
func (st SpaceTime) Contains(o SpaceTime) bool {
	return st.Space.Contains(o.Space) && st.Time.Contains(o.Time)
}

// ParseSpaceTime reads the form written by String.
func ParseSpaceTime(s string) (SpaceTime, error) {
	sp, tm, ok := strings.Cut(s, "@")
	if !ok {
		return SpaceTime{}, fmt.Errorf("gridcode: parse space-time %q: %w: want GZ…@T…", s, ErrSyntax)
	}
	c, err := Parse3D(sp)
	if err != nil {
		return SpaceTime{}, fmt.Errorf("gridcode: parse space-time: %w", err)
	}
	tc, err := ParseTime(tm)
	if err != nil {
		return SpaceTime{}, fmt.Errorf("gridcode: parse space-time: %w", err)
	}
	return SpaceTime{Space: c, Time: tc}, nil
}

// KeyLen is the length of a space-time key in bytes.
const KeyLen = 18

// Key lays a space-time cell out as a sortable 18-byte key for range scans:
//
//	time bin (26 bits: year…hour) | 2D footprint (64 bits) | height axis (32 bits) | time within the hour (22 bits)
//
// Bits below each part's level are zero, so the key of a cell is the key
// of its first point. With the hour as the leading bin, "everything in 2D
// cell C during hour H" is exactly one contiguous range of keys (see
// KeyRanges); a 3D cell, a sub-hour interval or a coarser time cell is one
// range per hour, filtered.
func (st SpaceTime) Key() [KeyLen]byte {
	var k [KeyLen]byte
	xy, z := st.Space.Bits()
	writeKey(&k, st.Time.bits>>(MaxTimeLevel-TimeLevelHour), xy, z, st.Time.bits&timeLowMask(TimeLevelHour))
	return k
}

// writeKey packs the four parts: 26 + 64 + 32 + 22 = 144 bits.
func writeKey(k *[KeyLen]byte, bin, xy uint64, z uint32, rem uint64) {
	// First 16 bytes: bin(26) xy(64) z(32) and the top 6 bits of rem.
	hi := bin<<38 | xy>>26
	mid := xy<<38 | uint64(z)<<6 | rem>>16
	binary.BigEndian.PutUint64(k[0:8], hi)
	binary.BigEndian.PutUint64(k[8:16], mid)
	binary.BigEndian.PutUint16(k[16:18], uint16(rem))
}

// KeyRange is an inclusive range of space-time keys.
type KeyRange struct {
	First, Last [KeyLen]byte
}

// maxHourBins bounds how many hour ranges KeyRanges returns for a coarse
// time cell (a month is at most 31×24 = 744 hours).
const maxHourBins = 1 << 15

// KeyRanges returns the key ranges that hold every point key (space level
// 32, time level 48) lying in 2D cell area during time cell t: one range per
// real hour of t, in key order. For t at hour level or finer it is a single
// range; a sub-hour t is a superset that the caller filters on the time
// within the hour. It fails when t spans more than 32,768 hours (choose a
// coarser time partition for such scans).
func KeyRanges(area Code, t TimeCode) ([]KeyRange, error) {
	first, last := area.Range()
	remLo, remHi := uint64(0), timeLowMask(TimeLevelHour)
	if t.level > TimeLevelHour {
		remLo, remHi = t.Range()
		remLo &= timeLowMask(TimeLevelHour)
		remHi &= timeLowMask(TimeLevelHour)
	}
	hour := t.ParentAt(TimeLevelHour)
	if t.level > TimeLevelHour {
		var r KeyRange
		bin := hour.bits >> (MaxTimeLevel - TimeLevelHour)
		writeKey(&r.First, bin, first, 0, remLo)
		writeKey(&r.Last, bin, last, ^uint32(0), remHi)
		return []KeyRange{r}, nil
	}
	lo, hi := t.Range()
	n := (hi - lo + 1) >> (MaxTimeLevel - TimeLevelHour)
	if n > maxHourBins {
		return nil, fmt.Errorf("gridcode: key ranges for %s: %d hour bins, more than %d", t, n, maxHourBins)
	}
	var out []KeyRange
	step := uint64(1) << (MaxTimeLevel - TimeLevelHour)
	for b := lo; b <= hi; b += step {
		h := TimeCode{bits: b, level: TimeLevelHour}
		if !h.real() {
			continue
		}
		var r KeyRange
		bin := b >> (MaxTimeLevel - TimeLevelHour)
		writeKey(&r.First, bin, first, 0, remLo)
		writeKey(&r.Last, bin, last, ^uint32(0), remHi)
		out = append(out, r)
	}
	return out, nil
}
