package fsm

import (
	"net/netip"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Change is one entry of an endpoint's timeline.
type Change struct {
	Time reassembly.Stamp
	// Frame is the frame that proves the change, or 0 for a timer.
	Frame uint64
	From  State
	To    State
	On    Event
	// Presumed marks a change the capture cannot prove (a FIN-WAIT-2 timeout,
	// a socket presumed gone because its four-tuple was reused).
	Presumed bool
}

// Anomaly is an event that has no edge from the endpoint's current state.
// The endpoint keeps its state and the anomaly is reported.
type Anomaly struct {
	At     reassembly.Stamp
	Frame  uint64
	From   State
	On     Event
	Reason string
}

// Anomaly reasons (constant strings, so recording one never allocates text).
const (
	reasonNoEdge = "no such transition in RFC 9293"
)

// maxTimeline bounds an endpoint's timeline; a real connection changes state
// a dozen times at most, so only a hostile capture reaches it.
const maxTimeline = 64

// maxAnomalies bounds the anomalies kept per endpoint.
const maxAnomalies = 16

// Endpoint is one side of a connection as replayed by the Tracker.
type Endpoint struct {
	Addr  netip.AddrPort
	State State
	// Assumed is set when the state was assumed because the capture joined mid-stream.
	Assumed bool
	// Since is when the current state was entered.
	Since    reassembly.Stamp
	Timeline []Change
	// Anomalies are events that did not fit the state machine.
	Anomalies []Anomaly
	// DroppedChanges and DroppedAnomalies count entries beyond the bounds.
	DroppedChanges, DroppedAnomalies int
}

// apply is the only way an endpoint changes state: it looks the edge up,
// records the change in the timeline (self-loops are not recorded) or an
// Anomaly, and reports whether the edge exists.
func (e *Endpoint) apply(ev Event, t reassembly.Stamp, frame uint64, presumed bool) bool {
	n, ok := next(e.State, ev)
	if !ok {
		if len(e.Anomalies) < maxAnomalies {
			e.Anomalies = append(e.Anomalies, Anomaly{At: t, Frame: frame, From: e.State, On: ev, Reason: reasonNoEdge})
		} else {
			e.DroppedAnomalies++
		}
		return false
	}
	if n == e.State {
		return true
	}
	if len(e.Timeline) < maxTimeline {
		// Appended zero, then written field by field (see replay.ladder).
		e.Timeline = append(e.Timeline, Change{})
		c := &e.Timeline[len(e.Timeline)-1]
		c.Time, c.Frame, c.From, c.To, c.On, c.Presumed = t, frame, e.State, n, ev, presumed
	} else {
		e.DroppedChanges++
	}
	e.State, e.Since = n, t
	return true
}

// StateAt returns the endpoint's state at time t, from its timeline.
func (e *Endpoint) StateAt(t reassembly.Stamp) State {
	s := Unknown
	for _, c := range e.Timeline {
		if c.Time.After(t) {
			break
		}
		s = c.To
	}
	return s
}

// Entered returns when the endpoint first entered s, and false if it never did.
func (e *Endpoint) Entered(s State) (Change, bool) {
	for _, c := range e.Timeline {
		if c.To == s {
			return c, true
		}
	}
	return Change{}, false
}
