package fsm

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

var (
	t0     = reassembly.StampOf(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	cliAP  = netip.MustParseAddrPort("192.0.2.1:40000")
	srvAP  = netip.MustParseAddrPort("192.0.2.2:80")
	c2s    = reassembly.ClientToServer
	s2c    = reassembly.ServerToClient
	syn    = reassembly.SYN
	synack = reassembly.SYN | reassembly.ACK
	ack    = reassembly.ACK
	finack = reassembly.FIN | reassembly.ACK
	rstack = reassembly.RST | reassembly.ACK
	rst    = reassembly.RST
	pshack = reassembly.PSH | reassembly.ACK
)

// seg is one step of a conversation: who sent what, when (offset from t0).
type seg struct {
	at       time.Duration
	dir      reassembly.Dir
	flags    reassembly.Flags
	seq, ack uint32
	len      uint32
}

// replaySegs runs the conversation through a real Assembler and Tracker and
// returns the connections in first-seen order. end is the capture's end.
func replaySegs(t *testing.T, cfg Config, end time.Duration, segs []seg) []*Conn {
	t.Helper()
	tr := NewTracker(cfg)
	asm := reassembly.NewAssembler(tr)
	for i, s := range segs {
		src, dst := cliAP, srvAP
		if s.dir == s2c {
			src, dst = srvAP, cliAP
		}
		rs := reassembly.Segment{Frame: uint64(i + 1), Time: t0.Add(s.at), Seq: s.seq, Ack: s.ack,
			Flags: s.flags, Window: 65535, Len: s.len, WScale: reassembly.NoWScale}.WithAddrs(src, dst)
		asm.Add(&rs)
	}
	asm.Flush(t0.Add(end))
	return tr.Conns()
}

const (
	ci = 1000 // client ISN
	si = 5000 // server ISN
)

var ms = time.Millisecond

// handshake3 is a complete three-way handshake3.
var handshake3 = []seg{
	{0, c2s, syn, ci, 0, 0},
	{1 * ms, s2c, synack, si, ci + 1, 0},
	{2 * ms, c2s, ack, ci + 1, si + 1, 0},
}

// request is 10 bytes from the client and 20 from the server.
var request = []seg{
	{3 * ms, c2s, pshack, ci + 1, si + 1, 10},
	{4 * ms, s2c, pshack, si + 1, ci + 11, 20},
	{5 * ms, c2s, ack, ci + 11, si + 21, 0},
}

func join(parts ...[]seg) []seg { return slices.Concat(parts...) }

func kinds(c *Conn) []string {
	var out []string
	for _, f := range c.Findings {
		out = append(out, f.Kind.String()+"@"+f.Endpoint.String())
	}
	return out
}

func path(e *Endpoint) []State {
	out := []State{}
	for _, ch := range e.Timeline {
		out = append(out, ch.To)
	}
	return out
}

func TestConversations(t *testing.T) {
	cfg := DefaultConfig()
	cl, sv := cliAP.String(), srvAP.String()
	tests := []struct {
		name        string
		end         time.Duration
		segs        []seg
		client, srv State
		clientPath  []State
		serverPath  []State
		findings    []string
		conns       int
		wantAnomaly bool
	}{
		{
			name: "normal open, client closes first",
			end:  time.Second,
			segs: join(handshake3, request, []seg{
				{10 * ms, c2s, finack, ci + 11, si + 21, 0},
				{11 * ms, s2c, ack, si + 21, ci + 12, 0},
				{12 * ms, s2c, finack, si + 21, ci + 12, 0},
				{13 * ms, c2s, ack, ci + 12, si + 22, 0},
			}),
			client: TimeWait, srv: Closed,
			clientPath: []State{SynSent, Established, FinWait1, FinWait2, TimeWait},
			serverPath: []State{SynReceived, Established, CloseWait, LastAck, Closed},
			findings:   []string{"time-wait@" + cl},
		},
		{
			name: "FIN+ACK covering our FIN goes straight to TIME_WAIT",
			end:  time.Second,
			segs: join(handshake3, request, []seg{
				{10 * ms, c2s, finack, ci + 11, si + 21, 0},
				{11 * ms, s2c, finack, si + 21, ci + 12, 0},
				{12 * ms, c2s, ack, ci + 12, si + 22, 0},
			}),
			client: TimeWait, srv: Closed,
			clientPath: []State{SynSent, Established, FinWait1, TimeWait},
			serverPath: []State{SynReceived, Established, CloseWait, LastAck, Closed},
			findings:   []string{"time-wait@" + cl},
		},
		{
			name: "simultaneous close: FINs cross, CLOSING on both",
			end:  time.Second,
			segs: join(handshake3, []seg{
				{10 * ms, c2s, finack, ci + 1, si + 1, 0},
				{10 * ms, s2c, finack, si + 1, ci + 1, 0},
				{11 * ms, c2s, ack, ci + 2, si + 2, 0},
				{11 * ms, s2c, ack, si + 2, ci + 2, 0},
			}),
			client: TimeWait, srv: TimeWait,
			clientPath: []State{SynSent, Established, FinWait1, Closing, TimeWait},
			serverPath: []State{SynReceived, Established, FinWait1, Closing, TimeWait},
			findings:   []string{"time-wait@" + cl, "time-wait@" + sv, "simultaneous-close@" + cl},
		},
		{
			name: "simultaneous open",
			end:  time.Second,
			segs: []seg{
				{0, c2s, syn, ci, 0, 0},
				{0, s2c, syn, si, 0, 0},
				{1 * ms, c2s, synack, ci, si + 1, 0},
				{1 * ms, s2c, synack, si, ci + 1, 0},
				{2 * ms, c2s, ack, ci + 1, si + 1, 0},
			},
			client: Established, srv: Established,
			clientPath: []State{SynSent, SynReceived, Established},
			serverPath: []State{SynSent, SynReceived, Established},
		},
		{
			name: "refused: SYN answered by RST",
			end:  time.Second,
			segs: []seg{
				{0, c2s, syn, ci, 0, 0},
				{1 * ms, s2c, rstack, 0, ci + 1, 0},
			},
			client: Closed, srv: Closed,
			clientPath: []State{SynSent, Closed},
			serverPath: []State{Closed},
			findings:   []string{"refused@" + sv},
		},
		{
			name: "CLOSE_WAIT leak, never served",
			end:  10 * time.Second,
			segs: join(handshake3, []seg{
				{3 * ms, c2s, pshack, ci + 1, si + 1, 10},
				{4 * ms, s2c, ack, si + 1, ci + 11, 0},
				{5 * ms, c2s, finack, ci + 11, si + 1, 0},
				{6 * ms, s2c, ack, si + 1, ci + 12, 0},
			}),
			client: FinWait2, srv: CloseWait,
			findings: []string{"close-wait@" + sv, "fin-wait-2@" + cl},
		},
		{
			name: "legitimate half-close: the server keeps sending, then closes",
			end:  time.Second,
			segs: join(handshake3, []seg{
				{3 * ms, c2s, pshack, ci + 1, si + 1, 10},
				{4 * ms, c2s, finack, ci + 11, si + 1, 0},
				{5 * ms, s2c, ack, si + 1, ci + 12, 0},
				{100 * ms, s2c, pshack, si + 1, ci + 12, 100},
				{101 * ms, c2s, ack, ci + 12, si + 101, 0},
				{200 * ms, s2c, pshack, si + 101, ci + 12, 100},
				{201 * ms, c2s, ack, ci + 12, si + 201, 0},
				{300 * ms, s2c, finack, si + 201, ci + 12, 0},
				{301 * ms, c2s, ack, ci + 12, si + 202, 0},
			}),
			client: TimeWait, srv: Closed,
			findings: []string{"time-wait@" + cl},
		},
		{
			name: "half-close still sending at the end is not a leak",
			end:  time.Second,
			segs: join(handshake3, []seg{
				{4 * ms, c2s, finack, ci + 1, si + 1, 0},
				{5 * ms, s2c, ack, si + 1, ci + 2, 0},
				{900 * ms, s2c, pshack, si + 1, ci + 2, 100},
				{901 * ms, c2s, ack, ci + 2, si + 101, 0},
			}),
			client: FinWait2, srv: CloseWait,
		},
		{
			name: "retransmitted SYNs stay one connection: syn-timeout",
			end:  8 * time.Second,
			segs: []seg{
				{0, c2s, syn, ci, 0, 0},
				{1 * time.Second, c2s, syn, ci, 0, 0},
				{3 * time.Second, c2s, syn, ci, 0, 0},
			},
			client: SynSent, srv: Unknown,
			findings: []string{"syn-timeout@" + cl},
		},
		{
			name: "half-open: SYN-ACK retransmitted, final ACK never comes",
			end:  5 * time.Second,
			segs: []seg{
				{0, c2s, syn, ci, 0, 0},
				{1 * ms, s2c, synack, si, ci + 1, 0},
				{1 * time.Second, s2c, synack, si, ci + 1, 0},
				{3 * time.Second, s2c, synack, si, ci + 1, 0},
			},
			client: SynSent, srv: SynReceived,
			findings: []string{"syn-recv@" + sv},
		},
		{
			name: "mid-stream join: both assumed ESTABLISHED",
			end:  time.Second,
			segs: []seg{
				{0, c2s, pshack, ci + 100, si + 200, 10},
				{1 * ms, s2c, ack, si + 200, ci + 110, 0},
			},
			client: Established, srv: Established,
			findings: []string{"partial@" + sv},
		},
		{
			name: "sequence numbers wrap around 2^32",
			end:  time.Second,
			segs: []seg{
				{0, c2s, syn, 0xfffffff0, 0, 0},
				{1 * ms, s2c, synack, 0xfffffffe, 0xfffffff1, 0},
				{2 * ms, c2s, ack, 0xfffffff1, 0xffffffff, 0},
				{3 * ms, c2s, pshack, 0xfffffff1, 0xffffffff, 32},
				{4 * ms, s2c, ack, 0xffffffff, 0x11, 0},
				{5 * ms, c2s, finack, 0x11, 0xffffffff, 0},
				{6 * ms, s2c, finack, 0xffffffff, 0x12, 0},
				{7 * ms, c2s, ack, 0x12, 0, 0},
			},
			client: TimeWait, srv: Closed,
			findings: []string{"time-wait@" + cl},
		},
		{
			name: "lost final ACK: the server retransmits its FIN from LAST_ACK",
			end:  2 * time.Second,
			segs: join(handshake3, []seg{
				{10 * ms, c2s, finack, ci + 1, si + 1, 0},
				{11 * ms, s2c, ack, si + 1, ci + 2, 0},
				{12 * ms, s2c, finack, si + 1, ci + 2, 0},
				// the client's ACK is lost before the capture point
				{212 * ms, s2c, finack, si + 1, ci + 2, 0},
				{213 * ms, c2s, ack, ci + 2, si + 2, 0},
			}),
			client: TimeWait, srv: Closed,
			findings: []string{"time-wait@" + cl, "fin-retransmit@" + sv},
		},
		{
			name: "the same FIN captured twice is not a retransmission",
			end:  time.Second,
			segs: join(handshake3, []seg{
				{10 * ms, c2s, finack, ci + 1, si + 1, 0},
				{10 * ms, c2s, finack, ci + 1, si + 1, 0},
				{11 * ms, s2c, finack, si + 1, ci + 2, 0},
				{12 * ms, c2s, ack, ci + 2, si + 2, 0},
			}),
			client: TimeWait, srv: Closed,
			findings: []string{"time-wait@" + cl},
		},
		{
			name: "TIME_WAIT expires after 2×MSL on the capture clock",
			end:  90 * time.Second,
			segs: join(handshake3, []seg{
				{10 * ms, c2s, finack, ci + 1, si + 1, 0},
				{11 * ms, s2c, finack, si + 1, ci + 2, 0},
				{12 * ms, c2s, ack, ci + 2, si + 2, 0},
			}),
			client: Closed, srv: Closed,
			clientPath: []State{SynSent, Established, FinWait1, TimeWait, Closed},
			findings:   []string{"time-wait@" + cl},
		},
		{
			name: "an out-of-window RST is ignored",
			end:  time.Second,
			segs: join(handshake3, []seg{
				{10 * ms, c2s, rst, ci + 1 + 1<<30, 0, 0},
			}),
			client: Closed, srv: Established,
		},
		{
			name: "RST abort of an established connection",
			end:  time.Second,
			segs: join(handshake3, request, []seg{
				{10 * ms, c2s, rstack, ci + 11, si + 21, 0},
			}),
			client: Closed, srv: Closed,
			findings: []string{"reset@" + cl},
		},
		{
			name: "keep-alives change nothing",
			end:  5 * time.Second,
			segs: join(handshake3, []seg{
				{time.Second, c2s, ack, ci, si + 1, 0},
				{time.Second + ms, s2c, ack, si + 1, ci + 1, 0},
				{2 * time.Second, c2s, ack, ci, si + 1, 0},
				{2*time.Second + ms, s2c, ack, si + 1, ci + 1, 0},
			}),
			client: Established, srv: Established,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns := replaySegs(t, cfg, tt.end, tt.segs)
			want := tt.conns
			if want == 0 {
				want = 1
			}
			if len(conns) != want {
				t.Fatalf("got %d connections; want %d", len(conns), want)
			}
			c := conns[0]
			if c.Client.State != tt.client || c.Server.State != tt.srv {
				t.Errorf("end states client %v server %v; want %v %v\nclient %v\nserver %v",
					c.Client.State, c.Server.State, tt.client, tt.srv, path(&c.Client), path(&c.Server))
			}
			if tt.clientPath != nil && !slices.Equal(path(&c.Client), tt.clientPath) {
				t.Errorf("client path %v; want %v", path(&c.Client), tt.clientPath)
			}
			if tt.serverPath != nil && !slices.Equal(path(&c.Server), tt.serverPath) {
				t.Errorf("server path %v; want %v", path(&c.Server), tt.serverPath)
			}
			got, wantF := kinds(c), slices.Clone(tt.findings)
			slices.Sort(got)
			slices.Sort(wantF)
			if !slices.Equal(got, wantF) {
				t.Errorf("findings %v; want %v", got, wantF)
			}
			if n := len(c.Client.Anomalies) + len(c.Server.Anomalies); n > 0 && !tt.wantAnomaly {
				t.Errorf("unexpected anomalies: %+v %+v", c.Client.Anomalies, c.Server.Anomalies)
			}
		})
	}
}

