package report

import (
	"cmp"
	"encoding/binary"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/prefetch"
)

// Limits bound what a report lists in detail. Every count stays exact.
type Limits struct {
	// Connections is how many connections are listed in full: the first
	// ones (by ID), and as many again of the later ones that have a warning
	// or error finding or are still open. 0 means DefaultLimits; negative,
	// no limit.
	Connections int
	// FindingsPerKind is how many findings of each kind are listed (the
	// earliest connections'). 0 means DefaultLimits; negative, no limit.
	FindingsPerKind int
	// Pin, when set, selects connections to list in full whatever the
	// bounds above: the ones the user asked to see (tcpstate --conn), at
	// most MaxPinned of them (the smallest IDs).
	Pin func(*fsm.Conn) bool
	// Ignore, when set, tells the findings that match an ignore rule of the
	// CI gate: they are still reported, marked ignored, and counted apart
	// (Counts, Summary.Ignored, Group.Ignored). It is called up to three
	// times per finding (never per packet), from several goroutines at once.
	Ignore func(*fsm.Finding) bool
}

// MaxPinned bounds the connections listed because Limits.Pin selected them.
const MaxPinned = 1000

// DefaultLimits lists up to 10,000 connections (plus as many notable
// ones) and 1,000 findings per kind.
func DefaultLimits() Limits { return Limits{Connections: 10000, FindingsPerKind: 1000} }

// Builder folds finished connections into a Report one at a time, keeping
// memory bounded by Limits: counts and groups are aggregates, and only the
// connections and findings that will be listed are kept. The Report does
// not depend on the order connections are added, nor on how they were
// split across Builders that are then merged, so sharded work gives the
// same bytes as one worker. Not safe for concurrent use.
type Builder struct {
	lim     Limits
	total   int
	partial int
	states  [2][fsm.NumStates]int
	kinds   [fsm.NumKinds]int
	counts  Counts
	first   connHeap // the Limits.Connections smallest IDs
	notable connHeap // the smallest IDs among the rest that are notable
	pinned  connHeap // the smallest IDs of those Limits.Pin selects
	finds   [fsm.NumKinds]findHeap
	groups  map[groupKey]*groupAgg
	// gcache is a direct-mapped cache of groups, in front of groups: a
	// key's place in it is known before any lookup, so that the memory a
	// closing connection's finding will use can be prefetched (Prefetch).
	gcache *[groupCacheSize]groupSlot
	// clients holds the keys of the client groups kept (maxClientGroups
	// with the lowest hashes); lost counts, per kind, the findings of the
	// client groups not kept.
	clients boundedMax[hashedKey]
	lost    [fsm.NumKinds]int
	// over is the states-over-time series; services the per-server table
	// (svcKeys the services kept, otherSvc the connections of the others).
	over     overTime
	services map[netip.AddrPort]*serviceAgg
	svcKeys  boundedMax[hashedAddr]
	otherSvc int
	// snaps are the --at snapshots, tl the --timeline samples.
	snaps []snapAgg
	tl    sampler
	// firstCut: no connection with an ID this large or larger is among
	// the first ones (NotFirstFrom).
	firstCut uint64
	// share, when set, holds the notable lists of the other Builders of
	// the report; this one is shareIdx (ShareNotable).
	share    *NotableShare
	shareIdx int
}

// hashedAddr orders service endpoints by a hash of their address and port.
type hashedAddr struct {
	h uint64
	a netip.AddrPort
}

func (a hashedAddr) less(b hashedAddr) bool {
	if a.h != b.h {
		return a.h < b.h
	}
	return a.a.Compare(b.a) < 0
}

func hashAddr(a netip.AddrPort) uint64 {
	hi, lo := reassembly.AddrWords(a.Addr())
	k := groupKey{hi: hi, lo: lo, port: a.Port(), v4: a.Addr().Is4(), set: true}
	return k.hash()
}

// service returns the aggregate of server endpoint a, or nil when it is not
// among the services kept (its connections then go to otherSvc).
func (b *Builder) service(a netip.AddrPort) *serviceAgg {
	if s := b.services[a]; s != nil {
		return s
	}
	if b.svcKeys.less == nil {
		b.svcKeys.less = hashedAddr.less
	}
	kept, out, evicted := b.svcKeys.add(hashedAddr{hashAddr(a), a}, maxServices)
	if !kept {
		return nil
	}
	if evicted {
		b.otherSvc += b.services[out.a].conns
		delete(b.services, out.a)
	}
	s := &serviceAgg{}
	b.services[a] = s
	return s
}

func (b *Builder) addService(c *fsm.Conn) {
	s := b.service(c.Server.Addr)
	if s == nil {
		b.otherSvc++
		return
	}
	s.conns++
	s.server[c.Server.State]++
	s.client[c.Client.State]++
	var seen [fsm.NumKinds]bool
	for _, f := range c.Findings {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			s.kinds[f.Kind]++
		}
	}
}

