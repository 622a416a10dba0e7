package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/report"
	"github.com/tcpstate/tcpstate/report/gate"
)

// gateFlags are the CI gate's flags, and the gate they make once parsed.
type gateFlags struct {
	failOn      []string
	max         []string
	ignore      []string
	ignoreFile  string
	baseline    string
	junit       string
	annotations string

	cfg gate.Config
}

func (g *gateFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&g.failOn, "fail-on", nil, "exit 1 on any finding of `KIND[,KIND...]`: a kind (close-wait, …), any, or a severity and above (info+, warning+, error+); repeatable")
	fs.StringArrayVar(&g.max, "max", nil, "for each `KIND=N[,...]`, exit 1 if more than N connections have a finding of KIND (KIND as for --fail-on); repeatable")
	fs.StringArrayVar(&g.ignore, "ignore", nil, "accept findings matching `KIND@ADDR:PORT` (* for any part, e.g. time-wait@*:443): reported, marked ignored, never counted; repeatable")
	fs.StringVar(&g.ignoreFile, "ignore-file", "", "read ignore rules from `file`, one per line, # comments")
	fs.StringVar(&g.baseline, "baseline", "", "rules count only findings new since the earlier JSON report `file` (by kind and endpoint); prints what is new and fixed")
	fs.StringVar(&g.junit, "junit", "", "also write the rules' verdicts as JUnit XML to `file` (one test case per rule)")
	fs.StringVar(&g.annotations, "annotations", "", "print an annotation for each finding that breaks a rule, on stdout, in `style` github (workflow commands)")
}

// prepare parses and checks the gate's flags and reads the baseline, before
// any capture is read: a mistake is exit status 2 at once.
func (g *gateFlags) prepare(o *options, files []string) error {
	for _, v := range g.failOn {
		rules, err := gate.ParseFailOn(v)
		if err != nil {
			return usagef("%v", err)
		}
		g.addRules(rules)
	}
	for _, v := range g.max {
		rules, err := gate.ParseMax(v)
		if err != nil {
			return usagef("%v", err)
		}
		g.addRules(rules)
	}
	for _, v := range g.ignore {
		ig, err := gate.ParseIgnore(v)
		if err != nil {
			return usagef("--ignore: %v", err)
		}
		g.cfg.Ignore = append(g.cfg.Ignore, ig...)
	}
	if g.ignoreFile != "" {
		f, err := os.Open(g.ignoreFile)
		if err != nil {
			return fmt.Errorf("--ignore-file %v", openError(err))
		}
		ig, err := gate.ParseIgnoreFile(f, g.ignoreFile)
		f.Close()
		if err != nil {
			return fmt.Errorf("--ignore-file %v", err)
		}
		g.cfg.Ignore = append(g.cfg.Ignore, ig...)
	}
	if (g.junit != "" || g.annotations != "") && len(g.cfg.Rules) == 0 {
		return usagef("--junit and --annotations report on rules: give --fail-on or --max")
	}
	switch g.annotations {
	case "", "github":
	default:
		return usagef("--annotations %q: the only style is github", g.annotations)
	}
	if g.annotations != "" && (o.output == "" || o.output == "-") {
		if format, err := chooseFormat(o.format, o.output); err == nil && format != "text" {
			return usagef("--annotations are written to stdout: write the %s report to a file with -o", format)
		}
	}
	if g.junit != "" {
		if g.junit == "-" {
			return usagef("--junit needs a file name")
		}
		if err := checkOutput(g.junit, files); err != nil {
			return err
		}
		if g.junit == o.output || g.junit == g.baseline {
			return usagef("--junit %s is also the report or the baseline", g.junit)
		}
	}
	if g.baseline != "" {
		b, err := gate.LoadBaseline(g.baseline)
		if err != nil {
			return err
		}
		g.cfg.Baseline = b
	}
	return nil
}

// addRules adds rules, skipping any already given.
func (g *gateFlags) addRules(rules []gate.Rule) {
	for _, r := range rules {
		dup := false
		for _, have := range g.cfg.Rules {
			dup = dup || have.String() == r.String()
		}
		if !dup {
			g.cfg.Rules = append(g.cfg.Rules, r)
		}
	}
}

// ignoreFunc is the analysis's Limits.Ignore: nil without ignore rules.
func (g *gateFlags) ignoreFunc() func(*fsm.Finding) bool {
	if len(g.cfg.Ignore) == 0 {
		return nil
	}
	return g.cfg.Ignore.Match
}

// writeGated evaluates the gate on rep, writes the report (with its gate
// section), the JUnit file and the annotations, prints the verdict on
// stderr, and returns errFindings (exit status 1) when a rule is broken:
// everything is written before the status says so.
func writeGated(o *options, format string, rep *report.Report, stdout, stderr io.Writer) error {
	g := &o.gate
	if !g.cfg.Enabled() {
		return write(o, format, rep, stdout)
	}
	verdict := gate.Evaluate(rep, &g.cfg)
	if g.annotations == "github" && (o.output == "" || o.output == "-") {
		// Before the text report, whose last lines stay the verdict.
		if err := report.GitHubAnnotations(stdout, rep); err != nil {
			return err
		}
	}
	if err := write(o, format, rep, stdout); err != nil {
		return err
	}
	if g.annotations == "github" && o.output != "" && o.output != "-" {
		if err := report.GitHubAnnotations(stdout, rep); err != nil {
			return err
		}
	}
	if g.junit != "" {
		af, err := createAtomic(g.junit)
		if err != nil {
			return err
		}
		defer af.abort()
		if err := report.JUnit(af.f, rep); err != nil {
			return fmt.Errorf("write %s: %v", g.junit, err)
		}
		if err := af.commit(); err != nil {
			return err
		}
	}
	if len(g.cfg.Rules) > 0 && (!verdict.Passed || !o.quiet) {
		fmt.Fprintf(stderr, "tcpstate: %s\n", verdict.Summary())
	}
	if !verdict.Passed {
		return errFindings
	}
	return nil
}
