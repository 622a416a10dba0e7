package report

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// ZeekFields are the columns of Zeek's conn.log, in its order.
var ZeekFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service",
	"duration", "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
	"orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents"}

var zeekTypes = []string{"time", "string", "addr", "port", "addr", "port", "enum", "string",
	"interval", "count", "count", "string", "bool", "bool", "count", "string",
	"count", "count", "count", "count", "set[string]"}

// zeekStamp is how Zeek writes #open and #close.
func zeekStamp(t time.Time) string { return t.UTC().Format("2006-01-02-15-04-05") }

// ZeekHeader is the header of a conn.log opened at t (the capture's first
// packet: Zeek reading a trace keeps network time).
func ZeekHeader(t time.Time) []byte {
	var b strings.Builder
	b.WriteString("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n")
	b.WriteString("#open\t" + zeekStamp(t) + "\n")
	b.WriteString("#fields\t" + strings.Join(ZeekFields, "\t") + "\n")
	b.WriteString("#types\t" + strings.Join(zeekTypes, "\t") + "\n")
	return []byte(b.String())
}

// ZeekFooter closes a conn.log at t (the capture's last packet).
func ZeekFooter(t time.Time) []byte { return []byte("#close\t" + zeekStamp(t) + "\n") }

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// ZeekUID is connection c's uid: "C" and 17 base-62 digits like Zeek's,
// derived from its four-tuple and first frame (deterministic, unlike Zeek's).
func ZeekUID(c *fsm.Conn) string {
	var buf [2*18 + 8]byte
	put := func(b []byte, a netip.AddrPort) []byte {
		x := a.Addr().As16()
		return binary.BigEndian.AppendUint16(append(b, x[:]...), a.Port())
	}
	k := put(put(buf[:0], c.Client.Addr), c.Server.Addr)
	k = binary.BigEndian.AppendUint64(k, c.ID)
	h1, h2 := fnv64(k, 0xcbf29ce484222325), fnv64(k, 0x84222325cbf29ce4)
	out := []byte{'C'}
	for i := 0; i < 17; i++ {
		h := &h1
		if i >= 9 {
			h = &h2
		}
		out = append(out, base62[*h%62])
		*h /= 62
	}
	return string(out)
}

// fnv64 is FNV-1a from basis: stable across runs and Go versions.
func fnv64(b []byte, basis uint64) uint64 {
	h := basis
	for _, c := range b {
		h ^= uint64(c)
		h *= 0x100000001b3
	}
	return h
}

// AppendZeek appends connection c as one conn.log row.
func AppendZeek(b []byte, c *fsm.Conn) []byte {
	orig, resp, od := c.Client.Addr, c.Server.Addr, 0
	if z := c.Zeek; z.State != "" {
		orig, resp = z.Orig, z.Resp
		if orig != c.Client.Addr {
			od = 1
		}
	}
	rd := 1 - od
	tab := func() { b = append(b, '\t') }
	b = strconv.AppendFloat(b, float64(c.First.UnixMicro())/1e6, 'f', 6, 64)
	tab()
	b = append(b, ZeekUID(c)...)
	tab()
	b = append(b, orig.Addr().Unmap().String()...)
	tab()
	b = strconv.AppendUint(b, uint64(orig.Port()), 10)
	tab()
	b = append(b, resp.Addr().Unmap().String()...)
	tab()
	b = strconv.AppendUint(b, uint64(resp.Port()), 10)
	b = append(b, "\ttcp\t-\t"...)
	// Zeek sets duration and the byte counts only when the duration is
	// positive (base/protocols/conn/main.zeek, set_conn).
	if d := c.Last.Sub(c.First); d > 0 {
		b = strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
		tab()
		b = strconv.AppendUint(b, c.SeqBytes[od], 10)
		tab()
		b = strconv.AppendUint(b, c.SeqBytes[rd], 10)
	} else {
		b = append(b, "-\t-\t-"...)
	}
	tab()
	state := c.Zeek.State
	if state == "" {
		state = "-"
	}
	b = append(b, state...)
	b = append(b, "\t-\t-\t"...) // local_orig, local_resp: no Site::local_nets
	// missed_bytes: tcpstate counts gaps, not their bytes; 0 when none.
	if c.Gaps[0]+c.Gaps[1]+c.AckUnseen[0]+c.AckUnseen[1] == 0 {
		b = append(b, '0')
	} else {
		b = append(b, '-')
	}
	tab()
	h := c.Zeek.History
	if h == "" {
		h = "-"
	}
	b = append(b, h...)
	for _, d := range [2]int{od, rd} {
		tab()
		b = strconv.AppendUint(b, c.Packets[d], 10)
		tab()
		b = strconv.AppendUint(b, c.IPBytes[d], 10)
	}
	return append(b, "\t-\n"...)
}

