package fsm

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// TestSnapshot: a live view's counts come from the connections still
// tracked, with due timers taken into account but not run.
func TestSnapshot(t *testing.T) {
	cfg := DefaultConfig()
	// Connection 1 (client port 40000): the client closes, the server ACKs and
	// never closes: client FIN_WAIT_2, server CLOSE_WAIT.
	closeWait := join(handshake3, request, []seg{
		{10 * ms, c2s, finack, ci + 11, si + 21, 0},
		{11 * ms, s2c, ack, si + 21, ci + 12, 0},
	})
	tr := NewTracker(cfg)
	asm := reassembly.NewAssembler(tr)
	add := func(cli uint16, segs []seg) {
		c := netip.AddrPortFrom(cliAP.Addr(), cli)
		for i, s := range segs {
			src, dst := c, srvAP
			if s.dir == s2c {
				src, dst = srvAP, c
			}
			rs := reassembly.Segment{Frame: uint64(i + 1), Time: t0.Add(s.at), Seq: s.seq, Ack: s.ack,
				Flags: s.flags, Window: 65535, Len: s.len, WScale: reassembly.NoWScale}.WithAddrs(src, dst)
			asm.Add(&rs)
		}
	}
	add(40000, closeWait)
	add(40001, closeWait)
	add(40002, join(handshake3, request)) // both ESTABLISHED

	tests := []struct {
		name       string
		at         time.Duration
		cliFW2     int
		cliEst     int
		srvCW      int
		cwOldestMs time.Duration
	}{
		{"soon after", time.Second, 2, 1, 2, 11 * ms},
		// FIN_WAIT_2 is presumed dropped after --fin-timeout; CLOSE_WAIT stays.
		{"after fin-timeout", 2 * time.Minute, 0, 1, 2, 11 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tr.Snapshot(asm.All(), t0.Add(tt.at).Time())
			if s.Clients[FinWait2] != tt.cliFW2 || s.Clients[Established] != tt.cliEst || s.Servers[CloseWait] != tt.srvCW {
				t.Errorf("clients FIN_WAIT_2 %d ESTABLISHED %d, servers CLOSE_WAIT %d; want %d %d %d",
					s.Clients[FinWait2], s.Clients[Established], s.Servers[CloseWait], tt.cliFW2, tt.cliEst, tt.srvCW)
			}
			top, n, total := s.CloseWaitTop()
			if top != srvAP || n != 2 || total != 2 {
				t.Errorf("CloseWaitTop() = %v, %d, %d; want %v, 2, 2", top, n, total, srvAP)
			}
			if want := t0.Add(tt.cwOldestMs); !s.CloseWaitSince.Equal(want.Time()) {
				t.Errorf("CloseWaitSince = %v; want %v", s.CloseWaitSince, want)
			}
		})
	}
	// Taking a snapshot changes nothing: the final states are the same.
	asm.Flush(t0.Add(time.Second))
	for _, c := range tr.Conns() {
		if c.Client.Addr.Port() != 40002 && (c.Client.State != FinWait2 || c.Server.State != CloseWait) {
			t.Errorf("conn %d after snapshots: client %v server %v; want FIN_WAIT_2, CLOSE_WAIT", c.ID, c.Client.State, c.Server.State)
		}
	}

	var m Snapshot
	a, b := tr.Snapshot(asm.All(), t0.Time()), Snapshot{Servers: [NumStates]int{CloseWait: 3}}
	b.CloseWait = map[netip.AddrPort]int{srvAP: 3}
	m.Merge(&a)
	m.Merge(&b)
	if _, n, total := m.CloseWaitTop(); n != 3 || total != 3 || m.Servers[CloseWait] != 3 {
		t.Errorf("merged: top %d total %d servers %d; want 3 3 3", n, total, m.Servers[CloseWait])
	}
}
