package reassembly

import (
	"math"
	"time"
)

// Stamp is a time of the capture in nanoseconds since the Unix epoch.
//
// Capture times are Stamps from the readers to the report's edge (where
// Time gives a time.Time in UTC): 8 bytes where a time.Time takes 24 and
// holds a pointer. The segments that -j hands between cores, the
// assembler's connections and each connection's replay are that much
// smaller; a replay is cold when it closes, after a linger, and each of
// its cache lines is a wait the prefetches must hide (docs/performance-log.md,
// 2026-11-22). No packet builds a time.Time that the assembler and the
// replay then take apart. A Stamp holds the years 1678 to 2262; beyond,
// where only a hostile pcapng's if_tsoffset reaches, UnixStamp, Add and
// Sub saturate.
type Stamp int64

// StampOf returns t as a Stamp. The zero time.Time (no time, as in a
// capture without packets) becomes 0.
func StampOf(t time.Time) Stamp {
	if t.IsZero() {
		return 0
	}
	return Stamp(t.UnixNano())
}

// Time returns s as a time.Time in UTC, the zone of the capture readers'
// times.
func (s Stamp) Time() time.Time { return time.Unix(0, int64(s)).UTC() }

// String formats s as time.Time does, in UTC.
func (s Stamp) String() string { return s.Time().String() }

// Sub returns s-u, saturated as time.Time's Sub is when it does not fit
// (only a hostile capture's times are that far apart).
func (s Stamp) Sub(u Stamp) time.Duration {
	d := s - u
	if (d < s) != (u > 0) { // the subtraction wrapped
		if u > 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return time.Duration(d)
}

// Add returns s+d, saturated at the ends of a Stamp's range.
func (s Stamp) Add(d time.Duration) Stamp {
	t := s + Stamp(d)
	if (t > s) != (d > 0) { // the addition wrapped
		if d > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return t
}

// Before reports whether s is before u.
func (s Stamp) Before(u Stamp) bool { return s < u }

// After reports whether s is after u.
func (s Stamp) After(u Stamp) bool { return s > u }

// UnixStamp returns the time sec seconds and nsec nanoseconds after the
// Unix epoch, as time.Unix would (nsec may be outside [0, 1e9)), held to
// the range of a Stamp: a hostile capture's timestamp beyond it
// saturates rather than wraps.
func UnixStamp(sec, nsec int64) Stamp {
	const second = int64(time.Second)
	if uint64(sec) < 1<<33 && uint64(nsec) < 1<<33 {
		// Every classic pcap record (32-bit fields) and every pcapng
		// time from 1970 to 2242: no overflow is possible.
		return Stamp(sec*second + nsec)
	}
	q, r := nsec/second, nsec%second
	if r < 0 {
		q, r = q-1, r+second
	}
	const maxSec, minSec = math.MaxInt64/second - 1, math.MinInt64/second + 1
	switch {
	case q > 0 && sec > maxSec-q:
		return math.MaxInt64
	case q < 0 && sec < minSec-q:
		return math.MinInt64
	}
	switch sec += q; {
	case sec > maxSec:
		return math.MaxInt64
	case sec < minSec:
		return math.MinInt64
	}
	return Stamp(sec*second + r)
}