// maxClientGroups bounds the per-client groups. Their number follows the
// distinct client addresses, so a flood from spoofed sources would make one
// group per source. The groups kept are those whose keys hash lowest: which
// ones does not depend on the order or the split of the work, and each kept
// group's aggregates stay exact. The findings of the others are counted in
// Omitted.FindingsInGroups. Server groups are not bounded: their number
// follows the services, not the clients.
const maxClientGroups = 10000

// hashedKey orders group keys by a hash of their fields.
type hashedKey struct {
	h uint64
	k groupKey
}

func (a hashedKey) less(b hashedKey) bool {
	if a.h != b.h {
		return a.h < b.h
	}
	return cmp.Or(cmp.Compare(a.k.hi, b.k.hi), cmp.Compare(a.k.lo, b.k.lo), cmp.Compare(a.k.kind, b.k.kind)) < 0
}

// hash is FNV-1a over the key's fields.
func (k *groupKey) hash() uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(b byte) { h = (h ^ uint64(b)) * prime }
	mix(byte(k.kind))
	mix(byte(k.role))
	mix(byte(k.port >> 8))
	mix(byte(k.port))
	for _, w := range [2]uint64{k.hi, k.lo} { // the address's bytes, in order
		for s := 56; s >= 0; s -= 8 {
			mix(byte(w >> s))
		}
	}
	if k.v4 {
		mix(1)
	}
	return h
}

// admit reports whether the client group k may be created, evicting the
// kept client group with the highest hash if k's is lower and the bound is
// reached.
func (b *Builder) admit(k groupKey) bool {
	if b.clients.less == nil {
		b.clients.less = hashedKey.less
	}
	kept, out, evicted := b.clients.add(hashedKey{k.hash(), k}, maxClientGroups)
	if !kept {
		return false
	}
	if evicted {
		g := b.groups[out.k]
		b.lost[out.k.kind] += g.count
		delete(b.groups, out.k)
		if b.gcache != nil {
			if s := &b.gcache[out.k.quickHash()&(groupCacheSize-1)]; s.g == g {
				*s = groupSlot{}
			}
		}
	}
	return true
}

// NewBuilder returns an empty Builder.
func NewBuilder(lim Limits) *Builder {
	def := DefaultLimits()
	if lim.Connections == 0 {
		lim.Connections = def.Connections
	}
	if lim.FindingsPerKind == 0 {
		lim.FindingsPerKind = def.FindingsPerKind
	}
	return &Builder{lim: lim, groups: make(map[groupKey]*groupAgg), services: make(map[netip.AddrPort]*serviceAgg),
		firstCut: math.MaxUint64}
}

// Add folds c into the report. The Builder copies what it keeps, so the
// caller may reuse c's memory as soon as Add returns.
func (b *Builder) Add(c *fsm.Conn) {
	b.total++
	if c.Partial {
		b.partial++
	}
	b.states[0][c.Client.State]++
	b.states[1][c.Server.State]++
	var seen [fsm.NumKinds]bool
	for i := range c.Findings {
		f := &c.Findings[i]
		if !seen[f.Kind] {
			seen[f.Kind] = true
			b.kinds[f.Kind]++
		}
		b.group(c.ID, i, f)
		b.keepFinding(c.ID, i, f)
	}
	b.counts.add(c.Findings, b.lim.Ignore)
	b.over.add(0, &c.Client, c.End)
	b.over.add(1, &c.Server, c.End)
	b.addService(c)
	b.keepConn(c)
	if b.snaps != nil {
		b.addSnapshots(c)
	}
	if b.tl.enabled {
		b.tl.add(0, &c.Client, c.End)
		b.tl.add(1, &c.Server, c.End)
	}
}

// Counts returns how many connections were added so far, and how many of
// them have findings of each kind (indexed by fsm.Kind): what a live view
// shows of the connections already folded in. It copies two small arrays.
func (b *Builder) Counts() (conns int, kinds [fsm.NumKinds]int) { return b.total, b.kinds }

// keepConn offers c to the listed connections, and copies it if they take
// it: a kept connection must not hold on to the tracker's working memory.
func (b *Builder) keepConn(c *fsm.Conn) { b.keep(c, false) }

// keep keeps c where keepConn says, a clone of it unless owned: c is then
// b's already (Merge moves the other Builder's copies instead of copying
// them again).
func (b *Builder) keep(c *fsm.Conn, owned bool) {
	own := func() *fsm.Conn {
		if owned {
			return c
		}
		return c.Clone()
	}
	if b.lim.Pin != nil && b.lim.Pin(c) {
		if b.pinned.admits(c.ID, MaxPinned) {
			b.pinned.offer(own(), MaxPinned)
		}
		return
	}
	n := b.lim.Connections
	switch {
	case b.admitsFirst(c.ID):
		if _, out := b.first.offer(own(), n); out != nil && notable(out) {
			b.notable.offer(out, n) // pushed out of the first ones by c
			b.publishNotable()
		}
	case notable(c) && b.admitsNotable(c.ID):
		b.notable.offer(own(), n)
		b.publishNotable()
	}
}

