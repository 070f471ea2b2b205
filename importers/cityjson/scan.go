package cityjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"citytwin/importers"
)

// pos is a position in the input: absolute byte offset, 1-based line and
// 1-based byte column.
type pos struct {
	off  int64
	line int
	col  int
}

// within returns the position of byte k of raw, a slice of the input that
// starts at p.
func (p pos) within(raw []byte, k int) pos {
	if k > len(raw) {
		k = len(raw)
	}
	if k < 0 {
		k = 0
	}
	q := p
	q.off += int64(k)
	seg := raw[:k]
	if n := countNL(seg); n > 0 {
		q.line += n
		q.col = k - bytes.LastIndexByte(seg, '\n')
	} else {
		q.col += k
	}
	return q
}

// countNL counts the newlines in b.
func countNL(b []byte) int {
	n := 0
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return n
		}
		n++
		b = b[i+1:]
	}
}

// posError is an error at a position; the importer turns it into an
// *importers.Error.
type posError struct {
	at  pos
	err error
}

// Error returns the reason only: importers.Error prints the position.
func (e *posError) Error() string { return e.err.Error() }

func (e *posError) Unwrap() error { return e.err }

// errAt builds a format error at a position.
func errAt(at pos, format string, args ...any) error {
	return &posError{at: at, err: fmt.Errorf("%w: "+format, append([]any{importers.ErrFormat}, args...)...)}
}

// wrapAt attaches a position to err unless it already carries one.
func wrapAt(at pos, err error) error {
	var pe *posError
	if errors.As(err, &pe) {
		return err
	}
	return &posError{at: at, err: err}
}

// jsonErrAt converts an encoding/json error for raw (which starts at p)
// into a positioned error.
func jsonErrAt(raw []byte, p pos, what string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &posError{at: p.within(raw, int(se.Offset)), err: fmt.Errorf("%w: %s: %v", importers.ErrFormat, what, err)}
	case errors.As(err, &te):
		return &posError{at: p.within(raw, int(te.Offset)), err: fmt.Errorf("%w: %s: %v", importers.ErrFormat, what, err)}
	}
	return &posError{at: p, err: fmt.Errorf("%w: %s: %v", importers.ErrFormat, what, err)}
}

// scanner is a small JSON tokenizer over a stream (r != nil) or a byte
// slice (r == nil). It tracks line and column, can skip a value in constant
// memory and can capture a value's bytes. It checks bracket structure but
// leaves full validation of captured values to encoding/json.
type scanner struct {
	r         io.Reader
	buf       []byte
	i, n      int   // unread bytes are buf[i:n]
	base      int64 // absolute offset of buf[0]
	line      int   // line of buf[i]
	lineStart int64 // absolute offset of the first byte of that line
	err       error // sticky read error (io.EOF at the end)

	capturing bool
	capt      []byte // captured bytes (stream mode)
	stack     []byte // bracket stack for scanValue
	scratch   []byte // token bytes spanning buffer refills
}

const scanBufSize = 64 << 10

// newStreamScanner reads r from its current position, taken as offset 0.
func newStreamScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, scanBufSize), line: 1}
}

// newBytesScanner scans b, which starts at position p of the input.
func newBytesScanner(b []byte, p pos) *scanner {
	return &scanner{buf: b, n: len(b), base: p.off, line: p.line, lineStart: p.off - int64(p.col-1)}
}

// pos returns the position of the next unread byte.
func (s *scanner) pos() pos {
	off := s.base + int64(s.i)
	return pos{off: off, line: s.line, col: int(off-s.lineStart) + 1}
}

// offset returns the absolute offset of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.i) }

// fill reads more input; it reports whether new bytes arrived.
func (s *scanner) fill() bool {
	if s.r == nil || s.err != nil {
		return false
	}
	if s.i == s.n {
		s.base += int64(s.n)
		s.i, s.n = 0, 0
	} else if s.i > 0 {
		copy(s.buf, s.buf[s.i:s.n])
		s.base += int64(s.i)
		s.n -= s.i
		s.i = 0
	}
	if s.n == len(s.buf) {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.n])
		s.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		m, err := s.r.Read(s.buf[s.n:])
		s.n += m
		if err != nil {
			s.err = err
			return m > 0
		}
		if m > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// readErr reports why no more input is available, at the current position.
