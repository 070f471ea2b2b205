package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"citytwin/twin/live"

	"github.com/gorilla/websocket"
	"github.com/valyala/fastjson"
)

// MaxMessage is the largest message a client may send (an update batch of
// live.MaxBatch objects fits).
const MaxMessage = 16 << 20

// client is one websocket connection.
type client struct {
	hub       *Hub
	conn      *websocket.Conn
	ctx       context.Context
	mayUpdate bool

	wakeCh chan struct{}
	done   chan struct{}

	pending atomic.Int64 // objects waiting in all subscriptions

	mu       sync.Mutex
	subs     map[string]*sub
	queue    [][]byte // replies and events, in order
	failCode int
	failMsg  string
}

// ServeHTTP upgrades the request to a websocket and serves the client
// until it leaves.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	c := &client{hub: h, conn: conn, ctx: r.Context(), wakeCh: make(chan struct{}, 1), done: make(chan struct{}), subs: map[string]*sub{},
		mayUpdate: h.opt.CanUpdate == nil || h.opt.CanUpdate(r)}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	h.stats.connected.Add(1)
	go c.writeLoop()
	c.readLoop()
	close(c.done)
	c.mu.Lock()
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for _, s := range subs {
		h.remove(s)
	}
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// wake tells the writer there is something to send.
func (c *client) wake() {
	select {
	case c.wakeCh <- struct{}{}:
	default:
	}
}

// fail asks the writer to close the connection with a code and reason.
func (c *client) fail(code int, reason string) {
	c.mu.Lock()
	if c.failCode == 0 {
		c.failCode, c.failMsg = code, reason
		if code == websocket.ClosePolicyViolation {
			c.hub.stats.closedSlow.Add(1)
		}
	}
	c.mu.Unlock()
	c.wake()
}

// send queues a reply or event.
func (c *client) send(msg []byte) {
	c.mu.Lock()
	full := len(c.queue) >= c.hub.opt.MaxEvents
	if !full {
		c.queue = append(c.queue, msg)
	}
	c.mu.Unlock()
	if full {
		c.fail(websocket.ClosePolicyViolation, "too far behind: more than "+itoa(c.hub.opt.MaxEvents)+" events and replies waiting")
		return
	}
	c.wake()
}

// event queues an event for subscription sub: the event's JSON object
// with "sub" added after its opening brace.
func (c *client) event(sub string, ev []byte) {
	if len(ev) < 2 || ev[0] != '{' {
		return
	}
	b := make([]byte, 0, len(ev)+len(sub)+12)
	b = append(b, `{"sub":`...)
	b = strconv.AppendQuote(b, sub)
	if len(ev) > 2 {
		b = append(b, ',')
	}
	b = append(b, ev[1:]...)
	c.send(b)
}

// reply queues a JSON reply.
func (c *client) reply(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(`{"op":"error","error":"internal: cannot encode reply"}`)
	}
	c.send(b)
}

func (c *client) replyError(ref string, err error) {
	c.reply(map[string]any{"op": "error", "id": ref, "error": err.Error()})
}

// readLoop handles the client's messages until the connection ends.
func (c *client) readLoop() {
	opt := &c.hub.opt
	c.conn.SetReadLimit(MaxMessage)
	deadline := func() { _ = c.conn.SetReadDeadline(time.Now().Add(opt.PingInterval * 5 / 2)) }
	deadline()
	c.conn.SetPongHandler(func(string) error { deadline(); return nil })
	var parser fastjson.Parser
	var buf bytes.Buffer
	for {
		typ, r, err := c.conn.NextReader()
		if err != nil {
			return
		}
		if buf.Cap() > 4<<20 {
			buf = bytes.Buffer{} // a big update's buffer is not kept for the client's life
		}
		buf.Reset()
		if _, err := buf.ReadFrom(r); err != nil {
			return
		}
		data := buf.Bytes()
		deadline()
		if typ != websocket.TextMessage {
			c.replyError("", fmt.Errorf("%w: binary message: send JSON text frames", errRequest))
			continue
		}
		// Updates (large, frequent) are parsed once with fastjson; other
		// messages are small and decoded into a Request.
		v, err := parser.ParseBytes(data)
		if err != nil {
			c.replyError("", fmt.Errorf("%w: %v", errRequest, err))
			continue
		}
		if string(v.GetStringBytes("op")) == "update" {
			c.update(string(v.GetStringBytes("id")), v.Get("objects"))
			continue
		}
		var req Request
		if err := json.Unmarshal(data, &req); err != nil {
			c.replyError("", fmt.Errorf("%w: %v", errRequest, err))
			continue
		}
		switch req.Op {
		case "subscribe":
			c.subscribe(&req)
		case "unsubscribe":
			c.mu.Lock()
			s := c.subs[req.ID]
			delete(c.subs, req.ID)
			c.mu.Unlock()
			if s == nil {
				c.replyError(req.ID, fmt.Errorf("%w: no subscription %q", errRequest, req.ID))
				continue
			}
			c.hub.remove(s)
		case "ping":
			c.reply(map[string]any{"op": "pong", "id": req.ID})
		default:
			c.replyError(req.ID, fmt.Errorf("%w: unknown op %q (want subscribe, unsubscribe, update or ping)", errRequest, req.Op))
		}
	}
}

