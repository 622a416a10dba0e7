package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// kernelGate is what the CI gate must see in each kernel capture: the
// close-wait endpoints (from its .expect file, checked below) and the
// connections with time-wait (a connection counts once per kind, so
// simultaneous-close's two TIME_WAIT endpoints are one connection).
var kernelGate = map[string]struct {
	closeWait []string // endpoints at fault
	timeWait  int
}{
	"accept-backlog":      {[]string{"192.0.2.2:8081"}, 0},
	"any-sll2":            {[]string{"192.0.2.2:8095"}, 2},
	"client-close":        {nil, 3},
	"closing-snapshot":    {nil, 1},
	"close-wait-leak":     {[]string{"192.0.2.2:8080"}, 0},
	"fin-wait-2-expiry":   {[]string{"192.0.2.2:8089"}, 0},
	"fin-wait-2-snapshot": {[]string{"192.0.2.2:8097"}, 0},
	"half-close":          {nil, 1},
	"ipv6-close-wait":     {[]string{"[2001:db8::2]:8094"}, 0},
	"keepalive-idle":      {nil, 0},
	"lost-final-ack":      {nil, 1},
	"port-reuse":          {[]string{"192.0.2.2:8090"}, 0},
	"refused":             {nil, 0},
	"rst-abort":           {nil, 0},
	"server-close":        {nil, 20},
	"simultaneous-close":  {nil, 1},
	"syn-recv":            {nil, 0},
	"syn-timeout":         {nil, 0},
	"vxlan-close-wait":    {[]string{"198.51.100.2:8099"}, 0},
	"nflog-close-wait":    {[]string{"192.0.2.2:8100"}, 0},
	"time-wait-snapshot":  {nil, 5},
}

const (
	leakCapture  = "../../testdata/kernel/close-wait-leak.pcap"
	cleanCapture = "../../testdata/kernel/client-close.pcap"
)

// gateRun runs tcpstate with the gate's arguments on capture, validates a
// JSON report against the schema, and returns stdout, stderr and the status.
func gateRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	out, errs, code := tcpstate(t, nil, args...)
	if code != 2 && slices.Contains(args, "json") {
		validateReport(t, strings.Join(args, " "), []byte(out))
	}
	return out, errs, code
}

// baselineOf writes the JSON report of capture to a file and returns its name.
func baselineOf(t *testing.T, capture string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(capture), ".pcap")+".json")
	if _, errs, code := tcpstate(t, nil, "-q", "-f", "json", "-o", name, capture); code != 0 {
		t.Fatalf("baseline of %s: exit %d %s", capture, code, errs)
	}
	return name
}

