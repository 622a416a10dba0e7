package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// FormatVersion is the version of the JSON contract. A field change bumps it.
const FormatVersion = 1

// Report is everything tcpstate says about a capture.
type Report struct {
	FormatVersion int          `json:"format_version"`
	Tool          string       `json:"tool"`
	Capture       Capture      `json:"capture"`
	Settings      Settings     `json:"settings"`
	Summary       Summary      `json:"summary"`
	Connections   []Connection `json:"connections"`
	Findings      []Finding    `json:"findings"`
	// Groups aggregates Findings by kind and endpoint, worst first.
	Groups []Group `json:"groups"`
}

// Capture describes the input.
type Capture struct {
	Files      []string          `json:"files"`
	Packets    uint64            `json:"packets"`
	TCPPackets uint64            `json:"tcp_packets"`
	Skipped    map[string]uint64 `json:"skipped"`
	Start      *time.Time        `json:"start"`
	End        *time.Time        `json:"end"`
	LinkTypes  []LinkType        `json:"link_types"`
	Truncated  bool              `json:"truncated"`
	Warnings   []string          `json:"warnings"`
}

// LinkType is a link type seen in the capture and how many packets used it.
type LinkType struct {
	Type    uint32 `json:"type"`
	Name    string `json:"name"`
	Packets uint64 `json:"packets"`
}

// Settings are the timers the replay used.
type Settings struct {
	MSLSeconds          float64 `json:"msl_seconds"`
	FinTimeoutSeconds   float64 `json:"fin_timeout_seconds"`
	CloseWaitMinSeconds float64 `json:"close_wait_min_seconds"`
}

// Summary counts end states and findings.
type Summary struct {
	Connections int `json:"connections"`
	Partial     int `json:"partial"`
	// ClientStates and ServerStates count end states by name.
	ClientStates map[string]int `json:"client_states"`
	ServerStates map[string]int `json:"server_states"`
	// Findings maps every finding kind to the number of connections concerned.
	Findings map[string]int `json:"findings"`
}

// PerDir holds one number per direction.
type PerDir struct {
	ClientToServer uint64 `json:"client_to_server"`
	ServerToClient uint64 `json:"server_to_client"`
}

// Change is one state change in an endpoint's timeline.
type Change struct {
	Time     time.Time `json:"time"`
	Frame    uint64    `json:"frame"`
	State    fsm.State `json:"state"`
	Event    fsm.Event `json:"event"`
	Presumed bool      `json:"presumed,omitempty"`
}

// Connection is one connection's replay.
type Connection struct {
	ID             uint64    `json:"id"`
	Client         string    `json:"client"`
	Server         string    `json:"server"`
	ClientState    fsm.State `json:"client_state"`
	ServerState    fsm.State `json:"server_state"`
	Partial        bool      `json:"partial"`
	Roles          string    `json:"roles_from"`
	Incarnation    int       `json:"incarnation"`
	FirstFrame     uint64    `json:"first_frame"`
	LastFrame      uint64    `json:"last_frame"`
	FirstTime      time.Time `json:"first_time"`
	LastTime       time.Time `json:"last_time"`
	ClientTimeline []Change  `json:"client_timeline"`
	ServerTimeline []Change  `json:"server_timeline"`
	Packets        PerDir    `json:"packets"`
	Bytes          PerDir    `json:"bytes"`
	Retransmits    PerDir    `json:"retransmits"`
	Duplicates     PerDir    `json:"duplicates"`
	KeepAlives     PerDir    `json:"keepalives"`
	Anomalies      []Anomaly `json:"anomalies,omitempty"`
	ZeekConnState  string    `json:"zeek_conn_state"`
	ZeekHistory    string    `json:"zeek_history"`
	ZeekOrig       string    `json:"zeek_orig"`
	FindingKinds   []string  `json:"finding_kinds"`

	conn *fsm.Conn
}

// Anomaly is an event that did not fit the RFC state machine.
type Anomaly struct {
	Endpoint string    `json:"endpoint"`
	Frame    uint64    `json:"frame"`
	State    fsm.State `json:"state"`
	Event    fsm.Event `json:"event"`
	Reason   string    `json:"reason"`
}

