package tiles

import (
	"math"
	"slices"
	"time"

	"citytwin/spatial"
	"citytwin/tiles/mvt"
)

// attr is one attribute of a feature before it is interned in the layer.
type attr struct {
	key  string
	slot int // in renderState.keySlot, or slotNone
	kind attrKind
	s    string // attrString
	num  uint64 // attrDouble (bits), attrInt, attrUint, attrBool
	a, b int    // attrText: renderState.text[a:b]
}

type attrKind uint8

const (
	attrString attrKind = iota
	attrUnique          // a string no other feature of the layer has
	attrText
	attrDouble
	attrInt
	attrUint
	attrBool
)

// The fixed attributes, in key order, and their slots in
// renderState.keySlot; the lean property keys follow from fixedKeys on.
const (
	slotFloors = iota
	slotGridcode
	slotHeight
	slotID
	slotValidFrom
	slotValidTo
	fixedKeys
	slotNone = -1 // interned by name
)

var fixedNames = [fixedKeys]string{"floors", "gridcode", "height", "id", "valid_from", "valid_to"}

// attributes interns f's attributes in the layer and returns its tags:
// id, gridcode, height and floors where set, validity where set, and
// every scalar property (nested values are left to the features API);
// with lean, only the id and Options.LeanKeys. Attributes are interned in
// key order, so a tile's bytes do not depend on map iteration order.
func (rs *renderState) attributes(lb *mvt.LayerBuilder, f *spatial.Feature, g *Generator, lean bool) []uint32 {
	// The fixed attributes, in key order.
	fixed := rs.attrs[:0]
	text := rs.text[:0]
	keep := &g.keepAll
	if lean {
		keep = &g.keepLean
	}
	if f.Floors > 0 && keep[slotFloors] {
		fixed = append(fixed, attr{key: "floors", slot: slotFloors, kind: attrInt, num: uint64(int64(f.Floors))})
	}
	if keep[slotGridcode] {
		a := len(text)
		text = f.Code.AppendText(text)
		fixed = append(fixed, attr{key: "gridcode", slot: slotGridcode, kind: attrText, a: a, b: len(text)})
	}
	if f.Height > 0 && keep[slotHeight] {
		fixed = append(fixed, attr{key: "height", slot: slotHeight, kind: attrDouble, num: math.Float64bits(f.Height)})
	}
	// Ids are unique in a layer, so the id needs no lookup among the
	// layer's values.
	fixed = append(fixed, attr{key: "id", slot: slotID, kind: attrUnique, s: f.ID})
	if !f.ValidFrom.IsZero() && keep[slotValidFrom] {
		a := len(text)
		text = f.ValidFrom.AppendFormat(text, time.RFC3339)
		fixed = append(fixed, attr{key: "valid_from", slot: slotValidFrom, kind: attrText, a: a, b: len(text)})
	}
	if !f.ValidTo.IsZero() && keep[slotValidTo] {
		a := len(text)
		text = f.ValidTo.AppendFormat(text, time.RFC3339)
		fixed = append(fixed, attr{key: "valid_to", slot: slotValidTo, kind: attrText, a: a, b: len(text)})
	}
	tags := rs.tags[:0]
	i := 0
	if lean {
		// The lean keys present, in key order: looked up one by one, or
		// found by walking the properties when there are fewer of them.
		var found [32]int8 // indexes into g.leanSorted
		var vals [32]any
		n := 0
		if len(f.Properties) < len(g.leanSorted) && len(g.leanSorted) <= len(found) {
			for k, v := range f.Properties {
				j := slices.Index(g.leanSorted, k)
				if j < 0 {
					continue
				}
				m := n // insertion sort by j
				for m > 0 && found[m-1] > int8(j) {
					found[m], vals[m] = found[m-1], vals[m-1]
					m--
				}
				found[m], vals[m] = int8(j), v
				n++
			}
		} else {
			for j, k := range g.leanSorted {
				if v, ok := f.Properties[k]; ok && n < len(found) {
					found[n], vals[n] = int8(j), v
					n++
				}
			}
		}
		for m := range n {
			k := g.leanSorted[found[m]]
			for i < len(fixed) && fixed[i].key < k {
				tags = rs.intern(lb, tags, &fixed[i], text)
				i++
			}
			if i < len(fixed) && fixed[i].key == k {
				continue // taken by a fixed attribute
			}
			if a, ok := scalar(k, vals[m]); ok {
				a.slot = fixedKeys + int(found[m])
				tags = rs.intern(lb, tags, &a, text)
			}
		}
		clear(vals[:n])
	} else {
		keys, vals := rs.sortedProperties(f.Properties, rs.vals[:0])
		for j, k := range keys {
			for i < len(fixed) && fixed[i].key < k {
				tags = rs.intern(lb, tags, &fixed[i], text)
				i++
			}
			if i < len(fixed) && fixed[i].key == k {
				continue // taken by a fixed attribute
			}
			if a, ok := scalar(k, vals[j]); ok {
				tags = rs.intern(lb, tags, &a, text)
			}
		}
		clear(vals)
		rs.vals = vals[:0]
	}
	for ; i < len(fixed); i++ {
		tags = rs.intern(lb, tags, &fixed[i], text)
	}
	clear(fixed) // drop the string references
	rs.attrs, rs.text, rs.tags = fixed[:0], text, tags
	return tags
}

