package assign

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"citytwin/importers/tntp"
)

// Reference numbers of ../shared/data/siouxfalls/README.md.
const (
	sfObjective = 4231335.287107
	sfTSTT      = 7480225.34
)

func relErr(got, want float64) float64 { return math.Abs(got-want) / math.Abs(want) }

func TestSiouxFallsEquilibrium(t *testing.T) {
	n := siouxFalls(t)
	r, err := Solve(context.Background(), n, Options{Gap: 1e-12})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gradient projection: %d iterations, gap %.3g, objective %.9f, TSTT %.6f, %s", r.Iterations, r.Gap, r.Objective, r.TSTT, r.Elapsed)
	if !r.Converged || r.Gap > 1e-12 {
		t.Errorf("gap %g after %d iterations, want ≤ 1e-12", r.Gap, r.Iterations)
	}
	if e := relErr(r.Objective, sfObjective); e > 1e-10 {
		t.Errorf("objective %.9f, want %.6f (relative error %.2g > 1e-10)", r.Objective, sfObjective, e)
	}
	if e := relErr(r.TSTT, sfTSTT); e > 1e-8 {
		t.Errorf("TSTT %.6f, want %.2f (relative error %.2g)", r.TSTT, sfTSTT, e)
	}
	if r.Demand != 360600 {
		t.Errorf("demand %g, want 360600", r.Demand)
	}
	if e := relErr(r.SPTT, r.TSTT); e > 1e-12 {
		t.Errorf("SPTT %f vs TSTT %f", r.SPTT, r.TSTT)
	}
	best, err := tntp.ReadFlowsFile(filepath.Join(sharedData(t, "siouxfalls"), "SiouxFalls_flow.tntp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(best) != len(r.Links) {
		t.Fatalf("%d best-known flows for %d links", len(best), len(r.Links))
	}
	worst, worstCost := 0.0, 0.0
	for i, b := range best {
		l := r.Links[i]
		if l.From != b.From || l.To != b.To {
			t.Fatalf("flow row %d is %d-%d, link is %d-%d", i+1, b.From, b.To, l.From, l.To)
		}
		worst = max(worst, math.Abs(l.Flow-b.Volume))
		worstCost = max(worstCost, math.Abs(l.Time-b.Cost))
	}
	t.Logf("largest difference from SiouxFalls_flow.tntp: %.3g vehicles, %.3g time", worst, worstCost)
	if worst > 1e-3 || worstCost > 1e-6 {
		t.Errorf("link flows differ from the best-known solution by up to %g vehicles and %g time, want ≤ 1e-3 and 1e-6", worst, worstCost)
	}
}

func TestSiouxFallsScenarios(t *testing.T) {
	n := siouxFalls(t)
	for _, tc := range []struct {
		name            string
		sc              Scenario
		tstt, objective float64
	}{
		{"close 10-16 and 16-10", Scenario{Close: []LinkID{{10, 16}, {16, 10}}}, 9486411.09, 4805328.70},
		{"close 12-13 and 13-12", Scenario{Close: []LinkID{{12, 13}, {13, 12}}}, 11161668.02, 5145124.58},
		{"halve capacity of 10-15 and 15-10", Scenario{Capacity: map[LinkID]float64{{10, 15}: 0.5, {15, 10}: 0.5}}, 8868169.18, 4525608.46},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Solve(context.Background(), n, Options{Gap: 1e-10, Scenario: tc.sc})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d iterations, gap %.2g, TSTT %.3f, objective %.3f", r.Iterations, r.Gap, r.TSTT, r.Objective)
			if e := relErr(r.TSTT, tc.tstt); e > 1e-5 {
				t.Errorf("TSTT %.3f, want %.2f (relative error %.2g > 1e-5)", r.TSTT, tc.tstt, e)
			}
			if e := relErr(r.Objective, tc.objective); e > 1e-8 {
				t.Errorf("objective %.3f, want %.2f (relative error %.2g)", r.Objective, tc.objective, e)
			}
			for _, id := range tc.sc.Close {
				for _, l := range r.Links {
					if l.From == id.From && l.To == id.To && (!l.Closed || l.Flow != 0) {
						t.Errorf("closed link %s: %+v", id, l)
					}
				}
			}
			for id, f := range tc.sc.Capacity {
				for i, l := range r.Links {
					if l.From == id.From && l.To == id.To && l.Capacity != n.Links[i].Capacity*f {
						t.Errorf("link %s capacity %g, want %g", id, l.Capacity, n.Links[i].Capacity*f)
					}
				}
			}
		})
	}
}