// TestGateKernelCaptures asserts the exit status of every kernel capture
// under each kind of rule: --fail-on close-wait, --max time-wait=N (at the
// count and one below), --ignore (by endpoint, by wildcard port or
// address, and a rule that matches nothing), and --baseline from a leaking
// capture and from a clean one.
func TestGateKernelCaptures(t *testing.T) {
	caps, _ := filepath.Glob("../../testdata/kernel/*.pcap")
	if len(caps) == 0 {
		t.Fatal("no kernel captures in testdata/kernel")
	}
	leakBase, cleanBase := baselineOf(t, leakCapture), baselineOf(t, cleanCapture)
	for _, c := range caps {
		name := strings.TrimSuffix(filepath.Base(c), ".pcap")
		t.Run(name, func(t *testing.T) {
			want, ok := kernelGate[name]
			if !ok {
				t.Fatalf("no row for %s in kernelGate: add what the gate must see", name)
			}
			// The close-wait endpoints are the ground truth's.
			exp, _ := readExpect(t, strings.TrimSuffix(c, ".pcap")+".expect")
			var fromExpect []string
			for k := range exp {
				if ep, ok := strings.CutPrefix(k, "close-wait "); ok {
					fromExpect = append(fromExpect, ep)
				}
			}
			slices.Sort(fromExpect)
			if !slices.Equal(fromExpect, want.closeWait) {
				t.Fatalf("kernelGate says close-wait at %v; %s.expect says %v", want.closeWait, name, fromExpect)
			}
			leaks := len(want.closeWait) > 0
			status := func(fail bool) int {
				if fail {
					return 1
				}
				return 0
			}
			newLeak := false // a close-wait endpoint close-wait-leak does not have
			for _, ep := range want.closeWait {
				newLeak = newLeak || ep != "192.0.2.2:8080"
			}
			type tc struct {
				name string
				args []string
				code int
			}
			cases := []tc{
				{"fail-on close-wait", []string{"--fail-on", "close-wait"}, status(leaks)},
				{"max time-wait=count", []string{"--max", fmt.Sprintf("time-wait=%d", want.timeWait)}, 0},
				{"ignore nothing that is there", []string{"--fail-on", "close-wait", "--ignore", "close-wait@*:1"}, status(leaks)},
				{"ignore every close-wait", []string{"--fail-on", "close-wait", "--ignore", "close-wait"}, 0},
				{"baseline itself", []string{"--fail-on", "any", "--baseline", baselineOf(t, c)}, 0},
				{"baseline leaking", []string{"--fail-on", "close-wait", "--baseline", leakBase}, status(newLeak)},
				{"baseline clean", []string{"--fail-on", "close-wait", "--baseline", cleanBase}, status(leaks)},
			}
			if want.timeWait > 0 {
				cases = append(cases, tc{"max time-wait=count-1", []string{"--max", fmt.Sprintf("time-wait=%d", want.timeWait-1)}, 1})
			}
			var exact, ports, addrs []string
			for _, ep := range want.closeWait {
				i := strings.LastIndex(ep, ":")
				exact = append(exact, "close-wait@"+ep)
				ports = append(ports, "close-wait@*:"+ep[i+1:])
				addrs = append(addrs, "close-wait@"+ep[:i]+":*")
			}
			if leaks {
				cases = append(cases,
					tc{"ignore each endpoint", []string{"--fail-on", "close-wait", "--ignore", strings.Join(exact, ",")}, 0},
					tc{"ignore by port", []string{"--fail-on", "close-wait", "--ignore", strings.Join(ports, ",")}, 0},
					tc{"ignore by address", []string{"--fail-on", "close-wait", "--ignore", strings.Join(addrs, ",")}, 0},
					tc{"ignore another kind", []string{"--fail-on", "close-wait", "--ignore", "fin-wait-2"}, 1},
				)
			}
			for _, tt := range cases {
				t.Run(tt.name, func(t *testing.T) {
					args := append(append([]string{"-f", "json"}, tt.args...), c)
					out, errs, code := gateRun(t, args...)
					if code != tt.code {
						t.Fatalf("tcpstate %s: exit %d; want %d (stderr %q)", strings.Join(args, " "), code, tt.code, errs)
					}
					if !strings.Contains(out, `"gate": {`) {
						t.Errorf("no gate section in the JSON report")
					}
					if strings.Count(errs, "\n") != 1 || !strings.HasPrefix(errs, "tcpstate: gate ") {
						t.Errorf("stderr %q; want one summary line", errs)
					}
				})
			}
		})
	}
}

