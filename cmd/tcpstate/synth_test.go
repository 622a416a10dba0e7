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
