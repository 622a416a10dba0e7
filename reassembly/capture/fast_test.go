package capture

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket/pcapgo"

	"github.com/tcpstate/tcpstate/reassembly"
)

// TestFastPathOnEveryCapture runs every frame of every pcap in testdata
// through both decoders: where the fast path answers, the answers must be
// equal; and it must answer for the common frames, TCP directly over IP
// on Ethernet, SLL or raw IP (it is not dead code). Tunnels and FDDI are
// the general path's.
func TestFastPathOnEveryCapture(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/*/*.pcap")
	if len(files) < 50 {
		t.Fatalf("found %d captures in testdata; want the bundled ones", len(files))
	}
	d := NewDecoder()
	var frames, took, plain int
	var seg reassembly.Segment
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(bytes.NewReader(data))
		if err != nil {
			continue // pcapng or a deliberately broken file
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
			frames++
			if checkFast(t, d, frame, link) {
				took++
			}
			if d.Decode(frame, link, &seg) == reassembly.NotSkipped && d.Tunnels() == 0 && kindOf(link) != linkFDDI {
				plain++
			}
		}
	}
	t.Logf("%d frames, %d of TCP directly over IP, %d decoded by the fast path", frames, plain, took)
	if took*10 < plain*9 {
		t.Errorf("fast path decoded %d of %d frames of TCP directly over IP; want at least 90%%", took, plain)
	}
}

// TestWholeFrameLengthLies: an IP length beyond the frame is a snaplen cut
// when the capture cut the frame, and a lie when it did not.
func TestWholeFrameLengthLies(t *testing.T) {
	frame := ethTCP4(t, testTCP(reassembly.ACK|reassembly.PSH), 100)
	frame = frame[:len(frame)-60] // 40 bytes of payload left, the IP length says 100
	d := NewDecoder()
	var seg reassembly.Segment
	if r := d.Decode(frame, reassembly.LinkTypeEthernet, &seg); r != reassembly.NotSkipped || seg.Len != 100 || seg.Captured != 40 {
		t.Fatalf("cut frame: %v, Len %d, Captured %d; want a segment of 100 bytes, 40 captured", r, seg.Len, seg.Captured)
	}
	// The TCP header itself beyond the frame: kept as a fixed header when
	// cut, malformed when whole.
	short := frame[:ethernetHeaderLen+ipv4MinHeaderLen+tcpMinHeaderLen-4]
	for _, whole := range []bool{false, true} {
		d.Whole = whole
		want := reassembly.SkipTruncated
		if whole {
			want = reassembly.SkipBadHeader
		}
		if r := d.Decode(short, reassembly.LinkTypeEthernet, &seg); r != want {
			t.Errorf("Whole=%v: TCP header past the frame: %v; want %v", whole, r, want)
		}
	}
}
