package fsm

import (
	"net/netip"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Hand-made endpoints: a client on an ephemeral port and a server on port 80.
var (
	zcli = netip.MustParseAddrPort("10.0.0.1:40000")
	zsrv = netip.MustParseAddrPort("10.0.0.2:80")
	// zhi and zlo are two endpoints whose ports are not likely server ports.
	zhi = netip.MustParseAddrPort("10.0.0.3:50000")
	zlo = netip.MustParseAddrPort("10.0.0.4:45000")
)

// Initial sequence numbers of the hand-made connections.
const (
	zcISN = 1000
	zsISN = 5000
	zWin  = 1024
)

const (
	zS   = reassembly.SYN
	zSA  = reassembly.SYN | reassembly.ACK
	zA   = reassembly.ACK
	zPA  = reassembly.PSH | reassembly.ACK
	zFA  = reassembly.FIN | reassembly.ACK
	zR   = reassembly.RST
	zRA  = reassembly.RST | reassembly.ACK
	zSF  = reassembly.SYN | reassembly.FIN
	zFRA = reassembly.FIN | reassembly.RST | reassembly.ACK
)

// zseg builds a segment; window defaults to zWin.
func zseg(src, dst netip.AddrPort, f reassembly.Flags, seq, ack, n uint32) reassembly.Segment {
	return reassembly.Segment{Flags: f, Seq: seq, Ack: ack, Len: n, Window: zWin, WScale: reassembly.NoWScale}.WithAddrs(src, dst)
}

// Building blocks for the client (c) / server (s) conversation.
func cSYN() reassembly.Segment { return zseg(zcli, zsrv, zS, zcISN, 0, 0) }
func sSYNACK() reassembly.Segment {
	return zseg(zsrv, zcli, zSA, zsISN, zcISN+1, 0)
}
func cACK(cs, sa uint32) reassembly.Segment     { return zseg(zcli, zsrv, zA, cs, sa, 0) }
func sACK(ss, ca uint32) reassembly.Segment     { return zseg(zsrv, zcli, zA, ss, ca, 0) }
func cData(cs, sa, n uint32) reassembly.Segment { return zseg(zcli, zsrv, zPA, cs, sa, n) }
func sData(ss, ca, n uint32) reassembly.Segment { return zseg(zsrv, zcli, zPA, ss, ca, n) }
func cFIN(cs, sa uint32) reassembly.Segment     { return zseg(zcli, zsrv, zFA, cs, sa, 0) }
func sFIN(ss, ca uint32) reassembly.Segment     { return zseg(zsrv, zcli, zFA, ss, ca, 0) }

// handshake returns SYN, SYN-ACK, ACK.
func handshake() []reassembly.Segment {
	return []reassembly.Segment{cSYN(), sSYNACK(), cACK(zcISN+1, zsISN+1)}
}

func seq(parts ...[]reassembly.Segment) []reassembly.Segment {
	var out []reassembly.Segment
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func one(s ...reassembly.Segment) []reassembly.Segment { return s }

func runZeek(segs []reassembly.Segment) ZeekResult {
	var z ZeekConn
	for i := range segs {
		z.Add(&segs[i])
	}
	return z.Result()
}

func TestZeekConnStates(t *testing.T) {
	c1, s1 := uint32(zcISN+1), uint32(zsISN+1)
	tests := []struct {
		name    string
		segs    []reassembly.Segment
		state   string
		history string
		orig    netip.AddrPort
	}{
		{"S0 lone SYN", one(cSYN()), "S0", "S", zcli},
		{"S0 retransmitted SYN is invisible", one(cSYN(), cSYN()), "S0", "S", zcli},
		// A SYN with a new ISN re-initialises the sequence space, so its relative
		// sequence number is 0 again and it is not recorded a second time.
		{"S0 SYN with new ISN restarts the sequence space", one(cSYN(), zseg(zcli, zsrv, zS, zcISN+7, 0, 0)), "S0", "S", zcli},
		{"S1 handshake only", handshake(), "S1", "ShA", zcli},
		{"S1 without final ACK", one(cSYN(), sSYNACK()), "S1", "Sh", zcli},
		{"SF normal close", seq(handshake(), one(cData(c1, s1, 10), sACK(s1, c1+10), sData(s1, c1+10, 20),
			cACK(c1+10, s1+20), cFIN(c1+10, s1+20), sFIN(s1+20, c1+11), cACK(c1+11, s1+21))),
			"SF", "ShADadFf", zcli},
		{"REJ", one(cSYN(), zseg(zsrv, zcli, zRA, 0, zcISN+1, 0)), "REJ", "Sr", zcli},
		{"S2 originator FIN only", seq(handshake(), one(cFIN(c1, s1), sACK(s1, c1+1))), "S2", "ShAFa", zcli},
		{"S3 responder FIN only", seq(handshake(), one(sFIN(s1, c1), cACK(c1, s1+1))), "S3", "ShAf", zcli},
		{"RSTO", seq(handshake(), one(cData(c1, s1, 5), zseg(zcli, zsrv, zRA, c1+5, s1, 0))), "RSTO", "ShADR", zcli},
		{"RSTR", seq(handshake(), one(cData(c1, s1, 5), zseg(zsrv, zcli, zRA, s1, c1+5, 0))), "RSTR", "ShADr", zcli},
		{"RSTOS0", one(cSYN(), zseg(zcli, zsrv, zR, zcISN+1, 0, 0)), "RSTOS0", "SR", zcli},
		// The capture starts at the SYN-ACK; port 80 is a likely server port, so
		// Zeek flips at once and the responder's RST gives RSTRH.
		{"RSTRH", one(sSYNACK(), zseg(zsrv, zcli, zR, zsISN+1, 0, 0)), "RSTRH", "^hr", zcli},
		{"SH SYN then FIN", one(cSYN(), cFIN(c1, 0)), "SH", "SF", zcli},
		{"SHR SYN-ACK then FIN", one(sSYNACK(), sFIN(s1, c1)), "SHR", "^hf", zcli},
		{"OTH mid-stream", one(cData(c1, s1, 10), sData(s1, c1+10, 10), cACK(c1+10, s1+10)), "OTH", "DdA", zcli},
		{"OTH lone RST", one(zseg(zcli, zsrv, zR, c1, 0, 0)), "OTH", "R", zcli},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runZeek(tc.segs)
			if r.State != tc.state || r.History != tc.history || r.Orig != tc.orig {
				t.Errorf("got %s %q orig %s, want %s %q orig %s", r.State, r.History, r.Orig, tc.state, tc.history, tc.orig)
			}
		})
	}
}

