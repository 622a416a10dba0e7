package report

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

// TextOptions control the text rendering.
type TextOptions struct {
	// Color enables ANSI colours (only when stdout is a terminal).
	Color bool
	// MaxLadders bounds how many connections get a ladder diagram (0: 20,
	// negative: none).
	MaxLadders int
	// Width is the column at which explanations wrap.
	Width int
}

const (
	ansiRed    = "\x1b[31;1m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

type textWriter struct {
	w   *bufio.Writer
	opt TextOptions
	err error
}

func (t *textWriter) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}

func (t *textWriter) color(code, s string) string {
	if !t.opt.Color {
		return s
	}
	return code + s + ansiReset
}

// stamp formats a capture timestamp in UTC with microseconds.
func stamp(ts time.Time) string { return ts.UTC().Format("2006-01-02 15:04:05.000000") }

// Text writes the human report: capture header, end-state table, findings
// grouped by kind and endpoint (worst first), and a ladder diagram for each
// flagged connection. Its prose fits an 80-column terminal; its tables (a
// ladder's steps, --at's endpoints, --timeline's samples) are as wide as
// their columns, as ss's table is.
func Text(w io.Writer, r *Report, opt TextOptions) error {
	if opt.Width == 0 {
		opt.Width = 78
	}
	if opt.MaxLadders == 0 {
		opt.MaxLadders = 20
	}
	t := &textWriter{w: bufio.NewWriter(w), opt: opt}
	t.header(r)
	t.states(r)
	t.findings(r)
	t.ladders(r)
	t.snapshots(r)
	t.timeline(r)
	t.gate(r)
	if t.err != nil {
		return t.err
	}
	return t.w.Flush()
}

func (t *textWriter) header(r *Report) {
	c := &r.Capture
	t.printf("%s\n", t.color(ansiBold, r.Tool+" — "+strings.Join(c.Files, ", ")))
	t.printf("  packets    %d (%d TCP)\n", c.Packets, c.TCPPackets)
	if c.Start != nil {
		end := c.End.UTC().Format("15:04:05.000000")
		if c.End.UTC().YearDay() != c.Start.UTC().YearDay() || c.End.Year() != c.Start.Year() {
			end = stamp(*c.End) // a capture across midnight shows both dates
		}
		span := fmt.Sprintf("%s → %s UTC", stamp(*c.Start), end)
		if took := "(" + Dur(c.End.Sub(*c.Start)) + ")"; len("  time       ")+utf8.RuneCountInString(span)+1+len(took) <= t.opt.Width {
			t.printf("  time       %s %s\n", span, took)
		} else { // both dates: the duration goes below
			t.printf("  time       %s\n             %s\n", span, took)
		}
	}
	if len(c.LinkTypes) > 0 {
		var ls []string
		for _, l := range c.LinkTypes {
			ls = append(ls, fmt.Sprintf("%s (%d)", l.Name, l.Packets))
		}
		t.printf("  link types %s\n", strings.Join(ls, ", "))
	}
	if len(c.Tunneled) > 0 {
		t.printf("  tunneled   %s\n", countList(c.Tunneled))
	}
	if len(c.Skipped) > 0 {
		t.printf("  skipped    %s\n", countList(c.Skipped))
	}
	if c.Truncated {
		t.printf("  %s\n", t.color(ansiYellow, "truncated: the capture was cut short; analysed up to the cut"))
	}
	t.printf("  connections %d", r.Summary.Connections)
	if r.Summary.Partial > 0 {
		t.printf(" (%d joined mid-stream)", r.Summary.Partial)
	}
	t.printf("\n\n")
}

