package live

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	const ok1 = `{"id":"bus-1","layer":"vehicles","lon":121.6,"lat":38.9,"time":"2026-11-30T03:59:00Z"}`
	tests := []struct {
		name     string
		body     string
		accepted int
		rejected []string // substrings of each rejection, in order
		lines    []int    // NDJSON lines of the rejections
		fatal    string   // error for the whole body
	}{
		{name: "array", body: `[` + ok1 + `,` + ok1 + `]`, accepted: 2},
		{name: "single object", body: ok1, accepted: 1},
		{name: "ndjson with blank lines", body: ok1 + "\n\n" + ok1 + "\r\n", accepted: 2},
		{name: "ndjson bad line", body: ok1 + "\n{oops\n" + ok1, accepted: 2, rejected: []string{"invalid"}, lines: []int{2}},
		{name: "empty", body: "  ", fatal: "empty body"},
		{name: "bad array", body: `[` + ok1, fatal: "invalid object update"},
		{name: "too many", body: "[" + strings.Repeat(ok1+",", MaxBatch) + ok1 + "]", fatal: "more than 10000"},
		{name: "missing id", body: `[{"layer":"v","lon":1,"lat":2}]`, rejected: []string{"missing id"}},
		{name: "bad layer", body: `[{"id":"a","layer":"Vehicles","lon":1,"lat":2}]`, rejected: []string{`layer "Vehicles"`}},
		{name: "missing layer", body: `[{"id":"a","lon":1,"lat":2}]`, rejected: []string{"missing layer"}},
		{name: "lon range", body: `[{"id":"a","layer":"v","lon":181,"lat":2}]`, rejected: []string{"lon 181 outside"}},
		{name: "lat range", body: `[{"id":"a","layer":"v","lon":1,"lat":-91}]`, rejected: []string{"lat -91 outside"}},
		{name: "missing lat", body: `[{"id":"a","layer":"v","lon":1}]`, rejected: []string{"missing lon or lat"}},
		{name: "lon string", body: `[{"id":"a","layer":"v","lon":"1","lat":2}]`, rejected: []string{"lon is string, want a number"}},
		{name: "heading", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"heading":360}]`, rejected: []string{"heading 360 outside"}},
		{name: "speed", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"speed":-1}]`, rejected: []string{"speed -1"}},
		{name: "future", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"time":"2026-11-30T05:00:00Z"}]`, rejected: []string{"1h0m0s ahead"}},
		{name: "bad time", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"time":"yesterday"}]`, rejected: []string{`time "yesterday": want RFC 3339`}},
		{name: "unix ms", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"time":1764475200000}]`, accepted: 1},
		{name: "negative ms", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"time":-5}]`, rejected: []string{"Unix milliseconds"}},
		{name: "unknown field", body: `[{"id":"a","layer":"v","lng":1,"lat":2}]`, rejected: []string{`unknown field "lng"`}},
		{name: "state not object", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"state":[1]}]`, rejected: []string{"state is array"}},
		{name: "state too big", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"state":{"x":"` + strings.Repeat("y", MaxStateLen) + `"}}]`, rejected: []string{"more than 4096"}},
		{name: "control char id", body: `[{"id":"a\u0000b","layer":"v","lon":1,"lat":2}]`, rejected: []string{"control character"}},
		{name: "not object", body: `[1, ` + ok1 + `]`, accepted: 1, rejected: []string{"update is number"}},
		{name: "round trip of output fields", body: `[{"id":"a","layer":"v","lon":1,"lat":2,"code":"G0","time":"2026-11-30T03:00:00Z"}]`, accepted: 1},
	}
	var p Parser
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, rejs, err := p.Parse([]byte(tc.body), testNow)
			if tc.fatal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.fatal) {
					t.Fatalf("error %v, want one containing %q", err, tc.fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tc.accepted {
				t.Errorf("%d accepted, want %d (rejections %v)", len(objs), tc.accepted, rejs)
			}
			if len(rejs) != len(tc.rejected) {
				t.Fatalf("rejections %v, want %d", rejs, len(tc.rejected))
			}
			for i, r := range rejs {
				if !strings.Contains(r.Error, tc.rejected[i]) {
					t.Errorf("rejection %d: %q, want it to contain %q", i, r.Error, tc.rejected[i])
				}
				if tc.lines != nil && r.Line != tc.lines[i] {
					t.Errorf("rejection %d on line %d, want %d", i, r.Line, tc.lines[i])
				}
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	var p Parser
	objs, rejs, err := p.Parse([]byte(`{"id":"bus-1","layer":"vehicles","lon":121.61,"lat":38.91,"height":12.5,"heading":90,"speed":12.5,"time":"2026-11-30T03:59:00.123456Z","state":{"route":"23","load":0.7}}`), testNow)
	if err != nil || len(rejs) > 0 {
		t.Fatal(err, rejs)
	}
	o := objs[0]
	if o.ID != "bus-1" || o.Layer != "vehicles" || o.Lon != 121.61 || o.Lat != 38.91 || o.Height != 12.5 || o.Heading != 90 || o.Speed != 12.5 {
		t.Errorf("fields: %+v", o)
	}
	if got := o.SourceTime(); !got.Equal(time.Date(2026, 11, 30, 3, 59, 0, 123456000, time.UTC)) {
		t.Errorf("time %v", got)
	}
	if o.Recv != testNow.UnixMicro() {
		t.Errorf("recv %d", o.Recv)
	}
	if string(o.State) != `{"route":"23","load":0.7}` {
		t.Errorf("state %s", o.State)
	}
	if o.Code.Level() != CodeLevel {
		t.Errorf("code level %d", o.Code.Level())
	}
	want := `{"id":"bus-1","layer":"vehicles","lon":121.61,"lat":38.91,"height":12.5,"heading":90,"speed":12.5,"time":"2026-11-30T03:59:00.123456Z","code":"` +
		o.Code.ParentAt(TextCodeLevel).String() + `","state":{"route":"23","load":0.7}}`
	if got := string(o.AppendJSON(nil)); got != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
	// Without a time the update takes the time of receipt; without
	// heading or speed they are unknown and left out of the output.
	objs, _, _ = p.Parse([]byte(`{"id":"x","layer":"v","lon":1,"lat":2}`), testNow)
	if objs[0].Time != testNow.UnixMicro() || bytes.Contains(objs[0].AppendJSON(nil), []byte("speed")) {
		t.Errorf("defaults: %s", objs[0].AppendJSON(nil))
	}
}

func TestRecordRoundTrip(t *testing.T) {
	var p Parser
	objs, _, err := p.Parse([]byte(`[
	 {"id":"a","layer":"vehicles","lon":121.61,"lat":38.91,"height":-3,"heading":0,"speed":0,"time":"2026-11-30T03:59:00.123456Z","state":{"k":[1,2,{"x":null}]}},
	 {"id":"b","layer":"phones","lon":-179.999,"lat":-89.5,"time":1}]`), testNow)
	if err != nil || len(objs) != 2 {
		t.Fatal(err, objs)
	}
	tomb := *objs[0]
	tomb.Gone, tomb.State = true, nil
	for _, o := range append(objs, &tomb) {
		rec := o.AppendRecord(nil)
		got, err := DecodeRecord(o.ID, rec)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := string(got.AppendJSON(nil)), string(o.AppendJSON(nil)); a != b || got.Recv != o.Recv || got.Gone != o.Gone {
			t.Errorf("round trip\n got %s\nwant %s", a, b)
		}
		for n := range rec {
			if _, err := DecodeRecord(o.ID, rec[:n]); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated to %d bytes: %v, want ErrCorrupt", n, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`[{"id":"bus-1","layer":"vehicles","lon":121.6,"lat":38.9,"time":"2026-11-30T03:59:00Z","state":{"a":1}}]`))
	f.Add([]byte("{\"id\":\"a\",\"layer\":\"v\",\"lon\":1,\"lat\":2}\n{\"id\":\"b\"}"))
	f.Add([]byte(`{"id":"a","layer":"v","lon":1e400,"lat":2,"heading":null,"time":1.5e12}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p Parser
		objs, _, err := p.Parse(body, testNow)
		if err != nil {
			return
		}
		for _, o := range objs {
			// Everything accepted is valid, and its output parses back to
			// the same object.
			out := o.AppendJSON(nil)
			again, rejs, err := p.Parse(out, testNow)
			if err != nil || len(rejs) > 0 || len(again) != 1 {
				t.Fatalf("output %s does not parse back: %v %v", out, err, rejs)
			}
			if b := again[0].AppendJSON(nil); !bytes.Equal(b, out) {
				t.Fatalf("round trip changed\n%s\n%s", out, b)
			}
			if _, err := DecodeRecord(o.ID, o.AppendRecord(nil)); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzDecodeRecord(f *testing.F) {
	var p Parser
	objs, _, _ := p.Parse([]byte(`{"id":"a","layer":"vehicles","lon":121.61,"lat":38.91,"height":3,"heading":5,"speed":1,"state":{"k":1}}`), testNow)
	f.Add(objs[0].AppendRecord(nil))
	f.Fuzz(func(t *testing.T, rec []byte) {
		o, err := DecodeRecord("x", rec)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		_ = fmt.Sprint(o.AppendJSON(nil))
	})
}
