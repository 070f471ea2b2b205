package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// trafficData returns ../shared/data/NAME beside the project, or skips the
// test with a clear message when the team's shared data is absent.
func trafficData(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("shared reference data not found at %s (it lives beside the project as ../shared): %v", dir, err)
	}
	return dir
}

// runTrafficCmd runs citytwin in this process.
func runTrafficCmd(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestTrafficAssignJSON(t *testing.T) {
	dir := trafficData(t, "siouxfalls")
	net, trips := filepath.Join(dir, "SiouxFalls_net.tntp"), filepath.Join(dir, "SiouxFalls_trips.tntp")
	for _, tc := range []struct {
		name       string
		args       []string
		tstt, obj  float64
		closed     []string
		capacityOf map[string]float64
	}{
		{"base", nil, 7480225.34, 4231335.287107, nil, nil},
		{"close 10-16", []string{"--close", "10-16,16-10"}, 9486411.09, 4805328.70, []string{"10-16", "16-10"}, nil},
		{"halve 10-15", []string{"--capacity", "10-15=0.5,15-10=0.5"}, 8868169.18, 4525608.46, nil, map[string]float64{"10-15": 0.5 * 13512.00155, "15-10": 0.5 * 13512.00155}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"traffic", "assign", "--net", net, "--trips", trips, "--gap", "1e-10", "--json"}, tc.args...)
			code, stdout, stderr := runTrafficCmd(args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var doc struct {
				Algorithm  string  `json:"algorithm"`
				TSTT       float64 `json:"tstt"`
				Objective  float64 `json:"objective"`
				Gap        float64 `json:"gap"`
				Converged  bool    `json:"converged"`
				Iterations int     `json:"iterations"`
				Demand     float64 `json:"demand"`
				Links      []struct {
					From, To                 int
					Flow, Time, VC, Capacity float64
					Closed                   bool
				} `json:"links"`
			}
			dec := json.NewDecoder(strings.NewReader(stdout))
			if err := dec.Decode(&doc); err != nil {
				t.Fatalf("%v:\n%s", err, stdout)
			}
			if dec.More() {
				t.Error("more than one JSON document")
			}
			if doc.Algorithm != "gradient-projection" || !doc.Converged || doc.Gap > 1e-10 || doc.Iterations < 1 || doc.Demand != 360600 || len(doc.Links) != 76 {
				t.Errorf("summary %+v", doc)
			}
			if e := math.Abs(doc.TSTT-tc.tstt) / tc.tstt; e > 1e-5 {
				t.Errorf("TSTT %.3f, want %.2f", doc.TSTT, tc.tstt)
			}
			if e := math.Abs(doc.Objective-tc.obj) / tc.obj; e > 1e-8 {
				t.Errorf("objective %.6f, want %.6f", doc.Objective, tc.obj)
			}
			sum := 0.0
			for _, l := range doc.Links {
				id := strconv.Itoa(l.From) + "-" + strconv.Itoa(l.To)
				if slices.Contains(tc.closed, id) != l.Closed {
					t.Errorf("link %s closed %v", id, l.Closed)
				}
				if c, ok := tc.capacityOf[id]; ok && math.Abs(l.Capacity-c) > 1 {
					t.Errorf("link %s capacity %g, want about %g", id, l.Capacity, c)
				}
				if !l.Closed && (l.Capacity <= 0 || math.Abs(l.VC-l.Flow/l.Capacity) > 1e-12 || l.Time <= 0) {
					t.Errorf("link %+v", l)
				}
				sum += l.Flow * l.Time
			}
			if math.Abs(sum-doc.TSTT) > 1e-6*doc.TSTT {
				t.Errorf("Σ flow·time %f, TSTT %f", sum, doc.TSTT)
			}
		})
	}
}

