package synth

// pkt is one scripted segment. Scripts are built whole when a connection
// starts and then emitted one segment at a time, in time order.
type pkt struct {
	t            int64 // capture time, µs since the Unix epoch
	seq, ack     uint32
	tsval, tsecr uint32
	plen         uint16 // payload bytes (zeros)
	win          uint16
	ipid         uint16
	flags        tcpFlags
	dir          uint8 // cs or sc
	opt          optKind
	zeroID       bool // sent with IP ID 0 (SYN-ACK, RST for no socket, TIME_WAIT ACK)
}

// Directions: the client's segments and the server's.
const (
	cs = 0
	sc = 1
)

// trans is a timer that closes an endpoint after its script ended, if the
// capture goes on long enough.
type trans uint8

const (
	trNone              trans = iota
	trClientTimeWait          // 2×MSL after TIME_WAIT was entered
	trServerTimeWait          //
	trClientFinWait2          // fin-timeout after FIN_WAIT_2 went idle
	trClientSynSent           // the SYN give-up inference
	trServerSynReceived       // the SYN-ACK give-up inference
	numTrans
)

// transFrom says which endpoint a timer closes, and from which state.
var transFrom = [numTrans]struct {
	server bool
	from   state
}{
	trClientTimeWait:    {false, stTimeWait},
	trServerTimeWait:    {true, stTimeWait},
	trClientFinWait2:    {false, stFinWait2},
	trClientSynSent:     {false, stSynSent},
	trServerSynReceived: {true, stSynReceived},
}

type timer struct {
	at int64 // the instant after which tcpstate applies it
	tr trans
}

// connOutcome is what tcpstate must say about one connection of a script.
type connOutcome struct {
	kinds          kinds
	client, server state // at the end of the script
	timers         [2]timer
}

// outcome is what a script emitted and what tcpstate must make of it.
type outcome struct {
	n          int // connections (1, or 2 for port reuse)
	conns      [2]connOutcome
	start, end int64 // first and last segment
}

// maxSegs bounds a response's segments (responses are at most 10 kB).
const maxSegs = 32

// Linux's initial congestion window (RFC 6928) and delayed-ACK timeout.
const (
	initCwnd   = 10
	delayedACK = 40 * ms
)

// builder writes one script into a conn. The capture point is the server's
// host: a server segment is captured when sent, a client segment when it
// arrives, so the client reacts to a server segment one RTT later.
type builder struct {
	c      *conn
	r      rng
	rtt    int64 // µs
	seg    uint32
	isn    [2]uint32
	nxt    [2]uint32 // next sequence number each side sends
	tsoff  [2]uint32
	win    [2]uint16 // raw windows after the handshake (scaled by 2^7)
	synWin [2]uint16
	last   [2]int64 // time of each side's last segment: sends stay in order
	o      outcome
}

// init prepares b to build a script of c from the random stream r.
func (b *builder) init(c *conn, r rng, rtt int64) {
	b.c = c
	c.pkts = c.pkts[:0]
	b.r = r
	b.rtt = int64(float64(rtt) * (0.9 + 0.2*b.r.float()))
	b.seg = uint32(c.mss) - tsOptLen
	b.isn = [2]uint32{b.r.u32(), b.r.u32()}
	b.tsoff = [2]uint32{b.r.u32(), b.r.u32()}
	if c.v6 {
		b.synWin, b.win = [2]uint16{64800, 64260}, [2]uint16{506, 502}
	} else {
		b.synWin, b.win = [2]uint16{64240, 65160}, [2]uint16{502, 509}
	}
	b.last = [2]int64{}
	b.o = outcome{n: 1}
}

// add appends a segment sent at t (later if the side already sent at or
// after t) and returns it; the pointer is valid until the next add.
func (b *builder) add(t int64, dir int, f tcpFlags, seq, ack uint32, plen int, opt optKind) *pkt {
	if t <= b.last[dir] {
		t = b.last[dir] + 1
	}
	b.last[dir] = t
	b.c.pkts = append(b.c.pkts, pkt{t: t, dir: uint8(dir), flags: f, seq: seq, ack: ack,
		plen: uint16(plen), opt: opt, win: b.win[dir]})
	return &b.c.pkts[len(b.c.pkts)-1]
}

