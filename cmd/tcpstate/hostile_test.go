package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// synFlood writes n lone SYNs, step apart, each from its own four-tuple
// (distinct client addresses and ports) to one of two servers, as a
// spoofed flood looks: nothing ever answers.
func synFlood(t *testing.T, n int, step time.Duration) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(96, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 14+20+20)
	frame[12], frame[13] = 0x08, 0x00
	ip, tcp := frame[14:34], frame[34:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], 40)
	copy(ip[12:], []byte{10, 0, 0, 0, 192, 0, 2, 0})
	tcp[12], tcp[13] = 5<<4, 0x02
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i := range n {
		binary.BigEndian.PutUint32(ip[12:], 10<<24|uint32(i>>8)) // 10.x.y.z
		ip[19] = byte(80 + i%2)                                  // 192.0.2.80 or .81
		binary.BigEndian.PutUint16(tcp[0:], uint16(1024+i%256))
		binary.BigEndian.PutUint16(tcp[2:], 80)
		binary.BigEndian.PutUint32(tcp[4:], uint32(i)*2654435761)
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * step), CaptureLength: len(frame), Length: len(frame)}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestSynFloodWithinMaxConns: a flood of 100,000 distinct four-tuples,
// one SYN each, analysed with --max-conns 8000 (on one and two workers),
// tracks no more than that at once, says how many it evicted, and gives
// exactly the counts and per-server groups of an unbounded run: the
// connections it evicts have waited out the SYN retransmission timer, so
// their verdict is already final.
func TestSynFloodWithinMaxConns(t *testing.T) {
	const n, bound = 100_000, 8000
	flood := synFlood(t, n, time.Millisecond)
	type rep struct {
		Capture struct {
			Peak     int      `json:"peak_connections"`
			Evicted  int      `json:"evicted_connections"`
			Warnings []string `json:"warnings"`
		} `json:"capture"`
		Summary json.RawMessage `json:"summary"`
		Groups  json.RawMessage `json:"groups"`
	}
	analyse := func(args ...string) rep {
		t.Helper()
		out, errs, code := tcpstate(t, flood, append([]string{"-q", "-f", "json", "-"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, errs)
		}
		var r rep
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	free := analyse("--max-conns", "0", "-j", "1")
	if free.Capture.Evicted != 0 || free.Capture.Peak < n/2 {
		t.Fatalf("unbounded run: peak %d, evicted %d", free.Capture.Peak, free.Capture.Evicted)
	}
	if !strings.Contains(string(free.Summary), `"syn-timeout": 99000`) { // the SYNs of the last second prove nothing yet
		t.Fatalf("unbounded summary %s; want 99,000 syn-timeouts", free.Summary)
	}
	for _, jobs := range []string{"1", "2"} {
		r := analyse("--max-conns", "8000", "-j", jobs)
		if r.Capture.Peak > bound || r.Capture.Evicted < n-2*bound {
			t.Errorf("-j %s: peak %d, evicted %d; want at most %d tracked and most evicted", jobs, r.Capture.Peak, r.Capture.Evicted, bound)
		}
		if len(r.Capture.Warnings) != 1 || !strings.Contains(r.Capture.Warnings[0], "evicted before they were over") {
			t.Errorf("-j %s: warnings %q", jobs, r.Capture.Warnings)
		}
		if !reflect.DeepEqual(r.Summary, free.Summary) || !reflect.DeepEqual(r.Groups, free.Groups) {
			t.Errorf("-j %s: bounded run differs:\nsummary %s\nwant    %s\ngroups %.300s\nwant   %.300s", jobs, r.Summary, free.Summary, r.Groups, free.Groups)
		}
	}
}

// TestWriteSynFlood writes synFlood(N) to a file for scripts/synflood.sh:
// TCPSTATE_SYNFLOOD=path:N:STEP (STEP a Go duration). Skipped otherwise.
func TestWriteSynFlood(t *testing.T) {
	spec := os.Getenv("TCPSTATE_SYNFLOOD")
	if spec == "" {
		t.Skip("set TCPSTATE_SYNFLOOD=path:N (scripts/synflood.sh does)")
	}
	f := strings.Split(spec, ":")
	if len(f) != 3 {
		t.Fatalf("TCPSTATE_SYNFLOOD=%q: want path:N:STEP", spec)
	}
	n, err := strconv.Atoi(f[1])
	step, err2 := time.ParseDuration(f[2])
	if err != nil || err2 != nil || n <= 0 || step <= 0 {
		t.Fatalf("TCPSTATE_SYNFLOOD=%q: want path:N:STEP", spec)
	}
	if err := os.WriteFile(f[0], synFlood(t, n, step), 0o644); err != nil {
		t.Fatal(err)
	}
}
