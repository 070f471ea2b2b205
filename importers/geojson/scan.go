package geojson

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// cursor walks one JSON value that encoding/json has already checked for
// syntax, recording absolute input offsets for error messages. It is
// defensive all the same: malformed input yields an error, never a panic.
type cursor struct {
	b    []byte
	i    int
	base int64 // input offset of b[0]
}

// off returns the input offset of the cursor.
func (c *cursor) off() int64 { return c.base + int64(c.i) }

// offAt returns the input offset of b[i].
func (c *cursor) offAt(i int) int64 { return c.base + int64(i) }

// peek skips white space and returns the next byte, or 0 at the end.
func (c *cursor) peek() byte {
	for c.i < len(c.b) && isSpace(c.b[c.i]) {
		c.i++
	}
	if c.i < len(c.b) {
		return c.b[c.i]
	}
	return 0
}

// eat consumes ch if it is the next non-space byte.
func (c *cursor) eat(ch byte) bool {
	if c.peek() == ch {
		c.i++
		return true
	}
	return false
}

// malformed is the error for input the cursor cannot follow; with checked
// input it does not happen.
func (c *cursor) malformed() error { return badAt(c.off(), "malformed JSON") }

// str consumes a string and returns its content between the quotes, still
// escaped if esc.
func (c *cursor) str() (content []byte, esc bool, ok bool) {
	if c.peek() != '"' {
		return nil, false, false
	}
	start := c.i + 1
	j := bytes.IndexByte(c.b[start:], '"')
	if j < 0 {
		return nil, false, false
	}
	if bytes.IndexByte(c.b[start:start+j], '\\') < 0 {
		c.i = start + j + 1
		return c.b[start : start+j], false, true
	}
	for k := start; k < len(c.b); k++ {
		switch c.b[k] {
		case '\\':
			k++
		case '"':
			c.i = k + 1
			return c.b[start:k], true, true
		}
	}
	return nil, false, false
}

// unquote returns the string value of string content returned by str.
func unquote(content []byte, esc bool) (string, error) {
	if !esc && utf8.Valid(content) {
		return string(content), nil
	}
	q := make([]byte, 0, len(content)+2)
	q = append(append(append(q, '"'), content...), '"')
	var s string
	err := json.Unmarshal(q, &s)
	return s, err
}

// isDelim reports whether c ends a literal.
func isDelim(c byte) bool { return delims[c] }

// delims marks the bytes that end a literal.
var delims = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, ',': true, ']': true, '}': true, ':': true}

// literal consumes a number, true, false or null and returns its text.
func (c *cursor) literal() []byte {
	c.peek()
	start := c.i
	for c.i < len(c.b) && !isDelim(c.b[c.i]) && c.b[c.i] != '"' && c.b[c.i] != '{' && c.b[c.i] != '[' {
		c.i++
	}
	return c.b[start:c.i]
}

// skip consumes one value of any kind.
func (c *cursor) skip() bool {
	switch c.peek() {
	case 0:
		return false
	case '"':
		_, _, ok := c.str()
		return ok
	case '{', '[':
		depth := 0
		for c.i < len(c.b) {
			switch c.b[c.i] {
			case '"':
				if _, _, ok := c.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					c.i++
					return true
				}
			}
			c.i++
		}
		return false
	default:
		return len(c.literal()) > 0
	}
}

// object consumes an object, calling fn for each member with the cursor at
// the member's value; fn must consume the value.
func (c *cursor) object(fn func(key []byte, esc bool) error) error {
	if !c.eat('{') {
		return c.malformed()
	}
	if c.eat('}') {
		return nil
	}
	for {
		key, esc, ok := c.str()
		if !ok || !c.eat(':') {
			return c.malformed()
		}
		c.peek()
		if err := fn(key, esc); err != nil {
			return err
		}
		if c.eat(',') {
			continue
		}
		if c.eat('}') {
			return nil
		}
		return c.malformed()
	}
}

// array consumes an array, calling fn with the cursor at each element; fn
// must consume the element.
func (c *cursor) array(fn func() error) error {
	if !c.eat('[') {
		return c.malformed()
	}
	if c.eat(']') {
		return nil
	}
	for {
		c.peek()
		if err := fn(); err != nil {
			return err
		}
		if c.eat(',') {
			continue
		}
		if c.eat(']') {
			return nil
		}
		return c.malformed()
	}
}

// isNumberStart reports whether c can start a JSON number.
func isNumberStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }

// float consumes a number. ok is false, with the cursor unmoved, when the
// next value is not a number.
func (c *cursor) float() (v float64, ok bool, err error) {
	if !isNumberStart(c.peek()) {
		return 0, false, nil
	}
	if v, ok := c.fastFloat(); ok {
		return v, true, nil
	}
	start := c.i
	lit := c.literal()
	v, err = strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return 0, true, badAt(c.offAt(start), "number %s is out of range", truncate(lit))
	}
	return v, true, nil
}

// pow10 are the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat reads the usual coordinate, a number without exponent whose
// digits fit in 53 bits and which has at most 22 decimals, as one exact
// division: the correctly rounded result, as strconv.ParseFloat gives
// (Clinger's fast path). Otherwise it leaves the cursor and reports false.
func (c *cursor) fastFloat() (float64, bool) {
	b, i := c.b, c.i
	neg := b[i] == '-'
	if neg {
		i++
	}
	var m uint64
	digits, decimals := 0, 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		m = m*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			m = m*10 + uint64(b[i]-'0')
			digits++
			decimals++
		}
	}
	if digits == 0 || digits > 19 || m >= 1<<53 || decimals >= len(pow10) || (i < len(b) && !isDelim(b[i])) {
		return 0, false
	}
	v := float64(m) / pow10[decimals]
	if neg {
		v = -v
	}
	c.i = i
	return v, true
}

// truncate shortens b for an error message.
func truncate(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// value consumes any value and returns it as a Go value: string, int64
// (integers that fit), float64 (other numbers), bool, nil,
// map[string]any or []any.
func (c *cursor) value() (any, error) {
	switch ch := c.peek(); ch {
	case '"':
		start := c.off()
		s, esc, ok := c.str()
		if !ok {
			return nil, c.malformed()
		}
		v, err := unquote(s, esc)
		if err != nil {
			return nil, badAtCause(start, err, "bad string")
		}
		return v, nil
	case '{':
		m := map[string]any{}
		err := c.object(func(key []byte, esc bool) error {
			k, err := unquote(key, esc)
			if err != nil {
				return badAtCause(c.off(), err, "bad member name")
			}
			v, err := c.value()
			m[k] = v
			return err
		})
		return m, err
	case '[':
		a := []any{}
		err := c.array(func() error {
			v, err := c.value()
			a = append(a, v)
			return err
		})
		return a, err
	case 't', 'f', 'n':
		start := c.i
		switch string(c.literal()) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		c.i = start
		return nil, c.malformed()
	default:
		if !isNumberStart(ch) {
			return nil, c.malformed()
		}
		start := c.i
		lit := c.literal()
		if !bytes.ContainsAny(lit, ".eE") {
			if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
				return n, nil
			}
		}
		v, err := strconv.ParseFloat(string(lit), 64)
		if err != nil {
			return nil, badAt(c.offAt(start), "number %s is out of range", truncate(lit))
		}
		return v, nil
	}
}
