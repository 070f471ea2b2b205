package gridcode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Time levels at calendar boundaries. A time code of level L keeps the first
// L bits of a 48-bit time axis laid out like GeoSOT's angle axes: 12 bits of
// year (0–4095 CE), 4 of month (12 months extended to 16), 5 of day (31
// extended to 32), 5 of hour (24 extended to 32), 6 of minute and 6 of second
// (60 extended to 64) and 10 of millisecond (1000 extended to 1024). Every
// calendar unit is therefore one cell, a coarser cell is a prefix of the
// finer ones, and the levels between calendar boundaries are binary halvings
// (level 14, say, is a third of a year: months 1–4, 5–8 or 9–12).
const (
	TimeLevelYear        = 12
	TimeLevelMonth       = 16
	TimeLevelDay         = 21
	TimeLevelHour        = 26
	TimeLevelMinute      = 32
	TimeLevelSecond      = 38
	TimeLevelMillisecond = 48
	MaxTimeLevel         = TimeLevelMillisecond
)

// Widths of the fields, most significant first, and the named level at the
// end of each.
var timeFields = [...]struct {
	bits, level int
}{{12, TimeLevelYear}, {4, TimeLevelMonth}, {5, TimeLevelDay}, {5, TimeLevelHour}, {6, TimeLevelMinute}, {6, TimeLevelSecond}, {10, TimeLevelMillisecond}}

// ErrTime reports a time outside the years 0–4095 or a malformed time code.
var ErrTime = errors.New("time out of range or malformed")

// TimeCode is a hierarchical time cell in UTC: see the TimeLevel constants.
// The zero value is level 0, all of time the code can name.
type TimeCode struct {
	bits  uint64 // the 48-bit axis, right-aligned, bits below the level zero
	level uint8
}

// fields of a time in axis order: year, month-1, day-1, hour, minute,
// second, millisecond.
type timeFieldValues [7]uint64

func splitTime(t time.Time) timeFieldValues {
	t = t.UTC()
	return timeFieldValues{uint64(t.Year()), uint64(t.Month() - 1), uint64(t.Day() - 1),
		uint64(t.Hour()), uint64(t.Minute()), uint64(t.Second()), uint64(t.Nanosecond() / 1e6)}
}

func (f timeFieldValues) pack() uint64 {
	var v uint64
	for i, tf := range timeFields {
		v = v<<uint(tf.bits) | f[i]
	}
	return v
}

func unpackTime(v uint64) timeFieldValues {
	var f timeFieldValues
	for i := len(timeFields) - 1; i >= 0; i-- {
		b := uint(timeFields[i].bits)
		f[i] = v & (1<<b - 1)
		v >>= b
	}
	return f
}

// maxField returns the largest real value of field i given the fields
// before it (months 0–11, days to the month's length, and so on).
func maxField(f timeFieldValues, i int) uint64 {
	switch i {
	case 0:
		return 4095
	case 1:
		return 11
	case 2:
		return uint64(daysIn(int(f[0]), time.Month(f[1]+1))) - 1
	case 3:
		return 23
	case 4, 5:
		return 59
	}
	return 999
}

