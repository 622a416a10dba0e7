#!/usr/bin/env bash
# SYN flood check: N (default 5,000,000) lone SYNs from distinct four-tuples,
# STEP apart (default 10µs: 100,000 SYNs/s), analysed with --max-conns
# MAXCONNS (default 500,000: 5 s of flood, longer than the 4.5 s after which
# an unanswered SYN's verdict is final, so eviction changes no count);
# prints peak RSS, connections tracked at once, evictions and the
# syn-timeout count, which must be N minus the SYNs of the last second.
# With UNBOUNDED=1 it also runs without a bound (memory then grows with
# the flood: about 4.5 KB per SYN of the last minute).
#
#   scripts/synflood.sh
#   N=1000000 STEP=1ms UNBOUNDED=1 scripts/synflood.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000000}
MAXCONNS=${MAXCONNS:-500000}
STEP=${STEP:-10us}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/tcpstate" ./cmd/tcpstate
TCPSTATE_SYNFLOOD="$tmp/flood.pcap:$N:$STEP" go test ./cmd/tcpstate -run '^TestWriteSynFlood$' -count 1 >/dev/null
bounds=$MAXCONNS
[ "${UNBOUNDED:-0}" = 1 ] && bounds="$bounds 0"
lastsec=$(python3 -c "import re; m = re.fullmatch(r'([0-9.]+)(ns|us|ms|s)', '$STEP'); u = {'ns': 1e-9, 'us': 1e-6, 'ms': 1e-3, 's': 1}[m[2]]; print(min($N, round(1 / (float(m[1]) * u))))")
for bound in $bounds; do
	/usr/bin/time -f '%M %e' -o "$tmp/rss" "$tmp/tcpstate" -q --progress never -j "${JOBS:-1}" --max-conns "$bound" -f json -o "$tmp/r.json" "$tmp/flood.pcap"
	python3 - "$tmp/r.json" "$tmp/rss" "$bound" "$N" "$lastsec" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rss, secs = open(sys.argv[2]).read().split()
c, s = r["capture"], r["summary"]
want = int(sys.argv[4]) - int(sys.argv[5])
print(f"--max-conns {int(sys.argv[3]):>9,}: peak RSS {int(rss)/1024:6.0f} MB, {float(secs):5.1f} s, tracked at once {c['peak_connections']:,}, "
      f"evicted {c['evicted_connections']:,}, syn-timeout {s['findings']['syn-timeout']:,} ({'exact' if s['findings']['syn-timeout'] == want else 'WRONG, want %d' % want})")
PY
done
