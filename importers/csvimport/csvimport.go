package csvimport

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"citytwin/importers"
	"citytwin/spatial"
	"citytwin/spatial/crs"

	"github.com/paulmach/orb"
)

// Config overrides what Import detects. The zero Config detects
// everything.
type Config struct {
	// Comma is the field separator; 0 detects ',', ';' or tab from the
	// header line.
	Comma rune
	// Lon, Lat, WKT and ID name the columns to use (matched
	// case-insensitively, ignoring surrounding space); empty means detect.
	// Setting WKT, or Lon and Lat, chooses the geometry columns.
	Lon, Lat, WKT, ID string
}

// columnNames returns the column names recognised by default for a role
// ("lon", "lat", "wkt" or "id"), in order of preference.
func columnNames(role string) []string {
	switch role {
	case "lon":
		return []string{"lon", "lng", "long", "longitude", "x", "经度"}
	case "lat":
		return []string{"lat", "latitude", "y", "纬度"}
	case "wkt":
		return []string{"wkt", "geometry", "geom"}
	}
	return []string{"id", "fid", "code"}
}

// DefaultLayer is the layer used when Options.Layer is empty.
const DefaultLayer = "csv"

// Stats summarises an import.
type Stats struct {
	// Comma is the field separator used.
	Comma rune
	// Lon, Lat, WKT and ID are the header names of the columns used for
	// the geometry and the id ("" for those not used).
	Lon, Lat, WKT, ID string
	// Rows counts the data rows read, Features the features passed to
	// the sink.
	Rows, Features int64
	// Bytes counts the bytes read (the reader reads ahead of the row
	// being converted).
	Bytes int64
}

// Import reads CSV from r and passes each row, as a prepared feature, to
// sink. See the package documentation for the columns it recognises. The
// Stats count what was read and delivered, also when there is an error.
func Import(r io.Reader, opts importers.Options, sink importers.Sink) (Stats, error) {
	return ImportConfig(r, opts, Config{}, sink)
}

// ImportConfig is Import with explicit choices of separator and columns.
func ImportConfig(r io.Reader, opts importers.Options, cfg Config, sink importers.Sink) (Stats, error) {
	fail := func(format string, args ...any) (Stats, error) {
		return Stats{}, &importers.Error{File: opts.File, Err: fmt.Errorf("csvimport: "+format, args...)}
	}
	switch {
	case r == nil || sink == nil:
		return fail("nil reader or sink")
	case cfg.Comma != 0 && (cfg.Comma == '"' || cfg.Comma == '\r' || cfg.Comma == '\n' || cfg.Comma == utf8.RuneError || !utf8.ValidRune(cfg.Comma)):
		return fail("invalid separator %q", cfg.Comma)
	}
	if opts.Layer == "" {
		opts.Layer = DefaultLayer
	}
	counter := &importers.CountingReader{R: r}
	im := &importer{opts: opts, cfg: cfg, sink: sink, rep: importers.NewReporter(opts, counter)}
	err := im.run(bufio.NewReaderSize(counter, 64<<10))
	im.rep.Done()
	st := Stats{Rows: int64(im.row), Features: im.rep.Features(), Bytes: counter.Count()}
	if im.csv != nil {
		st.Comma = im.csv.Comma
	}
	name := func(i int) string {
		if i < 0 {
			return ""
		}
		return im.header[i]
	}
	if im.header != nil {
		st.Lon, st.Lat, st.WKT, st.ID = name(im.lon), name(im.lat), name(im.wkt), name(im.id)
	}
	return st, err
}

// importer is the state of one Import.
type importer struct {
	opts importers.Options
	cfg  Config
	sink importers.Sink
	rep  *importers.Reporter
	csv  *csv.Reader
	bom  int // length of a byte order mark skipped on line 1

	header   []string          // column names as written (trimmed)
	lower    map[string]string // recognised lower-case name → column name
	lon, lat int               // geometry columns, -1 if none
	wkt      int
	id       int
	skip     []bool // columns that are not properties

	row      int // data rows read
	lastLine int // where the last field of the last record read starts
	wktBuf   []byte
	srid     int
	sridCRS  crs.CRS
}

// errorAt returns an *importers.Error at field i of the current record.
func (im *importer) errorAt(i int, err error) error {
	line, col := im.csv.FieldPos(i)
	if line == 1 {
		col += im.bom
	}
	return &importers.Error{File: im.opts.File, Line: line, Column: col, Feature: im.row, Err: err}
}

// columnError returns a format error about field i of the current record.
func (im *importer) columnError(i int, cause error) error {
	return im.errorAt(i, &formatError{msg: fmt.Sprintf("column %q", im.header[i]), cause: cause})
}

