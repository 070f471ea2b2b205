package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"citytwin/twin/live"
	"citytwin/twin/live/pebblelog"

	"github.com/gorilla/websocket"
)

// fixture is a twin, a hub and a real HTTP server in front of it.
type fixture struct {
	twin *live.Twin
	hub  *Hub
	srv  *httptest.Server
}

func newFixture(t *testing.T, opt Options) *fixture {
	t.Helper()
	lg, err := pebblelog.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	tw, err := live.New(context.Background(), lg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := New(tw, opt)
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return &fixture{twin: tw, hub: h, srv: srv}
}

// ingest posts updates given as JSON objects.
func (f *fixture) ingest(t *testing.T, objs ...string) {
	t.Helper()
	var p live.Parser
	o, rej, err := p.Parse([]byte("["+strings.Join(objs, ",")+"]"), f.twin.Now())
	if err != nil || len(rej) > 0 {
		t.Fatal(err, rej)
	}
	if _, err := f.twin.Ingest(context.Background(), o, nil); err != nil {
		t.Fatal(err)
	}
}

func obj(id, layer string, lon, lat float64, at time.Time) string {
	return fmt.Sprintf(`{"id":%q,"layer":%q,"lon":%v,"lat":%v,"time":%q}`, id, layer, lon, lat, at.Format(time.RFC3339Nano))
}

// conn is a test websocket client.
type conn struct {
	t *testing.T
	c *websocket.Conn
}

func (f *fixture) dial(t *testing.T) *conn {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c}
}

func (c *conn) send(v string) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(v)); err != nil {
		c.t.Fatal(err)
	}
}

// msg is a server message.
type msg struct {
	Op      string            `json:"op"`
	Sub     string            `json:"sub"`
	ID      string            `json:"id"`
	Type    string            `json:"type"`
	Error   string            `json:"error"`
	Objects []json.RawMessage `json:"objects"`
	Left    []string          `json:"left"`
	live.Result
	at time.Time
}

func (c *conn) read(timeout time.Duration) (msg, error) {
	_ = c.c.SetReadDeadline(time.Now().Add(timeout))
	_, data, err := c.c.ReadMessage()
	if err != nil {
		return msg{}, err
	}
	var m msg
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("bad server message %s: %v", data, err)
	}
	m.at = time.Now()
	return m, nil
}

// next reads until a message with the op arrives.
func (c *conn) next(op string) msg {
	c.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", op, err)
		}
		if m.Op == op {
			return m
		}
	}
	c.t.Fatalf("no %q message", op)
	return msg{}
}

// states collects object positions from state messages until every
// wanted id has arrived at its wanted longitude (and the left ids have
// left), or fails after a timeout.
func (c *conn) await(want map[string]float64, left ...string) {
	c.t.Helper()
	got := map[string]float64{}
	gone := map[string]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		done := true
		for id, lon := range want {
			if got[id] != lon {
				done = false
			}
		}
		for _, id := range left {
			if !gone[id] {
				done = false
			}
		}
		if done {
			return
		}
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %v (left %v): got %v, left %v: %v", want, left, got, gone, err)
		}
		for _, raw := range m.Objects {
			var o struct {
				ID  string  `json:"id"`
				Lon float64 `json:"lon"`
			}
			_ = json.Unmarshal(raw, &o)
			got[o.ID] = o.Lon
		}
		for _, id := range m.Left {
			gone[id] = true
		}
	}
}

var t0 = time.Now().Add(-time.Hour).Truncate(time.Second)

