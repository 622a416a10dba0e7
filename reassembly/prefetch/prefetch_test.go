package prefetch

import (
	"testing"
	"unsafe"
)

// TestLinesAnyAlignmentAndSize calls Lines on every alignment and on sizes
// from none to beyond MaxLines, up to the last byte of the buffer: it must
// return (a wrong line count in the assembly loops for ever or walks far)
// and leave the memory as it was.
func TestLinesAnyAlignmentAndSize(t *testing.T) {
	buf := make([]byte, 64*(MaxLines+4))
	for i := range buf {
		buf[i] = byte(i)
	}
	Lines(nil, 0)
	for off := range 64 {
		for _, n := range []uintptr{0, 1, 63, 64, 65, 127, 128, 64*MaxLines - 1, 64 * MaxLines, 64*MaxLines + 1, uintptr(len(buf) - off)} {
			if int(n) > len(buf)-off {
				continue
			}
			Lines(unsafe.Pointer(&buf[off]), n)
		}
	}
	Lines(unsafe.Pointer(&buf[len(buf)-1]), 1)
	for i := range buf {
		if buf[i] != byte(i) {
			t.Fatalf("byte %d changed", i)
		}
	}
}

// BenchmarkLines is the cost of prefetching a 1 KiB structure that is
// already in cache: what a prefetch costs when it was not needed.
func BenchmarkLines(b *testing.B) {
	buf := make([]byte, 1024)
	p := unsafe.Pointer(&buf[0])
	for b.Loop() {
		Lines(p, 1024)
	}
}