// Finding is one finding on one connection.
type Finding struct {
	Kind            fsm.Kind     `json:"kind"`
	Severity        fsm.Severity `json:"severity"`
	Endpoint        string       `json:"endpoint"`
	Role            fsm.Role     `json:"role"`
	Peer            string       `json:"peer"`
	Connection      uint64       `json:"connection"`
	Since           time.Time    `json:"since"`
	DurationSeconds float64      `json:"duration_seconds"`
	Ending          fsm.Ending   `json:"ending"`
	Frames          []uint64     `json:"frames"`
	Explanation     string       `json:"explanation"`

	f *fsm.Finding
}

// Group is the findings of one kind at one endpoint (a server's ip:port, or
// a client's ip, since its ports are ephemeral).
type Group struct {
	Kind        fsm.Kind     `json:"kind"`
	Severity    fsm.Severity `json:"severity"`
	Endpoint    string       `json:"endpoint"`
	Role        fsm.Role     `json:"role"`
	Connections []uint64     `json:"connections"`
	Count       int          `json:"count"`
	// Oldest is the earliest Since; LongestSeconds the longest Duration.
	Oldest         time.Time `json:"oldest"`
	LongestSeconds float64   `json:"longest_seconds"`
	Frames         []uint64  `json:"frames"`
	Headline       string    `json:"headline"`
	Explanation    string    `json:"explanation"`

	members []*Finding
}

// maxGroupFrames and maxGroupConns bound what a group lists; Count stays exact.
const (
	maxGroupFrames = 12
	maxGroupConns  = 50
)

// Build assembles the Report from the source's statistics and the replayed
// connections (in first-seen order).
func Build(tool string, st reassembly.Stats, conns []*fsm.Conn, cfg fsm.Config) *Report {
	r := &Report{FormatVersion: FormatVersion, Tool: tool}
	r.Capture = Capture{Files: nonNil(st.Files), Packets: st.Packets, TCPPackets: st.TCPPackets,
		Skipped: map[string]uint64{}, Truncated: st.Truncated, Warnings: nonNil(st.Warnings)}
	for i, n := range st.Skipped {
		if i != int(reassembly.NotSkipped) && n > 0 {
			r.Capture.Skipped[reassembly.SkipReason(i).String()] = n
		}
	}
	if !st.First.IsZero() {
		a, b := st.First.UTC(), st.Last.UTC()
		r.Capture.Start, r.Capture.End = &a, &b
	}
	r.Capture.LinkTypes = []LinkType{}
	for _, l := range st.LinkTypes {
		r.Capture.LinkTypes = append(r.Capture.LinkTypes, LinkType{Type: uint32(l.Type), Name: l.Name, Packets: l.Packets})
	}
	r.Settings = Settings{MSLSeconds: cfg.MSL.Seconds(), FinTimeoutSeconds: cfg.FinTimeout.Seconds(),
		CloseWaitMinSeconds: cfg.CloseWaitMin.Seconds()}
	r.Summary = Summary{Connections: len(conns), ClientStates: map[string]int{}, ServerStates: map[string]int{},
		Findings: map[string]int{}}
	for k := range fsm.NumKinds {
		r.Summary.Findings[fsm.Kind(k).String()] = 0
	}
	r.Connections = make([]Connection, 0, len(conns))
	r.Findings = []Finding{}
	for _, c := range conns {
		r.Summary.ClientStates[c.Client.State.String()]++
		r.Summary.ServerStates[c.Server.State.String()]++
		if c.Partial {
			r.Summary.Partial++
		}
		var seen [fsm.NumKinds]bool
		cc := connection(c)
		for i := range c.Findings {
			f := &c.Findings[i]
			if !seen[f.Kind] {
				seen[f.Kind] = true
				r.Summary.Findings[f.Kind.String()]++
				cc.FindingKinds = append(cc.FindingKinds, f.Kind.String())
			}
			r.Findings = append(r.Findings, Finding{Kind: f.Kind, Severity: f.Severity, Endpoint: addr(f.Endpoint),
				Role: f.Role, Peer: addr(f.Peer), Connection: c.ID, Since: f.Since.UTC(),
				DurationSeconds: f.Duration.Seconds(), Ending: f.Ending, Frames: nonNil(f.Frames),
				Explanation: explain(f), f: f})
		}
		r.Connections = append(r.Connections, cc)
	}
	r.Groups = group(r.Findings)
	return r
}

