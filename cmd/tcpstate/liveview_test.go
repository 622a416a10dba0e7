package main

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// TestLiveViewStdin: a stream on stdin gets the live view, by capture
// time, when --interval is given; off a terminal it is one plain line per
// refresh. It shows the CLOSE_WAIT leak building up, and changes nothing
// in the report, with one worker or several.
func TestLiveViewStdin(t *testing.T) {
	// 30 CLOSE_WAIT leaks starting about 3 a second: about 10 s of capture time.
	var buf bytes.Buffer
	truth, err := synth.Write(&buf, synth.Config{Conns: 30, Rate: 3, Seed: 7, Mix: synth.Mix{synth.CloseWait: 1}})
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	leaks := truth.ServerStates["CLOSE_WAIT"]
	if leaks != 30 {
		t.Fatalf("synth: %d server CLOSE_WAIT; want 30", leaks)
	}
	cwCount := regexp.MustCompile(`CLOSE_WAIT: (\d+), oldest `)
	statusLine := regexp.MustCompile(`^tcpstate: 0:(\d\d), \d+ packets, \d+ pkts/s, \d+ connections open, 0 finished, ` +
		`read ([0-9.]+ [kMG]?B) at [0-9.]+ [kMG]?B/s; ` +
		`clients: [A-Z0-9_ ,]+; servers: [A-Z0-9_ ,]+; CLOSE_WAIT: \d+, oldest [0-9.]+m?s, most on [0-9.:]+ \(\d+\); ` +
		`findings so far \(finished connections\): none$`)
	plain, _, code := tcpstate(t, data, "-r", "-", "-j", "1")
	if code != 0 {
		t.Fatalf("without the view: exit %d", code)
	}
	for _, jobs := range []string{"1", "3"} {
		t.Run("j"+jobs, func(t *testing.T) {
			out, errs, code := tcpstate(t, data, "-r", "-", "-j", jobs, "--interval", "1s")
			if code != 0 {
				t.Fatalf("exit %d, stderr %s", code, errs)
			}
			if out != plain {
				t.Errorf("the live view changed the report")
			}
			lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			// The capture clock: a refresh when a packet comes a second or
			// more after the last refresh (the generator's arrivals are bursty).
			if len(lines) < 6 {
				t.Fatalf("%d status lines, want about one per second of capture time with packets:\n%s", len(lines), errs)
			}
			prev, prevSecs, prevRead := 0, 0, 0.0
			for _, l := range lines {
				m := statusLine.FindStringSubmatch(l)
				if m == nil {
					t.Errorf("status line %q: want tcpstate: elapsed, packets; clients; servers; CLOSE_WAIT; findings", l)
					continue
				}
				secs, _ := strconv.Atoi(m[1])
				if secs <= prevSecs {
					t.Errorf("elapsed capture time went from %ds to %ds: %s", prevSecs, secs, l)
				}
				prevSecs = secs
				// What was read of stdin so far, as the progress bar
				// shows it for a file: never more than the stream.
				read := sizeValue(t, m[2])
				if read < prevRead || read <= 0 || read > float64(len(data))*1.001 {
					t.Errorf("read %s after %.0f bytes, of a %d-byte stream: %s", m[2], prevRead, len(data), l)
				}
				prevRead = read
				if !strings.Contains(l, "most on 192.0.2.20:8080 (") {
					t.Errorf("status line %q does not name the leaking server", l)
				}
				n, _ := strconv.Atoi(cwCount.FindStringSubmatch(l)[1])
				if n < prev {
					t.Errorf("CLOSE_WAIT went down from %d to %d: %s", prev, n, l)
				}
				prev = n
			}
			if prev < leaks*3/4 || strings.Contains(lines[0], fmt.Sprintf("CLOSE_WAIT: %d,", prev)) {
				t.Errorf("CLOSE_WAIT should build up towards %d, reached %d:\n%s", leaks, prev, errs)
			}
		})
	}
	// -q silences it; a file (not a stream) never gets it.
	if _, errs, _ := tcpstate(t, data, "-r", "-", "--interval", "1s", "-q"); errs != "" {
		t.Errorf("-q: stderr %q; want nothing", errs)
	}
	if _, errs, _ := tcpstate(t, nil, "--interval", "1s", "../../testdata/kernel/close-wait-leak.pcap"); errs != "" {
		t.Errorf("a file with --interval: stderr %q; want nothing", errs)
	}
	if _, errs, code := tcpstate(t, data, "-r", "-", "--interval", "0s"); code != 2 || !strings.Contains(errs, "--interval must be positive") {
		t.Errorf("--interval 0s: exit %d, stderr %q", code, errs)
	}
}

