package fence

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"citytwin/gridcode"
)

// square is a closed GeoJSON ring of a lon/lat box.
func square(w, s, e, n float64) string {
	return fmt.Sprintf("[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]", w, s, e, s, e, n, w, n, w, s)
}

func mustAdd(t testing.TB, e *Engine, js string) Definition {
	t.Helper()
	def, err := ParseDefinition([]byte(js))
	if err != nil {
		t.Fatalf("ParseDefinition(%s): %v", js, err)
	}
	d, err := e.Add(def)
	if err != nil {
		t.Fatalf("Add(%s): %v", js, err)
	}
	return d
}

// step is one object update and the events it should raise, written
// "type:fence" (type without the "fence." prefix).
type step struct {
	id, layer string
	lon, lat  float64
	props     string
	forget    bool
	want      []string
}

func mv(id string, lon, lat float64, want ...string) step {
	return step{id: id, layer: "vehicles", lon: lon, lat: lat, want: want}
}

func brief(evs []Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, strings.TrimPrefix(ev.Type, "fence.")+":"+ev.Fence)
	}
	return out
}

// run feeds the steps to the engine, keeping each object's previous
// state, and checks the events of each.
func run(t *testing.T, e *Engine, steps []step) {
	t.Helper()
	last := map[string]*Object{}
	base := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	for i, s := range steps {
		o := Object{ID: s.id, Layer: s.layer, Lon: s.lon, Lat: s.lat, Time: base.Add(time.Duration(i) * time.Second)}
		if s.props != "" {
			o.Props = json.RawMessage(s.props)
		}
		var evs []Event
		if s.forget {
			evs = e.Forget(*last[s.id])
			delete(last, s.id)
		} else {
			evs = e.Update(last[s.id], o)
			last[s.id] = &o
		}
		want := s.want
		if want == nil {
			want = []string{}
		}
		if got := brief(evs); !reflect.DeepEqual(got, want) {
			t.Errorf("step %d (%s at %v,%v): events %v, want %v", i, s.id, s.lon, s.lat, got, want)
		}
		for _, ev := range evs {
			if ev.Op != "event" || ev.Object.ID != s.id || ev.Time.IsZero() {
				t.Errorf("step %d: malformed event %+v", i, ev)
			}
		}
	}
}

// metres north/east of a point in degrees at Dalian's latitude.
const (
	degPerMetreLat = 1 / 111_030.0
	degPerMetreLon = 1 / 86_500.0
)

