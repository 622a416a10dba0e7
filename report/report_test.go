package report

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

func TestDur(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{-time.Second, "0s"},
		{12345 * time.Nanosecond, "12µs"},
		{320*time.Millisecond + 400*time.Microsecond, "320ms"},
		{1523 * time.Millisecond, "1.52s"},
		{4*time.Minute + 12*time.Second + 300*time.Millisecond, "4m12s"},
	}
	for _, tt := range tests {
		if got := Dur(tt.in); got != tt.want {
			t.Errorf("Dur(%v) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	got := wrap("one two three four five", 9)
	want := []string{"one two", "three", "four five"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrap = %q; want %q", got, want)
	}
	got = wrapFirst("alpha beta gamma delta", 5, 11)
	want = []string{"alpha", "beta gamma", "delta"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrapFirst = %q; want %q", got, want)
	}
}

var (
	t0  = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	srv = netip.MustParseAddrPort("192.0.2.2:8080")
)

// leak builds a replayed connection whose server leaked CLOSE_WAIT.
func leak(id uint64, port uint16, age time.Duration) *fsm.Conn {
	cl := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), port)
	c := &fsm.Conn{ID: id, First: t0, Last: t0.Add(age), FirstFrame: id * 10, LastFrame: id*10 + 5}
	c.Client = fsm.Endpoint{Addr: cl, State: fsm.FinWait2}
	c.Server = fsm.Endpoint{Addr: srv, State: fsm.CloseWait}
	c.Findings = []fsm.Finding{
		{Kind: fsm.KindCloseWait, Severity: fsm.Error, Endpoint: srv, Role: fsm.Server, Peer: cl, Since: reassembly.StampOf(t0),
			Duration: age, Frames: []uint64{id*10 + 4, id*10 + 5}, NeverServed: id == 2},
		{Kind: fsm.KindFinWait2, Severity: fsm.Warning, Endpoint: cl, Role: fsm.Client, Peer: srv, Since: reassembly.StampOf(t0),
			Duration: age, Frames: []uint64{id*10 + 5}},
	}
	return c
}

func TestBuildGroupsWorstFirstAndCountsExactly(t *testing.T) {
	conns := []*fsm.Conn{leak(1, 40000, time.Minute), leak(2, 40001, 2*time.Minute), leak(3, 40002, time.Second)}
	r := Build("tcpstate test", reassembly.Stats{Files: []string{"x.pcap"}, Packets: 30, TCPPackets: 30, First: t0, Last: t0.Add(2 * time.Minute)},
		conns, fsm.DefaultConfig())
	if r.Summary.Findings["close-wait"] != 3 || r.Summary.Findings["fin-wait-2"] != 3 || r.Summary.Findings["refused"] != 0 {
		t.Errorf("summary findings %v", r.Summary.Findings)
	}
	if len(r.Summary.Findings) != fsm.NumKinds {
		t.Errorf("summary lists %d kinds; want all %d", len(r.Summary.Findings), fsm.NumKinds)
	}
	if r.Summary.ServerStates["CLOSE_WAIT"] != 3 || r.Summary.ClientStates["FIN_WAIT_2"] != 3 {
		t.Errorf("end states %v %v", r.Summary.ClientStates, r.Summary.ServerStates)
	}
	if len(r.Groups) != 2 {
		t.Fatalf("%d groups; want 2 (the server's close-wait, the client IP's fin-wait-2)", len(r.Groups))
	}
	g := r.Groups[0]
	if g.Kind != fsm.KindCloseWait || g.Endpoint != "192.0.2.2:8080" || g.Count != 3 || g.LongestSeconds != 120 {
		t.Errorf("first group %+v", g)
	}
	if !strings.Contains(g.Headline, "left 3 connections in CLOSE_WAIT, oldest 2m0s; 1 never served") {
		t.Errorf("headline %q", g.Headline)
	}
	if r.Groups[1].Endpoint != "192.0.2.1" || r.Groups[1].Count != 3 {
		t.Errorf("client group %+v; want the client's IP, 3 connections", r.Groups[1])
	}
}

func TestRenderersAreDeterministic(t *testing.T) {
	build := func() *Report {
		conns := []*fsm.Conn{leak(1, 40000, time.Minute), leak(2, 40001, 2*time.Minute)}
		return Build("tcpstate test", reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0}, conns, fsm.DefaultConfig())
	}
	var a, b bytes.Buffer
	if err := JSON(&a, build()); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b.Reset()
		if err := JSON(&b, build()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("JSON output differs between runs")
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(a.Bytes(), &doc); err != nil || doc["format_version"] != float64(1) {
		t.Fatalf("format_version %v, err %v", doc["format_version"], err)
	}
	var txt bytes.Buffer
	if err := Text(&txt, build(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(txt.String(), "\x1b[") {
		t.Error("colour escape codes without Color")
	}
	txt.Reset()
	Text(&txt, build(), TextOptions{Color: true})
	if !strings.Contains(txt.String(), "\x1b[31;1mERROR") {
		t.Error("no colour with Color")
	}
}

// failWriter fails every write, as a full disk or closed pipe would.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errTest }

var errTest = &json.UnsupportedValueError{Str: "test"}

func TestRenderersReturnWriteErrors(t *testing.T) {
	r := Build("t", reassembly.Stats{}, []*fsm.Conn{leak(1, 40000, time.Minute)}, fsm.DefaultConfig())
	if err := Text(failWriter{}, r, TextOptions{}); err == nil {
		t.Error("Text dropped the write error")
	}
	if err := JSON(failWriter{}, r); err == nil {
		t.Error("JSON dropped the write error")
	}
}
