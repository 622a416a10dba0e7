package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tcpstate/tcpstate/cmd/internal/cli"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/capture"
	"github.com/tcpstate/tcpstate/report"
)

// version is the tool's version, printed by --version and in reports.
const version = "0.1.0"

// errFindings means a --fail-on rule was broken (exit status 1).
var errFindings = errors.New("findings at or above the --fail-on threshold")

// errUsage marks command-line mistakes.
var errUsage = errors.New("usage")

// usageError is a command-line mistake; its message is printed with a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string   { return e.msg + " (see tcpstate -h)" }
func (e *usageError) Is(t error) bool { return t == errUsage }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

type options struct {
	reads        []string
	iface        string
	filter       string
	format       string
	output       string
	msl          time.Duration
	finTimeout   time.Duration
	closeWaitMin time.Duration
	verifySums   bool
	quiet        bool
	version      bool
	jobs         int
	listConns    int
	listFindings int
	maxTracked   int
	progress     string
	allConns     string
	cpuProfile   string
	memProfile   string
	htmlLadders  int
	htmlConns    int
	conns        []string
	at           []string
	timeline     string
	gate         gateFlags   // --fail-on, --max, --ignore, --baseline, --junit, --annotations
	view         viewOptions // live capture and the live view (live.go)
	args         []string    // the command line, for the HTML report's facts
}

func newFlags(stderr io.Writer) (*pflag.FlagSet, *options) {
	o := &options{}
	fs := pflag.NewFlagSet("tcpstate", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	def := fsm.DefaultConfig()
	fs.StringArrayVarP(&o.reads, "read", "r", nil, "read packets from `file` (pcap, pcapng, gzip; - for stdin); repeatable")
	fs.StringVarP(&o.iface, "interface", "i", "", "capture live on `iface` (needs the pcap build)")
	fs.StringVarP(&o.filter, "filter", "F", "", "BPF filter `expr` (needs the pcap build); with -i, the arguments are the filter too")
	addLiveFlags(fs, o)
	fs.StringVarP(&o.format, "format", "f", "", "output `format`: text, json or html (default: from -o's extension, else text)")
	fs.StringVarP(&o.output, "output", "o", "", "write the report to `file` instead of stdout")
	fs.DurationVar(&o.msl, "msl", def.MSL, "maximum segment lifetime; TIME_WAIT lasts 2×MSL")
	fs.DurationVar(&o.finTimeout, "fin-timeout", def.FinTimeout, "idle FIN_WAIT_2 presumed dropped after this (Linux tcp_fin_timeout)")
	fs.DurationVar(&o.closeWaitMin, "close-wait-min", def.CloseWaitMin, "a half-closed endpoint still sending is a leak once idle this long in CLOSE_WAIT")
	fs.BoolVar(&o.verifySums, "verify-checksums", false, "skip packets whose IPv4 or TCP checksum fails, as the receiving kernel drops them (not for captures taken on the sending host: its checksums are filled in later, by the network card)")
	fs.IntVarP(&o.jobs, "jobs", "j", runtime.NumCPU(), "analyse on `N` cores (connections sharded by four-tuple; same report for any N)")
	fs.IntVar(&o.listConns, "list-connections", report.DefaultLimits().Connections, "list at most `N` connections in full, then as many notable ones (counts stay exact; -1: all)")
	fs.IntVar(&o.listFindings, "list-findings", report.DefaultLimits().FindingsPerKind, "list at most `N` findings of each kind (counts stay exact; -1: all)")
	fs.IntVar(&o.htmlLadders, "html-ladders", report.DefaultLaddersPerKind, "HTML: draw at most `N` flagged connections per finding kind (-1: none)")
	fs.IntVar(&o.htmlConns, "html-connections", report.DefaultHTMLConnections, "HTML: list at most `N` connections, each with its ladder to open (-1: none)")
	fs.StringArrayVar(&o.conns, "conn", nil, "always list and draw the connections matching `spec`: an ID (first frame), ip:port, [ipv6]:port or an address; repeatable")
	fs.StringArrayVar(&o.at, "at", nil, "also show every endpoint's state at `time` (as ss -tan would have): RFC 3339, HH:MM:SS (UTC) on the capture's date, or +90s from its start; repeatable")
	fs.StringVar(&o.timeline, "timeline", "", "also count the endpoints in each state every `step` (e.g. 1s, 1m)")
	fs.IntVar(&o.maxTracked, "max-conns", defaultMaxConns, "track at most `N` connections at once; beyond, the least recently active one is evicted early (bounds memory under floods; 0: no limit)")
	// The names of the first release, before --max-conns came.
	fs.IntVar(&o.listConns, "max-connections", report.DefaultLimits().Connections, "")
	fs.IntVar(&o.listFindings, "max-findings", report.DefaultLimits().FindingsPerKind, "")
	_ = fs.MarkDeprecated("max-connections", "use --list-connections (--max-conns bounds the connections tracked)")
	_ = fs.MarkDeprecated("max-findings", "use --list-findings")
	fs.StringVar(&o.allConns, "all-connections", "", "also write every connection to `file`, one JSON object per line (JSON Lines), as they finish")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar (files) or live view (stdin) on stderr; `mode` is auto (when a terminal), always or never")
	o.gate.register(fs)
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no warnings or progress on stderr; text report without ladder diagrams")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to `file` (for developers)")
	_ = fs.MarkHidden("cpuprofile")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile to `file` after the analysis (for developers)")
	_ = fs.MarkHidden("memprofile")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tcpstate [flags] FILE...\n\n"+
			"Replays every TCP connection in packet captures for both endpoints (RFC 9293)\n"+
			"and reports CLOSE_WAIT leaks, TIME_WAIT, half-open handshakes, resets, with frames.\n\n"+
			"Examples:\n  tcpstate capture.pcap\n  tcpstate -f json -o report.json a.pcap b.pcap.gz\n"+
			"  tcpdump -i any -w - -U | tcpstate -r -\n  tcpstate -i eth0 port 8080          (pcap build)\n\nFlags:\n%s\n"+
			"Exit status: 0 analysed (no rule broken), 1 a --fail-on or --max rule broken,\n"+
			"2 usage error or unusable input.\n", fs.FlagUsages())
	}
	return fs, o
}

