package mqttin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"citytwin/internal/mqtttest"
)

// waitTimeout bounds every wait for something to arrive.
const waitTimeout = 10 * time.Second

// recorder is a Sink that records what it receives.
type recorder struct {
	mu      sync.Mutex
	msgs    []Message
	batches []int // sizes
	changed chan struct{}
	err     error         // returned by every call
	gate    chan struct{} // if not nil, each call waits for it to be closed
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 1)} }

func (r *recorder) sink(ctx context.Context, msgs []Message) error {
	if r.gate != nil {
		<-r.gate
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, msgs...)
	r.batches = append(r.batches, len(msgs))
	err := r.err
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	return err
}

func (r *recorder) snapshot() ([]Message, []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...), append([]int(nil), r.batches...)
}

// waitFor waits until the recorder has n messages and returns them.
func (r *recorder) waitFor(t *testing.T, n int) []Message {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		msgs, _ := r.snapshot()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-r.changed:
		case <-deadline:
			t.Fatalf("sink got %d messages, want %d", len(msgs), n)
		}
	}
}

// payloads returns the set of payloads received.
func payloads(msgs []Message) map[string]int {
	got := make(map[string]int)
	for _, m := range msgs {
		got[string(m.Payload)]++
	}
	return got
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testLogger logs to the test's output and to buf, if not nil.
func testLogger(t *testing.T, buf *syncBuffer) *slog.Logger {
	var w interface{ Write([]byte) (int, error) } = t.Output()
	if buf != nil {
		w = multiWriter{t.Output(), buf}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type multiWriter [2]interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	m[0].Write(p)
	return m[1].Write(p)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// options returns quick options for a test client of url.
func options(t *testing.T, url string) Options {
	return Options{
		URL:                  url,
		ClientID:             "citytwin-test-" + t.Name(),
		ConnectTimeout:       5 * time.Second,
		MaxReconnectInterval: 100 * time.Millisecond,
		Logger:               testLogger(t, nil),
	}
}

// start starts a client and closes it when t ends.
func start(t *testing.T, opt Options, sink Sink) *Client {
	t.Helper()
	c, err := Start(t.Context(), opt, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// publisher connects a plain paho client to url.
func publisher(t *testing.T, url string) mqtt.Client {
	t.Helper()
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("pub-" + t.Name()).
		SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
	p := mqtt.NewClient(o)
	if tok := p.Connect(); !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
		t.Fatalf("publisher connect: %v", tok.Error())
	}
	t.Cleanup(func() { p.Disconnect(0) })
	return p
}

// publish publishes with QoS 1 and waits for the broker's PUBACKs.
func publish(t *testing.T, p mqtt.Client, msgs ...[2]string) {
	t.Helper()
	toks := make([]mqtt.Token, len(msgs))
	for i, m := range msgs {
		toks[i] = p.Publish(m[0], 1, false, m[1])
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(waitTimeout) || tok.Error() != nil {
			t.Fatalf("publish %s: %v", msgs[i][0], tok.Error())
		}
	}
}

func TestParseTopic(t *testing.T) {
	for _, tc := range []struct {
		topic, layer, id string
		err              string // substring; "" = valid
	}{
		{"citytwin/objects/buses/42", "buses", "42", ""},
		{"citytwin/objects/sensors/air-7.b", "sensors", "air-7.b", ""},
		{"citytwin/objects/l/ü id", "l", "ü id", ""},
		{"citytwin/objects/buses", "", "", "no object ID"},
		{"citytwin/objects/", "", "", "no object ID"},
		{"citytwin/objects//42", "", "", "empty layer"},
		{"citytwin/objects/buses/", "", "", "empty object ID"},
		{"citytwin/objects/buses/42/x", "", "", "more than two levels"},
		{"citytwin/objects/buses//", "", "", "more than two levels"},
		{"citytwin/other/buses/42", "", "", "not under"},
		{"/citytwin/objects/buses/42", "", "", "not under"},
		{"", "", "", "not under"},
	} {
		layer, id, err := ParseTopic(tc.topic)
		if tc.err == "" {
			if err != nil || layer != tc.layer || id != tc.id {
				t.Errorf("ParseTopic(%q) = %q, %q, %v; want %q, %q", tc.topic, layer, id, err, tc.layer, tc.id)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || layer != "" || id != "" {
			t.Errorf("ParseTopic(%q) = %q, %q, %v; want an error containing %q", tc.topic, layer, id, err, tc.err)
		}
	}
}

func FuzzParseTopic(f *testing.F) {
	for _, s := range []string{"citytwin/objects/buses/42", "citytwin/objects/a", "citytwin/objects//x",
		"citytwin/objects/a/b/c", "x/y", "", "citytwin/objects/a/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		layer, id, err := ParseTopic(topic)
		parts := strings.Split(topic, "/")
		want := len(parts) == 4 && parts[0] == "citytwin" && parts[1] == "objects" && parts[2] != "" && parts[3] != ""
		if (err == nil) != want {
			t.Fatalf("ParseTopic(%q) error %v, want valid=%v", topic, err, want)
		}
		if err != nil {
			if layer != "" || id != "" {
				t.Fatalf("ParseTopic(%q) = %q, %q with error %v", topic, layer, id, err)
			}
			return
		}
		if layer != parts[2] || id != parts[3] || TopicPrefix+layer+"/"+id != topic {
			t.Fatalf("ParseTopic(%q) = %q, %q", topic, layer, id)
		}
	})
}

func TestDeliver(t *testing.T) {
	b := mqtttest.Start(t)
	r := newRecorder()
	c := start(t, options(t, b.URL()), r.sink)
	p := publisher(t, b.URL())
	publish(t, p,
		[2]string{"citytwin/objects/buses/42", `{"lat":1}`},
		[2]string{"citytwin/objects/sensors/air-7", `{"pm10":3}`},
	)
	msgs := r.waitFor(t, 2)
	want := []Message{
		{Layer: "buses", ID: "42", Payload: []byte(`{"lat":1}`), Topic: "citytwin/objects/buses/42"},
		{Layer: "sensors", ID: "air-7", Payload: []byte(`{"pm10":3}`), Topic: "citytwin/objects/sensors/air-7"},
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages, want %d", len(msgs), len(want))
	}
	for i := range want {
		g, w := msgs[i], want[i]
		if g.Layer != w.Layer || g.ID != w.ID || g.Topic != w.Topic || !bytes.Equal(g.Payload, w.Payload) {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
	eventually(t, "delivered count", func() bool { return c.Stats().Delivered == 2 })
	if st := c.Stats(); st.Received != 2 || st.Rejected != 0 || !st.Connected || st.Subscriptions != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRejectBadTopics(t *testing.T) {
	b := mqtttest.Start(t)
	r := newRecorder()
	logs := new(syncBuffer)
	opt := options(t, b.URL())
	opt.Topic = "#" // so that topics outside citytwin/objects/ arrive too
	opt.Logger = testLogger(t, logs)
	c := start(t, opt, r.sink)
	p := publisher(t, b.URL())
	bad := []string{
		"citytwin/objects/buses",
		"citytwin/objects//42",
		"citytwin/objects/buses/42/extra",
		"citytwin/objects/buses/",
		"elsewhere/buses/42",
	}
	for _, topic := range bad {
		publish(t, p, [2]string{topic, "{}"})
	}
	publish(t, p, [2]string{"citytwin/objects/buses/ok", "{}"})
	// The broker keeps the order of one publisher's messages, so once the
	// good message is delivered the bad ones have been handled.
	msgs := r.waitFor(t, 1)
	if len(msgs) != 1 || msgs[0].ID != "ok" {
		t.Fatalf("sink got %+v", msgs)
	}
	st := c.Stats()
	if st.Rejected != uint64(len(bad)) || st.Received != uint64(len(bad)+1) {
		t.Errorf("stats %+v, want %d rejected", st, len(bad))
	}
	// Rate-limited: the first rejection is logged, with its topic and
	// reason; the others within logEvery are only counted.
	log := logs.String()
	if n := strings.Count(log, "message rejected"); n != 1 {
		t.Errorf("%d rejection log lines, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, "topic=citytwin/objects/buses ") || !strings.Contains(log, "no object ID") {
		t.Errorf("rejection log lacks topic or reason:\n%s", log)
	}
}

func TestSinkErrors(t *testing.T) {
	b := mqtttest.Start(t)
	r := newRecorder()
	r.err = errors.New("bad JSON")
	logs := new(syncBuffer)
	opt := options(t, b.URL())
	opt.Logger = testLogger(t, logs)
	opt.Flush = time.Millisecond
	c := start(t, opt, r.sink)
	p := publisher(t, b.URL())
	publish(t, p, [2]string{"citytwin/objects/buses/1", "not json"})
	r.waitFor(t, 1)
	publish(t, p, [2]string{"citytwin/objects/buses/2", "neither"})
	r.waitFor(t, 2) // the client keeps going after an error
	eventually(t, "sink error count", func() bool { return c.Stats().SinkErrors == 2 })
	if st := c.Stats(); st.Failed != 2 || st.Delivered != 0 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
	log := logs.String()
	if n := strings.Count(log, "sink failed"); n != 1 {
		t.Errorf("%d sink error log lines, want 1 (rate-limited):\n%s", n, log)
	}
	if !strings.Contains(log, "citytwin/objects/buses/1") || !strings.Contains(log, "bad JSON") {
		t.Errorf("sink error log lacks topic or error:\n%s", log)
	}
}

// TestBatching publishes many messages to a few topics: they arrive in
// fewer sink calls than messages, no larger than Batch, none lost, and in
// order per topic.
func TestBatching(t *testing.T) {
	const topics, perTopic, batch = 10, 300, 100
	// The burst is larger than what Mosquitto queues for a client by
	// default (max_queued_messages 1000): when the client falls behind (as
	// under the race detector) the broker would drop the excess.
	b := mqtttest.StartConfig(t, mqtttest.Config{Extra: "max_queued_messages 10000\n"})
	r := newRecorder()
	opt := options(t, b.URL())
	opt.Batch = batch
	opt.Flush = 20 * time.Millisecond
	c := start(t, opt, r.sink)
	p := publisher(t, b.URL())
	var msgs [][2]string
	for i := range perTopic {
		for k := range topics {
			msgs = append(msgs, [2]string{fmt.Sprintf("citytwin/objects/l/o%d", k), fmt.Sprint(i)})
		}
	}
	publish(t, p, msgs...)
	got := r.waitFor(t, len(msgs))
	_, sizes := r.snapshot()
	if len(got) != len(msgs) {
		t.Errorf("got %d messages, want %d (duplicates?)", len(got), len(msgs))
	}
	next := make(map[string]int)
	for _, m := range got {
		if want := fmt.Sprint(next[m.ID]); string(m.Payload) != want {
			t.Fatalf("%s: got payload %s, want %s (order per topic broken)", m.Topic, m.Payload, want)
		}
		next[m.ID]++
	}
	for _, n := range sizes {
		if n > batch {
			t.Errorf("batch of %d messages, Batch is %d", n, batch)
		}
	}
	if len(sizes) >= len(msgs)/2 {
		t.Errorf("%d messages in %d sink calls: not batched", len(msgs), len(sizes))
	}
	t.Logf("%d messages in %d sink calls", len(msgs), len(sizes))
	// The counters move once a batch's sink call has returned and its
	// messages are acknowledged, a moment after the recorder saw them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := c.Stats()
		if st.Batches == uint64(len(sizes)) && st.Delivered == uint64(len(msgs)) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("stats %+v", st)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBackpressure blocks the sink: the client stops taking messages once
// its queue is full instead of buffering everything, and delivers them all
// once the sink moves again.
func TestBackpressure(t *testing.T) {
	const n, batch = 500, 10
	b := mqtttest.Start(t)
	r := newRecorder()
	r.gate = make(chan struct{})
	opt := options(t, b.URL())
	opt.Batch = batch
	c := start(t, opt, r.sink)
	p := publisher(t, b.URL())
	var msgs [][2]string
	for i := range n {
		msgs = append(msgs, [2]string{"citytwin/objects/l/o", fmt.Sprint(i)})
	}
	publish(t, p, msgs...) // the broker takes them all and queues for the client
	time.Sleep(200 * time.Millisecond)
	// One batch in the sink, a full queue, one message blocked in paho's
	// callback.
	if got := c.Stats().Received; got > 2*batch+1 {
		t.Errorf("received %d messages with the sink blocked; want at most %d", got, 2*batch+1)
	}
	close(r.gate)
	got := r.waitFor(t, n)
	for i, m := range got {
		if string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("message %d has payload %s", i, m.Payload)
		}
	}
}

// TestReconnectAfterBrokerRestart restarts a broker without persistence:
// the client reconnects, subscribes again (the new broker knows nothing of
// the old session) and receives what is published after that.
func TestReconnectAfterBrokerRestart(t *testing.T) {
	b := mqtttest.Start(t)
	r := newRecorder()
	c := start(t, options(t, b.URL()), r.sink)
	publish(t, publisher(t, b.URL()), [2]string{"citytwin/objects/l/before", "1"})
	r.waitFor(t, 1)
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "resubscription", func() bool { return c.Stats().Subscriptions >= 2 })
	p := publisher(t, b.URL())
	publish(t, p, [2]string{"citytwin/objects/l/after", "2"})
	msgs := r.waitFor(t, 2)
	if msgs[len(msgs)-1].ID != "after" {
		t.Errorf("got %+v", msgs)
	}
	st := c.Stats()
	if st.Reconnects < 1 || st.ConnectionsLost < 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
}

// TestQueuedWhileDisconnected cuts the client's connection (through a
// proxy) while the broker keeps running: QoS 1 messages published while the
// client is away are kept in its persistent session and delivered after it
// reconnects.
func TestQueuedWhileDisconnected(t *testing.T) {
	b := mqtttest.Start(t)
	proxy := mqtttest.NewProxy(t, b.Addr())
	r := newRecorder()
	c := start(t, options(t, proxy.URL()), r.sink)
	p := publisher(t, b.URL())
	publish(t, p, [2]string{"citytwin/objects/l/o", "0"})
	r.waitFor(t, 1)

	proxy.Cut()
	eventually(t, "disconnection", func() bool { return !c.Stats().Connected })
	var msgs [][2]string
	for i := 1; i <= 50; i++ {
		msgs = append(msgs, [2]string{"citytwin/objects/l/o", fmt.Sprint(i)})
	}
	publish(t, p, msgs...)
	time.Sleep(50 * time.Millisecond)
	if got, _ := r.snapshot(); len(got) != 1 {
		t.Fatalf("sink got %d messages while disconnected", len(got))
	}
	proxy.Resume()
	got := payloads(r.waitFor(t, 51))
	for i := range 51 {
		if got[fmt.Sprint(i)] == 0 {
			t.Errorf("message %d lost", i)
		}
	}
	if st := c.Stats(); st.Reconnects < 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestQueuedAcrossPersistentBrokerRestart: with a broker that persists
// sessions, QoS 1 messages queued for the absent client survive a broker
// restart and are delivered after the client reconnects.
func TestQueuedAcrossPersistentBrokerRestart(t *testing.T) {
	b := mqtttest.StartConfig(t, mqtttest.Config{Persistence: true})
	proxy := mqtttest.NewProxy(t, b.Addr())
	r := newRecorder()
	c := start(t, options(t, proxy.URL()), r.sink)

	proxy.Cut()
	eventually(t, "disconnection", func() bool { return !c.Stats().Connected })
	p := publisher(t, b.URL())
	publish(t, p, [2]string{"citytwin/objects/l/a", "queued-1"}, [2]string{"citytwin/objects/l/b", "queued-2"})
	p.Disconnect(0)
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	proxy.Resume()
	got := payloads(r.waitFor(t, 2))
	if got["queued-1"] == 0 || got["queued-2"] == 0 {
		t.Errorf("got %v", got)
	}
}

// TestSessionAcrossClientRestart: messages published while no client runs
// (a server restart) are delivered to the next client with the same ID.
func TestSessionAcrossClientRestart(t *testing.T) {
	b := mqtttest.Start(t)
	opt := options(t, b.URL())
	first, err := Start(t.Context(), opt, newRecorder().sink)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	publish(t, publisher(t, b.URL()), [2]string{"citytwin/objects/l/o", "while-away"})
	r := newRecorder()
	start(t, opt, r.sink)
	if msgs := r.waitFor(t, 1); string(msgs[0].Payload) != "while-away" {
		t.Errorf("got %+v", msgs)
	}
}

// TestClose: Close returns promptly, whether the client is connected or
// reconnecting, delivers what was queued, and is idempotent.
func TestClose(t *testing.T) {
	b := mqtttest.Start(t)
	t.Run("connected", func(t *testing.T) {
		r := newRecorder()
		r.gate = make(chan struct{})
		opt := options(t, b.URL())
		opt.Batch = 5
		c, err := Start(t.Context(), opt, r.sink)
		if err != nil {
			t.Fatal(err)
		}
		p := publisher(t, b.URL())
		var msgs [][2]string
		for i := range 20 {
			msgs = append(msgs, [2]string{"citytwin/objects/l/o", fmt.Sprint(i)})
		}
		publish(t, p, msgs...)
		eventually(t, "a full queue", func() bool { return c.Stats().Received >= 10 })
		time.AfterFunc(50*time.Millisecond, func() { close(r.gate) })
		start := time.Now()
		c.Close()
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %v", d)
		}
		st := c.Stats()
		if got, _ := r.snapshot(); uint64(len(got)) != st.Delivered || st.Delivered+st.Dropped != st.Received {
			t.Errorf("sink got %d messages; stats %+v", len(got), st)
		}
		if st.Connected {
			t.Error("connected after Close")
		}
		c.Close()
	})
	t.Run("reconnecting", func(t *testing.T) {
		c, err := Start(t.Context(), options(t, b.URL()), newRecorder().sink)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "disconnection", func() bool { return !c.Stats().Connected })
		start := time.Now()
		c.Close()
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %v", d)
		}
	})
	t.Run("context", func(t *testing.T) {
		if err := b.Restart(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		c, err := Start(ctx, options(t, b.URL()), newRecorder().sink)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		eventually(t, "close on cancel", func() bool { return !c.Stats().Connected })
		c.Close()
	})
}

func TestConnectFailure(t *testing.T) {
	b := mqtttest.Start(t)
	addr := b.Addr()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	url := "tcp://citytwin:s3cret@" + addr
	start := time.Now()
	c, err := Start(t.Context(), options(t, url), newRecorder().sink)
	if err == nil {
		c.Close()
		t.Fatal("Start succeeded without a broker")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not name the broker and the cause", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the password", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Start took %v to fail", d)
	}
	if _, err := Start(t.Context(), Options{}, newRecorder().sink); err == nil {
		t.Error("Start without URL succeeded")
	}
	if _, err := Start(t.Context(), Options{URL: "tcp://x", QoS: 3}, newRecorder().sink); err == nil {
		t.Error("Start with QoS 3 succeeded")
	}
}
