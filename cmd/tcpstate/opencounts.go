package main

import (
	"sync/atomic"

	"github.com/tcpstate/tcpstate/report"
)

// openCounts lets the workers of a sharded run prove that a connection is
// not among the first N of the merged report, so that no worker copies
// it for its own first list. Alone, each worker keeps its own first N: on
// two workers that is twice the copies the report needs (report.NotableShare
// does the same for the notable lists; halving both copies made -j 2 about
// 12% faster on the benchmark capture).
//
// A worker opens connections in increasing ID order. Every openEvery
// opens it publishes a checkpoint: the ID of that open and how many it has
// made (all with IDs up to that one). Another worker opening connection x
// adds, for every other worker, the count of its latest checkpoint below
// x to its own count of opens before x: when that reaches N, at least N
// connections with smaller IDs exist, and neither x nor any later
// connection of this worker is among the first N.
type openCounts struct {
	rings [][openRing]checkpoint // per worker, by checkpoint number mod openRing
	pub   []atomic.Uint64        // per worker: checkpoints published
}

// checkpoint is one worker's count of opens as of the open of connection id.
type checkpoint struct {
	id, count atomic.Uint64
}

const (
	openEvery = 32   // opens between checkpoints
	openRing  = 1024 // checkpoints kept: 32,768 opens, far more than workers drift apart
)

func newOpenCounts(workers int) *openCounts {
	return &openCounts{rings: make([][openRing]checkpoint, workers), pub: make([]atomic.Uint64, workers)}
}

// opened records that worker w made its count-th open, of connection id.
func (l *openCounts) opened(w int, id, count uint64) {
	if count%openEvery != 0 {
		return
	}
	k := l.pub[w].Load()
	cp := &l.rings[w][k%openRing]
	cp.id.Store(id)
	cp.count.Store(count)
	l.pub[w].Store(k + 1)
}

// below returns how many connections worker w is known to have opened with
// IDs below x (0 when it cannot tell).
func (l *openCounts) below(w int, x uint64) uint64 {
	p := l.pub[w].Load()
	for k := p; k > 0 && p-k < openRing-1; k-- {
		cp := &l.rings[w][(k-1)%openRing]
		id, n := cp.id.Load(), cp.count.Load()
		// Checkpoint k-1 is rewritten as number k-1+openRing, which the
		// worker starts once it has published that many: not yet, or the
		// values read may be torn.
		if l.pub[w].Load() >= k-1+openRing {
			return 0
		}
		if id < x {
			return n
		}
	}
	return 0
}

// othersBelow is below summed over every worker but w.
func (l *openCounts) othersBelow(w int, x uint64) uint64 {
	var n uint64
	for v := range l.pub {
		if v != w {
			n += l.below(v, x)
		}
	}
	return n
}

// firstLimit is how many connections the report lists first (0: no limit).
func firstLimit(lim report.Limits) uint64 {
	switch n := lim.Connections; {
	case n == 0:
		return uint64(report.DefaultLimits().Connections)
	case n < 0:
		return 0
	default:
		return uint64(n)
	}
}
