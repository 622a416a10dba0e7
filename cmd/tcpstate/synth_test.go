package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// TestSynthExact runs tcpstate on captures from the synthetic generator
// and requires its JSON summary to equal the generator's ground truth
// exactly: connections, every finding kind, client and server end states.
func TestSynthExact(t *testing.T) {
	all := synth.Mix{}
	for _, p := range synth.Patterns() {
		all[p] = 1
	}
	type tc struct {
		name string
		cfg  synth.Config
	}
	tests := []tc{
		// Every pattern, IPv4 and IPv6, throttled by concurrency (long
		// scripts hold their slots), over twenty minutes of capture time.
		{"all patterns", synth.Config{Conns: 20000, Concurrency: 200, Seed: 1, IPv6Fraction: 0.3, Mix: all}},
		// The default mix arriving for 200 s: the capture ends with many
		// sockets in TIME_WAIT and FIN_WAIT_2, as many already expired.
		{"default mix", synth.Config{Conns: 20000, Rate: 100, Seed: 2, IPv6Fraction: 0.1}},
	}
	for _, p := range synth.Patterns() {
		tests = append(tests, tc{p.String(), synth.Config{Conns: 50, Concurrency: 200, Seed: 3, IPv6Fraction: 0.5,
			Mix: synth.Mix{p: 1}}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var capture bytes.Buffer
			truth, err := synth.Write(&capture, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), []string{"-f", "json", "-"}, bytes.NewReader(capture.Bytes()), &stdout, &stderr); err != nil {
				t.Fatalf("tcpstate: %v (stderr %q)", err, stderr.String())
			}
			var rep struct {
				Capture struct {
					Packets uint64 `json:"packets"`
				} `json:"capture"`
				Summary struct {
					Connections  int            `json:"connections"`
					Partial      int            `json:"partial"`
					Findings     map[string]int `json:"findings"`
					ClientStates map[string]int `json:"client_states"`
					ServerStates map[string]int `json:"server_states"`
				} `json:"summary"`
			}
			if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
				t.Fatalf("decode the report: %v", err)
			}
			s := rep.Summary
			if rep.Capture.Packets != uint64(truth.Packets) {
				t.Errorf("tcpstate read %d packets; the generator wrote %d", rep.Capture.Packets, truth.Packets)
			}
			if s.Connections != truth.Connections {
				t.Errorf("connections: tcpstate %d, truth %d", s.Connections, truth.Connections)
			}
			if s.Partial != 0 {
				t.Errorf("tcpstate counts %d partial connections; every script has its handshake", s.Partial)
			}
			for _, d := range diffCounts("findings", s.Findings, truth.Findings) {
				t.Error(d)
			}
			for _, d := range diffCounts("client end states", s.ClientStates, truth.ClientStates) {
				t.Error(d)
			}
			for _, d := range diffCounts("server end states", s.ServerStates, truth.ServerStates) {
				t.Error(d)
			}
			if t.Failed() {
				t.Logf("reproduce: go run ./cmd/tcpstate-gen %s -o x.pcap && go run ./cmd/tcpstate -f json x.pcap", genFlags(tt.cfg))
			}
		})
	}
}

// diffCounts lists every key whose count differs (a missing key counts 0).
func diffCounts(what string, got, want map[string]int) []string {
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		if got[k] != want[k] {
			out = append(out, fmt.Sprintf("%s[%s]: tcpstate %d, truth %d", what, k, got[k], want[k]))
		}
	}
	return out
}

// genFlags returns the tcpstate-gen flags that write the capture of cfg.
func genFlags(cfg synth.Config) string {
	conc, rate, mix := cfg.Concurrency, cfg.Rate, "default"
	if conc == 0 {
		conc = synth.DefaultConcurrency
	}
	if rate == 0 {
		rate = synth.DefaultRate
	}
	if cfg.Mix != nil {
		mix = cfg.Mix.String()
	}
	return fmt.Sprintf("-conns %d -concurrency %d -rate %g -seed %d -ipv6 %g -mix %s",
		cfg.Conns, conc, rate, cfg.Seed, cfg.IPv6Fraction, mix)
}

// TestSynthEndings checks how the generator's handshake and reuse
// situations end. A half-open handshake whose server gave up
// retransmitting its SYN-ACK (the capture went on past the retransmission
// that never came) ended by its timer, never "resolved"; those the
// capture ends before that are still open. A SYN that met a stale
// CLOSE_WAIT socket ends when the client's retry gets its SYN-ACK, well
// within a second (the retry comes at once after the client's RST).
func TestSynthEndings(t *testing.T) {
	for _, c := range []struct {
		p       synth.Pattern
		kind    string
		endings map[string]bool // allowed
		want    string          // at least one
		within  float64         // seconds
	}{
		{synth.SynRecv, "syn-recv", map[string]bool{"timer": true, "open at end of capture": true}, "timer", 300},
		{synth.ReuseCloseWait, "port-reuse", map[string]bool{"resolved": true}, "resolved", 1},
	} {
		// Among normal connections for five minutes, so that timers run out.
		var capture bytes.Buffer
		if _, err := synth.Write(&capture, synth.Config{Conns: 600, Rate: 2, Seed: 4, Mix: synth.Mix{c.p: 1, synth.Normal: 5}}); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := tcpstate(t, capture.Bytes(), "-q", "-f", "json", "--list-findings", "-1", "-")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.kind, code, stderr)
		}
		var rep struct {
			Findings []struct {
				Kind     string  `json:"kind"`
				Ending   string  `json:"ending"`
				Duration float64 `json:"duration_seconds"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, f := range rep.Findings {
			if f.Kind != c.kind {
				continue
			}
			seen[f.Ending]++
			if !c.endings[f.Ending] || f.Duration <= 0 || f.Duration > c.within {
				t.Errorf("%s: ending %q after %.3f s; want one of %v within %v s", c.kind, f.Ending, f.Duration, c.endings, c.within)
			}
		}
		if seen[c.want] == 0 {
			t.Errorf("%s: endings %v; want some %q", c.kind, seen, c.want)
		}
		t.Logf("%s: %v", c.kind, seen)
	}
}
