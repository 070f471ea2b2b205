// Package viewer serves CityTwin's two web viewers from files built into
// the binary: the planner's 3D map at / and the officer's phone map at
// /officer, with their scripts, styles and MapLibre GL worker under
// /assets/. Both read everything from this server's /api/v1 (style, vector
// tiles, features and grid codes) and fetch nothing from elsewhere.
//
// The files in dist are build output of the sources in web/ (npm run
// build); they are committed so that go build needs no Node.js, and
// check-dist.sh verifies that they match the sources.
package viewer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"sync"
	"time"
)

//go:embed dist
var dist embed.FS

// contentTypes are the types of the files the build writes; anything else
// is served as application/octet-stream.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".mjs":   "text/javascript; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".svg":   "image/svg+xml",
	".json":  "application/json",
	".png":   "image/png",
	".woff2": "font/woff2",
}

// compressible are the extensions worth sending gzipped.
var compressible = map[string]bool{".html": true, ".js": true, ".mjs": true, ".css": true, ".svg": true, ".json": true}

// hashed matches the content-hashed names the build gives assets
// (NAME-XXXXXXXX.EXT); those never change and are cached for a year.
var hashed = regexp.MustCompile(`-[0-9A-Z]{8}\.[a-z0-9]+$`)

// csp keeps the pages to this server: scripts, styles, tiles, the worker
// and API calls all come from 'self'. MapLibre sets inline styles and
// decodes images through blob: URLs.
const csp = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"worker-src 'self' blob:; child-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"

// file is one embedded file ready to serve.
type file struct {
	name, ctype, etag, cache string
	body                     []byte
	gzOnce                   sync.Once
	gz                       []byte // nil when gzip does not pay
}

func (f *file) gzipped() []byte {
	f.gzOnce.Do(func() {
		if !compressible[path.Ext(f.name)] || len(f.body) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(f.body)
		_ = zw.Close()
		if buf.Len() < len(f.body)*9/10 {
			f.gz = buf.Bytes()
		}
	})
	return f.gz
}

func (f *file) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", f.cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	if strings.HasSuffix(f.name, ".html") {
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "same-origin")
	}
	body, etag := f.body, f.etag
	if gz := f.gzipped(); gz != nil && acceptsGzip(r) {
		body, etag = gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	// ServeContent answers If-None-Match, HEAD and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request accepts gzip (and does not
// refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}

// site is the set of embedded files by URL path.
type site struct {
	files map[string]*file
}

var load = sync.OnceValues(func() (*site, error) {
	s := &site{files: map[string]*file{}}
	err := fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &file{name: p, body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, cache: "no-cache"}
		if f.ctype = contentTypes[path.Ext(p)]; f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		if strings.HasPrefix(p, "dist/assets/") && hashed.MatchString(p) {
			f.cache = "public, max-age=31536000, immutable"
		}
		s.files[strings.TrimPrefix(p, "dist")] = f
		return nil
	})
	return s, err
})

// Pages are the URL paths of the viewers' pages and the files that
// serve them.
var pages = map[string]string{"/": "/planner.html", "/officer": "/officer.html"}

// Register adds the viewers' routes to mux: GET / (planner), GET /officer
// (officer) and GET /assets/{file}. "/" matches only the root itself, so
// a catch-all "/" pattern already on mux still answers every other path.
func Register(mux *http.ServeMux) {
	h := Handler()
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /officer", h)
	mux.Handle("GET /assets/{file}", h)
}

// Handler returns a handler for the viewers' pages and assets: / and
// /officer are the pages (revalidated on every load), /assets/… the
// content-hashed files (cached for a year). Responses are gzipped when the
// client accepts it. Any other path is 404.
func Handler() http.Handler {
	s, err := load()
	if err != nil {
		// The files are compiled in: failing to read them is a broken build.
		panic("viewer: reading embedded files: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		p := r.URL.Path
		if page, ok := pages[p]; ok {
			p = page
		} else if !strings.HasPrefix(p, "/assets/") {
			http.NotFound(w, r)
			return
		}
		f, ok := s.files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		f.ServeHTTP(w, r)
	})
}
