package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/tcpstate/tcpstate/reassembly"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Header sizes and field limits used while decoding.
const (
	ethernetHeaderLen = 14
	sllHeaderLen      = 16
	sllMaxAddrLen     = 8 // the SLL address field is 8 bytes; longer addresses are cut
	nullHeaderLen     = 4
	ipv4MinHeaderLen  = 20
	ipv4MinIHL        = 5 // in 32-bit words
	ipv6HeaderLen     = 40
	ipv6FragHeaderLen = 8
	tcpMinHeaderLen   = 20
	tcpMinDataOffset  = 5 // in 32-bit words

	// maxVLANTags bounds 802.1Q/802.1ad tag stacks; real networks use two.
	maxVLANTags = 8
	// maxIPv6ExtHeaders bounds the extension-header chain walked before TCP.
	maxIPv6ExtHeaders = 8
	// maxDecodedLayers sizes the reused decoded slice: link, tags, IP, tunnels, TCP.
	maxDecodedLayers = 16

	// ethernetMinType is the least EtherType: below, the field is an 802.3
	// length, and 802.2 LLC follows.
	ethernetMinType = 0x0600

	// ethernetTypeQinQLegacy is the pre-802.1ad 0x9100 outer tag (Cisco, Linux).
	ethernetTypeQinQLegacy layers.EthernetType = 0x9100

	// TCP option data lengths (RFC 9293 §3.2, RFC 7323 §2-3).
	mssOptionLen        = 2
	wscaleOptionLen     = 1
	timestampsOptionLen = 8
	// maxWScale is the largest shift RFC 7323 §2.3 allows; larger values are used as 14.
	maxWScale = 14

	// tcpFlagsOffset is the byte of the TCP header that holds the control bits,
	// in the same bit order as Flags.
	tcpFlagsOffset = 13
)

var (
	errTooManyVLANTags = errors.New("reassembly: too many 802.1q tags")
	errSLLShort        = errors.New("reassembly: linux sll header cut short")
)

// dot1Q is layers.Dot1Q with a bound on the tag depth and the legacy 0x9100
// QinQ type, so a frame of repeated tags cannot make the parser loop long.
type dot1Q struct {
	layers.Dot1Q
	depth int // tags decoded in the current frame; reset by Decode
}

func (v *dot1Q) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	v.depth++
	if v.depth > maxVLANTags {
		return errTooManyVLANTags
	}
	return v.Dot1Q.DecodeFromBytes(data, df)
}

func (v *dot1Q) NextLayerType() gopacket.LayerType { return etherNext(v.Type) }

// ethernet is layers.Ethernet that also follows the legacy 0x9100 QinQ type.
type ethernet struct{ layers.Ethernet }

func (e *ethernet) NextLayerType() gopacket.LayerType { return etherNext(e.EthernetType) }

func etherNext(t layers.EthernetType) gopacket.LayerType {
	if t == ethernetTypeQinQLegacy {
		return layers.LayerTypeDot1Q
	}
	return t.LayerType()
}

// linuxSLL is layers.LinuxSLL without its out-of-range slice on address
// lengths above 8, which would panic on short frames.
type linuxSLL struct{ layers.LinuxSLL }

func (s *linuxSLL) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < sllHeaderLen {
		df.SetTruncated()
		return errSLLShort
	}
	s.PacketType = layers.LinuxSLLPacketType(binary.BigEndian.Uint16(data[0:2]))
	s.AddrType = binary.BigEndian.Uint16(data[2:4])
	s.AddrLen = binary.BigEndian.Uint16(data[4:6])
	s.Addr = data[6 : 6+min(int(s.AddrLen), sllMaxAddrLen)]
	s.EthernetType = layers.EthernetType(binary.BigEndian.Uint16(data[14:16]))
	s.BaseLayer = layers.BaseLayer{Contents: data[:sllHeaderLen], Payload: data[sllHeaderLen:]}
	return nil
}

