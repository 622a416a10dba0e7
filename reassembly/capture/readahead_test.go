package capture

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// choppy returns its data in pieces of random sizes, then err.
type choppy struct {
	data []byte
	rng  *rand.Rand
	err  error
}

func (c *choppy) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	n := min(len(p), len(c.data), 1+c.rng.IntN(3*aheadChunk/2))
	if c.rng.IntN(10) == 0 {
		n = 0 // a Read may return nothing, and no error
	}
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func TestReadaheadSameBytesThenTheError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3<<20+17)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	bad := errors.New("gzip: invalid checksum")
	for _, end := range []error{io.EOF, io.ErrUnexpectedEOF, bad} {
		ra := newReadahead(&choppy{data: data, rng: rand.New(rand.NewPCG(3, 4)), err: end}) // its own rng: Read runs on the goroutine
		var got []byte
		buf := make([]byte, 5000)
		var err error
		for err == nil {
			var n int
			n, err = ra.Read(buf[:1+rng.IntN(len(buf))])
			got = append(got, buf[:n]...)
		}
		if err != end {
			t.Errorf("ended with %v, want %v", err, end)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%v: got %d bytes, not the %d written", end, len(got), len(data))
		}
		if n, err2 := ra.Read(buf); n != 0 || err2 != end {
			t.Errorf("after the end: %d, %v", n, err2)
		}
	}
}

// trickle yields a few bytes, then blocks until released.
type trickle struct {
	first   []byte
	release chan struct{}
}

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.first) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		return n, nil
	}
	<-r.release
	return 0, io.EOF
}

// TestReadaheadSlowStreamFlows: bytes that arrived are handed on while the
// stream waits for more, not held until a chunk is full (a pipe from a
// live capture).
func TestReadaheadSlowStreamFlows(t *testing.T) {
	r := &trickle{first: []byte("10 bytes.."), release: make(chan struct{})}
	defer close(r.release)
	ra := newReadahead(r)
	defer ra.Close()
	got := make(chan string, 1)
	go func() {
		b := make([]byte, 100)
		n, _ := ra.Read(b)
		got <- string(b[:n])
	}()
	select {
	case s := <-got:
		if s != "10 bytes.." {
			t.Errorf("read %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the first bytes were held back")
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

// TestReadaheadCloseStopsTheGoroutine: a reader that gives up early (an
// error elsewhere, Ctrl-C) leaves no goroutine behind.
func TestReadaheadCloseStopsTheGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	ra := newReadahead(endless{})
	if _, err := ra.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	ra.Close()
	ra.Close() // twice is harmless
	for i := 0; i < 1000 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}
