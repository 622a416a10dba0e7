package fsm

import (
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// findings derives the connection's findings from its replay (DESIGN §4).
// Every finding carries the frames that prove it.
func (rp *replay) findings(cn *Conn, end reassembly.Stamp) {
	first := reassembly.StampOf(cn.First)
	for d := range rp.ep {
		rp.closeWait(dir(d), end)
		rp.finWait2(dir(d), end)
		rp.timeWait(dir(d), end)
		rp.finRetransmit(dir(d), first)
	}
	rp.handshake(end)
	rp.resetFindings()
	if rp.reuse != nil {
		ru := rp.reuse
		// The situation lasts from the new SYN until the new connection's
		// client leaves SYN-SENT (the handshake got through, or an RST or
		// its timer ended it): a span of the connection's own segments,
		// not of when the analysis released it.
		until, ending := end, StillOpen
		client := rp.ep[reassembly.ClientToServer]
		if i := slices.IndexFunc(client.Timeline, func(c Change) bool { return c.To == SynSent }); i >= 0 {
			until, ending, _ = exit(client, i, end)
		}
		f := rp.newFinding(KindPortReuse, Warning, ru.stale, first, until)
		f.Ending = ending
		if ru.staleState == TimeWait {
			f.Severity = Info
		}
		f.State, f.PeerState = ru.staleState, ru.senderState
		f.Count = ru.answers
		f.Frames = append(f.Frames, ru.frames...)
		f.Frames = append(f.Frames, rp.synFrames...)
		if len(rp.synAckFrame) > 0 {
			f.Frames = append(f.Frames, rp.synAckFrame[0])
		}
		rp.add(f)
	}
	if rp.ep[0].Timeline != nil && (entered(rp.ep[0], Closing) || entered(rp.ep[1], Closing)) {
		f := rp.newFinding(KindSimultaneousClose, Info, reassembly.ClientToServer, first, end)
		f.Frames = append(f.Frames, rp.finFrames[0]...)
		f.Frames = append(f.Frames, rp.finFrames[1]...)
		if ch, ok := rp.ep[0].Entered(Closing); ok {
			f.Since = ch.Time
		} else if ch, ok := rp.ep[1].Entered(Closing); ok {
			f.Since = ch.Time
		}
		f.Duration = 0
		f.Ending = EndedNormally
		rp.add(f)
	}
	oneSided := !rp.half[0].Seen || !rp.half[1].Seen
	if rp.firstUnseen != 0 || rp.firstGap != 0 || oneSided && (rp.half[0].HaveAck || rp.half[1].HaveAck) {
		f := rp.newFinding(KindCaptureGap, Info, reassembly.ServerToClient, first, end)
		f.OneSided = oneSided
		for _, fr := range []uint64{rp.firstGap, rp.firstUnseen, rp.firstOneSided} {
			if fr != 0 {
				f.Frames = append(f.Frames, fr)
			}
		}
		f.Count = int(cn.Gaps[0] + cn.Gaps[1] + cn.AckUnseen[0] + cn.AckUnseen[1])
		f.Duration, f.Ending = 0, EndedNormally
		rp.add(f)
	}
	if cn.Partial {
		f := rp.newFinding(KindPartial, Info, reassembly.ServerToClient, first, end)
		f.Frames = []uint64{cn.FirstFrame}
		f.Duration, f.Ending = 0, EndedNormally
		rp.add(f)
	}
	slices.SortStableFunc(rp.conn.Findings, func(a, b Finding) int { return int(a.Kind) - int(b.Kind) })
}

// minStuck is how long a CLOSE_WAIT or FIN_WAIT_2 must last before an RST
// ends it for it to count as stuck: shorter, it is part of an abort.
const minStuck = time.Second

func entered(e *Endpoint, s State) bool {
	_, ok := e.Entered(s)
	return ok
}

// newFinding starts a finding about the endpoint that sends in direction d.
func (rp *replay) newFinding(k Kind, sev Severity, d dir, since, end reassembly.Stamp) Finding {
	role := Client
	if d == reassembly.ServerToClient {
		role = Server
	}
	f := Finding{Kind: k, Severity: sev, Endpoint: rp.ep[d].Addr, Role: role, Peer: rp.ep[d.Reverse()].Addr,
		Since: since, Duration: end.Sub(since), Ending: StillOpen}
	if fs := rp.conn.Findings; len(fs) < cap(fs) {
		spare := &fs[:len(fs)+1][len(fs)] // a recycled finding: reuse its slices
		f.Frames, f.Intervals = spare.Frames[:0], spare.Intervals[:0]
	}
	return f
}

func (rp *replay) add(f Finding) {
	slices.Sort(f.Frames)
	f.Frames = slices.Compact(f.Frames)
	if len(f.Frames) > maxFrames {
		f.Frames = f.Frames[:maxFrames]
	}
	rp.conn.Findings = append(rp.conn.Findings, f)
}

// exit returns how and when the endpoint left state s after entering it at
// index i of its timeline.
func exit(e *Endpoint, i int, end reassembly.Stamp) (reassembly.Stamp, Ending, uint64) {
	for _, ch := range e.Timeline[i+1:] {
		switch ch.On {
		case RecvRST:
			return ch.Time, EndedByRST, ch.Frame
		case Reused:
			return ch.Time, EndedByReuse, ch.Frame
		case Timeout2MSL, FinTimeout, GiveUp:
			return ch.Time, EndedByTimer, ch.Frame
		}
		return ch.Time, EndedNormally, ch.Frame
	}
	return end, StillOpen, 0
}

// closeWait: the peer's FIN was ACKed by this endpoint, which never sent its
// own FIN (DESIGN §4 close-wait).
func (rp *replay) closeWait(d dir, end reassembly.Stamp) {
	e := rp.ep[d]
	if !rp.half[d].Seen {
		return // never seen sending: nothing proves what it did
	}
	i := slices.IndexFunc(e.Timeline, func(c Change) bool { return c.To == CloseWait })
	if i < 0 {
		return
	}
	entry := e.Timeline[i]
	until, ending, exitFrame := exit(e, i, end)
	if ending == EndedNormally || ending == EndedByRST && until.Sub(entry.Time) < minStuck {
		return // it closed (sent FIN) or aborted itself, or an abort followed at once: not a leak
	}
	h := &rp.half[d]
	f := rp.newFinding(KindCloseWait, Warning, d, entry.Time, until)
	f.Ending = ending
	f.NeverServed = h.Bytes == 0
	f.SentAfter = h.DataSeen && h.LastDataNs > int64(entry.Time)
	last := entry.Time
	if f.SentAfter {
		last = reassembly.Stamp(h.LastDataNs)
	}
	f.Idle = until.Sub(last)
	if f.SentAfter && ending == StillOpen && f.Idle < rp.cfg.CloseWaitMin {
		return // a legitimate half-close that is still sending
	}
	if f.Duration >= rp.cfg.CloseWaitMin || ending != StillOpen {
		f.Severity = Error
	}
	f.Frames = append(f.Frames, rp.finFrames[d.Reverse()]...)
	f.Frames = append(f.Frames, entry.Frame)
	if st := rp.lastData[d]; f.SentAfter && st.Frame != 0 {
		f.Frames = append(f.Frames, st.Frame)
	}
	if exitFrame != 0 {
		f.Frames = append(f.Frames, exitFrame)
	}
	rp.add(f)
}

// finWait2: the mirror view, an endpoint waiting for the peer's FIN.
func (rp *replay) finWait2(d dir, end reassembly.Stamp) {
	e := rp.ep[d]
	if !rp.half[d].Seen {
		return // never seen sending: nothing proves what it did
	}
	i := slices.IndexFunc(e.Timeline, func(c Change) bool { return c.To == FinWait2 })
	if i < 0 {
		return
	}
	entry := e.Timeline[i]
	until, ending, exitFrame := exit(e, i, end)
	if ending == EndedNormally {
		if e.Timeline[i+1].On != SendRST {
			return // the peer's FIN came
		}
		ending = EndedByRST
	}
	if ending == EndedByRST && until.Sub(entry.Time) < minStuck {
		return // part of an abort, reported as reset
	}
	peer := &rp.half[d.Reverse()]
	if ending == StillOpen && peer.DataSeen && peer.LastDataNs > int64(entry.Time) && end.Sub(reassembly.Stamp(peer.LastDataNs)) < rp.cfg.CloseWaitMin {
		return // the peer is still sending on a half-closed connection
	}
	f := rp.newFinding(KindFinWait2, Warning, d, entry.Time, until)
	f.Ending = ending
	f.Presumed = ending == EndedByTimer
	f.PeerReset = rp.rstFrame[d] != 0 && rp.half[d].RstSent
	// The RST answered the peer's data when that data came after the FIN
	// was acknowledged and no later than the RST.
	f.ResetOnData = f.PeerReset && peer.DataSeen && peer.LastDataNs > int64(entry.Time) && peer.LastDataNs <= int64(rp.rstAt[d])
	f.Frames = append(f.Frames, rp.finFrames[d]...)
	f.Frames = append(f.Frames, entry.Frame)
	if exitFrame != 0 {
		f.Frames = append(f.Frames, exitFrame)
	}
	if f.PeerReset {
		f.Frames = append(f.Frames, rp.rstFrame[d])
	}
	rp.add(f)
}

// timeWait: this endpoint closed actively and entered TIME-WAIT.
func (rp *replay) timeWait(d dir, end reassembly.Stamp) {
	e := rp.ep[d]
	if !rp.half[d].Seen {
		return // never seen sending: nothing proves what it did
	}
	i := slices.IndexFunc(e.Timeline, func(c Change) bool { return c.To == TimeWait })
	if i < 0 {
		return
	}
	entry := e.Timeline[i]
	until, ending, _ := exit(e, i, end)
	sev := Info
	if d == reassembly.ServerToClient {
		sev = Warning // a server that closes first collects TIME-WAIT
	}
	f := rp.newFinding(KindTimeWait, sev, d, entry.Time, until)
	f.Ending = ending
	f.Frames = append(f.Frames, rp.finFrames[d]...)
	f.Frames = append(f.Frames, entry.Frame)
	rp.add(f)
}

// finRetransmit: a FIN sent more than once.
func (rp *replay) finRetransmit(d dir, first reassembly.Stamp) {
	fr := rp.finFrames[d]
	if len(fr) < 2 {
		return
	}
	f := rp.newFinding(KindFinRetransmit, Info, d, first, rp.now)
	f.Count = len(fr) - 1
	f.Frames = append(f.Frames, fr...)
	if h := &rp.half[d]; h.FinSent {
		// Was the first FIN acknowledged before it was sent again? Then the ACK was lost.
		for _, ch := range rp.ep[d].Timeline {
			if ch.On == RecvACKOfFIN || ch.On == RecvFINACK {
				f.LostAck = ch.Frame < fr[1]
				f.Since = ch.Time
				break
			}
		}
		if pe := rp.ep[d.Reverse()]; !f.LostAck {
			if ch, ok := pe.Entered(TimeWait); ok && ch.Frame < fr[len(fr)-1] {
				f.LostAck = true // the peer was in TIME-WAIT: it had the FIN and its ACK got lost
			}
		}
	}
	f.Duration, f.Ending = 0, EndedNormally
	rp.add(f)
}

// handshake derives syn-recv, syn-timeout and refused.
func (rp *replay) handshake(end reassembly.Stamp) {
	cl, sv := rp.ep[0], rp.ep[1]
	ch, sh := &rp.half[0], &rp.half[1]
	// syn-recv: the server answered with SYN-ACK and never saw the final ACK.
	if i := slices.IndexFunc(sv.Timeline, func(c Change) bool { return c.To == SynReceived }); i >= 0 && sh.Seen &&
		!slices.ContainsFunc(sv.Timeline, func(c Change) bool { return c.To == Established }) {
		entry := sv.Timeline[i]
		until, ending, exitFrame := exit(sv, i, end)
		f := rp.newFinding(KindSynRecv, Warning, reassembly.ServerToClient, entry.Time, until)
		f.Ending = ending
		f.Count = len(rp.synAckFrame) - 1
		f.Frames = append(f.Frames, rp.synFrames...)
		f.Frames = append(f.Frames, rp.synAckFrame...)
		if exitFrame != 0 {
			f.Frames = append(f.Frames, exitFrame)
		}
		rp.add(f)
	}
	if len(rp.synTimes) == 0 {
		return
	}
	first := rp.synTimes[0]
	// refused: the client's SYN was answered by an RST.
	if slices.ContainsFunc(cl.Timeline, func(c Change) bool { return c.From == SynSent && c.On == RecvRST }) {
		f := rp.newFinding(KindRefused, Warning, reassembly.ServerToClient, first, end)
		f.Duration, f.Ending = 0, EndedByRST
		f.Frames = append(f.Frames, rp.synFrames...)
		f.Frames = append(f.Frames, rp.rstFrame[1])
		rp.add(f)
		return
	}
	// syn-timeout: the SYN went unanswered (nothing from the server, and the
	// client never acknowledged anything that would prove an unseen answer).
	if sh.Seen || ch.HaveAck {
		return
	}
	last := rp.synTimes[len(rp.synTimes)-1]
	if len(rp.synTimes) < 2 && end.Sub(last) < time.Second {
		return // a single SYN right before the capture ended proves nothing yet
	}
	f := rp.newFinding(KindSynTimeout, Warning, reassembly.ClientToServer, first, end)
	f.Count = len(rp.synTimes) - 1
	for i := 1; i < len(rp.synTimes); i++ {
		f.Intervals = append(f.Intervals, rp.synTimes[i].Sub(rp.synTimes[i-1]))
	}
	if cl.State != SynSent {
		f.Ending = EndedNormally
		if n := len(cl.Timeline); n > 0 {
			f.Duration = cl.Timeline[n-1].Time.Sub(first)
			if cl.Timeline[n-1].On == GiveUp {
				f.Ending = EndedByTimer
			}
		}
	}
	f.Frames = append(f.Frames, rp.synFrames...)
	if rp.rstFrame[0] != 0 {
		f.Frames = append(f.Frames, rp.rstFrame[0])
	}
	rp.add(f)
}

// resetFindings: RSTs that tore down a connection that was past its handshake.
func (rp *replay) resetFindings() {
	for _, r := range rp.resets {
		if r.peerFrom == SynSent {
			continue // reported as refused
		}
		f := rp.newFinding(KindReset, Warning, r.sender, r.at, r.at)
		f.State, f.PeerState = r.from, r.peerFrom
		f.Ending = EndedByRST
		f.Frames = []uint64{r.frame}
		rp.add(f)
	}
}
