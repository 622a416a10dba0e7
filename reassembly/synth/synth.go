// Package synth writes synthetic but protocol-faithful TCP traffic as a
// classic pcap file, together with the exact answer tcpstate must give for
// it: a capture generator with ground truth.
//
// Every connection follows a script chosen by a weighted, deterministic
// mix of patterns (normal request/response connections and each pathology
// of DESIGN §1: CLOSE_WAIT leaks, servers that never accept, FIN_WAIT_2
// orphans, refusals, SYN timeouts, half-open handshakes, resets,
// simultaneous closes, lost final ACKs, retransmissions, keep-alives and
// port reuse). Scripts are Linux-like: timestamps on every segment, MSS,
// SACK-permitted and window scale on SYNs, RTTs of 0.1–50 ms per client,
// delayed ACKs, back-off retransmissions. The capture point is the
// server's host: thousands of client addresses talk to a handful of server
// ip:ports, over IPv4 and IPv6.
//
// Write streams: memory is proportional to Config.Concurrency (the
// connections open at once) and never to Config.Conns, and writing a packet
// allocates nothing, so ten million connections (about 130 million packets)
// stream to stdout.
//
// # Ground truth
//
// Truth is derived from what the generator emitted and tcpstate's rules
// with its default timers (TIME_WAIT 2×30 s, FIN_WAIT_2 timeout 60 s,
// close-wait-min 5 s, the SYN give-up inference), never by running
// tcpstate. It equals tcpstate's JSON summary: connections, findings (per
// kind, the number of connections with at least one finding of that kind)
// and the end states of clients and servers. Boundaries are avoided by
// construction: no timer expires within [Margin] of the end of the capture,
// no timer inside a script is closer than that to the segment that settles
// it, and the capture ends with the last segment of the last script.
//
// The end of the capture is planned: connections arrive for about
// Conns/Rate seconds, and the capture ends a few seconds after the last
// arrival (or, in short runs, once the longest pattern of the mix had time
// to play out). A connection whose timers would expire within Margin of that
// end starts a little later (a short lull about a minute before the end).
// Long patterns (over 20 s: FIN_WAIT_2 orphans, SYN-ACK retransmissions,
// keep-alives, port reuse) do not start in the last minutes and are drawn
// proportionally more often before, so the mix holds; a rare script that
// still would not end in time is replaced by another pattern of the mix.
// When Concurrency holds the arrivals back, the plan follows the measured
// arrival rate. Truth.Patterns counts what was emitted.
//
// Output is deterministic for a Config on a given platform (timings use
// floating-point functions whose last bit may differ between architectures).
package synth

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Margin is the least distance between the end of the capture and any timer
// (TIME_WAIT, FIN_WAIT_2, SYN and SYN-ACK give-up) the truth depends on.
const Margin = time.Second

// Defaults for the zero values of Config.
const (
	DefaultConcurrency = 10000
	DefaultRate        = 2000 // new connections per second
	DefaultSnaplen     = 96
	DefaultClientIPs   = 4096
)

// MaxConns is the largest Config.Conns (four-tuples run out beyond).
const MaxConns = 1 << 31

// MaxSnaplen is the largest Config.Snaplen.
const MaxSnaplen = 262144

// MinSnaplen is the smallest Config.Snaplen that keeps the fixed TCP
// header (without options) of every frame: 54, or 74 with IPv6.
func MinSnaplen(ipv6 bool) int {
	if ipv6 {
		return ethLen + ipv6Len + tcpFixedLen
	}
	return ethLen + ipv4Len + tcpFixedLen
}

