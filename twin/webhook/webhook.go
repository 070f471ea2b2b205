// Package webhook delivers events to HTTP endpoints: a POST with a JSON
// body per event, signed with HMAC-SHA256 when the endpoint has a secret,
// queued per endpoint (bounded; the oldest are dropped when full), retried
// with exponential backoff and jitter on network errors, timeouts, 5xx and
// 429 (honouring Retry-After), never on other 4xx, and given up after a
// maximum number of attempts or age. Deliveries to one endpoint are made
// one at a time, in order; endpoints are served concurrently.
//
// Each request carries:
//
//	Content-Type: application/json
//	X-CityTwin-Event: <event type>
//	X-CityTwin-Delivery: <unique id of the message, the same on retries>
//	X-CityTwin-Signature: sha256=<hex HMAC-SHA256 of the body keyed by the secret>   (when a secret is set)
//
// A Dispatcher holds no global state; its clock, sleep and randomness are
// injectable for tests.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultQueueSize   = 1024
	DefaultMaxAttempts = 8
	DefaultMaxAge      = 10 * time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultBaseBackoff = 500 * time.Millisecond
	DefaultMaxBackoff  = time.Minute
	DefaultIdle        = time.Minute
)

// Config tunes a Dispatcher. Zero fields take the defaults.
type Config struct {
	// QueueSize bounds each endpoint's queue; when it is full the oldest
	// message is dropped (and counted).
	QueueSize int
	// MaxAttempts bounds the attempts per message (first try included).
	MaxAttempts int
	// MaxAge gives up on a message this long after it was queued.
	MaxAge time.Duration
	// Timeout bounds each request.
	Timeout time.Duration
	// BaseBackoff is the delay before the second attempt; each further
	// retry doubles it, up to MaxBackoff, with jitter (half the delay
	// fixed, half random).
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// Idle stops an endpoint's worker after this long with nothing queued.
	Idle time.Duration
	// Client sends the requests (default: a client that does not follow
	// redirects; a redirect counts as a failure, not retried).
	Client *http.Client
	// UserAgent is sent on every request (default "CityTwin-Webhook/1").
	UserAgent string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Sleep waits d or until ctx is done (default: a timer); tests may
	// record the delays and return at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for jitter (default math/rand/v2).
	Rand func() float64
}

// Message is one event to deliver.
type Message struct {
	// URL is the endpoint; messages to one URL are delivered in order.
	URL string
	// Secret, when set, keys the X-CityTwin-Signature header.
	Secret string
	// Type is the event type, sent as X-CityTwin-Event.
	Type string
	// Body is the JSON body; it is not copied, so do not modify it after
	// Send.
	Body []byte

	id     string
	queued time.Time
}

// Stats counts messages.
type Stats struct {
	// Delivered got a 2xx response.
	Delivered uint64 `json:"delivered"`
	// Retried counts attempts after the first.
	Retried uint64 `json:"retried"`
	// Dropped were pushed out of a full queue, or sent after Close.
	Dropped uint64 `json:"dropped"`
	// Failed were given up: a non-retryable response, attempts or age
	// exhausted, or still pending when Close's deadline passed.
	Failed uint64 `json:"failed"`
	// Queued are waiting or in flight now.
	Queued uint64 `json:"queued"`
}

type counters struct {
	delivered, retried, dropped, failed atomic.Uint64
}

func (c *counters) stats() Stats {
	return Stats{Delivered: c.delivered.Load(), Retried: c.retried.Load(), Dropped: c.dropped.Load(), Failed: c.failed.Load()}
}

// ErrClosed reports a Send after Close.
var ErrClosed = errors.New("webhook: dispatcher closed")

// Dispatcher delivers messages. It is safe for concurrent use.
type Dispatcher struct {
	cfg Config

	mu        sync.Mutex
	endpoints map[string]*endpoint
	closed    bool
	wg        sync.WaitGroup
	// ctx is cancelled when Close gives up: in-flight requests and
	// backoff waits end.
	ctx    context.Context
	cancel context.CancelFunc

	total counters
	seq   atomic.Uint64
	idPfx string
}

// endpoint is one URL's queue and worker.
type endpoint struct {
	url     string
	queue   []*Message // ring buffer
	head, n int
	wake    chan struct{}
	running bool
	busy    bool // a message is in flight
	stats   counters
}

// New returns a Dispatcher.
func New(cfg Config) *Dispatcher {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.MaxBackoff < cfg.BaseBackoff {
		cfg.MaxBackoff = cfg.BaseBackoff
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "CityTwin-Webhook/1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{cfg: cfg, endpoints: map[string]*endpoint{}, ctx: ctx, cancel: cancel, idPfx: crand.Text()[:10]}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Send queues a message for delivery and returns at once. When the
// endpoint's queue is full the oldest queued message is dropped. After
// Close it returns ErrClosed (and counts the message as dropped).
func (d *Dispatcher) Send(m Message) error {
	if m.URL == "" {
		return errors.New("webhook: message without a URL")
	}
	msg := m
	msg.id = d.idPfx + "-" + strconv.FormatUint(d.seq.Add(1), 10)
	msg.queued = d.cfg.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		d.total.dropped.Add(1)
		return ErrClosed
	}
	ep := d.endpoints[m.URL]
	if ep == nil {
		ep = &endpoint{url: m.URL, queue: make([]*Message, d.cfg.QueueSize), wake: make(chan struct{}, 1)}
		d.endpoints[m.URL] = ep
	}
	if ep.n == len(ep.queue) {
		ep.queue[ep.head] = nil
		ep.head = (ep.head + 1) % len(ep.queue)
		ep.n--
		ep.stats.dropped.Add(1)
		d.total.dropped.Add(1)
	}
	ep.queue[(ep.head+ep.n)%len(ep.queue)] = &msg
	ep.n++
	if !ep.running {
		ep.running = true
		d.wg.Add(1)
		go d.work(ep)
	} else {
		select {
		case ep.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// next takes the endpoint's oldest message, or reports that the worker
// should stop (nothing queued).
func (d *Dispatcher) next(ep *endpoint) (*Message, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ep.busy = false
	if ep.n == 0 {
		return nil, false
	}
	m := ep.queue[ep.head]
	ep.queue[ep.head] = nil
	ep.head = (ep.head + 1) % len(ep.queue)
	ep.n--
	ep.busy = true
	return m, true
}

// work delivers an endpoint's messages in order, then waits for more; it
// exits after Idle with nothing queued, or when the dispatcher closes.
func (d *Dispatcher) work(ep *endpoint) {
	defer d.wg.Done()
	idle := time.NewTimer(d.cfg.Idle)
	defer idle.Stop()
	for {
		for {
			m, ok := d.next(ep)
			if !ok {
				break
			}
			d.deliver(ep, m)
		}
		d.mu.Lock()
		if d.closed && ep.n == 0 {
			ep.running = false
			delete(d.endpoints, ep.url)
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		if !idle.Stop() {
			select {
			case <-idle.C:
			default:
			}
		}
		idle.Reset(d.cfg.Idle)
		select {
		case <-ep.wake:
		case <-d.ctx.Done():
		case <-idle.C:
			d.mu.Lock()
			if ep.n == 0 {
				ep.running = false
				delete(d.endpoints, ep.url)
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
		}
		if d.ctx.Err() != nil {
			// Close gave up: count what is left as failed.
			d.mu.Lock()
			for ep.n > 0 {
				ep.queue[ep.head] = nil
				ep.head = (ep.head + 1) % len(ep.queue)
				ep.n--
				ep.stats.failed.Add(1)
				d.total.failed.Add(1)
			}
			ep.running = false
			delete(d.endpoints, ep.url)
			d.mu.Unlock()
			return
		}
	}
}

// outcome of one attempt.
type outcome int

const (
	delivered outcome = iota
	retry
	fatal
)

// deliver makes the attempts for one message.
func (d *Dispatcher) deliver(ep *endpoint, m *Message) {
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			ep.stats.retried.Add(1)
			d.total.retried.Add(1)
		}
		res, after := d.attempt(m)
		if res == delivered {
			ep.stats.delivered.Add(1)
			d.total.delivered.Add(1)
			return
		}
		if res == fatal || attempt >= d.cfg.MaxAttempts || d.ctx.Err() != nil {
			break
		}
		wait := d.backoff(attempt)
		if after > 0 {
			wait = after
		}
		if d.cfg.Now().Add(wait).Sub(m.queued) > d.cfg.MaxAge {
			break
		}
		if d.cfg.Sleep(d.ctx, wait) != nil {
			break
		}
	}
	ep.stats.failed.Add(1)
	d.total.failed.Add(1)
}

// backoff is the delay after the given failed attempt: BaseBackoff·2^(n−1)
// capped at MaxBackoff, half of it fixed and half random.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	b := d.cfg.BaseBackoff
	for i := 1; i < attempt && b < d.cfg.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, d.cfg.MaxBackoff)
	return b/2 + time.Duration(d.cfg.Rand()*float64(b/2))
}

// attempt sends one request. after is the server's Retry-After, if any.
func (d *Dispatcher) attempt(m *Message) (res outcome, after time.Duration) {
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return fatal, 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.cfg.UserAgent)
	req.Header.Set("X-CityTwin-Event", m.Type)
	req.Header.Set("X-CityTwin-Delivery", m.id)
	if m.Secret != "" {
		req.Header.Set("X-CityTwin-Signature", Sign(m.Secret, m.Body))
	}
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return retry, 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return delivered, 0
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return retry, retryAfter(resp.Header.Get("Retry-After"), d.cfg.Now())
	}
	return fatal, 0
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Sign returns the X-CityTwin-Signature value for a body:
// "sha256=" and the hex HMAC-SHA256 keyed by the secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether a signature header matches the body (for
// receivers and tests), in constant time.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// Stats returns the totals over all endpoints.
func (d *Dispatcher) Stats() Stats {
	s := d.total.stats()
	d.mu.Lock()
	for _, ep := range d.endpoints {
		s.Queued += uint64(ep.n)
		if ep.busy {
			s.Queued++
		}
	}
	d.mu.Unlock()
	return s
}

// EndpointStats returns the counts of one endpoint's current worker (zero
// once it has gone idle and stopped; Stats keeps the totals).
func (d *Dispatcher) EndpointStats(url string) Stats {
	d.mu.Lock()
	defer d.mu.Unlock()
	ep := d.endpoints[url]
	if ep == nil {
		return Stats{}
	}
	s := ep.stats.stats()
	s.Queued = uint64(ep.n)
	if ep.busy {
		s.Queued++
	}
	return s
}

// Close stops accepting messages and waits for the queues to drain. When
// ctx ends first it gives up: in-flight requests and backoff waits are
// cancelled, what is left is counted as failed, and ctx's error is
// returned once the workers have stopped.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		for _, ep := range d.endpoints {
			select {
			case ep.wake <- struct{}{}:
			default:
			}
		}
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel()
		<-done
		return ctx.Err()
	}
}
