package osm

import (
	"math"
	"sort"
	"strconv"
)

// Node coordinates are held as OSM itself holds them: int32 fixed point in
// units of 1e-7 degree (about 1.1 cm of latitude), which represents every
// coordinate of an OSM file exactly.
const fixedScale = 1e7

// nodeBlockSize is the number of nodes per block of the node store.
const nodeBlockSize = 8192

// nodeStore keeps the coordinates of every node read, for building ways.
//
// OSM files list nodes in ascending id order, so the store appends them to
// blocks of nodeBlockSize nodes: a block holds its first id, the offsets of
// its ids from that first id as uint32, and the (lon, lat) pairs as int32
// fixed point. That is 4 + 8 = 12 bytes per node plus about 80 bytes per
// block, with no per-node pointer and no map, and a lookup is two binary
// searches. Blocks are allocated at their final size, so the store never
// copies what it holds as it grows.
//
// A node whose id is not above the previous one (unsorted input, JOSM's
// negative ids, duplicates) goes to an overflow map instead, at about 40
// bytes per node; the map is consulted first, so a later duplicate wins.
type nodeStore struct {
	blocks   []nodeBlock
	extra    map[int64][2]int32
	last     int64
	any      bool
	n        int64
	overflow int64
	cur      int // block of the last successful lookup, a cache for runs of nearby ids
}

type nodeBlock struct {
	base int64
	off  []uint32
	ll   [][2]int32
}

// add stores a node's coordinates.
func (s *nodeStore) add(id int64, lon, lat int32) {
	s.n++
	if s.any && id <= s.last {
		if s.extra == nil {
			s.extra = make(map[int64][2]int32)
		}
		s.extra[id] = [2]int32{lon, lat}
		s.overflow++
		return
	}
	s.any, s.last = true, id
	nb := len(s.blocks)
	if nb > 0 {
		b := &s.blocks[nb-1]
		if len(b.off) < cap(b.off) && id-b.base <= math.MaxUint32 {
			b.off = append(b.off, uint32(id-b.base))
			b.ll = append(b.ll, [2]int32{lon, lat})
			return
		}
	}
	b := nodeBlock{base: id, off: make([]uint32, 1, nodeBlockSize), ll: make([][2]int32, 1, nodeBlockSize)}
	b.ll[0] = [2]int32{lon, lat}
	s.blocks = append(s.blocks, b)
}

// get returns a node's coordinates.
func (s *nodeStore) get(id int64) (lon, lat int32, ok bool) {
	if s.extra != nil {
		if c, ok := s.extra[id]; ok {
			return c[0], c[1], true
		}
	}
	nb := len(s.blocks)
	if nb == 0 {
		return 0, 0, false
	}
	bi := s.cur
	if bi >= nb || id < s.blocks[bi].base || (bi+1 < nb && id >= s.blocks[bi+1].base) {
		bi = sort.Search(nb, func(i int) bool { return s.blocks[i].base > id }) - 1
		if bi < 0 {
			return 0, 0, false
		}
		s.cur = bi
	}
	b := &s.blocks[bi]
	d := id - b.base
	if d > math.MaxUint32 {
		return 0, 0, false
	}
	o := uint32(d)
	i := sort.Search(len(b.off), func(i int) bool { return b.off[i] >= o })
	if i == len(b.off) || b.off[i] != o {
		return 0, 0, false
	}
	return b.ll[i][0], b.ll[i][1], true
}

// bytes estimates the memory held by the store.
func (s *nodeStore) bytes() int64 {
	n := int64(cap(s.blocks)) * 56
	for i := range s.blocks {
		n += int64(cap(s.blocks[i].off))*4 + int64(cap(s.blocks[i].ll))*8
	}
	// Go maps of 16-byte slots: about 40 bytes per entry with load factor
	// and control bytes.
	n += int64(len(s.extra)) * 40
	return n
}

// parseFixed parses a decimal degree such as "38.9123456" into 1e-7 degree
// units, rounding half away from zero beyond the seventh decimal. It reads
// plain decimals itself (the OSM form) and falls back to strconv for
// exponents. It rejects values whose magnitude exceeds 1000 degrees, NaN
// and infinities.
func parseFixed(s string) (int64, bool) {
	i, neg := 0, false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var v int64
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		v = v*10 + int64(s[i]-'0')
		digits++
		if digits > 4 {
			return parseFixedSlow(s)
		}
	}
	frac := 0
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			d := int64(s[i] - '0')
			switch {
			case frac < 7:
				v = v*10 + d
			case frac == 7 && d >= 5:
				v++ // round half away from zero on the eighth decimal
			}
			frac++
			digits++
		}
	}
	if i != len(s) || digits == 0 {
		return parseFixedSlow(s)
	}
	for ; frac < 7; frac++ {
		v *= 10
	}
	if neg {
		v = -v
	}
	return v, true
}

func parseFixedSlow(s string) (int64, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1000 {
		return 0, false
	}
	return int64(math.Round(f * fixedScale)), true
}

// toDegrees converts a fixed-point coordinate to degrees. The division
// gives the double nearest to the decimal in the file.
func toDegrees(v int32) float64 { return float64(v) / fixedScale }
