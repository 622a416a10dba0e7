package capture

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

var updateFixtures = flag.Bool("update", false, "rewrite synthetic captures in testdata/formats")

const formatsDir = "../../testdata/formats"

// readAll reads every segment from inputs.
func readAll(t testing.TB, inputs ...Input) ([]reassembly.Segment, reassembly.Stats, error) {
	t.Helper()
	s, err := NewSource(inputs)
	if err != nil {
		return nil, reassembly.Stats{}, err
	}
	var segs []reassembly.Segment
	for {
		var seg reassembly.Segment
		err := s.Next(&seg)
		if err == io.EOF {
			return segs, s.Stats(), nil
		}
		if err != nil {
			return segs, s.Stats(), err
		}
		segs = append(segs, seg)
	}
}

func fileInput(t testing.TB, name string) Input {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(formatsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return Input{Name: name, R: bytes.NewReader(data)}
}

var (
	loClient  = netip.MustParseAddrPort("127.0.0.1:44950")
	loServer  = netip.MustParseAddrPort("127.0.0.1:47001")
	lo6Client = netip.MustParseAddrPort("[::1]:57170")
	lo6Server = netip.MustParseAddrPort("[::1]:47002")
)

// loFirst is frame 1 of lo-ethernet.pcap, as tcpdump prints it:
// 14:36:57.341238 IP 127.0.0.1.44950 > 127.0.0.1.47001: Flags [S], seq 2315480407, win 65495,
// options [mss 65495,sackOK,TS val 1906584461 ecr 0,nop,wscale 10], length 0
var loFirst = reassembly.Segment{
	Frame: 1, Time: reassembly.UnixStamp(1795271817, 341238000),
	Seq: 2315480407, Flags: reassembly.SYN, Window: 65495, IPLen: 60, MSS: 65495, WScale: 10, SACKOK: true, HasTS: true, TSVal: 1906584461,
}.WithAddrs(loClient, loServer)

// TestSourceLoopbackFormats reads the same 20-packet loopback capture in every
// container format and checks every segment against lo-ethernet.pcap.
func TestSourceLoopbackFormats(t *testing.T) {
	ref, _, err := readAll(t, fileInput(t, "lo-ethernet.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != 20 {
		t.Fatalf("lo-ethernet.pcap: %d segments, want 20", len(ref))
	}
	if ref[0] != loFirst {
		t.Errorf("frame 1 = %+v\nwant %+v", ref[0], loFirst)
	}
	// Frame 4: [P.] seq 1:6 ack 1, length 5. Frame 11: the IPv6 SYN. Frame 18: client FIN.
	checks := []struct {
		i                int
		src, dst         netip.AddrPort
		flags            reassembly.Flags
		seq, ack, segLen uint32
	}{
		{3, loClient, loServer, reassembly.PSH | reassembly.ACK, 2315480408, 2350286530, 5},
		{5, loServer, loClient, reassembly.PSH | reassembly.ACK, 2350286530, 2315480413, 10},
		{7, loClient, loServer, reassembly.FIN | reassembly.ACK, 2315480413, 2350286540, 0},
		{10, lo6Client, lo6Server, reassembly.SYN, 2268875200, 0, 0},
		{15, lo6Server, lo6Client, reassembly.PSH | reassembly.ACK, 2205521633, 2268875206, 10},
	}
	for _, c := range checks {
		s := ref[c.i]
		if s.Frame != uint64(c.i+1) || s.Src() != c.src || s.Dst() != c.dst || s.Flags != c.flags || s.Seq != c.seq || s.Ack != c.ack || s.Len != c.segLen {
			t.Errorf("frame %d = %d %v>%v %v seq %d ack %d len %d; want %d %v>%v %v seq %d ack %d len %d",
				c.i+1, s.Frame, s.Src(), s.Dst(), s.Flags, s.Seq, s.Ack, s.Len, c.i+1, c.src, c.dst, c.flags, c.seq, c.ack, c.segLen)
		}
	}
	tests := []struct {
		file string
		link reassembly.LinkType
	}{
		{"lo-ethernet-nsec.pcap", reassembly.LinkTypeEthernet},
		{"lo-ethernet-be.pcap", reassembly.LinkTypeEthernet},
		{"lo-ethernet.pcapng", reassembly.LinkTypeEthernet},
		{"lo-ethernet.pcap.gz", reassembly.LinkTypeEthernet},
		{"gzipped-capture.bin", reassembly.LinkTypeEthernet},
		{"lo-rawip.pcap", reassembly.LinkTypeRaw},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			segs, st, err := readAll(t, fileInput(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(segs, ref) {
				t.Errorf("segments differ from lo-ethernet.pcap:\n got %+v\nwant %+v", segs, ref)
			}
			want := reassembly.Stats{
				Files: []string{tt.file}, Packets: 20, TCPPackets: 20, First: ref[0].Time.Time(), Last: ref[19].Time.Time(),
				LinkTypes: []reassembly.LinkCount{{Type: tt.link, Name: tt.link.String(), Packets: 20}},
			}
			if !reflect.DeepEqual(st, want) {
				t.Errorf("reassembly.Stats() = %+v\nwant %+v", st, want)
			}
		})
	}
}

func TestSourceLinkTypes(t *testing.T) {
	tests := []struct {
		file  string
		segs  int
		links []reassembly.LinkCount
		first reassembly.Segment
		lens  []uint32 // Len of each segment, when given
	}{
		{"any-sll2.pcap", 10, []reassembly.LinkCount{{Type: reassembly.LinkTypeLinuxSLL2, Name: "LINUX_SLL2", Packets: 10}},
			reassembly.Segment{Frame: 1, Time: reassembly.UnixStamp(1795271817, 341237000), Seq: 2315480407,
				Flags: reassembly.SYN, Window: 65495, IPLen: 60, MSS: 65495, WScale: 10, SACKOK: true, HasTS: true, TSVal: 1906584461}.WithAddrs(loClient, loServer),
			[]uint32{0, 0, 0, 5, 0, 10, 0, 0, 0, 0}},
		{"any-sll.pcap", 10, []reassembly.LinkCount{{Type: reassembly.LinkTypeLinuxSLL, Name: "LINUX_SLL", Packets: 10}},
			reassembly.Segment{Frame: 1, Time: reassembly.UnixStamp(1795271824, 33215000), Seq: 3717411932, Flags: reassembly.SYN, Window: 65495, IPLen: 60, MSS: 65495,
				WScale: 10, SACKOK: true, HasTS: true, TSVal: 3233267754}.WithAddrs(netip.MustParseAddrPort("127.0.0.1:38530"), netip.MustParseAddrPort("127.0.0.1:47003")),
			[]uint32{0, 0, 0, 5, 0, 10, 0, 0, 0, 0}},
		{"null-ipv6.pcap", 6, []reassembly.LinkCount{{Type: reassembly.LinkTypeNull, Name: "NULL", Packets: 6}},
			reassembly.Segment{Frame: 1, Time: reassembly.UnixStamp(1443732977, 727740000), Seq: 1321751229, Flags: reassembly.SYN, Window: 65535, IPLen: 84, MSS: 16324,
				WScale: 5, SACKOK: true, HasTS: true, TSVal: 1236829829}.WithAddrs(netip.MustParseAddrPort("[::1]:52522"), netip.MustParseAddrPort("[::1]:80")),
			[]uint32{0, 0, 0, 0, 221, 0}},
		{"vlan-8021q.pcap", 4, []reassembly.LinkCount{{Type: reassembly.LinkTypeEthernet, Name: "EN10MB", Packets: 4}},
			reassembly.Segment{Frame: 1, Time: reassembly.UnixStamp(1331918844, 980000000), Seq: 2473617131, Ack: 1454030911, Flags: reassembly.SYN | reassembly.ACK,
				Window: 64240, IPLen: 64, MSS: 1380, WScale: 0, SACKOK: true, HasTS: true}.WithAddrs(netip.MustParseAddrPort("192.168.229.251:88"), netip.MustParseAddrPort("192.168.202.110:43792")),
			[]uint32{0, 0, 110, 90}},
		{"qinq-synthetic.pcap", 3, []reassembly.LinkCount{{Type: reassembly.LinkTypeEthernet, Name: "EN10MB", Packets: 4}},
			reassembly.Segment{Frame: 1, Time: reassembly.UnixStamp(1700000000, 0), Seq: 1000, Flags: reassembly.SYN, Window: 512, IPLen: 60, MSS: 1460, WScale: 7,
				SACKOK: true, HasTS: true, TSVal: 7, TSEcr: 9}.WithAddrs(netip.MustParseAddrPort("10.0.0.1:40000"), netip.MustParseAddrPort("10.0.0.2:80")),
			[]uint32{0, 0, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			segs, st, err := readAll(t, fileInput(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if len(segs) != tt.segs {
				t.Fatalf("%d segments; want %d", len(segs), tt.segs)
			}
			if segs[0] != tt.first {
				t.Errorf("first segment = %+v\nwant %+v", segs[0], tt.first)
			}
			for i, s := range segs {
				if s.Len != tt.lens[i] {
					t.Errorf("segment %d: Len = %d; want %d", i, s.Len, tt.lens[i])
				}
			}
			if !reflect.DeepEqual(st.LinkTypes, tt.links) {
				t.Errorf("LinkTypes = %+v; want %+v", st.LinkTypes, tt.links)
			}
		})
	}
}

// TestSourceTwoInterfaces reads a pcapng whose two interfaces have different
// link types (mergecap of lo-ethernet.pcap and any-sll.pcap).
func TestSourceTwoInterfaces(t *testing.T) {
	segs, st, err := readAll(t, fileInput(t, "two-ifaces.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 30 || st.Packets != 30 {
		t.Fatalf("%d segments, %d packets; want 30, 30", len(segs), st.Packets)
	}
	want := []reassembly.LinkCount{{Type: reassembly.LinkTypeEthernet, Name: "EN10MB", Packets: 20}, {Type: reassembly.LinkTypeLinuxSLL, Name: "LINUX_SLL", Packets: 10}}
	if !reflect.DeepEqual(st.LinkTypes, want) {
		t.Errorf("LinkTypes = %+v; want %+v", st.LinkTypes, want)
	}
	if segs[0] != loFirst || segs[20].Dst().Port() != 47003 || segs[20].Frame != 21 {
		t.Errorf("frame 1 = %+v, frame 21 = %+v", segs[0], segs[20])
	}
}

// TestSourceMerge merges two captures of the same connection, on lo (EN10MB)
// and on any (SLL2), which interleave and tie on some timestamps.
func TestSourceMerge(t *testing.T) {
	s, err := NewSource([]Input{fileInput(t, "lo-ethernet.pcap"), fileInput(t, "any-sll2.pcap")})
	if err != nil {
		t.Fatal(err)
	}
	// From tshark -e frame.time_epoch: A is lo-ethernet.pcap, B is any-sll2.pcap;
	// on a tie the earlier input (A) comes first.
	const want = "BABAABBAABABABABABABAAAAAAAAAA"
	var got strings.Builder
	var prev reassembly.Segment
	var ethPrev uint64
	for {
		var seg reassembly.Segment
		err := s.Next(&seg)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if seg.Frame != prev.Frame+1 || seg.Time.Before(prev.Time) {
			t.Errorf("frame %d at %v follows frame %d at %v", seg.Frame, seg.Time, prev.Frame, prev.Time)
		}
		prev = seg
		// The origin of a segment is the link type whose count went up.
		var eth uint64
		for _, lc := range s.Stats().LinkTypes {
			if lc.Type == reassembly.LinkTypeEthernet {
				eth = lc.Packets
			}
		}
		if eth > ethPrev {
			got.WriteByte('A')
		} else {
			got.WriteByte('B')
		}
		ethPrev = eth
	}
	if got.String() != want {
		t.Errorf("merge order = %s; want %s", got.String(), want)
	}
	st := s.Stats()
	wantLinks := []reassembly.LinkCount{{Type: reassembly.LinkTypeEthernet, Name: "EN10MB", Packets: 20}, {Type: reassembly.LinkTypeLinuxSLL2, Name: "LINUX_SLL2", Packets: 10}}
	if !reflect.DeepEqual(st.LinkTypes, wantLinks) || !reflect.DeepEqual(st.Files, []string{"lo-ethernet.pcap", "any-sll2.pcap"}) ||
		st.Packets != 30 || st.TCPPackets != 30 || !st.First.Equal(time.Unix(1795271817, 341237000)) {
		t.Errorf("reassembly.Stats() = %+v", st)
	}
}

// TestSourceQinQFixture writes qinq-synthetic.pcap with -update: a synthetic
// 802.1ad+802.1Q TCP handshake fragment (gopacket.SerializeLayers), plus one ARP.
func TestSourceQinQFixture(t *testing.T) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	tag := func(ls ...gopacket.SerializableLayer) []byte {
		head := []gopacket.SerializableLayer{testEth(layers.EthernetTypeQinQ),
			&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q}}
		if len(ls) > 1 {
			head = append(head, &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeIPv4})
		} else {
			head = append(head, &layers.Dot1Q{VLANIdentifier: 10, Type: layers.EthernetTypeARP})
		}
		return serialize(t, append(head, ls...)...)
	}
	synack := testTCP(reassembly.SYN | reassembly.ACK)
	synack.SrcPort, synack.DstPort, synack.Seq, synack.Ack = 80, 40000, 5000, 1001
	data := testTCP(reassembly.ACK | reassembly.PSH)
	data.Seq = 1001
	frames := [][]byte{
		tag(testIPv4(layers.IPProtocolTCP), synTCP()),
		tag(&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			SourceHwAddress: testMAC1, SourceProtAddress: testIP4a, DstHwAddress: testMAC2, DstProtAddress: testIP4b}),
		tag(&layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: testIP4b, DstIP: testIP4a}, synack),
		tag(testIPv4(layers.IPProtocolTCP), data, gopacket.Payload("abc")),
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	checkFixture(t, "qinq-synthetic.pcap", buf.Bytes(), "TestSourceQinQFixture")
	_, st, err := readAll(t, Input{Name: "qinq", R: bytes.NewReader(buf.Bytes())})
	if err != nil || st.TCPPackets != 3 || st.Skipped[reassembly.SkipNotIP] != 1 {
		t.Errorf("readAll = %+v, %v; want 3 TCP packets and 1 not-ip", st, err)
	}
}

// checkFixture writes data to testdata/formats/name with -update, and
// otherwise fails the test (named test, to rerun) when the file is not
// data.
func checkFixture(t *testing.T, name string, data []byte, test string) {
	t.Helper()
	path := filepath.Join(formatsDir, name)
	if *updateFixtures {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reassembly/capture -run %s -update)", err, test)
	}
	if !bytes.Equal(old, data) {
		t.Errorf("%s is stale; run go test ./reassembly/capture -run %s -update", path, test)
	}
}

