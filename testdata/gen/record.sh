#!/usr/bin/env bash
# record.sh — record the kernel ground-truth captures for tcpstate.
#
#   testdata/gen/record.sh              all scenarios
#   testdata/gen/record.sh NAME...      a subset (names: scenarios.py --list)
#
# For every scenario: a fresh pair of network namespaces joined by a veth pair
# (client c0 192.0.2.1 / 2001:db8::1, server s0 192.0.2.2 / 2001:db8::2),
# tcpdump in the server namespace, the socket behaviour from scenarios.py in
# both namespaces, then `ss -tanH` in both namespaces once the capture has
# stopped. Writes testdata/kernel/NAME.{pcap,ss,expect}, and NAME.snapshots for
# scenarios whose roles ask for mid-capture `ss` snapshots (snap.LABEL.req in
# RUNDIR, see scenarios.py). Needs root, tcpdump, nft (nftables), ip/ss
# (iproute2), python3. See README.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$(cd "$HERE/.." && pwd)/kernel
PY="$HERE/scenarios.py"
NC="tcpstate-c-$$"       # client namespace
NS="tcpstate-s-$$"       # server namespace
WORK=$(mktemp -d /tmp/tcpstate-record.XXXXXX)
PIDS=()                   # background processes of the current scenario
NETNS=()                  # namespaces that exist right now

