package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"citytwin/spatial"
	"citytwin/twin/fence"
	"citytwin/twin/fence/fencedir"
	"citytwin/twin/fence/pgfences"
	"citytwin/twin/hub"
	"citytwin/twin/live"
	"citytwin/twin/live/pebblelog"
	"citytwin/twin/live/pglog"
	"citytwin/twin/liveapi"
	"citytwin/twin/mqttin"
	"citytwin/twin/webhook"

	"github.com/paulmach/orb"

	"github.com/prometheus/client_golang/prometheus"
)

// liveTwin is the live twin as the server runs it: the objects, their
// history log, the websocket hub and the HTTP API.
type liveTwin struct {
	twin     *live.Twin
	log      live.Log
	hub      *hub.Hub
	api      *liveapi.API
	fences   *fence.Engine
	saver    fence.Saver
	webhooks *webhook.Dispatcher
	mqtt     *mqttin.Client // nil without --mqtt
	logger   *slog.Logger
	cancel   context.CancelFunc
	bg       sync.WaitGroup // background work: pruner, expirer, replica follower
}

// liveOptions are the serve flags of the live twin.
type liveOptions struct {
	retention time.Duration // history kept
	flush     time.Duration // websocket flush interval
	// objectInterval turns on per-object conflation (hub.Options).
	objectInterval time.Duration
	ttl            time.Duration // live objects silent longer are removed (0: never)
	checkOrigin    func(*http.Request) bool
	canUpdate      func(*http.Request) bool
}

// openLive opens the live twin's log beside the store and loads the
// objects' current state from it.
func openLive(ctx context.Context, sf *storeFlags, store spatial.Store, opt liveOptions, log *slog.Logger) (*liveTwin, error) {
	var lg live.Log
	var saver fence.Saver
	switch sf.kind {
	case "embedded":
		l, err := pebblelog.Open(filepath.Join(sf.data, "live"))
		if err != nil {
			return nil, fmt.Errorf("open live history: %w", err)
		}
		lg = l
		if saver, err = fencedir.Open(filepath.Join(sf.data, "fences")); err != nil {
			return nil, errors.Join(err, lg.Close())
		}
	case "postgres":
		l, err := pglog.Open(ctx, sf.pg, nil)
		if err != nil {
			return nil, fmt.Errorf("open live history: %w", err)
		}
		lg = l
		if saver, err = pgfences.Open(ctx, sf.pg); err != nil {
			return nil, errors.Join(err, lg.Close())
		}
	default:
		return nil, fmt.Errorf("unknown --store %q", sf.kind)
	}
	start := time.Now()
	t, err := live.New(ctx, lg, nil)
	if err != nil {
		return nil, errors.Join(err, lg.Close())
	}
	log.Info("live objects loaded", "objects", t.Stats().Objects, "took", time.Since(start).Round(time.Millisecond))
	lt := &liveTwin{twin: t, log: lg, api: liveapi.New(t), saver: saver, logger: log}
	lt.hub = hub.New(t, hub.Options{Logger: log, FlushInterval: opt.flush, ObjectInterval: opt.objectInterval, CanUpdate: opt.canUpdate, CheckOrigin: opt.checkOrigin})
	lt.fences = fence.New(finder{t})
	if err := lt.fences.Load(ctx, saver); err != nil {
		log.Warn("some stored fences could not be loaded", "err", err)
	}
	lt.webhooks = webhook.New(webhook.Config{})
	t.OnChange(lt.fenceEvents(log))
	bg, cancel := context.WithCancel(context.Background())
	lt.cancel = cancel
	if p, ok := lg.(pruner); ok && opt.retention > 0 {
		lt.every(bg, time.Hour, func() { lt.prune(bg, p, opt.retention, log) })
	}
	if opt.ttl > 0 {
		// Check every tenth of the time to live, at least every 10 s.
		lt.every(bg, min(max(opt.ttl/10, time.Second), 10*time.Second), func() { lt.expire(bg, opt.ttl, log) })
	}
	// Replicas sharing the database: apply the others' updates, and keep
	// the same fences.
	if f, ok := lg.(live.Follower); ok {
		lt.bg.Add(1)
		go func() {
			defer lt.bg.Done()
			if err := f.Follow(bg, t.ApplyRemote); err != nil && bg.Err() == nil {
				log.Error("following other replicas' updates stopped", "err", err)
			}
		}()
	}
	if w, ok := saver.(*pgfences.Store); ok {
		reload := func() {
			if err := pgfences.Sync(bg, w, lt.fences); err != nil && bg.Err() == nil {
				log.Warn("some stored fences could not be loaded", "err", err)
			}
		}
		if err := w.Watch(bg, reload); err != nil {
			cancel()
			return nil, errors.Join(err, lg.Close())
		}
	}
	return lt, nil
}

