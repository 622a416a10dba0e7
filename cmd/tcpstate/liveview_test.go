package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

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
	statusLine := regexp.MustCompile(`^tcpstate: 0:(\d\d), \d+ packets, \d+ pkts/s, \d+ connections open, 0 finished; ` +
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
			prev, prevSecs := 0, 0
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