func TestSubscribeSnapshotUpdatesLeft(t *testing.T) {
	f := newFixture(t, Options{FlushInterval: 20 * time.Millisecond})
	f.ingest(t, obj("a", "vehicles", 121.60, 38.90, t0), obj("b", "vehicles", 121.80, 38.90, t0), obj("p", "phones", 121.61, 38.91, t0))
	c := f.dial(t)
	c.send(`{"op":"subscribe","id":"s1","layers":["vehicles"],"bbox":[121.5,38.8,121.7,39.0]}`)
	if m := c.next("subscribed"); m.ID != "s1" {
		t.Fatalf("subscribed %+v", m)
	}
	c.await(map[string]float64{"a": 121.60}) // the snapshot: a only (b outside, p another layer)
	f.ingest(t, obj("a", "vehicles", 121.65, 38.90, t0.Add(time.Second)), obj("p", "phones", 121.62, 38.91, t0.Add(time.Second)))
	c.await(map[string]float64{"a": 121.65})
	// b drives in, a drives out.
	f.ingest(t, obj("b", "vehicles", 121.69, 38.90, t0.Add(2*time.Second)), obj("a", "vehicles", 121.75, 38.90, t0.Add(2*time.Second)))
	c.await(map[string]float64{"b": 121.69}, "a")
	// Removal is a departure too.
	if err := f.twin.Remove(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	c.await(nil, "b")
	// Unsubscribed: nothing more arrives.
	c.send(`{"op":"unsubscribe","id":"s1"}`)
	c.send(`{"op":"ping","id":"x"}`)
	if m := c.next("pong"); m.ID != "x" {
		t.Fatalf("pong %+v", m)
	}
	f.ingest(t, obj("a", "vehicles", 121.61, 38.90, t0.Add(3*time.Second)))
	if m, err := c.read(200 * time.Millisecond); err == nil {
		t.Fatalf("message after unsubscribe: %+v", m)
	}
}

func TestGridAndFenceSubscriptions(t *testing.T) {
	f := newFixture(t, Options{FlushInterval: 10 * time.Millisecond})
	f.ingest(t, obj("in", "v", 121.6001, 38.9001, t0), obj("out", "v", 121.70, 38.90, t0))
	o, _ := f.twin.Get("in")
	cell := o.Code.ParentAt(15).String() // a 1′ cell around "in"
	c := f.dial(t)
	c.send(`{"op":"subscribe","id":"g","grid":"` + cell + `"}`)
	c.next("subscribed")
	c.await(map[string]float64{"in": 121.6001})
	c2 := f.dial(t)
	c2.send(`{"op":"subscribe","id":"f","fence":{"type":"Polygon","coordinates":[[[121.69,38.89],[121.71,38.89],[121.70,38.91],[121.69,38.89]]]}}`)
	c2.next("subscribed")
	c2.await(map[string]float64{"out": 121.70})
	// Bad subscriptions are answered with errors naming the problem.
	for req, want := range map[string]string{
		`{"op":"subscribe","id":"x","grid":"G9"}`:                                  "grid",
		`{"op":"subscribe","id":"x","bbox":[1,2,3]}`:                               "bbox has 3 numbers",
		`{"op":"subscribe","id":"x","bbox":[1,2,3,4],"grid":"G0"}`:                 "one of bbox, grid or fence",
		`{"op":"subscribe","id":"x","fence":{"type":"Point","coordinates":[1,2]}}`: "want a Polygon",
		`{"op":"subscribe","bbox":[1,2,3,4]}`:                                      "needs an id",
		`{"op":"dance"}`:                                                           "unknown op",
		`{"op":"update","id":"u","objects":[{"id":"z","layer":"v","lon":1}]}`:      "",
		`not json`: "bad request",
	} {
		c.send(req)
		if want == "" {
			m := c.next("ack")
			if len(m.Rejected) != 1 || !strings.Contains(m.Rejected[0].Error, "missing lon or lat") {
				t.Errorf("%s: ack %+v", req, m)
			}
			continue
		}
		m := c.next("error")
		if !strings.Contains(m.Error, want) {
			t.Errorf("%s: error %q, want it to contain %q", req, m.Error, want)
		}
	}
}

func TestUpdateOverWebsocketReachesOtherClients(t *testing.T) {
	f := newFixture(t, Options{FlushInterval: 10 * time.Millisecond})
	watcher := f.dial(t)
	watcher.send(`{"op":"subscribe","id":"all","layers":["buses"]}`)
	watcher.next("subscribed")
	writer := f.dial(t)
	writer.send(`{"op":"update","id":"b1","objects":[` + obj("bus-9", "buses", 121.6, 38.9, t0) + `,` + obj("bus-9", "buses", 121.5, 38.9, t0.Add(-time.Second)) + `]}`)
	ack := writer.next("ack")
	if ack.ID != "b1" || ack.Accepted != 2 || ack.Applied != 1 || ack.Superseded != 1 {
		t.Fatalf("ack %+v", ack)
	}
	watcher.await(map[string]float64{"bus-9": 121.6})
}

// TestConflation checks that a subscription gets at most one state message
// per flush interval, each object's newest state, and nothing lost at the
// end.
func TestConflation(t *testing.T) {
	const interval = 100 * time.Millisecond
	f := newFixture(t, Options{FlushInterval: interval})
	c := f.dial(t)
	c.send(`{"op":"subscribe","id":"s","bbox":[121,38,122,39]}`)
	c.next("subscribed")
	start := time.Now()
	const n = 60
	// Read while ingesting, so arrival times are the server's send times.
	got := make(chan []msg)
	go func() {
		var msgs []msg
		last := 0.0
		for last != 121.0+float64(n)/100 {
			m, err := c.read(3 * time.Second)
			if err != nil {
				t.Errorf("after %d messages (last lon %v): %v", len(msgs), last, err)
				break
			}
			if m.Op != "state" {
				continue
			}
			if len(m.Objects) != 1 {
				t.Errorf("state with %d objects, want 1 (conflated)", len(m.Objects))
				break
			}
			var o struct{ Lon float64 }
			_ = json.Unmarshal(m.Objects[0], &o)
			if o.Lon < last {
				t.Errorf("went back from %v to %v", last, o.Lon)
			}
			last = o.Lon
			msgs = append(msgs, m)
		}
		got <- msgs
	}()
	for i := 1; i <= n; i++ {
		f.ingest(t, obj("car", "v", 121.0+float64(i)/100, 38.9, t0.Add(time.Duration(i)*time.Second)))
		time.Sleep(5 * time.Millisecond)
	}
	msgs := <-got
	took := time.Since(start)
	if max := int(took/interval) + 2; len(msgs) > max {
		t.Errorf("%d state messages in %v, more than one per %v (%d)", len(msgs), took, interval, max)
	}
	for i := 1; i < len(msgs); i++ {
		if gap := msgs[i].at.Sub(msgs[i-1].at); gap < interval*8/10 {
			t.Errorf("messages %d and %d only %v apart", i-1, i, gap)
		}
	}
	if len(msgs) >= n {
		t.Errorf("%d updates gave %d messages: nothing was conflated", n, len(msgs))
	}
	t.Logf("%d updates in %v → %d state messages", n, took, len(msgs))
}

// TestSlowClientIsClosedAndIngestNeverWaits: a client that reads nothing
// while thousands of objects change is closed with a reason once its
// backlog passes MaxPending, and ingest is never held up by it.
func TestSlowClientIsClosedAndIngestNeverWaits(t *testing.T) {
	f := newFixture(t, Options{FlushInterval: 10 * time.Millisecond, MaxPending: 500, WriteTimeout: 2 * time.Second})
	slow := f.dial(t)
	slow.send(`{"op":"subscribe","id":"s","layers":["v"]}`)
	fast := f.dial(t)
	fast.send(`{"op":"subscribe","id":"f","bbox":[121.59,38.89,121.61,38.91]}`)
	fast.next("subscribed")
	time.Sleep(50 * time.Millisecond)
	var batch []string
	for i := range 2000 {
		batch = append(batch, obj(fmt.Sprintf("o%d", i), "v", 121.0+float64(i)/10000, 38.5, t0))
	}
	start := time.Now()
	f.ingest(t, batch...)
	f.ingest(t, obj("near", "v", 121.6, 38.9, t0))
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("ingest took %v with a stalled client", took)
	}
	fast.await(map[string]float64{"near": 121.6})
	// The slow client now reads: what was sent, then a close with reason.
	for {
		_, _, err := slow.c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "too far behind") {
			t.Fatalf("slow client ended with %v, want close 1008 \"too far behind\"", err)
		}
		break
	}
	if s := f.hub.Stats(); s.ClosedSlow != 1 {
		t.Errorf("ClosedSlow = %d", s.ClosedSlow)
	}
}

