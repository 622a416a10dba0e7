package fsm

import (
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Short names for the reassembly vocabulary used on every segment.
type (
	seqNum = reassembly.Seq
	dir    = reassembly.Dir
)

const (
	fSYN = reassembly.SYN
	fACK = reassembly.ACK
	fFIN = reassembly.FIN
	fRST = reassembly.RST
)

// step replays one segment: first what its ACK field proves the sender had
// received, then what the sender did, then what the receiver got on capture.
func (rp *replay) step(c *reassembly.Conn, seg *reassembly.Segment, info *reassembly.SegInfo) {
	if info.Kind&reassembly.Duplicate != 0 {
		return // the same packet captured twice says nothing new
	}
	if plainPath && rp.plain(seg, info) {
		return
	}
	rp.expire(seg.Time)
	rp.frame, rp.now = seg.Frame, seg.Time
	d := info.Dir
	r := d.Reverse()
	s, rcv := rp.ep[d], rp.ep[r]
	sh := &rp.half[d]
	before := [2]State{rp.ep[0].State, rp.ep[1].State}
	f := seg.Flags

	if info.Kind&reassembly.AckUnseen != 0 && rp.firstUnseen == 0 && rp.half[r].Seen {
		rp.firstUnseen = seg.Frame
	}
	if info.Kind&reassembly.AckUnseen != 0 && rp.firstOneSided == 0 && !rp.half[r].Seen {
		rp.firstOneSided = seg.Frame
	}
	if info.Kind&reassembly.Gap != 0 && rp.firstGap == 0 {
		rp.firstGap = seg.Frame
	}

	// A connection joined mid-stream: both endpoints are assumed ESTABLISHED.
	if s.State == Unknown && f&fSYN == 0 && c.Roles == reassembly.RoleByPort && len(s.Timeline) == 0 && len(rcv.Timeline) == 0 {
		for _, e := range rp.ep {
			e.apply(MidStream, rp.now, seg.Frame, true)
			e.Assumed = true
		}
		rp.conn.Partial = true
	}

	// 1. The sender's ACK field: which of the peer's SYN/FIN it had received.
	if s.State == SynSent && f&(fACK|fSYN|fRST) == fACK && !rp.half[r].HaveISN {
		// It acknowledges a SYN-ACK the capture never saw: the peer answered.
		if rcv.State == Unknown {
			rcv.apply(SendSYNACK, rp.now, seg.Frame, true)
		}
		rp.pendSYN[d].armed, rp.synDelivered[d] = false, true
		s.apply(RecvSYNACK, rp.now, seg.Frame, true)
	}
	if f&fACK != 0 {
		rp.deliverCovered(r, seqNum(seg.Ack), f&fRST != 0)
	}

	// 2. What the sender did.
	if s.State == Unknown && f&(fSYN|fRST) == 0 {
		s.apply(MidStream, rp.now, seg.Frame, true) // its handshake was not captured
		s.Assumed = true
		rp.conn.Partial = true
	}
	switch {
	case f&(fSYN|fACK) == fSYN:
		if !s.State.Synchronized() && s.State != SynReceived {
			s.apply(SendSYN, rp.now, seg.Frame, false)
		}
		if d == reassembly.ClientToServer && seqNum(seg.Seq) == sh.ISN && len(rp.synTimes) < maxFrames {
			rp.synTimes = append(rp.synTimes, rp.now)
			rp.synFrames = append(rp.synFrames, seg.Frame)
		}
		rp.arm(&rp.pendSYN[d], rp.synDelivered[d], seg)
	case f&(fSYN|fACK) == fSYN|fACK:
		if s.State == Unknown || s.State == SynReceived {
			s.apply(SendSYNACK, rp.now, seg.Frame, false)
		}
		if len(rp.synAckFrame) < maxFrames && d == reassembly.ServerToClient && seqNum(seg.Seq) == sh.ISN {
			rp.synAckFrame = append(rp.synAckFrame, seg.Frame)
			rp.synAckTimes = append(rp.synAckTimes, rp.now)
		}
		rp.arm(&rp.pendSYN[d], rp.synDelivered[d], seg)
	}
	if f&fFIN != 0 {
		rp.sendFIN(d, seg, info)
	}
	if f&fRST != 0 {
		rp.sendRST(d, seg)
	}

	// 3. What the receiver got when the segment was captured.
	if f&fRST == 0 {
		if p := &rp.pendSYN[d]; p.armed && seqNum(seg.Seq).After(p.seq) {
			rp.deliver(d, p, seg.Frame) // in-order delivery: a later segment implies the SYN arrived
		}
		if p := &rp.pendFIN[d]; p.armed && seqNum(seg.Seq).After(p.seq) {
			rp.deliver(d, p, seg.Frame)
		}
		switch {
		case f&(fACK|fSYN|fFIN) == fACK:
			rp.ackArrives(r, seqNum(seg.Ack))
		case f&(fSYN|fACK) == fSYN|fACK && rp.synDelivered[d] && f&fFIN == 0:
			rp.ackArrives(r, seqNum(seg.Ack)) // a SYN-ACK whose SYN was already received only acknowledges
		case f&(fACK|fSYN|fFIN) == fACK|fFIN && info.Kind&reassembly.Retransmission != 0 && len(rp.finFrames[d]) > 1:
			// A retransmitted FIN carries a newer ACK as a pure ACK would
			// (crossed FINs whose ACKs were lost: the peer, in CLOSING,
			// reaches TIME_WAIT on the ACK in the FIN's next copy).
			rp.ackArrives(r, seqNum(seg.Ack))
		}
	}
	rp.ladder(seg, info, before)
}

// plainPath lets tests replay without the shortcut of plain, to compare.
var plainPath = true

// plain replays, and reports whether it could, the most common segment:
// an ACK, with or without data, between two ESTABLISHED endpoints with no
// SYN or FIN of either waiting to be received, and nothing the capture
// missed. step would change no state for it: no timer runs in
// ESTABLISHED, the ACK covers no pending control, and the receiver is in
// none of the states an ACK moves on. Only the ladder may record it, as
// the last data segment of its direction.
func (rp *replay) plain(seg *reassembly.Segment, info *reassembly.SegInfo) bool {
	const odd = reassembly.Duplicate | reassembly.AckUnseen | reassembly.Gap
	if seg.Flags&(fSYN|fFIN|fRST|fACK) != fACK || info.Kind&odd != 0 ||
		rp.conn.Client.State != Established || rp.conn.Server.State != Established ||
		rp.pendSYN[0].armed || rp.pendSYN[1].armed || rp.pendFIN[0].armed || rp.pendFIN[1].armed {
		return false
	}
	rp.frame, rp.now = seg.Frame, seg.Time
	rp.ladder(seg, info, [2]State{Established, Established})
	return true
}

// arm records a SYN or FIN from seg as pending receipt, once.
func (rp *replay) arm(p *pending, delivered bool, seg *reassembly.Segment) {
	if p.armed || delivered {
		return
	}
	ctl := seqNum(seg.Seq)
	if seg.Flags&fFIN != 0 && seg.Flags&fSYN == 0 {
		ctl = seqNum(seg.SeqEnd() - 1)
	}
	// Field by field (see ladder): every field is written.
	p.armed, p.seq, p.hasAck, p.ack, p.frame = true, ctl, seg.Flags&fACK != 0, seqNum(seg.Ack), seg.Frame
}

// deliverCovered delivers the pending SYN/FIN of the endpoint sending in
// direction from that ack covers, to its peer. A reset that covers a SYN
// refuses it instead of receiving it.
func (rp *replay) deliverCovered(from dir, ack seqNum, rst bool) {
	if p := &rp.pendSYN[from]; p.armed && ack.After(p.seq) {
		if rst && !rp.half[from.Reverse()].HaveISN {
			p.armed, rp.synDelivered[from] = false, true // refused: no socket received it
		} else {
			rp.deliver(from, p, rp.frame)
		}
	}
	if p := &rp.pendFIN[from]; p.armed && ack.After(p.seq) {
		rp.deliver(from, p, rp.frame)
	}
}

// deliver applies a pending SYN or FIN from the endpoint sending in
// direction from to its peer, proven at frame.
func (rp *replay) deliver(from dir, p *pending, frame uint64) {
	p.armed = false
	to := from.Reverse()
	e := rp.ep[to]
	mine := &rp.half[to]
	isSYN := p == &rp.pendSYN[from]
	var ev Event
	switch {
	case isSYN:
		rp.synDelivered[from] = true
		ev = RecvSYN
		if p.hasAck && mine.HaveISN && p.ack.After(mine.ISN) {
			ev = RecvSYNACK
		}
	default:
		rp.finDelivered[from] = true
		ev = RecvFIN
		if p.hasAck && mine.FinSent && p.ack.After(mine.FinSeq) && e.State != TimeWait {
			ev = RecvFINACK
		}
		if e.State == TimeWait {
			rp.twStart[to] = rp.now // a retransmitted FIN restarts 2MSL (RFC 9293 §3.10.7.4)
		}
	}
	if e.State == Unknown && !isSYN {
		e.apply(MidStream, rp.now, frame, true)
		e.Assumed = true
	}
	e.apply(ev, rp.now, frame, false)
	if e.State == TimeWait && rp.twStart[to].Before(e.Since) {
		rp.twStart[to] = e.Since
	}
}

// sendFIN replays a FIN from direction d.
func (rp *replay) sendFIN(d dir, seg *reassembly.Segment, info *reassembly.SegInfo) {
	s := rp.ep[d]
	if len(rp.finFrames[d]) < maxFrames {
		rp.finFrames[d] = append(rp.finFrames[d], seg.Frame)
	}
	if len(rp.finFrames[d]) == 1 || info.Kind&reassembly.Retransmission == 0 {
		if s.State == Established || s.State == CloseWait || s.State == SynReceived {
			s.apply(SendFIN, rp.now, seg.Frame, false)
		}
		rp.arm(&rp.pendFIN[d], rp.finDelivered[d], seg)
		return
	}
	// A retransmitted FIN.
	switch s.State {
	case FinWait2, TimeWait, FinWait1, Closing, LastAck:
		s.apply(ResendFIN, rp.now, seg.Frame, false)
	case Closed:
		if n := len(s.Timeline); n > 0 && s.Timeline[n-1].On == RecvACKOfFIN {
			s.apply(ResendFIN, rp.now, seg.Frame, false)
		}
	}
	if rp.finDelivered[d] && rp.ep[d.Reverse()].State == TimeWait {
		rp.finDelivered[d] = false // re-arm: the peer's re-ACK restarts its TIME-WAIT
		rp.arm(&rp.pendFIN[d], false, seg)
	}
}

// sendRST replays an RST from direction d: the sender's socket is gone, and
// the receiver's too if the RST is in its window.
func (rp *replay) sendRST(d dir, seg *reassembly.Segment) {
	s, r := rp.ep[d], rp.ep[d.Reverse()]
	if rp.rstFrame[d] == 0 {
		rp.rstFrame[d], rp.rstAt[d] = seg.Frame, rp.now
	}
	sFrom, rFrom := s.State, r.State
	s.apply(SendRST, rp.now, seg.Frame, false)
	if !rp.rstAcceptable(d, seg) {
		return
	}
	r.apply(RecvRST, rp.now, seg.Frame, false)
	if len(rp.resets) < maxFrames {
		rp.resets = append(rp.resets, resetInfo{sender: d, from: sFrom, peerFrom: rFrom, frame: seg.Frame, at: rp.now})
	}
}

// rstAcceptable reports whether an RST from direction d would be accepted
// by its receiver (RFC 9293 §3.10.7; RFC 5961 §3.2 narrows this to an exact
// match, which a passive observer cannot know, so the window is used).
func (rp *replay) rstAcceptable(d dir, seg *reassembly.Segment) bool {
	r := rp.ep[d.Reverse()]
	rh, sh := &rp.half[d.Reverse()], &rp.half[d]
	switch r.State {
	case Unknown, Closed, Listen:
		return false
	case SynSent:
		return seg.Flags&fACK != 0 && rh.HaveISN && seqNum(seg.Ack) == rh.ISN.Add(1)
	}
	if !rh.HaveAck {
		return true
	}
	wnd := uint32(rh.Window)
	if rh.WScale != reassembly.NoWScale && sh.WScale != reassembly.NoWScale {
		wnd <<= uint(rh.WScale)
	}
	wnd = max(wnd, 1)
	seq := seqNum(seg.Seq)
	return seq.InWindow(rh.MaxAck, wnd) || seq == sh.NextSeq
}

// ackArrives applies a pure ACK or data segment's acknowledgment to its
// receiver (the endpoint sending in direction to).
func (rp *replay) ackArrives(to dir, ack seqNum) {
	e, h := rp.ep[to], &rp.half[to]
	if e.State == SynReceived && (!h.Seen || h.HaveISN && ack.After(h.ISN)) {
		e.apply(RecvACKOfSYN, rp.now, rp.frame, false)
	}
	if h.FinSent && ack.After(h.FinSeq) {
		switch e.State {
		case FinWait1, Closing, LastAck:
			e.apply(RecvACKOfFIN, rp.now, rp.frame, false)
		}
	}
}

// Retransmission timeouts bounding the give-up inference. Before any RTT
// sample RFC 6298 §2.1 starts at 1 s (Linux), but RFC 1122 stacks (older
// Windows) start at 3 s, so a lone SYN is given 3 s. No stack retransmits
// faster than minRTO (Linux's 200 ms floor).
const (
	initialRTO = 3 * time.Second
	minRTO     = 200 * time.Millisecond
)

// gaveUp returns when an endpoint retransmitting its SYN (or SYN-ACK) at the
// times ts stopped: the next retransmission, at double the last interval,
// was due by then and had not come by now (with half an interval of slack).
func gaveUp(ts []reassembly.Stamp, now reassembly.Stamp) (reassembly.Stamp, bool) {
	if len(ts) == 0 || len(ts) >= maxFrames {
		return 0, false
	}
	last := ts[len(ts)-1]
	rto := initialRTO
	if n := len(ts); n >= 2 {
		rto = max(2*ts[n-1].Sub(ts[n-2]), minRTO)
	}
	due := last.Add(rto)
	return due, now.Sub(due) > rto/2
}

// expire runs the timers up to time now.
func (rp *replay) expire(now reassembly.Stamp) {
	for i, e := range rp.ep {
		if !hasTimer(e.State) {
			continue // nothing is due (and due need not be asked)
		}
		if ev, at, presumed, ok := rp.due(i, now); ok {
			e.apply(ev, at, 0, presumed)
		}
	}
}

// due returns the timer event that endpoint i (by reassembly.Dir) has due at
// time now, when it fired, and whether it is presumed; ok is false when no
// timer is due. It changes nothing (see expire, and Tracker.Snapshot).
func (rp *replay) due(i int, now reassembly.Stamp) (ev Event, at reassembly.Stamp, presumed, ok bool) {
	e := rp.ep[i]
	switch e.State {
	case SynSent:
		if at, ok := gaveUp(rp.synTimes, now); ok && i == int(reassembly.ClientToServer) && !rp.half[1].Seen {
			return GiveUp, at, true, true
		}
	case SynReceived:
		if at, ok := gaveUp(rp.synAckTimes, now); ok && i == int(reassembly.ServerToClient) {
			return GiveUp, at, true, true
		}
	case TimeWait:
		start := rp.twStart[i]
		if start == 0 || start.Before(e.Since) {
			start = e.Since
		}
		if at := start.Add(2 * rp.cfg.MSL); !now.Before(at) {
			return Timeout2MSL, at, false, true
		}
	case FinWait2:
		idle := e.Since
		if h := &rp.half[i]; h.Seen && reassembly.Stamp(h.LastNs) > idle {
			idle = reassembly.Stamp(h.LastNs)
		}
		if at := idle.Add(rp.cfg.FinTimeout); !now.Before(at) {
			return FinTimeout, at, true, true
		}
	}
	return 0, 0, false, false
}

// ladder records seg as a ladder step if it matters: control flags, a
// state change, or (kept aside) the last payload segment of each direction.
func (rp *replay) ladder(seg *reassembly.Segment, info *reassembly.SegInfo, before [2]State) {
	if rp.lean {
		// No ladder, but closeWait cites the last data segment that is
		// not a ladder step: its frame is kept as below.
		if seg.Len > 0 && seg.Flags&(fSYN|fFIN|fRST) == 0 && before == [2]State{rp.ep[0].State, rp.ep[1].State} {
			rp.lastData[info.Dir].Frame = seg.Frame
		}
		return
	}
	changed := [2]bool{before[0] != rp.ep[0].State, before[1] != rp.ep[1].State}
	var st *Step
	switch {
	case seg.Flags&(fSYN|fFIN|fRST) != 0 || changed[0] || changed[1]:
		if st = rp.newStep(); st == nil {
			return
		}
	case seg.Len > 0:
		st = &rp.lastData[info.Dir]
	default:
		return
	}
	// Written in place, field by field: a Step built aside and copied
	// is read back with wider loads than wrote it, and such a load
	// waits for the stores to reach the cache (a failed store forward).
	st.Time, st.Frame, st.Dir, st.Flags = rp.now, seg.Frame, info.Dir, seg.Flags
	st.Seq, st.Ack, st.Len, st.Kind = info.RelSeq, info.RelAck, seg.Len, info.Kind
	st.Client, st.Server, st.ClientChanged, st.ServerChanged = rp.ep[0].State, rp.ep[1].State, changed[0], changed[1]
	st.Stale = false
}

// insertStep adds st to the ladder in frame order, unless its frame is there.
func (rp *replay) insertStep(st Step) {
	l := rp.conn.Ladder
	i := len(l)
	for i > 0 && l[i-1].Frame > st.Frame {
		i--
	}
	if i > 0 && l[i-1].Frame == st.Frame {
		return
	}
	if len(l) >= maxLadder {
		rp.conn.LadderOmitted++
		return
	}
	rp.conn.Ladder = slices.Insert(l, i, st)
}

func (rp *replay) addStep(st Step) {
	if p := rp.newStep(); p != nil {
		*p = st
	}
}

// newStep appends a zero step to the ladder and returns it, or counts it
// omitted and returns nil when the ladder is full.
func (rp *replay) newStep() *Step {
	if len(rp.conn.Ladder) >= maxLadder {
		rp.conn.LadderOmitted++
		return nil
	}
	rp.conn.Ladder = append(rp.conn.Ladder, Step{})
	return &rp.conn.Ladder[len(rp.conn.Ladder)-1]
}

// stale records a segment of this (old) connection that answered a newer
// incarnation's SYN, as evidence and as a ladder step of the new connection.
func (rp *replay) stale(seg *reassembly.Segment, info *reassembly.SegInfo) {
	nw := rp.reusedBy
	ru := nw.reuse
	if len(ru.frames) < maxFrames {
		ru.frames = append(ru.frames, seg.Frame)
	}
	src := seg.Src()
	if src == nw.ep[ru.stale].Addr {
		ru.answers++ // the old socket answering the new SYN
	}
	if nw.lean {
		return
	}
	d := reassembly.ClientToServer
	if src == nw.conn.Server.Addr {
		d = reassembly.ServerToClient
	}
	nw.addStep(Step{Time: seg.Time, Frame: seg.Frame, Dir: d, Flags: seg.Flags, Seq: info.RelSeq, Ack: info.RelAck,
		Len: seg.Len, Kind: info.Kind, Client: nw.ep[0].State, Server: nw.ep[1].State, Stale: true})
}

// finish fills cn with the connection: the replay's state, the
// assembler's counters, the ladder completed and the findings derived, and
// Zeek's verdict unless keep (when set) says cn will not be shown.
func (rp *replay) finish(c *reassembly.Conn, at reassembly.Stamp, cn *Conn, keep func(*Conn) bool) {
	l := &rp.conn
	l.Partial = l.Partial || c.Partial()
	*cn = Conn{ID: c.ID, Key: c.Key, Incarnation: c.Incarnation, Roles: c.Roles, Partial: l.Partial,
		FirstFrame: c.FirstFrame, First: c.First.Time(), LastFrame: c.LastFrame, Last: c.Last.Time(), End: at.Time()}
	for d := range c.Half {
		h := &c.Half[d]
		cn.Packets[d], cn.Bytes[d], cn.IPBytes[d] = h.Packets, h.Bytes, h.IPBytes
		if h.Seen {
			size := int64(uint32(h.NextSeq - h.Base))
			if h.HaveISN {
				size-- // the SYN
			}
			if h.FinSent {
				size--
			}
			cn.SeqBytes[d] = uint64(max(size, 0))
		}
		cn.Retransmits[d], cn.Duplicates[d], cn.KeepAlives[d] = h.Retransmits, h.Duplicates, h.KeepAlives
		cn.OutOfOrder[d], cn.Gaps[d], cn.AckUnseen[d] = h.OutOfOrder, h.Gaps, h.AckUnseen
		if st := rp.lastData[d]; st.Frame != 0 && !rp.lean {
			rp.insertStep(st)
		}
	}
	rp.findings(cn, at)
	cn.Client, cn.Server = l.Client, l.Server
	cn.Ladder, cn.LadderOmitted, cn.Findings = l.Ladder, l.LadderOmitted, l.Findings
	if !rp.lean && (keep == nil || keep(cn)) {
		if !rp.eager {
			rp.zeekCatchUp()
		}
		cn.Zeek = rp.detail.zeek.result(rp.histories)
	}
}