// run is the whole command, testable in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, o := newFlags(stderr)
	o.args = args
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &usageError{cli.FlagError(err)}
	}
	if o.version {
		_, err := fmt.Fprintf(stdout, "tcpstate %s\n", version)
		return err
	}
	files := append(append([]string{}, o.reads...), fs.Args()...)
	files, err := checkLive(o, files) // live_pcap.go, live_nopcap.go
	if err != nil {
		return err
	}
	if err := o.gate.prepare(o, files); err != nil {
		return err
	}
	if len(files) == 0 && o.iface == "" {
		return usagef("no capture given: name a file, or - for stdin")
	}
	format, err := chooseFormat(o.format, o.output)
	if err != nil {
		return err
	}
	if o.msl <= 0 || o.finTimeout <= 0 || o.closeWaitMin < 0 {
		return usagef("--msl and --fin-timeout must be positive, --close-wait-min not negative")
	}
	if err := checkOutput(o.output, files); err != nil {
		return err
	}
	if err := checkOutput(o.allConns, files); err != nil {
		return err
	}
	if o.allConns == "-" {
		return usagef("--all-connections needs a file name")
	}
	if o.allConns != "" && (format == "zeek" || format == "csv") {
		return usagef("--all-connections goes with text, json or html; -f %s already lists every connection", format)
	}
	cfg := fsm.Config{MSL: o.msl, FinTimeout: o.finTimeout, CloseWaitMin: o.closeWaitMin}

	if o.jobs < 1 {
		return usagef("--jobs must be at least 1")
	}
	if o.listConns == 0 || o.listConns < -1 || o.listFindings == 0 || o.listFindings < -1 {
		return usagef("--list-connections and --list-findings must be positive, or -1 for no limit")
	}
	if o.htmlLadders == 0 || o.htmlLadders < -1 {
		return usagef("--html-ladders must be positive, or -1 for none")
	}
	if o.htmlConns == 0 || o.htmlConns < -1 {
		return usagef("--html-connections must be positive, or -1 for none")
	}
	pins, err := parseConnSpecs(o.conns)
	if err != nil {
		return err
	}
	ats, err := parseAt(o.at)
	if err != nil {
		return err
	}
	step, err := parseStep(o.timeline)
	if err != nil {
		return err
	}
	if o.maxTracked < 0 {
		return usagef("--max-conns must be positive, or 0 for no limit")
	}
	switch o.progress {
	case "auto", "always", "never":
	default:
		return usagef("--progress must be auto, always or never, not %q", o.progress)
	}
	setGCWorkers(o.jobs) // gctune.go
	an := analysis{cfg: cfg, lim: report.Limits{Connections: o.listConns, FindingsPerKind: o.listFindings}, jobs: o.jobs, maxConns: o.maxTracked,
		allConns: o.allConns, verifySums: o.verifySums, shardSalt: testShardSalt}
	if pins != nil {
		an.lim.Pin = pins.match
	}
	if len(ats) > 0 || step > 0 {
		an.moments = &moments{at: ats, step: step}
	}
	if format == "zeek" || format == "csv" {
		lg, err := openLog(format, o.output, stdout)
		if err != nil {
			return err
		}
		defer lg.abort()
		an.log = lg
	}
	an.lim.Ignore = o.gate.ignoreFunc()
	if !o.quiet && wantProgress(o.progress, stderr) {
		an.progress = stderr
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("cannot write %s: %v", o.cpuProfile, cli.PathCause(err))
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := an.read(ctx, o, files, stdin, stderr) // live.go: -i, else files
	if err != nil {
		return err
	}
	if an.log != nil {
		if err := an.log.commit(); err != nil {
			return err
		}
	}
	if o.memProfile != "" {
		if f, err := os.Create(o.memProfile); err == nil {
			runtime.GC()
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if !o.quiet {
		for _, w := range rep.Capture.Warnings {
			fmt.Fprintf(stderr, "tcpstate: warning: %s\n", w)
		}
		if pins != nil {
			for _, s := range pins.unmatched() {
				fmt.Fprintf(stderr, "tcpstate: warning: --conn %s matched no connection\n", s)
			}
		}
	}
	return writeGated(o, format, rep, stdout, stderr)
}

// analysis is one run over captures.
type analysis struct {
	cfg  fsm.Config
	lim  report.Limits
	jobs int
	// maxConns bounds the connections tracked at once (0: no bound).
	maxConns int
	// verifySums skips segments whose checksums fail (--verify-checksums).
	verifySums bool
	// sweepEvery overrides the pipeline's sweep interval (tests).
	sweepEvery time.Duration
	// progress, when set, receives the progress bar.
	progress io.Writer
	// allConns, when set, is the JSON Lines file for every connection.
	allConns string
	// moments, when set, asks for --at snapshots and a --timeline.
	moments *moments
	// log, when set, is the per-connection log written as the analysis
	// goes (-f zeek, -f csv).
	log *connLog
	// view, when set, draws the live view (stdin streams, live capture).
	view *viewSettings
	// filter is a BPF filter for the files (-F, pcap build).
	filter string
	// fullDetail replays every connection in full, even those the
	// report can no longer list (tests: the bytes must not change).
	fullDetail bool
	// shardSalt changes how connections are split over workers (tests).
	shardSalt uint64
}

// testShardSalt is the shardSalt of the command's analyses (tests: the
// outputs must not depend on the split; always 0 otherwise).
var testShardSalt uint64

// analyze reads the captures to the end (or until ctx is cancelled) and
// builds the report.
func (an analysis) analyze(ctx context.Context, files []string, stdin io.Reader) (*report.Report, error) {
	inputs := make([]capture.Input, 0, len(files))
	stdinUsed := false
	var total int64 // bytes to read, 0 if unknown
	for _, name := range files {
		if name == "-" {
			if stdinUsed {
				return nil, usagef("stdin (-) given more than once")
			}
			stdinUsed = true
			r := stdin
			if an.view != nil && an.view.read != nil {
				r = &countingReader{r: r, n: an.view.read} // the view shows it
			}
			inputs = append(inputs, capture.Input{Name: "-", R: r})
			total = -1
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, openError(err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory, not a capture", name)
		}
		inputs = append(inputs, capture.Input{Name: name, R: f})
		if n := plainSize(f); n > 0 && total >= 0 {
			total += n
		} else {
			total = -1
		}
	}
	p := an.newPipeline()
	if an.progress != nil && p.view == nil {
		bar := newProgress(an.progress, max(total, 0))
		for i := range inputs {
			inputs[i].R = bar.reader(inputs[i].R)
		}
		p.progress, p.readDone = bar.setPackets, bar.readDone
		bar.run()
		defer bar.finish()
	}
	src, err := capture.NewSource(inputs)
	if err == nil {
		defer src.Close()
		if an.verifySums {
			src.VerifyChecksums()
		}
	}
	if err == nil && an.filter != "" {
		var done func()
		done, err = setFilter(src, an.filter) // bpf_pcap.go
		if err == nil {
			defer done()
		}
	}
	if err != nil {
		p.view.finish()
		return nil, err
	}
	return an.analyzeSource(ctx, p, src)
}

// newPipeline returns the pipeline of this analysis, with its live view
// started when there is one.
func (an analysis) newPipeline() *pipeline {
	p := &pipeline{cfg: an.cfg, lim: an.lim, jobs: an.jobs, sweepEvery: an.sweepEvery, maxConns: an.maxConns, moments: an.moments,
		fullDetail: an.fullDetail, shardSalt: an.shardSalt}
	p.view = an.view.newView(max(an.jobs, 1))
	return p
}

// analyzeSource runs p over src (capture files, or a live capture) to its
// end or until ctx is cancelled, and builds the report.
func (an analysis) analyzeSource(ctx context.Context, p *pipeline, src segmentSource) (*report.Report, error) {
	var err error
	var stream *atomicFile
	if an.allConns != "" {
		stream, err = createAtomic(an.allConns)
		if err != nil {
			p.view.finish()
			return nil, err
		}
		defer stream.abort()
		p.stream = newConnStream(stream.f, max(an.jobs, 1), jsonLine, nil, nil)
	}
	if an.log != nil {
		p.stream = an.log.stream(p, max(an.jobs, 1))
	}
	b, rs, err := p.run(ctx, src)
	p.view.finish()
	if p.stream != nil {
		if werr := p.stream.wait(); err == nil && werr != nil {
			name := an.allConns
			if an.log != nil {
				name = an.log.name
			}
			err = fmt.Errorf("write %s: %v", name, werr)
		}
	}
	if err != nil {
		return nil, err
	}
	if stream != nil {
		if err := stream.commit(); err != nil {
			return nil, err
		}
	}
	st := src.Stats()
	if st.Packets == 0 && ctx.Err() == nil {
		return nil, noPackets(st)
	}
	st.PeakConnections, st.EvictedConnections = rs.peak, rs.evicted
	if bad := st.Skipped[reassembly.SkipBadChecksum]; an.verifySums && bad > 0 && bad >= st.TCPPackets {
		st.Warnings = append(st.Warnings, fmt.Sprintf("%d of %d TCP packets failed their checksum (--verify-checksums): a capture taken on a host that sends with checksum offload, "+
			"or on loopback or a veth, holds checksums the kernel never filled in; analyse it without --verify-checksums", bad, bad+st.TCPPackets))
	}
	if rs.evicted > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf("%d connections were evicted before they were over, to track at most %d at once (--max-conns): their verdicts are as of eviction, and a later packet of one starts a new connection", rs.evicted, an.maxConns))
	}
	// The workers' connection tables and free lists are garbage now: collect
	// them before the report is rendered, so that the heap the collector
	// grows to follows what the report keeps, not the peak of the stream.
	runtime.GC()
	return b.ReportOn("tcpstate "+version, st, an.cfg, an.jobs), nil // groups on the -j cores
}

// defaultMaxConns bounds the connections tracked at once: about 4.5 KB
// each, so 1,000,000 is about 4.5 GB, which an ordinary machine has. Busy
// servers' captures track far fewer (a connection is released 60 s after
// its last segment); a flood of distinct four-tuples reaches it.
const defaultMaxConns = 1_000_000

// noPackets is the error for captures of which not one packet could be
// read: there is nothing to report on, and an empty report would pass for a
// clean one.
func noPackets(st reassembly.Stats) error {
	if len(st.Warnings) > 0 {
		return errors.New(strings.Join(st.Warnings, "; "))
	}
	return fmt.Errorf("%s: no packets: the capture holds only its file header", strings.Join(st.Files, ", "))
}

// openError turns an os.Open failure into one clear line.
func openError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s: no such file", pe.Path)
		case errors.Is(err, os.ErrPermission):
			return fmt.Errorf("%s: permission denied", pe.Path)
		}
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// chooseFormat picks the output format from -f, else from -o's extension.
func chooseFormat(format, output string) (string, error) {
	if format == "" {
		switch strings.ToLower(filepath.Ext(output)) {
		case ".json":
			format = "json"
		case ".html", ".htm":
			format = "html"
		case ".csv":
			format = "csv"
		default:
			format = "text"
		}
	}
	switch format {
	case "text", "json", "html", "zeek", "csv":
		return format, nil
	}
	return "", usagef("unknown format %q: use text, json, html, zeek or csv", format)
}

