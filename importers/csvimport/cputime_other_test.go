//go:build !unix

package csvimport

import "time"

// cpuTime is not measured here; benchmarks then omit their CPU figure.
func cpuTime() time.Duration { return 0 }
