package spatial

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"citytwin/gridcode"

	"github.com/paulmach/orb/encoding/wkb"
)

// ErrCorrupt reports a stored record that does not decode: a torn write, a
// flipped bit or a record of an unknown format.
var ErrCorrupt = errors.New("corrupt feature record")

// recordFormat is the first byte of every encoded feature.
const recordFormat = 1

// MarshalFeature encodes a feature as a self-checking binary record:
// format byte, fields, and a CRC-32C of all that precedes it. Geometry is
// WKB; properties are JSON.
func MarshalFeature(f *Feature) ([]byte, error) {
	g, err := wkb.Marshal(f.Geometry)
	if err != nil {
		return nil, fmt.Errorf("spatial: encode %s/%s geometry: %w", f.Layer, f.ID, err)
	}
	var props []byte
	if len(f.Properties) > 0 {
		if props, err = json.Marshal(f.Properties); err != nil {
			return nil, fmt.Errorf("spatial: encode %s/%s properties: %w", f.Layer, f.ID, err)
		}
	}
	b := make([]byte, 0, 64+len(f.Layer)+len(f.ID)+len(g)+len(props))
	b = append(b, recordFormat)
	b = appendBytes(b, []byte(f.Layer))
	b = appendBytes(b, []byte(f.ID))
	b = appendBytes(b, g)
	b = appendBytes(b, props)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(f.Height))
	b = binary.AppendUvarint(b, uint64(f.Floors))
	b = binary.BigEndian.AppendUint64(b, f.Code.Bits())
	b = append(b, byte(f.Code.Level()))
	b = appendTime(b, f.ValidFrom)
	b = appendTime(b, f.ValidTo)
	b = binary.AppendUvarint(b, f.Version)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))), nil
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// appendTime writes a presence byte and Unix nanoseconds.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, 0)
	}
	b = append(b, 1)
	return binary.AppendVarint(b, t.UnixNano())
}

// UnmarshalFeature decodes a record written by MarshalFeature, checking its
// CRC; it never panics on corrupt input.
func UnmarshalFeature(b []byte) (*Feature, error) {
	if len(b) < 5 {
		return nil, fmt.Errorf("%w: %d bytes", ErrCorrupt, len(b))
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if body[0] != recordFormat {
		return nil, fmt.Errorf("%w: unknown format %d", ErrCorrupt, body[0])
	}
	r := reader{b: body[1:]}
	f := &Feature{}
	f.Layer = string(r.bytes())
	f.ID = string(r.bytes())
	g := r.bytes()
	props := r.bytes()
	f.Height = math.Float64frombits(r.uint64())
	f.Floors = int(r.uvarint())
	bits := r.uint64()
	level := int(r.byte())
	f.ValidFrom = r.time()
	f.ValidTo = r.time()
	f.Version = r.uvarint()
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	var err error
	if f.Geometry, err = wkb.Unmarshal(g); err != nil {
		return nil, fmt.Errorf("%w: %s/%s geometry: %v", ErrCorrupt, f.Layer, f.ID, err)
	}
	if len(props) > 0 {
		if err := json.Unmarshal(props, &f.Properties); err != nil {
			return nil, fmt.Errorf("%w: %s/%s properties: %v", ErrCorrupt, f.Layer, f.ID, err)
		}
	}
	if f.Code, err = gridcode.FromBits(bits, level); err != nil {
		return nil, fmt.Errorf("%w: %s/%s grid code: %v", ErrCorrupt, f.Layer, f.ID, err)
	}
	return f, nil
}

// reader consumes a record, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated %s", what)
	}
	r.b = nil
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail("field")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) uint64() uint64 {
	if len(r.b) < 8 {
		r.fail("uint64")
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("byte")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) time() time.Time {
	switch r.byte() {
	case 0:
		return time.Time{}
	case 1:
		v, n := binary.Varint(r.b)
		if n <= 0 {
			r.fail("time")
			return time.Time{}
		}
		r.b = r.b[n:]
		return time.Unix(0, v).UTC()
	}
	r.fail("time flag")
	return time.Time{}
}