// CSVFields are the columns of -f csv: one row per connection with both
// endpoints' end states, who closed first, and the time each endpoint
// spent in the states that pile up.
var CSVFields = []string{"id", "client", "server", "client_state", "server_state", "active_closer",
	"first_time", "last_time", "duration_s", "first_frame", "last_frame",
	"client_packets", "server_packets", "client_bytes", "server_bytes", "client_retransmits", "server_retransmits",
	"client_close_wait_s", "server_close_wait_s", "client_fin_wait_2_s", "server_fin_wait_2_s",
	"client_time_wait_s", "server_time_wait_s", "partial", "findings", "zeek_conn_state", "zeek_history"}

// CSVHeader is the header line of -f csv.
func CSVHeader() []byte { return []byte(strings.Join(CSVFields, ",") + "\n") }

// ActiveCloser says which endpoint sent the first FIN: "client", "server",
// "both" (simultaneous close), or "" when none did.
func ActiveCloser(c *fsm.Conn) string {
	ct, sc := firstIn(&c.Client, fsm.FinWait1), firstIn(&c.Server, fsm.FinWait1)
	switch {
	case ct && sc:
		return "both"
	case ct:
		return "client"
	case sc:
		return "server"
	}
	return ""
}

func firstIn(e *fsm.Endpoint, s fsm.State) bool {
	for _, ch := range e.Timeline {
		if ch.To == s {
			return true
		}
	}
	return false
}

// TimeIn is how long endpoint e spent in state s, up to end.
func TimeIn(e *fsm.Endpoint, s fsm.State, end time.Time) time.Duration {
	var d time.Duration
	for i, ch := range e.Timeline {
		if ch.To != s {
			continue
		}
		until := reassembly.StampOf(end)
		if i+1 < len(e.Timeline) {
			until = e.Timeline[i+1].Time
		}
		d += until.Sub(ch.Time)
	}
	return d
}

// AppendCSV appends connection c as one CSV row (RFC 4180; no field
// needs quoting but the finding list, which is quoted).
func AppendCSV(b []byte, c *fsm.Conn) []byte {
	comma := func() { b = append(b, ',') }
	secs := func(d time.Duration) { b = strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64) }
	b = strconv.AppendUint(b, c.ID, 10)
	for _, s := range []string{addr(c.Client.Addr), addr(c.Server.Addr), c.Client.State.String(), c.Server.State.String(),
		ActiveCloser(c), c.First.UTC().Format(time.RFC3339Nano), c.Last.UTC().Format(time.RFC3339Nano)} {
		comma()
		b = append(b, s...)
	}
	comma()
	secs(c.Last.Sub(c.First))
	for _, n := range []uint64{c.FirstFrame, c.LastFrame, c.Packets[0], c.Packets[1], c.Bytes[0], c.Bytes[1],
		uint64(c.Retransmits[0]), uint64(c.Retransmits[1])} {
		comma()
		b = strconv.AppendUint(b, n, 10)
	}
	for _, s := range []fsm.State{fsm.CloseWait, fsm.FinWait2, fsm.TimeWait} {
		comma()
		secs(TimeIn(&c.Client, s, c.End))
		comma()
		secs(TimeIn(&c.Server, s, c.End))
	}
	comma()
	b = strconv.AppendBool(b, c.Partial)
	comma()
	var kinds []string
	var seen [fsm.NumKinds]bool
	for _, f := range c.Findings {
		if !seen[f.Kind] {
			seen[f.Kind] = true
			kinds = append(kinds, f.Kind.String())
		}
	}
	b = append(b, '"')
	b = append(b, strings.Join(kinds, " ")...)
	b = append(b, '"')
	comma()
	b = append(b, c.Zeek.State...)
	comma()
	b = append(b, c.Zeek.History...)
	return append(b, '\n')
}
