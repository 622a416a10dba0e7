package main

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// ladderRows returns, for the ladder <details> d, the y of each segment
// row by frame, and the texts of its timer rows and gap labels.
func ladderRows(t *testing.T, d *html.Node) (ys map[string]float64, timers, gaps []string) {
	t.Helper()
	ys = map[string]float64{}
	walk(d, func(n *html.Node) {
		cls, _ := attr(n, "class")
		switch {
		case n.Data == "g" && cls == "row timer":
			timers = append(timers, text(n))
		case n.Data == "text" && cls == "gap":
			gaps = append(gaps, text(n))
		case n.Data == "line":
			if f, ok := attr(n.Parent, "data-frame"); ok {
				y, _ := attr(n, "y1")
				v, err := strconv.ParseFloat(y, 64)
				if err != nil {
					t.Fatalf("row %s: y1 %q", f, y)
				}
				ys[f] = v
			}
		}
	})
	return ys, timers, gaps
}

// TestHTMLAnyConnectionOpens: every listed connection can be opened as a
// ladder (folded, in the connection list), --conn draws the ones asked
// for unfolded whatever the bounds, and every in-page link has a target.
func TestHTMLAnyConnectionOpens(t *testing.T) {
	const trace = "../../testdata/kernel/client-close.pcap" // 3 clean connections, none flagged
	out, errs, code := tcpstate(t, nil, "-f", "html", "--conn", "3", trace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	doc := parseHTML(t, out)
	asked := byID(doc, "asked")
	if asked == nil {
		t.Fatal("no section for the connections asked for")
	}
	ids := map[string]int{}
	walk(doc, func(n *html.Node) {
		if id, ok := attr(n, "id"); ok {
			ids[id]++
		}
	})
	for id, n := range ids {
		if n > 1 {
			t.Errorf("id %q used %d times", id, n)
		}
	}
	walk(doc, func(n *html.Node) {
		if h, ok := attr(n, "href"); ok && strings.HasPrefix(h, "#") && ids[h[1:]] == 0 {
			t.Errorf("link %s has no target", h)
		}
	})
	type want struct {
		inAsked, open bool
		frames        []string
	}
	for id, w := range map[string]want{
		"conn-3":  {true, true, []string{"3", "4", "5", "6", "8", "10", "16", "17"}},
		"conn-11": {false, false, nil},
		"conn-21": {false, false, nil},
	} {
		d := byID(doc, id)
		if d == nil || d.Data != "details" {
			t.Fatalf("%s: no ladder to open", id)
		}
		_, open := attr(d, "open")
		inAsked := false
		for p := d.Parent; p != nil; p = p.Parent {
			inAsked = inAsked || p == asked
		}
		if open != w.open || inAsked != w.inAsked {
			t.Errorf("%s: open %v, in --conn section %v; want %v, %v", id, open, inAsked, w.open, w.inAsked)
		}
		ys, _, _ := ladderRows(t, d)
		if len(ys) < 6 {
			t.Errorf("%s: %d segment rows", id, len(ys))
		}
		for _, f := range w.frames {
			if _, ok := ys[f]; !ok {
				t.Errorf("%s: no row for frame %s", id, f)
			}
		}
	}
	if s := text(byID(doc, "connections")); !strings.Contains(s, "#3 192.0.2.1:40200 → 192.0.2.2:8082") || !strings.Contains(s, "(drawn above)") {
		t.Errorf("connection list does not link #3 to its ladder above:\n%s", s)
	}
}

// TestHTMLLadderTimeAxis: the vertical axis follows time. In the kernel's
// FIN_WAIT_2 capture the server sits 3.62 s in CLOSE_WAIT between frames
// 11 and 12: that gap is drawn taller than the sub-millisecond handshake
// steps and labelled; and a timer-driven change (the SYN given up in the
// kernel's syn-timeout capture) is drawn at its time, with its state.
func TestHTMLLadderTimeAxis(t *testing.T) {
	out, errs, code := tcpstate(t, nil, "-f", "html", "../../testdata/kernel/fin-wait-2-expiry.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	ys, timers, gaps := ladderRows(t, byID(parseHTML(t, out), "conn-3"))
	hand, idle := ys["4"]-ys["3"], ys["12"]-ys["11"]
	if hand < 30 || idle < hand+25 {
		t.Errorf("handshake step %.1f, 3.62 s idle step %.1f: the idle gap must be drawn taller", hand, idle)
	}
	if !slices.Equal(gaps, []string{"⋮ 3.62s later"}) || len(timers) != 0 {
		t.Errorf("gap labels %q, timer rows %q", gaps, timers)
	}

	out, errs, code = tcpstate(t, nil, "-f", "html", "../../testdata/kernel/syn-timeout.pcap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	doc := parseHTML(t, out)
	var d *html.Node
	walk(doc, func(n *html.Node) {
		if id, _ := attr(n, "id"); d == nil && strings.HasPrefix(id, "conn-") && n.Data == "details" {
			d = n
		}
	})
	_, timers, _ = ladderRows(t, d)
	if len(timers) != 1 || !strings.Contains(timers[0], "client timer: gave up retransmitting, no packet") || !strings.HasSuffix(strings.TrimSpace(timers[0]), "CLOSED") {
		t.Errorf("timer rows %q", timers)
	}
}

// TestConnFlag: --conn lists the connections asked for beyond
// --list-connections, draws them in the text report, rejects what is
// neither an ID nor an address, and warns of those that match nothing.
func TestConnFlag(t *testing.T) {
	const trace = "../../testdata/kernel/client-close.pcap"
	listed := func(args ...string) ([]string, int) {
		t.Helper()
		out, errs, code := tcpstate(t, nil, append([]string{"-f", "json", "--list-connections", "1"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var r struct {
			Connections []struct {
				ID     uint64 `json:"id"`
				Client string `json:"client"`
			} `json:"connections"`
			Omitted struct {
				Connections int `json:"connections"`
			} `json:"omitted"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range r.Connections {
			got = append(got, strconv.FormatUint(c.ID, 10)+" "+c.Client)
		}
		return got, r.Omitted.Connections
	}
	// One listed in full, then one more still open (TIME_WAIT): #21 is left out...
	if got, omitted := listed(trace); !slices.Equal(got, []string{"3 192.0.2.1:40200", "11 192.0.2.1:40201"}) || omitted != 1 {
		t.Errorf("listed %q, omitted %d", got, omitted)
	}
	// ...unless asked for.
	if got, omitted := listed("--conn", "192.0.2.1:40202", trace); !slices.Equal(got, []string{"3 192.0.2.1:40200", "11 192.0.2.1:40201", "21 192.0.2.1:40202"}) || omitted != 0 {
		t.Errorf("with --conn: listed %q, omitted %d", got, omitted)
	}

	out, _, code := tcpstate(t, nil, "--conn", "#11", trace)
	if code != 0 || !strings.Contains(out, "Connections asked for (--conn)\n#11 192.0.2.1:40201 -> 192.0.2.2:8082  [time-wait]\n") {
		t.Errorf("exit %d; text report without the ladder of #11:\n%s", code, out)
	}

	_, errs, code := tcpstate(t, nil, "--conn", "server:80", trace)
	if code != 2 || errs != "tcpstate: --conn \"server:80\": give a connection ID (its first frame), an endpoint ip:port or [ipv6]:port, or an address (see tcpstate -h)\n" {
		t.Errorf("exit %d, stderr %q", code, errs)
	}

	// A spec that matches nothing is said, in the order given, on one
	// worker and on two; the others still list theirs.
	for _, jobs := range []string{"1", "2"} {
		out, errs, code := tcpstate(t, nil, "-j", jobs, "--conn", "12,192.0.2.2:8082", "--conn", "[2001:db8::1]:80", "--conn", "192.0.2.1", "--conn", "#21", "--conn", "192.0.2.9", trace)
		want := "tcpstate: warning: --conn 12 matched no connection\n" +
			"tcpstate: warning: --conn [2001:db8::1]:80 matched no connection\n" +
			"tcpstate: warning: --conn 192.0.2.9 matched no connection\n"
		if code != 0 || errs != want || !strings.Contains(out, "#21 192.0.2.1:40202 -> 192.0.2.2:8082") {
			t.Errorf("-j %s: exit %d, stderr %q; want %q", jobs, code, errs, want)
		}
	}
	if _, errs, code := tcpstate(t, nil, "-q", "--conn", "12", trace); code != 0 || errs != "" {
		t.Errorf("-q: exit %d, stderr %q; want nothing", code, errs)
	}
}
