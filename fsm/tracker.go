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
	free    []freeReplay            // finished replays nobody kept, reused by Open
	fresh   slab.Pool[replay]       // where replays come from when free is empty (see package slab)
	details slab.Pool[replayDetail] // and their detail, for the connections that are not lean
	hist    interner                // Zeek history strings, shared by the connections
	out     Conn                    // the Conn handed to OnDone, reused for the next one
	// Keep, when set, is asked at the close of each connection that is
	// not lean (Detail said yes), with the Conn complete but for Conn.Zeek,
	// whether it will be shown in full. When it says no, Zeek's emulation
	// never runs for the connection (see replayDetail) and Conn.Zeek stays
	// empty. It must say yes for every connection whose Zeek verdict is
	// read.
	Keep func(*Conn) bool
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

// freeReplay is a replay ready for reuse, with its detail at hand for
// Open to prefetch.
type freeReplay struct {
	rp *replay
	d  *replayDetail
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

// Open prefetches a replay's state from the replay's own address: this
// fails to compile if replayState is not its first field.
var _ [0]struct{} = [unsafe.Offsetof(replay{}.replayState)]struct{}{}

// replay is the working state of one connection, with backing arrays that
// outlive it when it is recycled.
type replay struct {
	replayState
	// detail is what only a connection shown in full uses, apart from
	// what reset always clears: nil until a connection that is not lean
	// gets this replay, then kept with it. In a long capture nearly every
	// connection is lean, and its replay is 1.4 kB smaller.
	detail *replayDetail
	// Initial backing arrays: a typical connection's timelines fit, so a
	// new replay allocates once.
	timelineBuf [2][6]Change
	// The same for the short lists of frames and times: next to the state
	// rather than in separate heap objects, so that closing a connection
	// reads a few adjacent cache lines instead of as many scattered ones.
	synTimesBuf, synAckTimesBuf [2]reassembly.Stamp
	synFramesBuf, synAckBuf     [2]uint64
	finFramesBuf                [2][2]uint64
	// Most connections have one finding (TIME-WAIT) citing two frames.
	findingBuf [1]Finding
	evidBuf    [4]uint64
}

// replayDetail is the part of a replay that a lean one never touches:
// the inline buffer of the ladder, Zeek's emulation and the inline buffer
// of its history (a typical connection's fit).
//
// Zeek's emulation is deferred. A connection's first segments are only
// recorded, 16 bytes each of what the emulation reads; they are replayed
// into zeek at the close, and only for a connection the report will show
// (Tracker.Keep), or as soon as the records are full, when the emulation
// catches up and from then on runs on each segment (eager). Most
// connections that may be shown when they open are not shown in the end
// (in the benchmark's capture, four in five: whether one is notable is
// known at its close), and those never run the emulation. The verdict is
// the same, since the emulation reads nothing but its segments, in order.
//
// What the segments of a connection touch comes first, so that Open can
// prefetch it together: the ladder and the records (the replay is recycled
// a linger after its last use, and is cold). How many records there are,
// and whether the emulation is eager, are in the replay's own state
// (replayState.nrecs, eager), which the segments and the close read
// first: the detail is not touched for them.
type replayDetail struct {
	ladderBuf  [10]Step
	recs       [zeekRecs]zeekRec
	zeek       ZeekConn
	historyBuf [16]byte
}

// zeekRecs is how many segments a replayDetail records before Zeek's
// emulation catches up: most connections have fewer.
const zeekRecs = 24

// zeekRec is a segment as Zeek's emulation reads it (ZeekConn.AddCaptured):
// its sender, sequence and acknowledgment numbers, flags, payload length,
// whether its window is zero and whether the capture holds its payload.
type zeekRec struct {
	seq, ack, len uint32
	flags         reassembly.Flags
	bits          uint8 // zeekFromServer | zeekWin0 | zeekFull
}

const (
	zeekFromServer = 1 << iota // sent by the connection's server
	zeekWin0                   // a zero window
	zeekFull                   // the capture holds the whole payload
)

// zeekSegment gives seg, sent in direction dir, to Zeek's emulation, now
// or later (replayDetail).
func (rp *replay) zeekSegment(seg *reassembly.Segment, dir reassembly.Dir) {
	d := rp.detail
	if !rp.eager {
		if n := int(rp.nrecs); n < len(d.recs) && deferZeek {
			var bits uint8
			if dir == reassembly.ServerToClient {
				bits |= zeekFromServer
			}
			if seg.Window == 0 {
				bits |= zeekWin0
			}
			if seg.Captured >= seg.Len {
				bits |= zeekFull
			}
			// In place, field by field (see replay.ladder).
			r := &d.recs[n]
			r.seq, r.ack, r.len, r.flags, r.bits = seg.Seq, seg.Ack, seg.Len, seg.Flags, bits
			rp.nrecs++
			return
		}
		rp.zeekCatchUp()
	}
	d.zeek.AddCaptured(seg, seg.Captured)
}

// deferZeek lets tests run Zeek's emulation on each segment, to compare.
var deferZeek = true

// zeekCatchUp replays the recorded segments into Zeek's emulation, which
// then runs on each later segment. A connection's segments are all sent by
// its client or its server (the assembler finds it by their addresses).
func (rp *replay) zeekCatchUp() {
	d := rp.detail
	rp.eager = true
	var c2s, s2c reassembly.Segment
	c2s.SetAddrs(rp.conn.Client.Addr, rp.conn.Server.Addr)
	s2c.SetAddrs(rp.conn.Server.Addr, rp.conn.Client.Addr)
	for _, r := range d.recs[:rp.nrecs] {
		seg := &c2s
		if r.bits&zeekFromServer != 0 {
			seg = &s2c
		}
		seg.Seq, seg.Ack, seg.Len, seg.Flags = r.seq, r.ack, r.len, r.flags
		seg.Window = 1 // only whether it is zero is read
		if r.bits&zeekWin0 != 0 {
			seg.Window = 0
		}
		var captured uint32 // only whether it covers Len is read
		if r.bits&zeekFull != 0 {
			captured = r.len
		}
		d.zeek.AddCaptured(seg, captured)
	}
	rp.nrecs = 0
}

// liveConn is what a replay keeps of its Conn while the connection goes
// on; the rest (counters, Zeek's verdict, the end) is only written into
// the Conn handed out at the close (finish), so it takes no room in the
// replays that sit cold in memory for a linger. What the assembler's
// Conn holds and never changes after the open (ID, key, incarnation,
// roles, first frame and time) is read from there at the close, not
// copied: 88 bytes, two cache lines fewer for each open, close and
// reset to load.
type liveConn struct {
	Partial       bool
	Client        Endpoint
	Server        Endpoint
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
	twStart          [2]reassembly.Stamp

	synTimes      []reassembly.Stamp // client SYN transmissions (for back-off intervals)
	synFrames     []uint64
	synAckFrame   []uint64
	synAckTimes   []reassembly.Stamp
	finFrames     [2][]uint64
	rstFrame      [2]uint64
	rstAt         [2]reassembly.Stamp // when rstFrame was sent
	lastData      [2]Step
	firstUnseen   uint64
	firstGap      uint64
	firstOneSided uint64 // first ACK for a direction never captured
	resets        []resetInfo

	reuse    *reuseInfo // this connection reused a four-tuple with stale state
	reusedBy *replay    // a newer incarnation answered by this one's stale socket

	histories *interner
	lean      bool // no ladder, no Zeek emulation (Tracker.Detail said no)
	// eager: Zeek's emulation caught up and is fed each segment
	// (replayDetail); until then, nrecs of the detail's records are used.
	// Here rather than in the detail, so that what a segment and the
	// close check first is in the replay's own lines, which the
	// assembler has prefetched.
	eager bool
	nrecs uint8

	frame uint64
	now   reassembly.Stamp
}

type resetInfo struct {
	sender         reassembly.Dir
	from, peerFrom State
	frame          uint64
	at             reassembly.Stamp
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
		rp, t.free = t.free[n-1].rp, t.free[:n-1]
		if n > 1 { // the next connection to open: by then in cache
			next := &t.free[n-2]
			// Not &next.rp.replayState: the compiler checks a pointer
			// it takes a field's address of by loading through it,
			// which would wait for the cold replay this prefetches.
			// replayState is the replay's first field.
			prefetch.Lines(unsafe.Pointer(next.rp), unsafe.Sizeof(rp.replayState))
			if d := next.d; d != nil {
				// What its segments will touch if it is not lean; the
				// pointer is kept in free, not read from the cold replay.
				prefetch.Lines(unsafe.Pointer(d), unsafe.Offsetof(d.zeek))
			}
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
		rp.zeekSegment(seg, info.Dir)
	}
	rp.step(c, seg, info)
	if rp.reusedBy != nil && info.Kind&reassembly.Duplicate == 0 {
		rp.stale(seg, info)
	}
}

// Close implements reassembly.Handler.
func (t *Tracker) Close(c *reassembly.Conn, at reassembly.Stamp, why reassembly.CloseReason) {
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
		rp.finish(c, at, &t.out, t.Keep)
		rp.half = nil // the assembler recycles c
		t.OnDone(&t.out)
		rp.reset()
		t.free = append(t.free, freeReplay{rp, rp.detail})
		return
	}
	cn := new(Conn) // kept, with the replay's buffers, which are then not recycled
	rp.finish(c, at, cn, nil)
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
func (t *Tracker) Done(c *reassembly.Conn, now reassembly.Stamp) (done, timer bool) {
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
	if d := rp.detail; d != nil && !rp.lean && rp.eager { // else zeek is as the last reset left it
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
	if d := rp.detail; d != nil && !rp.lean && rp.eager { // Zeek's state, read at the close once eager
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
