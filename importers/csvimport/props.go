package csvimport

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"citytwin/spatial"
)

// infer converts a field to a property value: int64 for integers, float64
// for other decimal numbers, bool for true/false (any case), else the
// string as it is. A field that is empty or white space yields nil
// (absent). Numbers with a leading zero ("007", "0411") or a plus sign
// stay strings, since they are codes rather than quantities; so do NaN,
// Inf, hexadecimal and thousands-separated numbers, and integers too large
// for int64.
func infer(s string) any {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil
	}
	if looksNumeric(t) {
		if !strings.ContainsAny(t, ".eE") {
			if n, err := strconv.ParseInt(t, 10, 64); err == nil {
				return n
			}
			return s
		}
		if v, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(v, 0) {
			return v
		}
		return s
	}
	switch {
	case strings.EqualFold(t, "true"):
		return true
	case strings.EqualFold(t, "false"):
		return false
	}
	return s
}

// looksNumeric reports whether t is a decimal number without a plus sign
// or a leading zero.
func looksNumeric(t string) bool {
	if !isDecimal(t) || t[0] == '+' {
		return false
	}
	d := strings.TrimPrefix(t, "-")
	return !(len(d) > 1 && d[0] == '0' && d[1] >= '0' && d[1] <= '9')
}

// isDecimal reports whether s is a plain decimal number: optional sign,
// digits with an optional fraction, optional exponent (no NaN, Inf, hex or
// underscores).
func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// coordinate parses a longitude, latitude, easting or northing.
func coordinate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("no value")
	}
	if isDecimal(t) {
		if v, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(v, 0) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%q is not a number", s)
}

// Recognised property names (compared after lower-casing the header).
const (
	keyHeight         = "height"
	keyFloors         = "floors"
	keyBuildingLevels = "building:levels"
	keyLevels         = "levels"
	keyValidFrom      = "valid_from"
	keyValidTo        = "valid_to"
)

// applyProperties moves the recognised properties (height, floors or
// building:levels or levels, valid_from, valid_to) from f.Properties into
// f's typed fields, returning the name of a property with a bad value.
// It follows the GeoJSON importer's rules.
func applyProperties(f *spatial.Feature, names map[string]string) (string, error) {
	p := f.Properties
	if len(p) == 0 {
		return "", nil
	}
	if k, ok := names[keyHeight]; ok {
		if v, ok := p[k]; ok {
			h, err := metres(v)
			if err != nil {
				return k, err
			}
			f.Height = h
			delete(p, k)
		}
	}
	for _, key := range [...]string{keyFloors, keyBuildingLevels, keyLevels} {
		k, ok := names[key]
		if !ok {
			continue
		}
		v, ok := p[k]
		if !ok {
			continue
		}
		n, err := count(v)
		if err != nil {
			return k, err
		}
		f.Floors = n
		delete(p, k)
		break
	}
	for _, key := range [...]string{keyValidFrom, keyValidTo} {
		k, ok := names[key]
		if !ok {
			continue
		}
		v, ok := p[k]
		if !ok {
			continue
		}
		t, err := instant(v)
		if err != nil {
			return k, err
		}
		if key == keyValidFrom {
			f.ValidFrom = t
		} else {
			f.ValidTo = t
		}
		delete(p, k)
	}
	if len(p) == 0 {
		f.Properties = nil
	}
	return "", nil
}

// metres reads a height: a number, or a decimal number followed by the
// unit "m" ("12.5 m").
func metres(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(x), "m"))
		if isDecimal(s) {
			if h, err := strconv.ParseFloat(s, 64); err == nil {
				return h, nil
			}
		}
		return 0, fmt.Errorf("%q is not a height in metres", x)
	}
	return 0, fmt.Errorf("%v is not a height in metres", v)
}

// count reads a whole number of floors.
func count(v any) (int, error) {
	switch x := v.(type) {
	case int64:
		if x > math.MaxInt32 || x < math.MinInt32 {
			return 0, fmt.Errorf("%d is out of range", x)
		}
		return int(x), nil
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt32 || x < math.MinInt32 {
			return 0, fmt.Errorf("%v is not a whole number", x)
		}
		return int(x), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", x)
		}
		return int(n), nil
	}
	return 0, fmt.Errorf("%v is not a whole number", v)
}

// instant reads an RFC 3339 time or a YYYY-MM-DD date (midnight UTC).
func instant(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("%v is not an RFC 3339 time or a YYYY-MM-DD date", v)
	}
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
}
