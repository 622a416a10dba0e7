package report

import (
	"net/netip"
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// Snapshot is every endpoint's state at one moment of the capture: what
// `ss -tan` would have shown then on the two hosts (tcpstate --at).
type Snapshot struct {
	At time.Time `json:"at"`
	// Clients and Servers count the endpoints in each open state, exactly.
	Clients map[string]int `json:"clients"`
	Servers map[string]int `json:"servers"`
	// Endpoints lists them, by local then peer endpoint, at most
	// MaxSnapshotEndpoints; Omitted counts the others.
	Endpoints []SnapshotEndpoint `json:"endpoints"`
	Omitted   int                `json:"omitted"`
	// AfterEnd is set when the moment is past the capture's last packet:
	// the states are then those at the end.
	AfterEnd bool `json:"after_end,omitempty"`
	// BeforeStart is set when the moment precedes the capture.
	BeforeStart bool `json:"before_start,omitempty"`
}

// SnapshotEndpoint is one socket at a snapshot's moment.
type SnapshotEndpoint struct {
	Role  string    `json:"role"` // client or server
	State fsm.State `json:"state"`
	Local string    `json:"local"`
	Peer  string    `json:"peer"`
	// Since is when the endpoint entered the state; Seconds how long before
	// the moment that was.
	Since   time.Time `json:"since"`
	Seconds float64   `json:"seconds"`
	// Presumed: the state was inferred without a packet showing it (a
	// timer, or a connection joined mid-stream).
	Presumed   bool   `json:"presumed,omitempty"`
	Connection uint64 `json:"connection"`
}

// MaxSnapshotEndpoints bounds the endpoints a snapshot lists (counts stay exact).
const MaxSnapshotEndpoints = 10000

// snapEP is a kept snapshot endpoint, ordered by local then peer.
type snapEP struct {
	role        int
	state       fsm.State
	local, peer netip.AddrPort
	since       time.Time
	presumed    bool
	conn        uint64
}

func (a snapEP) less(b snapEP) bool {
	if c := a.local.Compare(b.local); c != 0 {
		return c < 0
	}
	if c := a.peer.Compare(b.peer); c != 0 {
		return c < 0
	}
	return a.conn < b.conn
}

// snapAgg accumulates one snapshot.
type snapAgg struct {
	at     time.Time
	counts [2][fsm.NumStates]int
	eps    boundedMax[snapEP]
}

// SetSnapshots asks for a snapshot at each moment; call it before any Add.
func (b *Builder) SetSnapshots(at []time.Time) {
	b.snaps = make([]snapAgg, len(at))
	for i, t := range at {
		b.snaps[i] = snapAgg{at: t, eps: boundedMax[snapEP]{less: snapEP.less}}
	}
}

// stateAt is the endpoint's state at t: the last change at or before t
// (ok false before its first change, or when that state holds no socket).
func stateAt(e *fsm.Endpoint, t time.Time) (ch fsm.Change, ok bool) {
	// The first change after t (the comparison never says "equal").
	i, _ := slices.BinarySearchFunc(e.Timeline, reassembly.StampOf(t), func(c fsm.Change, t reassembly.Stamp) int {
		if c.Time.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return fsm.Change{}, false
	}
	ch = e.Timeline[i-1]
	return ch, ch.To.Open()
}

// addSnapshots folds c's endpoints into the snapshots they were alive at.
func (b *Builder) addSnapshots(c *fsm.Conn) {
	for i := range b.snaps {
		s := &b.snaps[i]
		if s.at.Before(c.First) {
			continue
		}
		for r, e := range [2]*fsm.Endpoint{&c.Client, &c.Server} {
			ch, ok := stateAt(e, s.at)
			if !ok {
				continue
			}
			s.counts[r][ch.To]++
			peer := &c.Server
			if r == 1 {
				peer = &c.Client
			}
			s.eps.add(snapEP{role: r, state: ch.To, local: e.Addr, peer: peer.Addr, since: ch.Time.Time(),
				presumed: ch.Presumed, conn: c.ID}, MaxSnapshotEndpoints)
		}
	}
}

func (b *Builder) mergeSnapshots(o *Builder) {
	for i := range b.snaps {
		s, os := &b.snaps[i], &o.snaps[i]
		for r := range s.counts {
			for st := range s.counts[r] {
				s.counts[r][st] += os.counts[r][st]
			}
		}
		for _, e := range os.eps.items {
			s.eps.add(e, MaxSnapshotEndpoints)
		}
	}
}

func (b *Builder) renderSnapshots(start, end *time.Time) []Snapshot {
	if b.snaps == nil {
		return nil
	}
	out := make([]Snapshot, 0, len(b.snaps))
	for _, s := range b.snaps {
		sn := Snapshot{At: s.at.UTC(), Clients: map[string]int{}, Servers: map[string]int{}, Endpoints: []SnapshotEndpoint{}}
		sn.AfterEnd = end != nil && s.at.After(*end)
		sn.BeforeStart = start != nil && s.at.Before(*start)
		total := 0
		for st := range fsm.NumStates {
			if n := s.counts[0][st]; n > 0 {
				sn.Clients[fsm.State(st).String()] = n
				total += n
			}
			if n := s.counts[1][st]; n > 0 {
				sn.Servers[fsm.State(st).String()] = n
				total += n
			}
		}
		eps := slices.Clone(s.eps.items)
		slices.SortFunc(eps, func(a, b snapEP) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
		for _, e := range eps {
			sn.Endpoints = append(sn.Endpoints, SnapshotEndpoint{Role: roleName(e.role), State: e.state,
				Local: addr(e.local), Peer: addr(e.peer), Since: e.since.UTC(), Seconds: s.at.Sub(e.since).Seconds(),
				Presumed: e.presumed, Connection: e.conn})
		}
		sn.Omitted = total - len(eps)
		out = append(out, sn)
	}
	return out
}

func roleName(r int) string {
	if r == 0 {
		return "client"
	}
	return "server"
}

// Timeline is the number of endpoints in each state at regular moments
// (tcpstate --timeline STEP): the data behind the HTML chart, sampled.
type Timeline struct {
	// StepSeconds is the time between samples: the step asked for, or a
	// power-of-two multiple of it when the capture is too long for
	// MaxTimelineSamples (Widened is then set).
	StepSeconds float64          `json:"step_seconds"`
	Widened     bool             `json:"widened,omitempty"`
	Samples     []TimelineSample `json:"samples"`
}

// TimelineSample is one moment's counts; states with no endpoint are left out.
type TimelineSample struct {
	At      time.Time      `json:"at"`
	Clients map[string]int `json:"clients"`
	Servers map[string]int `json:"servers"`
}

// MaxTimelineSamples bounds the samples of a timeline.
const MaxTimelineSamples = 100000

// sampler counts endpoints per state at the multiples of its step since
// the Unix epoch (so that the samples do not depend on the order of the
// work), as a difference array: +1 at the first sample inside a state
// interval, -1 at the first sample after it.
type sampler struct {
	step    time.Duration
	asked   time.Duration
	first   int64 // sample index of diff[0]
	diff    [][2][fsm.NumStates]int32
	enabled bool
}

// SetTimeline asks for per-state counts every step; call it before any Add.
func (b *Builder) SetTimeline(step time.Duration) {
	b.tl = sampler{step: step, asked: step, enabled: true}
}

// addTimeline folds one endpoint's timeline (role r) up to end.
func (s *sampler) add(r int, e *fsm.Endpoint, end time.Time) {
	tl := e.Timeline
	for i, ch := range tl {
		if !ch.To.Open() {
			continue
		}
		until := end.UnixNano()
		if i+1 < len(tl) {
			until = int64(tl[i+1].Time)
		}
		s.interval(r, ch.To, int64(ch.Time), until)
	}
}

// ceilDiv is the first sample index at or after time t.
func ceilDiv(t, step int64) int64 { return -floorDiv(-t, step) }

// interval adds one endpoint in state st at every sample in [from, to).
func (s *sampler) interval(r int, st fsm.State, from, to int64) {
	if to <= from {
		return
	}
	w := int64(s.step)
	lo, hi := ceilDiv(from, w), ceilDiv(to, w)
	if lo == hi {
		return // no sample inside
	}
	s.fit(lo, hi)
	w = int64(s.step)
	lo, hi = ceilDiv(from, w), ceilDiv(to, w)
	if lo == hi {
		return
	}
	s.diff[lo-s.first][r][st]++
	s.diff[hi-s.first][r][st]--
}

// fit widens the step until indexes lo..hi fit, and extends diff.
func (s *sampler) fit(lo, hi int64) {
	for {
		if len(s.diff) == 0 {
			if hi-lo+1 <= MaxTimelineSamples {
				s.first, s.diff = lo, make([][2][fsm.NumStates]int32, hi-lo+1)
				return
			}
		} else {
			a, z := min(s.first, lo), max(s.first+int64(len(s.diff))-1, hi)
			if z-a+1 <= MaxTimelineSamples {
				if a < s.first {
					s.diff = append(make([][2][fsm.NumStates]int32, s.first-a), s.diff...)
					s.first = a
				}
				if n := z - s.first + 1; n > int64(len(s.diff)) {
					s.diff = append(s.diff, make([][2][fsm.NumStates]int32, n-int64(len(s.diff)))...)
				}
				return
			}
		}
		s.widen()
		lo, hi = ceilDiv(lo, 2), ceilDiv(hi, 2)
	}
}

// widen doubles the step: sample 2j becomes j, and the difference at old
// index i moves to ceil(i/2), so the counts at the kept samples stay exact.
func (s *sampler) widen() {
	s.step *= 2
	if len(s.diff) == 0 {
		return
	}
	first := ceilDiv(s.first, 2)
	last := ceilDiv(s.first+int64(len(s.diff))-1, 2)
	d := make([][2][fsm.NumStates]int32, last-first+1)
	for i, x := range s.diff {
		j := ceilDiv(s.first+int64(i), 2) - first
		for r := range x {
			for st := range x[r] {
				d[j][r][st] += x[r][st]
			}
		}
	}
	s.first, s.diff = first, d
}

func (s *sampler) merge(o *sampler) {
	if !s.enabled {
		return
	}
	for s.step < o.step {
		s.widen()
	}
	for o.step < s.step {
		o.widen()
	}
	if len(o.diff) == 0 {
		return
	}
	s.fit(o.first, o.first+int64(len(o.diff))-1)
	for o.step < s.step { // fitting may have widened s again
		o.widen()
	}
	for i, x := range o.diff {
		j := o.first + int64(i) - s.first
		for r := range x {
			for st := range x[r] {
				s.diff[j][r][st] += x[r][st]
			}
		}
	}
}

// render lists the samples within [start, end].
func (s *sampler) render(start, end *time.Time) *Timeline {
	if !s.enabled {
		return nil
	}
	t := &Timeline{Samples: []TimelineSample{}}
	if start != nil && end != nil {
		w := int64(s.step)
		if lo, hi := ceilDiv(start.UnixNano(), w), floorDiv(end.UnixNano(), w); lo <= hi {
			s.fit(lo, hi)
		}
		w = int64(s.step)
		lo, hi := ceilDiv(start.UnixNano(), w), floorDiv(end.UnixNano(), w)
		var run [2][fsm.NumStates]int32
		for k := s.first; lo <= hi && k <= hi; k++ {
			for r := range run {
				for st := range run[r] {
					run[r][st] += s.diff[k-s.first][r][st]
				}
			}
			if k < lo {
				continue
			}
			smp := TimelineSample{At: time.Unix(0, k*w).UTC(), Clients: map[string]int{}, Servers: map[string]int{}}
			for st := range fsm.NumStates {
				if n := run[0][st]; n > 0 {
					smp.Clients[fsm.State(st).String()] = int(n)
				}
				if n := run[1][st]; n > 0 {
					smp.Servers[fsm.State(st).String()] = int(n)
				}
			}
			t.Samples = append(t.Samples, smp)
		}
	}
	t.StepSeconds, t.Widened = s.step.Seconds(), s.step != s.asked
	return t
}