func connection(c *fsm.Conn) Connection {
	cc := Connection{ID: c.ID, Client: addr(c.Client.Addr), Server: addr(c.Server.Addr),
		ClientState: c.Client.State, ServerState: c.Server.State, Partial: c.Partial, Roles: c.Roles.String(),
		Incarnation: c.Incarnation, FirstFrame: c.FirstFrame, LastFrame: c.LastFrame,
		FirstTime: c.First.UTC(), LastTime: c.Last.UTC(),
		ClientTimeline: timeline(&c.Client), ServerTimeline: timeline(&c.Server),
		Packets: PerDir{c.Packets[0], c.Packets[1]}, Bytes: PerDir{c.Bytes[0], c.Bytes[1]},
		Retransmits:   PerDir{uint64(c.Retransmits[0]), uint64(c.Retransmits[1])},
		Duplicates:    PerDir{uint64(c.Duplicates[0]), uint64(c.Duplicates[1])},
		KeepAlives:    PerDir{uint64(c.KeepAlives[0]), uint64(c.KeepAlives[1])},
		ZeekConnState: c.Zeek.State, ZeekHistory: c.Zeek.History, ZeekOrig: addr(c.Zeek.Orig),
		FindingKinds: []string{}, conn: c}
	for _, e := range []*fsm.Endpoint{&c.Client, &c.Server} {
		for _, a := range e.Anomalies {
			cc.Anomalies = append(cc.Anomalies, Anomaly{Endpoint: addr(e.Addr), Frame: a.Frame, State: a.From, Event: a.On, Reason: a.Reason})
		}
	}
	return cc
}

func timeline(e *fsm.Endpoint) []Change {
	out := make([]Change, 0, len(e.Timeline))
	for _, ch := range e.Timeline {
		out = append(out, Change{Time: ch.Time.UTC(), Frame: ch.Frame, State: ch.To, Event: ch.On, Presumed: ch.Presumed})
	}
	return out
}

// group aggregates findings per kind and endpoint, worst first.
func group(fs []Finding) []Group {
	type gk struct {
		kind fsm.Kind
		role fsm.Role
		ep   string
	}
	idx := map[gk]int{}
	var gs []Group
	for i := range fs {
		f := &fs[i]
		k := gk{f.Kind, f.Role, f.Endpoint}
		if f.Role == fsm.Client && f.f != nil {
			k.ep = f.f.Endpoint.Addr().Unmap().String() // a client's ports are ephemeral
		}
		if f.Kind == fsm.KindSimultaneousClose || f.Kind == fsm.KindPartial || f.Kind == fsm.KindCaptureGap {
			k.role, k.ep = fsm.Server, "" // connection-level facts: one group each
		}
		j, ok := idx[k]
		if !ok {
			j = len(gs)
			idx[k] = j
			gs = append(gs, Group{Kind: k.kind, Severity: f.Severity, Endpoint: k.ep, Role: k.role, Oldest: f.Since})
		}
		g := &gs[j]
		g.Count++
		g.Severity = max(g.Severity, f.Severity)
		if f.Since.Before(g.Oldest) {
			g.Oldest = f.Since
		}
		g.LongestSeconds = max(g.LongestSeconds, f.DurationSeconds)
		if len(g.Connections) < maxGroupConns {
			g.Connections = append(g.Connections, f.Connection)
		}
		for _, fr := range f.Frames {
			if len(g.Frames) < maxGroupFrames {
				g.Frames = append(g.Frames, fr)
			}
		}
		g.members = append(g.members, f)
	}
	for i := range gs {
		g := &gs[i]
		slices.Sort(g.Frames)
		g.Frames = slices.Compact(g.Frames)
		g.Headline = headline(g)
		g.Explanation = g.members[0].Explanation
		if len(g.members) > 1 {
			g.Explanation = groupExplanation(g)
		}
	}
	slices.SortStableFunc(gs, func(a, b Group) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(b.Count, a.Count), cmp.Compare(a.Endpoint, b.Endpoint))
	})
	if gs == nil {
		gs = []Group{}
	}
	return gs
}

// addr formats an endpoint as ip:port, IPv6 as [addr]:port.
func addr(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port()).String()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// plural returns "1 connection" or "n connections".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
