package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/google/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"

	"github.com/tcpstate/tcpstate/reassembly"
)

// ErrNotCapture is returned (wrapped in a *ReadError) for an input that is
// neither pcap nor pcapng, compressed or not.
var ErrNotCapture = errors.New("reassembly: not a pcap or pcapng capture")

// ErrEmptyInput is returned (wrapped in a *ReadError) for an input of 0 bytes.
var ErrEmptyInput = errors.New("reassembly: empty file, not a capture")

var errNoInputs = errors.New("reassembly: no inputs")

// ReadError is an error that ends reading: an input that is not a capture, a
// file header that cannot be read, or an I/O error from the underlying reader.
// A capture that is cut short or corrupt after its file header is not a
// ReadError: Source stops reading that input and reports it in Stats.
type ReadError struct {
	// Input is the input's name as given in Input.Name.
	Input string
	// Packet is the 1-based number, within that input, of the packet being
	// read when the error happened; 0 means the file header.
	Packet uint64
	Err    error
}

func (e *ReadError) Error() string {
	msg := strings.TrimPrefix(e.Err.Error(), "reassembly: ")
	if e.Packet == 0 {
		return "reassembly: " + e.Input + ": " + msg
	}
	return fmt.Sprintf("reassembly: %s: packet %d: %s", e.Input, e.Packet, msg)
}

func (e *ReadError) Unwrap() error { return e.Err }

// Input is one capture stream to read. Name is what the user typed ("-" for
// stdin); it appears in errors, warnings and Stats.Files.
type Input struct {
	Name string
	R    io.Reader
}

// Capture-format constants.
const (
	gzipMagic0, gzipMagic1 = 0x1f, 0x8b
	pcapMagicMicros        = 0xA1B2C3D4
	pcapMagicNanos         = 0xA1B23C4D
	pcapHeaderLen          = 24
	pcapRecordHeaderLen    = 16
	pcapLinkTypeMask       = 0xFFFF // upper bits carry FCS information
	magicLen               = 4
	readBufferSize         = 64 << 10

	// maxCaptureLen is the largest record accepted when the file header's
	// snaplen is smaller (Wireshark's WTAP_MAX_PACKET_SIZE_STANDARD);
	// maxSnaplen caps what a file header may claim. A record above the
	// limit means the file is corrupt.
	maxCaptureLen = 256 << 10
)

// errRecorder remembers the first error other than io.EOF that the raw input
// returned, so Source can tell I/O errors (fatal) from corrupt data (a warning).
// A gzip input is read on readahead's goroutine: hence the lock.
type errRecorder struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.mu.Lock()
		if e.err == nil {
			e.err = err
		}
		e.mu.Unlock()
	}
	return n, err
}

// failed returns the recorded error, nil if none.
func (e *errRecorder) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// input is one open capture and its peeked packet.
type input struct {
	name string
	raw  *errRecorder
	pcap *recordReader       // classic pcap, or
	ng   *ngReader           // pcapng
	link reassembly.LinkType // classic pcap link type (pcapgo truncates it to 8 bits)

	// The peeked packet: data is owned by the reader above and valid until
	// it is advanced.
	data  []byte
	ts    reassembly.Stamp
	plink reassembly.LinkType
	cut   bool // the capture kept less of the packet than was on the wire (snaplen)
	wire  int  // the packet's length on the wire
	have  bool // data, ts, plink and cut hold the input's next packet
	stale bool // the peeked packet was consumed; read another before merging
	done  bool
	n     uint64     // packets read from this input
	gz    bool       // offsets count decompressed bytes
	ahead *readahead // gzip: the inflating goroutine
	off   int64      // classic pcap: offset of the next record
}

