// Package report turns the replayed connections into one Report model
// (capture facts, summary, connections, findings, and findings grouped by
// endpoint) and renders it as text, JSON or HTML, and the CI gate's verdict
// (package report/gate) as JUnit XML and GitHub Actions annotations.
//
// It imports fsm and reassembly for their vocabulary, never gopacket or
// libpcap, and it never reads captures itself. Output is deterministic: no
// map order and no wall clock reach it.
package report
