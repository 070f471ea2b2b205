// Package gridmgmt is the grid-management twin (城市网格化管理, GB/T 30428):
// cases — events (事件) and components (部件) — reported at a point,
// located automatically to the unit grid (单元网格) of the spatial kernel's
// "grids" layer that contains the point, and worked through the workflow
//
//	intake ──► registered ──► dispatched ──► handled ──► verified ──► closed
//	   │                          ▲              │
//	   └──► rejected              └── reworked ──┘ (verification failed)
//
// with a deadline per stage, escalation of overdue cases (Service.Sweep),
// per-grid statistics and events for the websocket hub.
//
// Cases are stored as Point features of the kernel's "cases" layer (the
// case's fields are the feature's properties, the transition log one of
// them), written with Kernel.Put: they survive restarts on every store,
// show in tiles and grid-cell queries, and every transition is a new
// version in the feature's history. docs/CASES.md describes the model,
// the roles and the HTTP API.
package gridmgmt

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Kind tells events from components.
type Kind string

// The kinds of case.
const (
	// Event is an occurrence (事件): litter, illegal parking, a burst pipe.
	Event Kind = "event"
	// Component is a damaged or missing city component (部件): a manhole
	// cover, a street lamp, a bench.
	Component Kind = "component"
)

// Category is a top category of GB/T 30428.2 (大类), with its two-digit
// code within its kind.
type Category struct {
	Kind Kind   `json:"kind"`
	Code string `json:"code"`
	Name string `json:"name"`
	// Urgent categories (突发事件) get the shorter handling deadline.
	Urgent bool `json:"urgent,omitempty"`
}

// Categories are the built-in top categories: the event and component
// classes of GB/T 30428.2 (after CJ/T 214), each with its kind's
// two-digit code; 99 is the extension class of each kind.
var Categories = []Category{
	{Event, "01", "市容环境", false},
	{Event, "02", "宣传广告", false},
	{Event, "03", "施工管理", false},
	{Event, "04", "突发事件", true},
	{Event, "05", "街面秩序", false},
	{Event, "99", "扩展事件", false},
	{Component, "01", "市政公用设施", false},
	{Component, "02", "道路交通设施", false},
	{Component, "03", "市容环境设施", false},
	{Component, "04", "园林绿化设施", false},
	{Component, "05", "房屋土地", false},
	{Component, "06", "其他设施", false},
	{Component, "99", "扩展部件", false},
}

