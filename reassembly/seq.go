package reassembly

// Seq is a TCP sequence number. Comparisons are modulo 2^32 (RFC 9293 §3.4):
// a is before b when the signed 32-bit difference b-a is positive, so the
// ordering holds across wrap-around for numbers less than 2^31 apart.
type Seq uint32

// Diff returns s-b as a signed distance in sequence space.
func (s Seq) Diff(b Seq) int32 { return int32(uint32(s) - uint32(b)) }

// Before reports whether s comes strictly before b.
func (s Seq) Before(b Seq) bool { return s.Diff(b) < 0 }

// After reports whether s comes strictly after b.
func (s Seq) After(b Seq) bool { return s.Diff(b) > 0 }

// AtOrAfter reports whether s is b or comes after it.
func (s Seq) AtOrAfter(b Seq) bool { return s.Diff(b) >= 0 }

// Add returns s advanced by n, wrapping modulo 2^32.
func (s Seq) Add(n uint32) Seq { return s + Seq(n) }

// InWindow reports whether s lies in [lo, lo+size).
func (s Seq) InWindow(lo Seq, size uint32) bool {
	d := uint32(s - lo)
	return d < size
}
