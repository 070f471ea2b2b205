package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/internal/mqtttest"
	"citytwin/internal/pgtest"
	"citytwin/twin/webhook"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"
)

// post sends a batch of updates and returns the decoded result.
func (s *server) post(t *testing.T, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(s.base+"/api/v1/objects", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}

func liveObj(id string, lon, lat float64, at time.Time, state string) string {
	s := fmt.Sprintf(`{"id":%q,"layer":"vehicles","lon":%v,"lat":%v,"time":%q`, id, lon, lat, at.UTC().Format(time.RFC3339Nano))
	if state != "" {
		s += `,"state":` + state
	}
	return s + "}"
}

// TestLiveEndToEnd runs the real binary: updates by HTTP and websocket, a
// websocket subscriber, current state, history and as-of queries, metrics,
// and a graceful restart that keeps everything.
func TestLiveEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	s := startServer(t, bin, "--data", data)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":"near","layers":["vehicles"],"bbox":[121.6,38.9,121.7,39.0]}`)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Add(-time.Minute)
	code, res := s.post(t, "["+liveObj("bus-1", 121.65, 38.95, t0, `{"route":"23"}`)+","+liveObj("bus-2", 121.2, 38.95, t0, "")+`,{"id":"bad","layer":"vehicles","lon":999,"lat":1}]`)
	if code != 200 || res["accepted"] != 2.0 || len(res["rejected"].([]any)) != 1 {
		t.Fatalf("POST: %d %v", code, res)
	}
	// The subscriber gets bus-1 (inside its box), never bus-2.
	deadline := time.Now().Add(5 * time.Second)
	for got := false; !got; {
		_ = ws.SetReadDeadline(deadline)
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("websocket: %v", err)
		}
		if bytes.Contains(msg, []byte("bus-2")) {
			t.Fatalf("bus-2 sent to a subscription it is outside of: %s", msg)
		}
		got = bytes.Contains(msg, []byte(`"op":"state"`)) && bytes.Contains(msg, []byte(`"bus-1"`))
	}
	// An update over the websocket, acknowledged once durable.
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"update","id":"u1","objects":[`+liveObj("bus-1", 121.66, 38.95, t0.Add(10*time.Second), "")+`]}`)); err != nil {
		t.Fatal(err)
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(msg, []byte(`"op":"ack"`)) {
			if !bytes.Contains(msg, []byte(`"applied":1`)) {
				t.Fatalf("ack %s", msg)
			}
			break
		}
	}
	var o map[string]any
	s.get(t, "/api/v1/objects/bus-1", 200, &o)
	if o["lon"] != 121.66 || o["state"].(map[string]any)["route"] != "23" {
		t.Errorf("bus-1 now: %v", o)
	}
	var h struct {
		Geometry struct {
			Type        string      `json:"type"`
			Coordinates [][]float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties struct {
			Times []string `json:"times"`
		} `json:"properties"`
	}
	s.get(t, "/api/v1/objects/bus-1/history", 200, &h)
	if h.Geometry.Type != "LineString" || len(h.Geometry.Coordinates) != 2 || len(h.Properties.Times) != 2 {
		t.Errorf("history: %+v", h)
	}
	var list struct {
		Objects []map[string]any `json:"objects"`
	}
	s.get(t, "/api/v1/objects?bbox=121.6,38.9,121.7,39&layer=vehicles", 200, &list)
	if len(list.Objects) != 1 || list.Objects[0]["id"] != "bus-1" {
		t.Errorf("objects in box: %v", list.Objects)
	}
	s.get(t, "/api/v1/objects?time="+t0.Add(5*time.Second).UTC().Format(time.RFC3339Nano), 200, &list)
	if len(list.Objects) != 2 {
		t.Errorf("objects as of t0+5s: %v", list.Objects)
	}
	for _, o := range list.Objects {
		if o["id"] == "bus-1" && o["lon"] != 121.65 {
			t.Errorf("bus-1 as of t0+5s at %v, want 121.65", o["lon"])
		}
	}
	// What is in the grid cell around bus-1: its features and, now, bus-1.
	cell, _ := gridcode.Encode(38.95, 121.66, 15)
	var c struct {
		Live map[string]int `json:"live"`
	}
	s.get(t, "/api/v1/grid/"+cell.String(), 200, &c)
	if c.Live["vehicles"] != 1 {
		t.Errorf("live objects in %s: %v", cell, c.Live)
	}
	s.get(t, "/api/v1/objects?grid="+cell.String(), 200, &list)
	if len(list.Objects) != 1 || list.Objects[0]["id"] != "bus-1" {
		t.Errorf("objects in %s: %v", cell, list.Objects)
	}
	s.get(t, "/api/v1/objects/nobody", 404, nil)
	s.get(t, "/api/v1/objects?bbox=1,2", 400, nil)
	resp, body := s.do(t, "GET", "/metrics", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("citytwin_live_objects 2")) || !bytes.Contains(body, []byte("citytwin_ws_clients 1")) {
		t.Errorf("metrics lack live figures:\n%s", body)
	}
	resp, _ = s.do(t, "DELETE", "/api/v1/objects/bus-2", "", nil)
	if resp.StatusCode != 204 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	ws.Close()
	s.stop(t)

	s = startServer(t, bin, "--data", data)
	s.get(t, "/api/v1/objects/bus-1", 200, &o)
	if o["lon"] != 121.66 {
		t.Errorf("bus-1 after restart: %v", o)
	}
	s.get(t, "/api/v1/objects/bus-2", 404, nil)
	s.stop(t)
}

// TestLiveKill9 posts updates from several clients while the server is
// killed with SIGKILL, then checks after a restart that every update it
// acknowledged is in the history: on the embedded store and on PostgreSQL.
func TestLiveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildBinary(t)
	t.Run("embedded", func(t *testing.T) {
		killDuringIngest(t, bin, "--data", t.TempDir())
	})
	t.Run("postgres", func(t *testing.T) {
		killDuringIngest(t, bin, "--store", "postgres", "--pg", pgtest.Start(t))
	})
}

// killDuringIngest is TestLiveKill9 on one store.
func killDuringIngest(t *testing.T, bin string, store ...string) {
	s := startServer(t, bin, store...)
	t0 := time.Now().Add(-time.Hour)
	var mu sync.Mutex
	acked := map[string]int{} // id → highest acknowledged step (all earlier too)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for step := 1; ; step++ {
				select {
				case <-stop:
					return
				default:
				}
				var parts []string
				for i := range 50 {
					parts = append(parts, liveObj(fmt.Sprintf("w%d-%d", w, i), 121.6+float64(step)/1e5, 38.9, t0.Add(time.Duration(step)*time.Millisecond), ""))
				}
				resp, err := client.Post(s.base+"/api/v1/objects", "application/json", strings.NewReader("["+strings.Join(parts, ",")+"]"))
				if err != nil {
					return // killed
				}
				ok := resp.StatusCode == 200
				resp.Body.Close()
				if !ok {
					return
				}
				mu.Lock()
				for i := range 50 {
					acked[fmt.Sprintf("w%d-%d", w, i)] = step
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	<-s.done
	_ = s.cmd.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}
	s = startServer(t, bin, store...)
	total := 0
	for id, last := range acked {
		var h struct {
			Properties struct {
				Times []string `json:"times"`
			} `json:"properties"`
		}
		s.get(t, "/api/v1/objects/"+id+"/history?limit=100000", 200, &h)
		if len(h.Properties.Times) < last {
			t.Errorf("%s: %d states in history after SIGKILL, but %d were acknowledged", id, len(h.Properties.Times), last)
		}
		total += last
	}
	t.Logf("%d acknowledged updates of %d objects all survived SIGKILL", total, len(acked))
	s.stop(t)
}

// TestLiveMQTT feeds the server from a real Mosquitto broker.
func TestLiveMQTT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	broker := mqtttest.Start(t)
	bin := buildBinary(t)
	s := startServer(t, bin, "--data", t.TempDir(), "--mqtt", broker.URL(), "--mqtt-client-id", "citytwin-test")
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker.URL()).SetClientID("publisher"))
	if tok := pub.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer pub.Disconnect(100)
	t0 := time.Now().Add(-time.Minute)
	const n = 200
	for i := range n {
		payload := fmt.Sprintf(`{"lon":%v,"lat":38.9,"time":%q,"state":{"seq":%d}}`, 121.6+float64(i)/1e4, t0.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), i)
		tok := pub.Publish(fmt.Sprintf("citytwin/objects/buses/bus-%d", i%20), 1, false, payload)
		if tok.Wait() && tok.Error() != nil {
			t.Fatal(tok.Error())
		}
	}
	pub.Publish("citytwin/objects/buses/bus-bad", 1, false, `{"lon":"east"}`).Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var info struct {
			Stats map[string]float64 `json:"stats"`
		}
		s.get(t, "/api/v1/live", 200, &info)
		if info.Stats["accepted"] == n && info.Stats["rejected"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("MQTT updates did not all arrive: %v", info.Stats)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, metrics := s.do(t, "GET", "/metrics", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(metrics, []byte("citytwin_mqtt_connected 1")) || !bytes.Contains(metrics, []byte(`citytwin_mqtt_messages_total{outcome="received"} 201`)) {
		t.Errorf("MQTT metrics missing:\n%s", metrics)
	}
	var o map[string]any
	s.get(t, "/api/v1/objects/bus-19", 200, &o)
	if o["layer"] != "buses" || o["state"].(map[string]any)["seq"] != float64(n-1) {
		t.Errorf("bus-19: %v", o)
	}
	s.stop(t)
}

// TestLiveFences: a fence posted over HTTP raises enter and exit events on
// the websocket and by webhook, and survives a restart.
func TestLiveFences(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	hooks := make(chan string, 16)
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if !webhook.Verify("s3cret", b, r.Header.Get("X-CityTwin-Signature")) {
			t.Errorf("webhook signature %q does not verify", r.Header.Get("X-CityTwin-Signature"))
		}
		hooks <- r.Header.Get("X-CityTwin-Event") + " " + string(b)
	}))
	defer hookSrv.Close()
	bin := buildBinary(t)
	data := t.TempDir()
	s := startServer(t, bin, "--data", data)
	resp, body := s.do(t, "POST", "/api/v1/fences", `{"id":"port","geometry":{"type":"Polygon","coordinates":[[[121.64,38.92],[121.66,38.92],[121.66,38.94],[121.64,38.94],[121.64,38.92]]]},"layers":["vehicles"],"webhook":{"url":"`+hookSrv.URL+`","secret":"s3cret"}}`, map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != 201 {
		t.Fatalf("POST fence: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "POST", "/api/v1/fences", `{"id":"bad","geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4]]]}}`, nil)
	if resp.StatusCode != 400 || !bytes.Contains(body, []byte("geometry")) {
		t.Errorf("bad fence: %d %s", resp.StatusCode, body)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":"ev","events":["fence.*"]}`))
	t0 := time.Now().Add(-time.Minute)
	expect := func(typ string) {
		t.Helper()
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			if bytes.Contains(msg, []byte(`"op":"event"`)) {
				if !bytes.Contains(msg, []byte(`"type":"`+typ+`"`)) || !bytes.Contains(msg, []byte(`"sub":"ev"`)) || !bytes.Contains(msg, []byte(`"truck-1"`)) {
					t.Fatalf("event %s, want %s", msg, typ)
				}
				break
			}
		}
		select {
		case h := <-hooks:
			if !strings.HasPrefix(h, typ+" ") {
				t.Errorf("webhook %s, want %s", h, typ)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no webhook for %s", typ)
		}
	}
	s.post(t, "["+liveObj("truck-1", 121.60, 38.93, t0, "")+"]")
	s.post(t, "["+liveObj("truck-1", 121.65, 38.93, t0.Add(time.Second), "")+"]")
	expect("fence.enter")
	s.post(t, "["+liveObj("truck-1", 121.70, 38.93, t0.Add(2*time.Second), "")+"]")
	expect("fence.exit")
	ws.Close()
	s.stop(t)

	s = startServer(t, bin, "--data", data)
	var f map[string]any
	s.get(t, "/api/v1/fences/port", 200, &f)
	if f["id"] != "port" {
		t.Errorf("fence after restart: %v", f)
	}
	if _, ok := f["webhook"].(map[string]any)["secret"]; ok {
		t.Errorf("webhook secret shown: %v", f)
	}
	resp, _ = s.do(t, "DELETE", "/api/v1/fences/port", "", nil)
	if resp.StatusCode != 204 {
		t.Errorf("DELETE fence: %d", resp.StatusCode)
	}
	s.stop(t)
}

// TestAuthRoles runs the server with a token file: reads stay public,
// live updates need a device token (also over the websocket), fences an
// analyst's, feature edits an admin's.
func TestAuthRoles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("device-token-000001 device bus-gateway\nanalyst-token-00001 analyst planner\nviewer-token-000001 viewer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	s := startServer(t, bin, "--data", t.TempDir(), "--tokens", tokens, "--admin-token", "admin-token-0000001")
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	body := "[" + liveObj("bus-1", 121.6, 38.9, time.Now().Add(-time.Minute), "") + "]"
	fenceBody := `{"id":"f","grid":"G001310322"}`
	for _, tc := range []struct {
		method, path, body, token string
		status                    int
	}{
		{"POST", "/api/v1/objects", body, "", 401},
		{"POST", "/api/v1/objects", body, "viewer-token-000001", 403},
		{"POST", "/api/v1/objects", body, "device-token-000001", 200},
		{"GET", "/api/v1/objects/bus-1", "", "", 200},
		{"POST", "/api/v1/fences", fenceBody, "device-token-000001", 403},
		{"POST", "/api/v1/fences", fenceBody, "analyst-token-00001", 201},
		{"DELETE", "/api/v1/layers/buildings/features/nope", "", "analyst-token-00001", 403},
		{"DELETE", "/api/v1/layers/buildings/features/nope", "", "admin-token-0000001", 404},
	} {
		h := map[string]string{}
		if tc.token != "" {
			h = bearer(tc.token)
		}
		resp, b := s.do(t, tc.method, tc.path, tc.body, h)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s with %q: %d, want %d: %s", tc.method, tc.path, tc.token, resp.StatusCode, tc.status, b)
		}
	}
	// The simulator needs a device token too.
	for tok, want := range map[string]int{"": 1, "device-token-000001": 0} {
		var stderr bytes.Buffer
		code := run([]string{"simulate", "vehicles", "--n", "5", "--server", s.base, "--duration", "1s", "--token", tok},
			env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr})
		if code != want {
			t.Errorf("simulate with token %q: exit %d, want %d:\n%s", tok, code, want, stderr.String())
		}
	}
	wsURL := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
	update := `{"op":"update","id":"u","objects":[` + liveObj("bus-2", 121.6, 38.9, time.Now().Add(-time.Minute), "") + `]}`
	for tok, want := range map[string]string{"": `"op":"error"`, "device-token-000001": `"op":"ack"`} {
		url := wsURL
		if tok != "" {
			url += "?access_token=" + tok
		}
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte(update))
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, msg, err := ws.ReadMessage()
		if err != nil || !bytes.Contains(msg, []byte(want)) {
			t.Errorf("websocket update with %q: %s %v, want %s", tok, msg, err, want)
		}
		ws.Close()
	}
	s.stop(t)
}

