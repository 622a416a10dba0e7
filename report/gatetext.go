package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// String returns the group as an ignore rule would name it:
// "close-wait@192.0.2.2:8080", or the kind alone for connection-level kinds.
func (g GroupRef) String() string {
	if g.Endpoint == "" {
		return g.Kind
	}
	return g.Kind + "@" + g.Endpoint
}

// Why says what rule gr counted and against what: "5 connections with
// close-wait, at most 0 allowed: close-wait@192.0.2.2:8080 (5)".
func (gr *GateRule) Why(baseline bool) string {
	var b strings.Builder
	noun := gr.Selector
	switch {
	case baseline && noun == "any":
		noun = "new findings"
	case baseline:
		noun = "new " + noun + " findings"
	case noun == "any":
		noun = "connections with findings (per kind)"
	case strings.HasSuffix(noun, "+"):
		noun = "connections with " + noun + " findings (per kind)"
	default:
		noun = "connections with " + noun
	}
	fmt.Fprintf(&b, "%d %s, at most %d allowed", gr.Count, noun, gr.Max)
	if gr.Ignored > 0 {
		fmt.Fprintf(&b, " (%d ignored)", gr.Ignored)
	}
	for i, g := range gr.Groups {
		if i == 3 {
			fmt.Fprintf(&b, ", +%d more", len(gr.Groups)-i)
			break
		}
		sep := ", "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s%s (%d)", sep, g, g.Count)
	}
	return b.String()
}

// Summary is the gate's verdict in one line, for stderr: "gate failed:
// close-wait 5 > 0" or "gate passed: close-wait 0 <= 0, time-wait 3 <= 10".
func (g *Gate) Summary() string {
	var parts []string
	for _, r := range g.Rules {
		if g.Passed {
			parts = append(parts, fmt.Sprintf("%s %d <= %d", r.Selector, r.Count, r.Max))
		} else if !r.Passed {
			parts = append(parts, fmt.Sprintf("%s %d > %d", r.Selector, r.Count, r.Max))
		}
	}
	verdict := "gate passed"
	if !g.Passed {
		verdict = "gate failed"
	}
	if g.Baseline != nil {
		verdict += " (new since " + g.Baseline.File + ")"
	}
	if len(parts) == 0 {
		return "gate: no rules to check (--fail-on, --max)"
	}
	return verdict + ": " + strings.Join(parts, ", ")
}

// gate prints the CI gate's verdict: the last lines of the report.
func (t *textWriter) gate(r *Report) {
	g := r.Gate
	if g == nil {
		return
	}
	if len(r.Groups) == 0 {
		t.printf("\n") // the findings section ended without a blank line
	}
	if b := g.Baseline; b != nil {
		t.printf("%s\n", t.color(ansiBold, fmt.Sprintf("Compared with %s: %d new, %d fixed (groups of findings, by kind and endpoint)",
			b.File, b.NewCount, b.FixedCount)))
		for _, ref := range b.New {
			t.printf("  new    %s (%d)\n", ref, ref.Count)
		}
		if b.NewCount > len(b.New) {
			t.printf("  new    … and %d more (-f json lists them)\n", b.NewCount-len(b.New))
		}
		for _, ref := range b.Fixed {
			t.printf("  fixed  %s (%d)\n", ref, ref.Count)
		}
		if b.FixedCount > len(b.Fixed) {
			t.printf("  fixed  … and %d more\n", b.FixedCount-len(b.Fixed))
		}
		t.printf("\n")
	}
	if len(g.Ignore) > 0 {
		var parts []string
		for k := range fsm.NumKinds {
			if n := r.Counts.Ignored[k]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s on %s", fsm.Kind(k), plural(n, "connection")))
			}
		}
		what := "nothing matched"
		if len(parts) > 0 {
			what = strings.Join(parts, ", ")
		}
		for _, line := range wrap(fmt.Sprintf("Ignored (%s): %s", strings.Join(g.Ignore, ", "), what), t.opt.Width) {
			t.printf("%s\n", line)
		}
	}
	if len(g.Rules) == 0 {
		t.printf("CI gate: no rules to check (--fail-on, --max)\n")
		return
	}
	broken := 0
	for _, r := range g.Rules {
		if !r.Passed {
			broken++
		}
	}
	if g.Passed {
		t.printf("%s\n", t.color(ansiBold, fmt.Sprintf("CI gate: PASSED (%s)", plural(len(g.Rules), "rule"))))
	} else {
		t.printf("%s\n", t.color(ansiRed, fmt.Sprintf("CI gate: FAILED (%d of %s broken)", broken, plural(len(g.Rules), "rule"))))
	}
	for i := range g.Rules {
		gr := &g.Rules[i]
		label := t.color(ansiRed, "FAIL")
		if gr.Passed {
			label = "pass"
		}
		for j, line := range wrap(gr.Rule+": "+gr.Why(g.Baseline != nil), t.opt.Width-6) {
			if j == 0 {
				t.printf("  %s  %s\n", label, line)
			} else {
				t.printf("        %s\n", line)
			}
		}
	}
}

// annotationLine describes one finding for a CI annotation or a JUnit
// failure: "192.0.2.2:8080 (server), connection #3 with 192.0.2.1:40000,
// since 2026-11-21 14:54:46.089380 UTC for 744ms (open at end of capture),
// frames 10 43 47".
func annotationLine(f *Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s), connection #%d with %s, since %s UTC for %s (%s)", f.Endpoint, f.Role, f.Connection,
		f.Peer, stamp(f.Since), Dur(time.Duration(f.DurationSeconds*float64(time.Second))), f.Ending)
	if len(f.Frames) > 0 {
		b.WriteString(", frames")
		for _, fr := range f.Frames {
			fmt.Fprintf(&b, " %d", fr)
		}
	}
	return b.String()
}
