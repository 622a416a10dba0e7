package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"

	"github.com/google/gopacket/pcapgo"
)

// seedFrames returns the frames of the fixtures in testdata/formats, of
// the Zeek traces of tunnels and other encapsulations, of the kernel's
// NFLOG capture and a few hand-built ones, with their link types.
func seedFrames(f *testing.F) (frames [][]byte, links []reassembly.LinkType) {
	for _, name := range []string{"lo-ethernet.pcap", "any-sll2.pcap", "any-sll.pcap", "null-ipv6.pcap", "vlan-8021q.pcap", "qinq-synthetic.pcap", "lo-rawip.pcap",
		"fddi-llc.pcap", "lo-radiotap.pcap", "lo-ppp-serial.pcap", "lo-chdlc.pcap", "lo-pflog.pcap", "../zeek/tunnels-vxlan-encapsulated-http.pcap", "../zeek/tunnels-geneve-47101.pcap", "../zeek/tunnels-gre-sample.pcap",
		"../zeek/tunnels-gtp1-outer-ip-frag.pcap", "../zeek/tunnels-teredo.pcap", "../zeek/pppoe-over-qinq.pcap", "../zeek/mpls-in-vlan.pcap", "../kernel/nflog-close-wait.pcap"} {
		data, err := os.ReadFile(filepath.Join(formatsDir, name))
		if err != nil {
			f.Fatal(err)
		}
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			f.Fatal(err)
		}
		var bo binary.ByteOrder = binary.LittleEndian
		if data[0] == 0xa1 {
			bo = binary.BigEndian
		}
		link := reassembly.LinkType(bo.Uint32(data[20:24]) & 0x0fffffff)
		for {
			frame, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			frames, links = append(frames, frame), append(links, link)
		}
	}
	// What no bundled capture has, built as their tests build it: 802.11
	// without radiotap (four addresses, QoS, HT control), radiotap with two
	// present words, NFLOG from a big-endian host.
	ip4 := innerIP4(f, 10)
	frames = append(frames, wlanData(0x88, 0x83, ip4), cat(radiotap(0, true), wlanData(0x88, 0x02, ip4)),
		nflogRecord(afINET, binary.BigEndian, ip4))
	links = append(links, reassembly.LinkTypeIEEE80211, reassembly.LinkTypeRadiotap, reassembly.LinkTypeNFLOG)
	return frames, links
}

func FuzzDecode(f *testing.F) {
	frames, links := seedFrames(f)
	for i := range frames {
		f.Add(frames[i], uint16(links[i]))
	}
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, data []byte, link uint16) {
		seg := reassembly.Segment{Frame: 7}
		r := d.Decode(data, reassembly.LinkType(link), &seg)
		if int(r) >= reassembly.NumSkipReasons {
			t.Fatalf("Decode returned unknown reason %d", r)
		}
		if seg.Frame != 7 {
			t.Fatalf("Decode changed Frame")
		}
		if r != reassembly.NotSkipped {
			return
		}
		if !seg.Src().IsValid() || !seg.Dst().IsValid() {
			t.Fatalf("invalid addresses %v > %v", seg.Src(), seg.Dst())
		}
		// Both ends have the same family. An IPv4-mapped address inside an
		// IPv6 header stays IPv6: only IPv4 headers give 4-byte addresses.
		if seg.Src().Addr().Is4() != seg.Dst().Addr().Is4() || seg.Src().Addr().Zone() != "" || seg.Dst().Addr().Zone() != "" {
			t.Fatalf("inconsistent addresses %v > %v", seg.Src(), seg.Dst())
		}
		// The payload length fits in what the IP header can express.
		if seg.Len > 0xFFFF-tcpMinHeaderLen {
			t.Fatalf("Len %d larger than an IP datagram", seg.Len)
		}
		if seg.WScale < reassembly.NoWScale || seg.WScale > maxWScale {
			t.Fatalf("WScale %d out of range", seg.WScale)
		}
		if !seg.HasTS && (seg.TSVal != 0 || seg.TSEcr != 0) {
			t.Fatalf("timestamps set without HasTS")
		}
	})
}

func FuzzReader(f *testing.F) {
	entries, err := os.ReadDir(formatsDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(formatsDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		if len(data) < 4096 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := NewSource([]Input{{Name: "fuzz", R: bytes.NewReader(data)}})
		if err != nil {
			if s != nil {
				t.Fatal("NewSource returned a Source and an error")
			}
			return
		}
		defer s.Close()
		// Every record takes at least 12 bytes of input, so this bounds a
		// correct reader; a loop that makes no progress fails here.
		limit := uint64(len(data))/12 + 2
		var seg reassembly.Segment
		for {
			err := s.Next(&seg)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next() = %v: in-memory input cannot fail", err)
			}
			if !seg.Src().IsValid() || seg.Frame > limit {
				t.Fatalf("bad segment %+v (limit %d)", seg, limit)
			}
		}
		st := s.Stats()
		if st.Packets > limit || st.TCPPackets > st.Packets {
			t.Fatalf("reassembly.Stats %+v", st)
		}
		var skipped uint64
		for _, n := range st.Skipped {
			skipped += n
		}
		if skipped+st.TCPPackets != st.Packets || st.Truncated != (len(st.Warnings) > 0) {
			t.Fatalf("inconsistent reassembly.Stats %+v", st)
		}
	})
}

// FuzzFastDecode checks the fast path against the layer parser: whenever
// the fast path decodes a frame, the general path must decode it to the same
// Segment.
func FuzzFastDecode(f *testing.F) {
	frames, links := seedFrames(f)
	for i := range frames {
		f.Add(frames[i], uint16(links[i]))
	}
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, data []byte, link uint16) {
		checkFast(t, d, data, reassembly.LinkType(link))
	})
}

// checkFast fails t when the fast path decodes data differently from the
// general path. It returns whether the fast path took the frame.
func checkFast(t *testing.T, d *Decoder, data []byte, link reassembly.LinkType) bool {
	t.Helper()
	k := kindOf(link)
	if k == linkRaw {
		if k = ipVersion(data); k == linkRaw {
			return false
		}
	}
	// A segment left over from another packet, every field set: the fast
	// path must overwrite all of them when it answers (Decode no longer
	// clears the segment first), and touch none when it does not.
	dirty := reassembly.Segment{Frame: 9,
		Seq: 9, Ack: 9, Flags: 0xff, Window: 9, Len: 9, Captured: 9, IPLen: 9, MSS: 9, WScale: 9, SACKOK: true, HasTS: true, TSVal: 9, TSEcr: 9}.WithAddrs(netip.MustParseAddrPort("[2001:db8::9]:9"), netip.MustParseAddrPort("192.0.2.9:9"))
	fastSeg := dirty
	if !fast(data, k, &fastSeg) {
		if fastSeg != dirty {
			t.Fatalf("fast path declined but changed the segment: %+v", fastSeg)
		}
		return false
	}
	want := reassembly.Segment{Frame: 9, WScale: reassembly.NoWScale} // as Decode resets it
	if r := d.general(data, k, &want); r != reassembly.NotSkipped {
		t.Fatalf("fast path decoded a frame the general path skips (%v): % x", r, data)
	}
	if fastSeg != want {
		t.Fatalf("fast path %+v\ngeneral path %+v\nframe % x", fastSeg, want, data)
	}
	return true
}