func TestTrackerStepDoesNotAllocate(t *testing.T) {
	tr := NewTracker(DefaultConfig())
	asm := reassembly.NewAssembler(tr)
	frame := uint64(0)
	add := func(s seg) {
		frame++
		src, dst := cliAP, srvAP
		if s.dir == s2c {
			src, dst = srvAP, cliAP
		}
		rs := reassembly.Segment{Frame: frame, Time: t0.Add(s.at), Seq: s.seq, Ack: s.ack,
			Flags: s.flags, Window: 65535, Len: s.len, WScale: reassembly.NoWScale}.WithAddrs(src, dst)
		asm.Add(&rs)
	}
	for _, s := range join(handshake3, request) {
		add(s)
	}
	data := reassembly.Segment{Time: t0.Add(time.Second), Seq: ci + 11, Ack: si + 21,
		Flags: pshack, Window: 65535, Len: 100, WScale: reassembly.NoWScale}.WithAddrs(cliAP, srvAP)
	reply := reassembly.Segment{Time: t0.Add(time.Second), Seq: si + 21, Ack: ci + 111,
		Flags: ack, Window: 65535, WScale: reassembly.NoWScale}.WithAddrs(srvAP, cliAP)
	allocs := testing.AllocsPerRun(1000, func() {
		frame++
		data.Frame = frame
		asm.Add(&data)
		frame++
		reply.Frame = frame
		asm.Add(&reply)
		data.Seq += 100
		reply.Ack += 100
		data.Time = data.Time.Add(time.Millisecond)
		reply.Time = data.Time
	})
	if allocs != 0 {
		t.Errorf("a tracker step allocates %.1f times per segment pair; want 0", allocs)
	}
	asm.Flush(data.Time)
	if c := tr.Conns(); len(c) != 1 || c[0].Client.State != Established || c[0].Packets[0] < 1000 {
		t.Fatalf("unexpected result: %d conns", len(c))
	}
}
