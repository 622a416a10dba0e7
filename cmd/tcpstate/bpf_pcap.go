//go:build pcap

package main

/*
#cgo linux LDFLAGS: -lpcap
#cgo darwin LDFLAGS: -lpcap
#cgo freebsd openbsd netbsd dragonfly LDFLAGS: -lpcap
#include <stdlib.h>
#include <pcap.h>

// tcpstate_compile compiles expr for a link type with libpcap; on failure
// it copies libpcap's message into err.
static int tcpstate_compile(int link, int snaplen, const char *expr, struct bpf_program *prog, char *err, size_t errlen) {
	pcap_t *p = pcap_open_dead(link, snaplen);
	if (p == NULL) {
		snprintf(err, errlen, "cannot compile a filter for link type %d", link);
		return -1;
	}
	int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
	if (rc < 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
	}
	pcap_close(p);
	return rc;
}

static int tcpstate_match(struct bpf_program *prog, const unsigned char *data, unsigned int caplen, unsigned int len) {
	struct pcap_pkthdr h;
	h.ts.tv_sec = 0;
	h.ts.tv_usec = 0;
	h.caplen = caplen;
	h.len = len;
	return pcap_offline_filter(prog, &h, data);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/capture"
)

// fileFilter applies a BPF filter (-F) to the frames of capture files,
// compiled by libpcap once per link type met (gopacket's own BPF keeps only
// 8 bits of the link type, which loses LINUX_SLL2). Not safe for
// concurrent use; close frees the programs.
type fileFilter struct {
	expr  string
	progs map[reassembly.LinkType]*C.struct_bpf_program
}

// filterSnaplen is what the filter is compiled for: the largest frame.
const filterSnaplen = 262144

// newFileFilter compiles expr (for Ethernet, to report a bad expression
// before reading anything).
func newFileFilter(expr string) (*fileFilter, error) {
	f := &fileFilter{expr: expr, progs: map[reassembly.LinkType]*C.struct_bpf_program{}}
	if _, err := f.prog(reassembly.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("bad filter %q: %v", expr, err)
	}
	return f, nil
}

func (f *fileFilter) prog(link reassembly.LinkType) (*C.struct_bpf_program, error) {
	if p := f.progs[link]; p != nil {
		return p, nil
	}
	cexpr := C.CString(f.expr)
	defer C.free(unsafe.Pointer(cexpr))
	p := (*C.struct_bpf_program)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_bpf_program{}))))
	var msg [C.PCAP_ERRBUF_SIZE]C.char
	if C.tcpstate_compile(C.int(link), filterSnaplen, cexpr, p, &msg[0], C.size_t(len(msg))) < 0 {
		C.free(unsafe.Pointer(p))
		return nil, errors.New(C.GoString(&msg[0]))
	}
	f.progs[link] = p
	return p, nil
}

// match is capture.Source's Filter.
func (f *fileFilter) match(data []byte, link reassembly.LinkType, _ reassembly.Stamp, wireLen int) (bool, error) {
	p, err := f.prog(link)
	if err != nil {
		return false, fmt.Errorf("filter %q on link type %s: %v", f.expr, link, err)
	}
	if len(data) == 0 {
		return false, nil
	}
	return C.tcpstate_match(p, (*C.uchar)(unsafe.Pointer(&data[0])), C.uint(len(data)), C.uint(wireLen)) != 0, nil
}

// setFilter makes src skip the frames that expr rejects; done frees the filter.
func setFilter(src *capture.Source, expr string) (done func(), err error) {
	f, err := newFileFilter(expr)
	if err != nil {
		return nil, err
	}
	src.Filter = f.match
	return f.close, nil
}

// close frees the compiled programs.
func (f *fileFilter) close() {
	for _, p := range f.progs {
		C.pcap_freecode(p)
		C.free(unsafe.Pointer(p))
	}
	f.progs = nil
}