log() { printf '[record %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

kill_pids() {
	local p i
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
}

del_ns() {
	local n
	for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	NETNS=()
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	kill_pids
	del_ns
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

nsc() { ip netns exec "$NC" "$@"; }
nss() { ip netns exec "$NS" "$@"; }

# ---------------------------------------------------------------- namespaces
make_ns() { # make_ns v4|v6
	local n
	for n in "$NC" "$NS"; do
		ip netns add "$n"
		NETNS+=("$n")
		if [[ $1 == v4 ]]; then # no IPv6 at all: no RS/MLD/ND noise in the captures
			ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1
		else
			ip netns exec "$n" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
				net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.accept_dad=0
		fi
		ip -n "$n" link set lo up
	done
	ip -n "$NC" link add c0 type veth peer name s0 netns "$NS"
	if [[ $1 == v4 ]]; then
		ip -n "$NC" addr add 192.0.2.1/24 dev c0
		ip -n "$NS" addr add 192.0.2.2/24 dev s0
	else
		ip -n "$NC" addr add 2001:db8::1/64 dev c0 nodad
		ip -n "$NS" addr add 2001:db8::2/64 dev s0 nodad
	fi
	ip -n "$NC" link set c0 up
	ip -n "$NS" link set s0 up
	# one nft table per namespace, with empty input/output chains for the scenarios
	for n in "$NC" "$NS"; do
		ip netns exec "$n" nft -f - <<-'EOF'
			table inet tcpstate {
				chain in  { type filter hook input  priority 0; policy accept; }
				chain out { type filter hook output priority 0; policy accept; }
			}
		EOF
	done
	if [[ $1 == v6 ]]; then sleep 1; fi # let link-up MLD reports pass before the capture
}

# ---------------------------------------------------------------- per-scenario setup
# Sysctls are per network namespace; nft rules live in table inet tcpstate.
setup_simultaneous_close() {
	# one-shot: drop the first FIN each side sends (52-byte packet; the second one
	# exhausts the 60-byte quota and passes)
	nsc nft add rule inet tcpstate out tcp dport 8084 'tcp flags & fin == fin' quota until 60 bytes counter drop
	nss nft add rule inet tcpstate out tcp sport 8084 'tcp flags & fin == fin' quota until 60 bytes counter drop
}
setup_syn_timeout() {
	nsc sysctl -qw net.ipv4.tcp_syn_retries=2
	# Linux >= 6.5 retransmits the first tcp_syn_linear_timeouts (default 4) SYNs at
	# a linear 1 s; switch that off to get the classic exponential back-off 1 s, 2 s, 4 s
	if nsc sysctl -q net.ipv4.tcp_syn_linear_timeouts >/dev/null 2>&1; then
		nsc sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
	fi
	nss nft add rule inet tcpstate in tcp dport 8087 'tcp flags & (syn | ack) == syn' counter drop
}
setup_syn_recv() {
	nss sysctl -qw net.ipv4.tcp_synack_retries=2
	nsc nft add rule inet tcpstate out tcp sport 40800-40802 tcp dport 8088 'tcp flags & rst == rst' counter drop
}
setup_any_sll2() {
	# The server address lives on a bridge br0 with s0 as its port (as on a Docker
	# host): with -i any every packet of the veth traffic is captured twice, once on
	# s0 and once on br0. Loopback packets are captured once (libpcap drops the
	# outgoing copy on lo).
	nss ip link add br0 type bridge stp_state 0
	nss ip addr del 192.0.2.2/24 dev s0
	nss ip link set s0 master br0
	nss ip addr add 192.0.2.2/24 dev br0
	nss ip link set br0 up
}
setup_vxlan_close_wait() {
	# A VXLAN tunnel over the veth pair (VNI 42, UDP 4789), the connection on
	# its inner addresses: the capture on s0 holds only the outer packets.
	nsc ip link add vx0 type vxlan id 42 local 192.0.2.1 remote 192.0.2.2 dstport 4789 dev c0
	nss ip link add vx0 type vxlan id 42 local 192.0.2.2 remote 192.0.2.1 dstport 4789 dev s0
	nsc ip addr add 198.51.100.1/24 dev vx0
	nss ip addr add 198.51.100.2/24 dev vx0
	nsc ip link set vx0 up
	nss ip link set vx0 up
}
setup_nflog_close_wait() {
	# A firewall's log, not a tap: both directions of port 8100, and the
	# end-of-capture marker, go to NFLOG group 5, which tcpdump reads.
	nss nft add rule inet tcpstate in tcp dport 8100 log group 5 queue-threshold 1
	nss nft add rule inet tcpstate out tcp sport 8100 log group 5 queue-threshold 1
	nss nft add rule inet tcpstate in udp dport 9 log group 5 queue-threshold 1
}
setup_fin_wait_2_expiry() { nsc sysctl -qw net.ipv4.tcp_fin_timeout=3; }
setup_port_reuse() { nsc sysctl -qw net.ipv4.tcp_fin_timeout=2; }
setup_fin_wait_2_snapshot() { nsc sysctl -qw net.ipv4.tcp_fin_timeout=3; }


# ---------------------------------------------------------------- helpers
wait_file() { # wait_file FILE SECONDS
	local i n=$(($2 * 20))
	for ((i = 0; i < n; i++)); do [[ -e $1 ]] && return 0; sleep 0.05; done
	return 1
}

dump_logs() {
	local f
	for f in "$WORK"/*.log; do [[ -e $f ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done
}

ss_both() {
	nsc ss -tanH | awk '{$1 = $1; print "client " $0}' | sort
	nss ss -tanH | awk '{$1 = $1; print "server " $0}' | sort
}

# ---------------------------------------------------------------- snapshots
rfc3339() { # rfc3339 NS-SINCE-EPOCH -> 2026-11-21T14:55:15.123456789Z (UTC)
	printf '%s.%09dZ' "$(date -u -d "@$(($1 / 1000000000))" +%Y-%m-%dT%H:%M:%S)" $(($1 % 1000000000))
}

# take_snapshot RUNDIR LABEL: `ss -tanH` in both namespaces right now, bracketed
# by two CLOCK_REALTIME readings (the clock tcpdump stamps packets with); one
# block appended to out.snapshots, then snap.LABEL.done tells the role.
take_snapshot() {
	local run=$1 label=$2 before after lines
	before=$(date +%s%N)
	lines=$(ss_both)
	after=$(date +%s%N)
	{
		printf '# snapshot %s\n' "$label"
		printf 'at %s\n' "$(rfc3339 $((before + (after - before) / 2)))"
		printf 'window %s %s\n' "$(rfc3339 "$before")" "$(rfc3339 "$after")"
		if [[ -n $lines ]]; then printf '%s\n' "$lines"; fi
		printf '\n'
	} >>"$WORK/out.snapshots"
	touch "$run/snap.$label.done"
	log "snapshot $label: window $(((after - before) / 1000000)) ms"
}

# serve_snapshots RUNDIR: take every requested snapshot not taken yet. The
# roles request one at a time and wait for it, so the order is theirs.
serve_snapshots() {
	local run=$1 req label
	for req in "$run"/snap.*.req; do
		[[ -e $req ]] || continue
		label=${req##*/snap.}
		label=${label%.req}
		[[ $label =~ ^[A-Za-z0-9_-]+$ ]] || die "bad snapshot label '$label'"
		[[ -e $run/snap.$label.done ]] && continue
		take_snapshot "$run" "$label"
	done
}

# ---------------------------------------------------------------- one scenario
# Called as a plain command so that set -e applies inside; a retry-able failure
# sets RETRY=1 and returns 0.
RETRY=0
run_one() { # run_one NAME
	local name=$1 fn=${1//-/_} run="$WORK/run" iface=s0 fam=v4 td i ok
	RETRY=0
	rm -rf "$run" "$WORK"/*.log "$WORK"/out.*
	mkdir -p "$run"
	[[ $name == ipv6-* ]] && fam=v6
	[[ $name == any-sll2 ]] && iface=any
	[[ $name == nflog-* ]] && iface=nflog:5
	make_ns "$fam"
	if declare -F "setup_$fn" >/dev/null; then "setup_$fn"; fi

	# capture, started before any traffic
	# (background commands run ip directly, not through nss, so that $! is the
	# PID of the command itself: ip netns exec exec()s it)
	ip netns exec "$NS" tcpdump -i "$iface" -s 0 -B 65536 -n -Z root --immediate-mode -U -w "$WORK/out.pcap" 2>"$WORK/tcpdump.log" &
	td=$!
	PIDS+=("$td")
	for ((i = 0; i < 100; i++)); do
		[[ -e $WORK/out.pcap ]] && grep -q 'listening on' "$WORK/tcpdump.log" && break
		sleep 0.05
	done
	[[ -e $WORK/out.pcap ]] || { dump_logs; die "$name: tcpdump did not start"; }
	sleep 0.3

	ip netns exec "$NS" timeout 100 python3 "$PY" "$name" server "$run" >"$WORK/server.log" 2>&1 &
	PIDS+=("$!")
	wait_file "$run/server.up" 5 || { dump_logs; die "$name: server did not come up"; }
	ip netns exec "$NC" timeout 100 python3 "$PY" "$name" client "$run" >"$WORK/client.log" 2>&1 &
	PIDS+=("$!")

	ok=0
	for ((i = 0; i < 600; i++)); do # <= 30 s (plus the time the snapshots take)
		if [[ -e $run/server.failed || -e $run/client.failed ]]; then break; fi
		serve_snapshots "$run"
		if [[ -e $run/server.ready && -e $run/client.ready ]]; then ok=1; break; fi
		sleep 0.05
	done
	if ((!ok)); then
		dump_logs
		kill_pids
		del_ns
		log "$name: scenario failed"
		RETRY=1
		return 0
	fi

	sleep 0.6 # quiescence: nothing in flight when the capture stops
	# End-of-capture marker: one UDP datagram (to the discard port) puts the
	# moment ss runs into the file, so timers that ran out in the silence
	# before it (a connect() that gave up) are visible to the analyser.
	ip netns exec "$NC" timeout 5 python3 -c '
import socket
for fam, dst in ((socket.AF_INET, "192.0.2.2"), (socket.AF_INET6, "2001:db8::2")):
    try:
        socket.socket(fam, socket.SOCK_DGRAM).sendto(b"tcpstate: end of capture", (dst, 9))
        break
    except OSError:
        pass
' || true
	sleep 0.2
	kill -INT "$td"
	for ((i = 0; i < 50; i++)); do kill -0 "$td" 2>/dev/null || break; sleep 0.1; done
	wait "$td" || true
	ss_both >"$WORK/out.ss" # processes still alive and holding their sockets
	# every packet that matched must be in the file (immediate mode uses a ring of
	# snaplen-sized frames: hence the 64 MiB -B, or bursts overflow it)
	local cap got drop
	cap=$(awk '/packets captured/ {print $1}' "$WORK/tcpdump.log")
	got=$(awk '/packets received by filter/ {print $1}' "$WORK/tcpdump.log")
	drop=$(awk '/packets dropped by kernel/ {print $1}' "$WORK/tcpdump.log")
	# (with -i any, "received by filter" also counts the outgoing copies on lo that
	# libpcap discards in user space, so only the kernel drop count is checked)
	if [[ -z $cap || $drop != 0 || ($iface != any && $cap != "$got") ]]; then
		cat "$WORK/tcpdump.log" >&2
		log "$name: tcpdump lost packets"
		RETRY=1
	fi
	touch "$run/release"
	kill_pids
	del_ns

	if ((RETRY)); then return 0; fi
	# wire checks (scenarios.py check_NAME): simultaneous-close retries until the
	# FINs really crossed; the others guard against surprises. With snapshots, the
	# check also wants the snapshot states the scenario is about and no packet
	# within 200 ms of any snapshot window.
	local snaps=()
	[[ -e $WORK/out.snapshots ]] && snaps=("$WORK/out.snapshots")
	if [[ $iface == s0 && $fam == v4 ]] && ! python3 "$PY" --check "$name" "$WORK/out.pcap" "${snaps[@]}"; then
		cp "$WORK/out.pcap" "${TMPDIR:-/tmp}/tcpstate-failed-$name.pcap"
		log "$name: post-check failed (capture kept in ${TMPDIR:-/tmp}/tcpstate-failed-$name.pcap)"
		RETRY=1
		return 0
	fi
	python3 "$PY" --expect "$name" >"$WORK/out.expect"
	mv "$WORK/out.pcap" "$OUT/$name.pcap"
	mv "$WORK/out.ss" "$OUT/$name.ss"
	mv "$WORK/out.expect" "$OUT/$name.expect"
	if ((${#snaps[@]})); then mv "$WORK/out.snapshots" "$OUT/$name.snapshots"; fi
	chmod 644 "$OUT/$name".*
	log "$name: ok ($(grep -c . "$OUT/$name.ss") ss lines$( ((${#snaps[@]})) && printf ', %d snapshots' "$(grep -c '^# snapshot' "$OUT/$name.snapshots")"))"
}

# ---------------------------------------------------------------- main
[[ $(id -u) == 0 ]] || die "must run as root (network namespaces, tcpdump, nft)"
for t in ip ss nft tcpdump python3 timeout; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install tcpdump nftables iproute2 python3)"
done
mkdir -p "$OUT"
mapfile -t ALL < <(python3 "$PY" --list)
if (($# == 0)); then set -- "${ALL[@]}"; fi
for name in "$@"; do
	printf '%s\n' "${ALL[@]}" | grep -qx -- "$name" || die "unknown scenario $name (known: ${ALL[*]})"
done

START=$SECONDS
for name in "$@"; do
	log "$name"
	for attempt in 1 2 3 4 5; do
		run_one "$name"
		((RETRY)) || break
		((attempt < 5)) || die "$name: failed $attempt times"
		log "$name: retrying (attempt $((attempt + 1)))"
	done
done
log "done in $((SECONDS - START)) s"
