package capture

import (
	"encoding/binary"
	"errors"
	"net"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// layerTypeSLL2Number is the gopacket layer type number registered for SLL2.
// gopacket reserves 0-999; 1000-1999 are fast application types.
const layerTypeSLL2Number = 1276

// LayerTypeSLL2 is the gopacket layer type of SLL2.
var LayerTypeSLL2 = gopacket.RegisterLayerType(layerTypeSLL2Number, gopacket.LayerTypeMetadata{
	Name:    "LinuxSLL2",
	Decoder: gopacket.DecodeFunc(decodeSLL2),
})

// SLL2 header layout (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
const (
	sll2HeaderLen  = 20
	sll2MaxAddrLen = 8 // the address field is 8 bytes; longer addresses are cut
)

var errSLL2Short = errors.New("reassembly: linux sll2 header cut short")

// SLL2 is the LINKTYPE_LINUX_SLL2 pseudo-header that Linux "any"-device
// captures start with (libpcap 1.10 and later). gopacket v1.1.19 has no
// decoder for it. SLL2 implements gopacket.DecodingLayer; its slices alias the
// data passed to DecodeFromBytes.
type SLL2 struct {
	layers.BaseLayer
	// ProtocolType is the Ethernet type of the payload (ETH_P_IP, ETH_P_IPV6, …).
	ProtocolType layers.EthernetType
	// InterfaceIndex is the capturing interface's ifindex.
	InterfaceIndex uint32
	// ARPHRDType is the ARPHRD_ type of the interface (ARPHRD_ETHER, ARPHRD_LOOPBACK, …).
	ARPHRDType uint16
	// PacketType says who the packet was for (host, broadcast, outgoing, …).
	PacketType layers.LinuxSLLPacketType
	// AddrLen is the link-layer address length as captured, which may exceed 8.
	AddrLen uint8
	// Addr is the first min(AddrLen, 8) bytes of the link-layer source address.
	Addr net.HardwareAddr
}

// LayerType returns LayerTypeSLL2.
func (s *SLL2) LayerType() gopacket.LayerType { return LayerTypeSLL2 }

// CanDecode returns LayerTypeSLL2.
func (s *SLL2) CanDecode() gopacket.LayerClass { return LayerTypeSLL2 }

// NextLayerType returns the layer type of the payload, from ProtocolType.
func (s *SLL2) NextLayerType() gopacket.LayerType { return s.ProtocolType.LayerType() }

// LinkFlow returns a flow with the source address as its source endpoint.
func (s *SLL2) LinkFlow() gopacket.Flow {
	return gopacket.NewFlow(layers.EndpointMAC, s.Addr, nil)
}

// DecodeFromBytes decodes the 20-byte SLL2 header at the start of data.
func (s *SLL2) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < sll2HeaderLen {
		df.SetTruncated()
		return errSLL2Short
	}
	s.ProtocolType = layers.EthernetType(binary.BigEndian.Uint16(data[0:2]))
	// data[2:4] is reserved (must be zero).
	s.InterfaceIndex = binary.BigEndian.Uint32(data[4:8])
	s.ARPHRDType = binary.BigEndian.Uint16(data[8:10])
	s.PacketType = layers.LinuxSLLPacketType(data[10])
	s.AddrLen = data[11]
	s.Addr = net.HardwareAddr(data[12 : 12+min(int(s.AddrLen), sll2MaxAddrLen)])
	s.BaseLayer = layers.BaseLayer{Contents: data[:sll2HeaderLen], Payload: data[sll2HeaderLen:]}
	return nil
}

// decodeSLL2 lets gopacket.NewPacket decode SLL2 frames.
func decodeSLL2(data []byte, p gopacket.PacketBuilder) error {
	s := &SLL2{}
	if err := s.DecodeFromBytes(data, p); err != nil {
		return err
	}
	p.AddLayer(s)
	p.SetLinkLayer(s)
	return p.NextDecoder(s.ProtocolType)
}
