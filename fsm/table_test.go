package fsm

import (
	"strings"
	"testing"
)

func TestNextEveryEdge(t *testing.T) {
	if len(transitions) == 0 {
		t.Fatal("empty transition table")
	}
	for e, want := range transitions {
		t.Run(e.from.String()+"/"+e.on.String(), func(t *testing.T) {
			got, ok := Next(e.from, e.on)
			if !ok || got != want {
				t.Errorf("Next(%v, %v) = %v, %v; want %v, true", e.from, e.on, got, ok, want)
			}
			got, ok = next(e.from, e.on)
			if !ok || got != want {
				t.Errorf("next(%v, %v) = %v, %v; want %v, true", e.from, e.on, got, ok, want)
			}
		})
	}
}

func TestNextIllegal(t *testing.T) {
	tests := []struct {
		name string
		from State
		on   Event
	}{
		{"FIN before any handshake on a closed socket", Closed, RecvFIN},
		{"TIME_WAIT cannot send a new FIN", TimeWait, SendFIN},
		{"LISTEN cannot receive a FIN", Listen, RecvFIN},
		{"CLOSE_WAIT cannot receive the ACK of a FIN it never sent", CloseWait, RecvACKOfFIN},
		{"ESTABLISHED has no 2MSL timer", Established, Timeout2MSL},
		{"LAST_ACK has no FIN-WAIT-2 timer", LastAck, FinTimeout},
		{"SYN_SENT cannot send FIN (RFC 9293: close in SYN-SENT deletes the TCB)", SynSent, SendFIN},
		{"an established endpoint does not join mid-stream", Established, MidStream},
		{"a closed socket ignores RST", Closed, RecvRST},
		{"out-of-range state", numStates, SendSYN},
		{"out-of-range event", Established, numEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Next(tt.from, tt.on)
			if ok || got != tt.from {
				t.Errorf("Next(%v, %v) = %v, %v; want %v, false", tt.from, tt.on, got, ok, tt.from)
			}
			got, ok = next(tt.from, tt.on)
			if ok || got != tt.from {
				t.Errorf("next(%v, %v) = %v, %v; want %v, false", tt.from, tt.on, got, ok, tt.from)
			}
		})
	}
}

func TestEveryStateAndEventHasAName(t *testing.T) {
	seen := map[string]bool{}
	for s := range numStates {
		n := s.String()
		if n == "" || n == "INVALID" || seen[n] || strings.ContainsAny(n, " -") {
			t.Errorf("State(%d).String() = %q: empty, duplicate or not netstat style", s, n)
		}
		seen[n] = true
		if p, ok := ParseState(n); !ok || p != s {
			t.Errorf("ParseState(%q) = %v, %v; want %v, true", n, p, ok, s)
		}
	}
	for e := range numEvents {
		if n := e.String(); n == "" || n == "invalid event" {
			t.Errorf("Event(%d) has no name", e)
		}
	}
	for k := range numKinds {
		n := k.String()
		if p, ok := ParseKind(n); !ok || p != k {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", n, p, ok, k)
		}
	}
}

func TestParseStateSSNames(t *testing.T) {
	tests := map[string]State{"ESTAB": Established, "CLOSE-WAIT": CloseWait, "SYN-RECV": SynReceived,
		"FIN-WAIT-2": FinWait2, "TIME-WAIT": TimeWait, "LAST-ACK": LastAck, "CLOSING": Closing}
	for in, want := range tests {
		if got, ok := ParseState(in); !ok || got != want {
			t.Errorf("ParseState(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

func TestApplyRecordsTimelineAndAnomalies(t *testing.T) {
	var e Endpoint
	if !e.apply(SendSYN, t0, 1, false) || e.State != SynSent {
		t.Fatalf("apply(SendSYN) from UNKNOWN: state %v", e.State)
	}
	if !e.apply(SendSYN, t0, 2, false) || len(e.Timeline) != 1 {
		t.Fatalf("a self-loop must not add to the timeline: %v", e.Timeline)
	}
	if e.apply(RecvFIN, t0, 3, false) {
		t.Fatal("RecvFIN in SYN_SENT must be refused")
	}
	if e.State != SynSent || len(e.Anomalies) != 1 || e.Anomalies[0].Frame != 3 || e.Anomalies[0].From != SynSent {
		t.Fatalf("anomaly not recorded: state %v anomalies %+v", e.State, e.Anomalies)
	}
	for i := range maxAnomalies + 5 {
		e.apply(RecvFIN, t0, uint64(10+i), false)
	}
	if len(e.Anomalies) != maxAnomalies || e.DroppedAnomalies != 6 {
		t.Fatalf("anomalies not bounded: %d kept, %d dropped", len(e.Anomalies), e.DroppedAnomalies)
	}
}
