package gridmgmt

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"citytwin/gridcode"
	"citytwin/internal/auth"
	"citytwin/spatial"
	"citytwin/spatial/pebblestore"

	"github.com/paulmach/orb"
)

// Two unit grids side by side: A west of 121.61, B east of it.
const (
	gridA = "210202001001001"
	gridB = "210202001001002"
)

var (
	ptA     = orb.Point{121.603, 38.903}
	ptB     = orb.Point{121.617, 38.907}
	ptOut   = orb.Point{121.70, 38.95}
	t0      = time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // 09:00 in Dalian
	admin   = auth.Principal{Name: "ops", Role: auth.Admin}
	viewer  = auth.Principal{Name: "v", Role: auth.Viewer}
	officer = auth.Principal{Name: "wang.li", Role: auth.Officer} // bound to A by GeoSOT (see cellOf)
	liNa    = auth.Principal{Name: "li.na", Role: auth.Officer}   // named officer_id of grid B
)

func init() {
	officer.Grids = []gridcode.Code{cellOf(ptA, 18)}
}

func cellOf(p orb.Point, level int) gridcode.Code {
	c, err := gridcode.Encode(p[1], p[0], level)
	if err != nil {
		panic(err)
	}
	return c
}

func box(w, s, e, n float64) orb.Polygon {
	return orb.Polygon{{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time              { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration)         { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)             { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func newClock() *clock                       { return &clock{t: t0} }
func ctxAs(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

// env is a pebble-backed kernel with the two grids and a service.
type env struct {
	t      *testing.T
	dir    string
	store  *pebblestore.Store
	kernel *spatial.Kernel
	svc    *Service
	clk    *clock
	mu     sync.Mutex
	events []map[string]any
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), clk: newClock()}
	e.open()
	_, err := e.kernel.Put(context.Background(), []*spatial.Feature{
		{Layer: GridsLayer, ID: gridA, Geometry: box(121.60, 38.90, 121.61, 38.91), Properties: map[string]any{"code": gridA, "community": "东港社区", "street": "人民路街道", "officer_id": ""}},
		{Layer: GridsLayer, ID: gridB, Geometry: box(121.61, 38.90, 121.62, 38.91), Properties: map[string]any{"code": gridB, "community": "东港社区", "street": "人民路街道", "officer_id": "li.na"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// open opens (or reopens) the store, kernel and service.
func (e *env) open() {
	e.t.Helper()
	st, err := pebblestore.Open(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
	e.t.Cleanup(func() { _ = st.Close() })
	k, err := spatial.NewKernel(context.Background(), st, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.kernel = k
	svc, err := New(k, Options{Now: e.clk.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	svc.OnEvent = func(typ, grid string, b []byte) {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Errorf("event %s: %v", typ, err)
		}
		if m["type"] != typ || m["grid"] != grid || m["op"] != "event" {
			e.t.Errorf("event %s/%s: %s", typ, grid, b)
		}
		e.mu.Lock()
		e.events = append(e.events, m)
		e.mu.Unlock()
	}
	e.svc = svc
}

func (e *env) reopen() {
	e.t.Helper()
	if err := e.store.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
}

func (e *env) eventTypes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, m := range e.events {
		out = append(out, m["type"].(string))
	}
	return out
}

func newCase(kind Kind, cat string, p orb.Point) NewCase {
	lon, lat := p[0], p[1]
	return NewCase{Kind: kind, Category: cat, Title: "垃圾堆放", Description: "路边垃圾", Lon: &lon, Lat: &lat, Reporter: "市民"}
}

func (e *env) create(p orb.Point) *Case {
	e.t.Helper()
	c, err := e.svc.Create(ctxAs(admin), newCase(Event, "01", p))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) move(id string, to Status, assignee, note string) *Case {
	e.t.Helper()
	e.clk.Add(time.Minute)
	c, err := e.svc.Transition(ctxAs(admin), id, TransitionRequest{To: to, Assignee: assignee, Note: note})
	if err != nil {
		e.t.Fatalf("%s → %s: %v", id, to, err)
	}
	return c
}

func TestLocate(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		p    orb.Point
		want string
	}{
		{"in A", ptA, gridA},
		{"in B", ptB, gridB},
		{"on the border: the smaller code", orb.Point{121.61, 38.905}, gridA},
		{"outside", ptOut, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.svc.Locate(tc.p[0], tc.p[1])
			if tc.want == "" {
				if !errors.Is(err, ErrOutside) {
					t.Fatalf("got %q, %v; want ErrOutside", got, err)
				}
				_, err := e.svc.Create(context.Background(), newCase(Event, "01", tc.p))
				if !errors.Is(err, ErrOutside) {
					t.Fatalf("create outside: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
			c, err := e.svc.Create(context.Background(), newCase(Component, "02", tc.p))
			if err != nil {
				t.Fatal(err)
			}
			if c.Grid != tc.want || c.Community != "东港社区" || c.CategoryName != "道路交通设施" || c.Reporter != "市民" {
				t.Fatalf("case %+v", c)
			}
		})
	}
}

func TestWorkflow(t *testing.T) {
	e := newEnv(t)
	c := e.create(ptA)
	if c.ID != "C20261130-000001" || c.Status != Intake || c.Grid != gridA || !c.Deadline.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("created %+v", c)
	}
	if c2 := e.create(ptB); c2.ID != "C20261130-000002" {
		t.Fatalf("second id %s", c2.ID)
	}
	steps := []struct {
		to       Status
		assignee string
		note     string
		deadline time.Duration // after the transition
	}{
		{Registered, "", "", time.Hour},
		{Dispatched, "zhang.san", "", 24 * time.Hour},
		{Handled, "", "清理完毕", 24 * time.Hour},
		{Verified, "", "现场核查通过", time.Hour},
		{Closed, "", "", 0},
	}
	for _, s := range steps {
		c = e.move(c.ID, s.to, s.assignee, s.note)
		if c.Status != s.to {
			t.Fatalf("status %s, want %s", c.Status, s.to)
		}
		if s.deadline == 0 && !c.Deadline.IsZero() || s.deadline != 0 && !c.Deadline.Equal(e.clk.Now().Add(s.deadline)) {
			t.Fatalf("%s: deadline %v", s.to, c.Deadline)
		}
	}
	if c.Assignee != "zhang.san" || !c.Closed.Equal(t0.Add(5*time.Minute)) || len(c.Log) != 6 {
		t.Fatalf("closed case %+v", c)
	}
	last := c.Log[5]
	if last.From != Verified || last.To != Closed || last.By != "ops" || last.Role != "admin" || last.Event != "case.closed" {
		t.Fatalf("log %+v", last)
	}
	if c.Log[3].Note != "清理完毕" || c.Log[2].Assignee != "zhang.san" {
		t.Fatalf("log %+v", c.Log)
	}
	for _, st := range []string{"register", "dispatch", "handle", "verify", "close"} {
		if _, ok := c.Deadlines[st]; !ok {
			t.Fatalf("no %s deadline: %v", st, c.Deadlines)
		}
	}
	// Every transition is a version of the case's feature.
	vs := e.kernel.Index().Versions(CasesLayer, c.ID)
	if len(vs) != 6 {
		t.Fatalf("%d versions, want 6", len(vs))
	}
	for i, v := range vs {
		if got := v.Properties["status"]; i > 0 && got != string(steps[i-1].to) || i == 0 && got != "intake" {
			t.Fatalf("version %d status %v", i, got)
		}
		if _, ok := v.Geometry.(orb.Point); !ok {
			t.Fatalf("geometry %T", v.Geometry)
		}
	}
	want := []string{"case.created", "case.created", "case.registered", "case.dispatched", "case.handled", "case.verified", "case.closed"}
	if got := e.eventTypes(); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	ev := e.events[3]
	if ev["case"].(map[string]any)["assignee"] != "zhang.san" || ev["grid"] != gridA || ev["case"].(map[string]any)["log"] != nil {
		t.Fatalf("dispatch event %v", ev)
	}
	// A Cell query over the case's location finds it.
	cell := cellOf(ptA, 20)
	if n, err := e.kernel.Index().Count(CasesLayer, spatial.Query{Cell: &cell}); err != nil || n != 1 {
		t.Fatalf("cell count %d, %v", n, err)
	}
	st := e.svc.Stats("")
	if st.Total != 2 || st.ByStatus[Closed] != 1 || st.ByStatus[Intake] != 1 || st.MeanTimeToClose != 300 || st.Open != 1 {
		t.Fatalf("stats %+v", st)
	}
	if g := st.Grids[gridA]; g == nil || g.Total != 1 || g.ByStatus[Closed] != 1 || g.MeanTimeToClose != 300 {
		t.Fatalf("grid A stats %+v", g)
	}
	if g := e.svc.Stats(gridB); g.Total != 1 || g.Grids != nil {
		t.Fatalf("grid B stats %+v", g)
	}
}

func TestInvalidTransitions(t *testing.T) {
	e := newEnv(t)
	c := e.create(ptA)
	closed := e.create(ptA)
	e.move(closed.ID, Registered, "", "")
	e.move(closed.ID, Dispatched, "a", "")
	e.move(closed.ID, Handled, "", "done")
	e.move(closed.ID, Verified, "", "")
	e.move(closed.ID, Closed, "", "")
	for _, tc := range []struct {
		name    string
		id      string
		req     TransitionRequest
		allowed []Status // nil with field set
		field   string
	}{
		{"intake to handled", c.ID, TransitionRequest{To: Handled, Note: "x"}, []Status{Registered, Rejected}, ""},
		{"intake to closed", c.ID, TransitionRequest{To: Closed}, []Status{Registered, Rejected}, ""},
		{"intake to intake", c.ID, TransitionRequest{To: Intake}, []Status{Registered, Rejected}, ""},
		{"closed is final", closed.ID, TransitionRequest{To: Dispatched, Assignee: "a"}, []Status{}, ""},
		{"reject needs a note", c.ID, TransitionRequest{To: Rejected}, nil, "note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Transition(context.Background(), tc.id, tc.req)
			if tc.field != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Fatalf("err %v, want field %s", err, tc.field)
				}
				return
			}
			var te *TransitionError
			if !errors.As(err, &te) || !errors.Is(err, ErrTransition) {
				t.Fatalf("err %v", err)
			}
			if !slices.Equal(te.Allowed, tc.allowed) && !(len(te.Allowed) == 0 && len(tc.allowed) == 0) {
				t.Fatalf("allowed %v, want %v", te.Allowed, tc.allowed)
			}
		})
	}
	e.move(c.ID, Registered, "", "")
	if _, err := e.svc.Transition(context.Background(), c.ID, TransitionRequest{To: Dispatched}); err == nil {
		t.Fatal("dispatch without assignee")
	}
	e.move(c.ID, Dispatched, "a", "")
	if _, err := e.svc.Transition(context.Background(), c.ID, TransitionRequest{To: Handled}); err == nil {
		t.Fatal("handled without note")
	}
	if _, err := e.svc.Transition(context.Background(), "C1-1", TransitionRequest{To: Handled}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown case: %v", err)
	}
	rej := e.create(ptB)
	if r := e.move(rej.ID, Rejected, "", "不属于受理范围"); r.Status != Rejected || !r.Deadline.IsZero() {
		t.Fatalf("rejected %+v", r)
	}
}

func TestRework(t *testing.T) {
	e := newEnv(t)
	c := e.create(ptA)
	e.move(c.ID, Registered, "", "")
	e.move(c.ID, Dispatched, "a", "")
	e.move(c.ID, Handled, "", "done")
	// Verification fails, by "verified" with ok false and by "dispatched".
	no := false
	e.clk.Add(time.Minute)
	r, err := e.svc.Transition(context.Background(), c.ID, TransitionRequest{To: Verified, OK: &no, Note: "仍有垃圾"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Dispatched || r.Reworks != 1 || r.Assignee != "a" || !r.Deadline.Equal(e.clk.Now().Add(24*time.Hour)) {
		t.Fatalf("reworked %+v", r)
	}
	if _, err := e.svc.Transition(context.Background(), c.ID, TransitionRequest{To: Handled}); err == nil {
		t.Fatal("handled without note")
	}
	e.move(c.ID, Handled, "", "done again")
	if _, err := e.svc.Transition(context.Background(), c.ID, TransitionRequest{To: Dispatched, Assignee: "b"}); err == nil {
		t.Fatal("rework without a note")
	}
	r = e.move(c.ID, Dispatched, "b", "还是没清")
	if r.Reworks != 2 || r.Assignee != "b" || r.Log[len(r.Log)-1].Event != "case.reworked" {
		t.Fatalf("second rework %+v", r)
	}
	e.move(c.ID, Handled, "", "ok now")
	e.move(c.ID, Verified, "", "")
	r = e.move(c.ID, Closed, "", "")
	if r.Reworks != 2 || e.svc.Stats("").Reworks != 2 {
		t.Fatalf("closed %+v", r)
	}
	n := 0
	for _, typ := range e.eventTypes() {
		if typ == "case.reworked" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("events %v", e.eventTypes())
	}
}

func TestEscalation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.create(ptA)
	urgentCase, err := e.svc.Create(ctxAs(admin), newCase(Event, "04", ptB))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at        time.Duration // since t0
		escalated []string
		level     int // of c after the sweep
	}{
		{29 * time.Minute, nil, 0},
		{31 * time.Minute, []string{c.ID, urgentCase.ID}, 1},
		{40 * time.Minute, nil, 1},
		{61 * time.Minute, []string{c.ID, urgentCase.ID}, 2},
		{95 * time.Minute, []string{c.ID, urgentCase.ID}, 3}, // 65 min late: a level skipped, one event
	} {
		e.clk.Set(t0.Add(tc.at))
		if got, _ := e.svc.List(Filter{Overdue: true}); len(got) == 0 != (tc.level == 0) {
			t.Fatalf("at %v: overdue %d", tc.at, len(got))
		}
		up, err := e.svc.Sweep(ctx, e.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, u := range up {
			ids = append(ids, u.ID)
		}
		if !slices.Equal(ids, tc.escalated) {
			t.Fatalf("at %v: escalated %v, want %v", tc.at, ids, tc.escalated)
		}
		if got, _ := e.svc.Get(c.ID); got.Escalation != tc.level {
			t.Fatalf("at %v: level %d, want %d", tc.at, got.Escalation, tc.level)
		}
	}
	got, _ := e.svc.Get(c.ID)
	if got.Escalations != 3 || got.Log[len(got.Log)-1].Event != "case.escalated" || got.Log[len(got.Log)-1].Level != 3 {
		t.Fatalf("case %+v", got)
	}
	// A transition resets the level; the urgent category has 4 h to handle.
	e.move(urgentCase.ID, Registered, "", "")
	u := e.move(urgentCase.ID, Dispatched, "a", "")
	if u.Escalation != 0 || u.Escalations != 3 || !u.Deadline.Equal(e.clk.Now().Add(4*time.Hour)) {
		t.Fatalf("urgent %+v", u)
	}
	e.clk.Add(4*time.Hour + time.Second)
	up, err := e.svc.Sweep(ctx, e.clk.Now())
	if err != nil || len(up) != 2 {
		t.Fatalf("sweep: %v, %v", up, err)
	}
	st := e.svc.Stats("")
	if st.Escalated != 2 || st.Overdue != 2 {
		t.Fatalf("stats %+v", st)
	}
	var levels []float64
	for _, m := range e.events {
		if m["type"] == "case.escalated" {
			levels = append(levels, m["level"].(float64))
		}
	}
	if len(levels) != 8 {
		t.Fatalf("escalation events %v", levels)
	}
	// Escalations are versions too, and survive a restart.
	before, _ := e.svc.Get(c.ID)
	e.reopen()
	after, _ := e.svc.Get(c.ID)
	a, _ := json.Marshal(before)
	b, _ := json.Marshal(after)
	if string(a) != string(b) || len(e.kernel.Index().Versions(CasesLayer, c.ID)) != 1+before.Escalations {
		t.Fatalf("after restart\n%s\nwant\n%s", b, a)
	}
}

func TestAuthorization(t *testing.T) {
	e := newEnv(t)
	pts := map[string]orb.Point{gridA: ptA, gridB: ptB}
	for _, tc := range []struct {
		name string
		who  auth.Principal
		grid string
		ok   bool
	}{
		{"officer in own grid", officer, gridA, true},
		{"officer in another grid", officer, gridB, false},
		{"grid's named officer", liNa, gridB, true},
		{"named officer elsewhere", liNa, gridA, false},
		{"viewer", viewer, gridA, false},
		{"analyst", auth.Principal{Name: "x", Role: auth.Analyst}, gridA, false},
		{"admin", admin, gridB, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fresh := e.create(pts[tc.grid])
			c, err := e.svc.Transition(ctxAs(tc.who), fresh.ID, TransitionRequest{To: Registered})
			if !tc.ok {
				if !errors.Is(err, ErrForbidden) {
					t.Fatalf("err %v, want forbidden", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			last := c.Log[len(c.Log)-1]
			if last.By != tc.who.Name || last.Role != string(tc.who.Role) {
				t.Fatalf("log %+v", last)
			}
		})
	}
	if _, err := e.svc.Create(ctxAs(officer), newCase(Event, "05", ptB)); !errors.Is(err, ErrForbidden) {
		t.Fatalf("officer intake in another grid: %v", err)
	}
	c, err := e.svc.Create(ctxAs(officer), NewCase{Kind: Event, Category: "05", Title: "占道经营", Lon: &ptA[0], Lat: &ptA[1]})
	if err != nil || c.Reporter != "wang.li" {
		t.Fatalf("officer intake: %+v, %v", c, err)
	}
	if _, err := e.svc.Create(ctxAs(viewer), newCase(Event, "05", ptA)); !errors.Is(err, ErrForbidden) {
		t.Fatalf("viewer intake: %v", err)
	}
}

func TestRestart(t *testing.T) {
	e := newEnv(t)
	c := e.create(ptA)
	e.move(c.ID, Registered, "", "")
	c = e.move(c.ID, Dispatched, "zhang.san", "尽快")
	other := e.create(ptB)
	e.reopen()
	got, err := e.svc.Get(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("after restart\n%s\nwant\n%s", b, a)
	}
	if vs := e.kernel.Index().Versions(CasesLayer, c.ID); len(vs) != 3 {
		t.Fatalf("%d versions", len(vs))
	}
	if _, err := e.svc.Get(other.ID); err != nil {
		t.Fatal(err)
	}
	// The id sequence continues, and the workflow goes on.
	if n := e.create(ptA); n.ID != "C20261130-000003" {
		t.Fatalf("id %s", n.ID)
	}
	if r := e.move(c.ID, Handled, "", "done"); len(r.Log) != 4 {
		t.Fatalf("log %+v", r.Log)
	}
	// Next day, a new sequence.
	e.clk.Add(24 * time.Hour)
	if n := e.create(ptA); n.ID != "C20261201-000001" {
		t.Fatalf("id %s", n.ID)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 5 {
		p := ptA
		if i%2 == 1 {
			p = ptB
		}
		ids = append(ids, e.create(p).ID)
	}
	e.move(ids[0], Registered, "", "")
	e.move(ids[0], Dispatched, "zhang.san", "")
	for _, tc := range []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, ids},
		{"grid B", Filter{Grid: gridB}, []string{ids[1], ids[3]}},
		{"status", Filter{Status: Dispatched}, ids[:1]},
		{"assignee", Filter{Assignee: "zhang.san"}, ids[:1]},
		{"cursor", Filter{Cursor: ids[2]}, ids[3:]},
		{"limit", Filter{Limit: 2}, ids[:2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := e.svc.List(tc.f)
			var gotIDs []string
			for _, c := range got {
				gotIDs = append(gotIDs, c.ID)
				if c.Log != nil {
					t.Fatal("a listed case carries its log")
				}
			}
			if !slices.Equal(gotIDs, tc.want) {
				t.Fatalf("got %v, want %v", gotIDs, tc.want)
			}
		})
	}
	// Paging walks everything once.
	var all []string
	for cur := ""; ; {
		page, next := e.svc.List(Filter{Limit: 2, Cursor: cur})
		for _, c := range page {
			all = append(all, c.ID)
		}
		if next == "" {
			break
		}
		cur = next
	}
	if !slices.Equal(all, ids) {
		t.Fatalf("paged %v", all)
	}
}

func TestParseNewCase(t *testing.T) {
	for _, tc := range []struct {
		body  string
		field string // "" ok; "-" bad JSON
	}{
		{`{"kind":"event","category":"01","title":"t","lon":121.6,"lat":38.9}`, ""},
		{`{"kind":"component","category":"06","title":"井盖缺失","lon":121.6,"lat":38.9,"reporter":"x","description":"d"}`, ""},
		{`{"kind":"event","category":"06","title":"t","lon":121.6,"lat":38.9}`, "category"},
		{`{"kind":"thing","category":"01","title":"t","lon":121.6,"lat":38.9}`, "kind"},
		{`{"category":"01","title":"t","lon":121.6,"lat":38.9}`, "kind"},
		{`{"kind":"event","category":"01","title":"  ","lon":121.6,"lat":38.9}`, "title"},
		{`{"kind":"event","category":"01","title":"t","lat":38.9}`, "lon"},
		{`{"kind":"event","category":"01","title":"t","lon":121.6}`, "lat"},
		{`{"kind":"event","category":"01","title":"t","lon":121.6,"lat":91}`, "lat"},
		{`{"kind":"event","category":"01","title":"t","lon":"121.6","lat":38.9}`, "lon"},
		{`{"kind":"event","category":"01","title":"t","lon":121.6,"lat":38.9,"lng":1}`, "lng"},
		{`{"kind":"event"`, "-"},
		{`{} {}`, "-"},
		{`[]`, "-"},
	} {
		_, err := ParseNewCase([]byte(tc.body))
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.body, err)
		case tc.field == "-" && (err == nil || !errors.Is(err, ErrBadInput)):
			t.Errorf("%s: %v, want bad input", tc.body, err)
		case tc.field != "" && tc.field != "-" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: %v, want field %s", tc.body, err, tc.field)
		}
	}
}

func FuzzParseNewCase(f *testing.F) {
	f.Add([]byte(`{"kind":"event","category":"01","title":"t","lon":121.6,"lat":38.9}`))
	f.Add([]byte(`{"kind":"component","category":"99","title":"井盖","description":"d","lon":-180,"lat":90,"reporter":"r"}`))
	f.Add([]byte(`{"kind":"event","category":"04","title":"t","lon":1e400,"lat":38.9}`))
	f.Add([]byte(`{"to":"registered"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseNewCase(b)
		if err != nil {
			if !errors.Is(err, ErrBadInput) {
				t.Fatalf("error not ErrBadInput: %v", err)
			}
			return
		}
		// What parses re-encodes to the same case.
		out, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseNewCase(out)
		if err != nil {
			t.Fatalf("re-parse %s: %v", out, err)
		}
		if m.Kind != n.Kind || m.Category != n.Category || m.Title != n.Title || *m.Lon != *n.Lon || *m.Lat != *n.Lat || m.Reporter != n.Reporter || m.Description != n.Description {
			t.Fatalf("round trip %+v != %+v", m, n)
		}
		_, _ = ParseTransition(b)
	})
}
