package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/tcpstate/tcpstate/reassembly"
)

// pcapng block types and option codes (draft-ietf-opsawg-pcapng).
const (
	ngBlockSectionHeader  uint32 = 0x0A0D0D0A
	ngBlockInterface      uint32 = 0x00000001
	ngBlockPacketObsolete uint32 = 0x00000002
	ngBlockSimplePacket   uint32 = 0x00000003
	ngBlockEnhancedPacket uint32 = 0x00000006
	ngByteOrderMagic      uint32 = 0x1A2B3C4D
	ngVersionMajor        uint16 = 1
	ngOptEndOfOpt         uint16 = 0
	ngOptIfTsResol        uint16 = 9
	ngOptIfTsOffset       uint16 = 14
	ngBlockHeaderLen             = 8  // type, total length
	ngBlockOverhead              = 12 // type, total length, trailing total length
	ngSHBFixedLen                = 16 // byte-order magic, major, minor, section length
	ngIDBFixedLen                = 8  // link type, reserved, snaplen
	ngEPBFixedLen                = 20 // interface, timestamp (2), captured length, original length
	ngSPBFixedLen                = 4  // original length
	ngOptHeaderLen               = 4  // code, length
	ngDefaultTsResol             = 6  // microseconds
	ngTsResolBinary              = 0x80
	ngMaxDecimalExponent         = 19 // 10^19 still fits a uint64
	ngMaxBlockLen                = maxCaptureLen + 64<<10
	nanosPerSecond               = 1e9
)

// ngIface is what the reader keeps of an Interface Description Block.
type ngIface struct {
	link     reassembly.LinkType
	snaplen  uint32
	units    uint64 // timestamp units per second (if_tsresol)
	tsOffset int64  // seconds added to every timestamp (if_tsoffset)
}

// ngReader reads packets from a pcapng stream, including sections and
// interfaces of different link types. gopacket v1.1.19's pcapgo.NgReader is
// not used because it reports a link type of 256 or more through an interface
// value (one allocation per SLL2 packet), trusts captured lengths and
// snaplens for its buffer size, and returns io.EOF for files cut mid-block.
type ngReader struct {
	r         *bufio.Reader
	bigEndian bool
	ifaces    []ngIface
	hdr       [ngBlockHeaderLen + 4]byte
	buf       []byte
	last      reassembly.Stamp // timestamp of the previous packet, used for simple packet blocks
	// pos is the offset of the next block in the stream; start that of the
	// block read last (for error messages).
	pos, start int64
	// orig is the original length of the packet next returned last.
	orig uint32
}

// newNgReader reads the first section header block from r.
func newNgReader(r *bufio.Reader) (*ngReader, error) {
	ng := &ngReader{r: r}
	typ, body, err := ng.block()
	if err != nil {
		return nil, err
	}
	if typ != ngBlockSectionHeader {
		return nil, errors.New("pcapng: first block is not a section header")
	}
	if err := ng.section(body); err != nil {
		return nil, err
	}
	return ng, nil
}

