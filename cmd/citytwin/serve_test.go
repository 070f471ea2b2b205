package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// binary is the citytwin binary the tests run, built once per test run
// into binDir (removed by TestMain).
var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary compiles citytwin once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "citytwin-bin"); binErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, "citytwin"), ".")
		cmd.Stderr = os.Stderr
		binErr = cmd.Run()
	})
	if binErr != nil {
		t.Fatalf("go build: %v", binErr)
	}
	return filepath.Join(binDir, "citytwin")
}

// server is a running citytwin serve child process.
type server struct {
	cmd  *exec.Cmd
	base string
	logs *strings.Builder
	done chan struct{}
}

// startServer runs the binary and waits for its "listening" log line.
func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, logs: &strings.Builder{}, done: make(chan struct{})}
	addrCh := make(chan string, 1)
	re := regexp.MustCompile(`msg=listening addr=(\S+)`)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.logs.WriteString(line + "\n")
			if m := re.FindStringSubmatch(line); m != nil {
				addrCh <- m[1]
			}
		}
	}()
	select {
	case a := <-addrCh:
		s.base = "http://" + a
	case <-s.done:
		t.Fatalf("server exited before listening:\n%s", s.logs)
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", s.logs)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return s
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-s.done
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v\n%s", err, s.logs)
	}
	if !strings.Contains(s.logs.String(), "shutting down") {
		t.Errorf("no graceful shutdown in logs:\n%s", s.logs)
	}
}

// get fetches a path and decodes JSON into v (when not nil), checking the
// status code.
func (s *server) get(t *testing.T, path string, status int, v any) http.Header {
	t.Helper()
	resp, err := http.Get(s.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, status, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: %v: %s", path, err, body)
		}
	}
	return resp.Header
}

