package slab

import (
	"runtime"
	"testing"
	"unsafe"
)

type conn struct {
	next  *conn
	name  []byte
	count [100]uint64
}

// TestPoolHandsOutDistinctZeroValues takes values across several chunks:
// each is zero when handed out, none overlaps another, and they keep their
// contents through collections.
func TestPoolHandsOutDistinctZeroValues(t *testing.T) {
	var p Pool[conn]
	const n = 3000 // 816-byte values: past the largest chunk (321 values)
	got := make([]*conn, n)
	seen := make(map[*conn]bool, n)
	for i := range got {
		c := p.New()
		if c.next != nil || c.name != nil || c.count != [100]uint64{} {
			t.Fatalf("value %d is not zero: %+v", i, *c)
		}
		if seen[c] {
			t.Fatalf("value %d handed out twice", i)
		}
		seen[c] = true
		c.count[0], c.count[99] = uint64(i), uint64(i)
		c.name = []byte{byte(i)}
		if i > 0 {
			c.next = got[i-1]
		}
		got[i] = c
		if i%500 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, c := range got {
		if c.count[0] != uint64(i) || c.count[99] != uint64(i) || c.name[0] != byte(i) || (i > 0 && c.next != got[i-1]) {
			t.Fatalf("value %d changed: count %d..%d name %v", i, c.count[0], c.count[99], c.name)
		}
	}
}

// TestPoolChunksDoubleUpToTheLimit checks the chunk sizes: 4 values first,
// then twice as many each time, never more than maxChunk bytes.
func TestPoolChunksDoubleUpToTheLimit(t *testing.T) {
	var p Pool[conn]
	limit := maxChunk / int(unsafe.Sizeof(conn{}))
	want := []int{4, 8, 16, 32, 64, 128, 256, limit, limit}
	for i, w := range want {
		p.New()
		if p.next != w || len(p.chunk) != w-1 {
			t.Fatalf("chunk %d: %d values (%d left), want %d", i, p.next, len(p.chunk), w)
		}
		for range w - 1 {
			p.New()
		}
	}
	var big Pool[[maxChunk + 1]byte] // larger than a chunk: one value per chunk
	big.New()
	if big.next != 1 {
		t.Fatalf("a value over maxChunk: chunks of %d", big.next)
	}
}
