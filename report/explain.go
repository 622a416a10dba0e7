package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/tcpstate/tcpstate/fsm"
)

// Dur formats a duration for people: "4m12s", "1.5s", "320ms", "12µs".
func Dur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// frames formats frame numbers for the text report: "7, 12, 15".
func frames(fs []uint64) string {
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, f)
	}
	return b.String()
}

func ending(f *fsm.Finding) string {
	switch f.Ending {
	case fsm.EndedByRST:
		return " It ended when an RST tore the connection down."
	case fsm.EndedByReuse:
		return " It ended when a new connection reused the four-tuple."
	case fsm.EndedByTimer:
		return " It ended by timer (presumed)."
	case fsm.StillOpen:
		return " It was still so when the capture ended."
	}
	return ""
}

// explain writes the one-paragraph explanation of one finding: what it
// means, its likely causes and what to check (DESIGN §1).
func explain(f *fsm.Finding) string {
	ep, peer := addr(f.Endpoint), addr(f.Peer)
	d := Dur(f.Duration)
	switch f.Kind {
	case fsm.KindCloseWait:
		s := fmt.Sprintf("%s sent a FIN and %s acknowledged it, but %s never closed its side: it sat in CLOSE_WAIT for %s.%s "+
			"CLOSE_WAIT has no kernel timeout; the socket and its file descriptor stay until the application calls close(). ",
			peer, ep, ep, d, ending(f))
		switch {
		case f.NeverServed:
			s += "It never sent a byte on this connection: never served, which points at the accept backlog (connections the " +
				"application never accept()ed, e.g. an edge-triggered epoll accept loop that returns early) or a handler stuck before it wrote anything."
		case f.SentAfter && f.Ending == fsm.EndedByRST && f.Idle < f.Duration/10:
			// Still sending when the peer's RST came: late, not idle.
			s += fmt.Sprintf("It sent data %s after the peer's FIN, only %s before the peer's RST: it was answering late, not idle, "+
				"and the peer, which had closed its socket altogether (not only half-closed it), could only answer with an RST. "+
				"Check how long this endpoint takes to finish a response, and that it calls close() once done.",
				Dur(f.Duration-f.Idle), Dur(f.Idle))
		case f.SentAfter:
			s += fmt.Sprintf("It went on sending after the peer's FIN (a half-close) and then fell idle for %s without closing: "+
				"check the code path that finishes the response for a missing close().", Dur(f.Idle))
		default:
			s += "Check for a code path that returns without close() (an early return or error path that skips cleanup), " +
				"a handler blocked before close, or a peer whose timeout is shorter than the server's work."
		}
		return s
	case fsm.KindFinWait2:
		if f.ResetOnData && f.Ending == fsm.EndedByRST {
			// Linux answers data on a closed socket with RST whether it
			// still holds it in FIN_WAIT_2 or has dropped it: the wire
			// cannot tell which, so the wait is an upper bound.
			return fmt.Sprintf("%s closed first (its FIN was acknowledged) and waited up to %s in FIN_WAIT_2 for %s's FIN, which never came. "+
				"When %s wrote again, %s answered with an RST: its application had closed the socket, which refuses new data "+
				"(RFC 1122 §4.2.2.13) whether the kernel still held it in FIN_WAIT_2 or had already dropped it (net.ipv4.tcp_fin_timeout, "+
				"--fin-timeout here). The peer is the one to look at: it leaked CLOSE_WAIT.", ep, d, peer, peer, ep)
		}
		s := fmt.Sprintf("%s closed first (its FIN was acknowledged) and waited %s in FIN_WAIT_2 for %s's FIN, which never came.%s ",
			ep, d, peer, ending(f))
		if f.Presumed {
			s += "Linux drops an orphaned FIN_WAIT_2 socket after net.ipv4.tcp_fin_timeout (default 60 s, --fin-timeout here); " +
				"the drop itself is not visible on the wire, so it is presumed. "
		}
		switch {
		case f.PeerReset && f.Ending == fsm.EndedByReuse:
			s += fmt.Sprintf("%s later sent an RST on this four-tuple, from its new connection: its socket for this one was gone. ", ep)
		case f.ResetOnData:
			s += fmt.Sprintf("When %s wrote again, %s answered with an RST, as a closed socket does (RFC 1122 §4.2.2.13). ", peer, ep)
		case f.PeerReset:
			s += fmt.Sprintf("%s later sent an RST on this four-tuple: it aborted the connection rather than wait for the FIN. ", ep)
		}
		return s + "The peer is the one to look at: it leaked CLOSE_WAIT."
	case fsm.KindTimeWait:
		s := fmt.Sprintf("%s closed the connection first (active close) and entered TIME_WAIT, which lasts 2×MSL (Linux: 60 s).%s ", ep, ending(f))
		if f.Role == fsm.Server {
			s += "A server that closes first collects TIME_WAIT sockets (HTTP/1.0, Connection: close, keep-alive off); " +
				"enable keep-alive, let clients close first, and use SO_REUSEADDR so restarts can bind."
		} else {
			s += "TIME_WAIT is normal; many short connections from one client can exhaust its ephemeral ports " +
				"(reuse connections, or net.ipv4.tcp_tw_reuse for outgoing connections; tcp_tw_recycle is gone since Linux 4.12)."
		}
		return s
	case fsm.KindSynRecv:
		resent := ""
		if f.Count > 0 {
			resent = " (" + plural(f.Count, "retransmission") + ")"
		}
		return fmt.Sprintf("%s answered a SYN from %s with SYN-ACK%s but the final ACK of the handshake never came: "+
			"a half-open connection in SYN_RECEIVED.%s Causes: a SYN flood or spoofed sources, a client that died or dropped the SYN-ACK, "+
			"or a firewall dropping the client's ACK; check net.ipv4.tcp_synack_retries and SYN cookies.", ep, peer, resent, ending(f))
	case fsm.KindSynTimeout:
		iv := make([]string, len(f.Intervals))
		for i, v := range f.Intervals {
			iv[i] = Dur(v)
		}
		s := fmt.Sprintf("%s sent SYN to %s and got no answer", ep, peer)
		switch {
		case len(iv) == 1:
			s += fmt.Sprintf(", retransmitting it %s, %s later", times(f.Count), iv[0])
		case f.Count > 0 && len(iv) > 0:
			s += fmt.Sprintf(", retransmitting it %s at back-off intervals %s", times(f.Count), strings.Join(iv, ", "))
		case f.Count > 0:
			s += ", retransmitting it " + times(f.Count)
		}
		return s + ". The SYNs or their answers are dropped (a firewall, a down host, a full SYN queue) or the address is wrong; " +
			"the application sees a connect timeout."
	case fsm.KindRefused:
		return fmt.Sprintf("%s answered %s's SYN with RST: connection refused. Nothing listens on that port (service down, wrong port), "+
			"or a firewall rejects the connection.", ep, peer)
	case fsm.KindReset:
		who := fmt.Sprintf("%s sent an RST in %s", ep, f.State)
		if f.State == fsm.Closed || f.State == fsm.Unknown {
			who = fmt.Sprintf("%s, which no longer had a socket for this connection, sent an RST", ep)
		}
		return fmt.Sprintf("%s, and %s (in %s) accepted it: the connection was aborted, not closed. "+
			"Causes: SO_LINGER with a zero timeout, a process that exited or crashed with unread data, a protocol error, "+
			"a timeout in a proxy or load balancer, or a write to a socket the peer had already dropped.",
			who, peer, f.PeerState)
	case fsm.KindPortReuse:
		s := fmt.Sprintf("%s opened a new connection on a four-tuple where %s still held the old connection in %s", peer, ep, f.State)
		if f.State == fsm.CloseWait {
			return s + fmt.Sprintf(". The old socket answered the new SYN with an ACK for the old connection (RFC 5961 challenge ACK) "+
				"instead of a SYN-ACK (%s); the client reset it and retried. This is not packet loss: the server "+
				"leaked the old connection in CLOSE_WAIT while the client's side had expired (FIN_WAIT_2 timeout).", plural(f.Count, "stale answer"))
		}
		if f.State == fsm.TimeWait && f.Role == fsm.Client {
			return fmt.Sprintf("%s reused its own four-tuple while its old connection was still in TIME_WAIT (net.ipv4.tcp_tw_reuse, "+
				"or a fixed source port). It works when timestamps or sequence numbers prove the new connection newer (RFC 6191).", ep)
		}
		return s + ". A SYN that reaches TIME_WAIT may reopen the connection (RFC 1122 §4.2.2.13) when its sequence number or " +
			"timestamp is newer; otherwise it is dropped and the client retries."
	case fsm.KindSimultaneousClose:
		return fmt.Sprintf("%s and %s sent their FINs before either had seen the other's: the FINs crossed, and the closing sides "+
			"passed through CLOSING into TIME_WAIT. This is rare but legal (RFC 9293 §3.6, case 2).", ep, peer)
	case fsm.KindFinRetransmit:
		if f.LostAck {
			return fmt.Sprintf("%s sent its FIN %s: the peer had received it but the final ACK was lost, so %s "+
				"retransmitted from LAST_ACK (or CLOSING) and the peer, in TIME_WAIT, acknowledged again.", ep, moreTimes(f.Count), ep)
		}
		return fmt.Sprintf("%s sent its FIN %s before the peer acknowledged it: the FIN (or its ACK) was lost.", ep, moreTimes(f.Count))
	case fsm.KindCaptureGap:
		if f.OneSided {
			return "Only one direction of this connection was captured: its segments acknowledge data and SYNs the capture never saw " +
				"(asymmetric routing, or a capture filter or tap on one direction). The silent endpoint's states are inferred, not seen, " +
				"and no finding blames it."
		}
		return fmt.Sprintf("The connection acknowledges data the capture never saw (%s): packets are missing from the capture "+
			"(snaplen drops, a full capture buffer, or only one direction captured). Conclusions about this connection are less certain.", plural(f.Count, "segment"))
	case fsm.KindPartial:
		return "The capture started after this connection opened: no handshake was seen, so both endpoints were assumed ESTABLISHED " +
			"and roles were guessed from the ports."
	}
	return ""
}

