package gridmgmt

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"citytwin/internal/auth"
	"citytwin/spatial/api"
)

// withPrincipal is a tiny stand-in for auth.Policy: the X-Test-As header
// names who calls (none: authentication off).
func withPrincipal(h http.Handler) http.Handler {
	who := map[string]auth.Principal{"admin": admin, "officer": officer, "viewer": viewer}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := who[r.Header.Get("X-Test-As")]; ok {
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		}
		h.ServeHTTP(w, r)
	})
}

func TestHTTP(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	e.svc.Register(mux)
	api.New(e.kernel, "").Register(mux)
	srv := httptest.NewServer(withPrincipal(mux))
	defer srv.Close()
	do := func(as, method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if as != "" {
			req.Header.Set("X-Test-As", as)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %v", method, path, resp.StatusCode, want, out)
		}
		return out
	}
	const inA = `{"kind":"event","category":"01","title":"垃圾堆放","lon":121.603,"lat":38.903,"reporter":"市民"}`
	const inB = `{"kind":"component","category":"01","title":"井盖缺失","lon":121.617,"lat":38.907}`
	c := do("officer", "POST", "/api/v1/cases", inA, 201)
	id := c["id"].(string)
	if c["grid"] != gridA || c["status"] != "intake" {
		t.Fatalf("created %v", c)
	}
	cb := do("", "POST", "/api/v1/cases", inB, 201) // authentication off
	idB := cb["id"].(string)

	// Errors: field named, outside, forbidden, not found.
	for _, tc := range []struct {
		as, method, path, body string
		want                   int
		field                  string
	}{
		{"admin", "POST", "/api/v1/cases", `{"kind":"event","category":"77","title":"t","lon":121.603,"lat":38.903}`, 400, "category"},
		{"admin", "POST", "/api/v1/cases", `{"kind":"event","category":"01","title":"t","lon":121.603}`, 400, "lat"},
		{"admin", "POST", "/api/v1/cases", `{"kind":"event","category":"01","title":"t","lon":121.7,"lat":38.95}`, 400, "lon,lat"},
		{"admin", "POST", "/api/v1/cases", `not json`, 400, ""},
		{"officer", "POST", "/api/v1/cases", inB, 403, ""},
		{"viewer", "POST", "/api/v1/cases", inA, 403, ""},
		{"officer", "POST", "/api/v1/cases/" + idB + "/transitions", `{"to":"registered"}`, 403, ""},
		{"admin", "POST", "/api/v1/cases/" + id + "/transitions", `{"to":"nowhere"}`, 400, "to"},
		{"admin", "POST", "/api/v1/cases/C20990101-000001/transitions", `{"to":"registered"}`, 404, ""},
		{"", "GET", "/api/v1/cases/C20990101-000001", "", 404, ""},
		{"", "GET", "/api/v1/grids/999/stats", "", 404, ""},
		{"", "GET", "/api/v1/cases?status=lost", "", 400, "status"},
		{"", "GET", "/api/v1/cases?limit=0", "", 400, "limit"},
		{"", "GET", "/api/v1/cases?overdue=maybe", "", 400, "overdue"},
	} {
		out := do(tc.as, tc.method, tc.path, tc.body, tc.want)
		if out["error"] == nil {
			t.Fatalf("%s %s: no error message: %v", tc.method, tc.path, out)
		}
		if tc.field != "" && out["detail"].(map[string]any)["field"] != tc.field {
			t.Fatalf("%s %s %s: detail %v, want field %s", tc.method, tc.path, tc.body, out["detail"], tc.field)
		}
	}

	// 409 lists the allowed next states.
	out := do("officer", "POST", "/api/v1/cases/"+id+"/transitions", `{"to":"closed"}`, 409)
	d := out["detail"].(map[string]any)
	if d["status"] != "intake" || len(d["allowed"].([]any)) != 2 || d["allowed"].([]any)[0] != "registered" {
		t.Fatalf("409 %v", out)
	}
	// The workflow over HTTP, by the grid's officer.
	for _, body := range []string{
		`{"to":"registered"}`,
		`{"to":"dispatched","assignee":"zhang.san"}`,
		`{"to":"handled","note":"清理完毕"}`,
		`{"to":"verified","ok":false,"note":"仍有垃圾"}`,
		`{"to":"handled","note":"再次清理"}`,
		`{"to":"verified","note":"通过"}`,
		`{"to":"closed"}`,
	} {
		out = do("officer", "POST", "/api/v1/cases/"+id+"/transitions", body, 200)
	}
	if out["status"] != "closed" || out["reworks"].(float64) != 1 || len(out["log"].([]any)) != 8 {
		t.Fatalf("closed %v", out)
	}
	got := do("viewer", "GET", "/api/v1/cases/"+id, "", 200)
	if got["status"] != "closed" || got["log"].([]any)[1].(map[string]any)["by"] != "wang.li" {
		t.Fatalf("get %v", got)
	}
	do("officer", "POST", "/api/v1/cases/"+id+"/transitions", `{"to":"dispatched","assignee":"x"}`, 409)

	// History for free from the features API.
	h := do("", "GET", "/api/v1/layers/cases/features/"+id+"/history", "", 200)
	if n := len(h["features"].([]any)); n != 8 {
		t.Fatalf("history of %d versions", n)
	}

	// Lists and stats.
	list := do("", "GET", "/api/v1/cases?grid="+gridA+"&status=closed", "", 200)
	if cs := list["cases"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != id {
		t.Fatalf("list %v", list)
	}
	list = do("", "GET", "/api/v1/cases?limit=1", "", 200)
	if list["next"] != id {
		t.Fatalf("page %v", list)
	}
	list = do("", "GET", "/api/v1/cases?limit=1&cursor="+id, "", 200)
	if cs := list["cases"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != idB || list["next"] != nil {
		t.Fatalf("page 2 %v", list)
	}
	if cs := do("", "GET", "/api/v1/cases?overdue=true", "", 200)["cases"].([]any); len(cs) != 0 {
		t.Fatalf("overdue %v", cs)
	}
	st := do("", "GET", "/api/v1/cases/stats", "", 200)
	if st["total"].(float64) != 2 || st["reworks"].(float64) != 1 || st["grids"].(map[string]any)[gridB].(map[string]any)["total"].(float64) != 1 {
		t.Fatalf("stats %v", st)
	}
	gs := do("", "GET", "/api/v1/grids/"+gridA+"/stats", "", 200)
	if gs["grid"] != gridA || gs["stats"].(map[string]any)["by_status"].(map[string]any)["closed"].(float64) != 1 {
		t.Fatalf("grid stats %v", gs)
	}
	cats := do("", "GET", "/api/v1/cases/categories", "", 200)
	if len(cats["categories"].([]any)) != len(Categories) {
		t.Fatalf("categories %v", cats)
	}
}
