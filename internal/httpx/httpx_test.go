package httpx

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestWrapLimitsAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			if TooLarge(err) {
				Error(w, http.StatusRequestEntityTooLarge, "too large", nil)
				return
			}
			Error(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
		WriteJSON(w, http.StatusOK, map[string]int{"n": len(b)})
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	h := Wrap(mux, Limits{MaxBody: 10, Timeout: 100 * time.Millisecond}, m, nil)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader("12345")))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"n":5`) {
		t.Errorf("small body: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("x", 100))))
	var e ErrorBody
	if rec.Code != http.StatusRequestEntityTooLarge || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error == "" {
		t.Errorf("large body: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("slow handler: %d", rec.Code)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "citytwin_http_requests_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range mt.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == "POST /echo" && labels["code"] == "200" && mt.GetCounter().GetValue() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no request counter for POST /echo 200")
	}
}

func TestCORS(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(299) })
	tests := []struct {
		origins        []string
		method, origin string
		preflight      bool
		status         int
		allow          string
	}{
		{nil, "GET", "https://a.example", false, 299, ""},
		{[]string{"https://a.example"}, "GET", "https://a.example", false, 299, "https://a.example"},
		{[]string{"https://a.example"}, "GET", "https://b.example", false, 299, ""},
		{[]string{"*"}, "GET", "https://b.example", false, 299, "https://b.example"},
		{[]string{"*"}, "OPTIONS", "https://b.example", true, 204, "https://b.example"},
		{[]string{"https://a.example"}, "OPTIONS", "https://b.example", true, 299, ""},
		{[]string{"*"}, "GET", "", false, 299, ""},
	}
	for i, tc := range tests {
		req := httptest.NewRequest(tc.method, "/api/v1/layers", nil)
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.preflight {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		rec := httptest.NewRecorder()
		CORS(ok, tc.origins).ServeHTTP(rec, req)
		if rec.Code != tc.status || rec.Header().Get("Access-Control-Allow-Origin") != tc.allow {
			t.Errorf("case %d: %d %q, want %d %q", i, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"), tc.status, tc.allow)
		}
		if tc.status == 204 && !strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("case %d: preflight does not allow Authorization", i)
		}
	}
}
