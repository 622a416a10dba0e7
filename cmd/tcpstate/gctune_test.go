package main

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 1000},       // nothing measured yet
		{10 * mb, 1000}, // small: capped
		{32 * mb, 400},
		{64 * mb, 200},  // 128 MB of headroom
		{128 * mb, 100}, // Go's default
		{200 * mb, 64},
		{256 * mb, 50},
		{4096 * mb, 50}, // a flood: 1.5× what is live, as before
	} {
		if got := gcPercentFor(c.live, gcHeadroom); got != c.want {
			t.Errorf("gcPercentFor(%d MB) = %d, want %d", c.live/mb, got, c.want)
		}
	}
}

// TestGCHeadroomWhenNoCoreIsIdle: the headroom doubles when the workers
// (and, with more than one, the reader) leave no core to the collector.
func TestGCHeadroomWhenNoCoreIsIdle(t *testing.T) {
	for _, c := range []struct {
		workers, procs int
		want           uint64
	}{
		{1, 2, gcHeadroom},     // -j 1 on two cores: the collector has the second
		{1, 1, 2 * gcHeadroom}, // one core: it has none
		{2, 2, 2 * gcHeadroom}, // -j 2 on two cores: two workers and the reader
		{2, 4, gcHeadroom},
		{3, 4, 2 * gcHeadroom},
		{8, 4, 2 * gcHeadroom},
	} {
		if got := gcHeadroomFor(c.workers, c.procs); got != c.want {
			t.Errorf("%d workers on %d cores: headroom %d MB, want %d MB", c.workers, c.procs, got>>20, c.want>>20)
		}
	}
	if gcPercentFor(64<<20, 2*gcHeadroom) != 400 || gcPercentFor(256<<20, 2*gcHeadroom) != 100 {
		t.Errorf("doubled headroom: %d%% at 64 MB live, %d%% at 256 MB", gcPercentFor(64<<20, 2*gcHeadroom), gcPercentFor(256<<20, 2*gcHeadroom))
	}
}

// TestGCTunerFollowsEachCollection: the tuner sets the target at once, and
// again after every collection, from the live heap of that moment.
func TestGCTunerFollowsEachCollection(t *testing.T) {
	var mu sync.Mutex
	live := uint64(10 << 20)
	var set []int
	tu := &gcTuner{
		live:     func() uint64 { mu.Lock(); defer mu.Unlock(); return live },
		headroom: func() uint64 { return gcHeadroom },
		set:      func(p int) { mu.Lock(); defer mu.Unlock(); set = append(set, p) },
	}
	tu.tune()
	tu.arm()
	for i, l := range []uint64{128 << 20, 512 << 20} {
		mu.Lock()
		live = l
		mu.Unlock()
		before := tu.tunes.Load()
		// The finalizer runs on its own goroutine after the cycle: wait
		// for it, a bounded number of cycles.
		for k := 0; k < 50 && tu.tunes.Load() == before; k++ {
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
		if tu.tunes.Load() == before {
			t.Fatalf("collection %d: the tuner did not run", i+1)
		}
	}
	tu.stop()
	mu.Lock()
	defer mu.Unlock()
	// A collection the runtime started itself may have tuned again with
	// the same live value: the distinct targets, in order, are 1000, 100, 50.
	var distinct []int
	for _, p := range set {
		if len(distinct) == 0 || distinct[len(distinct)-1] != p {
			distinct = append(distinct, p)
		}
	}
	if !slices.Equal(distinct, []int{1000, 100, 50}) {
		t.Errorf("targets set %v, want 1000, then 100, then 50", set)
	}
}

// TestRunSetsTheHeadroomForItsWorkers: the command sets the headroom from
// its -j, as the benchmarks do.
func TestRunSetsTheHeadroomForItsWorkers(t *testing.T) {
	defer gcHeadroomNow.Store(0)
	for _, j := range []int{1, 3} {
		err := run(context.Background(), []string{"-q", "-j", strconv.Itoa(j), "-f", "json", "../../testdata/kernel/close-wait-leak.pcap"}, nil, io.Discard, io.Discard)
		if err != nil && !errors.Is(err, errFindings) {
			t.Fatal(err)
		}
		if got, want := headroomNow(), gcHeadroomFor(j, runtime.GOMAXPROCS(0)); got != want {
			t.Errorf("-j %d: headroom %d MB, want %d MB", j, got>>20, want>>20)
		}
	}
}
