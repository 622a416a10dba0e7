package fsm

import (
	"net/netip"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Kind is the kind of a finding (DESIGN §4).
type Kind uint8

// Finding kinds, in the order reports list them (worst first within a severity).
const (
	KindCloseWait Kind = iota
	KindFinWait2
	KindSynRecv
	KindSynTimeout
	KindPortReuse
	KindRefused
	KindReset
	KindTimeWait
	KindFinRetransmit
	KindSimultaneousClose
	KindCaptureGap
	KindPartial
	numKinds
)

// NumKinds is the number of finding kinds.
const NumKinds = int(numKinds)

var kindNames = [numKinds]string{
	KindCloseWait: "close-wait", KindFinWait2: "fin-wait-2", KindTimeWait: "time-wait",
	KindSynRecv: "syn-recv", KindSynTimeout: "syn-timeout", KindRefused: "refused",
	KindReset: "reset", KindPortReuse: "port-reuse", KindSimultaneousClose: "simultaneous-close",
	KindFinRetransmit: "fin-retransmit", KindPartial: "partial", KindCaptureGap: "capture-gap",
}

// String returns the kind's stable name, e.g. "close-wait".
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "invalid"
}

// MarshalText makes a Kind marshal as its name.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// ParseKind returns the Kind named name.
func ParseKind(name string) (Kind, bool) {
	for i, n := range kindNames {
		if n == name {
			return Kind(i), true
		}
	}
	return 0, false
}

// Severity ranks findings.
type Severity uint8

// Severities, least severe first.
const (
	Info Severity = iota
	Warning
	Error
)

var severityNames = [...]string{Info: "info", Warning: "warning", Error: "error"}

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "invalid"
}

// MarshalText makes a Severity marshal as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Role says which side of its connection an endpoint is.
type Role uint8

// Roles.
const (
	Client Role = iota
	Server
)

// String returns "client" or "server".
func (r Role) String() string {
	if r == Client {
		return "client"
	}
	return "server"
}

// MarshalText makes a Role marshal as its name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Ending says how the situation a finding describes ended.
type Ending uint8

// Endings.
const (
	StillOpen     Ending = iota // still so when the capture ended
	EndedByRST                  // an RST ended it
	EndedByReuse                // a new connection on the same four-tuple ended it
	EndedByTimer                // a timer (presumed) ended it
	EndedNormally               // the endpoint moved on (closed, completed)
)

var endingNames = [...]string{StillOpen: "open at end of capture", EndedByRST: "reset",
	EndedByReuse: "four-tuple reused", EndedByTimer: "timer", EndedNormally: "resolved"}

// String describes the ending.
func (e Ending) String() string {
	if int(e) < len(endingNames) {
		return endingNames[e]
	}
	return "invalid"
}

// MarshalText makes an Ending marshal as its description.
func (e Ending) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// maxFrames bounds the evidence frames kept per finding.
const maxFrames = 12

// Finding is one diagnosed problem on one connection, with its proof.
type Finding struct {
	Kind     Kind
	Severity Severity
	// Endpoint is the endpoint at fault (or concerned); Role is its side.
	Endpoint netip.AddrPort
	Role     Role
	// Peer is the other endpoint.
	Peer netip.AddrPort
	// Since is when the situation began; Duration how long it lasted until
	// it ended or the capture did.
	Since    reassembly.Stamp
	Duration time.Duration
	Ending   Ending
	// Frames are the frames that prove the finding, in capture order.
	Frames []uint64

	// Kind-specific facts, for the explanation.
	State, PeerState State // the states concerned (reset: sender's and receiver's; port-reuse: stale state)
	NeverServed      bool  // close-wait: the endpoint never sent a byte of payload
	SentAfter        bool  // close-wait: it kept sending after the peer's FIN, then went idle
	Idle             time.Duration
	Count            int             // retransmissions (syn-timeout, syn-recv, fin-retransmit), or stale answers
	Intervals        []time.Duration // syn-timeout: gaps between SYN transmissions
	Presumed         bool            // fin-wait-2: expiry presumed from --fin-timeout
	LostAck          bool            // fin-retransmit: the peer had ACKed the FIN (the ACK was lost)
	PeerReset        bool            // fin-wait-2: the endpoint later answered with RST
	ResetOnData      bool            // fin-wait-2: that RST answered data the peer sent after the FIN
	OneSided         bool            // capture-gap: only one direction was captured
}
