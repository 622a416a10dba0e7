package reassembly

import (
	"math"
	"testing"
	"time"
)

func TestStampRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 22, 9, 0, 0, 123456789, time.UTC),
		time.Unix(0, 0).UTC(),
		time.Unix(1795271817, 341238000).UTC(),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
	} {
		s := StampOf(tm)
		if got := s.Time(); got != tm { // the same instant, and UTC as the readers give
			t.Errorf("StampOf(%v).Time() = %v", tm, got)
		}
		if got := s.Add(1500 * time.Millisecond).Sub(s); got != 1500*time.Millisecond {
			t.Errorf("%v: Add then Sub = %v", tm, got)
		}
	}
	if s := StampOf(time.Time{}); s != 0 {
		t.Errorf("StampOf(zero time) = %d; want 0", s)
	}
	if s := StampOf(time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("", 3600))); s.Time() != time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("a time in another zone: %v", s)
	}
}

// TestUnixStamp checks UnixStamp against time.Unix, whose normalisation
// of nsec beyond a second the pcap readers rely on (a microsecond field
// scaled in 32 bits can exceed 1e9), and its saturation.
func TestUnixStamp(t *testing.T) {
	for _, c := range [][2]int64{{1795271817, 341238000}, {0, 0}, {1, 4294967295}, {1700000000, 999999999}, {-5, 3}, {1 << 33, 7}, {-3, -2500000000}, {9223372035, 854775807}} {
		if got, want := UnixStamp(c[0], c[1]), time.Unix(c[0], c[1]).UnixNano(); int64(got) != want {
			t.Errorf("UnixStamp(%d, %d) = %d; want %d", c[0], c[1], got, want)
		}
	}
	for _, c := range []struct {
		sec  int64
		want Stamp
	}{{math.MaxInt64, math.MaxInt64}, {1 << 40, math.MaxInt64}, {math.MinInt64, math.MinInt64}, {-(1 << 40), math.MinInt64}, {9223372035, math.MaxInt64}} {
		if got := UnixStamp(c.sec, 4294967295); got != c.want {
			t.Errorf("UnixStamp(%d, …) = %d; want %d (saturated)", c.sec, got, c.want)
		}
	}
}

func TestStampSaturates(t *testing.T) {
	lo, hi := Stamp(math.MinInt64), Stamp(math.MaxInt64)
	for _, c := range []struct {
		got, want time.Duration
	}{
		{hi.Sub(lo), math.MaxInt64},
		{lo.Sub(hi), math.MinInt64},
		{hi.Sub(0), math.MaxInt64},
		{lo.Sub(1), math.MinInt64},
		{Stamp(5).Sub(7), -2},
		{Stamp(-5).Sub(-7), 2},
		{Stamp(0).Sub(lo + 1), math.MaxInt64},
	} {
		if c.got != c.want {
			t.Errorf("Sub = %d; want %d", c.got, c.want)
		}
	}
	for _, c := range []struct{ got, want Stamp }{
		{hi.Add(time.Minute), hi},
		{(hi - 10).Add(9), hi - 1},
		{lo.Add(-time.Minute), lo},
		{lo.Add(time.Minute), lo + Stamp(time.Minute)},
		{Stamp(3).Add(0), 3},
		{Stamp(3).Add(-4), -1},
	} {
		if c.got != c.want {
			t.Errorf("Add = %d; want %d", c.got, c.want)
		}
	}
}
