package csvimport

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"citytwin/importers"
)

// infer converts a field to a property value: int64 for integers, float64
// for other decimal numbers, bool for true/false (any case), else the
// string as it is. A field that is empty or white space yields nil
// (absent). Numbers with a leading zero ("007", "0411") or a plus sign
// stay strings, since they are codes rather than quantities; so do NaN,
// Inf, hexadecimal and thousands-separated numbers, and integers too large
// for int64.
func infer(s string) any {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil
	}
	if looksNumeric(t) {
		if !strings.ContainsAny(t, ".eE") {
			if n, err := strconv.ParseInt(t, 10, 64); err == nil {
				return n
			}
			return s
		}
		if v, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(v, 0) {
			return v
		}
		return s
	}
	switch {
	case strings.EqualFold(t, "true"):
		return true
	case strings.EqualFold(t, "false"):
		return false
	}
	return s
}

// looksNumeric reports whether t is a decimal number without a plus sign
// or a leading zero.
func looksNumeric(t string) bool {
	if !importers.IsDecimal(t) || t[0] == '+' {
		return false
	}
	d := strings.TrimPrefix(t, "-")
	return !(len(d) > 1 && d[0] == '0' && d[1] >= '0' && d[1] <= '9')
}

// coordinate parses a longitude, latitude, easting or northing.
func coordinate(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("no value")
	}
	if importers.IsDecimal(t) {
		if v, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(v, 0) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%q is not a number", s)
}
