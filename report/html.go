package report

import (
	"bufio"
	"cmp"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
)

//go:embed html/report.html.tmpl
var htmlTemplate string

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"num":   thousands,
	"num64": func(n uint64) string { return thousands(int(n)) },
}).Parse(htmlTemplate))

// HTMLOptions control the HTML rendering.
type HTMLOptions struct {
	// LaddersPerKind bounds, per finding kind, the connections drawn as a
	// ladder diagram (0: DefaultLaddersPerKind; negative: none).
	LaddersPerKind int
	// Connections bounds the connection list, each with a folded ladder
	// (0: DefaultHTMLConnections; negative: no list).
	Connections int
	// Options is the command line, shown with the capture facts.
	Options string
}

// DefaultLaddersPerKind is how many flagged connections per finding kind
// the HTML report draws: a ladder weighs about 2.5 KB, and the page must
// stay small enough to open at once (under 5 MB for any capture).
const DefaultLaddersPerKind = 100

// DefaultHTMLConnections is how many connections the HTML report lists,
// each with its ladder folded: the first ones by ID (-f json has them all).
const DefaultHTMLConnections = 200

// htmlGroupsPerKind bounds the finding groups the page shows per kind, the
// worst first; the JSON lists them all. A capture from thousands of clients
// has thousands of time-wait groups, which no reader scrolls through.
const htmlGroupsPerKind = 25

// HTML writes r as one self-contained HTML page: inline CSS, inline SVG
// charts drawn here, a few lines of optional JavaScript, nothing fetched.
// Every string from the capture goes through html/template's escaping.
func HTML(w io.Writer, r *Report, opt HTMLOptions) error {
	if opt.LaddersPerKind == 0 {
		opt.LaddersPerKind = DefaultLaddersPerKind
	}
	if opt.Connections == 0 {
		opt.Connections = DefaultHTMLConnections
	}
	bw := bufio.NewWriter(w)
	if err := htmlPage.Execute(bw, newPage(r, opt)); err != nil {
		return err
	}
	return bw.Flush()
}

// page is what the template renders: every number and string computed here,
// none in the template.
type page struct {
	R       *Report
	Title   string
	Verdict string
	Span    string
	Cards   []card
	Charts  []chart
	Legend  []legendItem
	Svcs    []svcRow
	OtherSv int
	Groups  []groupView
	// GroupsLeft counts, per kind, the groups not shown.
	GroupsLeft []kv
	Ladders    []ladderView
	// Pinned are the connections asked for (--conn), drawn first.
	Pinned []ladderView
	// Conns is the connection list; ConnsLeft the listed ones not in it.
	Conns     []connRow
	ConnsLeft int
	// LaddersLeft counts flagged connections not drawn (the per-kind bound).
	LaddersLeft int
	Skipped     []kv
	Tunneled    []kv
	Links       []kv
	Options     string
	Settings    string
	Packets     string
	TCPPackets  string
	Evicted     string
}

type kv struct{ K, V string }

type card struct {
	Label, Value, Class string
}

type legendItem struct {
	State fsm.State
	Color string
}

// stateColors gives each state a colour; the state's name is always written
// beside it (legend, labels), so colour never carries meaning alone.
var stateColors = map[fsm.State]string{
	fsm.SynSent: "#9c755f", fsm.SynReceived: "#e15759", fsm.Established: "#4e79a7",
	fsm.FinWait1: "#76b7b2", fsm.FinWait2: "#59a14f", fsm.CloseWait: "#f28e2b",
	fsm.Closing: "#b07aa1", fsm.LastAck: "#edc948", fsm.TimeWait: "#bab0ac", fsm.Listen: "#ff9da7",
}

// chartStates are the states drawn, bottom band first.
var chartStates = []fsm.State{fsm.Established, fsm.CloseWait, fsm.FinWait2, fsm.TimeWait, fsm.SynSent,
	fsm.SynReceived, fsm.FinWait1, fsm.LastAck, fsm.Closing}

