package capture

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/tcpstate/tcpstate/reassembly"
)

// recordReader reads the records of a classic pcap file, after its file
// header, out of its own buffer: a record's bytes are returned where they
// were read, never copied, and each record costs a few index updates (the
// bufio.Reader it reads from is only asked for more bytes when a record is
// not all in the buffer). The errors are those of gopacket's pcapgo.Reader,
// which it replaces on the per-packet path.
type recordReader struct {
	src        io.Reader // the input, positioned after the file header
	buf        []byte
	r, w       int    // buf[r:w] is read and not yet returned
	err        error  // the error src returned, once the buffer is drained
	big        bool   // big-endian file
	nanoFactor uint32 // 1000 for microsecond timestamps, 1 for nanoseconds
	snaplen    uint32
}

// recordBufferSize holds many header-only records; a larger record grows
// the buffer (records are at most maxCaptureLen).
const recordBufferSize = 256 << 10

// maxEmptyReads is how many reads returning nothing, and no error, in a
// row mean the input is broken (bufio's limit).
const maxEmptyReads = 100

// fill makes n bytes available at buf[r:], reading no more than src has
// at hand once n are there (a pipe is analysed as packets arrive). It
// returns what src returned when fewer than n bytes are left.
func (x *recordReader) fill(n int) error {
	if x.w-x.r >= n {
		return nil
	}
	if x.buf == nil || x.r+n > len(x.buf) {
		if n > len(x.buf) {
			nb := make([]byte, max(n, recordBufferSize))
			x.w = copy(nb, x.buf[x.r:x.w])
			x.buf = nb
		} else {
			x.w = copy(x.buf, x.buf[x.r:x.w])
		}
		x.r = 0
	}
	for empty := 0; x.w-x.r < n; {
		if x.err != nil {
			return x.err
		}
		m, err := x.src.Read(x.buf[x.w:])
		x.w += m
		switch {
		case err != nil:
			x.err = err
		case m > 0:
			empty = 0
		default:
			if empty++; empty >= maxEmptyReads {
				x.err = io.ErrNoProgress // as bufio gives up on a reader that returns nothing
			}
		}
	}
	return nil
}

// next returns the next record's data (valid until the next call), its
// timestamp and its length on the wire. At the end of the file it returns
// io.EOF; a record cut short, io.ErrUnexpectedEOF; a record whose lengths
// cannot be right, an error that says why; and the reader's own errors as
// they are.
func (x *recordReader) next() (data []byte, ts reassembly.Stamp, wire int, err error) {
	if err := x.fill(pcapRecordHeaderLen); err != nil {
		if err == io.EOF && x.w > x.r {
			err = io.ErrUnexpectedEOF
		}
		x.r = x.w
		return nil, 0, 0, err
	}
	hdr := x.buf[x.r : x.r+pcapRecordHeaderLen]
	var sec, frac, caplen, orig uint32
	if x.big {
		b := binary.BigEndian
		sec, frac, caplen, orig = b.Uint32(hdr[0:4]), b.Uint32(hdr[4:8]), b.Uint32(hdr[8:12]), b.Uint32(hdr[12:16])
	} else {
		b := binary.LittleEndian
		sec, frac, caplen, orig = b.Uint32(hdr[0:4]), b.Uint32(hdr[4:8]), b.Uint32(hdr[8:12]), b.Uint32(hdr[12:16])
	}
	// As pcapgo computes it, wrapping in 32 bits included.
	ts = reassembly.UnixStamp(int64(sec), int64(frac*x.nanoFactor))
	wire = int(orig)
	x.r += pcapRecordHeaderLen
	switch {
	case caplen > x.snaplen:
		return nil, ts, wire, fmt.Errorf("capture length exceeds snap length: %d > %d", caplen, x.snaplen)
	case caplen > orig:
		return nil, ts, wire, fmt.Errorf("capture length exceeds original packet length: %d > %d", caplen, orig)
	}
	n := int(caplen)
	if err := x.fill(n); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		x.r = x.w
		return nil, ts, wire, err
	}
	data = x.buf[x.r : x.r+n : x.r+n]
	x.r += n
	return data, ts, wire, nil
}
