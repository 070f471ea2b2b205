package gridmgmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
)

// Field limits.
const (
	maxTitle       = 200  // runes
	maxDescription = 4000 // runes
	maxName        = 100  // runes: reporter, assignee
	maxNote        = 2000 // runes
)

// NewCase is the body of POST /api/v1/cases.
type NewCase struct {
	Kind        Kind     `json:"kind"`
	Category    string   `json:"category"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Lon         *float64 `json:"lon"`
	Lat         *float64 `json:"lat"`
	Reporter    string   `json:"reporter,omitempty"`
}

// ParseNewCase reads and checks a new case: kind event or component, a
// category code of that kind, a title, lon and lat in range. Unknown
// fields are rejected. Errors are FieldErrors naming the field (or
// ErrBadInput for JSON that does not parse).
func ParseNewCase(b []byte) (NewCase, error) {
	var n NewCase
	if err := decodeStrict(b, &n); err != nil {
		return NewCase{}, err
	}
	return n, n.Check()
}

// Check validates a new case (see ParseNewCase).
func (n *NewCase) Check() error {
	n.Title = strings.TrimSpace(n.Title)
	n.Reporter = strings.TrimSpace(n.Reporter)
	switch n.Kind {
	case Event, Component:
	case "":
		return fieldErr("kind", "missing: want event or component")
	default:
		return fieldErr("kind", "%q: want event or component", n.Kind)
	}
	if _, ok := LookupCategory(n.Kind, n.Category); !ok {
		return fieldErr("category", "%q is not a %s category; want one of %s", n.Category, n.Kind, strings.Join(categoryCodes(n.Kind), ", "))
	}
	if err := checkText("title", n.Title, maxTitle, true); err != nil {
		return err
	}
	if err := checkText("description", n.Description, maxDescription, false); err != nil {
		return err
	}
	if err := checkText("reporter", n.Reporter, maxName, false); err != nil {
		return err
	}
	if n.Lon == nil {
		return fieldErr("lon", "missing")
	}
	if n.Lat == nil {
		return fieldErr("lat", "missing")
	}
	if v := *n.Lon; math.IsNaN(v) || v < -180 || v > 180 {
		return fieldErr("lon", "%v outside [-180, 180]", v)
	}
	if v := *n.Lat; math.IsNaN(v) || v < -90 || v > 90 {
		return fieldErr("lat", "%v outside [-90, 90]", v)
	}
	return nil
}

// TransitionRequest is the body of POST /api/v1/cases/{id}/transitions.
type TransitionRequest struct {
	// To is the status to move to.
	To Status `json:"to"`
	// Assignee is who handles the case: required to dispatch, optional on
	// a rework (the previous assignee keeps it).
	Assignee string `json:"assignee,omitempty"`
	// Note is required to reject, to report handling done (the result)
	// and to rework (why verification failed).
	Note string `json:"note,omitempty"`
	// OK, with To "verified", false, fails the verification: the same as
	// To "dispatched" from handled (a rework).
	OK *bool `json:"ok,omitempty"`
}

// ParseTransition reads a transition request; unknown fields are rejected.
func ParseTransition(b []byte) (TransitionRequest, error) {
	var t TransitionRequest
	if err := decodeStrict(b, &t); err != nil {
		return TransitionRequest{}, err
	}
	t.Assignee = strings.TrimSpace(t.Assignee)
	t.Note = strings.TrimSpace(t.Note)
	if t.To == "" {
		return TransitionRequest{}, fieldErr("to", "missing: want one of %v", Statuses)
	}
	if !t.To.valid() {
		return TransitionRequest{}, fieldErr("to", "%q: want one of %v", t.To, Statuses)
	}
	if err := checkText("assignee", t.Assignee, maxName, false); err != nil {
		return TransitionRequest{}, err
	}
	if err := checkText("note", t.Note, maxNote, false); err != nil {
		return TransitionRequest{}, err
	}
	return t, nil
}

// decodeStrict decodes exactly one JSON object, rejecting unknown fields.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fieldErr(strings.Trim(f, `"`), "unknown field")
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fieldErr(te.Field, "want a JSON %s", te.Type)
		}
		return fmt.Errorf("%w: body is not a JSON object: %v", ErrBadInput, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: body holds more than one JSON value", ErrBadInput)
	}
	return nil
}

func checkText(field, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return fieldErr(field, "missing")
	case !utf8.ValidString(s):
		return fieldErr(field, "not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		return fieldErr(field, "longer than %d characters", max)
	}
	return nil
}
