package reassembly

import (
	"cmp"
	"iter"
	"slices"
	"time"
	"unsafe"

	"github.com/tcpstate/tcpstate/reassembly/prefetch"
	"github.com/tcpstate/tcpstate/reassembly/slab"
)

// SegKind classifies a segment against the sequence stream of its sender.
// Several bits may be set.
type SegKind uint16

// Segment classes, after Wireshark's TCP analysis (RFC 9293 vocabulary).
const (
	// Retransmission: the segment re-sends sequence space (data, SYN or FIN)
	// that this endpoint was already seen sending.
	Retransmission SegKind = 1 << iota
	// Duplicate: an identical copy of the previous segment from the same
	// endpoint within DupWindow: the same packet captured twice (-i any, SPAN).
	Duplicate
	// KeepAlive: zero or one byte at NextSeq-1, no SYN/FIN/RST (RFC 9293 §3.8.4).
	KeepAlive
	// OutOfOrder: the segment filled a hole in the stream shortly after it opened.
	OutOfOrder
	// Gap: the segment starts beyond NextSeq; the bytes in between were not captured.
	Gap
	// AckUnseen: the segment acknowledges sequence space the peer was never
	// seen sending (a capture gap, or only one direction captured).
	AckUnseen
	// ZeroWindow: the segment advertises a zero receive window.
	ZeroWindow
)

// DupWindow is how close in time two identical segments must be to count as
// one packet captured twice. A real retransmission waits at least one RTO
// (Linux: 200 ms minimum), so 2 ms separates the two cases safely.
const DupWindow = 2 * time.Millisecond

// oooWindow is how soon after a hole opens a segment filling it counts as
// reordered rather than retransmitted (Wireshark's default threshold).
const oooWindow = 3 * time.Millisecond

// SegInfo is what the assembler learned about one segment.
type SegInfo struct {
	Dir  Dir
	Kind SegKind
	// RelSeq and RelAck are relative to the sender's and the receiver's Base.
	RelSeq, RelAck uint32
}

// Handler receives connections and their segments from an Assembler.
type Handler interface {
	// Open is called when a connection is created, before its first Segment.
	Open(c *Conn)
	// Segment is called for every segment of c, in capture order. seg and
	// info are valid only during the call.
	Segment(c *Conn, seg *Segment, info *SegInfo)
	// Close is called once per connection when the assembler is done with it,
	// at time at (capture time). c is recycled after Close returns: a handler
	// must not keep it.
	Close(c *Conn, at Stamp, why CloseReason)
	// Done reports whether c is over at capture time now: nothing but a new
	// incarnation could change what the handler reports about it. Sweep
	// then closes it (Finished) and releases its memory. When it is not
	// over, timer reports whether the mere passing of time could still end
	// it (a timer of the handler's is running); if not (an idle
	// ESTABLISHED or CLOSE-WAIT), Sweep stops looking at c until its next
	// segment, so that a capture full of leaked connections does not make
	// every sweep revisit them all.
	Done(c *Conn, now Stamp) (done, timer bool)
}

// Assembler groups segments into connections: a four-tuple table that splits
// incarnations, assigns client and server roles, and tracks each endpoint's
// sequence space. It is not safe for concurrent use.
type Assembler struct {
	h     Handler
	conns table
	free  []*Conn         // closed connections, recycled by open
	fresh slab.Pool[Conn] // where connections come from when free is empty (see package slab)
	last  Stamp
	info  SegInfo
	live  int // connections tracked, previous incarnations included
	peak  int
	// MaxConns, when positive, bounds the connections tracked at once: a
	// new connection beyond it first evicts the least recently active one,
	// closed as Evicted with its verdict as of that moment. This keeps
	// memory bounded under a SYN flood of distinct four-tuples.
	MaxConns int
	evicted  uint64
	idle     sched // every tracked connection not parked, by when Sweep should look at it
	// parked holds the connections Sweep stopped looking at (Done said no
	// timer could end them), by last activity, for evict. An entry is
	// current only while its connection is parked with the same parkSeq;
	// others are dropped when met, or by compaction.
	parked  idleQueue
	nParked int
	due     []idleEntry // Sweep's scratch: the entries it visits
}

