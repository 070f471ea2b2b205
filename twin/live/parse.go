package live

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/valyala/fastjson"
)

// MaxBatch is the most updates one request may carry.
const MaxBatch = 10000

// Rejection is an update of a batch that was not accepted, and why.
type Rejection struct {
	// Index is the update's position in the batch, from 0.
	Index int `json:"index"`
	// Line is the update's line for NDJSON input (0 otherwise).
	Line int `json:"line,omitempty"`
	// ID is the update's id when it could be read.
	ID string `json:"id,omitempty"`
	// Error says what is wrong.
	Error string `json:"error"`
}

// Parser decodes updates. It reuses its buffers: keep one per goroutine
// (it is not safe for concurrent use).
type Parser struct {
	p fastjson.Parser
}

// Parse decodes a batch of updates: a JSON array of update objects, a
// single update object, or NDJSON (one object per line). Each update looks
// like
//
//	{"id":"bus-17","layer":"vehicles","lon":121.61,"lat":38.91,"height":0,
//	 "heading":90,"speed":12.5,"time":"2026-11-30T04:00:00.123Z",
//	 "state":{"route":"23","load":0.7}}
//
// where time is RFC 3339 or Unix milliseconds (absent: the time of
// receipt), and height, heading, speed and state are optional. An update
// without "state" keeps the state the object had; "state": {} or null
// clears it. Heading and speed belong to the position: an update without
// them has none. Updates that
// are malformed or invalid are returned as rejections naming their index
// (and line) and the reason; the others are Prepared with now. The error is
// for a body that cannot be split into updates at all (bad JSON in an
// array, more than MaxBatch updates).
func (ps *Parser) Parse(body []byte, now time.Time) ([]*Object, []Rejection, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil, fmt.Errorf("%w: empty body: want a JSON array, an object or NDJSON", ErrInvalid)
	}
	var objs []*Object
	var rejs []Rejection
	if trimmed[0] == '[' {
		v, err := ps.p.ParseBytes(trimmed)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		items, _ := v.Array()
		return ParseItems(items, now)
	}
	// One object, or NDJSON: one object per non-blank line.
	line, index := 0, 0
	for rest := trimmed; len(rest) > 0; {
		var ln []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			ln, rest = rest[:i], rest[i+1:]
		} else {
			ln, rest = rest, nil
		}
		line++
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		if index == MaxBatch {
			return nil, nil, fmt.Errorf("%w: more than %d updates in one batch (line %d)", ErrInvalid, MaxBatch, line)
		}
		v, err := ps.p.ParseBytes(ln)
		if err != nil {
			rejs = append(rejs, Rejection{Index: index, Line: line, Error: fmt.Sprintf("%v: %v", ErrInvalid, err)})
			index++
			continue
		}
		o, err := decode(v, now)
		if err != nil {
			rejs = append(rejs, Rejection{Index: index, Line: line, ID: idOf(v), Error: err.Error()})
		} else {
			objs = append(objs, o)
		}
		index++
	}
	return objs, rejs, nil
}

// ParseItems decodes the updates of an array already parsed with
// fastjson (the "objects" of a websocket update message), as Parse does.
func ParseItems(items []*fastjson.Value, now time.Time) ([]*Object, []Rejection, error) {
	if len(items) > MaxBatch {
		return nil, nil, fmt.Errorf("%w: %d updates in one batch, more than %d", ErrInvalid, len(items), MaxBatch)
	}
	objs := make([]*Object, 0, len(items))
	var rejs []Rejection
	for i, item := range items {
		o, err := decode(item, now)
		if err != nil {
			rejs = append(rejs, Rejection{Index: i, ID: idOf(item), Error: err.Error()})
			continue
		}
		objs = append(objs, o)
	}
	return objs, rejs, nil
}

// ParseTopic decodes and prepares one update published on the MQTT topic
// of an object (citytwin/objects/{layer}/{id}): the payload may leave out
// id and layer; if it gives them they must be the topic's.
func (ps *Parser) ParseTopic(data []byte, now time.Time, layer, id string) (*Object, error) {
	v, err := ps.p.ParseBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%w: object %q: %v", ErrInvalid, id, err)
	}
	return decodeWith(v, now, layer, id)
}

// idOf returns the update's id when it is a string, for error reports.
func idOf(v *fastjson.Value) string {
	if s := v.GetStringBytes("id"); len(s) <= MaxIDLen {
		return string(s)
	}
	return ""
}

// decode turns one parsed update into a prepared Object.
func decode(v *fastjson.Value, now time.Time) (*Object, error) {
	return decodeWith(v, now, "", "")
}

