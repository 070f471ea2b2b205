package cityjson

import (
	"bytes"
	"fmt"
	"testing"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"
)

// benchSeq generates a CityJSONSeq of n LoD1 buildings in CGCS2000
// Gauss-Krüger CM 123E (EPSG:4550) around Dalian, on a 20 m grid.
func benchSeq(b *testing.B, n int) []byte {
	gk, err := crs.Lookup("EPSG:4550")
	if err != nil {
		b.Fatal(err)
	}
	e0, n0, _ := gk.FromWGS84(121.6, 38.9)
	var buf bytes.Buffer
	seqHeader(&buf, "https://www.opengis.net/def/crs/EPSG/0/4550", float64(int64(e0)), float64(int64(n0)))
	for i := 0; i < n; i++ {
		x, y := int64(i%250)*20000, int64(i/250)*20000
		lod1Feature(&buf, fmt.Sprintf("bldg-%06d", i), x, y, 12000+int64(i%7)*500, 9000, 6000+int64(i%30)*1000)
	}
	return buf.Bytes()
}

// BenchmarkImportSeq50k imports 50,000 LoD1 buildings from CityJSONSeq.
func BenchmarkImportSeq50k(b *testing.B) {
	const n = 50000
	data := benchSeq(b, n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		count := 0
		st, err := Import(bytes.NewReader(data), importers.Options{}, func(*spatial.Feature) error {
			count++
			return nil
		})
		if err != nil || count != n || st.Features != n {
			b.Fatalf("%d features: %v", count, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/building")
}

// BenchmarkImportPlain50k imports the same buildings as one plain CityJSON
// file with CityObjects before the shared vertices (two passes over a
// seekable reader).
func BenchmarkImportPlain50k(b *testing.B) {
	const n = 50000
	var buf bytes.Buffer
	buf.WriteString(`{"type":"CityJSON","version":"2.0","CityObjects":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		v := 8 * i
		fmt.Fprintf(&buf, `"bldg-%06d":{"type":"Building","attributes":{"storeysAboveGround":4},"geometry":[{"type":"Solid","lod":"1.2","boundaries":[[[[%d,%d,%d,%d]],[[%d,%d,%d,%d]],[[%d,%d,%d,%d]],[[%d,%d,%d,%d]],[[%d,%d,%d,%d]],[[%d,%d,%d,%d]]]]}]}`,
			i, v, v+3, v+2, v+1, v+4, v+5, v+6, v+7, v, v+1, v+5, v+4, v+1, v+2, v+6, v+5, v+2, v+3, v+7, v+6, v+3, v, v+4, v+7)
	}
	buf.WriteString(`},"vertices":[`)
	for i := 0; i < n; i++ {
		x, y := int64(i%250)*20000, int64(i/250)*20000
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "[%d,%d,0],[%d,%d,0],[%d,%d,0],[%d,%d,0],[%d,%d,9000],[%d,%d,9000],[%d,%d,9000],[%d,%d,9000]",
			x, y, x+12000, y, x+12000, y+9000, x, y+9000, x, y, x+12000, y, x+12000, y+9000, x, y+9000)
	}
	buf.WriteString(`],"transform":{"scale":[0.001,0.001,0.001],"translate":[553000,4306000,0]},"metadata":{"referenceSystem":"https://www.opengis.net/def/crs/EPSG/0/4550"}}`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := Import(bytes.NewReader(data), importers.Options{}, func(*spatial.Feature) error { return nil })
		if err != nil || st.Features != n {
			b.Fatalf("%d features: %v", st.Features, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/building")
}
