package fence

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// world is a small live-object store with a Finder, standing in for the
// twin's moving-object index: it scans every object.
type world struct {
	e    *Engine
	objs map[string]Object
}

func newWorld() *world {
	w := &world{objs: map[string]Object{}}
	w.e = New(w)
	return w
}

func (w *world) Near(layer string, b orb.Bound, fn func(Object) bool) {
	ids := make([]string, 0, len(w.objs))
	for id := range w.objs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		o := w.objs[id]
		if o.Layer == layer && b.Contains(orb.Point{o.Lon, o.Lat}) && !fn(o) {
			return
		}
	}
}

// move stores the object's new state, then feeds the update to the
// engine (the order the lead's ingest uses: index first).
func (w *world) move(id, layer string, dx, dy float64, props string) []Event {
	cur := Object{ID: id, Layer: layer, Lon: 121.6 + dx*degPerMetreLon, Lat: 38.9 + dy*degPerMetreLat}
	if props != "" {
		cur.Props = json.RawMessage(props)
	}
	var prev *Object
	if o, ok := w.objs[id]; ok {
		prev = &o
	}
	w.objs[id] = cur
	return w.e.Update(prev, cur)
}

func (w *world) forget(id string) []Event {
	o := w.objs[id]
	delete(w.objs, id)
	return w.e.Forget(o)
}

// roamBrief writes events as "type:object>near".
func roamBrief(evs []Event) []string {
	out := []string{}
	for _, ev := range evs {
		s := strings.TrimPrefix(ev.Type, "fence.") + ":" + ev.Object.ID
		if ev.Near != nil {
			s += ">" + ev.Near.ID
		}
		out = append(out, s)
	}
	return out
}

