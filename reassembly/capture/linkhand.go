package capture

import (
	"encoding/binary"

	"github.com/tcpstate/tcpstate/reassembly"
)

// Link layers decoded by hand, without gopacket's parser: it has no
// decoding layer for most of them, and each is a few fields before an IP
// packet or an 802.2 LLC/SNAP header. Their frames are rare enough that
// the fast path leaves them alone; the IP packet inside still takes it
// (open).

const (
	hdlcHeaderLen = 4    // Cisco HDLC: address, control, EtherType
	hdlcUnicast   = 0x0f // its address byte
	hdlcMulticast = 0x8f

	// IEEE 802.11 data frames (IEEE 802.11-2020 §9.2.4, §9.3.2.1).
	wlanHeaderLen     = 24   // frame control, duration, three addresses, sequence control
	wlanAddr4Len      = 6    // a fourth address when both DS bits are set (a wireless bridge)
	wlanQoSLen        = 2    // QoS control, in QoS data subtypes
	wlanHTCLen        = 4    // HT control, in QoS frames with the order bit
	wlanTypeData      = 0x08 // frame control type bits (mask 0x0c): data
	wlanTypeMask      = 0x0c
	wlanSubtypeNoData = 0x40 // null function: no payload
	wlanSubtypeQoS    = 0x80
	wlanToFromDS      = 0x03
	wlanProtected     = 0x40 // encrypted (WEP, TKIP, CCMP, GCMP): nothing inside can be read
	wlanOrder         = 0x80
	wlanAMSDU         = 0x80 // first QoS control byte: the payload is an A-MSDU
	amsduHeaderLen    = 14   // an A-MSDU subframe's destination, source and length

	// Radiotap (https://www.radiotap.org): version, pad, length, present words.
	radiotapMinLen     = 8
	radiotapTSFT       = 1 << 0 // an 8-byte, 8-aligned timer comes first
	radiotapFlags      = 1 << 1 // then a byte of flags
	radiotapExt        = 1 << 31
	radiotapTSFTLen    = 8
	radiotapFlagPad    = 0x20 // the 802.11 header is padded to a multiple of 4 bytes
	radiotapFlagBadFCS = 0x40 // the frame failed its checksum

	// NFLOG (libpcap's pcap/nflog.h): family, version, resource ID, then
	// TLVs whose length (header included) and type are in the capturing
	// host's byte order, each padded to 4 bytes.
	nflogHeaderLen = 4
	nflogTLVLen    = 4
	nflogPayload   = 9 // NFULA_PAYLOAD: the packet, from its IP header
	nflogMaxType   = 0xff
	afINET         = 2
	afINET6        = 10 // Linux's

	// PFLOG (struct pfloghdr, OpenBSD, FreeBSD, macOS): its own length
	// first, then the address family; the packet starts at that length
	// rounded up to 4 bytes. The fields up to the rule number are in
	// every version.
	pflogMinLen = 45
)

// byHand decodes a frame of a kind gopacket's parser does not take.
func (d *Decoder) byHand(data []byte, k linkKind, seg *reassembly.Segment) reassembly.SkipReason {
	var (
		inner []byte
		ik    linkKind
		t     reassembly.Tunnel
		r     reassembly.SkipReason
	)
	switch k {
	case linkFDDI:
		inner, ik, r = fddiInner(data)
	case linkPPP:
		inner, ik, t, r = pppFrame(data)
	case linkWLAN:
		inner, ik, r = wlanInner(data, false)
	case linkRadiotap:
		inner, ik, r = radiotapInner(data)
	case linkNFLOG:
		inner, ik, r = nflogInner(data, d.Whole)
	case linkPFLOG:
		inner, ik, r = pflogInner(data)
	default:
		return reassembly.SkipUnsupportedLink
	}
	if r != reassembly.NotSkipped {
		return r
	}
	return d.open(inner, ik, t, false, seg)
}

// fddiInner returns what an FDDI frame carries: frame control, two
// addresses, then 802.2 LLC/SNAP.
func fddiInner(p []byte) ([]byte, linkKind, reassembly.SkipReason) {
	return snapAfter(p, fddiHeaderLen)
}

