package reassembly

import "time"

// Stats describes what a Source has read so far.
type Stats struct {
	// Files are the input names, in the order given.
	Files []string
	// Packets counts every packet read; it equals the last Frame number.
	Packets uint64
	// TCPPackets counts packets that became Segments.
	TCPPackets uint64
	// Skipped counts the other packets by reason.
	Skipped SkipCounts
	// Tunneled counts the TCP packets found inside tunnels, by kind.
	Tunneled TunnelCounts
	// First and Last are the timestamps of the first and last packet read
	// (zero if none).
	First, Last time.Time
	// LinkTypes counts packets per link type, sorted by link type.
	LinkTypes []LinkCount
	// Truncated is set when some input ended mid-record or was corrupt after
	// its file header.
	Truncated bool
	// Warnings are one-line, human-readable notes about such inputs.
	Warnings []string
	// PeakConnections is the most connections an Assembler tracked at once
	// (set by whoever drives the Assemblers; a Source leaves it 0).
	PeakConnections int
	// EvictedConnections is how many connections were closed early to keep
	// the tracked ones under a bound (Assembler.MaxConns).
	EvictedConnections uint64
}

// LinkCount is the number of packets read with one link type.
type LinkCount struct {
	Type    LinkType
	Name    string // libpcap name: "EN10MB", "LINUX_SLL2", …
	Packets uint64
}
