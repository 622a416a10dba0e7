package report

import (
	"math/bits"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// maxBuckets is how many time buckets the states-over-time series keeps; the
// bucket width doubles whenever the data would not fit.
const maxBuckets = 240

// minBucket is the narrowest bucket: 1 ms (doubled as needed).
const minBucket = time.Millisecond

// overTime accumulates, for every bucket of capture time, how long
// endpoints spent in each state, for clients and servers: the area under the
// "endpoints in state S" curve. Buckets are aligned to multiples of their
// width from the Unix epoch, and sums are integer nanoseconds, so the result
// does not depend on the order connections are added nor on how the work
// was split (what -j needs).
type overTime struct {
	width time.Duration // bucket width: minBucket × 2^k
	first int64         // index (in widths since the epoch) of area[0]
	area  []bucket
	// full is a difference array of the buckets a span covers whole: the
	// number of such spans in bucket i is full[0]+…+full[i], so a span adds
	// two entries however many buckets it covers (a 60 s TIME-WAIT covers
	// up to maxBuckets of them). settle moves it into area.
	full    []bucket
	pending bool // full holds something
}

// bucket is one bucket's nanoseconds (or counts) per role and state.
type bucket = [2][fsm.NumStates]int64

// add folds one endpoint's timeline (role r) from its first change to end.
func (o *overTime) add(r int, e *fsm.Endpoint, end time.Time) {
	tl := e.Timeline
	for i, ch := range tl {
		if ch.To == fsm.Closed || ch.To == fsm.Unknown {
			continue
		}
		until := end.UnixNano()
		if i+1 < len(tl) {
			until = int64(tl[i+1].Time)
		}
		o.span(r, ch.To, int64(ch.Time), until)
	}
}

// span adds [from, to) in state s for role r.
func (o *overTime) span(r int, s fsm.State, from, to int64) {
	if to <= from {
		return
	}
	if o.width == 0 {
		o.width = minBucket
		o.first = from / int64(o.width)
	}
	o.fit(from, to-1)
	w := int64(o.width)
	bf, bl := o.index(from), o.index(to-1) // the first and last buckets touched
	if bf == bl {
		o.area[bf-o.first][r][s] += to - from
		return
	}
	o.area[bf-o.first][r][s] += (bf+1)*w - from
	o.area[bl-o.first][r][s] += to - bl*w
	if bl > bf+1 { // whole buckets bf+1 … bl-1
		o.full[bf+1-o.first][r][s]++
		o.full[bl-o.first][r][s]--
		o.pending = true
	}
}

// settle adds the whole buckets recorded in full to area, and clears full.
func (o *overTime) settle() {
	if !o.pending {
		return
	}
	o.pending = false
	w := int64(o.width)
	var run bucket
	for i := range o.full {
		for r := range run {
			for s := range run[r] {
				run[r][s] += o.full[i][r][s]
				o.area[i][r][s] += run[r][s] * w
			}
		}
		o.full[i] = bucket{}
	}
}

// index returns t/width, the bucket of time t. The width is minBucket ×
// 2^k, so for the usual t ≥ 0 that is a division by a constant (which the
// compiler makes a multiplication) and a shift, not a 64-bit division:
// this runs several times for every connection.
func (o *overTime) index(t int64) int64 {
	if t >= 0 {
		return t / int64(minBucket) >> bits.TrailingZeros64(uint64(o.width/minBucket))
	}
	return t / int64(o.width)
}

// fit widens the buckets until [from, to] fits, and extends the slice.
func (o *overTime) fit(from, to int64) {
	if w := int64(o.width); len(o.area) > 0 && from >= o.first*w && to < (o.first+int64(len(o.area)))*w {
		return // already covered: the usual case
	}
	for {
		w := int64(o.width)
		lo, hi := min(o.first, from/w), max(o.first+int64(len(o.area))-1, to/w)
		if hi-lo+1 <= maxBuckets {
			o.extend(lo, hi)
			return
		}
		o.double()
	}
}

// extend makes area cover bucket indexes lo..hi.
func (o *overTime) extend(lo, hi int64) {
	if len(o.area) == 0 {
		o.first, o.area, o.full = lo, make([]bucket, hi-lo+1), make([]bucket, hi-lo+1)
		return
	}
	if lo < o.first {
		o.area = append(make([]bucket, o.first-lo), o.area...)
		o.full = append(make([]bucket, o.first-lo), o.full...)
		o.first = lo
	}
	if n := hi - o.first + 1; n > int64(len(o.area)) {
		o.area = append(o.area, make([]bucket, n-int64(len(o.area)))...)
		o.full = append(o.full, make([]bucket, n-int64(len(o.full)))...)
	}
}

// double halves the resolution: bucket i of width w goes to i/2 of 2w.
func (o *overTime) double() {
	if len(o.area) == 0 {
		o.width *= 2
		o.first /= 2
		return
	}
	o.settle()
	first := floorDiv(o.first, 2)
	last := floorDiv(o.first+int64(len(o.area))-1, 2)
	area := make([]bucket, last-first+1)
	for i, a := range o.area {
		j := floorDiv(o.first+int64(i), 2) - first
		for r := range a {
			for s := range a[r] {
				area[j][r][s] += a[r][s]
			}
		}
	}
	o.width *= 2
	o.first, o.area, o.full = first, area, make([]bucket, len(area))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// merge adds o2 into o.
func (o *overTime) merge(o2 *overTime) {
	if o2.width == 0 {
		return
	}
	o.settle()
	o2.settle()
	if o.width == 0 {
		*o = overTime{width: o2.width, first: o2.first, area: append([]bucket(nil), o2.area...), full: make([]bucket, len(o2.area))}
		return
	}
	for o.width < o2.width {
		o.double()
	}
	src := *o2
	src.area = append([]bucket(nil), o2.area...)
	for src.width < o.width {
		src.double()
	}
	w := int64(o.width)
	o.fit(src.first*w, (src.first+int64(len(src.area)))*w-1)
	for src.width < o.width { // fit may have widened o further
		src.double()
	}
	for i, a := range src.area {
		j := src.first + int64(i) - o.first
		for r := range a {
			for s := range a[r] {
				o.area[j][r][s] += a[r][s]
			}
		}
	}
}

// StatesOverTime is how many endpoints were in each state across the
// capture: for bucket i (starting at Start + i×Step), Clients[i][state] and
// Servers[i][state] are the average numbers of endpoints in that state.
type StatesOverTime struct {
	Start   time.Time
	Step    time.Duration
	Clients []map[fsm.State]float64
	Servers []map[fsm.State]float64
}

// series renders the buckets.
func (o *overTime) series() StatesOverTime {
	if o.width == 0 {
		return StatesOverTime{}
	}
	o.settle()
	st := StatesOverTime{Start: time.Unix(0, o.first*int64(o.width)).UTC(), Step: o.width}
	for _, a := range o.area {
		var m [2]map[fsm.State]float64
		for r := range m {
			m[r] = map[fsm.State]float64{}
			for s, ns := range a[r] {
				if ns > 0 {
					m[r][fsm.State(s)] = float64(ns) / float64(o.width)
				}
			}
		}
		st.Clients, st.Servers = append(st.Clients, m[0]), append(st.Servers, m[1])
	}
	return st
}

// maxServices bounds the per-service table: the services whose addresses
// hash lowest (the same set for any order or split of the work), so that a
// port scan does not make one row per port; the others are counted in
// OtherServices.
const maxServices = 1000

// serviceAgg counts one server endpoint's connections by end state.
type serviceAgg struct {
	conns  int
	server [fsm.NumStates]int
	client [fsm.NumStates]int
	kinds  [fsm.NumKinds]int
}

func (s *serviceAgg) add(o *serviceAgg) {
	s.conns += o.conns
	for i := range s.server {
		s.server[i] += o.server[i]
		s.client[i] += o.client[i]
	}
	for i := range s.kinds {
		s.kinds[i] += o.kinds[i]
	}
}

// Service is one server endpoint's connections by end state.
type Service struct {
	Endpoint    string
	Connections int
	// ServerStates and ClientStates count the connections by the end state
	// of the server's and the client's endpoint.
	ServerStates map[fsm.State]int
	ClientStates map[fsm.State]int
	// Findings counts the connections with a finding of each kind.
	Findings map[fsm.Kind]int
}
