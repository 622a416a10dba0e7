package report

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// naiveSpan is what overTime.span computes, bucket by bucket.
func naiveSpan(area map[int64]*bucket, w, from, to int64, r int, s fsm.State) {
	for b := from / w; b*w < to; b++ {
		if area[b] == nil {
			area[b] = new(bucket)
		}
		area[b][r][s] += min(to, (b+1)*w) - max(from, b*w)
	}
}

// TestOverTimeMatchesBucketByBucket checks the difference array of whole
// buckets against adding every bucket a span covers, over random spans (up
// to minutes long, so that widths double on the way) split across two
// accumulators merged at the end, as the -j workers are.
func TestOverTimeMatchesBucketByBucket(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		var a, b overTime
		type span struct {
			r        int
			s        fsm.State
			from, to int64
		}
		var spans []span
		base := int64(1_800_000_000) * int64(time.Second)
		for range 200 {
			from := base + rng.Int64N(int64(20*time.Minute))
			sp := span{rng.IntN(2), fsm.State(rng.IntN(fsm.NumStates)), from, from + rng.Int64N(int64(3*time.Minute))}
			spans = append(spans, sp)
			o := &a
			if rng.IntN(2) == 0 {
				o = &b
			}
			o.span(sp.r, sp.s, sp.from, sp.to)
		}
		a.merge(&b)
		a.settle()
		w := int64(a.width)
		want := map[int64]*bucket{}
		for _, sp := range spans {
			naiveSpan(want, w, sp.from, sp.to, sp.r, sp.s)
		}
		for i := range a.area {
			got, exp := a.area[i], bucket{}
			if p := want[a.first+int64(i)]; p != nil {
				exp = *p
			}
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("round %d: bucket %d (width %v): got %v, want %v", round, i, a.width, got, exp)
			}
		}
		if len(want) == 0 || len(a.area) > maxBuckets {
			t.Fatalf("round %d: %d buckets", round, len(a.area))
		}
	}
}
