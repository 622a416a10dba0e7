package capture

import (
	"io"
	"sync"
)

// readahead reads r on a goroutine of its own, a few chunks ahead of its
// reader. It is for gzip: inflating costs about as much CPU as the whole
// analysis of what it yields, and done on the analysis's goroutine it
// doubled the time of a compressed capture; ahead, it runs on another
// core. A chunk is handed on when full, or as soon as the reader has
// nothing left to read (fewer hand-overs when the analysis is the slower
// side, no wait when it is the faster one or the stream is slow).
type readahead struct {
	full chan *chunk // read, in order
	free chan *chunk // for the goroutine to fill
	stop chan struct{}
	once sync.Once
	cur  *chunk
	off  int
}

type chunk struct {
	b   []byte
	n   int
	err error
}

const (
	aheadChunk = 128 << 10
	aheadDepth = 8 // chunks ready at most
)

func newReadahead(r io.Reader) *readahead {
	ra := &readahead{full: make(chan *chunk, aheadDepth), free: make(chan *chunk, aheadDepth+1), stop: make(chan struct{})}
	for range aheadDepth + 1 {
		ra.free <- &chunk{b: make([]byte, aheadChunk)}
	}
	go ra.fill(r)
	return ra
}

// fill runs on the goroutine: it ends at r's first error (io.EOF
// included), which the reader gets after the bytes before it, or at Close.
func (ra *readahead) fill(r io.Reader) {
	for {
		var c *chunk
		select {
		case c = <-ra.free:
		case <-ra.stop:
			return
		}
		// Fill the chunk, unless the reader is waiting: then hand on at
		// once what there is, which also keeps a slow stream (a pipe)
		// flowing as it arrives.
		c.n, c.err = 0, nil
		for c.n < len(c.b) && c.err == nil && (c.n == 0 || len(ra.full) > 0) {
			var k int
			k, c.err = r.Read(c.b[c.n:])
			c.n += k
		}
		select {
		case ra.full <- c:
		case <-ra.stop:
			return
		}
		if c.err != nil {
			return
		}
	}
}

func (c *chunk) free(ra *readahead) { ra.free <- c } // never blocks: there are aheadDepth+1 chunks

// Read implements io.Reader.
func (ra *readahead) Read(p []byte) (int, error) {
	for {
		if c := ra.cur; c != nil {
			if ra.off < c.n {
				k := copy(p, c.b[ra.off:c.n])
				ra.off += k
				return k, nil
			}
			if c.err != nil {
				return 0, c.err
			}
			c.free(ra)
			ra.cur = nil
		}
		ra.cur, ra.off = <-ra.full, 0
	}
}

// Close stops the goroutine, if it has not ended: the reader gave up
// before the end. Read must not be called afterwards.
func (ra *readahead) Close() {
	ra.once.Do(func() { close(ra.stop) })
}
