package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"citytwin/internal/pgtest"

	"github.com/gorilla/websocket"
)

// TestReplicas runs two servers on one PostgreSQL/PostGIS database: an
// update ingested by one reaches the websocket subscribers and the state of
// the other, both ways, and a fence created on one raises events on the
// other.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	url := pgtest.Start(t)
	bin := buildBinary(t)
	a := startServer(t, bin, "--store", "postgres", "--pg", url)
	b := startServer(t, bin, "--store", "postgres", "--pg", url)

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":"s","layers":["vehicles"],"bbox":[121.5,38.8,121.8,39.0]}`))
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":"e","events":["fence.*"]}`))
	await := func(what string, match func([]byte) bool) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("replica b: waiting for %s: %v", what, err)
			}
			if match(msg) {
				return
			}
		}
	}
	t0 := time.Now().Add(-time.Minute)
	if code, res := a.post(t, "["+liveObj("amb-1", 121.60, 38.95, t0, `{"kind":"ambulance"}`)+"]"); code != 200 || res["applied"] != 1.0 {
		t.Fatalf("POST to a: %d %v", code, res)
	}
	await("amb-1 from replica a", func(m []byte) bool {
		return bytes.Contains(m, []byte(`"op":"state"`)) && bytes.Contains(m, []byte(`"amb-1"`))
	})
	var o map[string]any
	b.get(t, "/api/v1/objects/amb-1", 200, &o)
	if o["state"].(map[string]any)["kind"] != "ambulance" {
		t.Errorf("amb-1 on b: %v", o)
	}
	// The other way round.
	b.post(t, "["+liveObj("amb-2", 121.61, 38.95, t0, "")+"]")
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := a.do(t, "GET", "/api/v1/objects/amb-2", "", nil)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("amb-2 posted to b never reached a")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A fence made on a runs on b too.
	resp, body := a.do(t, "POST", "/api/v1/fences", `{"id":"harbour","geometry":{"type":"Polygon","coordinates":[[[121.64,38.92],[121.66,38.92],[121.66,38.94],[121.64,38.94],[121.64,38.92]]]}}`, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("POST fence to a: %d %s", resp.StatusCode, body)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		resp, _ := b.do(t, "GET", "/api/v1/fences/harbour", "", nil)
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fence made on a never reached b")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.post(t, "["+liveObj("amb-1", 121.65, 38.93, t0.Add(time.Second), "")+"]")
	await("fence.enter on b for an update ingested by a", func(m []byte) bool {
		return bytes.Contains(m, []byte(`"type":"fence.enter"`)) && bytes.Contains(m, []byte(`"amb-1"`))
	})
	var info struct {
		Stats map[string]float64 `json:"stats"`
	}
	b.get(t, "/api/v1/live", 200, &info)
	if info.Stats["remote"] < 2 {
		t.Errorf("b applied %v remote updates, want at least 2", info.Stats["remote"])
	}
	// Feature edits made on a reach b's index (and tile cache) too.
	feature := func(lon float64) string {
		return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%v,38.91],[%v,38.91],[%v,38.912],[%v,38.91]]]},"properties":{"height":30}}`, lon, lon+0.002, lon+0.002, lon)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("replica b: %s never happened", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if resp, body := a.do(t, "PUT", "/api/v1/layers/buildings/features/replica-1", feature(121.60), nil); resp.StatusCode/100 != 2 {
		t.Fatalf("PUT on a: %d %s", resp.StatusCode, body)
	}
	waitFor("the new building", func() bool {
		resp, _ := b.do(t, "GET", "/api/v1/layers/buildings/features/replica-1", "", nil)
		return resp.StatusCode == 200
	})
	if resp, body := a.do(t, "PUT", "/api/v1/layers/buildings/features/replica-1", feature(121.61), nil); resp.StatusCode/100 != 2 {
		t.Fatalf("second PUT on a: %d %s", resp.StatusCode, body)
	}
	waitFor("the edit, with its history", func() bool {
		_, body := b.do(t, "GET", "/api/v1/layers/buildings/features/replica-1/history", "", nil)
		return bytes.Count(body, []byte(`"type":"Feature"`)) == 2 && bytes.Contains(body, []byte("121.61"))
	})
	if resp, _ := a.do(t, "DELETE", "/api/v1/layers/buildings/features/replica-1?purge=true", "", nil); resp.StatusCode != 204 {
		t.Fatalf("purge on a: %d", resp.StatusCode)
	}
	waitFor("the purge", func() bool {
		resp, _ := b.do(t, "GET", "/api/v1/layers/buildings/features/replica-1/history", "", nil)
		return resp.StatusCode == 404
	})
	ws.Close()
	a.stop(t)
	b.stop(t)
}
