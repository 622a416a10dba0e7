package fsm

import (
	"net/netip"

	"github.com/tcpstate/tcpstate/reassembly"
)

// This file emulates Zeek's TCP connection bookkeeping (zeek/zeek at a13de64f:
// src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc, TCP.cc,
// src/analyzer/protocol/tcp/TCP_Endpoint.{h,cc}, TCP_Reassembler.cc,
// src/Conn.cc, src/packet_analysis/protocol/ip/IPBasedAnalyzer.cc and the
// conn_state() function of scripts/base/protocols/conn/main.zeek). It is an
// independent Go re-implementation of the documented behaviour, written so that
// the conn_state and history it reports agree with Zeek's conn.log for the same
// packets. Checksums are not verified (Zeek run with -C), timers are not
// modelled (the caller decides where one connection ends and the next begins),
// and application-layer analyzers are not modelled.

// ZeekResult is Zeek's verdict for one connection.
type ZeekResult struct {
	// Orig and Resp are Zeek's originator and responder after any flip.
	Orig, Resp netip.AddrPort
	// State is Zeek's conn_state code ("SF", "S0", …), or "" when no segment was added.
	State string
	// History is Zeek's history string, e.g. "ShADadFf", with a leading "^" when
	// Zeek flipped the roles.
	History string
}

// zeekEPState is a Zeek TCP endpoint state (TCP_Endpoint.h, EndpointState).
type zeekEPState uint8

// Zeek endpoint states.
const (
	zeekInactive    zeekEPState = iota // nothing seen from this endpoint
	zeekSynSent                        // SYN seen
	zeekSynAckSent                     // SYN-ACK seen without the initial SYN
	zeekPartial                        // data without a SYN
	zeekEstablished                    // handshake completed (as Zeek judges it)
	zeekClosed                         // FIN seen (not necessarily acknowledged)
	zeekReset                          // RST seen
)

// History letters, upper case for the originator (Conn.h / main.zeek).
const (
	histLetterSYN      = 'S'
	histLetterSYNACK   = 'H'
	histLetterACK      = 'A'
	histLetterData     = 'D'
	histLetterFIN      = 'F'
	histLetterRST      = 'R'
	histLetterGap      = 'G'
	histLetterRexmit   = 'T'
	histLetterZeroWin  = 'W'
	histLetterFINRST   = 'I'
	histLetterMulti    = 'Q'
	histLetterFlipped  = '^'
	caseShift          = 'a' - 'A'
	respHistMaskShift  = 16 // responder "seen once" bits sit above the originator's
	maxHistoryLen      = 256
	scaledHistoryBase  = 10 // c g t w are recorded at 1, 10, 100, … occurrences
	tooLargeSeqDelta   = 1048576
	maxAboveHoleNoAcks = 16384            // tcp_max_above_hole_without_any_acks
	maxExcessiveData   = 10 * 1024 * 1024 // tcp_excessive_data_without_further_acks
	maxReassemBlocks   = 32               // out-of-order blocks kept per endpoint
)

// Bits of the once-per-direction history mask (TCP_Endpoint.h HIST_*).
const (
	histSYNPkt uint32 = 1 << iota
	histFINPkt
	histRSTPkt
	histFINRSTPkt
	histDataPkt
	histACKPkt
	histMultiFlagPkt
)

// seqSpan is a half-open range of relative sequence numbers held by the reassembler.
type seqSpan struct{ lo, hi uint64 }

// zeekEndpoint is one side's Zeek TCP_Endpoint plus its TCP_Reassembler state.
type zeekEndpoint struct {
	state, prevState zeekEPState
	isOrig           bool

	startSeq, lastSeq, ackSeq uint32
	seqWraps, ackWraps        uint32

	histLastSYN, histLastFIN, histLastRST uint64

	finCnt, rstCnt int
	finSeq         uint64

	gapCnt, gapThresh   uint32
	rxmtCnt, rxmtThresh uint32
	win0Cnt, win0Thresh uint32

	// Reassembler: last contiguous relative sequence delivered, trim point,
	// buffered out-of-order blocks, and whether delivery was abandoned.
	lastReassem, trimSeq uint64
	blocks               []seqSpan // len maxReassemBlocks once used
	nBlocks              int
	skipDeliveries       bool
}

