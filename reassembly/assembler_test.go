package reassembly

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// countHandler counts callbacks and keeps nothing.
type countHandler struct {
	opens, segs, closes int
	last                SegInfo
}

func (h *countHandler) Open(*Conn)                              { h.opens++ }
func (h *countHandler) Segment(_ *Conn, _ *Segment, i *SegInfo) { h.segs++; h.last = *i }
func (h *countHandler) Close(*Conn, Stamp, CloseReason)         { h.closes++ }
func (h *countHandler) Done(*Conn, Stamp) (bool, bool)          { return false, true }

var (
	tA = netip.MustParseAddrPort("192.0.2.1:40000")
	tB = netip.MustParseAddrPort("192.0.2.2:80")
	t0 = StampOf(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
)

func mk(frame uint64, at time.Duration, src, dst netip.AddrPort, f Flags, seq, ack, n uint32) *Segment {
	return new(Segment{Frame: frame, Time: t0.Add(at), Flags: f, Seq: seq, Ack: ack, Len: n,
		Window: 1000, WScale: NoWScale}.WithAddrs(src, dst))
}

func TestAssemblerAddDoesNotAllocate(t *testing.T) {
	h := &countHandler{}
	a := NewAssembler(h)
	a.Add(mk(1, 0, tA, tB, SYN, 100, 0, 0))
	a.Add(mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0))
	a.Add(mk(3, 2, tA, tB, ACK, 101, 501, 0))
	s := *mk(4, 4*time.Millisecond, tA, tB, ACK|PSH, 101, 501, 100)
	allocs := testing.AllocsPerRun(1000, func() {
		a.Add(&s)
		s.Seq += 100
		s.Frame++
		s.Time = s.Time.Add(time.Millisecond)
	})
	if allocs != 0 {
		t.Errorf("Assembler.Add allocates %.1f times per segment; want 0", allocs)
	}
	if h.opens != 1 {
		t.Errorf("%d connections opened; want 1", h.opens)
	}
}

func TestAssemblerClassification(t *testing.T) {
	tests := []struct {
		name string
		segs []*Segment
		want SegKind // of the last segment
		dir  Dir
	}{
		{"retransmitted data", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0),
			mk(3, 2, tA, tB, ACK|PSH, 101, 501, 10), mk(4, 300*time.Millisecond, tA, tB, ACK|PSH, 101, 501, 10),
		}, Retransmission, ClientToServer},
		{"same packet captured twice", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0),
			mk(3, 2*time.Millisecond, tA, tB, ACK|PSH, 101, 501, 10), mk(4, 2*time.Millisecond+10*time.Microsecond, tA, tB, ACK|PSH, 101, 501, 10),
		}, Duplicate, ClientToServer},
		{"keep-alive", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0),
			mk(3, 2, tA, tB, ACK, 101, 501, 0), mk(4, time.Second, tA, tB, ACK, 100, 501, 0),
		}, KeepAlive, ClientToServer},
		{"gap: segment beyond next expected", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0),
			mk(3, 2, tA, tB, ACK|PSH, 201, 501, 10),
		}, Gap, ClientToServer},
		{"ACK of data never seen", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0),
			mk(3, 2, tB, tA, ACK, 501, 301, 0),
		}, AckUnseen, ServerToClient},
		{"reordered segment fills the hole at once", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0),
			mk(3, 2*time.Millisecond, tA, tB, ACK|PSH, 111, 501, 10), mk(4, 3*time.Millisecond, tA, tB, ACK|PSH, 101, 501, 10),
		}, OutOfOrder, ClientToServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &countHandler{}
			a := NewAssembler(h)
			for _, s := range tt.segs {
				a.Add(s)
			}
			if h.last.Kind&tt.want == 0 || h.last.Dir != tt.dir {
				t.Errorf("last segment kind %b dir %v; want bit %b dir %v", h.last.Kind, h.last.Dir, tt.want, tt.dir)
			}
			if h.opens != 1 {
				t.Errorf("%d connections; want 1", h.opens)
			}
		})
	}
}