// TestGateEveryInputAndFormat: exit 1 on the leak and 0 on the clean close
// from a file, stdin, -r and several files, in each format, to stdout and
// to -o; the report is written in full either way.
func TestGateEveryInputAndFormat(t *testing.T) {
	leak, _ := os.ReadFile(leakCapture)
	clean, _ := os.ReadFile(cleanCapture)
	inputs := []struct {
		name  string
		stdin []byte
		args  []string
		code  int
	}{
		{"leak file", nil, []string{leakCapture}, 1},
		{"leak stdin", leak, []string{"-"}, 1},
		{"leak -r", nil, []string{"-r", leakCapture}, 1},
		{"leak and refused merged", nil, []string{"../../testdata/kernel/refused.pcap", leakCapture}, 1},
		{"clean file", nil, []string{cleanCapture}, 0},
		{"clean stdin", clean, []string{"-r", "-"}, 0},
		{"clean and server-close merged", nil, []string{cleanCapture, "-r", "../../testdata/kernel/server-close.pcap"}, 0},
	}
	for _, in := range inputs {
		for _, format := range []string{"text", "json", "html"} {
			for _, toFile := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/file=%v", in.name, format, toFile)
				t.Run(name, func(t *testing.T) {
					args := []string{"--fail-on", "close-wait,syn-recv", "--max", "time-wait=100", "-f", format}
					out := filepath.Join(t.TempDir(), "report."+format)
					if toFile {
						args = append(args, "-o", out)
					}
					args = append(args, in.args...)
					stdout, errs, code := tcpstate(t, in.stdin, args...)
					if code != in.code {
						t.Fatalf("exit %d; want %d (stderr %q)", code, in.code, errs)
					}
					report := stdout
					if toFile {
						b, err := os.ReadFile(out)
						if err != nil {
							t.Fatalf("report not written: %v", err)
						}
						report = string(b)
						if stdout != "" {
							t.Errorf("stdout %q; want nothing with -o", stdout)
						}
					}
					switch format {
					case "json":
						validateReport(t, name, []byte(report))
						var r struct {
							Gate struct {
								Passed bool `json:"passed"`
							} `json:"gate"`
						}
						if err := json.Unmarshal([]byte(report), &r); err != nil || r.Gate.Passed != (in.code == 0) {
							t.Errorf("gate.passed %v (%v); want %v", r.Gate.Passed, err, in.code == 0)
						}
					case "html":
						if !strings.HasSuffix(strings.TrimSpace(report), "</html>") {
							t.Error("HTML report not complete")
						}
					case "text":
						lines := strings.Split(strings.TrimRight(report, "\n"), "\n")
						last := strings.Join(lines[max(0, len(lines)-5):], "\n")
						want := "CI gate: PASSED"
						if in.code == 1 {
							want = "FAIL  --fail-on close-wait: 5 connections with close-wait, at most 0 allowed"
						}
						if !strings.Contains(last, want) {
							t.Errorf("last lines of the text report:\n%s\nwant them to contain %q", last, want)
						}
					}
					wantErr := "tcpstate: gate passed: close-wait 0 <= 0, syn-recv 0 <= 0, time-wait "
					if in.code == 1 {
						wantErr = "tcpstate: gate failed: close-wait 5 > 0\n"
					}
					if !strings.HasPrefix(errs, wantErr) || strings.Count(errs, "\n") != 1 {
						t.Errorf("stderr %q; want one line starting %q", errs, wantErr)
					}
				})
			}
		}
	}
}

