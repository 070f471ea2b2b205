package live_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"citytwin/twin/live"
	"citytwin/twin/live/pebblelog"

	"github.com/paulmach/orb"
)

var base = time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// open returns a twin over a pebble log in dir, and a function that
// parses updates.
func open(t *testing.T, dir string, clk *clock) (*live.Twin, *pebblelog.Log) {
	t.Helper()
	lg, err := pebblelog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := live.New(context.Background(), lg, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	return tw, lg
}

// upd is one update in a compact form for tests.
type upd struct {
	id, layer string
	lon, lat  float64
	sec       int // seconds after base
	state     string
}

func (u upd) json() string {
	s := fmt.Sprintf(`{"id":%q,"layer":%q,"lon":%v,"lat":%v,"time":%q`, u.id, u.layer, u.lon, u.lat, base.Add(time.Duration(u.sec)*time.Second).Format(time.RFC3339Nano))
	if u.state != "" {
		s += `,"state":` + u.state
	}
	return s + "}"
}

func ingest(t *testing.T, tw *live.Twin, ups ...upd) live.Result {
	t.Helper()
	var parts []string
	for _, u := range ups {
		parts = append(parts, u.json())
	}
	var p live.Parser
	objs, rejs, err := p.Parse([]byte("["+strings.Join(parts, ",")+"]"), tw.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := tw.Ingest(context.Background(), objs, rejs)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestOrderingAndIdempotency(t *testing.T) {
	clk := &clock{t: base.Add(time.Hour)}
	tw, lg := open(t, t.TempDir(), clk)
	defer lg.Close()
	var seen []live.Change
	tw.OnChange(func(cs []live.Change) { seen = append(seen, cs...) })

	steps := []struct {
		name                string
		ups                 []upd
		applied, superseded int
		wantLon             float64
		wantState           string
		wantHistory         int
	}{
		{"first", []upd{{"bus-1", "vehicles", 121.60, 38.9, 10, `{"route":"23"}`}}, 1, 0, 121.60, `{"route":"23"}`, 1},
		{"newer wins", []upd{{"bus-1", "vehicles", 121.61, 38.9, 20, ""}}, 1, 0, 121.61, `{"route":"23"}`, 2},
		{"older is history only", []upd{{"bus-1", "vehicles", 121.59, 38.9, 15, `{"route":"9"}`}}, 0, 1, 121.61, `{"route":"23"}`, 3},
		{"replay is idempotent", []upd{{"bus-1", "vehicles", 121.61, 38.9, 20, ""}, {"bus-1", "vehicles", 121.60, 38.9, 10, `{"route":"23"}`}}, 0, 2, 121.61, `{"route":"23"}`, 3},
		{"same time does not win", []upd{{"bus-1", "vehicles", 121.7, 38.9, 20, ""}}, 0, 1, 121.61, `{"route":"23"}`, 3},
		{"batch order does not matter", []upd{{"bus-1", "vehicles", 121.63, 38.9, 40, ""}, {"bus-1", "vehicles", 121.62, 38.9, 30, `{"route":"5"}`}}, 1, 1, 121.63, `{"route":"5"}`, 5},
		{"state cleared by {}", []upd{{"bus-1", "vehicles", 121.64, 38.9, 50, `{}`}}, 1, 0, 121.64, ``, 6},
	}
	for _, s := range steps {
		res := ingest(t, tw, s.ups...)
		if res.Applied != s.applied || res.Superseded != s.superseded || res.Accepted != len(s.ups) {
			t.Errorf("%s: %+v, want applied %d superseded %d", s.name, res, s.applied, s.superseded)
		}
		o, err := tw.Get("bus-1")
		if err != nil {
			t.Fatal(err)
		}
		if o.Lon != s.wantLon || string(o.State) != s.wantState {
			t.Errorf("%s: current lon %v state %s, want %v %s", s.name, o.Lon, o.State, s.wantLon, s.wantState)
		}
		h, _, err := tw.History(context.Background(), "bus-1", base, base.Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != s.wantHistory {
			t.Errorf("%s: %d history states, want %d", s.name, len(h), s.wantHistory)
		}
		for i := 1; i < len(h); i++ {
			if h[i].Time <= h[i-1].Time {
				t.Errorf("%s: history out of order", s.name)
			}
		}
	}
	// Hooks saw each applied change once, with the previous state.
	if len(seen) != 4 || seen[0].Prev != nil || seen[1].Prev.Lon != 121.60 || seen[3].Cur.Lon != 121.64 {
		t.Errorf("hook saw %d changes", len(seen))
	}
}

func TestSearchLayersRemoveRestart(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: base.Add(time.Hour)}
	tw, lg := open(t, dir, clk)
	ingest(t, tw,
		upd{"a", "vehicles", 121.60, 38.90, 1, ""},
		upd{"b", "vehicles", 121.70, 38.95, 1, ""},
		upd{"c", "phones", 121.61, 38.91, 1, `{"officer":"o7"}`},
	)
	box := orb.Bound{Min: orb.Point{121.55, 38.85}, Max: orb.Point{121.65, 38.92}}
	ids := func(layers ...string) string {
		var got []string
		tw.Search(layers, box, func(o *live.Object) bool { got = append(got, o.ID); return true })
		sortStrings(got)
		return strings.Join(got, ",")
	}
	if got := ids(); got != "a,c" {
		t.Errorf("all layers in box: %s", got)
	}
	if got := ids("phones"); got != "c" {
		t.Errorf("phones in box: %s", got)
	}
	// Moving to another layer moves the object between indexes.
	ingest(t, tw, upd{"a", "buses", 121.60, 38.90, 2, ""})
	if got := ids("vehicles"); got != "" {
		t.Errorf("vehicles after a moved to buses: %q", got)
	}
	if got := ids("buses"); got != "a" {
		t.Errorf("buses: %q", got)
	}
	var gone []live.Change
	tw.OnChange(func(cs []live.Change) { gone = append(gone, cs...) })
	clk.t = base.Add(2 * time.Hour)
	if err := tw.Remove(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	if len(gone) != 1 || !gone[0].Cur.Gone || gone[0].Prev.ID != "b" {
		t.Errorf("removal change: %+v", gone)
	}
	if _, err := tw.Get("b"); err == nil {
		t.Error("b still live after Remove")
	}
	if err := tw.Remove(context.Background(), "b"); err == nil {
		t.Error("second Remove succeeded")
	}
	// An update older than the removal does not bring b back.
	if res := ingest(t, tw, upd{"b", "vehicles", 121.7, 38.95, 5, ""}); res.Applied != 0 {
		t.Errorf("late update after removal applied: %+v", res)
	}
	if err := lg.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: the newest state of every object comes back, b stays gone.
	tw, lg = open(t, dir, clk)
	defer lg.Close()
	if got := ids(); got != "a,c" {
		t.Errorf("after restart: %s", got)
	}
	if _, err := tw.Get("b"); err == nil {
		t.Error("b came back after restart")
	}
	if o, _ := tw.Get("c"); o == nil || string(o.State) != `{"officer":"o7"}` {
		t.Errorf("c after restart: %+v", o)
	}
	if o, _ := tw.Get("a"); o == nil || o.Layer != "buses" {
		t.Errorf("a after restart: %+v", o)
	}
	// As of a time: the state then, within the window.
	var got []string
	err := tw.AsOf(context.Background(), nil, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, base.Add(90*time.Second), time.Hour, func(o *live.Object) error {
		got = append(got, o.ID+"/"+o.Layer)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sortStrings(got)
	if strings.Join(got, ",") != "a/buses,b/vehicles,c/phones" {
		t.Errorf("as of base+90s: %v", got)
	}
	got = nil
	_ = tw.AsOf(context.Background(), []string{"vehicles"}, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, base.Add(3*time.Hour), 24*time.Hour, func(o *live.Object) error {
		got = append(got, o.ID)
		return nil
	})
	if len(got) != 0 {
		t.Errorf("vehicles as of after b's removal: %v", got)
	}
	got = nil
	_ = tw.AsOf(context.Background(), nil, orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, base.Add(time.Hour), time.Minute, func(o *live.Object) error {
		got = append(got, o.ID)
		return nil
	})
	if len(got) != 0 {
		t.Errorf("as of with a 1-minute window an hour later: %v", got)
	}
}

func TestPrune(t *testing.T) {
	clk := &clock{t: base.Add(time.Hour)}
	tw, lg := open(t, t.TempDir(), clk)
	defer lg.Close()
	for s := 0; s < 10; s++ {
		ingest(t, tw, upd{"a", "v", 121.6, 38.9, s, ""}, upd{"b", "v", 121.6, 38.9, s * 100, ""})
	}
	n, err := lg.Prune(context.Background(), base.Add(500*time.Second).UnixMicro())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("pruned %d objects, want 2", n)
	}
	h, _, _ := tw.History(context.Background(), "a", base, base.Add(time.Hour), 100)
	if len(h) != 1 || h[0].Time != base.Add(9*time.Second).UnixMicro() {
		t.Errorf("a keeps %d states, want its newest only", len(h))
	}
	h, _, _ = tw.History(context.Background(), "b", base, base.Add(time.Hour), 100)
	if len(h) != 4 { // 500, 600, 700, 800, 900 s minus... 500 is not before 500
		if len(h) != 5 {
			t.Errorf("b keeps %d states, want 5 (500–900 s)", len(h))
		}
	}
}

func TestHistoryLimit(t *testing.T) {
	clk := &clock{t: base.Add(time.Hour)}
	tw, lg := open(t, t.TempDir(), clk)
	defer lg.Close()
	for s := 0; s < 20; s++ {
		ingest(t, tw, upd{"a", "v", 121.6 + float64(s)/1000, 38.9, s, ""})
	}
	h, more, err := tw.History(context.Background(), "a", base.Add(5*time.Second), base.Add(14*time.Second), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 5 || !more || h[0].Time != base.Add(5*time.Second).UnixMicro() {
		t.Errorf("history 5..14 limit 5: %d states, more=%v", len(h), more)
	}
	h, more, _ = tw.History(context.Background(), "a", base.Add(5*time.Second), base.Add(14*time.Second), 50)
	if len(h) != 10 || more {
		t.Errorf("history 5..14: %d states, more=%v", len(h), more)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestExpire(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: base.Add(time.Hour)}
	tw, lg := open(t, dir, clk)
	ingest(t, tw, upd{"old", "v", 121.6, 38.9, 1, `{"k":1}`})
	clk.mu.Lock()
	clk.t = clk.t.Add(10 * time.Minute)
	clk.mu.Unlock()
	ingest(t, tw, upd{"fresh", "v", 121.6, 38.9, 2, ""})
	var changes []live.Change
	tw.OnChange(func(cs []live.Change) { changes = append(changes, cs...) })
	n, err := tw.Expire(context.Background(), clk.now().Add(-5*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if _, err := tw.Get("old"); err == nil {
		t.Error("old is still live")
	}
	if _, err := tw.Get("fresh"); err != nil {
		t.Error("fresh expired")
	}
	if len(changes) != 1 || !changes[0].Cur.Gone || changes[0].Prev.ID != "old" {
		t.Errorf("changes %+v", changes)
	}
	// A real update newer than the last one before the expiry still wins.
	if res := ingest(t, tw, upd{"old", "v", 121.7, 38.9, 3, ""}); res.Applied != 1 {
		t.Errorf("an update after the expiry was not applied: %+v", res)
	}
	// Expired objects stay expired across a restart.
	if _, err := tw.Expire(context.Background(), clk.now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	lg.Close()
	tw, lg = open(t, dir, clk)
	defer lg.Close()
	if s := tw.Stats(); s.Objects != 0 {
		t.Errorf("%d objects live after expiring all and restarting", s.Objects)
	}
}
