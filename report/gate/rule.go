package gate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/report"
)

// Selector is what a rule counts: findings of some kinds at a severity or
// above.
type Selector struct {
	// Name is the selector as tcpstate spells it: a kind ("close-wait"),
	// "any", or a severity and above ("warning+").
	Name  string
	kinds [fsm.NumKinds]bool
	min   fsm.Severity
}

// severities are the severity selectors, least severe first.
var severities = []fsm.Severity{fsm.Info, fsm.Warning, fsm.Error}

// ParseSelector parses a kind name (DESIGN §4: close-wait, time-wait, …),
// "any" for every kind, or a severity and above: "info+", "warning+",
// "error+" (the "+" may be left out). Case and "_" for "-" are forgiven:
// CLOSE_WAIT is close-wait.
func ParseSelector(s string) (Selector, error) {
	name := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
	var sel Selector
	if k, ok := fsm.ParseKind(name); ok {
		sel.Name = name
		sel.kinds[k] = true
		return sel, nil
	}
	if name == "any" || name == "all" || name == "*" {
		sel.Name = "any"
		sel.kinds = allKinds()
		return sel, nil
	}
	for _, sv := range severities {
		if name == sv.String() || name == sv.String()+"+" || sv == fsm.Warning && (name == "warn" || name == "warn+") {
			sel.Name = sv.String() + "+"
			sel.kinds = allKinds()
			sel.min = sv
			return sel, nil
		}
	}
	if s == "" {
		return sel, fmt.Errorf("empty finding kind: %s", Kinds())
	}
	return sel, fmt.Errorf("unknown finding kind %q: %s", s, Kinds())
}

// Kinds lists what a selector may be, for error messages.
func Kinds() string {
	names := make([]string, 0, fsm.NumKinds)
	for k := range fsm.NumKinds {
		names = append(names, fsm.Kind(k).String())
	}
	return "use " + strings.Join(names, ", ") + "; any; or info+, warning+, error+"
}

func allKinds() (ks [fsm.NumKinds]bool) {
	for k := range ks {
		ks[k] = true
	}
	return ks
}

// Has reports whether the selector counts findings of kind k (at its
// severity or above).
func (s *Selector) Has(k fsm.Kind) bool { return int(k) < len(s.kinds) && s.kinds[k] }

// Selects reports whether the selector counts finding f.
func (s *Selector) Selects(f *report.Finding) bool { return s.Has(f.Kind) && f.Severity >= s.min }

// count is how many connections have a finding the selector counts that
// is not ignored (once per connection and kind), and how many had findings
// of its kinds that were all ignored.
func (s *Selector) count(c *report.Counts) (n, ignored int) {
	for k := range fsm.NumKinds {
		if s.kinds[k] {
			n += c.At(fsm.Kind(k), s.min)
			ignored += c.Ignored[k]
		}
	}
	return n, ignored
}

// Rule is one --fail-on or --max rule: broken when more than Max findings
// are selected.
type Rule struct {
	// Flag is "--fail-on" or "--max".
	Flag string
	Sel  Selector
	Max  int
}

// String returns the rule as a command line gives it: "--fail-on
// close-wait", "--max time-wait=10".
func (r Rule) String() string {
	if r.Flag == "--max" {
		return fmt.Sprintf("--max %s=%d", r.Sel.Name, r.Max)
	}
	return "--fail-on " + r.Sel.Name
}

// ParseFailOn parses one --fail-on value: selectors separated by commas,
// one rule each (fail when any is found).
func ParseFailOn(v string) ([]Rule, error) {
	var rules []Rule
	for _, part := range strings.Split(v, ",") {
		sel, err := ParseSelector(part)
		if err != nil {
			return nil, fmt.Errorf("--fail-on %s: %v", v, err)
		}
		rules = append(rules, Rule{Flag: "--fail-on", Sel: sel})
	}
	return rules, nil
}

// ParseMax parses one --max value: SELECTOR=N pairs separated by commas,
// N a non-negative integer (fail when more than N are found).
func ParseMax(v string) ([]Rule, error) {
	var rules []Rule
	for _, part := range strings.Split(v, ",") {
		name, num, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("--max %s: want KIND=N, e.g. --max time-wait=100", v)
		}
		sel, err := ParseSelector(name)
		if err != nil {
			return nil, fmt.Errorf("--max %s: %v", v, err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n < 0 || strings.HasPrefix(strings.TrimSpace(num), "+") {
			return nil, fmt.Errorf("--max %s: %q is not a count: want a whole number, 0 or more", v, num)
		}
		rules = append(rules, Rule{Flag: "--max", Sel: sel, Max: n})
	}
	return rules, nil
}
