package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"citytwin/gridcode"

	"github.com/gorilla/websocket"
)

// TestCases runs a grid-management case through its workflow on the real
// binary: an officer bound to the grid reports and works it, an officer
// of another place may not, case events reach a websocket subscriber, and
// the case with its log survives a restart.
func TestCases(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	const lon, lat = 121.644, 38.916
	here, _ := gridcode.Encode(lat, lon, 15)
	far, _ := gridcode.Encode(39.5, 122.5, 15)
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("officer-here-000001 officer wang.li "+here.String()+"\nofficer-far-0000001 officer zhao.si "+far.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	data := t.TempDir()
	s := startServer(t, bin, "--data", data, "--tokens", tokens)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(s.base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"op":"subscribe","id":"cases","events":["case.*"]}`))
	as := func(tok string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
	}
	resp, body := s.do(t, "POST", "/api/v1/cases", `{"kind":"event","category":"01","title":"垃圾堆放","description":"路边垃圾","lon":121.644,"lat":38.916,"reporter":"市民"}`, as("officer-here-000001"))
	if resp.StatusCode != 201 {
		t.Fatalf("intake: %d %s", resp.StatusCode, body)
	}
	var c map[string]any
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	id, _ := c["id"].(string)
	if id == "" || c["grid"] == "" || c["status"] != "intake" {
		t.Fatalf("case %v", c)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("no case.created event: %v", err)
		}
		if bytes.Contains(msg, []byte(`"type":"case.created"`)) && bytes.Contains(msg, []byte(id)) {
			break
		}
	}
	// The planners' map draws open cases.
	if resp, body := s.do(t, "GET", "/api/v1/style.json", "", nil); resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"source-layer":"cases"`)) {
		t.Errorf("style.json has no cases layer: %d", resp.StatusCode)
	}
	// Another place's officer may not work it.
	if resp, body := s.do(t, "POST", "/api/v1/cases/"+id+"/transitions", `{"to":"registered"}`, as("officer-far-0000001")); resp.StatusCode != 403 {
		t.Errorf("officer of another grid: %d %s", resp.StatusCode, body)
	}
	for _, step := range []string{`{"to":"registered"}`, `{"to":"dispatched","assignee":"zhang.san"}`, `{"to":"handled","note":"清理完毕"}`, `{"to":"verified","ok":true}`, `{"to":"closed"}`} {
		if resp, body := s.do(t, "POST", "/api/v1/cases/"+id+"/transitions", step, as("officer-here-000001")); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", step, resp.StatusCode, body)
		}
	}
	if resp, body := s.do(t, "POST", "/api/v1/cases/"+id+"/transitions", `{"to":"dispatched","assignee":"x"}`, as("officer-here-000001")); resp.StatusCode != 409 {
		t.Errorf("a closed case dispatched again: %d %s", resp.StatusCode, body)
	}
	var stats map[string]any
	s.get(t, "/api/v1/cases/stats", 200, &stats)
	if stats["total"] != 1.0 {
		t.Errorf("stats %v", stats)
	}
	ws.Close()
	s.stop(t)

	s = startServer(t, bin, "--data", data, "--tokens", tokens)
	s.get(t, "/api/v1/cases/"+id, 200, &c)
	if c["status"] != "closed" || len(c["log"].([]any)) != 6 {
		t.Errorf("after restart: status %v, %d log entries", c["status"], len(c["log"].([]any)))
	}
	var h struct {
		Features []any `json:"features"`
	}
	s.get(t, "/api/v1/layers/cases/features/"+id+"/history", 200, &h)
	if len(h.Features) != 6 {
		t.Errorf("%d versions in the case's history, want 6", len(h.Features))
	}
	s.stop(t)
}
