package report

import (
	"net/netip"

	"github.com/tcpstate/tcpstate/fsm"
)

// numSeverities is the number of fsm.Severity values (Info, Warning, Error).
const numSeverities = int(fsm.Error) + 1

// Counts are the exact counts a CI gate needs beyond Summary, at any scale:
// per finding kind, the connections whose worst finding of that kind that
// is not ignored has each severity, and the connections whose findings of
// that kind are all ignored. For every kind k,
// Worst[k][Info]+Worst[k][Warning]+Worst[k][Error]+Ignored[k] equals
// Summary.Findings[k.String()].
type Counts struct {
	Worst   [fsm.NumKinds][numSeverities]int
	Ignored [fsm.NumKinds]int
}

// At returns how many connections have a finding of kind k, not ignored,
// at severity min or above.
func (c *Counts) At(k fsm.Kind, min fsm.Severity) int {
	n := 0
	for s := int(min); s < numSeverities; s++ {
		n += c.Worst[k][s]
	}
	return n
}

// add counts connection c's findings. It runs once per connection, only
// over its findings, and allocates nothing.
func (c *Counts) add(fs []fsm.Finding, ignore func(*fsm.Finding) bool) {
	if len(fs) == 0 {
		return
	}
	var worst [fsm.NumKinds]int8 // 0: none not ignored; else severity+1
	var seen [fsm.NumKinds]bool
	for i := range fs {
		f := &fs[i]
		seen[f.Kind] = true
		if ignore != nil && ignore(f) {
			continue
		}
		worst[f.Kind] = max(worst[f.Kind], int8(f.Severity)+1)
	}
	for k := range worst {
		switch {
		case worst[k] > 0:
			c.Worst[k][worst[k]-1]++
		case seen[k]:
			c.Ignored[k]++
		}
	}
}

func (c *Counts) merge(o *Counts) {
	for k := range c.Worst {
		for s := range c.Worst[k] {
			c.Worst[k][s] += o.Worst[k][s]
		}
		c.Ignored[k] += o.Ignored[k]
	}
}

// Gate is the verdict of the CI rules (--fail-on, --max), with the ignore
// rules and the baseline comparison that shaped it. A report has one only
// when rules, ignore rules or a baseline were given.
type Gate struct {
	// Passed is false when at least one rule is broken (exit status 1).
	Passed bool       `json:"passed"`
	Rules  []GateRule `json:"rules"`
	// Ignore lists the ignore rules, as given.
	Ignore []string `json:"ignore"`
	// Baseline is the comparison with an earlier report, if one was given.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// GateRule is one rule and its verdict.
type GateRule struct {
	// Rule is the rule as given on the command line: "--fail-on close-wait",
	// "--max time-wait=10".
	Rule string `json:"rule"`
	// Selector is what the rule counts: a kind, "any", or a severity and
	// above ("warning+").
	Selector string `json:"selector"`
	// Max is the most findings the rule allows (0 for --fail-on).
	Max int `json:"max"`
	// Count is what the rule counted: connections with a finding selected
	// and not ignored or, with a baseline, the findings of groups (kind and
	// endpoint) that are new.
	Count int `json:"count"`
	// Ignored is how many connections the selector matched whose findings
	// were all ignored.
	Ignored int  `json:"ignored"`
	Passed  bool `json:"passed"`
	// Groups are the groups (kind and endpoint) that counted, largest
	// first, at most MaxGateGroups of them.
	Groups []GroupRef `json:"groups"`

	// Findings are the indexes in Report.Findings of the listed findings
	// that counted, for annotations and JUnit.
	Findings []int `json:"-"`
}

// MaxGateGroups bounds the groups a GateRule and a Baseline list.
const MaxGateGroups = 100

// GroupRef names a group of findings by kind and endpoint (as in Group) and
// says how many findings it holds (not counting ignored ones).
type GroupRef struct {
	Kind     string `json:"kind"`
	Endpoint string `json:"endpoint"`
	Count    int    `json:"count"`
}

// Baseline compares the groups of findings with those of an earlier
// report, by kind and endpoint.
type Baseline struct {
	File string `json:"file"`
	// New are the groups with findings (not ignored) that the baseline did
	// not have; Fixed the baseline's groups that are gone. Each is bounded
	// by MaxGateGroups; NewCount and FixedCount are exact.
	New        []GroupRef `json:"new"`
	Fixed      []GroupRef `json:"fixed"`
	NewCount   int        `json:"new_count"`
	FixedCount int        `json:"fixed_count"`
}

// GroupEndpoint returns the endpoint of the group f belongs to (Group's
// Endpoint): a server's ip:port, a client's ip (its ports are ephemeral),
// the server for syn-timeout, and "" for the connection-level kinds.
func (f *Finding) GroupEndpoint() string {
	switch f.Kind {
	case fsm.KindSimultaneousClose, fsm.KindPartial, fsm.KindCaptureGap:
		return ""
	case fsm.KindSynTimeout:
		return f.Peer
	}
	if f.Role == fsm.Client {
		if ap, err := netip.ParseAddrPort(f.Endpoint); err == nil {
			return ap.Addr().String()
		}
	}
	return f.Endpoint
}