// ack sends a pure ACK of everything received so far.
func (b *builder) ack(t int64, dir int) int64 {
	return b.add(t, dir, flagACK, b.nxt[dir], b.nxt[dir^1], 0, optTS).t
}

// Timing: the server's kernel answers in 8–40 µs, the client's answers to
// the server arrive one RTT (±5 %) and a little stack time later, back-to-
// back segments leave 2–12 µs apart.
func (b *builder) kd() int64  { return b.r.between(8, 40) }
func (b *builder) gap() int64 { return b.r.between(2, 12) }
func (b *builder) rt() int64 {
	return b.rtt + int64(float64(b.rtt)*0.05*b.r.float()) + b.r.between(5, 30)
}
func (b *builder) logDur(lo, hi int64) int64 { return int64(b.r.logUniform(float64(lo), float64(hi))) }

func (b *builder) syn(t int64) int64 {
	p := b.add(t, cs, flagSYN, b.isn[cs], 0, 0, optSYN)
	p.win = b.synWin[cs]
	b.nxt[cs] = b.isn[cs] + 1
	return p.t
}

func (b *builder) synAck(t int64) int64 {
	p := b.add(t, sc, flagSYN|flagACK, b.isn[sc], b.isn[cs]+1, 0, optSYN)
	p.win, p.zeroID = b.synWin[sc], true
	b.nxt[sc] = b.isn[sc] + 1
	return p.t
}

// rstNoSocket is the RST a kernel sends for a segment that matched no
// socket: seq is that segment's ACK field, no ACK flag, no options.
func (b *builder) rstNoSocket(t int64, dir int, seq uint32) int64 {
	p := b.add(t, dir, flagRST, seq, 0, 0, optNone)
	p.win, p.zeroID = 0, true
	return p.t
}

// handshake: SYN at t, SYN-ACK, the client's ACK; returns the ACK's time.
func (b *builder) handshake(t int64) int64 {
	t = b.syn(t)
	t = b.synAck(t + b.kd())
	return b.ack(t+b.rt(), cs)
}

// request sends the client's request from t and returns its last segment's time.
func (b *builder) request(t int64) int64 {
	size := int(b.r.logUniform(60, 1400))
	if b.r.chance(0.1) {
		size += int(b.seg)
	}
	for size > 0 {
		l := min(size, int(b.seg))
		f := flagACK
		if l == size {
			f |= flagPSH
		}
		t = b.add(t, cs, f, b.nxt[cs], b.nxt[sc], l, optTS).t
		b.nxt[cs] += uint32(l)
		size -= l
		if size > 0 {
			t += b.gap()
		}
	}
	return t
}

// exchange is one request and, if respond, its response. quick: the server
// ACKs the request at once (Linux's quick-ACK mode early in a connection).
// loseLast: the response's last segment is lost after the capture point
// and retransmitted. It returns the time of the exchange's last segment
// and of the server's last data segment.
func (b *builder) exchange(t int64, quick, respond, loseLast bool) (end, lastData int64) {
	tReq := b.request(t)
	end = tReq
	if quick || !respond {
		end = b.ack(tReq+b.kd(), sc)
	}
	if !respond {
		return end, 0
	}
	think := b.logDur(100, 200*ms)
	if !quick && think > delayedACK {
		end = b.ack(tReq+delayedACK, sc)
	}
	size := int(b.r.logUniform(120, 10000))
	return b.response(max(tReq+think, end+b.gap()), size, loseLast)
}