func TestIncarnations(t *testing.T) {
	tests := []struct {
		name  string
		segs  []*Segment
		conns int
	}{
		{"retransmitted SYN is one connection", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, time.Second, tA, tB, SYN, 100, 0, 0),
		}, 1},
		{"SYN after RST starts a new connection", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, RST|ACK, 0, 101, 0), mk(3, time.Second, tA, tB, SYN, 100, 0, 0),
		}, 2},
		{"SYN with a new ISN after both FINs", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 1, tB, tA, SYN|ACK, 500, 101, 0), mk(3, 2, tA, tB, ACK, 101, 501, 0),
			mk(4, 3, tA, tB, FIN|ACK, 101, 501, 0), mk(5, 4, tB, tA, FIN|ACK, 501, 102, 0), mk(6, 5, tA, tB, ACK, 102, 502, 0),
			mk(7, 6, tB, tA, FIN|ACK, 501, 102, 0), // a retransmitted FIN stays in the old connection
			mk(8, 7, tA, tB, ACK, 102, 502, 0),     // and so does a trailing ACK
			mk(9, time.Second, tA, tB, SYN, 9000, 0, 0),
		}, 2},
		{"simultaneous open is one connection", []*Segment{
			mk(1, 0, tA, tB, SYN, 100, 0, 0), mk(2, 0, tB, tA, SYN, 500, 0, 0),
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &countHandler{}
			a := NewAssembler(h)
			for _, s := range tt.segs {
				a.Add(s)
			}
			a.Flush(t0.Add(time.Minute))
			if h.opens != tt.conns || h.closes != tt.conns {
				t.Errorf("opened %d, closed %d; want %d", h.opens, h.closes, tt.conns)
			}
		})
	}
}

func FuzzSeq(f *testing.F) {
	f.Add(uint32(0), uint32(1))
	f.Add(uint32(0xffffffff), uint32(0))
	f.Add(uint32(0x7fffffff), uint32(0x80000000))
	f.Fuzz(func(t *testing.T, a, b uint32) {
		x, y := Seq(a), Seq(b)
		if x.Before(y) && y.Before(x) {
			t.Fatalf("%d and %d are both before each other", a, b)
		}
		if x.Before(y) != y.After(x) {
			t.Fatalf("Before/After disagree for %d, %d", a, b)
		}
		if n := uint32(b - a); n > 0 && n < 1<<31 && !x.Before(x.Add(n)) {
			t.Fatalf("%d + %d is not after %d across wrap", a, n, a)
		}
		if x.Diff(y) != -y.Diff(x) && x.Diff(y) != -1<<31 {
			t.Fatalf("Diff not antisymmetric for %d, %d", a, b)
		}
	})
}

// evictRecorder records which connections were closed, and why.
type evictRecorder struct {
	countHandler
	closed []uint64
	why    []CloseReason
}

func (h *evictRecorder) Close(c *Conn, _ Stamp, why CloseReason) {
	h.closed, h.why = append(h.closed, c.ID), append(h.why, why)
}

// TestMaxConnsEvictsLeastRecentlyActive: with room for three, a fourth
// connection evicts the one idle longest, not the one opened first.
func TestMaxConnsEvictsLeastRecentlyActive(t *testing.T) {
	h := &evictRecorder{}
	a := NewAssembler(h)
	a.MaxConns = 3
	port := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(tA.Addr(), p) }
	a.Add(mk(1, 0, port(1), tB, SYN, 100, 0, 0))
	a.Add(mk(2, time.Second, port(2), tB, SYN, 100, 0, 0))
	a.Add(mk(3, 2*time.Second, port(3), tB, SYN, 100, 0, 0))
	a.Add(mk(4, 3*time.Second, port(1), tB, SYN, 100, 0, 0)) // #1 retransmits: now the most recent
	a.Add(mk(5, 4*time.Second, port(4), tB, SYN, 100, 0, 0))
	if len(h.closed) != 1 || h.closed[0] != 2 || h.why[0] != Evicted || a.Evicted() != 1 || a.Live() != 3 {
		t.Fatalf("closed %v (%v), evicted %d, live %d; want #2 evicted, 3 live", h.closed, h.why, a.Evicted(), a.Live())
	}
	a.Add(mk(6, 5*time.Second, port(5), tB, SYN, 100, 0, 0))
	if len(h.closed) != 2 || h.closed[1] != 3 || a.Peak() != 3 {
		t.Fatalf("closed %v, peak %d; want #3 evicted next, peak 3", h.closed, a.Peak())
	}
}

