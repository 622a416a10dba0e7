package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/report"
)

// segmentSource is what the pipeline reads: capture.Source, or a live capture.
type segmentSource interface {
	// Next fills the segment, or returns io.EOF at the end, errNoPacket
	// when nothing arrived for a while (live capture), or an error that
	// ends the run.
	Next(*reassembly.Segment) error
	Stats() reassembly.Stats
}

// errNoPacket is what a live source's Next returns when its read timeout
// expired with no packet: the pipeline checks for cancellation and the
// live view, then calls Next again. Files never return it.
var errNoPacket = errors.New("no packet within the read timeout")

// pipeline drives the analysis: segments from a source into one
// assembler+tracker+builder per worker, connections sharded by four-tuple.
// The report is the same, byte for byte, whatever the number of workers:
// every connection lives in exactly one worker, sweeps happen at the same
// packets in all of them, and report.Builder does not depend on order.
type pipeline struct {
	cfg  fsm.Config
	lim  report.Limits
	jobs int
	// sweepEvery is how much capture time passes between sweeps that
	// release finished connections (0: MSL/2, so that a connection is
	// released at most 25% later than the 2×MSL linger).
	sweepEvery time.Duration
	// progress, when set, is told how many packets were read; readDone,
	// when set, once the last one was read, before the analysis finishes
	// (the connections still open are closed, the workers' reports
	// merged).
	progress func(packets uint64)
	readDone func(packets uint64)
	// stream, when set, receives every connection as one JSON line.
	stream *connStream
	// maxConns bounds the connections tracked at once, shared evenly by
	// the workers (0: no bound).
	maxConns int
	// moments, when set, asks the builders for --at snapshots and a
	// --timeline, once the first packet gives the capture's start.
	moments *moments
	// begun is set once the capture's start is known; first and last are
	// its first and last packets' times (last once it has ended). The
	// stream's head and tail read them (after channel handoffs).
	begun       bool
	first, last time.Time
	packets     uint64 // packets read, known with last
	// view, when set, is the live view: at each of its refreshes every
	// worker publishes a snapshot of its connections to it.
	view *liveView
	// fullDetail keeps the ladder and the Zeek emulation for every
	// connection, even those the report can no longer list (tests).
	fullDetail bool
	// noDetail replays every connection lean, so that the lists show no
	// ladder and no Zeek verdict (benchmarks: what the detail costs).
	noDetail bool
	// shardSalt changes which connections share a worker (tests: the
	// report must not depend on the split).
	shardSalt uint64
}

// begin runs once, on the reading goroutine, at the first segment (or at
// the end of a capture without one), before any segment is handed on: it
// notes the capture's start and configures the builders for --at and
// --timeline.
func (p *pipeline) begin(src segmentSource, ws []*worker) {
	p.begun = true
	p.first = src.Stats().First
	if p.moments == nil {
		return
	}
	bs := make([]*report.Builder, len(ws))
	for i, w := range ws {
		bs[i] = w.b
	}
	p.moments.setup(p.first, bs...)
}

// runStats is what the run learned beyond the report.
type runStats struct {
	peak     int    // most connections tracked at once
	evicted  uint64 // connections evicted by maxConns
	detailed uint64 // connections replayed in full (not lean)
}

// ctxEvery is how many packets pass between checks for cancellation.
const ctxEvery = 4096

// worker owns a share of the connections.
type worker struct {
	asm   *reassembly.Assembler
	tr    *fsm.Tracker
	b     *report.Builder
	lives []int // connections tracked at each sweep, for the peak
	// For --all-connections: the lines of the connections released since
	// the last sweep, and where to send them.
	lines  []connLine
	stream chan<- []connLine
	render func([]byte, *fsm.Conn) []byte
	err    error
	// Sharded runs: this worker's index, the counts of connections every
	// worker opened, this worker's own count, and the report's limit on
	// the first connections listed (see openCounts).
	idx    int
	counts *openCounts
	opens  uint64
	limit  uint64
	cut    bool // the Builder knows its later connections are not among the first

	detailed uint64 // connections its Tracker replays in full (Tracker.Detail said yes)
}

