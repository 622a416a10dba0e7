package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// recordReader reads the records of a classic pcap file, after its file
// header, straight out of the bufio.Reader's buffer: a record's bytes are
// not copied unless it is larger than the buffer. The errors are those of
// gopacket's pcapgo.Reader, which it replaces on the per-packet path.
type recordReader struct {
	br         *bufio.Reader
	big        bool   // big-endian file
	nanoFactor uint32 // 1000 for microsecond timestamps, 1 for nanoseconds
	snaplen    uint32
	long       []byte // a record larger than br's buffer
}

// next returns the next record's data (valid until the next call), its
// timestamp and its length on the wire. At the end of the file it returns
// io.EOF; a record cut short, io.ErrUnexpectedEOF; a record whose lengths
// cannot be right, an error that says why; and the reader's own errors as
// they are.
func (r *recordReader) next() (data []byte, ts time.Time, wire int, err error) {
	hdr, err := r.br.Peek(pcapRecordHeaderLen)
	if len(hdr) < pcapRecordHeaderLen {
		if err == io.EOF && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, time.Time{}, 0, err
	}
	var sec, frac, caplen, orig uint32
	if r.big {
		b := binary.BigEndian
		sec, frac, caplen, orig = b.Uint32(hdr[0:4]), b.Uint32(hdr[4:8]), b.Uint32(hdr[8:12]), b.Uint32(hdr[12:16])
	} else {
		b := binary.LittleEndian
		sec, frac, caplen, orig = b.Uint32(hdr[0:4]), b.Uint32(hdr[4:8]), b.Uint32(hdr[8:12]), b.Uint32(hdr[12:16])
	}
	// As pcapgo computes it, wrapping in 32 bits included.
	ts = time.Unix(int64(sec), int64(frac*r.nanoFactor)).UTC()
	wire = int(orig)
	switch {
	case caplen > r.snaplen:
		err = fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, r.snaplen)
	case caplen > orig:
		err = fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, orig)
	}
	if err != nil {
		r.br.Discard(pcapRecordHeaderLen)
		return nil, ts, wire, err
	}
	n := pcapRecordHeaderLen + int(caplen)
	if n <= r.br.Size() {
		rec, err := r.br.Peek(n)
		if len(rec) < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			r.br.Discard(len(rec))
			return nil, ts, wire, err
		}
		r.br.Discard(n) // the bytes stay in the buffer until the next Peek
		return rec[pcapRecordHeaderLen:n:n], ts, wire, nil
	}
	r.br.Discard(pcapRecordHeaderLen)
	if cap(r.long) < int(caplen) {
		r.long = make([]byte, caplen)
	}
	data = r.long[:caplen]
	if _, err := io.ReadFull(r.br, data); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, ts, wire, err
	}
	return data, ts, wire, nil
}
