package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"github.com/tcpstate/tcpstate/reassembly"
)

// The inner connection of every tunnel test: distinct from the outer
// addresses, so a decoder that kept the outer ones is caught.
var (
	innerSrc4 = netip.MustParseAddrPort("10.9.9.1:40000")
	innerDst4 = netip.MustParseAddrPort("10.9.9.2:80")
	// A Teredo client (2001::/32) talking to a native IPv6 server.
	innerSrc6 = netip.MustParseAddrPort("[2001:0:4137:9e50:8000:f12a:b9c8:2815]:40000")
	innerDst6 = netip.MustParseAddrPort("[2001:4860:0:2001::68]:80")
)

// innerIP4 is an IPv4 TCP segment of the inner connection with n bytes of data.
func innerIP4(t testing.TB, n int) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IP(innerSrc4.Addr().AsSlice()), DstIP: net.IP(innerDst4.Addr().AsSlice())}
	return serialize(t, ip, testTCP(reassembly.ACK|reassembly.PSH), gopacket.Payload(make([]byte, n)))
}

// innerIP6 is the same over IPv6, from a Teredo address.
func innerIP6(t testing.TB, n int) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP,
		SrcIP: net.IP(innerSrc6.Addr().AsSlice()), DstIP: net.IP(innerDst6.Addr().AsSlice())}
	return serialize(t, ip, testTCP(reassembly.ACK|reassembly.PSH), gopacket.Payload(make([]byte, n)))
}

// ethHdr is an Ethernet header of type et (serialized alone, gopacket
// would pad it to the shortest frame).
func ethHdr(et layers.EthernetType) []byte {
	return cat(testMAC2, testMAC1, binary.BigEndian.AppendUint16(nil, uint16(et)))
}

// innerEth is innerIP4 in an Ethernet frame.
func innerEth(t *testing.T, n int) []byte {
	return cat(ethHdr(layers.EthernetTypeIPv4), innerIP4(t, n))
}

// overIPv4 wraps payload in Ethernet and an outer IPv4 header of protocol proto.
func overIPv4(t *testing.T, proto layers.IPProtocol, payload []byte) []byte {
	return serialize(t, testEth(layers.EthernetTypeIPv4), testIPv4(proto), gopacket.Payload(payload))
}

// udp is a UDP header from port src to port dst before payload.
func udp(src, dst uint16, payload []byte) []byte {
	h := make([]byte, udpHeaderLen)
	binary.BigEndian.PutUint16(h[0:2], src)
	binary.BigEndian.PutUint16(h[2:4], dst)
	binary.BigEndian.PutUint16(h[4:6], uint16(udpHeaderLen+len(payload)))
	return cat(h, payload)
}

func vxlan(inner []byte) []byte {
	return cat([]byte{vxlanFlagI, 0, 0, 0, 0, 0x10, 0x92, 0}, inner)
}

