package importers

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"citytwin/spatial"
)

// The typed properties ApplyTypedProperties moves into feature fields, by
// their canonical (lower-case) names.
const (
	KeyHeight         = "height"
	KeyFloors         = "floors"
	KeyBuildingLevels = "building:levels"
	KeyLevels         = "levels"
	KeyValidFrom      = "valid_from"
	KeyValidTo        = "valid_to"
)

// PropertyRules adapt ApplyTypedProperties to an importer. The zero value
// gives the GeoJSON importer's rules: properties are looked up by their
// canonical names, times are not trimmed, and a value of the wrong kind
// fails with "want a number of metres, got a boolean".
type PropertyRules struct {
	// Names maps a canonical key (KeyHeight, ...) to the name the
	// property has in Feature.Properties. Nil means each property goes by
	// its canonical key; otherwise keys missing from Names are not looked
	// for.
	Names map[string]string
	// TrimTimes trims white space around valid_from and valid_to strings
	// before parsing them.
	TrimTimes bool
	// PlainKindErrors reports a value of the wrong kind as "true is not a
	// height in metres" rather than "want a number of metres, got a
	// boolean".
	PlainKindErrors bool
}

// lookup returns the name under which the property with canonical key
// is stored in p, and its value; ok is false when it is absent.
func (r *PropertyRules) lookup(p map[string]any, key string) (name string, v any, ok bool) {
	name = key
	if r.Names != nil {
		if name, ok = r.Names[key]; !ok {
			return "", nil, false
		}
	}
	v, ok = p[name]
	return name, v, ok
}

// ApplyTypedProperties moves the typed properties (height, floors or
// building:levels or levels, valid_from, valid_to) from f.Properties into
// f.Height, f.Floors, f.ValidFrom and f.ValidTo, deleting them from
// f.Properties and setting it to nil when nothing is left. Of the floor
// properties only the first present (in that order) is read. On a bad
// value it stops and returns the name the property has in f.Properties
// and the reason, without the property name; f may then be partly
// updated.
func ApplyTypedProperties(f *spatial.Feature, rules PropertyRules) (key string, err error) {
	p := f.Properties
	if len(p) == 0 {
		return "", nil
	}
	if k, v, ok := rules.lookup(p, KeyHeight); ok {
		h, err := metres(v, rules.PlainKindErrors)
		if err != nil {
			return k, err
		}
		f.Height = h
		delete(p, k)
	}
	for _, canon := range [...]string{KeyFloors, KeyBuildingLevels, KeyLevels} {
		k, v, ok := rules.lookup(p, canon)
		if !ok {
			continue
		}
		n, err := count(v, rules.PlainKindErrors)
		if err != nil {
			return k, err
		}
		f.Floors = n
		delete(p, k)
		break
	}
	for _, canon := range [...]string{KeyValidFrom, KeyValidTo} {
		k, v, ok := rules.lookup(p, canon)
		if !ok {
			continue
		}
		t, err := instant(v, rules.TrimTimes, rules.PlainKindErrors)
		if err != nil {
			return k, err
		}
		if canon == KeyValidFrom {
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

// Metres reads a height: a number (float64 or int64), or a string holding
// a decimal number optionally followed by the unit "m" ("12.5",
// "12.5 m").
func Metres(v any) (float64, error) { return metres(v, false) }

func metres(v any, plain bool) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(x), "m"))
		if IsDecimal(s) {
			if h, err := strconv.ParseFloat(s, 64); err == nil {
				return h, nil
			}
		}
		return 0, fmt.Errorf("%q is not a height in metres", x)
	}
	if plain {
		return 0, fmt.Errorf("%v is not a height in metres", v)
	}
	return 0, fmt.Errorf("want a number of metres, got %s", Kind(v))
}

// Count reads a number of floors: an integer (int64, or a whole float64)
// within the int32 range, or a string holding one.
func Count(v any) (int, error) { return count(v, false) }

func count(v any, plain bool) (int, error) {
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
	if plain {
		return 0, fmt.Errorf("%v is not a whole number", v)
	}
	return 0, fmt.Errorf("want a whole number, got %s", Kind(v))
}

// Instant reads a string holding an RFC 3339 time
// ("2024-05-01T08:00:00+08:00") or a date ("2024-05-01", midnight UTC).
// White space around it is not allowed.
func Instant(v any) (time.Time, error) { return instant(v, false, false) }

func instant(v any, trim, plain bool) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		if plain {
			return time.Time{}, fmt.Errorf("%v is not an RFC 3339 time or a YYYY-MM-DD date", v)
		}
		return time.Time{}, fmt.Errorf("want an RFC 3339 time string, got %s", Kind(v))
	}
	if trim {
		s = strings.TrimSpace(s)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
}

// IsDecimal reports whether s is a plain decimal number: optional sign,
// digits with an optional fraction, optional exponent (no NaN, Inf, hex,
// underscores or surrounding white space).
func IsDecimal(s string) bool {
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

// Kind names the JSON kind of a decoded property value: "a string", "a
// number" (int64 or float64), "a boolean", "an object" (map[string]any),
// "an array" ([]any), else "null".
func Kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64, float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "null"
}