// response sends size bytes from the server from t: a first flight of up
// to ten segments, the rest released by the client's ACKs (one for every
// second segment and for the last).
func (b *builder) response(t int64, size int, loseLast bool) (end, lastData int64) {
	seg := int(b.seg)
	n := (size + seg - 1) / seg
	var ts [maxSegs]int64
	seq0 := b.nxt[sc]
	segEnd := func(i int) uint32 { return seq0 + uint32(min((i+1)*seg, size)) }
	acked := func(i int) bool { return (i%2 == 1 || i == n-1) && !(loseLast && i == n-1) }
	var ackAt [maxSegs]int64
	for i := range n {
		switch {
		case i < initCwnd:
			ts[i] = t + int64(i)*b.gap()
		default:
			// ACK j (of segments 2j and 2j+1) releases four segments.
			rel := 2*((i-initCwnd)/4) + 1
			ts[i] = ackAt[rel] + b.kd() + int64((i-initCwnd)%4)*b.gap()
		}
		f := flagACK
		if i == n-1 {
			f |= flagPSH
		}
		start := seq0 + uint32(i*seg)
		ts[i] = b.add(ts[i], sc, f, start, b.nxt[cs], int(segEnd(i)-start), optTS).t
		if acked(i) {
			ackAt[i] = b.add(ts[i]+b.rt(), cs, flagACK, b.nxt[cs], segEnd(i), 0, optTS).t
			end = ackAt[i]
		}
	}
	lastData = ts[n-1]
	end = max(end, lastData)
	if loseLast {
		if n >= 2 && !acked(n-2) {
			// the client got the second-to-last segment alone: delayed ACK
			end = max(end, b.add(ts[n-2]+b.rt()+delayedACK, cs, flagACK, b.nxt[cs], segEnd(n-2), 0, optTS).t)
		}
		// RTO (Linux: at least 200 ms) then the retransmission and its ACK
		start := seq0 + uint32((n-1)*seg)
		lastData = b.add(ts[n-1]+minRTO+b.rtt+b.r.between(0, 20*ms), sc, flagACK|flagPSH, start, b.nxt[cs],
			int(segEnd(n-1)-start), optTS).t
		end = b.add(lastData+b.rt(), cs, flagACK, b.nxt[cs], segEnd(n-1), 0, optTS).t
	}
	b.nxt[sc] = seq0 + uint32(size)
	return end, lastData
}

// exchanges: one exchange (80 %) or two to four on a persistent connection,
// the first right after the handshake that ended at t.
func (b *builder) exchanges(t int64) int64 {
	n := 1
	if b.r.chance(0.2) {
		n = 2 + b.r.intn(3)
	}
	end, _ := b.exchange(t+b.r.between(20, 300), true, true, false)
	for range n - 1 {
		end, _ = b.exchange(end+b.logDur(ms, sec), false, true, false)
	}
	return end
}

// idle is how long a client keeps a connection before closing it.
func (b *builder) idle() int64 { return b.logDur(200, 3*sec) }

// clientClose: the client's FIN at t, the server's FIN (with its ACK, or
// after a delayed ACK and the application's close), the client's last ACK.
// lose: that last ACK is lost, the server retransmits its FIN after an RTO
// and the client re-ACKs from TIME_WAIT. It returns when tcpstate sees the
// client enter TIME_WAIT: its (last) ACK of the server's FIN.
func (b *builder) clientClose(t int64, lose bool) int64 {
	t = b.add(t, cs, flagFIN|flagACK, b.nxt[cs], b.nxt[sc], 0, optTS).t
	b.nxt[cs]++
	if b.r.chance(0.3) {
		t = b.ack(t+delayedACK+b.r.between(0, 2*ms), sc)
		t += b.logDur(ms, sec)
	} else {
		t += b.kd() + b.r.between(10, 200)
	}
	t = b.add(t, sc, flagFIN|flagACK, b.nxt[sc], b.nxt[cs], 0, optTS).t
	fin := b.nxt[sc]
	b.nxt[sc]++
	if lose {
		t = b.add(t+minRTO+b.rtt+b.r.between(0, 20*ms), sc, flagFIN|flagACK, fin, b.nxt[cs], 0, optTS).t
		p := b.add(t+b.rt(), cs, flagACK, b.nxt[cs], b.nxt[sc], 0, optTS)
		p.zeroID = true // a TIME_WAIT socket's ACK
		return p.t
	}
	return b.ack(t+b.rt(), cs)
}

// serverClose: the server's FIN at t, the client's FIN when its application
// reads EOF (80 % with the ACK of the server's FIN, else after it), the
// server's last ACK. It returns when the server enters TIME_WAIT: that ACK.
func (b *builder) serverClose(t int64) int64 {
	t = b.add(t, sc, flagFIN|flagACK, b.nxt[sc], b.nxt[cs], 0, optTS).t
	b.nxt[sc]++
	if b.r.chance(0.2) {
		t = b.ack(t+b.rt(), cs)
		t += b.logDur(ms, 500*ms)
	} else {
		t += b.rt() + b.r.between(10, 300)
	}
	t = b.add(t, cs, flagFIN|flagACK, b.nxt[cs], b.nxt[sc], 0, optTS).t
	b.nxt[cs]++
	return b.ack(t+b.kd(), sc)
}

