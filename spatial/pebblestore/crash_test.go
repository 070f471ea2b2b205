package pebblestore

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"citytwin/spatial"
	"citytwin/spatial/storetest"
)

// Environment of the writer process started by TestCrash.
const (
	crashDirEnv   = "PEBBLESTORE_CRASH_DIR"
	crashLayerEnv = "PEBBLESTORE_CRASH_LAYER"
)

const (
	crashSeed  = 30
	crashBatch = 50
)

// crashOp is step i of the writer's deterministic workload: a Put of new
// features plus moves of some earlier ones, or (every fifth step) a Delete.
type crashOp struct {
	put []*spatial.Feature
	del []string
}

func crashStep(layer string, i int) crashOp {
	if i%5 == 4 {
		// Delete some features that step i-3 (a put) created.
		var ids []string
		for j := range 5 {
			ids = append(ids, fmt.Sprintf("f%07d", (i-3)*crashBatch+j*7))
		}
		return crashOp{del: ids}
	}
	put := storetest.DalianFeatures(crashSeed, layer, i*crashBatch, crashBatch)
	if i >= 2 && (i-2)%5 != 4 {
		// Move five features of step i-2 elsewhere (new grid codes).
		for j := range 5 {
			n := (i-2)*crashBatch + j*9 + 1
			f := storetest.DalianFeature(crashSeed+1, layer, n*31+i)
			f.ID = fmt.Sprintf("f%07d", n)
			f.Version = uint64(1000 + i)
			put = append(put, f)
		}
	}
	return crashOp{put: put}
}

// crashModel returns the state after steps [0, n).
func crashModel(layer string, n int) map[string]*spatial.Feature {
	m := map[string]*spatial.Feature{}
	for i := range n {
		op := crashStep(layer, i)
		for _, f := range op.put {
			m[f.ID] = f
		}
		for _, id := range op.del {
			delete(m, id)
		}
	}
	return m
}

// TestHelperProcess is the writer of TestCrash, run in a child process: it
// applies crash steps to the store in $PEBBLESTORE_CRASH_DIR and prints
// "acked N" once step N has returned, until it is killed.
func TestHelperProcess(t *testing.T) {
	dir, layer := os.Getenv(crashDirEnv), os.Getenv(crashLayerEnv)
	if dir == "" {
		t.Skip("the writer process of TestCrash")
	}
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("ready")
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second) // never outlive a lost parent
	for i := 0; time.Now().Before(deadline); i++ {
		op := crashStep(layer, i)
		if op.del != nil {
			err = s.Delete(ctx, layer, op.del)
		} else {
			err = s.Put(ctx, op.put)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("acked %d\n", i)
	}
	os.Exit(3)
}

// TestCrash kills a writer process with SIGKILL at a random moment, three
// times over the same store, and checks after each that the store opens
// cleanly, passes Check, and holds exactly the state after the last
// acknowledged step (or after the next one, which may have been committed
// without being acknowledged) — and that earlier rounds' layers are intact.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	final := map[string]map[string]*spatial.Feature{} // earlier rounds
	for round := range 3 {
		layer := fmt.Sprintf("crash%d", round)
		acked := runAndKill(t, dir, layer, time.Duration(200+rng.IntN(300))*time.Millisecond)
		if acked == 0 {
			t.Fatalf("round %d: the writer acknowledged nothing before it was killed", round)
		}

		s, err := Open(dir)
		if err != nil {
			t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
		}
		ctx := context.Background()
		if err := s.Check(ctx); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		got := map[string]*spatial.Feature{}
		if err := s.Scan(ctx, layer, func(f *spatial.Feature) error { got[f.ID] = f; return nil }); err != nil {
			t.Fatalf("round %d: scan: %v", round, err)
		}
		committed := acked
		if sameState(crashModel(layer, acked+1), got) == "" {
			committed = acked + 1 // the unacknowledged step had been committed
		} else if d := sameState(crashModel(layer, acked), got); d != "" {
			t.Fatalf("round %d: after %d acknowledged steps the store holds neither their state nor the next: %s", round, acked, d)
		}
		t.Logf("round %d: killed after %d acknowledged steps; store holds %d steps (%d features)", round, acked, committed, len(got))
		for l, want := range final {
			g := map[string]*spatial.Feature{}
			if err := s.Scan(ctx, l, func(f *spatial.Feature) error { g[f.ID] = f; return nil }); err != nil {
				t.Fatal(err)
			}
			if d := sameState(want, g); d != "" {
				t.Fatalf("round %d: layer %s of an earlier round changed: %s", round, l, d)
			}
		}
		final[layer] = got
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// runAndKill runs the writer on a layer, kills it after the given time
// from its "ready", and returns how many steps it acknowledged.
func runAndKill(t *testing.T, dir, layer string, after time.Duration) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashLayerEnv+"="+layer)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	acked := -1
	handle := func(line string) {
		if n, ok := strings.CutPrefix(line, "acked "); ok {
			i, err := strconv.Atoi(n)
			if err != nil || i != acked+1 {
				t.Fatalf("writer printed %q after acked %d", line, acked)
			}
			acked = i
		}
	}
	select {
	case line, ok := <-lines:
		if !ok || line != "ready" {
			t.Fatalf("writer did not start: %q %s", line, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("writer did not start in 30 s")
	}
	timer := time.After(after)
	for killed := false; ; {
		select {
		case line, ok := <-lines:
			if !ok {
				if !killed {
					t.Fatalf("writer exited before it was killed: %s", stderr.String())
				}
				cmd.Wait()
				return acked + 1
			}
			handle(line)
		case <-timer:
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
}

// sameState describes how got differs from want, or returns "".
func sameState(want, got map[string]*spatial.Feature) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d features, want %d", len(got), len(want))
	}
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if d := storetest.Diff(want[id], got[id]); d != "" {
			return d
		}
	}
	return ""
}