// Keeps reports whether Add would keep c in the lists (keepConn), without
// adding it: what fsm.Tracker.Keep asks before it runs what only a listed
// connection shows. A later Add of c keeps it only if Keeps said so then.
func (b *Builder) Keeps(c *fsm.Conn) bool {
	if b.lim.Pin != nil && b.lim.Pin(c) {
		return b.pinned.admits(c.ID, MaxPinned)
	}
	return b.admitsFirst(c.ID) || notable(c) && b.admitsNotable(c.ID)
}

// admitsNotable reports whether a connection with this ID would be kept
// among the notable ones: this Builder's list would take it, and the
// lists of the other Builders of the report (Share) do not prove that
// enough notable connections with smaller IDs exist.
func (b *Builder) admitsNotable(id uint64) bool {
	n := b.lim.Connections
	if !b.notable.admits(id, n) {
		return false
	}
	if b.share == nil || n <= 0 {
		return true
	}
	var have int
	if l := b.notable.items; len(l) > 0 && l[0].ID < id {
		have = len(l) // all of them below id (l[0] is the largest)
	}
	for i := range b.share.words {
		if i != b.shareIdx {
			if m, k := unpackNotable(b.share.words[i].Load()); k > 0 && m < id {
				have += k
			}
		}
	}
	return have < n
}

// NotableShare lets the Builders of one report split over workers (-j)
// tell each other how far their notable lists reach: Builder i publishes
// how many connections its list holds and the largest ID among them. Every
// connection in a Builder's notable list is notable and not among the
// report's first ones (its own first list, or the proof of NotFirstFrom,
// holds enough smaller IDs), so when the lists hold Limits.Connections
// such connections below an ID, no connection above it is listed as
// notable: the others need not copy it. The report does not change.
type NotableShare struct {
	words []atomic.Uint64 // per Builder: the largest ID << 24 | the count; 0 for none
}

// NewNotableShare returns a NotableShare for n Builders.
func NewNotableShare(n int) *NotableShare { return &NotableShare{words: make([]atomic.Uint64, n)} }

// ShareNotable makes b the i-th Builder of s.
func (b *Builder) ShareNotable(s *NotableShare, i int) { b.share, b.shareIdx = s, i }

// publishNotable publishes b's notable list (when its numbers fit the word).
func (b *Builder) publishNotable() {
	if b.share == nil {
		return
	}
	l := b.notable.items
	if len(l) == 0 || l[0].ID >= 1<<40 || len(l) >= 1<<24 {
		return // (a capture of a trillion frames: the others copy as before)
	}
	b.share.words[b.shareIdx].Store(l[0].ID<<24 | uint64(len(l)))
}

func unpackNotable(w uint64) (largest uint64, count int) { return w >> 24, int(w & (1<<24 - 1)) }

// admitsFirst reports whether a connection with this ID would be kept
// among the first ones.
func (b *Builder) admitsFirst(id uint64) bool {
	return id < b.firstCut && b.first.admits(id, b.lim.Connections)
}

// NotFirstFrom tells b that no connection with an ID of id or more is
// among the first Limits.Connections of the report it will be merged
// into: that many connections with smaller IDs exist, here or in the other
// Builders of the same report (the -j workers prove it from their counts
// of connections opened). b then neither copies such a connection for its
// first list nor, once its notable list is full too, asks for it in full
// (MayList). The report does not change.
func (b *Builder) NotFirstFrom(id uint64) { b.firstCut = min(b.firstCut, id) }

// MayList reports whether the connection with this ID could still be
// listed in full if it were added now or later: false once as many
// connections with smaller IDs fill both the first and the notable lists
// (and none is pinned), and from then on. With IDs growing in the order
// connections open, a long capture's later connections can then skip
// what only a listing shows (fsm.Tracker.Detail). With work split over
// several Builders this is still right: a Builder's lists only hold
// connections with IDs smaller than those the merged report drops.
func (b *Builder) MayList(id uint64) bool {
	return b.lim.Pin != nil || b.admitsFirst(id) || b.admitsNotable(id)
}

// notable reports whether a connection beyond the first ones is still
// worth listing: a warning or error, or an endpoint still open.
func notable(c *fsm.Conn) bool {
	if c.Client.State.Open() || c.Server.State.Open() {
		return true
	}
	for _, f := range c.Findings {
		if f.Severity > fsm.Info {
			return true
		}
	}
	return false
}

// Merge folds everything o holds into b; o must not be used afterwards.
// The lists and the aggregates share no state, so they are merged at the
// same time (the merge runs after every -j worker has finished: alone on
// one core, it was 3% of a -j 2 run).
func (b *Builder) Merge(o *Builder) {
	// The others' published lists are merged now: counting them as
	// elsewhere would count them twice.
	b.share, o.share = nil, nil
	var wg sync.WaitGroup
	wg.Go(func() { b.mergeAggregates(o) })
	b.mergeLists(o)
	wg.Wait()
}