// run reads the header and the rows.
func (im *importer) run(br *bufio.Reader) error {
	head := peekLine(br)
	if bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")) {
		im.bom = 3
		head = head[3:]
		if _, err := br.Discard(3); err != nil {
			return &importers.Error{File: im.opts.File, Line: 1, Column: 1, Err: fmt.Errorf("read: %w", err)}
		}
	}
	im.csv = csv.NewReader(br)
	im.csv.ReuseRecord = true
	im.csv.Comma = im.cfg.Comma
	if im.csv.Comma == 0 {
		im.csv.Comma = detectComma(head)
	}
	rec, err := im.csv.Read()
	if err == io.EOF {
		return &importers.Error{File: im.opts.File, Line: 1, Column: 1 + im.bom, Err: &formatError{msg: "empty input: no header line"}}
	}
	if err != nil {
		return im.readError(err)
	}
	if err := im.columns(rec); err != nil {
		return err
	}
	im.lastLine, _ = im.csv.FieldPos(len(rec) - 1)
	for {
		rec, err := im.csv.Read()
		if err == io.EOF {
			return nil
		}
		im.row++
		if err != nil {
			return im.readError(err)
		}
		im.lastLine, _ = im.csv.FieldPos(len(rec) - 1)
		f, err := im.feature(rec)
		if err != nil {
			return err
		}
		if err := im.sink(f); err != nil {
			return im.errorAt(0, err)
		}
		im.rep.Feature()
	}
}

// readError converts an error from csv.Reader.
func (im *importer) readError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		col := pe.Column
		if pe.Line == 1 {
			col += im.bom
		}
		cause := pe.Err
		if errors.Is(cause, csv.ErrFieldCount) {
			cause = fmt.Errorf("%w: the header has %d", cause, len(im.header))
		}
		return &importers.Error{File: im.opts.File, Line: pe.Line, Column: col, Feature: im.row, Err: &formatError{msg: "csv", cause: cause}}
	}
	// A reader error: report it on the line after the last record read
	// (FieldPos would panic if the failed record has no fields).
	return &importers.Error{File: im.opts.File, Line: im.lastLine + 1, Column: 1, Feature: im.row, Err: fmt.Errorf("read: %w", err)}
}

// peekLine returns the buffered start of the input up to the end of its
// first non-empty line (at most the reader's buffer size), without
// consuming it.
func peekLine(br *bufio.Reader) []byte {
	for n := 512; ; n *= 2 {
		n = min(n, br.Size())
		b, err := br.Peek(n)
		if bytes.IndexByte(bytes.TrimLeft(b, "\r\n"), '\n') >= 0 || err != nil || n == br.Size() {
			return b
		}
	}
}

// detectComma picks the separator that occurs most often, outside
// quotes, in the first non-empty line: ',', ';' or tab (',' when none
// does).
func detectComma(head []byte) rune {
	var n [3]int
	quoted := false
	for _, c := range bytes.TrimLeft(head, "\r\n") {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			return pick(n)
		case c == ',':
			n[0]++
		case c == ';':
			n[1]++
		case c == '\t':
			n[2]++
		}
	}
	return pick(n)
}

// pick returns the separator with the highest count, preferring ',' then
// ';' on ties.
func pick(n [3]int) rune {
	seps := [3]rune{',', ';', '\t'}
	best := 0
	for i := 1; i < 3; i++ {
		if n[i] > n[best] {
			best = i
		}
	}
	return seps[best]
}

// columns reads the header and chooses the geometry, id and property
// columns.
func (im *importer) columns(rec []string) error {
	im.header = make([]string, len(rec))
	im.skip = make([]bool, len(rec))
	im.lower = map[string]string{}
	index := map[string]int{} // lower-case name → column
	for i, name := range rec {
		name = strings.Clone(strings.TrimSpace(name))
		im.header[i] = name
		if name == "" {
			im.skip[i] = true // unnamed, e.g. after a trailing separator
			continue
		}
		if _, dup := index[strings.ToLower(name)]; dup {
			return im.columnError(i, errors.New("duplicate column name"))
		}
		index[strings.ToLower(name)] = i
	}
	find := func(option string, names []string) (int, error) {
		if option != "" {
			if i, ok := index[strings.ToLower(strings.TrimSpace(option))]; ok {
				return i, nil
			}
			return -1, &importers.Error{File: im.opts.File, Line: 1, Column: 1 + im.bom, Err: &formatError{msg: fmt.Sprintf("no column %q in the header %q", option, im.header)}}
		}
		for _, n := range names {
			if i, ok := index[n]; ok {
				return i, nil
			}
		}
		return -1, nil
	}
	var err error
	im.lon, im.lat, im.wkt = -1, -1, -1
	if im.wkt, err = find(im.cfg.WKT, columnNames("wkt")); err != nil {
		return err
	}
	if im.cfg.WKT == "" && (im.cfg.Lon != "" || im.cfg.Lat != "" || im.wkt < 0) {
		im.wkt = -1
		if im.lon, err = find(im.cfg.Lon, columnNames("lon")); err != nil {
			return err
		}
		if im.lat, err = find(im.cfg.Lat, columnNames("lat")); err != nil {
			return err
		}
	}
	if im.id, err = find(im.cfg.ID, columnNames("id")); err != nil {
		return err
	}
	switch {
	case im.wkt >= 0:
		im.skip[im.wkt] = true
	case im.lon >= 0 && im.lat >= 0:
		im.skip[im.lon], im.skip[im.lat] = true, true
	default:
		return &importers.Error{File: im.opts.File, Line: 1, Column: 1 + im.bom, Err: &formatError{msg: fmt.Sprintf(
			"no geometry columns in the header %q: want longitude and latitude (%s / %s) or WKT (%s)",
			im.header, strings.Join(columnNames("lon"), ", "), strings.Join(columnNames("lat"), ", "), strings.Join(columnNames("wkt"), ", "))}}
	}
	if im.id >= 0 {
		im.skip[im.id] = true
	}
	for i, name := range im.header {
		if !im.skip[i] {
			im.lower[strings.ToLower(name)] = name
		}
	}
	return nil
}

