package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// MaxAnnotations bounds the finding annotations written: GitHub shows at
// most 10 error annotations per step and 50 per job.
const MaxAnnotations = 50

// GitHubAnnotations writes a GitHub Actions workflow command
// ("::error title=…::…") for each listed finding that broke a rule (once,
// however many rules it broke), then one for each broken rule. Nothing is
// written when every rule passed. r must have a Gate.
func GitHubAnnotations(w io.Writer, r *Report) error {
	g := r.Gate
	if g == nil || g.Passed {
		return nil
	}
	bw := bufio.NewWriter(w)
	done := map[int]bool{}
	n, more := 0, 0
	for i := range g.Rules {
		gr := &g.Rules[i]
		if gr.Passed {
			continue
		}
		for _, idx := range gr.Findings {
			if done[idx] {
				continue
			}
			done[idx] = true
			if n == MaxAnnotations {
				more++
				continue
			}
			n++
			f := &r.Findings[idx]
			fmt.Fprintf(bw, "::error title=%s::%s\n", ghProperty("tcpstate "+f.Kind.String()),
				ghData(annotationLine(f)+" ("+gr.Rule+")"))
		}
	}
	if more > 0 {
		fmt.Fprintf(bw, "::error title=tcpstate::%s\n", ghData(fmt.Sprintf("%d more findings broke the gate: see the report", more)))
	}
	for i := range g.Rules {
		gr := &g.Rules[i]
		if !gr.Passed {
			fmt.Fprintf(bw, "::error title=%s::%s\n", ghProperty("tcpstate gate"), ghData(gr.Rule+": "+gr.Why(g.Baseline != nil)))
		}
	}
	return bw.Flush()
}

// ghData escapes a workflow command's message.
var ghData = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace

// ghProperty escapes a workflow command's property value.
var ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace
