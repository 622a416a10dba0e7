package synth

import "math"

// rng is a splitmix64 stream: tiny, fast, a value type (so seeding a
// script's generator never allocates) and good enough for traffic shapes.
type rng struct{ s uint64 }

const golden = 0x9e3779b97f4a7c15

// mix64 is splitmix64's finaliser, also used as a hash.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// newRNG returns a stream derived from a seed and a stream number.
func newRNG(seed int64, stream uint64) rng {
	return rng{s: mix64(uint64(seed)^mix64(stream+golden)) + stream}
}

func (r *rng) u64() uint64 {
	r.s += golden
	return mix64(r.s)
}

func (r *rng) u32() uint32 { return uint32(r.u64() >> 32) }

// float returns a number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int((r.u64() >> 1) % uint64(n)) }

// between returns an integer in [lo, hi].
func (r *rng) between(lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + int64((r.u64()>>1)%uint64(hi-lo+1))
}

// logUniform returns a value whose logarithm is uniform in [log lo, log hi]:
// small values are as likely per decade as large ones, like real latencies
// and transfer sizes.
func (r *rng) logUniform(lo, hi float64) float64 {
	return lo * math.Exp(r.float()*math.Log(hi/lo))
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// exp returns an exponentially distributed value with the given mean.
func (r *rng) exp(mean float64) float64 {
	return -mean * math.Log(1-r.float())
}
