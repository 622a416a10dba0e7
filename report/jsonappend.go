package report

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tcpstate/tcpstate/fsm"
)

// The long lists' elements (Connection, Finding, Group: nearly all of a
// report's bytes) are written by hand, straight into their indented form,
// as json.MarshalIndent writes them: encoding/json spends most of its time
// on them in reflection and in time.Time's MarshalJSON, whose result it
// parses again to compact it. The bytes are the same
// (TestAppendersMatchEncodingJSON fills every field); a value they cannot
// write exactly as encoding/json would (a time outside years 0-9999, a
// float that is not finite) makes the appender report false, and the
// element goes through encoding/json, errors and all.

// jsonAppender is a list element that can write itself.
type jsonAppender interface {
	// appendJSON appends the element as json.MarshalIndent would with
	// this prefix and a two-space indent, the first line unprefixed; ok
	// is false (and dst unusable) when it cannot.
	appendJSON(dst []byte, prefix string) (out []byte, ok bool)
}

// obj writes one JSON object's members, indented.
type obj struct {
	b      []byte
	prefix string // the object's own lines' prefix (its closing brace): spaces
	n      int    // members written
	ok     bool
}

// spaces holds the prefixes: every line's prefix is a run of spaces.
const spaces = "                                                                "

// openObj starts an object whose closing brace's line is prefixed by
// prefix, a run of spaces (at most 56: the lists nest 5 levels deep).
func openObj(dst []byte, prefix string) obj {
	return obj{b: append(dst, '{'), prefix: prefix, ok: true}
}

// deeper returns the prefix n spaces deeper than prefix, without allocating.
func deeper(prefix string, n int) string { return spaces[:len(prefix)+n] }

// key starts a member: the line break, the indentation and `"name": `.
func (o *obj) key(name string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '\n')
	o.b = append(o.b, deeper(o.prefix, 2)...)
	o.b = append(o.b, '"')
	o.b = append(o.b, name...) // field names are plain ASCII
	o.b = append(o.b, `": `...)
}

func (o *obj) close() ([]byte, bool) {
	if o.n > 0 {
		o.b = append(o.b, '\n')
		o.b = append(o.b, o.prefix...)
	}
	return append(o.b, '}'), o.ok
}

func (o *obj) uint(name string, v uint64) {
	o.key(name)
	o.b = strconv.AppendUint(o.b, v, 10)
}

func (o *obj) int(name string, v int) {
	o.key(name)
	o.b = strconv.AppendInt(o.b, int64(v), 10)
}

func (o *obj) bool(name string, v bool) {
	o.key(name)
	o.b = strconv.AppendBool(o.b, v)
}

func (o *obj) str(name, v string) {
	o.key(name)
	o.b = appendJSONString(o.b, v)
}

// text is a member whose value is one of the fsm enums: encoding/json
// writes the text of their MarshalText, which is their String.
func (o *obj) text(name string, v fmt.Stringer) {
	o.key(name)
	o.b = appendJSONString(o.b, v.String())
}

func (o *obj) time(name string, t time.Time) {
	o.key(name)
	var ok bool
	o.b, ok = appendJSONTime(o.b, t)
	o.ok = o.ok && ok
}

func (o *obj) float(name string, f float64) {
	o.key(name)
	var ok bool
	o.b, ok = appendJSONFloat(o.b, f)
	o.ok = o.ok && ok
}

// array writes a list member: null when vs is nil, [] when empty, else
// one element per line, each written by elem (at o.b's end).
func array[T any](o *obj, name string, vs []T, elem func(*T)) {
	o.key(name)
	if vs == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = openArray(o.b, len(vs))
	for i := range vs {
		o.b = o.elem(o.b, i)
		elem(&vs[i])
	}
	o.b = o.closeArray(o.b, len(vs))
}

func (o *obj) uints(name string, vs []uint64) {
	array(o, name, vs, func(v *uint64) { o.b = strconv.AppendUint(o.b, *v, 10) })
}

func (o *obj) strs(name string, vs []string) {
	array(o, name, vs, func(v *string) { o.b = appendJSONString(o.b, *v) })
}

// An array member's elements are one level deeper than its key.
func openArray(b []byte, n int) []byte {
	if n == 0 {
		return append(b, "[]"...)
	}
	return append(b, '[')
}

func (o *obj) elem(b []byte, i int) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = append(b, '\n')
	return append(b, deeper(o.prefix, 4)...)
}

func (o *obj) closeArray(b []byte, n int) []byte {
	if n == 0 {
		return b
	}
	b = append(b, '\n')
	b = append(b, deeper(o.prefix, 2)...)
	return append(b, ']')
}

// inner is the prefix of an object that is an element of an array member.
func (o *obj) inner() string { return deeper(o.prefix, 4) }

func (o *obj) perDir(name string, p PerDir) {
	o.key(name)
	in := openObj(o.b, deeper(o.prefix, 2))
	in.uint("client_to_server", p.ClientToServer)
	in.uint("server_to_client", p.ServerToClient)
	o.b, _ = in.close()
}

