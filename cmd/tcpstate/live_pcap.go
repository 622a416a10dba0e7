//go:build pcap

package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/gopacket/pcap"

	"github.com/tcpstate/tcpstate/cmd/internal/cli"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/capture"
	"github.com/tcpstate/tcpstate/report"
)

// liveTimeout is libpcap's read timeout: how long Next waits for a packet
// before it hands control back to the pipeline, which then checks for
// Ctrl-C, --duration and the live view. Short, so that stopping is prompt
// on an idle interface.
const liveTimeout = 100 * time.Millisecond

// nonblockPoll is how long Next waits before reading again from a capture
// that cannot block (wouldBlock): short next to the live view's refresh,
// long enough that an idle capture costs no CPU to speak of.
const nonblockPoll = 5 * time.Millisecond

// liveBufferSize is the kernel buffer for captured packets: larger than
// libpcap's 2 MB default, so that bursts are not dropped while the
// pipeline sweeps.
const liveBufferSize = 8 << 20

// maxSnaplen is the largest -s accepted (libpcap's MAXIMUM_SNAPLEN).
const maxSnaplen = 262144

// checkLive validates the live-capture flags. With -i, the arguments form
// the BPF filter (as with tcpdump) and no file is read; without it, -F
// filters the files and the capture-only flags are refused.
func checkLive(o *options, files []string) ([]string, error) {
	v := &o.view
	if o.iface == "" {
		if v.count != 0 || v.snaplen != defaultSnaplen || v.noPromisc || v.write != "" || v.durationSet {
			return nil, usagef("-c, -s, -p, -w and --duration are for live capture: add -i IFACE")
		}
		return files, nil
	}
	if len(o.reads) > 0 {
		return nil, usagef("-r and -i do not mix: read a capture, or capture live")
	}
	if expr := strings.Join(files, " "); expr != "" {
		if o.filter != "" {
			return nil, usagef("give the filter once: with -F, or as the arguments after the flags")
		}
		o.filter = expr
	}
	switch {
	case v.count < 0:
		return nil, usagef("-c must be a positive number of packets")
	case v.snaplen <= 0 || v.snaplen > maxSnaplen:
		return nil, usagef("-s must be between 1 and %d bytes", maxSnaplen)
	case v.durationSet && v.duration <= 0:
		return nil, usagef("--duration must be positive")
	case v.write == "-":
		return nil, usagef("-w needs a file name: stdout carries the report")
	case v.write != "" && v.write == o.output:
		return nil, usagef("-w and -o name the same file")
	}
	if v.write != "" && o.output != "" && o.output != "-" {
		if wi, err := os.Stat(v.write); err == nil {
			if oi, err := os.Stat(o.output); err == nil && os.SameFile(wi, oi) {
				return nil, usagef("-w and -o name the same file")
			}
		}
	}
	return nil, nil
}

// live captures on o.iface until ctx is cancelled (Ctrl-C, SIGTERM),
// --duration passes or -c packets were read, and builds the report
// exactly as for a file. With -w, the packets are also written to a pcap
// file (renamed into place when the capture ends).
func (an analysis) live(ctx context.Context, o *options, stderr io.Writer) (*report.Report, error) {
	v := &o.view
	h, err := openLive(o.iface, v.snaplen, !v.noPromisc)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if o.filter != "" {
		if err := h.SetBPFFilter(o.filter); err != nil {
			return nil, fmt.Errorf("bad filter %q: %v", o.filter, err)
		}
	}
	src := newLiveSource(h, o.iface, o.filter, v.count)
	src.dec.VerifyChecksums = an.verifySums
	var out *atomicFile
	if v.write != "" {
		if out, err = createAtomic(v.write); err != nil {
			return nil, err
		}
		defer out.abort()
		src.w = newPcapWriter(out.f, uint32(h.SnapLen()), src.link)
	}
	if v.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, v.duration)
		defer cancel()
	}
	src.ctx = ctx
	an.progress = nil
	if wantView(o, true, stderr) {
		an.view = &viewSettings{w: stderr, tty: cli.IsTerminal(stderr), every: v.interval, wall: true}
	}
	rep, err := an.analyzeSource(ctx, an.newPipeline(), src)
	if err == nil && src.werr != nil {
		err = fmt.Errorf("write %s: %v", v.write, src.werr)
	}
	if err == nil && out != nil {
		if err = src.w.flush(); err != nil {
			err = fmt.Errorf("write %s: %v", v.write, err)
		} else {
			err = out.commit()
		}
	}
	if err != nil {
		return nil, err
	}
	if !o.quiet {
		if recv, drop, ok := src.Drops(); ok {
			fmt.Fprintf(stderr, "tcpstate: %d packets captured, %d received by filter, %d dropped by kernel\n", src.frame, recv, drop)
		}
	}
	return rep, nil
}

