// Command citytwin is CityTwin's single binary: the spatiotemporal
// digital-twin server and its command-line tools.
//
// Usage:
//
//	citytwin grid encode --lat LAT --lon LON [--height M] [--time RFC3339] --level N [--scheme S]
//	citytwin grid encode --level N [--scheme S] < points
//	citytwin grid decode CODE
//	citytwin grid cover --geojson FILE --level N [--max-cells K] [--ranges]
//	citytwin bench gridcode
//	citytwin simulate vehicles --n N [--server URL] [--rate HZ] [--duration D]
//
// Every command exits non-zero with a one-line error on bad input.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// env is what a command sees of the process, so tests can run commands in
// the same process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func main() {
	os.Exit(run(os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}))
}

// commands maps each top-level command to its implementation.
func commands() map[string]func(args []string, e env) error {
	return map[string]func([]string, env) error{
		"serve":  runServe,
		"sample": runSample,
		"import": runImport,
		"grid":   runGrid,
		"bench":  runBench,
		// simulate vehicles: drive vehicles along the streets through the API
		"simulate": runSimulate,
		// traffic assign: static user-equilibrium assignment of TNTP networks
		"traffic": runTraffic,
		// hidden: the load generator that "bench tiles" runs as a second process
		"bench-client": runBenchClient,
		// hidden: the fresh process in which "bench ingest" measures memory
		"bench-live-mem": runBenchLiveMem,
	}
}

const usage = `usage: citytwin <command> [arguments]

commands:
  serve         run the server (loads the Dalian sample city into an empty store)
  sample        generate the Dalian sample city (or a larger synthetic one) into a store
  import        import geojson, cityjson, osm or csv files into a layer
  grid encode   encode points as GeoSOT, GeoSOT 3D, BeiDou, H3, time or space-time codes
  grid decode   describe a grid code as JSON
  grid cover    cover a GeoJSON polygon with GeoSOT cells
  bench         run benchmarks: gridcode, index, tiles, ingest, traffic
  simulate      drive simulated vehicles along a server's streets (live objects API)
  traffic assign  user-equilibrium traffic assignment of a TNTP network and trip table
`

// run executes one command line and returns the process exit code.
func run(args []string, e env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "citytwin: unknown command %q (try citytwin help)\n", args[0])
		return 2
	}
	if err := cmd(args[1:], e); err != nil {
		var help *helpRequest
		if errors.As(err, &help) {
			fmt.Fprintf(e.stdout, "usage: citytwin %s [flags] [arguments]\n\nflags:\n", help.fs.Name())
			help.fs.SetOutput(e.stdout)
			help.fs.PrintDefaults()
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(e.stderr, "citytwin %s: %s\n", args[0], oneLine(err.Error()))
		return 1
	}
	return 0
}

// oneLine keeps an error message to a single line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.ReplaceAll(s, "\n", "; ")
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, and returns the positional ones.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, &helpRequest{fs}
			}
			return nil, fmt.Errorf("%w (flags: %s)", err, flagNames(fs))
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// helpRequest is -h or --help on a command: run prints its flags.
type helpRequest struct{ fs *flag.FlagSet }

func (h *helpRequest) Error() string { return "help requested" }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

// flagNames lists a flag set's flags for error messages.
func flagNames(fs *flag.FlagSet) string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	return strings.Join(names, " ")
}