// Prefetcher is an optional Handler method: Prefetch starts loading the
// memory Done and Close will use for c, without waiting for it (package
// prefetch), in two steps: step 0 its own state for c, which it finds
// through c.Data, and step 1 the memory that state points to. Sweep and
// Flush prefetch the connections a few ahead of the one they are closing
// (prefetchClose): they were last used up to a linger ago and are cold,
// and the loads of several connections then wait on memory together
// instead of one after the other. Each step reads only what the step
// before prefetched: the Conn, then the handler's state.
type Prefetcher interface {
	Prefetch(c *Conn, step int)
}

// NewAssembler returns an Assembler that reports to h.
func NewAssembler(h Handler) *Assembler {
	return &Assembler{h: h}
}

// Len returns the number of four-tuples currently tracked.
func (a *Assembler) Len() int { return a.conns.n }

// Live returns the number of connections tracked now (a four-tuple may hold
// two incarnations for a moment); Peak the most ever tracked at once.
func (a *Assembler) Live() int { return a.live }

// Evicted returns how many connections MaxConns made room for.
func (a *Assembler) Evicted() uint64 { return a.evicted }

// Peak returns the largest number of connections tracked at once.
func (a *Assembler) Peak() int { return a.peak }

// All yields every connection tracked now, previous incarnations included,
// in no particular order. The connections must not be changed, nor the
// Assembler used, during the iteration. It visits every tracked connection:
// meant for an occasional snapshot (a live view), never per packet.
func (a *Assembler) All() iter.Seq[*Conn] {
	return func(yield func(*Conn) bool) {
		for i := range a.conns.slots {
			c := a.conns.slots[i].c
			if c == nil {
				continue
			}
			if c.Prev != nil && !yield(c.Prev) {
				return
			}
			if !yield(c) {
				return
			}
		}
	}
}

// Add processes one segment. It allocates only when a connection is created.
func (a *Assembler) Add(seg *Segment) {
	var k Key
	h := k.setSeg(seg)
	c := a.conns.get(&k, h)
	switch {
	case c == nil:
		if a.MaxConns > 0 && a.live >= a.MaxConns {
			a.evict(seg.Time)
		}
		c = a.open(&k, h, seg, nil)
	case a.startsNew(c, seg):
		c = a.open(&k, h, seg, c)
	case c.Prev != nil && belongsToPrev(c, seg):
		c = c.Prev
	}
	if c.parked {
		a.unpark(c, seg.Time)
	}
	a.last = seg.Time
	info := &a.info // reused: passing a local through the Handler interface would allocate
	*info = SegInfo{}
	c.track(seg, info)
	a.h.Segment(c, seg, info)
	if p := c.Prev; p != nil && c.synAcked {
		c.Prev = nil
		a.close(p, seg.Time, Superseded)
	}
}

