package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"github.com/tcpstate/tcpstate/reassembly"
)

// relinked describes a fixture that carries lo-ethernet.pcap's real
// loopback traffic under a link layer no machine here can capture: head
// returns the link header for a packet of EtherType et, extra is one more
// frame appended after the traffic, at the last one's time (so that the
// capture ends when it did), skip what it counts as.
type relinked struct {
	file  string
	link  reassembly.LinkType
	head  func(et uint16) []byte
	extra []byte
	skip  reassembly.SkipReason
}

var relinkedFixtures = []relinked{
	{
		// Monitor mode: radiotap (TSFT and flags), then an 802.11 data
		// frame from the AP (FromDS) with LLC/SNAP; the extra frame is a
		// CCMP-protected QoS data frame.
		file: "lo-radiotap.pcap", link: reassembly.LinkTypeRadiotap,
		head: func(et uint16) []byte {
			h := wlanData(0x08, 0x02, nil)
			binary.BigEndian.PutUint16(h[len(h)-2:], et)
			return cat(radiotap(0, false), h)
		},
		extra: cat(radiotap(0, false), wlanData(0x88, 0x42, nil)[:26], []byte{1, 0, 0, 0x20, 0, 0, 0, 0}, bytes.Repeat([]byte{0x5a}, 48)),
		skip:  reassembly.SkipEncrypted,
	},
	{
		// A serial link: PPP in HDLC-like framing (RFC 1662); the extra
		// frame is an LCP echo request.
		file: "lo-ppp-serial.pcap", link: reassembly.LinkTypePPPSerial,
		head: func(et uint16) []byte {
			if et == etherTypeIPv6 {
				return []byte{0xff, 0x03, 0x00, 0x57}
			}
			return []byte{0xff, 0x03, 0x00, 0x21}
		},
		extra: []byte{0xff, 0x03, 0xc0, 0x21, 0x09, 0x01, 0x00, 0x08, 0, 0, 0, 0},
		skip:  reassembly.SkipNotIP,
	},
	{
		// A BSD firewall's log: FreeBSD's 61-byte pfloghdr (padded to
		// 64: IPv4 is family 2, IPv6 28), a pass rule, on lo0; the extra
		// record has a family pf does not log, with an ARP payload.
		file: "lo-pflog.pcap", link: reassembly.LinkTypePFLOG,
		head: func(et uint16) []byte {
			af := byte(2)
			if et == etherTypeIPv6 {
				af = 28
			}
			h := make([]byte, 64)
			h[0], h[1], h[2], h[3] = 61, af, 0, 0 // length, family, PF_PASS, PFRES_MATCH
			copy(h[4:], "lo0")
			binary.BigEndian.PutUint32(h[36:40], 7) // rule number
			h[60] = 1                               // PF_IN
			return h
		},
		extra: cat([]byte{61, 0}, make([]byte, 62), []byte{0, 1, 8, 0, 6, 4, 0, 1}),
		skip:  reassembly.SkipNotIP,
	},
	{
		// A router's serial link in Cisco HDLC; the extra frame is a
		// SLARP keepalive.
		file: "lo-chdlc.pcap", link: reassembly.LinkTypeCHDLC,
		head: func(et uint16) []byte {
			return binary.BigEndian.AppendUint16([]byte{hdlcUnicast, 0}, et)
		},
		extra: cat([]byte{hdlcMulticast, 0, 0x80, 0x35}, make([]byte, 18)),
		skip:  reassembly.SkipNotIP,
	},
}

// TestRelinkedFixtures writes each relinked fixture from lo-ethernet.pcap
// (with -update) or checks it is current, then reads it: the segments,
// frame numbers and times are lo-ethernet.pcap's, one for one, and the
// extra frame is skipped for its reason.
func TestRelinkedFixtures(t *testing.T) {
	ref, refSt, err := readAll(t, fileInput(t, "lo-ethernet.pcap"))
	if err != nil || len(ref) != 20 {
		t.Fatalf("lo-ethernet.pcap: %d segments, %v", len(ref), err)
	}
	data, err := os.ReadFile(filepath.Join(formatsDir, "lo-ethernet.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range relinkedFixtures {
		t.Run(f.file, func(t *testing.T) {
			r, err := pcapgo.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			w := pcapgo.NewWriter(&buf)
			if err := w.WriteFileHeader(r.Snaplen(), layers.LinkType(f.link)); err != nil {
				t.Fatal(err)
			}
			var last time.Time
			for {
				frame, ci, err := r.ReadPacketData()
				if err != nil {
					break
				}
				et := binary.BigEndian.Uint16(frame[12:14])
				head := f.head(et)
				out := cat(head, frame[ethernetHeaderLen:])
				ci.CaptureLength, ci.Length = len(out), ci.Length-ethernetHeaderLen+len(head)
				if err := w.WritePacket(ci, out); err != nil {
					t.Fatal(err)
				}
				last = ci.Timestamp
			}
			ci := gopacket.CaptureInfo{Timestamp: last, CaptureLength: len(f.extra), Length: len(f.extra)}
			if err := w.WritePacket(ci, f.extra); err != nil {
				t.Fatal(err)
			}
			checkFixture(t, f.file, buf.Bytes(), "TestRelinkedFixtures")

			segs, st, err := readAll(t, fileInput(t, f.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(segs, ref) {
				t.Errorf("segments differ from lo-ethernet.pcap's:\n got %+v\nwant %+v", segs, ref)
			}
			want := refSt.Skipped
			want[f.skip]++
			if st.Packets != refSt.Packets+1 || st.TCPPackets != refSt.TCPPackets || st.Skipped != want {
				t.Errorf("%d packets, %d TCP, skipped %v; want %d, %d, %v", st.Packets, st.TCPPackets, st.Skipped, refSt.Packets+1, refSt.TCPPackets, want)
			}
			if len(st.LinkTypes) != 1 || st.LinkTypes[0].Type != f.link || st.LinkTypes[0].Packets != st.Packets {
				t.Errorf("link types %+v; want %v for all %d", st.LinkTypes, f.link, st.Packets)
			}
		})
	}
}

// TestUndecodedLinkWarns: the packets of a link type tcpstate does not
// decode are counted as unsupported-link, and a warning says so, once per
// link type, with the count.
func TestUndecodedLinkWarns(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkType(192)); err != nil { // PPI
		t.Fatal(err)
	}
	for i := range 3 {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)), CaptureLength: 40, Length: 40}
		if err := w.WritePacket(ci, make([]byte, 40)); err != nil {
			t.Fatal(err)
		}
	}
	_, st, err := readAll(t, Input{Name: "ppi.pcap", R: bytes.NewReader(buf.Bytes())})
	want := []string{"link type LINKTYPE_192 is not one tcpstate decodes: its 3 packets were skipped (unsupported-link)"}
	if err != nil || st.Skipped[reassembly.SkipUnsupportedLink] != 3 || !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("skipped %v, warnings %q, %v; want 3 unsupported-link and %q", st.Skipped, st.Warnings, err, want)
	}
	_, st, _ = readAll(t, fileInput(t, "lo-pflog.pcap"))
	if len(st.Warnings) != 0 {
		t.Errorf("lo-pflog.pcap: warnings %q; want none", st.Warnings)
	}
}
