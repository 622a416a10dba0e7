package reassembly

import "net/netip"

// Key identifies a four-tuple regardless of direction: the two endpoints are
// stored in a canonical order, so both directions of a connection map to the
// same Key. It is comparable and usable as a map key; its layout is private.
type Key struct {
	lo, hi netip.AddrPort
}

// KeyOf returns the Key of a segment from src to dst.
func KeyOf(src, dst netip.AddrPort) Key {
	if src.Compare(dst) <= 0 {
		return Key{lo: src, hi: dst}
	}
	return Key{lo: dst, hi: src}
}

// Endpoints returns the two endpoints in canonical order.
func (k Key) Endpoints() (netip.AddrPort, netip.AddrPort) { return k.lo, k.hi }

// Compare orders keys by their canonical endpoints, for deterministic output.
func (k Key) Compare(o Key) int {
	if c := k.lo.Compare(o.lo); c != 0 {
		return c
	}
	return k.hi.Compare(o.hi)
}

// String returns "a <-> b".
func (k Key) String() string { return k.lo.String() + " <-> " + k.hi.String() }