// snapAfter returns what the 802.2 LLC/SNAP header after the first n
// bytes of p carries.
func snapAfter(p []byte, n int) ([]byte, linkKind, reassembly.SkipReason) {
	if len(p) < n+snapHeaderLen {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	inner, k, _ := llcInner(p[n:])
	if k == linkUnsupported {
		return nil, k, reassembly.SkipNotIP
	}
	return inner, k, reassembly.NotSkipped
}

// pppFrame returns what a PPP frame (RFC 1661, in RFC 1662's framing or
// none) or a Cisco HDLC frame carries.
func pppFrame(p []byte) ([]byte, linkKind, reassembly.Tunnel, reassembly.SkipReason) {
	if len(p) < 2 {
		return nil, linkUnsupported, 0, reassembly.SkipTruncated
	}
	var (
		inner []byte
		k     linkKind
		t     reassembly.Tunnel
	)
	if (p[0] == hdlcUnicast || p[0] == hdlcMulticast) && p[1] == 0 {
		if len(p) < hdlcHeaderLen {
			return nil, linkUnsupported, 0, reassembly.SkipTruncated
		}
		inner, k, t = etherInner(binary.BigEndian.Uint16(p[2:4]), p[hdlcHeaderLen:])
	} else {
		inner, k, t = pppInner(p)
	}
	if k == linkUnsupported {
		return nil, k, 0, reassembly.SkipNotIP
	}
	return inner, k, t, reassembly.NotSkipped
}

// wlanInner returns what an IEEE 802.11 data frame carries (its LLC/SNAP
// payload); pad says the header is padded to a multiple of 4 bytes
// (radiotap's flag). Management and control frames and data frames
// without data are not IP; encrypted frames are counted apart, so that a
// capture of a protected network says why it shows no connection. Of an
// A-MSDU, only the first subframe is read.
func wlanInner(p []byte, pad bool) ([]byte, linkKind, reassembly.SkipReason) {
	if len(p) < wlanHeaderLen {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	fc, flags := p[0], p[1]
	if fc&wlanTypeMask != wlanTypeData || fc&wlanSubtypeNoData != 0 {
		return nil, linkUnsupported, reassembly.SkipNotIP
	}
	if flags&wlanProtected != 0 {
		return nil, linkUnsupported, reassembly.SkipEncrypted
	}
	n := wlanHeaderLen
	if flags&wlanToFromDS == wlanToFromDS {
		n += wlanAddr4Len
	}
	amsdu := false
	if fc&wlanSubtypeQoS != 0 {
		if len(p) < n+wlanQoSLen {
			return nil, linkUnsupported, reassembly.SkipTruncated
		}
		amsdu = p[n]&wlanAMSDU != 0
		n += wlanQoSLen
		if flags&wlanOrder != 0 {
			n += wlanHTCLen
		}
	}
	if pad {
		n = (n + 3) &^ 3
	}
	if amsdu {
		n += amsduHeaderLen
	}
	return snapAfter(p, n)
}

// radiotapInner returns what an 802.11 frame after a radiotap header
// carries. Of the radiotap fields only the flags matter: padding after
// the 802.11 header, and a failed checksum (bad-header: the radio heard
// noise).
func radiotapInner(p []byte) ([]byte, linkKind, reassembly.SkipReason) {
	if len(p) < radiotapMinLen {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	n := int(binary.LittleEndian.Uint16(p[2:4]))
	if p[0] != 0 || n < radiotapMinLen {
		return nil, linkUnsupported, reassembly.SkipBadHeader
	}
	if n > len(p) {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	present := binary.LittleEndian.Uint32(p[4:8])
	var flags byte
	if present&radiotapFlags != 0 {
		off := radiotapMinLen
		for w := present; w&radiotapExt != 0; off += 4 {
			if off+4 > n {
				return nil, linkUnsupported, reassembly.SkipBadHeader
			}
			w = binary.LittleEndian.Uint32(p[off : off+4])
		}
		if present&radiotapTSFT != 0 {
			off = (off+radiotapTSFTLen-1)&^(radiotapTSFTLen-1) + radiotapTSFTLen
		}
		if off >= n {
			return nil, linkUnsupported, reassembly.SkipBadHeader
		}
		flags = p[off]
	}
	if flags&radiotapFlagBadFCS != 0 {
		return nil, linkUnsupported, reassembly.SkipBadHeader
	}
	return wlanInner(p[n:], flags&radiotapFlagPad != 0)
}

// pflogInner returns the IP packet of a pf log record. The address
// family's number differs between the BSDs; IP's version nibble does not.
func pflogInner(p []byte) ([]byte, linkKind, reassembly.SkipReason) {
	if len(p) < 1 {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	n := (int(p[0]) + 3) &^ 3
	if int(p[0]) < pflogMinLen {
		return nil, linkUnsupported, reassembly.SkipBadHeader
	}
	if len(p) < n {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	k := ipVersion(p[n:])
	if k == linkRaw {
		if len(p) == n {
			return nil, linkUnsupported, reassembly.SkipTruncated
		}
		return nil, linkUnsupported, reassembly.SkipNotIP
	}
	return p[n:], k, reassembly.NotSkipped
}

// nflogInner returns the IP packet of an NFLOG record: its payload TLV.
// whole says the record is not cut by a snaplen: a record without a
// payload TLV then logged no packet (not-ip) rather than lost it.
func nflogInner(p []byte, whole bool) ([]byte, linkKind, reassembly.SkipReason) {
	if len(p) < nflogHeaderLen {
		return nil, linkUnsupported, reassembly.SkipTruncated
	}
	var k linkKind
	switch p[0] {
	case afINET:
		k = linkIPv4
	case afINET6:
		k = linkIPv6
	default:
		return nil, linkUnsupported, reassembly.SkipNotIP
	}
	if p[1] != 0 {
		return nil, linkUnsupported, reassembly.SkipBadHeader
	}
	for p = p[nflogHeaderLen:]; len(p) >= nflogTLVLen; {
		// Types are small: one that reads large is in the other byte order.
		n, typ := int(binary.LittleEndian.Uint16(p[0:2])), binary.LittleEndian.Uint16(p[2:4])
		if typ > nflogMaxType {
			n, typ = int(binary.BigEndian.Uint16(p[0:2])), binary.BigEndian.Uint16(p[2:4])
		}
		if n < nflogTLVLen {
			return nil, linkUnsupported, reassembly.SkipBadHeader
		}
		if typ == nflogPayload {
			return p[nflogTLVLen:min(n, len(p))], k, reassembly.NotSkipped
		}
		n = (n + 3) &^ 3
		if n >= len(p) {
			break
		}
		p = p[n:]
	}
	if whole {
		return nil, linkUnsupported, reassembly.SkipNotIP
	}
	return nil, linkUnsupported, reassembly.SkipTruncated
}
