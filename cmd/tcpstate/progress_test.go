package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/capture"
)

func TestProgressLine(t *testing.T) {
	p := newProgress(io.Discard, 2_000_000_000)
	p.bytes.Store(500_000_000)
	p.packets.Store(6_000_000)
	got := p.line(2 * time.Second)
	want := "tcpstate: [######..................]  25% 500.0 MB/2.0 GB, 3.0M pkts/s, ETA 0:06"
	if got != want {
		t.Errorf("line = %q\nwant    %q", got, want)
	}
	// Once the input is read the bar stops counting: its rate is the
	// reading's, however long the analysis then takes to finish.
	at := time.Unix(1e9, 0)
	p.now = func() time.Time { return at }
	p.start = at.Add(-2400 * time.Millisecond)
	p.bytes.Store(2_000_000_000)
	p.readDone(7_200_000)
	at = at.Add(time.Minute)
	want = "tcpstate: read 2.0 GB, 7.2M packets in 2.40s (3.0M pkts/s); finishing the analysis"
	if got := p.line(time.Minute); got != want {
		t.Errorf("after reading, line = %q\nwant    %q", got, want)
	}
	for d, want := range map[time.Duration]string{840 * time.Millisecond: "0.84s", 12340 * time.Millisecond: "12.3s", 65 * time.Minute: "1:05:00"} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q; want %q", d, got, want)
		}
	}
	u := newProgress(io.Discard, 0) // stdin or gzip: no total
	u.bytes.Store(1500)
	u.packets.Store(10)
	if got, want := u.line(time.Second), "tcpstate: 1.5 kB read, 10 pkts/s, 1.5kB/s"; got != want {
		t.Errorf("line = %q; want %q", got, want)
	}
}

// TestProgressOnlyWhenAsked: --progress always draws on stderr and blanks
// its line at the end (a file: the bar; stdin: the live view's status
// lines); never (and auto, stderr not a terminal) stays silent; stdout is
// the same report either way.
func TestProgressOnlyWhenAsked(t *testing.T) {
	data := synthCapture(t, 4000)
	file := filepath.Join(t.TempDir(), "synth.pcap")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out1, err1, code1 := tcpstate(t, data, "--progress", "never", "-")
	out2, err2, code2 := tcpstate(t, nil, "--progress", "always", file)
	out2 = strings.ReplaceAll(out2, file, "-")
	_, err3, _ := tcpstate(t, data, "-")
	out4, err4, code4 := tcpstate(t, data, "--progress", "always", "-")
	if code1 != 0 || code2 != 0 || code4 != 0 || out1 != out2 || out1 != out4 {
		t.Fatalf("exit %d/%d/%d, reports equal %v %v", code1, code2, code4, out1 == out2, out1 == out4)
	}
	if !strings.HasPrefix(err4, "tcpstate: 0:02, ") || !strings.HasSuffix(err4, "findings so far (finished connections): none\n") {
		t.Errorf("stdin, --progress always: want the live view's status lines, got %q", err4)
	}
	if err1 != "" || err3 != "" {
		t.Errorf("stderr without progress: %q, %q", err1, err3)
	}
	if err2 != "" && !strings.HasSuffix(err2, "\r") {
		t.Errorf("progress output %q does not end by blanking its line", err2)
	}
	_, errs, code := tcpstate(t, data, "--progress", "sometimes", "-")
	if code != 2 || !strings.Contains(errs, "--progress") {
		t.Errorf("bad --progress: exit %d, %q", code, errs)
	}
	var b bytes.Buffer
	p := newProgress(&b, 100) // drawn by hand: no ticker racing the test
	p.bytes.Store(50)
	p.draw()
	p.finish()
	if s := b.String(); !strings.Contains(s, " 50% ") || !strings.HasSuffix(s, "\r") {
		t.Errorf("drawn %q", s)
	}
}

// TestPipelineTellsWhenReadingEnds: on one worker and on two, the pipeline
// tells the progress bar once, with every packet read, before it returns.
func TestPipelineTellsWhenReadingEnds(t *testing.T) {
	data := synthCapture(t, 100)
	for _, jobs := range []int{1, 2} {
		var calls int
		var got uint64
		p := &pipeline{cfg: fsm.DefaultConfig(), jobs: jobs}
		p.readDone = func(n uint64) { calls, got = calls+1, n }
		src, err := capture.NewSource([]capture.Input{{Name: "-", R: bytes.NewReader(data)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.run(context.Background(), src); err != nil {
			t.Fatal(err)
		}
		if calls != 1 || got != 800 {
			t.Errorf("-j %d: readDone called %d times, last with %d packets; want once with 800", jobs, calls, got)
		}
	}
}