// TestLiveTTL: with --live-ttl, an object that stops reporting leaves the
// live twin (and its subscribers), and its history says when.
func TestLiveTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	s := startServer(t, buildBinary(t), "--data", t.TempDir(), "--live-ttl", "2s")
	s.post(t, "["+liveObj("parked", 121.6, 38.9, time.Now(), "")+"]")
	s.get(t, "/api/v1/objects/parked", 200, nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, _ := s.do(t, "GET", "/api/v1/objects/parked", "", nil)
		if resp.StatusCode == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a silent object was never expired")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var h struct {
		Properties struct {
			Gone []string `json:"gone"`
		} `json:"properties"`
	}
	s.get(t, "/api/v1/objects/parked/history", 200, &h)
	if len(h.Properties.Gone) != 1 {
		t.Errorf("history of an expired object: %+v", h)
	}
	s.stop(t)
}

// TestCORS: with --cors, another origin's page may call the API and open
// the websocket; others may not open the websocket.
func TestCORS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	s := startServer(t, buildBinary(t), "--data", t.TempDir(), "--cors", "https://ops.example")
	resp, _ := s.do(t, "OPTIONS", "/api/v1/objects", "", map[string]string{"Origin": "https://ops.example", "Access-Control-Request-Method": "POST"})
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://ops.example" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	wsURL := "ws" + strings.TrimPrefix(s.base, "http") + "/ws"
	for origin, ok := range map[string]bool{"https://ops.example": true, "https://evil.example": false} {
		c, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {origin}})
		if (err == nil) != ok {
			t.Errorf("websocket from %s: %v, want allowed=%v", origin, err, ok)
		}
		if c != nil {
			c.Close()
		}
	}
	s.stop(t)
}
