package main

import (
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tcpstate/tcpstate/fsm"
)

// connSpecs are the connections the user asked to see (--conn): each is
// listed in full whatever the listing bounds, and drawn as a ladder in the
// text and HTML reports.
type connSpecs struct {
	specs []connSpec
	// seen is whether each spec matched a connection; match runs on every
	// -j worker.
	seen []atomic.Bool
}

// connSpec is one --conn value: a connection ID, or else an endpoint, or
// else an address; name is how the user wrote it.
type connSpec struct {
	id   uint64
	ep   netip.AddrPort
	addr netip.Addr
	name string
}

// parseConnSpecs reads --conn values: a connection ID (the number of its
// first frame, as in the report), an endpoint ip:port or [ipv6]:port (either
// side), or an address (either side).
func parseConnSpecs(vals []string) (*connSpecs, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	cs := &connSpecs{}
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimPrefix(strings.TrimSpace(s), "#")
			sp := connSpec{name: s}
			if id, err := strconv.ParseUint(s, 10, 64); err == nil && id > 0 {
				sp.id = id
			} else if ap, err := netip.ParseAddrPort(s); err == nil {
				sp.ep = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			} else if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
				sp.addr = a.Unmap()
			} else {
				return nil, usagef("--conn %q: give a connection ID (its first frame), an endpoint ip:port or [ipv6]:port, or an address", s)
			}
			cs.specs = append(cs.specs, sp)
		}
	}
	cs.seen = make([]atomic.Bool, len(cs.specs))
	return cs, nil
}

// match reports whether c is one of the connections asked for, and notes
// which specs it matches.
func (cs *connSpecs) match(c *fsm.Conn) bool {
	var ends [2]netip.AddrPort
	for i, a := range [2]netip.AddrPort{c.Client.Addr, c.Server.Addr} {
		ends[i] = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	found := false
	for i := range cs.specs {
		if cs.specs[i].matches(c.ID, &ends) {
			found = true
			if !cs.seen[i].Load() {
				cs.seen[i].Store(true)
			}
		}
	}
	return found
}

// matches reports whether the connection id between ends (addresses
// unmapped) is the one sp names.
func (sp *connSpec) matches(id uint64, ends *[2]netip.AddrPort) bool {
	switch {
	case sp.id != 0:
		return id == sp.id
	case sp.ep.IsValid():
		return ends[0] == sp.ep || ends[1] == sp.ep
	}
	return ends[0].Addr() == sp.addr || ends[1].Addr() == sp.addr
}

// unmatched returns the specs, as given and in that order, that matched no
// connection.
func (cs *connSpecs) unmatched() []string {
	var none []string
	for i := range cs.specs {
		if !cs.seen[i].Load() {
			none = append(none, cs.specs[i].name)
		}
	}
	return none
}