func (e *zeekEndpoint) init(isOrig bool) {
	*e = zeekEndpoint{isOrig: isOrig, gapThresh: 1, rxmtThresh: 1, win0Thresh: 1, lastReassem: 1, trimSeq: 1}
}

func (e *zeekEndpoint) setState(s zeekEPState) {
	if s != e.state {
		e.prevState = e.state
		e.state = s
	}
}

func (e *zeekEndpoint) updateLastSeq(seq uint32) {
	if seq < e.lastSeq {
		e.seqWraps++
	}
	e.lastSeq = seq
}

func (e *zeekEndpoint) updateAckSeq(seq uint32) {
	if seq < e.ackSeq {
		e.ackWraps++
	}
	e.ackSeq = seq
}

func (e *zeekEndpoint) initSeqs(start, last uint32) {
	e.startSeq = start
	e.ackSeq = start
	e.lastSeq = last
}

func fullSeq(seq, wraps uint32) uint64 { return uint64(wraps)<<32 | uint64(seq) }

func (e *zeekEndpoint) relative(seq, wraps uint32) uint64 {
	return fullSeq(seq, wraps) - uint64(e.startSeq)
}

// relSeq mirrors get_relative_seq: the sequence number cur relative to the
// endpoint's initial sequence number, using last/wraps to detect wrap-around.
// underflow is set when cur lies before the start of the sequence space.
func (e *zeekEndpoint) relSeq(cur, last, wraps uint32) (rel uint64, underflow bool) {
	delta := int32(cur - last)
	switch {
	case delta < 0:
		if wraps > 0 && cur > last {
			wraps--
		}
	case delta > 0:
		if cur < last {
			wraps++
		}
	}
	if wraps == 0 {
		d := int32(cur - e.startSeq)
		return uint64(int64(d)), d < 0
	}
	return e.relative(cur, wraps), false
}

// noDataAcked reports whether the peer has acknowledged nothing beyond the SYN.
func (e *zeekEndpoint) noDataAcked() bool {
	ack := fullSeq(e.ackSeq, e.ackWraps)
	start := uint64(e.startSeq)
	return ack == start || ack == start+1
}

// size mirrors TCP_Endpoint::Size, the payload byte count Zeek reports.
func (e *zeekEndpoint) size(peer *zeekEndpoint) uint64 {
	if e.prevState == zeekSynSent && e.state == zeekReset && peer.state == zeekInactive && !e.noDataAcked() {
		return 0
	}
	last, ack := fullSeq(e.lastSeq, e.seqWraps), fullSeq(e.ackSeq, e.ackWraps)
	top := max(last, ack)
	sz := top - uint64(e.startSeq)
	if sz != 0 {
		sz--
	}
	if e.finCnt > 0 && sz != 0 {
		sz--
	}
	return sz
}

// zeekEnd is an address and port as a segment holds them.
type zeekEnd struct {
	ip   reassembly.IP
	port uint16
}

func (e zeekEnd) addrPort(v6 bool) netip.AddrPort { return netip.AddrPortFrom(e.ip.Addr(v6), e.port) }

// ZeekConn replays one connection's segments the way Zeek's TCP analyzer does.
// The zero value is ready to use. Not safe for concurrent use. Add does not
// allocate in the steady state: the history buffer grows to at most
// maxHistoryLen bytes.
type ZeekConn struct {
	started   bool
	orig      zeekEnd // Zeek's current originator address and port
	resp      zeekEnd
	v6        bool // the connection's segments are IPv6 (ZeekResult's addresses)
	eps       [2]zeekEndpoint
	o, r      *zeekEndpoint // originator and responder, pointing into eps
	history   []byte
	histSeen  uint32
	isPartial bool
	firstSeen [2]bool // first packet seen from originator, responder
	packets   uint64
}

