// Package mqttin receives live object updates from an MQTT broker.
//
// Publishers (vehicles, sensors, phones or a gateway in front of them) send
// one object update per message to the topic citytwin/objects/{layer}/{id}
// with a JSON payload. A Client subscribes to those topics, checks each
// topic's shape (ParseTopic), and hands the messages in batches to a Sink,
// which decodes and applies them. The package knows nothing of the twin's
// object type: payloads are passed on as they are.
//
// # Delivery
//
// The client connects with a persistent session (clean session false) under
// a stable client ID, subscribes with QoS 1 by default and reconnects and
// subscribes again by itself when the connection drops or the broker
// restarts. Delivery is at least once, so the sink can see a message twice
// (a broker resending an unacknowledged message after a reconnection, or
// retained messages sent again on every subscription); the twin applies an
// update only if its source timestamp is newer than the object's, so
// duplicates are harmless.
//
//   - While the client is disconnected and the broker keeps running, the
//     broker queues QoS 1 messages for the session and sends them after the
//     reconnection.
//   - The broker's queue per client is bounded, whether the client is away
//     or merely slower than the publishers: Mosquitto drops new QoS 1 and 2
//     messages beyond max_queued_messages (1000 by default) and logs
//     "Outgoing messages are being dropped for client ...". Size it (or
//     max_queued_bytes) for the bursts and outages to ride out.
//   - A broker restart keeps the session and its queue only if the broker
//     persists them (Mosquitto: persistence true). Otherwise the client
//     subscribes again and receives what is published from then on; what
//     was queued, or published before the new subscription, is lost.
//   - QoS 0 messages are never queued for an absent client.
//
// # Flow control
//
// Messages go from paho's callback into a queue of Options.Batch messages
// that one goroutine drains into sink calls of at most Batch messages,
// waiting at most Options.Flush after the first message of a batch for
// more. When the sink is slower than the broker, the queue fills, paho's
// callback blocks, paho stops reading the connection and the broker stops
// sending once the session's in-flight window of unacknowledged QoS 1
// messages is full (Mosquitto: max_inflight_messages, 20 by default),
// queueing the rest for the session (up to its limit, see above); the
// client's memory stays bounded. If the sink
// stalls for longer than the keep-alive interval plus paho's ping timeout
// (40 s with the defaults), paho gives up on the connection and reconnects.
//
// A message is acknowledged to the broker only after the sink has returned
// nil for its batch (for the twin: once the updates are durable), so a
// crashing process loses nothing the broker considers delivered: the broker
// sends unacknowledged QoS 1 messages again on the next connection of the
// session. A sink returns an error only when it could not take the batch
// (a store failure), never for malformed payloads (it counts and drops
// those itself): the batch is then left unacknowledged, counted and logged,
// and the broker's in-flight window, once full of unacknowledged messages,
// stops the flow until the client reconnects. Since messages wait for the
// sink before they are acknowledged, the broker's in-flight window also
// bounds a batch: raise Mosquitto's max_inflight_messages (20 by default;
// 0 is unlimited) to about Options.Batch for high message rates.
//
// Close stops taking messages, delivers the queued ones to the sink and
// disconnects. A message paho hands over while Close runs is not
// acknowledged, so the broker sends it again on the next connection with
// the same client ID.
package mqttin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// TopicPrefix is the prefix of the topics object updates are published to:
// TopicPrefix + "{layer}/{id}".
const TopicPrefix = "citytwin/objects/"

// Defaults for the zero fields of Options.
const (
	DefaultTopic                = TopicPrefix + "#"
	DefaultQoS                  = 1
	DefaultBatch                = 1000
	DefaultFlush                = 5 * time.Millisecond
	DefaultConnectTimeout       = 10 * time.Second
	DefaultMaxReconnectInterval = 10 * time.Second
	DefaultKeepAlive            = 30 * time.Second
)

