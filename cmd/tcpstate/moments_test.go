package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestAtOnFinWait2Capture: one second into the kernel's FIN_WAIT_2 capture
// the client (its FIN ACKed) is in FIN-WAIT-2 and the server in CLOSE-WAIT,
// as the kernel recorded them at the end of its first phase; after the
// capture's RST nothing is open. The three ways of naming a moment agree.
func TestAtOnFinWait2Capture(t *testing.T) {
	const trace = "../../testdata/kernel/fin-wait-2-expiry.pcap" // starts 14:55:13.845086
	want := "State at 2026-11-21 14:55:14.845086 UTC (+1.000 s into the capture)\n" +
		"Role    State       Local Address:Port  Peer Address:Port  For    Conn\n" +
		"client  FIN-WAIT-2  192.0.2.1:40900     192.0.2.2:8089     956ms  #3\n" +
		"server  CLOSE-WAIT  192.0.2.2:8089      192.0.2.1:40900    956ms  #3\n" +
		"By state (netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'):\n" +
		"  clients: FIN_WAIT2 1\n" +
		"  servers: CLOSE_WAIT 1\n\n"
	out, _, _ := tcpstate(t, nil, "-f", "json", "--at", "+1s", "--fail-on", "close-wait", trace)
	validateReport(t, "--at with a gate", []byte(out))
	for _, at := range []string{"+1s", "14:55:14.845086", "2026-11-21T14:55:14.845086Z", "2026-11-21T15:55:14.845086+01:00"} {
		out, errs, code := tcpstate(t, nil, "-q", "--at", at, trace)
		if code != 0 {
			t.Fatalf("--at %s: exit %d: %s", at, code, errs)
		}
		if _, tail, ok := strings.Cut(out, "State at "); !ok || "State at "+tail != want {
			t.Errorf("--at %s: got\n%s", at, "State at "+tail)
		}
	}
	out, _, _ = tcpstate(t, nil, "-f", "json", "--at", "+10s", "--timeline", "1s", trace)
	var r struct {
		Snapshots []struct {
			AfterEnd  bool              `json:"after_end"`
			Endpoints []json.RawMessage `json:"endpoints"`
		} `json:"snapshots"`
		Timeline struct {
			Step    float64 `json:"step_seconds"`
			Samples []struct {
				At      string         `json:"at"`
				Clients map[string]int `json:"clients"`
				Servers map[string]int `json:"servers"`
			} `json:"samples"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	validateReport(t, "--at/--timeline report", []byte(out))
	if len(r.Snapshots) != 1 || !r.Snapshots[0].AfterEnd || len(r.Snapshots[0].Endpoints) != 0 {
		t.Errorf("snapshot after the end: %+v", r.Snapshots)
	}
	var got []string
	for _, s := range r.Timeline.Samples {
		got = append(got, s.At[11:19]+" "+jsonCounts(s.Clients)+"|"+jsonCounts(s.Servers))
	}
	wantTL := "14:55:14 FIN_WAIT_2=1|CLOSE_WAIT=1,14:55:15 FIN_WAIT_2=1|CLOSE_WAIT=1,14:55:16 FIN_WAIT_2=1|CLOSE_WAIT=1,14:55:17 FIN_WAIT_2=1|CLOSE_WAIT=1,14:55:18 |"
	if r.Timeline.Step != 1 || strings.Join(got, ",") != wantTL {
		t.Errorf("timeline every %gs: %s", r.Timeline.Step, strings.Join(got, ","))
	}
	for _, bad := range [][]string{{"--at", "yesterday"}, {"--at", "+-5s"}, {"--timeline", "0s"}, {"--timeline", "often"}} {
		_, errs, code := tcpstate(t, nil, append(bad, trace)...)
		if code != 2 || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, bad[0]) {
			t.Errorf("%q: exit %d, stderr %q", bad, code, errs)
		}
	}
}

func jsonCounts(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+strconv.Itoa(v))
	}
	return strings.Join(parts, ",")
}
