package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zeekRow is one Zeek verdict: originator, responder and conn_state.
type zeekRow struct{ trace, orig, resp, state string }

// addrPort formats a TSV host and port the way tcpstate prints endpoints.
func addrPort(host, port string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// readTSV returns the rows of a tab-separated file after its header line.
func readTSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		if first || strings.HasPrefix(sc.Text(), "#") || sc.Text() == "" {
			continue
		}
		rows = append(rows, strings.Split(sc.Text(), "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestZeekConformance runs every Zeek core trace through the whole command
// and compares each connection's zeek_conn_state (in Zeek's orientation)
// with Zeek's own verdict. Every disagreement must be listed, with its
// reason, in testdata/zeek/exceptions.tsv, and every listed one must occur.
func TestZeekConformance(t *testing.T) {
	traces, _ := filepath.Glob("../../testdata/zeek/*.pcap")
	if len(traces) == 0 {
		t.Fatal("no Zeek traces in testdata/zeek")
	}
	type exc struct{ zeek, ours string }
	exceptions := map[zeekRow][]exc{}
	for _, r := range readTSV(t, "../../testdata/zeek/exceptions.tsv") {
		if len(r) != 6 || r[5] == "" {
			t.Fatalf("exceptions.tsv: malformed row %q (want 6 columns with a reason)", r)
		}
		k := zeekRow{r[0], r[1], r[2], ""}
		exceptions[k] = append(exceptions[k], exc{r[3], r[4]})
	}
	total, agree := 0, 0
	for _, tr := range traces {
		name := strings.TrimSuffix(filepath.Base(tr), ".pcap")
		var out, errb bytes.Buffer
		if err := run(context.Background(), []string{"-q", "-f", "json", tr}, nil, &out, &errb); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var rep struct {
			Connections []struct {
				Client        string `json:"client"`
				Server        string `json:"server"`
				ZeekOrig      string `json:"zeek_orig"`
				ZeekConnState string `json:"zeek_conn_state"`
			} `json:"connections"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ours := map[zeekRow]int{}
		for _, c := range rep.Connections {
			resp := c.Server
			if c.ZeekOrig != c.Client {
				resp = c.Client
			}
			ours[zeekRow{name, c.ZeekOrig, resp, c.ZeekConnState}]++
		}
		theirs := map[zeekRow]int{}
		for _, r := range readTSV(t, strings.TrimSuffix(tr, ".pcap")+".conn.tsv") {
			theirs[zeekRow{name, addrPort(r[0], r[1]), addrPort(r[2], r[3]), r[4]}]++
			total++
		}
		// Pair equal rows, then explain what is left on either side.
		for k, n := range theirs {
			m := min(n, ours[k])
			agree += m
			theirs[k] -= m
			ours[k] -= m
		}
		for k, n := range theirs {
			for range n {
				if !consume(exceptions, k, k.state, func(e exc) (string, string) { return e.zeek, e.ours }, ours) {
					t.Errorf("%s: Zeek says %s -> %s %s; tcpstate disagrees, and exceptions.tsv does not explain it", name, k.orig, k.resp, k.state)
				}
			}
		}
		for k, n := range ours {
			if n > 0 {
				t.Errorf("%s: tcpstate says %s -> %s %s (x%d); Zeek has no such row, and exceptions.tsv does not explain it", name, k.orig, k.resp, k.state, n)
			}
		}
	}
	for k, left := range exceptions {
		for _, e := range left {
			t.Errorf("exceptions.tsv lists %s %s -> %s (Zeek %s, tcpstate %s) but it no longer happens: remove it", k.trace, k.orig, k.resp, e.zeek, e.ours)
		}
	}
	t.Logf("zeek_conn_state agrees on %d of %d Zeek connections; the rest are listed in testdata/zeek/exceptions.tsv", agree, total)
	if agree == 0 {
		t.Errorf("only %d of %d agree", agree, total)
	}
}

// consume removes one exception for Zeek row k, and the tcpstate row it
// names (unless "-": none), reporting whether one matched.
func consume[E any](exc map[zeekRow][]E, k zeekRow, state string, get func(E) (string, string), ours map[zeekRow]int) bool {
	key := zeekRow{k.trace, k.orig, k.resp, ""}
	for i, e := range exc[key] {
		z, o := get(e)
		if z != state {
			continue
		}
		if o != "-" {
			ok := zeekRow{k.trace, k.orig, k.resp, o}
			if ours[ok] == 0 {
				continue
			}
			ours[ok]--
		}
		exc[key] = append(exc[key][:i], exc[key][i+1:]...)
		if len(exc[key]) == 0 {
			delete(exc, key)
		}
		return true
	}
	return false
}
