package geojson

import "strconv"

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
