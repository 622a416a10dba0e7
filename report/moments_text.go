package report

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// ssStates are the state names `ss -tan` prints.
var ssStates = [fsm.NumStates]string{
	fsm.SynSent: "SYN-SENT", fsm.SynReceived: "SYN-RECV", fsm.Established: "ESTAB",
	fsm.FinWait1: "FIN-WAIT-1", fsm.FinWait2: "FIN-WAIT-2", fsm.CloseWait: "CLOSE-WAIT",
	fsm.Closing: "CLOSING", fsm.LastAck: "LAST-ACK", fsm.TimeWait: "TIME-WAIT", fsm.Listen: "LISTEN",
	fsm.Closed: "UNCONN", fsm.Unknown: "UNKNOWN",
}

// netstatStates are the names `netstat -n` prints in its last column.
var netstatStates = [fsm.NumStates]string{
	fsm.SynSent: "SYN_SENT", fsm.SynReceived: "SYN_RECV", fsm.Established: "ESTABLISHED",
	fsm.FinWait1: "FIN_WAIT1", fsm.FinWait2: "FIN_WAIT2", fsm.CloseWait: "CLOSE_WAIT",
	fsm.Closing: "CLOSING", fsm.LastAck: "LAST_ACK", fsm.TimeWait: "TIME_WAIT", fsm.Listen: "LISTEN",
	fsm.Closed: "CLOSE", fsm.Unknown: "UNKNOWN",
}

// snapshots prints, for each --at moment, the sockets as `ss -tan` shows
// them, then the per-state counts of the netstat | awk one-liner.
func (t *textWriter) snapshots(r *Report) {
	for _, s := range r.Snapshots {
		t.printf("%s\n", t.color(ansiBold, "State at "+stamp(s.At)+" UTC"+moment(r, s)))
		if len(s.Endpoints) == 0 {
			t.printf("  no endpoint in an open state\n\n")
			continue
		}
		tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "Role\tState\tLocal Address:Port\tPeer Address:Port\tFor\tConn\n")
		for _, e := range s.Endpoints {
			mark := ""
			if e.Presumed {
				mark = " (presumed)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t#%d%s\n", e.Role, ssStates[e.State], e.Local, e.Peer,
				Dur(time.Duration(e.Seconds*float64(time.Second))), e.Connection, mark)
		}
		if err := tw.Flush(); err != nil && t.err == nil {
			t.err = err
		}
		if s.Omitted > 0 {
			t.printf("(%d more endpoints: counts below are exact; -f json lists %d)\n", s.Omitted, MaxSnapshotEndpoints)
		}
		t.printf("By state (netstat -n | awk '/^tcp/ {++S[$NF]} END {for(a in S) print a, S[a]}'):\n")
		for _, side := range []struct {
			name string
			m    map[string]int
		}{{"clients", s.Clients}, {"servers", s.Servers}} {
			t.printf("  %s:", side.name)
			if len(side.m) == 0 {
				t.printf(" none")
			}
			for st := range fsm.NumStates {
				if n := side.m[fsm.State(st).String()]; n > 0 {
					t.printf(" %s %d", netstatStates[st], n)
				}
			}
			t.printf("\n")
		}
		t.printf("\n")
	}
}

// moment says where a snapshot falls in the capture.
func moment(r *Report, s Snapshot) string {
	switch {
	case s.BeforeStart:
		return " (before the capture's first packet)"
	case s.AfterEnd:
		return " (after the capture's last packet: states as at its end)"
	case r.Capture.Start != nil:
		return fmt.Sprintf(" (+%s s into the capture)", relTime(s.At.Sub(*r.Capture.Start)))
	}
	return ""
}

// timeline prints the --timeline samples as a table, one column per state
// and role that is ever non-zero.
func (t *textWriter) timeline(r *Report) {
	tl := r.Timeline
	if tl == nil {
		return
	}
	step := Dur(time.Duration(tl.StepSeconds * float64(time.Second)))
	title := "Endpoints per state every " + step
	if tl.Widened {
		title += fmt.Sprintf(" (widened to keep at most %d samples)", MaxTimelineSamples)
	}
	t.printf("%s\n", t.color(ansiBold, title))
	type col struct {
		role  int
		state fsm.State
	}
	var cols []col
	for role, pick := range []func(TimelineSample) map[string]int{
		func(s TimelineSample) map[string]int { return s.Clients },
		func(s TimelineSample) map[string]int { return s.Servers }} {
		for st := range fsm.NumStates {
			name := fsm.State(st).String()
			for _, s := range tl.Samples {
				if pick(s)[name] > 0 {
					cols = append(cols, col{role, fsm.State(st)})
					break
				}
			}
		}
	}
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := []string{"time (UTC)"}
	for _, c := range cols {
		head = append(head, []string{"c:", "s:"}[c.role]+c.state.String())
	}
	fmt.Fprintf(tw, "%s\t\n", strings.Join(head, "\t"))
	for _, s := range tl.Samples {
		row := []string{s.At.Format("2006-01-02 15:04:05.000")}
		for _, c := range cols {
			m := s.Clients
			if c.role == 1 {
				m = s.Servers
			}
			row = append(row, fmt.Sprint(m[c.state.String()]))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	if err := tw.Flush(); err != nil && t.err == nil {
		t.err = err
	}
	t.printf("(c: client endpoints, s: server endpoints; -f json has them under \"timeline\")\n\n")
}
