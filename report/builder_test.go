package report

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// mixed builds n connections: leaks, plain closes (TIME_WAIT, info) and resets.
func mixed(n int) []*fsm.Conn {
	var cs []*fsm.Conn
	for i := 1; i <= n; i++ {
		id := uint64(i)
		switch i % 3 {
		case 0:
			cs = append(cs, leak(id, uint16(40000+i), time.Duration(i)*time.Second))
		case 1:
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i % 7)}), uint16(30000+i))
			c := &fsm.Conn{ID: id, First: t0, Last: t0.Add(time.Second), FirstFrame: id * 10}
			c.Client = fsm.Endpoint{Addr: cl, State: fsm.Closed}
			c.Server = fsm.Endpoint{Addr: srv, State: fsm.Closed}
			c.Findings = []fsm.Finding{{Kind: fsm.KindTimeWait, Severity: fsm.Info, Endpoint: cl, Role: fsm.Client,
				Peer: srv, Since: reassembly.StampOf(t0.Add(time.Duration(i) * time.Millisecond)), Duration: time.Minute, Frames: []uint64{id*10 + 3}}}
			cs = append(cs, c)
		default:
			cl := netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), uint16(30000+i))
			c := &fsm.Conn{ID: id, First: t0, Last: t0, FirstFrame: id * 10}
			c.Client = fsm.Endpoint{Addr: cl, State: fsm.Closed}
			c.Server = fsm.Endpoint{Addr: srv, State: fsm.Closed}
			cs = append(cs, c)
		}
	}
	return cs
}

