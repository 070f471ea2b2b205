package csvimport

import (
	"io"
	"strconv"
)

// rowGen is an io.Reader producing a CSV of n building rows on the fly,
// with a WKT polygon of verts vertices when verts > 0, else lon/lat.
type rowGen struct {
	n, verts int
	i        int
	buf      []byte
	pos      int
	bytes    int64
}

func newRowGen(n, verts int) *rowGen {
	g := &rowGen{n: n, verts: verts}
	if verts > 0 {
		g.buf = append(g.buf, "id,name,height,building:levels,use,year,heated,wkt\n"...)
	} else {
		g.buf = append(g.buf, "id,name,height,building:levels,use,year,heated,lon,lat\n"...)
	}
	return g
}

func (g *rowGen) row(b []byte, i int) []byte {
	lon := 121.5 + float64(i%1000)*0.0002
	lat := 38.85 + float64(i/1000%1000)*0.0002
	b = append(b, 'b')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, ",\"Building "...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, "\","...)
	b = strconv.AppendFloat(b, 3+float64(i%97)*0.5, 'f', 1, 64)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(1+i%30), 10)
	b = append(b, ",residential,1998,true,"...)
	if g.verts == 0 {
		b = strconv.AppendFloat(b, lon, 'f', 7, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, lat, 'f', 7, 64)
		return append(b, '\n')
	}
	b = append(b, "\"POLYGON (("...)
	// A regular-ish polygon: a square's corners repeated around.
	for k := 0; k <= g.verts; k++ {
		if k > 0 {
			b = append(b, ", "...)
		}
		dx := [4]float64{0, 1, 1, 0}[k%g.verts%4]
		dy := [4]float64{0, 0, 1, 1}[k%g.verts%4]
		b = strconv.AppendFloat(b, lon+dx*0.0001+float64(k%g.verts/4)*1e-6, 'f', 7, 64)
		b = append(b, ' ')
		b = strconv.AppendFloat(b, lat+dy*0.0001, 'f', 7, 64)
	}
	return append(b, "))\"\n"...)
}

// Read implements io.Reader.
func (g *rowGen) Read(p []byte) (int, error) {
	for g.pos == len(g.buf) {
		if g.i == g.n {
			return 0, io.EOF
		}
		g.buf, g.pos = g.buf[:0], 0
		for k := 0; k < 64 && g.i < g.n; k++ {
			g.buf = g.row(g.buf, g.i)
			g.i++
		}
	}
	n := copy(p, g.buf[g.pos:])
	g.pos += n
	g.bytes += int64(n)
	return n, nil
}