func TestSourceBadInputs(t *testing.T) {
	tests := []struct {
		file    string
		wantErr error
		wantMsg string
	}{
		{"empty.pcap", ErrEmptyInput, "reassembly: empty.pcap: empty file, not a capture"},
		{"not-a-capture.txt", ErrNotCapture, "reassembly: not-a-capture.txt: not a pcap or pcapng capture"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := NewSource([]Input{fileInput(t, "lo-ethernet.pcap"), fileInput(t, tt.file)})
			var re *ReadError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &re) || re.Input != tt.file || err.Error() != tt.wantMsg {
				t.Errorf("NewSource() error = %v; want %q wrapping %v", err, tt.wantMsg, tt.wantErr)
			}
		})
	}
	if _, err := NewSource(nil); err == nil {
		t.Error("NewSource(nil) succeeded")
	}
	// A pcap file header cut short is an error, not an empty capture.
	lo := fileInput(t, "lo-ethernet.pcap").R.(*bytes.Reader)
	hdr := make([]byte, 10)
	lo.Read(hdr)
	if _, err := NewSource([]Input{{Name: "x", R: bytes.NewReader(hdr)}}); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("NewSource(10-byte header) error = %v; want io.ErrUnexpectedEOF", err)
	}
}

func TestSourceHeaderOnly(t *testing.T) {
	segs, st, err := readAll(t, fileInput(t, "header-only.pcap"))
	if err != nil || len(segs) != 0 || st.Packets != 0 || st.Truncated || !st.First.IsZero() || len(st.LinkTypes) != 0 {
		t.Errorf("readAll(header-only.pcap) = %d segments, %+v, %v; want nothing", len(segs), st, err)
	}
}