// Decoder turns link-layer frames into Segments. It is used by Source and by
// live capture, and needs nothing but the frame and its link type.
//
// A Decoder is not safe for concurrent use. After warm-up, Decode allocates
// nothing for Ethernet, SLL, SLL2, loopback and raw IPv4/IPv6 TCP frames;
// malformed frames may allocate inside gopacket's error paths, and IPv6
// hop-by-hop options allocate in gopacket's decoder.
type Decoder struct {
	eth  ethernet
	vlan dot1Q
	sll  linuxSLL
	sll2 SLL2
	null layers.Loopback
	ip4  layers.IPv4
	ip6  layers.IPv6
	tcp  layers.TCP

	// parsers holds one DecodingLayerParser per first layer, built on first
	// use. A DecodingLayerParser fixes its first layer when it is created, so
	// choosing the first layer from the link type means one parser per kind;
	// all of them share the layer values above, so a parser costs a few words.
	parsers [numLinkKinds]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType

	// Whole says that the next frames are whole (the capture did not cut
	// them to a snaplen): an IP or TCP header that claims bytes beyond the
	// frame is then malformed (bad-header), not cut short (truncated).
	Whole bool

	// VerifyChecksums makes Decode check IPv4 header and TCP checksums,
	// as a receiving kernel does, and skip a segment whose checksum fails
	// (SkipBadChecksum): what the endpoint dropped must not move its state.
	// A TCP checksum is checked only when the capture holds the whole
	// segment (not cut by a snaplen, not a fragment, no IPv6 routing
	// header still to visit). Off by default: packets captured on the
	// host that sent them carry checksums the network card fills in later.
	VerifyChecksums bool

	// nest counts the tunnels opened in the current frame (maxTunnels),
	// tunnels records which (Tunnels).
	nest    int
	tunnels reassembly.Tunnel
	// partial says the TCP checksum of the current frame cannot be
	// checked: its segment is in IP fragments, or an IPv6 routing header
	// makes the final destination another address.
	partial bool
}

// Tunnels returns the encapsulations the last frame's segment was found
// in (0 for TCP directly over IP).
func (d *Decoder) Tunnels() reassembly.Tunnel { return d.tunnels }

// NewDecoder returns a Decoder ready for any supported link type.
func NewDecoder() *Decoder {
	return &Decoder{decoded: make([]gopacket.LayerType, 0, maxDecodedLayers)}
}

func (d *Decoder) parser(k linkKind) *gopacket.DecodingLayerParser {
	if p := d.parsers[k]; p != nil {
		return p
	}
	var dlc gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.vlan, &d.sll, &d.sll2, &d.null, &d.ip4, &d.ip6, &d.tcp} {
		dlc = dlc.Put(l)
	}
	p := gopacket.NewDecodingLayerParser(firstLayer[k])
	p.SetDecodingLayerContainer(dlc)
	p.IgnoreUnsupported = true
	d.parsers[k] = p
	return p
}

// layer returns the decoding layer that decodes t, or nil.
func (d *Decoder) layer(t gopacket.LayerType) gopacket.DecodingLayer {
	switch t {
	case layers.LayerTypeEthernet:
		return &d.eth
	case layers.LayerTypeDot1Q:
		return &d.vlan
	case layers.LayerTypeLinuxSLL:
		return &d.sll
	case LayerTypeSLL2:
		return &d.sll2
	case layers.LayerTypeLoopback:
		return &d.null
	case layers.LayerTypeIPv4:
		return &d.ip4
	case layers.LayerTypeIPv6:
		return &d.ip6
	case layers.LayerTypeTCP:
		return &d.tcp
	}
	return nil
}

