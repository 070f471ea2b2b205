package gridcode

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/golang/geo/s2"
	"github.com/uber/h3-go/v4"
)

// benchPts are points over greater Dalian.
func benchPts() [][2]float64 {
	r := rand.New(rand.NewPCG(42, 42))
	pts := make([][2]float64, 4096)
	for i := range pts {
		pts[i] = [2]float64{38.6 + r.Float64()*1.7, 120.8 + r.Float64()*2.8}
	}
	return pts
}

var sink uint64

// BenchmarkEncodeBaselines runs our encoders and the h3-go and S2 baselines
// in one run so their ratios are comparable on a noisy machine.
func BenchmarkEncodeBaselines(b *testing.B) {
	pts := benchPts()
	at := time.Date(2026, 7, 21, 9, 15, 0, 0, time.UTC)
	b.Run("h3-go-LatLngToCell-res15", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := pts[i&4095]
			sink += uint64(h3.LatLngToCell(h3.NewLatLng(p[0], p[1]), 15))
		}
	})
	b.Run("s2-CellIDFromLatLng", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := pts[i&4095]
			sink += uint64(s2.CellIDFromLatLng(s2.LatLngFromDegrees(p[0], p[1])))
		}
	})
	b.Run("GeoSOT-Encode-L32", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := pts[i&4095]
			c, _ := Encode(p[0], p[1], 32)
			sink += c.Bits()
		}
	})
	b.Run("GeoSOT3D-Encode3D-L32", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := pts[i&4095]
			c, _ := Encode3D(p[0], p[1], 50, 32)
			xy, _ := c.Bits()
			sink += xy
		}
	})
	b.Run("BeiDou-Encode-L10", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := pts[i&4095]
			c, _ := EncodeBeiDou(p[0], p[1], 10)
			sink += uint64(c.Level())
		}
	})
	b.Run("SpaceTime-Encode-32-48", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p := pts[i&4095]
			c, _ := EncodeSpaceTime(p[0], p[1], 50, at, 32, 48)
			sink += c.Time.Bits()
		}
	})
}

func BenchmarkCodeText(b *testing.B) {
	c, _ := Encode(38.916, 121.644, 32)
	buf := make([]byte, 0, 64)
	b.Run("AppendText", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			buf = c.AppendText(buf[:0])
		}
	})
	s := c.String()
	b.Run("Parse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			k, _ := Parse(s)
			sink += k.Bits()
		}
	})
}

func BenchmarkNeighbours(b *testing.B) {
	c, _ := Encode(38.916, 121.644, 20)
	for i := 0; i < b.N; i++ {
		sink += uint64(len(c.Neighbours()))
	}
}
