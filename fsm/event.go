package fsm

// Event is what an endpoint did or was shown to receive, classified from a
// segment (or a timer) by the Tracker.
type Event uint8

// Events. Send events are the endpoint's own segments; Recv events are
// segments from the peer that the capture proves it received.
const (
	SendSYN      Event = iota // active open (RFC 9293 §3.10.1)
	SendSYNACK                // answer to a SYN, seen before the SYN was proven received
	SendFIN                   // close (§3.10.4)
	ResendFIN                 // a FIN sent again: the ACK that seemed to cover it never arrived
	SendRST                   // abort (§3.10.5), or a reset from a port with no socket
	RecvSYN                   // the peer's SYN without ACK (passive or simultaneous open)
	RecvSYNACK                // the peer's SYN whose ACK covers our SYN
	RecvACKOfSYN              // an ACK covering our SYN
	RecvFIN                   // the peer's FIN, whose ACK does not cover our FIN
	RecvFINACK                // the peer's FIN whose ACK also covers our FIN (FIN-WAIT-1 → TIME-WAIT)
	RecvACKOfFIN              // an ACK covering our FIN
	RecvRST                   // an in-window RST (§3.10.7.4; RFC 5961 §3)
	Timeout2MSL               // TIME-WAIT's 2×MSL timer expired (§3.10.8)
	FinTimeout                // Linux tcp_fin_timeout dropped an orphaned FIN-WAIT-2
	MidStream                 // the capture joined an established connection
	Reused                    // a new incarnation took the four-tuple: this socket is gone
	GiveUp                    // a due SYN or SYN-ACK retransmission never came: the opener gave up
	numEvents
)

// NumEvents is the number of Event values.
const NumEvents = int(numEvents)

var eventNames = [numEvents]string{
	SendSYN: "send SYN", SendSYNACK: "send SYN-ACK", SendFIN: "send FIN", ResendFIN: "resend FIN",
	SendRST: "send RST", RecvSYN: "recv SYN", RecvSYNACK: "recv SYN-ACK", RecvACKOfSYN: "recv ACK of SYN",
	RecvFIN: "recv FIN", RecvFINACK: "recv FIN+ACK of FIN", RecvACKOfFIN: "recv ACK of FIN",
	RecvRST: "recv RST", Timeout2MSL: "2MSL timeout", FinTimeout: "FIN-WAIT-2 timeout",
	MidStream: "joined mid-stream", Reused: "four-tuple reused", GiveUp: "gave up retransmitting",
}

// String returns a short description such as "recv ACK of FIN".
func (e Event) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return "invalid event"
}

// MarshalText makes an Event marshal as its description in JSON.
func (e Event) MarshalText() ([]byte, error) { return []byte(e.String()), nil }
