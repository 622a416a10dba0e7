package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// record is one packet of a capture, as the test's own parser reads it.
type record struct {
	t         int64 // µs
	caplen    int
	origlen   int
	data      []byte
	src, dst  netip.AddrPort
	flags     tcpFlags
	seq, ack  uint32
	tcpHdrLen int
	payload   int
}

// parse reads a capture written by Write and checks every record's
// structure and checksums; it fails the test on the first error.
func parse(t *testing.T, data []byte) (snaplen int, recs []record) {
	t.Helper()
	le, be := binary.LittleEndian, binary.BigEndian
	if len(data) < pcapFileHeader {
		t.Fatalf("capture of %d bytes: no file header", len(data))
	}
	if m := le.Uint32(data[0:]); m != pcapMagicMicros {
		t.Fatalf("magic %#x; want %#x", m, pcapMagicMicros)
	}
	if v1, v2 := le.Uint16(data[4:]), le.Uint16(data[6:]); v1 != 2 || v2 != 4 {
		t.Fatalf("version %d.%d; want 2.4", v1, v2)
	}
	if lt := le.Uint32(data[20:]); lt != linkTypeEthernet {
		t.Fatalf("link type %d; want 1 (Ethernet)", lt)
	}
	snaplen = int(le.Uint32(data[16:]))
	last := int64(0)
	for off := pcapFileHeader; off < len(data); {
		n := len(recs) + 1
		if off+pcapRecordHeader > len(data) {
			t.Fatalf("record %d: header cut short", n)
		}
		h := data[off:]
		r := record{t: int64(le.Uint32(h[0:]))*1e6 + int64(le.Uint32(h[4:])), caplen: int(le.Uint32(h[8:])),
			origlen: int(le.Uint32(h[12:]))}
		if le.Uint32(h[4:]) >= 1e6 {
			t.Fatalf("record %d: %d microseconds", n, le.Uint32(h[4:]))
		}
		if r.t < last {
			t.Fatalf("record %d: time goes back (%d < %d)", n, r.t, last)
		}
		last = r.t
		off += pcapRecordHeader
		if r.caplen != min(snaplen, r.origlen) || off+r.caplen > len(data) {
			t.Fatalf("record %d: caplen %d, origlen %d, snaplen %d", n, r.caplen, r.origlen, snaplen)
		}
		r.data = data[off : off+r.caplen]
		off += r.caplen
		f := r.data
		var ip []byte
		var src, dst netip.Addr
		var ipPayload int
		switch be.Uint16(f[12:]) {
		case etherIPv4:
			ip = f[ethLen:]
			if ip[0] != 0x45 || ip[9] != protoTCP || be.Uint16(ip[6:]) != ipv4DF {
				t.Fatalf("record %d: IPv4 header % x", n, ip[:20])
			}
			if fold(uint64(sumBytes(ip[:ipv4Len]))) != 0xffff {
				t.Fatalf("record %d: bad IPv4 header checksum", n)
			}
			total := int(be.Uint16(ip[2:]))
			if ethLen+total != r.origlen {
				t.Fatalf("record %d: IPv4 length %d, frame %d", n, total, r.origlen)
			}
			src, dst = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
			ipPayload = total - ipv4Len
			ip = ip[ipv4Len:]
		case etherIPv6:
			ip = f[ethLen:]
			if ip[0]>>4 != 6 || ip[6] != protoTCP {
				t.Fatalf("record %d: IPv6 header % x", n, ip[:8])
			}
			ipPayload = int(be.Uint16(ip[4:]))
			if ethLen+ipv6Len+ipPayload != r.origlen {
				t.Fatalf("record %d: IPv6 payload length %d, frame %d", n, ipPayload, r.origlen)
			}
			src, dst = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
			ip = ip[ipv6Len:]
		default:
			t.Fatalf("record %d: ethertype %#x", n, be.Uint16(f[12:]))
		}
		tcp := ip
		r.tcpHdrLen = int(tcp[12]>>4) * 4
		cut := len(tcp) < r.tcpHdrLen // snaplen cut the options (-s 54)
		if len(tcp) < tcpFixedLen || cut && snaplen != r.caplen {
			t.Fatalf("record %d: TCP header cut (%d bytes captured)", n, len(tcp))
		}
		r.src = netip.AddrPortFrom(src, be.Uint16(tcp[0:]))
		r.dst = netip.AddrPortFrom(dst, be.Uint16(tcp[2:]))
		r.seq, r.ack, r.flags = be.Uint32(tcp[4:]), be.Uint32(tcp[8:]), tcpFlags(tcp[13])
		r.payload = ipPayload - r.tcpHdrLen
		if cut {
			recs = append(recs, r)
			continue
		}
		if slices.ContainsFunc(tcp[r.tcpHdrLen:], func(b byte) bool { return b != 0 }) {
			t.Fatalf("record %d: payload bytes are not zeros", n)
		}
		// The payload is zeros: the pseudo-header and the header give the checksum.
		pseudo := uint64(sumBytes(src.AsSlice())) + uint64(sumBytes(dst.AsSlice())) + protoTCP + uint64(ipPayload)
		if fold(pseudo+uint64(sumBytes(tcp[:r.tcpHdrLen]))) != 0xffff {
			t.Fatalf("record %d: bad TCP checksum", n)
		}
		recs = append(recs, r)
	}
	return snaplen, recs
}

