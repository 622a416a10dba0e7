package gate

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/tcpstate/tcpstate/fsm"
)

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in, name string
		kind     fsm.Kind
		has      bool // has kind
		min      fsm.Severity
		err      string
	}{
		{"close-wait", "close-wait", fsm.KindCloseWait, true, fsm.Info, ""},
		{"CLOSE_WAIT", "close-wait", fsm.KindCloseWait, true, fsm.Info, ""},
		{" time-wait ", "time-wait", fsm.KindTimeWait, true, fsm.Info, ""},
		{"any", "any", fsm.KindPartial, true, fsm.Info, ""},
		{"warning+", "warning+", fsm.KindTimeWait, true, fsm.Warning, ""},
		{"warning", "warning+", fsm.KindTimeWait, true, fsm.Warning, ""},
		{"warn+", "warning+", fsm.KindTimeWait, true, fsm.Warning, ""},
		{"error+", "error+", fsm.KindCloseWait, true, fsm.Error, ""},
		{"info+", "info+", fsm.KindPartial, true, fsm.Info, ""},
		{"close-wiat", "", 0, false, 0, `unknown finding kind "close-wiat"`},
		{"fatal+", "", 0, false, 0, `unknown finding kind "fatal+"`},
		{"", "", 0, false, 0, "empty finding kind"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSelector(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSelector(%q) error %v; want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || s.Name != tt.name || s.Has(tt.kind) != tt.has || s.min != tt.min {
				t.Errorf("ParseSelector(%q) = %q has(%v)=%v min %v, %v; want %q %v %v", tt.in, s.Name, tt.kind, s.Has(tt.kind), s.min, err, tt.name, tt.has, tt.min)
			}
		})
	}
	if s, _ := ParseSelector("close-wait"); s.Has(fsm.KindTimeWait) {
		t.Error("close-wait selects time-wait")
	}
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		flag, in string
		want     []string
		err      string
	}{
		{"--fail-on", "close-wait", []string{"--fail-on close-wait"}, ""},
		{"--fail-on", "close-wait,syn-recv,warning+", []string{"--fail-on close-wait", "--fail-on syn-recv", "--fail-on warning+"}, ""},
		{"--fail-on", "close-wait,", nil, "empty finding kind"},
		{"--max", "time-wait=10", []string{"--max time-wait=10"}, ""},
		{"--max", "time-wait=10,reset=0", []string{"--max time-wait=10", "--max reset=0"}, ""},
		{"--max", "any=0", []string{"--max any=0"}, ""},
		{"--max", "time-wait", nil, "want KIND=N"},
		{"--max", "time-wait=", nil, "not a count"},
		{"--max", "time-wait=-3", nil, "not a count"},
		{"--max", "time-wait=+3", nil, "not a count"},
		{"--max", "time-wait=1.5", nil, "not a count"},
		{"--max", "=3", nil, "empty finding kind"},
	}
	for _, tt := range tests {
		t.Run(tt.flag+" "+tt.in, func(t *testing.T) {
			parse := ParseFailOn
			if tt.flag == "--max" {
				parse = ParseMax
			}
			rules, err := parse(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), tt.flag+" ") {
					t.Fatalf("error %v; want %q", err, tt.err)
				}
				return
			}
			var got []string
			for _, r := range rules {
				got = append(got, r.String())
			}
			if err != nil || strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIgnoreMatch(t *testing.T) {
	ep := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	server := fsm.Finding{Kind: fsm.KindCloseWait, Endpoint: ep("10.0.0.5:8080"), Peer: ep("10.0.0.9:40000")}
	tw := fsm.Finding{Kind: fsm.KindTimeWait, Endpoint: ep("192.0.2.2:443"), Peer: ep("192.0.2.1:50000")}
	v6 := fsm.Finding{Kind: fsm.KindCloseWait, Endpoint: ep("[2001:db8::2]:8094"), Peer: ep("[2001:db8::1]:41400")}
	mapped := fsm.Finding{Kind: fsm.KindCloseWait, Endpoint: ep("[::ffff:10.0.0.5]:8080")}
	synTimeout := fsm.Finding{Kind: fsm.KindSynTimeout, Endpoint: ep("10.0.0.9:40001"), Peer: ep("10.0.0.7:5432")}
	tests := []struct {
		rule string
		f    fsm.Finding
		want bool
	}{
		{"close-wait", server, true},
		{"close-wait", tw, false},
		{"*", tw, true},
		{"any@*:*", tw, true},
		{"close-wait@10.0.0.5:8080", server, true},
		{"close-wait@10.0.0.5:8081", server, false},
		{"close-wait@10.0.0.5:*", server, true},
		{"close-wait@10.0.0.5", server, true},
		{"close-wait@10.0.0.6:*", server, false},
		{"close-wait@*:8080", server, true},
		{"close-wait@[*]:8080", server, true},
		{"close-wait@10.0.0.0/24:8080", server, true},
		{"close-wait@10.0.1.0/24:*", server, false},
		{"close-wait@10.0.0.5:8080", mapped, true},
		{"time-wait@*:443", tw, true},
		{"time-wait@*:443", server, false},
		{"TIME_WAIT@*:443", tw, true},
		{"*@192.0.2.2:*", tw, true},
		{"close-wait@[2001:db8::2]:8094", v6, true},
		{"close-wait@[2001:db8::2]:*", v6, true},
		{"close-wait@2001:db8::2", v6, true},
		{"close-wait@[2001:db8::/32]:8094", v6, true},
		{"close-wait@2001:db8::/32", v6, true},
		{"close-wait@10.0.0.0/8", v6, false},
		{"close-wait@*:8094", v6, true},
		{"syn-timeout@10.0.0.7:5432", synTimeout, true}, // the server it went unanswered by
		{"syn-timeout@10.0.0.9:*", synTimeout, true},    // the client whose SYNs timed out
		{"syn-timeout@*:80", synTimeout, false},
		{"close-wait@10.0.0.7:5432", fsm.Finding{Kind: fsm.KindCloseWait, Endpoint: ep("10.0.0.9:1"), Peer: ep("10.0.0.7:5432")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			ig, err := ParseIgnore(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got := ig.Match(&tt.f); got != tt.want {
				t.Errorf("%s matches %v %v: %v; want %v", tt.rule, tt.f.Kind, tt.f.Endpoint, got, tt.want)
			}
		})
	}
}

func TestParsePatternErrors(t *testing.T) {
	tests := []struct{ in, err string }{
		{"bogus", `unknown finding kind "bogus"`},
		{"@10.0.0.5:80", "no kind"},
		{"close-wait@", "nothing after @"},
		{"close-wait@10.0.0.5:http", `port "http"`},
		{"close-wait@10.0.0.5:70000", `port "70000"`},
		{"close-wait@example.com:80", `address "example.com"`},
		{"close-wait@2001:db8::1:*", "in brackets"},
		{"close-wait@[2001:db8::1]", "ADDR:PORT"},
		{"close-wait@[2001:db8::1]80", "ADDR:PORT"},
		{"close-wait@10.0.0.5:80:80", "in brackets"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParsePattern(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.in) {
				t.Errorf("ParsePattern(%q) error %v; want one naming the rule and %q", tt.in, err, tt.err)
			}
		})
	}
}

func TestParseIgnoreFile(t *testing.T) {
	in := "# known issues\n\ntime-wait@*:443   # HTTP/1.0 clients\nclose-wait@10.0.0.5:*, reset\n   \n"
	ig, err := ParseIgnoreFile(strings.NewReader(in), "known.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ig.Strings(), "|"); got != "time-wait@*:443|close-wait@10.0.0.5:*|reset" {
		t.Errorf("rules %q", got)
	}
	_, err = ParseIgnoreFile(strings.NewReader("reset\n\nclose-wiat\n"), "known.txt")
	if err == nil || !strings.HasPrefix(err.Error(), "known.txt:3: ") {
		t.Errorf("error %v; want it to name known.txt:3", err)
	}
}

func TestReadBaseline(t *testing.T) {
	tests := []struct{ name, in, err string }{
		{"ok", `{"format_version": 1, "tool": "tcpstate 0.1.0", "groups": [{"kind": "close-wait", "endpoint": "10.0.0.5:80", "count": 3}]}`, ""},
		{"other members skipped", `{"format_version": 1, "tool": "tcpstate 0.1.0", "connections": [{"id": 3, "x": [1, {"y": null}]}], "groups": [], "omitted": {}}`, ""},
		{"empty groups", `{"format_version": 1, "tool": "tcpstate 0.1.0", "groups": []}`, ""},
		{"empty file", ``, "not a tcpstate JSON report"},
		{"not JSON", `hello`, "invalid JSON"},
		{"an array", `[1, 2]`, "not a tcpstate JSON report"},
		{"no version", `{"tool": "tcpstate 0.1.0", "groups": []}`, "not a tcpstate JSON report"},
		{"another tool", `{"format_version": 1, "tool": "zeek", "groups": []}`, "not a tcpstate JSON report"},
		{"no groups", `{"format_version": 1, "tool": "tcpstate 0.1.0"}`, "not a tcpstate JSON report"},
		{"version 2", `{"format_version": 2, "tool": "tcpstate 2.0.0", "groups": []}`, "format_version 2; this tcpstate reads format_version 1"},
		{"group without kind", `{"format_version": 1, "tool": "tcpstate 0.1.0", "groups": [{"endpoint": ""}]}`, "not a tcpstate JSON report"},
		{"groups not a list", `{"format_version": 1, "tool": "tcpstate 0.1.0", "groups": {}}`, "not a tcpstate JSON report"},
		{"cut short", `{"format_version": 1, "tool": "tcpstate 0.1.0", "groups": [{"kind": "reset", "endpoint": ""}`, "not a tcpstate JSON report"},
		{"version as a string", `{"format_version": "1", "tool": "tcpstate 0.1.0", "groups": []}`, "not a tcpstate JSON report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := ReadBaseline(strings.NewReader(tt.in), "old.json")
			if tt.err == "" {
				if err != nil || b == nil {
					t.Fatalf("error %v", err)
				}
				if tt.name == "ok" && (len(b.groups) != 1 || b.groups[groupKey{"close-wait", "10.0.0.5:80"}] != 3) {
					t.Errorf("groups %v", b.groups)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "--baseline old.json: ") {
				t.Errorf("error %v; want %q", err, tt.err)
			}
		})
	}
}
