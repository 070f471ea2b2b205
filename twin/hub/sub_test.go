package hub

import (
	"encoding/json"
	"testing"

	"citytwin/gridcode"
	"citytwin/twin/live"
)

func FuzzSubscribe(f *testing.F) {
	f.Add([]byte(`{"op":"subscribe","id":"s1","layers":["vehicles"],"bbox":[121.5,38.8,121.7,39]}`))
	f.Add([]byte(`{"op":"subscribe","id":"g","grid":"G001310322-230230"}`))
	f.Add([]byte(`{"op":"subscribe","id":"f","fence":{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}`))
	f.Add([]byte(`{"op":"subscribe","id":"e","events":["fence.*","*"],"fences":["a"]}`))
	code, _ := gridcode.Encode(38.9, 121.6, live.CodeLevel)
	o := &live.Object{ID: "x", Layer: "vehicles", Lon: 121.6, Lat: 38.9, Code: code}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Request
		if json.Unmarshal(data, &r) != nil {
			return
		}
		s, err := newSub(nil, &r)
		if err != nil {
			return
		}
		// A valid subscription answers every question without panicking.
		_ = s.matches(o)
		_ = s.wantsEvent("fence.enter", "a")
		if !s.region.world && !(s.region.bound.Min[0] <= s.region.bound.Max[0] && s.region.bound.Min[1] <= s.region.bound.Max[1]) {
			t.Fatalf("subscription with an inverted bound %v", s.region.bound)
		}
	})
}
