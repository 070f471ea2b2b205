package osm

import (
	"slices"

	"github.com/paulmach/orb"
)

// MergeCoastlines joins coastline lines (LayerCoastline features'
// geometries) into rings, for land polygons or islands.
//
// OSM draws coastlines with the land on the left, so lines are joined
// head to tail only, the end of one to the start of the next, and never
// reversed: a closed result runs counter-clockwise around land (an island,
// an outer ring as RFC 7946 wants it) or clockwise around water (a lake
// mapped as coastline, a hole). Lines may come in any order. Points are
// matched exactly, as lines from the same OSM nodes are. Chains that do
// not close (coastline cut by the extract's edge, or a mapping error) are
// returned in open, each joined as far as it goes. Rings with fewer than
// 4 points are returned as open lines too. The inputs are not modified.
func MergeCoastlines(lines []orb.LineString) (rings []orb.Ring, open []orb.LineString) {
	used := make([]bool, len(lines))
	starts := make(map[orb.Point][]int, len(lines))
	endsAt := make(map[orb.Point][]int, len(lines))
	for i, l := range lines {
		if len(l) < 2 {
			used[i] = true
			if len(l) == 1 {
				open = append(open, slices.Clone(l))
			}
			continue
		}
		starts[l[0]] = append(starts[l[0]], i)
		endsAt[l[len(l)-1]] = append(endsAt[l[len(l)-1]], i)
	}
	take := func(idx map[orb.Point][]int, p orb.Point) int {
		for _, j := range idx[p] {
			if !used[j] {
				used[j] = true
				return j
			}
		}
		return -1
	}
	for i, l := range lines {
		if used[i] {
			continue
		}
		used[i] = true
		c := slices.Clone(l)
		// Forward: append lines that start where the chain ends.
		for c[0] != c[len(c)-1] {
			j := take(starts, c[len(c)-1])
			if j < 0 {
				break
			}
			c = append(c, lines[j][1:]...)
		}
		if c[0] != c[len(c)-1] {
			// Backward: collect lines that end where the chain starts,
			// then join them in front once.
			var before []int
			first := c[0]
			for first != c[len(c)-1] {
				j := take(endsAt, first)
				if j < 0 {
					break
				}
				before = append(before, j)
				first = lines[j][0]
			}
			if len(before) > 0 {
				var head orb.LineString
				for k := len(before) - 1; k >= 0; k-- {
					l := lines[before[k]]
					head = append(head, l[:len(l)-1]...)
				}
				c = append(head, c...)
			}
		}
		if c[0] == c[len(c)-1] && len(c) >= 4 {
			rings = append(rings, orb.Ring(c))
		} else {
			open = append(open, c)
		}
	}
	return rings, open
}
