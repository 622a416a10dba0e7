package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/capture"
	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// TestWritesCaptureAndTruth: -o FILE writes a capture that tcpstate's
// reader reads to the end, with as many packets and bytes as the truth
// written beside it says; the same flags give the same bytes, to a file
// or to stdout; -q silences the summary line.
func TestWritesCaptureAndTruth(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "x.pcap")
	var stdout, stderr bytes.Buffer
	flags := []string{"-conns", "300", "--rate=40", "-seed", "5", "-mix", "default"}
	if err := run(append(flags, "-o", file), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stderr.String(), "tcpstate-gen: 300 connections, ") || strings.Count(stderr.String(), "\n") != 1 || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var truth synth.Truth
	tj, err := os.ReadFile(file + ".truth.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(tj, &truth); err != nil {
		t.Fatal(err)
	}
	if truth.Connections != 300 || truth.Seed != 5 || truth.Bytes != int64(len(data)) || truth.Snaplen != synth.DefaultSnaplen {
		t.Errorf("truth %+v for a file of %d bytes", truth, len(data))
	}
	src, err := capture.NewSource([]capture.Input{{Name: file, R: bytes.NewReader(data)}})
	if err != nil {
		t.Fatal(err)
	}
	var seg reassembly.Segment
	var tcp int64
	for src.Next(&seg) == nil {
		tcp++
	}
	if st := src.Stats(); int64(st.Packets) != truth.Packets || tcp != truth.Packets || st.Truncated {
		t.Errorf("read %d packets (%d TCP segments, truncated %v); the truth says %d", st.Packets, tcp, st.Truncated, truth.Packets)
	}

	stdout.Reset()
	stderr.Reset()
	if err := run(append(flags, "-q", "-o", "-"), &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), data) || stderr.Len() != 0 {
		t.Errorf("-o - wrote %d bytes, not the file's %d; stderr %q", stdout.Len(), len(data), stderr.String())
	}
	truthOut := filepath.Join(dir, "t.json")
	if err := run(append(flags, "-q", "-o", "-", "--truth", truthOut), &bytes.Buffer{}, &stderr); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(truthOut); !bytes.Equal(got, tj) {
		t.Errorf("--truth with -o - wrote %q; want the file's truth", got)
	}
}

// TestUsageErrors: every mistake is a usage error (exit status 2) with one
// line that says what to do; a file that cannot be written is not.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "x.pcap")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-conns", "10"}, "no output given: -o FILE, or -o - for stdout"},
		{[]string{"-conns", "x", "-o", out}, `--conns "x": not a whole number`},
		{[]string{"-conns", "-1", "-o", out}, "--conns must be between 0 and "},
		{[]string{"-rate", "0", "-o", out}, "--rate must be positive (at most 1e7)"},
		{[]string{"-ipv6", "2", "-o", out}, "--ipv6 must be between 0 and 1"},
		{[]string{"-snaplen", "20", "-o", out}, "--snaplen must be between "},
		{[]string{"-mix", "nonsense=1", "-o", out}, "--mix: "},
		{[]string{"-start", "yesterday", "-o", out}, `--start "yesterday": want RFC 3339`},
		{[]string{"-o", "-", "--truth", "-"}, "--truth - and -o - would both write to stdout"},
		{[]string{"-o", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
	} {
		err := run(tt.args, &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) || !strings.HasSuffix(err.Error(), " (see tcpstate-gen -h)") {
			t.Errorf("%q: %v; want a usage error with %q", tt.args, err, tt.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a usage error left %s behind", out)
	}
	err := run([]string{"-conns", "10", "-o", filepath.Join(dir, "no", "such", "x.pcap")}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || errors.Is(err, errUsage) || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("unwritable output: %v; want a write error", err)
	}
}

// TestHelp: -h and -help print the usage with every pattern, and succeed.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		var stderr bytes.Buffer
		if err := run([]string{arg}, &bytes.Buffer{}, &stderr); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		s := stderr.String()
		if !strings.HasPrefix(s, "Usage: tcpstate-gen -o FILE [flags]") || !strings.Contains(s, "--concurrency") {
			t.Errorf("%s: %q", arg, s)
		}
		for _, p := range patternNames() {
			if !strings.Contains(s, p) {
				t.Errorf("%s: pattern %s not listed", arg, p)
			}
		}
	}
}