func TestRoaming(t *testing.T) {
	type mv struct {
		id, layer string
		dx, dy    float64 // metres from 121.6, 38.9
		props     string
		forget    bool
		want      []string
	}
	tests := []struct {
		name  string
		fence string
		steps []mv
	}{
		{
			name:  "either side moving",
			fence: `{"id":"r","roam":{"layer":"ambulances","near":{"layer":"buses"},"meters":50}}`,
			steps: []mv{
				{id: "a1", layer: "ambulances"},
				{id: "b1", layer: "buses", dx: 200},
				{id: "b1", layer: "buses", dx: 30, want: []string{"enter:a1>b1"}},       // the bus comes near
				{id: "b1", layer: "buses", dx: 40},                                      // still near: nothing
				{id: "a1", layer: "ambulances", dx: -100, want: []string{"exit:a1>b1"}}, // the ambulance leaves
				{id: "a1", layer: "ambulances", dx: 0, want: []string{"enter:a1>b1"}},   // and comes back
				{id: "b2", layer: "buses", dy: 20, want: []string{"enter:a1>b2"}},
				{id: "a1", layer: "ambulances", dx: 10}, // both stay near
				{id: "a1", layer: "ambulances", dx: 80, want: []string{"exit:a1>b2"}},
				{id: "b1", forget: true, want: []string{"exit:a1>b1"}},
				{id: "b1", layer: "buses", dx: 80, want: []string{"enter:a1>b1"}},
				{id: "a1", forget: true, want: []string{"exit:a1>b1"}},
				{id: "b1", layer: "buses", dx: 81},
			},
		},
		{
			name:  "filters on both sides",
			fence: `{"id":"r","roam":{"layer":"ambulances","filters":["siren=on"],"near":{"layer":"buses","filters":["line=5"]},"meters":50}}`,
			steps: []mv{
				{id: "a1", layer: "ambulances", props: `{"siren":"off"}`},
				{id: "b5", layer: "buses", dx: 10, props: `{"line":5}`},
				{id: "b7", layer: "buses", dx: -10, props: `{"line":7}`},
				{id: "a1", layer: "ambulances", dy: 1, props: `{"siren":"on"}`, want: []string{"enter:a1>b5"}},
				{id: "b5", layer: "buses", dx: 12, props: `{"line":6}`, want: []string{"exit:a1>b5"}}, // the bus changed line
				{id: "b7", layer: "buses", dx: -12, props: `{"line":"5"}`, want: []string{"enter:a1>b7"}},
				{id: "a1", layer: "ambulances", dy: 2, props: `{"siren":"off"}`, want: []string{"exit:a1>b7"}},
			},
		},
		{
			name:  "same selection on both sides",
			fence: `{"id":"r","roam":{"layer":"buses","near":{"layer":"buses"},"meters":50}}`,
			steps: []mv{
				{id: "b1", layer: "buses"},
				{id: "b2", layer: "buses", dx: 30, want: []string{"enter:b2>b1"}}, // one event per pair
				{id: "b1", layer: "buses", dx: 5},
				{id: "b1", layer: "buses", dx: -50, want: []string{"exit:b1>b2"}},
				{id: "b3", layer: "buses", dx: -40, want: []string{"enter:b3>b1"}},
			},
		},
		{
			name:  "layer change ends the pair",
			fence: `{"id":"r","roam":{"layer":"ambulances","near":{"layer":"buses"},"meters":50}}`,
			steps: []mv{
				{id: "a1", layer: "ambulances"},
				{id: "x", layer: "buses", dx: 10, want: []string{"enter:a1>x"}},
				{id: "x", layer: "cars", dx: 10, want: []string{"exit:a1>x"}},
			},
		},
		{
			name:  "exit only",
			fence: `{"id":"r","detect":["exit"],"roam":{"layer":"ambulances","near":{"layer":"buses"},"meters":50}}`,
			steps: []mv{
				{id: "a1", layer: "ambulances"},
				{id: "b1", layer: "buses", dx: 10},
				{id: "b1", layer: "buses", dx: 100, want: []string{"exit:a1>b1"}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			mustAdd(t, w.e, tc.fence)
			for i, s := range tc.steps {
				var evs []Event
				if s.forget {
					evs = w.forget(s.id)
				} else {
					evs = w.move(s.id, s.layer, s.dx, s.dy, s.props)
				}
				want := s.want
				if want == nil {
					want = []string{}
				}
				if got := roamBrief(evs); !reflect.DeepEqual(got, want) {
					t.Errorf("step %d (%s): events %v, want %v", i, s.id, got, want)
				}
				for _, ev := range evs {
					if ev.Meters == nil || ev.Near == nil || ev.Fence != "r" {
						t.Errorf("step %d: malformed roaming event %+v", i, ev)
						continue
					}
					d := math.Hypot((ev.Object.Lon-ev.Near.Lon)/degPerMetreLon, (ev.Object.Lat-ev.Near.Lat)/degPerMetreLat)
					if math.Abs(*ev.Meters-d) > 0.5 {
						t.Errorf("step %d: meters %v, want about %v", i, *ev.Meters, d)
					}
				}
			}
		})
	}
}

func TestRoamingEventPositionsAndRemove(t *testing.T) {
	w := newWorld()
	mustAdd(t, w.e, `{"id":"r","roam":{"layer":"ambulances","near":{"layer":"buses"},"meters":50}}`)
	w.move("a1", "ambulances", 0, 0, "")
	evs := w.move("b1", "buses", 30, 0, `{"line":5}`)
	if len(evs) != 1 || evs[0].Object.ID != "a1" || evs[0].Near.ID != "b1" || string(evs[0].Near.Props) != `{"line":5}` {
		t.Fatalf("enter %+v", evs)
	}
	if m := *evs[0].Meters; math.Abs(m-30) > 0.2 {
		t.Errorf("meters %v, want 30", m)
	}
	// The exit raised by the bus's move reports where both are now.
	w.move("a1", "ambulances", 10, 0, "")
	evs = w.move("b1", "buses", 100, 0, "")
	if len(evs) != 1 || evs[0].Type != TypeExit || math.Abs(*evs[0].Meters-90) > 0.3 {
		t.Fatalf("exit %+v", evs)
	}
	b, _ := json.Marshal(evs[0])
	if !strings.Contains(string(b), `"near":{"id":"b1","layer":"buses"`) || !strings.Contains(string(b), `"meters":`) {
		t.Errorf("exit JSON %s", b)
	}
	w.move("b1", "buses", 20, 0, "")
	if !w.e.Remove("r") {
		t.Fatal("Remove")
	}
	if evs := w.move("b1", "buses", 200, 0, ""); len(evs) != 0 {
		t.Errorf("events after Remove: %v", evs)
	}
	if len(w.e.objs) != 0 || len(w.e.roamBy) != 0 {
		t.Errorf("state left behind: objs %v roamBy %v", w.e.objs, w.e.roamBy)
	}
}