type fc struct {
	Type     string `json:"type"`
	Features []struct {
		ID         any            `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	Next string `json:"next"`
}

func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	s := startServer(t, bin, "--data", data)

	var health map[string]any
	s.get(t, "/healthz", 200, &health)
	if health["status"] != "ok" {
		t.Errorf("healthz: %v", health)
	}
	var layers struct {
		Layers []struct {
			Name   string     `json:"name"`
			Count  int        `json:"count"`
			Bounds [4]float64 `json:"bounds"`
		} `json:"layers"`
	}
	s.get(t, "/api/v1/layers", 200, &layers)
	counts := map[string]int{}
	for _, l := range layers.Layers {
		counts[l.Name] = l.Count
	}
	for _, want := range []string{"land", "sea", "buildings", "streets", "grids"} {
		if counts[want] == 0 {
			t.Errorf("layer %q missing or empty: %v", want, counts)
		}
	}

	// Features by bounding box, paged by cursor to the end.
	seen := map[string]bool{}
	path := "/api/v1/layers/buildings/features?bbox=121.60,38.90,121.68,38.94&limit=500"
	for pages := 0; path != ""; pages++ {
		var page fc
		s.get(t, path, 200, &page)
		for _, f := range page.Features {
			id := fmt.Sprint(f.ID)
			if seen[id] {
				t.Fatalf("feature %s served twice", id)
			}
			seen[id] = true
			if f.Properties["gridcode"] == nil || f.Properties["layer"] != "buildings" {
				t.Fatalf("feature %s lacks typed properties: %v", id, f.Properties)
			}
		}
		path = ""
		if page.Next != "" {
			path = "/api/v1/layers/buildings/features?bbox=121.60,38.90,121.68,38.94&limit=500&cursor=" + url.QueryEscape(page.Next)
		}
		if pages > 1000 {
			t.Fatal("cursor loop")
		}
	}
	if len(seen) == 0 {
		t.Fatal("no buildings in the central district")
	}

	// One feature, its grid cell, and the cell's features.
	var some string
	for id := range seen {
		some = id
		break
	}
	var one struct {
		ID         any            `json:"id"`
		Properties map[string]any `json:"properties"`
	}
	s.get(t, "/api/v1/layers/buildings/features/"+url.PathEscape(some), 200, &one)
	code := one.Properties["gridcode"].(string)
	var cell struct {
		Scheme string         `json:"scheme"`
		Counts map[string]int `json:"counts"`
	}
	s.get(t, "/api/v1/grid/"+code, 200, &cell)
	if cell.Scheme != "geosot" || cell.Counts["buildings"] < 1 {
		t.Errorf("cell %s: %+v", code, cell)
	}
	var inCell fc
	s.get(t, "/api/v1/grid/"+code+"/features?layer=buildings&limit=10000", 200, &inCell)
	found := false
	for _, f := range inCell.Features {
		found = found || fmt.Sprint(f.ID) == some
	}
	if !found {
		t.Errorf("building %s not among the features of its cell %s", some, code)
	}
	var located struct {
		Code  string `json:"code"`
		Level int    `json:"level"`
	}
	s.get(t, "/api/v1/grid/locate?lat=38.916&lon=121.644&level=15&scheme=geosot", 200, &located)
	if located.Code != "G001311221-320330" {
		t.Errorf("locate: %+v", located)
	}
	s.get(t, "/api/v1/grid/locate?lat=38.916&lon=121.644&level=4&scheme=beidou", 200, &located)
	if located.Code != "N51J35484" {
		t.Errorf("locate beidou: %+v", located)
	}
	var near fc
	s.get(t, "/api/v1/layers/buildings/nearest?lat=38.916&lon=121.644&k=5", 200, &near)
	if len(near.Features) != 5 {
		t.Errorf("nearest: %d", len(near.Features))
	}

	// OGC API – Features.
	var cols struct {
		Collections []struct {
			ID string `json:"id"`
		} `json:"collections"`
	}
	s.get(t, "/api/v1/collections", 200, &cols)
	if len(cols.Collections) != len(layers.Layers) {
		t.Errorf("%d collections for %d layers", len(cols.Collections), len(layers.Layers))
	}
	var items fc
	s.get(t, "/api/v1/collections/grids/items?limit=3", 200, &items)
	if len(items.Features) != 3 || items.Next == "" {
		t.Errorf("items: %d next %q", len(items.Features), items.Next)
	}
	s.get(t, "/api/v1/conformance", 200, nil)
	s.get(t, "/api/v1/", 200, nil)

	// Errors are JSON with the right status.
	var e struct {
		Error string `json:"error"`
	}
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/api/v1/layers/nope/features", 404},
		{"/api/v1/layers/buildings/features/nope", 404},
		{"/api/v1/layers/buildings/features?bbox=1,2,3", 400},
		{"/api/v1/layers/buildings/features?limit=0", 400},
		{"/api/v1/layers/buildings/features?cursor=zz", 400},
		{"/api/v1/layers/buildings/features?time=yesterday", 400},
		{"/api/v1/grid/G4", 400},
		{"/api/v1/grid/locate?lat=95&lon=1&level=3", 400},
		{"/api/v1/nothing", 404},
	} {
		s.get(t, c.path, c.status, &e)
		if e.Error == "" {
			t.Errorf("%s: no error message", c.path)
		}
	}

	checkTilesAndWrites(t, s)

	// Metrics in Prometheus text format.
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`citytwin_http_requests_total{code="200",route="GET /api/v1/layers"}`, `citytwin_layer_features{layer="buildings"}`, "go_goroutines"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	s.stop(t)

	// A restart serves the same city from the store without regenerating it.
	s2 := startServer(t, bin, "--data", data)
	var again struct {
		Layers []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"layers"`
	}
	s2.get(t, "/api/v1/layers", 200, &again)
	for _, l := range again.Layers {
		if counts[l.Name] != l.Count {
			t.Errorf("after restart layer %s has %d features, had %d", l.Name, l.Count, counts[l.Name])
		}
	}
	if strings.Contains(s2.logs.String(), "generating the Dalian sample city") {
		t.Errorf("sample regenerated on restart")
	}
	s2.stop(t)
}