func render(t *testing.T, r *Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := JSON(&b, r); err != nil {
		t.Fatal(err)
	}
	if err := Text(&b, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestBuilderOrderAndSplitDoNotMatter: adding connections in any order, or
// spread over several Builders merged in any order, gives the same report
// (what lets -j N print the bytes -j 1 prints).
func TestBuilderOrderAndSplitDoNotMatter(t *testing.T) {
	cs := mixed(300)
	st := reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0.Add(time.Hour)}
	cfg := fsm.DefaultConfig()
	for _, lim := range []Limits{{Connections: 20, FindingsPerKind: 5}, {Connections: -1, FindingsPerKind: -1}} {
		b := NewBuilder(lim)
		for _, c := range cs {
			b.Add(c)
		}
		want := render(t, b.Report("t", st, cfg))
		rng := rand.New(rand.NewPCG(1, 2))
		for trial := range 5 {
			parts := make([]*Builder, 1+trial)
			share := NewNotableShare(len(parts))
			for i := range parts {
				parts[i] = NewBuilder(lim)
				if trial%2 == 1 && lim.Connections > 0 {
					// IDs are 1…300: none above the limit is among the
					// first ones, as the -j workers prove it; and they
					// tell each other how far their notable lists reach.
					parts[i].NotFirstFrom(uint64(lim.Connections) + 1)
					parts[i].ShareNotable(share, i)
				}
			}
			order := rng.Perm(len(cs))
			if trial == 3 {
				slices.Sort(order) // increasing IDs, as the workers add them (roughly)
			}
			for _, i := range order {
				parts[rng.IntN(len(parts))].Add(cs[i])
			}
			rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
			for _, p := range parts[1:] {
				parts[0].Merge(p)
			}
			if got := render(t, parts[0].Report("t", st, cfg)); got != want {
				t.Fatalf("limits %+v, %d builders: report differs:\n%s", lim, len(parts), firstLineDiff(got, want))
			}
		}
	}
}

// TestBuilderLimits: counts exact, lists bounded to the earliest, the rest
// stated, and what is listed is a copy.
func TestBuilderLimits(t *testing.T) {
	cs := mixed(300)
	b := NewBuilder(Limits{Connections: 20, FindingsPerKind: 5})
	for _, c := range cs {
		b.Add(c)
		// The tracker reuses a connection's memory once Add returns: the
		// Builder must have copied what it keeps.
		c.ID, c.Client.State, c.Findings = 0, fsm.Unknown, c.Findings[:0]
	}
	r := b.Report("t", reassembly.Stats{}, fsm.DefaultConfig())
	if r.Summary.Connections != 300 || r.Summary.Findings["close-wait"] != 100 || r.Summary.Findings["time-wait"] != 100 {
		t.Fatalf("summary %+v", r.Summary)
	}
	// The first 20 (IDs 1-20), then 20 more leaks (open, notable): IDs 21, 24, … 78.
	if len(r.Connections) != 40 || r.Connections[19].ID != 20 || r.Connections[20].ID != 21 || r.Connections[39].ID != 78 {
		t.Fatalf("%d connections listed, #20 is %d, #21 %d, last %d", len(r.Connections), r.Connections[19].ID, r.Connections[20].ID, r.Connections[39].ID)
	}
	if r.Omitted.Connections != 260 {
		t.Errorf("omitted %d; want 260", r.Omitted.Connections)
	}
	for _, c := range r.Connections {
		if c.ID == 0 || c.ClientState == fsm.Unknown || c.ID%3 != 2 && len(c.FindingKinds) == 0 {
			t.Fatalf("listed connection %+v was not copied", c)
		}
	}
	if len(r.Findings) != 15 || r.Omitted.Findings["close-wait"] != 95 || r.Omitted.Findings["time-wait"] != 95 || r.Omitted.Findings["fin-wait-2"] != 95 {
		t.Errorf("%d findings listed, omitted %v", len(r.Findings), r.Omitted.Findings)
	}
	var g *Group
	for i := range r.Groups {
		if r.Groups[i].Kind == fsm.KindCloseWait {
			g = &r.Groups[i]
		}
	}
	if g == nil || g.Count != 100 || g.LongestSeconds != 300 || len(g.Connections) != maxGroupConns || g.Connections[0] != 3 {
		t.Fatalf("close-wait group %+v", g)
	}
}

func firstLineDiff(got, want string) string {
	gl, wl := bytes.Split([]byte(got), []byte("\n")), bytes.Split([]byte(want), []byte("\n"))
	for i := range min(len(gl), len(wl)) {
		if !bytes.Equal(gl[i], wl[i]) {
			return "got:  " + string(gl[i]) + "\nwant: " + string(wl[i])
		}
	}
	return "lengths differ"
}

// TestClientGroupsBounded: 25,000 clients, each with one time-wait finding
// (a flood from distinct sources), keep maxClientGroups groups, say how many
// findings are outside them, and give the same report whatever the order
// and split of the work.
func TestClientGroupsBounded(t *testing.T) {
	const n = 25000
	var cs []*fsm.Conn
	for i := 1; i <= n; i++ {
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
		c := &fsm.Conn{ID: uint64(i), First: t0, Last: t0, FirstFrame: uint64(i)}
		c.Client = fsm.Endpoint{Addr: cl, State: fsm.Closed}
		c.Server = fsm.Endpoint{Addr: srv, State: fsm.Closed}
		c.Findings = []fsm.Finding{{Kind: fsm.KindTimeWait, Severity: fsm.Info, Endpoint: cl, Role: fsm.Client,
			Peer: srv, Since: reassembly.StampOf(t0), Duration: time.Minute, Frames: []uint64{uint64(i)}}}
		cs = append(cs, c)
	}
	st := reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0.Add(time.Hour)}
	one := NewBuilder(Limits{})
	for _, c := range cs {
		one.Add(c)
	}
	r := one.Report("t", st, fsm.DefaultConfig())
	grouped := 0
	for _, g := range r.Groups {
		grouped += g.Count
	}
	if len(r.Groups) != maxClientGroups || grouped != maxClientGroups ||
		r.Omitted.FindingsInGroups["time-wait"] != n-maxClientGroups || r.Summary.Findings["time-wait"] != n {
		t.Fatalf("%d groups holding %d findings, %d outside, %d in all; want %d, %d, %d, %d", len(r.Groups), grouped,
			r.Omitted.FindingsInGroups["time-wait"], r.Summary.Findings["time-wait"], maxClientGroups, maxClientGroups, n-maxClientGroups, n)
	}
	want := render(t, r)
	rng := rand.New(rand.NewPCG(3, 4))
	parts := []*Builder{NewBuilder(Limits{}), NewBuilder(Limits{}), NewBuilder(Limits{})}
	for _, i := range rng.Perm(n) {
		parts[rng.IntN(3)].Add(cs[i])
	}
	parts[2].Merge(parts[0])
	parts[2].Merge(parts[1])
	if got := render(t, parts[2].Report("t", st, fsm.DefaultConfig())); got != want {
		t.Fatalf("split and shuffled: report differs:\n%s", firstLineDiff(got, want))
	}
}

