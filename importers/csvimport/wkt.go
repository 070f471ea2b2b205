package csvimport

import (
	"fmt"
	"strconv"
	"strings"

	"citytwin/importers"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

// parseWKT parses WKT or EWKT ("SRID=4550;POINT(…)") with
// github.com/paulmach/orb/encoding/wkt. That parser (v0.14) accepts only a
// narrow form: it rejects Z and M coordinates ("POINT Z (1 2 3)"), more
// than one space or a tab between numbers, MULTIPOINT members without
// parentheses ("MULTIPOINT (1 2, 3 4)") and "POINT EMPTY", and its errors
// do not say where. So the text is first checked and rewritten by a small
// WKT reader into the form orb accepts: upper-case type names, two numbers
// a position (Z and M dropped), parenthesised MULTIPOINT members, no
// spaces. Errors name the character at fault. srid is 0 without an SRID
// prefix. buf is scratch space, returned for reuse.
func parseWKT(s string, buf []byte) (g orb.Geometry, srid int, _ []byte, err error) {
	l := wktLexer{s: s, out: buf[:0]}
	if srid, err = l.srid(); err != nil {
		return nil, 0, l.out, err
	}
	if err := l.geometry(0); err != nil {
		return nil, 0, l.out, err
	}
	if l.skipSpace(); l.i < len(l.s) {
		return nil, 0, l.out, l.errorf("unexpected %s after the geometry", l.next())
	}
	g, err = wkt.Unmarshal(string(l.out))
	if err != nil {
		return nil, 0, l.out, fmt.Errorf("WKT %q: %w", l.out, err)
	}
	return g, srid, l.out, nil
}

// wktLexer reads WKT and writes the canonical form to out.
type wktLexer struct {
	s   string
	i   int
	out []byte
}

// maxWKTDepth bounds the nesting of GEOMETRYCOLLECTIONs.
const maxWKTDepth = 32

func (l *wktLexer) skipSpace() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t' || l.s[l.i] == '\n' || l.s[l.i] == '\r') {
		l.i++
	}
}

// errorf reports an error at the current character.
func (l *wktLexer) errorf(format string, args ...any) error {
	return fmt.Errorf("WKT character %d: %s", l.i+1, fmt.Sprintf(format, args...))
}

// next describes the next token for error messages.
func (l *wktLexer) next() string {
	l.skipSpace()
	if l.i >= len(l.s) {
		return "end of text"
	}
	j := l.i + 1
	for j < len(l.s) && j < l.i+12 && isWordByte(l.s[j]) && isWordByte(l.s[l.i]) {
		j++
	}
	return strconv.Quote(l.s[l.i:j])
}

func isWordByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
}

// word reads a type name or keyword, upper-cased ("" if none).
func (l *wktLexer) word() string {
	l.skipSpace()
	j := l.i
	for j < len(l.s) && isWordByte(l.s[j]) {
		j++
	}
	w := strings.ToUpper(l.s[l.i:j])
	l.i = j
	return w
}

// srid reads an EWKT "SRID=n;" prefix.
func (l *wktLexer) srid() (int, error) {
	l.skipSpace()
	if len(l.s)-l.i < 5 || !strings.EqualFold(l.s[l.i:l.i+5], "SRID=") {
		return 0, nil
	}
	l.i += 5
	j := strings.IndexByte(l.s[l.i:], ';')
	if j < 0 {
		return 0, l.errorf(`EWKT "SRID=" without ";"`)
	}
	n, err := strconv.Atoi(strings.TrimSpace(l.s[l.i : l.i+j]))
	if err != nil || n <= 0 {
		return 0, l.errorf("bad SRID %q", l.s[l.i:l.i+j])
	}
	l.i += j + 1
	return n, nil
}

// expect consumes the byte c.
func (l *wktLexer) expect(c byte) error {
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == c {
		l.i++
		l.out = append(l.out, c)
		return nil
	}
	return l.errorf("want %q, got %s", c, l.next())
}