// TestTunnels: TCP inside each tunnel and encapsulation the decoder opens
// is the inner connection's segment, and the tunnel is named; what is not
// a tunnel, or a tunnel's broken header, is skipped as before.
func TestTunnels(t *testing.T) {
	const n = 100 // bytes of data in every inner segment
	ipip := overIPv4(t, layers.IPProtocolIPv4, innerIP4(t, n))
	// The first fragment of an outer packet carries the inner segment's
	// headers and the start of its data.
	frag := testIPv4(layers.IPProtocolIPv4)
	frag.Flags = layers.IPv4MoreFragments
	firstFrag := serialize(t, testEth(layers.EthernetTypeIPv4), frag, gopacket.Payload(innerIP4(t, n)[:60]))
	outer6 := serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolUDP), gopacket.Payload(udp(50000, portVXLAN, vxlan(innerEth(t, n)))))
	ethLen := cat(testMAC2, testMAC1, []byte{0, 0}) // 802.3: a length, then LLC
	binary.BigEndian.PutUint16(ethLen[12:14], uint16(snapHeaderLen+len(innerIP4(t, n))))
	gtpExt := []byte{gtpVersion1PT | gtpFlagsE, gtpMsgGPDU, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x85, 1, 0xaa, 0xbb, 0}
	binary.BigEndian.PutUint16(gtpExt[2:4], uint16(len(gtpExt)-gtpHeaderLen+len(innerIP4(t, n))))

	tests := []struct {
		name   string
		frame  []byte
		link   reassembly.LinkType
		want   reassembly.SkipReason
		tunnel reassembly.Tunnel
		v6     bool // the inner connection is innerSrc6 -> innerDst6
	}{
		{"vxlan", overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLAN, vxlan(innerEth(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelVXLAN, false},
		{"vxlan on Linux's port", overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLANLinux, vxlan(innerEth(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelVXLAN, false},
		{"vxlan over ipv6", outer6, 1, reassembly.NotSkipped, reassembly.TunnelVXLAN, false},
		{"vxlan-gpe, ipv4", overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLANGPE, cat([]byte{vxlanGPEFlagP | vxlanFlagI, 0, 0, gpeNextIPv4, 0, 0, 1, 0}, innerIP4(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelVXLAN, false},
		{"geneve with options", overIPv4(t, layers.IPProtocolUDP, udp(47101, portGeneve, cat([]byte{2, 0, 0x65, 0x58, 0, 0x10, 0x92, 0}, make([]byte, 8), innerEth(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelGeneve, false},
		{"gre, ipv4, with key", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0x20, 0, 0x08, 0x00, 0, 0, 0, 7}, innerIP4(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelGRE, false},
		{"gre, bridged ethernet", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0, 0x65, 0x58}, innerEth(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelGRE, false},
		{"gre, mpls", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0, 0x88, 0x47, 0, 1, 0x01, 64}, innerIP4(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelGRE | reassembly.TunnelMPLS, false},
		{"erspan type I", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0, 0x88, 0xbe}, innerEth(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelERSPAN, false},
		{"erspan type II", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1}, make([]byte, erspan2Len), innerEth(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelERSPAN, false},
		{"erspan type III with subheader", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0x10, 0, 0x22, 0xeb, 0, 0, 0, 1}, make([]byte, erspan3Len-1), []byte{1}, make([]byte, erspan3SubLen), innerEth(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelERSPAN, false},
		{"pptp", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 9, 0, 0, 0, 1, 0xff, 0x03, 0x00, 0x21}, innerIP4(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelGRE, false},
		{"gtp-u", overIPv4(t, layers.IPProtocolUDP, udp(portGTPU, portGTPU, cat([]byte{gtpVersion1PT, gtpMsgGPDU, 0, 0, 0, 0, 0, 1}, innerIP4(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelGTP, false},
		{"gtp-u with an extension header, from another port", overIPv4(t, layers.IPProtocolUDP, udp(5906, portGTPU, cat(gtpExt, innerIP4(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelGTP, false},
		{"teredo with origin indication", overIPv4(t, layers.IPProtocolUDP, udp(portTeredo, 3797, cat([]byte{0, 0, 1, 2, 3, 4, 5, 6}, innerIP6(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelTeredo, true},
		{"teredo through a relay, on other ports", overIPv4(t, layers.IPProtocolUDP, udp(3797, 32900, innerIP6(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelTeredo, true},
		{"ip in ip", ipip, 1, reassembly.NotSkipped, reassembly.TunnelIPinIP, false},
		{"ipv6 in ipv4", overIPv4(t, layers.IPProtocolIPv6, innerIP6(t, n)), 1, reassembly.NotSkipped, reassembly.TunnelIPinIP, true},
		{"ipv4 in ipv6", serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolIPv4), gopacket.Payload(innerIP4(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelIPinIP, false},
		{"ipv6 in ipv6", serialize(t, testEth(layers.EthernetTypeIPv6), testIPv6(layers.IPProtocolIPv6), gopacket.Payload(innerIP6(t, n))), 1, reassembly.NotSkipped, reassembly.TunnelIPinIP, true},
		{"ip in ip, first fragment", firstFrag, 1, reassembly.NotSkipped, reassembly.TunnelIPinIP, false},
		{"mpls, two labels", cat(ethHdr(etherTypeMPLS), []byte{0, 1, 0, 64, 0, 2, 1, 64}, innerIP4(t, n)), 1, reassembly.NotSkipped, reassembly.TunnelMPLS, false},
		{"mpls pseudowire with control word", cat(ethHdr(etherTypeMPLS), []byte{0, 2, 1, 64, 0, 0, 0, 0}, innerEth(t, n)), 1, reassembly.NotSkipped, reassembly.TunnelMPLS, false},
		{"pppoe", cat(ethHdr(etherTypePPPoE), []byte{pppoeVerType, 0, 0x0f, 0x07, 0, 0, 0x00, 0x21}, innerIP4(t, n)), 1, reassembly.NotSkipped, reassembly.TunnelPPPoE, false},
		{"802.3 with llc/snap", cat(ethLen, []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, innerIP4(t, n)), 1, reassembly.NotSkipped, 0, false},
		{"fddi", cat([]byte{0x50}, testMAC1, testMAC2, []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, innerIP4(t, n)), reassembly.LinkTypeFDDI, reassembly.NotSkipped, 0, false},

		{"gre over udp", overIPv4(t, layers.IPProtocolUDP, udp(36527, portGREoUDP, cat([]byte{0, 0, 0x08, 0x00}, innerIP4(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelGRE, false},
		{"gre from an aruba access point", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0, 0x82, 0x00}, wlanData(0x08, 0x01, innerIP4(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelGRE, false},
		{"ayiya", overIPv4(t, layers.IPProtocolUDP, udp(53859, portAYIYA, cat(ayiya(ipProtoIPv6, ayiyaForward), innerIP6(t, n)))), 1, reassembly.NotSkipped, reassembly.TunnelAYIYA, true},
		{"vn-tag, then 802.1q", cat(ethHdr(etherTypeVNTag), []byte{0x80, 0x01, 0x00, 0x02, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00}, innerIP4(t, n)), 1, reassembly.NotSkipped, 0, false},
		{"provider backbone bridging", cat(ethHdr(etherTypeQinQ), []byte{0x00, 0x05, 0x88, 0xe7, 0x00, 0x01, 0x00, 0x00}, innerEth(t, n)), 1, reassembly.NotSkipped, 0, false},
		{"cisco fabricpath", cat(ethHdr(etherTypeFabric), []byte{0x00, 0x3f}, innerEth(t, n)), 1, reassembly.NotSkipped, 0, false},

		{"vxlan without its I flag", overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLAN, cat([]byte{0, 0, 0, 0, 0, 0, 0, 0}, innerEth(t, n)))), 1, reassembly.SkipNotTCP, 0, false},
		{"dns", overIPv4(t, layers.IPProtocolUDP, udp(53000, 53, make([]byte, 40))), 1, reassembly.SkipNotTCP, 0, false},
		{"gre with routing", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0x40, 0, 0x08, 0x00, 0, 0, 0, 0}, innerIP4(t, n))), 1, reassembly.SkipNotTCP, 0, false},
		{"teredo bubble", overIPv4(t, layers.IPProtocolUDP, udp(3797, portTeredo, serialize(t, &layers.IPv6{Version: 6, HopLimit: 21, NextHeader: layers.IPProtocolNoNextHeader,
			SrcIP: net.IP(innerSrc6.Addr().AsSlice()), DstIP: net.IP(innerDst6.Addr().AsSlice())}))), 1, reassembly.SkipNotTCP, 0, false},
		{"pppoe discovery", cat(ethHdr(0x8863), make([]byte, 20)), 1, reassembly.SkipNotIP, 0, false},
		{"gre with a reserved flag", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0x08, 0x08, 0x00}, innerIP4(t, n))), 1, reassembly.SkipNotTCP, 0, false},
		{"aruba gre, encrypted", overIPv4(t, layers.IPProtocolGRE, cat([]byte{0, 0, 0x82, 0x00}, wlanData(0x08, 0x41, innerIP4(t, n)))), 1, reassembly.SkipNotTCP, 0, false},
		{"ayiya, not a forwarded packet", overIPv4(t, layers.IPProtocolUDP, udp(53859, portAYIYA, cat(ayiya(ipProtoIPv6, 0), innerIP6(t, n)))), 1, reassembly.SkipNotTCP, 0, false},
		{"fddi without snap", cat([]byte{0x50}, testMAC1, testMAC2, []byte{0x42, 0x42, 0x03, 0, 0, 0, 0, 0}), reassembly.LinkTypeFDDI, reassembly.SkipNotIP, 0, false},
	}
	d := NewDecoder()
	for _, tt := range tests {
		d.Whole = true
		captured := uint32(n)
		if tt.name == "ip in ip, first fragment" {
			captured = 60 - ipv4MinHeaderLen - tcpMinHeaderLen // the rest is in the next fragment
		}
		decodeInner(t, d, tt.name, tt.frame, tt.link, tt.want, tt.v6, n, captured, tt.tunnel)
	}
}

// decodeInner decodes frame with d and wants the reason want; for a
// segment, the inner connection (innerSrc6 -> innerDst6 if v6, else the
// IPv4 one) with n bytes of data, captured of them, found inside tun.
func decodeInner(t *testing.T, d *Decoder, name string, frame []byte, link reassembly.LinkType, want reassembly.SkipReason, v6 bool, n, captured uint32, tun reassembly.Tunnel) {
	t.Helper()
	var seg reassembly.Segment
	if r := d.Decode(frame, link, &seg); r != want || r != reassembly.NotSkipped {
		if r != want {
			t.Errorf("%s: %v; want %v", name, r, want)
		}
		return
	}
	src, dst := innerSrc4, innerDst4
	if v6 {
		src, dst = innerSrc6, innerDst6
	}
	if seg.Src() != src || seg.Dst() != dst || seg.Len != n || seg.Captured != captured || d.Tunnels() != tun {
		t.Errorf("%s: %v -> %v, %d bytes (%d captured), tunnels %b; want %v -> %v, %d (%d), %b",
			name, seg.Src(), seg.Dst(), seg.Len, seg.Captured, d.Tunnels(), src, dst, n, captured, tun)
	}
}

// wlanData is an IEEE 802.11 data frame of frame control fc and flags,
// with a QoS control field when fc says QoS and a fourth address when
// flags say both DS bits, carrying inner (IPv4) after LLC/SNAP.
func wlanData(fc, flags byte, inner []byte) []byte {
	h := cat([]byte{fc, flags, 0, 0}, testMAC1, testMAC2, testMAC1, []byte{0x10, 0})
	if flags&wlanToFromDS == wlanToFromDS {
		h = cat(h, testMAC2)
	}
	if fc&wlanSubtypeQoS != 0 {
		h = cat(h, []byte{0, 0})
		if flags&wlanOrder != 0 {
			h = cat(h, make([]byte, wlanHTCLen))
		}
	}
	return cat(h, []byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, inner)
}

// ayiya is an AYIYA header (16-byte identity, SHA-1 signature) with
// opcode op, before a packet of protocol next.
func ayiya(next, op byte) []byte {
	return cat([]byte{0x41, 0x52, 0x10 | op, next, 0x4a, 0xf7, 0x4d, 0x05}, make([]byte, 16+20))
}

// TestTunnelsAllocateNothing: opening a tunnel allocates nothing per
// packet, as the plain decode does (TestDecodeAllocs).
func TestTunnelsAllocateNothing(t *testing.T) {
	frames := [][]byte{
		overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLAN, vxlan(innerEth(t, 10)))),
		overIPv4(t, layers.IPProtocolGRE, cat([]byte{0x10, 0, 0x88, 0xbe, 0, 0, 0, 1}, make([]byte, erspan2Len), innerEth(t, 10))),
		cat(ethHdr(etherTypeMPLS), []byte{0, 1, 0, 64, 0, 2, 1, 64}, innerIP4(t, 10)),
		overIPv4(t, layers.IPProtocolIPv4, innerIP4(t, 10)),
		overIPv4(t, layers.IPProtocolUDP, udp(53859, portAYIYA, cat(ayiya(ipProtoIPv6, ayiyaForward), innerIP6(t, 10)))),
		cat(ethHdr(etherTypeVNTag), []byte{0x80, 0x01, 0x00, 0x02, 0x08, 0x00}, innerIP4(t, 10)),
	}
	d := NewDecoder()
	var seg reassembly.Segment
	for _, f := range frames {
		d.Decode(f, reassembly.LinkTypeEthernet, &seg) // warm-up: the parser
		if a := testing.AllocsPerRun(100, func() { d.Decode(f, reassembly.LinkTypeEthernet, &seg) }); a != 0 {
			t.Errorf("%d allocations per frame of tunnels %b", int(a), d.Tunnels())
		}
	}
}

// TestTunnelsNestedAtMost: a frame of tunnels in tunnels is opened
// maxTunnels deep and no deeper (a hostile capture cannot make the decoder
// recurse without end).
func TestTunnelsNestedAtMost(t *testing.T) {
	d := NewDecoder()
	frame := innerEth(t, 10)
	for depth := 1; depth <= maxTunnels+1; depth++ {
		frame = overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLAN, vxlan(frame)))
		var seg reassembly.Segment
		want := reassembly.NotSkipped
		if depth > maxTunnels {
			want = reassembly.SkipBadHeader
		}
		if r := d.Decode(frame, reassembly.LinkTypeEthernet, &seg); r != want {
			t.Errorf("%d tunnels deep: %v; want %v", depth, r, want)
		}
	}
}

// TestTunnelCut: an inner segment cut by the capture's snaplen counts as
// cut; a whole frame whose inner IP length lies is a bad header.
func TestTunnelCut(t *testing.T) {
	frame := overIPv4(t, layers.IPProtocolUDP, udp(50000, portVXLAN, vxlan(innerEth(t, 100))))
	cut := frame[:len(frame)-50]
	d := NewDecoder()
	var seg reassembly.Segment
	d.Whole = false
	if r := d.Decode(cut, reassembly.LinkTypeEthernet, &seg); r != reassembly.NotSkipped || seg.Len != 100 || seg.Captured != 50 {
		t.Errorf("cut by the snaplen: %v, %d of %d bytes; want a segment, 50 of 100 bytes", r, seg.Captured, seg.Len)
	}
	d.Whole = true
	if r := d.Decode(cut, reassembly.LinkTypeEthernet, &seg); r != reassembly.SkipBadHeader {
		t.Errorf("whole, with a lying inner length: %v; want bad-header", r)
	}
	if !d.Whole {
		t.Errorf("Decode left Whole cleared")
	}
}

// TestSourceTunneled reads the Zeek corpus's tunnel traces and the FDDI
// one: every TCP packet inside is found and counted by tunnel. The counts
// are tshark's (-Y tcp, with Teredo's heuristic on), but for
// tunnels-gtp1-outer-ip-frag: 4 of its GTP packets lost their later
// fragments, so tshark cannot reassemble them, while the first fragment
// holds the inner TCP header that tcpstate reads (72 against 68).
func TestSourceTunneled(t *testing.T) {
	tests := []struct {
		file       string
		packets    uint64
		tcp        uint64
		tunneled   map[string]uint64
		link       reassembly.LinkType
		firstInner string // the first segment's source
	}{
		{"zeek/tunnels-vxlan-encapsulated-http.pcap", 12, 12, map[string]uint64{"vxlan": 12}, reassembly.LinkTypeEthernet, "172.16.11.201:40354"},
		{"zeek/tunnels-geneve-47101.pcap", 24, 24, map[string]uint64{"geneve": 24}, reassembly.LinkTypeEthernet, "192.168.0.107:45474"},
		{"zeek/tunnels-gre-sample.pcap", 40, 22, map[string]uint64{"gre": 22}, reassembly.LinkTypeEthernet, "66.59.111.190:40264"},
		{"zeek/tunnels-gtp1-outer-ip-frag.pcap", 108, 72, map[string]uint64{"gtp-u": 72}, reassembly.LinkTypeEthernet, "10.131.47.185:1923"},
		{"zeek/tunnels-gtp2-different-udp-port.pcap", 120, 78, map[string]uint64{"gtp-u": 78}, reassembly.LinkTypeEthernet, "10.131.17.170:51803"},
		{"zeek/tunnels-teredo.pcap", 78, 55, map[string]uint64{"teredo": 22}, reassembly.LinkTypeEthernet, "75.126.130.163:80"},
		{"zeek/pppoe-over-qinq.pcap", 86, 86, map[string]uint64{"pppoe": 86}, reassembly.LinkTypeEthernet, "1.1.1.1:20394"},
		{"zeek/mpls-in-vlan.pcap", 3, 3, map[string]uint64{"mpls": 2}, reassembly.LinkTypeEthernet, "65.65.65.65:19244"},
		{"formats/fddi-llc.pcap", 1333, 1333, map[string]uint64{}, reassembly.LinkTypeFDDI, "128.3.140.132:2035"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("../../testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			segs, st, err := readAll(t, Input{Name: tt.file, R: bytes.NewReader(data)})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]uint64{}
			for i, n := range st.Tunneled {
				if n > 0 {
					got[reassembly.TunnelName(i)] = n
				}
			}
			if st.Packets != tt.packets || st.TCPPackets != tt.tcp || uint64(len(segs)) != tt.tcp || !reflect.DeepEqual(got, tt.tunneled) {
				t.Errorf("%d packets, %d TCP (%d segments), tunneled %v; want %d, %d, %v", st.Packets, st.TCPPackets, len(segs), got, tt.packets, tt.tcp, tt.tunneled)
			}
			if len(st.LinkTypes) != 1 || st.LinkTypes[0].Type != tt.link {
				t.Errorf("link types %+v; want only %v", st.LinkTypes, tt.link)
			}
			if len(segs) > 0 && segs[0].Src().String() != tt.firstInner {
				t.Errorf("first segment from %v; want %s", segs[0].Src(), tt.firstInner)
			}
			if st.Skipped[reassembly.SkipBadHeader] != 0 || st.Skipped[reassembly.SkipTruncated] != 0 {
				t.Errorf("skipped %v", st.Skipped)
			}
		})
	}
}