// LikelyServerPorts is the set of TCP ports that Zeek's full default
// configuration adds to likely_server_ports (each base protocol script does
// "redef likely_server_ports += { ports }"). Zeek uses it to choose the
// originator of a connection whose first packet is not a pure SYN. Bare-mode
// (-b) runs load fewer scripts and so have a smaller set; see
// testdata/zeek/DISAGREEMENTS.md.
var LikelyServerPorts = map[uint16]bool{
	21: true, 2811: true, // FTP, GridFTP
	22: true,            // SSH
	25: true, 587: true, // SMTP
	53: true,                                                                                  // DNS
	80: true, 81: true, 631: true, 1080: true, 3128: true, 8000: true, 8080: true, 8888: true, // HTTP
	88:  true,            // Kerberos
	110: true,            // POP3
	135: true,            // DCE-RPC endpoint mapper
	139: true, 445: true, // SMB
	143: true,             // IMAP
	389: true, 3268: true, // LDAP
	443: true, 563: true, 585: true, 614: true, 636: true, 989: true, 990: true, 992: true, 993: true, 995: true, 5223: true, // SSL/TLS
	502:  true,             // Modbus
	1883: true,             // MQTT
	3306: true,             // MySQL
	3389: true,             // RDP
	5222: true, 5269: true, // XMPP
	5432: true,                                                                                                                         // PostgreSQL
	5900: true, 5901: true, 5902: true, 5903: true, 5904: true, 5905: true, 5906: true, 5907: true, 5908: true, 5909: true, 5910: true, // VNC (RFB)
	6379: true,                                     // Redis
	6666: true, 6667: true, 6668: true, 6669: true, // IRC
	20000: true, // DNP3
}

func isLikelyServer(port uint16) bool { return LikelyServerPorts[port] }

// wantFlip mirrors TCPAnalyzer::WantConnection: whether a connection whose
// first packet is seg should have its roles flipped from the start.
func wantFlip(seg *reassembly.Segment) bool {
	f := seg.Flags
	if f.Has(reassembly.SYN) && !f.Has(reassembly.ACK) {
		return false
	}
	src, dst := seg.SrcPort, seg.DstPort
	if !isLikelyServer(src) {
		return false
	}
	if isLikelyServer(dst) {
		return !f.Has(reassembly.SYN) && src < dst
	}
	return true
}

// Add feeds the next segment of the connection, in capture order. The whole
// payload is taken to have been captured.
func (z *ZeekConn) Add(seg *reassembly.Segment) {
	if seg == nil {
		return
	}
	z.AddCaptured(seg, seg.Len)
}

// AddCaptured is Add for a segment of which only captured payload bytes are in
// the capture (snaplen truncation). Zeek does not hand a truncated payload to
// its reassembler, so acknowledgements of that data later show up as content
// gaps (history letters G/g); reassembly.Segment does not record the captured
// length, so callers that know it can pass it here.
func (z *ZeekConn) AddCaptured(seg *reassembly.Segment, captured uint32) {
	if seg == nil {
		return
	}
	if !z.started {
		z.started = true
		z.orig, z.resp, z.v6 = zeekEnd{seg.SrcIP, seg.SrcPort}, zeekEnd{seg.DstIP, seg.DstPort}, seg.V6
		z.eps[0].init(true)
		z.eps[1].init(false)
		z.o, z.r = &z.eps[0], &z.eps[1]
		if z.history == nil {
			z.history = make([]byte, 0, 16)
		}
		if wantFlip(seg) {
			z.flipRoles()
		}
	}
	src := zeekEnd{seg.SrcIP, seg.SrcPort}
	isOrig := src == z.orig
	if !isOrig && src != z.resp {
		return // not part of this connection
	}
	z.packets++

	// PR zeek/zeek#2191: a connection that began with a SYN-ACK is flipped when
	// an ACK or data segment (without SYN/FIN/RST) follows in either direction.
	f := seg.Flags
	if z.packets == 2 && z.o.state == zeekSynAckSent && z.r.state == zeekInactive &&
		!f.Has(reassembly.SYN) && !f.Has(reassembly.FIN) && !f.Has(reassembly.RST) &&
		(f.Has(reassembly.ACK) || seg.Len > 0) {
		z.flipRoles()
		z.r.setState(zeekEstablished)
		isOrig = src == z.orig
	}
	z.process(isOrig, seg, captured >= seg.Len)
}

