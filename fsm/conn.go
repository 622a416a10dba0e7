package fsm

import (
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Step is one line of a connection's ladder diagram: a relevant segment and
// the states both endpoints were in after it.
type Step struct {
	Time  reassembly.Stamp
	Frame uint64
	Dir   reassembly.Dir
	Flags reassembly.Flags
	// Seq and Ack are relative (to each sender's ISN, or first seen number).
	Seq, Ack uint32
	Len      uint32
	Kind     reassembly.SegKind
	// Client and Server are the endpoints' states after the segment;
	// ClientChanged and ServerChanged say whether this segment moved them.
	Client, Server               State
	ClientChanged, ServerChanged bool
	// Stale marks a segment of the previous incarnation answering this one.
	Stale bool
}

// maxLadder bounds the ladder steps kept per connection.
const maxLadder = 48

// Dirs holds one value per direction, indexed by reassembly.Dir.
type Dirs[T any] [2]T

// Conn is the replay of one connection: both endpoints' timelines, counters,
// the ladder of its relevant segments, its findings and Zeek's view of it.
type Conn struct {
	ID          uint64
	Key         reassembly.Key
	Incarnation int
	Roles       reassembly.RoleEvidence
	// Partial is set when the handshake was not captured.
	Partial bool
	// Client and Server are the two endpoints, with their final states.
	Client, Server Endpoint
	FirstFrame     uint64
	LastFrame      uint64
	First, Last    time.Time
	// End is when the tracker finished the connection: the end of the
	// capture, or when a new incarnation took its four-tuple.
	End time.Time

	Packets, Bytes Dirs[uint64]
	// IPBytes sums the IP packet lengths; SeqBytes is the sequence space
	// each side used for data (SYN and FIN excluded), as Zeek's
	// orig_bytes/resp_bytes count it, retransmissions once.
	IPBytes, SeqBytes                   Dirs[uint64]
	Retransmits, Duplicates, KeepAlives Dirs[uint32]
	OutOfOrder, Gaps, AckUnseen         Dirs[uint32]
	Ladder                              []Step
	LadderOmitted                       int
	Findings                            []Finding
	Zeek                                ZeekResult
}

// Endpoint returns the endpoint on side r.
func (c *Conn) Endpoint(r Role) *Endpoint {
	if r == Client {
		return &c.Client
	}
	return &c.Server
}

// connBox holds a cloned connection and, when they fit, its slices: a
// typical connection is copied in one allocation instead of eight.
type connBox struct {
	c         Conn
	timelines [2][6]Change
	ladder    [10]Step
	findings  [1]Finding
	frames    [4]uint64
}

// Clone returns a deep copy of c whose slices are exactly as long as c's
// (capacity included), for keeping a connection after the Tracker has
// reused its memory.
func (c *Conn) Clone() *Conn {
	b := new(connBox)
	n := &b.c
	*n = *c
	n.Client.Timeline = cloneInto(b.timelines[0][:], c.Client.Timeline)
	n.Server.Timeline = cloneInto(b.timelines[1][:], c.Server.Timeline)
	n.Client.Anomalies, n.Server.Anomalies = slices.Clone(c.Client.Anomalies), slices.Clone(c.Server.Anomalies)
	n.Ladder = cloneInto(b.ladder[:], c.Ladder)
	n.Findings = cloneInto(b.findings[:], c.Findings)
	frames := b.frames[:]
	for i := range n.Findings {
		f := &n.Findings[i]
		fit := len(f.Frames) <= len(frames)
		f.Frames = cloneInto(frames, f.Frames)
		if fit {
			frames = frames[len(f.Frames):]
		}
		f.Intervals = slices.Clone(f.Intervals)
	}
	return n
}

// cloneInto copies xs into the start of buf when it fits, or to a new
// array; the result's capacity is its length (nil for nil), as
// slices.Clone's would be, so that appending to it never writes into buf.
func cloneInto[T any](buf, xs []T) []T {
	if xs == nil {
		return nil
	}
	if len(xs) > len(buf) {
		return slices.Clone(xs)
	}
	n := copy(buf, xs)
	return buf[:n:n]
}
