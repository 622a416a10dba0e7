package main

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/tcpstate/tcpstate/fsm"
)

// connSpecs are the connections the user asked to see (--conn): each is
// listed in full whatever the listing bounds, and drawn as a ladder in the
// text and HTML reports.
type connSpecs struct {
	ids   []uint64
	eps   []netip.AddrPort
	addrs []netip.Addr
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
			if id, err := strconv.ParseUint(s, 10, 64); err == nil && id > 0 {
				cs.ids = append(cs.ids, id)
				continue
			}
			if ap, err := netip.ParseAddrPort(s); err == nil {
				cs.eps = append(cs.eps, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
				continue
			}
			if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
				cs.addrs = append(cs.addrs, a.Unmap())
				continue
			}
			return nil, usagef("--conn %q: give a connection ID (its first frame), an endpoint ip:port or [ipv6]:port, or an address", s)
		}
	}
	return cs, nil
}

// match reports whether c is one of the connections asked for.
func (cs *connSpecs) match(c *fsm.Conn) bool {
	for _, id := range cs.ids {
		if c.ID == id {
			return true
		}
	}
	for _, a := range [2]netip.AddrPort{c.Client.Addr, c.Server.Addr} {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		for _, e := range cs.eps {
			if a == e {
				return true
			}
		}
		for _, x := range cs.addrs {
			if a.Addr() == x {
				return true
			}
		}
	}
	return false
}