// flipRoles mirrors Connection::FlipRoles plus TCPSessionAdapter::FlipRoles:
// the endpoints swap roles and the history is rewritten so that it reads from
// the new originator's point of view, prefixed with '^'.
func (z *ZeekConn) flipRoles() {
	z.orig, z.resp = z.resp, z.orig
	z.o, z.r = z.r, z.o
	z.o.isOrig, z.r.isOrig = true, false
	z.firstSeen[0], z.firstSeen[1] = z.firstSeen[1], z.firstSeen[0]
	z.isPartial = false
	lo := z.histSeen & (1<<respHistMaskShift - 1)
	z.histSeen = z.histSeen>>respHistMaskShift | lo<<respHistMaskShift
	for i, c := range z.history {
		switch {
		case c >= 'a' && c <= 'z':
			z.history[i] = c - caseShift
		case c >= 'A' && c <= 'Z':
			z.history[i] = c + caseShift
		}
	}
	if len(z.history) < maxHistoryLen {
		z.history = append(z.history, 0)
		copy(z.history[1:], z.history[:len(z.history)-1])
		z.history[0] = histLetterFlipped
	}
}

func (z *ZeekConn) addHistory(isOrig bool, code byte) {
	if !isOrig && code >= 'A' && code <= 'Z' {
		code += caseShift
	}
	if len(z.history) < maxHistoryLen {
		z.history = append(z.history, code)
	}
}

// checkHistory records code the first time the mask bit is seen for the
// direction and reports whether it had been seen before (Connection::CheckHistory).
func (z *ZeekConn) checkHistory(isOrig bool, mask uint32, code byte) bool {
	if !isOrig {
		mask <<= respHistMaskShift
	}
	if z.histSeen&mask == 0 {
		z.histSeen |= mask
		z.addHistory(isOrig, code)
		return false
	}
	return true
}

// scaledHistory mirrors Connection::ScaledHistoryEntry: the letter is recorded
// on the 1st, 10th, 100th, … occurrence.
func (z *ZeekConn) scaledHistory(isOrig bool, code byte, counter, threshold *uint32) {
	*counter++
	if *counter != *threshold {
		return
	}
	z.addHistory(isOrig, code)
	next := *threshold * scaledHistoryBase
	if next <= *threshold {
		*counter = 0
	} else {
		*threshold = next
	}
}

func (z *ZeekConn) endpoints(isOrig bool) (ep, peer *zeekEndpoint) {
	if isOrig {
		return z.o, z.r
	}
	return z.r, z.o
}

func (z *ZeekConn) setPartialStatus(isOrig bool, f reassembly.Flags) {
	if isOrig {
		if !z.firstSeen[0] {
			z.isPartial = !f.Has(reassembly.SYN) || f.Has(reassembly.ACK)
		}
	} else if !z.firstSeen[1] && !z.isPartial {
		z.isPartial = !f.Has(reassembly.SYN)
	}
}

