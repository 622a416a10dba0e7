#!/usr/bin/env bash
# compare.sh: time tcpstate against tcptrace and tshark on one synthetic
# capture (cmd/tcpstate-gen: header-only, default mix of patterns).
#
#   scripts/compare.sh                      # 1,000,000 connections
#   CONNS=200000 RUNS=5 scripts/compare.sh
#   scripts/compare.sh --conns 200000 --runs 1
#
# Settings (environment, or the flags of the same name in lower case):
#   CONNS        connections in the capture          (default 1000000)
#   SNAPLEN      bytes kept per packet               (default 96)
#   SEED         generator seed                      (default 1)
#   RUNS         runs per tool; the best one counts  (default 3)
#   CONCURRENCY, RATE, IPV6: passed to tcpstate-gen  (default: its own)
#
# Everything (binaries, capture, outputs) lives in a temporary directory
# under $TMPDIR (default /tmp), removed on exit. A tool that is not
# installed is skipped; one that fails is reported as such.
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

CONNS=${CONNS:-1000000}
SNAPLEN=${SNAPLEN:-96}
SEED=${SEED:-1}
RUNS=${RUNS:-3}
CONCURRENCY=${CONCURRENCY:-}
RATE=${RATE:-}
IPV6=${IPV6:-}
while [ $# -gt 0 ]; do
	arg=$1
	shift
	case $arg in
	-h | --help) usage; exit 0 ;;
	--*=*) name=${arg%%=*} value=${arg#*=} ;;
	--*)
		[ $# -gt 0 ] || { echo "compare.sh: $arg needs a value" >&2; exit 2; }
		name=$arg value=$1
		shift
		;;
	*) echo "compare.sh: unexpected argument $arg (see --help)" >&2; exit 2 ;;
	esac
	case $name in
	--conns) CONNS=$value ;;
	--snaplen) SNAPLEN=$value ;;
	--seed) SEED=$value ;;
	--runs) RUNS=$value ;;
	--concurrency) CONCURRENCY=$value ;;
	--rate) RATE=$value ;;
	--ipv6) IPV6=$value ;;
	*) echo "compare.sh: unknown option $name (see --help)" >&2; exit 2 ;;
	esac
done
for v in CONNS SNAPLEN RUNS; do
	case ${!v} in
	'' | *[!0-9]*) echo "compare.sh: $v must be a positive integer, not '${!v}'" >&2; exit 2 ;;
	esac
	[ "${!v}" -gt 0 ] || { echo "compare.sh: $v must be positive" >&2; exit 2; }
done

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/tcpstate-compare.XXXXXX")
trap 'rm -rf "$dir"' EXIT
capture=$dir/capture.pcap

echo "== building tcpstate and tcpstate-gen"
(cd "$repo" && go build -o "$dir/tcpstate" ./cmd/tcpstate && go build -o "$dir/tcpstate-gen" ./cmd/tcpstate-gen)

echo "== generating $CONNS connections (snaplen $SNAPLEN, seed $SEED)"
gen=(-conns "$CONNS" -snaplen "$SNAPLEN" -seed "$SEED" -o "$capture" -truth "$dir/truth.json")
[ -z "$CONCURRENCY" ] || gen+=(-concurrency "$CONCURRENCY")
[ -z "$RATE" ] || gen+=(-rate "$RATE")
[ -z "$IPV6" ] || gen+=(-ipv6 "$IPV6")
"$dir/tcpstate-gen" "${gen[@]}"
packets=$(sed -n 's/^  "packets": *\([0-9]*\).*/\1/p' "$dir/truth.json")
size=$(wc -c < "$capture")

echo "== warming the page cache"
cat "$capture" > /dev/null

# timed CMD...: runs CMD (stdout discarded, stderr kept in the temp dir)
# and prints "seconds max-RSS-kB", or fails with the command.
timed() {
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %M' -o "$dir/time.txt" "$@" > /dev/null 2> "$dir/stderr.txt" || return 1
	else
		local TIMEFORMAT='%R -'
		{ time "$@" > /dev/null 2> "$dir/stderr.txt"; } 2> "$dir/time.txt" || return 1
	fi
	tail -n 1 "$dir/time.txt"
}

names=()
secs=()
rss=()
notes=()
# measure NAME CMD...: best of RUNS runs.
measure() {
	local name=$1 best='' mem='' r t m
	shift
	printf '   %-16s' "$name"
	for ((r = 1; r <= RUNS; r++)); do
		if ! read -r t m < <(timed "$@" || echo fail); then
			t=fail
		fi
		if [ "$t" = fail ]; then
			echo " failed: $(head -c 300 "$dir/stderr.txt" | tr '\n' ' ')"
			notes+=("$name failed: $(head -n 1 "$dir/stderr.txt")")
			return 0
		fi
		printf ' %ss' "$t"
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$t mem=$m
		fi
	done
	echo
	names+=("$name")
	secs+=("$best")
	rss+=("$mem")
}

echo "== timing (best of $RUNS; seconds per run)"
# tcpstate renders the whole JSON report to stdout. Not -o /dev/null: -o
# writes a temporary file next to its target and renames it over it.
measure "tcpstate" "$dir/tcpstate" -q -f json "$capture"
if "$dir/tcpstate" -h 2>&1 | grep -qE -- '(^|[ ,])-j[ ,]'; then
	measure "tcpstate -j 1" "$dir/tcpstate" -q -j 1 -f json "$capture"
else
	notes+=("tcpstate has no -j flag yet: single-threaded only")
fi
if command -v tcptrace > /dev/null; then
	measure "tcptrace -n" tcptrace -n "$capture"
else
	notes+=("tcptrace not installed: skipped (apt-get install tcptrace)")
fi
if command -v tshark > /dev/null; then
	measure "tshark conv,tcp" tshark -q -n -r "$capture" -z conv,tcp
else
	notes+=("tshark not installed: skipped (apt-get install tshark)")
fi

echo
echo "== results: $CONNS connections, $packets packets, $((size / 1000000)) MB, snaplen $SNAPLEN"
base=${secs[0]:-}
printf '%-16s %10s %14s %12s %10s\n' tool seconds packets/s 'max RSS MB' 'x tcpstate'
for i in "${!names[@]}"; do
	awk -v n="${names[$i]}" -v s="${secs[$i]}" -v p="$packets" -v m="${rss[$i]}" -v b="$base" 'BEGIN {
		rate = s > 0 ? sprintf("%.0f", p / s) : "-"
		mem = m == "-" || m == "" ? "-" : sprintf("%.0f", m / 1024)
		ratio = b > 0 ? sprintf("%.1f", s / b) : "-"
		printf "%-16s %10.2f %14s %12s %10s\n", n, s, rate, mem, ratio
	}'
done
for n in "${notes[@]}"; do
	echo "note: $n"
done

echo
echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "cpus:     $(nproc) × $(grep -m1 'model name' /proc/cpuinfo 2> /dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
echo "memory:   $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo 2> /dev/null || echo unknown)"
echo "go:       $(go version)"
echo "tcpstate: $("$dir/tcpstate" --version)"
if command -v tcptrace > /dev/null; then
	echo "tcptrace: $(tcptrace -v 2>&1 | head -n 1 | sed 's/^Version: //')"
fi
if command -v tshark > /dev/null; then
	echo "tshark:   $(tshark --version 2> /dev/null | head -n 1)"
fi