// openLive opens iface for capture, turning libpcap's failures into one
// line that says what to do.
func openLive(iface string, snaplen int, promisc bool) (*pcap.Handle, error) {
	in, err := pcap.NewInactiveHandle(iface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: %v", iface, err)
	}
	defer in.CleanUp()
	for _, err := range []error{in.SetSnapLen(snaplen), in.SetPromisc(promisc), in.SetTimeout(liveTimeout), in.SetBufferSize(liveBufferSize)} {
		if err != nil {
			return nil, fmt.Errorf("capture on %s: %v", iface, err)
		}
	}
	h, err := in.Activate()
	if err == nil {
		return h, nil
	}
	msg := err.Error()
	switch {
	case msg == "Permission Denied" || strings.Contains(msg, "ermission") || strings.Contains(msg, "not permitted"):
		return nil, fmt.Errorf("capture on %s: permission denied: live capture needs root, or the CAP_NET_RAW and CAP_NET_ADMIN capabilities "+
			"(sudo setcap cap_net_raw,cap_net_admin=eip %s)", iface, executable())
	case msg == "No Such Device" || strings.Contains(msg, "No such device") || strings.Contains(msg, "doesn't exist"):
		return nil, fmt.Errorf("no interface named %s; available: %s", iface, availableInterfaces())
	case msg == "Interface Not Up":
		return nil, fmt.Errorf("capture on %s: the interface is down", iface)
	}
	return nil, fmt.Errorf("capture on %s: %s", iface, strings.TrimPrefix(strings.TrimPrefix(msg, "Error: "), "Warning: "))
}

// availableInterfaces lists the interfaces libpcap can capture on.
func availableInterfaces() string {
	devs, err := pcap.FindAllDevs()
	if err != nil || len(devs) == 0 {
		return "none found (" + fmt.Sprint(err) + ")"
	}
	names := make([]string, 0, len(devs))
	for _, d := range devs {
		names = append(names, d.Name)
	}
	return strings.Join(names, ", ")
}

// executable names this program for the setcap hint.
func executable() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "tcpstate"
}

// liveSource reads a libpcap handle: a segmentSource whose frames are
// decoded by the same capture.Decoder as files, so that a live capture and
// its -w file give the same report. Not safe for concurrent use.
type liveSource struct {
	h     *pcap.Handle
	ctx   context.Context
	dec   *capture.Decoder
	link  reassembly.LinkType
	limit uint64 // -c: stop after this many packets (0: no limit)
	frame uint64
	stats reassembly.Stats
	w     *pcapWriter // -w, or nil
	werr  error       // the first -w write error
	err   error       // sticky end: io.EOF or a read error
}

func newLiveSource(h *pcap.Handle, iface, filter string, limit int) *liveSource {
	name := "interface " + iface
	if filter != "" {
		name += ", filter " + filter
	}
	link := linkTypeOf(h)
	s := &liveSource{h: h, ctx: context.Background(), dec: capture.NewDecoder(), link: link, limit: uint64(limit)}
	s.stats.Files = []string{name}
	s.stats.LinkTypes = []reassembly.LinkCount{{Type: link, Name: link.String()}}
	return s
}

// Next returns the next TCP segment captured. It returns errNoPacket when
// none came within the read timeout, and io.EOF once ctx is done or -c
// packets were read.
func (s *liveSource) Next(seg *reassembly.Segment) error {
	if s.err != nil {
		return s.err
	}
	for {
		if s.ctx.Err() != nil || (s.limit > 0 && s.frame >= s.limit) {
			s.err = io.EOF
			return s.err
		}
		data, ci, err := s.h.ZeroCopyReadPacketData()
		switch {
		case errors.Is(err, pcap.NextErrorTimeoutExpired):
			return errNoPacket
		case err == io.EOF:
			s.err = io.EOF
			return s.err
		case err != nil && s.wouldBlock(err):
			time.Sleep(nonblockPoll)
			return errNoPacket
		case err != nil:
			s.err = fmt.Errorf("capture: %v", err)
			return s.err
		}
		if s.w != nil && s.werr == nil {
			s.werr = s.w.write(ci.Timestamp, data, ci.Length)
		}
		s.frame++
		seg.Frame, seg.Time = s.frame, reassembly.StampOf(ci.Timestamp)
		cut := ci.Length > len(data)
		s.dec.Whole = !cut
		r := s.dec.Decode(data, s.link, seg)
		st := &s.stats
		st.Packets++
		if st.Packets == 1 {
			st.First = ci.Timestamp
		}
		st.Last = ci.Timestamp
		st.LinkTypes[0].Packets++
		if r == reassembly.NotSkipped {
			st.TCPPackets++
			if t := s.dec.Tunnels(); t != 0 {
				st.Tunneled.Add(t)
			}
			return nil
		}
		st.Skipped[r]++
	}
}

