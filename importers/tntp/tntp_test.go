package tntp

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"citytwin/importers"
)

// sharedData returns ../shared/data/NAME beside the project, or skips the
// test with a clear message when the team's shared data is absent.
func sharedData(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
		t.Skipf("shared reference data not found at %s (it lives beside the project as ../shared): %v", dir, err)
	}
	return dir
}

const head = "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 3\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> %d\n<END OF METADATA>\n"

func TestReadNet(t *testing.T) {
	good := "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 3\n<FIRST THRU NODE> 3\n<NUMBER OF LINKS> 2\n<ORIGINAL HEADER>~ a b ;\n<END OF METADATA>\n\n" +
		"~\tinit\tterm\tcap\t...\t;\n" +
		"\t1\t3\t100.5\t2\t3\t0.15\t4\t0\t0\t1\t;\n" +
		"3 2 200 1 1.5 0 1 60 0.5 2; ~ trailing comment\n"
	n, err := ReadNet(strings.NewReader(good), "good.tntp")
	if err != nil {
		t.Fatal(err)
	}
	if n.Zones != 2 || n.Nodes != 3 || n.FirstThruNode != 3 || len(n.Links) != 2 {
		t.Fatalf("%+v", n)
	}
	want := Link{From: 3, To: 2, Capacity: 200, Length: 1, FreeFlowTime: 1.5, B: 0, Power: 1, Speed: 60, Toll: 0.5, Type: 2, Line: 10}
	if n.Links[1] != want {
		t.Errorf("link 2 = %+v, want %+v", n.Links[1], want)
	}
	// Without metadata counts, nodes and zones come from the rows.
	n, err = ReadNet(strings.NewReader("1 4 1 1 1 0.15 4 0 0 1;\n"), "bare")
	if err != nil || n.Nodes != 4 || n.Zones != 4 || n.FirstThruNode != 1 {
		t.Errorf("bare: %+v %v", n, err)
	}

	row := "1\t2\t100\t1\t1\t0.15\t4\t0\t0\t1\t;\n"
	for _, tc := range []struct {
		name, in, want string
		line           int
	}{
		{"missing column", "<NUMBER OF LINKS> 1\n<END OF METADATA>\n1 2 100 1 1 0.15 4 0 0 ;\n", "missing column type", 3},
		{"missing capacity", "1 2;\n", "missing column capacity", 1},
		{"extra column", "1 2 100 1 1 0.15 4 0 0 1 9;\n", "11 columns, want 10", 1},
		{"not a number", "1 2 1OO 1 1 0.15 4 0 0 1;\n", `capacity "1OO" is not a number`, 1},
		{"NaN", "1 2 NaN 1 1 0.15 4 0 0 1;\n", "is not a number", 1},
		{"bad node", "1 x 100 1 1 0.15 4 0 0 1;\n", `term node "x" is not a node number`, 1},
		{"node zero", "0 2 100 1 1 0.15 4 0 0 1;\n", "init node \"0\"", 1},
		{"unknown node", "<NUMBER OF NODES> 3\n<END OF METADATA>\n1 7 100 1 1 0.15 4 0 0 1;\n", "link 1-7 goes to an unknown node: <NUMBER OF NODES> is 3", 3},
		{"negative capacity", "1 2 -5 1 1 0.15 4 0 0 1;\n", "link 1-2: negative capacity -5", 1},
		{"zero capacity", "1 2 0 1 1 0.15 4 0 0 1;\n", "zero capacity", 1},
		{"negative time", "1 2 5 1 -1 0.15 4 0 0 1;\n", "negative free-flow time", 1},
		{"negative B", "1 2 5 1 1 -0.15 4 0 0 1;\n", "negative B", 1},
		{"loop", "2 2 5 1 1 0.15 4 0 0 1;\n", "loop", 1},
		{"fractional type", "1 2 5 1 1 0.15 4 0 0 1.5;\n", "type \"1.5\" is not an integer", 1},
		{"text after ;", "1 2 5 1 1 0.15 4 0 0 1; 7\n", "text after ';'", 1},
		{"too few links", strings.Replace(head, "%d", "3", 1) + row + row, "<NUMBER OF LINKS> is 3 but the file has 2 link rows", 7},
		{"too many links", strings.Replace(head, "%d", "1", 1) + row + row, "<NUMBER OF LINKS> is 1 but the file has 2", 7},
		{"bad count", "<NUMBER OF LINKS> many\n<END OF METADATA>\n", "<NUMBER OF LINKS> \"many\" is not a non-negative integer", 0},
		{"zones > nodes", "<NUMBER OF ZONES> 5\n<NUMBER OF NODES> 3\n<END OF METADATA>\n", "exceeds", 0},
		{"late metadata", row + "<NUMBER OF LINKS> 1\n", "metadata line after the metadata section", 2},
		{"unclosed metadata", "<NUMBER OF LINKS 1\n", "without closing '>'", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadNet(strings.NewReader(tc.in), "net.tntp")
			checkErr(t, err, "net.tntp", tc.line, tc.want)
		})
	}
}