func TestEvents(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial(t)
	c.send(`{"op":"subscribe","id":"e","events":["fence.*"],"fences":["f1"]}`)
	c.next("subscribed")
	f.hub.Publish([]Event{
		{Type: "fence.enter", Fence: "f2", JSON: []byte(`{"op":"event","type":"fence.enter","fence":"f2"}`)},
		{Type: "case.new", JSON: []byte(`{"op":"event","type":"case.new"}`)},
		{Type: "fence.exit", Fence: "f1", JSON: []byte(`{"op":"event","type":"fence.exit","fence":"f1"}`)},
	})
	m := c.next("event")
	if m.Sub != "e" || m.Type != "fence.exit" {
		t.Fatalf("event %+v", m)
	}
}

// TestBacklogIsPerClient: the MaxPending bound counts all of a client's
// subscriptions together, so many small subscriptions cannot add up to an
// unbounded backlog.
func TestBacklogIsPerClient(t *testing.T) {
	f := newFixture(t, Options{FlushInterval: time.Hour, MaxPending: 100})
	var batch []string
	for i := range 60 {
		batch = append(batch, obj(fmt.Sprintf("o%d", i), "v", 121.0+float64(i)/1000, 38.5, t0))
	}
	f.ingest(t, batch...)
	c := f.dial(t)
	// The first flush is immediate; an hour passes before the next.
	c.send(`{"op":"subscribe","id":"warmup","bbox":[0,0,1,1]}`)
	c.next("subscribed")
	time.Sleep(50 * time.Millisecond)
	c.send(`{"op":"subscribe","id":"a","bbox":[120,38,122,39]}`) // 60 pending
	c.next("subscribed")
	c.send(`{"op":"subscribe","id":"b","layers":["v"]}`) // 60 more: 120 > 100
	for {
		_, _, err := c.c.ReadMessage()
		if err == nil {
			continue
		}
		ce, ok := err.(*websocket.CloseError)
		if !ok || ce.Code != websocket.ClosePolicyViolation {
			t.Fatalf("ended with %v, want close 1008", err)
		}
		return
	}
}