// sortedProperties returns the keys of props in order and their values,
// appended to vals. Features of a layer mostly share one set of keys, so
// the last sorted set is kept and checked rather than sorted again: the
// result never depends on what was rendered before.
func (rs *renderState) sortedProperties(props map[string]any, vals []any) ([]string, []any) {
	if len(props) == len(rs.shape) {
		ok := true
		for _, k := range rs.shape {
			v, found := props[k]
			if !found {
				ok = false
				break
			}
			vals = append(vals, v)
		}
		if ok {
			return rs.shape, vals
		}
		vals = vals[:0]
	}
	shape := rs.shape[:0]
	for k := range props {
		shape = append(shape, k)
	}
	slices.Sort(shape)
	rs.shape = shape
	for _, k := range shape {
		vals = append(vals, props[k])
	}
	return shape, vals
}

// intern adds one attribute to the layer and its tag pair to tags: value
// first, then key, as mvt.Encode does.
func (rs *renderState) intern(lb *mvt.LayerBuilder, tags []uint32, a *attr, text []byte) []uint32 {
	var vi uint32
	switch a.kind {
	case attrString:
		vi = lb.StringValue(a.s)
	case attrUnique:
		vi = lb.UniqueStringValue(a.s)
	case attrText:
		vi = lb.StringValueBytes(text[a.a:a.b])
	case attrDouble:
		vi = lb.DoubleValue(math.Float64frombits(a.num))
	case attrInt:
		vi = lb.IntValue(int64(a.num))
	case attrUint:
		vi = lb.UintValue(a.num)
	case attrBool:
		vi = lb.BoolValue(a.num != 0)
	}
	var ki uint32
	if a.slot == slotNone {
		ki = lb.Key(a.key)
	} else {
		// Keys with a slot are interned once per layer.
		if a.slot >= len(rs.keySlot) {
			rs.keySlot = append(rs.keySlot, make([]uint32, a.slot+1-len(rs.keySlot))...)
		}
		if rs.keySlot[a.slot] == 0 {
			rs.keySlot[a.slot] = lb.Key(a.key) + 1
		}
		ki = rs.keySlot[a.slot] - 1
	}
	return append(tags, ki, vi)
}

// scalar converts property k's value if it is a scalar MVT can carry.
func scalar(k string, v any) (attr, bool) {
	switch x := v.(type) {
	case string:
		return attr{key: k, slot: slotNone, kind: attrString, s: x}, true
	case bool:
		n := uint64(0)
		if x {
			n = 1
		}
		return attr{key: k, slot: slotNone, kind: attrBool, num: n}, true
	case float64:
		return attr{key: k, slot: slotNone, kind: attrDouble, num: math.Float64bits(x)}, true
	case int64:
		return attr{key: k, slot: slotNone, kind: attrInt, num: uint64(x)}, true
	case int:
		return attr{key: k, slot: slotNone, kind: attrInt, num: uint64(int64(x))}, true
	case uint64:
		return attr{key: k, slot: slotNone, kind: attrUint, num: x}, true
	}
	return attr{}, false
}
