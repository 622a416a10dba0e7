package reassembly

import (
	"net/netip"
)

// Dir is the direction of a segment within a connection.
type Dir uint8

// Directions, named from the roles the assembler assigned.
const (
	ClientToServer Dir = iota
	ServerToClient
)

// Reverse returns the opposite direction.
func (d Dir) Reverse() Dir { return d ^ 1 }

// String returns "c>s" or "s>c".
func (d Dir) String() string {
	if d == ClientToServer {
		return "c>s"
	}
	return "s>c"
}

// RoleEvidence says how the assembler decided which endpoint is the client.
type RoleEvidence uint8

// Role evidence, strongest first.
const (
	RoleBySYN    RoleEvidence = iota // the client sent the first SYN without ACK
	RoleBySYNACK                     // the first segment seen was the server's SYN-ACK
	RoleByPort                       // mid-stream: the well-known or lower port is the server
)

var roleNames = [...]string{RoleBySYN: "syn", RoleBySYNACK: "syn-ack", RoleByPort: "port"}

// String returns "syn", "syn-ack" or "port".
func (r RoleEvidence) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "unknown"
}

// Half is what one endpoint was seen sending: the observer's copy of its send
// sequence variables (RFC 9293 §3.3.1) and counters. Index Conn.Half by the
// sender's Dir.
type Half struct {
	// Seen is set once any segment from this endpoint was captured.
	Seen bool
	// HaveISN is set when this endpoint's SYN was seen; ISN is then its ISS.
	HaveISN bool
	ISN     Seq
	// Base is the origin for relative sequence numbers: the ISN, or the first
	// sequence number seen when the connection was joined mid-stream.
	Base Seq
	// NextSeq is the highest sequence number this endpoint was seen to use plus
	// one (its SND.NXT as far as the capture shows).
	NextSeq Seq
	// HaveAck is set once this endpoint sent a segment with ACK; MaxAck is the
	// highest acknowledgment it sent (its RCV.NXT as far as the capture shows).
	HaveAck bool
	MaxAck  Seq
	// FinSent is set once this endpoint sent a FIN; FinSeq is the FIN's sequence number.
	FinSent bool
	FinSeq  Seq
	// RstSent is set once this endpoint sent an RST.
	RstSent bool
	// WScale is the window-scale shift from this endpoint's SYN, or NoWScale.
	WScale int8
	// Window is the last raw window this endpoint advertised.
	Window uint16

	Packets     uint64 // segments, including retransmissions and duplicates
	Bytes       uint64 // payload bytes, including retransmissions
	IPBytes     uint64 // IP packet lengths (Zeek's ip_bytes)
	Retransmits uint32 // segments that re-sent sequence space already seen
	Duplicates  uint32 // identical copies of the previous segment (captured twice)
	KeepAlives  uint32 // keep-alive probes
	OutOfOrder  uint32 // segments that filled a hole shortly after it opened
	Gaps        uint32 // times a segment started beyond NextSeq (data not captured)
	AckUnseen   uint32 // segments acknowledging data the peer was never seen sending

	// LastNs is the time of this endpoint's last segment, in Unix
	// nanoseconds (valid once Seen); LastDataNs of its last segment carrying
	// payload (valid when DataSeen). Integers rather than time.Time keep
	// the connection smaller: 10,000 of them are tracked at once.
	LastNs, LastDataNs int64
	DataSeen           bool

	last      lastSeg
	hole      bool
	holeStart Seq
	holeEnd   Seq
	holeNs    int64 // when the hole opened (Unix nanoseconds)
}

// lastSeg is enough of the previous segment to recognise a duplicate capture.
type lastSeg struct {
	seq, ack     uint32
	tsval, tsecr uint32
	len          uint32
	win          uint16
	flags        Flags
	ns           int64 // Unix nanoseconds
}

// Rel returns s relative to this endpoint's base sequence number.
func (h *Half) Rel(s uint32) uint32 { return uint32(Seq(s) - h.Base) }

// CloseReason says why the assembler is done with a connection.
type CloseReason uint8

// Close reasons.
const (
	EndOfCapture CloseReason = iota // the input ended
	Superseded                      // a new incarnation of the four-tuple took over
	Finished                        // the handler reported it Done (Sweep)
	Evicted                         // the table was full (MaxConns): the least recently active connection made room
)

// Conn is one TCP connection (one incarnation of a four-tuple) as the
// assembler sees it. The assembler owns it; handlers may read it during
// callbacks and keep their own per-connection data in Data.
type Conn struct {
	Key Key
	// ID identifies the connection: the frame number of its first segment,
	// so IDs grow in the order connections were first seen and do not depend
	// on how the work was split.
	ID uint64
	// Incarnation counts earlier connections on the same four-tuple (0 for the first).
	Incarnation int
	Client      netip.AddrPort
	Server      netip.AddrPort
	Roles       RoleEvidence
	// Half holds what each endpoint sent, indexed by the sender's Dir.
	Half [2]Half
	// Prev is the previous incarnation of this four-tuple while it still
	// receives stale segments (until this connection is synchronized), else nil.
	Prev *Conn
	// FirstFrame/First and LastFrame/Last bound the segments of this connection.
	FirstFrame, LastFrame uint64
	First, Last           Stamp
	// Data is for the Handler's own per-connection state.
	Data any

	clientLo   bool // Client is the Key's first endpoint (dirOf)
	synAcked   bool // the server's SYN-ACK was seen
	superseded bool // a newer incarnation holds this one as Prev
	parked     bool // off the sweep queue until its next segment (Assembler.park)
	parkSeq    uint32
}

// DirOf returns the direction of a segment sent by src.
func (c *Conn) DirOf(src netip.AddrPort) Dir {
	if src == c.Client {
		return ClientToServer
	}
	return ServerToClient
}

// dirOf returns the direction of seg, a segment of c's four-tuple, as
// DirOf(seg.Src()) does, from the words of its address and the Key's.
func (c *Conn) dirOf(seg *Segment) Dir {
	k := &c.Key
	lo := seg.SrcIP.Hi == k.loH && seg.SrcIP.Lo == k.loL && seg.SrcPort == k.loP
	if lo == c.clientLo {
		return ClientToServer
	}
	return ServerToClient
}

// sentByServer reports whether seg, a segment of c's four-tuple, was sent
// from the server's address and port, as seg.Src() == c.Server says: a
// connection whose two endpoints are the same sends from both.
func (c *Conn) sentByServer(seg *Segment) bool {
	k := &c.Key
	return c.dirOf(seg) == ServerToClient || k.loH == k.hiH && k.loL == k.hiL && k.loP == k.hiP
}

// Addr returns the sender address for segments in direction d.
func (c *Conn) Addr(d Dir) netip.AddrPort {
	if d == ClientToServer {
		return c.Client
	}
	return c.Server
}

// Partial reports whether the connection was joined without its handshake.
func (c *Conn) Partial() bool { return !c.Half[ClientToServer].HaveISN }

// finished reports whether the connection is over as far as its sequence
// streams show: an RST was sent, or both sides sent FIN.
func (c *Conn) finished() bool {
	a, b := &c.Half[0], &c.Half[1]
	return a.RstSent || b.RstSent || (a.FinSent && b.FinSent)
}