func TestBraess(t *testing.T) {
	n := load(t, "braess", "Braess_net.tntp", "Braess_trips.tntp")
	for _, tc := range []struct {
		name  string
		sc    Scenario
		flows []float64
		cost  float64
		tstt  float64
	}{
		{"with 3-4", Scenario{}, []float64{4, 2, 2, 2, 4}, 92, 552},
		{"without 3-4", Scenario{Close: []LinkID{{3, 4}}}, []float64{3, 3, 3, 0, 3}, 83, 498},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, alg := range []Algorithm{GradientProjection, FrankWolfe} {
				r, err := Solve(context.Background(), n, Options{Gap: 1e-10, Algorithm: alg, Scenario: tc.sc})
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-6
				if alg == FrankWolfe {
					tol = 1e-3
				}
				for i, l := range r.Links {
					if math.Abs(l.Flow-tc.flows[i]) > tol {
						t.Errorf("%s: link %d-%d flow %g, want %g", alg, l.From, l.To, l.Flow, tc.flows[i])
					}
				}
				if cost := r.SPTT / r.Demand; math.Abs(cost-tc.cost) > tol {
					t.Errorf("%s: path cost %g, want %g", alg, cost, tc.cost)
				}
				if math.Abs(r.TSTT-tc.tstt) > tol*10 {
					t.Errorf("%s: TSTT %g, want %g", alg, r.TSTT, tc.tstt)
				}
			}
		})
	}
}

func TestFrankWolfeBaseline(t *testing.T) {
	n := siouxFalls(t)
	r, err := Solve(context.Background(), n, Options{Gap: 1e-4, Algorithm: FrankWolfe})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Frank–Wolfe: %d iterations, gap %.3g, objective %.6f, %s", r.Iterations, r.Gap, r.Objective, r.Elapsed)
	if !r.Converged {
		t.Fatalf("gap %g after %d iterations", r.Gap, r.Iterations)
	}
	// Convexity: Z* ≥ Z(x) − (TSTT − SPTT), so 0 ≤ Z(x) − Z* ≤ gap·TSTT.
	if d := r.Objective - sfObjective; d < -1e-6*sfObjective || d > r.Gap*r.TSTT {
		t.Errorf("objective %.3f is %.3f from %.3f, want within [0, gap·TSTT = %.3f]", r.Objective, d, sfObjective, r.Gap*r.TSTT)
	}
}

