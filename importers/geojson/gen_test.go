package geojson

import (
	"fmt"
	"io"
	"math"
	"strconv"
)

// buildingGen is an io.Reader producing a FeatureCollection of n building
// polygons on the fly, so that tests can stream hundreds of megabytes
// without holding or writing them.
type buildingGen struct {
	n, verts int
	i        int // features written
	buf      []byte
	pos      int
	done     bool
	bytes    int64
}

// newBuildingGen returns a generator of n buildings with verts vertices
// (plus the closing one) each.
func newBuildingGen(n, verts int) *buildingGen {
	g := &buildingGen{n: n, verts: verts}
	g.buf = append(g.buf, `{"type":"FeatureCollection","name":"generated buildings","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features":[`...)
	return g
}

// appendBuilding appends feature i: a regular polygon around a point of a
// grid over Dalian.
func appendBuilding(b []byte, i, verts int) []byte {
	lon0 := 121.5 + float64(i%1000)*0.0002
	lat0 := 38.85 + float64(i/1000%1000)*0.0002
	b = append(b, `{"type":"Feature","id":"b`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","properties":{"name":"Building `...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","height":`...)
	b = strconv.AppendFloat(b, 3+float64(i%97)*0.5, 'f', 1, 64)
	b = append(b, `,"building:levels":"`...)
	b = strconv.AppendInt(b, int64(1+i%30), 10)
	b = append(b, `","use":"residential","year":1998,"heated":true},"geometry":{"type":"Polygon","coordinates":[[`...)
	for k := 0; k <= verts; k++ {
		a := 2 * math.Pi * float64(k%verts) / float64(verts)
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendFloat(b, lon0+0.00005*math.Cos(a), 'f', 7, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, lat0+0.00004*math.Sin(a), 'f', 7, 64)
		b = append(b, ']')
	}
	return append(b, "]]}}"...)
}

// Read implements io.Reader.
func (g *buildingGen) Read(p []byte) (int, error) {
	for g.pos == len(g.buf) {
		if g.done {
			return 0, io.EOF
		}
		g.buf, g.pos = g.buf[:0], 0
		for k := 0; k < 64 && g.i < g.n; k++ {
			if g.i > 0 {
				g.buf = append(g.buf, ",\n"...)
			}
			g.buf = appendBuilding(g.buf, g.i, g.verts)
			g.i++
		}
		if g.i == g.n {
			g.buf = append(g.buf, "]}\n"...)
			g.done = true
		}
	}
	n := copy(p, g.buf[g.pos:])
	g.pos += n
	g.bytes += int64(n)
	return n, nil
}

// generated returns a whole generated collection in memory.
func generated(n, verts int) []byte {
	b, err := io.ReadAll(newBuildingGen(n, verts))
	if err != nil {
		panic(fmt.Sprint("generator: ", err))
	}
	return b
}
