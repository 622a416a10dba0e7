package report

import (
	"fmt"
	"net/netip"
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
	// Omitted says what the connections and findings lists leave out.
	Omitted Omitted `json:"omitted"`
	// Snapshots are the states at the moments asked for (--at), Timeline
	// the per-state counts every step (--timeline); absent unless asked.
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	Timeline  *Timeline  `json:"timeline,omitempty"`
	// Gate is the CI gate's verdict, when rules, ignore rules or a baseline
	// were given (additive to format_version 1).
	Gate *Gate `json:"gate,omitempty"`
	// Counts are the exact counts the gate evaluates.
	Counts Counts `json:"-"`

	// StatesOverTime and Services feed the HTML report's chart and table
	// (not yet part of the JSON contract).
	StatesOverTime StatesOverTime `json:"-"`
	Services       []Service      `json:"-"`
	// OtherServices counts the connections of services beyond the table.
	OtherServices int `json:"-"`
}

// Capture describes the input.
type Capture struct {
	Files      []string          `json:"files"`
	Packets    uint64            `json:"packets"`
	TCPPackets uint64            `json:"tcp_packets"`
	Skipped    map[string]uint64 `json:"skipped"`
	// Tunneled counts the TCP packets found inside tunnels, by kind
	// (reassembly.Tunnel); a packet in nested ones counts in each.
	Tunneled  map[string]uint64 `json:"tunneled"`
	Start     *time.Time        `json:"start"`
	End       *time.Time        `json:"end"`
	LinkTypes []LinkType        `json:"link_types"`
	Truncated bool              `json:"truncated"`
	Warnings  []string          `json:"warnings"`
	// PeakConnections is the most connections tracked at once (open, or
	// closed less than 2×MSL ago): what memory followed.
	PeakConnections int `json:"peak_connections"`
	// EvictedConnections is how many connections --max-conns closed early.
	EvictedConnections uint64 `json:"evicted_connections"`
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
	// Ignored maps every finding kind to the connections concerned whose
	// findings of that kind all matched an ignore rule (only with ignore
	// rules).
	Ignored map[string]int `json:"ignored,omitempty"`
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
	// pinned: listed because the user asked for it (Limits.Pin).
	pinned bool
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
	// Ignored is true when the finding matched an ignore rule: it is
	// reported, and no rule counts it.
	Ignored bool `json:"ignored,omitempty"`
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
	// Ignored is how many of Count matched an ignore rule.
	Ignored int `json:"ignored,omitempty"`

	agg *groupAgg
}

// maxGroupFrames and maxGroupConns bound what a group lists; Count stays exact.
const (
	maxGroupFrames = 12
	maxGroupConns  = 50
)

// Build assembles the Report from the source's statistics and the replayed
// connections, with the default Limits.
func Build(tool string, st reassembly.Stats, conns []*fsm.Conn, cfg fsm.Config) *Report {
	b := NewBuilder(Limits{})
	for _, c := range conns {
		b.Add(c)
	}
	return b.Report(tool, st, cfg)
}

// finding renders finding f of connection id.
func finding(id uint64, f *fsm.Finding) Finding {
	return Finding{Kind: f.Kind, Severity: f.Severity, Endpoint: addr(f.Endpoint),
		Role: f.Role, Peer: addr(f.Peer), Connection: id, Since: f.Since.Time(),
		DurationSeconds: f.Duration.Seconds(), Ending: f.Ending, Frames: nonNil(f.Frames),
		Explanation: explain(f)}
}

// ConnectionOf renders one replayed connection as the JSON contract lists it.
func ConnectionOf(c *fsm.Conn) Connection { return connection(c) }

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
	var seen [fsm.NumKinds]bool
	for _, f := range c.Findings {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			cc.FindingKinds = append(cc.FindingKinds, f.Kind.String())
		}
	}
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
		out = append(out, Change{Time: ch.Time.Time(), Frame: ch.Frame, State: ch.To, Event: ch.On, Presumed: ch.Presumed})
	}
	return out
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
