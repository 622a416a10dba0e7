package main

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"testing"

	"github.com/tcpstate/tcpstate/fsm"
	"github.com/tcpstate/tcpstate/reassembly"
	"github.com/tcpstate/tcpstate/reassembly/capture"
	"github.com/tcpstate/tcpstate/reassembly/synth"
	"github.com/tcpstate/tcpstate/report"
)

// allPatterns is a capture of every pattern of the generator (port reuse,
// half-closes that go on sending, resets, retransmissions…), IPv4 and IPv6.
func allPatterns(t *testing.T, conns int) []byte {
	t.Helper()
	mix := synth.Mix{}
	for _, p := range synth.Patterns() {
		mix[p] = 1
	}
	var b bytes.Buffer
	if _, err := synth.Write(&b, synth.Config{Conns: conns, Concurrency: 300, Seed: 11, IPv6Fraction: 0.3, Mix: mix}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// replayAll replays data with one tracker and returns every connection,
// copied, by ID; detail is the tracker's Detail.
func replayAll(t *testing.T, data []byte, detail func(uint64) bool) map[uint64]*fsm.Conn {
	t.Helper()
	src, err := capture.NewSource([]capture.Input{{Name: "x", R: bytes.NewReader(data)}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := fsm.DefaultConfig()
	tr := fsm.NewTracker(cfg)
	tr.Detail = detail
	out := map[uint64]*fsm.Conn{}
	tr.OnDone = func(c *fsm.Conn) { out[c.ID] = c.Clone() }
	a := reassembly.NewAssembler(tr)
	clock := &sweepClock{every: cfg.MSL / 2}
	var seg reassembly.Segment
	for {
		if err := src.Next(&seg); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if clock.tick(seg.Time) {
			a.Sweep(clock.max, cfg.Linger())
		}
		a.Add(&seg)
	}
	a.Flush(clock.max)
	return out
}

// TestLeanReplayKeepsEverythingButTheDetail replays every pattern twice:
// in full, and with a third of the connections lean (Tracker.Detail says
// no). A lean connection has no ladder and no Zeek verdict; its states,
// timelines, counters and findings (evidence frames included) are those
// of the full replay, and the other connections are untouched.
func TestLeanReplayKeepsEverythingButTheDetail(t *testing.T) {
	data := allPatterns(t, 3000)
	full := replayAll(t, data, nil)
	lean := replayAll(t, data, func(id uint64) bool { return id%3 != 0 })
	if len(full) != len(lean) || len(full) < 3000 {
		t.Fatalf("%d connections in full, %d lean", len(full), len(lean))
	}
	var leaned, withFindings, withLadder int
	for id, f := range full {
		l := lean[id]
		if l == nil {
			t.Fatalf("connection %d missing from the lean replay", id)
		}
		if id%3 == 0 {
			leaned++
			if len(l.Ladder) != 0 || l.LadderOmitted != 0 || l.Zeek != (fsm.ZeekResult{}) {
				t.Fatalf("lean connection %d has a ladder (%d steps) or a Zeek verdict %+v", id, len(l.Ladder), l.Zeek)
			}
			if len(f.Ladder) > 0 {
				withLadder++
			}
			g := *f
			g.Ladder, g.LadderOmitted, g.Zeek = nil, 0, fsm.ZeekResult{}
			f = &g
			l.Ladder = nil
		}
		if len(f.Findings) > 0 {
			withFindings++
		}
		if !reflect.DeepEqual(f, l) {
			t.Fatalf("connection %d differs:\nfull %+v\nlean %+v", id, f, l)
		}
	}
	if leaned < 900 || withLadder < 900 || withFindings < 1000 {
		t.Fatalf("%d lean connections, %d of them with a ladder in full; %d with findings: the test lost its teeth", leaned, withLadder, withFindings)
	}
}

// TestLeanReportIsTheSameBytes: with lists short enough that most
// connections can no longer make them (so most are replayed lean), and on
// two workers (which prove from each other's counts of connections opened
// where the first ones end, openCounts), the report is the same bytes as
// on one worker replaying every connection in full.
func TestLeanReportIsTheSameBytes(t *testing.T) {
	// Normal connections, slowly, and one leak in two hundred: the first
	// list is full (its connections released, a linger after they closed)
	// well before the thirty leaks the notable list takes have all opened,
	// so those are listed only if replayed in full.
	var capture bytes.Buffer
	cfg := synth.Config{Conns: 8000, Rate: 20, Seed: 12, IPv6Fraction: 0.2, Mix: synth.Mix{synth.Normal: 200, synth.CloseWait: 1}}
	if _, err := synth.Write(&capture, cfg); err != nil {
		t.Fatal(err)
	}
	data := capture.Bytes()
	for _, listed := range []int{30, 300} {
		want := reportBytes(t, data, listed, 1, true)
		for _, run := range []struct {
			jobs int
			full bool
		}{{1, false}, {2, false}, {2, true}} {
			if got := reportBytes(t, data, listed, run.jobs, run.full); !bytes.Equal(got, want) {
				t.Fatalf("%d listed, -j %d, full detail %v: the report differs from -j 1 in full:\n%s",
					listed, run.jobs, run.full, firstDiff(string(got), string(want)))
			}
		}
	}
}

// reportBytes is the JSON and text report of data.
func reportBytes(t *testing.T, data []byte, listed, jobs int, full bool) []byte {
	t.Helper()
	an := analysis{cfg: fsm.DefaultConfig(), lim: report.Limits{Connections: listed, FindingsPerKind: 20}, jobs: jobs, fullDetail: full}
	rep, err := an.analyze(context.Background(), []string{"-"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	if err := report.Text(&b, rep, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(rep.Connections) < listed || rep.Omitted.Connections < 3000 {
		t.Fatalf("-j %d: %d connections listed, %d omitted", jobs, len(rep.Connections), rep.Omitted.Connections)
	}
	return b.Bytes()
}

// TestDetailedCount: the pipeline counts the connections it replays in
// full. With lists long enough for every connection, all of them; with
// short lists on a long capture, only those that opened while the lists
// could take them (fewer than a third here); with noDetail, none, and the
// listed connections then have no Zeek verdict (nor ladder).
func TestDetailedCount(t *testing.T) {
	var buf bytes.Buffer
	if _, err := synth.Write(&buf, synth.Config{Conns: 8000, Rate: 20, Seed: 12, Mix: synth.Mix{synth.Normal: 20, synth.Refused: 1}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		listed   int
		noDetail bool
		min, max uint64
	}{{10000, false, 8000, 8000}, {30, false, 30, 2600}, {10000, true, 0, 0}} {
		src, err := capture.NewSource([]capture.Input{{Name: "x", R: bytes.NewReader(buf.Bytes())}})
		if err != nil {
			t.Fatal(err)
		}
		p := &pipeline{cfg: fsm.DefaultConfig(), jobs: 1, lim: report.Limits{Connections: c.listed}, noDetail: c.noDetail}
		b, rs, err := p.run(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := b.Counts(); n != 8000 || rs.detailed < c.min || rs.detailed > c.max {
			t.Fatalf("%d listed, noDetail %v: %d of %d connections in full, want %d to %d", c.listed, c.noDetail, rs.detailed, n, c.min, c.max)
		}
		t.Logf("%d listed, noDetail %v: %d connections in full", c.listed, c.noDetail, rs.detailed)
		rep := b.Report("tcpstate", src.Stats(), p.cfg)
		var verdicts int
		for _, lc := range rep.Connections {
			if lc.ZeekConnState != "" && lc.ZeekHistory != "" {
				verdicts++
			}
		}
		if want := len(rep.Connections); c.noDetail && verdicts != 0 || !c.noDetail && verdicts != want {
			t.Fatalf("%d listed, noDetail %v: %d of %d listed connections have a Zeek verdict", c.listed, c.noDetail, verdicts, want)
		}
	}
}