func newPage(r *Report, opt HTMLOptions) *page {
	p := &page{R: r, Options: opt.Options}
	p.Title = "tcpstate: " + strings.Join(r.Capture.Files, ", ")
	if r.Capture.Start != nil && r.Capture.End != nil {
		p.Span = fmt.Sprintf("%s → %s (%s)", r.Capture.Start.Format("2006-01-02 15:04:05.000"),
			r.Capture.End.Format("15:04:05.000 MST"), Dur(r.Capture.End.Sub(*r.Capture.Start)))
	}
	p.Verdict = verdict(r)
	p.Cards = []card{
		{"packets", thousands(int(r.Capture.Packets)), ""},
		{"connections", thousands(r.Summary.Connections), ""},
	}
	for _, k := range kindsWorstFirst(r) {
		n := r.Summary.Findings[k.String()]
		p.Cards = append(p.Cards, card{k.String(), thousands(n), kindSeverity(r, k).String()})
	}
	for _, s := range chartStates {
		p.Legend = append(p.Legend, legendItem{s, stateColors[s]})
	}
	p.Charts = []chart{
		newChart("Client endpoints", r.StatesOverTime, r.StatesOverTime.Clients),
		newChart("Server endpoints", r.StatesOverTime, r.StatesOverTime.Servers),
	}
	p.Svcs, p.OtherSv = serviceRows(r.Services), r.OtherServices
	var shown, left [fsm.NumKinds]int
	for i := range r.Groups {
		g := &r.Groups[i]
		if shown[g.Kind] == htmlGroupsPerKind {
			left[g.Kind]++
			continue
		}
		shown[g.Kind]++
		p.Groups = append(p.Groups, newGroupView(g))
	}
	for k, n := range left {
		if n > 0 {
			p.GroupsLeft = append(p.GroupsLeft, kv{fsm.Kind(k).String(), thousands(n)})
		}
	}
	p.Pinned, p.Ladders, p.LaddersLeft = ladderViews(r, opt.LaddersPerKind)
	drawn := map[uint64]bool{}
	for _, l := range append(slices.Clone(p.Pinned), p.Ladders...) {
		drawn[l.C.ID] = true
	}
	p.Conns, p.ConnsLeft = connRows(r, opt.Connections, drawn)
	for _, k := range sortedKeys(r.Capture.Skipped) {
		p.Skipped = append(p.Skipped, kv{k, thousands(int(r.Capture.Skipped[k]))})
	}
	for _, k := range sortedKeys(r.Capture.Tunneled) {
		p.Tunneled = append(p.Tunneled, kv{k, thousands(int(r.Capture.Tunneled[k]))})
	}
	for _, l := range r.Capture.LinkTypes {
		p.Links = append(p.Links, kv{fmt.Sprintf("%s (%d)", l.Name, l.Type), thousands(int(l.Packets))})
	}
	p.Packets, p.TCPPackets = thousands(int(r.Capture.Packets)), thousands(int(r.Capture.TCPPackets))
	p.Evicted = thousands(int(r.Capture.EvictedConnections))
	p.Settings = fmt.Sprintf("--msl %gs --fin-timeout %gs --close-wait-min %gs", r.Settings.MSLSeconds,
		r.Settings.FinTimeoutSeconds, r.Settings.CloseWaitMinSeconds)
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// kindSeverity is the worst severity among the groups of kind k.
func kindSeverity(r *Report, k fsm.Kind) fsm.Severity {
	s := fsm.Info
	for _, g := range r.Groups {
		if g.Kind == k {
			s = max(s, g.Severity)
		}
	}
	return s
}

// kindsWorstFirst lists the kinds that occurred, worst severity first, then
// by count.
func kindsWorstFirst(r *Report) []fsm.Kind {
	var ks []fsm.Kind
	for k := range fsm.NumKinds {
		if r.Summary.Findings[fsm.Kind(k).String()] > 0 {
			ks = append(ks, fsm.Kind(k))
		}
	}
	slices.SortStableFunc(ks, func(a, b fsm.Kind) int {
		return cmp.Or(cmp.Compare(kindSeverity(r, b), kindSeverity(r, a)),
			cmp.Compare(r.Summary.Findings[b.String()], r.Summary.Findings[a.String()]))
	})
	return ks
}

// verdict is the one sentence at the top: a CLOSE_WAIT leak first, else the
// worst group's headline.
func verdict(r *Report) string {
	for _, g := range r.Groups {
		if g.Kind == fsm.KindCloseWait {
			n, oldest := 0, time.Duration(0)
			for _, h := range r.Groups {
				if h.Kind == fsm.KindCloseWait && h.Endpoint == g.Endpoint {
					n += h.Count
					oldest = max(oldest, time.Duration(h.LongestSeconds*float64(time.Second)))
				}
			}
			return fmt.Sprintf("%s is leaking sockets: %s stuck in CLOSE_WAIT, oldest %s.", g.Endpoint, nplural(n, "connection"), Dur(oldest))
		}
	}
	if len(r.Groups) > 0 {
		return r.Groups[0].Headline + "."
	}
	if r.Summary.Connections == 0 {
		return "No TCP connection in the capture."
	}
	return "No findings: every connection opened and closed cleanly."
}

// nplural is plural with thousands separators.
func nplural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return thousands(n) + " " + word + "s"
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Chart geometry, in SVG user units.
const (
	chartW, chartH       = 900.0, 220.0
	chartLeft, chartBot  = 48.0, 26.0
	chartTop, chartRight = 10.0, 10.0
)

type chart struct {
	Title  string
	Empty  bool
	Bands  []band
	YTicks []tick
	XTicks []tick
	W, H   float64
	// Peak is the most endpoints in a non-closed state in any bucket.
	Peak string
}

type band struct {
	State  fsm.State
	Color  string
	Points string
	// Max is the band's largest value, written in its <title>.
	Max string
}

type tick struct {
	Pos   float64
	Label string
}

func newChart(title string, st StatesOverTime, series []map[fsm.State]float64) chart {
	c := chart{Title: title, W: chartW, H: chartH}
	n := len(series)
	peak := 0.0
	for _, m := range series {
		t := 0.0
		for _, s := range chartStates {
			t += m[s]
		}
		peak = max(peak, t)
	}
	if n == 0 || peak == 0 {
		c.Empty = true
		return c
	}
	c.Peak = fmt.Sprintf("%.1f", peak)
	yMax := niceCeil(peak)
	plotW, plotH := chartW-chartLeft-chartRight, chartH-chartTop-chartBot
	x := func(i int) float64 { return chartLeft + plotW*float64(i)/float64(n) }
	y := func(v float64) float64 { return chartTop + plotH*(1-v/yMax) }
	lower := make([]float64, n)
	for _, s := range chartStates {
		upper := make([]float64, n)
		top := 0.0
		for i, m := range series {
			upper[i] = lower[i] + m[s]
			top = max(top, m[s])
		}
		if top == 0 {
			continue
		}
		var pts []string
		for i := range n { // upper edge, left to right, as steps per bucket
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(i), y(upper[i]), x(i+1), y(upper[i])))
		}
		for i := n - 1; i >= 0; i-- { // lower edge back
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(i+1), y(lower[i]), x(i), y(lower[i])))
		}
		c.Bands = append(c.Bands, band{State: s, Color: stateColors[s], Points: strings.Join(pts, " "), Max: fmt.Sprintf("%.1f", top)})
		lower = upper
	}
	step := niceCeil(yMax / 5)
	if yMax <= 5 {
		step = 1
	}
	for v := 0.0; v <= yMax+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{y(v), trimFloat(v)})
	}
	span := time.Duration(n) * st.Step
	tstep := niceDuration(span / 6)
	first := st.Start.Truncate(tstep)
	if first.Before(st.Start) {
		first = first.Add(tstep)
	}
	for t := first; !t.After(st.Start.Add(span)); t = t.Add(tstep) {
		pos := chartLeft + plotW*float64(t.Sub(st.Start))/float64(span)
		c.XTicks = append(c.XTicks, tick{pos, timeLabel(t, tstep)})
	}
	return c
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// niceCeil rounds v up to 1, 2 or 5 × 10^k.
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// niceDuration rounds d up to a readable tick step.
func niceDuration(d time.Duration) time.Duration {
	steps := []time.Duration{time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
		20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour}
	for _, s := range steps {
		if s >= d {
			return s
		}
	}
	return d.Round(24 * time.Hour)
}

