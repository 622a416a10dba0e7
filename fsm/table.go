package fsm

type edge struct {
	from State
	on   Event
}

// transitions is the RFC 9293 §3.3.2 diagram as data, from an observer's
// point of view. Tests iterate over it. A pair that is absent is not an edge:
// Next refuses it and the Endpoint records an Anomaly.
var transitions = map[edge]State{
	// Opening (§3.5, figures 6–8).
	{Unknown, SendSYN}:          SynSent,
	{Closed, SendSYN}:           SynSent,
	{Listen, SendSYN}:           SynSent, // a listening socket may send (§3.10.1)
	{SynSent, SendSYN}:          SynSent, // a retransmitted SYN
	{Unknown, RecvSYN}:          SynReceived,
	{Listen, RecvSYN}:           SynReceived,
	{SynSent, RecvSYN}:          SynReceived, // simultaneous open (figure 8)
	{SynSent, RecvSYNACK}:       Established,
	{SynReceived, RecvSYNACK}:   Established, // simultaneous open: the peer's SYN-ACK covers our SYN
	{Unknown, RecvSYNACK}:       Established, // the capture missed our SYN; we acknowledged their SYN-ACK
	{Unknown, SendSYNACK}:       SynReceived, // the capture missed the SYN we answer
	{SynReceived, SendSYNACK}:   SynReceived, // (re)sending the SYN-ACK
	{SynReceived, RecvACKOfSYN}: Established,
	{Unknown, MidStream}:        Established, // documented assumption: joined mid-stream

	// Closing (§3.6, figures 12–13).
	{SynReceived, SendFIN}:   FinWait1, // close before the handshake completed
	{Established, SendFIN}:   FinWait1,
	{CloseWait, SendFIN}:     LastAck,
	{SynReceived, RecvFIN}:   CloseWait,
	{Established, RecvFIN}:   CloseWait,
	{FinWait1, RecvFIN}:      Closing,  // simultaneous close: FINs crossed
	{FinWait1, RecvFINACK}:   TimeWait, // FIN+ACK covering our FIN: straight to TIME-WAIT
	{FinWait2, RecvFIN}:      TimeWait,
	{FinWait2, RecvFINACK}:   TimeWait,
	{Closing, RecvFINACK}:    TimeWait,
	{TimeWait, RecvFIN}:      TimeWait, // a retransmitted FIN restarts 2MSL (§3.10.7.4)
	{FinWait1, RecvACKOfFIN}: FinWait2,
	{Closing, RecvACKOfFIN}:  TimeWait,
	{LastAck, RecvACKOfFIN}:  Closed,
	{TimeWait, Timeout2MSL}:  Closed,
	{FinWait2, FinTimeout}:   Closed, // Linux net.ipv4.tcp_fin_timeout, not RFC: presumed

	// A FIN sent again proves that the ACK we saw covering it was lost.
	{FinWait1, ResendFIN}: FinWait1,
	{FinWait2, ResendFIN}: FinWait1,
	{Closing, ResendFIN}:  Closing,
	{TimeWait, ResendFIN}: Closing,
	{LastAck, ResendFIN}:  LastAck,
	{Closed, ResendFIN}:   LastAck,

	// Resets (§3.10.7). Only in-window RSTs reach RecvRST.
	{SynSent, RecvRST}:     Closed, // refused
	{SynReceived, RecvRST}: Closed, // the passive socket is discarded (its listener stays)
	{Established, RecvRST}: Closed,
	{FinWait1, RecvRST}:    Closed,
	{FinWait2, RecvRST}:    Closed,
	{CloseWait, RecvRST}:   Closed,
	{Closing, RecvRST}:     Closed,
	{LastAck, RecvRST}:     Closed,
	{TimeWait, RecvRST}:    Closed, // TIME-WAIT assassination (RFC 1337); Linux default
	{Unknown, SendRST}:     Closed, // a port with no socket answers with RST
	{Closed, SendRST}:      Closed,
	{SynSent, SendRST}:     Closed,
	{SynReceived, SendRST}: Closed,
	{Established, SendRST}: Closed,
	{FinWait1, SendRST}:    Closed,
	{FinWait2, SendRST}:    Closed,
	{CloseWait, SendRST}:   Closed,
	{Closing, SendRST}:     Closed,
	{LastAck, SendRST}:     Closed,
	{TimeWait, SendRST}:    Closed,

	// The next back-off retransmission (RFC 6298 §5.5 doubling) was due and
	// never came while the capture went on: connect() timed out, or the
	// listener dropped the half-open request (presumed).
	{SynSent, GiveUp}:     Closed,
	{SynReceived, GiveUp}: Closed,

	// A new incarnation took the four-tuple, so the old socket is gone.
	{SynSent, Reused}:     Closed,
	{SynReceived, Reused}: Closed,
	{Established, Reused}: Closed,
	{FinWait1, Reused}:    Closed,
	{FinWait2, Reused}:    Closed,
	{CloseWait, Reused}:   Closed,
	{Closing, Reused}:     Closed,
	{LastAck, Reused}:     Closed,
	{TimeWait, Reused}:    Closed,
}

// Next returns the state after e, and false if RFC 9293 has no such edge (s is then unchanged).
func Next(s State, e Event) (State, bool) {
	n, ok := transitions[edge{s, e}]
	if !ok {
		return s, false
	}
	return n, true
}

// table is transitions as a dense array for the per-packet path; noEdge marks absent pairs.
var table = func() (t [numStates][numEvents]State) {
	for s := range t {
		for e := range t[s] {
			t[s][e] = noEdge
		}
	}
	for k, v := range transitions {
		t[k.from][k.on] = v
	}
	return t
}()

const noEdge = numStates

// next is Next without the map lookup.
func next(s State, e Event) (State, bool) {
	if s >= numStates || e >= numEvents {
		return s, false
	}
	n := table[s][e]
	if n == noEdge {
		return s, false
	}
	return n, true
}