func daysIn(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (f timeFieldValues) time() time.Time {
	return time.Date(int(f[0]), time.Month(f[1]+1), int(f[2]+1), int(f[3]), int(f[4]), int(f[5]), int(f[6])*1e6, time.UTC)
}

// timeLowMask has ones below a time level in the 48-bit axis.
func timeLowMask(level int) uint64 { return 1<<uint(MaxTimeLevel-level) - 1 }

// EncodeTime returns the time cell of the given level (0–48) containing t,
// taken in UTC. Years outside 0–4095 are an error.
func EncodeTime(t time.Time, level int) (TimeCode, error) {
	if level < 0 || level > MaxTimeLevel {
		return TimeCode{}, fmt.Errorf("gridcode: encode time: %w: %d (want 0–%d)", ErrLevel, level, MaxTimeLevel)
	}
	if y := t.UTC().Year(); y < 0 || y > 4095 {
		return TimeCode{}, fmt.Errorf("gridcode: encode time: %w: year %d (want 0–4095)", ErrTime, y)
	}
	return TimeCode{bits: splitTime(t).pack() &^ timeLowMask(level), level: uint8(level)}, nil
}

// Level returns the code's level, 0–48.
func (c TimeCode) Level() int { return int(c.level) }

// Bits returns the 48-bit time axis value (right-aligned in the uint64).
func (c TimeCode) Bits() uint64 { return c.bits }

// Range returns the inclusive range of 48-bit axis values of c and all its
// descendants.
func (c TimeCode) Range() (first, last uint64) { return c.bits, c.bits | timeLowMask(int(c.level)) }

// Contains reports whether o is c or a finer cell inside it.
func (c TimeCode) Contains(o TimeCode) bool {
	return o.level >= c.level && o.bits&^timeLowMask(int(c.level)) == c.bits
}

// Parent returns the cell one level up (level 0 is its own parent).
func (c TimeCode) Parent() TimeCode { return c.ParentAt(int(c.level) - 1) }

// ParentAt returns the ancestor at the given level (clamped to 0…Level()).
func (c TimeCode) ParentAt(level int) TimeCode {
	if level >= int(c.level) {
		return c
	}
	level = max(level, 0)
	return TimeCode{bits: c.bits &^ timeLowMask(level), level: uint8(level)}
}

// real reports whether the start of the cell is a real instant.
func (c TimeCode) real() bool {
	f := unpackTime(c.bits)
	for i := range f {
		if f[i] > maxField(f, i) {
			return false
		}
	}
	return true
}

// Start returns the first instant of the cell.
func (c TimeCode) Start() time.Time { return unpackTime(c.bits).time() }

// End returns the instant just after the cell (exclusive), skipping the
// virtual extension values of each field.
func (c TimeCode) End() time.Time {
	f := unpackTime(c.bits | timeLowMask(int(c.level)))
	for i := range f {
		if m := maxField(f, i); f[i] > m {
			f[i] = m
			for j := i + 1; j < len(f); j++ {
				f[j] = maxField(f, j)
			}
			break
		}
	}
	return f.time().Add(time.Millisecond)
}

// isoLayouts are the ISO 8601 prefixes of the named levels.
var isoLayouts = [...]string{"2006", "2006-01", "2006-01-02", "2006-01-02T15", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.000"}

// String returns the text form: "T" and the cell's start as an ISO 8601 UTC
// prefix to the first calendar level at or below the code's level, followed
// by "/level" where the level is not a calendar level itself. Examples:
// "T2026-11-30T14" (the hour), "T2026-09/14" (September to December 2026),
// "T2026/11" (the two years 2026–2027).
func (c TimeCode) String() string {
	start := c.Start()
	for i, tf := range timeFields {
		if int(c.level) <= tf.level {
			s := "T" + fmt.Sprintf("%04d", start.Year()) + start.Format(isoLayouts[i])[4:]
			if int(c.level) != tf.level {
				s += "/" + strconv.Itoa(int(c.level))
			}
			return s
		}
	}
	return ""
}

// ParseTime reads the text form of String. "T2026-11-30T14" is the hour
// cell; "/level" selects a coarser level, whose cell must start at the time
// given.
func ParseTime(s string) (TimeCode, error) {
	if len(s) < 2 || s[0] != 'T' {
		return TimeCode{}, fmt.Errorf("gridcode: parse time %q: %w: want T and an ISO 8601 UTC prefix", s, ErrTime)
	}
	body, levelText, hasLevel := strings.Cut(s[1:], "/")
	for i, layout := range isoLayouts {
		if len(body) != len(layout) {
			continue
		}
		t, err := time.Parse(layout, body)
		if err != nil {
			return TimeCode{}, fmt.Errorf("gridcode: parse time %q: %w: %v", s, ErrTime, err)
		}
		level := timeFields[i].level
		if hasLevel {
			l, err := strconv.Atoi(levelText)
			if err != nil || l < 0 || l > level {
				return TimeCode{}, fmt.Errorf("gridcode: parse time %q: %w: level %q must be 0–%d for this prefix", s, ErrTime, levelText, level)
			}
			level = l
		}
		c, err := EncodeTime(t, level)
		if err != nil {
			return TimeCode{}, fmt.Errorf("gridcode: parse time %q: %w", s, err)
		}
		if !c.Start().Equal(t) {
			return TimeCode{}, fmt.Errorf("gridcode: parse time %q: %w: a level-%d cell starts at %s, not at the time given", s, ErrTime, level, c.Start().Format(time.RFC3339Nano))
		}
		return c, nil
	}
	return TimeCode{}, fmt.Errorf("gridcode: parse time %q: %w: want T2026, T2026-11, … T2026-11-30T14:35:12.345", s, ErrTime)
}

// TimeFromBits returns the time cell with the given 48-bit axis value and
// level, checking that no bit below the level is set and that the cell
// starts at a real instant.
func TimeFromBits(b uint64, level int) (TimeCode, error) {
	if level < 0 || level > MaxTimeLevel {
		return TimeCode{}, fmt.Errorf("gridcode: time %d:%d: %w", b, level, ErrLevel)
	}
	if b>>MaxTimeLevel != 0 || b&timeLowMask(level) != 0 {
		return TimeCode{}, fmt.Errorf("gridcode: time %d:%d: %w", b, level, ErrStrayBits)
	}
	c := TimeCode{bits: b, level: uint8(level)}
	if !c.real() {
		return TimeCode{}, fmt.Errorf("gridcode: time %d:%d: %w: not a calendar instant", b, level, ErrTime)
	}
	return c, nil
}
