#!/usr/bin/env bash
# bench/pgo.sh (make pgo): writes cmd/h2pcap/default.pgo, the CPU profile
# go build uses to optimise h2pcap (profile-guided optimisation: more
# inlining and devirtualisation where the time goes). The profile is
# the merge of h2pcap analyze on the workloads make bench measures: the
# generated captures of many connections (bench/gen: 200k short, 1M SYN,
# 100k PING, 2,000 TLS with a key log; made if missing), table and JSON,
# and, when make bench has made it, the lab's bulk capture alone and as
# four capture points (bench/points.sh makes those). Rerun it after a
# change that moves where the time goes; a stale profile still helps
# (Go matches it to the code by function) and never changes an output.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
prof=$out/pgo
mkdir -p "$prof"
rm -f "$prof"/*.prof
go build -o "$out/gen" ./bench/gen
# The hooks that write a profile exist only with the pprof tag; built
# without PGO, so the profile is of the plain code's shape.
go build -tags pprof -pgo=off -o "$out/h2pcap-pprof" ./cmd/h2pcap
gen() { # NAME CASE N
	[ -s "$out/$1.pcap" ] || "$out/gen" -case "$2" -n "$3" -rate "${BENCH_RATE:-5000}" -o "$out/$1.pcap" -keylog "$out/$1.keys"
}
gen short-200k short 200000
gen syn-1m syn 1000000
gen ping-100k ping 100000
gen tls-2k tls 2000
n=0
run() { # ARGS...: one profiled analysis
	n=$((n + 1))
	H2PCAP_CPUPROFILE="$prof/$n.prof" "$out/h2pcap-pprof" analyze "$@" -o /dev/null 2>/dev/null
}
for f in table json; do
	run --format "$f" "$out/short-200k.pcap"
	run --format "$f" "$out/syn-1m.pcap"
	run --format "$f" "$out/ping-100k.pcap"
done
run --keylog "$out/tls-2k.keys" "$out/tls-2k.pcap"
if [ -s "$out/bulk.pcap" ]; then
	run "$out/bulk.pcap"
	if [ -s "$out/bulk-d.pcap" ]; then
		run --point "a=$out/bulk.pcap" --point "b=$out/bulk-b.pcap" --point "c=$out/bulk-c.pcap" --point "d=$out/bulk-d.pcap"
	fi
fi
if [ -s "$out/points-50000-d.pcap" ]; then
	args=()
	for p in a b c d; do args+=(--point "$p=$out/points-50000-$p.pcap"); done
	run "${args[@]}"
fi
go tool pprof -proto "$prof"/*.prof >cmd/h2pcap/default.pgo
echo "pgo: cmd/h2pcap/default.pgo from $n profiles, $(stat -c %s cmd/h2pcap/default.pgo) bytes"
