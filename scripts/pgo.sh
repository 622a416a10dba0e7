#!/usr/bin/env bash
# Regenerate cmd/tcpstate/default.pgo, the CPU profile that `go build` and
# `go run` use for profile-guided optimisation of tcpstate (Go 1.21+: a
# default.pgo beside the main package is applied automatically; -pgo=off
# builds without it).
#
# The profile is of the command itself on a generator capture (the
# benchmarks' traffic: the default mix, 130 new connections per second,
# about 16,000 tracked at once), on one worker and on two, writing JSON and
# text: what operators run. The binary is built with -trimpath and without
# PGO, so the profile names no machine paths and does not feed on itself.
#
#   scripts/pgo.sh                   # 400,000 connections (about 5 M packets)
#   CONNS=1000000 scripts/pgo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS=${CONNS:-400000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -trimpath -pgo=off -o "$tmp/tcpstate" ./cmd/tcpstate
go run ./cmd/tcpstate-gen -q --conns "$CONNS" --rate 130 --seed 7 -o "$tmp/capture.pcap"
for jobs in 1 2; do
	for format in json text; do
		"$tmp/tcpstate" -q --progress never -j "$jobs" -f "$format" -o "$tmp/report" \
			--cpuprofile "$tmp/cpu.$jobs.$format" "$tmp/capture.pcap"
	done
done
go tool pprof -proto "$tmp"/cpu.* >"$tmp/merged.pprof"
# The profile names the binary it sampled by its absolute path (here a
# temporary directory): write it as a relative path of the same length, so
# that the file names nothing of this machine.
python3 - "$tmp/merged.pprof" "$tmp/tcpstate" cmd/tcpstate/default.pgo <<'PY'
import gzip, sys
src, binary, dst = sys.argv[1:]
data = gzip.decompress(open(src, "rb").read())
old = binary.encode()
pad = len(old) - len(b"tcpstate")
new = b"./" * (pad // 2) + b"/" * (pad % 2) + b"tcpstate"
assert len(new) == len(old)
open(dst, "wb").write(gzip.compress(data.replace(old, new), mtime=0))
PY
echo "wrote cmd/tcpstate/default.pgo ($(wc -c <cmd/tcpstate/default.pgo) bytes)"