func (z *ZeekConn) process(isOrig bool, seg *reassembly.Segment, fullPayload bool) {
	f := seg.Flags
	ep, peer := z.endpoints(isOrig)
	z.setPartialStatus(isOrig, f)

	length := seg.Len
	segLen := length
	if f.Has(reassembly.SYN) {
		segLen++
	}
	if f.Has(reassembly.FIN) {
		segLen++
	}
	if f.Has(reassembly.RST) {
		segLen -= length
	}
	seqPast := seg.Seq + segLen

	z.initEndpoint(ep, f, seg.Seq, seqPast)
	relSeq, underflow := ep.relSeq(seg.Seq, ep.lastSeq, ep.seqWraps)

	z.updateHistory(isOrig, ep, f, relSeq, uint64(length))
	if seg.Window == 0 && !f.Has(reassembly.RST) && peer.state != zeekClosed && ep.state != zeekReset {
		z.scaledHistory(isOrig, histLetterZeroWin, &ep.win0Cnt, &ep.win0Thresh)
	}
	if f.Has(reassembly.FIN) {
		ep.finCnt++
		ep.finSeq = relSeq + uint64(segLen)
	}
	if f.Has(reassembly.RST) {
		ep.rstCnt++
	}

	var relAck uint64
	if f.Has(reassembly.ACK) {
		if peer.state == zeekInactive {
			relAck = 1
			peer.initSeqs(seg.Ack-1, seg.Ack-1)
		} else {
			ra, au := peer.relSeq(seg.Ack, peer.ackSeq, peer.ackWraps)
			if !au {
				relAck = ra
				d := int32(seg.Ack - peer.ackSeq)
				if !f.Has(reassembly.RST) && d > 0 && !(seg.Ack == 0 && d > tooLargeSeqDelta) {
					peer.updateAckSeq(seg.Ack)
				}
			}
		}
	}

	z.updateLastSeq(isOrig, ep, seqPast, f, length)
	z.updateStateMachine(isOrig, ep, peer, seg)

	if f.Has(reassembly.ACK) {
		z.ackReceived(peer.isOrig, peer, ep, relAck)
	}

	dataSeq := relSeq
	if f.Has(reassembly.SYN) {
		dataSeq++
	}
	if length > 0 && !f.Has(reassembly.RST) && !underflow && fullPayload {
		ep.dataSent(dataSeq, uint64(length))
	}
	if ep.isOrig {
		z.firstSeen[0] = true
	} else {
		z.firstSeen[1] = true
	}
}

func (z *ZeekConn) initEndpoint(ep *zeekEndpoint, f reassembly.Flags, seq, seqPast uint32) {
	syn := f.Has(reassembly.SYN)
	switch ep.state {
	case zeekInactive:
		if syn {
			ep.initSeqs(seq, seqPast)
		} else {
			ep.initSeqs(seq-1, seq)
		}
	case zeekSynSent, zeekSynAckSent:
		if syn && seq != ep.startSeq {
			ep.initSeqs(seq, seqPast)
		}
	case zeekEstablished, zeekPartial:
		if syn {
			ep.initSeqs(seq, seqPast)
		}
	case zeekReset:
		if syn && ep.prevState == zeekInactive {
			ep.initSeqs(seq, seqPast)
		}
	}
}

func (z *ZeekConn) updateHistory(isOrig bool, ep *zeekEndpoint, f reassembly.Flags, relSeq, length uint64) {
	syn, fin, rst := f.Has(reassembly.SYN), f.Has(reassembly.FIN), f.Has(reassembly.RST)
	bits := 0
	for _, b := range [...]bool{syn, fin, rst} {
		if b {
			bits++
		}
	}
	switch {
	case bits > 1:
		if fin && rst {
			z.checkHistory(isOrig, histFINRSTPkt, histLetterFINRST)
		} else {
			z.checkHistory(isOrig, histMultiFlagPkt, histLetterMulti)
		}
	case syn:
		code := byte(histLetterSYN)
		if f.Has(reassembly.ACK) {
			code = histLetterSYNACK
		}
		if z.checkHistory(isOrig, histSYNPkt, code) && relSeq != ep.histLastSYN {
			z.addHistory(isOrig, code)
		}
		ep.histLastSYN = relSeq
	case fin:
		if z.checkHistory(isOrig, histFINPkt, histLetterFIN) && relSeq+length != ep.histLastFIN {
			z.addHistory(isOrig, histLetterFIN)
		}
		ep.histLastFIN = relSeq + length
	case rst:
		if z.checkHistory(isOrig, histRSTPkt, histLetterRST) && relSeq != ep.histLastRST {
			z.addHistory(isOrig, histLetterRST)
		}
		ep.histLastRST = relSeq
	case length > 0:
		z.checkHistory(isOrig, histDataPkt, histLetterData)
	case f.Has(reassembly.ACK):
		z.checkHistory(isOrig, histACKPkt, histLetterACK)
	}
}

