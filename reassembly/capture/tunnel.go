package capture

import (
	"encoding/binary"

	"github.com/google/gopacket/layers"
	"github.com/tcpstate/tcpstate/reassembly"
)

// Tunnels and encapsulations whose TCP the decoder finds: the four-tuple,
// states and findings are the inner connection's; the outer headers are
// dropped after counting (reassembly.Tunnel). Only the general path
// decapsulates: the fast path declines every frame that is not TCP
// directly over IP, so plain traffic pays nothing for this.
//
// IP-in-IP (protocols 4 and 41) needs nothing here when whole: gopacket's
// parser goes on into the inner header by itself.

const (
	// maxTunnels bounds nested encapsulations (MPLS in GRE in VXLAN…): a
	// frame of tunnels in tunnels cannot make the decoder recurse long.
	maxTunnels = 4
	// maxMPLSLabels bounds a label stack (real ones hold 2–4).
	maxMPLSLabels = 8

	ipProtoIPIP = 4
	ipProtoIPv6 = 41
	ipProtoUDP  = 17
	ipProtoGRE  = 47

	udpHeaderLen = 8

	// UDP ports of the tunnels decoded (either port may be the tunnel's:
	// senders pick a random source port for VXLAN and Geneve, and GTP-U
	// and Teredo peers answer from theirs).
	portVXLAN      = 4789 // RFC 7348
	portVXLANLinux = 8472 // Linux's default before the IANA port
	portVXLANGPE   = 4790 // VXLAN Generic Protocol Extension
	portGeneve     = 6081 // RFC 8926
	portGTPU       = 2152 // 3GPP TS 29.281
	portTeredo     = 3544 // RFC 4380
	portGREoUDP    = 4754 // RFC 8086
	portAYIYA      = 5072 // AYIYA (SixXS's tunnel broker protocol)

	vxlanHeaderLen  = 8
	vxlanFlagI      = 0x08 // the VNI is valid
	vxlanGPEFlagP   = 0x04 // a next-protocol field is present
	geneveHeaderLen = 8
	gtpHeaderLen    = 8
	gtpOptLen       = 4    // sequence number, N-PDU number, next extension type
	gtpFlagsE       = 0x04 // an extension header follows
	gtpFlagsOpt     = 0x07 // E, S or PN: the optional fields are present
	gtpVersion1PT   = 0x30 // version 1, protocol type GTP
	gtpMsgGPDU      = 0xff // a user packet
	greHeaderLen    = 4
	greFlagC        = 0x8000 // checksum present
	greFlagR        = 0x4000 // routing present (RFC 1701, obsolete)
	greFlagK        = 0x2000 // key present
	greFlagS        = 0x1000 // sequence number present
	greFlagA        = 0x0080 // acknowledgment present (PPTP, RFC 2637)
	greReserved     = 0x0078 // must be zero in both versions
	greVersionMask  = 0x0007
	erspan2Len      = 8  // ERSPAN type II header
	erspan3Len      = 12 // ERSPAN type III header
	erspan3SubLen   = 8  // its optional platform-specific subheader
	pppoeHeaderLen  = 6
	pppoeVerType    = 0x11
	mplsLabelLen    = 4
	pwControlLen    = 4 // the pseudowire control word before an Ethernet frame
	snapHeaderLen   = 8 // 802.2 LLC (AA AA 03) and SNAP (OUI, EtherType)
	fddiHeaderLen   = 13
	ayiyaHeaderLen  = 8 // lengths, methods, opcode, next header, epoch time
	ayiyaForward    = 1 // the opcode of a packet being carried
	vntagLen        = 4 // 802.1Qbh VN-Tag, before the next EtherType
	pbbITagLen      = 4 // 802.1ah I-TAG, before the customer's Ethernet header
	fabricPathLen   = 2 // Cisco FabricPath's FTag and TTL, before the original frame

	etherTypeTEB       = 0x6558 // transparent Ethernet bridging
	etherTypeMPLS      = 0x8847
	etherTypeMPLSMcast = 0x8848
	etherTypePPPoE     = 0x8864
	etherTypeERSPAN2   = 0x88be
	etherTypeERSPAN3   = 0x22eb
	etherTypePPP       = 0x880b // PPTP's GRE payload
	etherTypeQinQ      = 0x88a8
	etherTypeVNTag     = 0x8926
	etherTypePBB       = 0x88e7
	etherTypeFabric    = 0x8903
	pppMPLS            = 0x0281
	pppIPv4            = 0x0021
	pppIPv6            = 0x0057
	gpeNextIPv4        = 1
	gpeNextIPv6        = 2
	gpeNextEthernet    = 3
	teredoOrigin       = 0x0000 // origin indication
	teredoAuth         = 0x0001 // authentication
	teredoOriginLen    = 8
	teredoAuthFixedLen = 13 // indicator, lengths, nonce, confirmation
	llcSNAP            = 0xaaaa03
)