// LookupCategory returns the category of a kind with a code.
func LookupCategory(kind Kind, code string) (Category, bool) {
	for _, c := range Categories {
		if c.Kind == kind && c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

// categoryCodes lists the codes of a kind, for error messages.
func categoryCodes(kind Kind) []string {
	var out []string
	for _, c := range Categories {
		if c.Kind == kind {
			out = append(out, c.Code+" "+c.Name)
		}
	}
	return out
}

// Status is a case's stage in the workflow.
type Status string

// The statuses.
const (
	Intake     Status = "intake"     // reported, waiting to be registered (立案)
	Registered Status = "registered" // accepted as a case, waiting to be dispatched
	Rejected   Status = "rejected"   // not a case (terminal)
	Dispatched Status = "dispatched" // sent to an assignee, waiting to be handled
	Handled    Status = "handled"    // the assignee reports it done, waiting for verification
	Verified   Status = "verified"   // verification passed, waiting to be closed
	Closed     Status = "closed"     // done (terminal)
)

// Statuses lists every status in workflow order.
var Statuses = []Status{Intake, Registered, Rejected, Dispatched, Handled, Verified, Closed}

// next is the workflow: the statuses each status may move to. A move from
// handled back to dispatched is a rework (verification failed).
var next = map[Status][]Status{
	Intake:     {Registered, Rejected},
	Registered: {Dispatched},
	Dispatched: {Handled},
	Handled:    {Verified, Dispatched},
	Verified:   {Closed},
}

// Allowed returns the statuses a case in status s may move to (none for
// the terminal statuses rejected and closed).
func Allowed(s Status) []Status { return slices.Clone(next[s]) }

// Terminal reports whether no transition leaves s.
func (s Status) Terminal() bool { return s == Rejected || s == Closed }

func (s Status) valid() bool { return slices.Contains(Statuses, s) }

// stage names the deadline that runs while a case is in a status.
func stage(s Status) string {
	switch s {
	case Intake:
		return "register"
	case Registered:
		return "dispatch"
	case Dispatched:
		return "handle"
	case Handled:
		return "verify"
	case Verified:
		return "close"
	}
	return ""
}

// Deadlines are the time allowed for each stage, counted from the moment
// the case enters it.
type Deadlines struct {
	Register     time.Duration `json:"register"`      // intake → registered or rejected
	Dispatch     time.Duration `json:"dispatch"`      // registered → dispatched
	Handle       time.Duration `json:"handle"`        // dispatched → handled
	HandleUrgent time.Duration `json:"handle_urgent"` // the same for urgent categories (突发事件)
	Verify       time.Duration `json:"verify"`        // handled → verified or reworked
	Close        time.Duration `json:"close"`         // verified → closed
}

// DefaultDeadlines: register 30 min, dispatch 1 h, handle 24 h (4 h for
// 突发事件), verify 24 h, close 1 h.
var DefaultDeadlines = Deadlines{
	Register:     30 * time.Minute,
	Dispatch:     time.Hour,
	Handle:       24 * time.Hour,
	HandleUrgent: 4 * time.Hour,
	Verify:       24 * time.Hour,
	Close:        time.Hour,
}

// withDefaults fills zero durations from DefaultDeadlines.
func (d Deadlines) withDefaults() Deadlines {
	def := DefaultDeadlines
	for _, p := range []struct{ v, dv *time.Duration }{
		{&d.Register, &def.Register}, {&d.Dispatch, &def.Dispatch}, {&d.Handle, &def.Handle},
		{&d.HandleUrgent, &def.HandleUrgent}, {&d.Verify, &def.Verify}, {&d.Close, &def.Close},
	} {
		if *p.v <= 0 {
			*p.v = *p.dv
		}
	}
	return d
}

// For returns the time allowed for the stage that runs while a case of
// the category is in status s (0 for terminal statuses).
func (d Deadlines) For(s Status, urgent bool) time.Duration {
	switch s {
	case Intake:
		return d.Register
	case Registered:
		return d.Dispatch
	case Dispatched:
		if urgent {
			return d.HandleUrgent
		}
		return d.Handle
	case Handled:
		return d.Verify
	case Verified:
		return d.Close
	}
	return 0
}

// Case is one grid-management case.
type Case struct {
	// ID is generated at intake: C, the date in China Standard Time,
	// and a sequence number of the day, e.g. C20261130-000123. IDs sort in
	// intake order.
	ID           string  `json:"id"`
	Kind         Kind    `json:"kind"`
	Category     string  `json:"category"`
	CategoryName string  `json:"category_name"`
	Title        string  `json:"title"`
	Description  string  `json:"description,omitempty"`
	Lon          float64 `json:"lon"`
	Lat          float64 `json:"lat"`
	// Cell is the GeoSOT level-32 cell of the location (what officers'
	// grid bindings are matched against).
	Cell string `json:"cell"`
	// Grid is the code of the unit grid the case lies in (15 digits in
	// the sample city); Community and Street name it where the grid
	// feature says.
	Grid      string    `json:"grid"`
	Community string    `json:"community,omitempty"`
	Street    string    `json:"street,omitempty"`
	Reporter  string    `json:"reporter,omitempty"`
	Status    Status    `json:"status"`
	Assignee  string    `json:"assignee,omitempty"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	// Deadline is when the current stage is due (zero once terminal).
	Deadline time.Time `json:"deadline,omitzero"`
	// Deadlines holds the due time of each stage the case has entered, by
	// stage name (register, dispatch, handle, verify, close); a rework
	// sets a new handle deadline.
	Deadlines map[string]time.Time `json:"deadlines,omitempty"`
	// Escalation is the current stage's escalation level: 0 while on time,
	// 1 once the deadline passes, 2 after another stage duration, …; a
	// transition resets it.
	Escalation int `json:"escalation"`
	// Escalations counts every escalation of the case.
	Escalations int `json:"escalations"`
	// Reworks counts failed verifications.
	Reworks int       `json:"reworks"`
	Closed  time.Time `json:"closed,omitzero"`
	// Log is every transition and escalation, oldest first.
	Log []Entry `json:"log"`
}

// Entry is one line of a case's log.
type Entry struct {
	// Event is the case event it made (case.registered, case.escalated…).
	Event string    `json:"event"`
	From  Status    `json:"from,omitempty"`
	To    Status    `json:"to"`
	By    string    `json:"by"`
	Role  string    `json:"role,omitempty"`
	At    time.Time `json:"at"`
	Note  string    `json:"note,omitempty"`
	// Assignee is set by dispatches and reworks.
	Assignee string `json:"assignee,omitempty"`
	// Level is the escalation level of case.escalated entries.
	Level int `json:"level,omitempty"`
}

// Overdue reports whether the case's current stage is past its deadline.
func (c *Case) Overdue(now time.Time) bool {
	return !c.Status.Terminal() && !c.Deadline.IsZero() && now.After(c.Deadline)
}

// summary is a case without its log, for lists and events.
func (c *Case) summary() *Case {
	s := *c
	s.Log = nil
	s.Deadlines = nil
	return &s
}

// Errors. HTTP maps them: ErrBadInput 400, ErrForbidden 403, ErrNotFound
// 404, ErrTransition 409, ErrOutside 400 (naming the location).
var (
	ErrBadInput   = errors.New("bad input")
	ErrForbidden  = errors.New("forbidden")
	ErrNotFound   = errors.New("not found")
	ErrTransition = errors.New("transition not allowed")
	ErrOutside    = errors.New("location outside every unit grid")
)

// FieldError is bad input in one field.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Msg) }

// Unwrap makes a FieldError an ErrBadInput.
func (e *FieldError) Unwrap() error { return ErrBadInput }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// TransitionError is a transition the workflow does not allow.
type TransitionError struct {
	From, To Status
	Allowed  []Status
}

func (e *TransitionError) Error() string {
	if len(e.Allowed) == 0 {
		return fmt.Sprintf("a %s case is final: no transition to %s", e.From, e.To)
	}
	return fmt.Sprintf("no transition from %s to %s (allowed: %v)", e.From, e.To, e.Allowed)
}

// Unwrap makes a TransitionError an ErrTransition.
func (e *TransitionError) Unwrap() error { return ErrTransition }
