package gridmgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"citytwin/gridcode"
	"citytwin/internal/auth"
	"citytwin/spatial"

	"github.com/paulmach/orb"
)

// Layer names.
const (
	// CasesLayer is where cases are stored, as Point features.
	CasesLayer = "cases"
	// GridsLayer holds the unit grids (samples.LayerGrids).
	GridsLayer = "grids"
)

// cst is China Standard Time, the calendar of case ids.
var cst = time.FixedZone("CST", 8*3600)

// Options configure a Service; zero values take the defaults.
type Options struct {
	// Deadlines per stage (zero fields: DefaultDeadlines).
	Deadlines Deadlines
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Layer stores the cases (default CasesLayer).
	Layer string
	// GridLayer holds the unit grids (default GridsLayer): polygons whose
	// "code" property (or id) is the unit-grid code and whose optional
	// "officer_id" property names the responsible officer.
	GridLayer string
}

// Service keeps the cases of a kernel: the workflow, deadlines,
// escalation, statistics and events. It is safe for concurrent use.
type Service struct {
	kernel *spatial.Kernel
	opt    Options
	dl     Deadlines

	// OnEvent, when set, receives every case event: its type (e.g.
	// "case.dispatched"), the unit-grid code and the event as a JSON
	// object {"op":"event","type":…,"case":{…},"grid":…,"time":…}. It is
	// called in event order under the service's lock: it must be quick
	// and must not call the service. Set it before serving.
	OnEvent func(typ, grid string, event []byte)

	mu    sync.Mutex
	cases map[string]*Case // current state; values are never mutated, only replaced
	seq   map[string]int   // the last sequence number of each day (yyyymmdd)
}

// New returns the service over a kernel, with the cases already stored in
// its cases layer.
func New(k *spatial.Kernel, opt Options) (*Service, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Layer == "" {
		opt.Layer = CasesLayer
	}
	if opt.GridLayer == "" {
		opt.GridLayer = GridsLayer
	}
	s := &Service{kernel: k, opt: opt, dl: opt.Deadlines.withDefaults(), cases: map[string]*Case{}, seq: map[string]int{}}
	var bad error
	err := k.Index().Each(opt.Layer, spatial.Query{}, func(f *spatial.Feature) bool {
		c, err := decodeCase(f)
		if err != nil {
			bad = err
			return false
		}
		s.cases[c.ID] = c
		if day, n, ok := parseID(c.ID); ok && n > s.seq[day] {
			s.seq[day] = n
		}
		return true
	})
	if err != nil && !errors.Is(err, spatial.ErrNotFound) {
		return nil, fmt.Errorf("gridmgmt: load cases: %w", err)
	}
	if bad != nil {
		return nil, fmt.Errorf("gridmgmt: load cases: %w", bad)
	}
	return s, nil
}

// Deadlines returns the deadlines in force.
func (s *Service) Deadlines() Deadlines { return s.dl }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// parseID splits C20261130-000123 into its day and sequence number.
func parseID(id string) (day string, n int, ok bool) {
	rest, ok := strings.CutPrefix(id, "C")
	if !ok {
		return "", 0, false
	}
	day, num, ok := strings.Cut(rest, "-")
	if !ok || len(day) != 8 {
		return "", 0, false
	}
	n, err := strconv.Atoi(num)
	return day, n, err == nil
}

// nextID returns the next case id of the day. The caller holds mu.
func (s *Service) nextID(now time.Time) string {
	day := now.In(cst).Format("20060102")
	for {
		s.seq[day]++
		id := fmt.Sprintf("C%s-%06d", day, s.seq[day])
		// Another server's case may already be in the index (Follow).
		if _, taken := s.kernel.Index().Get(s.opt.Layer, id); !taken {
			return id
		}
	}
}

// gridInfo is the unit grid a point lies in.
type gridInfo struct {
	code, community, street, officer string
}