// etherInner returns the frame an EtherType carries, as a link kind: IP,
// Ethernet (bridged), or what MPLS, PPPoE or LLC/SNAP wrap.
func etherInner(et uint16, p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	switch et {
	case etherTypeIPv4:
		return p, linkIPv4, 0
	case etherTypeIPv6:
		return p, linkIPv6, 0
	case etherTypeTEB:
		return p, linkEthernet, 0
	case etherTypePBB:
		// Provider backbone bridging (802.1ah, MAC in MAC): the
		// customer's whole Ethernet frame follows the I-TAG.
		if len(p) >= pbbITagLen {
			return p[pbbITagLen:], linkEthernet, 0
		}
	case etherTypeFabric:
		if len(p) >= fabricPathLen {
			return p[fabricPathLen:], linkEthernet, 0
		}
	case etherTypeVNTag:
		if len(p) >= vntagLen {
			return typedInner(p[vntagLen:])
		}
	case etherTypeMPLS, etherTypeMPLSMcast:
		for range maxMPLSLabels {
			if len(p) < mplsLabelLen {
				return nil, linkUnsupported, 0
			}
			bottom := p[2]&1 != 0
			p = p[mplsLabelLen:]
			if !bottom {
				continue
			}
			// No type field: IP tells itself by its version; a first
			// nibble of 0 is a pseudowire's control word (RFC 4385)
			// before an Ethernet frame.
			if len(p) > 0 && p[0]>>4 == 0 {
				if len(p) < pwControlLen {
					return nil, linkUnsupported, 0
				}
				return p[pwControlLen:], linkEthernet, reassembly.TunnelMPLS
			}
			return p, linkRaw, reassembly.TunnelMPLS
		}
	case etherTypePPPoE:
		if len(p) < pppoeHeaderLen+2 || p[0] != pppoeVerType || p[1] != 0 {
			return nil, linkUnsupported, 0
		}
		if inner, k, t := pppInner(p[pppoeHeaderLen:]); k != linkUnsupported {
			return inner, k, t | reassembly.TunnelPPPoE
		}
	}
	return nil, linkUnsupported, 0
}

// typedInner returns what follows an EtherType at the start of p, past
// any 802.1Q tags and VN-Tags (etherInner never sees either).
func typedInner(p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	for range maxVLANTags {
		if len(p) < 2 {
			break
		}
		et := binary.BigEndian.Uint16(p)
		p = p[2:]
		switch et {
		case etherTypeVLAN, etherTypeQinQ, uint16(ethernetTypeQinQLegacy):
			if len(p) < 2 {
				return nil, linkUnsupported, 0
			}
			p = p[2:] // the tag control; the next EtherType follows
		case etherTypeVNTag:
			if len(p) < vntagLen {
				return nil, linkUnsupported, 0
			}
			p = p[vntagLen:]
		default:
			return etherInner(et, p)
		}
	}
	return nil, linkUnsupported, 0
}

// pppInner returns the IP packet (or MPLS label stack) of a PPP frame (an
// optional FF 03 address and control, then a one- or two-byte protocol).
func pppInner(p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	if len(p) >= 2 && p[0] == 0xff && p[1] == 0x03 {
		p = p[2:]
	}
	var proto uint16
	switch {
	case len(p) >= 1 && p[0]&1 != 0: // compressed to one byte (RFC 1661 §6.5)
		proto, p = uint16(p[0]), p[1:]
	case len(p) >= 2:
		proto, p = binary.BigEndian.Uint16(p), p[2:]
	}
	switch proto {
	case pppIPv4:
		return p, linkIPv4, 0
	case pppIPv6:
		return p, linkIPv6, 0
	case pppMPLS:
		return etherInner(etherTypeMPLS, p)
	}
	return nil, linkUnsupported, 0
}

