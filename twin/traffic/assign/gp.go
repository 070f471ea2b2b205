package assign

import "context"

// gpPath is one used path of an OD pair.
type gpPath struct {
	links []int32
	flow  float64
}

// odPaths is the path set of one OD pair.
type odPaths struct {
	dest   int
	demand float64
	paths  []gpPath
}

// gradientProjection is path-based gradient projection: for each origin
// in turn, find the shortest paths at the current times, add them to the
// OD pairs' path sets, and move flow from every costlier path to the
// cheapest by a Newton step (cost difference over the second derivative
// along the two paths), updating link flows and times at once.
func (s *state) gradientProjection(ctx context.Context) error {
	p := s.p
	nl := len(s.x)
	deriv := make([]float64, nl)
	mark := make([]int32, nl)
	stamp := int32(0)
	ods := make([][]odPaths, len(p.origins))
	var buf []int32
	trace := func(origin, dest int) []int32 {
		buf = buf[:0]
		for v := dest; v != origin; {
			k := s.tree.pred[v]
			buf = append(buf, k)
			v = int(p.from[k])
		}
		return buf
	}
	// Start from all-or-nothing at free-flow times.
	for oi, o := range p.origins {
		p.shortest(s.tree, o.origin, s.cost)
		ods[oi] = make([]odPaths, len(o.dests))
		for j, d := range o.dests {
			links := append([]int32(nil), trace(o.origin, d)...)
			ods[oi][j] = odPaths{dest: d, demand: o.flows[j], paths: []gpPath{{links: links, flow: o.flows[j]}}}
			for _, k := range links {
				s.x[k] += o.flows[j]
			}
		}
	}
	update := func(k int32) {
		x := max(s.x[k], 0)
		s.cost[k] = p.linkTime(int(k), x)
		deriv[k] = p.linkDeriv(int(k), x)
	}
	pathCost := func(links []int32) float64 {
		c := 0.0
		for _, k := range links {
			c += s.cost[k]
		}
		return c
	}
	for {
		s.measure()
		if stop, err := s.report(ctx); stop {
			return err
		}
		s.iter++
		for k := range deriv {
			update(int32(k))
		}
		for oi, o := range p.origins {
			p.shortest(s.tree, o.origin, s.cost)
			for j := range ods[oi] {
				od := &ods[oi][j]
				sp := trace(o.origin, od.dest)
				b := -1
				for i := range od.paths {
					if equalPath(od.paths[i].links, sp) {
						b = i
						break
					}
				}
				if b < 0 {
					b = len(od.paths)
					od.paths = append(od.paths, gpPath{links: append([]int32(nil), sp...)})
				}
				if len(od.paths) == 1 {
					continue
				}
				// The target is the cheapest path now (the tree's, unless
				// earlier moves of this origin changed the times).
				cb := pathCost(od.paths[b].links)
				for i := range od.paths {
					if c := pathCost(od.paths[i].links); c < cb {
						b, cb = i, c
					}
				}
				stamp++
				best := od.paths[b].links
				derB := 0.0
				for _, k := range best {
					mark[k] = stamp
					derB += deriv[k]
				}
				for i := range od.paths {
					q := &od.paths[i]
					if i == b || q.flow <= 0 {
						continue
					}
					ci := pathCost(q.links)
					if ci <= cb {
						continue
					}
					der := derB
					for _, k := range q.links {
						if mark[k] == stamp {
							der -= deriv[k]
						} else {
							der += deriv[k]
						}
					}
					dlt := q.flow
					if der > 0 {
						dlt = min(dlt, (ci-cb)/der)
					}
					q.flow -= dlt
					od.paths[b].flow += dlt
					for _, k := range q.links {
						s.x[k] -= dlt
						update(k)
					}
					derB = 0
					cb = 0
					for _, k := range best {
						s.x[k] += dlt
						update(k)
						derB += deriv[k]
						cb += s.cost[k]
					}
				}
				// Drop paths that lost all their flow.
				kept := od.paths[:0]
				for i, q := range od.paths {
					if q.flow > 0 || i == b {
						kept = append(kept, q)
					}
				}
				od.paths = kept
			}
		}
		// Recompute link flows from path flows so rounding cannot drift.
		clear(s.x)
		for oi := range ods {
			for j := range ods[oi] {
				for _, q := range ods[oi][j].paths {
					for _, k := range q.links {
						s.x[k] += q.flow
					}
				}
			}
		}
	}
}

func equalPath(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