// mergeLists merges the counts and the lists of connections; it touches
// nothing mergeAggregates does.
func (b *Builder) mergeLists(o *Builder) {
	b.total += o.total
	b.partial += o.partial
	for r := range b.states {
		for s := range b.states[r] {
			b.states[r][s] += o.states[r][s]
		}
	}
	for k := range b.kinds {
		b.kinds[k] += o.kinds[k]
	}
	b.counts.merge(&o.counts)
	for _, c := range o.first.items {
		b.keep(c, true)
	}
	for _, c := range o.notable.items {
		b.notable.offer(c, b.lim.Connections)
	}
	for _, c := range o.pinned.items {
		b.pinned.offer(c, MaxPinned)
	}
	b.mergeSnapshots(o)
	b.tl.merge(&o.tl)
}

// mergeAggregates merges the findings kept, the groups, the states over
// time and the services.
func (b *Builder) mergeAggregates(o *Builder) {
	for k := range o.finds {
		for _, f := range o.finds[k].items {
			b.finds[k].offer(f, b.lim.FindingsPerKind)
		}
	}
	for k, og := range o.groups {
		g, ok := b.groups[k]
		switch {
		case ok:
			g.merge(og)
		case k.role == fsm.Client && k.set && !b.admit(k):
			b.lost[k.kind] += og.count
		default:
			b.groups[k] = og
		}
	}
	for k, n := range o.lost {
		b.lost[k] += n
	}
	b.over.merge(&o.over)
	b.otherSvc += o.otherSvc
	for a, os := range o.services {
		if s := b.service(a); s != nil {
			s.add(os)
		} else {
			b.otherSvc += os.conns
		}
	}
}

// Omitted describes what a report leaves out of its lists (counts stay exact).
type Omitted struct {
	// Connections is how many connections the connections list leaves out.
	Connections int `json:"connections"`
	// Findings is, per kind, how many findings the findings list leaves out.
	Findings map[string]int `json:"findings"`
	// ConnectionsLimit and FindingsPerKindLimit are the limits applied (-1: none).
	ConnectionsLimit     int `json:"connections_limit"`
	FindingsPerKindLimit int `json:"findings_per_kind_limit"`
	// FindingsInGroups is, per kind, how many findings are in no group:
	// those of clients beyond the bound on per-client groups.
	FindingsInGroups map[string]int `json:"findings_outside_groups"`
	// ClientGroupsLimit is that bound.
	ClientGroupsLimit int `json:"client_groups_limit"`
}

// Report renders everything added so far with the capture's statistics.
func (b *Builder) Report(tool string, st reassembly.Stats, cfg fsm.Config) *Report {
	return b.ReportOn(tool, st, cfg, 1)
}

// ReportOn is Report with the groups rendered on up to workers goroutines
// (no more than GOMAXPROCS) while the calling one renders the connections
// and findings: the same Report. On the benchmark's capture (20,000
// connections listed, 10,000 groups) rendering takes about 80 ms on one.
func (b *Builder) ReportOn(tool string, st reassembly.Stats, cfg fsm.Config, workers int) *Report {
	workers = max(1, min(workers, runtime.GOMAXPROCS(0)))
	r := &Report{FormatVersion: FormatVersion, Tool: tool}
	var groups sync.WaitGroup
	if workers > 1 {
		groups.Go(func() { r.Groups = b.renderGroups(workers - 1) })
	}
	r.Capture = capture(st)
	r.Settings = Settings{MSLSeconds: cfg.MSL.Seconds(), FinTimeoutSeconds: cfg.FinTimeout.Seconds(),
		CloseWaitMinSeconds: cfg.CloseWaitMin.Seconds()}
	r.Summary = Summary{Connections: b.total, Partial: b.partial, ClientStates: map[string]int{},
		ServerStates: map[string]int{}, Findings: map[string]int{}}
	for s := range fsm.NumStates {
		if n := b.states[0][s]; n > 0 {
			r.Summary.ClientStates[fsm.State(s).String()] = n
		}
		if n := b.states[1][s]; n > 0 {
			r.Summary.ServerStates[fsm.State(s).String()] = n
		}
	}
	r.Omitted = Omitted{Findings: map[string]int{}, ConnectionsLimit: max(b.lim.Connections, -1),
		FindingsPerKindLimit: max(b.lim.FindingsPerKind, -1), FindingsInGroups: map[string]int{},
		ClientGroupsLimit: maxClientGroups}
	for k := range fsm.NumKinds {
		name := fsm.Kind(k).String()
		r.Summary.Findings[name] = b.kinds[k]
		r.Omitted.Findings[name] = 0
		r.Omitted.FindingsInGroups[name] = b.lost[k]
	}
	r.Counts = b.counts
	if b.lim.Ignore != nil {
		r.Summary.Ignored = map[string]int{}
		for k := range fsm.NumKinds {
			r.Summary.Ignored[fsm.Kind(k).String()] = b.counts.Ignored[k]
		}
	}

	conns := append(append(slices.Clone(b.first.items), b.notable.items...), b.pinned.items...)
	slices.SortFunc(conns, func(x, y *fsm.Conn) int { return cmp.Compare(x.ID, y.ID) })
	pinned := make(map[*fsm.Conn]bool, len(b.pinned.items))
	for _, c := range b.pinned.items {
		pinned[c] = true
	}
	r.Connections = make([]Connection, 0, len(conns))
	for _, c := range conns {
		cc := connection(c)
		cc.pinned = pinned[c]
		r.Connections = append(r.Connections, cc)
	}
	r.Omitted.Connections = b.total - len(conns)

	var fs []*keptFinding
	for k := range b.finds {
		fs = append(fs, b.finds[k].items...)
		r.Omitted.Findings[fsm.Kind(k).String()] = b.findingCount(fsm.Kind(k)) - len(b.finds[k].items)
	}
	slices.SortFunc(fs, func(x, y *keptFinding) int { return x.compare(y) })
	r.Findings = make([]Finding, 0, len(fs))
	for _, kf := range fs {
		r.Findings = append(r.Findings, finding(kf.conn, &kf.f))
		r.Findings[len(r.Findings)-1].Ignored = b.lim.Ignore != nil && b.lim.Ignore(&kf.f)
	}
	if workers == 1 {
		r.Groups = b.renderGroups(1)
	}
	groups.Wait()
	r.StatesOverTime = b.over.series()
	r.Services, r.OtherServices = b.renderServices(), b.otherSvc
	r.Snapshots = b.renderSnapshots(r.Capture.Start, r.Capture.End)
	r.Timeline = b.tl.render(r.Capture.Start, r.Capture.End)
	return r
}