// member closes an object written inside o, keeping o's buffer.
func (o *obj) member(in *obj) {
	var ok bool
	o.b, ok = in.close()
	o.ok = o.ok && ok
}

func (o *obj) changes(name string, cs []Change) {
	array(o, name, cs, func(c *Change) {
		in := openObj(o.b, o.inner())
		in.time("time", c.Time)
		in.uint("frame", c.Frame)
		in.text("state", c.State)
		in.text("event", c.Event)
		if c.Presumed {
			in.bool("presumed", true)
		}
		o.member(&in)
	})
}

// anomalies is only called with some: the member is omitted when empty.
func (o *obj) anomalies(name string, as []Anomaly) {
	array(o, name, as, func(a *Anomaly) {
		in := openObj(o.b, o.inner())
		in.str("endpoint", a.Endpoint)
		in.uint("frame", a.Frame)
		in.text("state", a.State)
		in.text("event", a.Event)
		in.str("reason", a.Reason)
		o.member(&in)
	})
}

func (c *Connection) appendJSON(dst []byte, prefix string) ([]byte, bool) {
	o := openObj(dst, prefix)
	o.uint("id", c.ID)
	o.str("client", c.Client)
	o.str("server", c.Server)
	o.text("client_state", c.ClientState)
	o.text("server_state", c.ServerState)
	o.bool("partial", c.Partial)
	o.str("roles_from", c.Roles)
	o.int("incarnation", c.Incarnation)
	o.uint("first_frame", c.FirstFrame)
	o.uint("last_frame", c.LastFrame)
	o.time("first_time", c.FirstTime)
	o.time("last_time", c.LastTime)
	o.changes("client_timeline", c.ClientTimeline)
	o.changes("server_timeline", c.ServerTimeline)
	o.perDir("packets", c.Packets)
	o.perDir("bytes", c.Bytes)
	o.perDir("retransmits", c.Retransmits)
	o.perDir("duplicates", c.Duplicates)
	o.perDir("keepalives", c.KeepAlives)
	if len(c.Anomalies) > 0 {
		o.anomalies("anomalies", c.Anomalies)
	}
	o.str("zeek_conn_state", c.ZeekConnState)
	o.str("zeek_history", c.ZeekHistory)
	o.str("zeek_orig", c.ZeekOrig)
	o.strs("finding_kinds", c.FindingKinds)
	return o.close()
}

// finding writes the four members a Finding and a Group begin with.
func (o *obj) finding(k fsm.Kind, s fsm.Severity, endpoint string, r fsm.Role) {
	o.text("kind", k)
	o.text("severity", s)
	o.str("endpoint", endpoint)
	o.text("role", r)
}

func (f *Finding) appendJSON(dst []byte, prefix string) ([]byte, bool) {
	o := openObj(dst, prefix)
	o.finding(f.Kind, f.Severity, f.Endpoint, f.Role)
	o.str("peer", f.Peer)
	o.uint("connection", f.Connection)
	o.time("since", f.Since)
	o.float("duration_seconds", f.DurationSeconds)
	o.text("ending", f.Ending)
	o.uints("frames", f.Frames)
	o.str("explanation", f.Explanation)
	if f.Ignored {
		o.bool("ignored", true)
	}
	return o.close()
}

func (g *Group) appendJSON(dst []byte, prefix string) ([]byte, bool) {
	o := openObj(dst, prefix)
	o.finding(g.Kind, g.Severity, g.Endpoint, g.Role)
	o.uints("connections", g.Connections)
	o.int("count", g.Count)
	o.time("oldest", g.Oldest)
	o.float("longest_seconds", g.LongestSeconds)
	o.uints("frames", g.Frames)
	o.str("headline", g.Headline)
	o.str("explanation", g.Explanation)
	if g.Ignored != 0 {
		o.int("ignored", g.Ignored)
	}
	return o.close()
}

// appendJSONTime appends t as time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, quoted), or reports false where MarshalJSON fails: a year
// outside 0-9999, or a zone offset of 24 hours or more.
func appendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	n0 := len(b)
	b = t.AppendFormat(b, time.RFC3339Nano)
	if b[n0+len("9999")] != '-' {
		return b, false
	}
	if b[len(b)-1] != 'Z' {
		c := b[len(b)-len("Z07:00")]
		h := b[len(b)-len("07:00"):]
		if '0' <= c && c <= '9' || 10*(h[0]-'0')+(h[1]-'0') >= 24 {
			return b, false
		}
	}
	return append(b, '"'), true
}

// appendJSONFloat appends f as encoding/json writes a float64, or reports
// false for NaN and infinities, which it refuses.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 becomes e-9, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// jsonSafe marks the ASCII bytes a JSON string holds as they are:
// printable, and not ", \\, <, > or &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s quoted as encoding/json writes a string with
// HTML escaping (its default): <, > and & as \u003c, \u003e and \u0026,
// invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
