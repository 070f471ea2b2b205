package pgstore

import (
	"strings"
	"unicode/utf8"
)

// Layer names and ids live in text columns (COLLATE "C", so they sort
// bytewise as Go strings do), and PostgreSQL text is valid UTF-8 without
// NUL. keyText makes any valid UTF-8 string fit by escaping the two lowest
// bytes: 0x00 becomes 0x01 0x01 and 0x01 becomes 0x01 0x02. The codes are
// prefix-free and ordered like the bytes they stand for, so the escaping
// keeps bytewise order; every other string is stored as it is. Strings that
// are not valid UTF-8 cannot be stored (ok is false).
func keyText(s string) (t string, ok bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	if strings.IndexByte(s, 0) < 0 && strings.IndexByte(s, 1) < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0, 1:
			b.WriteByte(1)
			b.WriteByte(c + 1)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// fromKeyText inverts keyText.
func fromKeyText(t string) string {
	if strings.IndexByte(t, 1) < 0 {
		return t
	}
	var b strings.Builder
	b.Grow(len(t))
	for i := 0; i < len(t); i++ {
		if c := t[i]; c == 1 && i+1 < len(t) {
			i++
			b.WriteByte(t[i] - 1)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