// decodeWith is decode with the layer and id an update must have (from
// its MQTT topic; empty: any).
func decodeWith(v *fastjson.Value, now time.Time, layer, id string) (*Object, error) {
	obj, err := v.Object()
	if err != nil {
		return nil, fmt.Errorf("%w: update is %s, want an object", ErrInvalid, v.Type())
	}
	o := &Object{Heading: float32(math.NaN()), Speed: float32(math.NaN())}
	var haveLon, haveLat, haveState bool
	var ferr error
	obj.Visit(func(key []byte, f *fastjson.Value) {
		if ferr != nil {
			return
		}
		switch string(key) {
		case "id":
			s, err := f.StringBytes()
			if err != nil {
				ferr = fmt.Errorf("id must be a string")
				return
			}
			o.ID = string(s)
		case "layer":
			s, err := f.StringBytes()
			if err != nil {
				ferr = fmt.Errorf("layer must be a string")
				return
			}
			o.Layer = string(s)
		case "lon":
			o.Lon, ferr = number(f, "lon")
			haveLon = true
		case "lat":
			o.Lat, ferr = number(f, "lat")
			haveLat = true
		case "height":
			o.Height, ferr = number(f, "height")
		case "heading":
			if f.Type() != fastjson.TypeNull {
				var h float64
				h, ferr = number(f, "heading")
				o.Heading = float32(h)
			}
		case "speed":
			if f.Type() != fastjson.TypeNull {
				var s float64
				s, ferr = number(f, "speed")
				o.Speed = float32(s)
			}
		case "time":
			o.Time, ferr = timestamp(f)
		case "state":
			haveState = true
			switch f.Type() {
			case fastjson.TypeNull:
			case fastjson.TypeObject:
				// MarshalTo writes compact JSON, keys in input order.
				o.State = f.MarshalTo(nil)
				if len(o.State) == 2 { // {}
					o.State = nil
				}
			default:
				ferr = fmt.Errorf("state is %s, want an object", f.Type())
			}
		case "code", "recv":
			// Written by this server in its own output; ignored on input so
			// that what GET returns can be posted back.
		default:
			ferr = fmt.Errorf("unknown field %q (want id, layer, lon, lat, height, heading, speed, time, state)", key)
		}
	})
	if ferr != nil {
		return nil, fmt.Errorf("%w: object %q: %v", ErrInvalid, o.ID, ferr)
	}
	if id != "" {
		if o.ID != "" && o.ID != id {
			return nil, fmt.Errorf("%w: object %q: payload id differs from the topic's %q", ErrInvalid, o.ID, id)
		}
		o.ID = id
	}
	if layer != "" {
		if o.Layer != "" && o.Layer != layer {
			return nil, fmt.Errorf("%w: object %q: payload layer %q differs from the topic's %q", ErrInvalid, o.ID, o.Layer, layer)
		}
		o.Layer = layer
	}
	if !haveLon || !haveLat {
		return nil, fmt.Errorf("%w: object %q: missing lon or lat", ErrInvalid, o.ID)
	}
	if err := o.Prepare(now); err != nil {
		return nil, err
	}
	o.noState = !haveState
	return o, nil
}

func number(f *fastjson.Value, name string) (float64, error) {
	n, err := f.Float64()
	if err != nil {
		return 0, fmt.Errorf("%s is %s, want a number", name, f.Type())
	}
	return n, nil
}

// timestamp reads a source time: an RFC 3339 string or Unix milliseconds.
func timestamp(f *fastjson.Value) (int64, error) {
	switch f.Type() {
	case fastjson.TypeString:
		s, _ := f.StringBytes()
		t, err := time.Parse(time.RFC3339Nano, string(s))
		if err != nil {
			return 0, fmt.Errorf("time %q: want RFC 3339, e.g. 2026-11-30T04:00:00.123Z", s)
		}
		if t.Year() < 1970 || t.Year() > 9999 {
			return 0, fmt.Errorf("time %q outside 1970–9999", s)
		}
		return t.UnixMicro(), nil
	case fastjson.TypeNumber:
		ms, err := f.Float64()
		if err != nil || !finite(ms) || ms < 0 || ms > 253402300799999 {
			return 0, fmt.Errorf("time %s: want Unix milliseconds from 1970 to 9999", f)
		}
		return int64(math.Round(ms * 1000)), nil
	}
	return 0, fmt.Errorf("time is %s, want an RFC 3339 string or Unix milliseconds", f.Type())
}
