// Package httpx holds the HTTP plumbing every CityTwin API shares: JSON
// responses, JSON errors with the right status, request size and time
// limits, access logs and request metrics.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ErrorBody is the JSON shape of every error response.
type ErrorBody struct {
	Error  string `json:"error"`
	Detail any    `json:"detail,omitempty"`
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, status, v)
}

// WriteGeoJSON writes v as GeoJSON (application/geo+json).
func WriteGeoJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/geo+json")
	writeJSONBody(w, status, v)
}

func writeJSONBody(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"response encoding failed"}`))
		return
	}
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Error writes {"error": msg, "detail": detail} with the status.
func Error(w http.ResponseWriter, status int, msg string, detail any) {
	WriteJSON(w, status, ErrorBody{Error: msg, Detail: detail})
}

// Limits bound a request's body size and handling time.
type Limits struct {
	MaxBody int64
	Timeout time.Duration
}

// Metrics are the request counters and latency histogram of a server.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers request metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "citytwin_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "citytwin_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Wrap applies the limits, logs each request and records its metrics under
// the mux pattern that matched. Long-lived routes (websockets) should be
// registered outside it.
func Wrap(h http.Handler, lim Limits, m *Metrics, log *slog.Logger) http.Handler {
	// The mux records the matched pattern on the request it routes, which
	// under TimeoutHandler is a copy: pass it back through the context.
	var inner http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if p, ok := r.Context().Value(patternKey{}).(*atomic.Value); ok {
			p.Store(r.Pattern)
		}
	})
	if lim.Timeout > 0 {
		inner = http.TimeoutHandler(inner, lim.Timeout, `{"error":"request took too long"}`)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if lim.MaxBody > 0 && r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBody)
		}
		var pattern atomic.Value
		r = r.WithContext(context.WithValue(r.Context(), patternKey{}, &pattern))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		inner.ServeHTTP(rec, r)
		route, _ := pattern.Load().(string)
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start)
		if m != nil {
			m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			m.latency.WithLabelValues(route).Observe(took.Seconds())
		}
		if log != nil {
			log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "took", took)
		}
	})
}

// patternKey carries the matched route pattern back out of the mux.
type patternKey struct{}

// TooLarge reports whether err came from a body over its MaxBytesReader
// limit.
func TooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// Origins is a set of allowed browser origins (scheme://host[:port]);
// "*" allows any.
type Origins map[string]bool

// NewOrigins returns the set of the origins given.
func NewOrigins(origins []string) Origins {
	o := Origins{}
	for _, s := range origins {
		o[s] = true
	}
	return o
}

// Allow reports whether an origin is in the set.
func (o Origins) Allow(origin string) bool { return o["*"] || o[origin] }

// CORS lets browser applications served from other origins call the API:
// with origins "*" any origin, else only those listed (scheme://host[:port]).
// Preflight requests (OPTIONS with Access-Control-Request-Method) are
// answered here; the Authorization header may be sent (bearer tokens).
// With no origins the handler is returned unchanged.
func CORS(h http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return h
	}
	allowed := NewOrigins(origins)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && allowed.Allow(origin) {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Add("Vary", "Origin")
			hd.Set("Access-Control-Expose-Headers", "ETag, X-Tile-Dropped")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				hd.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
				hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match")
				hd.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
