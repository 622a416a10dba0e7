package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/synth"
	"github.com/tcpstate/tcpstate/report"
)

// corpus lists every bundled capture that has a golden report.
func corpus(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"../../testdata/kernel/*.pcap", "../../testdata/zeek/*.pcap*", "../../testdata/zeek/*.trace"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 40 {
		t.Fatalf("only %d captures found", len(files))
	}
	return files
}

// reportJSON runs one analysis and renders it, without the peak (which
// follows the sweep schedule by definition).
func reportJSON(t *testing.T, an analysis, file string) []byte {
	t.Helper()
	rep, err := an.analyze(context.Background(), []string{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep.Capture.PeakConnections = 0
	var b bytes.Buffer
	if err := report.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	// The HTML adds what the JSON does not hold: the states over time and
	// the per-service table.
	if err := report.HTML(&b, rep, report.HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestWorkersAndSweepsDoNotChangeTheReport: the report (JSON and HTML) of
// every bundled capture is the same bytes with 1, 2 or 3 workers, and whether finished
// connections are released as soon as possible (a sweep at every packet)
// or only at the end.
func TestWorkersAndSweepsDoNotChangeTheReport(t *testing.T) {
	cfg := fsm.DefaultConfig()
	for _, file := range corpus(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			never := reportJSON(t, analysis{cfg: cfg, jobs: 1, sweepEvery: 1000 * time.Hour}, file)
			for _, an := range []analysis{
				{cfg: cfg, jobs: 1, sweepEvery: time.Nanosecond},
				{cfg: cfg, jobs: 2},
				{cfg: cfg, jobs: 3, sweepEvery: time.Nanosecond},
			} {
				if got := reportJSON(t, an, file); !bytes.Equal(got, never) {
					t.Errorf("jobs %d, sweep every %v: report differs from one worker never sweeping:\n%s",
						an.jobs, an.sweepEvery, firstDiff(string(got), string(never)))
				}
			}
			// With tight listing bounds and connections asked for (--conn).
			// With tight listing bounds, connections asked for (--conn),
			// snapshots (--at) and a timeline fine enough to be widened.
			lim := report.Limits{Connections: 2, FindingsPerKind: 1, Pin: func(c *fsm.Conn) bool { return c.ID%3 == 0 }}
			mom := func() *moments {
				half, two := 500*time.Millisecond, 2*time.Second
				return &moments{at: []atSpec{{offset: &half}, {offset: &two}}, step: 10 * time.Millisecond}
			}
			never = reportJSON(t, analysis{cfg: cfg, lim: lim, jobs: 1, sweepEvery: 1000 * time.Hour, moments: mom()}, file)
			if got := reportJSON(t, analysis{cfg: cfg, lim: lim, jobs: 3, sweepEvery: time.Nanosecond, moments: mom()}, file); !bytes.Equal(got, never) {
				t.Errorf("bounded, --conn, --at, --timeline: 3 workers sweeping differ from one never sweeping:\n%s", firstDiff(string(got), string(never)))
			}
		})
	}
}

// TestSweepsReleaseFinishedConnections: on a capture where connections come
// and go, sweeping keeps the tracked connections well below the total.
func TestSweepsReleaseFinishedConnections(t *testing.T) {
	const n = 20000
	data := synthCapture(t, n) // 160 s, 125 new connections/s, each 0.5 s long
	peak := func(every time.Duration, jobs int) (int, int) {
		an := analysis{cfg: fsm.DefaultConfig(), jobs: jobs, sweepEvery: every}
		rep, err := an.analyze(context.Background(), []string{"-"}, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return rep.Capture.PeakConnections, rep.Summary.Connections
	}
	never, total := peak(1000*time.Hour, 1)
	if never != n || total != n {
		t.Fatalf("without sweeps: peak %d of %d; want %d of %d", never, total, n, n)
	}
	for _, jobs := range []int{1, 2} {
		p, total := peak(0, jobs)
		// A connection is released 2×MSL (60 s) after its last segment, at
		// the next sweep (every 15 s): at most ~76 s × 125/s are tracked.
		if total != n || p > 76*125+64 || p < 60*125 {
			t.Errorf("jobs %d: peak %d of %d connections; want 7,500 to 9,564", jobs, p, total)
		}
	}
}

// TestLimitsKeepCountsExact: with tiny list limits, every count equals the
// unlimited report's, the lists hold the earliest connections and
// findings, and the report says how many it left out.
func TestLimitsKeepCountsExact(t *testing.T) {
	file := "../../testdata/kernel/close-wait-leak.pcap"
	cfg := fsm.DefaultConfig()
	full, err := analysis{cfg: cfg, jobs: 1, lim: report.Limits{Connections: -1, FindingsPerKind: -1}}.analyze(context.Background(), []string{file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, jobs := range []int{1, 2} {
		small, err := analysis{cfg: cfg, jobs: jobs, lim: report.Limits{Connections: 2, FindingsPerKind: 1}}.analyze(context.Background(), []string{file}, nil)
		if err != nil {
			t.Fatal(err)
		}
		js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
		if js(small.Summary) != js(full.Summary) || js(small.Groups) != js(full.Groups) {
			t.Errorf("jobs %d: summary or groups changed under limits:\n%s\n%s", jobs, js(small.Summary), js(full.Summary))
		}
		// The first 2 connections, then the notable ones (all 5 leak: notable).
		if len(full.Connections) != 5 || len(small.Connections) != 4 {
			t.Fatalf("jobs %d: %d connections listed of %d; want 2 first + 2 notable", jobs, len(small.Connections), len(full.Connections))
		}
		for i, c := range small.Connections {
			if c.ID != full.Connections[i].ID {
				t.Errorf("jobs %d: connection %d is #%d; want #%d", jobs, i, c.ID, full.Connections[i].ID)
			}
		}
		if small.Omitted.Connections != 1 || small.Omitted.ConnectionsLimit != 2 {
			t.Errorf("jobs %d: omitted %+v; want 1 connection left out of limit 2", jobs, small.Omitted)
		}
		kinds := map[string]int{}
		for _, f := range small.Findings {
			kinds[f.Kind.String()]++
		}
		for k, n := range full.Summary.Findings {
			want := min(n, 1)
			if kinds[k] != want {
				t.Errorf("jobs %d: %d %s findings listed; want %d", jobs, kinds[k], k, want)
			}
			if n > 0 && small.Omitted.Findings[k] != n-1 {
				t.Errorf("jobs %d: %d %s findings omitted; want %d", jobs, small.Omitted.Findings[k], k, n-1)
			}
		}
		if small.Findings[0].Connection != full.Findings[0].Connection {
			t.Errorf("jobs %d: first finding on #%d; want the earliest, #%d", jobs, small.Findings[0].Connection, full.Findings[0].Connection)
		}
	}
}

// TestAllConnectionsStream: --all-connections writes every connection once,
// as the report's JSON would list it, in the same order whatever the number
// of workers, and the bounded report still counts them all.
func TestAllConnectionsStream(t *testing.T) {
	data := synthCapture(t, 20000)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var first []byte
	for _, jobs := range []int{1, 2, 3} {
		out := filepath.Join(dir, "all.jsonl")
		stdout, stderr, code := tcpstate(t, nil, "-q", "-f", "json", "-j", itoa(jobs), "--list-connections", "10", "--all-connections", out, in)
		if code != 0 {
			t.Fatalf("jobs %d: exit %d: %s", jobs, code, stderr)
		}
		lines, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Summary     struct{ Connections int }
			Connections []struct{ ID uint64 }
			Omitted     struct{ Connections int }
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		ids := map[uint64]bool{}
		for i, l := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
			var c struct {
				ID          uint64 `json:"id"`
				ClientState string `json:"client_state"`
			}
			if err := json.Unmarshal(l, &c); err != nil || c.ClientState == "" {
				t.Fatalf("line %d: %v", i+1, err)
			}
			if ids[c.ID] {
				t.Fatalf("connection #%d written twice", c.ID)
			}
			ids[c.ID] = true
		}
		if len(ids) != 20000 || rep.Summary.Connections != 20000 || len(rep.Connections) > 20 || rep.Omitted.Connections < 19980 {
			t.Errorf("jobs %d: %d lines, %d connections counted, %d listed, %d omitted", jobs, len(ids), rep.Summary.Connections, len(rep.Connections), rep.Omitted.Connections)
		}
		if first == nil {
			first = lines
		} else if !bytes.Equal(lines, first) {
			t.Errorf("jobs %d: lines differ from jobs 1", jobs)
		}
	}
}

// TestPinnedConnectionsSameForAnyJobs: with --conn pinning some connections
// and a short list, every number of workers lists the same connections.
// Pinned connections are never among the first listed, so the workers'
// shared proof that a connection is not among the first (counts of opens)
// must not count them: it did, and with more than one worker pop3.pcap
// listed connection 13 where -j 1 lists 11.
func TestPinnedConnectionsSameForAnyJobs(t *testing.T) {
	for _, c := range []struct {
		file string
		pins []string
	}{
		{popTrace, []string{"3", "9"}},
		{"../../testdata/zeek/wikipedia.pcap", []string{"6", "9", "30", "45"}},
	} {
		args := []string{"-q", "-f", "json", "--list-connections", "2"}
		for _, p := range c.pins {
			args = append(args, "--conn", p)
		}
		args = append(args, c.file)
		one, stderr, code := tcpstate(t, nil, append([]string{"-j", "1"}, args...)...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.file, code, stderr)
		}
		for _, jobs := range []string{"2", "3", "4"} {
			got, _, _ := tcpstate(t, nil, append([]string{"-j", jobs}, args...)...)
			if got != one {
				t.Errorf("%s -j %s: report differs from -j 1:\n%s", filepath.Base(c.file), jobs, firstDiff(got, one))
			}
		}
	}
}

// TestAnySplitGivesTheSameReport: the report must not depend on which
// connections share a worker, not only on how many workers there are.
// The shard hash is salted to split every bundled capture, and a
// generated one with every closing pattern, several other ways, on 2 and
// 3 workers sweeping at every packet, with the default limits, with
// tight ones, with tight ones and pinned connections (--conn), and with
// snapshots and a timeline (--at, --timeline).
func TestAnySplitGivesTheSameReport(t *testing.T) {
	cfg := fsm.DefaultConfig()
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Conns: 3000, Rate: 200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	genFile := filepath.Join(t.TempDir(), "gen.pcap")
	if err := os.WriteFile(genFile, gen.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tight := report.Limits{Connections: 2, FindingsPerKind: 1}
	pinned := tight
	pinned.Pin = func(c *fsm.Conn) bool { return c.ID%3 == 0 }
	mom := func() *moments {
		half, two := 500*time.Millisecond, 2*time.Second
		return &moments{at: []atSpec{{offset: &half}, {offset: &two}}, step: 10 * time.Millisecond}
	}
	for _, file := range append(corpus(t), genFile) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			for name, base := range map[string]analysis{
				"default": {cfg: cfg},
				"tight":   {cfg: cfg, lim: tight},
				"pinned":  {cfg: cfg, lim: pinned},
				"moments": {cfg: cfg, lim: tight},
			} {
				one := base
				one.jobs, one.sweepEvery = 1, 1000*time.Hour
				if name == "moments" {
					one.moments = mom()
				}
				want := reportJSON(t, one, file)
				for _, jobs := range []int{2, 3} {
					for salt := uint64(1); salt <= 3; salt++ {
						an := base
						an.jobs, an.sweepEvery, an.shardSalt = jobs, time.Nanosecond, salt*0x9e3779b97f4a7c15
						if name == "moments" {
							an.moments = mom()
						}
						if got := reportJSON(t, an, file); !bytes.Equal(got, want) {
							t.Errorf("%s, %d workers, split %d: report differs from one worker:\n%s", name, jobs, salt, firstDiff(string(got), string(want)))
						}
					}
				}
			}
		})
	}
}

// TestAnySplitGivesTheSameOutputs is the same from the command line, for
// the outputs written as connections finish: the Zeek and CSV logs and
// --all-connections, and the text report, on a generated capture and two
// recorded ones.
func TestAnySplitGivesTheSameOutputs(t *testing.T) {
	var gen bytes.Buffer
	if _, err := synth.Write(&gen, synth.Config{Conns: 2000, Rate: 200, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	genFile := filepath.Join(dir, "gen.pcap")
	if err := os.WriteFile(genFile, gen.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() { testShardSalt = 0 }()
	for _, file := range []string{genFile, popTrace, "../../testdata/kernel/port-reuse.pcap"} {
		for _, args := range [][]string{{"-f", "zeek"}, {"-f", "csv"}, {"-f", "text", "--list-connections", "3"}, {"-f", "json", "--list-connections", "3", "--all-connections", filepath.Join(dir, "all.jsonl")}} {
			outputs := func(jobs string) string {
				out, stderr, code := tcpstate(t, nil, append(append([]string{"-q", "-j", jobs}, args...), file)...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, stderr)
				}
				all, _ := os.ReadFile(filepath.Join(dir, "all.jsonl"))
				os.Remove(filepath.Join(dir, "all.jsonl"))
				return out + "\n--all-connections:\n" + string(all)
			}
			testShardSalt = 0
			want := outputs("1")
			for salt := uint64(1); salt <= 3; salt++ {
				testShardSalt = salt * 0x9e3779b97f4a7c15
				for _, jobs := range []string{"2", "3"} {
					if got := outputs(jobs); got != want {
						t.Errorf("%s %v -j %s, split %d: differs from -j 1:\n%s", filepath.Base(file), args, jobs, salt, firstDiff(got, want))
					}
				}
			}
		}
	}
}

// TestShardOfIsSymmetricAndBalanced: both directions of a connection go to
// the same worker, and the connections of traffic shaped as it is in
// practice spread evenly: one client to one server on Linux's even
// ephemeral ports, many clients to one service, IPv6 neighbours, and
// connections that differ only in which side's port is which.
func TestShardOfIsSymmetricAndBalanced(t *testing.T) {
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	v6 := func(i int) netip.Addr {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i), 14: byte(i >> 8)})
	}
	server := netip.MustParseAddr("192.0.2.80")
	mixes := map[string]func(i int) (netip.AddrPort, netip.AddrPort){
		"one client, even ports": func(i int) (netip.AddrPort, netip.AddrPort) {
			return netip.AddrPortFrom(v4(1), uint16(32768+2*(i%14000))), netip.AddrPortFrom(server, 443)
		},
		"many clients, one service": func(i int) (netip.AddrPort, netip.AddrPort) {
			return netip.AddrPortFrom(v4(i), 40000), netip.AddrPortFrom(server, 80)
		},
		"IPv6 neighbours": func(i int) (netip.AddrPort, netip.AddrPort) {
			return netip.AddrPortFrom(v6(i), uint16(50000+i%7)), netip.AddrPortFrom(v6(0), 22)
		},
		"ports swapped": func(i int) (netip.AddrPort, netip.AddrPort) {
			p, q := uint16(1024+i/2), uint16(2048+i/2)
			if i%2 == 1 {
				p, q = q, p
			}
			return netip.AddrPortFrom(v4(7), p), netip.AddrPortFrom(v4(8), q)
		},
	}
	const conns = 20000
	for name, tuple := range mixes {
		for _, n := range []int{2, 3, 4, 8} {
			for _, salt := range []uint64{0, 1, 0x9e3779b97f4a7c15} {
				counts := make([]int, n)
				for i := range conns {
					a, b := tuple(i)
					fwd := reassembly.Segment{}.WithAddrs(a, b)
					rev := reassembly.Segment{}.WithAddrs(b, a)
					w := shardOf(&fwd, n, salt)
					if w < 0 || w >= n {
						t.Fatalf("%s: worker %d of %d", name, w, n)
					}
					if r := shardOf(&rev, n, salt); r != w {
						t.Fatalf("%s: %v→%v goes to worker %d, the reply to %d", name, a, b, w, r)
					}
					counts[w]++
				}
				for w, c := range counts {
					if share := float64(c) * float64(n) / conns; share < 0.9 || share > 1.1 {
						t.Errorf("%s, %d workers, salt %#x: worker %d has %d of %d connections (%v)", name, n, salt, w, c, conns, counts)
					}
				}
			}
		}
	}
}