// llcInner returns what an 802.2 LLC frame with a SNAP header carries
// (802.3 Ethernet with a length field, FDDI): the EtherType's payload.
func llcInner(p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	if len(p) < snapHeaderLen || uint32(p[0])<<16|uint32(p[1])<<8|uint32(p[2]) != llcSNAP {
		return nil, linkUnsupported, 0
	}
	return etherInner(binary.BigEndian.Uint16(p[6:8]), p[snapHeaderLen:])
}

// ipInner returns the frame an IP payload of protocol proto carries, if it
// is a tunnel the decoder knows: GRE (with ERSPAN, PPTP and Aruba), IP
// in IP, and over UDP: VXLAN, VXLAN-GPE, Geneve, GTP-U, Teredo, GRE and
// AYIYA.
func ipInner(proto layers.IPProtocol, p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	switch proto {
	case ipProtoIPIP:
		return p, linkIPv4, reassembly.TunnelIPinIP
	case ipProtoIPv6:
		return p, linkIPv6, reassembly.TunnelIPinIP
	case ipProtoGRE:
		return greInner(p)
	case ipProtoUDP:
		if len(p) < udpHeaderLen {
			return nil, linkUnsupported, 0
		}
		src, dst, n := binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4]), int(binary.BigEndian.Uint16(p[4:6]))
		p = p[udpHeaderLen:]
		for _, port := range [2]uint16{dst, src} {
			if inner, k, t := udpInner(port, p); k != linkUnsupported {
				return inner, k, t
			}
		}
		if teredoRelayed(p, n-udpHeaderLen) {
			return p, linkIPv6, reassembly.TunnelTeredo
		}
	}
	return nil, linkUnsupported, 0
}

// teredoRelayed reports whether a UDP payload p, of size n by the UDP
// header, on ports other than Teredo's, is an IPv6 packet to or from a
// Teredo address (2001::/32, RFC 4380 §2.14) that fills the datagram
// exactly: Teredo between a client and a relay, which use any ports.
func teredoRelayed(p []byte, n int) bool {
	if len(p) < ipv6HeaderLen || p[0]>>4 != 6 || int(binary.BigEndian.Uint16(p[4:6]))+ipv6HeaderLen != n {
		return false
	}
	const teredoPrefix = 0x20010000
	return binary.BigEndian.Uint32(p[8:12]) == teredoPrefix || binary.BigEndian.Uint32(p[24:28]) == teredoPrefix
}

// greInner decodes a GRE header (RFC 2784, RFC 2890; version 1 is PPTP's,
// RFC 2637) and returns its payload.
func greInner(p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	if len(p) < greHeaderLen {
		return nil, linkUnsupported, 0
	}
	flags, proto := binary.BigEndian.Uint16(p[0:2]), binary.BigEndian.Uint16(p[2:4])
	if flags&(greFlagR|greReserved) != 0 {
		return nil, linkUnsupported, 0
	}
	n := greHeaderLen
	for _, f := range [...]uint16{greFlagC, greFlagK, greFlagS} {
		if flags&f != 0 {
			n += 4
		}
	}
	switch flags & greVersionMask {
	case 0:
	case 1:
		if flags&greFlagA != 0 {
			n += 4
		}
		if proto != etherTypePPP || len(p) < n {
			return nil, linkUnsupported, 0
		}
		inner, k, t := pppInner(p[n:])
		return inner, k, t | reassembly.TunnelGRE
	default:
		return nil, linkUnsupported, 0
	}
	if len(p) < n {
		return nil, linkUnsupported, 0
	}
	p = p[n:]
	switch proto {
	case etherTypeERSPAN2:
		// Type II has a sequence number and an 8-byte header; type I neither.
		if flags&greFlagS != 0 {
			if len(p) < erspan2Len {
				return nil, linkUnsupported, 0
			}
			p = p[erspan2Len:]
		}
		return p, linkEthernet, reassembly.TunnelERSPAN
	case etherTypeERSPAN3:
		if len(p) < erspan3Len {
			return nil, linkUnsupported, 0
		}
		n := erspan3Len
		if p[erspan3Len-1]&1 != 0 { // O: the platform-specific subheader follows
			n += erspan3SubLen
		}
		if len(p) < n {
			return nil, linkUnsupported, 0
		}
		return p[n:], linkEthernet, reassembly.TunnelERSPAN
	}
	if aruba(proto) {
		inner, k, r := wlanInner(p, false)
		if r != reassembly.NotSkipped {
			return nil, linkUnsupported, 0
		}
		return inner, k, reassembly.TunnelGRE
	}
	inner, k, t = etherInner(proto, p)
	if k == linkUnsupported {
		return nil, linkUnsupported, 0
	}
	return inner, k, t | reassembly.TunnelGRE
}