// Sweep closes (as Finished) every connection whose handler reports it Done
// at time now, releasing it, so that memory follows the connections open at
// once rather than all the connections of the capture. The caller picks the
// moments; the result does not depend on the order connections are visited.
//
// A connection is only visited once it has been idle for linger (every
// handler's Done is false before that): the idle queue holds each
// connection keyed by the time of its last segment as of the previous visit,
// so a sweep costs the connections idle long enough, not all of them. Which
// connections a sweep closes depends only on each connection's own segments
// and on now, never on the others sharing the Assembler.
func (a *Assembler) Sweep(now Stamp, linger time.Duration) {
	cutoff := int64(now.Add(-linger))
	due := a.due[:0]
	for a.idle.len() > 0 && a.idle.first() <= cutoff {
		due = append(due, a.idle.pop())
	}
	a.due = due
	pf, _ := a.h.(Prefetcher)
	for i := range due {
		a.prefetchClose(pf, aheadOf(due, i+closeAhead), aheadOf(due, i+2*closeAhead), aheadOf(due, i+3*closeAhead), true)
		e := due[i]
		c := e.c
		switch {
		case c.ID != e.id || c.superseded:
			// closed and recycled, or now a previous incarnation (closed with its successor)
		case int64(c.Last) > cutoff:
			a.idle.push(idleEntry{at: int64(c.Last), c: c, id: c.ID})
		case c.Prev != nil:
			a.idle.push(idleEntry{at: max(int64(now), cutoff+1), c: c, id: c.ID})
		default:
			done, timer := a.h.Done(c, now)
			switch {
			case done:
				a.conns.del(&c.Key, c.Key.hash())
				a.close(c, now, Finished)
			case timer:
				// A timer still to run: look again one linger later, not
				// at every sweep.
				a.idle.push(idleEntry{at: max(int64(now), cutoff+1), c: c, id: c.ID})
			default:
				a.park(c) // open with no timer (a leak): only a segment can change it
			}
		}
	}
}

// closeAhead is how many connections apart the steps of prefetchClose are.
const closeAhead = 6

// prefetchClose is called before each of a row of connections is closed
// (Sweep, Flush), with the ones closeAhead, 2×closeAhead and
// 3×closeAhead after it (nil past the row's end). It prefetches them in
// steps (see Prefetcher): the farthest's Conn, the middle one's table
// slot (when inTable: Sweep deletes it, Flush has cleared the table) and
// the handler's state, and the nearest's memory that state points to.
func (a *Assembler) prefetchClose(pf Prefetcher, near, mid, far *Conn, inTable bool) {
	if far != nil {
		prefetch.Lines(unsafe.Pointer(far), unsafe.Sizeof(Conn{}))
	}
	if mid != nil {
		if n := len(a.conns.slots); inTable && n > 0 {
			prefetch.Lines(unsafe.Pointer(&a.conns.slots[mid.Key.hash()&uint64(n-1)]), unsafe.Sizeof(slot{}))
		}
		if pf != nil {
			pf.Prefetch(mid, 0)
		}
	}
	if near != nil && pf != nil {
		pf.Prefetch(near, 1)
	}
}

// aheadOf returns xs[i].c, or nil past the end of xs.
func aheadOf(xs []idleEntry, i int) *Conn {
	if i < len(xs) {
		return xs[i].c
	}
	return nil
}

// connAt returns xs[i], or nil past the end of xs.
func connAt(xs []*Conn, i int) *Conn {
	if i < len(xs) {
		return xs[i]
	}
	return nil
}

// park takes c, open with nothing but a segment able to end it, off the
// sweep queue; its next segment (Add) puts it back.
func (a *Assembler) park(c *Conn) {
	c.parked = true
	c.parkSeq++
	a.nParked++
	a.parked.push(idleEntry{at: int64(c.Last), c: c, id: c.ID, seq: c.parkSeq})
	if len(a.parked) > 2*a.nParked+1024 {
		a.compactParked()
	}
}

// unpark puts a parked connection back on the sweep queue at its new
// segment's time t.
func (a *Assembler) unpark(c *Conn, t Stamp) {
	c.parked = false
	a.nParked--
	a.idle.push(idleEntry{at: int64(t), c: c, id: c.ID})
}

// current reports whether e is the live entry of a parked connection.
func (e *idleEntry) current() bool {
	return e.c.ID == e.id && e.c.parked && e.c.parkSeq == e.seq
}

// compactParked drops the entries of connections no longer parked.
func (a *Assembler) compactParked() {
	q := a.parked[:0]
	for _, e := range a.parked {
		if e.current() {
			q = append(q, e)
		}
	}
	clear(a.parked[len(q):])
	a.parked = q
	a.parked.heapify()
}

