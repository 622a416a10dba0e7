package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/reassembly"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// TestNgReaderMatchesPcapgo reads the pcapng fixtures with ngReader and with
// pcapgo.NgReader and compares packets, timestamps and link types.
func TestNgReaderMatchesPcapgo(t *testing.T) {
	for _, name := range []string{"lo-ethernet.pcapng", "two-ifaces.pcapng"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(formatsDir, name))
			if err != nil {
				t.Fatal(err)
			}
			ref, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
			if err != nil {
				t.Fatal(err)
			}
			ng, err := newNgReader(bufio.NewReader(bytes.NewReader(data)))
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; ; i++ {
				want, ci, wantErr := ref.ReadPacketData()
				got, link, ts, err := ng.next()
				if wantErr != nil || err != nil {
					if wantErr != io.EOF || err != io.EOF {
						t.Fatalf("packet %d: next() error %v; pcapgo %v", i, err, wantErr)
					}
					break
				}
				iface, _ := ref.Interface(ci.InterfaceIndex)
				if !bytes.Equal(got, want) || ts != reassembly.StampOf(ci.Timestamp) || uint32(link) != uint32(iface.LinkType) {
					t.Fatalf("packet %d: %d bytes at %v on %v; pcapgo %d bytes at %v on %v",
						i, len(got), ts, link, len(want), ci.Timestamp, iface.LinkType)
				}
			}
		})
	}
}

// ngBlock builds a little-endian pcapng block.
func ngBlock(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(ngBlockOverhead + len(body))
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, total)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, total)
}

func ngSHB() []byte {
	body := binary.LittleEndian.AppendUint32(nil, ngByteOrderMagic)
	body = binary.LittleEndian.AppendUint16(body, 1)          // major
	body = binary.LittleEndian.AppendUint16(body, 0)          // minor
	body = binary.LittleEndian.AppendUint64(body, ^uint64(0)) // section length: unknown
	return ngBlock(ngBlockSectionHeader, body)
}

// ngIDB is an interface description with link type lt and, if resol != 0,
// an if_tsresol option.
func ngIDB(lt reassembly.LinkType, resol byte) []byte {
	body := binary.LittleEndian.AppendUint16(nil, uint16(lt))
	body = binary.LittleEndian.AppendUint16(body, 0)      // reserved
	body = binary.LittleEndian.AppendUint32(body, 262144) // snaplen
	if resol != 0 {
		body = binary.LittleEndian.AppendUint16(body, ngOptIfTsResol)
		body = binary.LittleEndian.AppendUint16(body, 1)
		body = append(body, resol, 0, 0, 0)
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	return ngBlock(ngBlockInterface, body)
}

// ngIDBOffset is an interface description with link type lt and an
// if_tsoffset option of off seconds.
func ngIDBOffset(lt reassembly.LinkType, off int64) []byte {
	body := binary.LittleEndian.AppendUint16(nil, uint16(lt))
	body = binary.LittleEndian.AppendUint16(body, 0)      // reserved
	body = binary.LittleEndian.AppendUint32(body, 262144) // snaplen
	body = binary.LittleEndian.AppendUint16(body, ngOptIfTsOffset)
	body = binary.LittleEndian.AppendUint16(body, 8)
	body = binary.LittleEndian.AppendUint64(body, uint64(off))
	body = append(body, 0, 0, 0, 0) // opt_endofopt
	return ngBlock(ngBlockInterface, body)
}

// TestNgTimeOffsetSaturates feeds if_tsoffset values whose times no Stamp
// holds (centuries away): they saturate at the Stamp's ends, in order,
// rather than wrap into a plausible time, and the packets are read.
func TestNgTimeOffsetSaturates(t *testing.T) {
	ip4 := serialize(t, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK), gopacket.Payload("hi"))
	for _, c := range []struct {
		off  int64
		ts   uint64
		want reassembly.Stamp
	}{
		{0, ^uint64(0), math.MaxInt64}, // year 586,912 in µs
		{math.MaxInt64, 1, math.MaxInt64},
		{math.MinInt64, 1, math.MinInt64},
		{-1_700_000_000, 1_700_000_000_000_001, 1000}, // back to the epoch, plus 1 µs
	} {
		file := cat(ngSHB(), ngIDBOffset(reassembly.LinkTypeRaw, c.off), ngEPB(0, c.ts, ip4))
		segs, st, err := readAll(t, Input{Name: "x.pcapng", R: bytes.NewReader(file)})
		if err != nil || len(segs) != 1 || st.Truncated {
			t.Fatalf("offset %d: %d segments, truncated %v, err %v", c.off, len(segs), st.Truncated, err)
		}
		if segs[0].Time != c.want {
			t.Errorf("offset %d, ts %d: time %d; want %d", c.off, c.ts, int64(segs[0].Time), int64(c.want))
		}
	}
}

func ngEPB(iface uint32, ts uint64, frame []byte) []byte {
	body := binary.LittleEndian.AppendUint32(nil, iface)
	body = binary.LittleEndian.AppendUint32(body, uint32(ts>>32))
	body = binary.LittleEndian.AppendUint32(body, uint32(ts))
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame))) // captured length
	body = binary.LittleEndian.AppendUint32(body, uint32(len(frame))) // original length
	return ngBlock(ngBlockEnhancedPacket, append(body, frame...))
}

func TestNgReader(t *testing.T) {
	ip4 := serialize(t, testIPv4(layers.IPProtocolTCP), testTCP(reassembly.ACK), gopacket.Payload("hi"))
	sll2 := cat(sll2Header(layers.EthernetTypeIPv4), ip4)
	custom := ngBlock(0x00000BAD, []byte{1, 2, 3, 4}) // unknown block: skipped
	file := cat(ngSHB(), ngIDB(reassembly.LinkTypeRaw, 9), custom, ngIDB(reassembly.LinkTypeLinuxSLL2, ngTsResolBinary|10),
		ngEPB(0, 1_700_000_000_123_456_789, ip4), ngEPB(1, 1700000000<<10|512, sll2))
	tests := []struct {
		name     string
		data     []byte
		wantTCP  uint64
		wantWarn bool
		wantTime []time.Time
	}{
		{"ns and binary resolutions", file, 2, false,
			[]time.Time{time.Unix(1700000000, 123456789).UTC(), time.Unix(1700000000, 500000000).UTC()}},
		{"cut inside last block", file[:len(file)-6], 1, true, nil},
		{"cut inside block header", cat(file, ngEPB(0, 0, ip4)[:5]), 2, true, nil},
		{"undeclared interface", cat(file, ngEPB(5, 0, ip4)), 2, true, nil},
		{"second section resets interfaces", cat(file, ngSHB(), ngEPB(1, 0, ip4)), 2, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs, st, err := readAll(t, Input{Name: "x.pcapng", R: bytes.NewReader(tt.data)})
			if err != nil {
				t.Fatal(err)
			}
			if st.TCPPackets != tt.wantTCP || st.Truncated != tt.wantWarn {
				t.Errorf("TCP packets %d, truncated %v (%q); want %d, %v", st.TCPPackets, st.Truncated, st.Warnings, tt.wantTCP, tt.wantWarn)
			}
			for i, want := range tt.wantTime {
				if segs[i].Time != reassembly.StampOf(want) {
					t.Errorf("segment %d at %v; want %v", i, segs[i].Time, want)
				}
			}
		})
	}
}
