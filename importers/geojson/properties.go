package geojson

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"citytwin/spatial"
)

// propertyKeys are the properties read into typed feature fields, with
// their index in propOffsets.
const (
	propID = iota
	propHeight
	propFloors
	propBuildingLevels
	propLevels
	propValidFrom
	propValidTo
	numProps
)

// propertyKey returns the index of a recognised property, or -1.
func propertyKey(k string) int {
	switch k {
	case "id":
		return propID
	case "height":
		return propHeight
	case "floors":
		return propFloors
	case "building:levels":
		return propBuildingLevels
	case "levels":
		return propLevels
	case "valid_from":
		return propValidFrom
	case "valid_to":
		return propValidTo
	}
	return -1
}

// propertyName returns the recognised property name with index i.
func propertyName(i int) string {
	return [numProps]string{"id", "height", "floors", "building:levels", "levels", "valid_from", "valid_to"}[i]
}

// propOffsets are the input offsets of the recognised properties' values.
type propOffsets [numProps]int64

// properties reads the "properties" object at c. Members whose value
// is null are left out; an empty object yields nil.
func (p *parser) properties(c *cursor, offs *propOffsets) (map[string]any, error) {
	var props map[string]any
	err := c.object(func(key []byte, esc bool) error {
		start := c.off()
		k, err := p.name(c, key, esc)
		if err != nil {
			return err
		}
		val, err := c.value()
		if err != nil {
			return err
		}
		if i := propertyKey(k); i >= 0 {
			offs[i] = start
		}
		if val == nil {
			delete(props, k)
			return nil
		}
		if props == nil {
			props = make(map[string]any, 8)
		}
		props[k] = val
		return nil
	})
	return props, err
}

// idString returns the id given by an "id" member or property: strings as
// they are, numbers in canonical decimal form (12, 12.5). ok is false for
// other kinds and for the empty string.
func idString(v any) (id string, ok bool) {
	switch x := v.(type) {
	case string:
		return x, x != ""
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	}
	return "", false
}

// applyProperties moves the recognised properties (height, floors or
// building:levels or levels, valid_from, valid_to) from f.Properties into
// f's typed fields. On a bad value it returns the property's index.
func applyProperties(f *spatial.Feature) (int, error) {
	p := f.Properties
	if len(p) == 0 {
		return -1, nil
	}
	if v, ok := p["height"]; ok {
		h, err := metres(v)
		if err != nil {
			return propHeight, fmt.Errorf(`property "height": %w`, err)
		}
		f.Height = h
		delete(p, "height")
	}
	for _, i := range [...]int{propFloors, propBuildingLevels, propLevels} {
		k := propertyName(i)
		v, ok := p[k]
		if !ok {
			continue
		}
		n, err := count(v)
		if err != nil {
			return i, fmt.Errorf("property %q: %w", k, err)
		}
		f.Floors = n
		delete(p, k)
		break
	}
	for _, i := range [...]int{propValidFrom, propValidTo} {
		k := propertyName(i)
		v, ok := p[k]
		if !ok {
			continue
		}
		t, err := instant(v)
		if err != nil {
			return i, fmt.Errorf("property %q: %w", k, err)
		}
		if i == propValidFrom {
			f.ValidFrom = t
		} else {
			f.ValidTo = t
		}
		delete(p, k)
	}
	if len(p) == 0 {
		f.Properties = nil
	}
	return -1, nil
}

// metres reads a height: a number, or a string holding a decimal number
// optionally followed by the unit "m" ("12.5", "12.5 m").
func metres(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case string:
		s := strings.TrimSpace(x)
		s = strings.TrimSpace(strings.TrimSuffix(s, "m"))
		if isDecimal(s) {
			if h, err := strconv.ParseFloat(s, 64); err == nil {
				return h, nil
			}
		}
		return 0, fmt.Errorf("%q is not a height in metres", x)
	}
	return 0, fmt.Errorf("want a number of metres, got %s", goKind(v))
}

// count reads a number of floors: an integer, or a string holding one.
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
	return 0, fmt.Errorf("want a whole number, got %s", goKind(v))
}

// instant reads an RFC 3339 time ("2024-05-01T08:00:00+08:00") or a date
// ("2024-05-01", midnight UTC).
func instant(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("want an RFC 3339 time string, got %s", goKind(v))
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time or a YYYY-MM-DD date", s)
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

// goKind names the JSON kind of a decoded value.
func goKind(v any) string {
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