// sizeValue parses a byte count as size formats it ("33.1 kB").
func sizeValue(t *testing.T, s string) float64 {
	num, unit, _ := strings.Cut(s, " ")
	x, err := strconv.ParseFloat(num, 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	return x * map[string]float64{"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}[unit]
}

// TestLiveViewTerminal: on a terminal the view is a block of lines
// redrawn in place, and erased at the end so the report starts clean.
func TestLiveViewTerminal(t *testing.T) {
	var b bytes.Buffer
	v := newLiveView(&b, true, false, time.Second, 2)
	src := &fakeSource{}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	srv := netip.MustParseAddrPort("192.0.2.2:8080")
	publish := func(at time.Time, cw int) {
		v.tick.Store(true) // as the ticker does every half interval
		r, ok := v.due(src, at, at)
		if !ok {
			t.Fatalf("no refresh due at %v", at)
		}
		s := fsm.Snapshot{CloseWait: map[netip.AddrPort]int{srv: cw}, CloseWaitSince: t0}
		s.Servers[fsm.CloseWait] = cw
		v.publish(r, s, cw, 0, [fsm.NumKinds]int{})
		if b.Len() != 0 && strings.Count(b.String(), "most on") != int(r.id)-1 {
			t.Fatalf("drawn before every worker published")
		}
		v.publish(r, fsm.Snapshot{}, 0, 1, [fsm.NumKinds]int{fsm.KindTimeWait: 1})
	}
	if _, ok := v.due(src, t0, t0); ok {
		t.Fatal("a refresh due at the first packet")
	}
	publish(t0.Add(time.Second), 2)
	publish(t0.Add(2*time.Second), 3)
	// A stream running ahead of its capture clock (a file piped in) is
	// not redrawn until the ticker says half an interval has passed.
	if _, ok := v.due(src, t0.Add(3*time.Second), t0.Add(3*time.Second)); ok {
		t.Error("redrawn before the ticker allowed it")
	}
	v.finish()
	want := "tcpstate: 0:01, 0 packets, 0 pkts/s, 2 connections open, 1 finished\x1b[K\n" +
		"  clients: none open\x1b[K\n" +
		"  servers: CLOSE_WAIT 2\x1b[K\n" +
		"  CLOSE_WAIT: 2, oldest 1s, most on 192.0.2.2:8080 (2)\x1b[K\n" +
		"  findings so far (finished connections): time-wait 1\x1b[K\n\x1b[J" +
		"\x1b[5F" + // back up over the block, redraw it
		"tcpstate: 0:02, 0 packets, 0 pkts/s, 3 connections open, 1 finished\x1b[K\n" +
		"  clients: none open\x1b[K\n" +
		"  servers: CLOSE_WAIT 3\x1b[K\n" +
		"  CLOSE_WAIT: 3, oldest 2s, most on 192.0.2.2:8080 (3)\x1b[K\n" +
		"  findings so far (finished connections): time-wait 1\x1b[K\n\x1b[J" +
		"\x1b[5F\x1b[J" // erased at the end
	if got := b.String(); got != want {
		t.Errorf("drawn\n%q\nwant\n%q", got, want)
	}
}

// fakeSource is a segmentSource with nothing to read, for the view's counters.
type fakeSource struct{}

func (fakeSource) Next(*reassembly.Segment) error { return io.EOF }
func (fakeSource) Stats() reassembly.Stats {
	return reassembly.Stats{First: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
}
