package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// tcpstate runs the command in-process and returns stdout, stderr and the exit status.
func tcpstate(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, bytes.NewReader(stdin), &out, &errb)
	code := exitCode(err, &errb)
	return out.String(), errb.String(), code
}

const popTrace = "../../testdata/zeek/pop3.pcap"

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("this is not a capture at all, just words\n"), 0o644)
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string // substring of the one-line message
	}{
		{"no capture", nil, 2, "no capture given"},
		{"unknown flag", []string{"--bogus", popTrace}, 2, "unknown flag: --bogus"},
		{"missing file", []string{filepath.Join(dir, "nope.pcap")}, 2, "nope.pcap: no such file"},
		{"directory", []string{dir}, 2, "is a directory"},
		{"not a capture", []string{text}, 2, "not a pcap or pcapng capture"},
		{"empty file", []string{empty}, 2, "empty"},
		{"unknown format", []string{"-f", "xml", popTrace}, 2, `unknown format "xml"`},
		{"bad duration", []string{"--msl", "0s", popTrace}, 2, "--msl"},
		{"stdin twice", []string{"-", "-"}, 2, "more than once"},
		{"no workers", []string{"-j", "0", popTrace}, 2, "--jobs must be at least 1"},
		{"workers not a number", []string{"-j", "two", popTrace}, 2, `tcpstate: --jobs "two": not a whole number (see tcpstate -h)`},
		{"duration without unit", []string{"--msl", "30", popTrace}, 2, `--msl "30": not a duration: give one such as 500ms, 30s, 5m or 1h30m`},
		{"zero list limit", []string{"--list-connections", "0", popTrace}, 2, "--list-connections"},
		{"negative tracking bound", []string{"--max-conns", "-5", popTrace}, 2, "--max-conns must be positive"},
		{"zero ladders", []string{"--html-ladders", "0", popTrace}, 2, "--html-ladders must be positive"},
		{"unknown format lists html", []string{"-f", "pdf", popTrace}, 2, "use text, json, html, zeek or csv"},
		{"stream to stdout", []string{"--all-connections", "-", popTrace}, 2, "--all-connections needs a file name"},
		{"stream over the input", []string{"--all-connections", popTrace, popTrace}, 2, "would overwrite an input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := tcpstate(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d; want %d (stderr %q)", code, tt.code, errs)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q; want it to contain %q", errs, tt.stderr)
			}
			if lines := strings.Count(errs, "\n"); code == 2 && lines != 1 {
				t.Errorf("stderr has %d lines; want one: %q", lines, errs)
			}
			if strings.Contains(errs, "goroutine") || strings.Contains(errs, "panic") {
				t.Errorf("stack trace on stderr: %q", errs)
			}
			if out != "" {
				t.Errorf("stdout not empty on error: %q", out)
			}
		})
	}
}

func TestVersionAndHelp(t *testing.T) {
	out, _, code := tcpstate(t, nil, "--version")
	if code != 0 || out != "tcpstate "+version+"\n" {
		t.Errorf("--version: %q exit %d", out, code)
	}
	_, errs, code := tcpstate(t, nil, "-h")
	if code != 0 || !strings.Contains(errs, "Usage: tcpstate") || !strings.Contains(errs, "--close-wait-min") {
		t.Errorf("-h: exit %d, %q", code, errs)
	}
	// Every flag's description starts in the same column, as a terminal
	// shows it: pflag pads by bytes, so a multi-byte character in a
	// flag's `name` shifts its description left.
	col := -1
	for _, line := range strings.Split(errs, "\n") {
		if len(line) < 6 || !strings.HasPrefix(strings.TrimLeft(line, " "), "-") {
			continue
		}
		i := strings.Index(line[6:], "   ") // after the flag and its name
		if i < 0 {
			t.Errorf("no description: %q", line)
			continue
		}
		rest := line[6+i:]
		c := utf8.RuneCountInString(line[:6+i]) + len(rest) - len(strings.TrimLeft(rest, " "))
		if col < 0 {
			col = c
		}
		if c != col {
			t.Errorf("description at column %d, not %d: %q", c, col, line)
		}
	}
}

func TestStdinEqualsFile(t *testing.T) {
	data, err := os.ReadFile(popTrace)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _, code := tcpstate(t, nil, "-f", "json", popTrace)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	fromStdin, _, code := tcpstate(t, data, "-f", "json", "-r", "-")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Only the file name differs.
	if strings.Replace(fromFile, popTrace, "-", 1) != fromStdin {
		t.Error("report from stdin differs from the report from the file")
	}
}

