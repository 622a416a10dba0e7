package gate

import (
	"cmp"
	"slices"

	"github.com/tcpstate/tcpstate/report"
)

// Config is what the CI gate checks.
type Config struct {
	Rules    []Rule
	Ignore   Ignore
	Baseline *Baseline
}

// Enabled reports whether there is anything to evaluate.
func (c *Config) Enabled() bool {
	return len(c.Rules) > 0 || len(c.Ignore) > 0 || c.Baseline != nil
}

// Evaluate checks the rules on r, which must have been built with
// c.Ignore.Match as its Limits.Ignore (when there are ignore rules), and
// sets r.Gate.
//
// Without a baseline, a rule counts the connections that have a finding it
// selects that is not ignored, once per connection and kind (the
// summary's unit), exactly. With a baseline, it counts the findings (not
// ignored) of the groups, by kind and endpoint, that the baseline did not
// have; a severity rule then takes the groups whose worst finding is at
// that severity or above.
func Evaluate(r *report.Report, c *Config) *report.Gate {
	g := &report.Gate{Passed: true, Rules: []report.GateRule{}, Ignore: c.Ignore.Strings()}
	var isNew map[groupKey]bool
	if c.Baseline != nil {
		g.Baseline, isNew = compare(r, c.Baseline)
	}
	for _, rule := range c.Rules {
		gr := report.GateRule{Rule: rule.String(), Selector: rule.Sel.Name, Max: rule.Max, Groups: []report.GroupRef{}}
		n, ignored := rule.Sel.count(&r.Counts)
		gr.Ignored = ignored
		for i := range r.Groups {
			grp := &r.Groups[i]
			left := grp.Count - grp.Ignored
			if !rule.Sel.Has(grp.Kind) || left <= 0 {
				continue
			}
			if isNew != nil {
				if !isNew[groupKey{grp.Kind.String(), grp.Endpoint}] || grp.Severity < rule.Sel.min {
					continue
				}
			} else if grp.Severity < rule.Sel.min {
				continue // its worst finding is below the rule's severity
			}
			gr.Groups = append(gr.Groups, report.GroupRef{Kind: grp.Kind.String(), Endpoint: grp.Endpoint, Count: left})
		}
		if isNew != nil {
			n = 0
			for _, ref := range gr.Groups {
				n += ref.Count
			}
		}
		gr.Count = n
		gr.Passed = n <= rule.Max
		g.Passed = g.Passed && gr.Passed
		gr.Groups = largest(gr.Groups)
		for i := range r.Findings {
			f := &r.Findings[i]
			if f.Ignored || !rule.Sel.Selects(f) {
				continue
			}
			if isNew != nil && !isNew[groupKey{f.Kind.String(), f.GroupEndpoint()}] {
				continue
			}
			gr.Findings = append(gr.Findings, i)
		}
		g.Rules = append(g.Rules, gr)
	}
	r.Gate = g
	return g
}

// compare lists the groups new since the baseline and those fixed.
func compare(r *report.Report, b *Baseline) (*report.Baseline, map[groupKey]bool) {
	out := &report.Baseline{File: b.File, New: []report.GroupRef{}, Fixed: []report.GroupRef{}}
	isNew := map[groupKey]bool{}
	present := map[groupKey]bool{}
	for i := range r.Groups {
		grp := &r.Groups[i]
		k := groupKey{grp.Kind.String(), grp.Endpoint}
		present[k] = true
		if _, old := b.groups[k]; !old && grp.Count > grp.Ignored {
			isNew[k] = true
			out.New = append(out.New, report.GroupRef{Kind: k.kind, Endpoint: k.endpoint, Count: grp.Count - grp.Ignored})
		}
	}
	for _, k := range b.order {
		if !present[k] {
			out.Fixed = append(out.Fixed, report.GroupRef{Kind: k.kind, Endpoint: k.endpoint, Count: b.groups[k]})
		}
	}
	out.NewCount, out.FixedCount = len(out.New), len(out.Fixed)
	out.New, out.Fixed = largest(out.New), largest(out.Fixed)
	return out, isNew
}

// largest sorts groups by count, largest first, then by kind and
// endpoint, and keeps at most report.MaxGateGroups.
func largest(gs []report.GroupRef) []report.GroupRef {
	slices.SortStableFunc(gs, func(a, b report.GroupRef) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Endpoint, b.Endpoint))
	})
	if len(gs) > report.MaxGateGroups {
		gs = gs[:report.MaxGateGroups]
	}
	return gs
}
