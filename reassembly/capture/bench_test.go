package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/tcpstate/tcpstate/reassembly"
)

const benchPackets = 100_000

// BenchmarkSourceNext reads a header-only, in-memory capture of 100k packets.
func BenchmarkSourceNext(b *testing.B) {
	data := inMemoryCapture(b, benchPackets)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var pkts int
	var seg reassembly.Segment
	for b.Loop() {
		s, err := NewSource([]Input{{Name: "bench", R: bytes.NewReader(data)}})
		if err != nil {
			b.Fatal(err)
		}
		for {
			err := s.Next(&seg)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			pkts++
		}
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkDecode decodes one Ethernet/IPv4/TCP frame with SYN options.
func BenchmarkDecode(b *testing.B) {
	frame := ethTCP4(b, synTCP(), 0)
	d := NewDecoder()
	var seg reassembly.Segment
	b.ReportAllocs()
	for b.Loop() {
		d.Decode(frame, reassembly.LinkTypeEthernet, &seg)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
}