// parkHandler says every connection is open with no timer running (an idle
// leak), and counts how often Sweep asks.
type parkHandler struct {
	evictRecorder
	asked map[uint64]int
}

func (h *parkHandler) Done(c *Conn, _ Stamp) (bool, bool) {
	h.asked[c.ID]++
	return false, false
}

// TestSweepParksTimerlessConnections: a connection only a segment can end
// is asked about once, not at every sweep; its next segment puts it back;
// parked connections are still evicted least recently active first.
func TestSweepParksTimerlessConnections(t *testing.T) {
	h := &parkHandler{asked: map[uint64]int{}}
	a := NewAssembler(h)
	port := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(tA.Addr(), p) }
	a.Add(mk(1, 0, port(1), tB, SYN, 100, 0, 0))
	a.Add(mk(2, time.Second, port(2), tB, SYN, 100, 0, 0))
	for i := range 10 {
		a.Sweep(t0.Add(time.Duration(10+i*10)*time.Second), 5*time.Second)
	}
	if h.asked[1] != 1 || h.asked[2] != 1 || a.nParked != 2 {
		t.Fatalf("asked %v, %d parked; want each asked once, both parked", h.asked, a.nParked)
	}
	a.Add(mk(3, 101*time.Second, port(1), tB, ACK, 101, 0, 0)) // #1 wakes up
	if a.nParked != 1 {
		t.Fatalf("%d parked after #1's segment; want 1", a.nParked)
	}
	a.Sweep(t0.Add(103*time.Second), 5*time.Second)
	if h.asked[1] != 1 {
		t.Fatalf("#1 asked %d times before it was idle for the linger; want 1", h.asked[1])
	}
	a.Sweep(t0.Add(110*time.Second), 5*time.Second)
	if h.asked[1] != 2 || a.nParked != 2 {
		t.Fatalf("asked %v, %d parked; want #1 asked again and parked again", h.asked, a.nParked)
	}
	// Room for two: a third evicts #2, idle since 1 s, not #1 (active at 101 s).
	a.MaxConns = 2
	a.Add(mk(4, 111*time.Second, port(3), tB, SYN, 100, 0, 0))
	if len(h.closed) != 1 || h.closed[0] != 2 || h.why[0] != Evicted || a.nParked != 1 {
		t.Fatalf("closed %v (%v), %d parked; want #2 evicted, 1 parked", h.closed, h.why, a.nParked)
	}
	a.Add(mk(5, 112*time.Second, port(4), tB, SYN, 100, 0, 0))
	if len(h.closed) != 2 || h.closed[1] != 1 || a.nParked != 0 || len(a.parked) != 0 {
		t.Fatalf("closed %v, %d parked (%d entries); want #1 evicted next", h.closed, a.nParked, len(a.parked))
	}
}

// TestSchedPopsInTimeOrder pushes entries mostly in time order, some
// earlier than the last, interleaved with pops: every pop returns the
// earliest entry left, as a heap would.
func TestSchedPopsInTimeOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	var s sched
	var ref []int64 // the entries' times, unordered
	now := int64(0)
	for op := range 50000 {
		if rng.IntN(3) > 0 || len(ref) == 0 {
			at := now
			if rng.IntN(5) == 0 {
				at -= rng.Int64N(1000) // earlier than the last: goes to the heap
			}
			now += rng.Int64N(10)
			s.push(idleEntry{at: at, id: uint64(op)})
			ref = append(ref, at)
			continue
		}
		i := slices.Index(ref, slices.Min(ref))
		if got := s.first(); got != ref[i] {
			t.Fatalf("op %d: first = %d; want %d", op, got, ref[i])
		}
		if e := s.pop(); e.at != ref[i] {
			t.Fatalf("op %d: pop = %d; want %d", op, e.at, ref[i])
		}
		ref = slices.Delete(ref, i, i+1)
		if s.len() != len(ref) {
			t.Fatalf("op %d: len %d; want %d", op, s.len(), len(ref))
		}
	}
}