func TestSourceCutShort(t *testing.T) {
	// lo-ethernet-cut.pcap is lo-ethernet.pcap less its last 30 bytes; merged
	// with the SLL2 capture, which is read to its end.
	segs, st, err := readAll(t, fileInput(t, "lo-ethernet-cut.pcap"), fileInput(t, "any-sll2.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lo-ethernet-cut.pcap: cut short in packet 20 at byte 1824; analysed the 19 packets before it"}
	if len(segs) != 29 || !st.Truncated || !reflect.DeepEqual(st.Warnings, want) {
		t.Errorf("got %d segments, Truncated %v, Warnings %q; want 29, true, %q", len(segs), st.Truncated, st.Warnings, want)
	}
}

// pcapBytes writes frames as a classic pcap.
func pcapBytes(t testing.TB, link layers.LinkType, frames ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000+int64(i), 0), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestSourceCorruptRecord(t *testing.T) {
	frame := ethTCP4(t, testTCP(reassembly.ACK), 0)
	data := pcapBytes(t, layers.LinkTypeEthernet, frame, frame)
	// Second record header: captured length 0xFFFFFFF0.
	rec2 := pcapHeaderLen + 16 + len(frame)
	copy(data[rec2+8:], []byte{0xf0, 0xff, 0xff, 0xff})
	segs, st, err := readAll(t, Input{Name: "bad.pcap", R: bytes.NewReader(data)})
	if err != nil || len(segs) != 1 || !st.Truncated || len(st.Warnings) != 1 ||
		st.Warnings[0] != fmt.Sprintf("bad.pcap: corrupt packet 2 at byte %d (capture length exceeds snap length: 4294967280 > 65535); analysed the packet before it", rec2) {
		t.Errorf("got %d segments, %+v, %v; want 1 segment and a corrupt warning", len(segs), st, err)
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestSourceIOError(t *testing.T) {
	frame := ethTCP4(t, testTCP(reassembly.ACK), 0)
	data := pcapBytes(t, layers.LinkTypeEthernet, frame, frame)
	disk := errors.New("disk on fire")
	s, err := NewSource([]Input{{Name: "x.pcap", R: &failingReader{data: data[:len(data)-5], err: disk}}})
	if err != nil {
		t.Fatal(err)
	}
	var seg reassembly.Segment
	if err := s.Next(&seg); err != nil {
		t.Fatalf("Next() = %v", err)
	}
	err = s.Next(&seg)
	var re *ReadError
	if !errors.Is(err, disk) || !errors.As(err, &re) || re.Packet != 2 || err.Error() != "reassembly: x.pcap: packet 2: disk on fire" {
		t.Errorf("Next() = %v; want ReadError for packet 2 wrapping %v", err, disk)
	}
	if err2 := s.Next(&seg); err2 != err {
		t.Errorf("Next() after error = %v; want the same error", err2)
	}
}

// TestSourceStreaming checks that Next returns a segment as soon as its
// packet has arrived on a pipe, without waiting for more input.
func TestSourceStreaming(t *testing.T) {
	frame := ethTCP4(t, testTCP(reassembly.ACK), 0)
	data := pcapBytes(t, layers.LinkTypeEthernet, frame, frame)
	first := pcapHeaderLen + 16 + len(frame)
	{
		pr, pw := io.Pipe()
		go pw.Write(data[:first])
		done := make(chan error, 1)
		var s *Source
		go func() {
			var err error
			if s, err = NewSource([]Input{{Name: "-", R: pr}}); err == nil {
				var seg reassembly.Segment
				err = s.Next(&seg)
			}
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Next() = %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("first segment not returned before more input arrived")
		}
		go func() { pw.Write(data[first:]); pw.Close() }()
		var seg reassembly.Segment
		if err := s.Next(&seg); err != nil || seg.Frame != 2 {
			t.Errorf("second Next() = %v, frame %d", err, seg.Frame)
		}
		if err := s.Next(&seg); err != io.EOF {
			t.Errorf("last Next() = %v; want io.EOF", err)
		}
	}
}

// inMemoryCapture is a header-only capture of n TCP packets of a few flows.
func inMemoryCapture(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(96, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	syn := ethTCP4(t, synTCP(), 0)
	ack := ethTCP4(t, testTCP(reassembly.ACK), 1400)
	for i := range n {
		f := ack
		if i%50 == 0 {
			f = syn
		}
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1700000000, int64(i)*1000), CaptureLength: min(len(f), 96), Length: len(f)}
		if err := w.WritePacket(ci, f[:ci.CaptureLength]); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestSourceNextAllocs(t *testing.T) {
	data := inMemoryCapture(t, 3000)
	ng, err := os.ReadFile(filepath.Join(formatsDir, "two-ifaces.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	sll2, err := os.ReadFile(filepath.Join(formatsDir, "any-sll2.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		inputs func() []Input
		runs   int
	}{
		{"pcap", func() []Input { return []Input{{"a", bytes.NewReader(data)}} }, 1000},
		{"merged pcap", func() []Input { return []Input{{"a", bytes.NewReader(data)}, {"b", bytes.NewReader(data)}} }, 1000},
		{"pcapng two interfaces", func() []Input {
			var ins []Input
			for range 200 {
				ins = append(ins, Input{"ng", bytes.NewReader(ng)})
			}
			return ins
		}, 1000},
		{"sll2", func() []Input {
			var ins []Input
			for range 200 {
				ins = append(ins, Input{"sll2", bytes.NewReader(sll2)})
			}
			return ins
		}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSource(tt.inputs())
			if err != nil {
				t.Fatal(err)
			}
			var seg reassembly.Segment
			for range 300 { // warm up: buffers, link counts
				if err := s.Next(&seg); err != nil {
					t.Fatal(err)
				}
			}
			if n := testing.AllocsPerRun(tt.runs, func() {
				if err := s.Next(&seg); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("Next allocates %v times per call; want 0", n)
			}
		})
	}
}