func (c *client) subscribe(req *Request) {
	s, err := newSub(c, req)
	if err != nil {
		c.replyError(req.ID, err)
		return
	}
	c.mu.Lock()
	old := c.subs[req.ID]
	if old == nil && len(c.subs) >= c.hub.opt.MaxSubscriptions {
		c.mu.Unlock()
		c.replyError(req.ID, fmt.Errorf("%w: more than %d subscriptions", errRequest, c.hub.opt.MaxSubscriptions))
		return
	}
	c.subs[req.ID] = s
	c.mu.Unlock()
	if old != nil {
		c.hub.remove(old)
	}
	// The reply is queued first so that it precedes the snapshot.
	c.reply(map[string]any{"op": "subscribed", "id": req.ID})
	c.hub.add(s)
}

func (c *client) update(id string, objects *fastjson.Value) {
	if !c.mayUpdate {
		c.replyError(id, fmt.Errorf("%w: updates need a device or admin token (Authorization header or ?access_token= when connecting)", errRequest))
		return
	}
	if objects == nil {
		c.replyError(id, fmt.Errorf("%w: update needs \"objects\": an array of updates", errRequest))
		return
	}
	items, err := objects.Array()
	if err != nil {
		c.replyError(id, fmt.Errorf("%w: update needs \"objects\": an array of updates", errRequest))
		return
	}
	objs, rejected, err := live.ParseItems(items, c.hub.twin.Now())
	if err != nil {
		c.replyError(id, err)
		return
	}
	res, err := c.hub.twin.Ingest(c.ctx, objs, rejected)
	if err != nil {
		c.replyError(id, err)
		return
	}
	c.hub.stats.updates.Add(uint64(res.Accepted))
	if res.Rejected == nil {
		res.Rejected = []live.Rejection{}
	}
	c.reply(struct {
		Op string `json:"op"`
		ID string `json:"id,omitempty"`
		live.Result
	}{"ack", id, res})
}

// writeLoop sends replies and events as they come and state at most once
// per flush interval, pings, and closes the connection on failure.
func (c *client) writeLoop() {
	opt := &c.hub.opt
	defer c.conn.Close()
	ping := time.NewTicker(opt.PingInterval)
	defer ping.Stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var due time.Time // when the timer fires (zero: not armed)
	schedule := func(at time.Time) {
		if due.IsZero() || at.Before(due) {
			due = at
			timer.Reset(time.Until(at))
		}
	}
	var last time.Time
	var buf []byte
	for {
		select {
		case <-c.done:
			return
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(opt.WriteTimeout)); err != nil {
				return
			}
			continue
		case <-timer.C:
			due = time.Time{}
		case <-c.wakeCh:
		}
		c.mu.Lock()
		queue, code, reason := c.queue, c.failCode, c.failMsg
		c.queue = nil
		subs := make([]*sub, 0, len(c.subs))
		for _, s := range c.subs {
			subs = append(subs, s)
		}
		c.mu.Unlock()
		if code != 0 {
			_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(opt.WriteTimeout))
			return
		}
		for _, m := range queue {
			if !c.write(m) {
				return
			}
		}
		if time.Since(last) < opt.FlushInterval {
			schedule(last.Add(opt.FlushInterval))
			continue
		}
		last = time.Now()
		var next time.Duration // until a held-back object is due
		for _, s := range subs {
			p := s.take()
			if p == nil {
				continue
			}
			if opt.ObjectInterval > 0 {
				if d := s.throttle(p, last, opt.ObjectInterval); d > 0 && (next == 0 || d < next) {
					next = d
				}
				if len(p) == 0 {
					continue
				}
			}
			var ok bool
			if buf, ok = c.flush(buf, s.id, p); !ok {
				return
			}
		}
		if cap(buf) > 256<<10 {
			buf = nil // a big snapshot's buffer is not kept for the client's life
		}
		if next > 0 {
			schedule(last.Add(max(next, opt.FlushInterval)))
		}
	}
}

// flush sends a subscription's pending objects in messages of at most
// MaxBatch objects:
//
//	{"op":"state","sub":"s1","objects":[…],"left":["id",…]}
func (c *client) flush(buf []byte, id string, p map[string]pendingEntry) ([]byte, bool) {
	var left []string
	n := 0
	start := func() {
		buf = append(buf[:0], `{"op":"state","sub":`...)
		buf = strconv.AppendQuote(buf, id)
		buf = append(buf, `,"objects":[`...)
		n = 0
	}
	end := func() bool {
		buf = append(buf, ']')
		if len(left) > 0 {
			buf = append(buf, `,"left":[`...)
			for i, l := range left {
				if i > 0 {
					buf = append(buf, ',')
				}
				buf = strconv.AppendQuote(buf, l)
			}
			buf = append(buf, ']')
			left = left[:0]
		}
		buf = append(buf, '}')
		c.hub.stats.objects.Add(uint64(n))
		return c.write(buf)
	}
	start()
	for key, e := range p {
		if e.left {
			left = append(left, key)
			continue
		}
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = e.obj.AppendJSON(buf)
		if n++; n == c.hub.opt.MaxBatch {
			if !end() {
				return buf, false
			}
			start()
		}
	}
	if n > 0 || len(left) > 0 {
		if !end() {
			return buf, false
		}
	}
	return buf, true
}

// write sends one text message within the write timeout.
func (c *client) write(msg []byte) bool {
	_ = c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
	if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		if !errors.Is(err, websocket.ErrCloseSent) {
			c.hub.opt.Logger.Debug("websocket write failed; closing", "remote", c.conn.RemoteAddr().String(), "err", err)
		}
		return false
	}
	c.hub.stats.messages.Add(1)
	return true
}