func generate(t testing.TB, cfg Config) ([]byte, Truth) {
	t.Helper()
	var buf bytes.Buffer
	tr, err := Write(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), tr
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Conns: 3000, Concurrency: 300, Seed: 42, IPv6Fraction: 0.3, Mix: Mix{Normal: 5, CloseWait: 1, ReuseCloseWait: 1, SynRecv: 1}}
	a, ta := generate(t, cfg)
	b, tb := generate(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same Config wrote different bytes")
	}
	ja, jb := ta, tb
	if ja.Connections != jb.Connections || !equalMaps(ja.Findings, jb.Findings) || !equalMaps(ja.ClientStates, jb.ClientStates) {
		t.Fatalf("two runs with the same Config gave different truths: %+v, %+v", ta, tb)
	}
	cfg.Seed = 43
	c, _ := generate(t, cfg)
	if bytes.Equal(a, c) {
		t.Fatal("seeds 42 and 43 wrote the same bytes")
	}
}

func equalMaps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCaptureStructure(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"headers only, IPv4 and IPv6", Config{Conns: 4000, Seed: 1, IPv6Fraction: 0.4, Mix: allPatterns()}},
		{"full frames", Config{Conns: 1000, Seed: 2, IPv6Fraction: 0.5, Snaplen: 65535, Mix: allPatterns()}},
		{"-s 54, IPv4 only", Config{Conns: 1000, Seed: 3, Snaplen: 54, Mix: allPatterns()}},
		{"-s 74", Config{Conns: 1000, Seed: 4, Snaplen: 74, IPv6Fraction: 0.5, Mix: allPatterns()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data, tr := generate(t, tt.cfg)
			snaplen, recs := parse(t, data)
			want := tt.cfg.Snaplen
			if want == 0 {
				want = DefaultSnaplen
			}
			if snaplen != want {
				t.Errorf("snaplen %d; want %d", snaplen, want)
			}
			if int64(len(recs)) != tr.Packets || int64(len(data)) != tr.Bytes {
				t.Errorf("%d records, %d bytes; truth says %d, %d", len(recs), len(data), tr.Packets, tr.Bytes)
			}
			if first, last := time.UnixMicro(recs[0].t).UTC(), time.UnixMicro(recs[len(recs)-1].t).UTC(); !first.Equal(tr.Start) || !last.Equal(tr.End) {
				t.Errorf("capture spans %v–%v; truth says %v–%v", first, last, tr.Start, tr.End)
			}
			sizes := map[[2]int]bool{} // (frame length, TCP header length) of header-only frames
			for _, r := range recs {
				if r.payload == 0 {
					sizes[[2]int{r.origlen, r.tcpHdrLen}] = true
				}
				syn := r.flags&flagSYN != 0
				switch {
				case syn && r.tcpHdrLen != 40, !syn && r.tcpHdrLen != 32 && r.flags&flagRST == 0:
					t.Fatalf("%v → %v flags %#x: TCP header %d bytes", r.src, r.dst, r.flags, r.tcpHdrLen)
				}
			}
			// Linux-like header-only frames: 66 bytes over IPv4, 86 over IPv6 (74 and 94 with SYN options).
			for _, s := range [][2]int{{66, 32}, {74, 40}, {86, 32}, {94, 40}} {
				if s[0] >= 86 && tt.cfg.IPv6Fraction == 0 || s[0] > want {
					continue
				}
				if !sizes[s] {
					t.Errorf("no header-only frame of %d bytes with a %d-byte TCP header; got %v", s[0], s[1], sizes)
				}
			}
		})
	}
}

func allPatterns() Mix {
	m := Mix{}
	for _, p := range Patterns() {
		m[p] = 1
	}
	return m
}