// aruba reports whether a GRE protocol type is one of those Aruba's
// access points use to carry 802.11 frames to their controller (as Zeek
// recognises them).
func aruba(proto uint16) bool {
	return (proto&0x8200 == 0x8200 && proto&0x0f == 0) ||
		(proto&0x8300 == 0x8300 && proto&0x0f == 0 && proto <= 0x8370) || proto == 0x9000
}

// udpInner returns the frame a UDP payload p carries when port is a
// tunnel's and p has that tunnel's header.
func udpInner(port uint16, p []byte) (inner []byte, k linkKind, t reassembly.Tunnel) {
	switch port {
	case portVXLAN, portVXLANLinux:
		if len(p) < vxlanHeaderLen || p[0]&vxlanFlagI == 0 {
			break
		}
		return p[vxlanHeaderLen:], linkEthernet, reassembly.TunnelVXLAN
	case portVXLANGPE:
		if len(p) < vxlanHeaderLen || p[0]&vxlanGPEFlagP == 0 {
			break
		}
		switch p[3] {
		case gpeNextIPv4:
			return p[vxlanHeaderLen:], linkIPv4, reassembly.TunnelVXLAN
		case gpeNextIPv6:
			return p[vxlanHeaderLen:], linkIPv6, reassembly.TunnelVXLAN
		case gpeNextEthernet:
			return p[vxlanHeaderLen:], linkEthernet, reassembly.TunnelVXLAN
		}
	case portGeneve:
		if len(p) < geneveHeaderLen || p[0]>>6 != 0 {
			break
		}
		n := geneveHeaderLen + int(p[0]&0x3f)*4
		if len(p) < n {
			break
		}
		if inner, k, _ := etherInner(binary.BigEndian.Uint16(p[2:4]), p[n:]); k != linkUnsupported {
			return inner, k, reassembly.TunnelGeneve
		}
	case portGTPU:
		if len(p) < gtpHeaderLen || p[0]&0xf0 != gtpVersion1PT || p[1] != gtpMsgGPDU {
			break
		}
		n := gtpHeaderLen
		if p[0]&gtpFlagsOpt != 0 {
			n += gtpOptLen
			if len(p) < n {
				break
			}
			if p[0]&gtpFlagsE != 0 {
				// Extension headers: a length in 4-byte units, then the
				// next one's type in the last byte; 0 ends the chain.
				for next := p[n-1]; next != 0; {
					if len(p) <= n || p[n] == 0 || len(p) < n+int(p[n])*4 {
						return nil, linkUnsupported, 0
					}
					n += int(p[n]) * 4
					next = p[n-1]
				}
			}
		}
		if len(p) < n {
			break
		}
		return p[n:], linkRaw, reassembly.TunnelGTP
	case portGREoUDP:
		return greInner(p)
	case portAYIYA:
		// Identity (2^n bytes) and signature (4n bytes) follow the
		// fixed header; only forwarded packets carry one.
		if len(p) < ayiyaHeaderLen || p[2]&0x0f != ayiyaForward {
			break
		}
		n := ayiyaHeaderLen + 1<<(p[0]>>4) + int(p[1]>>4)*4
		if len(p) < n {
			break
		}
		switch p[3] {
		case ipProtoIPIP:
			return p[n:], linkIPv4, reassembly.TunnelAYIYA
		case ipProtoIPv6:
			return p[n:], linkIPv6, reassembly.TunnelAYIYA
		}
	case portTeredo:
		// Up to one authentication and one origin indication, then IPv6.
		for range 2 {
			if len(p) < 2 || p[0] != 0 {
				break
			}
			switch p[1] {
			case teredoOrigin:
				if len(p) < teredoOriginLen {
					return nil, linkUnsupported, 0
				}
				p = p[teredoOriginLen:]
			case teredoAuth:
				if len(p) < 4 || len(p) < teredoAuthFixedLen+int(p[2])+int(p[3]) {
					return nil, linkUnsupported, 0
				}
				p = p[teredoAuthFixedLen+int(p[2])+int(p[3]):]
			}
		}
		if len(p) > 0 && p[0]>>4 == 6 {
			return p, linkIPv6, reassembly.TunnelTeredo
		}
	}
	return nil, linkUnsupported, 0
}