func TestZeekHistoryRules(t *testing.T) {
	c1, s1 := uint32(zcISN+1), uint32(zsISN+1)
	// n data segments from the client, each retransmitted once.
	rexmit := func(n int) []reassembly.Segment {
		out := handshake()
		for i := 0; i < n; i++ {
			d := cData(c1+uint32(i)*10, s1, 10)
			out = append(out, d, d)
		}
		return out
	}
	zeroWin := func(n int) []reassembly.Segment {
		out := handshake()
		for i := 0; i < n; i++ {
			a := sACK(s1, c1)
			a.Window = 0
			out = append(out, a)
		}
		return out
	}
	// n holes in the client's data, each revealed by the server's ACK.
	gaps := func(n int) []reassembly.Segment {
		out := handshake()
		for i := 0; i < n; i++ {
			base := c1 + uint32(i)*20
			out = append(out, cData(base+10, s1, 10), sACK(s1, base+20))
		}
		return out
	}
	tests := []struct {
		name    string
		segs    []reassembly.Segment
		history string
	}{
		{"a and d once per direction", seq(handshake(), one(cData(c1, s1, 5), cData(c1+5, s1, 5), sACK(s1, c1+10),
			sACK(s1, c1+10), sData(s1, c1+10, 3), sData(s1+3, c1+10, 3))), "ShADad"},
		{"FIN repeated only with a new sequence number", seq(handshake(), one(cFIN(c1, s1), cFIN(c1, s1),
			zseg(zcli, zsrv, zFA, c1+1, s1, 0))), "ShAFF"},
		{"RST repeated only with a new sequence number", seq(handshake(), one(zseg(zsrv, zcli, zR, s1, 0, 0),
			zseg(zsrv, zcli, zR, s1, 0, 0), zseg(zsrv, zcli, zR, s1+9, 0, 0))), "ShArr"},
		{"retransmission t: 1", rexmit(1), "ShADT"},
		{"retransmission t: 9 stays single", rexmit(9), "ShADT"},
		{"retransmission t: 10 doubles", rexmit(10), "ShADTT"},
		{"retransmission t: 100 triples", rexmit(100), "ShADTTT"},
		{"zero window w: 1", zeroWin(1), "ShAaw"},
		{"zero window w: 10", zeroWin(10), "ShAaww"},
		{"content gap g: 1", gaps(1), "ShADaG"},
		{"content gap g: 10", gaps(10), "ShADaGG"},
		{"FIN+RST is i", seq(handshake(), one(zseg(zcli, zsrv, zFRA, c1, s1, 0))), "ShAI"},
		{"SYN+FIN is q", one(zseg(zcli, zsrv, zSF, zcISN, 0, 0)), "Q"},
		{"zero window with RST is ignored", seq(handshake(), one(func() reassembly.Segment {
			r := zseg(zsrv, zcli, zRA, s1, c1, 0)
			r.Window = 0
			return r
		}())), "ShAr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := runZeek(tc.segs).History; got != tc.history {
				t.Errorf("history %q, want %q", got, tc.history)
			}
		})
	}
}