// leak: the client's FIN at t, ACKed by the server's kernel (mostly a
// delayed ACK), and nothing more from the server's application. It returns
// when the client enters FIN_WAIT_2: that ACK.
func (b *builder) leak(t int64) int64 {
	t = b.add(t, cs, flagFIN|flagACK, b.nxt[cs], b.nxt[sc], 0, optTS).t
	b.nxt[cs]++
	if b.r.chance(0.7) {
		return b.ack(t+delayedACK+b.r.between(0, 4*ms), sc)
	}
	return b.ack(t+b.kd(), sc)
}

// served is a connection that answered its requests and leaked CLOSE_WAIT
// once the client closed; it returns the start of FIN_WAIT_2.
func (b *builder) served(s int64) int64 {
	end := b.exchanges(b.handshake(s))
	return b.leak(end + b.logDur(ms, 2*sec))
}

func (b *builder) one(k kinds, client, server state, timers ...timer) {
	b.o.conns[0] = connOutcome{kinds: k, client: client, server: server}
	copy(b.o.conns[0].timers[:], timers)
}

// build writes the script of pattern p starting at s and returns its outcome.
// The script's shape depends only on b's random stream, never on s: built
// again at another start it is the same script shifted in time.
func (b *builder) build(p Pattern, s int64) outcome {
	switch p {
	case Normal:
		end := b.exchanges(b.handshake(s))
		tw := b.clientClose(end+b.idle(), false)
		b.one(kindSet(kTimeWait), stTimeWait, stClosed, timer{tw + timeWait, trClientTimeWait})

	case ServerClose:
		_, last := b.exchange(b.handshake(s)+b.r.between(20, 300), true, true, false)
		tw := b.serverClose(last + b.gap())
		b.one(kindSet(kTimeWait), stClosed, stTimeWait, timer{tw + timeWait, trServerTimeWait})

	case CloseWait:
		var fw2 int64
		if b.r.chance(0.75) {
			fw2 = b.served(s)
		} else { // a handler stuck before answering; the client times out
			end, _ := b.exchange(b.handshake(s)+b.r.between(20, 300), true, false, false)
			fw2 = b.leak(end + b.logDur(sec, 10*sec))
		}
		b.one(kindSet(kCloseWait, kFinWait2), stFinWait2, stCloseWait, timer{fw2 + finTimeout, trClientFinWait2})

	case NeverAccept:
		end, _ := b.exchange(b.handshake(s)+b.r.between(20, 300), true, false, false)
		wait := b.r.between(5, 100) // the client closes at once (accept backlog)
		if b.r.chance(0.6) {
			wait = b.logDur(50*ms, 10*sec) // or after its timeout
		}
		fw2 := b.leak(end + wait)
		b.one(kindSet(kCloseWait, kFinWait2), stFinWait2, stCloseWait, timer{fw2 + finTimeout, trClientFinWait2})

	case FinWait2:
		fw2 := b.served(s)
		// The client's orphaned FIN_WAIT_2 expires; the server writes later
		// and the client's kernel, with no socket left, answers RST.
		size := int(b.r.between(20, 600))
		t := b.add(fw2+finTimeout+b.r.between(2*sec, 10*sec), sc, flagPSH|flagACK, b.nxt[sc], b.nxt[cs], size, optTS).t
		b.nxt[sc] += uint32(size)
		b.rstNoSocket(t+b.rt(), cs, b.nxt[cs])
		b.one(kindSet(kCloseWait, kFinWait2, kReset), stClosed, stClosed)

	case Refused:
		t := b.syn(s)
		p := b.add(t+b.kd(), sc, flagRST|flagACK, 0, b.isn[cs]+1, 0, optNone)
		p.win, p.zeroID = 0, true
		b.one(kindSet(kRefused), stClosed, stClosed)

	case SynTimeout:
		t := b.syn(s)
		prev := t
		for i := range 1 + b.weighted(0.3, 0.3, 0.25, 0.15) {
			prev = t
			t = b.syn(t + sec<<i + b.r.between(0, 25*ms))
		}
		b.one(kindSet(kSynTimeout), stSynSent, stUnknown, timer{giveUp(prev, t), trClientSynSent})

	case SynRecv:
		t := b.synAck(b.syn(s) + b.kd())
		prev := t
		for i := range 1 + b.r.intn(5) {
			prev = t
			t = b.synAck(t + sec<<i + b.r.between(0, 20*ms))
		}
		b.one(kindSet(kSynRecv), stSynSent, stSynReceived, timer{giveUp(prev, t), trServerSynReceived})

	case Reset:
		t := b.handshake(s)
		dir, v := cs, b.r.float()
		switch {
		case v < 0.5: // the client aborts after its exchanges (SO_LINGER 0)
			t = b.exchanges(t) + b.logDur(100, 2*sec)
		case v < 0.75: // the client gives up waiting for the response
			end, _ := b.exchange(t+b.r.between(20, 300), true, false, false)
			t = end + b.logDur(50*ms, 5*sec)
		default: // the server aborts
			t = b.exchanges(t) + b.logDur(100, sec)
			dir = sc
		}
		b.add(t, dir, flagRST|flagACK, b.nxt[dir], b.nxt[dir^1], 0, optTS)
		b.one(kindSet(kReset), stClosed, stClosed)

	case SimultaneousClose:
		t := b.exchanges(b.handshake(s)) + b.logDur(ms, sec)
		// The server's FIN is captured before the client's FIN arrives; the
		// client sent its FIN before it got the server's: neither FIN's ACK
		// field covers the other FIN.
		t = b.add(t, sc, flagFIN|flagACK, b.nxt[sc], b.nxt[cs], 0, optTS).t
		sfin := b.nxt[sc]
		b.nxt[sc]++
		t1 := b.add(t+max(1, int64(float64(b.rtt)*(0.1+0.8*b.r.float()))), cs, flagFIN|flagACK, b.nxt[cs], sfin, 0, optTS).t
		b.nxt[cs]++
		// The server's ACK (seq past its FIN) is where tcpstate sees the
		// client get the server's FIN and enter TIME_WAIT via CLOSING.
		t2 := b.ack(t1+b.kd(), sc)
		t3 := b.ack(max(t+b.rt(), t2+b.r.between(5, 20)), cs)
		b.one(kindSet(kSimultaneousClose, kTimeWait), stTimeWait, stTimeWait,
			timer{t2 + timeWait, trClientTimeWait}, timer{t3 + timeWait, trServerTimeWait})

	case LostFinalAck:
		end := b.exchanges(b.handshake(s))
		tw := b.clientClose(end+b.idle(), true)
		b.one(kindSet(kTimeWait, kFinRetransmit), stTimeWait, stClosed, timer{tw + timeWait, trClientTimeWait})

	case Retransmit:
		var end int64
		if b.r.chance(0.4) {
			// The first SYN-ACK is lost on its way to the client, which
			// retransmits its SYN after 1 s; the server answers it again.
			t := b.synAck(b.syn(s) + b.kd())
			t = b.syn(t + sec + b.r.between(0, 25*ms))
			t = b.synAck(t + b.kd())
			end = b.exchanges(b.ack(t+b.rt(), cs))
		} else {
			// The response's last segment is lost and retransmitted.
			end, _ = b.exchange(b.handshake(s)+b.r.between(20, 300), true, true, true)
		}
		tw := b.clientClose(end+b.idle(), false)
		b.one(kindSet(kTimeWait), stTimeWait, stClosed, timer{tw + timeWait, trClientTimeWait})

	case KeepAlive:
		last := b.exchanges(b.handshake(s))
		every := b.r.between(5*sec, 20*sec)
		for range 1 + b.r.intn(4) {
			// a probe: one byte before SND.NXT, no payload (Linux)
			t := b.add(last+every, cs, flagACK, b.nxt[cs]-1, b.nxt[sc], 0, optTS).t
			last = b.ack(t+b.kd(), sc)
		}
		if b.r.chance(0.7) {
			tw := b.clientClose(last+b.logDur(ms, every/2), false)
			b.one(kindSet(kTimeWait), stTimeWait, stClosed, timer{tw + timeWait, trClientTimeWait})
		} else {
			b.one(0, stEstablished, stEstablished)
		}

	case ReuseCloseWait:
		fw2 := b.served(s)
		oldC, oldS := b.nxt[cs], b.nxt[sc]
		b.isn = [2]uint32{b.r.u32(), b.r.u32()}
		if b.isn[cs]+1 == oldC {
			b.isn[cs]++
		}
		// After FIN_WAIT_2 expired the client connects from the same port.
		t := b.syn(fw2 + finTimeout + b.r.between(2*sec, 20*sec))
		// The server's CLOSE_WAIT socket answers with an ACK for the old
		// connection (RFC 5961 challenge ACK); the client, in SYN_SENT,
		// resets it, which frees the four-tuple, and retries at once.
		t = b.add(t+b.kd(), sc, flagACK, oldS, oldC, 0, optTS).t
		t = b.rstNoSocket(t+b.rt(), cs, oldC)
		t = b.syn(t + b.r.between(8*ms, 12*ms))
		t = b.synAck(t + b.kd())
		end := b.exchanges(b.ack(t+b.rt(), cs))
		tw := b.clientClose(end+b.idle(), false)
		b.o.n = 2
		b.o.conns[0] = connOutcome{kinds: kindSet(kCloseWait, kFinWait2, kReset), client: stClosed, server: stClosed}
		b.o.conns[1] = connOutcome{kinds: kindSet(kPortReuse, kTimeWait), client: stTimeWait, server: stClosed,
			timers: [2]timer{{tw + timeWait, trClientTimeWait}}}

	case ReuseTimeWait:
		t := b.handshake(s)
		if b.r.chance(0.5) {
			// The server closed first; its TIME_WAIT takes the new SYN.
			_, last := b.exchange(t+b.r.between(20, 300), true, true, false)
			t = b.serverClose(last + b.gap())
		} else {
			// The client closed first and reuses its own TIME_WAIT port (tcp_tw_reuse).
			t = b.clientClose(b.exchanges(t)+b.idle(), false)
		}
		b.isn = [2]uint32{b.nxt[cs] + uint32(b.r.between(1<<20, 1<<28)), b.r.u32()}
		end := b.exchanges(b.handshake(t + b.r.between(1500*ms, 50*sec)))
		tw := b.clientClose(end+b.idle(), false)
		b.o.n = 2
		b.o.conns[0] = connOutcome{kinds: kindSet(kTimeWait), client: stClosed, server: stClosed}
		b.o.conns[1] = connOutcome{kinds: kindSet(kPortReuse, kTimeWait), client: stTimeWait, server: stClosed,
			timers: [2]timer{{tw + timeWait, trClientTimeWait}}}
	}
	b.finish()
	return b.o
}