// quiesce is how long Close waits for the DISCONNECT packet to be sent.
const quiesce = 250 * time.Millisecond

// logEvery is the minimum interval between two log lines about rejected
// topics, and between two about sink errors.
const logEvery = 10 * time.Second

// Message is one update received from the broker.
type Message struct {
	// Layer and ID are the topic's {layer} and {id}.
	Layer, ID string
	// Payload is the message body as received (JSON, unchecked).
	Payload []byte
	// Topic is the full topic, for logs.
	Topic string
}

// Sink receives batches of messages, in the order the broker sent them,
// one call at a time. It may keep msgs. A returned error is counted and
// logged (rate-limited) with the batch's topics; it never stops the client,
// and the messages are not delivered again. ctx is the context given to
// Start.
type Sink func(ctx context.Context, msgs []Message) error

// Options configures a Client. Only URL is required.
type Options struct {
	// URL is the broker's address: tcp://host:1883, ssl://host:8883,
	// ws://host/mqtt ...
	URL string
	// ClientID identifies the client's session on the broker; it must be
	// stable across restarts for the broker to keep queueing messages for
	// the client, and unique: a broker disconnects a client when another
	// connects with the same ID. Default: "citytwin-" + host name.
	ClientID string
	// Topic is the subscription's topic filter. Default: DefaultTopic.
	// Topics it matches that do not have the shape TopicPrefix +
	// "{layer}/{id}" are rejected.
	Topic string
	// QoS is the subscription's maximum quality of service: 0, 1 or 2.
	// Default (0 is taken as unset): 1. Use QoSAtMostOnce for 0.
	QoS byte
	// QoSAtMostOnce subscribes with QoS 0, overriding QoS.
	QoSAtMostOnce bool
	// Batch is the maximum number of messages per Sink call, and the
	// length of the queue in front of the sink. Default: DefaultBatch.
	Batch int
	// Flush is how long a batch waits for more messages after its first
	// one. Default: DefaultFlush.
	Flush time.Duration
	// ConnectTimeout bounds a connection attempt and the first
	// subscription. Default: DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// MaxReconnectInterval caps the back-off between reconnection
	// attempts. Default: DefaultMaxReconnectInterval.
	MaxReconnectInterval time.Duration
	// KeepAlive is the MQTT keep-alive interval (whole seconds).
	// Default: DefaultKeepAlive.
	KeepAlive time.Duration
	// Username and Password authenticate the client, if set.
	Username, Password string
	// Logger receives the client's logs. Default: slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.URL == "" {
		return o, errors.New("mqttin: no broker URL")
	}
	if o.ClientID == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "unknown"
		}
		o.ClientID = "citytwin-" + host
	}
	if o.Topic == "" {
		o.Topic = DefaultTopic
	}
	switch {
	case o.QoSAtMostOnce:
		o.QoS = 0
	case o.QoS == 0:
		o.QoS = DefaultQoS
	case o.QoS > 2:
		return o, fmt.Errorf("mqttin: QoS %d, want 0, 1 or 2", o.QoS)
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Flush <= 0 {
		o.Flush = DefaultFlush
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.MaxReconnectInterval <= 0 {
		o.MaxReconnectInterval = DefaultMaxReconnectInterval
	}
	if o.KeepAlive < time.Second {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// Stats counts what a Client has done since Start.
type Stats struct {
	// Received counts messages received from the broker.
	Received uint64
	// Rejected counts messages dropped because their topic does not have
	// the shape TopicPrefix + "{layer}/{id}".
	Rejected uint64
	// Delivered counts messages in sink calls that returned nil.
	Delivered uint64
	// Failed counts messages in sink calls that returned an error.
	Failed uint64
	// Batches counts sink calls, SinkErrors those that returned an error.
	Batches, SinkErrors uint64
	// Dropped counts messages paho handed over while Close ran; they were
	// not acknowledged, so the broker sends them again (QoS ≥ 1, same
	// client ID).
	Dropped uint64
	// ConnectionsLost counts dropped connections, Reconnects successful
	// reconnections after one.
	ConnectionsLost, Reconnects uint64
	// Subscriptions counts successful subscriptions (one per connection).
	Subscriptions uint64
	// Connected reports whether the client is connected now.
	Connected bool
}

// Client is a running MQTT ingest client. Its methods are safe for
// concurrent use.
type Client struct {
	opt  Options
	ctx  context.Context
	sink Sink
	log  *slog.Logger
	mqtt mqtt.Client

	queue   chan queued
	closing chan struct{} // closed when Close starts
	mu      sync.RWMutex  // held for reading by onMessage while it enqueues
	closed  bool          // no more sends on queue; guarded by mu
	done    chan struct{} // closed when the batcher has drained queue

	connects  atomic.Uint64 // successful connections, first one included
	firstSub  chan error    // result of the first subscription
	closeOnce sync.Once
	stopWatch func() bool // stops the ctx watcher; set before Start returns

	received, rejected, delivered, failed, batches, sinkErrors, dropped atomic.Uint64
	lost, reconnects, subscriptions                                     atomic.Uint64

	rejectLog, sinkLog limiter
}

// Start connects to the broker, subscribes and starts delivering messages
// to sink. It returns an error, naming the URL, if the first connection or
// subscription fails; after that the client reconnects and subscribes again
// by itself until Close. ctx bounds the first connection, is passed to the
// sink, and closes the client (as Close) when it is cancelled; the batches
// Close delivers then see a cancelled context, so call Close first to have
// them processed.
func Start(ctx context.Context, opt Options, sink Sink) (*Client, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, errors.New("mqttin: nil sink")
	}
	where := redact(opt.URL)
	c := &Client{
		opt:      opt,
		ctx:      ctx,
		sink:     sink,
		log:      opt.Logger.With("broker", where, "client_id", opt.ClientID),
		queue:    make(chan queued, opt.Batch),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		firstSub: make(chan error, 1),
	}
	mo := mqtt.NewClientOptions().
		AddBroker(opt.URL).
		SetClientID(opt.ClientID).
		SetUsername(opt.Username).
		SetPassword(opt.Password).
		SetCleanSession(false).
		SetOrderMatters(true).    // one callback at a time, in order
		SetAutoAckDisabled(true). // acknowledged once queued (onMessage)
		SetResumeSubs(false).     // onConnect subscribes on every connection
		SetAutoReconnect(true).
		SetConnectRetry(false). // the first failure is Start's error
		SetConnectTimeout(opt.ConnectTimeout).
		SetMaxReconnectInterval(opt.MaxReconnectInterval).
		SetKeepAlive(opt.KeepAlive).
		SetDefaultPublishHandler(c.onMessage). // also gets what a resumed session sends before the SUBACK
		SetOnConnectHandler(c.onConnect).
		SetConnectionLostHandler(c.onConnectionLost).
		SetReconnectingHandler(func(mqtt.Client, *mqtt.ClientOptions) {
			c.log.Debug("mqttin: reconnecting")
		})
	c.mqtt = mqtt.NewClient(mo)
	go c.run()

	fail := func(err error) (*Client, error) {
		c.shutdown()
		return nil, fmt.Errorf("mqttin: connect to %s: %w", where, err)
	}
	tok := c.mqtt.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fail(err)
		}
	case <-ctx.Done():
		// Let the attempt end (ConnectTimeout bounds it) so that a late
		// success does not leave a connected client behind.
		<-tok.Done()
		return fail(context.Cause(ctx))
	}
	timer := time.NewTimer(opt.ConnectTimeout)
	defer timer.Stop()
	select {
	case err := <-c.firstSub:
		if err != nil {
			return fail(err)
		}
	case <-ctx.Done():
		return fail(context.Cause(ctx))
	case <-timer.C:
		return fail(fmt.Errorf("no SUBACK for %s within %v", opt.Topic, opt.ConnectTimeout))
	}
	c.stopWatch = context.AfterFunc(ctx, c.close)
	c.log.Info("mqttin: subscribed", "topic", opt.Topic, "qos", opt.QoS)
	return c, nil
}

