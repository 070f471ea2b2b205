package pebblestore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb"
)

// Key layout. Every key starts with a one-byte tag naming its kind. Layer
// names are escaped (0x00 → 0x00 0xFF) and terminated by 0x00 0x01, so the
// encoding is prefix-free and sorts exactly as the raw names do: no layer's
// keys can fall inside another layer's range, whatever bytes the names hold.
// An id is always the last component of its key and is stored raw.
//
//	f | esc(layer) 00 01 | code bits (8, big-endian) | level (1) | id  → MarshalFeature record
//	i | esc(layer) 00 01 | id                                        → indexValue (code and bound)
//	b | esc(layer) 00 01 | edge (1) | ordered float (8) | id         → empty
//	h | esc(layer) 00 01 | esc(id) 00 01 | from (8, big-endian)        → MarshalFeature record of a past version
//	m | esc(layer) 00 01                                             → feature count (8, big-endian)
//	s                                                                → commit counter (8, big-endian)
//
// Feature keys of a layer sort by grid code bits, then level (coarser
// first), then id: Code.Compare order. A cell and its descendants occupy the
// contiguous key range [bits(first) level(cell), bits(last) 0xFF), so
// ScanCell is one bounded range scan. The b keys are four per feature, one
// per bounding-box edge (west, south ascending; east, north descending), so
// the first b key of each edge gives the layer's exact bound. The f, i, b
// and m keys describe current versions only.
//
// Past versions (h keys) sort by layer, id, then ValidFrom: from is the
// ValidFrom in Unix nanoseconds with the sign bit flipped, 0 for a zero
// ValidFrom, so a feature's history is one prefix scan in time order. The
// id is escaped like a layer name here, since it is not the last component.
const (
	tagFeature byte = 'f'
	tagIndex   byte = 'i'
	tagBound   byte = 'b'
	tagMeta    byte = 'm'
	tagPast    byte = 'h'
	tagCommits byte = 's'
)

// Bounding-box edges in b keys.
const (
	edgeWest  byte = 0 // ascending min longitude
	edgeSouth byte = 1 // ascending min latitude
	edgeEast  byte = 2 // descending max longitude
	edgeNorth byte = 3 // descending max latitude
)

// codeLen is the length of the grid-code part of a feature key.
const codeLen = 9

// indexValueLen is the length of an i value: code bits, level, bound.
const indexValueLen = codeLen + 4*8

// commitsKey returns the key of the number of committed write batches.
func commitsKey() []byte { return []byte{tagCommits} }

// appendEscaped appends s escaped and terminated.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0, 1)
}

// decodeEscaped reads an escaped, terminated string from the start of b and
// returns it with the rest of b.
func decodeEscaped(b []byte) (string, []byte, error) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			out = append(out, b[i])
			continue
		}
		if i+1 == len(b) {
			return "", nil, errors.New("truncated escape")
		}
		switch b[i+1] {
		case 1:
			return string(out), b[i+2:], nil
		case 0xFF:
			out = append(out, 0)
			i++
		default:
			return "", nil, fmt.Errorf("bad escape 0x00 0x%02x", b[i+1])
		}
	}
	return "", nil, errors.New("unterminated name")
}

// layerPrefix returns tag | esc(layer) 00 01.
func layerPrefix(tag byte, layer string) []byte {
	return appendEscaped(append(make([]byte, 0, len(layer)+16), tag), layer)
}

// prefixEnd returns the smallest key greater than every key with the given
// prefix, which must end in the terminator 00 01.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	end[len(end)-1]++
	return end
}

// featureKey returns the key of a feature record.
func featureKey(layer string, code gridcode.Code, id string) []byte {
	k := layerPrefix(tagFeature, layer)
	return appendFeatureSuffix(k, code.Bits(), byte(code.Level()), id)
}

// appendFeatureSuffix appends the code and id part of a feature key.
func appendFeatureSuffix(k []byte, bits uint64, level byte, id string) []byte {
	k = binary.BigEndian.AppendUint64(k, bits)
	k = append(k, level)
	return append(k, id...)
}

// splitFeatureKey returns the code bits, level and id of a feature key whose
// layer prefix has length n.
func splitFeatureKey(k []byte, n int) (bits uint64, level byte, id string, ok bool) {
	if len(k) < n+codeLen {
		return 0, 0, "", false
	}
	s := k[n:]
	return binary.BigEndian.Uint64(s), s[8], string(s[codeLen:]), true
}