// giveUp returns the instant after which tcpstate presumes an opener that
// retransmitted at prev and last gave up: the next retransmission, at
// twice the last interval, was due and half an interval more has passed.
func giveUp(prev, last int64) int64 {
	rto := max(2*(last-prev), minRTO)
	return last + rto + rto/2
}

// weighted returns i with probability w[i].
func (b *builder) weighted(w ...float64) int {
	x := b.r.float()
	for i, p := range w {
		if x < p {
			return i
		}
		x -= p
	}
	return len(w) - 1
}

// finish orders the script by time and fills what depends on the order:
// timestamps (TSval from each side's millisecond clock, TSecr the last
// TSval the sender had received) and IP IDs (a counter per side).
func (b *builder) finish() {
	ps := b.c.pkts
	for i := 1; i < len(ps); i++ { // insertion sort: the script is nearly in order
		for j := i; j > 0 && ps[j].t < ps[j-1].t; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
	id := [2]uint16{uint16(b.r.u32()), uint16(b.r.u32())}
	for i := range ps {
		p := &ps[i]
		if !b.c.v6 && !p.zeroID {
			id[p.dir]++
			p.ipid = id[p.dir]
		}
		if p.opt == optNone {
			continue
		}
		p.tsval = b.tsoff[p.dir] + uint32(p.t/ms)
		if p.flags&(flagSYN|flagACK) == flagSYN {
			continue // a SYN echoes nothing
		}
		seen := p.t // the server gets a client segment when it is captured
		if p.dir == cs {
			seen -= b.rtt / 2 // the client got server segments half an RTT after capture
		}
		for j := i - 1; j >= 0; j-- {
			q := &ps[j]
			if q.dir != p.dir && q.opt != optNone && q.t <= seen {
				p.tsecr = q.tsval
				break
			}
		}
	}
	b.o.start, b.o.end = ps[0].t, ps[len(ps)-1].t
}