// renderServices lists the services, most connections first.
func (b *Builder) renderServices() []Service {
	out := make([]Service, 0, len(b.services))
	for a, s := range b.services {
		sv := Service{Endpoint: addr(a), Connections: s.conns, ServerStates: map[fsm.State]int{},
			ClientStates: map[fsm.State]int{}, Findings: map[fsm.Kind]int{}}
		for st := range fsm.NumStates {
			if n := s.server[st]; n > 0 {
				sv.ServerStates[fsm.State(st)] = n
			}
			if n := s.client[st]; n > 0 {
				sv.ClientStates[fsm.State(st)] = n
			}
		}
		for k, n := range s.kinds {
			if n > 0 {
				sv.Findings[fsm.Kind(k)] = n
			}
		}
		out = append(out, sv)
	}
	slices.SortFunc(out, func(x, y Service) int {
		return cmp.Or(cmp.Compare(y.Connections, x.Connections), cmp.Compare(x.Endpoint, y.Endpoint))
	})
	return out
}

// findingCount is the number of findings of kind k added (a connection may
// have several of one kind, e.g. resets from both sides).
func (b *Builder) findingCount(k fsm.Kind) int {
	n := b.lost[k]
	for key, g := range b.groups {
		if key.kind == k {
			n += g.count
		}
	}
	return n
}

func capture(st reassembly.Stats) Capture {
	c := Capture{Files: nonNil(st.Files), Packets: st.Packets, TCPPackets: st.TCPPackets,
		Skipped: map[string]uint64{}, Tunneled: map[string]uint64{}, Truncated: st.Truncated, Warnings: nonNil(st.Warnings),
		PeakConnections: st.PeakConnections, EvictedConnections: st.EvictedConnections}
	for i, n := range st.Skipped {
		if i != int(reassembly.NotSkipped) && n > 0 {
			c.Skipped[reassembly.SkipReason(i).String()] = n
		}
	}
	for i, n := range st.Tunneled {
		if n > 0 {
			c.Tunneled[reassembly.TunnelName(i)] = n
		}
	}
	if !st.First.IsZero() {
		a, z := st.First.UTC(), st.Last.UTC()
		c.Start, c.End = &a, &z
	}
	c.LinkTypes = []LinkType{}
	for _, l := range st.LinkTypes {
		c.LinkTypes = append(c.LinkTypes, LinkType{Type: uint32(l.Type), Name: l.Name, Packets: l.Packets})
	}
	return c
}

// keepFinding offers a copy of finding i of connection id to the list.
func (b *Builder) keepFinding(id uint64, i int, f *fsm.Finding) {
	h := &b.finds[f.Kind]
	lim := b.lim.FindingsPerKind
	if lim >= 0 && len(h.items) >= lim && !h.items[0].laterThan(id, i) {
		return // not among the earliest: nothing to copy
	}
	kf := &keptFinding{conn: id, idx: i, f: cloneFinding(f)}
	h.offer(kf, lim)
}

func cloneFinding(f *fsm.Finding) fsm.Finding {
	c := *f
	c.Frames = slices.Clone(f.Frames)
	c.Intervals = slices.Clone(f.Intervals)
	return c
}