func timeLabel(t time.Time, step time.Duration) string {
	switch {
	case step < time.Second:
		return t.Format("15:04:05.000")
	case step < time.Minute:
		return t.Format("15:04:05")
	case step < 24*time.Hour:
		return t.Format("15:04")
	}
	return t.Format("Jan 2")
}

type svcRow struct {
	Endpoint    string
	Connections string
	Segments    []segment
	Findings    string
}

// segment is one part of an inline bar: a state, its count and its width.
type segment struct {
	State fsm.State
	Count string
	Color string
	Pct   string
}

func serviceRows(svcs []Service) []svcRow {
	var rows []svcRow
	for _, s := range svcs {
		row := svcRow{Endpoint: s.Endpoint, Connections: thousands(s.Connections)}
		for _, st := range append([]fsm.State{fsm.Closed}, chartStates...) {
			n := s.ServerStates[st]
			if n == 0 {
				continue
			}
			col := stateColors[st]
			if st == fsm.Closed {
				col = "#8cd17d"
			}
			row.Segments = append(row.Segments, segment{st, thousands(n), col, fmt.Sprintf("%.2f", 100*float64(n)/float64(s.Connections))})
		}
		if n := s.ServerStates[fsm.Unknown]; n > 0 {
			row.Segments = append(row.Segments, segment{fsm.Unknown, thousands(n), "#d4d4d4", fmt.Sprintf("%.2f", 100*float64(n)/float64(s.Connections))})
		}
		var fs []string
		for k := range fsm.NumKinds {
			if n := s.Findings[fsm.Kind(k)]; n > 0 {
				fs = append(fs, fmt.Sprintf("%s %s", fsm.Kind(k), thousands(n)))
			}
		}
		row.Findings = strings.Join(fs, ", ")
		rows = append(rows, row)
	}
	return rows
}

