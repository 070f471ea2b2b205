package geojson

import (
	"bytes"
	"errors"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
)

// FuzzImport checks that Import never panics, that every error is an
// *importers.Error with a position inside the input, and that every
// feature delivered is valid.
//
//	go test ./importers/geojson -fuzz FuzzImport -fuzztime 60s
func FuzzImport(f *testing.F) {
	for _, s := range []string{
		pointA,
		squareFC,
		`{"type":"FeatureCollection","features":[` + pointA + "," + squareFC + `]}`,
		pointA + "\n" + pointB + "\n",
		"\x1e" + pointA + "\n\x1e" + pointB + "\n",
		"\xEF\xBB\xBF[" + pointA + "]",
		`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2,3]},{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}]}`,
		`{"type":"MultiLineString","coordinates":[[[1,2],[3,4]]],"crs":{"type":"name","properties":{"name":"EPSG:4550"}}}`,
		`{"type":"FeatureCollection","crs":{"type":"EPSG","properties":{"code":4549}},"features":[{"type":"Feature","id":1.5,"geometry":{"type":"Point","coordinates":[500000,4300000]}}]}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"height":"12 m","floors":"3","valid_from":"2020-01-01","valid_to":"2021-01-01T00:00:00Z","x":{"y":[1,null,"\u00e9"]}}}`,
		`{"type":"Feature","geometry":null}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[1,2],[3,4]]]}}`,
		"{\n\"type\":\"Foo\"\n}",
		"[]",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		opts := importers.Options{File: "fuzz.geojson", Layer: "fuzz"}
		var count int64
		st, err := Import(bytes.NewReader(data), opts, func(f *spatial.Feature) error {
			count++
			if f.Layer != "fuzz" || f.ID == "" {
				t.Errorf("feature %+v", f)
			}
			g := *f
			if err := g.Prepare(); err != nil {
				t.Errorf("feature %s delivered but invalid: %v", f.ID, err)
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
		if e.File != "fuzz.geojson" || e.Line < 1 || e.Line > lines || e.Column < 1 || e.Feature < 0 || e.Err == nil {
			t.Fatalf("error without a valid position (input has %d lines): %#v %v", lines, e, err)
		}
		if e.Line == lines {
			if start := bytes.LastIndexByte(data, '\n') + 1; e.Column > len(data)-start+1 {
				t.Fatalf("column %d beyond the last line: %v", e.Column, err)
			}
		}
	})
}