// peek returns the next non-space byte, or 0.
func (l *wktLexer) peek() byte {
	l.skipSpace()
	if l.i < len(l.s) {
		return l.s[l.i]
	}
	return 0
}

// list reads "(" item { "," item } ")".
func (l *wktLexer) list(item func() error) error {
	if err := l.expect('('); err != nil {
		return err
	}
	for {
		if err := item(); err != nil {
			return err
		}
		if l.peek() != ',' {
			return l.expect(')')
		}
		l.i++
		l.out = append(l.out, ',')
	}
}

// number reads one decimal number.
func (l *wktLexer) number() (string, error) {
	l.skipSpace()
	j := l.i
	for j < len(l.s) && (l.s[j] >= '0' && l.s[j] <= '9' || l.s[j] == '-' || l.s[j] == '+' || l.s[j] == '.' || l.s[j] == 'e' || l.s[j] == 'E') {
		j++
	}
	if j == l.i || !importers.IsDecimal(l.s[l.i:j]) {
		return "", l.errorf("want a number, got %s", l.next())
	}
	n := l.s[l.i:j]
	l.i = j
	return n, nil
}

// position reads 2 to 4 numbers and writes the first two.
func (l *wktLexer) position() error {
	x, err := l.number()
	if err != nil {
		return err
	}
	y, err := l.number()
	if err != nil {
		return err
	}
	l.out = append(append(append(l.out, x...), ' '), y...)
	for k := 0; k < 2; k++ {
		if c := l.peek(); !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.') {
			return nil
		}
		if _, err := l.number(); err != nil {
			return err
		}
	}
	return nil
}

// positions reads a parenthesised list of positions.
func (l *wktLexer) positions() error { return l.list(l.position) }

// geometry reads one tagged geometry.
func (l *wktLexer) geometry(depth int) error {
	start := l.i
	typ := l.word()
	base := typ
	for _, suffix := range []string{"ZM", "Z", "M"} {
		if t, ok := strings.CutSuffix(typ, suffix); ok && isWKTType(t) {
			base = t
			break
		}
	}
	if !isWKTType(base) {
		l.i = start
		return l.errorf("want a geometry type (POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION), got %s", l.next())
	}
	if base == typ {
		// A separate dimension keyword: POINT Z (…), POINT ZM (…).
		save := l.i
		switch l.word() {
		case "Z", "M", "ZM":
		default:
			l.i = save
		}
	}
	l.skipSpace()
	save := l.i
	if l.word() == "EMPTY" {
		l.i = save
		return l.errorf("%s EMPTY: features need a geometry", base)
	}
	l.i = save
	l.out = append(l.out, base...)
	switch base {
	case "POINT":
		if err := l.expect('('); err != nil {
			return err
		}
		if err := l.position(); err != nil {
			return err
		}
		return l.expect(')')
	case "LINESTRING":
		return l.positions()
	case "MULTIPOINT":
		return l.list(func() error {
			if l.peek() == '(' {
				if err := l.expect('('); err != nil {
					return err
				}
				if err := l.position(); err != nil {
					return err
				}
				return l.expect(')')
			}
			l.out = append(l.out, '(')
			if err := l.position(); err != nil {
				return err
			}
			l.out = append(l.out, ')')
			return nil
		})
	case "POLYGON", "MULTILINESTRING":
		return l.list(l.positions)
	case "MULTIPOLYGON":
		return l.list(func() error { return l.list(l.positions) })
	default: // GEOMETRYCOLLECTION
		if depth >= maxWKTDepth {
			return l.errorf("GEOMETRYCOLLECTIONs nested more than %d deep", maxWKTDepth)
		}
		return l.list(func() error { return l.geometry(depth + 1) })
	}
}

// isWKTType reports whether t is a supported WKT type name.
func isWKTType(t string) bool {
	switch t {
	case "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION":
		return true
	}
	return false
}