type groupView struct {
	G           *Group
	ID          string
	Conns       []uint64
	More        int
	Since       string
	Frames      string
	AddrFilter  string
	FrameFilter string
}

func newGroupView(g *Group) groupView {
	v := groupView{G: g, ID: fmt.Sprintf("g-%s-%s", g.Kind, strings.NewReplacer(".", "-", ":", "-", "[", "", "]", "").Replace(g.Endpoint)),
		Conns: g.Connections, More: g.Count - len(g.Connections), Since: g.Oldest.Format("2006-01-02 15:04:05.000000")}
	fr := make([]string, len(g.Frames))
	for i, f := range g.Frames {
		fr[i] = fmt.Sprint(f)
	}
	v.Frames = strings.Join(fr, ", ")
	if len(fr) > 0 {
		v.FrameFilter = "frame.number in {" + strings.Join(fr, " ") + "}"
	}
	v.AddrFilter = wiresharkFilter(g.Endpoint)
	return v
}

// wiresharkFilter is a display filter for an endpoint: "ip.addr==A &&
// tcp.port==P", ipv6.addr for IPv6, and no port for a client's address.
func wiresharkFilter(ep string) string {
	if ap, err := netip.ParseAddrPort(ep); err == nil {
		return fmt.Sprintf("%s==%s && tcp.port==%d", ipField(ap.Addr()), ap.Addr(), ap.Port())
	}
	if a, err := netip.ParseAddr(ep); err == nil {
		return fmt.Sprintf("%s==%s && tcp", ipField(a), a)
	}
	return ""
}

func ipField(a netip.Addr) string {
	if a.Is4() {
		return "ip.addr"
	}
	return "ipv6.addr"
}

// Ladder geometry.
const (
	ladderW          = 760.0
	ladderClientX    = 190.0
	ladderServerX    = 570.0
	ladderStep       = 30.0
	ladderTop        = 40.0
	ladderArrowInset = 4.0
)

type ladderView struct {
	C      *Connection
	ID     string
	Kinds  string
	H      float64
	W      float64
	CX, SX float64
	Rows   []ladderRow
	Client string
	Server string
	// Open: drawn unfolded (flagged or asked for); the connection list's
	// ladders start folded.
	Open bool
}

type ladderRow struct {
	Y, TextY     float64
	X1, X2       float64
	LabelX       float64
	Time, Label  string
	Frame        uint64
	Class        string
	Tag          string
	ClientState  string
	ServerState  string
	Collapsed    string
	LeftAnchorX  float64
	RightAnchorX float64
	// Timer is set on a row that is no segment: a state change driven by
	// a timer (2×MSL, FIN_WAIT_2 timeout, giving up a SYN), at its time.
	Timer string
	// Gap, when set, labels the idle time before this row, at GapY.
	Gap  string
	GapY float64
}

