// Package prefetch asks the CPU to start loading memory that code will read
// soon, without waiting for it.
//
// Go has no prefetch intrinsic outside its runtime. A plain load of the
// memory (reading one byte of each cache line) also starts the transfer,
// but the load must complete before it retires: a few dozen of them that
// miss fill the core's reorder window and stall it, which is the very wait
// prefetching is meant to hide. PREFETCHT0 retires at once. Where the
// architecture has no assembly here, Lines does nothing: prefetching never
// changes a result, only when memory arrives.
package prefetch

// MaxLines is the most cache lines one call of Lines prefetches.
const MaxLines = 16
