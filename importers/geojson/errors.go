package geojson

import (
	"fmt"

	"citytwin/importers"
)

// posError is an error at an input offset; Import turns it into an
// *importers.Error with line and column.
type posError struct {
	off int64
	err error
}

func (e *posError) Error() string { return fmt.Sprintf("offset %d: %v", e.off, e.err) }

func (e *posError) Unwrap() error { return e.err }

// formatError is input that is not GeoJSON (or not JSON). It matches
// importers.ErrFormat with errors.Is, as well as its cause, if any.
type formatError struct {
	msg   string
	cause error
}

func (e *formatError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *formatError) Unwrap() []error {
	if e.cause != nil {
		return []error{importers.ErrFormat, e.cause}
	}
	return []error{importers.ErrFormat}
}

// badAt returns a format error at offset off.
func badAt(off int64, format string, args ...any) error {
	return &posError{off: off, err: &formatError{msg: fmt.Sprintf(format, args...)}}
}

// badAtCause returns a format error at offset off wrapping cause.
func badAtCause(off int64, cause error, format string, args ...any) error {
	return &posError{off: off, err: &formatError{msg: fmt.Sprintf(format, args...), cause: cause}}
}

// at returns err at offset off.
func at(off int64, err error) error { return &posError{off: off, err: err} }