// open reads the input's file header. It looks only at what the header needs,
// so a plain pipe is never read ahead; a gzip input is inflated ahead on a
// goroutine from now on (readahead), which a pipe feeds as it arrives.
func open(in Input) (x *input, err error) {
	fail := func(err error) error { return &ReadError{Input: in.Name, Err: err} }
	raw := &errRecorder{r: in.R}
	br := bufio.NewReaderSize(raw, readBufferSize)
	var ahead *readahead
	defer func() {
		if err != nil && ahead != nil {
			ahead.Close()
		}
	}()
	b, err := br.Peek(2)
	if len(b) == 0 && err == io.EOF {
		return nil, fail(ErrEmptyInput)
	}
	if raw.failed() != nil {
		return nil, fail(raw.failed())
	}
	if len(b) == 2 && b[0] == gzipMagic0 && b[1] == gzipMagic1 {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if raw.failed() != nil {
				err = raw.failed()
			}
			if !strings.HasPrefix(err.Error(), "gzip: ") {
				err = fmt.Errorf("gzip: %w", err)
			}
			return nil, fail(err)
		}
		ahead = newReadahead(zr)
		br = bufio.NewReaderSize(ahead, readBufferSize)
	}
	b, err = br.Peek(magicLen)
	if raw.failed() != nil {
		return nil, fail(raw.failed())
	}
	if len(b) == 0 && err == io.EOF {
		return nil, fail(ErrEmptyInput)
	}
	if len(b) < magicLen {
		if err != nil && err != io.EOF { // a gzip stream cut or corrupt before the header
			return nil, fail(headerError(raw, err))
		}
		return nil, fail(ErrNotCapture)
	}
	x = &input{name: in.Name, raw: raw, stale: true, gz: ahead != nil, ahead: ahead, off: pcapHeaderLen}
	le, be := binary.LittleEndian.Uint32(b), binary.BigEndian.Uint32(b)
	switch {
	case le == ngBlockSectionHeader:
		if x.ng, err = newNgReader(br); err != nil {
			return nil, fail(headerError(raw, err))
		}
	case le == pcapMagicMicros || le == pcapMagicNanos || be == pcapMagicMicros || be == pcapMagicNanos:
		hdr, err := br.Peek(pcapHeaderLen)
		if err != nil {
			return nil, fail(headerError(raw, err))
		}
		order := binary.ByteOrder(binary.LittleEndian)
		if be == pcapMagicMicros || be == pcapMagicNanos {
			order = binary.BigEndian
		}
		x.link = reassembly.LinkType(order.Uint32(hdr[20:24]) & pcapLinkTypeMask)
		snaplen := order.Uint32(hdr[16:20])
		// pcapgo validates the file header; the records are read here.
		if _, err = pcapgo.NewReader(br); err != nil {
			return nil, fail(headerError(raw, err))
		}
		// A record longer than the file's snaplen, or than Wireshark's
		// 256 KiB, means the file is corrupt (a snaplen of 0 means unknown).
		if snaplen == 0 || snaplen > maxCaptureLen {
			snaplen = maxCaptureLen
		}
		x.pcap = &recordReader{src: br, big: order == binary.BigEndian, snaplen: snaplen, nanoFactor: 1000}
		if le == pcapMagicNanos || be == pcapMagicNanos {
			x.pcap.nanoFactor = 1
		}
	default:
		return nil, fail(ErrNotCapture)
	}
	return x, nil
}