// DefaultStart is the capture's first timestamp when Config.Start is zero.
var DefaultStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Config says what to generate. The zero value of a field means its default.
type Config struct {
	// Conns is the number of connections, as tcpstate counts them (a
	// port-reuse script opens its four-tuple twice: two connections; when
	// one connection is left and the mix has only such patterns, a normal
	// connection stands in).
	Conns int
	// Concurrency bounds the connections open at once: a connection is
	// open from its first segment to its last. Default 10000.
	Concurrency int
	// Seed makes the output: the same Config gives the same bytes.
	Seed int64
	// IPv6Fraction is the share of connections over IPv6, in [0, 1].
	IPv6Fraction float64
	// Snaplen is the capture's snapshot length: each record holds
	// min(Snaplen, frame length) bytes. Default 96 (headers only).
	Snaplen int
	// Mix weighs the patterns; nil means DefaultMix.
	Mix Mix
	// Start is the first timestamp; zero means DefaultStart.
	Start time.Time
	// Rate is how many connections start per second of capture time
	// (exponential inter-arrival times), as far as Concurrency allows.
	// Default 2000.
	Rate float64
	// ClientIPs is the number of client addresses per IP version; it is
	// raised when Conns needs more four-tuples. Default 4096.
	ClientIPs int
}

// Truth is what tcpstate must report for the capture: its JSON summary's
// connections, findings, client_states and server_states, exactly, plus
// facts about the capture.
type Truth struct {
	Connections int `json:"connections"`
	// Packets is the number of records written.
	Packets int64 `json:"packets"`
	// Bytes is the size of the pcap file.
	Bytes int64 `json:"bytes"`
	// Start and End are the first and last timestamps.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Findings maps every finding kind tcpstate knows to the number of
	// connections with at least one finding of that kind.
	Findings map[string]int `json:"findings"`
	// ClientStates and ServerStates count end states (only states that occur).
	ClientStates map[string]int `json:"client_states"`
	ServerStates map[string]int `json:"server_states"`
	// Patterns counts the scripts emitted per pattern.
	Patterns map[string]int `json:"patterns"`
	// Seed, Mix and Snaplen say how the capture was made.
	Seed    int64  `json:"seed"`
	Mix     string `json:"mix"`
	Snaplen int    `json:"snaplen"`
}

// Pattern is one kind of scripted connection.
type Pattern uint8

// Patterns. Each comment says what tcpstate must find, per connection, and
// the end states (client/server) before timers.
const (
	// Normal: request/response exchanges, the client closes first.
	// time-wait; TIME_WAIT/CLOSED.
	Normal Pattern = iota
	// ServerClose: HTTP/1.0 style, the server closes first.
	// time-wait (server); CLOSED/TIME_WAIT.
	ServerClose
	// CloseWait: the client's FIN is ACKed, the server never closes (75 %
	// after answering, 25 % a handler stuck before answering).
	// close-wait, fin-wait-2; FIN_WAIT_2/CLOSE_WAIT.
	CloseWait
	// NeverAccept: the kernel completes the handshake and ACKs the request
	// and the FIN, the application never accept()s: no byte from the server.
	// close-wait, fin-wait-2; FIN_WAIT_2/CLOSE_WAIT.
	NeverAccept
	// FinWait2: a CLOSE_WAIT leak whose client FIN_WAIT_2 expires; the
	// server writes late and the client's kernel answers RST.
	// close-wait, fin-wait-2, reset; CLOSED/CLOSED.
	FinWait2
	// Refused: the SYN is answered by RST/ACK (no listener). refused; CLOSED/CLOSED.
	Refused
	// SynTimeout: the SYN is retransmitted at 1 s, 2 s, 4 s... back-off, never
	// answered (1 to 4 retransmissions). syn-timeout; SYN_SENT/UNKNOWN.
	SynTimeout
	// SynRecv: a half-open handshake: the SYN-ACK is retransmitted (1 to 5
	// times), the final ACK never comes. syn-recv; SYN_SENT/SYN_RECEIVED.
	SynRecv
	// Reset: an RST aborts an established connection (client 75 %, server 25 %).
	// reset; CLOSED/CLOSED.
	Reset
	// SimultaneousClose: both FINs cross. simultaneous-close, time-wait;
	// TIME_WAIT/TIME_WAIT.
	SimultaneousClose
	// LostFinalAck: the client's last ACK is lost, the server retransmits
	// its FIN, the client re-ACKs from TIME_WAIT. time-wait, fin-retransmit;
	// TIME_WAIT/CLOSED.
	LostFinalAck
	// Retransmit: a normal connection with a lost SYN-ACK (SYN and SYN-ACK
	// retransmitted) or a lost last data segment (retransmitted after an
	// RTO). time-wait; TIME_WAIT/CLOSED.
	Retransmit
	// KeepAlive: an idle connection with keep-alive probes every 5–20 s;
	// 70 % then close normally (time-wait; TIME_WAIT/CLOSED), 30 % stay open
	// (no finding; ESTABLISHED/ESTABLISHED).
	KeepAlive
	// ReuseCloseWait: two connections on one four-tuple. The first leaks
	// CLOSE_WAIT; after the client's FIN_WAIT_2 expired the client connects
	// again from the same port, the stale server socket answers with a
	// challenge ACK, the client resets it and retries.
	// First: close-wait, fin-wait-2, reset; CLOSED/CLOSED.
	// Second: port-reuse, time-wait; TIME_WAIT/CLOSED.
	ReuseCloseWait
	// ReuseTimeWait: two connections on one four-tuple: a new SYN 1–50 s
	// after the first connection closed, onto the server's TIME_WAIT (the
	// server closed first) or the client's own (tcp_tw_reuse).
	// First: time-wait; CLOSED/CLOSED. Second: port-reuse, time-wait; TIME_WAIT/CLOSED.
	ReuseTimeWait
	numPatterns
)