// evict closes the least recently active connection (with its previous
// incarnation, if any) to make room for a new one. The idle queue is keyed
// by each connection's last segment as of its last visit, so an entry whose
// connection has been active since is put back at its true time first.
func (a *Assembler) evict(now Stamp) {
	for a.idle.len() > 0 || len(a.parked) > 0 {
		if len(a.parked) > 0 && (a.idle.len() == 0 || a.parked[0].at < a.idle.first()) {
			e := a.parked.pop()
			switch c := e.c; {
			case !e.current():
				continue // unparked since, or closed and recycled
			case int64(c.Last) > e.at: // not expected: a segment unparks
				a.parked.push(idleEntry{at: int64(c.Last), c: c, id: c.ID, seq: e.seq})
				continue
			}
			a.evictConn(e.c, now)
			return
		}
		e := a.idle.pop()
		c := e.c
		switch {
		case c.ID != e.id || c.superseded || c.parked:
			continue // closed and recycled, a previous incarnation, or parked (its entry is in parked)
		case int64(c.Last) > e.at:
			a.idle.push(idleEntry{at: int64(c.Last), c: c, id: c.ID})
			continue
		}
		a.evictConn(c, now)
		return
	}
}

// evictConn closes c, with its previous incarnation if any, as Evicted.
func (a *Assembler) evictConn(c *Conn, now Stamp) {
	a.conns.del(&c.Key, c.Key.hash())
	if p := c.Prev; p != nil {
		c.Prev = nil
		a.close(p, now, Evicted)
		a.evicted++
	}
	a.close(c, now, Evicted)
	a.evicted++
}

// close hands c to the handler for the last time and recycles it.
func (a *Assembler) close(c *Conn, at Stamp, why CloseReason) {
	a.h.Close(c, at, why)
	if c.parked {
		a.nParked--
	}
	*c = Conn{}
	a.free = append(a.free, c)
	a.live--
}

// Flush closes every connection still tracked, oldest first, at time end.
func (a *Assembler) Flush(end Stamp) {
	if end.Before(a.last) {
		end = a.last
	}
	var all []*Conn
	a.conns.each(func(c *Conn) {
		if c.Prev != nil {
			all = append(all, c.Prev)
		}
		all = append(all, c)
	})
	slices.SortFunc(all, func(x, y *Conn) int { return cmp.Compare(x.ID, y.ID) })
	a.conns.clear()
	// As Sweep does: these were last used up to a linger ago.
	pf, _ := a.h.(Prefetcher)
	for i, c := range all {
		a.prefetchClose(pf, connAt(all, i+closeAhead), connAt(all, i+2*closeAhead), connAt(all, i+3*closeAhead), false)
		c.Prev = nil
		a.close(c, end, EndOfCapture)
	}
}

// open creates the connection that seg starts; prev is the incarnation it replaces.
func (a *Assembler) open(k *Key, h uint64, seg *Segment, prev *Conn) *Conn {
	var c *Conn
	if n := len(a.free); n > 0 {
		c, a.free = a.free[n-1], a.free[:n-1]
		if n > 1 { // the next connection to open: by then in cache
			prefetch.Lines(unsafe.Pointer(a.free[n-2]), unsafe.Sizeof(*c))
		}
	} else {
		c = a.fresh.New()
	}
	*c = Conn{Key: *k, ID: seg.Frame, FirstFrame: seg.Frame, First: seg.Time}
	a.live++
	a.peak = max(a.peak, a.live)
	a.idle.push(idleEntry{at: int64(seg.Time), c: c, id: c.ID})
	src, dst := seg.Src(), seg.Dst()
	switch {
	case seg.Flags&(SYN|ACK) == SYN:
		c.Client, c.Server, c.Roles = src, dst, RoleBySYN
	case seg.Flags&(SYN|ACK) == SYN|ACK:
		c.Client, c.Server, c.Roles = dst, src, RoleBySYNACK
	default:
		c.Roles = RoleByPort
		if serverSide(seg.SrcPort, seg.DstPort) {
			c.Client, c.Server = dst, src
		} else {
			c.Client, c.Server = src, dst
		}
	}
	c.clientLo = IPOf(c.Client.Addr()) == IP{c.Key.loH, c.Key.loL} && c.Client.Port() == c.Key.loP
	c.Half[0].WScale, c.Half[1].WScale = NoWScale, NoWScale
	if prev != nil {
		c.Incarnation = prev.Incarnation + 1
		if prev.Prev != nil { // a third incarnation before the second synchronized
			old := prev.Prev
			prev.Prev = nil
			a.close(old, seg.Time, Superseded)
		}
		c.Prev = prev
		prev.superseded = true
	}
	a.conns.put(k, h, c)
	a.h.Open(c)
	return c
}