// TestClientGroupsEvictedStayOut: clients that come back after their group
// was evicted (a lower-hashed client took its place) are counted outside
// the groups, never in the evicted group still cached (Builder.gcache).
func TestClientGroupsEvictedStayOut(t *testing.T) {
	const n, rounds = 3 * maxClientGroups, 3
	b := NewBuilder(Limits{})
	id := uint64(0)
	for range rounds {
		for i := range n {
			id++
			cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 40000)
			c := &fsm.Conn{ID: id, First: t0, Last: t0, FirstFrame: id}
			c.Client = fsm.Endpoint{Addr: cl, State: fsm.Closed}
			c.Server = fsm.Endpoint{Addr: srv, State: fsm.Closed}
			c.Findings = []fsm.Finding{{Kind: fsm.KindTimeWait, Severity: fsm.Info, Endpoint: cl, Role: fsm.Client,
				Peer: srv, Since: reassembly.StampOf(t0), Duration: time.Minute, Frames: []uint64{id}}}
			b.Prefetch(cl, 0)
			b.Prefetch(cl, 1)
			b.Add(c)
		}
	}
	r := b.Report("t", reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0.Add(time.Hour)}, fsm.DefaultConfig())
	grouped := 0
	for _, g := range r.Groups {
		grouped += g.Count
	}
	// The groups kept are final only once every client was seen: in the
	// first round, findings of clients evicted later were counted in
	// groups since dropped, so only later rounds are exact per group.
	if len(r.Groups) != maxClientGroups || r.Summary.Findings["time-wait"] != n*rounds ||
		grouped+r.Omitted.FindingsInGroups["time-wait"] != n*rounds {
		t.Fatalf("%d groups holding %d findings, %d outside, %d in all", len(r.Groups), grouped,
			r.Omitted.FindingsInGroups["time-wait"], r.Summary.Findings["time-wait"])
	}
	for _, g := range r.Groups {
		if g.Count < rounds-1 || g.Count > rounds {
			t.Fatalf("group %v counts %d findings; its client had %d", g.Endpoint, g.Count, rounds)
		}
	}
}

// TestQuickHashSpreads: the group cache's hash spreads client addresses
// that count up, IPv4 and IPv6, over its places as a random function would.
func TestQuickHashSpreads(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		home := map[uint64]bool{}
		const n = groupCacheSize / 2
		for i := range n {
			a := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
			if v6 {
				a = netip.AddrFrom16([16]byte{0x20, 0x01, 0xd, 0xb8, 14: byte(i >> 8), 15: byte(i)})
			}
			k := endpointGroup(fsm.KindTimeWait, fsm.Client, netip.AddrPortFrom(a, 0))
			home[k.quickHash()&(groupCacheSize-1)] = true
		}
		if len(home) < 3000 { // a random function: 8192·(1-e^-0.5) ≈ 3,223
			t.Errorf("IPv6 %v: %d keys have %d distinct places of %d", v6, n, len(home), groupCacheSize)
		}
	}
}

