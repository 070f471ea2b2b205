package geojson

import (
	"bytes"
	"io"
	"sort"
)

// lineReader passes bytes through to the JSON decoder and remembers where
// the newlines are, so that an input offset can later be turned into a line
// and column. It keeps only the newlines at or after the offset passed to
// forget, which the importer advances after every feature: its memory is
// proportional to the newlines in the decoder's look-ahead, not to the
// input size.
//
// It also normalises two things the JSON decoder would reject, without
// moving any byte: a leading UTF-8 byte order mark becomes three spaces,
// and, when the first non-space byte is RS (0x1E, RFC 8142 GeoJSON text
// sequences), every RS becomes a space.
type lineReader struct {
	r io.Reader
	n int64 // bytes read so far

	base      int64   // offsets below base are forgotten
	baseLine  int     // newlines before base
	baseStart int64   // offset of the first byte of base's line
	nl        []int64 // offsets of the newlines at or after base, ascending

	firstByte int64 // offset of the first non-space byte
	first     bool  // the first Read has happened
	started   bool  // the first non-space byte has been seen
	rs        bool  // RFC 8142 mode
}

// newLineReader returns a lineReader reading from r.
func newLineReader(r io.Reader) *lineReader { return &lineReader{r: r} }

// utf8BOM is the UTF-8 encoding of U+FEFF.
const utf8BOM = "\xEF\xBB\xBF"

// recordSeparator starts each text of an RFC 8142 sequence.
const recordSeparator = 0x1E

// Read implements io.Reader.
func (l *lineReader) Read(p []byte) (int, error) {
	var n int
	var err error
	if !l.first && len(p) >= len(utf8BOM) {
		// Read enough to recognise a byte order mark in one piece.
		l.first = true
		n, err = io.ReadAtLeast(l.r, p, len(utf8BOM))
		if err == io.ErrUnexpectedEOF {
			err = nil
			if n == 0 {
				err = io.EOF
			}
		}
		if n >= len(utf8BOM) && string(p[:len(utf8BOM)]) == utf8BOM {
			copy(p, "   ")
		}
	} else {
		l.first = true
		n, err = l.r.Read(p)
	}
	b := p[:n]
	if !l.started {
		for i, c := range b {
			if isSpace(c) {
				continue
			}
			l.started = true
			l.firstByte = l.n + int64(i)
			l.rs = c == recordSeparator
			break
		}
	}
	if l.rs {
		for i := bytes.IndexByte(b, recordSeparator); i >= 0; i = bytes.IndexByte(b, recordSeparator) {
			b[i] = ' '
			b = b[i+1:]
		}
		b = p[:n]
	}
	for i, off := 0, l.n; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		l.nl = append(l.nl, off+int64(i+j))
		i += j + 1
	}
	l.n += int64(n)
	return n, err
}

// Offset returns the number of bytes read so far.
func (l *lineReader) Offset() int64 { return l.n }

// forget drops the newlines before off; positions before off can no
// longer be computed exactly (they are reported at off).
func (l *lineReader) forget(off int64) {
	if off <= l.base {
		return
	}
	off = min(off, l.n)
	k := l.count(off)
	if k > 0 {
		l.baseStart = l.nl[k-1] + 1
		l.baseLine += k
		l.nl = append(l.nl[:0], l.nl[k:]...)
	}
	l.base = off
}

// count returns how many remembered newlines lie before off.
func (l *lineReader) count(off int64) int {
	return sort.Search(len(l.nl), func(i int) bool { return l.nl[i] >= off })
}

// position returns the 1-based line and byte column of offset off.
func (l *lineReader) position(off int64) (line, col int) {
	off = max(off, l.base)
	k := l.count(off)
	start := l.baseStart
	if k > 0 {
		start = l.nl[k-1] + 1
	}
	return l.baseLine + k + 1, int(off-start) + 1
}

// isSpace reports whether c is JSON white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
