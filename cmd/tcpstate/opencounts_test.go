package main

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestOpenCountsNeverOvercount runs three workers opening connections
// concurrently, worker w the IDs w+1, w+4, w+7…, each asking at every open
// how many connections the others opened below it. The answer must never
// exceed the truth (that would drop a connection the report lists), and
// must not stay useless: it sees most of them. As in a run, where the
// reader feeds every worker the same stretch of capture, the workers drift
// apart by a bounded amount (here: a barrier every 2,000 opens).
func TestOpenCountsNeverOvercount(t *testing.T) {
	const workers, opens, stride = 3, 30000, 2000
	c := newOpenCounts(workers)
	var wg sync.WaitGroup
	gates := make([]chan struct{}, opens/stride+1)
	for i := range gates {
		gates[i] = make(chan struct{})
	}
	arrived := make(chan int, workers*len(gates))
	go func() {
		count := map[int]int{}
		for g := range arrived {
			if count[g]++; count[g] == workers {
				close(gates[g])
			}
		}
	}()

	best := make([]uint64, workers)
	var over atomic.Bool
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range uint64(opens) {
				if k%stride == 0 {
					arrived <- int(k / stride)
					<-gates[k/stride]
				}
				id := k*workers + uint64(w) + 1
				c.opened(w, id, k+1)
				got := c.othersBelow(w, id)
				// IDs below id from the others: (id-1) in all, minus this worker's k.
				if truth := id - 1 - k; got > truth {
					over.Store(true) // (go on: the others wait at the barriers)
				}
				best[w] = max(best[w], got)
			}
		}()
	}
	wg.Wait()
	close(arrived)
	if over.Load() {
		t.Fatal("counted more opens below a connection than there were")
	}
	for w, b := range best {
		if b < opens { // the others opened 2×opens in all: at least half of them seen
			t.Errorf("worker %d saw at most %d of the others' opens below its own", w, b)
		}
	}
}

// TestOpenCountsBelow checks below against a worker's checkpoints one by
// one, and that a reader that falls a whole ring behind gets 0.
func TestOpenCountsBelow(t *testing.T) {
	c := newOpenCounts(2)
	for k := uint64(1); k <= 10*openEvery; k++ {
		c.opened(0, 100*k, k) // connection IDs 100, 200, …
	}
	for _, tc := range []struct{ x, want uint64 }{
		{1, 0}, {100 * openEvery, 0}, {100*openEvery + 1, openEvery}, {100 * 10 * openEvery, 9 * openEvery},
		{100*10*openEvery + 1, 10 * openEvery}, {1 << 62, 10 * openEvery},
	} {
		if got := c.below(0, tc.x); got != tc.want {
			t.Errorf("below(%d) = %d; want %d", tc.x, got, tc.want)
		}
	}
	if got := c.below(1, 1<<62); got != 0 {
		t.Errorf("a worker that opened nothing: %d", got)
	}
}
