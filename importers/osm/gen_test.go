package osm

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"testing"
	"time"

	"citytwin/importers"
	"citytwin/spatial"
)

// genOSM streams a synthetic OSM file without holding it: nodes ways×10
// nodes, then ways: way i uses nodes 10i … 10i+9. Every other way is a
// road (10 nodes in a line); the others are buildings (a nonagon of nodes
// 10i … 10i+8, closed) whose tenth node is a POI (a shop). Every 100th
// way is an untagged ring that a multipolygon relation (landuse=grass)
// uses as its outer.
type genOSM struct {
	ways  int64
	stage int // 0 header, 1 nodes, 2 ways, 3 relations, 4 footer, 5 done
	i     int64
	buf   bytes.Buffer
}

func newGen(ways int64) *genOSM { return &genOSM{ways: ways} }

func (g *genOSM) nodeCoord(id int64) (lon, lat float64) {
	w, j := id/10, id%10
	// Ways on a 1000-wide grid of 0.001° cells around Dalian.
	cx := 121.0 + float64(w%1000)*0.001
	cy := 38.7 + float64(w/1000)*0.001
	if w%2 == 1 && j < 9 { // building: a nonagon of radius 0.0003°
		a := 2 * math.Pi * float64(j) / 9
		return cx + 0.0003*math.Cos(a), cy + 0.0003*math.Sin(a)
	}
	return cx + float64(j)*0.0001, cy
}

func (g *genOSM) fill() {
	b := &g.buf
	switch g.stage {
	case 0:
		b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm version=\"0.6\" generator=\"citytwin test\">\n")
		g.stage, g.i = 1, 0
	case 1:
		var a []byte
		for k := 0; k < 1000 && g.i < g.ways*10; k++ {
			lon, lat := g.nodeCoord(g.i)
			a = append(a[:0], `  <node id="`...)
			a = strconv.AppendInt(a, g.i+1, 10)
			a = append(a, `" version="3" timestamp="2024-05-01T10:00:00Z" lat="`...)
			a = strconv.AppendFloat(a, lat, 'f', 7, 64)
			a = append(a, `" lon="`...)
			a = strconv.AppendFloat(a, lon, 'f', 7, 64)
			if (g.i/10)%2 == 1 && g.i%10 == 9 {
				a = append(a, "\">\n    <tag k=\"shop\" v=\"convenience\"/>\n    <tag k=\"name\" v=\"便利店 "...)
				a = strconv.AppendInt(a, g.i, 10)
				a = append(a, "\"/>\n  </node>\n"...)
			} else {
				a = append(a, "\"/>\n"...)
			}
			b.Write(a)
			g.i++
		}
		if g.i == g.ways*10 {
			g.stage, g.i = 2, 0
		}
	case 2:
		for k := 0; k < 100 && g.i < g.ways; k++ {
			w := g.i
			fmt.Fprintf(b, "  <way id=\"%d\" version=\"2\">\n", w+1)
			n := 10
			if w%2 == 1 {
				n = 9
			}
			var a []byte
			for j := 0; j < n; j++ {
				a = append(a, `    <nd ref="`...)
				a = strconv.AppendInt(a, w*10+int64(j)+1, 10)
				a = append(a, "\"/>\n"...)
			}
			b.Write(a)
			switch {
			case w%100 == 99:
				fmt.Fprintf(b, "    <nd ref=\"%d\"/>\n", w*10+1)
			case w%2 == 1:
				fmt.Fprintf(b, "    <nd ref=\"%d\"/>\n    <tag k=\"building\" v=\"yes\"/>\n    <tag k=\"building:levels\" v=\"%d\"/>\n", w*10+1, 1+w%30)
			default:
				fmt.Fprintf(b, "    <tag k=\"highway\" v=\"residential\"/>\n    <tag k=\"name\" v=\"路 %d\"/>\n    <tag k=\"maxspeed\" v=\"30\"/>\n", w)
			}
			b.WriteString("  </way>\n")
			g.i++
		}
		if g.i == g.ways {
			g.stage, g.i = 3, 0
		}
	case 3:
		for w := int64(99); w < g.ways; w += 100 {
			fmt.Fprintf(b, "  <relation id=\"%d\">\n    <member type=\"way\" ref=\"%d\" role=\"outer\"/>\n    <tag k=\"type\" v=\"multipolygon\"/>\n    <tag k=\"landuse\" v=\"grass\"/>\n  </relation>\n", w/100+1, w+1)
		}
		g.stage = 4
	case 4:
		b.WriteString("</osm>\n")
		g.stage = 5
	}
}

