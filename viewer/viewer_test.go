package viewer

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Register(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":"no route"}`, http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// A bare transport: no transparent gzip, so the test sees the encoding.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

var assetRef = regexp.MustCompile(`(?:href|src)="(/assets/[^"]+)"`)

func TestPagesAndTheirAssets(t *testing.T) {
	srv := newServer(t)
	for _, page := range []struct{ path, title string }{{"/", "CityTwin · Planner"}, {"/officer", "CityTwin · Officer"}} {
		res, body := get(t, srv.URL+page.path, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", page.path, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s: Content-Type %q", page.path, ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", page.path, cc)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: CSP %q", page.path, csp)
		}
		if !bytes.Contains(body, []byte("<title>"+page.title+"</title>")) {
			t.Errorf("GET %s: no title %q", page.path, page.title)
		}
		if bytes.Contains(body, []byte("http://")) || bytes.Contains(body, []byte("https://")) {
			t.Errorf("GET %s: the page refers to another site", page.path)
		}
		refs := assetRef.FindAllSubmatch(body, -1)
		if len(refs) < 3 {
			t.Fatalf("GET %s: %d asset references, want a script, a stylesheet and an icon", page.path, len(refs))
		}
		for _, m := range refs {
			ref := string(m[1])
			res, _ := get(t, srv.URL+ref, nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s refers to %s: %d", page.path, ref, res.StatusCode)
				continue
			}
			if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("%s: Cache-Control %q", ref, cc)
			}
		}
	}
}

func TestContentTypes(t *testing.T) {
	srv := newServer(t)
	s, err := load()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
	seen := map[string]bool{}
	for p := range s.files {
		if !strings.HasPrefix(p, "/assets/") {
			continue
		}
		ext := p[strings.LastIndex(p, "."):]
		seen[ext] = true
		res, _ := get(t, srv.URL+p, nil)
		if w, ok := want[ext]; ok && res.Header.Get("Content-Type") != w {
			t.Errorf("%s: Content-Type %q, want %q", p, res.Header.Get("Content-Type"), w)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", p)
		}
	}
	for ext := range want {
		if !seen[ext] {
			t.Errorf("no %s asset in dist", ext)
		}
	}
}

func TestGzipAndRevalidation(t *testing.T) {
	srv := newServer(t)
	s, _ := load()
	var big string
	for p, f := range s.files {
		if strings.HasPrefix(p, "/assets/shared-") && strings.HasSuffix(p, ".js") && len(f.body) > 100000 {
			big = p
		}
	}
	if big == "" {
		t.Fatal("no shared MapLibre chunk in dist/assets")
	}
	plain, body := get(t, srv.URL+big, nil)
	if plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("gzip sent to a client that did not ask")
	}
	res, zbody := get(t, srv.URL+big, map[string]string{"Accept-Encoding": "br, gzip"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", res.Header.Get("Content-Encoding"))
	}
	if len(zbody) >= len(body)/2 {
		t.Errorf("gzipped %d bytes of %d", len(zbody), len(body))
	}
	zr, err := gzip.NewReader(bytes.NewReader(zbody))
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if !bytes.Equal(unz, body) {
		t.Error("gzipped body differs from the plain one")
	}
	if res.Header.Get("ETag") == plain.Header.Get("ETag") {
		t.Error("the gzipped and plain bodies share an ETag")
	}
	if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("no Vary: Accept-Encoding")
	}
	if r, _ := get(t, srv.URL+big, map[string]string{"Accept-Encoding": "gzip;q=0"}); r.Header.Get("Content-Encoding") != "" {
		t.Error("gzip sent to a client that refused it")
	}

	page, _ := get(t, srv.URL+"/", map[string]string{"Accept-Encoding": "gzip"})
	again, b := get(t, srv.URL+"/", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": page.Header.Get("ETag")})
	if again.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("revalidated page: %d with %d bytes, want 304", again.StatusCode, len(b))
	}
}

func TestOtherPaths(t *testing.T) {
	srv := newServer(t)
	for _, p := range []string{"/assets/nope-ABCDEFGH.js", "/planner.html", "/officer/x", "/api/v1/whatever"} {
		if res, _ := get(t, srv.URL+p, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/officer", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusOK {
		t.Errorf("POST /officer: %d", res.StatusCode)
	}
	// Handler alone (without a mux) refuses what it does not serve.
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /: %d", rec.Code)
	}
}
