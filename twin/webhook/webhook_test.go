package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// receiver is a real HTTP server that records what it gets and answers
// with respond (attempt numbers count from 1).
type receiver struct {
	mu      sync.Mutex
	bodies  []string
	headers []http.Header
	respond func(w http.ResponseWriter, r *http.Request, attempt int)
	srv     *httptest.Server
}

func newReceiver(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, attempt int)) *receiver {
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, string(b))
		rc.headers = append(rc.headers, r.Header.Clone())
		n := len(rc.bodies)
		rc.mu.Unlock()
		if rc.respond != nil {
			rc.respond(w, r, n)
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() ([]string, []http.Header) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.bodies), slices.Clone(rc.headers)
}

// sleeps records the backoff delays and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.d)
}

func testConfig(s *sleeps) Config {
	return Config{BaseBackoff: 10 * time.Millisecond, MaxBackoff: time.Second, Timeout: 2 * time.Second,
		Sleep: s.sleep, Rand: func() float64 { return 0.5 }}
}

func closeOK(t *testing.T, d *Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func send(t *testing.T, d *Dispatcher, url, secret string, i int) {
	t.Helper()
	err := d.Send(Message{URL: url, Secret: secret, Type: "fence.enter", Body: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSignedAndInOrder(t *testing.T) {
	rc := newReceiver(t, nil)
	d := New(testConfig(&sleeps{}))
	for i := 0; i < 50; i++ {
		send(t, d, rc.srv.URL, "k3y", i)
	}
	closeOK(t, d)
	bodies, headers := rc.got()
	if len(bodies) != 50 {
		t.Fatalf("received %d", len(bodies))
	}
	ids := map[string]bool{}
	for i, b := range bodies {
		if want := fmt.Sprintf(`{"n":%d}`, i); b != want {
			t.Fatalf("message %d: %s, want %s (out of order)", i, b, want)
		}
		h := headers[i]
		if h.Get("Content-Type") != "application/json" || h.Get("X-CityTwin-Event") != "fence.enter" {
			t.Errorf("headers %v", h)
		}
		if !Verify("k3y", []byte(b), h.Get("X-CityTwin-Signature")) || Verify("other", []byte(b), h.Get("X-CityTwin-Signature")) {
			t.Errorf("bad signature %q for %s", h.Get("X-CityTwin-Signature"), b)
		}
		ids[h.Get("X-CityTwin-Delivery")] = true
	}
	if len(ids) != 50 {
		t.Errorf("%d distinct delivery ids, want 50", len(ids))
	}
	if s := d.Stats(); s != (Stats{Delivered: 50}) {
		t.Errorf("stats %+v", s)
	}
	// Without a secret there is no signature header.
	rc2 := newReceiver(t, nil)
	d2 := New(testConfig(&sleeps{}))
	send(t, d2, rc2.srv.URL, "", 0)
	closeOK(t, d2)
	if _, h := rc2.got(); len(h) != 1 || h[0].Get("X-CityTwin-Signature") != "" {
		t.Errorf("unsigned message headers %v", h)
	}
	// Sign matches an independently known HMAC-SHA256 (RFC 4231 case 2).
	if got := Sign("Jefe", []byte("what do ya want for nothing?")); got != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Errorf("Sign = %s", got)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		respond     func(w http.ResponseWriter, r *http.Request, attempt int)
		maxAttempts int
		wantReqs    int
		wantStats   Stats
		wantSleeps  []time.Duration
	}{
		{
			name: "5xx then success",
			respond: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n <= 3 {
					w.WriteHeader([]int{500, 502, 503}[n-1])
				}
			},
			wantReqs:  4,
			wantStats: Stats{Delivered: 1, Retried: 3},
			// 10 ms, 20 ms, 40 ms with half jitter at 0.5: 7.5, 15, 30.
			wantSleeps: []time.Duration{7500 * time.Microsecond, 15 * time.Millisecond, 30 * time.Millisecond},
		},
		{
			name: "429 with Retry-After seconds",
			respond: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", "7")
					w.WriteHeader(http.StatusTooManyRequests)
				}
			},
			wantReqs:   2,
			wantStats:  Stats{Delivered: 1, Retried: 1},
			wantSleeps: []time.Duration{7 * time.Second},
		},
		{
			name: "503 with Retry-After date",
			respond: func(w http.ResponseWriter, _ *http.Request, n int) {
				if n == 1 {
					w.Header().Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			},
			wantReqs:  2,
			wantStats: Stats{Delivered: 1, Retried: 1},
		},
		{
			name:      "400 is not retried",
			respond:   func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadRequest) },
			wantReqs:  1,
			wantStats: Stats{Failed: 1},
		},
		{
			name: "redirect is not followed",
			respond: func(w http.ResponseWriter, r *http.Request, _ int) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			},
			wantReqs:  1,
			wantStats: Stats{Failed: 1},
		},
		{
			name:        "attempts run out",
			respond:     func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusInternalServerError) },
			maxAttempts: 3,
			wantReqs:    3,
			wantStats:   Stats{Failed: 1, Retried: 2},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t, tc.respond)
			sl := &sleeps{}
			cfg := testConfig(sl)
			cfg.MaxAttempts = tc.maxAttempts
			d := New(cfg)
			send(t, d, rc.srv.URL, "", 1)
			closeOK(t, d)
			if bodies, _ := rc.got(); len(bodies) != tc.wantReqs {
				t.Errorf("%d requests, want %d", len(bodies), tc.wantReqs)
			}
			if s := d.Stats(); s != tc.wantStats {
				t.Errorf("stats %+v, want %+v", s, tc.wantStats)
			}
			got := sl.all()
			if tc.wantSleeps != nil && !slices.Equal(got, tc.wantSleeps) {
				t.Errorf("backoff delays %v, want %v", got, tc.wantSleeps)
			}
			if tc.name == "503 with Retry-After date" && (len(got) != 1 || got[0] < 85*time.Second || got[0] > 91*time.Second) {
				t.Errorf("Retry-After date gave delays %v, want about 90s", got)
			}
		})
	}
}

