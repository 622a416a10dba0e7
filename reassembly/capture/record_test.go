package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/pcapgo"
)

// pcapgoRecords reads the records of a classic pcap with gopacket's reader,
// as Source did before recordReader: data, timestamp, wire length, and the
// error that ended the file (io.EOF after a record header counts as cut).
func pcapgoRecords(data []byte) (recs [][]byte, ts []time.Time, wires []int, end string) {
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, nil, "header: " + err.Error()
	}
	snap := binary.LittleEndian.Uint32(data[16:20])
	if binary.BigEndian.Uint32(data) == pcapMagicMicros || binary.BigEndian.Uint32(data) == pcapMagicNanos {
		snap = binary.BigEndian.Uint32(data[16:20])
	}
	if snap == 0 || snap > maxCaptureLen {
		snap = maxCaptureLen
	}
	r.SetSnaplen(snap)
	for {
		d, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF && ci.CaptureLength > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return recs, ts, wires, err.Error()
		}
		recs, ts, wires = append(recs, bytes.Clone(d)), append(ts, ci.Timestamp), append(wires, ci.Length)
	}
}

// ownRecords reads the same with recordReader, through open.
func ownRecords(data []byte) (recs [][]byte, ts []time.Time, wires []int, end string) {
	x, err := open(Input{Name: "t", R: bytes.NewReader(data)})
	if err != nil {
		return nil, nil, nil, "header: " + err.Error()
	}
	if x.pcap == nil {
		return nil, nil, nil, "not classic pcap"
	}
	for {
		d, t, w, err := x.pcap.next()
		if err != nil {
			return recs, ts, wires, err.Error()
		}
		recs, ts, wires = append(recs, bytes.Clone(d)), append(ts, t.Time()), append(wires, w)
	}
}

func sameRecords(t *testing.T, name string, data []byte) {
	t.Helper()
	r1, t1, w1, e1 := pcapgoRecords(data)
	if len(e1) > 7 && e1[:7] == "header:" {
		return // not a file both accept
	}
	r2, t2, w2, e2 := ownRecords(data)
	if len(r1) != len(r2) || e1 != e2 {
		t.Fatalf("%s: pcapgo read %d records then %q; recordReader %d then %q", name, len(r1), e1, len(r2), e2)
	}
	for i := range r1 {
		if !bytes.Equal(r1[i], r2[i]) || !t1[i].Equal(t2[i]) || t1[i].Location() != t2[i].Location() || w1[i] != w2[i] {
			t.Fatalf("%s: record %d differs: %v %d %x / %v %d %x", name, i+1, t1[i], w1[i], r1[i], t2[i], w2[i], r2[i])
		}
	}
}

// bigRecordCapture is a little-endian microsecond pcap whose second record
// has the largest size accepted (a TSO/GRO super-packet as tcpdump keeps it
// with -s 0): it takes the whole read buffer, so the small record before it
// must be moved out of the way.
func bigRecordCapture() []byte {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	_ = w.WriteFileHeader(maxCaptureLen, 1)
	for i, n := range []int{60, maxCaptureLen, 74} {
		frame := bytes.Repeat([]byte{byte(i + 1)}, n)
		ci := gopacket.CaptureInfo{Timestamp: time.Unix(1795271817+int64(i), 999999000).UTC(), CaptureLength: n, Length: n + i}
		_ = w.WritePacket(ci, frame)
	}
	return b.Bytes()
}

// TestRecordReaderMatchesPcapgo reads every classic pcap fixture, a capture
// with a record larger than the buffer, and cuts and corruptions of them,
// with both readers: the same records, timestamps, wire lengths, and the
// same error at the same record.
func TestRecordReaderMatchesPcapgo(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(formatsDir, "*.pcap"))
	inputs := map[string][]byte{"big-record": bigRecordCapture()}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(f)] = data
	}
	if len(inputs) < 8 {
		t.Fatalf("only %d inputs", len(inputs))
	}
	for name, data := range inputs {
		sameRecords(t, name, data)
		for cut := pcapHeaderLen; cut < len(data); cut += max(1, len(data)/97) {
			sameRecords(t, name+" cut", data[:cut])
		}
		for off := pcapHeaderLen; off+4 <= len(data); off += max(1, len(data)/53) {
			bad := bytes.Clone(data)
			binary.LittleEndian.PutUint32(bad[off:], 0xfffffff0)
			sameRecords(t, name+" corrupt", bad)
		}
	}
	recs, _, _, end := ownRecords(inputs["big-record"])
	if len(recs) != 3 || len(recs[1]) != maxCaptureLen || recs[1][0] != 2 || recs[2][0] != 3 || end != "EOF" {
		t.Fatalf("big-record: %d records, end %q", len(recs), end)
	}
}

// FuzzRecordReader compares the two readers on arbitrary record bytes after
// a valid file header.
func FuzzRecordReader(f *testing.F) {
	for _, name := range []string{"lo-ethernet.pcap", "lo-ethernet-be.pcap", "lo-ethernet-nsec.pcap"} {
		data, err := os.ReadFile(filepath.Join(formatsDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(bigRecordCapture())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < pcapHeaderLen {
			return
		}
		sameRecords(t, "fuzz", data)
	})
}