// headline is the one-line summary of a group.
func headline(g *Group) string {
	n := g.Count
	conns := plural(n, "connection")
	role := g.Role.String()
	longest := Dur(g.agg.longest)
	switch g.Kind {
	case fsm.KindCloseWait:
		never := g.agg.neverServe
		s := fmt.Sprintf("%s (%s) left %s in CLOSE_WAIT, oldest %s", g.Endpoint, role, conns, longest)
		if never > 0 {
			s += fmt.Sprintf("; %d never served (accept backlog or stuck handler)", never)
		}
		return s
	case fsm.KindFinWait2:
		return fmt.Sprintf("%s (%s) waited in FIN_WAIT_2 on %s, longest %s", g.Endpoint, role, conns, longest)
	case fsm.KindTimeWait:
		if g.Role == fsm.Server {
			return fmt.Sprintf("%s (server) closed first and holds TIME_WAIT on %s", g.Endpoint, conns)
		}
		return fmt.Sprintf("%s (client) closed first and entered TIME_WAIT on %s", g.Endpoint, conns)
	case fsm.KindSynRecv:
		rx := g.agg.rx
		return fmt.Sprintf("%s (server) has %s half-open in SYN_RECEIVED (%d SYN-ACK retransmissions)", g.Endpoint, conns, rx)
	case fsm.KindSynTimeout:
		rx := g.agg.rx
		return fmt.Sprintf("%s (server) never answered the SYNs of %s (%d retransmissions)", g.Endpoint, conns, rx)
	case fsm.KindRefused:
		return fmt.Sprintf("%s (server) refused %s (SYN answered by RST)", g.Endpoint, conns)
	case fsm.KindReset:
		return fmt.Sprintf("%s (%s) reset %s", g.Endpoint, role, conns)
	case fsm.KindPortReuse:
		return fmt.Sprintf("%s (%s) held stale state when its four-tuple was reused (%s)", g.Endpoint, role, conns)
	case fsm.KindSimultaneousClose:
		return fmt.Sprintf("%s closed simultaneously (FINs crossed, CLOSING)", conns)
	case fsm.KindFinRetransmit:
		return fmt.Sprintf("%s (%s) retransmitted its FIN on %s", g.Endpoint, role, conns)
	case fsm.KindCaptureGap:
		return fmt.Sprintf("%s acknowledge data the capture never saw", conns)
	case fsm.KindPartial:
		return fmt.Sprintf("%s started before the capture (states assumed)", conns)
	}
	return g.Kind.String()
}

// groupExplanation explains a group of several findings through its first
// member, whose paragraph (example, explain's) names real endpoints and
// frames.
func groupExplanation(g *Group, example string) string {
	return fmt.Sprintf("On connection #%d, for example: %s", g.agg.example.conn, example)
}

// times returns "once", "twice" or "n times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// moreTimes returns "once more", "twice more" or "n more times".
func moreTimes(n int) string {
	if n <= 2 {
		return times(n) + " more"
	}
	return fmt.Sprintf("%d more times", n)
}
