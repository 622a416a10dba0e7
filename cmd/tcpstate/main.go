// Command tcpstate reads packet captures and tells, with proof, what happened
// to every TCP connection: it replays the RFC 9293 state machine for both
// endpoints and reports CLOSE_WAIT leaks, TIME_WAIT build-up, half-open
// handshakes, refusals, resets and port reuse, with the frames that prove them.
//
//	tcpstate capture.pcap
//	tcpstate -f json -o report.json rotated-*.pcap.gz
//	tcpdump -i any -w - -U | tcpstate -r -
//	tcpstate --fail-on close-wait --junit junit.xml -o report.json traffic.pcap   # CI gate: exit 1 when broken
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	if os.Getenv("GOGC") == "" {
		startGCTuner() // gctune.go
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode maps run's error to the exit status: nil→0, errFindings→1, else
// the error is printed as one line and the status is 2.
func exitCode(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFindings):
		return 1
	}
	// One line, without the library's package prefix ("reassembly: x.pcap: …").
	msg := strings.TrimPrefix(err.Error(), "reassembly: ")
	fmt.Fprintf(stderr, "tcpstate: %s\n", strings.ReplaceAll(msg, "\n", " "))
	return 2
}