func (p *pipeline) newWorker(i int) *worker {
	w := &worker{tr: fsm.NewTracker(p.cfg), b: report.NewBuilder(p.lim)}
	w.tr.OnDone = w.b.Add
	w.tr.PrefetchDone = w.b.Prefetch
	if p.stream != nil {
		w.stream, w.render = p.stream.ins[i], p.stream.render
		w.tr.OnDone = w.streamed
	}
	// Nothing but the report's lists shows a connection in full, unless
	// one of these is on: the connections that can no longer make the
	// lists skip the ladder and the Zeek emulation.
	full := p.stream != nil || p.moments != nil || p.view != nil || p.fullDetail
	w.tr.Detail = func(id uint64) bool {
		w.opened(id)
		if p.noDetail || !full && !w.b.MayList(id) {
			return false
		}
		w.detailed++
		return true
	}
	if !full {
		w.tr.Keep = w.b.Keeps // Zeek's verdict only for the connections listed
	}
	w.asm = reassembly.NewAssembler(w.tr)
	if p.maxConns > 0 {
		w.asm.MaxConns = max(1, (p.maxConns+p.jobs-1)/max(p.jobs, 1))
	}
	return w
}

// opened counts the opening of connection id (IDs grow with each open) in
// a sharded run, and tells the Builder once id and the later connections
// cannot be among the first listed.
func (w *worker) opened(id uint64) {
	if w.counts == nil {
		return
	}
	before := w.opens // all with smaller IDs
	w.opens++
	w.counts.opened(w.idx, id, w.opens)
	if !w.cut && w.limit > 0 && before+w.counts.othersBelow(w.idx, id) >= w.limit {
		w.cut = true
		w.b.NotFirstFrom(id)
	}
}

// streamed renders c as a line (JSON, Zeek, CSV) before folding it into the report.
func (w *worker) streamed(c *fsm.Conn) {
	w.lines = append(w.lines, connLine{id: c.ID, b: w.render(nil, c)})
	w.b.Add(c)
}

// sweep records how many connections were tracked, then releases the finished ones.
func (w *worker) sweep(now reassembly.Stamp, linger time.Duration) {
	w.lives = append(w.lives, w.asm.Live())
	w.asm.Sweep(now, linger)
	w.flushLines()
}

// finish closes what is left at the end of the capture.
func (w *worker) finish(end reassembly.Stamp) {
	w.lives = append(w.lives, w.asm.Live())
	w.asm.Flush(end)
	w.flushLines()
	if w.stream != nil {
		close(w.stream)
	}
}

// snapshot publishes what this worker tracks now to the live view. It runs
// on the worker's goroutine, between segments, once per refresh.
func (w *worker) snapshot(v *liveView, r viewRound) {
	conns, kinds := w.b.Counts()
	v.publish(r, w.tr.Snapshot(w.asm.All(), r.now), w.asm.Live(), conns, kinds)
}

// flushLines hands the lines of this sweep period to the stream writer.
func (w *worker) flushLines() {
	if w.stream != nil {
		w.stream <- w.lines
		w.lines = nil
	}
}

// sweepClock decides, from the packets alone, when every worker sweeps.
type sweepClock struct {
	every time.Duration
	max   reassembly.Stamp // the latest timestamp read
	next  reassembly.Stamp // when to sweep next
	// started is set at the first packet.
	started bool
}

// tick notes a packet's time and reports whether to sweep before it.
func (s *sweepClock) tick(t reassembly.Stamp) bool {
	if !s.started {
		s.started = true
		s.max, s.next = t, t.Add(s.every)
		return false
	}
	s.max = max(s.max, t)
	if t < s.next {
		return false
	}
	s.next = t.Add(s.every)
	return true
}

// run reads src to the end (or until ctx is cancelled) and returns the
// merged builder and the peak number of connections tracked.
func (p *pipeline) run(ctx context.Context, src segmentSource) (*report.Builder, runStats, error) {
	every := p.sweepEvery
	if every <= 0 {
		every = p.cfg.MSL / 2
	}
	clock := &sweepClock{every: every}
	var ws []*worker
	var err error
	if p.jobs <= 1 {
		ws, err = p.runOne(ctx, src, clock)
	} else {
		ws, err = p.runSharded(ctx, src, clock)
	}
	if err != nil {
		return nil, runStats{}, err
	}
	var rs runStats
	for _, w := range ws {
		if w.err != nil {
			return nil, runStats{}, w.err
		}
		rs.evicted += w.asm.Evicted()
		rs.detailed += w.detailed
	}
	b := ws[0].b
	for _, w := range ws[1:] {
		b.Merge(w.b)
	}
	for i := range ws[0].lives {
		n := 0
		for _, w := range ws {
			n += w.lives[i]
		}
		rs.peak = max(rs.peak, n)
	}
	return b, rs, nil
}

