// Package live is the live twin's state: objects (vehicles, buses, phones,
// sensors, pumps) that report their position and state continuously. It
// validates updates, keeps the newest state of every object in memory with
// a moving-object index, orders updates by their source timestamp (newer
// wins; replays are idempotent), persists every accepted update to a Log
// before acknowledging it, and calls hooks (the websocket hub, geofences)
// with each batch of changes.
package live

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"citytwin/gridcode"
)

// Limits on one update.
const (
	// MaxIDLen is the longest object id in bytes.
	MaxIDLen = 256
	// MaxLayerLen is the longest layer name in bytes.
	MaxLayerLen = 64
	// MaxStateLen is the largest state object in bytes (compact JSON).
	MaxStateLen = 4096
	// MaxFuture is how far ahead of the server's clock a source timestamp
	// may be. A clock far in the future would make an object ignore every
	// correct update after it (newer wins), so such updates are rejected.
	MaxFuture = 5 * time.Minute
	// CodeLevel is the GeoSOT level of Object.Code: level 32, about 1.5 cm,
	// so every coarser cell of the object is a prefix of its code.
	CodeLevel = 32
	// TextCodeLevel is the level of the grid code written in JSON (about
	// 7.7 m by 6 m at Dalian's latitude).
	TextCodeLevel = 23
)

// ErrInvalid reports an update that cannot be accepted.
var ErrInvalid = errors.New("invalid object update")

// Object is one state of a live object. Objects are immutable once
// ingested: the twin replaces the pointer on every accepted update, so a
// pointer read under the twin's lock may be used afterwards without it.
type Object struct {
	// ID is unique across layers; an update with another layer moves the
	// object to that layer.
	ID string
	// Layer names the kind of object, e.g. "vehicles".
	Layer string
	// Lon, Lat are degrees (CGCS2000 ≈ WGS84); Height is metres above the
	// ellipsoid (0 where not reported).
	Lon, Lat, Height float64
	// Heading is degrees clockwise from north in [0, 360); NaN when not
	// reported.
	Heading float32
	// Speed is metres per second; NaN when not reported.
	Speed float32
	// Time is the source's timestamp in Unix microseconds; the newer
	// timestamp wins.
	Time int64
	// Recv is when this server (or the replica that took it) received the
	// update, in Unix microseconds.
	Recv int64
	// Code is the GeoSOT cell at CodeLevel containing the position.
	Code gridcode.Code
	// State holds the object's typed state properties as a compact JSON
	// object, or nil.
	State []byte
	// Gone marks a tombstone: the object left the twin at Time.
	Gone bool
	// noState marks an update that did not mention state: it keeps the
	// state the object had (see Twin.Ingest).
	noState bool
}

// SourceTime returns Time as a time.Time in UTC.
func (o *Object) SourceTime() time.Time { return time.UnixMicro(o.Time).UTC() }

// Prepare checks the object and computes its grid code. now is the
// server's clock, used to reject timestamps too far in the future and to
// stamp Recv (and Time when the source gave none).
func (o *Object) Prepare(now time.Time) error {
	if err := checkName("id", o.ID, MaxIDLen); err != nil {
		return err
	}
	if err := checkLayer(o.Layer); err != nil {
		return fmt.Errorf("%w: object %q: %v", ErrInvalid, o.ID, err)
	}
	switch {
	case !finite(o.Lon) || o.Lon < -180 || o.Lon > 180:
		return fmt.Errorf("%w: object %q: lon %v outside [-180, 180]", ErrInvalid, o.ID, o.Lon)
	case !finite(o.Lat) || o.Lat < -90 || o.Lat > 90:
		return fmt.Errorf("%w: object %q: lat %v outside [-90, 90]", ErrInvalid, o.ID, o.Lat)
	case !finite(o.Height) || math.Abs(o.Height) > 1e5:
		return fmt.Errorf("%w: object %q: height %v m outside ±100 km", ErrInvalid, o.ID, o.Height)
	case !isNaN32(o.Heading) && (o.Heading < 0 || o.Heading >= 360 || math.IsInf(float64(o.Heading), 0)):
		return fmt.Errorf("%w: object %q: heading %v outside [0, 360)", ErrInvalid, o.ID, o.Heading)
	case !isNaN32(o.Speed) && (o.Speed < 0 || math.IsInf(float64(o.Speed), 0)):
		return fmt.Errorf("%w: object %q: speed %v is negative or infinite", ErrInvalid, o.ID, o.Speed)
	case len(o.State) > MaxStateLen:
		return fmt.Errorf("%w: object %q: state is %d bytes, more than %d", ErrInvalid, o.ID, len(o.State), MaxStateLen)
	}
	nowUS := now.UnixMicro()
	if o.Time == 0 {
		o.Time = nowUS
	}
	if o.Time > nowUS+MaxFuture.Microseconds() {
		return fmt.Errorf("%w: object %q: time %s is %s ahead of the server's clock (at most %s)", ErrInvalid, o.ID,
			o.SourceTime().Format(time.RFC3339Nano), (time.Duration(o.Time-nowUS) * time.Microsecond).Round(time.Second), MaxFuture)
	}
	if o.Time < minTime {
		return fmt.Errorf("%w: object %q: time %s before 1970", ErrInvalid, o.ID, o.SourceTime().Format(time.RFC3339Nano))
	}
	code, err := gridcode.Encode(o.Lat, o.Lon, CodeLevel)
	if err != nil {
		return fmt.Errorf("%w: object %q: %v", ErrInvalid, o.ID, err)
	}
	o.Recv = nowUS
	o.Code = code
	return nil
}