func gridOf(f *spatial.Feature) gridInfo {
	str := func(k string) string { v, _ := f.Properties[k].(string); return v }
	g := gridInfo{code: str("code"), community: str("community"), street: str("street"), officer: str("officer_id")}
	if g.code == "" {
		g.code = f.ID
	}
	return g
}

// Locate returns the code of the unit grid containing the point (the
// smallest code when the point lies on a border between grids), or an
// error wrapping ErrOutside.
func (s *Service) Locate(lon, lat float64) (string, error) {
	g, err := s.locate(lon, lat)
	return g.code, err
}

func (s *Service) locate(lon, lat float64) (gridInfo, error) {
	var best *gridInfo
	err := s.kernel.Index().Each(s.opt.GridLayer, spatial.Query{Intersects: orb.Point{lon, lat}}, func(f *spatial.Feature) bool {
		if g := gridOf(f); best == nil || g.code < best.code {
			best = &g
		}
		return true
	})
	if err != nil && !errors.Is(err, spatial.ErrNotFound) {
		return gridInfo{}, err
	}
	if best == nil {
		return gridInfo{}, fmt.Errorf("%w: lon %v, lat %v lies in no unit grid of layer %q", ErrOutside, lon, lat, s.opt.GridLayer)
	}
	return *best, nil
}

// actor is who makes a change, as the log records it.
type actor struct{ name, role string }

// authorize checks that the caller (the principal in ctx) may work a case
// at cell in the unit grid g: admins anywhere; officers where one of
// their GeoSOT grid codes contains the case's location cell, or where
// the unit grid names them as its officer (officer_id); no other role.
// Without a principal (authentication off) everyone may.
func (s *Service) authorize(ctx context.Context, cell gridcode.Code, g gridInfo) (actor, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return actor{name: "anonymous"}, nil
	}
	a := actor{name: p.Name, role: string(p.Role)}
	switch p.Role {
	case auth.Admin:
		return a, nil
	case auth.Officer:
		for _, c := range p.Grids {
			if c.Contains(cell) {
				return a, nil
			}
		}
		if p.Name != "" && g.officer == p.Name {
			return a, nil
		}
		return actor{}, fmt.Errorf("%w: officer %q is not bound to unit grid %s (cell %s)", ErrForbidden, p.Name, g.code, cell)
	}
	return actor{}, fmt.Errorf("%w: role %s may not work cases (officer or admin)", ErrForbidden, p.Role)
}

// gridFor returns what authorize needs of a case's grid.
func (s *Service) gridFor(c *Case) (gridcode.Code, gridInfo) {
	cell, _ := gridcode.Parse(c.Cell)
	g := gridInfo{code: c.Grid}
	if f, ok := s.kernel.Index().Get(s.opt.GridLayer, c.Grid); ok {
		g.officer = gridOf(f).officer
	}
	return cell, g
}