// Decode decodes one frame of the given link type into seg and returns
// NotSkipped, or the reason the frame holds no usable TCP segment (seg is then
// reset but otherwise meaningless). It fills every field of seg except Frame
// and Time, which it leaves unchanged. seg keeps no reference to data, which
// the caller may reuse as soon as Decode returns. A segment inside a tunnel
// (Tunnels) is the inner one.
//
// A segment whose IP header claims more bytes than the frame holds is
// bad-header when the frame is whole (Whole): the length lies. When the
// capture cut the frame, or the segment came out of the first fragment of
// a tunnel's packet, it counts, with Captured < Len.
func (d *Decoder) Decode(data []byte, link reassembly.LinkType, seg *reassembly.Segment) reassembly.SkipReason {
	k := kindOf(link)
	if k == linkRaw {
		k = ipVersion(data)
	}
	d.tunnels, d.partial = 0, false
	// The fast path fills every field when it answers, and touches none
	// when it does not: seg is cleared only for the general path, which
	// alone keeps the headers that checksums are verified over.
	if !d.VerifyChecksums && fast(data, k, seg) {
		if seg.Captured < seg.Len && d.Whole {
			return reassembly.SkipBadHeader
		}
		return reassembly.NotSkipped
	}
	*seg = reassembly.Segment{Frame: seg.Frame, Time: seg.Time, WScale: reassembly.NoWScale}
	switch k {
	case linkUnsupported:
		return reassembly.SkipUnsupportedLink
	case linkRaw:
		if len(data) == 0 {
			return reassembly.SkipTruncated
		}
		return reassembly.SkipNotIP
	}
	whole := d.Whole
	d.nest = 0
	var r reassembly.SkipReason
	if firstLayer[k] == 0 {
		r = d.byHand(data, k, seg)
	} else {
		r = d.general(data, k, seg)
	}
	cut := !d.Whole // the capture's snaplen, or a tunnel's fragment
	d.Whole = whole
	if r == reassembly.NotSkipped && seg.Captured < seg.Len && !cut {
		r = reassembly.SkipBadHeader
	}
	return r
}

// ipVersion resolves raw IP to linkIPv4 or linkIPv6 by the first nibble of
// data; linkRaw when it is neither (or data is empty).
func ipVersion(data []byte) linkKind {
	if len(data) > 0 {
		switch data[0] >> 4 {
		case 4:
			return linkIPv4
		case 6:
			return linkIPv6
		}
	}
	return linkRaw
}

// open decodes the frame a tunnel or encapsulation t carries, of kind k
// (linkRaw: IP of either version); cut says the outer packet was the first
// fragment of several, so the inner one is cut short like a snaplen cuts.
func (d *Decoder) open(data []byte, k linkKind, t reassembly.Tunnel, cut bool, seg *reassembly.Segment) reassembly.SkipReason {
	if d.nest >= maxTunnels {
		return reassembly.SkipBadHeader
	}
	d.nest++
	d.tunnels |= t
	if cut {
		d.Whole = false
	}
	if k == linkRaw {
		if len(data) == 0 {
			return shortHeader(!d.Whole)
		}
		if k = ipVersion(data); k == linkRaw {
			return reassembly.SkipNotIP
		}
	}
	if !d.VerifyChecksums && fast(data, k, seg) {
		return reassembly.NotSkipped
	}
	*seg = reassembly.Segment{Frame: seg.Frame, Time: seg.Time, WScale: reassembly.NoWScale}
	return d.general(data, k, seg)
}

// general decodes a frame of kind k (raw IP already resolved) with the layer
// parser: every frame the fast path declines.
func (d *Decoder) general(data []byte, k linkKind, seg *reassembly.Segment) reassembly.SkipReason {
	d.vlan.depth = 0
	p := d.parser(k)
	if err := p.DecodeLayers(data, &d.decoded); err != nil {
		return d.failure(k, data, seg)
	}
	n := len(d.decoded)
	if n == 0 {
		return reassembly.SkipNotIP // unreachable: every first layer is in the parser
	}
	// The parser goes on into IP in IP by itself: count it.
	ips := 0
	for _, t := range d.decoded {
		if t == layers.LayerTypeIPv4 || t == layers.LayerTypeIPv6 {
			ips++
		}
	}
	if ips > 1 {
		d.tunnels |= reassembly.TunnelIPinIP
	}
	switch d.decoded[n-1] {
	case layers.LayerTypeTCP:
		if n >= 2 && d.decoded[n-2] == layers.LayerTypeIPv6 {
			ext := 0
			if d.ip6.HopByHop != nil {
				ext = d.ip6.HopByHop.ActualLength
			}
			return d.fillIPv6(seg, ext)
		}
		return d.fillIPv4(seg)
	case layers.LayerTypeIPv4:
		return d.afterIPv4(seg)
	case layers.LayerTypeIPv6:
		return d.afterIPv6(seg)
	}
	// The parser stopped in the link layer: either the next header is not IP
	// (ARP, LLDP, MPLS, …) or the frame ends right after the link header.
	last := d.decoded[n-1]
	switch d.layer(last).NextLayerType() {
	case layers.LayerTypeIPv4, layers.LayerTypeIPv6, layers.LayerTypeDot1Q:
		return reassembly.SkipTruncated
	}
	if inner, k, t := d.linkInner(last); k != linkUnsupported {
		return d.open(inner, k, t, false, seg)
	}
	return reassembly.SkipNotIP
}

