package main

import (
	"bytes"
	"citytwin/gridcode"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs a command line in-process.
func runCmd(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestGridEncode(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"grid", "encode", "--lat", `39°54'37.0"N`, "--lon", `116°18'54.8"E`, "--level", "15"}, "G001310322-230230"},
		{[]string{"grid", "encode", "--lat", "38.916", "--lon", "121.644", "--level", "4", "--scheme", "beidou"}, "N51J35484"},
		{[]string{"grid", "encode", "--lat", "38.916", "--lon", "121.644", "--height", "50", "--level", "4", "--scheme", "beidou3d"}, "N051J0035040840"},
		{[]string{"grid", "encode", "--lat", "39.910278", "--lon", "116.315222", "--height", "100", "--level", "15", "--scheme", "geosot3d"}, "GZ002620644460460"},
		{[]string{"grid", "encode", "--lat", "37.775938728915946", "--lon", "-122.41795063018799", "--level", "9", "--scheme", "h3"}, "8928308280fffff"},
		{[]string{"grid", "encode", "--lat", "38.916", "--lon", "121.644", "--time", "2026-07-21T17:15:00+08:00", "--level", "26", "--scheme", "time"}, "T2026-07-21T09"},
		{[]string{"grid", "encode", "--level", "9", "--lat", "38.916", "--lon", "121.644", "--time", "2026-07-21T09:15:00Z", "--scheme", "spacetime", "--time-level", "26"}, "GZ002622442@T2026-07-21T09"},
	}
	for _, tc := range tests {
		code, out, errs := runCmd(t, "", tc.args...)
		if code != 0 || strings.TrimSpace(out) != tc.want {
			t.Errorf("%v: exit %d out %q err %q, want %q", tc.args, code, out, errs, tc.want)
		}
	}
}

func TestGridEncodeBatch(t *testing.T) {
	in := "38.916, 121.644\n\n42°38'59.68\" S, 1°32'0.06\" E\n39.9, 116.3, 100\n"
	code, out, errs := runCmd(t, in, "grid", "encode", "--level", "15")
	want := "G001311221-320330\n\nG200202021-300220\nG001310322-230230\n"
	if code != 0 || out != want {
		t.Errorf("exit %d err %q\n got %q\nwant %q", code, errs, out, want)
	}
	// No trailing newline on the last line.
	if code, out, _ = runCmd(t, "38.916, 121.644", "grid", "encode", "--level", "9"); code != 0 || out != "G001311221\n" {
		t.Errorf("last line without newline: %d %q", code, out)
	}
}

func TestGridErrors(t *testing.T) {
	tests := []struct {
		stdin   string
		args    []string
		wantErr string
	}{
		{"38.9, 121.6\n38.9\n", []string{"grid", "encode", "--level", "9"}, "line 2: want LAT, LON"},
		{"38.9, 121.6\n95, 121.6\n", []string{"grid", "encode", "--level", "9"}, "line 2: gridcode: encode: latitude out of range"},
		{"38.9, abc\n", []string{"grid", "encode", "--level", "9"}, "line 1: longitude: malformed angle"},
		{"38.9, 121.6, x\n", []string{"grid", "encode", "--level", "9"}, "line 1: height \"x\""},
		{"38.9, 121.6\n", []string{"grid", "encode", "--level", "9", "--scheme", "time"}, "line 1: gridcode: the time scheme needs a time"},
		{"", []string{"grid", "encode", "--level", "40", "--lat", "1", "--lon", "1"}, "--level 40 out of range"},
		{"", []string{"grid", "encode", "--lat", "1", "--lon", "1"}, "--level is required"},
		{"", []string{"grid", "encode", "--level", "3", "--scheme", "s2"}, "unknown --scheme"},
		{"", []string{"grid", "encode", "--level", "3", "--bogus"}, "flag provided but not defined"},
		{"", []string{"grid", "decode", "G4"}, "malformed grid code"},
		{"", []string{"grid", "decode", "zzz"}, "is not a GeoSOT"},
		{"", []string{"grid", "decode"}, "want one CODE"},
		{"", []string{"grid", "frob"}, "unknown sub-command"},
		{"", []string{"grid", "cover", "--geojson", "/nonexistent.json", "--level", "9"}, "no such file"},
	}
	for _, tc := range tests {
		code, out, errs := runCmd(t, tc.stdin, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.wantErr) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%v: exit %d out %q err %q, want one line containing %q", tc.args, code, out, errs, tc.wantErr)
		}
	}
}

func TestGridDecode(t *testing.T) {
	tests := []struct {
		code, scheme string
		level        int
	}{
		{"G001310322-230230", "geosot", 15},
		{"526548078363148288:15", "geosot", 15},
		{"GZ002620644460460", "geosot3d", 15},
		{"N50J47539B8255346152", "beidou", 10},
		{"N051J0035040840", "beidou3d", 4},
		{"8928308280fffff", "h3", 9},
		{"T2026-11-30T14", "time", 26},
		{"GZ002622442@T2026-07-21T09", "spacetime", 9},
	}
	for _, tc := range tests {
		code, out, errs := runCmd(t, "", "grid", "decode", tc.code)
		if code != 0 {
			t.Errorf("%s: exit %d %s", tc.code, code, errs)
			continue
		}
		var d gridcode.Description
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%s: %v\n%s", tc.code, err, out)
		}
		if d.Scheme != tc.scheme || d.Level != tc.level || d.Bounds[0] > d.Bounds[2] || d.Bounds[1] > d.Bounds[3] {
			t.Errorf("%s: %+v", tc.code, d)
		}
		if tc.level > 0 && d.Parent == "" {
			t.Errorf("%s: no parent", tc.code)
		}
	}
	// A GeoSOT decode names the cell's exact bounds.
	_, out, _ := runCmd(t, "", "grid", "decode", "G001310322")
	var d gridcode.Description
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Bounds != [4]float64{116, 39, 117, 40} || d.Centre != [2]float64{116.5, 39.5} {
		t.Errorf("decode G001310322: %+v %v", d, err)
	}
}

func TestGridCover(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "district.geojson")
	poly := `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[121.60,38.90],[121.68,38.90],[121.68,38.94],[121.60,38.94],[121.60,38.90]]]}}`
	if err := os.WriteFile(file, []byte(poly), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCmd(t, "", "grid", "cover", "--geojson", file, "--level", "16", "--max-cells", "64")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Fields(out)
	if len(lines) == 0 || len(lines) > 64 {
		t.Fatalf("%d cells", len(lines))
	}
	code, out, errs = runCmd(t, "", "grid", "cover", "--geojson", file, "--level", "16", "--max-cells", "64", "--json")
	var doc struct {
		Cells  []string    `json:"cells"`
		Ranges [][2]uint64 `json:"ranges"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || len(doc.Cells) != len(lines) || len(doc.Ranges) == 0 {
		t.Errorf("json cover: %d %s %q", code, errs, out)
	}
	if err := os.WriteFile(file, []byte(`{"type":"Point","coordinates":[1,2]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = runCmd(t, "", "grid", "cover", "--geojson", file, "--level", "9"); code == 0 || !strings.Contains(errs, "want Polygon") {
		t.Errorf("point cover: %d %s", code, errs)
	}
}
