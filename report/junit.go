package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// maxFailureFindings bounds the findings a JUnit failure lists.
const maxFailureFindings = 100

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

// JUnit writes r's gate verdict as JUnit XML, the form CI servers (GitHub
// test reporters, GitLab, Jenkins) display: one testsuite "tcpstate" with
// one testcase per rule (classname "tcpstate.gate"), and a failure element
// for each broken rule whose text lists the groups and findings that broke
// it. r must have a Gate. The output is deterministic: the suite's
// timestamp is the end of the capture.
func JUnit(w io.Writer, r *Report) error {
	g := r.Gate
	if g == nil {
		return fmt.Errorf("report: no gate to write as JUnit")
	}
	s := junitSuite{Name: "tcpstate", Time: "0"}
	if r.Capture.End != nil {
		// When the recording ended, by the capture's clock (never the wall
		// clock: the output is deterministic).
		s.Timestamp = r.Capture.End.UTC().Format("2006-01-02T15:04:05")
	}
	s.Properties = append(s.Properties, junitProperty{"tool", r.Tool})
	for _, f := range r.Capture.Files {
		s.Properties = append(s.Properties, junitProperty{"capture", f})
	}
	for _, ig := range g.Ignore {
		s.Properties = append(s.Properties, junitProperty{"ignore", ig})
	}
	if g.Baseline != nil {
		s.Properties = append(s.Properties, junitProperty{"baseline", g.Baseline.File})
	}
	for i := range g.Rules {
		gr := &g.Rules[i]
		c := junitCase{Name: gr.Rule, Classname: "tcpstate.gate", Time: "0"}
		why := gr.Rule + ": " + gr.Why(g.Baseline != nil)
		if gr.Passed {
			c.SystemOut = why + "\n"
		} else {
			s.Failures++
			c.Failure = &junitFailure{Message: why, Type: gr.Selector, Text: failureText(r, gr)}
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests = len(s.Cases)
	doc := junitSuites{Name: "tcpstate", Tests: s.Tests, Failures: s.Failures, Time: "0", Suites: []junitSuite{s}}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if _, err := bw.WriteString("\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// failureText lists what broke rule gr: its groups, then its findings.
func failureText(r *Report, gr *GateRule) string {
	var b strings.Builder
	b.WriteString("\n")
	for _, ref := range gr.Groups {
		fmt.Fprintf(&b, "%s: %d\n", ref, ref.Count)
	}
	for i, idx := range gr.Findings {
		if i == maxFailureFindings {
			fmt.Fprintf(&b, "… and %d more findings listed in the report\n", len(gr.Findings)-i)
			break
		}
		f := &r.Findings[idx]
		fmt.Fprintf(&b, "%s %s\n", f.Kind, annotationLine(f))
	}
	return b.String()
}