// TestGateUsageErrors: a bad rule, baseline or gate output is exit 2 with
// one line on stderr, before any capture is read.
func TestGateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	notJSON := write("notes.json", "this is not json\n")
	otherJSON := write("other.json", `{"name": "a package.json, not a report"}`)
	v2 := write("v2.json", `{"format_version": 2, "tool": "tcpstate 9.0.0", "groups": []}`)
	badIgnore := write("ignore.txt", "# known\ntime-wait@*:443\nclose-wiat@10.0.0.5:*\n")
	missing := filepath.Join(dir, "nope.json")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown kind in --fail-on", []string{"--fail-on", "close-wiat", leakCapture}, `--fail-on close-wiat: unknown finding kind "close-wiat"`},
		{"one unknown kind in a list", []string{"--fail-on", "close-wait,bogus", leakCapture}, `unknown finding kind "bogus"`},
		{"empty --fail-on", []string{"--fail-on", "", leakCapture}, "empty finding kind"},
		{"--max without =", []string{"--max", "time-wait", leakCapture}, "want KIND=N"},
		{"--max negative", []string{"--max", "time-wait=-1", leakCapture}, "not a count"},
		{"--max not a number", []string{"--max", "time-wait=lots", leakCapture}, "not a count"},
		{"--max unknown kind", []string{"--max", "timewait=3", leakCapture}, `unknown finding kind "timewait"`},
		{"missing baseline", []string{"--fail-on", "any", "--baseline", missing, leakCapture}, "nope.json: no such file"},
		{"baseline not JSON", []string{"--fail-on", "any", "--baseline", notJSON, leakCapture}, "not a tcpstate JSON report"},
		{"baseline other JSON", []string{"--fail-on", "any", "--baseline", otherJSON, leakCapture}, "not a tcpstate JSON report"},
		{"baseline format 2", []string{"--fail-on", "any", "--baseline", v2, leakCapture}, "format_version 2"},
		{"baseline a directory", []string{"--fail-on", "any", "--baseline", dir, leakCapture}, "is a directory"},
		{"baseline a capture", []string{"--fail-on", "any", "--baseline", leakCapture, cleanCapture}, "not a tcpstate JSON report"},
		{"missing capture with rules", []string{"--fail-on", "close-wait", filepath.Join(dir, "nope.pcap")}, "nope.pcap: no such file"},
		{"bad ignore kind", []string{"--ignore", "bogus@*:80", leakCapture}, `unknown finding kind "bogus"`},
		{"bad ignore port", []string{"--ignore", "close-wait@*:http", leakCapture}, `port "http"`},
		{"ignore IPv6 with port unbracketed", []string{"--ignore", "close-wait@2001:db8::1:*", leakCapture}, "in brackets"},
		{"bad ignore file line", []string{"--ignore-file", badIgnore, leakCapture}, "ignore.txt:3:"},
		{"missing ignore file", []string{"--ignore-file", filepath.Join(dir, "none.txt"), leakCapture}, "none.txt: no such file"},
		{"junit without rules", []string{"--junit", filepath.Join(dir, "j.xml"), leakCapture}, "give --fail-on or --max"},
		{"junit over the capture", []string{"--fail-on", "any", "--junit", leakCapture, leakCapture}, "would overwrite an input"},
		{"annotations style", []string{"--fail-on", "any", "--annotations", "gitlab", leakCapture}, "the only style is github"},
		{"annotations with JSON on stdout", []string{"--fail-on", "any", "--annotations", "github", "-f", "json", leakCapture}, "write the json report to a file with -o"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := tcpstate(t, nil, tt.args...)
			if code != 2 {
				t.Errorf("exit %d; want 2 (stderr %q)", code, errs)
			}
			if !strings.Contains(errs, tt.stderr) {
				t.Errorf("stderr %q; want it to contain %q", errs, tt.stderr)
			}
			if n := strings.Count(errs, "\n"); n != 1 {
				t.Errorf("stderr has %d lines; want one: %q", n, errs)
			}
			if out != "" {
				t.Errorf("stdout not empty: %q", out)
			}
		})
	}
}

