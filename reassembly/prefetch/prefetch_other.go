//go:build !amd64

package prefetch

import "unsafe"

// Lines prefetches every 64-byte cache line that the n bytes at p overlap,
// at most MaxLines of them, from the first: on this architecture, it does
// nothing.
func Lines(p unsafe.Pointer, n uintptr) {}
