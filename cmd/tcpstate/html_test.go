package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

const closeWaitTrace = "../../testdata/kernel/close-wait-leak.pcap"

// parseHTML parses a report and fails the test if it does not parse.
func parseHTML(t *testing.T, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// walk calls f on every element node.
func walk(n *html.Node, f func(*html.Node)) {
	if n.Type == html.ElementNode {
		f(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return b.String()
}

// byID finds the element with the id.
func byID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "id"); v == id && found == nil {
			found = n
		}
	})
	return found
}

// TestHTMLStructure parses the HTML report of the kernel's CLOSE_WAIT leak:
// the verdict names the leaking server, the close-wait group its endpoint
// and Wireshark filters, every leaking connection has a ladder whose rows
// are the frames (with the client's FIN and the server's ACK), the chart has
// the CLOSE_WAIT band, and nothing points outside the file.
func TestHTMLStructure(t *testing.T) {
	out, errs, code := tcpstate(t, nil, "-f", "html", closeWaitTrace)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	doc := parseHTML(t, out)
	if v := text(byID(doc, "verdict")); v != "192.0.2.2:8080 is leaking sockets: 5 connections stuck in CLOSE_WAIT, oldest 744ms." {
		t.Errorf("verdict %q", v)
	}
	var groups, ladders []*html.Node
	bands := map[string]int{}
	scripts := 0
	walk(doc, func(n *html.Node) {
		for _, key := range []string{"src", "href", "xlink:href", "action", "srcset"} {
			if v, ok := attr(n, key); ok && !strings.HasPrefix(v, "#") {
				t.Errorf("<%s %s=%q> points outside the file", n.Data, key, v)
			}
		}
		switch n.Data {
		case "link", "iframe", "img", "object", "embed":
			t.Errorf("<%s> in a self-contained report", n.Data)
		case "script":
			scripts++
		case "div":
			if k, _ := attr(n, "data-kind"); k != "" {
				groups = append(groups, n)
			}
		case "details":
			ladders = append(ladders, n)
		case "polygon":
			s, _ := attr(n, "data-state")
			bands[s]++
		}
	})
	if scripts != 1 {
		t.Errorf("%d scripts; want the one inline script", scripts)
	}
	if len(groups) != 2 {
		t.Fatalf("%d finding groups; want close-wait and fin-wait-2", len(groups))
	}
	cw := groups[0]
	if k, _ := attr(cw, "data-kind"); k != "close-wait" {
		t.Fatalf("first group is %s; want close-wait", k)
	}
	if ep, _ := attr(cw, "data-endpoint"); ep != "192.0.2.2:8080" {
		t.Errorf("close-wait group endpoint %s", ep)
	}
	body := text(cw)
	for _, want := range []string{"192.0.2.2:8080 (server) left 5 connections in CLOSE_WAIT", "ip.addr==192.0.2.2 && tcp.port==8080",
		"frame.number in {10 18 26 34 42 43 44 45 46 47}", "#3 #11 #19 #27 #35"} {
		if !strings.Contains(body, want) {
			t.Errorf("close-wait group lacks %q:\n%s", want, body)
		}
	}
	if len(ladders) != 5 {
		t.Fatalf("%d ladders; want the 5 leaking connections", len(ladders))
	}
	// Connection #3: client 192.0.2.1:40000 sends its FIN at frame 10; the
	// server's ACK of it (frame 47) moves the client to FIN_WAIT_2 and the
	// server to CLOSE_WAIT.
	l := byID(doc, "conn-3")
	if l == nil {
		t.Fatal("no ladder for connection #3")
	}
	rows := map[string]string{}
	walk(l, func(n *html.Node) {
		if f, ok := attr(n, "data-frame"); ok {
			rows[f] = strings.Join(strings.Fields(text(n)), " ")
		}
	})
	if len(rows) != 7 {
		t.Errorf("%d ladder rows for #3; want 7: %v", len(rows), rows)
	}
	if r := rows["10"]; !strings.Contains(r, "F. seq 20 ack 41") || !strings.Contains(r, "FIN_WAIT_1") {
		t.Errorf("frame 10 row %q; want the client's FIN entering FIN_WAIT_1", r)
	}
	if r := rows["47"]; !strings.Contains(r, ". seq 41 ack 21") || !strings.Contains(r, "FIN_WAIT_2") || !strings.Contains(r, "CLOSE_WAIT") {
		t.Errorf("frame 47 row %q; want the server's ACK of the FIN, client FIN_WAIT_2, server CLOSE_WAIT", r)
	}
	if bands["CLOSE_WAIT"] != 1 || bands["FIN_WAIT_2"] != 1 || bands["ESTABLISHED"] != 2 {
		t.Errorf("chart bands %v; want CLOSE_WAIT (servers), FIN_WAIT_2 (clients), ESTABLISHED (both)", bands)
	}
}

// TestHTMLEscapesHostileText: a capture whose file name is markup, given
// on a command line that is shown in the report, yields text, never
// markup: no element or attribute comes from it.
func TestHTMLEscapesHostileText(t *testing.T) {
	dir := t.TempDir()
	hostile := `<script>alert(1)<b onmouseover=alert(3)>x<img src=x onerror=alert(2)>"'&.pcap` // no slash: it is a file name
	capture := filepath.Join(dir, hostile)
	if err := os.WriteFile(capture, readFile(t, closeWaitTrace), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := tcpstate(t, nil, "-f", "html", capture)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	doc := parseHTML(t, out)
	scripts := 0
	walk(doc, func(n *html.Node) {
		switch n.Data {
		case "script":
			scripts++
		case "img", "b":
			t.Errorf("a <%s> element came from the file name", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s %s=%q>: an event handler came from the file name", n.Data, a.Key, a.Val)
			}
		}
	})
	if scripts != 1 {
		t.Errorf("%d scripts; want only the report's own", scripts)
	}
	if !strings.Contains(text(doc), hostile) {
		t.Errorf("the file name is not shown as text")
	}
	if strings.Contains(out, "<img src=x") {
		t.Errorf("raw markup from the file name in the output")
	}
}