// linkInner returns what the link layer last carries when it is not IP
// but wraps it: MPLS, PPPoE, or 802.2 LLC/SNAP (802.3 frames).
func (d *Decoder) linkInner(last gopacket.LayerType) (inner []byte, k linkKind, t reassembly.Tunnel) {
	var et uint16
	var p []byte
	switch last {
	case layers.LayerTypeEthernet:
		et, p = uint16(d.eth.EthernetType), d.eth.Payload
	case layers.LayerTypeDot1Q:
		et, p = uint16(d.vlan.Type), d.vlan.Payload
	case layers.LayerTypeLinuxSLL:
		et, p = uint16(d.sll.EthernetType), d.sll.Payload
	case LayerTypeSLL2:
		et, p = uint16(d.sll2.ProtocolType), d.sll2.Payload
	default:
		return nil, linkUnsupported, 0
	}
	if et < ethernetMinType { // an 802.3 length (gopacket's EthernetTypeLLC is 0)
		return llcInner(p)
	}
	return etherInner(et, p)
}

// afterIPv4 handles an IPv4 header the parser did not continue past: a
// fragment, a protocol other than TCP, or an empty payload.
func (d *Decoder) afterIPv4(seg *reassembly.Segment) reassembly.SkipReason {
	ip := &d.ip4
	if ip.Protocol != layers.IPProtocolTCP {
		if ip.FragOffset != 0 {
			return reassembly.SkipNotTCP
		}
		inner, k, t := ipInner(ip.Protocol, ip.Payload)
		if k == linkUnsupported {
			return reassembly.SkipNotTCP
		}
		return d.open(inner, k, t, ip.Flags&layers.IPv4MoreFragments != 0, seg)
	}
	if ip.FragOffset != 0 {
		return reassembly.SkipFragment
	}
	// A first fragment (offset 0, more-fragments set) carries the TCP header.
	if r := d.decodeTCP(ip.Payload, d.ipTruncated(layers.LayerTypeIPv4)); r != reassembly.NotSkipped {
		return r
	}
	return d.fillIPv4(seg)
}

// afterIPv6 walks the extension headers gopacket does not decode (routing,
// destination options, fragment, a repeated hop-by-hop) up to TCP.
func (d *Decoder) afterIPv6(seg *reassembly.Segment) reassembly.SkipReason {
	ip := &d.ip6
	proto, ext, rest := ip.NextHeader, 0, ip.Payload
	if ip.HopByHop != nil {
		proto, ext = ip.HopByHop.NextHeader, ip.HopByHop.ActualLength
	}
	truncated := d.ipTruncated(layers.LayerTypeIPv6)
	more := false // a first fragment: more follow
	for range maxIPv6ExtHeaders {
		switch proto {
		case layers.IPProtocolTCP:
			if r := d.decodeTCP(rest, truncated); r != reassembly.NotSkipped {
				return r
			}
			return d.fillIPv6(seg, ext)
		case layers.IPProtocolIPv6HopByHop, layers.IPProtocolIPv6Routing, layers.IPProtocolIPv6Destination:
			// RFC 8200 §4.3-4.6: next header, length in 8-octet units not counting the first.
			if len(rest) < 2 || (int(rest[1])+1)*8 > len(rest) {
				return shortHeader(truncated)
			}
			if proto == layers.IPProtocolIPv6Routing && len(rest) > 3 && rest[3] != 0 {
				d.partial = true // segments left: the checksum's destination is another
			}
			n := (int(rest[1]) + 1) * 8
			proto, ext, rest = layers.IPProtocol(rest[0]), ext+n, rest[n:]
		case layers.IPProtocolIPv6Fragment:
			// RFC 8200 §4.5: next header, reserved, offset (13 bits) + flags, id.
			if len(rest) < ipv6FragHeaderLen {
				return shortHeader(truncated)
			}
			proto = layers.IPProtocol(rest[0])
			if binary.BigEndian.Uint16(rest[2:4])>>3 != 0 {
				if proto == layers.IPProtocolTCP {
					return reassembly.SkipFragment
				}
				return reassembly.SkipNotTCP
			}
			more = rest[3]&1 != 0
			d.partial = true
			ext, rest = ext+ipv6FragHeaderLen, rest[ipv6FragHeaderLen:]
		default:
			inner, k, t := ipInner(proto, rest)
			if k == linkUnsupported {
				return reassembly.SkipNotTCP
			}
			return d.open(inner, k, t, more, seg)
		}
	}
	return reassembly.SkipBadHeader
}