func (s *scanner) readErr(what string) error {
	if s.err != nil && s.err != io.EOF {
		return &posError{at: s.pos(), err: fmt.Errorf("read %s: %w", what, s.err)}
	}
	return errAt(s.pos(), "unexpected end of input in %s", what)
}

// advance consumes buf[s.i:k], counting lines and capturing.
func (s *scanner) advance(k int) {
	seg := s.buf[s.i:k]
	if j := bytes.LastIndexByte(seg, '\n'); j >= 0 {
		s.line += countNL(seg)
		s.lineStart = s.base + int64(s.i+j+1)
	}
	if s.capturing && s.r != nil {
		s.capt = append(s.capt, seg...)
	}
	s.i = k
}

// skipBOM skips a UTF-8 byte order mark at the start of the input.
func (s *scanner) skipBOM() {
	for s.n-s.i < 3 && s.fill() {
	}
	if bytes.HasPrefix(s.buf[s.i:s.n], []byte("\xef\xbb\xbf")) {
		s.advance(s.i + 3)
		s.lineStart = s.base + int64(s.i)
	}
}

// skipWS skips white space and returns the next byte without consuming it;
// ok is false at the end of input.
func (s *scanner) skipWS() (c byte, ok bool) {
	for {
		k := s.i
		for k < s.n {
			switch s.buf[k] {
			case ' ', '\t', '\r', '\n':
				k++
				continue
			}
			break
		}
		if k > s.i {
			s.advance(k)
		}
		if s.i < s.n {
			return s.buf[s.i], true
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// expect consumes byte c after optional white space.
func (s *scanner) expect(c byte, what string) error {
	b, ok := s.skipWS()
	if !ok {
		return s.readErr(what)
	}
	if b != c {
		return errAt(s.pos(), "%s: expected %q, found %s", what, c, quoteByte(b))
	}
	s.advance(s.i + 1)
	return nil
}

func quoteByte(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return strconv.QuoteRune(rune(b))
	}
	return fmt.Sprintf("byte 0x%02x", b)
}

// next consumes one byte after optional white space and returns it.
func (s *scanner) next(what string) (byte, error) {
	b, ok := s.skipWS()
	if !ok {
		return 0, s.readErr(what)
	}
	s.advance(s.i + 1)
	return b, nil
}

// readString reads a JSON string (after optional white space) and returns
// its decoded value.
func (s *scanner) readString(what string) (string, error) {
	b, ok := s.skipWS()
	if !ok {
		return "", s.readErr(what)
	}
	at := s.pos()
	if b != '"' {
		return "", errAt(at, "%s: expected a string, found %s", what, quoteByte(b))
	}
	s.scratch = s.scratch[:0]
	escaped := false
	esc := false
	k := s.i + 1
	start := s.i
	for {
		for k < s.n {
			c := s.buf[k]
			k++
			if esc {
				esc = false
				continue
			}
			switch {
			case c == '\\':
				esc, escaped = true, true
			case c == '"':
				raw := s.buf[start:k]
				if len(s.scratch) > 0 {
					s.scratch = append(s.scratch, raw...)
					raw = s.scratch
				}
				var str string
				if !escaped {
					str = string(raw[1 : len(raw)-1])
				} else if err := json.Unmarshal(raw, &str); err != nil {
					return "", errAt(at, "%s: bad string: %v", what, err)
				}
				s.advance(k)
				return str, nil
			case c < 0x20:
				return "", errAt(at, "%s: control character in string", what)
			}
		}
		s.scratch = append(s.scratch, s.buf[start:k]...)
		s.advance(k)
		if !s.fill() {
			return "", s.readErr(what)
		}
		start, k = s.i, s.i
	}
}

// isScalarByte reports bytes that may appear in a number or literal.
func isScalarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '+' || c == '.'
}

// readScalar reads a number or literal token (after white space) and
// returns its bytes, valid until the next scanner call.
func (s *scanner) readScalar(what string) ([]byte, pos, error) {
	b, ok := s.skipWS()
	at := s.pos()
	if !ok {
		return nil, at, s.readErr(what)
	}
	if !isScalarByte(b) {
		return nil, at, errAt(at, "%s: unexpected %s", what, quoteByte(b))
	}
	s.scratch = s.scratch[:0]
	for {
		k := s.i
		for k < s.n && isScalarByte(s.buf[k]) {
			k++
		}
		if k < s.n {
			if len(s.scratch) == 0 {
				tok := s.buf[s.i:k]
				s.advance(k)
				return tok, at, nil
			}
			s.scratch = append(s.scratch, s.buf[s.i:k]...)
			s.advance(k)
			return s.scratch, at, nil
		}
		s.scratch = append(s.scratch, s.buf[s.i:k]...)
		s.advance(k)
		if len(s.scratch) > 1<<10 {
			return nil, at, errAt(at, "%s: token too long", what)
		}
		if !s.fill() {
			return s.scratch, at, nil
		}
	}
}

// readNumber reads a JSON number.
func (s *scanner) readNumber(what string) (float64, pos, error) {
	tok, at, err := s.readScalar(what)
	if err != nil {
		return 0, at, err
	}
	v, ok := parseNumber(tok)
	if !ok {
		return 0, at, errAt(at, "%s: %q is not a number", what, truncate(string(tok), 40))
	}
	return v, at, nil
}

// parseNumber parses a JSON number, with a fast path for integers.
func parseNumber(tok []byte) (float64, bool) {
	if len(tok) == 0 {
		return 0, false
	}
	neg := tok[0] == '-'
	d := tok
	if neg {
		d = tok[1:]
	}
	if len(d) > 0 && len(d) <= 15 && (d[0] != '0' || len(d) == 1) {
		var v int64
		ok := true
		for _, c := range d {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			v = v*10 + int64(c-'0')
		}
		if ok {
			if neg {
				v = -v
			}
			return float64(v), true
		}
	}
	if !validNumber(tok) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	return v, err == nil
}

// validNumber checks the JSON number grammar (strconv accepts more, e.g.
// "Inf", hex and underscores).
func validNumber(t []byte) bool {
	i := 0
	if i < len(t) && t[i] == '-' {
		i++
	}
	if i >= len(t) {
		return false
	}
	if t[i] == '0' {
		i++
	} else if t[i] >= '1' && t[i] <= '9' {
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(t) && t[i] == '.' {
		i++
		j := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		j := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(t)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// skipValue consumes one JSON value (after white space) in constant memory.
func (s *scanner) skipValue(what string) error {
	_, _, err := s.scanValue(false, what)
	return err
}

// captureValue consumes one JSON value and returns its bytes and start
// position. In stream mode the bytes live in a reused buffer, valid until
// the next capture; in slice mode they alias the input.
func (s *scanner) captureValue(what string) ([]byte, pos, error) {
	return s.scanValue(true, what)
}

func (s *scanner) scanValue(keep bool, what string) ([]byte, pos, error) {
	b, ok := s.skipWS()
	at := s.pos()
	if !ok {
		return nil, at, s.readErr(what)
	}
	start := s.i
	if keep {
		s.capturing = true
		s.capt = s.capt[:0]
		defer func() { s.capturing = false }()
	}
	result := func() []byte {
		if !keep {
			return nil
		}
		if s.r == nil {
			return s.buf[start:s.i]
		}
		return s.capt
	}
	switch {
	case b == '"':
		if _, err := s.readString(what); err != nil {
			return nil, at, err
		}
		return result(), at, nil
	case b == '{' || b == '[':
	default:
		tok, _, err := s.readScalar(what)
		if err != nil {
			return nil, at, err
		}
		if !validScalar(tok) {
			return nil, at, errAt(at, "%s: invalid literal %q", what, truncate(string(tok), 40))
		}
		return result(), at, nil
	}
	stack := s.stack[:0]
	inStr, esc := false, false
	for {
		k := s.i
		for ; k < s.n; k++ {
			c := s.buf[k]
			if inStr {
				if esc {
					esc = false
				} else if c == '\\' {
					esc = true
				} else if c == '"' {
					inStr = false
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '{', '[':
				stack = append(stack, c)
			case '}', ']':
				open := byte('{')
				if c == ']' {
					open = '['
				}
				if len(stack) == 0 || stack[len(stack)-1] != open {
					s.advance(k)
					s.stack = stack
					return nil, at, errAt(s.pos(), "%s: mismatched %q", what, c)
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					s.advance(k + 1)
					s.stack = stack
					return result(), at, nil
				}
			}
		}
		s.advance(k)
		if !s.fill() {
			s.stack = stack
			return nil, at, s.readErr(what)
		}
	}
}

// validScalar accepts JSON numbers and the literals true, false and null.
func validScalar(t []byte) bool {
	switch string(t) {
	case "true", "false", "null":
		return true
	}
	return validNumber(t)
}

// objectMembers iterates the members of a JSON object: fn is called with
// each key after the colon has been consumed and must consume the value.
func (s *scanner) objectMembers(what string, fn func(key string, at pos) error) error {
	if err := s.expect('{', what); err != nil {
		return err
	}
	c, ok := s.skipWS()
	if !ok {
		return s.readErr(what)
	}
	if c == '}' {
		s.advance(s.i + 1)
		return nil
	}
	for {
		at := s.pos()
		key, err := s.readString(what + " member name")
		if err != nil {
			return err
		}
		if err := s.expect(':', what); err != nil {
			return err
		}
		if err := fn(key, at); err != nil {
			return err
		}
		c, err := s.next(what)
		if err != nil {
			return err
		}
		switch c {
		case ',':
			continue
		case '}':
			return nil
		default:
			return errAt(s.pos(), "%s: expected ',' or '}', found %s", what, quoteByte(c))
		}
	}
}

// arrayElements iterates a JSON array: fn must consume each element.
func (s *scanner) arrayElements(what string, fn func(i int) error) error {
	if err := s.expect('[', what); err != nil {
		return err
	}
	c, ok := s.skipWS()
	if !ok {
		return s.readErr(what)
	}
	if c == ']' {
		s.advance(s.i + 1)
		return nil
	}
	for i := 0; ; i++ {
		if err := fn(i); err != nil {
			return err
		}
		c, err := s.next(what)
		if err != nil {
			return err
		}
		switch c {
		case ',':
			continue
		case ']':
			return nil
		default:
			return errAt(s.pos(), "%s: expected ',' or ']', found %s", what, quoteByte(c))
		}
	}
}

// forMembers iterates the members of the object in raw (which starts at p),
// passing each value's bytes.
func forMembers(raw []byte, p pos, what string, fn func(key string, val []byte, at pos) error) error {
	s := newBytesScanner(raw, p)
	err := s.objectMembers(what, func(key string, _ pos) error {
		val, at, err := s.captureValue(what + "." + key)
		if err != nil {
			return err
		}
		return fn(key, val, at)
	})
	if err != nil {
		return err
	}
	if _, ok := s.skipWS(); ok {
		return errAt(s.pos(), "%s: unexpected data after the object", what)
	}
	return nil
}

// forElements iterates the elements of the array in raw.
func forElements(raw []byte, p pos, what string, fn func(i int, val []byte, at pos) error) error {
	s := newBytesScanner(raw, p)
	return s.arrayElements(what, func(i int) error {
		val, at, err := s.captureValue(what)
		if err != nil {
			return err
		}
		return fn(i, val, at)
	})
}

// decode unmarshals raw (starting at p) into v with positioned errors.
func decode(raw []byte, p pos, what string, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return jsonErrAt(raw, p, what, err)
	}
	return nil
}
