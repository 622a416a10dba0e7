package fsm

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
	"unsafe"

	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/prefetch"
	"github.com/tcpstate/tcpstate/reassembly/slab"
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
	cfg     Config
	done    []*Conn
	free    []*replay               // finished replays nobody kept, reused by Open
	fresh   slab.Pool[replay]       // where replays come from when free is empty (see package slab)
	details slab.Pool[replayDetail] // and their detail, for the connections that are not lean
	hist    interner                // Zeek history strings, shared by the connections
	out     Conn                    // the Conn handed to OnDone, reused for the next one
	// Detail, when set, is asked at each connection's first segment
	// whether it may ever be shown in full. When it says no, the replay
	// skips what only a full listing shows: the ladder and the Zeek
	// emulation (Conn.Ladder and Conn.Zeek stay empty). States,
	// timelines, counters and findings are the same either way. The
	// answer must not turn from no to yes for a connection.
	Detail func(id uint64) bool
	// OnDone, when set, receives each finished connection instead of the
	// Tracker keeping it. The *Conn and its slices are valid only during
	// the call (Clone copies them): the Tracker reuses their memory.
	OnDone func(*Conn)
	// PrefetchDone, when set, is called with the same step from Prefetch
	// (reassembly.Prefetcher), with the client of a connection the
	// Assembler is about to close: so that what OnDone will use can be
	// loaded together with the connection's own state.
	PrefetchDone func(client netip.AddrPort, step int)
}

// NewTracker returns a Tracker with the given timers.
func NewTracker(cfg Config) *Tracker { return &Tracker{cfg: cfg} }