// keptFinding is a finding copied out of its connection, whose memory the
// tracker reuses.
type keptFinding struct {
	conn uint64
	idx  int
	f    fsm.Finding
}

func (k *keptFinding) compare(o *keptFinding) int {
	return cmp.Or(cmp.Compare(k.conn, o.conn), cmp.Compare(k.idx, o.idx))
}

// laterThan reports whether k is listed after finding i of connection id.
func (k *keptFinding) laterThan(id uint64, i int) bool {
	return id < k.conn || id == k.conn && i < k.idx
}

// boundedMax is a max-heap that keeps the n smallest items offered.
type boundedMax[T any] struct {
	items []T
	less  func(a, b T) bool
}

// add keeps x if it is among the n smallest (n < 0: no bound); it returns
// whether x was kept and the item that x pushed out, if any. The heap is
// sifted by hand: container/heap would box every item in an interface.
func (h *boundedMax[T]) add(x T, n int) (kept bool, out T, evicted bool) {
	if n < 0 || len(h.items) < n {
		h.items = append(h.items, x)
		h.up(len(h.items) - 1)
		return true, out, false
	}
	if n == 0 || !h.less(x, h.items[0]) {
		return false, x, true
	}
	out = h.items[0]
	h.items[0] = x
	h.down(0)
	return true, out, true
}

// up moves item i towards the root while it is larger than its parent.
func (h *boundedMax[T]) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(h.items[p], h.items[i]) {
			return
		}
		h.items[p], h.items[i] = h.items[i], h.items[p]
		i = p
	}
}

// down moves item i towards the leaves while a child is larger.
func (h *boundedMax[T]) down(i int) {
	n := len(h.items)
	for {
		big := i
		if l := 2*i + 1; l < n && h.less(h.items[big], h.items[l]) {
			big = l
		}
		if r := 2*i + 2; r < n && h.less(h.items[big], h.items[r]) {
			big = r
		}
		if big == i {
			return
		}
		h.items[i], h.items[big] = h.items[big], h.items[i]
		i = big
	}
}

// connHeap keeps the connections with the smallest IDs.
type connHeap struct{ boundedMax[*fsm.Conn] }

// admits reports whether offer would keep a connection with this ID.
func (h *connHeap) admits(id uint64, n int) bool {
	return n < 0 || len(h.items) < n || n > 0 && id < h.items[0].ID
}

// offer adds c; it returns whether c was kept and the connection that is
// no longer kept (c itself if it was not kept), or nil.
func (h *connHeap) offer(c *fsm.Conn, n int) (bool, *fsm.Conn) {
	if h.less == nil {
		h.less = func(a, b *fsm.Conn) bool { return a.ID < b.ID }
	}
	kept, out, ev := h.add(c, n)
	if !ev {
		return kept, nil
	}
	return kept, out
}

// findHeap keeps the earliest findings of one kind.
type findHeap struct{ boundedMax[*keptFinding] }

func (h *findHeap) offer(f *keptFinding, n int) {
	if h.less == nil {
		h.less = func(a, b *keptFinding) bool { return a.compare(b) < 0 }
	}
	h.add(f, n)
}

// groupKey identifies a group: a kind at a server's ip:port or a client's
// ip (its ports are ephemeral); connection-level kinds have one group each.
//
// The address is held as the two big-endian words of its 16-byte form
// (reassembly.AddrWords), not as a [16]byte: a key is built for every
// finding and read back at once by its hash, and an array written in
// halves and copied whole waits on the stores (a failed store forward).
type groupKey struct {
	hi, lo uint64 // the address, zero for connection-level kinds
	kind   fsm.Kind
	role   fsm.Role
	port   uint16
	v4     bool
	set    bool // an endpoint (false for connection-level kinds)
}

// endpointGroup is the key of kind's group at ep, seen in role.
func endpointGroup(kind fsm.Kind, role fsm.Role, ep netip.AddrPort) groupKey {
	a := ep.Addr().Unmap()
	hi, lo := reassembly.AddrWords(a)
	return groupKey{hi: hi, lo: lo, kind: kind, role: role, port: ep.Port(), v4: a.Is4(), set: true}
}

func (k *groupKey) endpoint() netip.AddrPort {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.hi)
	binary.BigEndian.PutUint64(b[8:], k.lo)
	a := netip.AddrFrom16(b)
	if k.v4 {
		a = a.Unmap()
	}
	return netip.AddrPortFrom(a, k.port)
}

// groupAgg aggregates one group's findings without keeping them.
type groupAgg struct {
	// What every finding reads or writes comes first, so that folding a
	// finding into a group (of some 10,000, cold in cache) misses on one
	// or two lines: the cuts and the example's position answer, in the
	// usual case of growing IDs, without reading the lists themselves.
	count     int
	longest   time.Duration
	oldest    reassembly.Stamp
	connsCut  uint64 // conns is full and keeps only IDs below this (else MaxUint64)
	framesCut uint64 // the same for frames
	exConn    uint64 // example's connection and index, when example is set
	exIdx     int
	severity  fsm.Severity
	hasOldest bool

	ignored    int          // findings that matched an ignore rule
	neverServe int          // close-wait: connections never served
	rx         int          // syn-recv, syn-timeout: retransmissions
	example    *keptFinding // the earliest finding, explained for the group
	conns      smallest     // the smallest connection IDs
	frames     smallest     // the smallest evidence frames
	key        groupKey
}