// updateLastSeq mirrors update_last_seq, recording retransmitted payload.
func (z *ZeekConn) updateLastSeq(isOrig bool, ep *zeekEndpoint, last uint32, f reassembly.Flags, length uint32) {
	delta := int32(last - ep.lastSeq)
	switch {
	case (f.Has(reassembly.SYN) || f.Has(reassembly.RST)) && (delta > tooLargeSeqDelta || delta < -tooLargeSeqDelta):
		// Untrusted sequence number.
	case f.Has(reassembly.FIN) && ep.lastSeq == ep.startSeq+1:
		ep.updateLastSeq(last)
	case ep.state == zeekReset:
		// Sequence numbers after a RST are not trusted.
	case delta > 0:
		ep.updateLastSeq(last)
	case length > 0:
		z.scaledHistory(isOrig, histLetterRexmit, &ep.rxmtCnt, &ep.rxmtThresh)
	}
}

func (z *ZeekConn) updateStateMachine(isOrig bool, ep, peer *zeekEndpoint, seg *reassembly.Segment) {
	f := seg.Flags
	syn, fin, rst, ack := f.Has(reassembly.SYN), f.Has(reassembly.FIN), f.Has(reassembly.RST), f.Has(reassembly.ACK)
	switch ep.state {
	case zeekInactive:
		z.updateInactive(isOrig, ep, peer, seg)
	case zeekSynSent, zeekSynAckSent:
		if fin {
			ep.setState(zeekClosed)
		}
		if rst {
			ep.setState(zeekReset)
		}
	case zeekEstablished, zeekPartial:
		if syn && ep.state == zeekPartial && peer.state == zeekInactive && !ack {
			ep.setState(zeekSynSent)
		}
		if fin && !rst {
			ep.setState(zeekClosed)
			if peer.state == zeekReset && peer.prevState == zeekClosed {
				peer.setState(zeekClosed)
			}
		}
		if rst {
			ep.setState(zeekReset)
		}
	case zeekClosed:
		if rst && peer.state != zeekClosed {
			ep.setState(zeekReset)
		}
	case zeekReset:
		// Nothing changes after a RST.
	}
}

func (z *ZeekConn) updateInactive(isOrig bool, ep, peer *zeekEndpoint, seg *reassembly.Segment) {
	f := seg.Flags
	syn, fin, rst, ack := f.Has(reassembly.SYN), f.Has(reassembly.FIN), f.Has(reassembly.RST), f.Has(reassembly.ACK)
	if syn {
		if isOrig {
			if ack {
				ep.setState(zeekSynAckSent)
			} else {
				ep.setState(zeekSynSent)
			}
		} else {
			if !ack && peer.state == zeekSynAckSent && seg.Seq == ep.startSeq {
				// SYN/SYN-ACK reversal: flip and establish.
				z.flipRoles()
				isOrig = true
				peer.setState(zeekEstablished)
			}
			if peer.state == zeekSynSent {
				peer.setState(zeekEstablished)
			}
			ep.setState(zeekEstablished)
		}
	}
	if fin {
		ep.setState(zeekClosed)
	}
	if rst {
		ep.setState(zeekReset)
	}
	if ep.state == zeekInactive {
		switch {
		case !isOrig && seg.Len == 0 && z.o.state == zeekSynSent:
			// An ACK of the SYN before the SYN-ACK does not make a partial connection.
		case ack && peer.state == zeekEstablished:
			ep.setState(zeekEstablished)
			z.isPartial = false
			if isOrig {
				z.firstSeen[0] = true
			} else {
				z.firstSeen[1] = true
			}
		default:
			ep.setState(zeekPartial)
		}
	}
}