// startsNew reports whether seg, a segment on c's four-tuple, begins a new
// incarnation: a SYN without ACK that is not a retransmission of c's SYN and
// not the second half of a simultaneous open.
func (a *Assembler) startsNew(c *Conn, seg *Segment) bool {
	if seg.Flags&(SYN|ACK) != SYN {
		return false
	}
	d := c.dirOf(seg)
	h, peer := &c.Half[d], &c.Half[d.Reverse()]
	switch {
	case c.finished() || h.FinSent:
		return true // the four-tuple is free again (RFC 9293 §3.10.7.4, RFC 1122 §4.2.2.13)
	case h.HaveISN:
		return Seq(seg.Seq) != h.ISN // a new ISN is a new connection; the same ISN a retransmission
	case h.Seen:
		return true // this side was seen mid-stream, now it opens afresh
	case peer.HaveISN:
		return false // simultaneous open: both sent SYN (RFC 9293 §3.5, figure 8)
	}
	return peer.Seen
}

// belongsToPrev reports whether seg, arriving while c (a new incarnation) is
// still unsynchronized, is stale traffic of the previous incarnation: the old
// socket answering the new SYN (RFC 5961 challenge ACK) or the RST that
// answers such an ACK (RFC 9293 §3.10.7.3).
func belongsToPrev(c *Conn, seg *Segment) bool {
	if seg.Flags&SYN != 0 {
		return false
	}
	cl := &c.Half[ClientToServer]
	if c.sentByServer(seg) {
		// Before its SYN-ACK the server has nothing in this incarnation, except
		// an RST refusing the new SYN, which acknowledges it.
		return !(seg.Flags&ACK != 0 && cl.HaveISN && Seq(seg.Ack) == cl.ISN.Add(1))
	}
	return !(cl.HaveISN && Seq(seg.Seq) == cl.ISN.Add(1))
}