// TestConcurrency replays the capture's four-tuples in packet order: a
// four-tuple is open from its first packet to its last (each script has its
// own four-tuple). The count never exceeds Concurrency, and throttling
// brings it to the bound.
func TestConcurrency(t *testing.T) {
	for _, conc := range []int{1, 7, 150} {
		cfg := Config{Conns: 3000, Concurrency: conc, Seed: 9, IPv6Fraction: 0.2, Mix: allPatterns()}
		data, tr := generate(t, cfg)
		_, recs := parse(t, data)
		type tuple struct{ a, b netip.AddrPort }
		key := func(r *record) tuple {
			if r.src.Compare(r.dst) < 0 {
				return tuple{r.src, r.dst}
			}
			return tuple{r.dst, r.src}
		}
		lastAt := map[tuple]int{}
		for i := range recs {
			lastAt[key(&recs[i])] = i
		}
		open, peak := map[tuple]bool{}, 0
		for i := range recs {
			k := key(&recs[i])
			open[k] = true
			peak = max(peak, len(open))
			if lastAt[k] == i {
				delete(open, k)
			}
		}
		scripts := 0
		for _, n := range tr.Patterns {
			scripts += n
		}
		if peak > conc {
			t.Errorf("concurrency %d: %d four-tuples open at once", conc, peak)
		}
		if peak < conc {
			t.Errorf("concurrency %d: at most %d open at once; the bound should be reached", conc, peak)
		}
		if len(lastAt) != scripts {
			t.Errorf("concurrency %d: %d four-tuples for %d scripts: a four-tuple was reused across scripts", conc, len(lastAt), scripts)
		}
	}
}

func TestEveryPattern(t *testing.T) {
	_, tr := generate(t, Config{Conns: 3000, Seed: 5, Mix: allPatterns()})
	for _, p := range Patterns() {
		if tr.Patterns[p.String()] == 0 {
			t.Errorf("pattern %s never emitted: %v", p, tr.Patterns)
		}
	}
	for _, p := range Patterns() {
		t.Run(p.String(), func(t *testing.T) {
			_, tr := generate(t, Config{Conns: 40, Seed: 6, Mix: Mix{p: 1}})
			if tr.Patterns[p.String()] != 40/p.conns() || len(tr.Patterns) != 1 {
				t.Errorf("patterns %v; want %d × %s", tr.Patterns, 40/p.conns(), p)
			}
			if tr.Connections != 40 {
				t.Errorf("%d connections; want 40", tr.Connections)
			}
		})
	}
}

// TestTruthConsistent: every connection has one end state per side, and
// the default mix gives what its documentation promises. Connections
// arrive for 200 s, longer than the longest pattern (about 100 s).
func TestTruthConsistent(t *testing.T) {
	_, tr := generate(t, Config{Conns: 20000, Rate: 100, Seed: 8, IPv6Fraction: 0.1})
	sum := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	if c, s := sum(tr.ClientStates), sum(tr.ServerStates); c != tr.Connections || s != tr.Connections {
		t.Errorf("%d client and %d server end states for %d connections", c, s, tr.Connections)
	}
	if len(tr.Findings) != int(numKinds) {
		t.Errorf("findings list %d kinds; want every kind (%d)", len(tr.Findings), numKinds)
	}
	for _, k := range []string{"close-wait", "fin-wait-2", "syn-recv", "syn-timeout", "port-reuse", "refused",
		"reset", "time-wait", "fin-retransmit", "simultaneous-close"} {
		if tr.Findings[k] == 0 {
			t.Errorf("no %s finding in the default mix", k)
		}
	}
	if tr.Findings["partial"] != 0 || tr.Findings["capture-gap"] != 0 {
		t.Errorf("partial or capture-gap findings: %v", tr.Findings)
	}
	// The end of the capture is planned so that many sockets are still in
	// TIME_WAIT and as many have expired.
	if tr.ClientStates["TIME_WAIT"] < tr.Connections/10 || tr.ClientStates["CLOSED"] < tr.Connections/10 {
		t.Errorf("client end states %v: want both live and expired TIME_WAITs", tr.ClientStates)
	}
}