// headerError describes a failure to read a file header.
func headerError(raw *errRecorder, err error) error {
	if raw.failed() != nil {
		return raw.failed()
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("file header cut short: %w", io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("bad file header: %w", err)
}

// read peeks the input's next packet. It returns an error only for an I/O
// error of the underlying reader; the end of the input, or a cut or corrupt
// record, marks the input done and returns a warning instead.
func (x *input) read() (warning string, err error) {
	if x.pcap != nil {
		data, ts, wire, err := x.pcap.next()
		x.data, x.ts, x.plink, x.cut, x.wire = data, ts, x.link, wire > len(data), wire
		if err == nil {
			x.off += pcapRecordHeaderLen + int64(len(data))
			x.n++
			x.have, x.stale = true, false
			return "", nil
		}
		return x.end(err)
	}
	data, link, ts, err := x.ng.next()
	if err == nil {
		x.data, x.ts, x.plink, x.cut = data, ts, link, int64(x.ng.orig) > int64(len(data))
		x.wire = int(x.ng.orig)
		x.n++
		x.have, x.stale = true, false
		return "", nil
	}
	return x.end(err)
}

func (x *input) end(err error) (string, error) {
	x.have, x.stale, x.done, x.data = false, false, true, nil
	switch {
	case err == io.EOF:
		return "", nil
	case x.raw.failed() != nil:
		return "", &ReadError{Input: x.name, Packet: x.n + 1, Err: x.raw.failed()}
	}
	what := fmt.Sprintf("corrupt packet %d at %s (%v)", x.n+1, x.where(), strings.TrimPrefix(err.Error(), "pcapng: "))
	if err == io.ErrUnexpectedEOF {
		what = fmt.Sprintf("cut short in packet %d at %s", x.n+1, x.where())
	}
	switch x.n {
	case 0:
		return fmt.Sprintf("%s: %s: no packet could be read", x.name, what), nil
	case 1:
		return fmt.Sprintf("%s: %s; analysed the packet before it", x.name, what), nil
	}
	return fmt.Sprintf("%s: %s; analysed the %d packets before it", x.name, what, x.n), nil
}

// where names the offset of the record or block being read.
func (x *input) where() string {
	off := x.off
	if x.ng != nil {
		off = x.ng.start
	}
	if x.gz {
		return fmt.Sprintf("byte %d of the decompressed data", off)
	}
	return fmt.Sprintf("byte %d", off)
}

// Source reads one or more captures, merges them into one timeline by
// timestamp (ties: the earlier input first), decodes each packet and returns
// its TCP segments. Next and Stats must be called from one goroutine at a
// time.
type Source struct {
	// Filter, when set, is asked about every frame before it is decoded
	// (data, its link type and timestamp, its length on the wire); a frame
	// it rejects keeps its frame number and is counted as skipped
	// (SkipFiltered), so frame numbers stay those of the files. An error
	// ends the run.
	Filter func(data []byte, link reassembly.LinkType, ts reassembly.Stamp, wireLen int) (bool, error)

	ins   []*input
	dec   *Decoder
	err   error // sticky: the error Next returned, io.EOF at the end
	frame uint64

	stats   reassembly.Stats
	linkIdx int // index in stats.LinkTypes of the last packet's link type
	// first and last are the times of the first and last packet, which
	// Stats gives as its First and Last.
	first, last reassembly.Stamp
}

// VerifyChecksums makes the Source skip segments whose IPv4 header or
// TCP checksum fails, as the receiving kernel drops them
// (Decoder.VerifyChecksums); call it before the first Next.
func (s *Source) VerifyChecksums() { s.dec.VerifyChecksums = true }

// NewSource reads the file header of each input, in order, and returns a
// Source that merges them. Nothing else is read until Next. An input that is
// not a capture, or whose header is unreadable, is an error that names it
// (see ReadError, ErrNotCapture, ErrEmptyInput). The Source does not close the
// readers.
func NewSource(inputs []Input) (*Source, error) {
	if len(inputs) == 0 {
		return nil, errNoInputs
	}
	s := &Source{dec: NewDecoder()}
	for _, in := range inputs {
		x, err := open(in)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.ins = append(s.ins, x)
		s.stats.Files = append(s.stats.Files, in.Name)
	}
	return s, nil
}

// Close stops the goroutines that inflate gzip inputs ahead of Next, if
// they are still running (they end by themselves at the end of their
// input). It does not close the readers. Next must not be called after.
func (s *Source) Close() {
	for _, x := range s.ins {
		if x.ahead != nil {
			x.ahead.Close()
		}
	}
}

// Next fills seg with the next TCP segment in the merged timeline. It
// returns nil when seg was filled, io.EOF when all inputs are exhausted, and
// a *ReadError when an input could not be read; errors are sticky. Packets
// that are not usable TCP segments are counted in Stats and skipped. Next
// reads only as far as it must, so a pipe is analysed as packets arrive;
// with several inputs it holds one read-ahead packet per input.
func (s *Source) Next(seg *reassembly.Segment) error {
	if s.err != nil {
		return s.err
	}
	for {
		x, err := s.earliest()
		if err != nil {
			s.err = err
			return err
		}
		if x == nil {
			s.err = io.EOF
			return io.EOF
		}
		x.stale = true
		s.frame++
		seg.Frame, seg.Time = s.frame, x.ts
		if s.Filter != nil {
			ok, err := s.Filter(x.data, x.plink, x.ts, max(x.wire, len(x.data)))
			if err != nil {
				s.err = &ReadError{Input: x.name, Packet: x.n, Err: err}
				return s.err
			}
			if !ok {
				s.count(x, reassembly.SkipFiltered)
				continue
			}
		}
		s.dec.Whole = !x.cut
		r := s.dec.Decode(x.data, x.plink, seg)
		s.count(x, r)
		if r == reassembly.NotSkipped {
			return nil
		}
	}
}

// earliest refills consumed inputs and returns the one whose next packet
// comes first, or nil when every input is done.
func (s *Source) earliest() (*input, error) {
	var best *input
	for _, x := range s.ins {
		if x.stale {
			w, err := x.read()
			if err != nil {
				return nil, err
			}
			if w != "" {
				s.stats.Truncated = true
				s.stats.Warnings = append(s.stats.Warnings, w)
			}
		}
		if x.have && (best == nil || x.ts.Before(best.ts)) {
			best = x
		}
	}
	return best, nil
}

// count records one packet in the stats.
func (s *Source) count(x *input, r reassembly.SkipReason) {
	st := &s.stats
	st.Packets++
	if r == reassembly.NotSkipped {
		st.TCPPackets++
		if t := s.dec.Tunnels(); t != 0 {
			st.Tunneled.Add(t)
		}
	} else {
		st.Skipped[r]++
	}
	if st.Packets == 1 {
		s.first = x.ts
	}
	s.last = x.ts
	if s.linkIdx >= len(st.LinkTypes) || st.LinkTypes[s.linkIdx].Type != x.plink {
		s.linkIdx = s.findLink(x.plink)
	}
	st.LinkTypes[s.linkIdx].Packets++
}

// findLink returns the index of lt in stats.LinkTypes, adding it if needed.
func (s *Source) findLink(lt reassembly.LinkType) int {
	i, ok := slices.BinarySearchFunc(s.stats.LinkTypes, lt, func(c reassembly.LinkCount, t reassembly.LinkType) int {
		return int(c.Type) - int(t)
	})
	if !ok {
		s.stats.LinkTypes = slices.Insert(s.stats.LinkTypes, i, reassembly.LinkCount{Type: lt, Name: lt.String()})
	}
	return i
}

// Stats returns a snapshot of what has been read so far; the returned
// slices are copies. Like Next, it must not be called concurrently (the
// per-packet counters take no lock).
func (s *Source) Stats() reassembly.Stats {
	st := s.stats
	if st.Packets > 0 {
		st.First, st.Last = s.first.Time(), s.last.Time()
	}
	st.Files = slices.Clone(st.Files)
	st.LinkTypes = slices.Clone(st.LinkTypes)
	st.Warnings = slices.Clone(st.Warnings)
	WarnUndecodedLinks(&st)
	return st
}