func (ng *ngReader) u16(b []byte) uint16 {
	if ng.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (ng *ngReader) u32(b []byte) uint32 {
	if ng.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// readFull is io.ReadFull that reports a stream ending inside the block as
// io.ErrUnexpectedEOF.
func (ng *ngReader) readFull(b []byte) error {
	_, err := io.ReadFull(ng.r, b)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// block reads the next block whole, or skips it if next need not look at it.
// body excludes the block header and trailer and is valid until the next call.
// It returns io.EOF only at a block boundary.
func (ng *ngReader) block() (typ uint32, body []byte, err error) {
	ng.start = ng.pos
	if _, err := io.ReadFull(ng.r, ng.hdr[:ngBlockHeaderLen]); err != nil {
		return 0, nil, err
	}
	typ = ng.u32(ng.hdr[0:4]) // the section header type reads the same in both orders
	if typ == ngBlockSectionHeader {
		if err := ng.readFull(ng.hdr[ngBlockHeaderLen:]); err != nil {
			return 0, nil, err
		}
		switch ngByteOrderMagic {
		case binary.BigEndian.Uint32(ng.hdr[ngBlockHeaderLen:]):
			ng.bigEndian = true
		case binary.LittleEndian.Uint32(ng.hdr[ngBlockHeaderLen:]):
			ng.bigEndian = false
		default:
			return 0, nil, errors.New("pcapng: bad byte-order magic in section header")
		}
	}
	total := ng.u32(ng.hdr[4:8])
	if total < ngBlockOverhead || total%4 != 0 {
		return 0, nil, fmt.Errorf("pcapng: bad block length %d", total)
	}
	switch typ {
	case ngBlockSectionHeader, ngBlockInterface, ngBlockEnhancedPacket, ngBlockSimplePacket, ngBlockPacketObsolete:
	default:
		if n, err := ng.r.Discard(int(total) - ngBlockHeaderLen); err != nil {
			if err == io.EOF && n < int(total)-ngBlockHeaderLen {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, err
		}
		ng.pos += int64(total)
		return typ, nil, nil
	}
	if total > ngMaxBlockLen {
		return 0, nil, fmt.Errorf("pcapng: block length %d exceeds limit %d", total, ngMaxBlockLen)
	}
	n := int(total) - ngBlockHeaderLen // body and trailer
	if cap(ng.buf) < n {
		ng.buf = make([]byte, n, max(n, 64<<10))
	}
	b := ng.buf[:n]
	start := 0
	if typ == ngBlockSectionHeader {
		copy(b, ng.hdr[ngBlockHeaderLen:]) // the byte-order magic is part of the body
		start = 4
	}
	if err := ng.readFull(b[start:]); err != nil {
		return 0, nil, err
	}
	if trailer := ng.u32(b[n-4:]); trailer != total {
		return 0, nil, fmt.Errorf("pcapng: block length %d does not match trailer %d", total, trailer)
	}
	ng.pos += int64(total)
	return typ, b[:n-4], nil
}

// section starts a new section from a section header block body.
func (ng *ngReader) section(body []byte) error {
	if len(body) < ngSHBFixedLen {
		return errors.New("pcapng: section header too short")
	}
	if v := ng.u16(body[4:6]); v != ngVersionMajor {
		return fmt.Errorf("pcapng: unsupported version %d", v)
	}
	ng.ifaces = ng.ifaces[:0]
	return nil
}

// iface adds an interface from an interface description block body.
func (ng *ngReader) iface(body []byte) error {
	if len(body) < ngIDBFixedLen {
		return errors.New("pcapng: interface description too short")
	}
	ifc := ngIface{
		link:    reassembly.LinkType(ng.u16(body[0:2])),
		snaplen: ng.u32(body[4:8]),
	}
	resol := byte(ngDefaultTsResol)
	for opts := body[ngIDBFixedLen:]; len(opts) >= ngOptHeaderLen; {
		code, n := ng.u16(opts[0:2]), int(ng.u16(opts[2:4]))
		if code == ngOptEndOfOpt || ngOptHeaderLen+n > len(opts) {
			break
		}
		v := opts[ngOptHeaderLen : ngOptHeaderLen+n]
		switch {
		case code == ngOptIfTsResol && n == 1:
			resol = v[0]
		case code == ngOptIfTsOffset && n == 8:
			if ng.bigEndian {
				ifc.tsOffset = int64(binary.BigEndian.Uint64(v))
			} else {
				ifc.tsOffset = int64(binary.LittleEndian.Uint64(v))
			}
		}
		opts = opts[min(len(opts), ngOptHeaderLen+(n+3)&^3):]
	}
	if resol&ngTsResolBinary != 0 {
		e := resol &^ ngTsResolBinary
		if e > 63 {
			return fmt.Errorf("pcapng: bad timestamp resolution 2^-%d", e)
		}
		ifc.units = 1 << e
	} else {
		if resol > ngMaxDecimalExponent {
			return fmt.Errorf("pcapng: bad timestamp resolution 10^-%d", resol)
		}
		ifc.units = 1
		for range resol {
			ifc.units *= 10
		}
	}
	ng.ifaces = append(ng.ifaces, ifc)
	return nil
}

// time converts a timestamp in the interface's units.
func (ifc *ngIface) time(ts uint64) reassembly.Stamp {
	sec, frac := ts/ifc.units, ts%ifc.units
	hi, lo := bits.Mul64(frac, nanosPerSecond)
	ns, _ := bits.Div64(hi, lo, ifc.units) // frac < units, so no overflow
	// Both terms held to ±2^62 so that their sum cannot wrap (UnixStamp
	// saturates what is beyond a Stamp).
	const lim = 1 << 62
	return reassembly.UnixStamp(int64(min(sec, lim))+max(min(ifc.tsOffset, lim), -lim), int64(ns))
}

// next returns the next packet. data is valid until the next call. At the end
// of the stream it returns io.EOF; a stream that ends inside a block returns
// io.ErrUnexpectedEOF.
func (ng *ngReader) next() (data []byte, link reassembly.LinkType, ts reassembly.Stamp, err error) {
	for {
		typ, body, err := ng.block()
		if err != nil {
			return nil, 0, 0, err
		}
		switch typ {
		case ngBlockSectionHeader:
			if err := ng.section(body); err != nil {
				return nil, 0, 0, err
			}
		case ngBlockInterface:
			if err := ng.iface(body); err != nil {
				return nil, 0, 0, err
			}
		case ngBlockEnhancedPacket, ngBlockPacketObsolete:
			if len(body) < ngEPBFixedLen {
				return nil, 0, 0, errors.New("pcapng: packet block too short")
			}
			var id uint32
			if typ == ngBlockEnhancedPacket {
				id = ng.u32(body[0:4])
			} else {
				id = uint32(ng.u16(body[0:2])) // then 2 bytes of drop count
			}
			if id >= uint32(len(ng.ifaces)) {
				return nil, 0, 0, fmt.Errorf("pcapng: packet for undeclared interface %d", id)
			}
			ifc := &ng.ifaces[id]
			caplen := ng.u32(body[12:16])
			if caplen > uint32(len(body)-ngEPBFixedLen) {
				return nil, 0, 0, fmt.Errorf("pcapng: captured length %d exceeds block", caplen)
			}
			ng.last = ifc.time(uint64(ng.u32(body[4:8]))<<32 | uint64(ng.u32(body[8:12])))
			ng.orig = ng.u32(body[16:20])
			return body[ngEPBFixedLen : ngEPBFixedLen+caplen], ifc.link, ng.last, nil
		case ngBlockSimplePacket:
			if len(ng.ifaces) == 0 || len(body) < ngSPBFixedLen {
				return nil, 0, 0, errors.New("pcapng: simple packet block without interface")
			}
			ifc := &ng.ifaces[0]
			ng.orig = ng.u32(body[0:4])
			caplen := min(ng.orig, uint32(len(body)-ngSPBFixedLen))
			if ifc.snaplen != 0 {
				caplen = min(caplen, ifc.snaplen)
			}
			// A simple packet block has no timestamp: keep the previous one.
			return body[ngSPBFixedLen : ngSPBFixedLen+caplen], ifc.link, ng.last, nil
		}
	}
}