// shortHeader is the skip reason for a header that does not fit: the capture
// was cut (snaplen) if the IP layer saw fewer bytes than its length field
// says, otherwise the header is inconsistent with that length.
func shortHeader(ipTruncated bool) reassembly.SkipReason {
	if ipTruncated {
		return reassembly.SkipTruncated
	}
	return reassembly.SkipBadHeader
}

// decodeTCP decodes the TCP header at data into d.tcp, for paths the parser
// did not take (first fragments, IPv6 extension headers, empty payloads).
func (d *Decoder) decodeTCP(data []byte, ipTruncated bool) reassembly.SkipReason {
	if err := d.tcp.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		r := classifyTCP(data, ipTruncated)
		if r == reassembly.SkipTruncated && d.fixedTCP(data) {
			return reassembly.NotSkipped
		}
		return r
	}
	return reassembly.NotSkipped
}

// fixedTCP decodes only the fixed 20-byte TCP header at data into d.tcp,
// for a header whose options snaplen cut off (tcpdump -s 54): the segment
// still counts, without its options. It reports whether data holds one.
func (d *Decoder) fixedTCP(data []byte) bool {
	if len(data) < tcpMinHeaderLen || data[12]>>4 < tcpMinDataOffset {
		return false
	}
	t := &d.tcp
	t.SrcPort = layers.TCPPort(binary.BigEndian.Uint16(data[0:2]))
	t.DstPort = layers.TCPPort(binary.BigEndian.Uint16(data[2:4]))
	t.Seq = binary.BigEndian.Uint32(data[4:8])
	t.Ack = binary.BigEndian.Uint32(data[8:12])
	t.DataOffset = data[12] >> 4
	t.Window = binary.BigEndian.Uint16(data[14:16])
	t.Options = t.Options[:0]
	t.Contents, t.Payload = data[:tcpMinHeaderLen], nil
	return true
}

// classifyTCP says why the TCP header at data failed to decode.
func classifyTCP(data []byte, ipTruncated bool) reassembly.SkipReason {
	if len(data) > tcpFlagsOffset-1 && data[12]>>4 < tcpMinDataOffset {
		return reassembly.SkipBadHeader
	}
	if len(data) < tcpMinHeaderLen || int(data[12]>>4)*4 > len(data) {
		return shortHeader(ipTruncated)
	}
	return reassembly.SkipBadHeader // a malformed option inside a fully captured header
}

// ipTruncated reports whether the capture holds fewer bytes of the last
// decoded IP datagram of type t than its length field says (snaplen).
func (d *Decoder) ipTruncated(t gopacket.LayerType) bool {
	if d.Whole {
		return false // the frame is all there was: a longer IP length lies
	}
	switch t {
	case layers.LayerTypeIPv4:
		return len(d.ip4.Contents)+len(d.ip4.Payload) < int(d.ip4.Length)
	case layers.LayerTypeIPv6:
		hbh := 0
		if d.ip6.HopByHop != nil {
			hbh = d.ip6.HopByHop.ActualLength
		}
		return hbh+len(d.ip6.Payload) < int(d.ip6.Length)
	}
	return false
}

