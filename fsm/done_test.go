package fsm

import (
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// doneRecorder asks the Tracker whether the one connection is Done.
type doneRecorder struct {
	*Tracker
	c *reassembly.Conn
}

func (d *doneRecorder) Open(c *reassembly.Conn) { d.c = c; d.Tracker.Open(c) }

// TestDoneReportsTimers: a CLOSE-WAIT leak whose peer is in FIN-WAIT-2 is
// not over; once the FIN-WAIT-2 timeout ran, only the leak is left, with no
// timer, so Sweep may park it; a segment later, it can end. A SYN still
// being retransmitted at longer and longer intervals is not over after the
// linger and has a timer: its give-up is not due yet.
func TestDoneReportsTimers(t *testing.T) {
	d := &doneRecorder{Tracker: NewTracker(DefaultConfig())}
	asm := reassembly.NewAssembler(d)
	add := func(frame uint64, s seg) {
		src, dst := cliAP, srvAP
		if s.dir == s2c {
			src, dst = srvAP, cliAP
		}
		asm.Add(new(reassembly.Segment{Frame: frame, Time: t0.Add(s.at), Seq: s.seq, Ack: s.ack,
			Flags: s.flags, Window: 65535, Len: s.len, WScale: reassembly.NoWScale}.WithAddrs(src, dst)))
	}
	for i, s := range join(handshake3, []seg{
		{10 * ms, c2s, finack, ci + 1, si + 1, 0},
		{11 * ms, s2c, ack, si + 1, ci + 2, 0},
	}) {
		add(uint64(i+1), s)
	}
	check := func(at time.Duration, wantDone, wantTimer bool) {
		t.Helper()
		done, timer := d.Done(d.c, t0.Add(at))
		if done != wantDone || timer != wantTimer {
			t.Errorf("at %v: Done = %v, timer = %v; want %v, %v (client %v, server %v)", at, done, timer, wantDone, wantTimer,
				d.c.Data.(*replay).ep[0].State, d.c.Data.(*replay).ep[1].State)
		}
	}
	check(30*time.Second, false, true)  // within the linger
	check(61*time.Second, false, false) // FIN-WAIT-2 timed out at 60 s: only the server's CLOSE-WAIT, no timer
	add(6, seg{200 * time.Second, s2c, finack, si + 1, ci + 2, 0})
	add(7, seg{200*time.Second + ms, c2s, rstack, ci + 2, si + 2, 0}) // the client's socket is gone: it resets
	check(261*time.Second, true, false)

	// A lone SYN sent at 300 s and retransmitted after 1, 2, 4 … 32 s: the
	// last at 363 s; the next was due at 427 s, given up 32 s after that.
	at := 300 * time.Second
	for i, gap := range []time.Duration{0, 1, 2, 4, 8, 16, 32} {
		at += gap * time.Second
		asm.Add(new(reassembly.Segment{Frame: uint64(10 + i), Time: t0.Add(at), Seq: 77,
			Flags: syn, Window: 65535, WScale: reassembly.NoWScale}.WithAddrs(cliAP, srvAP)))
	}
	check(430*time.Second, false, true) // linger over, give-up not yet due
	check(460*time.Second, true, false) // SYN-SENT gave up: CLOSED
}
