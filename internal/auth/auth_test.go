package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	sum := sha256.Sum256([]byte("device-secret-0123"))
	good := "# comment\n\nadmin-secret-0123456 admin ops\nsha256:" + hex.EncodeToString(sum[:]) + " device gateway  # hashed\n" +
		"officer-secret-012345 officer wang.li G001310322-230230,G001310322-230231\n"
	tok, err := Load(writeFile(t, good))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Len() != 3 {
		t.Fatalf("%d tokens", tok.Len())
	}
	if p, ok := tok.Lookup("device-secret-0123"); !ok || p.Role != Device || p.Name != "gateway" {
		t.Errorf("hashed token: %+v %v", p, ok)
	}
	if p, _ := tok.Lookup("officer-secret-012345"); len(p.Grids) != 2 {
		t.Errorf("officer grids: %+v", p)
	}
	if _, ok := tok.Lookup(""); ok {
		t.Error("empty token found")
	}
	for _, tc := range []struct{ file, want string }{
		{"x\n", ":1: want: TOKEN ROLE"},
		{"admin-secret-0123456 root\n", `:1: unknown role "root"`},
		{"\nshort admin\n", ":2: token shorter than 16"},
		{"sha256:abc admin\n", "64 hex digits"},
		{"officer-secret-012345 officer wang\n", "needs the grid codes"},
		{"officer-secret-012345 officer wang G9\n", `grid "G9"`},
		{"admin-secret-0123456 admin a\nadmin-secret-0123456 viewer b\n", ":2: token listed twice"},
		{"admin-secret-0123456 admin a G0 extra\n", `unexpected "extra"`},
	} {
		_, err := Load(writeFile(t, tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "tokens") {
			t.Errorf("%q: %v, want an error naming the file and %q", tc.file, err, tc.want)
		}
	}
}

func TestPolicy(t *testing.T) {
	tok := NewTokens()
	for token, role := range map[string]Role{"v": Viewer, "d": Device, "a": Analyst, "x": Admin} {
		tok.Add(token, Principal{Name: token, Role: role})
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, _ := FromContext(r.Context())
		w.Header().Set("X-Who", who.Name)
	})
	tests := []struct {
		private       bool
		method, path  string
		token, header string
		status        int
	}{
		{false, "GET", "/api/v1/layers", "", "", 200},
		{true, "GET", "/api/v1/layers", "", "", 401},
		{true, "GET", "/api/v1/layers", "v", "", 200},
		{true, "GET", "/api/v1/layers?access_token=v", "", "", 200},
		{true, "GET", "/", "", "", 200},
		{true, "GET", "/assets/planner.js", "", "", 200},
		{true, "GET", "/ws", "zz", "", 401},
		{false, "POST", "/api/v1/objects", "", "", 401},
		{false, "POST", "/api/v1/objects", "v", "", 403},
		{false, "POST", "/api/v1/objects", "d", "", 200},
		{false, "DELETE", "/api/v1/objects/bus-1", "x", "", 200},
		{false, "POST", "/api/v1/objectsX", "d", "", 403},
		{false, "POST", "/api/v1/fences", "d", "", 403},
		{false, "POST", "/api/v1/fences", "a", "", 200},
		{false, "PUT", "/api/v1/layers/buildings/features/b1", "a", "", 403},
		{false, "PUT", "/api/v1/layers/buildings/features/b1", "x", "", 200},
		{false, "PUT", "/api/v1/layers/buildings/features/b1", "", "Basic eDp5", 401},
	}
	for _, tc := range tests {
		p := &Policy{Tokens: tok, PrivateReads: tc.private}
		req := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		if tc.header != "" {
			req.Header.Set("Authorization", tc.header)
		}
		rec := httptest.NewRecorder()
		p.Wrap(ok).ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%v %s %s token %q: %d, want %d: %s", tc.private, tc.method, tc.path, tc.token, rec.Code, tc.status, rec.Body)
		}
		if rec.Code == 401 && rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s: 401 without WWW-Authenticate", tc.method, tc.path)
		}
		if rec.Code == 200 && tc.token != "" && rec.Header().Get("X-Who") != tc.token {
			t.Errorf("%s %s: principal not in context", tc.method, tc.path)
		}
	}
	// No tokens: everything passes, updates included.
	open := &Policy{}
	rec := httptest.NewRecorder()
	open.Wrap(ok).ServeHTTP(rec, httptest.NewRequest("DELETE", "/api/v1/layers/x", nil))
	if rec.Code != 200 || !open.CanUpdate(httptest.NewRequest("GET", "/ws", nil)) {
		t.Error("an open policy refused")
	}
	p := &Policy{Tokens: tok}
	for token, want := range map[string]bool{"": false, "v": false, "d": true, "x": true} {
		if got := p.CanUpdate(httptest.NewRequest("GET", "/ws?access_token="+token, nil)); got != want {
			t.Errorf("CanUpdate(%q) = %v", token, got)
		}
	}
}

func FuzzTokenLine(f *testing.F) {
	f.Add("admin-secret-0123456 admin ops")
	f.Add("sha256:" + strings.Repeat("ab", 32) + " device gw")
	f.Add("officer-secret-012345 officer wang G001310322-230230,G001310322-230231 # c")
	f.Fuzz(func(t *testing.T, line string) {
		tok := NewTokens()
		if err := tok.parseLine(line); err != nil {
			if tok.Len() != 0 {
				t.Fatalf("a refused line %q added a token", line)
			}
			return
		}
		if tok.Len() > 1 {
			t.Fatalf("one line added %d tokens", tok.Len())
		}
		for _, p := range tok.byHash {
			if !roles[p.Role] || p.Role == Officer && len(p.Grids) == 0 {
				t.Fatalf("line %q gave %+v", line, p)
			}
		}
	})
}
