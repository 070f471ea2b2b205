package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"citytwin/internal/pgtest"
	"citytwin/tiles"
	"citytwin/tiles/mvt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// TestFeatureHistory edits a building on the real binary with the
// embedded store: the old version stays readable as of earlier times (by
// id, by box and in tiles), DELETE ends it, the history survives a
// restart, and DELETE ?purge=true removes it all.
func TestFeatureHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	checkHistory(t, buildBinary(t), "--data", t.TempDir())
}

// TestFeatureHistoryPostgres is TestFeatureHistory on PostgreSQL/PostGIS.
func TestFeatureHistoryPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	url := pgtest.Start(t)
	checkHistory(t, buildBinary(t), "--store", "postgres", "--pg", url)
}

// feature is one GeoJSON feature as the API serves it.
type feature struct {
	ID         any            `json:"id"`
	Geometry   map[string]any `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// firstCorner returns the first coordinate of a served polygon.
func firstCorner(t *testing.T, f feature) [2]float64 {
	t.Helper()
	rings, ok := f.Geometry["coordinates"].([]any)
	if !ok || len(rings) == 0 {
		t.Fatalf("not a polygon: %v", f.Geometry)
	}
	p := rings[0].([]any)[0].([]any)
	return [2]float64{p[0].(float64), p[1].(float64)}
}

func squareJSON(lon, lat float64, floors int) string {
	d := 0.0003
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]},"properties":{"height":%d,"floors":%d,"use":"office"}}`,
		lon, lat, lon+d, lat, lon+d, lat+d, lon, lat+d, lon, lat, 3*floors, floors)
}

