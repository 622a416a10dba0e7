package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// defaultInterval is how often the live view is refreshed.
const defaultInterval = 2 * time.Second

// liveView shows, while packets are still coming (live capture, or a
// stream on stdin), what is open now: packets per second, open
// connections per state for clients and servers, the CLOSE_WAIT count
// with the oldest one's age and the endpoint with the most, and the
// findings of the connections already finished. On a terminal it redraws
// a block of lines in place; elsewhere it prints one status line per
// refresh.
//
// The reader goroutine asks due (per packet, or when a live source had
// nothing to read) and, when a refresh is due, every worker publishes a
// snapshot of its connections on its own goroutine; the last of them to
// publish draws. Nothing of it reaches the report.
type liveView struct {
	w     io.Writer
	tty   bool          // redraw in place; else one line per refresh
	every time.Duration // between refreshes
	// wall: refreshes follow the wall clock (live capture: a ticker sets
	// tick), else the capture clock (a stream: every `every` of packet time).
	wall bool
	// tick is set by a ticker: every `every` for the wall clock; on a
	// terminal, every every/2 for a stream, which may run far ahead of its
	// capture clock (a file piped in): each refresh is a pass over every
	// connection, and redraws faster than anyone reads would only slow
	// the analysis (2.2-2.6x as long on 13 M packets: 250 redraws).
	tick atomic.Bool
	// read, when set, counts the bytes read from stdin: a stream's view
	// also shows them and their rate, as the progress bar does for files.
	read    *atomic.Int64
	stop    chan struct{}
	stopped sync.WaitGroup
	next    time.Time // capture clock: when the next refresh is due
	start   time.Time // wall clock: when the view started
	workers int
	round   uint64 // refreshes begun (reader goroutine only)

	mu     sync.Mutex
	rounds map[uint64]*viewAcc // refreshes whose snapshots are still coming
	prev   *viewAcc            // the last refresh drawn, for rates
	height int                 // lines drawn last (tty), to redraw over them
}

// viewRound identifies one refresh; now is the moment its snapshots are taken at.
type viewRound struct {
	id  uint64
	now time.Time
}

// viewAcc gathers one refresh's snapshots from the workers.
type viewAcc struct {
	now      time.Time // capture or wall time of the refresh
	elapsed  time.Duration
	packets  uint64
	received uint64 // libpcap's counters (live capture only)
	dropped  uint64
	counted  bool // received and dropped are known
	n        int  // workers that published
	snap     fsm.Snapshot
	tracked  int
	finished int
	kinds    [fsm.NumKinds]int
	bytes    int64     // read from stdin so far (v.read set)
	wallAt   time.Time // when the refresh was begun (v.read set)
}

// dropCounter is a source that knows what the capture dropped (libpcap).
type dropCounter interface {
	Drops() (received, dropped uint64, ok bool)
}

// newLiveView returns a view that draws on w every `every`, by the wall
// clock (live capture) or by the capture clock (a stream), gathering the
// snapshots of `workers` workers per refresh. Call finish once the
// pipeline is done.
func newLiveView(w io.Writer, tty, wall bool, every time.Duration, workers int) *liveView {
	v := &liveView{w: w, tty: tty, wall: wall, every: every, workers: max(workers, 1),
		rounds: map[uint64]*viewAcc{}, stop: make(chan struct{}), start: time.Now()}
	if wall || tty {
		period := every
		if !wall {
			period = every / 2
		}
		v.stopped.Add(1)
		go func() {
			defer v.stopped.Done()
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-v.stop:
					return
				case <-t.C:
					v.tick.Store(true)
				}
			}
		}()
	}
	return v
}

// due is asked on the reader goroutine after each packet (t its capture
// time) or when the source had nothing to read (t zero). When a refresh is
// due it records the source's counters and returns the round that every
// worker must publish a snapshot for. max is the latest capture time read.
// A nil view is never due.
func (v *liveView) due(src segmentSource, t, max time.Time) (viewRound, bool) {
	if v == nil {
		return viewRound{}, false
	}
	now := max
	if v.wall {
		if !v.tick.Load() || !v.tick.CompareAndSwap(true, false) {
			return viewRound{}, false
		}
		now = time.Now()
	} else {
		if t.IsZero() {
			return viewRound{}, false
		}
		if v.next.IsZero() {
			v.next = t.Add(v.every)
			return viewRound{}, false
		}
		if t.Before(v.next) {
			return viewRound{}, false
		}
		if v.tty && (!v.tick.Load() || !v.tick.CompareAndSwap(true, false)) {
			return viewRound{}, false // drawn less than every/2 ago: wait (a load per packet, no locked op)
		}
		v.next = t.Add(v.every)
	}
	st := src.Stats()
	a := &viewAcc{now: now, packets: st.Packets}
	if v.wall {
		a.elapsed = now.Sub(v.start)
	} else if !st.First.IsZero() {
		a.elapsed = now.Sub(st.First)
	}
	if dc, ok := src.(dropCounter); ok {
		a.received, a.dropped, a.counted = dc.Drops()
	}
	if v.read != nil {
		a.bytes, a.wallAt = v.read.Load(), time.Now()
	}
	v.round++
	r := viewRound{id: v.round, now: now}
	v.mu.Lock()
	v.rounds[r.id] = a
	v.mu.Unlock()
	return r, true
}