func TestStaticFences(t *testing.T) {
	cell, err := gridcode.Encode(38.915, 121.645, 14)
	if err != nil {
		t.Fatal(err)
	}
	cb := cell.Bounds()
	cx, cy := (cb.West+cb.East)/2, (cb.South+cb.North)/2
	const clon, clat = 121.6, 38.9
	tests := []struct {
		name  string
		fence string
		steps []step
	}{
		{
			name:  "polygon with a hole",
			fence: `{"id":"f1","geometry":{"type":"Polygon","coordinates":[` + square(121.60, 38.90, 121.70, 38.95) + `,` + square(121.64, 38.92, 121.66, 38.93) + `]}}`,
			steps: []step{
				mv("a", 121.55, 38.925),
				mv("a", 121.62, 38.925, "enter:f1"),
				mv("a", 121.63, 38.925),
				mv("a", 121.65, 38.925, "exit:f1"),  // into the hole
				mv("a", 121.64, 38.925, "enter:f1"), // the hole's edge counts as inside
				mv("a", 121.68, 38.925),             // across the hole: still inside at both ends
				mv("a", 121.75, 38.925, "exit:f1"),  // out
				mv("a", 121.75, 38.96),              // far outside
				mv("a", 121.55, 38.96),              // parallel, not crossing
				mv("a", 121.55, 38.89),              // beside
				mv("a", 121.65, 38.89),              // still outside
				mv("a", 121.65, 38.96, "cross:f1"),  // straight through the hole's column: crosses the ring
				mv("a", 121.65, 38.925, "cross:f1"), // from the north into the hole: through the area, ending outside it
			},
		},
		{
			name: "multipolygon",
			fence: `{"id":"m","geometry":{"type":"MultiPolygon","coordinates":[[` + square(121.60, 38.90, 121.62, 38.92) + `],[` +
				square(121.64, 38.90, 121.66, 38.92) + `]]},"detect":["enter","exit","inside","cross"]}`,
			steps: []step{
				mv("a", 121.61, 38.91, "enter:m", "inside:m"),
				mv("a", 121.65, 38.91, "inside:m"), // jumped from one part to the other
				mv("a", 121.63, 38.91, "exit:m"),   // the gap
				mv("a", 121.63, 38.93),
				mv("a", 121.67, 38.93),
				mv("a", 121.67, 38.91),
				mv("a", 121.59, 38.91, "cross:m"), // through both parts
			},
		},
		{
			name:  "circle",
			fence: `{"id":"c","geometry":{"type":"Point","coordinates":[121.6,38.9]},"radius":100}`,
			steps: []step{
				mv("a", clon, clat+150*degPerMetreLat),
				mv("a", clon, clat+95*degPerMetreLat, "enter:c"),
				mv("a", clon+50*degPerMetreLon, clat),
				mv("a", clon+105*degPerMetreLon, clat, "exit:c"),
				mv("a", clon-200*degPerMetreLon, clat+50*degPerMetreLat, "cross:c"),
				mv("a", clon-200*degPerMetreLon, clat+200*degPerMetreLat),
				mv("a", clon+200*degPerMetreLon, clat+110*degPerMetreLat), // passes ~150 m from the centre: misses
			},
		},
		{
			name:  "circle with the radius inside the geometry",
			fence: `{"id":"c2","geometry":{"type":"Point","coordinates":[121.6,38.9],"radius":100},"detect":["enter","exit"]}`,
			steps: []step{
				mv("a", clon, clat, "enter:c2"),
				mv("a", clon, clat+120*degPerMetreLat, "exit:c2"),
			},
		},
		{
			name:  "grid cell",
			fence: `{"id":"g","grid":"` + cell.String() + `"}`,
			steps: []step{
				mv("a", cb.West-0.001, cy),
				mv("a", cx, cy, "enter:g"),
				mv("a", cb.East+0.001, cy, "exit:g"),
				mv("a", cb.East+0.001, cb.North+0.001),
				mv("a", cx, cb.North+0.001),
				mv("a", cx, cb.South-0.001, "cross:g"),
			},
		},
		{
			name:  "first sight inside",
			fence: `{"id":"f","geometry":{"type":"Polygon","coordinates":[` + square(121.60, 38.90, 121.70, 38.95) + `]}}`,
			steps: []step{
				mv("a", 121.65, 38.92, "enter:f"),
				mv("a", 121.66, 38.92),
				mv("b", 121.65, 38.93, "enter:f"),
			},
		},
		{
			name: "inside and outside",
			// A triangle: its bounding box holds points outside it.
			fence: `{"id":"t","geometry":{"type":"Polygon","coordinates":[[[121.60,38.90],[121.70,38.90],[121.60,38.95],[121.60,38.90]]]},"detect":["inside","outside"]}`,
			steps: []step{
				mv("a", 121.80, 38.80),                        // far: nothing
				mv("a", 121.80, 38.81),                        // far and moving: nothing
				mv("a", 121.69, 38.94, "outside:t"),           // in the box, outside the triangle
				mv("a", 121.61, 38.91, "inside:t"),            // entering (enter not asked for)
				mv("a", 121.62, 38.91, "inside:t"),            // every update inside
				mv("a", 121.69, 38.94, "outside:t"),           // left (exit not asked for)
				mv("a", 121.75, 38.97, "outside:t"),           // the move's box still touches the fence
				mv("a", 121.80, 38.97),                        // now far
				mv("b", 121.60, 38.925, "inside:t"),           // on the boundary
				mv("b", 121.60+1e-9, 38.90-1e-9, "outside:t"), // just below the base
			},
		},
		{
			name:  "enter exit with inside and outside",
			fence: `{"id":"x","geometry":{"type":"Polygon","coordinates":[` + square(121.60, 38.90, 121.70, 38.95) + `]},"detect":["enter","exit","inside","outside"]}`,
			steps: []step{
				mv("a", 121.65, 38.92, "enter:x", "inside:x"),
				mv("a", 121.75, 38.92, "exit:x", "outside:x"),
			},
		},
		{
			name:  "layer and filter mismatch",
			fence: `{"id":"amb","layers":["ambulances"],"filters":["kind=ambulance","speed>5"],"geometry":{"type":"Polygon","coordinates":[` + square(121.60, 38.90, 121.70, 38.95) + `]}}`,
			steps: []step{
				{id: "bus", layer: "buses", lon: 121.65, lat: 38.92, props: `{"kind":"ambulance","speed":50}`},
				{id: "a1", layer: "ambulances", lon: 121.65, lat: 38.92, props: `{"kind":"ambulance","speed":3}`},
				{id: "a1", layer: "ambulances", lon: 121.65, lat: 38.921, props: `{"kind":"ambulance","speed":10}`, want: []string{"enter:amb"}},
				{id: "a1", layer: "ambulances", lon: 121.65, lat: 38.922, props: `{"kind":"ambulance","speed":"12"}`},
				{id: "a1", layer: "ambulances", lon: 121.65, lat: 38.923, props: `{"kind":"ambulance","speed":2}`, want: []string{"exit:amb"}},
				{id: "a2", layer: "ambulances", lon: 121.65, lat: 38.92, props: `{"kind":"fire","speed":20}`},
				{id: "a3", layer: "ambulances", lon: 121.65, lat: 38.92, props: `not json`},
				{id: "a4", layer: "ambulances", lon: 121.65, lat: 38.92},
			},
		},
		{
			name:  "filter on id and not-equal on a missing key",
			fence: `{"id":"k","filters":["id!=ghost","siren!=off"],"geometry":{"type":"Polygon","coordinates":[` + square(121.60, 38.90, 121.70, 38.95) + `]}}`,
			steps: []step{
				mv("ghost", 121.65, 38.92),
				mv("a", 121.65, 38.92, "enter:k"),
				{id: "b", layer: "vehicles", lon: 121.65, lat: 38.92, props: `{"siren":"off"}`},
			},
		},
		{
			name:  "forget exits",
			fence: `{"id":"f","geometry":{"type":"Polygon","coordinates":[` + square(121.60, 38.90, 121.70, 38.95) + `]}}`,
			steps: []step{
				mv("a", 121.65, 38.92, "enter:f"),
				{id: "a", forget: true, want: []string{"exit:f"}},
				mv("a", 121.65, 38.92, "enter:f"),
				mv("b", 121.75, 38.92),
				{id: "b", forget: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := New(nil)
			mustAdd(t, e, tc.fence)
			run(t, e, tc.steps)
		})
	}
}

func TestEventShape(t *testing.T) {
	e := New(nil)
	mustAdd(t, e, `{"id":"f","name":"Depot","geometry":{"type":"Polygon","coordinates":[`+square(121.60, 38.90, 121.70, 38.95)+`]},"webhook":{"url":"http://example.com/h","secret":"s"}}`)
	at := time.Date(2026, 7, 1, 8, 0, 0, 123456789, time.UTC)
	evs := e.Update(nil, Object{ID: "a", Layer: "vehicles", Lon: 121.65, Lat: 38.92, Time: at, Props: json.RawMessage(`{"kind":"bus"}`)})
	if len(evs) != 1 {
		t.Fatalf("events %v", evs)
	}
	if evs[0].Webhook == nil || evs[0].Webhook.URL != "http://example.com/h" {
		t.Errorf("webhook not carried: %+v", evs[0].Webhook)
	}
	b, err := json.Marshal(evs[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":"event","type":"fence.enter","fence":"f","name":"Depot","object":{"id":"a","layer":"vehicles","lon":121.65,"lat":38.92,"time":"2026-07-01T08:00:00.123456789Z","props":{"kind":"bus"}},"time":"2026-07-01T08:00:00.123456789Z"}`
	if string(b) != want {
		t.Errorf("event JSON\n got %s\nwant %s", b, want)
	}
	// Without a source time the engine's clock stamps the event.
	e.Now = func() time.Time { return at }
	evs = e.Update(nil, Object{ID: "b", Layer: "vehicles", Lon: 121.65, Lat: 38.92})
	if len(evs) != 1 || !evs[0].Time.Equal(at) {
		t.Errorf("clock not used: %+v", evs)
	}
}

func TestRemoveStopsEvents(t *testing.T) {
	e := New(nil)
	mustAdd(t, e, `{"id":"f","geometry":{"type":"Polygon","coordinates":[`+square(121.60, 38.90, 121.70, 38.95)+`]}}`)
	mustAdd(t, e, `{"id":"g","geometry":{"type":"Polygon","coordinates":[`+square(121.60, 38.90, 121.70, 38.95)+`]}}`)
	run(t, e, []step{mv("a", 121.65, 38.92, "enter:f", "enter:g")})
	if !e.Remove("f") {
		t.Fatal("Remove(f) = false")
	}
	if e.Remove("f") {
		t.Fatal("second Remove(f) = true")
	}
	if _, ok := e.Get("f"); ok {
		t.Fatal("Get after Remove")
	}
	evs := e.Update(&Object{ID: "a", Lon: 121.65, Lat: 38.92}, Object{ID: "a", Layer: "vehicles", Lon: 121.80, Lat: 38.92})
	if got := brief(evs); !reflect.DeepEqual(got, []string{"exit:g"}) {
		t.Errorf("after Remove: %v", got)
	}
	e.Remove("g")
	if len(e.objs) != 0 {
		t.Errorf("object state left behind: %v", e.objs)
	}
	// Re-adding the same ID starts afresh: first sight inside enters.
	mustAdd(t, e, `{"id":"f","geometry":{"type":"Polygon","coordinates":[`+square(121.60, 38.90, 121.70, 38.95)+`]}}`)
	evs = e.Update(nil, Object{ID: "a", Layer: "vehicles", Lon: 121.65, Lat: 38.92})
	if got := brief(evs); !reflect.DeepEqual(got, []string{"enter:f"}) {
		t.Errorf("after re-adding: %v", got)
	}
	if e.Remove("f"); len(e.objs) != 0 {
		t.Errorf("Remove left object state: %v", e.objs)
	}
}

func TestAddListGetDuplicate(t *testing.T) {
	e := New(nil)
	d := mustAdd(t, e, `{"geometry":{"type":"Point","coordinates":[121.6,38.9]},"radius":50}`)
	if d.ID == "" || !slices.Equal(d.Detect, DefaultDetect) {
		t.Fatalf("no generated id or default detect: %+v", d)
	}
	mustAdd(t, e, `{"id":"a","grid":"G00131032223"}`)
	if _, err := e.Add(Definition{ID: "a", Grid: "G00131032223"}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("duplicate Add: %v", err)
	}
	ids := []string{}
	for _, d := range e.List() {
		ids = append(ids, d.ID)
	}
	if len(ids) != 2 || ids[0] != "a" || e.Len() != 2 {
		t.Fatalf("List ids %v", ids)
	}
	// The returned definitions are copies.
	got, _ := e.Get("a")
	got.Detect[0] = "mutated"
	again, _ := e.Get("a")
	if again.Detect[0] != DetectEnter {
		t.Fatal("Get shares the engine's slices")
	}
}

func TestNoAllocsWhenNothingNear(t *testing.T) {
	e := New(nil)
	mustAdd(t, e, `{"id":"f","filters":["kind=bus"],"geometry":{"type":"Polygon","coordinates":[`+square(121.60, 38.90, 121.70, 38.95)+`]}}`)
	prev := Object{ID: "a", Layer: "vehicles", Lon: 121.50, Lat: 38.80}
	cur := Object{ID: "a", Layer: "vehicles", Lon: 121.501, Lat: 38.80, Props: json.RawMessage(`{"kind":"bus"}`)}
	if n := testing.AllocsPerRun(100, func() { e.Update(&prev, cur) }); n != 0 {
		t.Errorf("Update far from fences: %v allocs", n)
	}
	// Inside a fence without filters and staying inside (no events):
	// nothing either.
	mustAdd(t, e, `{"id":"g","geometry":{"type":"Polygon","coordinates":[`+square(121.40, 38.90, 121.50, 38.95)+`]}}`)
	in1 := Object{ID: "b", Layer: "vehicles", Lon: 121.45, Lat: 38.92, Props: json.RawMessage(`{"kind":"bus"}`)}
	e.Update(nil, in1)
	in2 := in1
	in2.Lat += 0.001
	if n := testing.AllocsPerRun(100, func() { e.Update(&in1, in2) }); n != 0 {
		t.Errorf("Update inside, no events: %v allocs", n)
	}
}