// pruner is a log that can drop old history.
type pruner interface {
	Prune(ctx context.Context, before int64) (int, error)
}

// every runs fn every period until ctx ends, as background work that
// close waits for.
func (lt *liveTwin) every(ctx context.Context, period time.Duration, fn func()) {
	lt.bg.Add(1)
	go func() {
		defer lt.bg.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			fn()
		}
	}()
}

// prune drops history older than the retention.
func (lt *liveTwin) prune(ctx context.Context, p pruner, retention time.Duration, log *slog.Logger) {
	before := time.Now().Add(-retention)
	n, err := p.Prune(ctx, before.UnixMicro())
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("pruning live history failed", "err", err)
	case err == nil:
		log.Info("pruned live history", "objects", n, "before", before.Format(time.RFC3339))
	}
}

// expire removes live objects silent for longer than ttl.
func (lt *liveTwin) expire(ctx context.Context, ttl time.Duration, log *slog.Logger) {
	n, err := lt.twin.Expire(ctx, time.Now().Add(-ttl))
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("expiring silent live objects failed", "err", err)
	case n > 0:
		log.Info("expired silent live objects", "objects", n, "silent_for", ttl)
	}
}

func (lt *liveTwin) register(mux *http.ServeMux) {
	lt.api.Register(mux)
	lt.fences.Register(mux, lt.saver, nil)
}

// fenceEvents returns the twin hook that runs every change through the
// geofences and sends their events to websocket subscribers and webhooks.
func (lt *liveTwin) fenceEvents(log *slog.Logger) live.Hook {
	return func(changes []live.Change) {
		if lt.fences.Len() == 0 {
			return
		}
		var out []hub.Event
		for _, c := range changes {
			var evs []fence.Event
			if c.Cur.Gone {
				evs = lt.fences.Forget(fenceObject(c.Prev))
			} else if c.Prev != nil {
				prev := fenceObject(c.Prev)
				evs = lt.fences.Update(&prev, fenceObject(c.Cur))
			} else {
				evs = lt.fences.Update(nil, fenceObject(c.Cur))
			}
			for _, e := range evs {
				b, err := json.Marshal(e)
				if err != nil {
					log.Error("encoding a fence event", "fence", e.Fence, "err", err)
					continue
				}
				out = append(out, hub.Event{Type: e.Type, Fence: e.Fence, JSON: b})
				if e.Webhook != nil && !c.Remote { // the replica that took the update calls
					if err := lt.webhooks.Send(webhook.Message{URL: e.Webhook.URL, Secret: e.Webhook.Secret, Type: e.Type, Body: b}); err != nil {
						log.Warn("webhook not queued", "fence", e.Fence, "url", e.Webhook.URL, "err", err)
					}
				}
			}
		}
		lt.hub.Publish(out)
	}
}

// fenceObject is what the fence engine sees of a live object: its state
// properties are what fence filters test (plus id and layer).
func fenceObject(o *live.Object) fence.Object {
	return fence.Object{ID: o.ID, Layer: o.Layer, Lon: o.Lon, Lat: o.Lat, Time: o.SourceTime(), Props: o.State}
}

// finder lets roaming fences look up live objects. The fence engine calls
// it from the twin's change hook, which holds the twin's lock.
type finder struct{ t *live.Twin }

// Near implements fence.Finder.
func (f finder) Near(layer string, b orb.Bound, fn func(fence.Object) bool) {
	f.t.SearchLocked([]string{layer}, b, func(o *live.Object) bool { return fn(fenceObject(o)) })
}

// startMQTT subscribes to object updates on an MQTT broker
// (citytwin/objects/{layer}/{id}). Invalid payloads are counted as
// rejected updates; a batch is acknowledged to the broker once durable.
func (lt *liveTwin) startMQTT(ctx context.Context, url, clientID string, log *slog.Logger) (*mqttin.Client, error) {
	var p live.Parser
	var logged time.Time
	sink := func(ctx context.Context, msgs []mqttin.Message) error {
		now := lt.twin.Now()
		objs := make([]*live.Object, 0, len(msgs))
		var rejected []live.Rejection
		for i, m := range msgs {
			o, err := p.ParseTopic(m.Payload, now, m.Layer, m.ID)
			if err != nil {
				rejected = append(rejected, live.Rejection{Index: i, ID: m.ID, Error: err.Error()})
				continue
			}
			objs = append(objs, o)
		}
		if len(rejected) > 0 && time.Since(logged) > 10*time.Second {
			logged = time.Now()
			log.Warn("MQTT updates rejected", "count", len(rejected), "first", rejected[0].Error)
		}
		_, err := lt.twin.Ingest(ctx, objs, rejected)
		return err
	}
	c, err := mqttin.Start(ctx, mqttin.Options{URL: url, ClientID: clientID, Logger: log}, sink)
	if err != nil {
		return nil, fmt.Errorf("--mqtt: %w", err)
	}
	log.Info("subscribed to MQTT", "url", url, "topic", mqttin.DefaultTopic)
	lt.mqtt = c
	return c, nil
}

