package osm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
)

// FuzzImport feeds arbitrary bytes to the importer: it must not panic;
// every failure must be an *importers.Error, positioned (line > 0) when it
// is a format error; every feature must be valid; and the one-pass and
// two-pass modes must agree.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.osm")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"<osm/>",
		"<osm><node id='1' lat='1' lon='1'><tag k='amenity' v='x'/></node></osm>",
		"<osm><way id='1'><nd ref='1'/></way><relation id='1'><member type='way' ref='1' role='outer'/><tag k='type' v='multipolygon'/><tag k='building' v='yes'/></relation></osm>",
		"<osm><!-- <relation --><relation id='2'><tag k='type' v='boundary'/></relation></osm>",
		"<osm><node id='1' lat='1e2' lon='-0'/>",
		"<osm><way id='9'><nd ref='1'/><nd ref='1'/><nd ref='1'/><nd ref='1'/><tag k='building' v='yes'/></way></osm>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var keys [2][]string
		var errs [2]error
		for mode, single := range []bool{false, true} {
			im := &Importer{Options: importers.Options{File: "fuzz.osm"}, SinglePass: single}
			_, err := im.Import(bytes.NewReader(data), func(f *spatial.Feature) error {
				if err := spatial.CheckGeometry(f.Geometry); err != nil {
					t.Errorf("%s/%s: invalid geometry: %v", f.Layer, f.ID, err)
				}
				if f.Code.Level() == 0 && f.Geometry.Bound().Max != f.Geometry.Bound().Min {
					t.Errorf("%s/%s: not prepared", f.Layer, f.ID)
				}
				keys[mode] = append(keys[mode], f.Layer+"/"+f.ID)
				return nil
			})
			errs[mode] = err
			if err == nil {
				continue
			}
			var ie *importers.Error
			if !errors.As(err, &ie) {
				t.Fatalf("error %v (%T) is not an *importers.Error", err, err)
			}
			if errors.Is(err, importers.ErrFormat) && ie.Line <= 0 {
				t.Errorf("format error without a line: %v", err)
			}
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Errorf("two-pass error %v, one-pass error %v", errs[0], errs[1])
		}
		if errs[0] == nil && len(keys[0]) != len(keys[1]) {
			t.Errorf("two passes gave %v, one pass %v", keys[0], keys[1])
		}
	})
}