// redact hides a password in a URL.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		return u.Redacted()
	}
	return raw
}

// onConnect runs (in its own goroutine) after every successful connection
// and subscribes; paho does not resubscribe by itself, and after a broker
// restart without persistence the broker has forgotten the subscription.
func (c *Client) onConnect(cl mqtt.Client) {
	n := c.connects.Add(1)
	if n > 1 {
		c.reconnects.Add(1)
		c.log.Info("mqttin: reconnected")
	}
	backoff := time.Second
	for {
		select {
		case <-c.closing:
			return
		default:
		}
		err := c.subscribe(cl)
		if n == 1 {
			c.firstSub <- err // Start gives up on an error
			return
		}
		if err == nil {
			return
		}
		c.log.Error("mqttin: subscribe failed; retrying", "topic", c.opt.Topic, "err", err, "retry_in", backoff)
		select {
		case <-c.closing:
			return
		case <-time.After(backoff):
		}
		if c.connects.Load() != n {
			return // a newer connection subscribes for itself
		}
		backoff = min(2*backoff, c.opt.MaxReconnectInterval)
	}
}

func (c *Client) subscribe(cl mqtt.Client) error {
	tok := cl.Subscribe(c.opt.Topic, c.opt.QoS, nil) // nil: the default handler
	if !tok.WaitTimeout(c.opt.ConnectTimeout) {
		return fmt.Errorf("subscribe %s: no SUBACK within %v", c.opt.Topic, c.opt.ConnectTimeout)
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("subscribe %s: %w", c.opt.Topic, err)
	}
	if st, ok := tok.(*mqtt.SubscribeToken); ok {
		if code, ok := st.Result()[c.opt.Topic]; ok && code > 2 {
			return fmt.Errorf("subscribe %s: refused by the broker (code %#x)", c.opt.Topic, code)
		}
	}
	c.subscriptions.Add(1)
	return nil
}

