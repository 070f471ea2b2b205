// Package importers holds what every file-format importer shares: the
// options, the sink that receives features, progress reports and positioned
// errors. Each format lives in its own sub-package (geojson, csvimport,
// cityjson, osm), streams its input in constant memory (apart from what the
// format itself forces, such as OSM node coordinates), reports progress, and
// fails with the file, line or feature number and the reason.
package importers

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"citytwin/spatial"
	"citytwin/spatial/crs"
)

// Sink receives each imported feature. Returning an error stops the import
// with that error.
type Sink func(f *spatial.Feature) error

// Progress is a snapshot of an import's progress.
type Progress struct {
	File     string
	Bytes    int64 // bytes read so far
	Total    int64 // total bytes, or 0 when unknown
	Features int64 // features emitted so far
}

// Options control an import.
type Options struct {
	// File is the name used in errors and progress reports.
	File string
	// Layer is the layer features go to (formats with their own layer
	// notion, such as OSM, use it as a prefix or default).
	Layer string
	// CRS is the coordinate system of the input; nil means the format's
	// own declaration, else EPSG:4326.
	CRS crs.CRS
	// Total is the input size in bytes when known, for progress.
	Total int64
	// Progress, when set, is called from the importing goroutine at most
	// every few thousand features and at the end.
	Progress func(Progress)
}

// Error is an import error at a position in the input.
type Error struct {
	File    string
	Line    int // 1-based line, 0 when unknown
	Column  int // 1-based column, 0 when unknown
	Feature int // 1-based feature number, 0 when unknown
	Err     error
}

// Error formats as "FILE:LINE:COL: feature N: reason".
func (e *Error) Error() string {
	s := e.File
	if s == "" {
		s = "input"
	}
	if e.Line > 0 {
		s += fmt.Sprintf(":%d", e.Line)
		if e.Column > 0 {
			s += fmt.Sprintf(":%d", e.Column)
		}
	}
	if e.Feature > 0 {
		s += fmt.Sprintf(": feature %d", e.Feature)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrFormat marks input that does not follow its format.
var ErrFormat = errors.New("format error")

// CountingReader counts the bytes read through it, for progress and for
// positions. It is safe to read Count from another goroutine.
type CountingReader struct {
	R io.Reader
	n atomic.Int64
}

// Read implements io.Reader.
func (c *CountingReader) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Count returns the bytes read so far.
func (c *CountingReader) Count() int64 { return c.n.Load() }

// Reporter throttles progress callbacks.
type Reporter struct {
	opts     Options
	counter  *CountingReader
	features int64
}

// NewReporter returns a reporter for an import reading through counter.
func NewReporter(opts Options, counter *CountingReader) *Reporter {
	return &Reporter{opts: opts, counter: counter}
}

// Feature counts one emitted feature and reports every 4096.
func (r *Reporter) Feature() {
	r.features++
	if r.features%4096 == 0 {
		r.report()
	}
}

// Done sends the final report.
func (r *Reporter) Done() { r.report() }

// Features returns the number of features counted.
func (r *Reporter) Features() int64 { return r.features }

func (r *Reporter) report() {
	if r.opts.Progress == nil {
		return
	}
	var n int64
	if r.counter != nil {
		n = r.counter.Count()
	}
	r.opts.Progress(Progress{File: r.opts.File, Bytes: n, Total: r.opts.Total, Features: r.features})
}