// ladderViews draws the flagged connections, at most perKind per finding
// kind (each connection counted under its worst finding's kind), and the
// ones asked for (--conn), all of them.
func ladderViews(r *Report, perKind int) (pinned, flagged []ladderView, left int) {
	var used [fsm.NumKinds]int
	for i := range r.Connections {
		c := &r.Connections[i]
		if c.pinned {
			pinned = append(pinned, newLadder(c, true))
			continue
		}
		if perKind < 0 || !interesting(c.conn) {
			continue
		}
		k := worstKind(c.conn)
		if used[k] >= perKind {
			left++
			continue
		}
		used[k]++
		flagged = append(flagged, newLadder(c, true))
	}
	return pinned, flagged, left
}

func worstKind(c *fsm.Conn) fsm.Kind {
	best := c.Findings[0]
	for _, f := range c.Findings[1:] {
		if f.Severity > best.Severity {
			best = f
		}
	}
	return best.Kind
}

// connRow is one line of the connection list, with its ladder folded
// inside, or a link to the ladder drawn above.
type connRow struct {
	C      *Connection
	Kinds  string
	Ladder *ladderView
}

// connRows lists the first n connections (by ID), the page's index of
// connections to open. A connection already drawn above links there.
func connRows(r *Report, n int, drawn map[uint64]bool) (rows []connRow, left int) {
	if n < 0 {
		return nil, 0
	}
	for i := range r.Connections {
		c := &r.Connections[i]
		if len(rows) == n {
			left = len(r.Connections) - i
			break
		}
		row := connRow{C: c, Kinds: strings.Join(c.FindingKinds, ", ")}
		if !drawn[c.ID] {
			l := newLadder(c, false)
			row.Ladder = &l
		}
		rows = append(rows, row)
	}
	return rows, left
}

// ladderGap is the extra room before a step that came dt after the one
// above it: the vertical axis is time, compressed logarithmically (a
// millisecond adds a tenth of a step, a second a whole step, a minute or
// more a step and a half), so that a handshake stays readable and an idle
// minute still looks long. Gaps of a second or more are also labelled.
func ladderGap(dt time.Duration) float64 {
	if dt <= 0 {
		return 0
	}
	ms := float64(dt) / float64(time.Millisecond)
	return math.Round(10*ladderStep*min(1.5, math.Log10(1+ms)/3)) / 10
}

// ladderEvent is a drawn row in time order: a ladder step or a timer.
type ladderEvent struct {
	t     reassembly.Stamp
	step  *fsm.Step
	timer string
	dir   int // the endpoint whose timer fired (0 client, 1 server)
	state fsm.State
}