func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "r.json")
	stdout, _, code := tcpstate(t, nil, "-o", out, popTrace)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	var rep struct {
		FormatVersion int `json:"format_version"`
		Summary       struct {
			Connections int            `json:"connections"`
			Findings    map[string]int `json:"findings"`
		} `json:"summary"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("-o r.json is not JSON: %v", err)
	}
	if rep.FormatVersion != 1 || rep.Summary.Connections != 11 || rep.Summary.Findings["refused"] != 6 {
		t.Errorf("format_version %d, connections %d, refused %d; want 1, 11, 6", rep.FormatVersion,
			rep.Summary.Connections, rep.Summary.Findings["refused"])
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestOutputNeverOverwritesInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	orig, _ := os.ReadFile(popTrace)
	os.WriteFile(in, orig, 0o644)
	_, errs, code := tcpstate(t, nil, "-f", "json", "-o", in, in)
	if code != 2 || !strings.Contains(errs, "would overwrite an input") {
		t.Errorf("exit %d, %q; want 2 and a refusal", code, errs)
	}
	if now, _ := os.ReadFile(in); !bytes.Equal(now, orig) {
		t.Error("the input capture was modified")
	}
}

func TestTruncatedCaptureIsAnalysedWithWarning(t *testing.T) {
	data, _ := os.ReadFile(popTrace)
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, data[:len(data)*2/3], 0o644)
	out, errs, code := tcpstate(t, nil, "-f", "json", cut)
	if code != 0 {
		t.Fatalf("exit %d (%s); want 0", code, errs)
	}
	if !strings.Contains(errs, "warning") || strings.Count(errs, "\n") != 1 {
		t.Errorf("stderr %q; want one warning line", errs)
	}
	var rep struct {
		Capture struct {
			Truncated bool   `json:"truncated"`
			Packets   uint64 `json:"packets"`
		} `json:"capture"`
	}
	json.Unmarshal([]byte(out), &rep)
	if !rep.Capture.Truncated || rep.Capture.Packets == 0 || rep.Capture.Packets >= 125 {
		t.Errorf("truncated %v packets %d; want true and 0 < packets < 125", rep.Capture.Truncated, rep.Capture.Packets)
	}
	_, errs, _ = tcpstate(t, nil, "-q", "-f", "json", cut)
	if errs != "" {
		t.Errorf("-q still warns: %q", errs)
	}
}

// TestGolden compares the text and JSON reports of every bundled capture
// with the files in testdata/golden (go test ./cmd/tcpstate -update rewrites them).
// htmlGolden are the captures whose HTML report is kept as a golden file too
// (a few: each is about 60 KB).
var htmlGolden = map[string]bool{"kernel/close-wait-leak": true, "kernel/simultaneous-close": true, "kernel/syn-timeout": true}

func TestGolden(t *testing.T) {
	var captures []string
	for _, pat := range []string{"../../testdata/zeek/*.pcap", "../../testdata/kernel/*.pcap"} {
		m, _ := filepath.Glob(pat)
		captures = append(captures, m...)
	}
	if len(captures) == 0 {
		t.Fatal("no captures in testdata")
	}
	for _, c := range captures {
		name := filepath.Base(filepath.Dir(c)) + "/" + strings.TrimSuffix(filepath.Base(c), ".pcap")
		formats := []string{"text", "json", "zeek"}
		if strings.HasPrefix(name, "kernel/") {
			formats = append(formats, "csv")
		}
		if htmlGolden[name] {
			formats = append(formats, "html")
		}
		for _, format := range formats {
			t.Run(name+"/"+format, func(t *testing.T) {
				out, errs, code := tcpstate(t, nil, "-f", format, c)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				ext := map[string]string{"text": ".txt", "json": ".json", "html": ".html", "zeek": ".conn.log", "csv": ".csv"}[format]
				golden := filepath.Join("testdata", "golden", name+ext)
				if *update {
					os.MkdirAll(filepath.Dir(golden), 0o755)
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/tcpstate -update)", err)
				}
				if out != string(want) {
					t.Errorf("%s differs from %s: %s\nhint: go test ./cmd/tcpstate -update", name, golden, firstDiff(out, string(want)))
				}
			})
		}
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + itoa(i+1) + ":\n got: " + gl + "\nwant: " + wl
		}
	}
	return "(no line differs)"
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestQuietDropsLaddersAndWarnings(t *testing.T) {
	full, _, _ := tcpstate(t, nil, "../../testdata/kernel/close-wait-leak.pcap")
	quiet, errs, code := tcpstate(t, nil, "-q", "../../testdata/kernel/close-wait-leak.pcap")
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if !strings.Contains(full, "Flagged connections") || strings.Contains(quiet, "Flagged connections") {
		t.Error("-q must drop the ladder diagrams, and only them")
	}
	if !strings.Contains(quiet, "192.0.2.2:8080 (server) left 5 connections in CLOSE_WAIT") {
		t.Errorf("-q lost the findings:\n%s", quiet)
	}
}

// summaryOf runs the command with -f json and decodes the summary and capture.
func summaryOf(t *testing.T, args ...string) (conns int, packets uint64, kinds map[string]int, files []string) {
	t.Helper()
	out, errs, code := tcpstate(t, nil, append([]string{"-q", "-f", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep struct {
		Capture struct {
			Files   []string `json:"files"`
			Packets uint64   `json:"packets"`
		} `json:"capture"`
		Summary struct {
			Connections int            `json:"connections"`
			Findings    map[string]int `json:"findings"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Summary.Connections, rep.Capture.Packets, rep.Summary.Findings, rep.Capture.Files
}