func newGroupAgg(k groupKey) *groupAgg {
	g := &groupAgg{key: k, connsCut: math.MaxUint64, framesCut: math.MaxUint64}
	// Both lists in one allocation, at their bound: growing them by
	// doubling made a dozen allocations per group.
	buf := make([]uint64, maxGroupConns+maxGroupFrames)
	g.conns.items, g.frames.items = buf[:0:maxGroupConns], buf[maxGroupConns:maxGroupConns]
	return g
}

// setExample makes kf the group's example.
func (g *groupAgg) setExample(kf *keptFinding) {
	g.example, g.exConn, g.exIdx = kf, kf.conn, kf.idx
}

// exampleAfter reports whether finding i of connection id comes before the
// example (or there is none).
func (g *groupAgg) exampleAfter(id uint64, i int) bool {
	return g.example == nil || id < g.exConn || id == g.exConn && i < g.exIdx
}

func (b *Builder) group(id uint64, i int, f *fsm.Finding) {
	k := endpointGroup(f.Kind, f.Role, f.Endpoint)
	if f.Role == fsm.Client {
		k.port = 0 // a client's ports are ephemeral
	}
	if f.Kind == fsm.KindSynTimeout {
		// Aggregated per server, as syn-recv is: the question is which
		// service does not answer (under a flood, from millions of
		// sources). The finding itself stays the client's: the server was
		// never seen sending, so nothing proves what it did.
		k = endpointGroup(f.Kind, fsm.Server, f.Peer)
	}
	if f.Kind == fsm.KindSimultaneousClose || f.Kind == fsm.KindPartial || f.Kind == fsm.KindCaptureGap {
		k = groupKey{kind: f.Kind, role: fsm.Server} // connection-level facts: one group each
	}
	g, place, h := b.lookup(&k)
	if g == nil && k.role == fsm.Client && k.set && !b.admit(k) {
		b.lost[k.kind]++
		return
	}
	if g == nil {
		g = newGroupAgg(k)
		g.severity = f.Severity
		b.groups[k] = g
		*place = groupSlot{h, g}
	}
	g.count++
	g.severity = max(g.severity, f.Severity)
	if !g.hasOldest || f.Since.Before(g.oldest) {
		g.oldest, g.hasOldest = f.Since, true
	}
	if f.Duration > g.longest {
		g.longest = f.Duration
	}
	if f.NeverServed {
		g.neverServe++
	}
	if f.Count != 0 {
		g.rx += f.Count
	}
	if b.lim.Ignore != nil && b.lim.Ignore(f) {
		g.ignored++
	}
	g.addConn(id)
	for _, fr := range f.Frames {
		g.addFrame(fr)
	}
	if g.exampleAfter(id, i) {
		g.setExample(&keptFinding{conn: id, idx: i, f: cloneFinding(f)})
	}
}

// groupCacheSize is the number of places in Builder.gcache (128 KiB).
const groupCacheSize = 8192

// groupSlot is a place in Builder.gcache: a group and its key's quickHash,
// or nothing (h 0).
type groupSlot struct {
	h uint64
	g *groupAgg
}

