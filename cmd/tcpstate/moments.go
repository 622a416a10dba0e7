package main

import (
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/report"
)

// atSpec is one --at moment: absolute, an offset from the capture's first
// packet, or a time of day on that packet's date (UTC, as reports print).
type atSpec struct {
	abs    time.Time
	offset *time.Duration
	tod    *time.Duration // since midnight
}

// parseAt reads --at values: RFC 3339 (2026-11-21T14:03:20Z, fraction and
// offset allowed), +DURATION (+90s, +1m30.5s) from the capture's start, or
// HH:MM[:SS[.frac]] on the capture's date in UTC.
func parseAt(vals []string) ([]atSpec, error) {
	var out []atSpec
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if d, ok := strings.CutPrefix(s, "+"); ok {
				off, err := time.ParseDuration(d)
				if err != nil || off < 0 {
					return nil, usagef("--at %q: an offset is +DURATION, such as +90s or +1m30s", s)
				}
				out = append(out, atSpec{offset: &off})
				continue
			}
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				out = append(out, atSpec{abs: t})
				continue
			}
			if d, ok := timeOfDay(s); ok {
				out = append(out, atSpec{tod: &d})
				continue
			}
			return nil, usagef("--at %q: give an RFC 3339 time (2026-11-21T14:03:20Z), a time of day in UTC (14:03:20.5) or an offset from the capture's start (+90s)", s)
		}
	}
	return out, nil
}

// timeOfDay parses HH:MM, HH:MM:SS or HH:MM:SS.frac.
func timeOfDay(s string) (time.Duration, bool) {
	for _, layout := range []string{"15:04:05.999999999", "15:04:05", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
				time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond()), true
		}
	}
	return 0, false
}

// resolve turns the specs into moments, given the capture's first packet.
func resolveAt(specs []atSpec, start time.Time) []time.Time {
	out := make([]time.Time, len(specs))
	for i, s := range specs {
		switch {
		case s.offset != nil:
			out[i] = start.Add(*s.offset)
		case s.tod != nil:
			u := start.UTC()
			out[i] = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC).Add(*s.tod)
		default:
			out[i] = s.abs
		}
	}
	return out
}

// parseStep reads --timeline's step.
func parseStep(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usagef("--timeline %q: give a positive step such as 1s, 500ms or 1m", s)
	}
	return d, nil
}

// moments configures the builders for --at and --timeline.
type moments struct {
	at   []atSpec
	step time.Duration
	done bool
}

// setup installs the snapshots, once the capture's start is known, on
// every builder (before any connection is added to them).
func (m *moments) setup(start time.Time, bs ...*report.Builder) {
	if m == nil || m.done {
		return
	}
	m.done = true
	for _, b := range bs {
		if len(m.at) > 0 {
			b.SetSnapshots(resolveAt(m.at, start))
		}
		if m.step > 0 {
			b.SetTimeline(m.step)
		}
	}
}
