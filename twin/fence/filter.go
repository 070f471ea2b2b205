package fence

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"citytwin/spatial"
)

// props decodes an object's properties lazily, at most once per update,
// and only if a filter asks.
type props struct {
	raw    json.RawMessage
	parsed bool
	m      map[string]any
}

func (p *props) reset(raw json.RawMessage) {
	p.raw, p.parsed = raw, false
	clear(p.m)
}

func (p *props) get(key string) (any, bool) {
	if !p.parsed {
		p.parsed = true
		if len(p.raw) > 0 {
			if p.m == nil {
				p.m = map[string]any{}
			}
			if json.Unmarshal(p.raw, &p.m) != nil {
				clear(p.m) // not a JSON object: no properties
			}
		}
	}
	v, ok := p.m[key]
	return v, ok
}

// matches reports whether an object satisfies every filter.
func matches(filters []spatial.Filter, o *Object, p *props) bool {
	for i := range filters {
		flt := &filters[i]
		var v any
		var ok bool
		switch flt.Key {
		case "id":
			v, ok = o.ID, true
		case "layer":
			v, ok = o.Layer, true
		default:
			v, ok = p.get(flt.Key)
		}
		if !match(flt, v, ok) {
			return false
		}
	}
	return true
}

// match applies spatial.Filter.Match's rules to a value: a missing or null
// value satisfies only !=; numbers compare numerically when both sides are
// numbers, anything else as strings.
func match(flt *spatial.Filter, v any, ok bool) bool {
	if !ok || v == nil {
		return flt.Op == "!="
	}
	var cmp int
	want, werr := strconv.ParseFloat(flt.Value, 64)
	if n, isNum := toFloat(v); isNum && werr == nil {
		switch {
		case n < want:
			cmp = -1
		case n > want:
			cmp = 1
		}
	} else if s, isStr := v.(string); isStr {
		cmp = strings.Compare(s, flt.Value)
	} else {
		cmp = strings.Compare(fmt.Sprint(v), flt.Value)
	}
	switch flt.Op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		n, err := strconv.ParseFloat(x, 64)
		return n, err == nil
	}
	return 0, false
}
