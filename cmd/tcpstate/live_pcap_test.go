//go:build pcap

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// needRoot skips a live-capture test when it cannot capture. CI runs as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture on lo needs root (or CAP_NET_RAW and CAP_NET_ADMIN); CI runs these tests as root")
	}
}

// leakyServer listens on 127.0.0.1 and accepts connections that it never
// reads, writes or closes: every client that closes leaves the server's
// socket in CLOSE_WAIT.
type leakyServer struct {
	ln   net.Listener
	mu   sync.Mutex
	held []net.Conn
	done chan struct{}
}

func newLeakyServer(t *testing.T) *leakyServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &leakyServer{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.held = append(s.held, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-s.done
		s.mu.Lock()
		for _, c := range s.held {
			c.Close()
		}
		s.mu.Unlock()
	})
	return s
}

func (s *leakyServer) addr() string { return s.ln.Addr().String() }
func (s *leakyServer) port() int    { return s.ln.Addr().(*net.TCPAddr).Port }

// hit opens n client connections, sends a request on each and closes it.
func (s *leakyServer) hit(t *testing.T, n int) {
	t.Helper()
	for range n {
		c, err := net.DialTimeout("tcp4", s.addr(), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		c.Close()
	}
}

// liveResult is what an in-process run of tcpstate returned.
type liveResult struct {
	out, errs string
	code      int
}

// startLive runs tcpstate in-process in the background and returns once
// the capture has had time to open.
func startLive(ctx context.Context, t *testing.T, args ...string) <-chan liveResult {
	t.Helper()
	res := make(chan liveResult, 1)
	go func() {
		var out, errb bytes.Buffer
		err := run(ctx, args, nil, &out, &errb)
		code := exitCode(err, &errb)
		res <- liveResult{out.String(), errb.String(), code}
	}()
	// libpcap opens the socket within milliseconds; give it ample time
	// before the traffic starts.
	time.Sleep(700 * time.Millisecond)
	return res
}

// waitLive waits for the run to end, failing the test after limit.
func waitLive(t *testing.T, res <-chan liveResult, limit time.Duration) liveResult {
	t.Helper()
	select {
	case r := <-res:
		return r
	case <-time.After(limit):
		t.Fatalf("the capture did not stop within %v", limit)
	}
	return liveResult{}
}

// jsonReport is the part of the JSON report the live tests compare.
type jsonReport struct {
	Capture struct {
		Packets    int `json:"packets"`
		TCPPackets int `json:"tcp_packets"`
	} `json:"capture"`
	Summary  json.RawMessage `json:"summary"`
	Findings []struct {
		Kind     string `json:"kind"`
		Endpoint string `json:"endpoint"`
	} `json:"findings"`
	Groups []struct {
		Kind     string `json:"kind"`
		Endpoint string `json:"endpoint"`
		Count    int    `json:"count"`
	} `json:"groups"`
}

func parseReport(t *testing.T, s string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, s)
	}
	return r
}

// checkLeakyRun asserts that a live JSON run over a leakyServer's traffic
// ended well, saw every packet of its clients' connections (SYN, SYN-ACK,
// ACK, request, its ACK, FIN, ACK) and each in CLOSE_WAIT; it returns
// the report.
func checkLeakyRun(t *testing.T, r liveResult, server string, clients int) jsonReport {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.errs)
	}
	live := parseReport(t, r.out)
	checkCloseWait(t, live, server, clients)
	if live.Capture.Packets != 7*clients || live.Capture.TCPPackets != 7*clients {
		t.Errorf("captured %d packets (%d TCP); want %d", live.Capture.Packets, live.Capture.TCPPackets, 7*clients)
	}
	return live
}

// checkCloseWait asserts that the report names the server and counts
// exactly n connections it left in CLOSE_WAIT.
func checkCloseWait(t *testing.T, r jsonReport, server string, n int) {
	t.Helper()
	found := 0
	for _, f := range r.Findings {
		if f.Kind == "close-wait" {
			if f.Endpoint != server {
				t.Errorf("close-wait finding names %s; want %s", f.Endpoint, server)
			}
			found++
		}
	}
	if found != n {
		t.Errorf("%d close-wait findings; want %d (one per client closed)", found, n)
	}
	groups := 0
	for _, g := range r.Groups {
		if g.Kind == "close-wait" {
			groups++
			if g.Endpoint != server || g.Count != n {
				t.Errorf("close-wait group %s count %d; want %s count %d", g.Endpoint, g.Count, server, n)
			}
		}
	}
	if groups != 1 {
		t.Errorf("%d close-wait groups; want 1", groups)
	}
}