// NumPatterns is the number of patterns.
const NumPatterns = int(numPatterns)

var patternNames = [numPatterns]string{
	Normal: "normal", ServerClose: "server-close", CloseWait: "close-wait", NeverAccept: "never-accept",
	FinWait2: "fin-wait-2", Refused: "refused", SynTimeout: "syn-timeout", SynRecv: "syn-recv",
	Reset: "reset", SimultaneousClose: "simultaneous-close", LostFinalAck: "lost-final-ack",
	Retransmit: "retransmit", KeepAlive: "keepalive", ReuseCloseWait: "reuse-close-wait",
	ReuseTimeWait: "reuse-time-wait",
}

// String returns the pattern's name, e.g. "close-wait".
func (p Pattern) String() string {
	if p < numPatterns {
		return patternNames[p]
	}
	return "invalid"
}

// MarshalText makes a Pattern marshal as its name (also as a JSON map key).
func (p Pattern) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText parses a pattern name.
func (p *Pattern) UnmarshalText(b []byte) error {
	q, ok := ParsePattern(string(b))
	if !ok {
		return fmt.Errorf("synth: unknown pattern %q", b)
	}
	*p = q
	return nil
}

// ParsePattern returns the pattern named name.
func ParsePattern(name string) (Pattern, bool) {
	i := slices.Index(patternNames[:], name)
	if i < 0 {
		return 0, false
	}
	return Pattern(i), true
}

// Patterns returns every pattern, in order.
func Patterns() []Pattern {
	ps := make([]Pattern, numPatterns)
	for i := range ps {
		ps[i] = Pattern(i)
	}
	return ps
}

// conns returns how many connections (incarnations) one script of p opens.
func (p Pattern) conns() int {
	if p == ReuseCloseWait || p == ReuseTimeWait {
		return 2
	}
	return 1
}

// Mix weighs the patterns: each connection script picks pattern p with
// probability Mix[p] / (sum of the weights). Missing patterns weigh 0.
type Mix map[Pattern]float64

// DefaultMix is realistic: mostly normal connections, a few percent of each
// pathology. Its sockets left open at the end of a capture (CLOSE_WAIT
// leaks, idle keep-alive connections, half-open handshakes) are about 3 %
// of the connections.
func DefaultMix() Mix {
	return Mix{
		Normal: 80, ServerClose: 6, CloseWait: 1.5, NeverAccept: 0.5, FinWait2: 0.5,
		Refused: 1.5, SynTimeout: 1, SynRecv: 1, Reset: 2, SimultaneousClose: 0.5,
		LostFinalAck: 1, Retransmit: 3, KeepAlive: 1, ReuseCloseWait: 0.25, ReuseTimeWait: 0.25,
	}
}

