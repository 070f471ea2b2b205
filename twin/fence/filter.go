package fence

import (
	"encoding/json"

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

// match applies spatial.Filter's rules (MatchValue) to a value.
func match(flt *spatial.Filter, v any, ok bool) bool { return flt.MatchValue(v, ok) }