// publish adds one worker's snapshot to round r; the last worker to
// publish draws the view. tracked is the connections the worker tracks,
// finished and kinds what its report builder has folded in so far.
func (v *liveView) publish(r viewRound, s fsm.Snapshot, tracked, finished int, kinds [fsm.NumKinds]int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	a := v.rounds[r.id]
	if a == nil {
		return
	}
	a.snap.Merge(&s)
	a.tracked += tracked
	a.finished += finished
	for i, n := range kinds {
		a.kinds[i] += n
	}
	a.n++
	if a.n < v.workers {
		return
	}
	delete(v.rounds, r.id)
	v.draw(a)
	v.prev = a
}

// finish stops the ticker and, on a terminal, erases the view so that the
// report that follows starts on a clean screen.
func (v *liveView) finish() {
	if v == nil {
		return
	}
	close(v.stop)
	v.stopped.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.tty && v.height > 0 {
		fmt.Fprintf(v.w, "\x1b[%dF\x1b[J", v.height)
		v.height = 0
	}
}

// draw writes one refresh (v.mu held).
func (v *liveView) draw(a *viewAcc) {
	lines := v.lines(a)
	if !v.tty {
		fmt.Fprintf(v.w, "tcpstate: %s\n", strings.Join(lines, "; "))
		return
	}
	var b strings.Builder
	if v.height > 0 {
		fmt.Fprintf(&b, "\x1b[%dF", v.height) // back to the first line drawn
	}
	for i, l := range lines {
		if i == 0 {
			l = "tcpstate: " + l
		} else {
			l = "  " + l
		}
		b.WriteString(l)
		b.WriteString("\x1b[K\n") // clear what a longer line left
	}
	b.WriteString("\x1b[J")
	io.WriteString(v.w, b.String())
	v.height = len(lines)
}

// lines renders a refresh as a few lines: totals, open connections of
// clients and of servers, CLOSE_WAIT, findings.
func (v *liveView) lines(a *viewAcc) []string {
	rate := 0.0
	if p := v.prev; p != nil {
		if d := a.now.Sub(p.now).Seconds(); d > 0 && a.packets >= p.packets {
			rate = float64(a.packets-p.packets) / d
		}
	} else if s := a.elapsed.Seconds(); s > 0 {
		rate = float64(a.packets) / s
	}
	head := fmt.Sprintf("%s, %d packets, %s pkts/s", clock(a.elapsed), a.packets, si(rate))
	if a.counted {
		head += fmt.Sprintf(", %d received by filter, %d dropped", a.received, a.dropped)
	}
	head += fmt.Sprintf(", %d connections open, %d finished", a.tracked, a.finished)
	if v.read != nil {
		head += ", read " + v.readRate(a)
	}
	out := []string{head,
		"clients: " + stateCounts(&a.snap.Clients),
		"servers: " + stateCounts(&a.snap.Servers)}
	top, n, total := a.snap.CloseWaitTop()
	if total == 0 {
		out = append(out, "CLOSE_WAIT: none")
	} else {
		out = append(out, fmt.Sprintf("CLOSE_WAIT: %d, oldest %s, most on %s (%d)",
			total, age(a.now.Sub(a.snap.CloseWaitSince)), top, n))
	}
	var fs []string
	for k, n := range a.kinds {
		if n > 0 {
			fs = append(fs, fmt.Sprintf("%s %d", fsm.Kind(k), n))
		}
	}
	if len(fs) == 0 {
		out = append(out, "findings so far (finished connections): none")
	} else {
		out = append(out, "findings so far (finished connections): "+strings.Join(fs, ", "))
	}
	return out
}

// readRate renders what a stream's refresh a has read from stdin, and how
// fast since the last refresh (or the start): "21.4 MB at 84.8 MB/s".
func (v *liveView) readRate(a *viewAcc) string {
	from, bytes := v.start, int64(0)
	if p := v.prev; p != nil {
		from, bytes = p.wallAt, p.bytes
	}
	rate := int64(0)
	if d := a.wallAt.Sub(from).Seconds(); d > 0 && a.bytes >= bytes {
		rate = int64(float64(a.bytes-bytes) / d)
	}
	return fmt.Sprintf("%s at %s/s", size(a.bytes), size(rate))
}

// stateCounts lists the non-zero counts in state order: "ESTABLISHED 3, CLOSE_WAIT 5".
func stateCounts(c *[fsm.NumStates]int) string {
	var parts []string
	for s, n := range c {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", fsm.State(s), n))
		}
	}
	if len(parts) == 0 {
		return "none open"
	}
	return strings.Join(parts, ", ")
}

// age formats how long something has lasted: "850ms", "8.1s", "3m12s".
func age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// wantView decides whether the live view is drawn: live capture shows it
// unless -q or --progress never; a stream on stdin shows it instead of the
// progress bar when that would be drawn, or when --interval is given.
func wantView(o *options, live bool, stderr io.Writer) bool {
	if o.quiet || o.progress == "never" {
		return false
	}
	return live || o.view.intervalSet || wantProgress(o.progress, stderr)
}

// readsStdin reports whether one of the inputs is stdin.
func readsStdin(files []string) bool {
	for _, f := range files {
		if f == "-" {
			return true
		}
	}
	return false
}
