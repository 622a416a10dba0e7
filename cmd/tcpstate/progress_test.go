package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
