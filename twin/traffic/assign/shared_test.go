package assign

import (
	"os"
	"path/filepath"
	"testing"

	"citytwin/importers/tntp"
)

// sharedData returns ../shared/data/NAME beside the project, or skips the
// test with a clear message when the team's shared data is absent.
func sharedData(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("shared reference data not found at %s (it lives beside the project as ../shared): %v", dir, err)
	}
	return dir
}

// load reads a TNTP network and trip table from the shared data.
func load(t testing.TB, dir, net, trips string) *Network {
	t.Helper()
	d := sharedData(t, dir)
	nf, err := tntp.ReadNetFile(filepath.Join(d, net))
	if err != nil {
		t.Fatal(err)
	}
	tf, err := tntp.ReadTripsFile(filepath.Join(d, trips))
	if err != nil {
		t.Fatal(err)
	}
	return fromTNTP(nf, tf)
}

func fromTNTP(nf *tntp.Net, tf *tntp.Trips) *Network {
	n := &Network{Nodes: nf.Nodes, Zones: nf.Zones, FirstThruNode: nf.FirstThruNode}
	for _, l := range nf.Links {
		n.Links = append(n.Links, Link{From: l.From, To: l.To, Capacity: l.Capacity, FreeFlowTime: l.FreeFlowTime, B: l.B, Power: l.Power})
	}
	for _, d := range tf.OD {
		n.Demand = append(n.Demand, Demand{Origin: d.Origin, Dest: d.Dest, Flow: d.Flow})
	}
	return n
}

func siouxFalls(t testing.TB) *Network {
	return load(t, "siouxfalls", "SiouxFalls_net.tntp", "SiouxFalls_trips.tntp")
}
