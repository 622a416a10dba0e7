package fsm

import (
	"reflect"
	"testing"
)

// TestCloneIsDeepAndSeparate clones connections whose slices fit the
// clone's inline buffers and ones whose do not: the clone equals the
// original, shares no memory with it, and appending to one of its slices
// changes none of the others.
func TestCloneIsDeepAndSeparate(t *testing.T) {
	mk := func(changes, steps, findings, frames int) *Conn {
		c := &Conn{ID: 7}
		for i := range changes {
			c.Client.Timeline = append(c.Client.Timeline, Change{Frame: uint64(i + 1), To: Established})
			c.Server.Timeline = append(c.Server.Timeline, Change{Frame: uint64(i + 100), To: CloseWait})
		}
		c.Client.Anomalies = []Anomaly{{Frame: 3, Reason: reasonNoEdge}}
		for i := range steps {
			c.Ladder = append(c.Ladder, Step{Frame: uint64(i + 1)})
		}
		for i := range findings {
			f := Finding{Kind: Kind(i % int(NumKinds)), Intervals: nil}
			for j := range frames {
				f.Frames = append(f.Frames, uint64(10*i+j+1))
			}
			c.Findings = append(c.Findings, f)
		}
		return c
	}
	for _, tc := range []struct{ changes, steps, findings, frames int }{
		{0, 0, 0, 0}, {5, 9, 1, 2}, {6, 10, 1, 4}, {7, 11, 2, 3}, {3, 4, 3, 1}, {2, 2, 1, 9},
	} {
		c := mk(tc.changes, tc.steps, tc.findings, tc.frames)
		n := c.Clone()
		if !reflect.DeepEqual(n, c) {
			t.Fatalf("%+v: clone differs:\n%+v\n%+v", tc, n, c)
		}
		want := mk(tc.changes, tc.steps, tc.findings, tc.frames)
		// Writing through the original changes nothing in the clone.
		for i := range c.Client.Timeline {
			c.Client.Timeline[i].Frame = 999
		}
		for i := range c.Findings {
			for j := range c.Findings[i].Frames {
				c.Findings[i].Frames[j] = 999
			}
		}
		for i := range c.Ladder {
			c.Ladder[i].Frame = 999
		}
		c.Client.Anomalies[0].Frame = 999
		// Appending to each of the clone's slices overwrites none of the others.
		n.Client.Timeline = append(n.Client.Timeline, Change{Frame: 555})
		n.Ladder = append(n.Ladder, Step{Frame: 555})
		n.Findings = append(n.Findings, Finding{Frames: []uint64{555}})
		for i := range tc.findings {
			n.Findings[i].Frames = append(n.Findings[i].Frames, 555)
		}
		n.Client.Timeline, n.Ladder, n.Findings = n.Client.Timeline[:tc.changes], n.Ladder[:tc.steps], n.Findings[:tc.findings]
		for i := range tc.findings {
			n.Findings[i].Frames = n.Findings[i].Frames[:tc.frames]
		}
		if tc.changes == 0 {
			n.Client.Timeline, want.Client.Timeline = nil, nil
		}
		if tc.steps == 0 {
			n.Ladder = nil
		}
		if tc.findings == 0 {
			n.Findings = nil
		}
		for i := range n.Findings {
			if tc.frames == 0 {
				n.Findings[i].Frames = nil
			}
		}
		if !reflect.DeepEqual(n, want) {
			t.Fatalf("%+v: clone changed through the original or its own appends:\n%+v\nwant %+v", tc, n, want)
		}
	}
}
