package csvimport

import (
	"bytes"
	"errors"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
)

// FuzzImport checks that Import never panics, that every error is an
// *importers.Error with a position, and that every feature delivered is
// valid.
//
//	go test ./importers/csvimport -fuzz FuzzImport -fuzztime 60s
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		"id,name,lon,lat\n1,Xinghai,121.6,38.9\n2,\"a, \"\"b\"\"\",121.64,38.92\n",
		"\xEF\xBB\xBFfid;x;y;height;floors\n7;121.6;38.9;12 m;3\n",
		"wkt\tname\nPOINT Z (1 2 3)\tx\n\"MULTIPOINT (1 2, 3 4)\"\ty\n",
		"id,wkt\n1,\"POLYGON ((0 0, 1 0, 1 1, 0 0), (0.2 0.1, 0.8 0.1, 0.8 0.7, 0.2 0.1))\"\n",
		"geom\n\"GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))\"\nSRID=4550;POINT(380000 4300000)\n",
		"lon,lat,valid_from,valid_to\n1,2,2020-01-01,2021-01-01T00:00:00Z\n",
		"lon,lat\n1,2\n1\n",
		"name\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var count int64
		st, err := Import(bytes.NewReader(data), importers.Options{File: "fuzz.csv", Layer: "fuzz"}, func(f *spatial.Feature) error {
			count++
			g := *f
			if f.ID == "" || g.Prepare() != nil {
				t.Errorf("feature %+v delivered but invalid", f)
			}
			return nil
		})
		if st.Features != count {
			t.Errorf("Import returned %+v, sink saw %d", st, count)
		}
		if err == nil {
			return
		}
		var e *importers.Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v is not an *importers.Error", err, err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		if e.File != "fuzz.csv" || e.Line < 1 || e.Line > lines || e.Column < 1 || e.Feature < 0 || e.Err == nil {
			t.Fatalf("error without a valid position (input has %d lines): %#v %v", lines, e, err)
		}
	})
}
