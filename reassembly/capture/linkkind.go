package capture

import (
	"fmt"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/tcpstate/tcpstate/reassembly"
)

// linkKind is the first header of a frame, as chosen from its link type.
type linkKind uint8

const (
	linkUnsupported linkKind = iota
	linkEthernet
	linkSLL
	linkSLL2
	linkNull // BSD loopback: 4-byte address family, either byte order
	linkRaw  // raw IP, version taken from the first nibble
	linkIPv4
	linkIPv6
	// Decoded by hand (linkhand.go), no parser:
	linkFDDI     // FDDI, then 802.2 LLC/SNAP
	linkPPP      // PPP (HDLC-like framing or none) or Cisco HDLC
	linkWLAN     // IEEE 802.11
	linkRadiotap // radiotap, then IEEE 802.11
	linkNFLOG    // Linux netfilter log messages
	linkPFLOG    // BSD pf log records
	numLinkKinds
)

var linkKindNames = [numLinkKinds]string{
	linkUnsupported: "unsupported",
	linkEthernet:    "ethernet",
	linkSLL:         "linux-sll",
	linkSLL2:        "linux-sll2",
	linkNull:        "null",
	linkRaw:         "raw",
	linkIPv4:        "ipv4",
	linkIPv6:        "ipv6",
	linkFDDI:        "fddi",
	linkPPP:         "ppp",
	linkWLAN:        "ieee802.11",
	linkRadiotap:    "radiotap",
	linkNFLOG:       "nflog",
	linkPFLOG:       "pflog",
}

// String returns the kind's name, for test messages.
func (k linkKind) String() string {
	if k < numLinkKinds {
		return linkKindNames[k]
	}
	return "unknown"
}

// firstLayer is the layer a frame of each kind starts with. linkRaw has none
// of its own: Decode resolves it to linkIPv4 or linkIPv6 per packet.
var firstLayer = [numLinkKinds]gopacket.LayerType{
	linkEthernet: layers.LayerTypeEthernet,
	linkSLL:      layers.LayerTypeLinuxSLL,
	linkSLL2:     LayerTypeSLL2,
	linkNull:     layers.LayerTypeLoopback,
	linkIPv4:     layers.LayerTypeIPv4,
	linkIPv6:     layers.LayerTypeIPv6,
}

// WarnUndecodedLinks adds to st.Warnings one line for each link type in
// st.LinkTypes that the decoder does not know: its packets are counted as
// unsupported-link, and a report with no connection must say why.
func WarnUndecodedLinks(st *reassembly.Stats) {
	for _, l := range st.LinkTypes {
		if kindOf(l.Type) == linkUnsupported {
			st.Warnings = append(st.Warnings, fmt.Sprintf("link type %s is not one tcpstate decodes: its %d packets were skipped (unsupported-link)", l.Name, l.Packets))
		}
	}
}

// kindOf maps a capture's link type to the header its frames start with.
// LinkType.LayerType() is deliberately not used: it does not know SLL2 or the
// raw-IP variants, and its answer for LOOP differs by gopacket version.
func kindOf(lt reassembly.LinkType) linkKind {
	switch lt {
	case reassembly.LinkTypeEthernet:
		return linkEthernet
	case reassembly.LinkTypeLinuxSLL:
		return linkSLL
	case reassembly.LinkTypeLinuxSLL2:
		return linkSLL2
	case reassembly.LinkTypeNull, reassembly.LinkTypeLoop:
		return linkNull
	case reassembly.LinkTypeRawDLT12, reassembly.LinkTypeRawDLT14, reassembly.LinkTypeRaw:
		return linkRaw
	case reassembly.LinkTypeIPv4:
		return linkIPv4
	case reassembly.LinkTypeIPv6:
		return linkIPv6
	case reassembly.LinkTypeFDDI:
		return linkFDDI
	case reassembly.LinkTypePPP, reassembly.LinkTypePPPSerial, reassembly.LinkTypeCHDLC:
		return linkPPP
	case reassembly.LinkTypeIEEE80211:
		return linkWLAN
	case reassembly.LinkTypeRadiotap:
		return linkRadiotap
	case reassembly.LinkTypeNFLOG:
		return linkNFLOG
	case reassembly.LinkTypePFLOG:
		return linkPFLOG
	}
	return linkUnsupported
}
