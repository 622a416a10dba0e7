// Package reassembly owns everything from decoded TCP segments to
// per-connection sequence streams: the vocabulary (Segment, Flags, Seq, Key,
// Dir, SkipReason, LinkType, Stats) and the four-tuple table (Assembler,
// Conn), which assigns client and server roles, splits incarnations, and
// classifies each segment against its sender's stream (retransmission,
// duplicate capture, keep-alive, out-of-order, gaps).
//
// It does not read captures or decode packets: that is the sub-package
// capture, kept apart because it needs gopacket and the rest of the program
// (fsm, report) must not depend on it. It does not interpret segments either:
// there is no TCP state machine here (see fsm). It never imports gopacket.
package reassembly