func TestNetworkErrorsAreRetried(t *testing.T) {
	// A port with nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/hook"
	l.Close()
	sl := &sleeps{}
	cfg := testConfig(sl)
	cfg.MaxAttempts = 4
	d := New(cfg)
	send(t, d, url, "", 1)
	closeOK(t, d)
	if s := d.Stats(); s != (Stats{Failed: 1, Retried: 3}) {
		t.Errorf("stats %+v", s)
	}
	if got := sl.all(); len(got) != 3 || got[2] != 30*time.Millisecond {
		t.Errorf("delays %v", got)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			<-r.Context().Done() // hang until the client gives up
		}
	})
	cfg := testConfig(&sleeps{})
	cfg.Timeout = 100 * time.Millisecond
	d := New(cfg)
	start := time.Now()
	send(t, d, rc.srv.URL, "", 1)
	closeOK(t, d)
	if s := d.Stats(); s != (Stats{Delivered: 1, Retried: 1}) {
		t.Errorf("stats %+v", s)
	}
	if took := time.Since(start); took < 100*time.Millisecond || took > 3*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestMaxAge(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusBadGateway) })
	var mu sync.Mutex
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{
		BaseBackoff: 10 * time.Second, MaxBackoff: time.Hour, MaxAge: time.Minute, MaxAttempts: 100,
		Rand: func() float64 { return 0 },
		Now:  func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			now = now.Add(d)
			mu.Unlock()
			return nil
		},
	}
	d := New(cfg)
	send(t, d, rc.srv.URL, "", 1)
	closeOK(t, d)
	// Waits of 5, 10, 20 s (jitter 0 keeps half) reach 35 s; the next, 40
	// s, would pass the minute: 4 attempts.
	if bodies, _ := rc.got(); len(bodies) != 4 {
		t.Errorf("%d attempts, want 4", len(bodies))
	}
	if s := d.Stats(); s != (Stats{Failed: 1, Retried: 3}) {
		t.Errorf("stats %+v", s)
	}
}

func TestFullQueueDropsOldest(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			<-release
		}
	})
	cfg := testConfig(&sleeps{})
	cfg.QueueSize = 3
	d := New(cfg)
	send(t, d, rc.srv.URL, "", 0)
	// Wait until message 0 is in flight, so the queue holds only the rest.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if b, _ := rc.got(); len(b) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first message never arrived")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 1; i <= 6; i++ {
		send(t, d, rc.srv.URL, "", i)
	}
	if s := d.EndpointStats(rc.srv.URL); s.Dropped != 3 || s.Queued != 4 {
		t.Errorf("endpoint stats while blocked %+v", s)
	}
	close(release)
	closeOK(t, d)
	bodies, _ := rc.got()
	want := []string{`{"n":0}`, `{"n":4}`, `{"n":5}`, `{"n":6}`}
	if !slices.Equal(bodies, want) {
		t.Errorf("received %v, want %v", bodies, want)
	}
	if s := d.Stats(); s != (Stats{Delivered: 4, Dropped: 3}) {
		t.Errorf("stats %+v", s)
	}
}

func TestEndpointsAreIndependent(t *testing.T) {
	release := make(chan struct{})
	slow := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, _ int) { <-release })
	fast := newReceiver(t, nil)
	d := New(testConfig(&sleeps{}))
	send(t, d, slow.srv.URL, "", 0)
	for i := 0; i < 5; i++ {
		send(t, d, fast.srv.URL, "", i)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if b, _ := fast.got(); len(b) == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fast endpoint waited for the slow one")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	closeOK(t, d)
	if s := d.Stats(); s.Delivered != 6 {
		t.Errorf("stats %+v", s)
	}
}

func TestCloseGivesUpAtDeadline(t *testing.T) {
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, _ int) { <-r.Context().Done() })
	cfg := testConfig(&sleeps{})
	cfg.Timeout = time.Minute
	d := New(cfg)
	for i := 0; i < 3; i++ {
		send(t, d, rc.srv.URL, "", i)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := d.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %v", took)
	}
	if s := d.Stats(); s != (Stats{Failed: 3}) {
		t.Errorf("stats %+v", s)
	}
	if err := d.Send(Message{URL: rc.srv.URL, Body: []byte(`{}`)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if s := d.Stats(); s.Dropped != 1 {
		t.Errorf("a Send after Close is not counted as dropped: %+v", s)
	}
}

func TestIdleWorkerStopsAndRestarts(t *testing.T) {
	rc := newReceiver(t, nil)
	cfg := testConfig(&sleeps{})
	cfg.Idle = 20 * time.Millisecond
	d := New(cfg)
	send(t, d, rc.srv.URL, "", 0)
	for deadline := time.Now().Add(5 * time.Second); ; {
		d.mu.Lock()
		n := len(d.endpoints)
		d.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle worker never stopped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	send(t, d, rc.srv.URL, "", 1)
	closeOK(t, d)
	if b, _ := rc.got(); len(b) != 2 {
		t.Errorf("received %v", b)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {" 120 ", 2 * time.Minute}, {"-4", 0}, {"soon", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := retryAfter(tc.v, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
