//go:build !pcap

package main

import "testing"

// TestLiveNeedsPcapBuild: without -tags pcap, every live-capture flag
// fails with one line that says how to build with libpcap and how to pipe
// tcpdump into stdin instead.
func TestLiveNeedsPcapBuild(t *testing.T) {
	const build = "tcpstate: live capture (-i, -F, -c, -s, -p, -w, --duration) needs the pcap build: " +
		"go build -tags pcap ./cmd/tcpstate (needs libpcap-dev); or pipe tcpdump into stdin: "
	tests := []struct {
		name string
		args []string
		pipe string
	}{
		{"interface", []string{"-i", "eth0"}, "tcpdump -i eth0 -w - -U | tcpstate -r -"},
		{"interface and filter words", []string{"-i", "lo", "port", "8080"}, "tcpdump -i lo -w - -U | tcpstate -r -"},
		{"filter on a file", []string{"-F", "port 80", popTrace}, "tcpdump -i any -w - -U | tcpstate -r -"},
		{"write", []string{"-w", "x.pcap", popTrace}, "tcpdump -i any -w - -U | tcpstate -r -"},
		{"duration", []string{"--duration", "10s", popTrace}, "tcpdump -i any -w - -U | tcpstate -r -"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := tcpstate(t, nil, tt.args...)
			want := build + tt.pipe + " (see tcpstate -h)\n"
			if code != 2 || errs != want || out != "" {
				t.Errorf("tcpstate %q: exit %d, stdout %q, stderr\n%q; want 2, nothing,\n%q", tt.args, code, out, errs, want)
			}
		})
	}
}