func TestFirstThruNode(t *testing.T) {
	// Zones 1–3; node 4 is the only through node. The cheap route 1→2→3
	// passes through zone 2, which FIRST THRU NODE 4 forbids.
	n := &Network{Zones: 3, FirstThruNode: 4, Links: []Link{
		{From: 1, To: 2, Capacity: 1, FreeFlowTime: 1},
		{From: 2, To: 3, Capacity: 1, FreeFlowTime: 1},
		{From: 1, To: 4, Capacity: 1, FreeFlowTime: 10},
		{From: 4, To: 3, Capacity: 1, FreeFlowTime: 10},
	}, Demand: []Demand{{1, 3, 5}, {1, 2, 1}}}
	r, err := Solve(context.Background(), n, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := []float64{r.Links[0].Flow, r.Links[1].Flow, r.Links[2].Flow, r.Links[3].Flow}; got[0] != 1 || got[1] != 0 || got[2] != 5 || got[3] != 5 {
		t.Errorf("flows %v, want [1 0 5 5]", got)
	}
	n.FirstThruNode = 1
	if r, err = Solve(context.Background(), n, Options{}); err != nil {
		t.Fatal(err)
	}
	if r.Links[1].Flow != 5 || r.TSTT != 6+5 {
		t.Errorf("without FIRST THRU NODE: %+v TSTT %g", r.Links, r.TSTT)
	}
	// Only through zone 2 is 3 reachable from 1: disconnected.
	n.FirstThruNode = 4
	n.Links = n.Links[:2]
	if _, err := Solve(context.Background(), n, Options{}); !errors.Is(err, ErrDisconnected) {
		t.Errorf("got %v, want ErrDisconnected", err)
	}
}

func TestDisconnected(t *testing.T) {
	n := siouxFalls(t)
	_, err := Solve(context.Background(), n, Options{Scenario: Scenario{Close: []LinkID{{1, 2}, {1, 3}}}})
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("got %v, want ErrDisconnected", err)
	}
	for _, want := range []string{"1-2, 1-3 closed", "1→2", "23 OD pairs"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestBadInput(t *testing.T) {
	n := siouxFalls(t)
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{Scenario: Scenario{Close: []LinkID{{1, 24}}}}, "cannot close link 1-24: no such link"},
		{Options{Scenario: Scenario{Capacity: map[LinkID]float64{{1, 24}: 2}}}, "no such link"},
		{Options{Scenario: Scenario{Capacity: map[LinkID]float64{{1, 2}: 0}}}, "want a positive number"},
		{Options{Scenario: Scenario{Capacity: map[LinkID]float64{{1, 2}: math.NaN()}}}, "want a positive number"},
		{Options{Scenario: Scenario{DemandScale: -1}}, "demand scale"},
		{Options{Gap: -1}, "gap"},
		{Options{Algorithm: 7}, "unknown algorithm"},
	} {
		if _, err := Solve(context.Background(), n, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.opt, err, tc.want)
		}
	}
	bad := &Network{Links: []Link{{From: 1, To: 2, Capacity: -1, FreeFlowTime: 1}}}
	if _, err := Solve(context.Background(), bad, Options{}); err == nil {
		t.Error("negative capacity accepted")
	}
	bad = &Network{Zones: 1, Links: []Link{{From: 1, To: 2, Capacity: 1, FreeFlowTime: 1}}, Demand: []Demand{{1, 2, 1}}}
	if _, err := Solve(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "not a zone") {
		t.Errorf("demand to a node that is not a zone: %v", err)
	}
	bad = &Network{Links: []Link{{From: 1, To: 2, Capacity: 1, FreeFlowTime: 1}}, Demand: []Demand{{1, 9, 1}}}
	if _, err := Solve(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "no such node") {
		t.Errorf("demand to an unknown node: %v", err)
	}
}

func TestDemandScaleAndProgress(t *testing.T) {
	n := siouxFalls(t)
	var seen []Progress
	r, err := Solve(context.Background(), n, Options{Gap: 1e-6, Scenario: Scenario{DemandScale: 1.2}, Progress: func(p Progress) { seen = append(seen, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Demand-1.2*360600) > 1e-6 {
		t.Errorf("demand %g, want %g", r.Demand, 1.2*360600)
	}
	if r.TSTT <= sfTSTT*1.2 {
		t.Errorf("TSTT %g with 1.2× demand, want more than 1.2× the base", r.TSTT)
	}
	if len(seen) != r.Iterations+1 {
		t.Errorf("%d progress reports for %d iterations", len(seen), r.Iterations)
	}
	for i, p := range seen {
		if p.Iteration != i {
			t.Errorf("report %d is iteration %d", i, p.Iteration)
		}
	}
	if last := seen[len(seen)-1]; last.Gap > 1e-6 {
		t.Errorf("last report gap %g", last.Gap)
	}

	ctx, cancel := context.WithCancel(context.Background())
	r, err = Solve(ctx, n, Options{Gap: 1e-14, Progress: func(p Progress) {
		if p.Iteration == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || r == nil || r.Iterations != 3 {
		t.Errorf("cancelled run: %v, %+v", err, r)
	}
}
