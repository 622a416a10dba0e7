#!/usr/bin/env python3
"""Socket behaviour of the kernel ground-truth scenarios (python3 stdlib only).

Run by record.sh inside a network namespace:

    scenarios.py NAME server RUNDIR     (in the server namespace, 192.0.2.2 / 2001:db8::2)
    scenarios.py NAME client RUNDIR     (in the client namespace, 192.0.2.1 / 2001:db8::1)
    scenarios.py --expect NAME          print the NAME.expect file
    scenarios.py --list                 print the scenario names
    scenarios.py --check NAME PCAP [SNAPSHOTS]
                                        exit 1 if the wire in PCAP (and the NAME.snapshots
                                        file SNAPSHOTS) do not show what scenario NAME is
                                        meant to produce

Protocol with record.sh, through empty files in RUNDIR:
  server.up      the server is listening (record.sh starts the client after it)
  ROLE.ready     ROLE has finished; its sockets are in their final state
  ROLE.failed    ROLE raised (traceback in its log)
  release        record.sh has taken the capture and `ss`; ROLE may exit
  snap.LABEL.req  a role asks for a mid-capture snapshot LABEL ([A-Za-z0-9_-]+, unique
                  per scenario); record.sh (polling every 50 ms while the scenario runs)
                  runs `ss -tanH` in both namespaces, bracketed by two CLOCK_REALTIME
                  readings, appends the block to NAME.snapshots and then creates
  snap.LABEL.done the snapshot is taken; the role goes on.
                  snapshot() holds the role still for QUIET seconds before the request
                  and after the done: the caller must have made sure (wait_ss, flags
                  from the peer role) that both sides are in the wanted states and
                  nothing is in flight, so that no packet is near the snapshot's time.
Other files are used by the two roles to synchronise with each other.
Sockets are kept referenced (KEEP) until exit, so nothing closes by accident.
"""
import errno
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback

C4, S4 = "192.0.2.1", "192.0.2.2"
C6, S6 = "2001:db8::1", "2001:db8::2"

REQ = b"GET /x HTTP/1.0\r\n\r\n"                          # 19 bytes
RESP = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"  # 40 bytes

RUN = "."
ROLE = "?"
KEEP = []          # sockets deliberately held open until the process exits
T0 = time.monotonic()


