package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"citytwin/importers/tntp"
	"citytwin/twin/traffic/assign"
)

// runTraffic dispatches the traffic sub-commands.
func runTraffic(args []string, e env) error {
	if len(args) == 0 {
		return fmt.Errorf("want a sub-command: assign")
	}
	switch args[0] {
	case "assign":
		return trafficAssign(args[1:], e)
	}
	return fmt.Errorf("unknown sub-command %q: want assign", args[0])
}

// trafficProgressEvery is how often a long assignment reports on stderr
// (a variable for tests).
var trafficProgressEvery = time.Second

func trafficAssign(args []string, e env) error {
	fs := flag.NewFlagSet("traffic assign", flag.ContinueOnError)
	netFile := fs.String("net", "", "TNTP network file (…_net.tntp)")
	tripsFile := fs.String("trips", "", "TNTP trip table (…_trips.tntp)")
	gap := fs.Float64("gap", 1e-4, "stop at this relative gap, 1 − SPTT/TSTT")
	maxIter := fs.Int("max-iterations", 0, "stop after this many iterations (0: 1000 for gp, 100000 for fw)")
	closeList := fs.String("close", "", "close links, e.g. 10-16,16-10")
	capList := fs.String("capacity", "", "scale link capacities, e.g. 10-15=0.5,15-10=0.5")
	demand := fs.Float64("demand", 1, "scale every demand by this factor")
	algo := fs.String("algorithm", "gp", "gp (path-based gradient projection) or fw (Frank–Wolfe)")
	top := fs.Int("top", 10, "how many of the most congested links (by v/c) the text summary lists")
	asJSON := fs.Bool("json", false, "print one JSON document with the summary and every link's flow")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	if *netFile == "" || *tripsFile == "" {
		return fmt.Errorf("--net FILE and --trips FILE are required")
	}
	if !(*gap > 0) || math.IsInf(*gap, 0) {
		return fmt.Errorf("--gap %g: want a positive number such as 1e-4", *gap)
	}
	if *maxIter < 0 {
		return fmt.Errorf("--max-iterations %d: want a positive number", *maxIter)
	}
	if !(*demand > 0) || math.IsInf(*demand, 0) {
		return fmt.Errorf("--demand %g: want a positive factor such as 1.2", *demand)
	}
	opt := assign.Options{Gap: *gap, MaxIterations: *maxIter, Scenario: assign.Scenario{DemandScale: *demand}}
	switch *algo {
	case "gp", "gradient-projection":
		opt.Algorithm = assign.GradientProjection
	case "fw", "frank-wolfe":
		opt.Algorithm = assign.FrankWolfe
	default:
		return fmt.Errorf("--algorithm %q: want gp or fw", *algo)
	}
	if *closeList != "" {
		for _, s := range strings.Split(*closeList, ",") {
			id, err := parseLinkID(s)
			if err != nil {
				return fmt.Errorf("--close: %w", err)
			}
			opt.Scenario.Close = append(opt.Scenario.Close, id)
		}
	}
	if *capList != "" {
		opt.Scenario.Capacity = map[assign.LinkID]float64{}
		for _, s := range strings.Split(*capList, ",") {
			k, v, ok := strings.Cut(s, "=")
			if !ok {
				return fmt.Errorf("--capacity: %q: want A-B=FACTOR such as 10-15=0.5", s)
			}
			id, err := parseLinkID(k)
			if err != nil {
				return fmt.Errorf("--capacity: %w", err)
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || !(f > 0) || math.IsInf(f, 0) {
				return fmt.Errorf("--capacity: %q: factor %q is not a positive number", s, v)
			}
			opt.Scenario.Capacity[id] = f
		}
	}
	n, err := loadTrafficNetwork(*netFile, *tripsFile)
	if err != nil {
		return err
	}
	last := time.Now()
	opt.Progress = func(p assign.Progress) {
		if time.Since(last) >= trafficProgressEvery {
			last = time.Now()
			fmt.Fprintf(e.stderr, "traffic assign: iteration %d, gap %.3g, TSTT %.6g, %s\n", p.Iteration, p.Gap, p.TSTT, p.Elapsed.Round(time.Millisecond))
		}
	}
	res, err := assign.Solve(context.Background(), n, opt)
	if err != nil {
		return err
	}
	if !res.Converged {
		fmt.Fprintf(e.stderr, "traffic assign: warning: gap %.3g after %d iterations, above --gap %g\n", res.Gap, res.Iterations, *gap)
	}
	out := bufio.NewWriter(e.stdout)
	if *asJSON {
		if err := json.NewEncoder(out).Encode(trafficDoc(*netFile, *tripsFile, opt, res)); err != nil {
			return err
		}
		return out.Flush()
	}
	writeTrafficSummary(out, *netFile, res, *top)
	return out.Flush()
}

// loadTrafficNetwork reads a TNTP network and its trips into an
// assignment network.
func loadTrafficNetwork(netFile, tripsFile string) (*assign.Network, error) {
	nf, err := tntp.ReadNetFile(netFile)
	if err != nil {
		return nil, err
	}
	tf, err := tntp.ReadTripsFile(tripsFile)
	if err != nil {
		return nil, err
	}
	if tf.Zones > nf.Zones {
		return nil, fmt.Errorf("%s has %d zones but %s only %d", tripsFile, tf.Zones, netFile, nf.Zones)
	}
	n := &assign.Network{Nodes: nf.Nodes, Zones: nf.Zones, FirstThruNode: nf.FirstThruNode}
	for _, l := range nf.Links {
		n.Links = append(n.Links, assign.Link{From: l.From, To: l.To, Capacity: l.Capacity, FreeFlowTime: l.FreeFlowTime, B: l.B, Power: l.Power})
	}
	for _, od := range tf.OD {
		if od.Flow > 0 && od.Origin != od.Dest && (od.Origin > nf.Zones || od.Dest > nf.Zones) {
			return nil, fmt.Errorf("%s: demand %d→%d: %s has zones 1–%d", tripsFile, od.Origin, od.Dest, netFile, nf.Zones)
		}
		n.Demand = append(n.Demand, assign.Demand{Origin: od.Origin, Dest: od.Dest, Flow: od.Flow})
	}
	return n, nil
}

// parseLinkID reads "A-B".
func parseLinkID(s string) (assign.LinkID, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	from, err1 := strconv.Atoi(strings.TrimSpace(a))
	to, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || from < 1 || to < 1 {
		return assign.LinkID{}, fmt.Errorf("link %q: want FROM-TO node numbers such as 10-16", s)
	}
	return assign.LinkID{From: from, To: to}, nil
}

type trafficLinkJSON struct {
	From     int     `json:"from"`
	To       int     `json:"to"`
	Flow     float64 `json:"flow"`
	Time     float64 `json:"time"`
	VC       float64 `json:"vc"`
	Capacity float64 `json:"capacity"`
	Closed   bool    `json:"closed,omitempty"`
}

type trafficJSON struct {
	Net           string            `json:"net"`
	Trips         string            `json:"trips"`
	Algorithm     string            `json:"algorithm"`
	TSTT          float64           `json:"tstt"`
	SPTT          float64           `json:"sptt"`
	Objective     float64           `json:"objective"`
	Gap           float64           `json:"gap"`
	GapDefinition string            `json:"gap_definition"`
	TargetGap     float64           `json:"target_gap"`
	Converged     bool              `json:"converged"`
	Iterations    int               `json:"iterations"`
	Seconds       float64           `json:"seconds"`
	Demand        float64           `json:"demand"`
	Scenario      trafficScenario   `json:"scenario"`
	Links         []trafficLinkJSON `json:"links"`
}

type trafficScenario struct {
	Close       []string           `json:"close"`
	Capacity    map[string]float64 `json:"capacity"`
	DemandScale float64            `json:"demand_scale"`
}

func trafficDoc(netFile, tripsFile string, opt assign.Options, r *assign.Result) trafficJSON {
	doc := trafficJSON{
		Net: netFile, Trips: tripsFile, Algorithm: r.Algorithm.String(),
		TSTT: r.TSTT, SPTT: r.SPTT, Objective: r.Objective, Gap: r.Gap,
		GapDefinition: "1 - SPTT/TSTT (SPTT: every trip on a current shortest path)",
		TargetGap:     opt.Gap, Converged: r.Converged, Iterations: r.Iterations,
		Seconds: r.Elapsed.Seconds(), Demand: r.Demand,
		Scenario: trafficScenario{Close: []string{}, Capacity: map[string]float64{}, DemandScale: opt.Scenario.DemandScale},
		Links:    make([]trafficLinkJSON, len(r.Links)),
	}
	for _, id := range opt.Scenario.Close {
		doc.Scenario.Close = append(doc.Scenario.Close, id.String())
	}
	for id, f := range opt.Scenario.Capacity {
		doc.Scenario.Capacity[id.String()] = f
	}
	for i, l := range r.Links {
		doc.Links[i] = trafficLinkJSON{From: l.From, To: l.To, Flow: l.Flow, Time: l.Time, VC: l.VC, Capacity: l.Capacity, Closed: l.Closed}
	}
	return doc
}

func writeTrafficSummary(out *bufio.Writer, netFile string, r *assign.Result, top int) {
	open := 0
	for _, l := range r.Links {
		if !l.Closed {
			open++
		}
	}
	fmt.Fprintf(out, "network        %s: %d links (%d closed), demand %.6g\n", netFile, len(r.Links), len(r.Links)-open, r.Demand)
	fmt.Fprintf(out, "algorithm      %s\n", r.Algorithm)
	fmt.Fprintf(out, "TSTT           %.6f  (total system travel time, Σ x·t)\n", r.TSTT)
	fmt.Fprintf(out, "objective      %.6f  (Beckmann)\n", r.Objective)
	fmt.Fprintf(out, "relative gap   %.3g  (1 − SPTT/TSTT)\n", r.Gap)
	fmt.Fprintf(out, "iterations     %d\n", r.Iterations)
	fmt.Fprintf(out, "time           %s\n", r.Elapsed.Round(time.Microsecond))
	links := slices.Clone(r.Links)
	slices.SortStableFunc(links, func(a, b assign.LinkResult) int {
		switch {
		case a.VC > b.VC:
			return -1
		case a.VC < b.VC:
			return 1
		}
		return 0
	})
	if top > len(links) {
		top = len(links)
	}
	if top > 0 {
		fmt.Fprintf(out, "most congested links (v/c):\n")
		fmt.Fprintf(out, "  %-9s %12s %12s %8s %10s\n", "link", "flow", "capacity", "v/c", "time")
		for _, l := range links[:top] {
			if l.Closed {
				continue
			}
			fmt.Fprintf(out, "  %-9s %12.1f %12.1f %8.3f %10.4f\n", fmt.Sprintf("%d-%d", l.From, l.To), l.Flow, l.Capacity, l.VC, l.Time)
		}
	}
}