// do sends a request and returns the response with its body read.
func (s *server) do(t *testing.T, method, path string, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no transparent gunzip
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// checkTilesAndWrites covers vector tiles, TileJSON, the style, ETags,
// gzip, and a feature write that invalidates the cached tile.
func checkTilesAndWrites(t *testing.T, s *server) {
	tile := maptile.At(orb.Point{121.644, 38.916}, 15)
	path := fmt.Sprintf("/api/v1/tiles/buildings/15/%d/%d.mvt", tile.X, tile.Y)
	resp, body := s.do(t, "GET", path, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("tile: %d %s", resp.StatusCode, body)
	}
	dec, err := mvt.Decode(body)
	if err != nil || len(dec.Layers) != 1 || len(dec.Layers[0].Features) == 0 {
		t.Fatalf("tile decodes to %+v, %v", dec, err)
	}
	before := len(dec.Layers[0].Features)
	etag := resp.Header.Get("ETag")
	if resp, _ := s.do(t, "GET", path, "", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", resp.StatusCode)
	}
	if resp, gz := s.do(t, "GET", path, "", map[string]string{"Accept-Encoding": "gzip"}); resp.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(body) {
		t.Errorf("gzip: %q %d vs %d bytes", resp.Header.Get("Content-Encoding"), len(gz), len(body))
	}
	all := fmt.Sprintf("/api/v1/tiles/all/15/%d/%d.mvt", tile.X, tile.Y)
	if resp, b := s.do(t, "GET", all, "", nil); resp.StatusCode != 200 {
		t.Errorf("all layers: %d", resp.StatusCode)
	} else if d, err := mvt.Decode(b); err != nil || len(d.Layers) < 3 {
		t.Errorf("all layers: %d layers %v", len(d.Layers), err)
	}
	var tj struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		Bounds       [4]float64 `json:"bounds"`
		Attribution  string     `json:"attribution"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	s.get(t, "/api/v1/tiles/buildings.json", 200, &tj)
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || !strings.Contains(tj.Attribution, "OpenStreetMap") ||
		len(tj.VectorLayers) != 1 || tj.VectorLayers[0].Fields["height"] != "Number" {
		t.Errorf("TileJSON %+v", tj)
	}
	var style struct {
		Version int              `json:"version"`
		Layers  []map[string]any `json:"layers"`
	}
	s.get(t, "/api/v1/style.json", 200, &style)
	if style.Version != 8 || len(style.Layers) < 5 {
		t.Errorf("style: %+v", style)
	}
	s.get(t, "/api/v1/tiles/nope/1/0/0.mvt", 404, nil)
	s.get(t, "/api/v1/tiles/buildings/1/5/0.mvt", 400, nil)

	// A new building appears in the next tile; deleting it removes it.
	b := tile.Bound()
	c := b.Center()
	feat := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]},"properties":{"height":60,"floors":20,"use":"office"}}`,
		c[0], c[1], c[0]+0.0004, c[1], c[0]+0.0004, c[1]+0.0003, c[0], c[1]+0.0003, c[0], c[1])
	resp, out := s.do(t, "PUT", "/api/v1/layers/buildings/features/new-tower", feat, map[string]string{"Content-Type": "application/geo+json"})
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, out)
	}
	resp, body = s.do(t, "GET", path, "", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 200 {
		t.Fatalf("tile after edit: %d (stale cache?)", resp.StatusCode)
	}
	if dec, err := mvt.Decode(body); err != nil || len(dec.Layers[0].Features) != before+1 {
		t.Errorf("tile after insert has %d features, want %d (%v)", len(dec.Layers[0].Features), before+1, err)
	}
	if resp, _ := s.do(t, "PUT", "/api/v1/layers/buildings/features/bad", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1,1],[2,2]]]},"properties":{}}`, nil); resp.StatusCode != 400 {
		t.Errorf("bad geometry: %d", resp.StatusCode)
	}
	if resp, _ := s.do(t, "DELETE", "/api/v1/layers/buildings/features/new-tower", "", nil); resp.StatusCode != 204 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if resp, _ := s.do(t, "DELETE", "/api/v1/layers/buildings/features/new-tower", "", nil); resp.StatusCode != 404 {
		t.Errorf("second DELETE: %d", resp.StatusCode)
	}
	_, body = s.do(t, "GET", path, "", nil)
	if dec, err := mvt.Decode(body); err != nil || len(dec.Layers[0].Features) != before {
		t.Errorf("tile after delete has %d features, want %d (%v)", len(dec.Layers[0].Features), before, err)
	}
}
