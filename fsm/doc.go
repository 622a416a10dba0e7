// Package fsm replays the RFC 9293 (RFC 793) connection state machine for
// both endpoints of every TCP connection, from one vantage point, and derives
// the findings (CLOSE_WAIT leaks, TIME_WAIT owners, half-open handshakes,
// resets, port reuse) with the frames that prove them.
//
// A passive observer cannot see inside either host, so every transition is
// driven by evidence in the captured segments. What an endpoint sends takes
// effect when it is captured. What it receives takes effect when the capture
// proves it: a SYN or FIN counts as received when the receiver's ACK field
// first covers it, or when a later segment of the same stream reaches it (TCP
// delivers in order); pure ACKs, data and RSTs count as received when they are
// captured, and an RST only when it is in the receiver's window. Timers
// (TIME-WAIT's 2×MSL, Linux's FIN-WAIT-2 timeout) run on the capture's clock.
//
// The package does not read captures or decode packets (see reassembly), and
// it never imports gopacket. It does not render reports (see report).
package fsm