// runOne is the whole analysis on the calling goroutine.
func (p *pipeline) runOne(ctx context.Context, src segmentSource, clock *sweepClock) ([]*worker, error) {
	w := p.newWorker(0)
	var seg reassembly.Segment
	for n := uint64(0); ; n++ {
		if n%ctxEvery == 0 {
			if ctx.Err() != nil {
				break
			}
			if p.progress != nil {
				p.progress(n)
			}
		}
		err := src.Next(&seg)
		if err == errNoPacket {
			if ctx.Err() != nil {
				break
			}
			if r, ok := p.view.due(src, time.Time{}, clock.max.Time()); ok {
				w.snapshot(p.view, r)
			}
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			w.finish(reassembly.StampOf(src.Stats().Last)) // lets the stream writer end
			return nil, err
		}
		if !p.begun {
			p.begin(src, []*worker{w})
		}
		if clock.tick(seg.Time) {
			w.sweep(clock.max, p.cfg.Linger())
		}
		w.asm.Add(&seg)
		if p.view != nil {
			if r, ok := p.view.due(src, seg.Time.Time(), clock.max.Time()); ok {
				w.snapshot(p.view, r)
			}
		}
	}
	if !p.begun { // a capture without TCP
		p.begin(src, []*worker{w})
	}
	p.last, p.packets = src.Stats().Last, src.Stats().Packets
	if p.readDone != nil {
		p.readDone(p.packets)
	}
	w.finish(reassembly.StampOf(p.last))
	return []*worker{w}, nil
}

// batchSize is how many segments travel to a worker at once.
const batchSize = 1024

// batch is a run of one shard's segments, in capture order.
type batch struct {
	segs  []reassembly.Segment
	sweep bool // after segs, sweep at time at
	last  bool // after segs, the capture ended at time at
	at    reassembly.Stamp
	snap  bool      // after segs, publish a snapshot to the live view
	round viewRound // which refresh the snapshot is for
}