func (lt *liveTwin) close() {
	lt.cancel()
	lt.bg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = lt.webhooks.Close(ctx)
	if err := lt.twin.SaveLatest(ctx); err != nil {
		lt.logger.Warn("saving the live objects' start-up snapshot failed; the next start scans the history", "err", err)
	}
	_ = lt.log.Close()
	if c, ok := lt.saver.(interface{ Close() error }); ok {
		_ = c.Close()
	}
}

// collector exports the live twin's and the hub's counts.
func (lt *liveTwin) collector() prometheus.Collector { return liveCollector{lt} }

type liveCollector struct{ lt *liveTwin }

var (
	descObjects   = prometheus.NewDesc("citytwin_live_objects", "Live objects in memory.", nil, nil)
	descUpdates   = prometheus.NewDesc("citytwin_live_updates_total", "Live object updates by outcome.", []string{"outcome"}, nil)
	descClients   = prometheus.NewDesc("citytwin_ws_clients", "Connected websocket clients.", nil, nil)
	descSubs      = prometheus.NewDesc("citytwin_ws_subscriptions", "Websocket state subscriptions.", nil, nil)
	descMessages  = prometheus.NewDesc("citytwin_ws_messages_total", "Websocket messages sent.", nil, nil)
	descSent      = prometheus.NewDesc("citytwin_ws_objects_sent_total", "Object states sent over websockets.", nil, nil)
	descSlow      = prometheus.NewDesc("citytwin_ws_closed_slow_total", "Websocket clients closed for falling too far behind.", nil, nil)
	descEventsOut = prometheus.NewDesc("citytwin_ws_events_total", "Events published to websocket subscribers.", nil, nil)
	descMQTT      = prometheus.NewDesc("citytwin_mqtt_messages_total", "MQTT messages by outcome.", []string{"outcome"}, nil)
	descMQTTUp    = prometheus.NewDesc("citytwin_mqtt_connected", "1 while connected to the MQTT broker.", nil, nil)
	descMQTTRe    = prometheus.NewDesc("citytwin_mqtt_reconnects_total", "Reconnections to the MQTT broker.", nil, nil)
	descHooks     = prometheus.NewDesc("citytwin_webhooks_total", "Webhook deliveries by outcome.", []string{"outcome"}, nil)
)

// Describe implements prometheus.Collector.
func (c liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descObjects, descUpdates, descClients, descSubs, descMessages, descSent, descSlow, descEventsOut, descMQTT, descMQTTUp, descMQTTRe, descHooks} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c liveCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.lt.twin.Stats()
	ch <- prometheus.MustNewConstMetric(descObjects, prometheus.GaugeValue, float64(s.Objects))
	for outcome, n := range map[string]uint64{"applied": s.Applied, "superseded": s.Superseded, "rejected": s.Rejected, "remote": s.Remote} {
		ch <- prometheus.MustNewConstMetric(descUpdates, prometheus.CounterValue, float64(n), outcome)
	}
	h := c.lt.hub.Stats()
	ch <- prometheus.MustNewConstMetric(descClients, prometheus.GaugeValue, float64(h.Clients))
	ch <- prometheus.MustNewConstMetric(descSubs, prometheus.GaugeValue, float64(h.Subscriptions))
	ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(h.Messages))
	ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(h.Objects))
	ch <- prometheus.MustNewConstMetric(descSlow, prometheus.CounterValue, float64(h.ClosedSlow))
	ch <- prometheus.MustNewConstMetric(descEventsOut, prometheus.CounterValue, float64(h.Events))
	w := c.lt.webhooks.Stats()
	for outcome, n := range map[string]uint64{"delivered": w.Delivered, "retried": w.Retried, "dropped": w.Dropped, "failed": w.Failed} {
		ch <- prometheus.MustNewConstMetric(descHooks, prometheus.CounterValue, float64(n), outcome)
	}
	if m := c.lt.mqtt; m != nil {
		st := m.Stats()
		for outcome, n := range map[string]uint64{"received": st.Received, "rejected": st.Rejected, "delivered": st.Delivered, "failed": st.Failed, "dropped": st.Dropped} {
			ch <- prometheus.MustNewConstMetric(descMQTT, prometheus.CounterValue, float64(n), outcome)
		}
		up := 0.0
		if st.Connected {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descMQTTUp, prometheus.GaugeValue, up)
		ch <- prometheus.MustNewConstMetric(descMQTTRe, prometheus.CounterValue, float64(st.Reconnects))
	}
}
