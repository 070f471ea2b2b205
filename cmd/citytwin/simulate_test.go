package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSimulateVehicles runs the real server and the simulator in this
// process for about two seconds, then checks through the API that the
// vehicles exist and drove along the streets.
func TestSimulateVehicles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	s := startServer(t, buildBinary(t), "--data", t.TempDir())

	var stderr bytes.Buffer
	start := time.Now()
	code := run([]string{"simulate", "vehicles", "--n", "50", "--server", s.base, "--duration", "2s", "--rate", "5", "--seed", "7", "--batch", "20"},
		env{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr})
	if code != 0 {
		t.Fatalf("simulate: exit %d:\n%s", code, stderr.String())
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("simulate --duration 2s took %s", took)
	}
	out := stderr.String()
	t.Logf("simulate:\n%s", out)
	for _, want := range []string{"street segments", "updates/s", "50 vehicles for", "rejected 0; errors 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate output lacks %q:\n%s", want, out)
		}
	}

	var info struct {
		Layers []struct {
			Layer   string `json:"layer"`
			Objects int    `json:"objects"`
		} `json:"layers"`
	}
	s.get(t, "/api/v1/live", 200, &info)
	got := map[string]int{}
	for _, l := range info.Layers {
		got[l.Layer] = l.Objects
	}
	if got["vehicles"] != 50 {
		t.Fatalf("live layers %v, want 50 vehicles", got)
	}

	// The streets, as segments, straight from the API.
	type seg struct{ a, b [2]float64 }
	var segs []seg
	for cursor := ""; ; {
		q := url.Values{"limit": {"10000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Features []struct {
				Geometry struct {
					Type        string          `json:"type"`
					Coordinates json.RawMessage `json:"coordinates"`
				} `json:"geometry"`
			} `json:"features"`
			Next string `json:"next"`
		}
		s.get(t, "/api/v1/layers/streets/features?"+q.Encode(), 200, &page)
		for _, f := range page.Features {
			var lines [][][2]float64
			if f.Geometry.Type == "LineString" {
				var l [][2]float64
				if err := json.Unmarshal(f.Geometry.Coordinates, &l); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, l)
			} else if err := json.Unmarshal(f.Geometry.Coordinates, &lines); err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				for k := 1; k < len(l); k++ {
					segs = append(segs, seg{l[k-1], l[k]})
				}
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if len(segs) < 100 {
		t.Fatalf("%d street segments in the sample city", len(segs))
	}
	// nearest is the distance in metres from a point to the street network.
	nearest := func(p [2]float64) float64 {
		best := math.Inf(1)
		for _, sg := range segs {
			ax, ay := project(sg.a[0]-p[0], sg.a[1]-p[1], p[1])
			bx, by := project(sg.b[0]-p[0], sg.b[1]-p[1], p[1])
			dx, dy := bx-ax, by-ay
			f := 0.0
			if l2 := dx*dx + dy*dy; l2 > 0 {
				f = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l2))
			}
			best = math.Min(best, math.Hypot(ax+f*dx, ay+f*dy))
		}
		return best
	}

	for _, id := range []string{"veh-00000", "veh-00031"} {
		var h struct {
			Geometry struct {
				Type        string       `json:"type"`
				Coordinates [][3]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Times  []time.Time      `json:"times"`
				Speeds []*float64       `json:"speeds"`
				States []map[string]any `json:"states"`
				Heads  []*float64       `json:"headings"`
			} `json:"properties"`
		}
		s.get(t, "/api/v1/objects/"+id+"/history", 200, &h)
		c, p := h.Geometry.Coordinates, h.Properties
		if h.Geometry.Type != "LineString" || len(c) < 5 || len(p.Times) != len(c) {
			t.Fatalf("%s: history has %d positions (%s) and %d times, want several", id, len(c), h.Geometry.Type, len(p.Times))
		}
		moved := 0.0
		for k := range c {
			pt := [2]float64{c[k][0], c[k][1]}
			if d := nearest(pt); d > 3 {
				t.Errorf("%s: position %d %v is %.1f m from the nearest street", id, k, pt, d)
			}
			if p.Speeds[k] == nil || *p.Speeds[k] < simMinSpeed-0.01 || *p.Speeds[k] > simMaxSpeed+0.01 {
				t.Errorf("%s: position %d: speed %v, want 5–20 m/s", id, k, p.Speeds[k])
			}
			if p.Heads[k] == nil || *p.Heads[k] < 0 || *p.Heads[k] >= 360 {
				t.Errorf("%s: position %d: heading %v", id, k, p.Heads[k])
			}
			if kind, _ := p.States[k]["kind"].(string); !strings.Contains("car taxi bus truck", kind) || kind == "" {
				t.Errorf("%s: position %d: state %v", id, k, p.States[k])
			}
			if k == 0 {
				continue
			}
			dt := p.Times[k].Sub(p.Times[k-1]).Seconds()
			d := metres(c[k-1][0], c[k-1][1], c[k][0], c[k][1])
			moved += d
			if dt <= 0 || d > simMaxSpeed*dt+1 {
				t.Errorf("%s: %.1f m in %.3f s from position %d to %d", id, d, dt, k-1, k)
			}
		}
		if moved < simMinSpeed*p.Times[len(c)-1].Sub(p.Times[0]).Seconds()*0.5 {
			t.Errorf("%s: moved %.1f m in %s", id, moved, p.Times[len(c)-1].Sub(p.Times[0]))
		}
	}

	// A street layer the server does not have.
	code, _, errOut := runCmd(t, "", "simulate", "vehicles", "--n", "5", "--server", s.base, "--streets", "canals")
	if code != 1 || !strings.Contains(errOut, `no "canals" layer`) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
		t.Errorf("--streets canals: exit %d, %q", code, errOut)
	}
}

// TestSimulateErrors checks the one-line errors for a server that is not
// there and for bad flags.
func TestSimulateErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"vehicles", "--n", "5", "--server", dead}, "cannot reach the server at " + dead},
		{[]string{"vehicles", "--n", "5", "--server", "localhost:8080"}, "--server"},
		{[]string{"vehicles", "--n", "0"}, "--n 0"},
		{[]string{"vehicles", "--n", "5", "--rate", "0"}, "--rate"},
		{[]string{"vehicles", "--n", "5", "--batch", "20000"}, "--batch"},
		{[]string{"boats", "--n", "5"}, "simulate vehicles"},
		{[]string{"--n", "5"}, "simulate vehicles"},
	} {
		start := time.Now()
		code, _, stderr := runCmd(t, "", append([]string{"simulate"}, c.args...)...)
		if code != 1 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("simulate %v: exit %d, stderr %q; want one line with %q", c.args, code, stderr, c.want)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("simulate %v took %s", c.args, time.Since(start))
		}
	}
}