// TestSmallestKeepsTheSmallest: whatever the order and the repeats, the
// list holds the n smallest distinct values offered, and says when it is full.
func TestSmallestKeepsTheSmallest(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for round := range 200 {
		n := 1 + rng.IntN(20)
		var s smallest
		seen := map[uint64]bool{}
		for i := range rng.IntN(100) {
			x := uint64(rng.IntN(60))
			if round%2 == 0 {
				x = uint64(i / 2) // increasing, with repeats: the usual order
			}
			seen[x] = true
			if full := s.add(x, n); full != (len(s.items) == n) {
				t.Fatalf("round %d: add says full=%v with %d of %d", round, full, len(s.items), n)
			}
		}
		want := slices.Sorted(maps.Keys(seen))
		want = want[:min(n, len(want))]
		got := slices.Sorted(slices.Values(s.items))
		if !slices.Equal(got, want) {
			t.Fatalf("round %d (n=%d): kept %v; want %v", round, n, got, want)
		}
		if len(got) > 0 && s.top != got[len(got)-1] {
			t.Fatalf("round %d: top %d; want %d", round, s.top, got[len(got)-1])
		}
	}
}

// TestNotFirstFromTooLowChangesTheReport: the cut drops what it is told to
// (so the test above shows that a right cut changes nothing).
func TestNotFirstFromTooLowChangesTheReport(t *testing.T) {
	cs := mixed(300)
	st := reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0.Add(time.Hour)}
	lim := Limits{Connections: 20, FindingsPerKind: 5}
	a, b := NewBuilder(lim), NewBuilder(lim)
	b.NotFirstFrom(20) // wrong: connection 20 is among the first twenty
	for _, c := range cs {
		a.Add(c)
		b.Add(c)
	}
	ra, rb := a.Report("t", st, fsm.DefaultConfig()), b.Report("t", st, fsm.DefaultConfig())
	if render(t, ra) == render(t, rb) {
		t.Fatal("a cut below the limit changed nothing")
	}
}

// TestServicesBeyondTheTable: with more services than the table keeps,
// each connection counts once, in its service's row or in OtherServices,
// and every row kept has all of its service's connections, whatever
// order the services come in (the cache in front of the table must not
// hand out a row that was dropped).
func TestServicesBeyondTheTable(t *testing.T) {
	const services, each = 3 * maxServices, 3
	var cs []*fsm.Conn
	for round := range each {
		for i := range services {
			id := uint64(round*services + i + 1)
			s := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), uint16(80+i%3))
			c := &fsm.Conn{ID: id, First: t0, Last: t0, FirstFrame: id}
			c.Client = fsm.Endpoint{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(1024+id)), State: fsm.Closed}
			c.Server = fsm.Endpoint{Addr: s, State: fsm.Closed}
			cs = append(cs, c)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 3 {
		if trial > 0 {
			rng.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		}
		b := NewBuilder(Limits{})
		for _, c := range cs {
			b.Add(c)
		}
		r := b.Report("t", reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0}, fsm.DefaultConfig())
		if len(r.Services) != maxServices {
			t.Fatalf("trial %d: %d services listed; want %d", trial, len(r.Services), maxServices)
		}
		sum := r.OtherServices
		for _, s := range r.Services {
			if s.Connections != each {
				t.Errorf("trial %d: %s has %d connections; want %d", trial, s.Endpoint, s.Connections, each)
			}
			sum += s.Connections
		}
		if sum != len(cs) {
			t.Errorf("trial %d: %d connections in the table and other services; want %d", trial, sum, len(cs))
		}
	}
}

// TestReportOnSameForAnyWorkers renders a report of 1,500 groups (more
// than renderGroups splits) on 1 to 4 goroutines: the same JSON bytes.
// GOMAXPROCS is raised so that ReportOn does not cap the workers.
func TestReportOnSameForAnyWorkers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	b := NewBuilder(Limits{})
	for i := range 3000 {
		id := uint64(i + 1)
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i / 2 >> 8), byte(i / 2)}), uint16(30000+i))
		c := &fsm.Conn{ID: id, First: t0, Last: t0.Add(time.Second), FirstFrame: id * 10}
		c.Client = fsm.Endpoint{Addr: cl, State: fsm.TimeWait}
		c.Server = fsm.Endpoint{Addr: srv, State: fsm.Closed}
		c.Findings = []fsm.Finding{{Kind: fsm.KindTimeWait, Severity: fsm.Info, Endpoint: cl, Role: fsm.Client,
			Peer: srv, Since: reassembly.StampOf(t0.Add(time.Duration(i) * time.Millisecond)), Duration: time.Duration(i%5) * time.Second, Frames: []uint64{id*10 + 3}}}
		b.Add(c)
	}
	st := reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0}
	want := render(t, b.Report("t", st, fsm.DefaultConfig()))
	if n := strings.Count(want, `"headline"`); n != 1500 {
		t.Fatalf("%d groups, want 1500", n)
	}
	for workers := 2; workers <= 4; workers++ {
		if got := render(t, b.ReportOn("t", st, fsm.DefaultConfig(), workers)); got != want {
			t.Fatalf("%d workers: %s", workers, firstLineDiff(got, want))
		}
	}
}

