package capture

import (
	"encoding/binary"

	"github.com/tcpstate/tcpstate/reassembly"
)

// EtherTypes the fast path follows.
const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86DD
	etherTypeVLAN = 0x8100
	dot1QLen      = 4
	ipProtoTCP    = 6
	// ipv4NoOptions is the first byte of an IPv4 header without options:
	// version 4, IHL 5.
	ipv4NoOptions = 0x45
	// ipv4FragMask covers the more-fragments flag and the fragment offset.
	ipv4FragMask = 0x3FFF

	tcpOptEnd       = 0
	tcpOptNop       = 1
	tcpOptMSS       = 2
	tcpOptWScale    = 3
	tcpOptSACKOK    = 4
	tcpOptTimestamp = 8

	// nopNopTimestamp is NOP, NOP, then the timestamps option's kind and
	// length: the 12 option bytes of nearly every segment after a SYN.
	nopNopTimestamp    = 0x0101080a
	nopNopTimestampLen = 12
)

// fast decodes the frames almost every capture is made of, without the
// layer parser: an Ethernet (at most one 802.1Q tag), SLL, SLL2 or raw-IP
// frame holding an unfragmented IPv4 datagram without options, or an IPv6
// packet whose next header is TCP, with a TCP header captured whole and
// well-formed options. It fills seg as Decode would and reports true, or
// reports false, leaving seg for the general path to overwrite, on anything
// else: other link types, tunnels, extension headers, fragments, truncated
// or malformed headers. FuzzFastDecode checks that whenever it answers, its
// answer is the general path's.
func fast(data []byte, k linkKind, seg *reassembly.Segment) bool {
	var et uint16
	switch k {
	case linkEthernet:
		if len(data) < ethernetHeaderLen {
			return false
		}
		et, data = binary.BigEndian.Uint16(data[12:14]), data[ethernetHeaderLen:]
		if et == etherTypeVLAN {
			if len(data) < dot1QLen {
				return false
			}
			et, data = binary.BigEndian.Uint16(data[2:4]), data[dot1QLen:]
		}
	case linkSLL:
		if len(data) < sllHeaderLen {
			return false
		}
		et, data = binary.BigEndian.Uint16(data[14:16]), data[sllHeaderLen:]
	case linkSLL2:
		if len(data) < sll2HeaderLen {
			return false
		}
		et, data = binary.BigEndian.Uint16(data[0:2]), data[sll2HeaderLen:]
	case linkIPv4:
		et = etherTypeIPv4
	case linkIPv6:
		et = etherTypeIPv6
	default:
		return false
	}
	switch et {
	case etherTypeIPv4:
		// Version 4, no options, a total length that holds both minimal
		// headers, not a fragment, TCP.
		if len(data) < ipv4MinHeaderLen || data[0] != ipv4NoOptions || data[9] != ipProtoTCP ||
			binary.BigEndian.Uint16(data[6:8])&ipv4FragMask != 0 {
			return false
		}
		total := int(binary.BigEndian.Uint16(data[2:4]))
		if total < ipv4MinHeaderLen+tcpMinHeaderLen {
			return false
		}
		src := reassembly.IPv4([4]byte(data[12:16]))
		dst := reassembly.IPv4([4]byte(data[16:20]))
		if !fastTCP(data[ipv4MinHeaderLen:min(len(data), total)], total-ipv4MinHeaderLen, src, dst, false, seg) {
			return false
		}
		seg.IPLen = uint32(total)
		return true
	case etherTypeIPv6:
		if len(data) < ipv6HeaderLen || data[0]>>4 != 6 || data[6] != ipProtoTCP {
			return false
		}
		plen := int(binary.BigEndian.Uint16(data[4:6]))
		if plen < tcpMinHeaderLen {
			return false
		}
		src := reassembly.IP{Hi: binary.BigEndian.Uint64(data[8:16]), Lo: binary.BigEndian.Uint64(data[16:24])}
		dst := reassembly.IP{Hi: binary.BigEndian.Uint64(data[24:32]), Lo: binary.BigEndian.Uint64(data[32:40])}
		if !fastTCP(data[ipv6HeaderLen:min(len(data), ipv6HeaderLen+plen)], plen, src, dst, true, seg) {
			return false
		}
		seg.IPLen = uint32(ipv6HeaderLen + plen)
		return true
	}
	return false
}

// fastTCP fills seg from the TCP header at t, whose segment is ipPayload
// bytes long according to the IP header.
func fastTCP(t []byte, ipPayload int, src, dst reassembly.IP, v6 bool, seg *reassembly.Segment) bool {
	if len(t) < tcpMinHeaderLen {
		return false
	}
	hl := int(t[12]>>4) * 4
	if hl < tcpMinHeaderLen || hl > len(t) || hl > ipPayload {
		return false
	}
	// Options first: a malformed one sends the frame to the general path
	// before seg is touched.
	var (
		mss          uint16
		wscale       int8 = reassembly.NoWScale
		sackOK, ts   bool
		tsVal, tsEcr uint32
	)
	opts := t[tcpMinHeaderLen:hl]
	if len(opts) == nopNopTimestampLen && binary.BigEndian.Uint32(opts) == nopNopTimestamp {
		// What Linux puts in every segment after the SYN: skip the loop.
		ts, tsVal, tsEcr = true, binary.BigEndian.Uint32(opts[4:8]), binary.BigEndian.Uint32(opts[8:12])
		opts = nil
	}
	for o := opts; len(o) > 0; {
		kind := o[0]
		if kind == tcpOptEnd {
			break
		}
		if kind == tcpOptNop {
			o = o[1:]
			continue
		}
		if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
			return false
		}
		v := o[2:o[1]]
		switch kind {
		case tcpOptMSS:
			if len(v) == mssOptionLen {
				mss = binary.BigEndian.Uint16(v)
			}
		case tcpOptWScale:
			if len(v) == wscaleOptionLen {
				wscale = int8(min(v[0], maxWScale))
			}
		case tcpOptSACKOK:
			sackOK = true
		case tcpOptTimestamp:
			if len(v) == timestampsOptionLen {
				ts, tsVal, tsEcr = true, binary.BigEndian.Uint32(v[0:4]), binary.BigEndian.Uint32(v[4:8])
			}
		}
		o = o[o[1]:]
	}
	n := ipPayload - hl
	// Every field but Frame and Time (the caller's) and IPLen (fast's),
	// one by one: a composite literal would be built aside and copied.
	seg.SrcIP, seg.DstIP, seg.V6 = src, dst, v6
	seg.SrcPort = binary.BigEndian.Uint16(t[0:2])
	seg.DstPort = binary.BigEndian.Uint16(t[2:4])
	seg.Seq = binary.BigEndian.Uint32(t[4:8])
	seg.Ack = binary.BigEndian.Uint32(t[8:12])
	seg.Flags = reassembly.Flags(t[tcpFlagsOffset])
	seg.Window = binary.BigEndian.Uint16(t[14:16])
	seg.Len = uint32(n)
	seg.Captured = uint32(min(len(t)-hl, n))
	seg.MSS, seg.WScale, seg.SACKOK = mss, wscale, sackOK
	seg.HasTS, seg.TSVal, seg.TSEcr = ts, tsVal, tsEcr
	return true
}
