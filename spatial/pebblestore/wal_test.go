package pebblestore

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// walWriter builds a log the way pebble's record.LogWriter lays it out:
// 32 KiB blocks, recyclable chunks, records split across blocks.
type walWriter struct {
	buf    []byte
	logNum uint32
	starts []int
}

func (w *walWriter) record(payload []byte) {
	first := true
	for {
		if rest := walBlockSize - len(w.buf)%walBlockSize; rest < walHeaderSize {
			w.buf = append(w.buf, make([]byte, rest)...)
		}
		room := walBlockSize - len(w.buf)%walBlockSize - walHeaderSize
		n := min(room, len(payload))
		last := n == len(payload)
		typ := byte(walFull)
		switch {
		case first && !last:
			typ = walFirst
		case !first && last:
			typ = walLast
		case !first && !last:
			typ = 7
		}
		if first {
			w.starts = append(w.starts, len(w.buf))
		}
		h := make([]byte, walHeaderSize)
		binary.LittleEndian.PutUint16(h[4:], uint16(n))
		h[6] = typ
		binary.LittleEndian.PutUint32(h[7:], w.logNum)
		body := append(h[6:walHeaderSize:walHeaderSize], payload[:n]...)
		c := crc32c(body)
		binary.LittleEndian.PutUint32(h, (c>>15|c<<17)+0xa282ead8)
		w.buf = append(append(w.buf, h...), payload[:n]...)
		payload = payload[n:]
		first = false
		if last {
			return
		}
	}
}

// walFixture returns a new log (number 10) of five records, the third
// spanning three blocks, followed by the leftovers of log 7 as a recycled
// file would hold them.
func walFixture() (data []byte, starts []int, end int) {
	old := &walWriter{logNum: 7}
	for i := range 30 {
		old.record(bytes.Repeat([]byte{byte(i)}, 9000))
	}
	w := &walWriter{logNum: 10}
	for i, n := range []int{1000, 5000, 70000, 300, 2000} {
		w.record(bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	end = len(w.buf)
	data = append(w.buf, old.buf[end:]...)
	return data, w.starts, end
}

func TestScanWAL(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(b []byte, starts []int, end int) []byte
		corrupt bool
	}{
		{"Clean", func(b []byte, _ []int, _ int) []byte { return b }, false},
		{"CleanNoLeftovers", func(b []byte, _ []int, end int) []byte { return b[:end] }, false},
		{"ZeroTail", func(b []byte, _ []int, end int) []byte { clear(b[end:]); return b }, false},
		{"TornLast", func(b []byte, s []int, end int) []byte { return b[:s[4]+100] }, false},
		{"FlipInLast", func(b []byte, s []int, _ int) []byte { b[s[4]+50] ^= 1; return b }, false},
		{"FlipInLastBeforeLeftovers", func(b []byte, s []int, _ int) []byte { b[s[4]+20] ^= 1; return b }, false},
		{"FlipInFirst", func(b []byte, _ []int, _ int) []byte { b[30] ^= 1; return b }, true},
		{"FlipInSecondHeader", func(b []byte, s []int, _ int) []byte { b[s[1]+5] ^= 0x40; return b }, true},
		{"FlipInMiddleChunkOfSpanningRecord", func(b []byte, s []int, _ int) []byte { b[s[2]+walBlockSize+100] ^= 1; return b }, true},
		{"FlipInFourth", func(b []byte, s []int, _ int) []byte { b[s[3]+walHeaderSize+1] ^= 1; return b }, true},
		{"ZeroBlockInside", func(b []byte, s []int, _ int) []byte { clear(b[s[2]+walBlockSize : s[2]+2*walBlockSize]); return b }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, starts, end := walFixture()
			if len(starts) != 5 {
				t.Fatalf("fixture has %d records", len(starts))
			}
			data = c.damage(data, starts, end)
			bad, after := scanWAL(data, 10)
			if got := after >= 0; got != c.corrupt {
				t.Errorf("scanWAL = damage at %d, valid record at %d; want corrupt=%v (records at %v, end %d)", bad, after, c.corrupt, starts, end)
			}
		})
	}
	// A log of another format is not judged.
	if _, after := scanWAL(bytes.Repeat([]byte{1}, 5000), 3); after >= 0 {
		t.Errorf("a non-recyclable log was judged damaged")
	}
}