// track updates the sender's Half with seg and classifies it into info.
func (c *Conn) track(seg *Segment, info *SegInfo) {
	d := c.dirOf(seg)
	h, peer := &c.Half[d], &c.Half[d.Reverse()]
	info.Dir = d
	ns := int64(seg.Time)
	seq := Seq(seg.Seq)
	end := Seq(seg.SeqEnd())
	f := seg.Flags

	if c.LastFrame == 0 || seg.Frame > c.LastFrame {
		c.LastFrame, c.Last = seg.Frame, seg.Time
	}
	h.Packets++
	h.Bytes += uint64(seg.Len)
	h.IPBytes += uint64(seg.IPLen)
	h.Window = seg.Window

	if h.Seen && isDuplicate(&h.last, seg, ns) {
		info.Kind |= Duplicate
		h.Duplicates++
		h.setLast(seg, ns)
		info.RelSeq = h.Rel(seg.Seq)
		if seg.Flags&ACK != 0 {
			info.RelAck = peer.Rel(seg.Ack)
		}
		h.LastNs = ns
		return
	}
	h.setLast(seg, ns)

	if f&SYN != 0 {
		if !h.HaveISN {
			h.HaveISN, h.ISN, h.Base = true, seq, seq
			h.WScale = seg.WScale
			if !h.Seen {
				h.NextSeq = seq
			}
		}
		if d == ServerToClient && f&ACK != 0 {
			c.synAcked = true
		}
	}
	if !h.Seen {
		h.Seen = true
		if !h.HaveISN {
			h.Base, h.NextSeq = seq, seq
		}
	}

	consumes := seg.Len > 0 || f&(SYN|FIN) != 0
	switch {
	case f&(SYN|FIN|RST) == 0 && seg.Len <= 1 && seq == h.NextSeq-1:
		info.Kind |= KeepAlive
		h.KeepAlives++
	case consumes && seq.Before(h.NextSeq):
		if h.hole && seq.AtOrAfter(h.holeStart) && !end.After(h.holeEnd) {
			if ns-h.holeNs <= int64(oooWindow) {
				info.Kind |= OutOfOrder
				h.OutOfOrder++
			} else {
				info.Kind |= Retransmission
				h.Retransmits++
			}
			h.fillHole(seq, end)
		} else {
			info.Kind |= Retransmission
			h.Retransmits++
		}
	case seq.After(h.NextSeq) && f&RST == 0:
		info.Kind |= Gap
		h.Gaps++
		if !h.hole {
			h.hole, h.holeStart, h.holeEnd, h.holeNs = true, h.NextSeq, seq, ns
		}
	}
	if end.After(h.NextSeq) && f&RST == 0 {
		h.NextSeq = end // an RST's sequence number is only a claim until it is accepted
	}
	if f&FIN != 0 && !h.FinSent {
		h.FinSent, h.FinSeq = true, end-1
	}
	if f&RST != 0 {
		h.RstSent = true
	}
	if f&ACK != 0 {
		ack := Seq(seg.Ack)
		if peer.Seen && ack.After(peer.NextSeq) || !peer.Seen && f&RST == 0 {
			info.Kind |= AckUnseen
			h.AckUnseen++
		}
		if !h.HaveAck || ack.After(h.MaxAck) {
			h.HaveAck, h.MaxAck = true, ack
		}
		info.RelAck = peer.Rel(seg.Ack)
	}
	if seg.Window == 0 && f&(SYN|FIN|RST) == 0 {
		info.Kind |= ZeroWindow
	}
	info.RelSeq = h.Rel(seg.Seq)
	h.LastNs = ns
	if seg.Len > 0 {
		h.LastDataNs, h.DataSeen = ns, true
	}
}

// fillHole shrinks the open hole by the range [seq, end).
func (h *Half) fillHole(seq, end Seq) {
	switch {
	case !seq.After(h.holeStart) && !end.Before(h.holeEnd):
		h.hole = false
	case !seq.After(h.holeStart):
		h.holeStart = end
	case !end.Before(h.holeEnd):
		h.holeEnd = seq
	}
}

func (h *Half) setLast(seg *Segment, ns int64) {
	// Field by field: a composite literal was built on the stack with
	// 4-byte stores and copied with 16-byte loads, which wait for those
	// stores to reach the cache (a failed store forward) on every packet.
	l := &h.last
	l.seq, l.ack, l.tsval, l.tsecr = seg.Seq, seg.Ack, seg.TSVal, seg.TSEcr
	l.len, l.win, l.flags, l.ns = seg.Len, seg.Window, seg.Flags, ns
}

// isDuplicate reports whether seg, at ns, repeats l within DupWindow.
func isDuplicate(l *lastSeg, seg *Segment, ns int64) bool {
	return l.seq == seg.Seq && l.ack == seg.Ack && l.flags == seg.Flags && l.len == seg.Len &&
		l.win == seg.Window && l.tsval == seg.TSVal && l.tsecr == seg.TSEcr &&
		ns >= l.ns && ns-l.ns <= int64(DupWindow)
}