// checkErr checks a positioned format error.
func checkErr(t *testing.T, err error, file string, line int, want string) {
	t.Helper()
	var e *importers.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want an *importers.Error", err, err)
	}
	if e.File != file || e.Line != line || !strings.Contains(err.Error(), want) {
		t.Errorf("got %q (line %d), want line %d and %q", err, e.Line, line, want)
	}
	if !errors.Is(err, importers.ErrFormat) {
		t.Errorf("%v is not importers.ErrFormat", err)
	}
}

func TestReadTrips(t *testing.T) {
	good := "<NUMBER OF ZONES> 3\n<TOTAL OD FLOW> 10.5\n<END OF METADATA>\n\nOrigin \t1\n  1 :  0.0;   2 :  4.0;  3 : 1.5;\n\norigin 3\n 1: 5;\n"
	tr, err := ReadTrips(strings.NewReader(good), "trips.tntp")
	if err != nil {
		t.Fatal(err)
	}
	want := []OD{{1, 1, 0}, {1, 2, 4}, {1, 3, 1.5}, {3, 1, 5}}
	if tr.Zones != 3 || tr.TotalFlow != 10.5 || len(tr.OD) != len(want) {
		t.Fatalf("%+v", tr)
	}
	for i := range want {
		if tr.OD[i] != want[i] {
			t.Errorf("OD %d = %+v, want %+v", i, tr.OD[i], want[i])
		}
	}
	for _, tc := range []struct {
		name, in, want string
		line           int
	}{
		{"before origin", "<END OF METADATA>\n1 : 2;\n", "demand before the first \"Origin N\"", 2},
		{"bad origin", "Origin x\n", `origin "x" is not a node number`, 1},
		{"origin not a zone", "<NUMBER OF ZONES> 2\n<END OF METADATA>\nOrigin 3\n", "origin 3 is not a zone", 3},
		{"dest not a zone", "<NUMBER OF ZONES> 2\n<END OF METADATA>\nOrigin 1\n 2 : 1; 3 : 1;\n", "destination 3 is not a zone", 4},
		{"no colon", "Origin 1\n 2  1;\n", `want "dest : flow;"`, 2},
		{"bad flow", "Origin 1\n 2 : abc;\n", `flow 1→2 "abc" is not a number`, 2},
		{"missing flow", "Origin 1\n 2 : ;\n", `is not a number`, 2},
		{"negative flow", "Origin 1\n 2 : -1;\n", "negative flow -1 from 1 to 2", 2},
		{"duplicate", "Origin 1\n 2 : 1; 2 : 1;\n", "second flow from 1 to 2", 2},
		{"total disagrees", "<TOTAL OD FLOW> 7\n<END OF METADATA>\nOrigin 1\n 2 : 1;\n", "<TOTAL OD FLOW> is 7 but the flows add up to 1", 4},
		{"bad total", "<TOTAL OD FLOW> lots\n", "<TOTAL OD FLOW> \"lots\"", 0},
		{"origin words", "Origin 1 2\n", "want \"Origin N\"", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadTrips(strings.NewReader(tc.in), "trips.tntp")
			checkErr(t, err, "trips.tntp", tc.line, tc.want)
		})
	}
}

