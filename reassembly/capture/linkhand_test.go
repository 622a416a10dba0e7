package capture

import (
	"encoding/binary"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"
)

// nflogRecord is an NFLOG record of family fam around ip: a prefix TLV,
// then the payload TLV, their headers in byte order bo (the capturing
// host's), each padded to 4 bytes.
func nflogRecord(fam byte, bo binary.ByteOrder, ip []byte) []byte {
	tlv := func(typ uint16, v []byte) []byte {
		h := make([]byte, nflogTLVLen)
		bo.PutUint16(h[0:2], uint16(nflogTLVLen+len(v)))
		bo.PutUint16(h[2:4], typ)
		return cat(h, v, make([]byte, (4-len(v)%4)%4))
	}
	return cat([]byte{fam, 0, 0, 5}, tlv(10, []byte("tcpstate\x00")), tlv(nflogPayload, ip))
}

// radiotap is a radiotap header with the TSFT and flags fields (and, if
// ext, a second, empty present word), the flags being flags.
func radiotap(flags byte, ext bool) []byte {
	present := []byte{radiotapTSFT | radiotapFlags, 0, 0, 0}
	words := present
	if ext {
		present[3] = 0x80
		words = cat(present, []byte{0, 0, 0, 0})
	}
	h := cat([]byte{0, 0, 0, 0}, words)
	h = cat(h, make([]byte, (8-len(h)%8)%8), make([]byte, radiotapTSFTLen), []byte{flags, 0})
	binary.LittleEndian.PutUint16(h[2:4], uint16(len(h)))
	return h
}