func newLadder(c *Connection, open bool) ladderView {
	cn := c.conn
	v := ladderView{C: c, ID: fmt.Sprintf("conn-%d", c.ID), Kinds: strings.Join(c.FindingKinds, ", "), W: ladderW,
		CX: ladderClientX, SX: ladderServerX, Client: c.Client, Server: c.Server, Open: open}
	// The ladder keeps every segment that matters (SYN, FIN, RST, state
	// changes, the last data of each side); the others are data and ACKs,
	// counted exactly and shown as one collapsed row where the frame gap
	// between two drawn steps is widest (the data phase).
	hidden := int(cn.Packets[0]+cn.Packets[1]) - len(cn.Ladder) - cn.LadderOmitted
	gapAt := -1
	if hidden > 0 {
		widest := uint64(0)
		for i := 0; i+1 < len(cn.Ladder); i++ {
			if g := cn.Ladder[i+1].Frame - cn.Ladder[i].Frame; g > widest {
				widest, gapAt = g, i
			}
		}
		if gapAt < 0 {
			gapAt = len(cn.Ladder) - 1
		}
	}
	// Timer-driven changes (frame 0) are no segments: they are drawn at
	// their time, between the steps around them.
	var timers []ladderEvent
	for d, ep := range []*fsm.Endpoint{&cn.Client, &cn.Server} {
		for _, ch := range ep.Timeline {
			if ch.Frame == 0 {
				timers = append(timers, ladderEvent{t: ch.Time, timer: ch.On.String(), dir: d, state: ch.To})
			}
		}
	}
	slices.SortStableFunc(timers, func(a, b ladderEvent) int { return cmp.Compare(a.t, b.t) })
	var events []ladderEvent
	for i := range cn.Ladder {
		st := &cn.Ladder[i]
		for len(timers) > 0 && timers[0].t.Before(st.Time) {
			events = append(events, timers[0])
			timers = timers[1:]
		}
		events = append(events, ladderEvent{t: st.Time, step: st})
		if i == gapAt {
			events = append(events, ladderEvent{t: st.Time, timer: "collapsed"})
		}
	}
	events = append(events, timers...)

	y := ladderTop
	first := reassembly.StampOf(cn.First)
	prev := first
	for _, e := range events {
		dt := e.t.Sub(prev)
		row := ladderRow{}
		y += ladderStep + ladderGap(dt)
		if dt >= time.Second {
			row.Gap, row.GapY = "⋮ "+Dur(dt)+" later", y-ladderStep/2-ladderGap(dt)/2+4
		}
		prev = e.t
		switch {
		case e.step != nil:
			row = stepRow(cn, e.step, y, row)
		case e.timer == "collapsed":
			row.Y, row.TextY = y, y+4
			row.Collapsed = fmt.Sprintf("… %s (data and ACKs) not drawn …", nplural(hidden, "segment"))
		default:
			row.Y, row.TextY = y, y+4
			row.Time = "+" + relTime(e.t.Sub(first)) + " s"
			row.LabelX = (ladderClientX + ladderServerX) / 2
			row.LeftAnchorX, row.RightAnchorX = ladderClientX-8, ladderServerX+8
			who := "client"
			if e.dir == 0 {
				row.ClientState = e.state.String()
				row.X1 = ladderClientX
			} else {
				who = "server"
				row.ServerState = e.state.String()
				row.X1 = ladderServerX
			}
			row.Timer = fmt.Sprintf("%s timer: %s, no packet", who, e.timer)
		}
		v.Rows = append(v.Rows, row)
	}
	if cn.LadderOmitted > 0 {
		y += ladderStep
		v.Rows = append(v.Rows, ladderRow{Y: y, TextY: y + 4, Collapsed: fmt.Sprintf("… %s more not drawn …", nplural(cn.LadderOmitted, "step"))})
	}
	v.H = y + ladderStep
	return v
}

// stepRow draws one segment at height y.
func stepRow(cn *fsm.Conn, st *fsm.Step, y float64, row ladderRow) ladderRow {
	row.Y, row.TextY, row.Frame = y, y-6, st.Frame
	row.Time = "+" + relTime(st.Time.Sub(reassembly.StampOf(cn.First))) + " s"
	row.X1, row.X2 = ladderClientX+ladderArrowInset, ladderServerX-ladderArrowInset
	if st.Dir == reassembly.ServerToClient {
		row.X1, row.X2 = ladderServerX-ladderArrowInset, ladderClientX+ladderArrowInset
	}
	row.LabelX = (ladderClientX + ladderServerX) / 2
	label := st.Flags.String()
	if st.Flags&(reassembly.ACK) != 0 {
		label += fmt.Sprintf(" seq %d ack %d", st.Seq, st.Ack)
	} else {
		label += fmt.Sprintf(" seq %d", st.Seq)
	}
	if st.Len > 0 {
		label += fmt.Sprintf(" len %d", st.Len)
	}
	row.Label = label
	row.Class = "seg"
	switch {
	case st.Flags&reassembly.RST != 0:
		row.Class, row.Tag = "seg rst", "RST"
	case st.Kind&reassembly.Duplicate != 0:
		row.Class, row.Tag = "seg dup", "duplicate"
	case st.Kind&reassembly.Retransmission != 0:
		row.Class, row.Tag = "seg rtx", "retransmission"
	case st.Stale:
		row.Class, row.Tag = "seg rtx", "old connection"
	}
	if st.ClientChanged {
		row.ClientState = st.Client.String()
	}
	if st.ServerChanged {
		row.ServerState = st.Server.String()
	}
	row.LeftAnchorX, row.RightAnchorX = ladderClientX-8, ladderServerX+8
	return row
}
