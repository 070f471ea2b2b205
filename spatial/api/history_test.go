package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/pebblestore"
)

func TestFeatureHistoryOverHTTP(t *testing.T) {
	st, err := pebblestore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := spatial.NewKernel(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a := New(k, "")
	a.Register(mux)
	a.RegisterWrites(mux, "")
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
		}
		return out
	}
	point := func(lon float64) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[` + jsonFloat(lon) + `,38.9]},"properties":{"use":"school"}}`
	}
	const path = "/api/v1/layers/b/features/x"
	do("PUT", path, point(121.6), 201)
	do("PUT", path, point(121.7), 200)
	do("PUT", path, point(121.7), 200) // unchanged: no new version
	h := do("GET", path+"/history", "", 200)
	vs := h["features"].([]any)
	if len(vs) != 2 {
		t.Fatalf("history of %d versions", len(vs))
	}
	first := vs[0].(map[string]any)
	if c := first["geometry"].(map[string]any)["coordinates"].([]any); c[0] != 121.6 {
		t.Errorf("oldest version first: %v", c)
	}
	edit := first["properties"].(map[string]any)["valid_to"].(string)
	if vs[1].(map[string]any)["properties"].(map[string]any)["valid_from"] != edit {
		t.Errorf("versions do not meet: %v", vs)
	}
	et, err := time.Parse(time.RFC3339Nano, edit)
	if err != nil {
		t.Fatal(err)
	}
	before := url.QueryEscape(et.Add(-time.Microsecond).Format(time.RFC3339Nano))
	got := do("GET", path+"?time="+before, "", 200)
	if c := got["geometry"].(map[string]any)["coordinates"].([]any); c[0] != 121.6 {
		t.Errorf("as of before the edit: %v", c)
	}
	if got := do("GET", path, "", 200); got["geometry"].(map[string]any)["coordinates"].([]any)[0] != 121.7 {
		t.Errorf("now: %v", got)
	}
	fc := do("GET", "/api/v1/layers/b/features?bbox=121.59,38.89,121.61,38.91&time="+before, "", 200)
	if len(fc["features"].([]any)) != 1 {
		t.Errorf("bbox as of before the edit: %v", fc)
	}
	fc = do("GET", "/api/v1/layers/b/features?bbox=121.59,38.89,121.61,38.91", "", 200)
	if len(fc["features"].([]any)) != 0 {
		t.Errorf("bbox of the old place now: %v", fc)
	}
	do("GET", path+"?time=1999-01-01T00:00:00Z", "", 200) // the first version has no beginning
	do("GET", path+"?time=yesterday", "", 400)

	// DELETE ends; a second one is 404; ?purge=true removes everything.
	do("DELETE", path, "", 204)
	e := do("GET", path, "", 404)
	if !strings.Contains(e["error"].(string), "ended at") {
		t.Errorf("GET of an ended feature: %v", e)
	}
	do("GET", path+"?time="+before, "", 200)
	if got := do("GET", path+"/history", "", 200); len(got["features"].([]any)) != 2 {
		t.Errorf("history after the end: %v", got)
	}
	if e := do("DELETE", path, "", 404); !strings.Contains(e["error"].(string), "already ended") {
		t.Errorf("second DELETE: %v", e)
	}
	do("DELETE", path+"?purge=maybe", "", 400)
	do("DELETE", path+"?purge=true", "", 204)
	do("DELETE", path+"?purge=true", "", 404)
	do("GET", path+"/history", "", 404)
	do("GET", path+"?time="+before, "", 404)
	do("DELETE", "/api/v1/layers/b/features/never", "", 404)
}

func jsonFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}
