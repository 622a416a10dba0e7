package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// brokenDir holds the broken captures; `go test ./cmd/tcpstate -run
// TestBrokenFiles -update` writes them from brokenFiles.
const brokenDir = "../../testdata/broken"

// A brokenFile is one damaged capture and what tcpstate must answer.
type brokenFile struct {
	name   string
	how    string // for testdata/broken/README.md
	data   []byte
	code   int
	stderr string // the whole of stderr; "" when the file is read cleanly
	// For exit 0: the packets analysed and whether the report says truncated.
	packets   int
	truncated bool
}

// brokenFiles derives every case from lo-ethernet.pcap (20 packets of two
// loopback connections recorded by tcpdump) and its pcapng twin.
func brokenFiles(t *testing.T) []brokenFile {
	t.Helper()
	good := readFile(t, "../../testdata/formats/lo-ethernet.pcap")
	ng := readFile(t, "../../testdata/formats/lo-ethernet.pcapng")
	le := binary.LittleEndian
	const hdr, rec = 24, 16
	firstLen := int(le.Uint32(good[hdr+8:])) // captured length of packet 1
	second := hdr + rec + firstLen           // offset of record 2
	with := func(b []byte, edit func([]byte)) []byte {
		c := bytes.Clone(b)
		edit(c)
		return c
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(b)
		w.Close()
		return buf.Bytes()
	}
	zipped := gz(good)
	// An unknown block type (0x0BAD) with a 4-byte body; and one whose
	// length is not a multiple of 4.
	unknown := []byte{0xad, 0x0b, 0, 0, 16, 0, 0, 0, 'a', 'b', 'c', 'd', 16, 0, 0, 0}
	badLen := []byte{0xad, 0x0b, 0, 0, 13, 0, 0, 0, 'a', 'b', 'c', 'd', 'e', 13, 0, 0, 0}
	return []brokenFile{
		{name: "bad-packets.pcapng", how: "one handshake (3 packets) among 13 malformed frames on Ethernet, SLL2 and NULL interfaces (see badPackets)",
			data: badPackets(), code: 0, packets: 16},
		{name: "empty.pcap", how: "0 bytes", data: nil, code: 2,
			stderr: "tcpstate: BROKEN/empty.pcap: empty file, not a capture\n"},
		{name: "text.pcap", how: "a text file named .pcap", data: []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), code: 2,
			stderr: "tcpstate: BROKEN/text.pcap: not a pcap or pcapng capture\n"},
		{name: "wrong-magic.pcap", how: "lo-ethernet.pcap with its magic number zeroed", code: 2,
			data:   with(good, func(b []byte) { copy(b, []byte{0, 0, 0, 0}) }),
			stderr: "tcpstate: BROKEN/wrong-magic.pcap: not a pcap or pcapng capture\n"},
		{name: "header-cut.pcap", how: "the first 10 bytes of lo-ethernet.pcap", data: good[:10], code: 2,
			stderr: "tcpstate: BROKEN/header-cut.pcap: file header cut short: unexpected EOF\n"},
		{name: "header-only.pcap", how: "the 24-byte file header of lo-ethernet.pcap", data: good[:hdr], code: 2,
			stderr: "tcpstate: BROKEN/header-only.pcap: no packets: the capture holds only its file header\n"},
		{name: "first-record-cut.pcap", how: "file header and 10 bytes of the first record header", data: good[:hdr+10], code: 2,
			stderr: "tcpstate: BROKEN/first-record-cut.pcap: cut short in packet 1 at byte 24: no packet could be read\n"},
		{name: "killed-mid-record.pcap", how: "lo-ethernet.pcap less its last 30 bytes (tcpdump killed while writing)", data: good[:len(good)-30], code: 0,
			stderr:  "tcpstate: warning: BROKEN/killed-mid-record.pcap: cut short in packet 20 at byte 1824; analysed the 19 packets before it\n",
			packets: 19, truncated: true},
		{name: "caplen-over-snaplen.pcap", how: "lo-ethernet.pcap with its snaplen set to 40, below every record's length", code: 2,
			data:   with(good, func(b []byte) { le.PutUint32(b[16:], 40) }),
			stderr: "tcpstate: BROKEN/caplen-over-snaplen.pcap: corrupt packet 1 at byte 24 (capture length exceeds snap length: 74 > 40): no packet could be read\n"},
		{name: "caplen-over-256k.pcap", how: "lo-ethernet.pcap with record 2's captured and original lengths set to 300000", code: 0,
			data: with(good, func(b []byte) {
				le.PutUint32(b[second+8:], 300000)
				le.PutUint32(b[second+12:], 300000)
			}),
			stderr:  "tcpstate: warning: BROKEN/caplen-over-256k.pcap: corrupt packet 2 at byte 114 (capture length exceeds snap length: 300000 > 262144); analysed the packet before it\n",
			packets: 1, truncated: true},
		{name: "caplen-over-len.pcap", how: "lo-ethernet.pcap with record 2's original length set below its captured length", code: 0,
			data:    with(good, func(b []byte) { le.PutUint32(b[second+12:], 10) }),
			stderr:  "tcpstate: warning: BROKEN/caplen-over-len.pcap: corrupt packet 2 at byte 114 (capture length exceeds original packet length: 74 > 10); analysed the packet before it\n",
			packets: 1, truncated: true},
		{name: "unknown-block.pcapng", how: "lo-ethernet.pcapng followed by a block of unknown type 0x0BAD (skipped, as the pcapng spec says)", code: 0,
			data: append(bytes.Clone(ng), unknown...), packets: 20},
		{name: "bad-block-length.pcapng", how: "lo-ethernet.pcapng followed by a block whose length, 13, is not a multiple of 4", code: 0,
			data:    append(bytes.Clone(ng), badLen...),
			stderr:  "tcpstate: warning: BROKEN/bad-block-length.pcapng: corrupt packet 21 at byte 2384 (bad block length 13); analysed the 20 packets before it\n",
			packets: 20, truncated: true},
		{name: "bad-trailer.pcapng", how: "lo-ethernet.pcapng with the trailing length of its last block zeroed", code: 0,
			data:    with(ng, func(b []byte) { copy(b[len(b)-4:], []byte{0, 0, 0, 0}) }),
			stderr:  "tcpstate: warning: BROKEN/bad-trailer.pcapng: corrupt packet 20 at byte 2264 (block length 120 does not match trailer 0); analysed the 19 packets before it\n",
			packets: 19, truncated: true},
		{name: "gzip-cut.pcap.gz", how: "the first half of lo-ethernet.pcap gzipped", data: zipped[:len(zipped)/2], code: 0,
			stderr:  "tcpstate: warning: BROKEN/gzip-cut.pcap.gz: cut short in packet 6 at byte 455 of the decompressed data; analysed the 5 packets before it\n",
			packets: 5, truncated: true},
		{name: "gzip-cut-header.pcap.gz", how: "lo-ethernet.pcap gzipped, cut 2 bytes into the compressed data: not even the capture's magic number", data: zipped[:12], code: 2,
			stderr: "tcpstate: BROKEN/gzip-cut-header.pcap.gz: file header cut short: unexpected EOF\n"},
		{name: "gzip-bad-header.pcap.gz", how: "gzip magic followed by a bad compression method", data: []byte{0x1f, 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0xff}, code: 2,
			stderr: "tcpstate: BROKEN/gzip-bad-header.pcap.gz: gzip: invalid header\n"},
		{name: "gzip-bad-checksum.pcap.gz", how: "lo-ethernet.pcap gzipped, with its CRC-32 trailer flipped", code: 0,
			data: with(zipped, func(b []byte) { b[len(b)-8] ^= 0xff }),
			stderr: "tcpstate: warning: BROKEN/gzip-bad-checksum.pcap.gz: corrupt packet 21 at byte 1926 of the decompressed data (gzip: invalid checksum); " +
				"analysed the 20 packets before it\n",
			packets: 20, truncated: true},
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBrokenFiles runs tcpstate on every file of testdata/broken and checks
// the exit code, the exact stderr, and for the files that are analysed up
// to the damage, the packets and the truncated flag of the report. The files
// on disk must be what brokenFiles makes (-update rewrites them).
func TestBrokenFiles(t *testing.T) {
	cases := brokenFiles(t)
	if *update {
		writeBroken(t, cases)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(brokenDir, c.name)
			if got := readFile(t, path); !bytes.Equal(got, c.data) {
				t.Fatalf("%s differs from what brokenFiles makes; run with -update", path)
			}
			out, errs, code := tcpstate(t, nil, "-f", "json", path)
			want := strings.ReplaceAll(c.stderr, "BROKEN", brokenDir)
			if code != c.code || errs != want {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, errs, c.code, want)
			}
			if code != 0 {
				if out != "" {
					t.Errorf("stdout not empty on error")
				}
				return
			}
			var r struct {
				Capture struct {
					Packets   int  `json:"packets"`
					Truncated bool `json:"truncated"`
				} `json:"capture"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Capture.Packets != c.packets || r.Capture.Truncated != c.truncated {
				t.Errorf("report: %d packets, truncated %v; want %d, %v", r.Capture.Packets, r.Capture.Truncated, c.packets, c.truncated)
			}
		})
	}
}

// writeBroken writes the broken files and their README table.
func writeBroken(t *testing.T, cases []brokenFile) {
	t.Helper()
	if err := os.MkdirAll(brokenDir, 0o755); err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	md.WriteString("# Broken captures\n\nMade by `brokenFiles` in cmd/tcpstate/broken_test.go from " +
		"testdata/formats/lo-ethernet.pcap and lo-ethernet.pcapng (20 packets recorded on the loopback); " +
		"regenerate with `go test ./cmd/tcpstate -run TestBrokenFiles -update`. " +
		"TestBrokenFiles asserts the exit code and the exact message for each.\n\n" +
		"| File | How it is broken | Exit | tcpstate says |\n|---|---|---|---|\n")
	for _, c := range cases {
		if err := os.WriteFile(filepath.Join(brokenDir, c.name), c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		say := strings.TrimSpace(strings.ReplaceAll(c.stderr, "BROKEN/", ""))
		if say == "" {
			say = "(nothing: read in full)"
		}
		md.WriteString("| `" + c.name + "` | " + c.how + " | " + string(rune('0'+c.code)) + " | " + strings.ReplaceAll(say, "|", "\\|") + " |\n")
	}
	if err := os.WriteFile(filepath.Join(brokenDir, "README.md"), []byte(md.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUnreadableFile: a capture the user may not read is one line and exit
// 2. CI runs as root, for whom permissions do not apply, so the test then
// runs a copy of this test binary as nobody.
func TestUnreadableFile(t *testing.T) {
	// Not t.TempDir: its parent is private to root, and nobody must reach
	// both the binary and the file.
	dir, err := os.MkdirTemp("", "tcpstate-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	capture := filepath.Join(dir, "secret.pcap")
	if err := os.WriteFile(capture, readFile(t, popTrace), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "tcpstate: " + capture + ": permission denied\n"
	if os.Geteuid() != 0 {
		os.Chmod(capture, 0)
		_, errs, code := tcpstate(t, nil, capture)
		if code != 2 || errs != want {
			t.Fatalf("exit %d, stderr %q; want 2, %q", code, errs, want)
		}
		return
	}
	bin := filepath.Join(dir, "tcpstate.test")
	if err := os.WriteFile(bin, readFile(t, os.Args[0]), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestMainHelper$", "--", capture)
	cmd.Env = append(os.Environ(), "TCPSTATE_TEST_MAIN=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 2 || stderr.String() != want {
		t.Fatalf("as nobody: exit %d, stderr %q; want 2, %q", code, stderr.String(), want)
	}
}

// TestMainHelper is tcpstate's main when TCPSTATE_TEST_MAIN is set: it lets
// a test run the command as another user, and a benchmark run it in a
// fresh process (BenchmarkCommand).
func TestMainHelper(t *testing.T) {
	if os.Getenv("TCPSTATE_TEST_MAIN") == "" {
		t.Skip("runs only as a child of TestUnreadableFile or BenchmarkCommand")
	}
	if os.Getenv("GOGC") == "" {
		startGCTuner() // as main does
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	var out bytes.Buffer
	err := run(t.Context(), args, nil, &out, os.Stderr)
	if f := os.Getenv("TCPSTATE_TEST_HWM"); f != "" {
		// The peak RSS of this process alone: getrusage's, as its parent
		// reads it, starts from the parent's own at the fork.
		if status, err := os.ReadFile("/proc/self/status"); err == nil {
			for line := range strings.Lines(string(status)) {
				if kb, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					os.WriteFile(f, []byte(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB"))), 0o644)
				}
			}
		}
	}
	os.Exit(exitCode(err, os.Stderr))
}

// badPackets is a pcapng with three interfaces (Ethernet, Linux SLL2, BSD
// NULL) holding a valid IPv4 handshake and one frame of each malformation
// the decoder must count and skip without reading past the frame.
// TestBadPackets checks the counts.
func badPackets() []byte {
	le := binary.LittleEndian
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tcp := func(doff byte, flags byte) []byte {
		h := make([]byte, 20)
		copy(h, cat(u16(40000), u16(80)))
		h[12], h[13] = doff<<4, flags
		return h
	}
	ip4 := func(ihl byte, total uint16, payload []byte) []byte {
		h := make([]byte, 20)
		h[0], h[8], h[9] = 0x40|ihl, 64, 6
		copy(h[2:], u16(total))
		copy(h[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
		return cat(h, payload)
	}
	ip6 := func(next byte, plen uint16, payload []byte) []byte {
		h := make([]byte, 40)
		h[0], h[6], h[7] = 0x60, next, 64
		copy(h[4:], u16(plen))
		h[23], h[39] = 1, 2
		return cat(h, payload)
	}
	eth := func(typ uint16, payload []byte) []byte {
		return cat([]byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}, u16(typ), payload)
	}
	good := func(flags byte) []byte { return eth(0x0800, ip4(5, 40, tcp(5, flags))) }
	// Nine destination-options headers, each naming the next: longer than
	// any chain tcpstate walks.
	var chain []byte
	for range 9 {
		chain = append(chain, 60, 0, 1, 4, 0, 0, 0, 0) // next: destination options, 8 bytes, PadN
	}
	type frame struct {
		iface uint32
		data  []byte
	}
	frames := []frame{
		{0, good(0x02)}, // SYN
		{0, eth(0x0800, ip4(4, 40, tcp(5, 0x10)))},                                 // IHL 4
		{0, eth(0x0800, ip4(5, 40, tcp(4, 0x10)))},                                 // TCP data offset 4
		{0, eth(0x0800, ip4(5, 80, tcp(15, 0x10)))},                                // data offset past the frame
		{0, eth(0x0800, ip4(5, 1500, tcp(5, 0x18)))},                               // IP length longer than the uncut frame
		{0, eth(0x0800, ip4(5, 30, tcp(5, 0x10)))},                                 // IP length shorter than the headers
		{0, eth(0x86DD, ip6(60, uint16(len(chain)+20), cat(chain, tcp(5, 0x10))))}, // extension-header chain too long
		{0, eth(0x86DD, ip6(60, 200, []byte{6, 30, 0, 0}))},                        // extension header past the packet
		{0, nil},                            // zero-length frame
		{0, good(0x12)},                     // SYN-ACK (addresses and ports of the SYN: this test counts, it does not replay)
		{1, []byte{0x08, 0x00, 0, 0, 0, 0}}, // SLL2 header cut
		{2, []byte{2, 0}},                   // NULL header cut
		{0, eth(0x0800, []byte{0x45, 0})},   // IPv4 header cut
		{1, cat([]byte{0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0}, ip4(5, 40, tcp(0, 0x10)))}, // SLL2, data offset 0
		{2, cat([]byte{2, 0, 0, 0}, ip4(15, 40, tcp(5, 0x10)))},                                                      // NULL, IHL past the frame and the length
		{0, good(0x10)}, // ACK
	}
	block := func(typ uint32, body []byte) []byte {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(len(body) + 12)
		return cat(le.AppendUint32(nil, typ), le.AppendUint32(nil, n), body, le.AppendUint32(nil, n))
	}
	shb := cat(le.AppendUint32(nil, 0x1A2B3C4D), []byte{1, 0, 0, 0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	out := block(0x0A0D0D0A, shb)
	for _, link := range []uint16{1, 276, 0} {
		out = append(out, block(1, cat(le.AppendUint16(nil, link), []byte{0, 0}, le.AppendUint32(nil, 0)))...)
	}
	for i, f := range frames {
		ts := uint64(1_700_000_000_000_000 + i*1000) // µs
		epb := cat(le.AppendUint32(nil, f.iface), le.AppendUint32(nil, uint32(ts>>32)), le.AppendUint32(nil, uint32(ts)),
			le.AppendUint32(nil, uint32(len(f.data))), le.AppendUint32(nil, uint32(len(f.data))), f.data)
		out = append(out, block(6, epb)...)
	}
	return out
}

// TestBadPackets: every malformed frame of bad-packets.pcapng is counted
// under its reason, and the handshake around them is still analysed.
func TestBadPackets(t *testing.T) {
	out, errs, code := tcpstate(t, nil, "-f", "json", filepath.Join(brokenDir, "bad-packets.pcapng"))
	if code != 0 || errs != "" {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	var r struct {
		Capture struct {
			Packets    int            `json:"packets"`
			TCPPackets int            `json:"tcp_packets"`
			Skipped    map[string]int `json:"skipped"`
		} `json:"capture"`
		Summary struct {
			Connections int `json:"connections"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"bad-header": 9, "truncated": 4}
	for k, v := range r.Capture.Skipped {
		if v != want[k] {
			t.Errorf("skipped[%s] = %d; want %d", k, v, want[k])
		}
	}
	if r.Capture.Packets != 16 || r.Capture.TCPPackets != 3 || r.Summary.Connections != 1 {
		t.Errorf("%d packets, %d TCP, %d connections; want 16, 3, 1 (skipped %v)", r.Capture.Packets, r.Capture.TCPPackets, r.Summary.Connections, r.Capture.Skipped)
	}
}

// TestInputsNeverModified: analysing a directory of captures (good, broken,
// gzip), with a report and the connection stream written beside them, and
// an attempt to write over one, leaves every input file byte for byte and
// mode for mode as it was, and adds nothing but the two outputs.
func TestInputsNeverModified(t *testing.T) {
	dir := t.TempDir()
	var inputs []string
	for _, src := range []string{popTrace, "../../testdata/formats/lo-ethernet.pcap.gz", "../../testdata/broken/killed-mid-record.pcap",
		"../../testdata/broken/bad-packets.pcapng"} {
		dst := filepath.Join(dir, filepath.Base(src))
		if err := os.WriteFile(dst, readFile(t, src), 0o444); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, dst)
	}
	type snap struct {
		data []byte
		mode os.FileMode
		mod  int64
	}
	take := func() map[string]snap {
		m := map[string]snap{}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			info, _ := e.Info()
			p := filepath.Join(dir, e.Name())
			m[p] = snap{readFile(t, p), info.Mode(), info.ModTime().UnixNano()}
		}
		return m
	}
	before := take()
	report, stream := filepath.Join(dir, "report.json"), filepath.Join(dir, "all.jsonl")
	if _, errs, code := tcpstate(t, nil, append([]string{"-q", "-o", report, "--all-connections", stream}, inputs...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, _, code := tcpstate(t, nil, append([]string{"-q", "-o", inputs[1]}, inputs...)...); code != 2 {
		t.Fatalf("writing over an input: exit %d; want 2", code)
	}
	after := take()
	for p, b := range before {
		a := after[p]
		if !bytes.Equal(a.data, b.data) || a.mode != b.mode || a.mod != b.mod {
			t.Errorf("%s changed", p)
		}
	}
	if len(after) != len(before)+2 {
		t.Errorf("%d files after, %d before; want exactly the report and the stream added", len(after), len(before))
	}
}
