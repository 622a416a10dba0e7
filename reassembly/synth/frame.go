package synth

import (
	"encoding/binary"
	"net/netip"
)

// Classic pcap, as tcpdump writes it on a little-endian machine.
const (
	pcapMagicMicros  = 0xa1b2c3d4
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	pcapFileHeader   = 24
	pcapRecordHeader = 16
	linkTypeEthernet = 1
)

// Header sizes on the wire.
const (
	ethLen       = 14
	ipv4Len      = 20
	ipv6Len      = 40
	tcpFixedLen  = 20
	portsLen     = 4 // the TCP ports, part of the per-direction template
	maxHeaderLen = ethLen + ipv6Len + tcpFixedLen + 20
	etherIPv4    = 0x0800
	etherIPv6    = 0x86dd
	protoTCP     = 6
	ipv4DF       = 0x4000
	mss4, mss6   = 1460, 1440
	tsOptLen     = 12 // NOP, NOP, timestamps
	wscale       = 7  // Linux's shift for the default 6 MB receive buffer limit
)

// tcpFlags are the TCP control bits the generator sets.
type tcpFlags uint8

// TCP control bits (RFC 9293 §3.1).
const (
	flagFIN tcpFlags = 1 << iota
	flagSYN
	flagRST
	flagPSH
	flagACK
)

// optKind is the option layout of a segment's TCP header.
type optKind uint8

// Option layouts, as Linux sends them.
const (
	// optNone: no options (RSTs sent for a segment that matched no socket).
	optNone optKind = iota
	// optTS: NOP, NOP, timestamps: every segment of a connection that
	// negotiated timestamps (a 66-byte frame over IPv4, 86 over IPv6).
	optTS
	// optSYN: MSS, SACK-permitted, timestamps, NOP, window scale (SYN, SYN-ACK).
	optSYN
)

// tcpLen returns the TCP header length with these options.
func (o optKind) tcpLen() int {
	switch o {
	case optTS:
		return tcpFixedLen + tsOptLen
	case optSYN:
		return tcpFixedLen + 20
	}
	return tcpFixedLen
}

// MAC addresses of the capturing host's link: the server's NIC and its gateway.
var (
	macServer  = [6]byte{0x02, 0x53, 0x00, 0x00, 0x00, 0x02}
	macGateway = [6]byte{0x02, 0x53, 0x00, 0x00, 0x00, 0x01}
)

// addrs is what never changes between the segments of one connection in
// one direction: the link, IP and port header bytes and their partial
// checksums, so that a segment costs a copy and a few stores.
type addrs struct {
	v6 bool
	// hdr holds Ethernet, IP (length, ID and checksum zero) and the TCP
	// ports, per direction; hlen is its length (38 or 58 bytes).
	hdr  [2][ethLen + ipv6Len + portsLen]byte
	hlen int
	// ipSum is the IPv4 header's constant words summed; psum the TCP
	// pseudo-header's addresses and protocol summed.
	ipSum, psum [2]uint32
	mss         uint16
}

// setAddrs fills a for a connection from client to server; ttl is the
// client's packets' TTL at the capture point, flow the IPv6 flow labels.
func (a *addrs) setAddrs(client, server netip.AddrPort, ttl uint8, flow [2]uint32) {
	a.v6 = client.Addr().Is6()
	a.mss = mss4
	a.hlen = ethLen + ipv4Len + portsLen
	if a.v6 {
		a.mss = mss6
		a.hlen = ethLen + ipv6Len + portsLen
	}
	for d := range 2 {
		src, dst := client, server
		dmac, smac := macServer, macGateway
		t := ttl
		if d == 1 {
			src, dst = server, client
			dmac, smac = macGateway, macServer
			t = 64
		}
		h := a.hdr[d][:a.hlen]
		clear(h) // the conn may have carried the other IP version before
		copy(h[0:6], dmac[:])
		copy(h[6:12], smac[:])
		ip := h[ethLen:]
		var ipEnd int
		if a.v6 {
			binary.BigEndian.PutUint16(h[12:], etherIPv6)
			binary.BigEndian.PutUint32(ip[0:], 6<<28|flow[d]&0xfffff)
			ip[6], ip[7] = protoTCP, t
			s16, d16 := src.Addr().As16(), dst.Addr().As16()
			copy(ip[8:24], s16[:])
			copy(ip[24:40], d16[:])
			a.psum[d] = sumBytes(ip[8:40]) + protoTCP
			ipEnd = ipv6Len
		} else {
			binary.BigEndian.PutUint16(h[12:], etherIPv4)
			ip[0], ip[1] = 0x45, 0
			binary.BigEndian.PutUint16(ip[6:], ipv4DF)
			ip[8], ip[9] = t, protoTCP
			s4, d4 := src.Addr().As4(), dst.Addr().As4()
			copy(ip[12:16], s4[:])
			copy(ip[16:20], d4[:])
			a.ipSum[d] = sumBytes(ip[0:20])
			a.psum[d] = sumBytes(ip[12:20]) + protoTCP
			ipEnd = ipv4Len
		}
		binary.BigEndian.PutUint16(ip[ipEnd:], src.Port())
		binary.BigEndian.PutUint16(ip[ipEnd+2:], dst.Port())
	}
}