// ParseMix parses "name=weight,name=weight,...". The items apply left to
// right to an empty mix: "default" loads DefaultMix, "all=W" sets every
// pattern to W, "name=W" sets one. Weights are relative.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if item == "default" {
			for p, w := range DefaultMix() {
				m[p] = w
			}
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("synth: mix item %q: want name=weight", item)
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return nil, fmt.Errorf("synth: mix item %q: weight must be a number ≥ 0", item)
		}
		name = strings.TrimSpace(name)
		if name == "all" {
			for _, p := range Patterns() {
				m[p] = w
			}
			continue
		}
		p, ok := ParsePattern(name)
		if !ok {
			return nil, fmt.Errorf("synth: unknown pattern %q (patterns: %s)", name, strings.Join(patternNames[:], ", "))
		}
		m[p] = w
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// String renders the mix as ParseMix reads it, in pattern order.
func (m Mix) String() string {
	var b strings.Builder
	for _, p := range Patterns() {
		if w := m[p]; w > 0 {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.String() + "=" + strconv.FormatFloat(w, 'g', -1, 64))
		}
	}
	return b.String()
}

func (m Mix) check() error {
	total := 0.0
	for p, w := range m {
		if p >= numPatterns {
			return fmt.Errorf("synth: invalid pattern %d in mix", p)
		}
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return fmt.Errorf("synth: pattern %s: weight must be a number ≥ 0", p)
		}
		total += w
	}
	if total <= 0 {
		return errors.New("synth: the mix has no pattern with a positive weight")
	}
	return nil
}

// kind is a tcpstate finding kind (fsm.Kind's names; synth does not import fsm).
type kind uint8

const (
	kCloseWait kind = iota
	kFinWait2
	kSynRecv
	kSynTimeout
	kPortReuse
	kRefused
	kReset
	kTimeWait
	kFinRetransmit
	kSimultaneousClose
	kCaptureGap
	kPartial
	numKinds
)

// kindNames are tcpstate's finding kinds, all of which its summary lists.
var kindNames = [numKinds]string{
	kCloseWait: "close-wait", kFinWait2: "fin-wait-2", kSynRecv: "syn-recv", kSynTimeout: "syn-timeout",
	kPortReuse: "port-reuse", kRefused: "refused", kReset: "reset", kTimeWait: "time-wait",
	kFinRetransmit: "fin-retransmit", kSimultaneousClose: "simultaneous-close",
	kCaptureGap: "capture-gap", kPartial: "partial",
}

func (k kind) String() string { return kindNames[k] }

// kinds is a set of finding kinds.
type kinds uint16

func kindSet(ks ...kind) kinds {
	var s kinds
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// state is an endpoint's state as tcpstate names it.
type state uint8

const (
	stUnknown state = iota
	stClosed
	stSynSent
	stSynReceived
	stEstablished
	stFinWait1
	stFinWait2
	stCloseWait
	stClosing
	stLastAck
	stTimeWait
	numStates
)

var stateNames = [numStates]string{
	stUnknown: "UNKNOWN", stClosed: "CLOSED", stSynSent: "SYN_SENT", stSynReceived: "SYN_RECEIVED",
	stEstablished: "ESTABLISHED", stFinWait1: "FIN_WAIT_1", stFinWait2: "FIN_WAIT_2",
	stCloseWait: "CLOSE_WAIT", stClosing: "CLOSING", stLastAck: "LAST_ACK", stTimeWait: "TIME_WAIT",
}

func (s state) String() string { return stateNames[s] }

// tcpstate's default timers, which the truth assumes.
const (
	msl        = 30 * sec
	timeWait   = 2 * msl
	finTimeout = 60 * sec
	initialRTO = 3 * sec // a lone SYN is given 3 s before the give-up inference
	minRTO     = 200 * ms
)

// Time units of the generator's clock (microseconds, as in the pcap).
const (
	us  = int64(1)
	ms  = 1000 * us
	sec = 1000 * ms
)

// Write writes a capture made as cfg says to w and returns its ground truth.
func Write(w io.Writer, cfg Config) (Truth, error) {
	g, err := newGen(w, cfg)
	if err != nil {
		return Truth{}, err
	}
	if err := g.run(); err != nil {
		return Truth{}, err
	}
	return g.truth(), nil
}