// ackReceived mirrors TCP_Endpoint::AckReceived → TCP_Reassembler::AckReceived:
// the peer acknowledged e's data up to rel; any hole below it is a content gap.
func (z *ZeekConn) ackReceived(eIsOrig bool, e, peer *zeekEndpoint, rel uint64) {
	if e.finCnt > 0 && rel >= e.finSeq {
		rel = e.finSeq - 1
	}
	if rel <= e.trimSeq {
		return
	}
	if rel > e.lastReassem {
		z.undelivered(eIsOrig, e, peer, rel)
	}
	// Drop blocks below the new trim point.
	n := 0
	for i := 0; i < e.nBlocks; i++ {
		b := e.blocks[i]
		if b.hi <= rel {
			continue
		}
		if b.lo < rel {
			b.lo = rel
		}
		e.blocks[n] = b
		n++
	}
	e.nBlocks = n
	e.trimSeq = rel
}

func cleanState(e *zeekEndpoint) bool {
	return e.state == zeekEstablished || (e.state == zeekClosed && e.prevState == zeekEstablished)
}

func (z *ZeekConn) gap(eIsOrig bool, e, peer *zeekEndpoint) {
	if cleanState(e) && cleanState(peer) {
		z.scaledHistory(eIsOrig, histLetterGap, &e.gapCnt, &e.gapThresh)
	}
}

// undelivered mirrors TCP_Reassembler::Undelivered: data up to upTo was
// acknowledged but never seen, so each hole below it is reported as a gap.
func (z *ZeekConn) undelivered(eIsOrig bool, e, peer *zeekEndpoint, upTo uint64) {
	if upTo <= 2 && z.isPartial {
		return
	}
	if !e.skipDeliveries {
		for {
			idx := -1
			for i := 0; i < e.nBlocks; i++ {
				b := e.blocks[i]
				if b.lo >= e.lastReassem && b.lo < upTo && (idx < 0 || b.lo < e.blocks[idx].lo) {
					idx = i
				}
			}
			if idx < 0 {
				break
			}
			z.gap(eIsOrig, e, peer)
			e.lastReassem = e.blocks[idx].lo
			e.deliverContiguous()
		}
		if upTo > e.lastReassem {
			z.gap(eIsOrig, e, peer)
		}
	}
	if upTo > e.lastReassem {
		e.lastReassem = upTo
	}
}

// deliverContiguous advances lastReassem over buffered blocks that now touch it.
func (e *zeekEndpoint) deliverContiguous() {
	for moved := true; moved; {
		moved = false
		for i := 0; i < e.nBlocks; i++ {
			b := e.blocks[i]
			if b.lo <= e.lastReassem && b.hi > e.lastReassem {
				e.lastReassem = b.hi
				moved = true
			}
		}
	}
}

func (e *zeekEndpoint) undeliveredBytes() uint64 {
	var top uint64
	for i := 0; i < e.nBlocks; i++ {
		top = max(top, e.blocks[i].hi)
	}
	if top <= e.lastReassem {
		return 0
	}
	return top - e.lastReassem
}

func (e *zeekEndpoint) bufferedBytes() uint64 {
	var n uint64
	for i := 0; i < e.nBlocks; i++ {
		n += e.blocks[i].hi - e.blocks[i].lo
	}
	return n
}

// dataSent mirrors TCP_Reassembler::DataSent for the bookkeeping that matters
// to gap detection: which relative sequence ranges were seen.
func (e *zeekEndpoint) dataSent(seq, length uint64) {
	if e.skipDeliveries {
		return
	}
	ack := e.relative(e.ackSeq, e.ackWraps)
	upper := seq + length
	if seq < ack {
		if upper <= ack {
			return
		}
		seq = ack
	}
	if upper <= e.trimSeq {
		return
	}
	if seq < e.trimSeq {
		seq = e.trimSeq
	}
	e.insertBlock(seqSpan{seq, upper})
	e.deliverContiguous()
	if e.noDataAcked() && e.undeliveredBytes() > maxAboveHoleNoAcks {
		e.nBlocks = 0
		e.skipDeliveries = true
	}
	if e.bufferedBytes() > maxExcessiveData {
		e.nBlocks = 0
		e.skipDeliveries = true
	}
}

