package report

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// TestSamplerExactWhenWidened: whatever the order the intervals come in,
// and however often the step had to be doubled to stay within
// MaxTimelineSamples, every sample counts exactly the intervals that hold
// its moment; two samplers merged give the same as one.
func TestSamplerExactWhenWidened(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type iv struct {
		r        int
		st       fsm.State
		from, to int64
	}
	base := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC).UnixNano()
	var ivs []iv
	for range 2000 {
		from := base + rng.Int64N(int64(3*time.Hour))
		ivs = append(ivs, iv{rng.IntN(2), fsm.State(3 + rng.IntN(8)), from, from + rng.Int64N(int64(10*time.Minute))})
	}
	const step = 7 * time.Millisecond // 3 h / 7 ms ≈ 1.5 M samples: must widen
	one := sampler{step: step, asked: step, enabled: true}
	a := sampler{step: step, asked: step, enabled: true}
	b := sampler{step: step, asked: step, enabled: true}
	for i, x := range ivs {
		one.interval(x.r, x.st, x.from, x.to)
		if i%3 == 0 {
			a.interval(x.r, x.st, x.from, x.to)
		} else {
			b.interval(x.r, x.st, x.from, x.to)
		}
	}
	a.merge(&b)
	start, end := time.Unix(0, base), time.Unix(0, base+int64(3*time.Hour+10*time.Minute))
	got, merged := one.render(&start, &end), a.render(&start, &end)
	if !got.Widened || got.StepSeconds <= step.Seconds() || len(got.Samples) > MaxTimelineSamples || len(got.Samples) < MaxTimelineSamples/4 {
		t.Fatalf("step %gs (widened %v), %d samples", got.StepSeconds, got.Widened, len(got.Samples))
	}
	if len(merged.Samples) != len(got.Samples) || merged.StepSeconds != got.StepSeconds {
		t.Fatalf("merged: %d samples every %gs; one: %d every %gs", len(merged.Samples), merged.StepSeconds, len(got.Samples), got.StepSeconds)
	}
	for i := 0; i < len(got.Samples); i += 97 {
		s := got.Samples[i]
		at := s.At.UnixNano()
		var want [2]map[string]int
		want[0], want[1] = map[string]int{}, map[string]int{}
		for _, x := range ivs {
			if x.from <= at && at < x.to {
				want[x.r][x.st.String()]++
			}
		}
		for r, m := range []map[string]int{s.Clients, s.Servers} {
			if len(m) != len(want[r]) {
				t.Fatalf("sample %v role %d: %v, want %v", s.At, r, m, want[r])
			}
			for k, v := range want[r] {
				if m[k] != v {
					t.Fatalf("sample %v role %d: %v, want %v", s.At, r, m, want[r])
				}
			}
		}
		ms := merged.Samples[i]
		for k, v := range s.Clients {
			if ms.Clients[k] != v {
				t.Fatalf("merged sample %v differs: %v vs %v", s.At, ms.Clients, s.Clients)
			}
		}
	}
}
