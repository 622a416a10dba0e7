package fsm

import (
	"net/netip"
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Config holds the timers of the replay, all on the capture's clock.
type Config struct {
	// MSL is the maximum segment lifetime; TIME-WAIT lasts 2×MSL.
	MSL time.Duration
	// FinTimeout is how long an idle FIN-WAIT-2 lives before it is presumed
	// dropped (Linux net.ipv4.tcp_fin_timeout).
	FinTimeout time.Duration
	// CloseWaitMin is how long an endpoint that keeps sending after the
	// peer's FIN may stay idle in CLOSE-WAIT before it counts as a leak.
	CloseWaitMin time.Duration
}

// DefaultConfig returns Linux's timers: MSL 30 s (TIME-WAIT 60 s), FIN-WAIT-2 60 s,
// and a 5 s idle allowance for half-closed connections that keep sending.
func DefaultConfig() Config {
	return Config{MSL: 30 * time.Second, FinTimeout: 60 * time.Second, CloseWaitMin: 5 * time.Second}
}

// Tracker replays every connection an Assembler hands it and keeps the
// results. It implements reassembly.Handler. Not safe for concurrent use.
type Tracker struct {
	cfg  Config
	done []*Conn
	// OnDone, when set, receives each finished connection instead of the
	// Tracker keeping it.
	OnDone func(*Conn)
}

// NewTracker returns a Tracker with the given timers.
func NewTracker(cfg Config) *Tracker { return &Tracker{cfg: cfg} }

// Conns returns the finished connections in the order they were first seen.
func (t *Tracker) Conns() []*Conn {
	slices.SortFunc(t.done, func(a, b *Conn) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return t.done
}

// pending is a SYN or FIN from one endpoint that the capture has not yet
// proven its peer received.
type pending struct {
	armed  bool
	seq    reassembly.Seq // the control's own sequence number
	hasAck bool
	ack    reassembly.Seq
	frame  uint64
}

// replay is the working state of one connection.
type replay struct {
	cfg  *Config
	conn Conn
	ep   [2]*Endpoint // by reassembly.Dir of the endpoint as sender
	half *[2]reassembly.Half

	pendSYN, pendFIN [2]pending
	synDelivered     [2]bool
	finDelivered     [2]bool
	twStart          [2]time.Time

	synTimes      []time.Time // client SYN transmissions (for back-off intervals)
	synFrames     []uint64
	synAckFrame   []uint64
	synAckTimes   []time.Time
	finFrames     [2][]uint64
	rstFrame      [2]uint64
	lastData      [2]Step
	firstUnseen   uint64
	firstGap      uint64
	firstOneSided uint64 // first ACK for a direction never captured
	resets        []resetInfo

	reuse    *reuseInfo // this connection reused a four-tuple with stale state
	reusedBy *replay    // a newer incarnation answered by this one's stale socket

	zeek ZeekConn

	frame uint64
	now   time.Time
}

type resetInfo struct {
	sender         reassembly.Dir
	from, peerFrom State
	frame          uint64
	at             time.Time
}

type reuseInfo struct {
	stale       reassembly.Dir // the old side holding state (its Dir in the new connection)
	staleState  State
	senderState State
	frames      []uint64
	answers     int // segments the stale socket sent in answer
}

// Open implements reassembly.Handler.
func (t *Tracker) Open(c *reassembly.Conn) {
	rp := &replay{cfg: &t.cfg, half: &c.Half}
	rp.conn = Conn{ID: c.ID, Key: c.Key, Incarnation: c.Incarnation, Roles: c.Roles,
		FirstFrame: c.FirstFrame, First: c.First}
	rp.conn.Client.Addr, rp.conn.Server.Addr = c.Client, c.Server
	rp.ep = [2]*Endpoint{&rp.conn.Client, &rp.conn.Server}
	c.Data = rp
	if c.Prev == nil {
		return
	}
	old := c.Prev.Data.(*replay)
	old.expire(c.First)
	sender, peer := old.endpointAt(c.Client), old.endpointAt(c.Server)
	ru := &reuseInfo{senderState: sender.State, staleState: peer.State, stale: reassembly.ServerToClient,
		frames: []uint64{c.FirstFrame}}
	if sender.State.Open() {
		sender.apply(Reused, c.First, c.FirstFrame, true)
	}
	if !peer.State.Open() && ru.senderState == TimeWait {
		ru.stale, ru.staleState = reassembly.ClientToServer, TimeWait // the client reused its own TIME-WAIT (tcp_tw_reuse)
	}
	if ru.staleState.Open() || ru.stale == reassembly.ClientToServer {
		rp.reuse = ru
		old.reusedBy = rp
	}
}

// endpointAt returns the endpoint with address a.
func (rp *replay) endpointAt(a netip.AddrPort) *Endpoint {
	if rp.conn.Client.Addr == a {
		return &rp.conn.Client
	}
	return &rp.conn.Server
}

// Segment implements reassembly.Handler.
func (t *Tracker) Segment(c *reassembly.Conn, seg *reassembly.Segment, info *reassembly.SegInfo) {
	rp := c.Data.(*replay)
	rp.zeek.AddCaptured(seg, seg.Captured)
	rp.step(c, seg, info)
	if rp.reusedBy != nil && info.Kind&reassembly.Duplicate == 0 {
		rp.stale(seg, info)
	}
}

// Close implements reassembly.Handler.
func (t *Tracker) Close(c *reassembly.Conn, at time.Time, why reassembly.CloseReason) {
	rp := c.Data.(*replay)
	c.Data = nil
	rp.expire(at)
	if why == reassembly.Superseded {
		for _, e := range rp.ep {
			if e.State.Open() {
				e.apply(Reused, at, 0, true)
			}
		}
	}
	cn := rp.finish(c, at)
	if t.OnDone != nil {
		t.OnDone(cn)
		return
	}
	t.done = append(t.done, cn)
}
