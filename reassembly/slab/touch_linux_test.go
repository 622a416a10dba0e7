package slab

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident counts the pages of b that are mapped (mincore).
func resident(t *testing.T, b []byte) (in, pages int) {
	t.Helper()
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	base := start &^ (pageSize - 1)
	end := (start + uintptr(len(b)) + pageSize - 1) &^ (pageSize - 1)
	vec := make([]byte, (end-base)/pageSize)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, base, end-base, uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	for _, v := range vec {
		in += int(v & 1)
	}
	return in, len(vec)
}

// TestTouchMapsEveryPage allocates memory the process has not used (a
// large allocation, fresh from the system), checks that most of its pages
// are not mapped yet, touches it, and checks that every page is now
// mapped and every byte still zero.
func TestTouchMapsEveryPage(t *testing.T) {
	b := make([]byte, 48<<20+123)
	if in, pages := resident(t, b); in > pages/2 {
		t.Skipf("%d of %d pages were mapped before Touch: the runtime reused memory, nothing to measure", in, pages)
	}
	Touch(b)
	if in, pages := resident(t, b); in != pages {
		t.Fatalf("after Touch, %d of %d pages mapped", in, pages)
	}
	for i, v := range b {
		if v != 0 {
			t.Fatalf("byte %d is %d after Touch", i, v)
		}
	}
}
