// Package capture reads packet captures and decodes them into
// reassembly.Segments: classic pcap in µs or ns resolution and either byte
// order, pcapng with any number of sections and interfaces, gzip-compressed
// input (inflated ahead on a goroutine of its own: call Source.Close when
// done), pipes, and several inputs merged into one timeline by timestamp.
//
// Source reads one or more captures and returns a Segment per TCP packet;
// Decoder turns one link-layer frame into a Segment (live capture hands it
// libpcap's frames). Decoding uses a gopacket DecodingLayerParser whose first
// layer is chosen from the link type: Ethernet (802.1Q and 802.1ad tags),
// Linux SLL, Linux SLL2 (the SLL2 layer, which gopacket v1.1.19 lacks), BSD
// loopback (NULL and LOOP) and raw IPv4/IPv6. Packets that are not usable TCP
// segments are counted by reassembly.SkipReason, never treated as errors.
// Reading allocates nothing per packet.
//
// It imports gopacket's layers and pcapgo, never gopacket/pcap, so it builds
// with CGO_ENABLED=0. It keeps no connection state (see reassembly).
package capture