// failure classifies a frame on which a layer's DecodeFromBytes failed. The
// failing layer is the one after the last decoded layer.
func (d *Decoder) failure(k linkKind, data []byte, seg *reassembly.Segment) reassembly.SkipReason {
	typ, rest, prev := firstLayer[k], data, gopacket.LayerTypeZero
	if n := len(d.decoded); n > 0 {
		prev = d.decoded[n-1]
		last := d.layer(prev)
		typ, rest = last.NextLayerType(), last.LayerPayload()
	}
	switch typ {
	case layers.LayerTypeTCP:
		r := classifyTCP(rest, d.ipTruncated(prev))
		if r == reassembly.SkipTruncated && d.fixedTCP(rest) {
			if prev == layers.LayerTypeIPv6 {
				ext := 0
				if d.ip6.HopByHop != nil {
					ext = d.ip6.HopByHop.ActualLength
				}
				return d.fillIPv6(seg, ext)
			}
			return d.fillIPv4(seg)
		}
		return r
	case layers.LayerTypeIPv4:
		if len(rest) < ipv4MinHeaderLen {
			return reassembly.SkipTruncated
		}
		ihl := int(rest[0] & 0x0f)
		total := int(binary.BigEndian.Uint16(rest[2:4]))
		if ihl < ipv4MinIHL || (total != 0 && (total < ipv4MinHeaderLen || ihl*4 > total)) {
			return reassembly.SkipBadHeader
		}
		if ihl*4 > len(rest) {
			return reassembly.SkipTruncated
		}
		return reassembly.SkipBadHeader // malformed IPv4 options
	case layers.LayerTypeIPv6:
		if len(rest) < ipv6HeaderLen {
			return reassembly.SkipTruncated
		}
		if layers.IPProtocol(rest[6]) == layers.IPProtocolIPv6HopByHop &&
			(len(rest) < ipv6HeaderLen+2 || ipv6HeaderLen+(int(rest[ipv6HeaderLen+1])+1)*8 > len(rest)) {
			return reassembly.SkipTruncated
		}
		if binary.BigEndian.Uint16(rest[4:6]) == 0 && layers.IPProtocol(rest[6]) == layers.IPProtocolNoNextHeader {
			// A packet of nothing but its header (a Teredo bubble, RFC
			// 4380 §2.8), which gopacket takes for a jumbogram without
			// its option.
			return reassembly.SkipNotTCP
		}
		return reassembly.SkipBadHeader // zero payload length without a jumbogram, bad options
	case layers.LayerTypeDot1Q:
		if d.vlan.depth > maxVLANTags {
			return reassembly.SkipBadHeader
		}
		return reassembly.SkipTruncated
	case layers.LayerTypeLoopback:
		if len(rest) < nullHeaderLen {
			return reassembly.SkipTruncated
		}
		return reassembly.SkipNotIP // an address family that does not fit in a byte
	}
	// Ethernet, SLL and SLL2 fail only on frames shorter than their header.
	return reassembly.SkipTruncated
}

// fillIPv4 fills seg from d.ip4 and d.tcp.
func (d *Decoder) fillIPv4(seg *reassembly.Segment) reassembly.SkipReason {
	ip := &d.ip4
	if ip.Version != 4 {
		return reassembly.SkipBadHeader
	}
	src := netip.AddrFrom4([4]byte(ip.SrcIP))
	dst := netip.AddrFrom4([4]byte(ip.DstIP))
	seg.IPLen = uint32(ip.Length)
	r := d.fillTCP(seg, src, dst, int(ip.Length)-int(ip.IHL)*4)
	if r == reassembly.NotSkipped && d.VerifyChecksums {
		if onesSum(ip.Contents, 0) != 0xffff {
			return reassembly.SkipBadChecksum
		}
		// Pseudo-header (RFC 9293 §3.1): addresses, protocol, TCP length.
		s := onesSum(ip.SrcIP.To4(), 0)
		s = onesSum(ip.DstIP.To4(), uint32(s)+uint32(ip.Protocol)+uint32(seg.Len)+uint32(d.tcp.DataOffset)*4)
		if ip.Flags&layers.IPv4MoreFragments == 0 && !d.tcpChecksumOK(seg, s) {
			return reassembly.SkipBadChecksum
		}
	}
	return r
}