func (e *zeekEndpoint) insertBlock(s seqSpan) {
	if e.blocks == nil {
		e.blocks = make([]seqSpan, maxReassemBlocks) // out-of-order data is rare: only then
	}
	// Merge with any overlapping or adjacent block.
	n := 0
	for i := 0; i < e.nBlocks; i++ {
		b := e.blocks[i]
		if b.hi < s.lo || b.lo > s.hi {
			e.blocks[n] = b
			n++
			continue
		}
		s.lo, s.hi = min(s.lo, b.lo), max(s.hi, b.hi)
	}
	e.nBlocks = n
	if e.nBlocks == len(e.blocks) {
		// Keep the bound: drop the lowest block, which is the oldest data.
		low := 0
		for i := 1; i < e.nBlocks; i++ {
			if e.blocks[i].lo < e.blocks[low].lo {
				low = i
			}
		}
		e.blocks[low] = e.blocks[e.nBlocks-1]
		e.nBlocks--
	}
	e.blocks[e.nBlocks] = s
	e.nBlocks++
}

// Result returns Zeek's verdict for the segments added so far.
func (z *ZeekConn) Result() ZeekResult { return z.result(nil) }

// result is Result with the history string taken from in (nil: a new one).
func (z *ZeekConn) result(in *interner) ZeekResult {
	if !z.started {
		return ZeekResult{}
	}
	var h string
	if in != nil {
		h = in.intern(z.history) // most connections share a few histories
	} else {
		h = string(z.history)
	}
	return ZeekResult{Orig: z.orig.addrPort(z.v6), Resp: z.resp.addrPort(z.v6), State: z.connState(), History: h}
}

// maxInterned bounds the distinct history strings a tracker keeps.
const maxInterned = 1024

// interner hands out one string per distinct history, so that finishing a
// connection whose history was seen before allocates nothing.
type interner map[string]string

func (in *interner) intern(b []byte) string {
	if s, ok := (*in)[string(b)]; ok { // no allocation: the compiler looks b up in place
		return s
	}
	s := string(b)
	if *in == nil {
		*in = make(interner)
	}
	if len(*in) < maxInterned {
		(*in)[s] = s
	}
	return s
}

// connState mirrors conn_state() in scripts/base/protocols/conn/main.zeek.
func (z *ZeekConn) connState() string {
	os, rs := z.o.state, z.r.state
	oInactive := os == zeekInactive || os == zeekPartial
	rInactive := rs == zeekInactive || rs == zeekPartial
	switch {
	case rs == zeekReset:
		if os == zeekSynSent || os == zeekSynAckSent ||
			(os == zeekReset && z.o.size(z.r) == 0 && z.r.size(z.o) == 0) {
			return "REJ"
		}
		if oInactive {
			return "RSTRH"
		}
		return "RSTR"
	case os == zeekReset:
		if rInactive {
			if rstos0History(z.history) {
				return "RSTOS0"
			}
			return "OTH"
		}
		return "RSTO"
	case rs == zeekClosed && os == zeekClosed:
		return "SF"
	case os == zeekClosed:
		if rInactive {
			return "SH"
		}
		return "S2"
	case rs == zeekClosed:
		if oInactive {
			return "SHR"
		}
		return "S3"
	case os == zeekSynSent && rs == zeekInactive:
		return "S0"
	case os == zeekEstablished && rs == zeekEstablished:
		return "S1"
	}
	return "OTH"
}

// rstos0History reports whether h matches Zeek's /^\^?S[^HAFGIQ]*R.*/: an
// originator SYN, then an originator RST with no handshake, ACK, FIN, gap,
// FIN+RST or multi-flag letter from the originator in between.
func rstos0History(h []byte) bool {
	i := 0
	if i < len(h) && h[i] == histLetterFlipped {
		i++
	}
	if i >= len(h) || h[i] != histLetterSYN {
		return false
	}
	for i++; i < len(h); i++ {
		switch h[i] {
		case histLetterRST:
			return true
		case histLetterSYNACK, histLetterACK, histLetterFIN, histLetterGap, histLetterFINRST, histLetterMulti:
			return false
		}
	}
	return false
}