// wellKnown lists common server ports above 1023, so that a mid-stream
// connection between two high ports still gets the right server.
var wellKnown = map[uint16]bool{
	1080: true, 1433: true, 1521: true, 2049: true, 3306: true, 3389: true, 5432: true,
	5672: true, 6379: true, 8000: true, 8008: true, 8080: true, 8443: true, 8888: true,
	9000: true, 9092: true, 9200: true, 11211: true, 27017: true,
}

// serverSide reports whether the sender's port (src) looks like the server's.
func serverSide(src, dst uint16) bool {
	const firstEphemeral = 1024
	switch {
	case src < firstEphemeral && dst >= firstEphemeral:
		return true
	case dst < firstEphemeral && src >= firstEphemeral:
		return false
	case wellKnown[src] != wellKnown[dst]:
		return wellKnown[src]
	}
	return src < dst
}

// idleEntry schedules a look at connection c (while its ID is still id) by
// Sweep once at (Unix nanoseconds) is at least linger old.
type idleEntry struct {
	at  int64
	c   *Conn
	id  uint64
	seq uint32 // parked entries: the connection's parkSeq when parked
}

// sched is the idle queue: idleEntry by at, earliest first. Entries
// mostly come in time order (a connection's first segment, a look one
// linger later), so they queue in a FIFO, and only one earlier than the
// FIFO's last goes to a heap; first and pop take the earlier head. Most
// pushes and pops then cost O(1) and touch one entry, not a heap path.
type sched struct {
	fifo []idleEntry // fifo[head:] in order of at
	head int
	heap idleQueue
}

func (s *sched) len() int { return len(s.fifo) - s.head + len(s.heap) }

func (s *sched) push(e idleEntry) {
	if n := len(s.fifo); n == s.head || s.fifo[n-1].at <= e.at {
		s.fifo = append(s.fifo, e)
		return
	}
	s.heap.push(e)
}

// fromFIFO reports whether the earliest entry is the FIFO's head.
func (s *sched) fromFIFO() bool {
	return s.head < len(s.fifo) && (len(s.heap) == 0 || s.fifo[s.head].at <= s.heap[0].at)
}

// first returns the earliest entry's at; s must not be empty.
func (s *sched) first() int64 {
	if s.fromFIFO() {
		return s.fifo[s.head].at
	}
	return s.heap[0].at
}

// pop removes and returns the earliest entry; s must not be empty.
func (s *sched) pop() idleEntry {
	if !s.fromFIFO() {
		return s.heap.pop()
	}
	e := s.fifo[s.head]
	s.fifo[s.head] = idleEntry{}
	s.head++
	switch {
	case s.head == len(s.fifo):
		s.fifo, s.head = s.fifo[:0], 0
	case s.head >= 1024 && 2*s.head >= len(s.fifo):
		n := copy(s.fifo, s.fifo[s.head:])
		clear(s.fifo[n:])
		s.fifo, s.head = s.fifo[:n], 0
	}
	return e
}

// idleQueue is a binary min-heap of idleEntry by at.
type idleQueue []idleEntry

func (q *idleQueue) push(e idleEntry) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].at <= h[i].at {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (q *idleQueue) pop() idleEntry {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = idleEntry{}
	h = h[:n]
	h.down(0)
	*q = h
	return top
}

// heapify restores the heap order of the whole queue.
func (q idleQueue) heapify() {
	for i := len(q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

// down moves entry i down to its place.
func (h idleQueue) down(i int) {
	n := len(h)
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[l].at < h[m].at {
			m = l
		}
		if r < n && h[r].at < h[m].at {
			m = r
		}
		if m == i {
			break
		}
		h[m], h[i] = h[i], h[m]
		i = m
	}
}
