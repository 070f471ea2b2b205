package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"citytwin/twin/traffic/assign"
)

// trafficBenchFlags are the flags of `citytwin bench traffic`.
func trafficBenchFlags(fs *flag.FlagSet) func() (net, trips string) {
	net := fs.String("net", "../shared/data/siouxfalls/SiouxFalls_net.tntp", "bench traffic: TNTP network")
	trips := fs.String("trips", "../shared/data/siouxfalls/SiouxFalls_trips.tntp", "bench traffic: TNTP trips")
	return func() (string, string) { return *net, *trips }
}

// benchTraffic solves a network to user equilibrium with gradient
// projection and with Frank–Wolfe (the baseline, same process) at the same
// target gaps, and prints times and the ratio.
func benchTraffic(e env, netFile, tripsFile string) error {
	n, err := loadTrafficNetwork(netFile, tripsFile)
	if err != nil {
		return fmt.Errorf("bench traffic: %w", err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nuser equilibrium on %s (%d links)\tFrank–Wolfe (baseline)\tgradient projection\tspeed-up\n", netFile, len(n.Links))
	for _, gap := range []float64{1e-4, 1e-5, 1e-8} {
		var times [2]time.Duration
		var iters [2]int
		var obj [2]float64
		for i, alg := range []assign.Algorithm{assign.FrankWolfe, assign.GradientProjection} {
			if alg == assign.FrankWolfe && gap < 1e-6 {
				continue // Frank–Wolfe does not get there in reasonable time
			}
			// The best of three runs, so one scheduling hiccup does not decide.
			for range 3 {
				start := time.Now()
				r, err := assign.Solve(context.Background(), n, assign.Options{Gap: gap, Algorithm: alg, MaxIterations: 200000})
				if err != nil {
					return fmt.Errorf("bench traffic: %w", err)
				}
				if d := time.Since(start); times[i] == 0 || d < times[i] {
					times[i], iters[i], obj[i] = d, r.Iterations, r.Objective
				}
			}
		}
		if times[0] == 0 {
			fmt.Fprintf(tw, "relative gap %g\t(not run)\t%v, %d iterations, objective %.6f\t\n", gap, times[1].Round(time.Microsecond), iters[1], obj[1])
			continue
		}
		fmt.Fprintf(tw, "relative gap %g\t%v, %d iterations\t%v, %d iterations, objective %.6f\t%.0f×\n", gap,
			times[0].Round(time.Microsecond), iters[0], times[1].Round(time.Microsecond), iters[1], obj[1], float64(times[0])/float64(times[1]))
	}
	return tw.Flush()
}
