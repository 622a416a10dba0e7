//go:build pcap

package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFileFilter: in the pcap build, -F filters capture files with
// libpcap's BPF, for any link type (SLL2 too); rejected frames keep their
// numbers and are counted as skipped "filtered".
func TestFileFilter(t *testing.T) {
	tests := []struct {
		name         string
		file, filter string
		tcp          int
		filtered     uint64
		conns        int
	}{
		{"ethernet, one client port", "../../testdata/kernel/close-wait-leak.pcap", "port 40002", 9, 40, 1},
		{"linux sll2 (-i any)", "../../testdata/kernel/any-sll2.pcap", "tcp", 48, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := tcpstate(t, nil, "-f", "json", "-F", tt.filter, tt.file)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var r struct {
				Capture struct {
					TCPPackets int               `json:"tcp_packets"`
					Skipped    map[string]uint64 `json:"skipped"`
				} `json:"capture"`
				Summary struct {
					Connections int `json:"connections"`
				} `json:"summary"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Capture.TCPPackets != tt.tcp || r.Capture.Skipped["filtered"] != tt.filtered || r.Summary.Connections != tt.conns {
				t.Errorf("-F %q: %d TCP packets, %d filtered, %d connections; want %d, %d, %d", tt.filter,
					r.Capture.TCPPackets, r.Capture.Skipped["filtered"], r.Summary.Connections, tt.tcp, tt.filtered, tt.conns)
			}
		})
	}
	_, errs, code := tcpstate(t, nil, "-F", "port nope", popTrace)
	if code != 2 || errs != "tcpstate: bad filter \"port nope\": unknown port 'nope'\n" {
		t.Errorf("bad filter: exit %d, stderr %q", code, errs)
	}
	if _, errs, code := tcpstate(t, nil, "-F", "tcp", "-c", "5", popTrace); code != 2 || !strings.Contains(errs, "add -i IFACE") {
		t.Errorf("-c on a file: exit %d, stderr %q", code, errs)
	}
}
