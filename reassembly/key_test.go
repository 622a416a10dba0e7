package reassembly

import (
	"cmp"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestKeyIsSymmetricAndRoundTrips(t *testing.T) {
	a := netip.MustParseAddrPort("192.0.2.1:40000")
	b := netip.MustParseAddrPort("[2001:db8::2]:80")
	if KeyOf(a, b) != KeyOf(b, a) {
		t.Fatal("KeyOf depends on direction")
	}
	lo, hi := KeyOf(b, a).Endpoints()
	if lo != a || hi != b {
		t.Errorf("Endpoints = %v, %v; want %v, %v", lo, hi, a, b)
	}
	if KeyOf(a, b) == KeyOf(a, netip.AddrPortFrom(b.Addr(), 81)) {
		t.Error("ports ignored")
	}
}

// TestTableMatchesMap drives the table and a Go map with the same random
// inserts, lookups and deletions (many colliding in a small table) and
// requires the same answers throughout.
func TestTableMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tab table
	ref := map[Key]*Conn{}
	keys := make([]Key, 3000)
	for i := range keys {
		keys[i] = KeyOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(1024+i)),
			netip.MustParseAddrPort("192.0.2.2:80"))
	}
	for op := range 200000 {
		k := &keys[rng.IntN(len(keys))]
		h := k.hash()
		switch rng.IntN(3) {
		case 0:
			c := &Conn{ID: uint64(op + 1), Key: *k}
			tab.put(k, h, c)
			ref[*k] = c
		case 1:
			tab.del(k, h)
			delete(ref, *k)
		}
		if got, want := tab.get(k, h), ref[*k]; got != want {
			t.Fatalf("op %d: get = %v; want %v", op, got, want)
		}
		if tab.n != len(ref) {
			t.Fatalf("op %d: %d entries; want %d", op, tab.n, len(ref))
		}
	}
	for i := range keys {
		if got, want := tab.get(&keys[i], keys[i].hash()), ref[keys[i]]; got != want {
			t.Fatalf("key %d: get = %v; want %v", i, got, want)
		}
	}
}

