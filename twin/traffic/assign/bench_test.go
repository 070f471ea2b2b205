package assign

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSiouxFalls times gradient projection and the Frank–Wolfe
// baseline to the same relative gap on Sioux Falls:
//
//	go test ./twin/traffic/assign -run '^$' -bench SiouxFalls
func BenchmarkSiouxFalls(b *testing.B) {
	n := siouxFalls(b)
	for _, gap := range []float64{1e-4, 1e-5} {
		for _, alg := range []Algorithm{FrankWolfe, GradientProjection} {
			b.Run(fmt.Sprintf("gap=%g/%s", gap, alg), func(b *testing.B) {
				var r *Result
				for b.Loop() {
					var err error
					if r, err = Solve(context.Background(), n, Options{Gap: gap, Algorithm: alg}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(r.Iterations), "iterations")
				b.ReportMetric(r.Objective, "objective")
			})
		}
	}
	b.Run("gap=1e-12/gradient-projection", func(b *testing.B) {
		for b.Loop() {
			if _, err := Solve(context.Background(), n, Options{Gap: 1e-12}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
