//go:build !pcap

package main

// liveCapture explains how live capture works in this build: it needs the
// pcap build (libpcap, cgo); reading tcpdump's output from stdin works anywhere.
func liveCapture(o *options, files []string) error {
	return usagef("live capture (-i/-F) needs the pcap build: go build -tags pcap ./cmd/tcpstate (needs libpcap-dev); "+
		"or pipe tcpdump into stdin: tcpdump -i %s -w - -U | tcpstate -r -", orAny(o.iface))
}

func orAny(iface string) string {
	if iface == "" {
		return "any"
	}
	return iface
}