func TestReadFlows(t *testing.T) {
	fl, err := ReadFlows(strings.NewReader("From \tTo \tVolume \tCost \n1 \t2 \t4494.5 \t6.0008 \n2 3 0 1;\n"), "flow.tntp")
	if err != nil {
		t.Fatal(err)
	}
	if len(fl) != 2 || fl[0] != (Flow{1, 2, 4494.5, 6.0008, 2}) || fl[1] != (Flow{2, 3, 0, 1, 3}) {
		t.Errorf("%+v", fl)
	}
	for _, tc := range []struct {
		name, in, want string
		line           int
	}{
		{"missing column", "From To Volume Cost\n1 2 3\n", "want 4 columns", 2},
		{"bad volume", "1 2 x 3\n", `volume "x" is not a number`, 1},
		{"bad node", "1 2 3 4\n1.5 2 3 4\n", `from node "1.5"`, 2},
		{"negative", "1 2 -3 4\n", "negative volume", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadFlows(strings.NewReader(tc.in), "flow.tntp")
			checkErr(t, err, "flow.tntp", tc.line, tc.want)
		})
	}
}

func TestLongLine(t *testing.T) {
	_, err := ReadNet(strings.NewReader(strings.Repeat("1", maxLine+10)), "long")
	checkErr(t, err, "long", 1, "line longer than")
}

func TestSharedFiles(t *testing.T) {
	sf := sharedData(t, "siouxfalls")
	br := sharedData(t, "braess")
	for _, tc := range []struct {
		net, trips, flow             string
		zones, nodes, first, links   int
		ods                          int
		total, firstCap, lastFlowVol float64
	}{
		{filepath.Join(sf, "SiouxFalls_net.tntp"), filepath.Join(sf, "SiouxFalls_trips.tntp"), filepath.Join(sf, "SiouxFalls_flow.tntp"),
			24, 24, 1, 76, 576, 360600, 25900.20064, 7861.8332437957288},
		{filepath.Join(br, "Braess_net.tntp"), filepath.Join(br, "Braess_trips.tntp"), "",
			2, 4, 1, 5, 2, 6, 1, 0},
	} {
		t.Run(filepath.Base(tc.net), func(t *testing.T) {
			n, err := ReadNetFile(tc.net)
			if err != nil {
				t.Fatal(err)
			}
			if n.Zones != tc.zones || n.Nodes != tc.nodes || n.FirstThruNode != tc.first || len(n.Links) != tc.links || n.Links[0].Capacity != tc.firstCap {
				t.Errorf("net: zones %d nodes %d first %d links %d cap %g", n.Zones, n.Nodes, n.FirstThruNode, len(n.Links), n.Links[0].Capacity)
			}
			for _, l := range n.Links {
				if l.Power != 4 && l.Power != 1 {
					t.Errorf("link %+v", l)
				}
			}
			tr, err := ReadTripsFile(tc.trips)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0.0
			for _, od := range tr.OD {
				sum += od.Flow
			}
			if len(tr.OD) != tc.ods || tr.TotalFlow != tc.total || sum != tc.total {
				t.Errorf("trips: %d pairs, total %g, sum %g", len(tr.OD), tr.TotalFlow, sum)
			}
			if tc.flow == "" {
				return
			}
			fl, err := ReadFlowsFile(tc.flow)
			if err != nil {
				t.Fatal(err)
			}
			if len(fl) != len(n.Links) {
				t.Fatalf("%d flows for %d links", len(fl), len(n.Links))
			}
			for i, f := range fl {
				if f.From != n.Links[i].From || f.To != n.Links[i].To {
					t.Errorf("flow row %d: %d-%d, link %d-%d", i, f.From, f.To, n.Links[i].From, n.Links[i].To)
				}
			}
			if last := fl[len(fl)-1].Volume; math.Abs(last-tc.lastFlowVol) > 1e-6 {
				t.Errorf("last volume %g", last)
			}
		})
	}
	if _, err := ReadNetFile(filepath.Join(sf, "absent.tntp")); err == nil {
		t.Error("absent file read")
	}
}
