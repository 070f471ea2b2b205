package fence

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// mapSaver is the Saver interface over a map (a fixture of the interface,
// as the stores implement it); fail makes every call fail.
type mapSaver struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail bool
}

func (s *mapSaver) SaveFence(_ context.Context, id string, def []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk full")
	}
	s.m[id] = append([]byte(nil), def...)
	return nil
}

func (s *mapSaver) DeleteFence(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("disk gone")
	}
	delete(s.m, id)
	return nil
}

func (s *mapSaver) LoadFences(context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, errors.New("disk gone")
	}
	out := map[string][]byte{}
	for k, v := range s.m {
		out[k] = v
	}
	return out, nil
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s: content type %q", method, path, resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(b)
}

func TestHTTP(t *testing.T) {
	saver := &mapSaver{m: map[string][]byte{}}
	e := New(nil)
	var changes []Change
	mux := http.NewServeMux()
	e.Register(mux, saver, func(c Change) { changes = append(changes, c) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	poly := `{"type":"Polygon","coordinates":[` + square(121.6, 38.9, 121.7, 38.95) + `]}`
	code, body := call(t, srv, "POST", "/api/v1/fences", `{"id":"f1","name":"Harbour","geometry":`+poly+`,"webhook":{"url":"http://example.com/h","secret":"top-secret"}}`)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %s", code, body)
	}
	var got Definition
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.ID != "f1" || got.Name != "Harbour" || len(got.Detect) != 3 {
		t.Fatalf("POST body %s (%v)", body, err)
	}
	if strings.Contains(body, "top-secret") {
		t.Errorf("the response leaks the webhook secret: %s", body)
	}
	if !strings.Contains(string(saver.m["f1"]), "top-secret") {
		t.Errorf("the saved definition lost the secret: %s", saver.m["f1"])
	}
	if len(changes) != 1 || changes[0].Op != "add" || changes[0].Fence.Webhook.Secret != "top-secret" {
		t.Errorf("onChange: %+v", changes)
	}

	// Generated id.
	code, body = call(t, srv, "POST", "/api/v1/fences", `{"grid":"G001310322"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST without id: %d %s", code, body)
	}
	var gen Definition
	_ = json.Unmarshal([]byte(body), &gen)
	if gen.ID == "" || saver.m[gen.ID] == nil {
		t.Fatalf("no generated id or not saved: %s", body)
	}

	// Duplicate.
	if code, body = call(t, srv, "POST", "/api/v1/fences", `{"id":"f1","grid":"G001310322"}`); code != http.StatusConflict {
		t.Errorf("duplicate POST: %d %s", code, body)
	}
	// Invalid: 400 naming the field.
	code, body = call(t, srv, "POST", "/api/v1/fences", `{"id":"f2","geometry":`+poly+`,"detect":["sideways"]}`)
	if code != http.StatusBadRequest || !strings.Contains(body, `"field":"detect[0]"`) {
		t.Errorf("invalid POST: %d %s", code, body)
	}
	if code, body = call(t, srv, "POST", "/api/v1/fences", `{"id":`); code != http.StatusBadRequest || !strings.Contains(body, `"error"`) {
		t.Errorf("malformed POST: %d %s", code, body)
	}
	if code, _ = call(t, srv, "POST", "/api/v1/fences", `{"id":"big","name":"`+strings.Repeat("x", maxBody)+`"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge POST: %d", code)
	}

	// List and get.
	code, body = call(t, srv, "GET", "/api/v1/fences", "")
	var list struct{ Fences []Definition }
	if err := json.Unmarshal([]byte(body), &list); code != http.StatusOK || err != nil || len(list.Fences) != 2 {
		t.Fatalf("GET list: %d %s", code, body)
	}
	if strings.Contains(body, "top-secret") {
		t.Errorf("the list leaks the webhook secret")
	}
	if code, body = call(t, srv, "GET", "/api/v1/fences/f1", ""); code != http.StatusOK || !strings.Contains(body, `"id":"f1"`) || strings.Contains(body, "top-secret") {
		t.Errorf("GET f1: %d %s", code, body)
	}
	if code, _ = call(t, srv, "GET", "/api/v1/fences/nope", ""); code != http.StatusNotFound {
		t.Errorf("GET unknown: %d", code)
	}

	// The fence is live.
	if evs := e.Update(nil, Object{ID: "a", Layer: "vehicles", Lon: 121.65, Lat: 38.92}); len(evs) != 1 || evs[0].Fence != "f1" {
		t.Errorf("events after POST: %v", brief(evs))
	}

	// Delete.
	if code, body = call(t, srv, "DELETE", "/api/v1/fences/f1", ""); code != http.StatusNoContent || body != "" {
		t.Errorf("DELETE: %d %s", code, body)
	}
	if _, ok := saver.m["f1"]; ok {
		t.Error("DELETE did not delete the saved definition")
	}
	if code, _ = call(t, srv, "DELETE", "/api/v1/fences/f1", ""); code != http.StatusNotFound {
		t.Errorf("second DELETE: %d", code)
	}
	if len(changes) != 3 || changes[2].Op != "remove" || changes[2].Fence.ID != "f1" {
		t.Errorf("onChange after delete: %+v", changes)
	}

	// A restart loads what was saved.
	e2 := New(nil)
	if err := e2.Load(context.Background(), saver); err != nil {
		t.Fatal(err)
	}
	if _, ok := e2.Get(gen.ID); !ok || e2.Len() != 1 {
		t.Errorf("Load: %v", e2.List())
	}
}

func TestHTTPSaverFailure(t *testing.T) {
	saver := &mapSaver{m: map[string][]byte{}}
	e := New(nil)
	mux := http.NewServeMux()
	e.Register(mux, saver, nil)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	if code, body := call(t, srv, "POST", "/api/v1/fences", `{"id":"keep","grid":"G001310322"}`); code != http.StatusCreated {
		t.Fatalf("POST: %d %s", code, body)
	}
	saver.fail = true
	code, body := call(t, srv, "POST", "/api/v1/fences", `{"id":"lost","grid":"G001310322"}`)
	if code != http.StatusInternalServerError || !strings.Contains(body, "disk full") {
		t.Errorf("POST with a failing saver: %d %s", code, body)
	}
	if _, ok := e.Get("lost"); ok || e.Len() != 1 {
		t.Error("a fence that was not saved was added")
	}
	if code, _ = call(t, srv, "DELETE", "/api/v1/fences/keep", ""); code != http.StatusInternalServerError {
		t.Errorf("DELETE with a failing saver: %d", code)
	}
	if _, ok := e.Get("keep"); !ok {
		t.Error("a fence whose deletion was not saved was removed")
	}
	// The failed id is free again once the saver recovers.
	saver.fail = false
	if code, body := call(t, srv, "POST", "/api/v1/fences", `{"id":"lost","grid":"G001310322"}`); code != http.StatusCreated {
		t.Errorf("POST after recovery: %d %s", code, body)
	}
}

func TestLoadReportsBadRecords(t *testing.T) {
	saver := &mapSaver{m: map[string][]byte{
		"good":  []byte(`{"id":"good","grid":"G001310322"}`),
		"bad":   []byte(`{"id":"bad","grid":"nonsense"}`),
		"moved": []byte(`{"id":"other","grid":"G001310322"}`),
	}}
	e := New(nil)
	err := e.Load(context.Background(), saver)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), `"moved"`) {
		t.Errorf("Load error %v", err)
	}
	if _, ok := e.Get("good"); !ok || e.Len() != 1 {
		t.Errorf("Load kept %v", e.List())
	}
	saver.fail = true
	if err := New(nil).Load(context.Background(), saver); err == nil {
		t.Error("Load with a failing saver: no error")
	}
}