func TestZeekFlip(t *testing.T) {
	c1, s1 := uint32(zcISN+1), uint32(zsISN+1)
	tests := []struct {
		name       string
		segs       []reassembly.Segment
		orig, resp netip.AddrPort
		state      string
		history    string
	}{
		// Port 80 is a likely server port: Zeek flips on the first packet.
		{"SYN-ACK first from a server port", one(sSYNACK(), cACK(c1, s1), cData(c1, s1, 4)),
			zcli, zsrv, "S1", "^hAD"},
		{"lone SYN-ACK from a server port", one(sSYNACK()), zcli, zsrv, "OTH", "^h"},
		// Neither port is a likely server port: the SYN-ACK sender is first taken as
		// originator, then the ACK that follows flips it (zeek/zeek#2191).
		{"SYN-ACK first, flipped by the following ACK",
			one(zseg(zhi, zlo, zSA, zsISN, zcISN+1, 0), zseg(zlo, zhi, zA, c1, s1, 0)),
			zlo, zhi, "S1", "^hA"},
		{"lone SYN-ACK from an unknown port stays unflipped",
			one(zseg(zhi, zlo, zSA, zsISN, zcISN+1, 0)), zhi, zlo, "OTH", "H"},
		// Mid-stream data from the server port: flipped at once.
		{"mid-stream from a server port", one(sData(s1, c1, 10), cACK(c1, s1+10)), zcli, zsrv, "OTH", "^dA"},
		{"pure SYN is never flipped", one(zseg(zsrv, zcli, zS, zsISN, 0, 0)), zsrv, zcli, "S0", "S"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runZeek(tc.segs)
			if r.Orig != tc.orig || r.Resp != tc.resp || r.State != tc.state || r.History != tc.history {
				t.Errorf("got %s→%s %s %q, want %s→%s %s %q", r.Orig, r.Resp, r.State, r.History,
					tc.orig, tc.resp, tc.state, tc.history)
			}
		})
	}
}

func TestZeekTruncatedPayloadGap(t *testing.T) {
	c1, s1 := uint32(zcISN+1), uint32(zsISN+1)
	segs := seq(handshake(), one(cData(c1, s1, 100), sACK(s1, c1+100)))
	var z ZeekConn
	for i := range segs {
		captured := segs[i].Len
		if i == 3 {
			captured = 0 // headers-only capture
		}
		z.AddCaptured(&segs[i], captured)
	}
	if got := z.Result().History; got != "ShADaG" {
		t.Errorf("history %q, want %q", got, "ShADaG")
	}
	if got := runZeek(segs).History; got != "ShADa" {
		t.Errorf("fully captured: history %q, want %q", got, "ShADa")
	}
}

func TestZeekZeroValueAndNil(t *testing.T) {
	var z ZeekConn
	if r := z.Result(); r != (ZeekResult{}) {
		t.Errorf("zero value result %+v", r)
	}
	z.Add(nil)
	if r := z.Result(); r.State != "" {
		t.Errorf("nil segment changed the result: %+v", r)
	}
	// A segment from an unrelated 4-tuple is ignored.
	s := cSYN()
	z.Add(&s)
	other := zseg(zhi, zlo, zA, 1, 1, 0)
	z.Add(&other)
	if r := z.Result(); r.State != "S0" || r.History != "S" {
		t.Errorf("got %+v", r)
	}
}

func TestZeekAddDoesNotAllocate(t *testing.T) {
	c1, s1 := uint32(zcISN+1), uint32(zsISN+1)
	var z ZeekConn
	for _, s := range handshake() {
		z.Add(&s)
	}
	d := cData(c1, s1, 10)
	a := sACK(s1, c1)
	allocs := testing.AllocsPerRun(1000, func() {
		d.Seq += 10
		z.Add(&d)
		a.Ack = d.Seq + 10
		z.Add(&a)
	})
	if allocs != 0 {
		t.Errorf("Add allocates %.1f times per call pair", allocs)
	}
}

func TestZeekHistoryBounded(t *testing.T) {
	var z ZeekConn
	for i := 0; i < 10*maxHistoryLen; i++ {
		r := zseg(zcli, zsrv, zR, uint32(i*7), 0, 0)
		z.Add(&r)
	}
	if n := len(z.Result().History); n > maxHistoryLen {
		t.Errorf("history grew to %d bytes", n)
	}
}