func (c *Client) onConnectionLost(_ mqtt.Client, err error) {
	c.lost.Add(1)
	c.log.Warn("mqttin: connection lost; reconnecting", "err", err)
}

// onMessage is paho's message handler. It runs on paho's router goroutine,
// one message at a time, and blocks while the queue is full.
func (c *Client) onMessage(_ mqtt.Client, m mqtt.Message) {
	c.received.Add(1)
	topic := m.Topic()
	layer, id, err := ParseTopic(topic)
	if err != nil {
		c.rejected.Add(1)
		if ok, skipped := c.rejectLog.allow(); ok {
			c.log.Warn("mqttin: message rejected", "topic", topic, "err", err, "rejected_since_last_log", skipped)
		}
		m.Ack() // or the broker sends it again and again
		return
	}
	msg := Message{Layer: layer, ID: id, Payload: m.Payload(), Topic: topic}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		c.dropped.Add(1)
		return
	}
	select {
	case c.queue <- queued{msg: msg, ack: m.Ack}:
	case <-c.closing:
		c.dropped.Add(1) // not acknowledged: the broker keeps it for the session
	}
}

// run delivers the queue to the sink in batches until the queue is closed
// and empty.
func (c *Client) run() {
	defer close(c.done)
	timer := time.NewTimer(c.opt.Flush)
	timer.Stop()
	for {
		m, ok := <-c.queue
		if !ok {
			return
		}
		batch := []queued{m}
		timer.Reset(c.opt.Flush)
	fill:
		for len(batch) < c.opt.Batch {
			select {
			case m, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, m)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		c.deliver(batch)
	}
}

// queued is a message waiting for the sink, with its acknowledgement.
type queued struct {
	msg Message
	ack func()
}

func (c *Client) deliver(q []queued) {
	c.batches.Add(1)
	batch := make([]Message, len(q))
	for i, m := range q {
		batch[i] = m.msg
	}
	err := c.sink(c.ctx, batch)
	if err == nil {
		for _, m := range q {
			m.ack()
		}
		c.delivered.Add(uint64(len(batch)))
		return
	}
	c.failed.Add(uint64(len(batch))) // before sinkErrors, which tests wait on
	c.sinkErrors.Add(1)
	if ok, skipped := c.sinkLog.allow(); ok {
		c.log.Error("mqttin: sink failed", "err", err, "messages", len(batch),
			"topics", topics(batch, 3), "failed_calls_since_last_log", skipped)
	}
}

// topics lists the topics of the first n messages of batch, for logs.
func topics(batch []Message, n int) string {
	var b strings.Builder
	for i, m := range batch {
		if i == n {
			fmt.Fprintf(&b, " and %d more", len(batch)-n)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Topic)
	}
	return b.String()
}

// Close stops taking messages from the broker, waits for the sink to
// receive the messages already queued (see the package documentation),
// disconnects and returns. It takes as long as the sink takes for the last
// batches, plus at most 250 ms to disconnect. It is safe to call more than
// once; it always returns nil.
func (c *Client) Close() error {
	c.stopWatch()
	c.close()
	return nil
}

// close is Close without stopping the ctx watcher (which calls it).
func (c *Client) close() {
	c.closeOnce.Do(func() {
		c.log.Info("mqttin: closing")
		c.shutdown()
	})
}

func (c *Client) shutdown() {
	close(c.closing) // unblocks onMessage and onConnect
	c.mu.Lock()      // waits for onMessage calls in progress
	c.closed = true
	c.mu.Unlock()
	close(c.queue)
	c.mqtt.Disconnect(uint(quiesce / time.Millisecond))
	<-c.done
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Received:        c.received.Load(),
		Rejected:        c.rejected.Load(),
		Delivered:       c.delivered.Load(),
		Failed:          c.failed.Load(),
		Batches:         c.batches.Load(),
		SinkErrors:      c.sinkErrors.Load(),
		Dropped:         c.dropped.Load(),
		ConnectionsLost: c.lost.Load(),
		Reconnects:      c.reconnects.Load(),
		Subscriptions:   c.subscriptions.Load(),
		Connected:       c.mqtt.IsConnectionOpen(),
	}
}

