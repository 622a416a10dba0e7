// Package slab hands out values of one type carved from chunks that are
// allocated together and first touched by writes.
//
// A connection's state is allocated when the connection opens, and while a
// capture's concurrency grows each one lands on memory the process has
// never touched. Allocated one by one, the first access to such a page is
// often a read: the garbage collector's write barrier reads the slot a
// pointer is stored into, and the runtime stores a type header into each
// object over 512 bytes that holds pointers. Linux maps a read of an
// untouched page to the shared zero page, so the write that follows faults
// a second time and must flush that page's mapping from every core running
// the process: an interprocessor interrupt per page, which a virtual
// machine pays for dearly. A chunk is a single large object (no per-object
// header) whose pages New writes once before handing any value out, so
// each page faults once, on a write.
package slab

import "unsafe"

// maxChunk is the most bytes one chunk takes: big enough that its
// allocation and first touch cost little per value, small enough that a
// capture of a few connections does not pay for thousands.
const maxChunk = 256 << 10

// pageSize is the smallest page size of the platforms Go runs on: touching
// every pageSize bytes touches every page.
const pageSize = 4096

// Pool hands out pointers to zero values of T. Values are never returned
// to it: its users keep their own free lists, and a chunk is released when
// none of its values is reachable. The zero Pool is ready to use; it is not
// safe for concurrent use.
type Pool[T any] struct {
	chunk []T
	next  int // the size of the last chunk, in values (the next doubles it, up to maxChunk)
}

// New returns a pointer to a zero T.
func (p *Pool[T]) New() *T {
	if len(p.chunk) == 0 {
		p.refill()
	}
	v := &p.chunk[0]
	p.chunk = p.chunk[1:]
	return v
}

// refill allocates the next chunk, twice the size of the one before (the
// first holds 4 values), at most maxChunk bytes, and touches its pages.
func (p *Pool[T]) refill() {
	size := unsafe.Sizeof(*new(T))
	limit := max(1, int(maxChunk/max(size, 1)))
	p.next = min(max(4, 2*p.next), limit)
	p.chunk = make([]T, p.next)
	Touch(p.chunk)
}

// touch writes a zero byte into every page of the n bytes at p, which are
// zero already. Storing zero over zero changes nothing the garbage
// collector could see, even in a pointer's bytes.
func touch(p unsafe.Pointer, n uintptr) {
	for off := uintptr(0); off < n; off += pageSize {
		*(*byte)(unsafe.Add(p, off)) = 0
	}
	if n > 0 {
		*(*byte)(unsafe.Add(p, n-1)) = 0
	}
}

// Touch writes every page of s, which must hold only zero values (as make
// returns it): code that reads a new slice's elements before it writes
// them then finds its pages mapped.
func Touch[T any](s []T) {
	touch(unsafe.Pointer(unsafe.SliceData(s)), uintptr(len(s))*unsafe.Sizeof(*new(T)))
}
