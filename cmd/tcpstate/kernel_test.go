package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tcpstate/tcpstate/fsm"
)

// kernelReport is the part of the JSON report the ground-truth test reads.
type kernelReport struct {
	Connections []struct {
		Client string `json:"client"`
		Server string `json:"server"`
		CS     string `json:"client_state"`
		SS     string `json:"server_state"`
	} `json:"connections"`
	Findings []struct {
		Kind       string `json:"kind"`
		Endpoint   string `json:"endpoint"`
		Connection uint64 `json:"connection"`
	} `json:"findings"`
}

// ssSocket is one line of `ss -tanH`, prefixed by the namespace's role.
type ssSocket struct {
	ns, state, local, peer string
}

func readSS(t *testing.T, path string) []ssSocket {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []ssSocket
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 6 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		out = append(out, ssSocket{ns: f[0], state: f[1], local: f[4], peer: f[5]})
	}
	return out
}

// readExpect returns the expected findings: "kind endpoint" → connections,
// and the endpoints the kernel has no socket for ("nosocket ENDPOINT").
func readExpect(t *testing.T, path string) (map[string]int, map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, nosock := map[string]int{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || strings.HasPrefix(fs[0], "#") {
			continue
		}
		if fs[0] == "nosocket" && len(fs) >= 2 {
			nosock[fs[1]] = true
			continue
		}
		n, err := strconv.Atoi(fs[len(fs)-1])
		if len(fs) != 3 || err != nil {
			t.Fatalf("%s: bad line %q (want KIND ENDPOINT COUNT)", path, sc.Text())
		}
		want[fs[0]+" "+fs[1]] += n
	}
	return want, nosock
}

// TestKernelGroundTruth checks every capture recorded from the Linux kernel
// (testdata/gen/record.sh) against the kernel's own `ss -tan` taken when the
// capture stopped: for every socket ss listed, tcpstate's end state of that
// endpoint is the kernel's; every endpoint tcpstate says still holds a socket
// is in ss; and the findings are exactly the expected ones.
func TestKernelGroundTruth(t *testing.T) {
	caps, _ := filepath.Glob("../../testdata/kernel/*.pcap")
	if len(caps) == 0 {
		t.Fatal("no kernel captures in testdata/kernel")
	}
	for _, c := range caps {
		name := strings.TrimSuffix(filepath.Base(c), ".pcap")
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run(context.Background(), []string{"-q", "-f", "json", c}, nil, &out, &errb); err != nil {
				t.Fatal(err)
			}
			var rep kernelReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			// The latest incarnation of each four-tuple, by endpoint pair.
			latest := map[[2]string]string{} // {local, peer} → our state of local
			for _, cn := range rep.Connections {
				latest[[2]string{cn.Client, cn.Server}] = cn.CS
				latest[[2]string{cn.Server, cn.Client}] = cn.SS
			}
			base := strings.TrimSuffix(c, ".pcap")
			listed := map[string]bool{}
			for _, s := range readSS(t, base+".ss") {
				if s.state == "LISTEN" {
					continue
				}
				listed[s.local+" "+s.peer] = true
				want, ok := fsm.ParseState(s.state)
				if !ok {
					t.Errorf("ss state %q unknown", s.state)
					continue
				}
				got, ok := latest[[2]string{s.local, s.peer}]
				if !ok {
					t.Errorf("ss (%s) lists %s %s -> %s; tcpstate has no such connection", s.ns, s.state, s.local, s.peer)
					continue
				}
				if got != want.String() {
					t.Errorf("%s %s -> %s: kernel says %s, tcpstate says %s", s.ns, s.local, s.peer, want, got)
				}
			}
			wantF, nosock := readExpect(t, base+".expect")
			for k, st := range latest {
				s, _ := fsm.ParseState(st)
				if s.Open() && !listed[k[0]+" "+k[1]] && !nosock[k[0]] {
					t.Errorf("tcpstate says %s (to %s) is still %s; ss lists no such socket", k[0], k[1], st)
				}
			}
			gotF := map[string]map[uint64]bool{}
			for _, f := range rep.Findings {
				k := f.Kind + " " + f.Endpoint
				if gotF[k] == nil {
					gotF[k] = map[uint64]bool{}
				}
				gotF[k][f.Connection] = true
			}
			var diffs []string
			for k, n := range wantF {
				if len(gotF[k]) != n {
					diffs = append(diffs, fmt.Sprintf("%s: want %d connections, got %d", k, n, len(gotF[k])))
				}
			}
			for k, conns := range gotF {
				if _, ok := wantF[k]; !ok {
					diffs = append(diffs, fmt.Sprintf("%s: %d connections, not expected", k, len(conns)))
				}
			}
			slices.Sort(diffs)
			for _, d := range diffs {
				t.Errorf("finding %s", d)
			}
		})
	}
}