// junitDoc is the JUnit XML structure CI servers read (the Ant/Jenkins
// form: testsuites > testsuite > testcase > failure).
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Time       string `xml:"time,attr"`
		Timestamp  string `xml:"timestamp,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failures  []struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, name string) junitDoc {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("JUnit file not written: %v", err)
	}
	if !strings.HasPrefix(string(data), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration: %.60q", data)
	}
	var doc junitDoc
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v", err)
	}
	return doc
}

// TestJUnit: the JUnit file parses, its counts agree with its test cases
// (one per rule) and failures (one per broken rule), and a failure lists
// the findings that broke the rule.
func TestJUnit(t *testing.T) {
	tests := []struct {
		name      string
		capture   string
		args      []string
		code      int
		cases     []string
		failed    []string // the rules that fail, in order
		inFailure []string // text in the first failure
	}{
		{"leak", leakCapture, []string{"--fail-on", "close-wait,syn-recv", "--max", "time-wait=0"}, 1,
			[]string{"--fail-on close-wait", "--fail-on syn-recv", "--max time-wait=0"}, []string{"--fail-on close-wait"},
			[]string{"close-wait@192.0.2.2:8080: 5", "connection #3 with 192.0.2.1:40000", "connection #35 with 192.0.2.1:40004", "frames 42 43"}},
		{"clean", cleanCapture, []string{"--fail-on", "close-wait,syn-recv", "--max", "time-wait=0"}, 1,
			[]string{"--fail-on close-wait", "--fail-on syn-recv", "--max time-wait=0"}, []string{"--max time-wait=0"},
			[]string{"time-wait@192.0.2.1: 3", "time-wait 192.0.2.1:40200 (client)"}},
		{"clean passes", cleanCapture, []string{"--fail-on", "close-wait", "--max", "time-wait=3"}, 0,
			[]string{"--fail-on close-wait", "--max time-wait=3"}, nil, nil},
		{"server-close, two failures", "../../testdata/kernel/server-close.pcap", []string{"--fail-on", "warning+", "--max", "any=19"}, 1,
			[]string{"--fail-on warning+", "--max any=19"}, []string{"--fail-on warning+", "--max any=19"},
			[]string{"time-wait@192.0.2.2:8083: 20"}},
		{"ignored leak", leakCapture, []string{"--fail-on", "close-wait", "--ignore", "close-wait@192.0.2.2:8080"}, 0,
			[]string{"--fail-on close-wait"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			junit := filepath.Join(dir, "tcpstate.xml")
			args := append(append([]string{"-q", "-o", filepath.Join(dir, "r.json"), "--junit", junit}, tt.args...), tt.capture)
			_, errs, code := tcpstate(t, nil, args...)
			if code != tt.code {
				t.Fatalf("exit %d; want %d (%s)", code, tt.code, errs)
			}
			doc := readJUnit(t, junit)
			if len(doc.Suites) != 1 {
				t.Fatalf("%d testsuites; want 1", len(doc.Suites))
			}
			s := doc.Suites[0]
			if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`).MatchString(s.Timestamp) {
				t.Errorf("testsuite timestamp %q; want the capture's end as ISO 8601", s.Timestamp)
			}
			var names, failed []string
			failures := 0
			for _, c := range s.Cases {
				names = append(names, c.Name)
				if c.Classname != "tcpstate.gate" || c.Time != "0" {
					t.Errorf("testcase %q: classname %q time %q", c.Name, c.Classname, c.Time)
				}
				failures += len(c.Failures)
				if len(c.Failures) > 0 {
					failed = append(failed, c.Name)
					f := c.Failures[0]
					if f.Message == "" || f.Type == "" || !strings.HasPrefix(f.Message, c.Name+": ") {
						t.Errorf("failure of %q: message %q type %q", c.Name, f.Message, f.Type)
					}
				}
			}
			if !slices.Equal(names, tt.cases) || !slices.Equal(failed, tt.failed) {
				t.Errorf("testcases %q, failed %q; want %q, %q", names, failed, tt.cases, tt.failed)
			}
			if doc.Name != "tcpstate" || s.Name != "tcpstate" || doc.Tests != len(s.Cases) || s.Tests != len(s.Cases) ||
				doc.Failures != failures || s.Failures != failures || doc.Errors != 0 || s.Errors != 0 || s.Skipped != 0 {
				t.Errorf("counts: testsuites %s tests=%d failures=%d errors=%d; testsuite %s tests=%d failures=%d errors=%d skipped=%d; %d testcases, %d failures",
					doc.Name, doc.Tests, doc.Failures, doc.Errors, s.Name, s.Tests, s.Failures, s.Errors, s.Skipped, len(s.Cases), failures)
			}
			if len(tt.inFailure) > 0 {
				var text string
				for _, c := range s.Cases {
					if len(c.Failures) > 0 {
						text = c.Failures[0].Text
						break
					}
				}
				for _, want := range tt.inFailure {
					if !strings.Contains(text, want) {
						t.Errorf("failure text lacks %q:\n%s", want, text)
					}
				}
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 2 {
				t.Errorf("files left in the output directory: %v; want the report and the JUnit file", entries)
			}
		})
	}
}

