package gridcode

import (
	"fmt"
	"strings"
	"time"
)

// Description is the JSON-ready description of a cell of any scheme:
// what "citytwin grid decode" prints and the grid API returns.
type Description struct {
	// Scheme is geosot, geosot3d, beidou, beidou3d, h3, time or spacetime.
	Scheme string `json:"scheme"`
	// Code is the canonical text form.
	Code string `json:"code"`
	// Level is the cell's level (H3: resolution).
	Level int `json:"level"`
	// Bounds is [west, south, east, north] in degrees.
	Bounds [4]float64 `json:"bounds"`
	// Centre is [lon, lat].
	Centre [2]float64 `json:"centre"`
	// Parent is the enclosing cell one level up, if any.
	Parent string `json:"parent,omitempty"`
	// Integer is the iBEST-DB integer form (GeoSOT 2D and 3D).
	Integer string `json:"integer,omitempty"`
	// Height is [bottom, top] in metres for 3D cells.
	Height []float64 `json:"height,omitempty"`
	// Start and End bound a time cell (RFC 3339, End exclusive).
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	// Time is the time code of a space-time cell.
	Time string `json:"time,omitempty"`
}

// Describe recognises a code's scheme by its form — GeoSOT "G…" or
// "bits:level", GeoSOT 3D "GZ…" or "xy,z:level", BeiDou "N…"/"S…" (2D or
// 3D by the position of the band letter), time "T…", space-time "…@T…", or
// an H3 index — and describes the cell.
func Describe(s string) (Description, error) {
	switch {
	case s == "":
		return Description{}, fmt.Errorf("empty code")
	case strings.Contains(s, "@"):
		st, err := ParseSpaceTime(s)
		if err != nil {
			return Description{}, err
		}
		d := describe3D(st.Space)
		d.Scheme, d.Code, d.Parent, d.Integer = "spacetime", st.String(), "", ""
		if st.Space.Level() > 0 {
			d.Parent = SpaceTime{Space: st.Space.Parent(), Time: st.Time}.String()
		}
		d.Start, d.End, d.Time = rfc(st.Time.Start()), rfc(st.Time.End()), st.Time.String()
		return d, nil
	case strings.HasPrefix(s, "GZ") || strings.HasPrefix(s, "gz") || isDigit(s[0]) && strings.Contains(s, ","):
		c, err := Parse3D(s)
		if err != nil {
			return Description{}, err
		}
		return describe3D(c), nil
	case s[0] == 'G' || s[0] == 'g' || isDigit(s[0]) && strings.Contains(s, ":"):
		c, err := Parse(s)
		if err != nil {
			return Description{}, err
		}
		d := Description{Scheme: "geosot", Code: c.String(), Level: c.Level(), Integer: c.Integer()}
		d.setBounds(c.Bounds())
		if c.Level() > 0 {
			d.Parent = c.Parent().String()
		}
		return d, nil
	case s[0] == 'T':
		c, err := ParseTime(s)
		if err != nil {
			return Description{}, err
		}
		d := Description{Scheme: "time", Code: c.String(), Level: c.Level(), Start: rfc(c.Start()), End: rfc(c.End())}
		if c.Level() > 0 {
			d.Parent = c.Parent().String()
		}
		d.Bounds = [4]float64{-180, -90, 180, 90}
		return d, nil
	case s[0] == 'N' || s[0] == 'S':
		if len(s) >= 4 && s[3] >= 'A' && s[3] <= 'Z' {
			c, err := ParseBeiDou(s)
			if err != nil {
				return Description{}, err
			}
			d := Description{Scheme: "beidou", Code: c.String(), Level: c.Level()}
			w, so, ea, n := c.Rect()
			d.setBounds(Bound{West: w, South: so, East: ea, North: n})
			if p, ok := c.Parent(); ok {
				d.Parent = p.String()
			}
			return d, nil
		}
		c, err := ParseBeiDou3D(s)
		if err != nil {
			return Description{}, err
		}
		d := Description{Scheme: "beidou3d", Code: c.String(), Level: c.Level()}
		w, so, ea, n := c.Rect()
		d.setBounds(Bound{West: w, South: so, East: ea, North: n})
		lo, hi := c.HeightRange()
		d.Height = []float64{lo, hi}
		if p, ok := c.Parent(); ok {
			d.Parent = p.String()
		}
		return d, nil
	}
	c, err := ParseH3(s)
	if err != nil {
		return Description{}, fmt.Errorf("%q is not a GeoSOT (G…), GeoSOT 3D (GZ…), BeiDou (N…/S…), time (T…), space-time (…@T…) or H3 code", s)
	}
	d := Description{Scheme: "h3", Code: c.String(), Level: c.Level()}
	d.setBounds(c.Bounds())
	d.Centre[1], d.Centre[0] = c.Center()
	if c.Level() > 0 {
		d.Parent = c.Parent().String()
	}
	return d, nil
}

func describe3D(c Code3D) Description {
	d := Description{Scheme: "geosot3d", Code: c.String(), Level: c.Level(), Integer: c.Integer()}
	d.setBounds(c.Bounds())
	lo, hi := c.HeightRange()
	d.Height = []float64{lo, hi}
	if c.Level() > 0 {
		d.Parent = c.Parent().String()
	}
	return d
}

func (d *Description) setBounds(b Bound) {
	d.Bounds = [4]float64{b.West, b.South, b.East, b.North}
	lat, lon := b.Center()
	d.Centre = [2]float64{lon, lat}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Schemes lists the scheme names accepted by Locate.
func Schemes() []string {
	return []string{"geosot", "geosot3d", "beidou", "beidou3d", "h3", "time", "spacetime"}
}

// LevelRange returns the levels a scheme accepts.
func LevelRange(scheme string) (lo, hi int, ok bool) {
	switch scheme {
	case "geosot", "geosot3d", "spacetime":
		return 0, MaxLevel, true
	case "beidou", "beidou3d":
		return 1, BeiDouMaxLevel, true
	case "h3":
		return 0, MaxH3Resolution, true
	case "time":
		return 0, MaxTimeLevel, true
	}
	return 0, 0, false
}

// Locate returns the text code of the cell containing a point in the named
// scheme. height is in metres (3D schemes), t is needed by the time and
// spacetime schemes, and timeLevel is the time level of a space-time code.
func Locate(scheme string, lat, lon, height float64, t time.Time, level, timeLevel int) (string, error) {
	lo, hi, ok := LevelRange(scheme)
	if !ok {
		return "", fmt.Errorf("gridcode: unknown scheme %q: want one of %s", scheme, strings.Join(Schemes(), ", "))
	}
	if level < lo || level > hi {
		return "", fmt.Errorf("gridcode: %w: %d for %s (want %d–%d)", ErrLevel, level, scheme, lo, hi)
	}
	var c fmt.Stringer
	var err error
	switch scheme {
	case "geosot":
		c, err = Encode(lat, lon, level)
	case "geosot3d":
		c, err = Encode3D(lat, lon, height, level)
	case "beidou":
		c, err = EncodeBeiDou(lat, lon, level)
	case "beidou3d":
		c, err = EncodeBeiDou3D(lat, lon, height, level)
	case "h3":
		c, err = EncodeH3(lat, lon, level)
	case "time", "spacetime":
		if t.IsZero() {
			return "", fmt.Errorf("gridcode: the %s scheme needs a time", scheme)
		}
		if scheme == "time" {
			c, err = EncodeTime(t, level)
		} else {
			c, err = EncodeSpaceTime(lat, lon, height, t, level, timeLevel)
		}
	}
	if err != nil {
		return "", err
	}
	return c.String(), nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
