//go:build !unix

package geojson

import "time"

// cpuTime is not measured here; benchmarks then omit their CPU figure.
func cpuTime() time.Duration { return 0 }
