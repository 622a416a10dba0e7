package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	testMAC1 = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}
	testMAC2 = net.HardwareAddr{0x02, 0, 0, 0, 0, 2}
	testIP4a = net.IP{10, 0, 0, 1}
	testIP4b = net.IP{10, 0, 0, 2}
	testIP6a = net.ParseIP("2001:db8::1")
	testIP6b = net.ParseIP("2001:db8::2")
)

// serialize builds a frame from layers with lengths fixed up.
func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
		t.Fatalf("SerializeLayers: %v", err)
	}
	return buf.Bytes()
}

func testTCP(flags reassembly.Flags) *layers.TCP {
	return &layers.TCP{
		SrcPort: 40000, DstPort: 80, Seq: 1000, Ack: 2000, Window: 512,
		FIN: flags.Has(reassembly.FIN), SYN: flags.Has(reassembly.SYN), RST: flags.Has(reassembly.RST), PSH: flags.Has(reassembly.PSH),
		ACK: flags.Has(reassembly.ACK), URG: flags.Has(reassembly.URG), ECE: flags.Has(reassembly.ECE), CWR: flags.Has(reassembly.CWR),
	}
}

func synTCP() *layers.TCP {
	tcp := testTCP(reassembly.SYN)
	tcp.Ack = 0
	tcp.Options = []layers.TCPOption{
		{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}},
		{OptionType: layers.TCPOptionKindSACKPermitted, OptionLength: 2},
		{OptionType: layers.TCPOptionKindTimestamps, OptionLength: 10, OptionData: []byte{0, 0, 0, 7, 0, 0, 0, 9}},
		{OptionType: layers.TCPOptionKindNop},
		{OptionType: layers.TCPOptionKindWindowScale, OptionLength: 3, OptionData: []byte{7}},
	}
	return tcp
}

func testIPv4(proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: testIP4a, DstIP: testIP4b}
}

func testIPv6(next layers.IPProtocol) *layers.IPv6 {
	return &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: testIP6a, DstIP: testIP6b}
}

func testEth(t layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: testMAC1, DstMAC: testMAC2, EthernetType: t}
}

// ethTCP4 is an Ethernet/IPv4/TCP frame with n payload bytes.
func ethTCP4(t testing.TB, tcp *layers.TCP, n int) []byte {
	return serialize(t, testEth(layers.EthernetTypeIPv4), testIPv4(layers.IPProtocolTCP), tcp, gopacket.Payload(make([]byte, n)))
}

// tcpBytes serializes a TCP header and payload without an IP layer.
func tcpBytes(t testing.TB, tcp *layers.TCP, n int) []byte {
	return serialize(t, tcp, gopacket.Payload(make([]byte, n)))
}

// sll2Header is a hand-written LINKTYPE_LINUX_SLL2 header.
func sll2Header(proto layers.EthernetType) []byte {
	h := make([]byte, sll2HeaderLen)
	binary.BigEndian.PutUint16(h[0:2], uint16(proto)) // protocol type
	// h[2:4] reserved
	binary.BigEndian.PutUint32(h[4:8], 1)       // interface index (lo)
	binary.BigEndian.PutUint16(h[8:10], 772)    // ARPHRD_LOOPBACK
	h[10] = byte(layers.LinuxSLLPacketTypeHost) // packet type
	h[11] = 6                                   // address length
	copy(h[12:20], testMAC1)                    // address, padded to 8
	return h
}

// sllHeader is a hand-written LINKTYPE_LINUX_SLL header.
func sllHeader(proto layers.EthernetType) []byte {
	h := make([]byte, sllHeaderLen)
	binary.BigEndian.PutUint16(h[0:2], uint16(layers.LinuxSLLPacketTypeOutgoing)) // packet type
	binary.BigEndian.PutUint16(h[2:4], 1)                                         // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:6], 6)                                         // address length
	copy(h[6:14], testMAC1)                                                       // address, padded to 8
	binary.BigEndian.PutUint16(h[14:16], uint16(proto))                           // protocol
	return h
}