// TestPerObjectConflation: with ObjectInterval, an object that changes
// rarely reaches the subscriber at once, while a chatty one is held to one
// state per interval, and its last state still arrives.
func TestPerObjectConflation(t *testing.T) {
	const every = 100 * time.Millisecond
	f := newFixture(t, Options{FlushInterval: 5 * time.Millisecond, ObjectInterval: every})
	c := f.dial(t)
	c.send(`{"op":"subscribe","id":"s","bbox":[121,38,122,39]}`)
	c.next("subscribed")
	type arrival struct {
		id  string
		lon float64
		at  time.Time
	}
	got := make(chan []arrival)
	const fastN = 100
	go func() {
		var all []arrival
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			m, err := c.read(time.Until(deadline))
			if err != nil {
				break
			}
			for _, raw := range m.Objects {
				var o struct {
					ID  string  `json:"id"`
					Lon float64 `json:"lon"`
				}
				_ = json.Unmarshal(raw, &o)
				all = append(all, arrival{o.ID, o.Lon, m.at})
				if o.ID == "fast" && o.Lon == 121+float64(fastN)/1000 {
					deadline = time.Now().Add(300 * time.Millisecond) // a little more for "slow"
				}
			}
		}
		got <- all
	}()
	start := time.Now()
	sent := map[float64]time.Time{}
	for i := 1; i <= fastN; i++ {
		f.ingest(t, obj("fast", "v", 121+float64(i)/1000, 38.9, t0.Add(time.Duration(i)*time.Millisecond)))
		if i%25 == 0 {
			lon := 121.5 + float64(i)/1000
			sent[lon] = time.Now()
			f.ingest(t, obj("slow", "v", lon, 38.9, t0.Add(time.Duration(i)*time.Millisecond)))
		}
		time.Sleep(5 * time.Millisecond)
	}
	all := <-got
	took := time.Since(start)
	fast, slow := 0, 0
	var lastFast float64
	var prevFast time.Time
	for _, a := range all {
		switch a.id {
		case "fast":
			fast++
			lastFast = a.lon
			if !prevFast.IsZero() && a.at.Sub(prevFast) < every*8/10 {
				t.Errorf("fast sent twice within %v", a.at.Sub(prevFast))
			}
			prevFast = a.at
		case "slow":
			slow++
			if d := a.at.Sub(sent[a.lon]); d > every*8/10 { // well under the window it would wait otherwise
				t.Errorf("slow object's state took %v to arrive", d)
			}
		}
	}
	if lastFast != 121+float64(fastN)/1000 {
		t.Errorf("fast's last state %v never arrived", 121+float64(fastN)/1000)
	}
	if max := int(took/every) + 2; fast > max {
		t.Errorf("fast arrived %d times in %v, more than once per %v", fast, took, every)
	}
	if slow != 4 {
		t.Errorf("slow arrived %d times, want 4", slow)
	}
	t.Logf("%v: fast %d arrivals, slow %d", took, fast, slow)
}
