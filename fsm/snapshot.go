package fsm

import (
	"iter"
	"net/netip"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Snapshot counts the connections a Tracker is replaying at one moment:
// what a live view shows while a capture is still running. It is taken
// from the connections still tracked, never from the finished ones.
type Snapshot struct {
	// At is the moment the timers were run to.
	At time.Time
	// Clients and Servers count open endpoints (SYN_SENT through
	// TIME_WAIT) by state, as they are at At.
	Clients, Servers [NumStates]int
	// CloseWait counts the endpoints in CLOSE_WAIT by address (ip:port).
	CloseWait map[netip.AddrPort]int
	// CloseWaitSince is the earliest entry into CLOSE_WAIT among them (zero
	// when none is in CLOSE_WAIT).
	CloseWaitSince time.Time
}

// Snapshot counts the states of conns (an Assembler's tracked connections,
// see reassembly.Assembler.All) as they are at time now, with the timers
// that are due at now taken into account but not run: it changes nothing,
// so taking one does not change the report. It costs one visit per
// connection: call it once in a while (a live view's refresh), never per
// packet. Not safe for concurrent use with the Tracker's other methods.
func (t *Tracker) Snapshot(conns iter.Seq[*reassembly.Conn], now time.Time) Snapshot {
	s := Snapshot{At: now}
	nowS := reassembly.StampOf(now)
	for c := range conns {
		rp, ok := c.Data.(*replay)
		if !ok {
			continue
		}
		for i, e := range rp.ep {
			st := e.State
			if ev, _, _, ok := rp.due(i, nowS); ok {
				if n, ok := next(st, ev); ok {
					st = n
				}
			}
			if !st.Open() {
				continue
			}
			if e == &rp.conn.Client {
				s.Clients[st]++
			} else {
				s.Servers[st]++
			}
			if st == CloseWait {
				if s.CloseWait == nil {
					s.CloseWait = make(map[netip.AddrPort]int)
				}
				s.CloseWait[e.Addr]++
				if since := e.Since.Time(); s.CloseWaitSince.IsZero() || since.Before(s.CloseWaitSince) {
					s.CloseWaitSince = since
				}
			}
		}
	}
	return s
}

// Merge adds o's counts to s (snapshots of several Trackers sharing a capture).
func (s *Snapshot) Merge(o *Snapshot) {
	if o.At.After(s.At) {
		s.At = o.At
	}
	for i := range s.Clients {
		s.Clients[i] += o.Clients[i]
		s.Servers[i] += o.Servers[i]
	}
	for a, n := range o.CloseWait {
		if s.CloseWait == nil {
			s.CloseWait = make(map[netip.AddrPort]int)
		}
		s.CloseWait[a] += n
	}
	if !o.CloseWaitSince.IsZero() && (s.CloseWaitSince.IsZero() || o.CloseWaitSince.Before(s.CloseWaitSince)) {
		s.CloseWaitSince = o.CloseWaitSince
	}
}

// CloseWaitTop returns the endpoint with the most connections in
// CLOSE_WAIT and how many (ties: the lowest address), and the total.
func (s *Snapshot) CloseWaitTop() (top netip.AddrPort, n, total int) {
	for a, k := range s.CloseWait {
		total += k
		if k > n || (k == n && a.Compare(top) < 0) {
			top, n = a, k
		}
	}
	return top, n, total
}
