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
// one SYN each, to two servers, gives one syn-timeout group per server; with
// --max-conns 8000 (on one and two workers) it tracks no more than that at
// once, says how many it evicted, and gives exactly the counts and
// per-server groups of an unbounded run: the
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
	var groups []struct {
		Kind     string `json:"kind"`
		Endpoint string `json:"endpoint"`
		Count    int    `json:"count"`
	}
	if err := json.Unmarshal(free.Groups, &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || groups[0].Kind != "syn-timeout" || groups[0].Count != 49500 || groups[1].Count != 49500 ||
		groups[0].Endpoint != "192.0.2.80:80" || groups[1].Endpoint != "192.0.2.81:80" {
		t.Fatalf("groups %+v; want syn-timeout per server: 49,500 for each", groups)
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
		t.Skip("set TCPSTATE_SYNFLOOD=path:N:STEP (scripts/synflood.sh does)")
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

// tcpFrame is one Ethernet/IPv4/TCP frame between 10.0.0.1:40000 (client)
// and 192.0.2.80:80.
type tcpFrame struct {
	fromServer bool
	flags      byte
	seq, ack   uint32
	payload    int // bytes claimed by the IP length (header-only capture)
}

// writeFrames writes frames 1 ms apart as a header-only capture.
func writeFrames(t *testing.T, frames func(emit func(tcpFrame))) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(54, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 54)
	frame[12], frame[13] = 0x08, 0x00
	ip, tcp := frame[14:34], frame[34:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	tcp[12] = 5 << 4
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	i := 0
	frames(func(f tcpFrame) {
		cli, srv := []byte{10, 0, 0, 1}, []byte{192, 0, 2, 80}
		cp, sp := uint16(40000), uint16(80)
		if f.fromServer {
			cli, srv, cp, sp = srv, cli, sp, cp
		}
		copy(ip[12:], cli)
		copy(ip[16:], srv)
		binary.BigEndian.PutUint16(ip[2:], uint16(40+f.payload))
		binary.BigEndian.PutUint16(tcp[0:], cp)
		binary.BigEndian.PutUint16(tcp[2:], sp)
		binary.BigEndian.PutUint32(tcp[4:], f.seq)
		binary.BigEndian.PutUint32(tcp[8:], f.ack)
		tcp[13] = f.flags
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(frame), Length: len(frame) + f.payload}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
		i++
	})
	return buf.Bytes()
}

// hostileReport is the part of the JSON report the hostile tests read.
type hostileReport struct {
	Capture struct {
		Packets int `json:"packets"`
		Peak    int `json:"peak_connections"`
	} `json:"capture"`
	Summary struct {
		Connections int            `json:"connections"`
		Findings    map[string]int `json:"findings"`
	} `json:"summary"`
	Connections []struct {
		Packets struct {
			C2S int `json:"client_to_server"`
			S2C int `json:"server_to_client"`
		} `json:"packets"`
		ClientTimeline []json.RawMessage `json:"client_timeline"`
		ServerTimeline []json.RawMessage `json:"server_timeline"`
		Anomalies      []json.RawMessage `json:"anomalies"`
	} `json:"connections"`
}

func analyseHostile(t *testing.T, capture []byte) (hostileReport, int) {
	t.Helper()
	out, errs, code := tcpstate(t, capture, "-q", "-f", "json", "-j", "1", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r hostileReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return r, len(out)
}

const (
	fSYN, fRST, fPSH, fACK, fFIN = 0x02, 0x04, 0x08, 0x10, 0x01
)

// TestFourTupleReused100000Times: 100,000 incarnations of one four-tuple
// (handshake, then an abort) are 100,000 connections, each superseded by
// the next, so no more than two are ever tracked at once.
func TestFourTupleReused100000Times(t *testing.T) {
	const n = 100_000
	r, _ := analyseHostile(t, writeFrames(t, func(emit func(tcpFrame)) {
		for i := range uint32(n) {
			c, s := i*1_000_003, i*7_000_001+5
			emit(tcpFrame{flags: fSYN, seq: c})
			emit(tcpFrame{fromServer: true, flags: fSYN | fACK, seq: s, ack: c + 1})
			emit(tcpFrame{flags: fACK, seq: c + 1, ack: s + 1})
			emit(tcpFrame{flags: fRST | fACK, seq: c + 1, ack: s + 1})
		}
	}))
	if r.Summary.Connections != n || r.Capture.Packets != 4*n || r.Capture.Peak > 2 {
		t.Fatalf("%d connections, %d packets, peak %d; want %d, %d, at most 2", r.Summary.Connections, r.Capture.Packets, r.Capture.Peak, n, 4*n)
	}
	if r.Summary.Findings["reset"] != n {
		t.Errorf("reset findings %d; want %d", r.Summary.Findings["reset"], n)
	}
}

// TestRSTStormAndLongConnectionStayBounded: one connection with 200,000
// RSTs after its handshake, and one with 1,000,000 data segments, keep
// bounded timelines, anomalies and report sizes, and count every packet.
func TestRSTStormAndLongConnectionStayBounded(t *testing.T) {
	const isn = 0xFFFF_F000 // the client's data crosses the 2^32 wrap at once
	handshake := func(emit func(tcpFrame)) {
		emit(tcpFrame{flags: fSYN, seq: isn})
		emit(tcpFrame{fromServer: true, flags: fSYN | fACK, seq: 900, ack: isn + 1})
		emit(tcpFrame{flags: fACK, seq: isn + 1, ack: 901})
	}
	tests := []struct {
		name    string
		segs    int
		segment func(i uint32) tcpFrame
		clean   bool // no finding and no anomaly expected
	}{
		{"rst storm", 200_000, func(i uint32) tcpFrame {
			return tcpFrame{fromServer: i%2 == 0, flags: fRST, seq: isn + 1 + i*977} // in and out of window, both ways
		}, false},
		{"long connection", 1_000_000, func(i uint32) tcpFrame {
			if i%2 == 0 {
				return tcpFrame{flags: fPSH | fACK, seq: isn + 1 + (i/2)*1000, ack: 901, payload: 1000} // 500 MB: wraps
			}
			return tcpFrame{fromServer: true, flags: fACK, seq: 901, ack: isn + 1 + (i/2+1)*1000}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, size := analyseHostile(t, writeFrames(t, func(emit func(tcpFrame)) {
				handshake(emit)
				for i := range uint32(tt.segs) {
					emit(tt.segment(i))
				}
			}))
			if r.Capture.Packets != tt.segs+3 || r.Summary.Connections != 1 || len(r.Connections) != 1 {
				t.Fatalf("%d packets, %d connections; want %d, 1", r.Capture.Packets, r.Summary.Connections, tt.segs+3)
			}
			c := r.Connections[0]
			if c.Packets.C2S+c.Packets.S2C != tt.segs+3 {
				t.Errorf("connection counts %d packets; want %d", c.Packets.C2S+c.Packets.S2C, tt.segs+3)
			}
			if len(c.ClientTimeline) > 64 || len(c.ServerTimeline) > 64 || len(c.Anomalies) > 32 || size > 64<<10 {
				t.Errorf("timelines %d and %d, %d anomalies, report %d bytes: not bounded", len(c.ClientTimeline), len(c.ServerTimeline), len(c.Anomalies), size)
			}
			if tt.clean {
				n := 0
				for _, v := range r.Summary.Findings {
					n += v
				}
				if n != 0 || len(c.Anomalies) != 0 || len(c.ClientTimeline) != 2 {
					t.Errorf("findings %v, %d anomalies, client timeline %d changes: the wrap confused the replay", r.Summary.Findings, len(c.Anomalies), len(c.ClientTimeline))
				}
			}
		})
	}
}

// TestTimesBeyondAStamp: a pcapng whose two interfaces' if_tsoffset put
// one connection's segments at the two ends of what any clock can say
// (far before 1678 and after 2262, where tcpstate's times saturate) is
// analysed without a wrapped duration: one connection, its handshake
// and close replayed, every output written, exit 0.
func TestTimesBeyondAStamp(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 54,
		TimestampOffset: 1 << 63}, pcapgo.DefaultNgWriterOptions) // -2^63 s
	if err != nil {
		t.Fatal(err)
	}
	late, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeEthernet, SnapLength: 54, TimestampOffset: 1<<63 - 1})
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 54)
	frame[12], frame[13] = 0x08, 0x00
	ip, tcp := frame[14:34], frame[34:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], 40)
	tcp[12] = 5 << 4
	binary.BigEndian.PutUint16(tcp[14:], 65535)
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for i, f := range []tcpFrame{
		{flags: fSYN, seq: 100},
		{fromServer: true, flags: fSYN | fACK, seq: 500, ack: 101},
		{flags: fACK, seq: 101, ack: 501},
		{flags: fFIN | fACK, seq: 101, ack: 501},
		{fromServer: true, flags: fFIN | fACK, seq: 501, ack: 102},
		{flags: fACK, seq: 102, ack: 502},
	} {
		cli, srv, cp, sp := []byte{10, 0, 0, 1}, []byte{192, 0, 2, 80}, uint16(40000), uint16(80)
		if f.fromServer {
			cli, srv, cp, sp = srv, cli, sp, cp
		}
		copy(ip[12:], cli)
		copy(ip[16:], srv)
		binary.BigEndian.PutUint16(tcp[0:], cp)
		binary.BigEndian.PutUint16(tcp[2:], sp)
		binary.BigEndian.PutUint32(tcp[4:], f.seq)
		binary.BigEndian.PutUint32(tcp[8:], f.ack)
		tcp[13] = f.flags
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(frame), Length: len(frame)}
		if i >= 3 {
			ci.InterfaceIndex = late // the close, centuries after the handshake
		}
		if err := w.WritePacket(ci, frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, _ := analyseHostile(t, buf.Bytes())
	if r.Capture.Packets != 6 || r.Summary.Connections != 1 || len(r.Connections) != 1 ||
		len(r.Connections[0].ClientTimeline) < 4 || len(r.Connections[0].Anomalies) != 0 || r.Summary.Findings["time-wait"] != 1 {
		t.Fatalf("%+v; want one connection with its handshake and close", r)
	}
	for _, f := range []string{"text", "html", "zeek", "csv"} {
		if _, errs, code := tcpstate(t, buf.Bytes(), "-q", "-f", f, "-"); code != 0 {
			t.Errorf("-f %s: exit %d, %s", f, code, errs)
		}
	}
}