// wouldBlock reports whether a read error only says that no packet is
// waiting. gopacket puts every handle in non-blocking mode and waits with
// poll() only when libpcap says a read timed out; libpcap's NFLOG reader
// (nflog:N) reports its non-blocking socket's EAGAIN as an error instead.
// Next then waits nonblockPoll itself and tries again.
func (s *liveSource) wouldBlock(err error) bool {
	if !errors.Is(err, pcap.NextErrorReadError) {
		return false
	}
	// libpcap's strerror text, "Resource temporarily unavailable"; Go's
	// spells it in lower case.
	e := s.h.Error()
	return e != nil && strings.Contains(strings.ToLower(e.Error()), syscall.EAGAIN.Error())
}

// Stats returns what was captured so far; when libpcap dropped packets, a
// warning says that findings may be incomplete.
func (s *liveSource) Stats() reassembly.Stats {
	st := s.stats
	st.Files = slices.Clone(st.Files)
	st.LinkTypes = slices.Clone(st.LinkTypes)
	st.Warnings = slices.Clone(st.Warnings)
	capture.WarnUndecodedLinks(&st)
	if _, drop, ok := s.Drops(); ok && drop > 0 {
		st.Warnings = append(st.Warnings, fmt.Sprintf("the kernel dropped %d packets that the filter accepted (libpcap's count): "+
			"findings may be incomplete; a narrower filter, a smaller -s or fewer other tasks help", drop))
	}
	return st
}

// Drops returns libpcap's counts: packets received by the filter, and
// dropped because the buffer was full.
func (s *liveSource) Drops() (received, dropped uint64, ok bool) {
	ps, err := s.h.Stats()
	if err != nil {
		return 0, 0, false
	}
	return uint64(ps.PacketsReceived), uint64(ps.PacketsDropped), true
}

// linkTypeOf returns the handle's link type. gopacket v1.1.19 keeps only
// its low 8 bits (layers.LinkType is a uint8), which loses LINUX_SLL2
// (276, what -i any gives): the full value is found among the link types
// the device offers.
func linkTypeOf(h *pcap.Handle) reassembly.LinkType {
	lt := int(h.LinkType())
	links, _ := h.ListDataLinks()
	var masked []int
	for _, d := range links {
		v := pcap.DatalinkNameToVal(d.Name)
		if v == lt {
			return reassembly.LinkType(v)
		}
		if v > 0 && v&0xff == lt {
			masked = append(masked, v)
		}
	}
	if len(masked) == 1 {
		return reassembly.LinkType(masked[0])
	}
	return reassembly.LinkType(lt)
}

// pcapWriter writes -w: a classic pcap file with nanosecond timestamps and
// the capture's full link type (pcapgo.Writer takes an 8-bit one). It
// allocates nothing per packet.
type pcapWriter struct {
	w   *bufio.Writer
	hdr [pcapRecordHeader]byte
	err error
}

// Classic pcap layout (https://www.tcpdump.org/manpages/pcap-savefile.5.html).
const (
	pcapFileHeader    = 24
	pcapRecordHeader  = 16
	pcapMagicNanosecs = 0xA1B23C4D
	pcapVersionMajor  = 2
	pcapVersionMinor  = 4
)

func newPcapWriter(f io.Writer, snaplen uint32, link reassembly.LinkType) *pcapWriter {
	w := &pcapWriter{w: bufio.NewWriterSize(f, 1<<16)}
	var h [pcapFileHeader]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:4], pcapMagicNanosecs)
	le.PutUint16(h[4:6], pcapVersionMajor)
	le.PutUint16(h[6:8], pcapVersionMinor)
	// thiszone and sigfigs (8:16) are 0.
	le.PutUint32(h[16:20], snaplen)
	le.PutUint32(h[20:24], uint32(link))
	_, w.err = w.w.Write(h[:])
	return w
}

// write appends one packet: its timestamp, the bytes captured, and its
// length on the wire.
func (w *pcapWriter) write(ts time.Time, data []byte, wireLen int) error {
	if w.err != nil {
		return w.err
	}
	le := binary.LittleEndian
	le.PutUint32(w.hdr[0:4], uint32(ts.Unix()))
	le.PutUint32(w.hdr[4:8], uint32(ts.Nanosecond()))
	le.PutUint32(w.hdr[8:12], uint32(len(data)))
	le.PutUint32(w.hdr[12:16], uint32(max(wireLen, len(data))))
	if _, w.err = w.w.Write(w.hdr[:]); w.err == nil {
		_, w.err = w.w.Write(data)
	}
	return w.err
}

// flush writes what is buffered and returns the first error.
func (w *pcapWriter) flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}