func TestTrafficAssignText(t *testing.T) {
	dir := trafficData(t, "braess")
	net, trips := filepath.Join(dir, "Braess_net.tntp"), filepath.Join(dir, "Braess_trips.tntp")
	code, stdout, stderr := runTrafficCmd("traffic", "assign", "--net", net, "--trips", trips, "--gap", "1e-9", "--top", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"TSTT           552.0000", "relative gap", "(1 − SPTT/TSTT)", "iterations", "most congested links (v/c)", "1-3 "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, stderr = runTrafficCmd("traffic", "assign", "--net", net, "--trips", trips, "--gap", "1e-9", "--close", "3-4", "--algorithm", "fw")
	if code != 0 || !strings.Contains(stdout, "TSTT           498.00") || !strings.Contains(stdout, "frank-wolfe") {
		t.Errorf("without 3-4: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestTrafficAssignErrors(t *testing.T) {
	sf := trafficData(t, "siouxfalls")
	net, trips := filepath.Join(sf, "SiouxFalls_net.tntp"), filepath.Join(sf, "SiouxFalls_trips.tntp")
	tmp := t.TempDir()
	badNet := filepath.Join(tmp, "bad_net.tntp")
	if err := os.WriteFile(badNet, []byte("<NUMBER OF NODES> 3\n<END OF METADATA>\n1 2 100 1 1 0.15 4 0 0 1;\n1 9 100 1 1 0.15 4 0 0 1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badTrips := filepath.Join(tmp, "bad_trips.tntp")
	if err := os.WriteFile(badTrips, []byte("<NUMBER OF ZONES> 24\n<END OF METADATA>\nOrigin 1\n 2 : x;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"traffic", "assign", "--net", net, "--trips", trips}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"traffic"}, "want a sub-command: assign"},
		{[]string{"traffic", "route"}, `unknown sub-command "route"`},
		{[]string{"traffic", "assign", "--trips", trips}, "--net FILE and --trips FILE are required"},
		{[]string{"traffic", "assign", "--net", filepath.Join(tmp, "absent.tntp"), "--trips", trips}, "absent.tntp: no such file"},
		{[]string{"traffic", "assign", "--net", badNet, "--trips", trips}, "bad_net.tntp:4: link 1-9 goes to an unknown node"},
		{[]string{"traffic", "assign", "--net", net, "--trips", badTrips}, `bad_trips.tntp:4: flow 1→2 "x" is not a number`},
		{append(base, "--gap", "0"), "--gap 0: want a positive number"},
		{append(base, "--gap", "abc"), "invalid value"},
		{append(base, "--demand", "-1"), "--demand -1"},
		{append(base, "--close", "10_16"), `--close: link "10_16": want FROM-TO`},
		{append(base, "--close", "1-24"), "cannot close link 1-24: no such link"},
		{append(base, "--close", "1-2,1-3"), "no path with links 1-2, 1-3 closed for demand from 1→2"},
		{append(base, "--capacity", "10-15"), "want A-B=FACTOR"},
		{append(base, "--capacity", "10-15=0"), `factor "0" is not a positive number`},
		{append(base, "--algorithm", "bfw"), `--algorithm "bfw"`},
		{append(base, "extra"), `unexpected argument "extra"`},
	} {
		code, stdout, stderr := runTrafficCmd(tc.args...)
		if code == 0 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", tc.args, code, stdout)
		}
		if !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "citytwin traffic: ") {
			t.Errorf("%v: stderr %q, want one line containing %q", tc.args[2:], stderr, tc.want)
		}
	}
	// Not converged: a warning on stderr, the result on stdout, exit 0.
	code, stdout, stderr := runTrafficCmd(append(base, "--max-iterations", "2", "--gap", "1e-12")...)
	if code != 0 || !strings.Contains(stderr, "warning: gap") || !strings.Contains(stdout, "iterations     2") {
		t.Errorf("max iterations: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestTrafficAssignProgress(t *testing.T) {
	dir := trafficData(t, "siouxfalls")
	old := trafficProgressEvery
	trafficProgressEvery = 0
	defer func() { trafficProgressEvery = old }()
	code, stdout, stderr := runTrafficCmd("traffic", "assign", "--net", filepath.Join(dir, "SiouxFalls_net.tntp"),
		"--trips", filepath.Join(dir, "SiouxFalls_trips.tntp"), "--gap", "1e-3", "--algorithm", "fw", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "traffic assign: iteration 1, gap ") || strings.Count(stderr, "\n") < 100 {
		t.Errorf("progress on stderr: %.300q", stderr)
	}
	if !json.Valid([]byte(stdout)) {
		t.Errorf("stdout is not one JSON document: %.200q", stdout)
	}
}