func TestSeveralFilesMergeIntoOneTimeline(t *testing.T) {
	// close-wait-leak was recorded before refused; give them in the other order.
	early, late := "../../testdata/kernel/close-wait-leak.pcap", "../../testdata/kernel/refused.pcap"
	ce, pe, ke, _ := summaryOf(t, early)
	cl, pl, kl, _ := summaryOf(t, late)
	c, p, k, files := summaryOf(t, late, "-r", early)
	if c != ce+cl || p != pe+pl {
		t.Errorf("merged: %d connections, %d packets; want %d, %d", c, p, ce+cl, pe+pl)
	}
	for kind := range k {
		if k[kind] != ke[kind]+kl[kind] {
			t.Errorf("%s: %d; want %d", kind, k[kind], ke[kind]+kl[kind])
		}
	}
	if len(files) != 2 {
		t.Errorf("files %v; want both", files)
	}
	out, _, _ := tcpstate(t, nil, "-f", "json", late, "-r", early)
	var rep struct {
		Capture struct {
			Start string `json:"start"`
		} `json:"capture"`
		Connections []struct {
			Server     string `json:"server"`
			FirstFrame uint64 `json:"first_frame"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	first, last := rep.Connections[0], rep.Connections[len(rep.Connections)-1]
	if !strings.HasSuffix(first.Server, ":8080") || first.FirstFrame > pe {
		t.Errorf("the earlier capture's connections come first, framed from 1: got %+v", first)
	}
	if !strings.HasSuffix(last.Server, ":8086") || last.FirstFrame <= pe {
		t.Errorf("the later capture's frames continue the merged numbering: got %+v", last)
	}
}

func TestGzipRecognisedByContent(t *testing.T) {
	plain, _, _ := tcpstate(t, nil, "-f", "json", "../../testdata/formats/lo-ethernet.pcap")
	for _, gz := range []string{"../../testdata/formats/lo-ethernet.pcap.gz", "../../testdata/formats/gzipped-capture.bin"} {
		out, errs, code := tcpstate(t, nil, "-f", "json", gz)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", gz, code, errs)
		}
		if strings.Replace(out, gz, "../../testdata/formats/lo-ethernet.pcap", 1) != plain {
			t.Errorf("%s: report differs from the uncompressed capture's", gz)
		}
	}
}

// TestRelinkedCaptures: the real loopback traffic of lo-ethernet.pcap
// rewritten under 802.11 with radiotap, PPP and Cisco HDLC (the fixtures
// of reassembly/capture's TestRelinkedFixtures) gives the same report,
// connection for connection, from the command line; the link type and
// the one extra frame each holds (encrypted, LCP, SLARP) are counted.
func TestRelinkedCaptures(t *testing.T) {
	const dir = "../../testdata/formats/"
	parse := func(out string) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	plain, _, _ := tcpstate(t, nil, "-f", "json", dir+"lo-ethernet.pcap")
	want := parse(plain)
	for _, tt := range []struct {
		file, link string
		skipped    map[string]int
	}{
		{"lo-radiotap.pcap", "IEEE802_11_RADIO", map[string]int{"encrypted": 1}},
		{"lo-ppp-serial.pcap", "PPP_SERIAL", map[string]int{"not-ip": 1}},
		{"lo-chdlc.pcap", "C_HDLC", map[string]int{"not-ip": 1}},
		{"lo-pflog.pcap", "PFLOG", map[string]int{"not-ip": 1}},
	} {
		out, errs, code := tcpstate(t, nil, "-f", "json", dir+tt.file)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", tt.file, code, errs)
		}
		got := parse(out)
		for _, k := range []string{"summary", "connections", "findings", "groups"} {
			if !bytes.Equal(got[k], want[k]) {
				t.Errorf("%s: %s differs from lo-ethernet.pcap's:\n%s\nwant\n%s", tt.file, k, got[k], want[k])
			}
		}
		var c struct {
			Skipped   map[string]int `json:"skipped"`
			LinkTypes []struct {
				Name    string `json:"name"`
				Packets int    `json:"packets"`
			} `json:"link_types"`
		}
		if err := json.Unmarshal(got["capture"], &c); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Skipped, tt.skipped) || len(c.LinkTypes) != 1 || c.LinkTypes[0].Name != tt.link || c.LinkTypes[0].Packets != 21 {
			t.Errorf("%s: skipped %v, link types %+v; want %v and 21 packets of %s", tt.file, c.Skipped, c.LinkTypes, tt.skipped, tt.link)
		}
	}
}

// TestVerifyChecksums: --verify-checksums skips what a receiving kernel
// would drop, and warns when most of a capture fails (checksum offload on
// the capturing host). On every Zeek trace without a bad checksum, the
// report is the same bytes as without the flag: the general decoder,
// which verifying takes for every packet, agrees with the fast path.
func TestVerifyChecksums(t *testing.T) {
	const bad = "../../testdata/zeek/chksums-localhost-bad-chksum.pcap"
	var rep struct {
		Capture struct {
			TCPPackets int            `json:"tcp_packets"`
			Skipped    map[string]int `json:"skipped"`
			Warnings   []string       `json:"warnings"`
		} `json:"capture"`
	}
	out, errs, code := tcpstate(t, nil, "-f", "json", "--verify-checksums", bad)
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c := rep.Capture
	if c.TCPPackets != 4 || c.Skipped["bad-checksum"] != 6 || len(c.Warnings) != 1 ||
		!strings.HasPrefix(c.Warnings[0], "6 of 10 TCP packets failed their checksum") || errs != "tcpstate: warning: "+c.Warnings[0]+"\n" {
		t.Errorf("%d TCP, skipped %v, warnings %q, stderr %q; want 4, 6 bad-checksum and the offload warning", c.TCPPackets, c.Skipped, c.Warnings, errs)
	}
	out, _, _ = tcpstate(t, nil, "-f", "json", bad)
	if strings.Contains(out, "bad-checksum") || strings.Contains(out, "failed their checksum") {
		t.Errorf("checksums verified without --verify-checksums")
	}

	files, _ := filepath.Glob("../../testdata/zeek/*.pcap")
	same := 0
	for _, f := range files {
		plain, _, _ := tcpstate(t, nil, "-f", "json", f)
		verified, _, code := tcpstate(t, nil, "-f", "json", "--verify-checksums", f)
		if code != 0 || strings.Contains(verified, "bad-checksum") {
			continue
		}
		same++
		if verified != plain {
			t.Errorf("%s: no bad checksum, but the report with --verify-checksums differs", f)
		}
	}
	if same < 30 {
		t.Errorf("only %d Zeek traces without a bad checksum", same)
	}
}

// TestOutputToDeviceOrPipe: -o on something that is not a regular file
// (/dev/null, a named pipe) writes into it; renaming a temporary file over
// it would replace the device (as root, /dev/null itself).
func TestOutputToDeviceOrPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	_, errs, code := tcpstate(t, nil, "-f", "json", "-o", fifo, popTrace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if b := <-got; !bytes.Contains(b, []byte(`"format_version": 1`)) {
		t.Errorf("the pipe got %d bytes, not the report", len(b))
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe was replaced: %v %v", st.Mode(), err)
	}
}