// TestKeepsSaysWhatAddKeeps: before each Add, Keeps tells whether that
// Add puts the connection in a list (the first ones, the notable ones or
// the pinned ones), over connections added out of order with short lists.
func TestKeepsSaysWhatAddKeeps(t *testing.T) {
	cs := mixed(3000)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	for _, pin := range []bool{false, true} {
		lim := Limits{Connections: 40}
		if pin {
			lim.Pin = func(c *fsm.Conn) bool { return c.ID%2 == 0 } // more than MaxPinned
		}
		b := NewBuilder(lim)
		held := func(id uint64) bool {
			for _, l := range [][]*fsm.Conn{b.first.items, b.notable.items, b.pinned.items} {
				if slices.ContainsFunc(l, func(c *fsm.Conn) bool { return c.ID == id }) {
					return true
				}
			}
			return false
		}
		var yes, no int
		for _, c := range cs {
			keeps := b.Keeps(c)
			b.Add(c)
			if got := held(c.ID); got != keeps {
				t.Fatalf("pin %v: connection %d: Keeps said %v, Add kept it: %v", pin, c.ID, keeps, got)
			}
			if keeps {
				yes++
			} else {
				no++
			}
		}
		if yes < 100 || no < 1000 {
			t.Fatalf("pin %v: Keeps said yes %d times, no %d times: the test lost its teeth", pin, yes, no)
		}
	}
}

// TestGroupKeyWordsKeepTheByteOrder checks that the group keys, which hold
// an address as two words, hash and order as they did over its 16 bytes:
// FNV-1a over kind, role, port and the address's bytes, and the bytes'
// order, on which the client groups kept under pressure depend.
func TestGroupKeyWordsKeepTheByteOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	addr := func() netip.AddrPort {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(4) * 85)
		}
		a := netip.AddrFrom16(b)
		if rng.IntN(2) == 0 {
			a = netip.AddrFrom4([4]byte(b[:4]))
		}
		return netip.AddrPortFrom(a, uint16(rng.IntN(3)))
	}
	fnv := func(k groupKey, b [16]byte) uint64 {
		h := uint64(14695981039346656037)
		for _, c := range append([]byte{byte(k.kind), byte(k.role), byte(k.port >> 8), byte(k.port)}, b[:]...) {
			h = (h ^ uint64(c)) * 1099511628211
		}
		if k.v4 {
			h = (h ^ 1) * 1099511628211
		}
		return h
	}
	for range 5000 {
		x, y := addr(), addr()
		kx, ky := endpointGroup(fsm.KindCloseWait, fsm.Server, x), endpointGroup(fsm.KindCloseWait, fsm.Server, y)
		bx, by := x.Addr().Unmap().As16(), y.Addr().Unmap().As16()
		if kx.endpoint() != netip.AddrPortFrom(x.Addr().Unmap(), x.Port()) {
			t.Fatalf("%v: endpoint %v", x, kx.endpoint())
		}
		if h := kx.hash(); h != fnv(kx, bx) {
			t.Fatalf("%v: hash %x, want %x", x, h, fnv(kx, bx))
		}
		hx, hy := hashedKey{1, kx}, hashedKey{1, ky}
		if want := bytes.Compare(bx[:], by[:]) < 0; hx.less(hy) != want {
			t.Fatalf("%v < %v: %v, want %v", x, y, hx.less(hy), want)
		}
	}
}