// Create takes in a new case (status intake): it locates it to its unit
// grid, checks that the caller may report there, stores it and emits
// case.created. The reporter defaults to the caller's name.
func (s *Service) Create(ctx context.Context, n NewCase) (*Case, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	lon, lat := *n.Lon, *n.Lat
	cell, err := gridcode.Encode(lat, lon, gridcode.MaxLevel)
	if err != nil {
		return nil, fieldErr("lat", "%v", err)
	}
	g, err := s.locate(lon, lat)
	if err != nil {
		return nil, err
	}
	who, err := s.authorize(ctx, cell, g)
	if err != nil {
		return nil, err
	}
	cat, _ := LookupCategory(n.Kind, n.Category)
	if n.Reporter == "" {
		n.Reporter = who.name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := &Case{
		ID: s.nextID(now), Kind: n.Kind, Category: cat.Code, CategoryName: cat.Name,
		Title: n.Title, Description: n.Description, Lon: lon, Lat: lat, Cell: cell.String(),
		Grid: g.code, Community: g.community, Street: g.street, Reporter: n.Reporter,
		Status: Intake, Created: now, Updated: now, Deadlines: map[string]time.Time{},
		Log: []Entry{{Event: "case.created", To: Intake, By: who.name, Role: who.role, At: now}},
	}
	s.enter(c, Intake, now)
	if err := s.store(ctx, []*Case{c}); err != nil {
		return nil, err
	}
	s.cases[c.ID] = c
	s.emit("case.created", c, now, 0)
	return c, nil
}

// urgent reports whether the case's category takes the urgent deadline.
func urgent(c *Case) bool {
	cat, _ := LookupCategory(c.Kind, c.Category)
	return cat.Urgent
}

// enter sets the deadline of the stage that begins as c enters status st.
func (s *Service) enter(c *Case, st Status, now time.Time) {
	d := s.dl.For(st, urgent(c))
	if d <= 0 {
		c.Deadline = time.Time{}
		return
	}
	c.Deadline = now.Add(d)
	c.Deadlines[stage(st)] = c.Deadline
}

// clone copies a case so that a change can be prepared without touching
// the stored one.
func (c *Case) clone() *Case {
	n := *c
	n.Log = slices.Clone(c.Log)
	n.Deadlines = maps.Clone(c.Deadlines)
	if n.Deadlines == nil {
		n.Deadlines = map[string]time.Time{}
	}
	return &n
}

// Get returns a copy of a case.
func (s *Service) Get(id string) (*Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	if !ok {
		return nil, fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	return c.clone(), nil
}

// Transition moves a case along the workflow (see Allowed): registered
// or rejected from intake; dispatched from registered (an assignee
// required); handled from dispatched (the result in the note); from
// handled, verified when verification passes or dispatched again when it
// fails (a rework, with the reason in the note; also to "verified" with
// ok false); closed from verified. Each transition is logged with who,
// role, when, from, to and note, stored as a new version of the case's
// feature and emitted (case.<status>, or case.reworked).
func (s *Service) Transition(ctx context.Context, id string, req TransitionRequest) (*Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[id]
	if !ok {
		return nil, fmt.Errorf("case %q: %w", id, ErrNotFound)
	}
	cell, g := s.gridFor(c)
	who, err := s.authorize(ctx, cell, g)
	if err != nil {
		return nil, err
	}
	from, to := c.Status, req.To
	if to == Verified && req.OK != nil && !*req.OK {
		to = Dispatched
	}
	if !slices.Contains(next[from], to) {
		return nil, &TransitionError{From: from, To: req.To, Allowed: Allowed(from)}
	}
	rework := from == Handled && to == Dispatched
	event := "case." + string(to)
	switch {
	case rework:
		event = "case.reworked"
		if req.Note == "" {
			return nil, fieldErr("note", "a failed verification needs the reason")
		}
	case to == Dispatched && req.Assignee == "":
		return nil, fieldErr("assignee", "dispatching needs an assignee")
	case to == Handled && req.Note == "":
		return nil, fieldErr("note", "handling needs the result")
	case to == Rejected && req.Note == "":
		return nil, fieldErr("note", "rejecting needs the reason")
	}
	now := s.now()
	n := c.clone()
	n.Status, n.Updated, n.Escalation = to, now, 0
	if req.Assignee != "" {
		n.Assignee = req.Assignee
	}
	if rework {
		n.Reworks++
	}
	if to == Closed {
		n.Closed = now
	}
	s.enter(n, to, now)
	n.Log = append(n.Log, Entry{Event: event, From: from, To: to, By: who.name, Role: who.role, At: now, Note: req.Note, Assignee: req.Assignee})
	if err := s.store(ctx, []*Case{n}); err != nil {
		return nil, err
	}
	s.cases[id] = n
	s.emit(event, n, now, 0)
	return n.clone(), nil
}

// Sweep escalates overdue cases as of now: a case whose stage deadline
// has passed reaches level 1, and one level more each time another stage
// duration passes (level = 1 + ⌊(now − deadline) / duration⌋). Each case
// whose level rose is logged, stored and emitted as case.escalated (one
// event per sweep, with the new level). It returns the cases escalated.
// The server calls it periodically (every minute is plenty).
func (s *Service) Sweep(ctx context.Context, now time.Time) ([]*Case, error) {
	now = now.UTC().Truncate(time.Microsecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	var up []*Case
	for _, id := range slices.Sorted(maps.Keys(s.cases)) {
		c := s.cases[id]
		if !c.Overdue(now) {
			continue
		}
		d := s.dl.For(c.Status, urgent(c))
		if d <= 0 {
			continue
		}
		level := 1 + int(now.Sub(c.Deadline)/d)
		if level <= c.Escalation {
			continue
		}
		n := c.clone()
		n.Escalation = level
		n.Escalations++
		n.Updated = now
		n.Log = append(n.Log, Entry{Event: "case.escalated", From: c.Status, To: c.Status, By: "system", At: now, Level: level,
			Note: fmt.Sprintf("%s deadline %s passed", stage(c.Status), c.Deadline.Format(time.RFC3339))})
		up = append(up, n)
	}
	if len(up) == 0 {
		return nil, nil
	}
	if err := s.store(ctx, up); err != nil {
		return nil, err
	}
	out := make([]*Case, len(up))
	for i, n := range up {
		s.cases[n.ID] = n
		s.emit("case.escalated", n, now, n.Escalation)
		out[i] = n.clone()
	}
	return out, nil
}

// store writes cases as features, one new version each. The caller holds
// mu.
func (s *Service) store(ctx context.Context, cs []*Case) error {
	fs := make([]*spatial.Feature, len(cs))
	for i, c := range cs {
		f, err := s.feature(c)
		if err != nil {
			return err
		}
		fs[i] = f
	}
	if _, err := s.kernel.Put(ctx, fs); err != nil {
		return fmt.Errorf("gridmgmt: store: %w", err)
	}
	return nil
}

// feature encodes a case as a Point feature whose properties are the
// case's JSON fields. Its ValidFrom is the change's time, made later than
// the previous version's so that every change is a version of its own.
func (s *Service) feature(c *Case) (*spatial.Feature, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("gridmgmt: encode case %s: %w", c.ID, err)
	}
	var props map[string]any
	if err := json.Unmarshal(b, &props); err != nil {
		return nil, fmt.Errorf("gridmgmt: encode case %s: %w", c.ID, err)
	}
	from := c.Updated
	if prev, ok := s.kernel.Index().Get(s.opt.Layer, c.ID); ok && !from.After(prev.ValidFrom) {
		from = prev.ValidFrom.Add(time.Microsecond)
	}
	return &spatial.Feature{Layer: s.opt.Layer, ID: c.ID, Geometry: orb.Point{c.Lon, c.Lat}, Properties: props, ValidFrom: from}, nil
}

// decodeCase reads a case back from its feature.
func decodeCase(f *spatial.Feature) (*Case, error) {
	b, err := json.Marshal(f.Properties)
	if err != nil {
		return nil, fmt.Errorf("case %s: %w", f.ID, err)
	}
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("case %s: %w", f.ID, err)
	}
	if c.ID != f.ID || !c.Status.valid() {
		return nil, fmt.Errorf("case %s: properties name case %q in status %q", f.ID, c.ID, c.Status)
	}
	if c.Deadlines == nil {
		c.Deadlines = map[string]time.Time{}
	}
	return &c, nil
}

// eventJSON is the shape of a case event.
type eventJSON struct {
	Op    string    `json:"op"`
	Type  string    `json:"type"`
	Case  *Case     `json:"case"`
	Grid  string    `json:"grid"`
	Time  time.Time `json:"time"`
	Level int       `json:"level,omitempty"`
}

// emit hands an event to OnEvent. The caller holds mu.
func (s *Service) emit(typ string, c *Case, now time.Time, level int) {
	if s.OnEvent == nil {
		return
	}
	b, err := json.Marshal(eventJSON{Op: "event", Type: typ, Case: c.summary(), Grid: c.Grid, Time: now, Level: level})
	if err != nil {
		return // a Case always encodes
	}
	s.OnEvent(typ, c.Grid, b)
}

// Filter selects cases for List; zero fields select everything.
type Filter struct {
	Grid     string
	Status   Status
	Assignee string
	// Overdue keeps only cases past their stage deadline.
	Overdue bool
	// Limit is the page size (default 100, at most 1000).
	Limit int
	// Cursor continues after the last case of a previous page (its id).
	Cursor string
}

// List returns one page of the matching cases, in id (intake) order,
// without their logs, and the cursor of the next page ("" on the last).
func (s *Service) List(f Filter) ([]*Case, string) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []*Case{}
	for _, id := range slices.Sorted(maps.Keys(s.cases)) {
		if id <= f.Cursor {
			continue
		}
		c := s.cases[id]
		if f.Grid != "" && c.Grid != f.Grid || f.Status != "" && c.Status != f.Status ||
			f.Assignee != "" && c.Assignee != f.Assignee || f.Overdue && !c.Overdue(now) {
			continue
		}
		if len(out) == f.Limit {
			return out, out[len(out)-1].ID
		}
		out = append(out, c.summary())
	}
	return out, ""
}

