package fsm

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"
)

// fuzzSegments turns fuzz input into segments between two hosts on up to
// four four-tuples, 6 bytes per segment: byte 0 picks the direction (bit 7),
// the client port (bits 5-6) and the flags (bits 0-4: FIN SYN RST PSH ACK);
// byte 1 moves the sender's sequence number (small steps forward, or a jump
// of about 2^31 when its top bit is set, to cross the wrap); byte 2 the ACK;
// byte 3 is the payload length; byte 4 the time step (in 10 ms, 255 = 100 s,
// so timers such as TIME-WAIT and FIN-WAIT-2 expire); byte 5 the window.
func fuzzSegments(data []byte) []reassembly.Segment {
	cli, srv := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.80")
	var (
		segs []reassembly.Segment
		seq  [4][2]uint32
		now  = reassembly.StampOf(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	)
	for i := range seq {
		seq[i] = [2]uint32{uint32(i) * 1000003, 0xfffff000 + uint32(i)} // one side starts near the wrap
	}
	for i := 0; i+6 <= len(data) && len(segs) < 4096; i += 6 {
		b := data[i : i+6]
		d, tuple := int(b[0]>>7), int(b[0]>>5&3)
		c := netip.AddrPortFrom(cli, uint16(40000+tuple))
		s := netip.AddrPortFrom(srv, 80)
		src, dst := c, s
		if d == 1 {
			src, dst = s, c
		}
		var f reassembly.Flags
		for bit, fl := range []reassembly.Flags{reassembly.FIN, reassembly.SYN, reassembly.RST, reassembly.PSH, reassembly.ACK} {
			if b[0]&(1<<bit) != 0 {
				f |= fl
			}
		}
		step := uint32(b[1] & 0x7f)
		if b[1]&0x80 != 0 {
			step = 1<<31 + step
		}
		seq[tuple][d] += step
		ack := seq[tuple][1-d] + uint32(b[2]&0x0f) - 4
		if b[4] == 255 {
			now = now.Add(100 * time.Second)
		} else {
			now = now.Add(time.Duration(b[4]) * 10 * time.Millisecond)
		}
		seg := reassembly.Segment{
			Frame: uint64(len(segs) + 1), Time: now,
			Seq: seq[tuple][d], Ack: ack, Flags: f, Window: uint16(b[5]) << 8,
			Len: uint32(b[3]), Captured: uint32(b[3]), WScale: reassembly.NoWScale,
		}.WithAddrs(src, dst)
		if f&reassembly.SYN != 0 {
			seg.MSS = 1460
		}
		segs = append(segs, seg)
		seq[tuple][d] = seg.SeqEnd()
	}
	return segs
}

// FuzzTracker replays arbitrary segment sequences (with sweeps at every
// segment) and checks what must hold for any capture: every recorded state
// change is an edge of the transition table and follows the previous one,
// each endpoint's final state is its last change, the bounds on timelines
// and ladders hold, every packet is counted once, and every finding names an
// endpoint of its connection and frames of the capture.
func FuzzTracker(f *testing.F) {
	// A handshake, data, both FINs and the last ACK; a refused SYN; FINs crossing.
	f.Add([]byte{0x02, 0, 0, 0, 1, 64, 0x92, 0, 5, 0, 1, 64, 0x10, 0, 5, 0, 1, 64,
		0x18, 0, 5, 100, 1, 64, 0x91, 0, 5, 0, 1, 64, 0x11, 0, 6, 0, 1, 64, 0x90, 0, 6, 0, 255, 64})
	f.Add([]byte{0x22, 0, 0, 0, 1, 64, 0x94 | 0x20, 0, 5, 0, 1, 0})
	f.Add([]byte{0x42, 0, 0, 0, 1, 64, 0xD2, 0, 5, 0, 1, 64, 0x50, 0, 5, 0, 1, 64, 0x51, 0, 5, 0, 0, 64, 0xD1, 0, 5, 0, 0, 64, 0x50, 0, 6, 0, 1, 64, 0xD0, 0, 6, 0, 1, 64})
	// A transfer that outgrows the records of Zeek's deferred emulation,
	// with zero windows both ways, then both FINs.
	long := []byte{0x02, 0, 0, 0, 1, 64, 0x92, 0, 5, 0, 1, 64, 0x10, 0, 5, 0, 1, 64}
	for i := range 2 * zeekRecs {
		long = append(long, 0x18, 10, 5, 10, 1, byte(i%3)*64, 0x90, 0, 15, 0, 1, byte(i%2)*64)
	}
	f.Add(append(long, 0x11, 10, 5, 0, 1, 64, 0x91, 0, 6, 0, 1, 0, 0x10, 1, 6, 0, 1, 64))
	f.Fuzz(func(t *testing.T, data []byte) {
		segs := fuzzSegments(data)
		if len(segs) == 0 {
			return
		}
		conns := fuzzReplay(segs)
		plainPath = false // the shortcut for plain ACKs must change nothing
		slow := fuzzReplay(segs)
		plainPath = true
		if !reflect.DeepEqual(conns, slow) {
			t.Fatalf("the shortcut for plain ACKs changed the replay:\nwith    %+v\nwithout %+v", conns, slow)
		}
		deferZeek = false // nor Zeek's emulation deferred (replayDetail)
		eager := fuzzReplay(segs)
		deferZeek = true
		if !reflect.DeepEqual(conns, eager) {
			t.Fatalf("deferring Zeek's emulation changed the replay:\ndeferred %+v\neager    %+v", conns, eager)
		}
		var packets uint64
		for _, c := range conns {
			packets += c.Packets[0] + c.Packets[1]
			checkConn(t, c, uint64(len(segs)))
		}
		if packets != uint64(len(segs)) {
			t.Fatalf("connections count %d packets; %d were fed", packets, len(segs))
		}
	})
}

// fuzzReplay replays segs, sweeping at every segment, and returns the
// connections, copied, in close order.
func fuzzReplay(segs []reassembly.Segment) []*Conn {
	cfg := DefaultConfig()
	tr := NewTracker(cfg)
	var conns []*Conn
	tr.OnDone = func(c *Conn) { conns = append(conns, c.Clone()) }
	a := reassembly.NewAssembler(tr)
	for i := range segs {
		a.Add(&segs[i])
		a.Sweep(segs[i].Time, cfg.Linger())
	}
	a.Flush(segs[len(segs)-1].Time)
	return conns
}

func checkConn(t *testing.T, c *Conn, frames uint64) {
	t.Helper()
	for _, e := range []*Endpoint{&c.Client, &c.Server} {
		if len(e.Timeline) > maxTimeline || len(e.Anomalies) > maxAnomalies {
			t.Fatalf("#%d %v: %d changes, %d anomalies kept", c.ID, e.Addr, len(e.Timeline), len(e.Anomalies))
		}
		prev := Unknown
		for i, ch := range e.Timeline {
			if ch.From != prev {
				t.Fatalf("#%d %v: change %d starts from %v, but the previous one ended in %v", c.ID, e.Addr, i, ch.From, prev)
			}
			if to, ok := next(ch.From, ch.On); !ok || to != ch.To || to == ch.From {
				t.Fatalf("#%d %v: change %d %v --%v--> %v is not an edge of the table", c.ID, e.Addr, i, ch.From, ch.On, ch.To)
			}
			if ch.Frame > frames {
				t.Fatalf("#%d %v: change %d cites frame %d of %d", c.ID, e.Addr, i, ch.Frame, frames)
			}
			prev = ch.To
		}
		if e.DroppedChanges == 0 && e.State != prev {
			t.Fatalf("#%d %v: ends in %v, its last change went to %v", c.ID, e.Addr, e.State, prev)
		}
	}
	if len(c.Ladder) > maxLadder {
		t.Fatalf("#%d: %d ladder steps kept", c.ID, len(c.Ladder))
	}
	if c.FirstFrame > c.LastFrame || c.LastFrame > frames {
		t.Fatalf("#%d: frames %d..%d of %d", c.ID, c.FirstFrame, c.LastFrame, frames)
	}
	for _, f := range c.Findings {
		if f.Endpoint != c.Client.Addr && f.Endpoint != c.Server.Addr && f.Kind != KindSimultaneousClose && f.Kind != KindPartial && f.Kind != KindCaptureGap {
			t.Fatalf("#%d: %v finding names %v, not an endpoint of the connection", c.ID, f.Kind, f.Endpoint)
		}
		for _, fr := range f.Frames {
			if fr == 0 || fr > frames {
				t.Fatalf("#%d: %v finding cites frame %d of %d", c.ID, f.Kind, fr, frames)
			}
		}
	}
}
