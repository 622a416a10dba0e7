package fsm

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// everyPattern is a capture of every pattern of the generator (port reuse,
// half-closes that go on sending, resets, retransmissions, gaps…), IPv4
// and IPv6.
func everyPattern(t *testing.T, conns int, seed int64) []byte {
	t.Helper()
	mix := synth.Mix{}
	for _, p := range synth.Patterns() {
		mix[p] = 1
	}
	var b bytes.Buffer
	if _, err := synth.Write(&b, synth.Config{Conns: conns, Concurrency: 300, Seed: seed, IPv6Fraction: 0.3, Mix: mix}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestDeferredZeekChangesNothing replays every pattern of the generator,
// and the real captures of the Zeek corpus and of the kernel, with Zeek's
// emulation deferred (the records replayed at the close, or caught up once
// full) and run on each segment: every connection, Zeek's verdict
// included, must come out the same. Both ways of catching up are used:
// at the close of the short connections, and when the records overflow.
// (Zero windows, which the generator does not write, are in FuzzTracker's
// seeds.)
func TestDeferredZeekChangesNothing(t *testing.T) {
	files, err := filepath.Glob("../testdata/zeek/*.pcap")
	if err != nil {
		t.Fatal(err)
	}
	kernel, _ := filepath.Glob("../testdata/kernel/*.pcap")
	files = append(files, kernel...)
	if len(files) < 40 {
		t.Fatalf("%d captures in testdata", len(files))
	}
	inputs := map[string][]byte{"generator": everyPattern(t, 3000, 7)}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = b
	}
	defer func() { deferZeek = true }()
	var short, long int
	for name, data := range inputs {
		deferZeek = false
		eager := replayCapture(t, data, false)
		deferZeek = true
		deferred := replayCapture(t, data, false)
		if len(eager) != len(deferred) || len(eager) == 0 {
			t.Fatalf("%s: %d connections eager, %d deferred", name, len(eager), len(deferred))
		}
		for i := range eager {
			if !reflect.DeepEqual(eager[i], deferred[i]) {
				t.Fatalf("%s: connection %d differs:\neager    %+v\ndeferred %+v", name, eager[i].ID, eager[i], deferred[i])
			}
			if eager[i].Zeek.History == "" {
				continue
			}
			if p := eager[i].Packets[0] + eager[i].Packets[1]; p > zeekRecs {
				long++
			} else {
				short++
			}
		}
	}
	if short < 2000 || long < 100 {
		t.Fatalf("%d connections caught up at the close, %d when their records overflowed: the test lost its teeth", short, long)
	}
}

// TestKeepSkipsZeekOnly replays every pattern twice: with no Tracker.Keep,
// and with one that keeps a third of the connections. Keep sees each
// connection complete but for its Zeek verdict; a connection it does not
// keep has no Zeek verdict and is otherwise the same, and the others are
// the same in everything.
func TestKeepSkipsZeekOnly(t *testing.T) {
	data := everyPattern(t, 3000, 8)
	all := replayCapture(t, data, false)
	asked := map[uint64]Conn{}
	tr := NewTracker(DefaultConfig())
	tr.Keep = func(c *Conn) bool {
		if c.Zeek != (ZeekResult{}) {
			t.Fatalf("connection %d: Keep asked with a Zeek verdict already", c.ID)
		}
		asked[c.ID] = *c.Clone()
		return c.ID%3 == 0
	}
	kept := replayWith(t, tr, data)
	if len(all) != len(kept) || len(all) < 3000 || len(asked) != len(all) {
		t.Fatalf("%d connections, %d with Keep, which was asked %d times", len(all), len(kept), len(asked))
	}
	var skipped int
	for i, want := range all {
		got := kept[i]
		a := asked[want.ID]
		if want.ID%3 != 0 {
			if got.Zeek != (ZeekResult{}) {
				t.Fatalf("connection %d was not kept but has a Zeek verdict %+v", got.ID, got.Zeek)
			}
			if want.Zeek != (ZeekResult{}) {
				skipped++
			}
			w := *want
			w.Zeek = ZeekResult{}
			want = &w
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("connection %d differs:\nwithout Keep %+v\nwith Keep    %+v", want.ID, want, got)
		}
		a.Zeek = want.Zeek
		if !reflect.DeepEqual(want, &a) {
			t.Fatalf("connection %d was not complete when Keep was asked:\n%+v\nthen %+v", want.ID, a, want)
		}
	}
	if skipped < 1500 {
		t.Fatalf("only %d connections skipped the emulation: the test lost its teeth", skipped)
	}
}