// tileHas reports whether a buildings tile (at time asOf, if not empty)
// holds the feature id.
func tileHas(t *testing.T, s *server, tile maptile.Tile, asOf, id string) bool {
	t.Helper()
	path := fmt.Sprintf("/api/v1/tiles/buildings/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y)
	if asOf != "" {
		path += "?time=" + url.QueryEscape(asOf)
	}
	resp, body := s.do(t, "GET", path, "", nil)
	if resp.StatusCode == 204 {
		return false
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	dec, err := mvt.Decode(body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	want := tiles.FeatureID(id)
	for _, l := range dec.Layers {
		for _, f := range l.Features {
			if f.HasID && f.ID == want {
				return true
			}
		}
	}
	return false
}

// bboxHas reports whether the features endpoint finds id in a box (at a
// time, if not empty).
func bboxHas(t *testing.T, s *server, b orb.Bound, asOf, id string) bool {
	t.Helper()
	path := fmt.Sprintf("/api/v1/layers/buildings/features?bbox=%f,%f,%f,%f&limit=10000&filter=%s", b.Min[0], b.Min[1], b.Max[0], b.Max[1], url.QueryEscape("id="+id))
	if asOf != "" {
		path += "&time=" + url.QueryEscape(asOf)
	}
	var page fc
	s.get(t, path, 200, &page)
	for _, f := range page.Features {
		if fmt.Sprint(f.ID) == id {
			return true
		}
	}
	return false
}

func layerCounts(t *testing.T, s *server) map[string]int {
	t.Helper()
	var layers struct {
		Layers []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"layers"`
	}
	s.get(t, "/api/v1/layers", 200, &layers)
	out := map[string]int{}
	for _, l := range layers.Layers {
		out[l.Name] = l.Count
	}
	return out
}

func checkHistory(t *testing.T, bin string, args ...string) {
	s := startServer(t, bin, args...)
	counts := layerCounts(t, s)
	const id = "hist-tower"
	const path = "/api/v1/layers/buildings/features/" + id
	oldTile := maptile.At(orb.Point{121.644, 38.916}, 15)
	c1 := oldTile.Bound().Center()
	c2 := orb.Point{121.700, 38.950}
	if maptile.At(c2, 15) == oldTile {
		t.Fatal("test setup: both places in one tile")
	}
	oldBox := orb.Bound{Min: orb.Point{c1[0] - 0.0001, c1[1] - 0.0001}, Max: orb.Point{c1[0] + 0.0004, c1[1] + 0.0004}}

	if resp, out := s.do(t, "PUT", path, squareJSON(c1[0], c1[1], 10), nil); resp.StatusCode != 201 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, out)
	}
	time.Sleep(20 * time.Millisecond)
	if resp, out := s.do(t, "PUT", path, squareJSON(c2[0], c2[1], 30), nil); resp.StatusCode != 200 {
		t.Fatalf("PUT of an edit: %d %s", resp.StatusCode, out)
	}

	// The history: two versions, oldest first, meeting at the edit.
	var hist struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}
	s.get(t, path+"/history", 200, &hist)
	if hist.Type != "FeatureCollection" || len(hist.Features) != 2 {
		t.Fatalf("history: %+v", hist)
	}
	if p := firstCorner(t, hist.Features[0]); p[0] != round6(c1[0]) || hist.Features[0].Properties["floors"] != 10.0 {
		t.Errorf("oldest version: %v %v", p, hist.Features[0].Properties)
	}
	edit, _ := hist.Features[0].Properties["valid_to"].(string)
	if edit == "" || hist.Features[1].Properties["valid_from"] != edit || hist.Features[1].Properties["valid_to"] != nil {
		t.Fatalf("versions do not meet at the edit: %v / %v", hist.Features[0].Properties, hist.Features[1].Properties)
	}
	et, err := time.Parse(time.RFC3339Nano, edit)
	if err != nil {
		t.Fatal(err)
	}
	before := et.Add(-5 * time.Millisecond).Format(time.RFC3339Nano)

	// As of before the edit: the old geometry, by id, by box, in tiles.
	var old feature
	s.get(t, path+"?time="+url.QueryEscape(before), 200, &old)
	if p := firstCorner(t, old); p[0] != round6(c1[0]) || old.Properties["floors"] != 10.0 {
		t.Errorf("as of before the edit: %v %v", p, old.Properties)
	}
	var now feature
	s.get(t, path, 200, &now)
	if p := firstCorner(t, now); p[0] != round6(c2[0]) || now.Properties["floors"] != 30.0 {
		t.Errorf("now: %v %v", p, now.Properties)
	}
	if !bboxHas(t, s, oldBox, before, id) || bboxHas(t, s, oldBox, "", id) {
		t.Errorf("features by box at the old place: as of before the edit %v (want true), now %v (want false)",
			bboxHas(t, s, oldBox, before, id), bboxHas(t, s, oldBox, "", id))
	}
	if !tileHas(t, s, oldTile, before, id) || tileHas(t, s, oldTile, "", id) {
		t.Errorf("tile of the old place: as of before the edit %v (want true), now %v (want false)",
			tileHas(t, s, oldTile, before, id), tileHas(t, s, oldTile, "", id))
	}
	if !tileHas(t, s, maptile.At(c2, 15), "", id) {
		t.Error("the tile of the new place lacks the building")
	}

	// DELETE ends it: gone now, there as of earlier times.
	time.Sleep(20 * time.Millisecond)
	afterEdit := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	if resp, out := s.do(t, "DELETE", path, "", nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, out)
	}
	var e struct {
		Error string `json:"error"`
	}
	s.get(t, path, 404, &e)
	if !strings.Contains(e.Error, "ended at") {
		t.Errorf("GET of an ended feature: %q", e.Error)
	}
	s.get(t, path+"?time="+url.QueryEscape(before), 200, &old)
	s.get(t, path+"?time="+url.QueryEscape(afterEdit), 200, &now)
	if p := firstCorner(t, now); p[0] != round6(c2[0]) {
		t.Errorf("as of after the edit, before the end: %v", p)
	}
	if tileHas(t, s, maptile.At(c2, 15), "", id) {
		t.Error("an ended building is still in the current tile")
	}
	if resp, _ := s.do(t, "DELETE", path, "", nil); resp.StatusCode != 404 {
		t.Errorf("second DELETE: %d", resp.StatusCode)
	}
	if got := layerCounts(t, s); got["buildings"] != counts["buildings"] {
		t.Errorf("buildings count %d after an insert and an end, want %d", got["buildings"], counts["buildings"])
	}
	s.stop(t)

	// The history survives a restart.
	s = startServer(t, bin, args...)
	s.get(t, path+"/history", 200, &hist)
	if len(hist.Features) != 2 || hist.Features[0].Properties["valid_to"] != edit || hist.Features[1].Properties["valid_to"] == nil {
		t.Errorf("history after restart: %+v", hist.Features)
	}
	s.get(t, path, 404, &e)
	s.get(t, path+"?time="+url.QueryEscape(before), 200, &old)
	if p := firstCorner(t, old); p[0] != round6(c1[0]) {
		t.Errorf("as of before the edit, after restart: %v", p)
	}
	if !bboxHas(t, s, oldBox, before, id) {
		t.Error("features by box as of before the edit lack the building after restart")
	}
	if got := layerCounts(t, s); got["buildings"] != counts["buildings"] {
		t.Errorf("buildings count %d after restart, want %d", got["buildings"], counts["buildings"])
	}

	// DELETE ?purge=true removes it with its history.
	if resp, out := s.do(t, "DELETE", path+"?purge=true", "", nil); resp.StatusCode != 204 {
		t.Fatalf("DELETE ?purge=true: %d %s", resp.StatusCode, out)
	}
	s.get(t, path+"/history", 404, &e)
	s.get(t, path+"?time="+url.QueryEscape(before), 404, &e)
	if bboxHas(t, s, oldBox, before, id) {
		t.Error("a purged building is still found as of before the edit")
	}
	if resp, _ := s.do(t, "DELETE", path+"?purge=true", "", nil); resp.StatusCode != 404 {
		t.Errorf("second purge: %d", resp.StatusCode)
	}
	s.stop(t)
	s = startServer(t, bin, args...)
	s.get(t, path+"/history", 404, &e)
	s.stop(t)
}

// round6 rounds as squareJSON prints coordinates.
func round6(v float64) float64 {
	var r float64
	fmt.Sscanf(fmt.Sprintf("%f", v), "%g", &r)
	return r
}