// cellBounds returns the key range [lower, upper) of the features of a
// layer whose code is the cell or a descendant.
func cellBounds(layer string, cell gridcode.Code) (lower, upper []byte) {
	p := layerPrefix(tagFeature, layer)
	first, last := cell.Range()
	lower = binary.BigEndian.AppendUint64(bytes.Clone(p), first)
	lower = append(lower, byte(cell.Level()))
	upper = binary.BigEndian.AppendUint64(p, last)
	upper = append(upper, 0xFF)
	return lower, upper
}

// indexKey returns the key of a feature's index entry.
func indexKey(layer, id string) []byte {
	return append(layerPrefix(tagIndex, layer), id...)
}

// metaKey returns the key of a layer's count.
func metaKey(layer string) []byte {
	return layerPrefix(tagMeta, layer)
}

// indexValue is what the i key of a feature holds: where its record is and
// which b keys belong to it.
type indexValue struct {
	bits  uint64
	level byte
	bound orb.Bound
}

func (v indexValue) encode() []byte {
	b := make([]byte, 0, indexValueLen)
	b = binary.BigEndian.AppendUint64(b, v.bits)
	b = append(b, v.level)
	for _, f := range [4]float64{v.bound.Min[0], v.bound.Min[1], v.bound.Max[0], v.bound.Max[1]} {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
	}
	return b
}

func decodeIndexValue(b []byte) (indexValue, error) {
	if len(b) != indexValueLen {
		return indexValue{}, fmt.Errorf("index entry of %d bytes (want %d)", len(b), indexValueLen)
	}
	var v indexValue
	v.bits = binary.BigEndian.Uint64(b)
	v.level = b[8]
	var f [4]float64
	for i := range f {
		f[i] = math.Float64frombits(binary.BigEndian.Uint64(b[codeLen+8*i:]))
	}
	v.bound = orb.Bound{Min: orb.Point{f[0], f[1]}, Max: orb.Point{f[2], f[3]}}
	if _, err := gridcode.FromBits(v.bits, int(v.level)); err != nil {
		return indexValue{}, err
	}
	return v, nil
}

// boundKeys returns the four b keys of a feature.
func boundKeys(layer, id string, b orb.Bound) [4][]byte {
	p := layerPrefix(tagBound, layer)
	vals := [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
	var out [4][]byte
	for e := range vals {
		k := make([]byte, 0, len(p)+1+8+len(id))
		k = append(append(k, p...), byte(e))
		o := orderedFloat(vals[e])
		if byte(e) == edgeEast || byte(e) == edgeNorth {
			o = ^o
		}
		k = binary.BigEndian.AppendUint64(k, o)
		out[e] = append(k, id...)
	}
	return out
}

// edgeValue decodes the coordinate of a b key whose layer prefix has
// length n.
func edgeValue(k []byte, n int) (edge byte, v float64, ok bool) {
	if len(k) < n+9 {
		return 0, 0, false
	}
	edge = k[n]
	o := binary.BigEndian.Uint64(k[n+1:])
	if edge == edgeEast || edge == edgeNorth {
		o = ^o
	}
	return edge, unorderedFloat(o), true
}

// orderedFloat maps a float64 to a uint64 with the same order.
func orderedFloat(f float64) uint64 {
	u := math.Float64bits(f)
	if u>>63 == 1 {
		return ^u
	}
	return u | 1<<63
}

func unorderedFloat(u uint64) float64 {
	if u>>63 == 1 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// fromBytes encodes a ValidFrom for a past-version key: Unix nanoseconds
// with the sign bit flipped (0 for the zero time), so keys sort in time
// order.
func fromBytes(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()) ^ 1<<63
}

// pastPrefix returns h | esc(layer) 00 01 | esc(id) 00 01: the prefix of a
// feature's past versions.
func pastPrefix(layer, id string) []byte {
	return appendEscaped(layerPrefix(tagPast, layer), id)
}

// pastKey returns the key of a past version.
func pastKey(layer, id string, from time.Time) []byte {
	return binary.BigEndian.AppendUint64(pastPrefix(layer, id), fromBytes(from))
}

// splitPastKey returns the layer, id and encoded ValidFrom of a past
// version's key.
func splitPastKey(k []byte) (layer, id string, from uint64, err error) {
	if len(k) == 0 || k[0] != tagPast {
		return "", "", 0, errors.New("not a past-version key")
	}
	layer, rest, err := decodeEscaped(k[1:])
	if err != nil {
		return "", "", 0, err
	}
	id, rest, err = decodeEscaped(rest)
	if err != nil {
		return "", "", 0, err
	}
	if len(rest) != 8 {
		return "", "", 0, fmt.Errorf("%d bytes after the id (want 8)", len(rest))
	}
	return layer, id, binary.BigEndian.Uint64(rest), nil
}