// runSharded decodes on the calling goroutine and hands each connection's
// segments to the worker its four-tuple hashes to.
func (p *pipeline) runSharded(ctx context.Context, src segmentSource, clock *sweepClock) ([]*worker, error) {
	n := p.jobs
	const depth = 8 // batches in flight per worker
	free := make(chan *batch, n*(depth+2))
	for range n * (depth + 2) {
		free <- &batch{segs: make([]reassembly.Segment, 0, batchSize)}
	}
	ins := make([]chan *batch, n)
	ws := make([]*worker, n)
	counts := newOpenCounts(n)
	notables := report.NewNotableShare(n)
	done := make(chan struct{}, n)
	for i := range n {
		ins[i] = make(chan *batch, depth)
		ws[i] = p.newWorker(i)
		ws[i].idx, ws[i].counts, ws[i].limit = i, counts, firstLimit(p.lim)
		if p.lim.Pin != nil {
			// Pinned connections (--conn) are listed apart and never
			// among the first, but the counts of opens include them: a
			// proof from those counts could cut a connection that is
			// among the first non-pinned ones.
			ws[i].limit = 0
		}
		ws[i].b.ShareNotable(notables, i)
		go func(w *worker, in <-chan *batch) {
			defer func() { done <- struct{}{} }()
			for b := range in {
				for j := range b.segs {
					w.asm.Add(&b.segs[j])
				}
				switch {
				case b.sweep:
					w.sweep(b.at, p.cfg.Linger())
				case b.last:
					w.finish(b.at)
				case b.snap:
					w.snapshot(p.view, b.round)
				}
				b.segs, b.sweep, b.last, b.snap = b.segs[:0], false, false, false
				free <- b
			}
		}(ws[i], ins[i])
	}
	cur := make([]*batch, n)
	for i := range cur {
		cur[i] = <-free
	}
	// flushAll sends every shard's current batch with the same marker.
	flushAll := func(sweep, last bool, at reassembly.Stamp) {
		for i, b := range cur {
			b.sweep, b.last, b.at = sweep, last, at
			ins[i] <- b
			if !last {
				cur[i] = <-free
			}
		}
	}
	// flushSnap sends every shard's current batch with a snapshot marker.
	flushSnap := func(r viewRound) {
		for i, b := range cur {
			b.snap, b.round = true, r
			ins[i] <- b
			cur[i] = <-free
		}
	}
	var readErr error
	var seg reassembly.Segment
	for k := uint64(0); ; k++ {
		if k%ctxEvery == 0 {
			if ctx.Err() != nil {
				break
			}
			if p.progress != nil {
				p.progress(k)
			}
		}
		err := src.Next(&seg)
		if err == errNoPacket {
			if ctx.Err() != nil {
				break
			}
			if r, ok := p.view.due(src, time.Time{}, clock.max.Time()); ok {
				flushSnap(r)
			}
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if !p.begun {
			p.begin(src, ws)
		}
		if clock.tick(seg.Time) {
			flushAll(true, false, clock.max)
		}
		i := shardOf(&seg, n, p.shardSalt)
		b := cur[i]
		b.segs = append(b.segs, seg)
		if len(b.segs) == batchSize {
			ins[i] <- b
			cur[i] = <-free
		}
		if p.view != nil {
			if r, ok := p.view.due(src, seg.Time.Time(), clock.max.Time()); ok {
				flushSnap(r)
			}
		}
	}
	if !p.begun { // a capture without TCP: the builders are idle
		p.begin(src, ws)
	}
	p.last, p.packets = src.Stats().Last, src.Stats().Packets
	if p.readDone != nil && readErr == nil {
		p.readDone(p.packets)
	}
	flushAll(false, true, reassembly.StampOf(p.last))
	for _, in := range ins {
		close(in)
	}
	for range n {
		<-done
	}
	if readErr != nil {
		return nil, readErr
	}
	return ws, nil
}

// shardOf hashes a segment's four-tuple, the same in both directions, to
// one of n workers. The reader runs it on every packet before any worker
// sees it, so it is cheap: the endpoints' words and ports are summed (a
// sum does not depend on the direction) and mixed once, and the mix's
// high bits pick the worker with a multiply rather than a division. The
// mix spreads connections that differ only in the client's port (Linux
// gives connect even ports) over every worker
// (TestShardOfIsSymmetricAndBalanced).
func shardOf(s *reassembly.Segment, n int, salt uint64) int {
	a, b := &s.SrcIP, &s.DstIP
	h := (a.Hi+b.Hi)*0x9e3779b97f4a7c15 ^ (a.Lo + b.Lo) ^ (uint64(s.SrcPort)+uint64(s.DstPort))<<47 ^ salt
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return int((h >> 32) * uint64(n) >> 32)
}

// connLine is one connection's JSON line for --all-connections.
type connLine struct {
	id uint64
	b  []byte
}

// connStream writes every connection as a JSON line (--all-connections), in
// an order that does not depend on the number of workers: sweep period by
// sweep period (every worker sends one batch per period), by ID within one.
type connStream struct {
	ins  []chan []connLine
	done chan error
	// render appends one connection's line (with its newline) to b.
	render func(b []byte, c *fsm.Conn) []byte
	// head and tail, when set, give what goes before the first line and
	// after the last; they run on the writer's goroutine, before the first
	// line (the capture's start is known by then) and after the last.
	head, tail func() []byte
	// empty, when set, reports at the end whether the capture had no
	// packets at all: the run fails then, and nothing is written.
	empty func() bool
}

// jsonLine renders a connection for --all-connections.
func jsonLine(b []byte, c *fsm.Conn) []byte {
	j, err := json.Marshal(report.ConnectionOf(c))
	if err != nil {
		panic(err) // the model holds only marshalable types
	}
	return append(append(b, j...), '\n')
}

func newConnStream(w io.Writer, workers int, render func([]byte, *fsm.Conn) []byte, head, tail func() []byte) *connStream {
	s := &connStream{ins: make([]chan []connLine, workers), done: make(chan error, 1), render: render, head: head, tail: tail}
	for i := range s.ins {
		s.ins[i] = make(chan []connLine, 4)
	}
	go func() {
		bw := bufio.NewWriterSize(w, 1<<16)
		var err error
		started := false
		for {
			var all []connLine
			open := false
			for _, in := range s.ins {
				ls, ok := <-in
				open = open || ok
				all = append(all, ls...)
			}
			if !open {
				break
			}
			if !started && len(all) > 0 {
				if s.head != nil {
					_, err = bw.Write(s.head())
				}
				started = true
			}
			slices.SortFunc(all, func(a, b connLine) int { return cmp.Compare(a.id, b.id) })
			for _, l := range all {
				if err == nil {
					_, err = bw.Write(l.b)
				}
			}
		}
		if !started && (s.empty == nil || !s.empty()) {
			if s.head != nil {
				_, err = bw.Write(s.head())
			}
			started = true
		}
		if err == nil && started && s.tail != nil {
			_, err = bw.Write(s.tail())
		}
		if err == nil {
			err = bw.Flush()
		}
		s.done <- err
	}()
	return s
}

// wait returns once every line is written, with the first write error.
func (s *connStream) wait() error { return <-s.done }