// TestLiveDuration captures on lo with a filter on the leaking server's
// port, stops by --duration, and finds the CLOSE_WAIT leak; -w writes a
// pcap that, analysed offline, gives the same findings.
func TestLiveDuration(t *testing.T) {
	needRoot(t)
	srv := newLeakyServer(t)
	server := fmt.Sprintf("127.0.0.1:%d", srv.port())
	dir := t.TempDir()
	pcapFile := filepath.Join(dir, "live.pcap")
	const clients = 5
	start := time.Now()
	res := startLive(context.Background(), t, "-i", "lo", "--duration", "3s", "--interval", "500ms", "-f", "json",
		"-w", pcapFile, "tcp", "port", fmt.Sprint(srv.port()))
	srv.hit(t, clients)
	r := waitLive(t, res, 10*time.Second)
	if took := time.Since(start); took < 3*time.Second || took > 6*time.Second {
		t.Errorf("--duration 3s took %v", took)
	}
	live := checkLeakyRun(t, r, server, clients)
	// stderr: status lines (not a terminal), then libpcap's counts.
	lines := strings.Split(strings.TrimSuffix(r.errs, "\n"), "\n")
	last := lines[len(lines)-1]
	if want := fmt.Sprintf("tcpstate: %d packets captured, ", 7*clients); !strings.HasPrefix(last, want) || !strings.HasSuffix(last, " 0 dropped by kernel") {
		t.Errorf("last stderr line %q; want %q… 0 dropped by kernel", last, want)
	}
	sawLeak := false
	for _, l := range lines[:len(lines)-1] {
		if !strings.HasPrefix(l, "tcpstate: 0:0") {
			t.Errorf("stderr line %q is not a status line", l)
		}
		if strings.Contains(l, fmt.Sprintf("CLOSE_WAIT: %d, oldest ", clients)) && strings.Contains(l, "most on "+server) {
			sawLeak = true
		}
	}
	if !sawLeak {
		t.Errorf("the live view never showed %d in CLOSE_WAIT on %s:\n%s", clients, server, r.errs)
	}

	// The -w file, analysed offline, gives the same report.
	out, errs, code := tcpstate(t, nil, "-f", "json", pcapFile)
	if code != 0 {
		t.Fatalf("offline: exit %d, %s", code, errs)
	}
	off := parseReport(t, out)
	if !reflect.DeepEqual(off, live) {
		t.Errorf("offline analysis of -w differs from the live one:\nlive    %+v\noffline %+v", live, off)
	}
	var lf, of map[string]any
	json.Unmarshal([]byte(r.out), &lf)
	json.Unmarshal([]byte(out), &of)
	for _, k := range []string{"findings", "groups", "connections", "summary"} {
		if !reflect.DeepEqual(lf[k], of[k]) {
			t.Errorf("%s: the live report and the offline one of its -w file differ", k)
		}
	}
}

// TestLiveNFLOG captures from a netfilter log group (-i nflog:N), as on a
// Linux firewall. libpcap reads NFLOG from a netlink socket that
// gopacket's non-blocking mode makes answer EAGAIN when no packet waits,
// which libpcap reports as a read error: the capture must wait and go on.
func TestLiveNFLOG(t *testing.T) {
	needRoot(t)
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("nft (nftables) is not installed; .ci/run installs it")
	}
	srv := newLeakyServer(t)
	server := fmt.Sprintf("127.0.0.1:%d", srv.port())
	// Every packet of the server's port leaves through the output hook on
	// lo; a table of this test's own logs it to a group of its own.
	group, table := 4000+os.Getpid()%1000, fmt.Sprintf("tcpstate_test_%d", os.Getpid())
	rules := fmt.Sprintf("table inet %s {\n\tchain out {\n\t\ttype filter hook output priority 0; policy accept;\n"+
		"\t\ttcp dport %d log group %d queue-threshold 1\n\t\ttcp sport %d log group %d queue-threshold 1\n\t}\n}\n",
		table, srv.port(), group, srv.port(), group)
	cmd := exec.Command(nft, "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "Operation not permitted") {
			t.Skipf("nft may not change this machine's rules (no CAP_NET_ADMIN): %s", out)
		}
		t.Fatalf("nft: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command(nft, "delete", "table", "inet", table).Run() })

	const clients = 3
	res := startLive(context.Background(), t, "-i", fmt.Sprintf("nflog:%d", group), "--duration", "3s", "-q", "-f", "json")
	srv.hit(t, clients)
	r := waitLive(t, res, 10*time.Second)
	checkLeakyRun(t, r, server, clients)
}

