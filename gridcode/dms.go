package gridcode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrAngle reports an angle that is neither decimal degrees nor a
// degrees-minutes-seconds string.
var ErrAngle = errors.New("malformed angle")

// ParseAngle reads an angle in decimal degrees ("121.6", "-38.9") or in
// degrees, minutes and seconds with an optional hemisphere letter before or
// after it: `42°38'59.68" S`, `N39°59'56.1444"`, `116°18′54.8″E`,
// `39 54 37.0 N`, `121d36m0s`. Hemisphere letters are upper case; S or W
// makes the angle negative.
// Minutes and seconds must be below 60.
func ParseAngle(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty", ErrAngle)
	}
	if v, err := strconv.ParseFloat(t, 64); err == nil {
		return v, nil
	}
	sign := 1.0
	hemi := byte(0)
	switch c := t[0]; c {
	case 'N', 'S', 'E', 'W':
		hemi, t = c, strings.TrimSpace(t[1:])
	}
	if n := len(t); n > 0 && hemi == 0 {
		switch c := t[n-1]; c {
		case 'N', 'S', 'E', 'W':
			hemi, t = c, strings.TrimSpace(t[:n-1])
		}
	}
	if hemi == 'S' || hemi == 'W' {
		sign = -1
	}
	if strings.HasPrefix(t, "-") || strings.HasPrefix(t, "+") {
		if hemi != 0 {
			return 0, fmt.Errorf("%w: %q has both a sign and a hemisphere", ErrAngle, s)
		}
		if t[0] == '-' {
			sign = -1
		}
		t = t[1:]
	}
	var parts [3]float64
	n := 0
	i := 0
	for i < len(t) {
		for i < len(t) && isAngleSep(t, i) {
			i += sepLen(t, i)
		}
		if i >= len(t) {
			break
		}
		j := i
		for j < len(t) && (t[j] >= '0' && t[j] <= '9' || t[j] == '.') {
			j++
		}
		if j == i {
			return 0, fmt.Errorf("%w: %q: unexpected %q", ErrAngle, s, t[i:])
		}
		if n == 3 {
			return 0, fmt.Errorf("%w: %q: more than degrees, minutes and seconds", ErrAngle, s)
		}
		v, err := strconv.ParseFloat(t[i:j], 64)
		if err != nil {
			return 0, fmt.Errorf("%w: %q: bad number %q", ErrAngle, s, t[i:j])
		}
		if j < len(t) && !isAngleSep(t, j) {
			return 0, fmt.Errorf("%w: %q: unexpected %q", ErrAngle, s, t[j:])
		}
		parts[n] = v
		n++
		i = j
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: %q: no number", ErrAngle, s)
	}
	if n > 1 && parts[1] >= 60 || n > 2 && parts[2] >= 60 {
		return 0, fmt.Errorf("%w: %q: minutes and seconds must be below 60", ErrAngle, s)
	}
	// Sum in arc-seconds, where DMS values are exact in binary more often.
	return sign * (parts[0]*3600 + parts[1]*60 + parts[2]) / 3600, nil
}

// angleSeps are the separators accepted between DMS fields.
var angleSeps = []string{"°", "º", "′", "″", "'", "\"", "’", "”", " ", "d", "m", "s", ":"}

func isAngleSep(t string, i int) bool { return sepLen(t, i) > 0 }

func sepLen(t string, i int) int {
	for _, p := range angleSeps {
		if strings.HasPrefix(t[i:], p) {
			return len(p)
		}
	}
	return 0
}
