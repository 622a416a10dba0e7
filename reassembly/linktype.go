package reassembly

import "strconv"

// LinkType is a capture's link-layer header type: a LINKTYPE_ value from
// https://www.tcpdump.org/linktypes.html. It exists because layers.LinkType
// in gopacket v1.1.19 is a uint8 and cannot hold LINKTYPE_LINUX_SLL2 (276).
// Convert a gopacket or libpcap value with LinkType(v).
type LinkType uint32

// Link types tcpstate decodes.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkTypeEthernet  LinkType = 1   // Ethernet, with any 802.1Q/802.1ad tags
	LinkTypePPP       LinkType = 9   // PPP, with or without HDLC-like framing
	LinkTypeFDDI      LinkType = 10  // FDDI, with 802.2 LLC/SNAP
	LinkTypeRawDLT12  LinkType = 12  // raw IP, DLT_RAW as most BSDs number it
	LinkTypeRawDLT14  LinkType = 14  // raw IP, DLT_RAW as OpenBSD numbers it
	LinkTypePPPSerial LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC (RFC 1662)
	LinkTypeRaw       LinkType = 101 // raw IP, version from the first nibble
	LinkTypeCHDLC     LinkType = 104 // Cisco HDLC: address, control, EtherType
	LinkTypeIEEE80211 LinkType = 105 // IEEE 802.11 frames, without radio information
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback: network-order address family
	LinkTypeLinuxSLL  LinkType = 113 // Linux "cooked" capture, version 1
	LinkTypePFLOG     LinkType = 117 // a BSD firewall's log (pf): tcpdump -i pflog0
	LinkTypeRadiotap  LinkType = 127 // IEEE 802.11 with a radiotap header: monitor mode
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeNFLOG     LinkType = 239 // Linux netfilter log: tcpdump -i nflog:N
	LinkTypeLinuxSLL2 LinkType = 276 // Linux "cooked" capture v2: tcpdump -i any since libpcap 1.10
)

// String returns the libpcap name of t (pcap_datalink_val_to_name), as
// tcpdump prints it, or "LINKTYPE_<n>" for a link type tcpstate does not decode.
func (t LinkType) String() string {
	if n, ok := linkTypeNames[t]; ok {
		return n
	}
	return "LINKTYPE_" + strconv.FormatUint(uint64(t), 10)
}

// linkTypeNames are the libpcap names (pcap_datalink_val_to_name) of the link
// types tcpstate decodes, as tcpdump prints them.
var linkTypeNames = map[LinkType]string{
	LinkTypeNull:      "NULL",
	LinkTypeEthernet:  "EN10MB",
	LinkTypePPP:       "PPP",
	LinkTypeFDDI:      "FDDI",
	LinkTypePPPSerial: "PPP_SERIAL",
	LinkTypeCHDLC:     "C_HDLC",
	LinkTypeIEEE80211: "IEEE802_11",
	LinkTypeRadiotap:  "IEEE802_11_RADIO",
	LinkTypeNFLOG:     "NFLOG",
	LinkTypePFLOG:     "PFLOG",
	LinkTypeRawDLT12:  "RAW",
	LinkTypeRawDLT14:  "RAW",
	LinkTypeRaw:       "RAW",
	LinkTypeLoop:      "LOOP",
	LinkTypeLinuxSLL:  "LINUX_SLL",
	LinkTypeIPv4:      "IPV4",
	LinkTypeIPv6:      "IPV6",
	LinkTypeLinuxSLL2: "LINUX_SLL2",
}
