package synth

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"time"
)

// conn is one running script: its segments and how to encode them.
type conn struct {
	addrs
	order uint64 // creation order, the heap's tie-breaker
	next  int
	pkts  []pkt
}

// server is one of the capture's server endpoints.
type server struct {
	v4, v6 netip.Addr
	port   uint16
	weight float64 // share of ordinary traffic
}

// The servers: a handful of ip:ports on the capturing host. The
// application server on 8080 is the one that leaks sockets; 9090 has no
// listener (refusals); a firewall drops SYNs to 6379 (SYN timeouts).
var servers = [...]server{
	{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10"), 443, 50},
	{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10"), 80, 10},
	{netip.MustParseAddr("192.0.2.11"), netip.MustParseAddr("2001:db8::11"), 443, 25},
	{netip.MustParseAddr("192.0.2.20"), netip.MustParseAddr("2001:db8::20"), 8080, 10},
	{netip.MustParseAddr("192.0.2.30"), netip.MustParseAddr("2001:db8::30"), 5432, 5},
	{netip.MustParseAddr("192.0.2.20"), netip.MustParseAddr("2001:db8::20"), 9090, 0},
	{netip.MustParseAddr("192.0.2.40"), netip.MustParseAddr("2001:db8::40"), 6379, 0},
}

const (
	srvLeaky    = 3
	srvClosed   = 5
	srvFiltered = 6
)

// Client addresses: 198.18.0.0/15 (RFC 2544 benchmarking) and 2001:db8:c::/48.
var (
	clientBase4 = netip.MustParseAddr("198.18.0.1").As4()
	clientBase6 = netip.MustParseAddr("2001:db8:c::1").As16()
)

const (
	maxClients4  = 1<<17 - 2
	firstPort    = 32768 // Linux's default ephemeral range, 32768–60999
	numPorts     = 61000 - 32768
	connsPerAddr = 10000 // ClientIPs is raised so that an address needs no more
)

// The timer ring: pending end-of-script timers, in 10 ms buckets over 655 s.
const (
	bucket   = 10 * ms
	ringBits = 16
	ringSize = 1 << ringBits
	ringMask = ringSize - 1
	margin   = int64(Margin / time.Microsecond)
	outSize  = 1 << 20
	// rateWindow is how many recent arrivals measure the arrival rate.
	rateWindow = 1 << 14
	// maxIter bounds the attempts to fit a script before the planned end.
	maxIter = 64
)

type timerRing struct {
	count [ringSize][numTrans]uint32
	total [ringSize]uint32
	base  int64 // the first bucket not yet applied
	// applied is the end of the last applied bucket that held a timer.
	applied int64
}

// gen is one run of Write.
type gen struct {
	w       io.Writer
	cfg     Config
	snaplen int
	conc    int
	rate    float64 // connections per µs
	start   int64
	weights [numPatterns]float64

	out     []byte
	scratch [maxHeaderLen]byte
	err     error
	written int64
	packets int64

	heap []entry
	pool []*conn
	b    builder

	rng       rng                // pattern, address and arrival draws
	recent    *[rateWindow]int64 // the arrival times of the last scripts
	now       int64
	first     int64 // the first segment's time
	nextStart int64
	scripts   uint64
	connsLeft int
	planned   int64 // the planned end of the capture
	longest   int64 // the longest tail of the mix's patterns
	maxEnd    int64 // the last segment of every script created so far
	end       int64 // the end of the capture, once the last script is placed
	ring      *timerRing

	conns    int
	findings [numKinds]int
	cstates  [numStates]int
	sstates  [numStates]int
	patterns [numPatterns]int

	nips  int
	ports [2][]uint16 // per IP version, ports used per client address
}

func newGen(w io.Writer, cfg Config) (*gen, error) {
	if cfg.Conns < 0 || cfg.Conns > MaxConns {
		return nil, fmt.Errorf("synth: Conns must be between 0 and %d", MaxConns)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Concurrency < 1 {
		return nil, errors.New("synth: Concurrency must be positive")
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultRate
	}
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0) || cfg.Rate > 1e7 {
		return nil, errors.New("synth: Rate must be a positive number of connections per second, at most 1e7")
	}
	if cfg.Snaplen == 0 {
		cfg.Snaplen = DefaultSnaplen
	}
	if !(cfg.IPv6Fraction >= 0 && cfg.IPv6Fraction <= 1) {
		return nil, errors.New("synth: IPv6Fraction must be in [0, 1]")
	}
	if n := MinSnaplen(cfg.IPv6Fraction > 0); cfg.Snaplen < n || cfg.Snaplen > MaxSnaplen {
		return nil, fmt.Errorf("synth: Snaplen %d out of range [%d, %d]: the fixed TCP header must be captured", cfg.Snaplen, n, MaxSnaplen)
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix()
	}
	if err := cfg.Mix.check(); err != nil {
		return nil, err
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	// pcap seconds are 32 bits: the capture must end before 2106.
	if end := float64(cfg.Start.Unix()) + float64(cfg.Conns)/cfg.Rate*2 + 1e6; cfg.Start.Unix() < 0 || end > math.MaxUint32 {
		return nil, errors.New("synth: Start must be after 1970 and the capture must end well before 2106")
	}
	if cfg.ClientIPs == 0 {
		cfg.ClientIPs = DefaultClientIPs
	}
	if cfg.ClientIPs < 1 {
		return nil, errors.New("synth: ClientIPs must be positive")
	}
	g := &gen{w: w, cfg: cfg, snaplen: cfg.Snaplen, conc: cfg.Concurrency, rate: cfg.Rate / 1e6,
		start: cfg.Start.UnixMicro(), connsLeft: cfg.Conns, rng: newRNG(cfg.Seed, 0), ring: new(timerRing),
		recent: new([rateWindow]int64)}
	for p, w := range cfg.Mix {
		g.weights[p] = w
	}
	g.nips = min(max(cfg.ClientIPs, cfg.Conns/connsPerAddr+1), maxClients4)
	for v := range g.ports {
		g.ports[v] = make([]uint16, g.nips)
	}
	g.out = make([]byte, 0, outSize)
	g.now, g.nextStart = g.start, g.start
	// The planned end: after the last arrival, and late enough for the
	// longest pattern of the mix to fit.
	for p, w := range g.weights {
		if w > 0 && Pattern(p).conns() <= cfg.Conns {
			g.longest = max(g.longest, tail(Pattern(p)))
		}
	}
	g.planned = g.target(g.start)
	g.ring.base = g.start / bucket
	g.heap = make([]entry, 0, min(g.conc, cfg.Conns)+1)
	g.pool = make([]*conn, 0, min(g.conc, cfg.Conns)+1)
	return g, nil
}

// run writes the whole capture.
func (g *gen) run() error {
	h := pcapHeader(g.snaplen)
	g.out = append(g.out, h[:]...)
	for g.err == nil && g.next() {
	}
	g.flush()
	if g.err != nil {
		return g.err
	}
	if g.packets > 0 && (g.now != g.end || !g.clearAt(g.end)) {
		return errors.New("synth: internal error: the capture did not end as planned")
	}
	return nil
}

// next starts the next script if it is due and a slot is free, else
// writes the next segment; it returns false when everything is written.
func (g *gen) next() bool {
	if g.connsLeft > 0 && len(g.heap) < g.conc && (len(g.heap) == 0 || g.nextStart <= g.heap[0].at) {
		if err := g.startScript(); err != nil {
			g.err = err
		}
		return true
	}
	if len(g.heap) == 0 {
		return false
	}
	g.step()
	return true
}

// step writes the next segment of the whole capture.
func (g *gen) step() {
	top := &g.heap[0]
	if b := top.at / bucket; b > g.ring.base {
		g.applyTimers(b, g.cstates[:], g.sstates[:])
	}
	c := top.c
	p := &c.pkts[c.next]
	if g.packets == 0 {
		g.first = p.t
	}
	g.now = p.t
	need := pcapRecordHeader + g.snaplen
	if len(g.out)+need > cap(g.out) {
		g.flush()
	}
	n := c.encode(g.out[len(g.out):len(g.out)+need], &g.scratch, p, g.snaplen)
	g.out = g.out[:len(g.out)+n]
	g.packets++
	c.next++
	if c.next == len(c.pkts) {
		g.popTop()
		g.pool = append(g.pool, c)
		return
	}
	g.heap[0].at = c.pkts[c.next].t
	g.down(0)
}

func (g *gen) flush() {
	if len(g.out) == 0 || g.err != nil {
		return
	}
	n, err := g.w.Write(g.out)
	g.written += int64(n)
	if err == nil && n < len(g.out) {
		err = io.ErrShortWrite
	}
	g.err = err
	g.out = g.out[:0]
}

// entry is a running script in the heap: 4-ary, ordered by the time of
// the script's next segment, then by creation. The keys are inline so that
// sifting reads no conn.
type entry struct {
	at    int64
	order uint64
	c     *conn
}

func less(a, b *entry) bool { return a.at < b.at || a.at == b.at && a.order < b.order }

func (g *gen) up(i int) {
	h := g.heap
	c := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !less(&c, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = c
}

func (g *gen) down(i int) {
	h := g.heap
	n := len(h)
	c := h[i]
	for {
		first := 4*i + 1
		if first >= n {
			break
		}
		m := first
		for j := first + 1; j < first+4 && j < n; j++ {
			if less(&h[j], &h[m]) {
				m = j
			}
		}
		if !less(&h[m], &c) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = c
}

func (g *gen) popTop() {
	n := len(g.heap) - 1
	g.heap[0] = g.heap[n]
	g.heap[n] = entry{}
	g.heap = g.heap[:n]
	if n > 0 {
		g.down(0)
	}
}

// startScript creates the next connection script, placed so that the truth
// stays unambiguous, and schedules it.
func (g *gen) startScript() error {
	s := max(g.nextStart, g.now)
	arrival := s // a script started late to dodge the end does not delay the next
	g.replan(s)
	idx := g.scripts
	g.recent[idx%rateWindow] = arrival
	g.scripts++
	p := g.pick(s, g.connsLeft, 0)
	v6 := g.cfg.IPv6Fraction > 0 && g.rng.float() < g.cfg.IPv6Fraction
	ip, port := g.allocClient(v6)
	var c *conn
	if n := len(g.pool); n > 0 {
		c, g.pool = g.pool[n-1], g.pool[:n-1]
	} else {
		c = new(conn)
	}
	c.order, c.next = idx, 0

	var o outcome
	tried := uint32(1) << p
	for iter := 0; ; iter++ {
		o = g.build(c, p, idx, v6, ip, port, s)
		last := p.conns() == g.connsLeft
		if iter == maxIter { // give up fitting: move the planned end past this script's timers
			g.planned = g.gapSearch(lastTimer(&o) + margin + bucket)
		}
		if o.end > g.planned {
			if g.onSchedule(s) {
				if q, ok := g.pickUntried(s, &tried); ok {
					p = q
					continue
				}
			}
			g.planned = g.gapSearch(max(o.end, g.target(s)))
			continue
		}
		if last {
			var err error
			if o, err = g.placeLast(c, p, idx, v6, ip, port, s, o); err != nil {
				return err
			}
			break
		}
		if x, ok := conflict(&o, g.planned); ok {
			// Start a little later, so that the timer expires after the end
			// (spread over a second, as the delayed connections queue up).
			_, hi := window(g.planned)
			s += (hi+1)*bucket - x + g.rng.between(0, sec)
			continue
		}
		break
	}
	g.account(p, &o)
	g.heap = append(g.heap, entry{at: c.pkts[0].t, order: c.order, c: c})
	g.up(len(g.heap) - 1)
	g.maxEnd = max(g.maxEnd, o.end)
	g.nextStart = arrival + int64(g.rng.exp(1/g.rate))
	return nil
}

// build (re)builds script idx of pattern p at start s into c.
func (g *gen) build(c *conn, p Pattern, idx uint64, v6 bool, ip int, port uint16, s int64) outcome {
	h := mix64(uint64(g.cfg.Seed) ^ mix64(uint64(ip)<<1|b2u(v6)))
	srv := g.server(p, idx)
	client := clientAddr(v6, ip)
	sa := servers[srv].v4
	if v6 {
		sa = servers[srv].v6
	}
	flow := mix64(h ^ idx)
	c.setAddrs(netip.AddrPortFrom(client, port), netip.AddrPortFrom(sa, servers[srv].port),
		uint8(64-1-h%24), [2]uint32{uint32(flow), uint32(flow >> 32)})
	// The client's RTT to the server: 0.1–50 ms, log-uniform over the addresses.
	rtt := int64(100 * math.Pow(500, float64(h>>11)/(1<<53)))
	g.b.init(c, newRNG(g.cfg.Seed, idx<<8|uint64(p)+1), rtt)
	return g.b.build(p, s)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// placeLast places the last script so that it ends the capture at an
// instant with no timer within the margin.
func (g *gen) placeLast(c *conn, p Pattern, idx uint64, v6 bool, ip int, port uint16, s int64, o outcome) (outcome, error) {
	lb := max(g.maxEnd, o.end)
	e := g.planned
	if e < lb || !g.clearAt(e) {
		e = g.gapSearch(lb)
	}
	o = g.build(c, p, idx, v6, ip, port, s+e-o.end)
	if o.end != e {
		return o, errors.New("synth: internal error: a script changed when shifted")
	}
	if _, ok := conflict(&o, e); ok {
		return o, errors.New("synth: internal error: the last script has a timer near the end")
	}
	g.end = e
	return o, nil
}

// window returns the first and last ring buckets within the margin of e:
// no timer may fall in them if the capture ends at e.
func window(e int64) (lo, hi int64) { return (e - margin) / bucket, (e + margin) / bucket }

// conflict reports a timer of o in the window of the end e.
func conflict(o *outcome, e int64) (int64, bool) {
	lo, hi := window(e)
	for i := range o.n {
		for _, t := range o.conns[i].timers {
			if b := t.at / bucket; t.tr != trNone && b >= lo && b <= hi {
				return t.at, true
			}
		}
	}
	return 0, false
}

// lastTimer returns the latest timer of o, or its end.
func lastTimer(o *outcome) int64 {
	x := o.end
	for i := range o.n {
		for _, t := range o.conns[i].timers {
			if t.tr != trNone {
				x = max(x, t.at)
			}
		}
	}
	return x
}

// arrivals estimates how long connections keep arriving, from the start
// of the capture, at the rate seen so far (the configured rate in the first
// second; Concurrency may hold it back).
func (g *gen) arrivals(s int64) int64 {
	rate := g.rate
	if g.scripts >= rateWindow {
		if el := s - g.recent[g.scripts%rateWindow]; el > 0 {
			rate = min(rate, rateWindow/float64(el))
		}
	} else if el := s - g.start; el > sec {
		rate = min(rate, float64(g.scripts)/float64(el))
	}
	return s - g.start + int64(float64(g.connsLeft)/rate)
}

// replan moves the planned end when the arrivals call for it: later when
// they are slower than planned, earlier (not before a running script ends)
// when faster. The slack keeps it still against noise.
func (g *gen) replan(s int64) {
	t := g.target(s)
	slack := 10*sec + (t-s)/10
	switch {
	case t > g.planned+slack:
		g.planned = g.gapSearch(t)
	case t < g.planned-slack:
		if e := g.gapSearch(max(t, g.maxEnd)); e < g.planned {
			g.planned = e
		}
	}
}

// target is where the planned end belongs given the arrivals: after the
// last one, and late enough for the longest pattern to have at least half
// of the arrivals (so it is drawn at most twice as often as its weight
// while it may be drawn).
func (g *gen) target(s int64) int64 {
	a := g.arrivals(s)
	return g.start + max(a, g.longest+a/2) + 5*sec
}

// onSchedule says whether the planned end still suits the arrivals.
func (g *gen) onSchedule(s int64) bool { return g.target(s) <= g.planned+10*sec }

// pick draws a pattern from the mix for a script starting at s. A long
// pattern whose longest script would not end before the planned end is
// out, and is drawn more often before, in proportion, so that the mix holds
// over the whole capture (short ones are checked when built). Two-connection
// patterns need two connections left. If nothing is left, the mix is used
// as is (and the planned end moves).
func (g *gen) pick(s int64, left int, exclude uint32) Pattern {
	var w [numPatterns]float64
	total := 0.0
	arrivals := g.arrivals(s)
	for fit := true; ; fit = false {
		for p := range numPatterns {
			w[p] = 0
			if exclude&(1<<p) != 0 || p.conns() > left {
				continue
			}
			w[p] = g.weights[p]
			if fit && maxDur[p] > longScript {
				allowed := g.planned - tail(p) - g.start // arrivals before this may use p
				switch {
				case s-g.start > allowed:
					w[p] = 0
				case allowed < arrivals:
					w[p] *= float64(arrivals) / float64(allowed)
				}
			}
			total += w[p]
		}
		if total > 0 || !fit {
			break
		}
	}
	if total <= 0 {
		return Normal
	}
	x := g.rng.float() * total
	last := Normal
	for p := range numPatterns {
		if w[p] <= 0 {
			continue
		}
		last = p
		if x < w[p] {
			return p
		}
		x -= w[p]
	}
	return last
}

// longScript: patterns that may last longer are kept out of the last
// minutes of arrivals (their own tail) rather than tried and replaced.
const longScript = 20 * sec

// maxDur bounds each pattern's script duration (tested).
var maxDur = [numPatterns]int64{
	Normal: 11 * sec, ServerClose: 2 * sec, CloseWait: 11 * sec, NeverAccept: 11 * sec,
	FinWait2: 79 * sec, Refused: sec, SynTimeout: 16 * sec, SynRecv: 32 * sec, Reset: 9 * sec,
	SimultaneousClose: 8 * sec, LostFinalAck: 11 * sec, Retransmit: 12 * sec, KeepAlive: 98 * sec,
	ReuseCloseWait: 99 * sec, ReuseTimeWait: 71 * sec,
}

// tail is how long before the planned end a script of p may start: its
// longest duration plus room for a start delayed to dodge the end.
func tail(p Pattern) int64 { return maxDur[p] + 4*sec }

// pickUntried draws a pattern of the mix not tried yet for this script.
func (g *gen) pickUntried(s int64, tried *uint32) (Pattern, bool) {
	for p, w := range g.weights {
		if *tried&(1<<p) == 0 && w > 0 && Pattern(p).conns() <= g.connsLeft {
			q := g.pick(s, g.connsLeft, *tried)
			*tried |= 1 << q
			return q, true
		}
	}
	return 0, false
}

// server picks the server endpoint of script idx of pattern p.
func (g *gen) server(p Pattern, idx uint64) int {
	switch p {
	case Refused:
		return srvClosed
	case SynTimeout:
		return srvFiltered
	case CloseWait, NeverAccept, FinWait2, ReuseCloseWait:
		return srvLeaky
	}
	r := newRNG(g.cfg.Seed, idx<<8|0xff)
	x := r.float() * 100
	for i, s := range servers {
		if x < s.weight {
			return i
		}
		x -= s.weight
	}
	return 0
}

// allocClient picks a client address and its next ephemeral port. Ports
// are never reused across scripts, so no four-tuple is reused by accident.
func (g *gen) allocClient(v6 bool) (int, uint16) {
	v := b2u(v6)
	ip := g.rng.intn(g.nips)
	for g.ports[v][ip] == numPorts {
		ip = (ip + 1) % g.nips // this address has used every port
	}
	k := int(g.ports[v][ip])
	g.ports[v][ip]++
	// Linux walks the range from a random offset in steps of two (even
	// ports first), then the odd ones.
	off := int(mix64(uint64(g.cfg.Seed)^uint64(ip)<<1^v) % (numPorts / 2) * 2)
	pos := off + 2*k
	if k >= numPorts/2 {
		pos = off + 1 + 2*(k-numPorts/2)
	}
	return ip, uint16(firstPort + pos%numPorts)
}

func clientAddr(v6 bool, i int) netip.Addr {
	if v6 {
		a := clientBase6
		n := uint32(a[12])<<24 | uint32(a[13])<<16 | uint32(a[14])<<8 | uint32(a[15])
		n += uint32(i)
		a[12], a[13], a[14], a[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
		return netip.AddrFrom16(a)
	}
	a := clientBase4
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n += uint32(i)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// account adds a script's connections to the truth and its timers to the ring.
func (g *gen) account(p Pattern, o *outcome) {
	g.patterns[p]++
	g.connsLeft -= o.n
	for i := range o.n {
		co := &o.conns[i]
		g.conns++
		for k := range numKinds {
			if co.kinds&(1<<k) != 0 {
				g.findings[k]++
			}
		}
		g.cstates[co.client]++
		g.sstates[co.server]++
		for _, t := range co.timers {
			if t.tr != trNone {
				g.addTimer(t)
			}
		}
	}
}

func (g *gen) addTimer(t timer) {
	r := g.ring
	b := t.at / bucket
	if b < r.base || b-r.base >= ringSize {
		g.err = errors.New("synth: internal error: a timer outside the ring") // scripts are far shorter
		return
	}
	r.count[b&ringMask][t.tr]++
	r.total[b&ringMask]++
}

// applyTimers applies (to the end states cst, sst) the timers of every
// bucket before bucket upto: they expire before the capture ends.
func (g *gen) applyTimers(upto int64, cst, sst []int) {
	r := g.ring
	for b := r.base; b < upto && b < r.base+ringSize; b++ {
		i := b & ringMask
		if r.total[i] == 0 {
			continue
		}
		for tr := trans(1); tr < numTrans; tr++ {
			n := int(r.count[i][tr])
			if n == 0 {
				continue
			}
			st := cst
			if transFrom[tr].server {
				st = sst
			}
			st[transFrom[tr].from] -= n
			st[stClosed] += n
			r.count[i][tr] = 0
		}
		r.total[i] = 0
		r.applied = (b + 1) * bucket
	}
	r.base = max(r.base, upto)
}

// clearAt reports whether no timer lies within the margin of e.
func (g *gen) clearAt(e int64) bool { return g.gapSearch(e) == e }

// gapSearch returns the first instant from lb on with no pending or applied
// timer within the margin of it.
func (g *gen) gapSearch(lb int64) int64 {
	r := g.ring
	e := max(lb, r.applied+margin) // applied timers are all before r.applied
	for {
		hit := int64(-1)
		lo, hi := window(e)
		for b := max(lo, r.base); b <= hi && b < r.base+ringSize; b++ {
			if r.total[b&ringMask] > 0 {
				hit = b
			}
		}
		if hit < 0 {
			return e
		}
		e = (hit+1)*bucket + margin
	}
}

// truth completes the counts with the timers that expire before the end.
func (g *gen) truth() Truth {
	t := Truth{Connections: g.conns, Packets: g.packets, Bytes: g.written, Seed: g.cfg.Seed,
		Mix: g.cfg.Mix.String(), Snaplen: g.snaplen,
		Findings: map[string]int{}, ClientStates: map[string]int{}, ServerStates: map[string]int{},
		Patterns: map[string]int{}}
	cst, sst := g.cstates, g.sstates
	if g.packets > 0 {
		g.applyTimers(g.end/bucket+1, cst[:], sst[:])
		t.Start = time.UnixMicro(g.first).UTC()
		t.End = time.UnixMicro(g.end).UTC()
	}
	for k := range numKinds {
		t.Findings[k.String()] = g.findings[k]
	}
	for s := range numStates {
		if cst[s] != 0 {
			t.ClientStates[s.String()] = cst[s]
		}
		if sst[s] != 0 {
			t.ServerStates[s.String()] = sst[s]
		}
	}
	for p := range numPatterns {
		if g.patterns[p] > 0 {
			t.Patterns[p.String()] = g.patterns[p]
		}
	}
	return t
}