// nullHeader is a BSD loopback header: the address family in the given order.
func nullHeader(af uint32, order binary.ByteOrder) []byte {
	h := make([]byte, nullHeaderLen)
	order.PutUint32(h, af)
	return h
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestDecode(t *testing.T) {
	ip4tcp := serialize(t, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK|reassembly.PSH), gopacket.Payload(make([]byte, 10)))
	ip6tcp := serialize(t, testIPv6(layers.IPProtocolTCP), testTCP(reassembly.ACK|reassembly.PSH), gopacket.Payload(make([]byte, 10)))
	syn := ethTCP4(t, synTCP(), 0)

	// IPv4 first fragment carrying TCP header and 8 bytes; later fragment.
	frag1 := func() []byte {
		ip := testIPv4(layers.IPProtocolTCP)
		ip.Flags = layers.IPv4MoreFragments
		return serialize(t, testEth(layers.EthernetTypeIPv4), ip, testTCP(reassembly.ACK), gopacket.Payload(make([]byte, 8)))
	}()
	frag2 := func() []byte {
		ip := testIPv4(layers.IPProtocolTCP)
		ip.FragOffset = 4
		return serialize(t, testEth(layers.EthernetTypeIPv4), ip, gopacket.Payload(make([]byte, 40)))
	}()
	udp := serialize(t, testEth(layers.EthernetTypeIPv4), testIPv4(layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 53, DstPort: 53}, gopacket.Payload([]byte{1, 2, 3}))
	arp := serialize(t, testEth(layers.EthernetTypeARP), &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		SourceHwAddress: testMAC1, SourceProtAddress: testIP4a, DstHwAddress: testMAC2, DstProtAddress: testIP4b,
	})

	vlan := serialize(t, testEth(layers.EthernetTypeDot1Q), &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4},
		testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK), gopacket.Payload(make([]byte, 3)))
	qinq := serialize(t, testEth(layers.EthernetTypeQinQ), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK), gopacket.Payload(make([]byte, 3)))
	legacyQinQ := serialize(t, testEth(ethernetTypeQinQLegacy), &layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4}, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK), gopacket.Payload(make([]byte, 3)))
	var deepTags []gopacket.SerializableLayer
	deepTags = append(deepTags, testEth(layers.EthernetTypeDot1Q))
	for range maxVLANTags {
		deepTags = append(deepTags, &layers.Dot1Q{VLANIdentifier: 1, Type: layers.EthernetTypeDot1Q})
	}
	deepTags = append(deepTags, &layers.Dot1Q{VLANIdentifier: 1, Type: layers.EthernetTypeIPv4}, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK))
	tooDeep := serialize(t, deepTags...)

	// IPv6 with routing, destination options and a first fragment header before TCP.
	tcp6 := tcpBytes(t, testTCP(reassembly.ACK), 7)
	ext := cat(
		[]byte{byte(layers.IPProtocolIPv6Destination), 0, 0, 0, 0, 0, 0, 0}, // routing: next, len 0 (8 bytes), type 0, segments left 0
		[]byte{byte(layers.IPProtocolIPv6Fragment), 0, 1, 4, 0, 0, 0, 0},    // destination options: next, len, PadN(4)
		[]byte{byte(layers.IPProtocolTCP), 0, 0, 1, 0, 0, 0, 42},            // fragment: next, reserved, offset 0 + M, id
	)
	ip6ext := serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolIPv6Routing), gopacket.Payload(cat(ext, tcp6)))
	ip6frag2 := serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolIPv6Fragment),
		gopacket.Payload(cat([]byte{byte(layers.IPProtocolTCP), 0, 0, 8 << 3, 0, 0, 0, 42}, make([]byte, 16))))
	ip6hbh := serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolIPv6HopByHop),
		gopacket.Payload(cat([]byte{byte(layers.IPProtocolTCP), 0, 1, 4, 0, 0, 0, 0}, tcp6))) // next, len, PadN(4)
	ip6extCut := ip6ext[:ethernetHeaderLen+ipv6HeaderLen+12] // cut inside the destination options

	// Header-only capture: the IP header says 1000 payload bytes; none captured.
	headerOnly := ethTCP4(t, testTCP(reassembly.ACK), 1000)[:ethernetHeaderLen+ipv4MinHeaderLen+tcpMinHeaderLen]
	synCut := syn[:ethernetHeaderLen+ipv4MinHeaderLen+tcpMinHeaderLen+4] // options cut by snaplen

	badIHL := ethTCP4(t, testTCP(reassembly.ACK), 0)
	badIHL[ethernetHeaderLen] = 0x44 // version 4, IHL 4
	badOffset := ethTCP4(t, testTCP(reassembly.ACK), 0)
	badOffset[ethernetHeaderLen+ipv4MinHeaderLen+12] = 0x40 // data offset 4
	shortTotal := ethTCP4(t, testTCP(reassembly.ACK), 0)
	binary.BigEndian.PutUint16(shortTotal[ethernetHeaderLen+2:], 30) // total length < IHL + TCP header
	badVersion := ethTCP4(t, testTCP(reassembly.ACK), 0)
	badVersion[ethernetHeaderLen] = 0x65 // version 6 in an IPv4 EtherType

	bigWS := synTCP()
	bigWS.Options[4].OptionData = []byte{15}

	a4 := func(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
	tests := []struct {
		name  string
		data  []byte
		link  reassembly.LinkType
		want  reassembly.SkipReason
		check func(t *testing.T, s *reassembly.Segment)
	}{
		{"ethernet syn with options", syn, reassembly.LinkTypeEthernet, reassembly.NotSkipped, func(t *testing.T, s *reassembly.Segment) {
			want := reassembly.Segment{Seq: 1000, Flags: reassembly.SYN, Window: 512,
				IPLen: 60, MSS: 1460, WScale: 7, SACKOK: true, HasTS: true, TSVal: 7, TSEcr: 9}.WithAddrs(a4("10.0.0.1:40000"), a4("10.0.0.2:80"))
			if *s != want {
				t.Errorf("got %+v\nwant %+v", *s, want)
			}
			if got := s.Src().String(); got != "10.0.0.1:40000" {
				t.Errorf("Src.String() = %q", got)
			}
		}},
		{"ethernet payload", ethTCP4(t, testTCP(reassembly.ACK|reassembly.PSH|reassembly.FIN), 100), reassembly.LinkTypeEthernet, reassembly.NotSkipped, func(t *testing.T, s *reassembly.Segment) {
			if s.Len != 100 || s.Flags != reassembly.ACK|reassembly.PSH|reassembly.FIN || s.Ack != 2000 || s.WScale != reassembly.NoWScale || s.MSS != 0 || s.HasTS {
				t.Errorf("got %+v", *s)
			}
		}},
		{"window scale above 14 is 14", ethTCP4(t, bigWS, 0), reassembly.LinkTypeEthernet, reassembly.NotSkipped, func(t *testing.T, s *reassembly.Segment) {
			if s.WScale != maxWScale {
				t.Errorf("WScale = %d, want %d", s.WScale, maxWScale)
			}
		}},
		{"header-only capture keeps IP length", headerOnly, reassembly.LinkTypeEthernet, reassembly.NotSkipped, func(t *testing.T, s *reassembly.Segment) {
			if s.Len != 1000 {
				t.Errorf("Len = %d, want 1000", s.Len)
			}
		}},
		{"802.1q", vlan, reassembly.LinkTypeEthernet, reassembly.NotSkipped, lenIs(3)},
		{"802.1ad qinq", qinq, reassembly.LinkTypeEthernet, reassembly.NotSkipped, lenIs(3)},
		{"legacy 0x9100 qinq", legacyQinQ, reassembly.LinkTypeEthernet, reassembly.NotSkipped, lenIs(3)},
		{"too many vlan tags", tooDeep, reassembly.LinkTypeEthernet, reassembly.SkipBadHeader, nil},
		{"arp", arp, reassembly.LinkTypeEthernet, reassembly.SkipNotIP, nil},
		{"udp", udp, reassembly.LinkTypeEthernet, reassembly.SkipNotTCP, nil},
		{"ipv4 first fragment", frag1, reassembly.LinkTypeEthernet, reassembly.NotSkipped, lenIs(8)},
		{"ipv4 later fragment", frag2, reassembly.LinkTypeEthernet, reassembly.SkipFragment, nil},
		{"ipv6 ext headers", ip6ext, reassembly.LinkTypeEthernet, reassembly.NotSkipped, func(t *testing.T, s *reassembly.Segment) {
			if s.Len != 7 || s.Src().String() != "[2001:db8::1]:40000" || s.Dst().String() != "[2001:db8::2]:80" {
				t.Errorf("got Len %d, %v > %v", s.Len, s.Src(), s.Dst())
			}
		}},
		{"ipv6 hop-by-hop", ip6hbh, reassembly.LinkTypeEthernet, reassembly.NotSkipped, lenIs(7)},
		{"ipv6 later fragment", ip6frag2, reassembly.LinkTypeEthernet, reassembly.SkipFragment, nil},
		{"ipv6 ext header cut", ip6extCut, reassembly.LinkTypeEthernet, reassembly.SkipTruncated, nil},
		{"ipv6 udp", serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolUDP), &layers.UDP{SrcPort: 1, DstPort: 2}), reassembly.LinkTypeEthernet, reassembly.SkipNotTCP, nil},
		{"ethernet cut", syn[:10], reassembly.LinkTypeEthernet, reassembly.SkipTruncated, nil},
		{"ethernet header only", syn[:ethernetHeaderLen], reassembly.LinkTypeEthernet, reassembly.SkipTruncated, nil},
		{"ip header cut", syn[:ethernetHeaderLen+10], reassembly.LinkTypeEthernet, reassembly.SkipTruncated, nil},
		{"tcp header cut", syn[:ethernetHeaderLen+ipv4MinHeaderLen+10], reassembly.LinkTypeEthernet, reassembly.SkipTruncated, nil},
		{"tcp header exactly at ip header end", syn[:ethernetHeaderLen+ipv4MinHeaderLen], reassembly.LinkTypeEthernet, reassembly.SkipTruncated, nil},
		{"tcp options cut: fixed header kept", synCut, reassembly.LinkTypeEthernet, reassembly.NotSkipped, func(t *testing.T, s *reassembly.Segment) {
			t.Helper()
			if s.Flags&reassembly.SYN == 0 || s.WScale != reassembly.NoWScale || s.MSS != 0 || s.Len != 0 || s.Captured != 0 {
				t.Errorf("got flags %v wscale %d mss %d len %d captured %d; want a reassembly.SYN without options", s.Flags, s.WScale, s.MSS, s.Len, s.Captured)
			}
		}},
		{"ihl 4", badIHL, reassembly.LinkTypeEthernet, reassembly.SkipBadHeader, nil},
		{"tcp data offset 4", badOffset, reassembly.LinkTypeEthernet, reassembly.SkipBadHeader, nil},
		{"total length too small", shortTotal, reassembly.LinkTypeEthernet, reassembly.SkipBadHeader, nil},
		{"version 6 in ipv4", badVersion, reassembly.LinkTypeEthernet, reassembly.SkipBadHeader, nil},
		{"raw 101 ipv4", ip4tcp, reassembly.LinkTypeRaw, reassembly.NotSkipped, lenIs(10)},
		{"raw 101 ipv6", ip6tcp, reassembly.LinkTypeRaw, reassembly.NotSkipped, lenIs(10)},
		{"raw 12", ip4tcp, reassembly.LinkTypeRawDLT12, reassembly.NotSkipped, lenIs(10)},
		{"raw 14", ip6tcp, reassembly.LinkTypeRawDLT14, reassembly.NotSkipped, lenIs(10)},
		{"raw version 5", cat([]byte{0x50}, ip4tcp[1:]), reassembly.LinkTypeRaw, reassembly.SkipNotIP, nil},
		{"raw empty", nil, reassembly.LinkTypeRaw, reassembly.SkipTruncated, nil},
		{"ipv4 228", ip4tcp, reassembly.LinkTypeIPv4, reassembly.NotSkipped, lenIs(10)},
		{"ipv6 229", ip6tcp, reassembly.LinkTypeIPv6, reassembly.NotSkipped, lenIs(10)},
		{"null af 2", cat(nullHeader(2, binary.LittleEndian), ip4tcp), reassembly.LinkTypeNull, reassembly.NotSkipped, lenIs(10)},
		{"null af 24", cat(nullHeader(24, binary.LittleEndian), ip6tcp), reassembly.LinkTypeNull, reassembly.NotSkipped, lenIs(10)},
		{"null af 28", cat(nullHeader(28, binary.LittleEndian), ip6tcp), reassembly.LinkTypeNull, reassembly.NotSkipped, lenIs(10)},
		{"null af 30", cat(nullHeader(30, binary.LittleEndian), ip6tcp), reassembly.LinkTypeNull, reassembly.NotSkipped, lenIs(10)},
		{"loop af 30 network order", cat(nullHeader(30, binary.BigEndian), ip6tcp), reassembly.LinkTypeLoop, reassembly.NotSkipped, lenIs(10)},
		{"null unknown family", cat(nullHeader(7, binary.LittleEndian), ip4tcp), reassembly.LinkTypeNull, reassembly.SkipNotIP, nil},
		{"null cut", []byte{2, 0}, reassembly.LinkTypeNull, reassembly.SkipTruncated, nil},
		{"sll", cat(sllHeader(layers.EthernetTypeIPv4), ip4tcp), reassembly.LinkTypeLinuxSLL, reassembly.NotSkipped, lenIs(10)},
		{"sll cut", sllHeader(layers.EthernetTypeIPv4)[:8], reassembly.LinkTypeLinuxSLL, reassembly.SkipTruncated, nil},
		{"sll2 ipv4", cat(sll2Header(layers.EthernetTypeIPv4), ip4tcp), reassembly.LinkTypeLinuxSLL2, reassembly.NotSkipped, lenIs(10)},
		{"sll2 ipv6", cat(sll2Header(layers.EthernetTypeIPv6), ip6tcp), reassembly.LinkTypeLinuxSLL2, reassembly.NotSkipped, lenIs(10)},
		{"sll2 arp", cat(sll2Header(layers.EthernetTypeARP), make([]byte, 28)), reassembly.LinkTypeLinuxSLL2, reassembly.SkipNotIP, nil},
		{"sll2 cut", sll2Header(layers.EthernetTypeIPv4)[:19], reassembly.LinkTypeLinuxSLL2, reassembly.SkipTruncated, nil},
		{"unsupported link", syn, 192, reassembly.SkipUnsupportedLink, nil},
	}
	d := NewDecoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := reassembly.Segment{Frame: 42}
			got := d.Decode(tt.data, tt.link, &seg)
			if got != tt.want {
				t.Fatalf("Decode(%s) = %v; want %v", tt.link, got, tt.want)
			}
			if seg.Frame != 42 {
				t.Errorf("Decode changed Frame to %d", seg.Frame)
			}
			if tt.check != nil {
				seg.Frame = 0
				tt.check(t, &seg)
			}
		})
	}
}