// TestLiveCancel stops the capture the way Ctrl-C does (the context is
// cancelled) and still gets the full report, with text on stdout.
func TestLiveCancel(t *testing.T) {
	needRoot(t)
	srv := newLeakyServer(t)
	server := fmt.Sprintf("127.0.0.1:%d", srv.port())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := filepath.Join(t.TempDir(), "r.json")
	res := startLive(ctx, t, "-i", "lo", "-j", "1", "-q", "-o", out, "port "+fmt.Sprint(srv.port()))
	const clients = 3
	srv.hit(t, clients)
	time.Sleep(300 * time.Millisecond)
	stopped := time.Now()
	cancel()
	r := waitLive(t, res, 5*time.Second)
	if took := time.Since(stopped); took > time.Second {
		t.Errorf("stopping took %v after cancel; want well under a second", took)
	}
	if r.code != 0 || r.errs != "" || r.out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and nothing (-q, -o)", r.code, r.out, r.errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkCloseWait(t, parseReport(t, string(b)), server, clients)
}

// TestLiveErrors: one line and exit 2 for what the user can fix.
func TestLiveErrors(t *testing.T) {
	needRoot(t)
	tests := []struct {
		name string
		args []string
		want []string // substrings of the one line
	}{
		{"unknown interface", []string{"-i", "nosuch0", "--duration", "1s"}, []string{"tcpstate: no interface named nosuch0; available: ", "lo"}},
		{"bad filter", []string{"-i", "lo", "--duration", "1s", "port", "nope"}, []string{`tcpstate: bad filter "port nope": `}},
		{"-r with -i", []string{"-i", "lo", "-r", popTrace}, []string{"-r and -i do not mix"}},
		{"filter twice", []string{"-i", "lo", "-F", "tcp", "port", "80"}, []string{"give the filter once"}},
		{"duration 0", []string{"-i", "lo", "--duration", "0s"}, []string{"--duration must be positive"}},
		{"duration negative", []string{"-i", "lo", "--duration=-1s"}, []string{"--duration must be positive"}},
		{"count negative", []string{"-i", "lo", "-c", "-1"}, []string{"-c must be a positive"}},
		{"snaplen", []string{"-i", "lo", "-s", "0"}, []string{"-s must be between 1 and"}},
		{"-w stdout", []string{"-i", "lo", "-w", "-"}, []string{"-w needs a file name"}},
		{"-w is -o", []string{"-i", "lo", "-w", "x.pcap", "-o", "x.pcap"}, []string{"-w and -o name the same file"}},
		{"-w without -i", []string{"-w", "x.pcap", popTrace}, []string{"are for live capture: add -i IFACE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := tcpstate(t, nil, tt.args...)
			if code != 2 || out != "" || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line", code, out, errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr %q lacks %q", errs, w)
				}
			}
		})
	}
}

// TestLiveCount: -c stops after that many packets.
func TestLiveCount(t *testing.T) {
	needRoot(t)
	srv := newLeakyServer(t)
	res := startLive(context.Background(), t, "-i", "lo", "-c", "7", "--duration", "5s", "-q", "-f", "json", "port "+fmt.Sprint(srv.port()))
	srv.hit(t, 3)
	r := waitLive(t, res, 8*time.Second)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errs)
	}
	if got := parseReport(t, r.out).Capture.Packets; got != 7 {
		t.Errorf("-c 7 captured %d packets", got)
	}
}

// TestLiveNoPermission runs the capture as nobody: one line that says
// what is needed, exit 2.
func TestLiveNoPermission(t *testing.T) {
	needRoot(t)
	dir, err := os.MkdirTemp("", "tcpstate-perm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "tcpstate.test")
	if err := os.WriteFile(bin, readFile(t, os.Args[0]), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestMainHelper$", "--", "-i", "lo", "--duration", "1s")
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
	want := "tcpstate: capture on lo: permission denied: live capture needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities " +
		"(sudo setcap cap_net_raw,cap_net_admin=eip " + bin + ")\n"
	if code != 2 || stderr.String() != want {
		t.Fatalf("as nobody: exit %d, stderr %q; want 2, %q", code, stderr.String(), want)
	}
}
