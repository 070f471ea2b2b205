package osm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// seg is a member way's node list, a piece of a ring.
type seg struct {
	way int64
	ids []int64
}

// chain is a ring or an open chain of node ids and the ways it is made of.
type chain struct {
	ids  []int64
	ways []int64
}

// joinRings joins ways end to end into closed rings of node ids. Ways may
// come in any order and any direction; a way that is closed by itself is
// a ring. Where a chain comes back to a node it passed before (rings that
// touch at a node, a figure eight), the loop is cut off as a ring of its
// own. Chains that cannot be closed are returned in open.
func joinRings(segs []seg) (rings, open []chain) {
	used := make([]bool, len(segs))
	ends := make(map[int64][]int, 2*len(segs))
	for i, s := range segs {
		n := len(s.ids)
		switch {
		case n < 2:
			used[i] = true
			open = append(open, chain{ids: slices.Clone(s.ids), ways: []int64{s.way}})
		case s.ids[0] == s.ids[n-1]:
			used[i] = true
			rings = append(rings, chain{ids: slices.Clone(s.ids), ways: []int64{s.way}})
		default:
			ends[s.ids[0]] = append(ends[s.ids[0]], i)
			ends[s.ids[n-1]] = append(ends[s.ids[n-1]], i)
		}
	}
	// next finds an unused way with an end at node, and whether it must be
	// reversed to continue a chain ending there.
	next := func(node int64) (int, bool) {
		for _, j := range ends[node] {
			if !used[j] {
				return j, segs[j].ids[0] != node
			}
		}
		return -1, false
	}
	for i := range segs {
		if used[i] {
			continue
		}
		used[i] = true
		c := slices.Clone(segs[i].ids)
		ways := []int64{segs[i].way}
		starts := []int{0} // index in c of the first node of each way
		pos := map[int64]int{c[0]: 0, c[len(c)-1]: len(c) - 1}
		flipped := false
		for len(c) > 1 {
			j, rev := next(c[len(c)-1])
			if j < 0 {
				if flipped {
					open = append(open, chain{ids: c, ways: ways})
					break
				}
				// Extend from the other end instead.
				flipped = true
				n := len(c)
				slices.Reverse(c)
				ns := make([]int, len(starts))
				for k := range starts {
					end := n - 1
					if k+1 < len(starts) {
						end = starts[k+1]
					}
					ns[len(starts)-1-k] = n - 1 - end
				}
				starts = ns
				slices.Reverse(ways)
				for id, p := range pos {
					pos[id] = n - 1 - p
				}
				continue
			}
			used[j] = true
			starts = append(starts, len(c)-1)
			ways = append(ways, segs[j].way)
			ids := segs[j].ids
			if rev {
				for k := len(ids) - 2; k >= 0; k-- {
					c = append(c, ids[k])
				}
			} else {
				c = append(c, ids[1:]...)
			}
			end := c[len(c)-1]
			p, seen := pos[end]
			if !seen {
				pos[end] = len(c) - 1
				continue
			}
			// Closed a loop from p to the end: cut it off.
			k := len(starts)
			for k > 0 && starts[k-1] >= p {
				k--
			}
			rings = append(rings, chain{ids: slices.Clone(c[p:]), ways: slices.Clone(ways[k:])})
			c = c[:p+1]
			ways, starts = ways[:k], starts[:k]
			for id, q := range pos {
				if q > p {
					delete(pos, id)
				}
			}
		}
	}
	return rings, open
}

