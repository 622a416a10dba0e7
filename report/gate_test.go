package report

import (
	"net/netip"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// TestGitHubEscaping: workflow-command data escapes %, CR and LF; property
// values also : and , (GitHub's rules).
func TestGitHubEscaping(t *testing.T) {
	if got, want := ghData("50% of [2001:db8::1]:80, a\r\nb"), "50%25 of [2001:db8::1]:80, a%0D%0Ab"; got != want {
		t.Errorf("ghData = %q; want %q", got, want)
	}
	if got, want := ghProperty("tcpstate a:b,c%\n"), "tcpstate a%3Ab%2Cc%25%0A"; got != want {
		t.Errorf("ghProperty = %q; want %q", got, want)
	}
}

// TestCountsExactAndSplitProof: with an ignore predicate, the gate's
// counts add up to the summary's, kind by kind, and neither they nor the
// ignored marks depend on how the work was split.
func TestCountsExactAndSplitProof(t *testing.T) {
	cs := mixed(300)
	st := reassembly.Stats{Files: []string{"x.pcap"}, First: t0, Last: t0.Add(time.Hour)}
	ignore := func(f *fsm.Finding) bool { return f.Endpoint.Port()%2 == 0 }
	lim := Limits{Connections: 20, FindingsPerKind: 5, Ignore: ignore}
	one := NewBuilder(lim)
	for _, c := range cs {
		one.Add(c)
	}
	want := one.Report("t", st, fsm.DefaultConfig())
	parts := []*Builder{NewBuilder(lim), NewBuilder(lim), NewBuilder(lim)}
	for i, c := range cs {
		parts[i%3].Add(c)
	}
	parts[2].Merge(parts[0])
	parts[2].Merge(parts[1])
	got := parts[2].Report("t", st, fsm.DefaultConfig())
	if got.Counts != want.Counts {
		t.Errorf("counts differ when split: %+v vs %+v", got.Counts, want.Counts)
	}
	if a, b := render(t, got), render(t, want); a != b {
		t.Errorf("report differs when split:\n%s", firstLineDiff(a, b))
	}
	ignored := 0
	for k := range fsm.NumKinds {
		name := fsm.Kind(k).String()
		n := want.Counts.At(fsm.Kind(k), fsm.Info) + want.Counts.Ignored[k]
		if n != want.Summary.Findings[name] || want.Summary.Ignored[name] != want.Counts.Ignored[k] {
			t.Errorf("%s: counted %d + ignored %d; summary %d, summary ignored %d", name, want.Counts.At(fsm.Kind(k), fsm.Info),
				want.Counts.Ignored[k], want.Summary.Findings[name], want.Summary.Ignored[name])
		}
		ignored += want.Counts.Ignored[k]
	}
	if ignored == 0 {
		t.Error("nothing ignored: the test proves nothing")
	}
	for _, f := range want.Findings {
		if ap, _ := netip.ParseAddrPort(f.Endpoint); f.Ignored != (ap.Port()%2 == 0) {
			t.Errorf("finding at %s: ignored %v", f.Endpoint, f.Ignored)
		}
	}
}