// countList writes counts by name as "a 3, b 12", by name.
func countList(m map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func (t *textWriter) states(r *Report) {
	if r.Summary.Connections == 0 {
		t.printf("No TCP connections.\n")
		return
	}
	t.printf("%s\n", t.color(ansiBold, "End states"))
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  state\tclients\tservers\t\n")
	for s := range fsm.NumStates {
		name := fsm.State(s).String()
		cl, sv := r.Summary.ClientStates[name], r.Summary.ServerStates[name]
		if cl == 0 && sv == 0 {
			continue
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t\n", name, cl, sv)
	}
	if err := tw.Flush(); err != nil && t.err == nil {
		t.err = err
	}
	t.printf("\n")
}

func (t *textWriter) sevLabel(s fsm.Severity) string {
	switch s {
	case fsm.Error:
		return t.color(ansiRed, "ERROR")
	case fsm.Warning:
		return t.color(ansiYellow, "WARN ")
	}
	return t.color(ansiDim, "info ")
}

func (t *textWriter) findings(r *Report) {
	if len(r.Groups) == 0 {
		if r.Summary.Connections > 0 {
			t.printf("No findings: every connection opened and closed cleanly.\n")
		}
		return
	}
	t.printf("%s\n", t.color(ansiBold, "Findings (worst first)"))
	for i := range r.Groups {
		if i == maxTextGroups {
			t.printf("… and %d more groups of findings (-f json lists every group).\n\n", len(r.Groups)-i)
			break
		}
		g := &r.Groups[i]
		lead := len("ERROR ") + len(g.Kind.String()) + len(": ")
		for i, line := range wrapFirst(g.Headline, t.opt.Width-lead, t.opt.Width-7) {
			if i == 0 {
				t.printf("%s %s: %s\n", t.sevLabel(g.Severity), g.Kind, line)
			} else {
				t.printf("       %s\n", line)
			}
		}
		for _, line := range wrap(fmt.Sprintf("since %s, connections %s", stamp(g.Oldest), connList(g)), t.opt.Width-7) {
			t.printf("       %s\n", line)
		}
		for _, line := range wrap("frames "+frames(g.Frames), t.opt.Width-7) {
			t.printf("       %s\n", line)
		}
		if g.Ignored > 0 {
			t.printf("       ignored (--ignore): %d of %d\n", g.Ignored, g.Count)
		}
		for _, line := range wrap(g.Explanation, t.opt.Width-7) {
			t.printf("       %s\n", line)
		}
		t.printf("\n")
	}
	outside := 0
	for _, n := range r.Omitted.FindingsInGroups {
		outside += n
	}
	if outside > 0 {
		for _, line := range wrap(fmt.Sprintf("%d findings of clients beyond the first %d client groups are counted in the summary but not grouped.",
			outside, r.Omitted.ClientGroupsLimit), t.opt.Width) {
			t.printf("%s\n", line)
		}
		t.printf("\n")
	}
}

// maxTextGroups bounds the groups the text report prints: a reader wants
// the worst, and a flood can make thousands.
const maxTextGroups = 100

func connList(g *Group) string {
	var b strings.Builder
	for i, id := range g.Connections {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "#%d", id)
	}
	if g.Count > len(g.Connections) {
		fmt.Fprintf(&b, " (+%d more)", g.Count-len(g.Connections))
	}
	return b.String()
}

// ladders draws the connections asked for (--conn), all of them, then the
// flagged ones, in ID order.
func (t *textWriter) ladders(r *Report) {
	var pinned, flagged []*Connection
	for i := range r.Connections {
		c := &r.Connections[i]
		switch {
		case c.pinned:
			pinned = append(pinned, c)
		case interesting(c.conn):
			flagged = append(flagged, c)
		}
	}
	if t.opt.MaxLadders < 0 {
		return
	}
	if len(pinned) > 0 {
		t.printf("%s\n", t.color(ansiBold, "Connections asked for (--conn)"))
		for _, c := range pinned {
			t.ladder(c)
		}
	}
	if len(flagged) == 0 {
		return
	}
	t.printf("%s\n", t.color(ansiBold, "Flagged connections"))
	for i, c := range flagged {
		if i == t.opt.MaxLadders {
			t.printf("(%d more flagged connections: see -f json)\n", len(flagged)-i)
			break
		}
		t.ladder(c)
	}
}

// interesting reports whether a connection has a finding worth a ladder
// (anything but the purely informational time-wait and partial).
func interesting(c *fsm.Conn) bool {
	for _, f := range c.Findings {
		if f.Severity > fsm.Info || f.Kind == fsm.KindSimultaneousClose || f.Kind == fsm.KindFinRetransmit || f.Kind == fsm.KindPortReuse {
			return true
		}
	}
	return false
}

func (t *textWriter) ladder(c *Connection) {
	cn := c.conn
	title := fmt.Sprintf("#%d %s -> %s", c.ID, c.Client, c.Server)
	kinds := "[" + strings.Join(c.FindingKinds, ", ") + "]"
	if utf8.RuneCountInString(title)+2+utf8.RuneCountInString(kinds) <= t.opt.Width {
		t.printf("%s  %s\n", title, kinds)
	} else { // long IPv6 endpoints: the kinds go below, where the states are
		t.printf("%s\n   %s\n", title, kinds)
	}
	ends := fmt.Sprintf("   client %s, server %s at end", c.ClientState, c.ServerState)
	if c.Partial {
		const partial = "(joined mid-stream: states assumed)"
		if len(ends)+1+len(partial) <= t.opt.Width {
			ends += " " + partial
		} else {
			ends += "\n   " + partial
		}
	}
	t.printf("%s\n", ends)
	// The steps without a note would end in the padding of their last
	// column: trimmed, so that no line of the report ends in blanks.
	tw := tabwriter.NewWriter(&trimRight{w: t.w}, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "   time\tframe\t\tflags\tseq\tack\tlen\tstate entered\n")
	for _, st := range cn.Ladder {
		arrow := "->"
		if st.Dir == reassembly.ServerToClient {
			arrow = "<-"
		}
		var notes []string
		if st.ClientChanged {
			notes = append(notes, "client "+st.Client.String())
		}
		if st.ServerChanged {
			notes = append(notes, "server "+st.Server.String())
		}
		if st.Kind&reassembly.Retransmission != 0 {
			notes = append(notes, "(retransmission)")
		}
		if st.Stale {
			notes = append(notes, "(old connection)")
		}
		ack := ""
		if st.Flags&reassembly.ACK != 0 {
			ack = fmt.Sprint(st.Ack)
		}
		fmt.Fprintf(tw, "   +%s\t%d\t%s\t%s\t%d\t%s\t%d\t%s\n", relTime(st.Time.Sub(reassembly.StampOf(cn.First))), st.Frame, arrow,
			st.Flags, st.Seq, ack, st.Len, strings.Join(notes, ", "))
	}
	if err := tw.Flush(); err != nil && t.err == nil {
		t.err = err
	}
	if cn.LadderOmitted > 0 {
		t.printf("   (%d more steps omitted)\n", cn.LadderOmitted)
	}
	t.printf("\n")
}

// trimRight writes what it is given less the blanks at the end of each
// line. tabwriter writes whole lines to it, so a line's blanks are known to
// be trailing when its newline arrives in the same call; blanks at the end
// of a call are held until the next one tells.
type trimRight struct {
	w      io.Writer
	blanks int // blanks held back, from the end of the previous call
}

func (r *trimRight) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		line, after, nl := bytes.Cut(rest, []byte{'\n'})
		body := bytes.TrimRight(line, " ")
		if len(body) > 0 && r.blanks > 0 {
			if _, err := r.w.Write(bytes.Repeat([]byte{' '}, r.blanks)); err != nil {
				return 0, err
			}
			r.blanks = 0
		}
		if _, err := r.w.Write(body); err != nil {
			return 0, err
		}
		if nl {
			r.blanks = 0
			if _, err := r.w.Write([]byte{'\n'}); err != nil {
				return 0, err
			}
		} else {
			r.blanks += len(line) - len(body)
		}
		rest = after
	}
	return len(p), nil
}

// relTime formats a time offset as seconds with millisecond precision.
func relTime(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// wrapFirst wraps s with a first line of at most first runes and the rest at most rest.
func wrapFirst(s string, first, rest int) []string {
	lines := wrap(s, first)
	if len(lines) <= 1 {
		return lines
	}
	tail := strings.TrimPrefix(s, lines[0])
	return append(lines[:1], wrap(tail, rest)...)
}

// wrap breaks s into lines of at most width runes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		wl := len([]rune(word))
		if n > 0 && n+1+wl > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(word)
		n += wl
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
