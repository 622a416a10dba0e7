package fsm

// State is one endpoint's connection state, inferred from observed segments.
type State uint8

// The RFC 9293 §3.3.2 states, plus Unknown for an endpoint not yet seen.
const (
	Unknown State = iota // nothing seen yet: captures often start mid-connection
	Closed
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
	numStates
)

// NumStates is the number of State values, for sizing arrays.
const NumStates = int(numStates)

var stateNames = [numStates]string{
	Unknown:     "UNKNOWN",
	Closed:      "CLOSED",
	Listen:      "LISTEN",
	SynSent:     "SYN_SENT",
	SynReceived: "SYN_RECEIVED",
	Established: "ESTABLISHED",
	FinWait1:    "FIN_WAIT_1",
	FinWait2:    "FIN_WAIT_2",
	CloseWait:   "CLOSE_WAIT",
	Closing:     "CLOSING",
	LastAck:     "LAST_ACK",
	TimeWait:    "TIME_WAIT",
}

// String returns the state's name as netstat prints it, e.g. "CLOSE_WAIT".
func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return "INVALID"
}

// MarshalText makes a State marshal as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ParseState returns the State named name (as String prints it, or as ss
// prints it: "CLOSE-WAIT", "ESTAB", "SYN-RECV").
func ParseState(name string) (State, bool) {
	for i, n := range stateNames {
		if n == name {
			return State(i), true
		}
	}
	s, ok := ssNames[name]
	return s, ok
}

var ssNames = map[string]State{
	"ESTAB": Established, "SYN-SENT": SynSent, "SYN-RECV": SynReceived,
	"FIN-WAIT-1": FinWait1, "FIN-WAIT-2": FinWait2, "TIME-WAIT": TimeWait,
	"UNCONN": Closed, "CLOSE": Closed, "CLOSE-WAIT": CloseWait, "LAST-ACK": LastAck,
	"LISTEN": Listen, "CLOSING": Closing,
}

// Synchronized reports whether the handshake completed from this endpoint's
// point of view (RFC 9293 §3.5: ESTABLISHED and every state after it).
func (s State) Synchronized() bool { return s >= Established && s < numStates }

// Closing reports whether the endpoint has begun tearing the connection down
// (sent or received a FIN) but still holds the socket.
func (s State) Closing() bool { return s >= FinWait1 && s < numStates }

// Open reports whether the endpoint still holds a socket for the connection.
func (s State) Open() bool { return s >= SynSent && s < numStates }