// fillIPv6 fills seg from d.ip6 and d.tcp; ext is the length of the extension
// headers between them.
func (d *Decoder) fillIPv6(seg *reassembly.Segment, ext int) reassembly.SkipReason {
	ip := &d.ip6
	if ip.Version != 6 {
		return reassembly.SkipBadHeader
	}
	src := netip.AddrFrom16([16]byte(ip.SrcIP))
	dst := netip.AddrFrom16([16]byte(ip.DstIP))
	seg.IPLen = uint32(ip.Length) + ipv6HeaderLen
	r := d.fillTCP(seg, src, dst, int(ip.Length)-ext)
	if r == reassembly.NotSkipped && d.VerifyChecksums && !d.partial {
		// Pseudo-header (RFC 8200 §8.1): addresses, upper-layer length, next header.
		s := onesSum(ip.SrcIP, 0)
		s = onesSum(ip.DstIP, uint32(s)+uint32(layers.IPProtocolTCP)+seg.Len+uint32(d.tcp.DataOffset)*4)
		if !d.tcpChecksumOK(seg, s) {
			return reassembly.SkipBadChecksum
		}
	}
	return r
}

// tcpChecksumOK reports whether d.tcp's checksum verifies, given the
// pseudo-header's sum; true when the capture does not hold the whole
// segment (its header's options cut, or its data), which cannot be
// checked.
func (d *Decoder) tcpChecksumOK(seg *reassembly.Segment, pseudo uint16) bool {
	t := &d.tcp
	if len(t.Contents) != int(t.DataOffset)*4 || seg.Captured < seg.Len || len(t.Payload) < int(seg.Len) {
		return true
	}
	return onesSum(t.Payload[:seg.Len], uint32(onesSum(t.Contents, uint32(pseudo)))) == 0xffff
}

// onesSum adds b to the ones' complement sum s as 16-bit big-endian
// words (RFC 1071), an odd last byte padded with zero, and folds it.
func onesSum(b []byte, s uint32) uint16 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// fillTCP fills seg from d.tcp. ipPayload is the TCP segment's length (header
// and data) according to the IP header.
func (d *Decoder) fillTCP(seg *reassembly.Segment, src, dst netip.Addr, ipPayload int) reassembly.SkipReason {
	t := &d.tcp
	n := ipPayload - int(t.DataOffset)*4
	if n < 0 {
		return reassembly.SkipBadHeader
	}
	seg.SetAddrs(netip.AddrPortFrom(src, uint16(t.SrcPort)), netip.AddrPortFrom(dst, uint16(t.DstPort)))
	seg.Seq, seg.Ack = t.Seq, t.Ack
	seg.Flags = reassembly.Flags(t.Contents[tcpFlagsOffset])
	seg.Window = t.Window
	seg.Len = uint32(n)
	seg.Captured = uint32(min(len(t.Payload), n))
	for i := range t.Options {
		o := &t.Options[i]
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(o.OptionData) == mssOptionLen {
				seg.MSS = binary.BigEndian.Uint16(o.OptionData)
			}
		case layers.TCPOptionKindWindowScale:
			if len(o.OptionData) == wscaleOptionLen {
				seg.WScale = int8(min(o.OptionData[0], maxWScale))
			}
		case layers.TCPOptionKindSACKPermitted:
			seg.SACKOK = true
		case layers.TCPOptionKindTimestamps:
			if len(o.OptionData) == timestampsOptionLen {
				seg.HasTS = true
				seg.TSVal = binary.BigEndian.Uint32(o.OptionData[0:4])
				seg.TSEcr = binary.BigEndian.Uint32(o.OptionData[4:8])
			}
		}
	}
	return reassembly.NotSkipped
}
