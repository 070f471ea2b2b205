package samples

import (
	"fmt"

	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// emitSensors places water-level sensors at the street crossings that are
// local low points of the terrain (lower than the four lattice neighbours,
// the sea counting as level 0, so rain collects there), traffic detectors
// on every other arterial link, and three rain gauges.
func (d *district) emitSensors(streets []*street, emit func(*spatial.Feature) error) error {
	// Crossings that streets reach, and who meets there.
	type nodeInfo struct {
		i, j  int
		names []string
	}
	nodes := map[string]*nodeInfo{}
	var order []string
	touch := func(id string, i, j int, name string) {
		if id == "" {
			return
		}
		n := nodes[id]
		if n == nil {
			n = &nodeInfo{i: i, j: j}
			nodes[id] = n
			order = append(order, id)
		}
		for _, x := range n.names {
			if x == name {
				return
			}
		}
		n.names = append(n.names, name)
	}
	for _, s := range streets {
		i1, j1 := s.i+1, s.j
		if s.vertical {
			i1, j1 = s.i, s.j+1
		}
		for _, e := range [2]struct {
			id   string
			i, j int
		}{{nodeID(s.i, s.j), s.i, s.j}, {nodeID(i1, j1), i1, j1}} {
			if e.id == s.from || e.id == s.to {
				touch(e.id, e.i, e.j, s.line.name)
			}
		}
	}
	wl := 0
	for _, id := range order {
		n := nodes[id]
		e := d.nodeElev[n.i][n.j]
		low := true
		for _, o := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			i, j := n.i+o[0], n.j+o[1]
			if i < 0 || j < 0 || i >= len(d.us) || j >= len(d.vs) || d.nodeElev[i][j] <= e {
				low = false
			}
		}
		if !low {
			continue
		}
		wl++
		loc := n.names[0]
		if len(n.names) > 1 {
			loc = n.names[0] + "与" + n.names[1] + "交叉口"
		}
		f := &spatial.Feature{Layer: LayerSensors, ID: fmt.Sprintf("wl-%03d", wl), Geometry: d.pr.inv(d.nodes[n.i][n.j]), Properties: map[string]any{
			"type": "water_level", "node": id, "location": loc,
			"elevation_m": d.nodeElev[n.i][n.j], "warning_depth_m": 0.15, "unit": "m",
		}}
		if err := emit(f); err != nil {
			return err
		}
	}
	td := 0
	for _, s := range streets {
		if s.class != classArterial || !s.whole || (s.i+s.j)%2 != 0 || s.length() < 80 {
			continue
		}
		td++
		p := s.parts[0]
		mid := orb.Point{(p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2}
		f := &spatial.Feature{Layer: LayerSensors, ID: fmt.Sprintf("td-%03d", td), Geometry: d.pr.inv(mid), Properties: map[string]any{
			"type": "traffic_detector", "street": s.line.name, "link": s.id, "lanes": s.class.lanes(),
			"direction": "both", "interval_s": 60, "unit": "veh/h",
		}}
		if err := emit(f); err != nil {
			return err
		}
	}
	rg := 0
	for _, frac := range [3]float64{1.0 / 6, 0.5, 5.0 / 6} {
		for k := int(frac * float64(len(d.cells))); k < len(d.cells); k++ {
			c := d.cells[k]
			if !c.onLand {
				continue
			}
			rg++
			f := &spatial.Feature{Layer: LayerSensors, ID: fmt.Sprintf("rg-%d", rg), Geometry: d.pr.inv(quadCentre(c.quad)), Properties: map[string]any{
				"type": "rain_gauge", "grid": c.code, "unit": "mm/h", "interval_s": 300,
			}}
			if err := emit(f); err != nil {
				return err
			}
			break
		}
	}
	return nil
}