func lenIs(n uint32) func(t *testing.T, s *reassembly.Segment) {
	return func(t *testing.T, s *reassembly.Segment) {
		t.Helper()
		if s.Len != n {
			t.Errorf("Len = %d, want %d", s.Len, n)
		}
		if !s.Src().IsValid() || !s.Dst().IsValid() {
			t.Errorf("invalid addresses %v > %v", s.Src(), s.Dst())
		}
		if s.Src().Addr().Is4In6() || s.Dst().Addr().Is4In6() {
			t.Errorf("IPv4 address not unmapped: %v", s.Src())
		}
	}
}

// TestDecodeFlags checks that every control bit lands in the right Flags bit.
func TestDecodeFlags(t *testing.T) {
	d := NewDecoder()
	for _, f := range []reassembly.Flags{reassembly.FIN, reassembly.SYN, reassembly.RST, reassembly.PSH, reassembly.ACK, reassembly.URG, reassembly.ECE, reassembly.CWR, reassembly.FIN | reassembly.SYN | reassembly.RST | reassembly.PSH | reassembly.ACK | reassembly.URG | reassembly.ECE | reassembly.CWR} {
		var seg reassembly.Segment
		if r := d.Decode(ethTCP4(t, testTCP(f), 0), reassembly.LinkTypeEthernet, &seg); r != reassembly.NotSkipped || seg.Flags != f {
			t.Errorf("Decode(%v) = %v, flags %v; want %v, %v", f, r, seg.Flags, reassembly.NotSkipped, f)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := []struct {
		data []byte
		link reassembly.LinkType
	}{
		{ethTCP4(t, synTCP(), 0), reassembly.LinkTypeEthernet},
		{ethTCP4(t, testTCP(reassembly.ACK), 100), reassembly.LinkTypeEthernet},
		{cat(sll2Header(layers.EthernetTypeIPv6), serialize(t, testIPv6(layers.IPProtocolTCP), synTCP())), reassembly.LinkTypeLinuxSLL2},
		{cat(nullHeader(30, binary.LittleEndian), serialize(t, testIPv6(layers.IPProtocolTCP), testTCP(reassembly.ACK))), reassembly.LinkTypeNull},
		{serialize(t, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK)), reassembly.LinkTypeRaw},
		{serialize(t, testEth(layers.EthernetTypeIPv4), testIPv4(layers.IPProtocolUDP), &layers.UDP{}), reassembly.LinkTypeEthernet},
	}
	d := NewDecoder()
	var seg reassembly.Segment
	for _, f := range frames {
		d.Decode(f.data, f.link, &seg) // warm up: parsers, option slices
	}
	for _, f := range frames {
		if n := testing.AllocsPerRun(100, func() { d.Decode(f.data, f.link, &seg) }); n != 0 {
			t.Errorf("Decode(%s) allocates %v times per call; want 0", f.link, n)
		}
	}
}

func TestLinkTypeString(t *testing.T) {
	tests := []struct {
		lt   reassembly.LinkType
		want string
	}{
		{reassembly.LinkTypeEthernet, "EN10MB"}, {reassembly.LinkTypeLinuxSLL2, "LINUX_SLL2"}, {reassembly.LinkTypeNull, "NULL"},
		{reassembly.LinkTypeRaw, "RAW"}, {reassembly.LinkTypeFDDI, "FDDI"}, {reassembly.LinkTypeRadiotap, "IEEE802_11_RADIO"},
		{reassembly.LinkTypeNFLOG, "NFLOG"}, {192, "LINKTYPE_192"},
	}
	for _, tt := range tests {
		if got := tt.lt.String(); got != tt.want {
			t.Errorf("reassembly.LinkType(%d).String() = %q; want %q", uint32(tt.lt), got, tt.want)
		}
	}
	// Every kind has a name, and a first layer or a decoder by hand
	// (which says unsupported-link only for kinds it does not know).
	d := NewDecoder()
	for k := range numLinkKinds {
		var seg reassembly.Segment
		if k.String() == "unknown" || (k != linkUnsupported && k != linkRaw && firstLayer[k] == 0 &&
			d.byHand(nil, k, &seg) == reassembly.SkipUnsupportedLink) {
			t.Errorf("link kind %d has no name, first layer or decoder", k)
		}
	}
}