// feature converts one record.
func (im *importer) feature(rec []string) (*spatial.Feature, error) {
	f := &spatial.Feature{Layer: im.opts.Layer}
	geomCol := im.wkt
	c := im.opts.CRS
	if im.wkt >= 0 {
		g, srid, buf, err := parseWKT(rec[im.wkt], im.wktBuf)
		im.wktBuf = buf
		if err != nil {
			return nil, im.columnError(im.wkt, err)
		}
		if c == nil && srid != 0 {
			if c, err = im.sridLookup(srid); err != nil {
				return nil, im.columnError(im.wkt, err)
			}
		}
		if c != nil {
			if g, err = importers.ToWGS84(g, c); err != nil {
				return nil, im.errorAt(im.wkt, fmt.Errorf("column %q: %w", im.header[im.wkt], err))
			}
		}
		f.Geometry = g
	} else {
		geomCol = im.lon
		x, err := coordinate(rec[im.lon])
		if err != nil {
			return nil, im.columnError(im.lon, err)
		}
		y, err := coordinate(rec[im.lat])
		if err != nil {
			return nil, im.columnError(im.lat, err)
		}
		p := orb.Point{x, y}
		var g orb.Geometry = p
		if c != nil {
			if g, err = importers.ToWGS84(p, c); err != nil {
				return nil, im.errorAt(im.lon, fmt.Errorf("columns %q, %q: %w", im.header[im.lon], im.header[im.lat], err))
			}
		}
		f.Geometry = g
	}
	if im.id >= 0 {
		f.ID = strings.Clone(strings.TrimSpace(rec[im.id]))
	}
	if f.ID == "" {
		f.ID = strconv.Itoa(im.row)
	}
	for i, v := range rec {
		if im.skip[i] {
			continue
		}
		val := infer(v)
		if val == nil {
			continue
		}
		if s, ok := val.(string); ok {
			val = strings.Clone(s) // do not keep the whole row alive
		}
		if f.Properties == nil {
			f.Properties = make(map[string]any, len(rec))
		}
		f.Properties[im.header[i]] = val
	}
	rules := importers.PropertyRules{Names: im.lower, TrimTimes: true, PlainKindErrors: true}
	if key, err := importers.ApplyTypedProperties(f, rules); err != nil {
		i := im.columnIndex(key)
		return nil, im.errorAt(i, fmt.Errorf("column %q: %w", key, err))
	}
	if err := f.Prepare(); err != nil {
		if gerr := spatial.CheckGeometry(f.Geometry); gerr != nil {
			if c == nil && outsideLonLat(f.Geometry) {
				err = fmt.Errorf("%w (projected coordinates? set Options.CRS)", err)
			}
			return nil, im.errorAt(geomCol, err)
		}
		return nil, im.errorAt(0, err)
	}
	return f, nil
}

// columnIndex returns the index of the named column.
func (im *importer) columnIndex(name string) int {
	for i, h := range im.header {
		if h == name {
			return i
		}
	}
	return 0
}

// sridLookup returns the CRS of an EWKT SRID, remembering the last one.
func (im *importer) sridLookup(srid int) (crs.CRS, error) {
	if srid == im.srid && im.sridCRS != nil {
		return im.sridCRS, nil
	}
	c, err := crs.Lookup("EPSG:" + strconv.Itoa(srid))
	if err != nil {
		return nil, err
	}
	im.srid, im.sridCRS = srid, c
	return c, nil
}

// outsideLonLat reports whether g has coordinates outside longitude and
// latitude range, a hint that they are projected.
func outsideLonLat(g orb.Geometry) bool {
	b := g.Bound()
	return b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90
}

// formatError is input that is not the CSV the importer expects. It
// matches importers.ErrFormat with errors.Is, as well as its cause.
type formatError struct {
	msg   string
	cause error
}

// Error implements error.
func (e *formatError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

// Unwrap returns importers.ErrFormat and the cause.
func (e *formatError) Unwrap() []error {
	if e.cause != nil {
		return []error{importers.ErrFormat, e.cause}
	}
	return []error{importers.ErrFormat}
}