// TestScriptBounds builds every pattern many times: scripts last no longer
// than maxDur says, and their timers fall well after their last segment.
func TestScriptBounds(t *testing.T) {
	g, err := newGen(io.Discard, Config{Conns: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	c := new(conn)
	for _, p := range Patterns() {
		for i := range 2000 {
			v6 := i%2 == 1
			o := g.build(c, p, uint64(i), v6, i%g.nips, uint16(40000+i), g.start)
			if o.start != g.start {
				t.Fatalf("%s #%d starts at %d; want %d", p, i, o.start, g.start)
			}
			if d := o.end - o.start; d > maxDur[p] {
				t.Fatalf("%s #%d lasts %v; maxDur says at most %v", p, i, time.Duration(d)*time.Microsecond,
					time.Duration(maxDur[p])*time.Microsecond)
			}
			if o.n != p.conns() {
				t.Fatalf("%s: %d connections; want %d", p, o.n, p.conns())
			}
			for j := range o.n {
				for _, tm := range o.conns[j].timers {
					if tm.tr != trNone && tm.at < o.end+2*margin {
						t.Fatalf("%s #%d: timer %d only %v after the last segment", p, i, tm.tr,
							time.Duration(tm.at-o.end)*time.Microsecond)
					}
				}
			}
			if !slices.IsSortedFunc(c.pkts, func(a, b pkt) int { return int(a.t - b.t) }) {
				t.Fatalf("%s #%d: segments out of order", p, i)
			}
		}
	}
}

// steady returns a generator that has written part of a capture.
func steady(t testing.TB) *gen {
	g, err := newGen(io.Discard, Config{Conns: 1 << 30, Concurrency: 2000, Seed: 11, IPv6Fraction: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	h := pcapHeader(g.snaplen)
	g.out = append(g.out, h[:]...)
	for range 300000 {
		g.next()
	}
	return g
}

func TestStepDoesNotAllocate(t *testing.T) {
	g := steady(t)
	const runs = 5000
	for pending := 0; pending < runs+1; {
		g.next()
		pending = 0
		for _, e := range g.heap {
			pending += len(e.c.pkts) - e.c.next
		}
	}
	if n := testing.AllocsPerRun(runs, g.step); n != 0 {
		t.Errorf("writing a packet allocates %.2f times; want 0", n)
	}
	if n := testing.AllocsPerRun(10000, func() { g.next() }); n != 0 {
		t.Errorf("the writer's loop (scripts and packets) allocates %.2f times per iteration; want 0", n)
	}
	if g.err != nil {
		t.Fatal(g.err)
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    Mix
		wantErr bool
	}{
		{in: "normal=90,close-wait=2", want: Mix{Normal: 90, CloseWait: 2}},
		{in: "all=1,normal=0", want: func() Mix { m := allPatterns(); m[Normal] = 0; return m }()},
		{in: "default,keepalive=5", want: func() Mix { m := DefaultMix(); m[KeepAlive] = 5; return m }()},
		{in: " refused = 1.5 , ", want: Mix{Refused: 1.5}},
		{in: "nope=1", wantErr: true},
		{in: "normal", wantErr: true},
		{in: "normal=-1", wantErr: true},
		{in: "normal=0", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseMix(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseMix(%q) error %v; want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.want.String() {
			t.Errorf("ParseMix(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
	if m, err := ParseMix(DefaultMix().String()); err != nil || m.String() != DefaultMix().String() {
		t.Errorf("DefaultMix does not survive String and ParseMix: %v, %v", m, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Conns: -1},
		{Conns: 1, Concurrency: -1},
		{Conns: 1, Rate: -5},
		{Conns: 1, IPv6Fraction: 1.5},
		{Conns: 1, Snaplen: 40},
		{Conns: 1, Snaplen: 60, IPv6Fraction: 0.1}, // cuts IPv6 TCP headers
		{Conns: 1, Mix: Mix{Normal: 0}},
	} {
		if _, err := Write(io.Discard, cfg); err == nil {
			t.Errorf("Write(%+v) succeeded; want an error", cfg)
		}
	}
}

type failWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after < len(p) {
		return 0, errDiskFull
	}
	f.after -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	_, err := Write(&failWriter{after: 3 << 20}, Config{Conns: 100000, Seed: 1})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Write to a failing writer: %v; want %v", err, errDiskFull)
	}
}

func TestEmpty(t *testing.T) {
	data, tr := generate(t, Config{Conns: 0})
	if len(data) != pcapFileHeader || tr.Connections != 0 || tr.Packets != 0 {
		t.Fatalf("0 connections: %d bytes, truth %+v", len(data), tr)
	}
}

// BenchmarkWrite measures the generator with the default mix, header-only.
func BenchmarkWrite(b *testing.B) {
	b.ReportAllocs()
	var pkts, bytes int64
	for b.Loop() {
		tr, err := Write(io.Discard, Config{Conns: 200000, Seed: 1, IPv6Fraction: 0.1})
		if err != nil {
			b.Fatal(err)
		}
		pkts += tr.Packets
		bytes += tr.Bytes
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
}
