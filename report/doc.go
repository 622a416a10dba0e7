// Package report turns the replayed connections into one Report model
// (capture facts, summary, connections, findings, and findings grouped by
// endpoint) and renders it as text or JSON.
//
// It imports fsm and reassembly for their vocabulary, never gopacket or
// libpcap, and it never reads captures itself. Output is deterministic: no
// map order and no wall clock reach it.
package report