// sumBytes adds b (even length) as big-endian 16-bit words.
func sumBytes(b []byte) uint32 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	return s
}

// fold reduces a one's-complement sum to 16 bits.
func fold(s uint64) uint16 {
	s = s>>32 + s&0xffffffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	s = s>>16 + s&0xffff
	return uint16(s)
}

// pcapFileHeader returns the classic pcap file header.
func pcapHeader(snaplen int) [pcapFileHeader]byte {
	var h [pcapFileHeader]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], pcapMagicMicros)
	le.PutUint16(h[4:], pcapVersionMajor)
	le.PutUint16(h[6:], pcapVersionMinor)
	le.PutUint32(h[16:], uint32(snaplen))
	le.PutUint32(h[20:], linkTypeEthernet)
	return h
}

// encode writes segment p's pcap record (header and the first snaplen
// bytes of the frame; payload bytes are zeros) to dst, which must hold
// pcapRecordHeader+min(snaplen, frame length) bytes, and returns that
// length. scratch holds the headers while they are built. It never allocates.
func (a *addrs) encode(dst []byte, scratch *[maxHeaderLen]byte, p *pkt, snaplen int) int {
	be := binary.BigEndian
	tcpLen := p.opt.tcpLen()
	ipPayload := tcpLen + int(p.plen)
	h := scratch[:]
	copy(h, a.hdr[p.dir][:a.hlen])
	ipHdr := ipv4Len
	if a.v6 {
		ipHdr = ipv6Len
		be.PutUint16(h[ethLen+4:], uint16(ipPayload))
	} else {
		ip := h[ethLen : ethLen+ipv4Len]
		total := uint16(ipv4Len + ipPayload)
		be.PutUint16(ip[2:], total)
		be.PutUint16(ip[4:], p.ipid)
		be.PutUint16(ip[10:], ^fold(uint64(a.ipSum[p.dir])+uint64(total)+uint64(p.ipid)))
	}
	t := h[ethLen+ipHdr : ethLen+ipHdr+tcpLen]
	be.PutUint32(t[4:], p.seq)
	be.PutUint32(t[8:], p.ack)
	t[12] = byte(tcpLen/4) << 4
	t[13] = byte(p.flags)
	be.PutUint16(t[14:], p.win)
	t[16], t[17], t[18], t[19] = 0, 0, 0, 0
	switch p.opt {
	case optTS:
		t[20], t[21], t[22], t[23] = 1, 1, 8, 10
		be.PutUint32(t[24:], p.tsval)
		be.PutUint32(t[28:], p.tsecr)
	case optSYN:
		t[20], t[21] = 2, 4
		be.PutUint16(t[22:], a.mss)
		t[24], t[25], t[26], t[27] = 4, 2, 8, 10
		be.PutUint32(t[28:], p.tsval)
		be.PutUint32(t[32:], p.tsecr)
		t[36], t[37], t[38], t[39] = 1, 3, 3, wscale
	}
	// The payload is all zeros, so it adds nothing to the checksum: the
	// pseudo-header (with the full TCP length) and the header are enough.
	s := uint64(a.psum[p.dir]) + uint64(ipPayload)
	for i := 0; i < tcpLen; i += 4 {
		s += uint64(be.Uint32(t[i:]))
	}
	be.PutUint16(t[16:], ^fold(s))

	wire := ethLen + ipHdr + ipPayload
	capLen := min(wire, snaplen)
	le := binary.LittleEndian
	le.PutUint32(dst[0:], uint32(p.t/1e6))
	le.PutUint32(dst[4:], uint32(p.t%1e6))
	le.PutUint32(dst[8:], uint32(capLen))
	le.PutUint32(dst[12:], uint32(wire))
	hdrLen := ethLen + ipHdr + tcpLen
	n := copy(dst[pcapRecordHeader:pcapRecordHeader+capLen], h[:hdrLen])
	clear(dst[pcapRecordHeader+n : pcapRecordHeader+capLen])
	return pcapRecordHeader + capLen
}