// TestHandLinks: each link type decoded by hand yields the segment inside
// its frames; what they carry that is not IP, or cannot be read, is
// skipped for the right reason.
func TestHandLinks(t *testing.T) {
	const n = 100
	ip4, ip6 := innerIP4(t, n), innerIP6(t, n)
	// A QoS data frame (26-byte header) padded to 28 bytes, as radiotap's
	// flag says, with a frame check sequence at its end.
	padded := wlanData(0x88, 0x02, ip4)
	padded = cat(padded[:26], []byte{0, 0}, padded[26:], []byte{1, 2, 3, 4})
	amsdu := wlanData(0x88, 0x02, nil)
	amsdu[24] = wlanAMSDU
	amsdu = cat(amsdu[:26], testMAC1, testMAC2, []byte{0, byte(snapHeaderLen + len(ip4))}, amsdu[26:], ip4)
	cut := nflogRecord(afINET, binary.LittleEndian, ip4)

	tests := []struct {
		name  string
		link  reassembly.LinkType
		frame []byte
		whole bool
		want  reassembly.SkipReason
		tun   reassembly.Tunnel
		v6    bool
	}{
		{"ppp in hdlc framing", reassembly.LinkTypePPP, cat([]byte{0xff, 0x03, 0x00, 0x21}, ip4), true, reassembly.NotSkipped, 0, false},
		{"ppp, no framing, compressed protocol", reassembly.LinkTypePPP, cat([]byte{0x21}, ip4), true, reassembly.NotSkipped, 0, false},
		{"ppp serial, ipv6", reassembly.LinkTypePPPSerial, cat([]byte{0xff, 0x03, 0x00, 0x57}, ip6), true, reassembly.NotSkipped, 0, true},
		{"ppp serial carrying cisco hdlc", reassembly.LinkTypePPPSerial, cat([]byte{hdlcUnicast, 0, 0x08, 0x00}, ip4), true, reassembly.NotSkipped, 0, false},
		{"cisco hdlc, ipv6", reassembly.LinkTypeCHDLC, cat([]byte{hdlcMulticast, 0, 0x86, 0xdd}, ip6), true, reassembly.NotSkipped, 0, true},
		{"ppp, mpls", reassembly.LinkTypePPP, cat([]byte{0xff, 0x03, 0x02, 0x81, 0, 1, 0x01, 64}, ip4), true, reassembly.NotSkipped, reassembly.TunnelMPLS, false},
		{"ppp lcp", reassembly.LinkTypePPP, []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, true, reassembly.SkipNotIP, 0, false},
		{"ppp, one byte", reassembly.LinkTypePPP, []byte{0xff}, false, reassembly.SkipTruncated, 0, false},

		{"802.11 data to the AP", reassembly.LinkTypeIEEE80211, wlanData(0x08, 0x01, ip4), true, reassembly.NotSkipped, 0, false},
		{"802.11 QoS data, four addresses, HT control", reassembly.LinkTypeIEEE80211, wlanData(0x88, 0x83, ip4), true, reassembly.NotSkipped, 0, false},
		{"802.11 A-MSDU", reassembly.LinkTypeIEEE80211, amsdu, true, reassembly.NotSkipped, 0, false},
		{"802.11 encrypted", reassembly.LinkTypeIEEE80211, wlanData(0x88, 0x42, ip4), true, reassembly.SkipEncrypted, 0, false},
		{"802.11 null function", reassembly.LinkTypeIEEE80211, wlanData(0x48, 0x01, nil)[:24], true, reassembly.SkipNotIP, 0, false},
		{"802.11 beacon", reassembly.LinkTypeIEEE80211, cat([]byte{0x80, 0}, make([]byte, 60)), true, reassembly.SkipNotIP, 0, false},
		{"802.11 cut in its header", reassembly.LinkTypeIEEE80211, wlanData(0x08, 0x01, ip4)[:20], false, reassembly.SkipTruncated, 0, false},
		{"radiotap, minimal", reassembly.LinkTypeRadiotap, cat([]byte{0, 0, 8, 0, 0, 0, 0, 0}, wlanData(0x08, 0x02, ip4)), true, reassembly.NotSkipped, 0, false},
		{"radiotap, padded header and FCS", reassembly.LinkTypeRadiotap, cat(radiotap(radiotapFlagPad|0x10, false), padded), true, reassembly.NotSkipped, 0, false},
		{"radiotap, two present words", reassembly.LinkTypeRadiotap, cat(radiotap(0, true), wlanData(0x08, 0x02, ip4)), true, reassembly.NotSkipped, 0, false},
		{"radiotap, bad FCS", reassembly.LinkTypeRadiotap, cat(radiotap(radiotapFlagBadFCS, false), wlanData(0x08, 0x02, ip4)), true, reassembly.SkipBadHeader, 0, false},
		{"radiotap, length past the frame", reassembly.LinkTypeRadiotap, []byte{0, 0, 64, 0, 0, 0, 0, 0, 1}, false, reassembly.SkipTruncated, 0, false},
		{"radiotap, version 1", reassembly.LinkTypeRadiotap, cat([]byte{1, 0, 8, 0, 0, 0, 0, 0}, wlanData(0x08, 0x02, ip4)), true, reassembly.SkipBadHeader, 0, false},

		{"nflog, little-endian host", reassembly.LinkTypeNFLOG, nflogRecord(afINET, binary.LittleEndian, ip4), true, reassembly.NotSkipped, 0, false},
		{"nflog, big-endian host, ipv6", reassembly.LinkTypeNFLOG, nflogRecord(afINET6, binary.BigEndian, ip6), true, reassembly.NotSkipped, 0, true},
		{"nflog, cut by the snaplen", reassembly.LinkTypeNFLOG, cut[:len(cut)-40], false, reassembly.NotSkipped, 0, false},
		{"nflog, no payload", reassembly.LinkTypeNFLOG, nflogRecord(afINET, binary.LittleEndian, nil)[:16], true, reassembly.SkipNotIP, 0, false},
		{"nflog, cut before the payload", reassembly.LinkTypeNFLOG, nflogRecord(afINET, binary.LittleEndian, ip4)[:18], false, reassembly.SkipTruncated, 0, false},
		{"nflog, bridge family", reassembly.LinkTypeNFLOG, nflogRecord(7, binary.LittleEndian, ip4), true, reassembly.SkipNotIP, 0, false},
		{"pflog, openbsd's 100-byte header", reassembly.LinkTypePFLOG, cat([]byte{100, 24}, make([]byte, 98), ip6), true, reassembly.NotSkipped, 0, true},
		{"pflog, a length too short", reassembly.LinkTypePFLOG, cat([]byte{20, 2}, make([]byte, 18), ip4), true, reassembly.SkipBadHeader, 0, false},
		{"pflog, cut in its header", reassembly.LinkTypePFLOG, cat([]byte{61, 2}, make([]byte, 30)), false, reassembly.SkipTruncated, 0, false},
		{"nflog, a zero-length tlv", reassembly.LinkTypeNFLOG, []byte{afINET, 0, 0, 5, 0, 0, 9, 0}, true, reassembly.SkipBadHeader, 0, false},
	}
	d := NewDecoder()
	for _, tt := range tests {
		d.Whole = tt.whole
		captured := uint32(n)
		if !tt.whole {
			captured = n - 40
		}
		decodeInner(t, d, tt.name, tt.frame, tt.link, tt.want, tt.v6, n, captured, tt.tun)
	}
}

// TestHandLinksAllocateNothing: the hand-decoded link types allocate
// nothing per frame either.
func TestHandLinksAllocateNothing(t *testing.T) {
	frames := []struct {
		link  reassembly.LinkType
		frame []byte
	}{
		{reassembly.LinkTypeNFLOG, nflogRecord(afINET, binary.LittleEndian, innerIP4(t, 10))},
		{reassembly.LinkTypeRadiotap, cat(radiotap(0, true), wlanData(0x88, 0x02, innerIP4(t, 10)))},
		{reassembly.LinkTypePPPSerial, cat([]byte{0xff, 0x03, 0x00, 0x21}, innerIP4(t, 10))},
	}
	d := NewDecoder()
	var seg reassembly.Segment
	for _, f := range frames {
		if r := d.Decode(f.frame, f.link, &seg); r != reassembly.NotSkipped {
			t.Fatalf("%v: %v", f.link, r)
		}
		if a := testing.AllocsPerRun(100, func() { d.Decode(f.frame, f.link, &seg) }); a != 0 {
			t.Errorf("%v: %d allocations per frame", f.link, int(a))
		}
	}
}
