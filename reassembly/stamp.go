package reassembly

import (
	"math"
	"time"
)

// Stamp is a time of the capture in nanoseconds since the Unix epoch.
//
// The replay keeps its times as Stamps: 8 bytes where a time.Time takes
// 24. A connection's replay is cold when it closes (it waited a linger),
// and each of its cache lines is a wait the prefetches must hide (README,
// "Where it stands"); the times in its timelines, ladder, endpoints and
// findings were a fifth of those lines. A Stamp holds the years 1678 to
// 2262, and the capture readers give no other.
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

// Sub returns s-u.
func (s Stamp) Sub(u Stamp) time.Duration { return time.Duration(s - u) }

// Add returns s+d.
func (s Stamp) Add(d time.Duration) Stamp { return s + Stamp(d) }

// Before reports whether s is before u.
func (s Stamp) Before(u Stamp) bool { return s < u }

// After reports whether s is after u.
func (s Stamp) After(u Stamp) bool { return s > u }

// UnixStamp returns the time sec seconds and nsec nanoseconds after the
// Unix epoch, as time.Unix would, held to the range of a Stamp: a
// hostile capture's timestamp beyond it saturates rather than wraps.
func UnixStamp(sec, nsec int64) Stamp {
	const maxSec = math.MaxInt64/int64(time.Second) - 1
	switch {
	case sec > maxSec:
		return math.MaxInt64
	case sec < -maxSec:
		return math.MinInt64
	}
	return Stamp(sec*int64(time.Second) + nsec)
}
