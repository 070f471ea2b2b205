package tntp

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"citytwin/importers"
)

// checkFuzzErr checks that an error from a reader is positioned.
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	var e *importers.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *importers.Error", err, err)
	}
	if e.File != "fuzz" {
		t.Fatalf("error %v does not name the file", err)
	}
}

// FuzzReadNet checks that ReadNet never panics, that errors are
// positioned and that every link it returns is valid.
//
//	go test ./importers/tntp -fuzz FuzzReadNet -fuzztime 60s
func FuzzReadNet(f *testing.F) {
	for _, s := range []string{
		"<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 4\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> 2\n<END OF METADATA>\n~ c\n\t1\t3\t1\t100\t1e-8\t1e9\t1\t0\t0\t1\t;\n\t4\t2\t1\t100\t0.00000001\t1000000000\t1\t0\t0\t1;\n",
		"1 2 100 1 1 0.15 4 0 0 1;\n",
		"<NUMBER OF LINKS> 1\n<END OF METADATA>\n1 2 -1 1 1 0.15 4 0 0 1;\n",
		"<X\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ReadNet(bytes.NewReader(data), "fuzz")
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if n.Zones > n.Nodes {
			t.Errorf("zones %d > nodes %d", n.Zones, n.Nodes)
		}
		for _, l := range n.Links {
			if l.From < 1 || l.To < 1 || l.From > n.Nodes || l.To > n.Nodes || l.From == l.To ||
				l.Capacity < 0 || l.FreeFlowTime < 0 || l.B < 0 || l.Power < 0 || math.IsNaN(l.Capacity+l.FreeFlowTime+l.B+l.Power) {
				t.Errorf("invalid link %+v accepted", l)
			}
		}
	})
}

// FuzzReadTrips checks that ReadTrips never panics and returns only valid
// demand.
//
//	go test ./importers/tntp -fuzz FuzzReadTrips -fuzztime 60s
func FuzzReadTrips(f *testing.F) {
	for _, s := range []string{
		"<NUMBER OF ZONES> 2\n<TOTAL OD FLOW>   6.0\n<END OF METADATA>\n\nOrigin \t1 \n    1 :      0.0;     2 :     6.0;\n",
		"Origin 1\n 2 : 1; 3 : 2.5e3;\nOrigin 2\n1:1\n",
		"1 : 2;\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := ReadTrips(bytes.NewReader(data), "fuzz")
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		for _, od := range tr.OD {
			if od.Origin < 1 || od.Dest < 1 || !(od.Flow >= 0) || math.IsInf(od.Flow, 0) || (tr.Zones > 0 && (od.Origin > tr.Zones || od.Dest > tr.Zones)) {
				t.Errorf("invalid OD %+v accepted", od)
			}
		}
	})
}

// FuzzReadFlows checks that ReadFlows never panics.
//
//	go test ./importers/tntp -fuzz FuzzReadFlows -fuzztime 60s
func FuzzReadFlows(f *testing.F) {
	for _, s := range []string{
		"From \tTo \tVolume \tCost \n1 \t2 \t4494.6576464564205 \t6.0008162373543197 \n",
		"1 2 3 4;\n1 2\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := ReadFlows(bytes.NewReader(data), "fuzz")
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		for _, r := range fl {
			if r.From < 1 || r.To < 1 || !(r.Volume >= 0) {
				t.Errorf("invalid row %+v accepted", r)
			}
		}
	})
}
