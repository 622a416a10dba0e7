// Command tcpstate-gen writes a synthetic capture of TCP connections with
// known outcomes (package reassembly/synth) and, next to it, the truth:
// what tcpstate must report for it.
//
//	tcpstate-gen -conns 1000000 -o big.pcap           # also writes big.pcap.truth.json
//	tcpstate-gen -conns 1000 -mix close-wait=1 -o - | tcpstate -r -
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/tcpstate/tcpstate/cmd/internal/cli"
	"github.com/tcpstate/tcpstate/reassembly/synth"
)

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e *usageError) Error() string   { return e.msg + " (see tcpstate-gen -h)" }
func (e *usageError) Is(t error) bool { return t == errUsage }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
		return
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "tcpstate-gen: %v\n", err)
		os.Exit(2)
	}
	fmt.Fprintf(os.Stderr, "tcpstate-gen: %v\n", err)
	os.Exit(1)
}

type options struct {
	conns, concurrency, snaplen, clients int
	seed                                 int64
	ipv6, rate                           float64
	mix, output, truth, start            string
	quiet                                bool
}

func run(args []string, stdout, stderr io.Writer) error {
	o := &options{}
	fs := pflag.NewFlagSet("tcpstate-gen", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.IntVar(&o.conns, "conns", 1000000, "number of connections (as tcpstate counts them)")
	fs.IntVar(&o.concurrency, "concurrency", synth.DefaultConcurrency, "at most this many connections open at once")
	fs.Float64Var(&o.rate, "rate", synth.DefaultRate, "new connections per second of capture time")
	fs.Int64Var(&o.seed, "seed", 1, "random seed: the same flags give the same bytes")
	fs.Float64Var(&o.ipv6, "ipv6", 0.1, "fraction of connections over IPv6, 0 to 1")
	fs.IntVar(&o.snaplen, "snaplen", synth.DefaultSnaplen, "bytes kept per packet (header-only by default)")
	fs.StringVar(&o.mix, "mix", "default", "pattern `weights`: name=W,...; 'default' loads the default mix, 'all=W' sets every pattern")
	fs.IntVar(&o.clients, "clients", synth.DefaultClientIPs, "client addresses per IP version (raised when needed)")
	fs.StringVar(&o.start, "start", synth.DefaultStart.Format(time.RFC3339), "first timestamp, RFC 3339")
	fs.StringVarP(&o.output, "output", "o", "", "write the pcap to `file` (- for stdout)")
	fs.StringVar(&o.truth, "truth", "", "write the truth JSON to `file` (default: OUTPUT.truth.json; none when -o -)")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "no summary line on stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tcpstate-gen -o FILE [flags]\n\n"+
			"Writes a synthetic pcap of TCP connections whose outcome is known, and the truth:\n"+
			"the summary tcpstate must report (connections, findings, end states).\n\n"+
			"Patterns: %s\n\nFlags:\n%s\n"+
			"Exit status: 0 written, 1 write error, 2 usage error.\n",
			strings.Join(patternNames(), ", "), fs.FlagUsages())
	}
	if err := fs.Parse(longFlags(fs, args)); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return &usageError{cli.FlagError(err)}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	if o.output == "" {
		return usagef("no output given: -o FILE, or -o - for stdout")
	}
	truthFile := o.truth
	if truthFile == "" && o.output != "-" {
		truthFile = o.output + ".truth.json"
	}
	if truthFile == "-" && o.output == "-" {
		return usagef("--truth - and -o - would both write to stdout")
	}

	began := time.Now()
	var truth synth.Truth
	if o.output == "-" {
		if cli.IsTerminal(stdout) {
			return usagef("refusing to write a capture to a terminal: use -o FILE or a pipe")
		}
		truth, err = synth.Write(stdout, cfg)
	} else {
		truth, err = writeFile(o.output, cfg)
	}
	if err != nil {
		return err
	}
	if truthFile != "" {
		if err := writeTruth(truthFile, truth, stdout); err != nil {
			return err
		}
	}
	if !o.quiet {
		el := time.Since(began).Seconds()
		fmt.Fprintf(stderr, "tcpstate-gen: %d connections, %d packets, %.1f MB, capture %s, in %.2fs (%.2f M packets/s)\n",
			truth.Connections, truth.Packets, float64(truth.Bytes)/1e6, truth.End.Sub(truth.Start).Round(time.Millisecond),
			el, float64(truth.Packets)/el/1e6)
	}
	return nil
}

// config turns the flags into a synth.Config.
func (o *options) config() (synth.Config, error) {
	if o.conns < 0 || o.conns > synth.MaxConns {
		return synth.Config{}, usagef("--conns must be between 0 and %d", synth.MaxConns)
	}
	if o.concurrency < 1 {
		return synth.Config{}, usagef("--concurrency must be at least 1")
	}
	if !(o.rate > 0) || o.rate > 1e7 {
		return synth.Config{}, usagef("--rate must be positive (at most 1e7)")
	}
	if !(o.ipv6 >= 0 && o.ipv6 <= 1) {
		return synth.Config{}, usagef("--ipv6 must be between 0 and 1")
	}
	if n := synth.MinSnaplen(o.ipv6 > 0); o.snaplen < n || o.snaplen > synth.MaxSnaplen {
		return synth.Config{}, usagef("--snaplen must be between %d and %d (the TCP header must be captured)", n, synth.MaxSnaplen)
	}
	if o.clients < 1 {
		return synth.Config{}, usagef("--clients must be at least 1")
	}
	mix, err := synth.ParseMix(o.mix)
	if err != nil {
		return synth.Config{}, usagef("--mix: %s", strings.TrimPrefix(err.Error(), "synth: "))
	}
	start, err := time.Parse(time.RFC3339, o.start)
	if err != nil {
		return synth.Config{}, usagef("--start %q: want RFC 3339, e.g. 2026-03-02T09:00:00Z", o.start)
	}
	return synth.Config{Conns: o.conns, Concurrency: o.concurrency, Seed: o.seed, IPv6Fraction: o.ipv6,
		Snaplen: o.snaplen, Mix: mix, Start: start, Rate: o.rate, ClientIPs: o.clients}, nil
}

func writeFile(name string, cfg synth.Config) (synth.Truth, error) {
	f, err := os.Create(name)
	if err != nil {
		return synth.Truth{}, fmt.Errorf("cannot write %s: %v", name, cli.PathCause(err))
	}
	truth, err := synth.Write(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return synth.Truth{}, fmt.Errorf("write %s: %v", name, cli.PathCause(err))
	}
	return truth, nil
}

func writeTruth(name string, t synth.Truth, stdout io.Writer) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if name == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %v", name, cli.PathCause(err))
	}
	return nil
}

// longFlags lets long flags be written with one dash, as in "-conns 1000"
// (Go's flag style): an argument "-name" or "-name=value" whose name is a
// long flag gets its second dash. Shorthands ("-o", "-q") are untouched.
func longFlags(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if a == "-help" {
			a = "--help"
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if fs.Lookup(name) != nil {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

func patternNames() []string {
	var names []string
	for _, p := range synth.Patterns() {
		names = append(names, p.String())
	}
	return names
}
