//go:build unix

package main

import (
	"syscall"
	"time"
)

// offHeap returns a copy of b in memory the Go heap does not count: an
// anonymous mapping, never unmapped (the benchmarks keep their capture for
// the life of the process). The collector paces itself by the heap, and a
// capture of hundreds of MB on it would keep it from running at all, which
// the command, reading a file, does not enjoy.
func offHeap(b []byte) []byte {
	m, err := syscall.Mmap(-1, 0, max(len(b), 1), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return b
	}
	return m[:copy(m, b)]
}

// cpuTime returns the CPU time the process has used, user and system, on
// every thread; ok is false where it cannot be read.
func cpuTime() (d time.Duration, ok bool) {
	var r syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &r) != nil {
		return 0, false
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano()), true
}
