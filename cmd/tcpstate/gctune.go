package main

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The collector's target (GOGC) when the user did not set one follows the
// live heap: after each collection the heap may grow by gcHeadroom, but by
// no less than gcMinPercent and no more than gcMaxPercent of what is live.
//
// A capture of ordinary size keeps tens of MB live (the connections open
// at once, and the ones the report lists), and at Go's fixed 100% — or the
// 50% tcpstate used to set — the collector ran a dozen times while those
// grew, each time marking all of it: 15–19% of the CPU, and with -j 2 no
// core is idle to absorb it. Measured on 200,000 connections against the
// fixed 50%: -j 2 0.90 → 0.74 s, -j 1 1.08 → 0.99 s, for 16 and 32 MB more
// peak RSS (docs/performance-log.md). A flood that keeps GBs of
// connections tracked still gets 50%, so memory stays at 1.5× what is live.
//
// When the analysis keeps every core busy (-j 2 on two cores: two workers
// and the reader), each collection takes its time from a worker instead
// of from an idle core, and the headroom doubles: half the collections.
// -j 2 on the benchmark capture: 1.026× (median of 8 alternating rounds).
//
// The cap on small heaps is 1000%, not 300% as it was: an analysis
// starts with almost nothing live, and at 300% the collector ran two or
// three times while the first megabytes of connections arrived, each
// time switching on the write barriers, stopping the worker to scan its
// stack and leaving spans to sweep in the allocation path. At 1000% the
// first collection comes once ~10× what is live is allocated, and no
// later than the headroom allows. BenchmarkTargets on the benchmark
// capture, 6 alternating series of 12 rounds: the pipeline on one worker
// 1.05-1.14x as fast; the command's peak RSS on it within 2%.
const (
	gcHeadroom   = 128 << 20
	gcMinPercent = 50
	gcMaxPercent = 1000
)

// gcPercentFor returns the collector's target for a live heap of live
// bytes that may grow by headroom bytes.
func gcPercentFor(live, headroom uint64) int {
	if live == 0 {
		return gcMaxPercent
	}
	return int(min(max(headroom*100/live, gcMinPercent), gcMaxPercent))
}

// gcHeadroomFor returns the headroom for an analysis on workers workers
// with procs cores: doubled when no core is left idle for the collector
// (one worker uses one goroutine; more use one each plus the reader's).
func gcHeadroomFor(workers, procs int) uint64 {
	busy := workers
	if workers > 1 {
		busy++
	}
	if busy >= procs {
		return 2 * gcHeadroom
	}
	return gcHeadroom
}

// gcHeadroomNow is the headroom the tuner applies (0: gcHeadroom), and
// gcRunning the tuner that applies it, if one was started.
var (
	gcHeadroomNow atomic.Uint64
	gcRunning     atomic.Pointer[gcTuner]
)

// headroomNow is the headroom setGCWorkers set last, or gcHeadroom.
func headroomNow() uint64 {
	if h := gcHeadroomNow.Load(); h > 0 {
		return h
	}
	return gcHeadroom
}

// setGCWorkers sets the headroom for an analysis on workers workers, at
// once when the tuner runs.
func setGCWorkers(workers int) {
	gcHeadroomNow.Store(gcHeadroomFor(workers, runtime.GOMAXPROCS(0)))
	if t := gcRunning.Load(); t != nil {
		t.tune()
	}
}

// gcTuner sets the collector's target after every collection.
type gcTuner struct {
	live     func() uint64 // the live heap in bytes (after the last collection)
	headroom func() uint64 // how much it may grow
	set      func(percent int)
	tunes    atomic.Uint64 // collections seen, for tests
	stopped  atomic.Bool
}

// startGCTuner starts tuning the collector's target for the rest of the
// process, beginning at once with the heap live now.
func startGCTuner() *gcTuner {
	t := &gcTuner{live: liveHeap, headroom: headroomNow, set: func(p int) { debug.SetGCPercent(p) }}
	t.tune()
	t.arm()
	gcRunning.Store(t)
	return t
}

// gcSentinel is garbage as soon as arm returns: the collector finds it
// unreachable at its next cycle and runs its finalizer, which tunes and
// arms a new one. This is how a program hears of each collection.
type gcSentinel struct{ t *gcTuner }

func (t *gcTuner) arm() {
	if t.stopped.Load() {
		return
	}
	runtime.SetFinalizer(&gcSentinel{t}, func(s *gcSentinel) {
		if !s.t.stopped.Load() {
			s.t.tune()
			s.t.arm()
		}
	})
}

// stop ends the tuning at the next collection (tests).
func (t *gcTuner) stop() { t.stopped.Store(true) }

func (t *gcTuner) tune() {
	t.set(gcPercentFor(t.live(), t.headroom()))
	t.tunes.Add(1)
}

// liveHeap reads the heap the last collection found live.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