// minTime is the earliest source time accepted (the Unix epoch): times are
// stored as unsigned microseconds in history keys.
const minTime = 0

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func isNaN32(f float32) bool { return f != f }

// checkName checks an id: non-empty, at most max bytes, valid UTF-8 and
// without control characters (they would break keys and logs).
func checkName(what, s string, max int) error {
	if s == "" {
		return fmt.Errorf("%w: missing %s", ErrInvalid, what)
	}
	if len(s) > max {
		return fmt.Errorf("%w: %s %.40q… is %d bytes, more than %d", ErrInvalid, what, s, len(s), max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalid, what, s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %s %q contains a control character", ErrInvalid, what, s)
		}
	}
	return nil
}

// checkLayer checks a layer name: 1–64 characters of a–z, 0–9, '_' and
// '-', starting with a letter (names appear in MQTT topics and URLs).
func checkLayer(s string) error {
	if s == "" {
		return errors.New("missing layer")
	}
	if len(s) > MaxLayerLen {
		return fmt.Errorf("layer %.40q… longer than %d bytes", s, MaxLayerLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-')
		if !ok {
			return fmt.Errorf("layer %q: want a lower-case letter then letters, digits, '_' or '-'", s)
		}
	}
	return nil
}

// AppendJSON appends the object as a JSON object:
//
//	{"id":"bus-1","layer":"vehicles","lon":121.6,"lat":38.9,"height":0,
//	 "heading":90,"speed":12.5,"time":"2026-11-30T04:00:00.123456Z",
//	 "code":"G001…","state":{…}}
//
// heading, speed and state are left out when not reported.
func (o *Object) AppendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendQuote(b, o.ID)
	b = append(b, `,"layer":"`...)
	b = append(b, o.Layer...) // layer names need no escaping
	b = append(b, `","lon":`...)
	b = strconv.AppendFloat(b, o.Lon, 'f', -1, 64)
	b = append(b, `,"lat":`...)
	b = strconv.AppendFloat(b, o.Lat, 'f', -1, 64)
	b = append(b, `,"height":`...)
	b = strconv.AppendFloat(b, o.Height, 'f', -1, 64)
	if !isNaN32(o.Heading) {
		b = append(b, `,"heading":`...)
		b = strconv.AppendFloat(b, float64(o.Heading), 'f', -1, 32)
	}
	if !isNaN32(o.Speed) {
		b = append(b, `,"speed":`...)
		b = strconv.AppendFloat(b, float64(o.Speed), 'f', -1, 32)
	}
	b = append(b, `,"time":"`...)
	b = o.SourceTime().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","code":"`...)
	b = o.Code.ParentAt(TextCodeLevel).AppendText(b)
	b = append(b, '"')
	if len(o.State) > 0 {
		b = append(b, `,"state":`...)
		b = append(b, o.State...)
	}
	if o.Gone {
		b = append(b, `,"gone":true`...)
	}
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler.
func (o *Object) MarshalJSON() ([]byte, error) { return o.AppendJSON(nil), nil }
