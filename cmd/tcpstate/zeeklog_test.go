package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parseZeekLog reads a Zeek ASCII log as Zeek's own readers do: the
// #separator line first, then #set_separator, #empty_field, #unset_field,
// #path, #open, #fields and #types, rows of exactly as many fields, #close.
func parseZeekLog(t *testing.T, log string) (fields []string, rows [][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if len(lines) < 9 || lines[0] != `#separator \x09` {
		t.Fatalf("not a Zeek log: %q", lines[:min(len(lines), 2)])
	}
	meta := map[string][]string{}
	var types []string
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, "#") {
			f := strings.Split(l, "\t")
			if len(f) != len(fields) {
				t.Fatalf("row %d has %d fields, header %d: %q", i, len(f), len(fields), l)
			}
			rows = append(rows, f)
			continue
		}
		k, v, _ := strings.Cut(l[1:], "\t")
		meta[k] = strings.Split(v, "\t")
		switch k {
		case "fields":
			fields = meta[k]
		case "types":
			types = meta[k]
		}
	}
	for _, k := range []string{"set_separator", "empty_field", "unset_field", "path", "open", "close"} {
		if meta[k] == nil {
			t.Errorf("no #%s line", k)
		}
	}
	if !strings.HasPrefix(lines[len(lines)-1], "#close\t") || meta["path"][0] != "conn" || meta["unset_field"][0] != "-" {
		t.Errorf("bad footer or metadata: %q %v", lines[len(lines)-1], meta)
	}
	if strings.Join(fields, " ") != "ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes tunnel_parents" || len(types) != len(fields) {
		t.Errorf("fields %q, %d types", fields, len(types))
	}
	return fields, rows
}

// TestZeekLogMatchesReport: for every bundled capture, -f zeek is a Zeek
// conn.log with one row per connection, and each row's conn_state and
// history equal the JSON report's zeek_conn_state and zeek_history for the
// same connection (matched by originator, responder and start time); with
// -j 2 the log is the same bytes.
func TestZeekLogMatchesReport(t *testing.T) {
	for _, file := range corpus(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			log, errs, code := tcpstate(t, nil, "-f", "zeek", "-j", "1", file)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if log2, _, _ := tcpstate(t, nil, "-f", "zeek", "-j", "2", file); log2 != log {
				t.Errorf("-j 2 differs: %s", firstDiff(log2, log))
			}
			fields, rows := parseZeekLog(t, log)
			col := map[string]int{}
			for i, f := range fields {
				col[f] = i
			}
			out, _, _ := tcpstate(t, nil, "-f", "json", "--list-connections", "-1", file)
			var r struct {
				Summary struct {
					Connections int `json:"connections"`
				} `json:"summary"`
				Connections []struct {
					Orig      string `json:"zeek_orig"`
					Client    string `json:"client"`
					Server    string `json:"server"`
					First     string `json:"first_time"`
					State     string `json:"zeek_conn_state"`
					History   string `json:"zeek_history"`
					ClientPkt struct {
						C2S uint64 `json:"client_to_server"`
						S2C uint64 `json:"server_to_client"`
					} `json:"packets"`
				} `json:"connections"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if len(rows) != r.Summary.Connections || len(r.Connections) != len(rows) {
				t.Fatalf("%d rows, %d connections in the report", len(rows), r.Summary.Connections)
			}
			want := map[string]string{}
			for _, c := range r.Connections {
				orig, resp := c.Client, c.Server
				if c.Orig != "" && c.Orig != c.Client {
					orig, resp = c.Server, c.Client
				}
				state, hist := c.State, c.History
				if state == "" {
					state, hist = "-", "-"
				}
				want[fmt.Sprintf("%s %s %s", orig, resp, c.First)] += state + " " + hist + ";"
			}
			got := map[string]string{}
			for _, row := range rows {
				h := func(f string) string { return row[col[f]] }
				ep := func(a, p string) string {
					if strings.Contains(a, ":") {
						return "[" + a + "]:" + p
					}
					return a + ":" + p
				}
				ts := parseTS(t, h("ts"))
				got[fmt.Sprintf("%s %s %s", ep(h("id.orig_h"), h("id.orig_p")), ep(h("id.resp_h"), h("id.resp_p")), ts)] += h("conn_state") + " " + h("history") + ";"
				if h("proto") != "tcp" || !strings.HasPrefix(h("uid"), "C") || len(h("uid")) != 18 {
					t.Errorf("row %q", row)
				}
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: log says %q, JSON %q", k, got[k], v)
				}
			}
		})
	}
}

// parseTS turns Zeek's epoch seconds (6 decimals) into the JSON's time format.
func parseTS(t *testing.T, s string) string {
	t.Helper()
	var sec, usec int64
	if _, err := fmt.Sscanf(strings.Replace(s, ".", " ", 1), "%d %d", &sec, &usec); err != nil {
		t.Fatalf("ts %q: %v", s, err)
	}
	b, _ := json.Marshal(timeUnix(sec, usec))
	return strings.Trim(string(b), `"`)
}

// TestCSVLog: -f csv (or -o x.csv) is RFC 4180 CSV with a header and one
// row per connection; on the kernel's CLOSE_WAIT leak every row says the
// client closed first and the server sat 0.74 s in CLOSE_WAIT.
func TestCSVLog(t *testing.T) {
	out := filepath.Join(t.TempDir(), "conns.csv")
	if _, errs, code := tcpstate(t, nil, "-o", out, closeWaitTrace); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs := readCSV(t, out)
	if len(recs) != 6 {
		t.Fatalf("%d records; want header + 5", len(recs))
	}
	col := map[string]int{}
	for i, f := range recs[0] {
		col[f] = i
	}
	for _, r := range recs[1:] {
		if r[col["active_closer"]] != "client" || r[col["server_state"]] != "CLOSE_WAIT" || r[col["client_state"]] != "FIN_WAIT_2" ||
			!strings.HasPrefix(r[col["server_close_wait_s"]], "0.74") || r[col["findings"]] != "close-wait fin-wait-2" {
			t.Errorf("row %q", r)
		}
	}
	_, errs, code := tcpstate(t, nil, "-f", "csv", "--all-connections", filepath.Join(t.TempDir(), "x"), closeWaitTrace)
	if code != 2 || !strings.Contains(errs, "-f csv already lists every connection") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func readCSV(t *testing.T, name string) [][]string {
	t.Helper()
	data := mustRead(t, name)
	recs, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func timeUnix(sec, usec int64) time.Time { return time.Unix(sec, usec*1000).UTC() }

// TestLogsWriteNothingWithoutPackets: -f zeek and -f csv on a capture with
// no packets fail with one line and exit 2, and leave stdout empty (the
// header waits for the first connection); a capture with packets but no
// finished connection still gets the header (and Zeek's footer).
func TestLogsWriteNothingWithoutPackets(t *testing.T) {
	for _, f := range []string{"zeek", "csv"} {
		out, errs, code := tcpstate(t, nil, "-f", f, "../../testdata/broken/header-only.pcap")
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "no packets") {
			t.Errorf("-f %s on a header-only capture: exit %d, stdout %q, stderr %q; want exit 2, nothing on stdout, one line", f, code, out, errs)
		}
	}
	out, _, code := tcpstate(t, nil, "-f", "zeek", "../../testdata/kernel/refused.pcap")
	if code != 0 || !strings.HasPrefix(out, "#separator") || !strings.Contains(out, "\n#close\t") {
		t.Errorf("-f zeek on a capture: exit %d, output %q", code, out)
	}
}
