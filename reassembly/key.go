package reassembly

import (
	"cmp"
	"encoding/binary"
	"net/netip"

	"github.com/tcpstate/tcpstate/reassembly/slab"
)

// Key identifies a four-tuple regardless of direction: the two endpoints are
// stored in a canonical order, so both directions of a connection map to the
// same Key. It is comparable, holds no pointer (cheap to hash and invisible
// to the garbage collector) and its layout is private. IPv4 addresses are
// stored in their IPv4-mapped IPv6 form.
//
// Each address is held as two big-endian words (AddrWords), not as a byte
// array: a Key is written and read a word at a time, so every load of it
// is forwarded from the store that wrote it. With [16]byte arrays the
// compiler copied the Key being built with 16-byte loads across two 8-byte
// stores, and the hash read it back in pieces: each such load waits for
// the stores to reach the cache (a failed store forward), 5% of the
// pipeline's time in Assembler.Add.
type Key struct {
	loH, loL, hiH, hiL uint64 // the endpoints' addresses (AddrWords)
	loP, hiP           uint16
}

// KeyOf returns the Key of a segment from src to dst.
func KeyOf(src, dst netip.AddrPort) Key {
	var k Key
	k.set(src, dst)
	return k
}

// set makes k the Key of a segment from src to dst and returns its hash
// (k.hash()), computed from the registers rather than read back.
func (k *Key) set(src, dst netip.AddrPort) uint64 {
	ah, al := AddrWords(src.Addr())
	bh, bl := AddrWords(dst.Addr())
	return k.setWords(ah, al, src.Port(), bh, bl, dst.Port())
}

// Key returns the Key of the connection s belongs to: the same for both
// directions.
func (s *Segment) Key() Key {
	var k Key
	k.setSeg(s)
	return k
}

// setSeg makes k the Key of seg and returns its hash.
func (k *Key) setSeg(s *Segment) uint64 {
	return k.setWords(s.SrcIP.Hi, s.SrcIP.Lo, s.SrcPort, s.DstIP.Hi, s.DstIP.Lo, s.DstPort)
}

// setWords makes k the Key of a segment from address a (AddrWords) and
// port ap to b and bp, and returns its hash.
func (k *Key) setWords(ah, al uint64, ap uint16, bh, bl uint64, bp uint16) uint64 {
	if !(ah < bh || ah == bh && (al < bl || al == bl && ap <= bp)) { // the addresses' byte order, then the ports'
		ah, al, ap, bh, bl, bp = bh, bl, bp, ah, al, ap
	}
	k.loH, k.loL, k.loP = ah, al, ap
	k.hiH, k.hiL, k.hiP = bh, bl, bp
	return hashWords(ah, al, ap, bh, bl, bp)
}

// AddrWords returns a's 16-byte form (IPv4 mapped into IPv6, as in a Key)
// as two big-endian words. It does not go through As16's array for an IPv4
// address: writing the array in two halves and reading it back whole
// stalls the load (no store forwarding), and this runs twice per packet.
func AddrWords(a netip.Addr) (hi, lo uint64) {
	if a.Is4() {
		ip := IPv4(a.As4())
		return ip.Hi, ip.Lo
	}
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// endpoint returns a Key's endpoint, an IPv4-mapped address as IPv4 (a
// Key does not tell them apart).
func endpoint(hi, lo uint64, p uint16) netip.AddrPort {
	return netip.AddrPortFrom(IP{hi, lo}.Addr(false), p)
}

// Endpoints returns the two endpoints in canonical order.
func (k Key) Endpoints() (netip.AddrPort, netip.AddrPort) {
	return endpoint(k.loH, k.loL, k.loP), endpoint(k.hiH, k.hiL, k.hiP)
}

// Compare orders keys by their canonical endpoints, for deterministic output.
func (k Key) Compare(o Key) int {
	return cmp.Or(cmp.Compare(k.loH, o.loH), cmp.Compare(k.loL, o.loL), cmp.Compare(k.loP, o.loP),
		cmp.Compare(k.hiH, o.hiH), cmp.Compare(k.hiL, o.hiL), cmp.Compare(k.hiP, o.hiP))
}

// String returns "a <-> b".
func (k Key) String() string {
	a, b := k.Endpoints()
	return a.String() + " <-> " + b.String()
}

// equal is k == *o, a word at a time.
func (k *Key) equal(o *Key) bool {
	return k.loH == o.loH && k.loL == o.loL && k.hiH == o.hiH && k.hiL == o.hiL &&
		k.loP == o.loP && k.hiP == o.hiP
}

// hash mixes the whole key into 64 bits (for the connection table).
func (k *Key) hash() uint64 { return hashWords(k.loH, k.loL, k.loP, k.hiH, k.hiL, k.hiP) }

func hashWords(ah, al uint64, ap uint16, bh, bl uint64, bp uint16) uint64 {
	const m = 0x9e3779b97f4a7c15
	h := uint64(ap)<<16 | uint64(bp)
	for _, w := range [4]uint64{ah, al, bh, bl} {
		h = (h ^ w) * m
		h ^= h >> 32
	}
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// table maps Keys to connections: open addressing with linear probing and
// backward-shift deletion, so that a stream of connections opened and
// released leaves no tombstones behind to lengthen the probes.
type table struct {
	slots []slot // power-of-two length; c == nil marks a free slot
	n     int
}

// slot is 16 bytes: the key is compared in the connection itself, whose
// first cache line the caller reads next anyway, so the table of ~16,000
// slots that 10,000 open connections need stays in the L2 cache.
type slot struct {
	h uint64
	c *Conn
}

const minTable = 64

func (t *table) get(k *Key, h uint64) *Conn {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.c == nil {
			return nil
		}
		if s.h == h && s.c.Key.equal(k) {
			return s.c
		}
	}
}

// put maps k to c, replacing any connection k had.
func (t *table) put(k *Key, h uint64, c *Conn) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.c == nil {
			*s = slot{h: h, c: c}
			t.n++
			return
		}
		if s.h == h && s.c.Key.equal(k) {
			s.c = c
			return
		}
	}
}

// del removes k, shifting later slots of the probe run back into its place.
func (t *table) del(k *Key, h uint64) {
	if t.n == 0 {
		return
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for {
		s := &t.slots[i]
		if s.c == nil {
			return
		}
		if s.h == h && s.c.Key.equal(k) {
			break
		}
		i = (i + 1) & mask
	}
	t.n--
	for j := (i + 1) & mask; ; j = (j + 1) & mask {
		s := &t.slots[j]
		if s.c == nil {
			break
		}
		home := s.h & mask
		// s may move to i if its home is not in the cyclic range (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			t.slots[i] = *s
			i = j
		}
	}
	t.slots[i] = slot{}
}

func (t *table) grow() {
	old := t.slots
	t.slots = make([]slot, max(minTable, 2*len(old)))
	slab.Touch(t.slots) // the probes below read before they write
	t.n = 0
	mask := uint64(len(t.slots) - 1)
	for i := range old {
		s := &old[i]
		if s.c == nil {
			continue
		}
		j := s.h & mask
		for t.slots[j].c != nil {
			j = (j + 1) & mask
		}
		t.slots[j] = *s
		t.n++
	}
}

// each calls f for every connection in the table.
func (t *table) each(f func(*Conn)) {
	for i := range t.slots {
		if c := t.slots[i].c; c != nil {
			f(c)
		}
	}
}

// clear empties the table, keeping its memory.
func (t *table) clear() {
	clear(t.slots)
	t.n = 0
}