// Conns returns the finished connections in the order they were first seen.
func (t *Tracker) Conns() []*Conn {
	slices.SortFunc(t.done, func(a, b *Conn) int { return cmp.Compare(a.ID, b.ID) })
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

// replay is the working state of one connection, with backing arrays that
// outlive it when it is recycled.
type replay struct {
	replayState
	// detail is what only a connection shown in full uses, apart from
	// what reset always clears: nil until a connection that is not lean
	// gets this replay, then kept with it. In a long capture nearly every
	// connection is lean, and its replay is a kilobyte smaller.
	detail *replayDetail
	// Initial backing arrays: a typical connection's timelines fit, so a
	// new replay allocates once.
	timelineBuf [2][6]Change
	// The same for the short lists of frames and times: next to the state
	// rather than in separate heap objects, so that closing a connection
	// reads a few adjacent cache lines instead of as many scattered ones.
	synTimesBuf, synAckTimesBuf [2]time.Time
	synFramesBuf, synAckBuf     [2]uint64
	finFramesBuf                [2][2]uint64
	// Most connections have one finding (TIME-WAIT) citing two frames.
	findingBuf [1]Finding
	evidBuf    [4]uint64
}

// replayDetail is the part of a replay that a lean one never touches:
// Zeek's emulation and the inline buffers of the ladder and Zeek's
// history (a typical connection's fit).
type replayDetail struct {
	zeek       ZeekConn
	ladderBuf  [10]Step
	historyBuf [16]byte
}

// liveConn is what a replay keeps of its Conn while the connection goes
// on; the rest (counters, Zeek's verdict, the end) is only written into
// the Conn handed out at the close (finish), so it takes no room in the
// replays that sit cold in memory for a linger.
type liveConn struct {
	ID            uint64
	Key           reassembly.Key
	Incarnation   int
	Roles         reassembly.RoleEvidence
	Partial       bool
	Client        Endpoint
	Server        Endpoint
	FirstFrame    uint64
	First         time.Time
	Ladder        []Step
	LadderOmitted int
	Findings      []Finding
}

// replayState is what reset clears.
type replayState struct {
	cfg  *Config
	conn liveConn
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

	histories *interner
	lean      bool // no ladder, no Zeek emulation (Tracker.Detail said no)

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
	var rp *replay
	if n := len(t.free); n > 0 {
		rp, t.free = t.free[n-1], t.free[:n-1]
		if n > 1 { // the next connection to open: by then in cache
			prefetch.Lines(unsafe.Pointer(&t.free[n-2].replayState), unsafe.Sizeof(rp.replayState))
		}
	} else {
		rp = t.fresh.New()
		rp.conn.Client.Timeline = rp.timelineBuf[0][:0]
		rp.conn.Server.Timeline = rp.timelineBuf[1][:0]
		rp.synTimes, rp.synAckTimes = rp.synTimesBuf[:0], rp.synAckTimesBuf[:0]
		rp.synFrames, rp.synAckFrame = rp.synFramesBuf[:0], rp.synAckBuf[:0]
		rp.finFrames = [2][]uint64{rp.finFramesBuf[0][:0], rp.finFramesBuf[1][:0]}
		rp.conn.Findings = rp.findingBuf[:0]
		rp.findingBuf[0].Frames = rp.evidBuf[:0] // newFinding reuses a spare finding's slices
	}
	rp.cfg, rp.half, rp.histories = &t.cfg, &c.Half, &t.hist
	rp.lean = t.Detail != nil && !t.Detail(c.ID)
	if !rp.lean && rp.detail == nil {
		d := t.details.New()
		d.zeek.history = d.historyBuf[:0]
		rp.detail, rp.conn.Ladder = d, d.ladderBuf[:0]
	}
	cn := &rp.conn // fresh or reset: only its slices' capacity is left
	cn.ID, cn.Key, cn.Incarnation, cn.Roles = c.ID, c.Key, c.Incarnation, c.Roles
	cn.FirstFrame, cn.First = c.FirstFrame, c.First
	cn.Client.Addr, cn.Server.Addr = c.Client, c.Server
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
	if !rp.lean {
		rp.detail.zeek.AddCaptured(seg, seg.Captured)
	}
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
	if t.OnDone != nil {
		rp.finish(c, at, &t.out)
		rp.half = nil // the assembler recycles c
		t.OnDone(&t.out)
		rp.reset()
		t.free = append(t.free, rp)
		return
	}
	cn := new(Conn) // kept, with the replay's buffers, which are then not recycled
	rp.finish(c, at, cn)
	rp.half = nil
	t.done = append(t.done, cn)
}

// Linger is how long after its last segment a closed connection stays
// tracked: after 2×MSL no segment of it can still be in the network, so a
// later segment on the four-tuple belongs to a new connection.
func (c Config) Linger() time.Duration { return 2 * c.MSL }

// Done implements reassembly.Handler: c is over once both endpoints are
// closed (timers run up to now) and no segment of it came for the linger.
// Only SYN-SENT, SYN-RECEIVED, FIN-WAIT-2 and TIME-WAIT have timers (due).
func (t *Tracker) Done(c *reassembly.Conn, now time.Time) (done, timer bool) {
	if now.Sub(c.Last) < t.cfg.Linger() {
		return false, true
	}
	rp := c.Data.(*replay)
	rp.expire(now)
	a, b := rp.ep[0].State, rp.ep[1].State
	if !a.Open() && !b.Open() {
		return true, false
	}
	return false, hasTimer(a) || hasTimer(b)
}

// hasTimer reports whether an endpoint in state s can change state without
// a segment (see due).
func hasTimer(s State) bool {
	const timers = 1<<SynSent | 1<<SynReceived | 1<<FinWait2 | 1<<TimeWait
	return s < 32 && timers>>s&1 != 0
}

// reset empties rp for reuse, keeping the capacity of its slices so that a
// steady stream of connections allocates nothing.
func (rp *replay) reset() {
	// Only the slices are kept (copying the whole state aside would move
	// 1.6 kB per connection twice).
	synTimes, synFrames, synAckFrame, synAckTimes := rp.synTimes, rp.synFrames, rp.synAckFrame, rp.synAckTimes
	finFrames, resets := rp.finFrames, rp.resets
	c := &rp.conn
	ctl, can, stl, san := c.Client.Timeline, c.Client.Anomalies, c.Server.Timeline, c.Server.Anomalies
	ladder, findings := c.Ladder, c.Findings
	if d := rp.detail; d != nil && !rp.lean { // a lean replay left it as reset left it
		history := d.zeek.history
		d.zeek = ZeekConn{history: history[:0]}
	}
	rp.replayState = replayState{}
	rp.synTimes, rp.synFrames = synTimes[:0], synFrames[:0]
	rp.synAckFrame, rp.synAckTimes = synAckFrame[:0], synAckTimes[:0]
	rp.finFrames = [2][]uint64{finFrames[0][:0], finFrames[1][:0]}
	rp.resets = resets[:0]
	c.Client.Timeline, c.Client.Anomalies = ctl[:0], can[:0]
	c.Server.Timeline, c.Server.Anomalies = stl[:0], san[:0]
	c.Ladder, c.Findings = ladder[:0], findings[:0]
}

// Prefetch implements reassembly.Prefetcher: step 0 the connection's
// replay, step 1 the used part of the slices that finish and findings
// read.
func (t *Tracker) Prefetch(c *reassembly.Conn, step int) {
	rp, _ := c.Data.(*replay)
	if rp == nil {
		return
	}
	if t.PrefetchDone != nil {
		t.PrefetchDone(c.Client, step)
	}
	if step == 0 {
		prefetch.Lines(unsafe.Pointer(&rp.replayState), unsafe.Sizeof(rp.replayState))
		return
	}
	if d := rp.detail; d != nil && !rp.lean { // Zeek's state, which only such a replay reads
		prefetch.Lines(unsafe.Pointer(&d.zeek), unsafe.Sizeof(d.zeek))
	}
	prefetchSlice(rp.synTimes)
	prefetchSlice(rp.synFrames)
	prefetchSlice(rp.synAckTimes)
	prefetchSlice(rp.synAckFrame)
	prefetchSlice(rp.finFrames[0])
	prefetchSlice(rp.finFrames[1])
	prefetchSlice(rp.resets)
	prefetchSlice(rp.conn.Client.Timeline)
	prefetchSlice(rp.conn.Server.Timeline)
	prefetchSlice(rp.conn.Ladder)
	// Findings are written from the first spare one (newFinding).
	prefetchSlice(rp.conn.Findings[:min(cap(rp.conn.Findings), 2)])
}

// prefetchSlice prefetches the cache lines of xs's elements (at most
// prefetch.MaxLines).
func prefetchSlice[T any](xs []T) {
	var x T
	prefetch.Lines(unsafe.Pointer(unsafe.SliceData(xs)), uintptr(len(xs))*unsafe.Sizeof(x))
}