// quickHash mixes the key into 64 bits, never 0, for gcache (hash, which
// orders the client groups kept, is slower and must stay as it is).
func (k *groupKey) quickHash() uint64 {
	h := uint64(k.kind) | uint64(k.role)<<8 | uint64(k.port)<<16
	if k.v4 {
		h |= 1 << 32
	}
	if k.set {
		h |= 1 << 33
	}
	for _, w := range [2]uint64{k.hi, k.lo} {
		h ^= w // splitmix64's finalizer: every bit of the key reaches the low bits
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h | 1<<63 // never 0 (an empty place), and not a bit the place uses
}

// lookup returns the group of key k, or nil, with k's place in gcache and
// k's quickHash (for a new group to take the place).
func (b *Builder) lookup(k *groupKey) (*groupAgg, *groupSlot, uint64) {
	if b.gcache == nil {
		b.gcache = new([groupCacheSize]groupSlot)
	}
	h := k.quickHash()
	s := &b.gcache[h&(groupCacheSize-1)]
	if s.h == h && s.g.key == *k {
		return s.g, s, h
	}
	g := b.groups[*k]
	if g != nil {
		*s = groupSlot{h, g}
	}
	return g, s, h
}

// Prefetch starts loading, without waiting for it (package prefetch), the
// memory that adding a connection with this client will most likely use:
// its client's TIME-WAIT group, the finding most connections of a busy
// server end with. Step 0 loads the group's place in the cache, step 1
// (later, once that has arrived) the group itself. A wrong guess only
// costs the prefetch.
func (b *Builder) Prefetch(client netip.AddrPort, step int) {
	if b.gcache == nil {
		return
	}
	k := endpointGroup(fsm.KindTimeWait, fsm.Client, client)
	k.port = 0 // as group makes it for a client
	h := k.quickHash()
	s := &b.gcache[h&(groupCacheSize-1)]
	if step == 0 {
		prefetch.Lines(unsafe.Pointer(s), unsafe.Sizeof(*s))
		return
	}
	if s.h == h {
		prefetch.Lines(unsafe.Pointer(s.g), 128) // the fields every finding updates
	}
}

func (g *groupAgg) addConn(id uint64) {
	if id >= g.connsCut {
		return // not among the smallest kept
	}
	if g.conns.add(id, maxGroupConns) {
		g.connsCut = g.conns.top
	}
}

func (g *groupAgg) addFrame(fr uint64) {
	if fr >= g.framesCut {
		return
	}
	if g.frames.add(fr, maxGroupFrames) {
		g.framesCut = g.frames.top
	}
}

// smallest keeps the n smallest distinct values offered, unordered, with
// the largest kept at hand. Offered mostly in increasing order (IDs and
// frames), a value is appended or refused touching one element; a heap
// would sift each new largest value up through the list.
type smallest struct {
	items []uint64
	top   uint64 // the largest of items (when there are any)
	at    int    // its index
}

// add offers x; it reports whether the list is full (n values) afterwards.
func (s *smallest) add(x uint64, n int) (full bool) {
	switch {
	case len(s.items) > 0 && x <= s.top && slices.Contains(s.items, x):
	case len(s.items) < n:
		s.items = append(s.items, x)
		if len(s.items) == 1 || x > s.top {
			s.top, s.at = x, len(s.items)-1
		}
	case x < s.top:
		s.items[s.at] = x
		s.at = 0
		for i, v := range s.items {
			if v > s.items[s.at] {
				s.at = i
			}
		}
		s.top = s.items[s.at]
	}
	return len(s.items) >= n
}

func (g *groupAgg) merge(o *groupAgg) {
	g.count += o.count
	g.severity = max(g.severity, o.severity)
	if o.hasOldest && (!g.hasOldest || o.oldest.Before(g.oldest)) {
		g.oldest, g.hasOldest = o.oldest, true
	}
	g.longest = max(g.longest, o.longest)
	g.neverServe += o.neverServe
	g.ignored += o.ignored
	g.rx += o.rx
	for _, id := range o.conns.items {
		g.addConn(id)
	}
	for _, fr := range o.frames.items {
		g.addFrame(fr)
	}
	if o.example != nil && g.exampleAfter(o.example.conn, o.example.idx) {
		g.setExample(o.example)
	}
}

// renderGroups turns the aggregates into Groups, worst first.
func (b *Builder) renderGroups(workers int) []Group {
	aggs := make([]*groupAgg, 0, len(b.groups))
	for _, a := range b.groups {
		aggs = append(aggs, a)
	}
	gs := make([]Group, len(aggs))
	render := func(from, to int) {
		for i := from; i < to; i++ {
			gs[i] = renderGroup(aggs[i])
		}
	}
	if workers <= 1 || len(aggs) < 256 {
		render(0, len(aggs))
	} else {
		var wg sync.WaitGroup
		per := (len(aggs) + workers - 1) / workers
		for from := 0; from < len(aggs); from += per {
			wg.Go(func() { render(from, min(from+per, len(aggs))) })
		}
		wg.Wait()
	}
	// Sorted through pointers: a Group is 200 bytes to move.
	ps := make([]*Group, len(gs))
	for i := range gs {
		ps[i] = &gs[i]
	}
	slices.SortStableFunc(ps, func(a, b *Group) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(b.Count, a.Count), cmp.Compare(a.Endpoint, b.Endpoint), cmp.Compare(a.Role, b.Role))
	})
	out := make([]Group, len(ps))
	for i, g := range ps {
		out[i] = *g
	}
	return out
}

// renderGroup is one group as the report shows it.
func renderGroup(a *groupAgg) Group {
	g := Group{Kind: a.key.kind, Severity: a.severity, Role: a.key.role, Count: a.count,
		Oldest: a.oldest.Time(), LongestSeconds: a.longest.Seconds(), Ignored: a.ignored, agg: a}
	switch {
	case !a.key.set:
	case a.key.role == fsm.Client:
		g.Endpoint = a.key.endpoint().Addr().String()
	default:
		g.Endpoint = addr(a.key.endpoint())
	}
	g.Connections = slices.Sorted(slices.Values(a.conns.items))
	g.Frames = slices.Sorted(slices.Values(a.frames.items))
	g.Headline = headline(&g)
	g.Explanation = explain(&a.example.f)
	if a.count > 1 {
		g.Explanation = groupExplanation(&g, g.Explanation)
	}
	return g
}
