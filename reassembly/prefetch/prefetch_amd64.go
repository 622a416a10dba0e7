package prefetch

import "unsafe"

// Lines prefetches every 64-byte cache line that the n bytes at p overlap,
// at most MaxLines of them, from the first. p must point into a live Go
// object, or n be 0. Prefetching reads nothing and cannot fault.
//
//go:noescape
func Lines(p unsafe.Pointer, n uintptr)
