//go:build !pcap

package main

import (
	"context"
	"io"

	"github.com/tcpstate/tcpstate/reassembly/capture"
	"github.com/tcpstate/tcpstate/report"
)

// checkLive refuses live capture in this build, which has no libpcap: it
// says how to build with it and how to pipe tcpdump into stdin instead.
// Files are returned as they are.
func checkLive(o *options, files []string) ([]string, error) {
	v := &o.view
	if o.iface != "" || o.filter != "" || v.count != 0 || v.snaplen != defaultSnaplen || v.noPromisc || v.write != "" || v.durationSet {
		return nil, errNoPcap(o.iface)
	}
	return files, nil
}

// live is never reached in this build: checkLive refuses -i.
func (an analysis) live(ctx context.Context, o *options, stderr io.Writer) (*report.Report, error) {
	return nil, errNoPcap(o.iface)
}

// setFilter is never reached in this build: checkLive refuses -F.
func setFilter(src *capture.Source, expr string) (func(), error) {
	return nil, errNoPcap("")
}

// errNoPcap explains how live capture works in this build: it needs the
// pcap build (libpcap, cgo); reading tcpdump's output from stdin works anywhere.
func errNoPcap(iface string) error {
	return usagef("live capture (-i, -F, -c, -s, -p, -w, --duration) needs the pcap build: go build -tags pcap ./cmd/tcpstate (needs libpcap-dev); "+
		"or pipe tcpdump into stdin: tcpdump -i %s -w - -U | tcpstate -r -", orAny(iface))
}

func orAny(iface string) string {
	if iface == "" {
		return "any"
	}
	return iface
}
