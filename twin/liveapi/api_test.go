package liveapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/twin/live"
	"citytwin/twin/live/pebblelog"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	lg, err := pebblelog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	tw, err := live.New(context.Background(), lg, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	New(tw).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// cellOf is the text of the level-15 GeoSOT cell of a point.
func cellOf(lon, lat float64) string {
	c, _ := gridcode.Encode(lat, lon, 15)
	return c.String()
}

func TestAPI(t *testing.T) {
	srv := newServer(t)
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	at := func(s int) string { return t0.Add(time.Duration(s) * time.Second).Format(time.RFC3339) }
	seed := `[{"id":"a","layer":"vehicles","lon":121.6,"lat":38.9,"time":"` + at(0) + `"},
	          {"id":"a","layer":"vehicles","lon":121.7,"lat":38.9,"time":"` + at(10) + `"},
	          {"id":"b","layer":"phones","lon":121.65,"lat":38.95,"time":"` + at(5) + `"}]`
	tests := []struct {
		name, method, path, body string
		status                   int
		contains                 []string
	}{
		{"post batch", "POST", "/api/v1/objects", seed, 200, []string{`"accepted":3`, `"applied":3`, `"rejected":[]`}},
		{"post ndjson", "POST", "/api/v1/objects", `{"id":"c","layer":"vehicles","lon":1,"lat":2}` + "\n" + `{"id":"d"}`, 200, []string{`"accepted":1`, `"line":2`, `missing lon or lat`}},
		{"all rejected", "POST", "/api/v1/objects", `[{"id":"x","layer":"v","lon":500,"lat":1}]`, 400, []string{`lon 500 outside`}},
		{"empty body", "POST", "/api/v1/objects", ``, 400, []string{`empty body`}},
		{"bad json", "POST", "/api/v1/objects", `[{"id":`, 400, []string{`invalid object update`}},
		{"get", "GET", "/api/v1/objects/a", "", 200, []string{`"lon":121.7`, `"layer":"vehicles"`}},
		{"get missing", "GET", "/api/v1/objects/zz", "", 404, []string{`not found`}},
		{"list box and layer", "GET", "/api/v1/objects?bbox=121.5,38.8,121.8,39&layer=vehicles", "", 200, []string{`"count":1`, `"id":"a"`}},
		{"list limit", "GET", "/api/v1/objects?limit=1", "", 200, []string{`"count":1`, `"truncated":true`}},
		{"list as of", "GET", "/api/v1/objects?layer=vehicles&time=" + at(3), "", 200, []string{`"lon":121.6`, `"count":1`}},
		{"list as of, short window", "GET", "/api/v1/objects?time=" + at(30) + "&window=10s", "", 200, []string{`"count":0`}},
		{"list grid", "GET", "/api/v1/objects?grid=" + cellOf(121.7, 38.9), "", 200, []string{`"count":1`, `"id":"a"`}},
		{"list grid and outside box", "GET", "/api/v1/objects?bbox=0,0,1,1&grid=" + cellOf(121.7, 38.9), "", 200, []string{`"count":0`}},
		{"bad grid", "GET", "/api/v1/objects?grid=G9", "", 400, []string{`grid:`}},
		{"bad bbox", "GET", "/api/v1/objects?bbox=1,2,3", "", 400, []string{`want west,south,east,north`}},
		{"reversed bbox", "GET", "/api/v1/objects?bbox=3,2,1,4", "", 400, []string{`west ≤ east`}},
		{"bad time", "GET", "/api/v1/objects?time=noon", "", 400, []string{`want RFC 3339`}},
		{"bad window", "GET", "/api/v1/objects?time=" + at(3) + "&window=-1s", "", 400, []string{`positive duration`}},
		{"bad limit", "GET", "/api/v1/objects?limit=0", "", 400, []string{`whole number`}},
		{"history", "GET", "/api/v1/objects/a/history", "", 200, []string{`"LineString"`, `[121.6,38.9,0]`, `"times":["` + at(0)}},
		{"history range", "GET", "/api/v1/objects/a/history?from=" + at(5), "", 200, []string{`"Point"`}},
		{"history limit", "GET", "/api/v1/objects/a/history?limit=1", "", 200, []string{`"truncated":true`}},
		{"history reversed", "GET", "/api/v1/objects/a/history?from=" + at(5) + "&to=" + at(1), "", 400, []string{`before from`}},
		{"history unknown", "GET", "/api/v1/objects/zz/history", "", 404, []string{`no history`}},
		{"live", "GET", "/api/v1/live", "", 200, []string{`{"layer":"phones","objects":1}`, `"accepted":4`}},
		{"delete", "DELETE", "/api/v1/objects/b", "", 204, nil},
		{"delete again", "DELETE", "/api/v1/objects/b", "", 404, []string{`not found`}},
		{"history keeps removal", "GET", "/api/v1/objects/b/history", "", 200, []string{`"gone":["`}},
	}
	for _, tc := range tests {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.name, resp.StatusCode, tc.status, body)
			continue
		}
		if len(body) > 0 && !json.Valid(body) {
			t.Errorf("%s: invalid JSON %s", tc.name, body)
		}
		for _, c := range tc.contains {
			if !strings.Contains(string(body), c) {
				t.Errorf("%s: %s lacks %s", tc.name, body, c)
			}
		}
	}
}