// TestGitHubAnnotations asserts the workflow commands exactly: one per
// finding that broke a rule (once, whatever rules it broke), then one per
// broken rule; on stdout, after nothing when the report goes to -o, and
// before the text report when it goes to stdout.
func TestGitHubAnnotations(t *testing.T) {
	refused := "../../testdata/kernel/refused.pcap"
	want := "" +
		"::error title=tcpstate refused::192.0.2.2:8086 (server), connection #3 with 192.0.2.1:40600, since 2026-11-21 14:54:59.177659 UTC for 0s (reset), frames 3 4 (--fail-on refused)\n" +
		"::error title=tcpstate refused::192.0.2.2:8086 (server), connection #5 with 192.0.2.1:40601, since 2026-11-21 14:54:59.378077 UTC for 0s (reset), frames 5 6 (--fail-on refused)\n" +
		"::error title=tcpstate gate::--fail-on refused: 2 connections with refused, at most 0 allowed: refused@192.0.2.2:8086 (2)\n" +
		"::error title=tcpstate gate::--max warning+=1: 2 connections with warning+ findings (per kind), at most 1 allowed: refused@192.0.2.2:8086 (2)\n"
	out, errs, code := tcpstate(t, nil, "--fail-on", "refused", "--max", "warning+=1", "--annotations", "github",
		"-o", filepath.Join(t.TempDir(), "r.json"), refused)
	if code != 1 || out != want {
		t.Errorf("exit %d, stdout:\n%s\nwant exit 1 and:\n%s", code, out, want)
	}
	if errs != "tcpstate: gate failed: refused 2 > 0, warning+ 2 > 1\n" {
		t.Errorf("stderr %q", errs)
	}

	// IPv6 endpoints need no escaping in a message; the text report follows.
	out, _, code = tcpstate(t, nil, "-q", "--fail-on", "close-wait", "--annotations", "github", "../../testdata/kernel/ipv6-close-wait.pcap")
	wantV6 := "" +
		"::error title=tcpstate close-wait::[2001:db8::2]:8094 (server), connection #4 with [2001:db8::1]:41400, since 2026-11-21 14:55:45.005396 UTC for 748ms (open at end of capture), frames 11 21 (--fail-on close-wait)\n" +
		"::error title=tcpstate close-wait::[2001:db8::2]:8094 (server), connection #12 with [2001:db8::1]:41401, since 2026-11-21 14:55:45.005374 UTC for 748ms (open at end of capture), frames 19 20 (--fail-on close-wait)\n" +
		"::error title=tcpstate gate::--fail-on close-wait: 2 connections with close-wait, at most 0 allowed: close-wait@[2001:db8::2]:8094 (2)\n" +
		"tcpstate 0.1.0 — ../../testdata/kernel/ipv6-close-wait.pcap\n"
	if code != 1 || !strings.HasPrefix(out, wantV6) {
		t.Errorf("exit %d, stdout begins:\n%s\nwant:\n%s", code, out[:min(len(out), len(wantV6))], wantV6)
	}

	// Nothing when every rule passes, nor for findings that are ignored.
	out, _, code = tcpstate(t, nil, "--fail-on", "refused", "--ignore", "refused@192.0.2.2:*", "--annotations", "github",
		"-o", filepath.Join(t.TempDir(), "r.txt"), refused)
	if code != 0 || out != "" {
		t.Errorf("exit %d, stdout %q; want 0 and nothing", code, out)
	}
}