// BenchmarkTable measures the four-tuple table alone: key, hash and lookup
// for segments of 100,000 connections, one opened and one released per
// 16 lookups (the churn of a busy capture).
func BenchmarkTable(b *testing.B) {
	const n = 100000
	srv := netip.MustParseAddrPort("192.0.2.2:443")
	src := make([]netip.AddrPort, n)
	for i := range src {
		src[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%60000))
	}
	var tab table
	conns := make([]Conn, n)
	for i := range src {
		k := KeyOf(src[i], srv)
		conns[i].Key = k
		tab.put(&k, k.hash(), &conns[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 7919) % n
		k := KeyOf(src[i], srv)
		h := k.hash()
		if tab.get(&k, h) == nil {
			b.Fatal("lost")
		}
		if i%16 == 0 {
			tab.del(&k, h)
			tab.put(&k, h, &conns[i])
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// TestKeyEqualIsEquality checks Key.equal against == on keys that differ
// in one byte of any field, or not at all.
func TestKeyEqualIsEquality(t *testing.T) {
	base := KeyOf(netip.MustParseAddrPort("[2001:db8::1]:40000"), netip.MustParseAddrPort("[2001:db8::2]:443"))
	for i := range 36 {
		k := base
		switch {
		case i < 16:
			*[]*uint64{&k.loH, &k.loL}[i/8] ^= 1 << (8 * (i % 8))
		case i < 32:
			*[]*uint64{&k.hiH, &k.hiL}[i/8-2] ^= 0x80 << (8 * (i % 8))
		case i < 34:
			k.loP ^= 1 << (8 * (i - 32))
		default:
			k.hiP ^= 1 << (8 * (i - 34))
		}
		if k.equal(&base) || base.equal(&k) || k == base {
			t.Fatalf("byte %d: keys that differ compare equal", i)
		}
	}
	if k := base; !k.equal(&base) {
		t.Fatal("a key differs from its copy")
	}
}

// TestKeyOfMatchesAs16 builds keys of random IPv4, IPv6 and IPv4-mapped
// IPv6 endpoints (equal addresses and ports included) and compares them
// with the key built from As16 and endpointCompare, as KeyOf used to.
func TestKeyOfMatchesAs16(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	addr := func() netip.Addr {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.IntN(3)) // few values: equal words and addresses happen
		}
		switch rng.IntN(3) {
		case 0:
			return netip.AddrFrom4([4]byte(b[:4]))
		case 1:
			b[10], b[11] = 0xff, 0xff
			return netip.AddrFrom16(b) // IPv4-mapped, as an IPv6 header may carry
		}
		return netip.AddrFrom16(b)
	}
	for i := range 20000 {
		src := netip.AddrPortFrom(addr(), uint16(rng.IntN(3)))
		dst := netip.AddrPortFrom(addr(), uint16(rng.IntN(3)))
		a, b := src.Addr().As16(), dst.Addr().As16()
		be := binary.BigEndian
		want := Key{be.Uint64(b[:8]), be.Uint64(b[8:]), be.Uint64(a[:8]), be.Uint64(a[8:]), dst.Port(), src.Port()}
		if endpointCompare(&a, src.Port(), &b, dst.Port()) <= 0 {
			want = Key{be.Uint64(a[:8]), be.Uint64(a[8:]), be.Uint64(b[:8]), be.Uint64(b[8:]), src.Port(), dst.Port()}
		}
		got := KeyOf(src, dst)
		if got != want {
			t.Fatalf("%d: KeyOf(%v, %v) = %v; want %v", i, src, dst, got, want)
		}
		var seg Segment
		seg.SetAddrs(src, dst)
		rev := seg.WithAddrs(dst, src)
		if seg.Key() != got || rev.Key() != got {
			t.Fatalf("%d: the segment's Key differs from KeyOf(%v, %v)", i, src, dst)
		}
		var set Key
		if h := set.set(src, dst); h != got.hash() || set != got {
			t.Fatalf("%d: set's hash differs from hash()", i)
		}
		// Compare orders keys as their endpoints' bytes and ports do.
		other := KeyOf(dst, netip.AddrPortFrom(addr(), uint16(rng.IntN(3))))
		ol, oh := other.Endpoints()
		gl, gh := got.Endpoints()
		ga, gb, oa, ob := gl.Addr().As16(), gh.Addr().As16(), ol.Addr().As16(), oh.Addr().As16()
		want2 := cmp.Or(endpointCompare(&ga, gl.Port(), &oa, ol.Port()), endpointCompare(&gb, gh.Port(), &ob, oh.Port()))
		if c := got.Compare(other); c != want2 {
			t.Fatalf("%d: %v.Compare(%v) = %d; want %d", i, got, other, c, want2)
		}
		hi, lo := AddrWords(src.Addr())
		if binary.BigEndian.Uint64(a[:8]) != hi || binary.BigEndian.Uint64(a[8:]) != lo {
			t.Fatalf("AddrWords(%v) = %x %x", src.Addr(), hi, lo)
		}
	}
}

// TestHashSpreadsStructuredKeys checks that the table's hash spreads the
// four-tuples real traffic is made of (addresses and ports counting up,
// IPv4 and IPv6) over the table as a random function would: 16,384 keys
// fill about 12,900 of 32,768 slots' home positions when nothing collides
// systematically.
func TestHashSpreadsStructuredKeys(t *testing.T) {
	srv4, srv6 := netip.MustParseAddrPort("192.0.2.2:443"), netip.MustParseAddrPort("[2001:db8::2]:443")
	families := map[string]func(i int) Key{
		"IPv4 clients": func(i int) Key {
			return KeyOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 40000), srv4)
		},
		"IPv4 ports": func(i int) Key {
			return KeyOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 1}), uint16(1024+i)), srv4)
		},
		"IPv4 both": func(i int) Key {
			return KeyOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), uint16(1024+i>>8)), srv4)
		},
		"IPv6 clients": func(i int) Key {
			a := srv6.Addr().As16()
			a[14], a[15] = byte(i>>8), byte(i)
			return KeyOf(netip.AddrPortFrom(netip.AddrFrom16(a), 40000), srv6)
		},
		"IPv6 prefixes and ports": func(i int) Key {
			a := srv6.Addr().As16()
			a[6], a[7] = byte(i>>12), byte(i>>4)
			return KeyOf(netip.AddrPortFrom(netip.AddrFrom16(a), uint16(1024+i&15)), srv6)
		},
	}
	const n, slots = 16384, 32768
	for name, key := range families {
		home := map[uint64]bool{}
		for i := range n {
			k := key(i)
			home[k.hash()&(slots-1)] = true
		}
		if len(home) < 12400 {
			t.Errorf("%s: %d keys have %d distinct home slots of %d; a random hash gives about 12,900", name, n, len(home), slots)
		}
	}
}

// endpointCompare orders two endpoints by their addresses' bytes, then
// their ports: the order of a Key's endpoints.
func endpointCompare(a *[16]byte, ap uint16, b *[16]byte, bp uint16) int {
	for _, off := range [2]int{0, 8} {
		x, y := binary.BigEndian.Uint64(a[off:]), binary.BigEndian.Uint64(b[off:])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case ap < bp:
		return -1
	case ap > bp:
		return 1
	}
	return 0
}
