package gridcode

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"
)

func TestTimeCodeText(t *testing.T) {
	at := time.Date(2026, 11, 30, 14, 35, 12, 345e6, time.UTC)
	tests := []struct {
		level      int
		want       string
		start, end time.Time
	}{
		{TimeLevelYear, "T2026", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{11, "T2026/11", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)},
		{14, "T2026-09/14", time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{TimeLevelMonth, "T2026-11", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{17, "T2026-11-17/17", time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{TimeLevelDay, "T2026-11-30", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{TimeLevelHour, "T2026-11-30T14", time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)},
		{TimeLevelMinute, "T2026-11-30T14:35", time.Date(2026, 11, 30, 14, 35, 0, 0, time.UTC), time.Date(2026, 11, 30, 14, 36, 0, 0, time.UTC)},
		{TimeLevelSecond, "T2026-11-30T14:35:12", time.Date(2026, 11, 30, 14, 35, 12, 0, time.UTC), time.Date(2026, 11, 30, 14, 35, 13, 0, time.UTC)},
		{TimeLevelMillisecond, "T2026-11-30T14:35:12.345", at, at.Add(time.Millisecond)},
		{0, "T0000/0", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(4096, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		c, err := EncodeTime(at, tc.level)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != tc.want || !c.Start().Equal(tc.start) || !c.End().Equal(tc.end) {
			t.Errorf("level %d: %s [%s, %s), want %s [%s, %s)", tc.level, c, c.Start(), c.End(), tc.want, tc.start, tc.end)
		}
		back, err := ParseTime(tc.want)
		if err != nil || back != c {
			t.Errorf("ParseTime(%s) = %s, %v", tc.want, back, err)
		}
	}
	// Local times are taken in UTC: 08:30 in Dalian (UTC+8) is 00:30 UTC.
	cst := time.FixedZone("CST", 8*3600)
	c, _ := EncodeTime(time.Date(2026, 7, 1, 8, 30, 0, 0, cst), TimeLevelHour)
	if c.String() != "T2026-07-01T00" {
		t.Errorf("local time: %s", c)
	}
}

func TestTimeCodeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 20000; i++ {
		at := time.UnixMilli(r.Int64N(4e12) - 1e12).UTC()
		level := r.IntN(MaxTimeLevel + 1)
		c, err := EncodeTime(at, level)
		if err != nil {
			t.Fatal(err)
		}
		if at.Before(c.Start()) || !at.Before(c.End()) {
			t.Fatalf("%s [%s, %s) misses %s", c, c.Start(), c.End(), at)
		}
		back, err := ParseTime(c.String())
		if err != nil || back != c {
			t.Fatalf("round trip %s -> %s %v", c, back, err)
		}
		fine, _ := EncodeTime(at, MaxTimeLevel)
		if lo, hi := c.Range(); fine.Bits() < lo || fine.Bits() > hi || !c.Contains(fine) {
			t.Fatalf("%s does not contain %s", c, fine)
		}
		if level > 0 && !c.Parent().Contains(c) {
			t.Fatalf("parent of %s", c)
		}
		if tb, err := TimeFromBits(c.Bits(), c.Level()); err != nil || tb != c {
			t.Fatalf("TimeFromBits(%s): %v", c, err)
		}
	}
}

func TestTimeCodeErrors(t *testing.T) {
	for _, s := range []string{"", "T", "X2026", "T2026-13", "T2026-11/17", "T2026-10/14", "T2026-02-30", "T26", "T2026/x", "T2026-11-30T14:35:12.3"} {
		if c, err := ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) = %s, want an error", s, c)
		}
	}
	if _, err := EncodeTime(time.Date(5000, 1, 1, 0, 0, 0, 0, time.UTC), 12); err == nil {
		t.Errorf("year 5000 accepted")
	}
	if _, err := TimeFromBits(uint64(2026)<<36|13<<32, TimeLevelMonth); err == nil {
		t.Errorf("month 14 accepted")
	}
}

func TestSpaceTimeKeys(t *testing.T) {
	at := time.Date(2026, 7, 21, 9, 15, 0, 0, time.UTC)
	st, err := EncodeSpaceTime(38.916, 121.644, 50, at, 32, MaxTimeLevel)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseSpaceTime(st.String())
	if err != nil || back != st {
		t.Fatalf("round trip %s: %s %v", st, back, err)
	}
	area := mustEncode(t, 38.916, 121.644, 15)
	hour, _ := EncodeTime(at, TimeLevelHour)
	rs, err := KeyRanges(area, hour)
	if err != nil || len(rs) != 1 {
		t.Fatalf("hour ranges: %d %v", len(rs), err)
	}
	day, _ := EncodeTime(at, TimeLevelDay)
	days, err := KeyRanges(area, day)
	if err != nil || len(days) != 24 {
		t.Fatalf("day ranges: %d %v", len(days), err)
	}
	inside := func(k [KeyLen]byte, rs []KeyRange) bool {
		for _, r := range rs {
			if bytes.Compare(k[:], r.First[:]) >= 0 && bytes.Compare(k[:], r.Last[:]) <= 0 {
				return true
			}
		}
		return false
	}
	r := rand.New(rand.NewPCG(11, 12))
	b := area.Bounds()
	for i := 0; i < 5000; i++ {
		lat := b.South - 0.01 + r.Float64()*(b.North-b.South+0.02)
		lon := b.West - 0.01 + r.Float64()*(b.East-b.West+0.02)
		when := at.Add(time.Duration(r.Int64N(int64(72 * time.Hour)))).Add(-36 * time.Hour)
		p, err := EncodeSpaceTime(lat, lon, r.Float64()*300, when, 32, MaxTimeLevel)
		if err != nil {
			t.Fatal(err)
		}
		k := p.Key()
		inArea := area.Contains(p.Space.Code2D())
		if got, want := inside(k, rs), inArea && hour.Contains(p.Time); got != want {
			t.Fatalf("%s: in hour ranges %v, want %v", p, got, want)
		}
		if got, want := inside(k, days), inArea && day.Contains(p.Time); got != want {
			t.Fatalf("%s: in day ranges %v, want %v", p, got, want)
		}
	}
	if _, err := KeyRanges(area, TimeCode{}); err == nil {
		t.Errorf("all-time ranges accepted")
	}
}