// checkOutput refuses an output path that is one of the inputs: nothing the
// user gave may be overwritten.
func checkOutput(output string, inputs []string) error {
	if output == "" || output == "-" {
		return nil
	}
	oi, err := os.Stat(output)
	if err != nil {
		return nil
	}
	for _, in := range inputs {
		if ii, err := os.Stat(in); err == nil && os.SameFile(oi, ii) {
			return usagef("-o %s would overwrite an input capture", output)
		}
	}
	return nil
}

// write renders the report to stdout or, atomically, to -o.
func write(o *options, format string, rep *report.Report, stdout io.Writer) error {
	if format == "zeek" || format == "csv" {
		return nil // written while the analysis ran (connLog)
	}
	render := func(w io.Writer, tty bool) error {
		switch format {
		case "json":
			return report.JSONOn(w, rep, o.jobs) // -j cores encode the long lists
		case "html":
			return report.HTML(w, rep, report.HTMLOptions{LaddersPerKind: o.htmlLadders, Connections: o.htmlConns, Options: "tcpstate " + strings.Join(o.args, " ")})
		}
		return renderText(w, rep, o.quiet, tty)
	}
	if o.output == "" || o.output == "-" {
		return render(stdout, cli.IsTerminal(stdout))
	}
	af, err := createAtomic(o.output)
	if err != nil {
		return err
	}
	defer af.abort()
	if err := render(af.f, false); err != nil {
		return fmt.Errorf("write %s: %v", o.output, err)
	}
	return af.commit()
}

