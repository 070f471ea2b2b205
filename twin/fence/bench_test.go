package fence

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// dalianFences adds n random polygon fences (irregular octagons of 100–800
// m radius) around Dalian, 121.5–121.7°E, 38.85–38.95°N.
func dalianFences(b testing.TB, e *Engine, n int, rng *rand.Rand, detect string) {
	for i := 0; i < n; i++ {
		clon, clat := 121.5+0.2*rng.Float64(), 38.85+0.1*rng.Float64()
		r := 100 + 700*rng.Float64()
		var pts []string
		for k := 0; k < 8; k++ {
			a := 2 * math.Pi * float64(k) / 8
			rr := r * (0.6 + 0.4*rng.Float64())
			pts = append(pts, fmt.Sprintf("[%.6f,%.6f]", clon+rr*math.Cos(a)*degPerMetreLon, clat+rr*math.Sin(a)*degPerMetreLat))
		}
		pts = append(pts, pts[0])
		mustAdd(b, e, `{"id":"f`+strconv.Itoa(i)+`","geometry":{"type":"Polygon","coordinates":[[`+strings.Join(pts, ",")+`]]}`+detect+`}`)
	}
}

// moves are random walks of objects (steps up to 50 m) in the same box.
func dalianMoves(objects, steps int, rng *rand.Rand) (prev []*Object, cur []Object) {
	pos := make([]Object, objects)
	for i := range pos {
		pos[i] = Object{ID: "v" + strconv.Itoa(i), Layer: "vehicles", Lon: 121.5 + 0.2*rng.Float64(), Lat: 38.85 + 0.1*rng.Float64()}
	}
	prev = make([]*Object, steps)
	cur = make([]Object, steps)
	for s := 0; s < steps; s++ {
		i := rng.IntN(objects)
		p := pos[i]
		prev[s] = &p
		n := p
		n.Lon += (rng.Float64()*2 - 1) * 50 * degPerMetreLon
		n.Lat += (rng.Float64()*2 - 1) * 50 * degPerMetreLat
		pos[i] = n
		cur[s] = n
	}
	return prev, cur
}

func BenchmarkUpdate(b *testing.B) {
	for _, bc := range []struct{ name, detect string }{
		{"enter-exit-cross", ""},
		{"all-detect", `,"detect":["enter","exit","cross","inside","outside"]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			e := New(nil)
			dalianFences(b, e, 1000, rng, bc.detect)
			prev, cur := dalianMoves(10_000, 1<<16, rng)
			// Prime the per-object state with one pass.
			for i := range cur {
				e.Update(prev[i], cur[i])
			}
			events := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i & (len(cur) - 1)
				events += len(e.Update(prev[k], cur[k]))
			}
			b.ReportMetric(float64(events)/float64(b.N), "events/op")
		})
	}
}

func BenchmarkUpdateFar(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	e := New(nil)
	dalianFences(b, e, 1000, rng, "")
	prev := Object{ID: "x", Layer: "vehicles", Lon: 122.5, Lat: 39.5}
	cur := prev
	cur.Lat += 0.0001
	cur.Props = json.RawMessage(`{"kind":"bus"}`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Update(&prev, cur)
	}
}

// BenchmarkUpdateRoaming: 2,000 ambulances and 5,000 buses in the box,
// one roaming fence of 200 m, updates of random objects.
func BenchmarkUpdateRoaming(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := newGrid()
	e := New(w)
	mustAdd(b, e, `{"id":"r","roam":{"layer":"ambulances","near":{"layer":"buses"},"meters":200}}`)
	prev, cur := dalianMoves(7000, 1<<16, rng)
	for i := range cur {
		if cur[i].ID < "v2000" && len(cur[i].ID) <= 5 {
			cur[i].Layer = "ambulances"
			prev[i].Layer = "ambulances"
		} else {
			cur[i].Layer = "buses"
			prev[i].Layer = "buses"
		}
	}
	for i := range cur {
		w.put(cur[i])
		e.Update(prev[i], cur[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for i := 0; i < b.N; i++ {
		k := i & (len(cur) - 1)
		w.put(cur[k])
		events += len(e.Update(prev[k], cur[k]))
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

// gridFinder is a bucket-grid Finder for the roaming benchmark (cells of
// 0.005°).
type gridFinder struct {
	at    map[string]Object
	cells map[[3]any]map[string]struct{}
}

func newGrid() *gridFinder {
	return &gridFinder{at: map[string]Object{}, cells: map[[3]any]map[string]struct{}{}}
}

func cellOf(layer string, lon, lat float64) [3]any {
	return [3]any{layer, int(math.Floor(lon / 0.005)), int(math.Floor(lat / 0.005))}
}

func (g *gridFinder) put(o Object) {
	if old, ok := g.at[o.ID]; ok {
		delete(g.cells[cellOf(old.Layer, old.Lon, old.Lat)], o.ID)
	}
	g.at[o.ID] = o
	c := cellOf(o.Layer, o.Lon, o.Lat)
	if g.cells[c] == nil {
		g.cells[c] = map[string]struct{}{}
	}
	g.cells[c][o.ID] = struct{}{}
}

func (g *gridFinder) Near(layer string, b orb.Bound, fn func(Object) bool) {
	lo, hi := cellOf(layer, b.Min[0], b.Min[1]), cellOf(layer, b.Max[0], b.Max[1])
	for x := lo[1].(int); x <= hi[1].(int); x++ {
		for y := lo[2].(int); y <= hi[2].(int); y++ {
			for id := range g.cells[[3]any{layer, x, y}] {
				o := g.at[id]
				if b.Contains(orb.Point{o.Lon, o.Lat}) && !fn(o) {
					return
				}
			}
		}
	}
}
