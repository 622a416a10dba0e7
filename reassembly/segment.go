package reassembly

import (
	"net/netip"
)

// Flags is the set of TCP control bits carried by a segment.
type Flags uint8

// TCP control bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR).
const (
	FIN Flags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

var flagLetters = [...]struct {
	f Flags
	c byte
}{{SYN, 'S'}, {FIN, 'F'}, {RST, 'R'}, {PSH, 'P'}, {ACK, '.'}, {URG, 'U'}, {ECE, 'E'}, {CWR, 'W'}}

// Has reports whether all bits of x are set in f.
func (f Flags) Has(x Flags) bool { return f&x == x }

// String renders f the way tcpdump does: "S", "S.", "F.", "R", "P.", "." for a bare ACK,
// and "none" when no bit is set.
func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var b [8]byte
	n := 0
	for _, l := range flagLetters {
		if f&l.f != 0 {
			b[n] = l.c
			n++
		}
	}
	return string(b[:n])
}

// NoWScale is Segment.WScale when the segment carries no window-scale option.
const NoWScale = -1

// Segment is the header facts of one decoded TCP segment. It holds no reference
// to the packet buffer it came from, so it stays valid after the next read.
type Segment struct {
	// Frame is the 1-based position of the packet in the capture timeline (all
	// input files merged by timestamp, as mergecap would number them); for a
	// single file it is Wireshark's frame number.
	Frame uint64
	// Time is the capture timestamp.
	Time Stamp
	// Src and Dst are the sender's and receiver's address and port.
	Src, Dst netip.AddrPort
	// Seq and Ack are the raw 32-bit sequence and acknowledgment numbers.
	Seq, Ack uint32
	Flags    Flags
	// Window is the raw (unscaled) window field.
	Window uint16
	// Len is the TCP payload length computed from the IP header, not from the
	// captured bytes, so it is right for snaplen-truncated captures too.
	Len uint32
	// Captured is how many of those payload bytes the capture holds (less
	// than Len when snaplen cut the packet).
	Captured uint32
	// IPLen is the IP packet's length according to its header (IPv4 total
	// length; IPv6 payload length plus its 40-byte header): Zeek's ip_bytes.
	IPLen uint32
	// MSS is the MSS option value (0 when absent).
	MSS uint16
	// WScale is the window-scale shift, or NoWScale when absent.
	WScale int8
	// SACKOK is set when the SACK-permitted option is present.
	SACKOK bool
	// HasTS is set when the timestamps option is present; TSVal and TSEcr are then valid.
	HasTS        bool
	TSVal, TSEcr uint32
}

// SeqEnd returns the sequence number just past this segment: Seq + Len, plus one
// for each of SYN and FIN, which occupy sequence space (RFC 9293 §3.4).
func (s *Segment) SeqEnd() uint32 {
	end := s.Seq + s.Len
	if s.Flags&SYN != 0 {
		end++
	}
	if s.Flags&FIN != 0 {
		end++
	}
	return end
}
