package report

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// TestExplainCloseWait: the close-wait explanation names what the
// endpoint did in CLOSE_WAIT, and so where to look: never served; went on
// sending, then idle; answering late, until the peer's RST; or silent.
func TestExplainCloseWait(t *testing.T) {
	base := fsm.Finding{Kind: fsm.KindCloseWait, Severity: fsm.Error, Role: fsm.Server,
		Endpoint: netip.MustParseAddrPort("192.0.2.2:8089"), Peer: netip.MustParseAddrPort("192.0.2.1:40900"),
		Duration: 3620 * time.Millisecond}
	for _, tt := range []struct {
		name string
		edit func(*fsm.Finding)
		want string
	}{
		{"never served", func(f *fsm.Finding) { f.NeverServed = true }, "It never sent a byte on this connection: never served"},
		{"sending, then idle", func(f *fsm.Finding) { f.SentAfter, f.Idle, f.Ending = true, 3*time.Second, fsm.StillOpen },
			"It went on sending after the peer's FIN (a half-close) and then fell idle for 3s without closing"},
		{"idle, then reset", func(f *fsm.Finding) { f.SentAfter, f.Idle, f.Ending = true, 3*time.Second, fsm.EndedByRST },
			"It went on sending after the peer's FIN (a half-close) and then fell idle for 3s without closing"},
		// fin-wait-2-expiry, recorded from the kernel: the server wrote 3.62 s
		// after the client's FIN, whose FIN_WAIT_2 had expired; its RST
		// answered 38 µs later.
		{"answering late", func(f *fsm.Finding) { f.SentAfter, f.Idle, f.Ending = true, 38*time.Microsecond, fsm.EndedByRST },
			"It sent data 3.62s after the peer's FIN, only 38µs before the peer's RST: it was answering late, not idle, " +
				"and the peer, which had closed its socket altogether (not only half-closed it), could only answer with an RST."},
		{"silent", func(f *fsm.Finding) { f.Ending = fsm.StillOpen }, "Check for a code path that returns without close()"},
	} {
		f := base
		tt.edit(&f)
		if got := explain(&f); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q\n  lacks %q", tt.name, got, tt.want)
		}
	}
}

// TestExplainFinWait2Reset: a later RST from the endpoint in FIN_WAIT_2
// is explained by what the wire proves. From a new connection on the
// four-tuple (port-reuse): the old socket was gone. In answer to the
// peer's data (fin-wait-2-expiry): the application had closed the socket,
// and the kernel may or may not still have held it, so the wait is an
// upper bound unless --fin-timeout presumed the expiry first. Otherwise:
// an abort.
func TestExplainFinWait2Reset(t *testing.T) {
	base := fsm.Finding{Kind: fsm.KindFinWait2, Severity: fsm.Warning, Role: fsm.Client,
		Endpoint: netip.MustParseAddrPort("192.0.2.1:40900"), Peer: netip.MustParseAddrPort("192.0.2.2:8089"),
		Duration: 3620 * time.Millisecond, PeerReset: true}
	for _, tt := range []struct {
		name      string
		edit      func(*fsm.Finding)
		want, not string
	}{
		{"reuse", func(f *fsm.Finding) { f.Ending = fsm.EndedByReuse },
			"192.0.2.1:40900 later sent an RST on this four-tuple, from its new connection: its socket for this one was gone.", "RFC 1122"},
		{"on data", func(f *fsm.Finding) { f.Ending, f.ResetOnData = fsm.EndedByRST, true },
			"waited up to 3.62s in FIN_WAIT_2 for 192.0.2.2:8089's FIN, which never came. When 192.0.2.2:8089 wrote again, 192.0.2.1:40900 answered with an RST: " +
				"its application had closed the socket", "socket for the connection was gone"},
		{"on data, after presumed expiry", func(f *fsm.Finding) { f.Ending, f.Presumed, f.ResetOnData = fsm.EndedByTimer, true, true },
			"It ended by timer (presumed).", "up to"},
		{"abort", func(f *fsm.Finding) { f.Ending = fsm.EndedByRST },
			"192.0.2.1:40900 later sent an RST on this four-tuple: it aborted the connection rather than wait for the FIN.", "up to"},
	} {
		f := base
		tt.edit(&f)
		got := explain(&f)
		if !strings.Contains(got, tt.want) || strings.Contains(got, tt.not) {
			t.Errorf("%s: %q\n  lacks %q or has %q", tt.name, got, tt.want, tt.not)
		}
	}
}

// TestExplainCounts: counts in the explanations read as English: no
// "time(s)", no "(0 retransmissions)", one back-off interval as such.
func TestExplainCounts(t *testing.T) {
	ep, peer := netip.MustParseAddrPort("192.0.2.2:443"), netip.MustParseAddrPort("192.0.2.1:40000")
	for _, tt := range []struct {
		f    fsm.Finding
		want string
	}{
		{fsm.Finding{Kind: fsm.KindSynTimeout, Endpoint: peer, Peer: ep, Count: 1, Intervals: []time.Duration{time.Second}},
			"got no answer, retransmitting it once, 1s later. "},
		{fsm.Finding{Kind: fsm.KindSynTimeout, Endpoint: peer, Peer: ep, Count: 2, Intervals: []time.Duration{time.Second, 2 * time.Second}},
			"got no answer, retransmitting it twice at back-off intervals 1s, 2s. "},
		{fsm.Finding{Kind: fsm.KindSynTimeout, Endpoint: peer, Peer: ep, Count: 0}, "got no answer. "},
		{fsm.Finding{Kind: fsm.KindSynRecv, Endpoint: ep, Peer: peer, Count: 0}, "with SYN-ACK but the final ACK"},
		{fsm.Finding{Kind: fsm.KindSynRecv, Endpoint: ep, Peer: peer, Count: 1}, "with SYN-ACK (1 retransmission) but"},
		{fsm.Finding{Kind: fsm.KindSynRecv, Endpoint: ep, Peer: peer, Count: 5}, "with SYN-ACK (5 retransmissions) but"},
		{fsm.Finding{Kind: fsm.KindFinRetransmit, Endpoint: ep, Peer: peer, Count: 1}, "sent its FIN once more before"},
		{fsm.Finding{Kind: fsm.KindFinRetransmit, Endpoint: ep, Peer: peer, Count: 3, LostAck: true}, "sent its FIN 3 more times: "},
		{fsm.Finding{Kind: fsm.KindCaptureGap, Endpoint: ep, Peer: peer, Count: 1}, "never saw (1 segment): "},
		{fsm.Finding{Kind: fsm.KindPortReuse, Endpoint: ep, Peer: peer, Count: 2, State: fsm.CloseWait}, "(2 stale answers)"},
	} {
		got := explain(&tt.f)
		if !strings.Contains(got, tt.want) || strings.Contains(got, "(s)") {
			t.Errorf("%s, count %d: %q\n  lacks %q", tt.f.Kind, tt.f.Count, got, tt.want)
		}
	}
}