def log(*a):
    print("[%s %7.3f]" % (ROLE, time.monotonic() - T0), *a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- sync files
def flag(name, content=""):
    tmp = os.path.join(RUN, "." + name + ".tmp")
    with open(tmp, "w") as f:
        f.write(content)
    os.rename(tmp, os.path.join(RUN, name))


def has_flag(name):
    return os.path.exists(os.path.join(RUN, name))


def wait_flag(name, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p = os.path.join(RUN, name)
        if os.path.exists(p):
            with open(p) as f:
                return f.read()
        time.sleep(0.005)
    raise TimeoutError("flag %s not set within %ss" % (name, timeout))


def snapshot(label, quiet=0.3, timeout=5):
    """Have record.sh take the mid-capture `ss` snapshot LABEL of both namespaces
    (see the protocol above), with QUIET seconds of stillness on either side."""
    time.sleep(quiet)
    flag("snap.%s.req" % label)
    wait_flag("snap.%s.done" % label, timeout)
    log("snapshot %s taken" % label)
    time.sleep(quiet)


# ---------------------------------------------------------------- ss helpers
def ss_rows():
    out = subprocess.run(["ss", "-tanH"], capture_output=True, text=True, timeout=5).stdout
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 5:
            rows.append((f[0], f[3], f[4]))
    return rows


def ss_count(state, port):
    p = ":%d" % port
    return sum(1 for st, loc, peer in ss_rows()
               if st == state and (loc.endswith(p) or peer.endswith(p)))


def ss_state(port):
    """The states of the non-listening sockets on `port`, e.g. ["CLOSING"]."""
    p = ":%d" % port
    return sorted(st for st, loc, peer in ss_rows()
                  if st != "LISTEN" and (loc.endswith(p) or peer.endswith(p)))


def wait_ss(state, port, count, timeout, cmp="eq"):
    """Wait until `ss` shows `count` sockets (cmp eq) / >= count (ge) in `state` on `port`."""
    end = time.monotonic() + timeout
    n = -1
    while time.monotonic() < end:
        n = ss_count(state, port)
        if (n == count) if cmp == "eq" else (n >= count):
            log("ss: %d x %s on port %d" % (n, state, port))
            return n
        time.sleep(0.02)
    raise TimeoutError("ss: %s on port %d is %d, wanted %s %d" % (state, port, n, cmp, count))


# ---------------------------------------------------------------- socket helpers
def fam_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listener(addr, port, backlog=16):
    s = socket.socket(fam_of(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    KEEP.append(s)
    return s


def accept(ls, timeout=10):
    ls.settimeout(timeout)
    c, peer = ls.accept()
    c.settimeout(timeout)
    KEEP.append(c)
    log("accepted", peer[:2])
    return c


def connect(src, sport, dst, dport, timeout=5, opts=()):
    s = socket.socket(fam_of(dst), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for lvl, opt, val in opts:
        s.setsockopt(lvl, opt, val)
    s.bind((src, sport))
    s.settimeout(timeout)
    s.connect((dst, dport))
    KEEP.append(s)
    log("connected %s:%d -> %s:%d" % (src, sport, dst, dport))
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("EOF after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def recv_to_eof(s, limit=1 << 20):
    buf = b""
    while len(buf) < limit:
        d = s.recv(65536)
        if not d:
            return buf
        buf += d
    raise RuntimeError("too much data")


def linger0(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def nft(rules):
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, timeout=5)


def spin_until(t):
    """Busy-wait until wall-clock time t (shared by both namespaces' processes)."""
    while time.time() < t:
        pass


def spawn(fn, *args):
    def run():
        try:
            fn(*args)
        except BaseException:
            traceback.print_exc()
            flag(ROLE + ".failed")
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


# ================================================================ scenarios
# Client source ports are fixed so that .expect files are deterministic:
# client port = 40000 + 100 * (server port - 8080) + i.
def cport(port, i=0):
    return 40000 + 100 * (port - 8080) + i


# ---- 1 close-wait-leak (8080) / 15 ipv6-close-wait (8094)
def cw_leak_server(port, n, addr):
    ls = listener(addr, port)
    flag("server.up")
    for _ in range(n):
        c = accept(ls)
        recv_exact(c, len(REQ))
        c.sendall(RESP)
        # the handler "forgets" to close: c stays referenced in KEEP
    wait_ss("CLOSE-WAIT", port, n, 5)


def cw_leak_client(port, n, src, dst):
    for i in range(n):
        s = connect(src, cport(port, i), dst, port)
        s.sendall(REQ)
        recv_exact(s, len(RESP))
        s.close()
    wait_ss("FIN-WAIT-2", port, n, 5)


def close_wait_leak_server():
    cw_leak_server(8080, 5, S4)


def close_wait_leak_client():
    cw_leak_client(8080, 5, C4, S4)


def ipv6_close_wait_server():
    cw_leak_server(8094, 2, S6)


def ipv6_close_wait_client():
    cw_leak_client(8094, 2, C6, S6)


# ---- 2 accept-backlog (8081)
def accept_backlog_server():
    listener(S4, 8081, backlog=8)     # never accept()ed
    flag("server.up")
    wait_ss("CLOSE-WAIT", 8081, 4, 5)


def accept_backlog_client():
    for i in range(4):
        s = connect(C4, cport(8081, i), S4, 8081)
        s.sendall(REQ)
        s.close()
    wait_ss("FIN-WAIT-2", 8081, 4, 5)


# ---- 3 client-close (8082)
def client_close_server():
    ls = listener(S4, 8082)
    flag("server.up")
    for _ in range(3):
        c = accept(ls)
        recv_exact(c, len(REQ))
        c.sendall(RESP)
        rest = recv_to_eof(c)
        assert rest == b"", rest
        c.close()


def client_close_client():
    for i in range(3):
        s = connect(C4, cport(8082, i), S4, 8082)
        s.sendall(REQ)
        recv_exact(s, len(RESP))
        s.close()
    wait_ss("TIME-WAIT", 8082, 3, 5)


# ---- 4 server-close (8083)
def server_close_server():
    ls = listener(S4, 8083, backlog=32)
    flag("server.up")
    for _ in range(20):
        c = accept(ls)
        recv_exact(c, len(REQ))
        c.sendall(RESP)
        c.close()                 # HTTP/1.0 style: the server closes first
    wait_ss("TIME-WAIT", 8083, 20, 5)


def server_close_client():
    for i in range(20):
        s = connect(C4, cport(8083, i), S4, 8083)
        s.sendall(REQ)
        body = recv_to_eof(s)
        assert body == RESP, body
        s.close()


# ---- 5 simultaneous-close (8084)
def simultaneous_close_server():
    os.sched_setaffinity(0, {0})
    ls = listener(S4, 8084)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    t = float(wait_flag("go", 5))
    spin_until(t)
    c.close()
    wait_ss("TIME-WAIT", 8084, 1, 5)


def simultaneous_close_client():
    os.sched_setaffinity(0, {0})
    s = connect(C4, cport(8084), S4, 8084)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    t = time.time() + 0.3
    flag("go", repr(t))
    spin_until(t)
    s.close()
    wait_ss("TIME-WAIT", 8084, 1, 5)


# ---- 6 rst-abort (8085)
def rst_abort_server():
    ls = listener(S4, 8085)
    flag("server.up")
    c = accept(ls)                       # connection 1: the client aborts
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    try:
        d = c.recv(100)
        raise RuntimeError("expected RST, got %r" % d)
    except ConnectionResetError:
        log("conn 1: reset by client, as expected")
    c = accept(ls)                       # connection 2: the server aborts
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    wait_flag("resp2", 5)
    linger0(c)
    c.close()


def rst_abort_client():
    s = connect(C4, cport(8085, 0), S4, 8085)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    time.sleep(0.1)
    linger0(s)
    s.close()                            # SO_LINGER {1, 0}: RST instead of FIN
    time.sleep(0.3)
    s = connect(C4, cport(8085, 1), S4, 8085)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    flag("resp2")
    try:
        d = s.recv(100)
        raise RuntimeError("expected RST, got %r" % d)
    except ConnectionResetError:
        log("conn 2: reset by server, as expected")


# ---- 7 refused (8086)
def refused_server():
    flag("server.up")                    # nobody listens on 8086


def refused_client():
    for i in range(2):
        try:
            connect(C4, cport(8086, i), S4, 8086)
            raise RuntimeError("connect unexpectedly succeeded")
        except ConnectionRefusedError:
            log("attempt %d refused, as expected" % i)
        time.sleep(0.2)


# ---- 8 syn-timeout (8087)
def syn_timeout_server():
    listener(S4, 8087)                   # listening, but nft drops the SYNs before it
    flag("server.up")


def syn_timeout_client():
    t0 = time.monotonic()
    socks = []
    for i, syncnt in ((0, 1), (1, None)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if syncnt is not None:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, syncnt)
        s.bind((C4, cport(8087, i)))
        s.setblocking(False)
        err = s.connect_ex((S4, 8087))
        assert err == errno.EINPROGRESS, err
        KEEP.append(s)
        socks.append(s)
    # connection 0 (TCP_SYNCNT=1): SYN at 0 s, 1 s, gives up at ~3 s
    _, w, _ = select.select([], [socks[0]], [], 6)
    err = socks[0].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    log("conn 0 finished after %.2fs: %s" % (time.monotonic() - t0, os.strerror(err)))
    assert err == errno.ETIMEDOUT, err
    # connection 1 (tcp_syn_retries=2): SYN at 0, 1, 3 s, would give up at ~7 s
    while time.monotonic() - t0 < 4.0:
        time.sleep(0.05)
    assert ss_count("SYN-SENT", 8087) == 1


# ---- 9 syn-recv (8088)
def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def raw_syn(src, dst, sport, dport, seq):
    opts = struct.pack("!BBH", 2, 4, 1460)                 # MSS 1460
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, off << 4, 0x02, 64240, 0, 0) + opts
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    total = 20 + len(tcp)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, sport & 0xFFFF, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp


def syn_recv_server():
    listener(S4, 8088)                   # the handshakes never complete: nothing to accept
    flag("server.up")


def syn_recv_client():
    r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)   # IP_HDRINCL
    KEEP.append(r)
    for i in range(3):
        pkt = raw_syn(C4, S4, cport(8088, i), 8088, 0x1000000 * (i + 1))
        r.sendto(pkt, (S4, 0))
        log("raw SYN from port %d sent" % cport(8088, i))
        time.sleep(0.05)
    # SYN-ACK retransmissions (tcp_synack_retries=2) at ~1 s and ~3 s; the
    # request sockets would expire at ~7 s.  Stop after the second one.
    time.sleep(3.6)


# ---- 10 fin-wait-2-expiry (8089)
def fin_wait_2_expiry_server():
    ls = listener(S4, 8089)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    wait_ss("CLOSE-WAIT", 8089, 1, 5)
    wait_flag("expired", 12)
    c.sendall(b"late data after the peer is gone\n")
    wait_ss("CLOSE-WAIT", 8089, 0, 3)    # the client kernel's RST kills it


def fin_wait_2_expiry_client():
    s = connect(C4, cport(8089), S4, 8089)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    s.close()
    wait_ss("FIN-WAIT-2", 8089, 1, 3)
    wait_ss("FIN-WAIT-2", 8089, 0, 10)    # tcp_fin_timeout=3 in this namespace
    time.sleep(0.5)
    flag("expired")


# ---- 11 port-reuse (8090)
def port_reuse_server():
    ls = listener(S4, 8090)
    flag("server.up")
    c = accept(ls)                       # incarnation 1: leaked in CLOSE_WAIT
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    c2 = accept(ls, timeout=15)          # incarnation 2: served, kept open
    recv_exact(c2, len(REQ))
    c2.sendall(RESP)


def port_reuse_client():
    p = cport(8090)
    s = connect(C4, p, S4, 8090)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    s.close()
    wait_ss("FIN-WAIT-2", 8090, 1, 3)
    wait_ss("FIN-WAIT-2", 8090, 0, 10)    # tcp_fin_timeout=2 in this namespace
    time.sleep(0.3)
    t = time.monotonic()
    s2 = connect(C4, p, S4, 8090, timeout=8)
    log("second connect took %.2fs" % (time.monotonic() - t))
    s2.sendall(REQ)
    recv_exact(s2, len(RESP))


# ---- 12 half-close (8091)
def half_close_server():
    ls = listener(S4, 8091)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    assert recv_to_eof(c) == b""         # the client's FIN: we are in CLOSE_WAIT
    for i in range(6):
        c.sendall(bytes([65 + i]) * 1000)
        time.sleep(0.25)
    c.close()
    wait_ss("LAST-ACK", 8091, 0, 3)


def half_close_client():
    s = connect(C4, cport(8091), S4, 8091)
    s.sendall(REQ)
    s.shutdown(socket.SHUT_WR)
    body = recv_to_eof(s)
    assert len(body) == 6000, len(body)
    s.close()
    wait_ss("TIME-WAIT", 8091, 1, 3)


# ---- 13 lost-final-ack (8092)
def lost_final_ack_server():
    ls = listener(S4, 8092)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    assert recv_to_eof(c) == b""
    wait_flag("closenow", 5)
    c.close()                            # FIN; the final ACK gets dropped once
    time.sleep(0.1)
    wait_ss("LAST-ACK", 8092, 0, 5)      # gone after FIN retransmission + re-ACK


def lost_final_ack_client():
    s = connect(C4, cport(8092), S4, 8092)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    s.close()
    wait_ss("FIN-WAIT-2", 8092, 1, 3)
    # one-shot: the first pure ACK to 8092 from now on (52 bytes) is dropped,
    # the second one exhausts the quota and passes
    nft("add rule inet tcpstate out tcp dport 8092 tcp flags == ack "
        "quota until 60 bytes counter drop\n")
    flag("closenow")
    wait_ss("TIME-WAIT", 8092, 1, 3)


# ---- 14 keepalive-idle (8093)
def keepalive_idle_server():
    ls = listener(S4, 8093)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    c.sendall(RESP)


def keepalive_idle_client():
    T = socket.IPPROTO_TCP
    s = connect(C4, cport(8093), S4, 8093, opts=[
        (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
        (T, socket.TCP_KEEPIDLE, 1), (T, socket.TCP_KEEPINTVL, 1), (T, socket.TCP_KEEPCNT, 5)])
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    time.sleep(4.2)                      # idle: probes at ~1, 2, 3, 4 s, each ACKed
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)   # stop the probes
    assert ss_count("ESTAB", 8093) == 1


# ---- 16 any-sll2 (8095), captured with -i any in the server namespace
def any_sll2_handle(c, leak):
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    if leak:
        return                           # forgets to close
    assert recv_to_eof(c) == b""
    c.close()


def any_sll2_server():
    ls = listener("0.0.0.0", 8095)
    flag("server.up")
    for _ in range(2):                   # two connections from the client namespace
        c = accept(ls)
        leak = c.getpeername()[1] == cport(8095, 1)
        spawn(any_sll2_handle, c, leak)
    wait_flag("client.ready", 10)
    # a third connection over loopback inside this namespace: its packets
    # appear twice with -i any (lo out + lo in)
    s = connect("127.0.0.1", cport(8095, 2), "127.0.0.1", 8095)
    c = accept(ls)
    spawn(any_sll2_handle, c, False)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    s.close()
    wait_ss("TIME-WAIT", 8095, 1, 3)     # the loopback client (this namespace)
    wait_ss("CLOSE-WAIT", 8095, 1, 3)


def any_sll2_client():
    for i in range(2):
        s = connect(C4, cport(8095, i), S4, 8095)
        s.sendall(REQ)
        recv_exact(s, len(RESP))
        s.close()
        time.sleep(0.1)
    wait_ss("TIME-WAIT", 8095, 1, 3)
    wait_ss("FIN-WAIT-2", 8095, 1, 3)


# ================================================================ scenarios with snapshots
# These ask record.sh for mid-capture `ss` snapshots (NAME.snapshots), taken while
# both sides are steady and nothing is on the wire.

# ---- 17 closing-snapshot (8096)
# Both sides sit in CLOSING at the snapshot. Rules at each side's OUTPUT hook (so the
# dropped packets are never on the wire and the capture agrees with the kernel):
# the first FIN is dropped (one-shot), the second passes, everything after it on
# this connection is dropped -- in CLOSING every segment, FIN retransmission or ACK,
# acknowledges the peer's FIN and would move the peer on to TIME_WAIT.
def closing_rules(port_match):
    return ("add rule inet tcpstate out %s tcp flags & fin == fin quota until 60 bytes counter drop\n"
            "add rule inet tcpstate out %s tcp flags & fin == fin quota until 60 bytes counter accept\n"
            "add rule inet tcpstate out %s counter drop\n") % ((port_match,) * 3)


def wait_closing(port, timeout):
    """Wait for CLOSING; fail at once if the FINs did not cross (TIME-WAIT /
    FIN-WAIT-2 here: the peer's FIN came after ours was acknowledged)."""
    end = time.monotonic() + timeout
    st = []
    while time.monotonic() < end:
        st = ss_state(port)
        if st == ["CLOSING"]:
            log("ss: CLOSING on port %d" % port)
            return
        if st and st[0] in ("TIME-WAIT", "FIN-WAIT-2"):
            break
        time.sleep(0.01)
    raise RuntimeError("FINs did not cross: state %s on port %d" % (st, port))


def closing_snapshot_server():
    ls = listener(S4, 8096)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    wait_flag("client.rules", 5)
    nft(closing_rules("tcp sport 8096"))
    # Hand the connection to the client process (SCM_RIGHTS over a unix socket in
    # RUNDIR) and drop our descriptor: the client closes both ends back to back, so
    # both FIN timers are armed in the same jiffy and their first retransmissions
    # (the first FINs are dropped) cross in one timer run, every time.
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.settimeout(5)
    u.connect(os.path.join(RUN, "fd.sock"))
    socket.send_fds(u, [b"x"], [c.fileno()])
    u.close()
    KEEP.remove(c)
    c.close()
    wait_flag("closed", 5)
    wait_closing(8096, 3)
    flag("server.closing")
    wait_flag("unblock", 10)
    # From now on only our own FINs are dropped. The client's next FIN retransmission
    # (ACKing our FIN) moves us CLOSING -> TIME_WAIT without an ACK (it is a duplicate
    # FIN); the one after that is ACKed from TIME_WAIT and the client goes to TIME_WAIT.
    # Whichever RTO timer fires first, the wire is the same.
    nft("flush chain inet tcpstate out\n"
        "add rule inet tcpstate out tcp sport 8096 tcp flags & fin == fin counter drop\n")
    wait_ss("TIME-WAIT", 8096, 1, 10)
    flag("server.time-wait")


def closing_snapshot_client():
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.bind(os.path.join(RUN, "fd.sock"))
    u.listen(1)
    u.settimeout(5)
    KEEP.append(u)
    s = connect(C4, cport(8096), S4, 8096)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    time.sleep(0.2)                      # our ACK of the response is out
    nft(closing_rules("tcp dport 8096"))
    flag("client.rules")
    a, _ = u.accept()
    a.settimeout(5)
    _, fds, _, _ = socket.recv_fds(a, 16, 1)
    a.close()
    # Both ends as adjacent descriptors 200, 201 (the originals closed, so these are
    # the last references), released by ONE close_range() system call: both FINs
    # (dropped) and both retransmission timers within microseconds, same jiffy.
    os.dup2(s.fileno(), 200)
    os.dup2(fds[0], 201)
    s.close()
    os.close(fds[0])
    os.closerange(200, 202)
    flag("closed")
    wait_closing(8096, 3)
    wait_flag("server.closing", 3)
    snapshot("closing")                  # both CLOSING, their FIN retransmissions dropped
    nft("flush chain inet tcpstate out\n")
    flag("unblock")
    wait_ss("TIME-WAIT", 8096, 1, 10)
    wait_flag("server.time-wait", 3)
    snapshot("time-wait")


# ---- 18 fin-wait-2-snapshot (8097)
# fin-wait-2-expiry with snapshots: client namespace tcp_fin_timeout=3.
def fin_wait_2_snapshot_server():
    ls = listener(S4, 8097)
    flag("server.up")
    c = accept(ls)
    recv_exact(c, len(REQ))
    c.sendall(RESP)
    wait_ss("CLOSE-WAIT", 8097, 1, 5)
    flag("server.close-wait")
    wait_flag("expired", 15)
    c.sendall(b"late data after the peer is gone\n")
    wait_ss("CLOSE-WAIT", 8097, 0, 3)    # the client kernel's RST kills it
    snapshot("reset")


def fin_wait_2_snapshot_client():
    s = connect(C4, cport(8097), S4, 8097)
    s.sendall(REQ)
    recv_exact(s, len(RESP))
    s.close()
    wait_ss("FIN-WAIT-2", 8097, 1, 3)
    wait_flag("server.close-wait", 3)
    snapshot("fin-wait-2")               # client FIN-WAIT-2, server CLOSE-WAIT
    wait_ss("FIN-WAIT-2", 8097, 0, 10)   # expires silently ~3 s after the close
    snapshot("expired")                  # client: nothing; server still CLOSE-WAIT
    flag("expired")


# ---- 19 time-wait-snapshot (8098)
def time_wait_snapshot_server():
    ls = listener(S4, 8098)
    flag("server.up")
    for i in range(5):
        c = accept(ls)
        recv_exact(c, len(REQ))
        c.sendall(RESP)
        if i < 3:                        # conns 0-2: the client closes first
            assert recv_to_eof(c) == b""
        c.close()                        # conns 3-4: the server closes first
    wait_ss("TIME-WAIT", 8098, 2, 5)


def time_wait_snapshot_client():
    for i in range(3):
        s = connect(C4, cport(8098, i), S4, 8098)
        s.sendall(REQ)
        recv_exact(s, len(RESP))
        s.close()
    wait_ss("TIME-WAIT", 8098, 3, 5)
    snapshot("time-wait")                # client 3x TIME-WAIT, server LISTEN only
    for i in range(3, 5):
        s = connect(C4, cport(8098, i), S4, 8098)
        s.sendall(REQ)
        assert recv_to_eof(s) == RESP
        s.close()


# ---- 20 vxlan-close-wait (8099): close-wait-leak inside a VXLAN tunnel
# (record.sh's setup_vxlan_close_wait: vx0, VNI 42, UDP 4789 over the veth,
# inner addresses 198.51.100.1/.2; the capture is of the outer packets).
VX_C4, VX_S4 = "198.51.100.1", "198.51.100.2"


def vxlan_close_wait_server():
    cw_leak_server(8099, 2, VX_S4)


def vxlan_close_wait_client():
    cw_leak_client(8099, 2, VX_C4, VX_S4)


# ---- 21 nflog-close-wait (8100): close-wait-leak, captured through NFLOG
# (record.sh's setup_nflog_close_wait: nft rules in the server namespace log
# both directions of port 8100 to group 5, tcpdump reads nflog:5).
def nflog_close_wait_server():
    cw_leak_server(8100, 3, S4)


def nflog_close_wait_client():
    cw_leak_client(8100, 3, C4, S4)


# ================================================================ expectations
EXPECT = {
    "close-wait-leak": """\
# 5 connections 192.0.2.1:40000-40004 -> 192.0.2.2:8080: request, response, client close()s
# (FIN, ACKed by the server kernel); the server application never closes.
# End: server 5x CLOSE-WAIT, client 5x FIN-WAIT-2 (orphans, tcp_fin_timeout 60 s not reached).
close-wait 192.0.2.2:8080 5
fin-wait-2 192.0.2.1:40000 1
fin-wait-2 192.0.2.1:40001 1
fin-wait-2 192.0.2.1:40002 1
fin-wait-2 192.0.2.1:40003 1
fin-wait-2 192.0.2.1:40004 1
""",
    "accept-backlog": """\
# server listen()s on 8081 (backlog 8) and never accept()s; 4 clients 192.0.2.1:40100-40103
# connect (handshake completed by the kernel), send a 19-byte request and close.
# The server side never sends a byte (only ACKs). End: server 4x CLOSE-WAIT (in the
# accept queue, Recv-Q 20 = request + FIN), client 4x FIN-WAIT-2.
close-wait 192.0.2.2:8081 4
fin-wait-2 192.0.2.1:40100 1
fin-wait-2 192.0.2.1:40101 1
fin-wait-2 192.0.2.1:40102 1
fin-wait-2 192.0.2.1:40103 1
""",
    "client-close": """\
# 3 connections 192.0.2.1:40200-40202 -> 192.0.2.2:8082: request, response, client closes
# first (FIN), server reads EOF and closes (FIN), client ACKs. End: client 3x TIME-WAIT.
time-wait 192.0.2.1:40200 1
time-wait 192.0.2.1:40201 1
time-wait 192.0.2.1:40202 1
""",
    "server-close": """\
# 20 short HTTP/1.0-style connections 192.0.2.1:40300-40319 -> 192.0.2.2:8083: request,
# response, the server closes first, the client closes on EOF. End: server 20x TIME-WAIT.
time-wait 192.0.2.2:8083 20
""",
    "simultaneous-close": """\
# 1 connection 192.0.2.1:40400 -> 192.0.2.2:8084: request/response, then both sides close()
# at the same instant. nft in each namespace drops the first FIN its own side sends (output
# hook, one-shot quota), so neither first FIN is on the wire; both FINs are retransmitted by
# the RTO timer in the same timer tick and cross on the wire (neither FIN's ACK covers the
# other's FIN; both carry PSH, as Linux retransmissions do): both FIN_WAIT_1 -> CLOSING ->
# TIME_WAIT, then each side ACKs the other's FIN. record.sh checks the crossing.
# End: both TIME-WAIT.
simultaneous-close 192.0.2.1:40400 1
time-wait 192.0.2.1:40400 1
time-wait 192.0.2.2:8084 1
""",
    "rst-abort": """\
# 2 connections to 192.0.2.2:8085. 1: 192.0.2.1:40500 request/response, then the client
# closes with SO_LINGER {1,0} -> RST from the client. 2: 192.0.2.1:40501 request/response,
# then the server closes with SO_LINGER {1,0} -> RST from the server. No FIN anywhere.
# End: no socket left but the server's LISTEN.
reset 192.0.2.1:40500 1
reset 192.0.2.2:8085 1
""",
    "refused": """\
# nothing listens on 192.0.2.2:8086; 2 connect()s from 192.0.2.1:40600 and :40601, each
# SYN answered by RST,ACK (ECONNREFUSED). End: no sockets.
refused 192.0.2.2:8086 2
""",
    "syn-timeout": """\
# nft in the server namespace drops incoming SYNs to 8087 (after the capture point, so the
# SYNs are in the capture). Client namespace tcp_syn_retries=2. Conn 192.0.2.1:40700 has
# TCP_SYNCNT=1: SYN at 0 s and ~1 s, connect() failed with ETIMEDOUT at ~3 s. Conn
# 192.0.2.1:40701: SYN at 0, ~1, ~3 s, still pending when the capture stops (~4.6 s).
# End: client 1x SYN-SENT (40701), server LISTEN only.
syn-timeout 192.0.2.1:40700 1
syn-timeout 192.0.2.1:40701 1
""",
    "syn-recv": """\
# 3 hand-made SYNs (raw socket) from 192.0.2.1:40800-40802 to 192.0.2.2:8088; the server
# answers SYN-ACK and retransmits it at ~1 s and ~3 s (tcp_synack_retries=2); the client
# kernel's RSTs to those SYN-ACKs are dropped by nft (client output), so they never reach
# the wire. End: server 3x SYN-RECV.
# The SYNs come from a raw socket: the client kernel holds no socket for them
# ("nosocket": tcpstate rightly calls them SYN_SENT, ss cannot list them).
syn-recv 192.0.2.2:8088 3
nosocket 192.0.2.1:40800
nosocket 192.0.2.1:40801
nosocket 192.0.2.1:40802
""",
    "fin-wait-2-expiry": """\
# 1 connection 192.0.2.1:40900 -> 192.0.2.2:8089 (client namespace tcp_fin_timeout=3):
# request/response, client closes (FIN, ACKed), server stays in CLOSE_WAIT; the client's
# orphaned FIN_WAIT_2 expires silently after 3 s (no packet); then the server writes
# 33 bytes and the client kernel answers RST. End: no socket on either side (server LISTEN).
close-wait 192.0.2.2:8089 1
fin-wait-2 192.0.2.1:40900 1
reset 192.0.2.1:40900 1
""",
    "port-reuse": """\
# Incarnation 1: 192.0.2.1:41000 -> 192.0.2.2:8090 request/response, client closes (FIN
# ACKed), server leaks it in CLOSE_WAIT. The client's FIN_WAIT_2 expires silently
# (tcp_fin_timeout=2). The client connects again from the same port (SO_REUSEADDR):
# SYN -> the server's CLOSE_WAIT socket answers with a challenge ACK (old seq/ack) ->
# the client kernel (SYN_SENT, unacceptable ACK) sends RST (seq = that ACK's ack, no ACK
# flag) which kills the server's CLOSE_WAIT socket -> the client retransmits the same SYN
# after only ~13 ms (Linux re-arms the SYN timer to TCP_TIMEOUT_MIN on an unacceptable ACK
# to its first SYN, not the 1 s RTO) -> normal handshake, request/response, and
# incarnation 2 is kept open by both (no FIN).
# End: both ESTAB (incarnation 2).
port-reuse 192.0.2.2:8090 1
close-wait 192.0.2.2:8090 1
fin-wait-2 192.0.2.1:41000 1
reset 192.0.2.1:41000 1
""",
    "half-close": """\
# Legitimate half-close: 192.0.2.1:41100 -> 192.0.2.2:8091, client sends the request then
# shutdown(SHUT_WR) (FIN); the server reads EOF and goes on sending 6 x 1000 bytes over
# ~1.5 s, then closes; the client reads to EOF. No leak. End: client TIME-WAIT, server gone.
time-wait 192.0.2.1:41100 1
""",
    "lost-final-ack": """\
# 192.0.2.1:41200 -> 192.0.2.2:8092: request/response, client closes (FIN, ACKed), then
# the server closes (FIN). The client's final ACK is dropped once by nft in the client
# namespace (output hook, so it is not on the wire); the server (LAST_ACK) retransmits its
# FIN after the RTO, the client (TIME_WAIT) ACKs it again. End: client TIME-WAIT.
time-wait 192.0.2.1:41200 1
fin-retransmit 192.0.2.2:8092 1
""",
    "keepalive-idle": """\
# 192.0.2.1:41300 -> 192.0.2.2:8093 request/response, then idle ~4.2 s with SO_KEEPALIVE,
# TCP_KEEPIDLE=1, TCP_KEEPINTVL=1 on the client: keep-alive probes (seq = snd_nxt-1, no
# payload) about once a second (4 probes), each ACKed by the server; then keep-alive is
# switched off (setsockopt SO_KEEPALIVE 0) so that the end of the capture is quiet.
# Nothing wrong: no finding. End: both ESTAB.
""",
    "ipv6-close-wait": """\
# close-wait-leak over IPv6: 2 connections [2001:db8::1]:41400-41401 -> [2001:db8::2]:8094,
# request, response, client closes (FIN ACKed), the server never closes.
# End: server 2x CLOSE-WAIT, client 2x FIN-WAIT-2.
close-wait [2001:db8::2]:8094 2
fin-wait-2 [2001:db8::1]:41400 1
fin-wait-2 [2001:db8::1]:41401 1
""",
    "any-sll2": """\
# Captured with tcpdump -i any in the server namespace (LINUX_SLL2). The server address
# 192.0.2.2 is on a bridge br0 whose port is the veth s0 (Docker-host style), so EVERY
# packet between the namespaces is captured twice (on s0 and on br0, same bytes, a few us
# apart). Conn 192.0.2.1:41500 -> 192.0.2.2:8095: normal close, client first -> client
# TIME-WAIT. Conn 192.0.2.1:41501: client closes, the server never does -> CLOSE-WAIT.
# Conn 127.0.0.1:41502 -> 127.0.0.1:8095 over loopback inside the server namespace, client
# closes first -> TIME-WAIT; loopback packets are captured ONCE (libpcap drops the
# outgoing copy on lo).
close-wait 192.0.2.2:8095 1
fin-wait-2 192.0.2.1:41501 1
time-wait 192.0.2.1:41500 1
time-wait 127.0.0.1:41502 1
""",    "closing-snapshot": """\
# 1 connection 192.0.2.1:41600 -> 192.0.2.2:8096: request/response, then both sides close()
# at the same instant. nft at each side's OUTPUT hook (dropped packets are never on the
# wire) drops the first FIN, lets the second through and drops everything after it. The
# two RTO retransmissions of the FINs cross on the wire (neither ACK field covers the
# other's FIN; checked by record.sh): both FIN_WAIT_1 -> CLOSING. Their ACKs and further
# FIN retransmissions are dropped (not on the wire), so both stay in CLOSING: snapshot
# "closing" (.snapshots file), ~0.3 s after the crossing FINs, nothing on the wire near it.
# Then the client's rules are removed, and the server only drops its own FINs (none of
# them is on the wire again). The client's next FIN retransmission (~1.5 s after the
# crossing; its ACK field now covers the server's FIN) takes the server CLOSING ->
# TIME_WAIT *without any answer* (Linux: in CLOSING an ACK of our FIN -> TIME_WAIT, the
# duplicate FIN is consumed silently); the client's FIN retransmission after that (~1.7 s
# later) is ACKed by the server from TIME_WAIT, and the client goes CLOSING -> TIME_WAIT.
# Snapshot "time-wait". End: both TIME-WAIT. On the wire: the client's FIN 3 times (same
# seq), the server's FIN once, then one pure ACK from the server.
simultaneous-close 192.0.2.1:41600 1
time-wait 192.0.2.1:41600 1
time-wait 192.0.2.2:8096 1
fin-retransmit 192.0.2.1:41600 1
""",
    "fin-wait-2-snapshot": """\
# fin-wait-2-expiry with snapshots. 1 connection 192.0.2.1:41700 -> 192.0.2.2:8097 (client
# namespace tcp_fin_timeout=3): request/response, client closes (FIN, ACKed), server stays
# in CLOSE_WAIT: snapshot "fin-wait-2" (client FIN-WAIT-2, server CLOSE-WAIT). The client's
# orphaned FIN_WAIT_2 expires silently ~3 s after its FIN (no packet): snapshot "expired"
# (client nothing, server CLOSE-WAIT). Then the server writes 33 bytes and the client
# kernel answers RST: snapshot "reset" (server LISTEN only).
# End: no socket on either side (server LISTEN).
close-wait 192.0.2.2:8097 1
fin-wait-2 192.0.2.1:41700 1
reset 192.0.2.1:41700 1
""",
    "time-wait-snapshot": """\
# 5 connections to 192.0.2.2:8098. 192.0.2.1:41800-41802: request, response, the client
# closes first, the server closes on EOF -> client TIME_WAIT; snapshot "time-wait" (client
# 3x TIME-WAIT, server LISTEN only; connections 41803-41804 do not exist yet). Then
# 192.0.2.1:41803-41804: request, response, the server closes first, the client on EOF
# -> server TIME_WAIT. End: client 3x TIME-WAIT, server 2x TIME-WAIT.
time-wait 192.0.2.1:41800 1
time-wait 192.0.2.1:41801 1
time-wait 192.0.2.1:41802 1
time-wait 192.0.2.2:8098 2
""",
    "vxlan-close-wait": """\
# close-wait-leak inside VXLAN (VNI 42, UDP 4789 between the veth addresses 192.0.2.1 and
# 192.0.2.2): 2 connections 198.51.100.1:41900-41901 -> 198.51.100.2:8099, request,
# response, the client closes (FIN, ACKed); the server application never closes. The
# capture is of the outer packets on the veth. End: server 2x CLOSE-WAIT, client 2x
# FIN-WAIT-2, on the inner addresses.
close-wait 198.51.100.2:8099 2
fin-wait-2 198.51.100.1:41900 1
fin-wait-2 198.51.100.1:41901 1
""",
    "nflog-close-wait": """\
# close-wait-leak as a Linux firewall logs it: nft rules in the server namespace send
# every packet of port 8100 (input and output) to NFLOG group 5, and tcpdump -i nflog:5
# writes link type NFLOG (239), IP packets with no link header. 3 connections
# 192.0.2.1:42000-42002 -> 192.0.2.2:8100, request, response, the client closes (FIN,
# ACKed); the server application never closes. End: server 3x CLOSE-WAIT, client 3x
# FIN-WAIT-2.
close-wait 192.0.2.2:8100 3
fin-wait-2 192.0.2.1:42000 1
fin-wait-2 192.0.2.1:42001 1
fin-wait-2 192.0.2.1:42002 1
""",
}

# The (ROLE, STATE) pairs of the non-LISTEN lines each snapshot must show, in order.
SNAPSHOTS = {
    "closing-snapshot": [
        ("closing", [("client", "CLOSING"), ("server", "CLOSING")]),
        ("time-wait", [("client", "TIME-WAIT"), ("server", "TIME-WAIT")]),
    ],
    "fin-wait-2-snapshot": [
        ("fin-wait-2", [("client", "FIN-WAIT-2"), ("server", "CLOSE-WAIT")]),
        ("expired", [("server", "CLOSE-WAIT")]),
        ("reset", []),
    ],
    "time-wait-snapshot": [
        ("time-wait", [("client", "TIME-WAIT")] * 3),
    ],
}
SNAP_QUIET = 0.2    # seconds without any captured frame on either side of a snapshot window

SCENARIOS = list(EXPECT)


# ================================================================ pcap check
def read_pcap_tcp(path):
    """Yield (src, sport, dst, dport, seq, ack, flags, payload length) for IPv4/TCP
    in an Ethernet pcap (enough for the post-checks, which run on IPv4 scenarios)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(e + "I", data[20:24])[0]
    assert linktype == 1, linktype
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 14 + 20 or pkt[12:14] != b"\x08\x00":
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            continue
        t = ip[ihl:]
        sport, dport, seq, ack, _, flags = struct.unpack("!HHIIBB", t[:14])
        plen = struct.unpack("!H", ip[2:4])[0] - ihl - (t[12] >> 4) * 4
        yield (socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport,
               seq, ack, flags, plen)


def count(pkts, src=None, flags=None, mask=0x3F, length=None):
    """Packets from src ("ip:port" prefix ok) whose flags & mask == flags."""
    n = 0
    for p in pkts:
        if src and not ("%s:%d" % (p[0], p[1])).startswith(src):
            continue
        if flags is not None and p[6] & mask != flags:
            continue
        if length is not None and p[7] != length:
            continue
        n += 1
    return n


FIN, SYN, RST, PSH, ACK = 1, 2, 4, 8, 16
C, S = C4 + ":", S4 + ":"


def check_simultaneous_close(pkts):
    fins = {}
    for p in pkts:
        if p[6] & FIN:
            fins.setdefault((p[0], p[1]), []).append((p[4], p[5]))
    if len(fins) != 2:
        return "want FINs from 2 sides, got %s" % fins
    (a, fa), (b, fb) = fins.items()
    # the last FIN of each side is the one the peer accepted; neither may ACK the other
    (sa, aa), (sb, ab) = fa[-1], fb[-1]
    if aa == (sb + 1) & 0xFFFFFFFF or ab == (sa + 1) & 0xFFFFFFFF:
        return "FINs did not cross: %s %s" % (fa, fb)
    return None


def check_lost_final_ack(pkts):
    n = count(pkts, S, FIN, FIN)
    return None if n == 2 else "want the server's FIN twice, got %d" % n


def check_port_reuse(pkts):
    syn = count(pkts, C, SYN, SYN | ACK)
    rst = count(pkts, C, RST, RST)
    synack = count(pkts, S, SYN | ACK, SYN | ACK)
    ok = (syn, rst, synack) == (3, 1, 2)
    return None if ok else "want 3 SYN, 1 RST from the client, 2 SYN-ACK: %s" % [syn, rst, synack]


def check_fin_wait_2_expiry(pkts):
    ok = count(pkts, C, RST, RST) == 1 and count(pkts, S, FIN, FIN) == 0
    return None if ok else "want exactly one RST from the client and no server FIN"


def check_syn_timeout(pkts):
    a = count(pkts, "%s:%d" % (C4, cport(8087, 0)), SYN, SYN | ACK)
    b = count(pkts, "%s:%d" % (C4, cport(8087, 1)), SYN, SYN | ACK)
    return None if (a, b) == (2, 3) else "want 2 and 3 SYNs, got %d and %d" % (a, b)


def check_syn_recv(pkts):
    n = count(pkts, S, SYN | ACK, SYN | ACK)
    r = count(pkts, None, RST, RST)
    return None if (n, r) == (9, 0) else "want 9 SYN-ACKs and no RST, got %d, %d" % (n, r)


def check_keepalive_idle(pkts):
    isn = [p[4] for p in pkts if p[0] == C4 and p[6] & 0x3F == SYN][0]
    probe_seq = (isn + len(REQ)) & 0xFFFFFFFF          # snd_nxt - 1
    probes = sum(1 for p in pkts if p[0] == C4 and p[6] & 0x3F == ACK and p[7] == 0
                 and p[4] == probe_seq)
    return None if probes >= 3 else "want >= 3 keep-alive probes, got %d" % probes


def check_closing_snapshot(pkts):
    cf = [p for p in pkts if p[0] == C4 and p[6] & FIN]
    sf = [p for p in pkts if p[0] == S4 and p[6] & FIN]
    if len(cf) != 3 or len(sf) != 1 or len({p[4] for p in cf}) != 1:
        return "want 3 client FINs (same seq) and 1 server FIN, got %d, %d" % (len(cf), len(sf))
    c1, s1 = cf[0], sf[0]
    if c1[5] == (s1[4] + 1) & 0xFFFFFFFF or s1[5] == (c1[4] + 1) & 0xFFFFFFFF:
        return "the first FINs did not cross"
    if any(p[5] != (s1[4] + 1) & 0xFFFFFFFF for p in cf[1:]):
        return "the client's FIN retransmissions do not ACK the server's FIN"
    last = pkts[-1]
    if not (last[0] == S4 and last[6] & 0x3F == ACK and last[5] == (c1[4] + 1) & 0xFFFFFFFF):
        return "want the server's ACK of the client's FIN last"
    return None


def check_fin_wait_2_snapshot(pkts):
    return check_fin_wait_2_expiry(pkts)


def rfc3339_ns(s):
    """2026-11-21T14:55:15.123456789Z -> ns since the epoch (UTC)."""
    import calendar
    assert s.endswith("Z"), s
    sec, _, frac = s[:-1].partition(".")
    return (calendar.timegm(time.strptime(sec, "%Y-%m-%dT%H:%M:%S")) * 10**9
            + int((frac + "000000000")[:9]))


def read_snapshots(path):
    """[(label, at, before, after, [(ROLE, STATE, RECV-Q, SEND-Q, LOCAL, PEER)])] of a
    NAME.snapshots file (format: testdata/kernel/README.md)."""
    snaps = []
    with open(path) as f:
        for line in f:
            fs = line.split()
            if not fs:
                continue
            if fs[0] == "#":
                assert fs[1] == "snapshot" and len(fs) == 3, line
                snaps.append([fs[2], None, None, None, []])
            elif fs[0] == "at":
                snaps[-1][1] = rfc3339_ns(fs[1])
            elif fs[0] == "window":
                snaps[-1][2], snaps[-1][3] = rfc3339_ns(fs[1]), rfc3339_ns(fs[2])
            else:
                assert len(fs) == 6 and fs[0] in ("client", "server"), line
                snaps[-1][4].append(tuple(fs))
    return [tuple(s) for s in snaps]


def read_pcap_times(path):
    """Timestamps (ns since the epoch) of every frame in a pcap."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = struct.unpack(e + "I", data[:4])[0] == 0xA1B23C4D
    out, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(e + "IIII", data[off:off + 16])
        out.append(sec * 10**9 + (frac if nano else frac * 1000))
        off += 16 + incl
    return out


def check_snapshots(name, pcap, path):
    want = SNAPSHOTS.get(name)
    if want is None:
        return "scenario %s takes no snapshots, but got %s" % (name, path) if path else None
    if path is None:
        return "no snapshots file"
    snaps = read_snapshots(path)
    if [s[0] for s in snaps] != [w[0] for w in want]:
        return "want snapshots %s, got %s" % ([w[0] for w in want], [s[0] for s in snaps])
    times = read_pcap_times(pcap)
    q = int(SNAP_QUIET * 1e9)
    for (label, at, before, after, rows), (_, states) in zip(snaps, want):
        got = sorted((r[0], r[1]) for r in rows if r[1] != "LISTEN")
        if got != sorted(states):
            return "snapshot %s: want %s, got %s" % (label, sorted(states), got)
        if not before <= at <= after:
            return "snapshot %s: at not within its window" % label
        near = [t for t in times if before - q <= t <= after + q]
        if near:
            return "snapshot %s: %d frame(s) within %.1f s of its window" % (label, len(near), SNAP_QUIET)
        gap_b = before - max([t for t in times if t < before], default=0)
        gap_a = min([t for t in times if t > after], default=after + 10**10) - after
        log("snapshot %s ok: window %.1f ms, quiet %.0f ms before, %.0f ms after" % (
            label, (after - before) / 1e6, gap_b / 1e6, gap_a / 1e6))
    return None


def check(name, path, snapshots=None):
    fn = globals().get("check_" + name.replace("-", "_"))
    err = fn(list(read_pcap_tcp(path))) if fn else None
    err = err or check_snapshots(name, path, snapshots)
    if fn is None and name not in SNAPSHOTS:
        return 0
    print("check %s: %s" % (name, err or "ok"), file=sys.stderr)
    return 1 if err else 0


# ================================================================ main
def main():
    global RUN, ROLE
    a = sys.argv[1:]
    if a[:1] == ["--list"]:
        print("\n".join(SCENARIOS))
        return 0
    if a[:1] == ["--expect"] and len(a) == 2:
        sys.stdout.write(EXPECT[a[1]])
        return 0
    if a[:1] == ["--check"] and len(a) in (3, 4):
        ROLE = "check"
        return check(*a[1:])
    if len(a) != 3 or a[0] not in EXPECT or a[1] not in ("server", "client"):
        print(__doc__, file=sys.stderr)
        return 2
    name, ROLE, RUN = a
    signal.alarm(90)                     # hard limit for any scenario process
    fn = globals()[name.replace("-", "_") + "_" + ROLE]
    try:
        fn()
    except BaseException:
        traceback.print_exc()
        flag(ROLE + ".failed")
        return 1
    if has_flag(ROLE + ".failed"):       # a helper thread failed
        return 1
    log("ready")
    flag(ROLE + ".ready")
    wait_flag("release", 80)
    log("released")
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
