package cityjson

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"citytwin/importers"
	"citytwin/spatial"
)

// FuzzImport feeds arbitrary input through both reader paths (seekable,
// and non-seekable one byte at a time): the importer must never panic,
// must fail only with *importers.Error, and must agree with itself.
func FuzzImport(f *testing.F) {
	dir := filepath.Join("..", "..", "..", "shared", "data", "cityjson", "conformance")
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.city.json*"))
	for _, fn := range files {
		if raw, err := os.ReadFile(fn); err == nil {
			f.Add(raw)
		}
	}
	var b bytes.Buffer
	seqHeader(&b, "EPSG:4326", 121, 39)
	lod1Feature(&b, "a", 0, 0, 10, 10, 3000)
	f.Add(b.Bytes())
	f.Add([]byte(hierarchyDoc))
	f.Add([]byte(`{"type":"CityJSON","version":"2.0","CityObjects":{"a":{"type":"Building","geometry":[{"type":"GeometryInstance","template":0,"boundaries":[0],"transformationMatrix":[1,0,0,0,0,1,0,0,0,0,1,0,0,0,0,1]}]}},"vertices":[[0,0,0]],"geometry-templates":{"templates":[{"type":"Solid","lod":"1","boundaries":[[[[0,1,2]]]]}],"vertices-templates":[[0,0,0],[1,0,0],[0,1,0]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run := func(r func() *bytes.Reader, slow bool) (int, error) {
			n := 0
			sink := func(ft *spatial.Feature) error {
				if ft == nil || ft.ID == "" || ft.Properties[PropType] == nil || !(ft.Height >= 0) || math.IsInf(ft.Height, 0) {
					t.Fatalf("bad feature %+v", ft)
				}
				// Every located feature must be storable.
				if ft.Geometry != nil {
					if err := ft.Clone().Prepare(); err != nil {
						t.Fatalf("emitted feature fails Prepare: %v", err)
					}
				}
				n++
				return nil
			}
			var err error
			if slow {
				_, err = Import(iotest.OneByteReader(r()), importers.Options{}, sink)
			} else {
				_, err = Import(r(), importers.Options{}, sink)
			}
			var ie *importers.Error
			if err != nil && !errors.As(err, &ie) {
				t.Fatalf("error %T is not *importers.Error: %v", err, err)
			}
			return n, err
		}
		if len(data) > 1<<16 {
			return
		}
		n1, err1 := run(func() *bytes.Reader { return bytes.NewReader(data) }, false)
		n2, err2 := run(func() *bytes.Reader { return bytes.NewReader(data) }, true)
		if (err1 == nil) != (err2 == nil) || (err1 == nil && n1 != n2) {
			t.Fatalf("seekable: %d, %v; stream: %d, %v", n1, err1, n2, err2)
		}
	})
}
