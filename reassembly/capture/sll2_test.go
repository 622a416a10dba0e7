package capture

import (
	"net"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

func TestSLL2(t *testing.T) {
	ip4 := serialize(t, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.SYN))
	frame := cat(sll2Header(layers.EthernetTypeIPv4), ip4)

	var s SLL2
	if err := s.DecodeFromBytes(frame, gopacket.NilDecodeFeedback); err != nil {
		t.Fatal(err)
	}
	want := SLL2{ProtocolType: layers.EthernetTypeIPv4, InterfaceIndex: 1, ARPHRDType: 772,
		PacketType: layers.LinuxSLLPacketTypeHost, AddrLen: 6, Addr: net.HardwareAddr(testMAC1)}
	s.BaseLayer = layers.BaseLayer{}
	if s.ProtocolType != want.ProtocolType || s.InterfaceIndex != want.InterfaceIndex || s.ARPHRDType != want.ARPHRDType ||
		s.PacketType != want.PacketType || s.AddrLen != want.AddrLen || s.Addr.String() != want.Addr.String() {
		t.Errorf("DecodeFromBytes = %+v; want %+v", s, want)
	}
	if s.NextLayerType() != layers.LayerTypeIPv4 || s.LayerType() != LayerTypeSLL2 || s.CanDecode() != LayerTypeSLL2 {
		t.Errorf("layer types %v %v %v", s.NextLayerType(), s.LayerType(), s.CanDecode())
	}
	if err := s.DecodeFromBytes(frame[:sll2HeaderLen-1], gopacket.NilDecodeFeedback); err == nil {
		t.Error("DecodeFromBytes(19 bytes) succeeded")
	}

	// An address length above 8 is cut to the 8-byte field.
	long := cat(sll2Header(layers.EthernetTypeIPv4), ip4)
	long[11] = 20
	if err := s.DecodeFromBytes(long, gopacket.NilDecodeFeedback); err != nil || len(s.Addr) != sll2MaxAddrLen {
		t.Errorf("DecodeFromBytes(addr len 20) = %v, %d-byte address", err, len(s.Addr))
	}

	// The registered decoder works with gopacket.NewPacket too.
	p := gopacket.NewPacket(frame, LayerTypeSLL2, gopacket.Default)
	if p.Layer(LayerTypeSLL2) == nil || p.Layer(layers.LayerTypeTCP) == nil || p.ErrorLayer() != nil {
		t.Errorf("NewPacket layers = %v", p.Layers())
	}
}
