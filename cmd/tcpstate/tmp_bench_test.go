package main
import ("bytes";"context";"testing"
	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly/synth"
	"github.com/tcpstate/tcpstate/reassembly/capture")
func BenchmarkTmpRate(b *testing.B) {
	for _, rate := range []float64{5, 130} {
	var buf bytes.Buffer
	synth.Write(&buf, synth.Config{Conns: 200000, Rate: rate, Seed: 7})
	data := buf.Bytes()
	b.Run("", func(b *testing.B){
	var pkts uint64
	for b.Loop() {
		src, _ := capture.NewSource([]capture.Input{{Name: "bench", R: bytes.NewReader(data)}})
		p := &pipeline{cfg: fsm.DefaultConfig(), jobs: 1}
		if _, rs, err := p.run(context.Background(), src); err != nil { b.Fatal(err) } else {b.ReportMetric(float64(rs.peak), "peak")}
		pkts += src.Stats().Packets
	}
	b.ReportMetric(float64(pkts)/b.Elapsed().Seconds(), "pkts/s")
	})
	}
}
