// Package reassembly owns everything from captured bytes to per-connection TCP
// segments: capture readers (classic pcap in µs or ns resolution and either
// byte order, pcapng with any number of sections and interfaces, gzip-compressed
// input, pipes, several inputs merged into one timeline by timestamp), link,
// IP and TCP decoding, and the four-tuple connection table.
//
// It does not interpret segments: there is no TCP state machine here (that is
// package fsm), no reporting, and no live capture. It never imports
// gopacket/pcap, so it builds with CGO_ENABLED=0; live capture hands libpcap's
// frames to a Decoder.
//
// The input side is Source, which reads one or more captures and returns a
// Segment per TCP packet, and Decoder, which turns one link-layer frame into a
// Segment. Decoding uses a gopacket DecodingLayerParser whose first layer is
// chosen from the link type: Ethernet (802.1Q and 802.1ad tags), Linux SLL,
// Linux SLL2 (the SLL2 layer, which gopacket v1.1.19 lacks), BSD loopback
// (NULL and LOOP) and raw IPv4/IPv6. Packets that are not usable TCP segments
// are counted by SkipReason, never treated as errors. Reading allocates
// nothing per packet.
package reassembly