// TestIgnoredStillReported: ignored findings stay in the report, marked,
// and are counted apart exactly even when the lists are cut short.
func TestIgnoredStillReported(t *testing.T) {
	out, _, code := gateRun(t, "-q", "-f", "json", "--list-findings", "1", "--fail-on", "close-wait,fin-wait-2",
		"--ignore", "close-wait@192.0.2.2:8080", leakCapture)
	if code != 1 {
		t.Fatalf("exit %d; want 1 (fin-wait-2 is not ignored)", code)
	}
	var r struct {
		Summary struct {
			Findings map[string]int `json:"findings"`
			Ignored  map[string]int `json:"ignored"`
		} `json:"summary"`
		Findings []struct {
			Kind    string `json:"kind"`
			Ignored bool   `json:"ignored"`
		} `json:"findings"`
		Groups []struct {
			Kind    string `json:"kind"`
			Count   int    `json:"count"`
			Ignored int    `json:"ignored"`
		} `json:"groups"`
		Gate struct {
			Passed bool `json:"passed"`
			Rules  []struct {
				Rule    string `json:"rule"`
				Count   int    `json:"count"`
				Ignored int    `json:"ignored"`
				Passed  bool   `json:"passed"`
			} `json:"rules"`
			Ignore []string `json:"ignore"`
		} `json:"gate"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Summary.Findings["close-wait"] != 5 || r.Summary.Ignored["close-wait"] != 5 || r.Summary.Ignored["fin-wait-2"] != 0 {
		t.Errorf("summary findings %v, ignored %v; want close-wait 5, all 5 ignored", r.Summary.Findings, r.Summary.Ignored)
	}
	for _, f := range r.Findings {
		if f.Ignored != (f.Kind == "close-wait") {
			t.Errorf("finding %s: ignored %v", f.Kind, f.Ignored)
		}
	}
	for _, g := range r.Groups {
		if g.Kind == "close-wait" && g.Ignored != g.Count || g.Kind != "close-wait" && g.Ignored != 0 {
			t.Errorf("group %s: %d of %d ignored", g.Kind, g.Ignored, g.Count)
		}
	}
	if len(r.Gate.Rules) != 2 || r.Gate.Rules[0].Count != 0 || r.Gate.Rules[0].Ignored != 5 || !r.Gate.Rules[0].Passed ||
		r.Gate.Rules[1].Count != 5 || r.Gate.Rules[1].Passed || r.Gate.Passed || !slices.Equal(r.Gate.Ignore, []string{"close-wait@192.0.2.2:8080"}) {
		t.Errorf("gate %+v", r.Gate)
	}

	text, _, _ := tcpstate(t, nil, "-q", "--fail-on", "close-wait", "--ignore", "close-wait@192.0.2.2:8080", leakCapture)
	for _, want := range []string{"       ignored (--ignore): 5 of 5\n", "Ignored (close-wait@192.0.2.2:8080): close-wait on 5 connections\n",
		"CI gate: PASSED (1 rule)\n  pass  --fail-on close-wait: 0 connections with close-wait, at most 0 allowed\n        (5 ignored)\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
	page, _, _ := tcpstate(t, nil, "-q", "-f", "html", "--ignore", "close-wait@192.0.2.2:8080", leakCapture)
	if !strings.Contains(page, "5 finding(s) · <strong>5 ignored</strong> (--ignore)") {
		t.Error("the HTML report does not mark the ignored group")
	}
}

// TestGateCountsAreExact: the rules count from exact tallies, not from the
// findings listed (--list-findings), and the same for any -j.
func TestGateCountsAreExact(t *testing.T) {
	server := "../../testdata/kernel/server-close.pcap"
	for _, j := range []string{"1", "2"} {
		_, errs, code := tcpstate(t, nil, "-j", j, "--list-findings", "1", "--max", "time-wait=19", server)
		if code != 1 || errs != "tcpstate: gate failed: time-wait 20 > 19\n" {
			t.Errorf("-j %s: exit %d, %q", j, code, errs)
		}
		_, errs, code = tcpstate(t, nil, "-j", j, "--list-findings", "1", "--max", "time-wait=0", "--ignore", "time-wait@*:8083", server)
		if code != 0 {
			t.Errorf("-j %s: all 20 ignored: exit %d, %q", j, code, errs)
		}
	}
}

// TestIgnoreFile: rules one per line, comments and blank lines skipped.
func TestIgnoreFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "known-issues.txt")
	os.WriteFile(f, []byte("# accepted until the pool is fixed (JIRA-123)\n\nclose-wait@192.0.2.2:*   # the leaking test server\n  fin-wait-2@192.0.2.0/24\n"), 0o644)
	_, errs, code := tcpstate(t, nil, "--fail-on", "close-wait,fin-wait-2", "--ignore-file", f, leakCapture)
	if code != 0 {
		t.Errorf("exit %d, %q; want 0", code, errs)
	}
}

// TestBaselineReport: the text report's last lines say what is new and
// what was fixed, then the verdict.
func TestBaselineReport(t *testing.T) {
	base := baselineOf(t, cleanCapture)
	out, errs, code := tcpstate(t, nil, "-q", "--fail-on", "close-wait", "--baseline", base, leakCapture)
	if code != 1 {
		t.Fatalf("exit %d; want 1", code)
	}
	want := "Compared with " + base + ": 2 new, 1 fixed (groups of findings, by kind and endpoint)\n" +
		"  new    close-wait@192.0.2.2:8080 (5)\n" +
		"  new    fin-wait-2@192.0.2.1 (5)\n" +
		"  fixed  time-wait@192.0.2.1 (3)\n" +
		"\n" +
		"CI gate: FAILED (1 of 1 rule broken)\n" +
		"  FAIL  --fail-on close-wait: 5 new close-wait findings, at most 0 allowed:\n" +
		"        close-wait@192.0.2.2:8080 (5)\n"
	if !strings.HasSuffix(out, want) {
		t.Errorf("the report ends:\n%s\nwant:\n%s", out[max(0, len(out)-len(want)-200):], want)
	}
	if errs != "tcpstate: gate failed (new since "+base+"): close-wait 5 > 0\n" {
		t.Errorf("stderr %q", errs)
	}
}

// readmeGateCommands returns the tcpstate commands of the README's "Use in
// CI" section that read traffic.pcap (the shell example and the jobs), with
// continuation lines joined.
func readmeGateCommands(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(data), "\n## Use in CI\n")
	if !ok {
		t.Fatal(`README.md has no "Use in CI" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	var cmds []string
	var cur string
	for _, line := range strings.Split(sec, "\n") {
		line = strings.TrimSpace(line)
		if cur != "" {
			cur += " " + strings.TrimSuffix(line, "\\")
		} else {
			line = strings.TrimPrefix(strings.TrimPrefix(line, "- "), "run: ")
			if !strings.HasPrefix(line, "tcpstate --") {
				continue
			}
			cur = strings.TrimSuffix(line, "\\")
		}
		if !strings.HasSuffix(line, "\\") {
			if strings.Contains(cur, "traffic.pcap") {
				cmds = append(cmds, strings.Join(strings.Fields(cur), " "))
			}
			cur = ""
		}
	}
	return cmds
}

// TestREADMECIJobs runs the gate command of the README's shell example,
// GitHub Actions job and GitLab CI job on the kernel captures: each fails
// on the CLOSE_WAIT leak, with the failing rule in its JUnit file, and
// passes on the clean close.
func TestREADMECIJobs(t *testing.T) {
	cmds := readmeGateCommands(t)
	if len(cmds) < 3 {
		t.Fatalf("found %d gate commands in the README (%q); want the shell example and both jobs", len(cmds), cmds)
	}
	for _, cmd := range cmds {
		for _, tt := range []struct {
			capture string
			code    int
		}{{leakCapture, 1}, {cleanCapture, 0}} {
			t.Run(cmd+"/"+filepath.Base(tt.capture), func(t *testing.T) {
				dir := t.TempDir()
				args := strings.Fields(strings.TrimPrefix(cmd, "tcpstate "))
				junit := ""
				for i, a := range args {
					switch {
					case a == "traffic.pcap":
						args[i] = tt.capture
					case i > 0 && (args[i-1] == "-o" || args[i-1] == "--junit"):
						args[i] = filepath.Join(dir, a)
						if args[i-1] == "--junit" {
							junit = args[i]
						}
					}
				}
				_, errs, code := tcpstate(t, nil, args...)
				if code != tt.code {
					t.Fatalf("exit %d; want %d (%s)", code, tt.code, errs)
				}
				if junit == "" {
					t.Fatal("the command writes no JUnit file")
				}
				doc := readJUnit(t, junit)
				var failed []string
				for _, c := range doc.Suites[0].Cases {
					if len(c.Failures) > 0 {
						failed = append(failed, c.Name)
					}
				}
				want := []string(nil)
				if tt.code == 1 {
					want = []string{"--fail-on close-wait"}
				}
				if !slices.Equal(failed, want) {
					t.Errorf("JUnit failures %q; want %q", failed, want)
				}
			})
		}
	}
}