// Stats are case counts of a grid, or of all grids.
type Stats struct {
	Total    int            `json:"total"`
	ByStatus map[Status]int `json:"by_status"`
	// Open counts cases not yet closed or rejected.
	Open int `json:"open"`
	// Overdue counts open cases past their stage deadline.
	Overdue int `json:"overdue"`
	// Escalated counts cases escalated at least once.
	Escalated int `json:"escalated"`
	// Reworks counts failed verifications.
	Reworks int `json:"reworks"`
	// MeanTimeToClose is the mean time from intake to closing of closed
	// cases, in seconds (0 with none closed).
	MeanTimeToClose float64 `json:"mean_time_to_close_s"`
	// Grids are the same counts per unit grid (in the all-grids stats).
	Grids map[string]*Stats `json:"grids,omitempty"`

	closeSum float64
}

func newStats() *Stats {
	st := &Stats{ByStatus: map[Status]int{}}
	for _, s := range Statuses {
		st.ByStatus[s] = 0
	}
	return st
}

func (st *Stats) add(c *Case, now time.Time) {
	st.Total++
	st.ByStatus[c.Status]++
	if !c.Status.Terminal() {
		st.Open++
	}
	if c.Overdue(now) {
		st.Overdue++
	}
	if c.Escalations > 0 {
		st.Escalated++
	}
	st.Reworks += c.Reworks
	if c.Status == Closed {
		st.closeSum += c.Closed.Sub(c.Created).Seconds()
		st.MeanTimeToClose = st.closeSum / float64(st.ByStatus[Closed])
	}
}

// Stats counts the cases of one unit grid, or of all (grid "") with the
// counts per grid too.
func (s *Service) Stats(grid string) *Stats {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	all := newStats()
	if grid == "" {
		all.Grids = map[string]*Stats{}
	}
	for _, c := range s.cases {
		if grid != "" && c.Grid != grid {
			continue
		}
		all.add(c, now)
		if grid == "" {
			g := all.Grids[c.Grid]
			if g == nil {
				g = newStats()
				all.Grids[c.Grid] = g
			}
			g.add(c, now)
		}
	}
	return all
}

// KnownGrid reports whether a unit grid exists (in the grids layer) or has
// cases.
func (s *Service) KnownGrid(grid string) bool {
	if _, ok := s.kernel.Index().Get(s.opt.GridLayer, grid); ok {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cases {
		if c.Grid == grid {
			return true
		}
	}
	return false
}