func (g *genOSM) Read(p []byte) (int, error) {
	for g.buf.Len() == 0 {
		if g.stage == 5 {
			return 0, io.EOF
		}
		g.fill()
	}
	return g.buf.Read(p)
}

// wantFeatures is what an import of newGen(ways) must produce.
func wantFeatures(ways int64) (roads, buildings, pois, relations int64) {
	for w := int64(0); w < ways; w++ {
		switch {
		case w%100 == 99:
			relations++
		case w%2 == 1:
			buildings++
		default:
			roads++
		}
		if w%2 == 1 {
			pois++
		}
	}
	return
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryPerNode streams 1 million nodes and 100,000 ways through a
// plain io.Reader (one pass, so every way's node list is kept too) and
// measures the live heap once the nodes are in and at the end.
func TestMemoryPerNode(t *testing.T) {
	ways := int64(100_000)
	if testing.Short() {
		ways = 10_000
	}
	nodes := ways * 10
	base := heapAlloc()
	var afterNodes, atEnd uint64
	var counted int64
	start := time.Now()
	st, err := Import(newGen(ways), importers.Options{File: "generated.osm"}, func(f *spatial.Feature) error {
		counted++
		if f.ID == "w1" { // the first way: all nodes are stored
			afterNodes = heapAlloc()
		}
		if f.ID == fmt.Sprintf("r%d", ways/100) { // the last relation
			atEnd = heapAlloc()
		}
		return nil
	})
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	roads, buildings, pois, rels := wantFeatures(ways)
	if st.Nodes != nodes || st.Ways != ways || st.Layers[LayerRoads] != roads || st.Layers[LayerBuildings] != buildings ||
		st.Layers[LayerPOIs] != pois || st.Layers[LayerLanduse] != rels || st.WarningCount != 0 {
		t.Fatalf("stats %+v; want %d roads, %d buildings, %d pois, %d relations", st, roads, buildings, pois, rels)
	}
	perNode := float64(afterNodes-base) / float64(nodes)
	perNodeEnd := float64(atEnd-base) / float64(nodes)
	t.Logf("%d nodes, %d ways, %d features in %v (%.0f nodes/s)", st.Nodes, st.Ways, st.Features, elapsed.Round(time.Millisecond), float64(nodes)/elapsed.Seconds())
	t.Logf("live heap after nodes: %.1f MB = %.1f B/node (node store estimate %.1f B/node)",
		float64(afterNodes-base)/1e6, perNode, float64(st.NodeStoreBytes)/float64(st.StoredNodes))
	t.Logf("live heap at end: %.1f MB = %.1f B/node, including %d way node lists in %.1f MB (%.1f B/way)",
		float64(atEnd-base)/1e6, perNodeEnd, st.KeptWays, float64(st.WayStoreBytes)/1e6, float64(st.WayStoreBytes)/float64(st.KeptWays))
	if testing.Short() {
		return // fixed costs (buffers, the decoder) dominate a small file
	}
	if perNode > 16 {
		t.Errorf("%.1f bytes per node after the nodes, want at most 16", perNode)
	}
	if perNodeEnd > 24 {
		t.Errorf("%.1f bytes per node at the end, want at most 24", perNodeEnd)
	}
}

func benchImport(b *testing.B, ways int64, single bool) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, newGen(ways)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	im := &Importer{SinglePass: single}
	var st *Stats
	b.ResetTimer()
	for b.Loop() {
		var err error
		st, err = im.Import(bytes.NewReader(data), func(*spatial.Feature) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(st.Nodes)/sec, "nodes/s")
	b.ReportMetric(float64(st.Ways)/sec, "ways/s")
	b.ReportMetric(float64(st.Features)/sec, "features/s")
}

// BenchmarkImport imports a generated file of 200,000 nodes and 20,000
// ways (14 MB) from memory: two passes (seekable input) and one.
func BenchmarkImport(b *testing.B) {
	b.Run("two-pass", func(b *testing.B) { benchImport(b, 20_000, false) })
	b.Run("one-pass", func(b *testing.B) { benchImport(b, 20_000, true) })
}

// BenchmarkXMLFloor only tokenizes the BenchmarkImport file with
// encoding/xml, the lower bound of the import's time.
func BenchmarkXMLFloor(b *testing.B) {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, newGen(20_000)); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := xml.NewDecoder(bytes.NewReader(data))
		for {
			if _, err := d.Token(); err != nil {
				break
			}
		}
	}
}