// atomicFile is written under a temporary name beside its final one and
// renamed only when complete, so a failed run leaves nothing half-written.
type atomicFile struct {
	name   string
	f      *os.File
	done   bool
	direct bool // not a regular file: written in place
}

func createAtomic(name string) (*atomicFile, error) {
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		// A device or pipe (/dev/null, /dev/stdout): write to it, never rename over it.
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("cannot write %s: %v", name, cli.PathCause(err))
		}
		return &atomicFile{name: name, f: f, direct: true}, nil
	}
	f, err := os.CreateTemp(filepath.Dir(name), ".tcpstate-*")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %v", name, cli.PathCause(err))
	}
	// CreateTemp makes the file private; a report is made to be shared, as
	// a file created by the shell would be (or keeps the mode it had).
	mode := os.FileMode(0o644)
	if st, err := os.Stat(name); err == nil {
		mode = st.Mode().Perm()
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("cannot write %s: %v", name, cli.PathCause(err))
	}
	return &atomicFile{name: name, f: f}, nil
}

// commit closes the file and gives it its name.
func (a *atomicFile) commit() error {
	a.done = true
	if a.direct {
		if err := a.f.Close(); err != nil {
			return fmt.Errorf("write %s: %v", a.name, err)
		}
		return nil
	}
	if err := a.f.Close(); err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %v", a.name, err)
	}
	if err := os.Rename(a.f.Name(), a.name); err != nil {
		os.Remove(a.f.Name())
		return fmt.Errorf("write %s: %v", a.name, cli.PathCause(err))
	}
	return nil
}

// abort removes the file unless it was committed.
func (a *atomicFile) abort() {
	if !a.done {
		a.f.Close()
		if !a.direct {
			os.Remove(a.f.Name())
		}
	}
}

func renderText(w io.Writer, rep *report.Report, quiet, tty bool) error {
	opt := report.TextOptions{Color: tty}
	if quiet {
		opt.MaxLadders = -1
	}
	return report.Text(w, rep, opt)
}
