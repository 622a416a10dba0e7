package main

import (
	"context"
	"io"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/tcpstate/tcpstate/cmd/internal/cli"
	"github.com/tcpstate/tcpstate/report"
)

// viewOptions are the flags of live capture and of the live view. Both
// builds accept them; without the pcap build the capture flags explain
// how to get it.
type viewOptions struct {
	interval    time.Duration
	intervalSet bool // --interval given: a stream gets the view even off a terminal
	count       int
	snaplen     int
	noPromisc   bool
	write       string
	duration    time.Duration
	durationSet bool // --duration given (0 is then refused, not "no limit")
}

// defaultSnaplen keeps the headers of a packet and no payload: Ethernet or
// SLL2 (20), IPv6 with a few extension headers or IPv4 with options (60)
// and TCP with options (60) fit in 128 bytes. Captures stay small and
// carry nothing private.
const defaultSnaplen = 128

// addLiveFlags registers the live capture and live view flags.
func addLiveFlags(fs *pflag.FlagSet, o *options) {
	v := &o.view
	v.interval = defaultInterval
	fs.Var(durationFlag{&v.interval, &v.intervalSet}, "interval", "refresh the live view every `duration` (live capture, and a stream on stdin)")
	fs.Var(durationFlag{&v.duration, &v.durationSet}, "duration", "live capture: stop after `duration` (e.g. 10m; default: until Ctrl-C)")
	fs.IntVarP(&v.count, "count", "c", 0, "live capture: stop after `N` packets")
	fs.IntVarP(&v.snaplen, "snaplen", "s", defaultSnaplen, "live capture: keep at most `N` bytes of each packet (headers only by default)")
	fs.BoolVarP(&v.noPromisc, "no-promiscuous-mode", "p", false, "live capture: do not put the interface into promiscuous mode")
	fs.StringVarP(&v.write, "write", "w", "", "live capture: also write the captured packets to `file` (pcap)")
}

// durationFlag is a duration flag that records whether it was given.
type durationFlag struct {
	d   *time.Duration
	set *bool
}

func (f durationFlag) String() string { return f.d.String() }
func (f durationFlag) Type() string   { return "duration" }
func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*f.d, *f.set = d, true
	return nil
}

// read analyses the inputs: a live interface (-i) or capture files.
func (an analysis) read(ctx context.Context, o *options, files []string, stdin io.Reader, stderr io.Writer) (*report.Report, error) {
	if o.view.interval <= 0 {
		return nil, usagef("--interval must be positive")
	}
	if o.iface != "" {
		return an.live(ctx, o, stderr)
	}
	an.filter = o.filter
	if readsStdin(files) && wantView(o, false, stderr) {
		an.view = &viewSettings{w: stderr, tty: cli.IsTerminal(stderr), every: o.view.interval, read: new(atomic.Int64)}
		an.progress = nil // the view replaces the progress bar
	}
	return an.analyze(ctx, files, stdin)
}

// viewSettings say where and how often to draw the live view.
type viewSettings struct {
	w     io.Writer
	tty   bool
	every time.Duration
	wall  bool // by the wall clock (live capture), else by capture time
	// read, when set, counts the bytes read from stdin (a stream).
	read *atomic.Int64
}

// newView starts the live view for a pipeline of the given workers.
func (s *viewSettings) newView(workers int) *liveView {
	if s == nil {
		return nil
	}
	v := newLiveView(s.w, s.tty, s.wall, s.every, workers)
	v.read = s.read
	return v
}