// describeChain names an open chain for a warning.
func describeChain(c chain) string {
	var b strings.Builder
	fmt.Fprintf(&b, "chain of %d way(s) (", len(c.ways))
	for i, w := range c.ways {
		if i == 5 {
			fmt.Fprintf(&b, ", … %d more", len(c.ways)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(elementName('w', w))
	}
	b.WriteString(")")
	if len(c.ids) > 0 {
		fmt.Fprintf(&b, " has its ends at %s and %s", elementName('n', c.ids[0]), elementName('n', c.ids[len(c.ids)-1]))
	}
	return b.String()
}

// orientRing checks that a ring has at least 3 distinct points and an
// area, and turns it to orientation o in place.
func orientRing(r orb.Ring, o orb.Orientation) error {
	if len(r) < 4 || r[0] != r[len(r)-1] {
		return fmt.Errorf("ring of %d point(s) is degenerate (want at least 3 distinct points, closed)", len(r))
	}
	got := r.Orientation()
	if got == 0 {
		return errors.New("ring has no area")
	}
	if got != o {
		r.Reverse()
	}
	return nil
}

// assemble makes a Polygon (one outer ring) or MultiPolygon from outer and
// inner rings: outers counter-clockwise, inners clockwise (RFC 7946), each
// inner in the smallest outer that contains it. Inners in no outer are
// dropped and reported in dropped (their index).
func assemble(outers, inners []orb.Ring) (g orb.Geometry, dropped []int, err error) {
	if len(outers) == 0 {
		return nil, nil, errors.New("no outer ring")
	}
	polys := make([]orb.Polygon, len(outers))
	areas := make([]float64, len(outers))
	bounds := make([]orb.Bound, len(outers))
	for i, r := range outers {
		if err := orientRing(r, orb.CCW); err != nil {
			return nil, nil, fmt.Errorf("outer ring %d: %w", i+1, err)
		}
		polys[i] = orb.Polygon{r}
		areas[i] = math.Abs(planar.Area(r))
		bounds[i] = r.Bound()
	}
	for i, r := range inners {
		if err := orientRing(r, orb.CW); err != nil {
			return nil, nil, fmt.Errorf("inner ring %d: %w", i+1, err)
		}
		best := -1
		rb := r.Bound()
		for j, o := range outers {
			if !bounds[j].Contains(rb.Min) || !bounds[j].Contains(rb.Max) {
				continue
			}
			if (best < 0 || areas[j] < areas[best]) && ringInside(r, o) {
				best = j
			}
		}
		if best < 0 {
			dropped = append(dropped, i)
			continue
		}
		polys[best] = append(polys[best], r)
	}
	if len(polys) == 1 {
		return polys[0], dropped, nil
	}
	return orb.MultiPolygon(polys), dropped, nil
}

// ringInside reports whether ring in lies inside ring out, testing up to
// 64 of its vertices (points on out's boundary count as inside, so inner
// rings may touch their outer).
func ringInside(in, out orb.Ring) bool {
	n := len(in) - 1
	step := 1
	if n > 64 {
		step = n / 64
	}
	for i := 0; i < n; i += step {
		if !planar.RingContains(out, in[i]) {
			return false
		}
	}
	return true
}

// relation assembles a multipolygon or boundary relation and emits it.
func (ru *run) relation() error {
	layer := classifyRelation(ru.tags)
	if layer == "" {
		return nil
	}
	name := ru.el.name()
	var outerSegs, innerSegs []seg
	var missing []int64
	seen := make(map[int64]bool, len(ru.members))
	for _, m := range ru.members {
		if !m.way {
			continue
		}
		inner := false
		switch m.role {
		case "outer", "":
		case "inner":
			inner = true
		default: // subarea, label …
			continue
		}
		if seen[m.ref] {
			ru.warn(WarnDuplicateMember, name, fmt.Sprintf("way %s is listed twice; repetition ignored", elementName('w', m.ref)))
			continue
		}
		seen[m.ref] = true
		ids, ok := ru.ways.get(m.ref, nil)
		if !ok {
			missing = append(missing, m.ref)
			continue
		}
		if inner {
			innerSegs = append(innerSegs, seg{m.ref, ids})
		} else {
			outerSegs = append(outerSegs, seg{m.ref, ids})
		}
	}
	if len(missing) > 0 {
		ru.warn(WarnMissingMember, name, fmt.Sprintf("%d of %d member ways not in input (%s); incomplete relation skipped", len(missing), len(seen), listIDs('w', missing)))
		ru.st.Skipped++
		return nil
	}
	if len(outerSegs) == 0 {
		ru.warn(WarnBadGeometry, name, "no outer member way; relation skipped")
		ru.st.Skipped++
		return nil
	}
	outerChains, openO := joinRings(outerSegs)
	innerChains, openI := joinRings(innerSegs)
	if len(openO)+len(openI) > 0 {
		var msgs []string
		for _, c := range openO {
			msgs = append(msgs, "outer "+describeChain(c))
		}
		for _, c := range openI {
			msgs = append(msgs, "inner "+describeChain(c))
		}
		ru.warn(WarnOpenRing, name, fmt.Sprintf("ring not closed: %s; relation skipped", strings.Join(msgs, "; ")))
		ru.st.Skipped++
		return nil
	}
	var nodesMissing []int64
	toRings := func(cs []chain) []orb.Ring {
		out := make([]orb.Ring, 0, len(cs))
		for _, c := range cs {
			r, miss := ru.ring(c.ids)
			nodesMissing = append(nodesMissing, miss...)
			out = append(out, r)
		}
		return out
	}
	outers, inners := toRings(outerChains), toRings(innerChains)
	if len(nodesMissing) > 0 {
		ru.warn(WarnMissingNode, name, fmt.Sprintf("member ways refer to %d node(s) not in input (%s); relation skipped", len(nodesMissing), listIDs('n', nodesMissing)))
		ru.st.Skipped++
		return nil
	}
	g, dropped, err := assemble(outers, inners)
	if err != nil {
		ru.warn(WarnBadGeometry, name, fmt.Sprintf("%v; relation skipped", err))
		ru.st.Skipped++
		return nil
	}
	for _, i := range dropped {
		ru.warn(WarnInnerOutside, name, fmt.Sprintf("inner ring of %s lies in no outer ring; dropped", listIDs('w', innerChains[i].ways)))
	}
	return ru.emit(layer, name, g, ru.tags)
}

// listIDs formats up to 5 ids as "w1, w2, … 3 more".
func listIDs(kind byte, ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i == 5 {
			fmt.Fprintf(&b, ", … %d more", len(ids)-5)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if id == math.MinInt64 {
			b.WriteString("invalid ref")
		} else {
			b.WriteString(elementName(kind, id))
		}
	}
	return b.String()
}
