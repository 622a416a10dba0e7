package fsm

import (
	"bytes"
	"io"
	"reflect"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/capture"
	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// replayCapture replays a capture, sweeping every MSL/2 of capture time as
// the command does, and returns every connection, copied, in close order.
func replayCapture(t *testing.T, data []byte, lean bool) []*Conn {
	t.Helper()
	tr := NewTracker(DefaultConfig())
	if lean {
		tr.Detail = func(id uint64) bool { return id%2 == 0 }
	}
	return replayWith(t, tr, data)
}

// replayWith is replayCapture with the Tracker given (its OnDone is set).
func replayWith(t *testing.T, tr *Tracker, data []byte) []*Conn {
	t.Helper()
	src, err := capture.NewSource([]capture.Input{{Name: "x", R: bytes.NewReader(data)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tr.cfg
	var out []*Conn
	tr.OnDone = func(c *Conn) { out = append(out, c.Clone()) }
	a := reassembly.NewAssembler(tr)
	var seg reassembly.Segment
	var next int64
	for {
		if err := src.Next(&seg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if ns := int64(seg.Time); ns >= next {
			a.Sweep(seg.Time, cfg.Linger())
			next = ns + int64(cfg.MSL/2)
		}
		a.Add(&seg)
	}
	a.Flush(reassembly.StampOf(src.Stats().Last))
	return out
}

// TestPlainPathChangesNothing replays every pattern of the generator (port
// reuse, half-closes that go on sending, resets, retransmissions, gaps…)
// with and without the shortcut for plain ACKs, in full and lean: every
// connection must come out the same, ladder and Zeek verdict included.
func TestPlainPathChangesNothing(t *testing.T) {
	mix := synth.Mix{}
	for _, p := range synth.Patterns() {
		mix[p] = 1
	}
	var b bytes.Buffer
	if _, err := synth.Write(&b, synth.Config{Conns: 3000, Concurrency: 300, Seed: 5, IPv6Fraction: 0.3, Mix: mix}); err != nil {
		t.Fatal(err)
	}
	defer func() { plainPath = true }()
	for _, lean := range []bool{false, true} {
		plainPath = true
		fast := replayCapture(t, b.Bytes(), lean)
		plainPath = false
		slow := replayCapture(t, b.Bytes(), lean)
		if len(fast) != len(slow) || len(fast) < 3000 {
			t.Fatalf("lean %v: %d connections with the shortcut, %d without", lean, len(fast), len(slow))
		}
		var data int
		for i := range fast {
			if !reflect.DeepEqual(fast[i], slow[i]) {
				t.Fatalf("lean %v: connection %d differs:\nwith the shortcut    %+v\nwithout the shortcut %+v", lean, fast[i].ID, fast[i], slow[i])
			}
			for _, st := range fast[i].Ladder {
				if st.Len > 0 && st.Flags&(reassembly.SYN|reassembly.FIN|reassembly.RST) == 0 && !st.ClientChanged && !st.ServerChanged {
					data++ // the last data segment of a direction, kept by plain
				}
			}
		}
		if !lean && data < 1000 {
			t.Fatalf("only %d ladders end a direction's data with a plain segment: the test lost its teeth", data)
		}
	}
}
