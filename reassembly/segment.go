package reassembly

import (
	"encoding/binary"
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
	// SrcIP and DstIP are the sender's and receiver's addresses, SrcPort
	// and DstPort their ports (Src and Dst give them as netip.AddrPort).
	// Words rather than netip.Addr: a Segment holds no pointer and fits in
	// 96 bytes, and with -j every one is handed from the reader's core to
	// a worker's.
	SrcIP, DstIP IP
	// Seq and Ack are the raw 32-bit sequence and acknowledgment numbers.
	Seq, Ack uint32
	// Len is the TCP payload length computed from the IP header, not from the
	// captured bytes, so it is right for snaplen-truncated captures too.
	Len uint32
	// Captured is how many of those payload bytes the capture holds (less
	// than Len when snaplen cut the packet).
	Captured uint32
	// IPLen is the IP packet's length according to its header (IPv4 total
	// length; IPv6 payload length plus its 40-byte header): Zeek's ip_bytes.
	IPLen uint32
	// TSVal and TSEcr are the timestamps option's values, valid when HasTS.
	TSVal, TSEcr     uint32
	SrcPort, DstPort uint16
	// Window is the raw (unscaled) window field.
	Window uint16
	// MSS is the MSS option value (0 when absent).
	MSS   uint16
	Flags Flags
	// WScale is the window-scale shift, or NoWScale when absent.
	WScale int8
	// SACKOK is set when the SACK-permitted option is present.
	SACKOK bool
	// HasTS is set when the timestamps option is present.
	HasTS bool
	// V6 is set when the packet is IPv6 (its addresses are then IPv6 ones,
	// even an IPv4-mapped address).
	V6 bool
}

// IP is an IP address as the two big-endian words of its 16-byte form, an
// IPv4 address in its IPv4-mapped form (as in a Key): comparable, and no
// pointer.
type IP struct{ Hi, Lo uint64 }

// IPOf returns a as an IP.
func IPOf(a netip.Addr) IP {
	hi, lo := AddrWords(a)
	return IP{hi, lo}
}

// IPv4 returns the IP of the IPv4 address b.
func IPv4(b [4]byte) IP { return IP{0, 0xffff<<32 | uint64(binary.BigEndian.Uint32(b[:]))} }

// Addr returns ip as a netip.Addr: an IPv6 address if v6, else the IPv4
// address it maps.
func (ip IP) Addr(v6 bool) netip.Addr {
	if !v6 && ip.Hi == 0 && ip.Lo>>32 == 0xffff {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(ip.Lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], ip.Hi)
	binary.BigEndian.PutUint64(b[8:], ip.Lo)
	return netip.AddrFrom16(b)
}

// Src returns the sender's address and port.
func (s *Segment) Src() netip.AddrPort { return netip.AddrPortFrom(s.SrcIP.Addr(s.V6), s.SrcPort) }

// Dst returns the receiver's address and port.
func (s *Segment) Dst() netip.AddrPort { return netip.AddrPortFrom(s.DstIP.Addr(s.V6), s.DstPort) }

// WithAddrs returns s with the sender's and receiver's addresses and
// ports set (SetAddrs).
func (s Segment) WithAddrs(src, dst netip.AddrPort) Segment {
	s.SetAddrs(src, dst)
	return s
}

// SetAddrs sets the sender's and receiver's addresses and ports, and V6
// from src (an IPv6 address, even an IPv4-mapped one, is IPv6).
func (s *Segment) SetAddrs(src, dst netip.AddrPort) {
	s.SrcIP, s.DstIP = IPOf(src.Addr()), IPOf(dst.Addr())
	s.SrcPort, s.DstPort = src.Port(), dst.Port()
	s.V6 = src.Addr().Is6()
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