// ParseTopic splits an object update's topic, TopicPrefix + "{layer}/{id}",
// into its layer and ID. Both must be non-empty and neither may contain a
// '/'.
func ParseTopic(topic string) (layer, id string, err error) {
	rest, ok := strings.CutPrefix(topic, TopicPrefix)
	if !ok {
		return "", "", fmt.Errorf("topic %q is not under %s", topic, TopicPrefix)
	}
	layer, id, ok = strings.Cut(rest, "/")
	switch {
	case !ok:
		return "", "", fmt.Errorf("topic %q has no object ID (want %s{layer}/{id})", topic, TopicPrefix)
	case layer == "":
		return "", "", fmt.Errorf("topic %q has an empty layer", topic)
	case id == "":
		return "", "", fmt.Errorf("topic %q has an empty object ID", topic)
	case strings.Contains(id, "/"):
		return "", "", fmt.Errorf("topic %q has more than two levels after %s (an object ID cannot contain '/')", topic, TopicPrefix)
	}
	return layer, id, nil
}

// limiter lets one event through per logEvery and counts the others.
type limiter struct {
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// allow reports whether to log now and how many events were not logged
// since the last one that was.
func (l *limiter) allow() (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < logEvery {
		l.skipped++
		return false, 0
	}
	skipped := l.skipped
	l.last, l.skipped = now, 0
	return true, skipped
}
