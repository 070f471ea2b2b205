package importers

import (
	"maps"
	"math"
	"testing"
	"time"

	"citytwin/spatial"
)

func TestIsDecimal(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"0", true},
		{"12", true},
		{"-12", true},
		{"+12", true},
		{"12.5", true},
		{".5", true},
		{"5.", true},
		{"1e3", true},
		{"1E-3", true},
		{"-1.5e+10", true},
		{"", false},
		{"-", false},
		{".", false},
		{"e3", false},
		{"1e", false},
		{"1e+", false},
		{"1.2.3", false},
		{" 1", false},
		{"1 ", false},
		{"NaN", false},
		{"Inf", false},
		{"0x1F", false},
		{"1_000", false},
		{"1,000", false},
	} {
		if got := IsDecimal(tc.s); got != tc.want {
			t.Errorf("IsDecimal(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestMetres(t *testing.T) {
	for _, tc := range []struct {
		v       any
		want    float64
		wantErr string
	}{
		{12.5, 12.5, ""},
		{int64(30), 30, ""},
		{"12.5", 12.5, ""},
		{"12.5 m", 12.5, ""},
		{" 12.5m ", 12.5, ""},
		{"-3", -3, ""},
		{"1e2", 100, ""},
		{"tall", 0, `"tall" is not a height in metres`},
		{"12 ft", 0, `"12 ft" is not a height in metres`},
		{"NaN", 0, `"NaN" is not a height in metres`},
		{"1e400", 0, `"1e400" is not a height in metres`},
		{"m", 0, `"m" is not a height in metres`},
		{true, 0, "want a number of metres, got a boolean"},
		{nil, 0, "want a number of metres, got null"},
		{[]any{1.0}, 0, "want a number of metres, got an array"},
	} {
		got, err := Metres(tc.v)
		if msg := errString(err); msg != tc.wantErr || got != tc.want {
			t.Errorf("Metres(%#v) = %v, %q; want %v, %q", tc.v, got, msg, tc.want, tc.wantErr)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		v       any
		want    int
		wantErr string
	}{
		{int64(3), 3, ""},
		{int64(-1), -1, ""},
		{4.0, 4, ""},
		{"5", 5, ""},
		{" 6 ", 6, ""},
		{int64(math.MaxInt32), math.MaxInt32, ""},
		{int64(math.MaxInt32) + 1, 0, "2147483648 is out of range"},
		{int64(math.MinInt32) - 1, 0, "-2147483649 is out of range"},
		{2.5, 0, "2.5 is not a whole number"},
		{3e10, 0, "3e+10 is not a whole number"},
		{"3;4", 0, `"3;4" is not a whole number`},
		{"2.0", 0, `"2.0" is not a whole number`},
		{"3000000000", 0, `"3000000000" is not a whole number`},
		{false, 0, "want a whole number, got a boolean"},
		{map[string]any{}, 0, "want a whole number, got an object"},
	} {
		got, err := Count(tc.v)
		if msg := errString(err); msg != tc.wantErr || got != tc.want {
			t.Errorf("Count(%#v) = %v, %q; want %v, %q", tc.v, got, msg, tc.want, tc.wantErr)
		}
	}
}

func TestInstant(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	for _, tc := range []struct {
		v       any
		want    time.Time
		wantErr string
	}{
		{"2024-05-01T08:00:00+08:00", time.Date(2024, 5, 1, 8, 0, 0, 0, cst), ""},
		{"2024-05-01T00:00:00.5Z", time.Date(2024, 5, 1, 0, 0, 0, 5e8, time.UTC), ""},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), ""},
		{" 2024-05-01", time.Time{}, `" 2024-05-01" is not an RFC 3339 time or a YYYY-MM-DD date`},
		{"yesterday", time.Time{}, `"yesterday" is not an RFC 3339 time or a YYYY-MM-DD date`},
		{"2024-13-01", time.Time{}, `"2024-13-01" is not an RFC 3339 time or a YYYY-MM-DD date`},
		{int64(2020), time.Time{}, "want an RFC 3339 time string, got a number"},
		{true, time.Time{}, "want an RFC 3339 time string, got a boolean"},
	} {
		got, err := Instant(tc.v)
		if msg := errString(err); msg != tc.wantErr || !got.Equal(tc.want) {
			t.Errorf("Instant(%#v) = %v, %q; want %v, %q", tc.v, got, msg, tc.want, tc.wantErr)
		}
	}
}

func TestKind(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"x", "a string"},
		{int64(1), "a number"},
		{1.5, "a number"},
		{true, "a boolean"},
		{map[string]any{}, "an object"},
		{[]any{}, "an array"},
		{nil, "null"},
	} {
		if got := Kind(tc.v); got != tc.want {
			t.Errorf("Kind(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestApplyTypedProperties(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	csv := PropertyRules{
		Names:           map[string]string{"height": "Height", "levels": "LEVELS", "valid_from": "valid_from", "name": "Name"},
		TrimTimes:       true,
		PlainKindErrors: true,
	}
	for _, tc := range []struct {
		name    string
		rules   PropertyRules
		props   map[string]any
		want    spatial.Feature
		wantKey string
		wantErr string
	}{
		{name: "none", props: nil, want: spatial.Feature{}},
		{
			name:  "all moved",
			props: map[string]any{"height": "12 m", "floors": int64(4), "valid_from": "2024-05-01", "valid_to": "2024-05-01T00:00:00Z"},
			want:  spatial.Feature{Height: 12, Floors: 4, ValidFrom: day, ValidTo: day},
		},
		{
			name:  "others kept",
			props: map[string]any{"height": 3.5, "name": "x"},
			want:  spatial.Feature{Height: 3.5, Properties: map[string]any{"name": "x"}},
		},
		{
			name:  "first floor key wins",
			props: map[string]any{"floors": int64(2), "building:levels": int64(3), "levels": "x"},
			want:  spatial.Feature{Floors: 2, Properties: map[string]any{"building:levels": int64(3), "levels": "x"}},
		},
		{
			name:  "building:levels before levels",
			props: map[string]any{"building:levels": "3", "levels": int64(5)},
			want:  spatial.Feature{Floors: 3, Properties: map[string]any{"levels": int64(5)}},
		},
		{
			name:    "bad height",
			props:   map[string]any{"height": "tall"},
			want:    spatial.Feature{Properties: map[string]any{"height": "tall"}},
			wantKey: "height", wantErr: `"tall" is not a height in metres`,
		},
		{
			name:    "bad valid_to",
			props:   map[string]any{"valid_to": int64(2020)},
			want:    spatial.Feature{Properties: map[string]any{"valid_to": int64(2020)}},
			wantKey: "valid_to", wantErr: "want an RFC 3339 time string, got a number",
		},
		{
			name:    "untrimmed time",
			props:   map[string]any{"valid_from": " 2024-05-01 "},
			want:    spatial.Feature{Properties: map[string]any{"valid_from": " 2024-05-01 "}},
			wantKey: "valid_from", wantErr: `" 2024-05-01 " is not an RFC 3339 time or a YYYY-MM-DD date`,
		},
		{
			name:  "names",
			rules: csv,
			props: map[string]any{"Height": int64(7), "LEVELS": int64(2), "height": "not looked at", "valid_from": " 2024-05-01 "},
			want:  spatial.Feature{Height: 7, Floors: 2, ValidFrom: day, Properties: map[string]any{"height": "not looked at"}},
		},
		{
			name:    "plain kind error",
			rules:   csv,
			props:   map[string]any{"Height": true},
			want:    spatial.Feature{Properties: map[string]any{"Height": true}},
			wantKey: "Height", wantErr: "true is not a height in metres",
		},
		{
			name:    "plain floors error",
			rules:   csv,
			props:   map[string]any{"LEVELS": false},
			want:    spatial.Feature{Properties: map[string]any{"LEVELS": false}},
			wantKey: "LEVELS", wantErr: "false is not a whole number",
		},
		{
			name:    "plain time error",
			rules:   csv,
			props:   map[string]any{"valid_from": int64(2020)},
			want:    spatial.Feature{Properties: map[string]any{"valid_from": int64(2020)}},
			wantKey: "valid_from", wantErr: "2020 is not an RFC 3339 time or a YYYY-MM-DD date",
		},
		{
			name:    "trimmed time error",
			rules:   csv,
			props:   map[string]any{"valid_from": " soon "},
			want:    spatial.Feature{Properties: map[string]any{"valid_from": " soon "}},
			wantKey: "valid_from", wantErr: `"soon" is not an RFC 3339 time or a YYYY-MM-DD date`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := spatial.Feature{Properties: tc.props}
			key, err := ApplyTypedProperties(&f, tc.rules)
			if key != tc.wantKey || errString(err) != tc.wantErr {
				t.Errorf("got %q, %q; want %q, %q", key, errString(err), tc.wantKey, tc.wantErr)
			}
			if f.Height != tc.want.Height || f.Floors != tc.want.Floors ||
				!f.ValidFrom.Equal(tc.want.ValidFrom) || !f.ValidTo.Equal(tc.want.ValidTo) {
				t.Errorf("got height %v floors %d valid %v–%v; want %v %d %v–%v",
					f.Height, f.Floors, f.ValidFrom, f.ValidTo,
					tc.want.Height, tc.want.Floors, tc.want.ValidFrom, tc.want.ValidTo)
			}
			if !maps.Equal(f.Properties, tc.want.Properties) || (f.Properties == nil) != (tc.want.Properties == nil) {
				t.Errorf("properties %v, want %v", f.Properties, tc.want.Properties)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
