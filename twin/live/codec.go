package live

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"citytwin/gridcode"
)

// ErrCorrupt reports a stored record that cannot be decoded.
var ErrCorrupt = errors.New("corrupt object record")

// recordVersion is the first byte of every encoded record.
const recordVersion = 1

// record flags.
const (
	flagGone = 1 << iota
	flagHeading
	flagSpeed
	flagHeight
	flagState
)

// AppendRecord appends the object's stored form, without its id (stores
// keep the id in the key or a column): a version byte, flags, the layer,
// position, optional heading/speed/height/state and the two times.
func (o *Object) AppendRecord(b []byte) []byte {
	var flags byte
	if o.Gone {
		flags |= flagGone
	}
	if !isNaN32(o.Heading) {
		flags |= flagHeading
	}
	if !isNaN32(o.Speed) {
		flags |= flagSpeed
	}
	if o.Height != 0 {
		flags |= flagHeight
	}
	if len(o.State) > 0 {
		flags |= flagState
	}
	b = append(b, recordVersion, flags, byte(len(o.Layer)))
	b = append(b, o.Layer...)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.Lon))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.Lat))
	if flags&flagHeight != 0 {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(o.Height))
	}
	if flags&flagHeading != 0 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(o.Heading))
	}
	if flags&flagSpeed != 0 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(o.Speed))
	}
	b = binary.AppendVarint(b, o.Time)
	b = binary.AppendVarint(b, o.Recv-o.Time) // usually small
	if flags&flagState != 0 {
		b = binary.AppendUvarint(b, uint64(len(o.State)))
		b = append(b, o.State...)
	}
	return b
}

// DecodeRecord decodes a record written by AppendRecord for the object
// id. The state is copied, so b may be reused.
func DecodeRecord(id string, b []byte) (*Object, error) {
	bad := func(what string) (*Object, error) {
		return nil, fmt.Errorf("%w: object %q: %s", ErrCorrupt, id, what)
	}
	if len(b) < 3 || b[0] != recordVersion {
		return bad("unknown record version")
	}
	flags, n := b[1], int(b[2])
	b = b[3:]
	if len(b) < n+16 {
		return bad("truncated")
	}
	o := &Object{ID: id, Layer: string(b[:n]), Heading: float32(math.NaN()), Speed: float32(math.NaN()), Gone: flags&flagGone != 0}
	b = b[n:]
	o.Lon = math.Float64frombits(binary.LittleEndian.Uint64(b))
	o.Lat = math.Float64frombits(binary.LittleEndian.Uint64(b[8:]))
	b = b[16:]
	if flags&flagHeight != 0 {
		if len(b) < 8 {
			return bad("truncated height")
		}
		o.Height = math.Float64frombits(binary.LittleEndian.Uint64(b))
		b = b[8:]
	}
	if flags&flagHeading != 0 {
		if len(b) < 4 {
			return bad("truncated heading")
		}
		o.Heading = math.Float32frombits(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	if flags&flagSpeed != 0 {
		if len(b) < 4 {
			return bad("truncated speed")
		}
		o.Speed = math.Float32frombits(binary.LittleEndian.Uint32(b))
		b = b[4:]
	}
	t, k := binary.Varint(b)
	if k <= 0 {
		return bad("bad time")
	}
	b = b[k:]
	d, k := binary.Varint(b)
	if k <= 0 {
		return bad("bad receive time")
	}
	b = b[k:]
	o.Time, o.Recv = t, t+d
	if flags&flagState != 0 {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return bad("truncated state")
		}
		o.State = append([]byte(nil), b[k:k+int(l)]...)
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	code, err := gridcode.Encode(o.Lat, o.Lon, CodeLevel)
	if err != nil {
		return bad(err.Error())
	}
	o.Code = code
	return o, nil
}
