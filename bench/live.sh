#!/usr/bin/env bash
# bench/live.sh (run by make bench, or alone; root): h2pcap live's memory,
# the figures of issue 15. In a network namespace of its own, h2pcap live
# captures on one end of a veth pair while bench/replay sends a capture
# of bench/gen's into the other end (nothing leaves the namespace; the
# kernel drops the frames, addressed to other MACs, after the capture saw
# them). Measured from /proc/PID/status (VmRSS, VmHWM):
#   start   RSS before the first packet, and with --small-ring (target
#           <= 30 MB)
#   storm   peak RSS while BENCH_LIVE_N short connections arrive as fast as
#           the replay sends them (a reconnect storm)
#   after   RSS BENCH_LIVE_SETTLE s after the storm: the forgotten
#           connections' memory returned to the system
#   final   peak RSS including the final report (JSON)
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
h2pcap=${H2PCAP:-bin/h2pcap}
[ -x "$h2pcap" ] || make build >/dev/null
go build -o "$out/gen" ./bench/gen
go build -o "$out/replay" ./bench/replay
n=${BENCH_LIVE_N:-50000}
settle=${BENCH_LIVE_SETTLE:-45}
cap=$out/live-short-$n.pcap
[ -s "$cap" ] || "$out/gen" -case short -n "$n" -rate 5000 -o "$cap"

ns=h2bench$$
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link set lo up
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up

rss() { awk -v k="$2:" '$1 == k { print int($2 / 1024) }' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_rss FLAGS...: live's RSS 2 s after it started on the quiet veth.
start_rss() {
	ip netns exec "$ns" "$h2pcap" live -i v1 "$@" -o /dev/null >/dev/null 2>&1 &
	local p=$!
	sleep 2
	rss "$p" VmRSS
	kill -INT "$p"
	wait "$p" 2>/dev/null || true
}
small=$(start_rss --small-ring)

# --forget 3s: what h2pcap analyze uses; the default 2m would outlast the
# bench.
ip netns exec "$ns" /usr/bin/time -f '%U %S %M' -o "$out/live-mem.time" \
	"$h2pcap" live -i v1 --forget 3s --format json -o "$out/live-mem.json" >"$out/live-mem.notices" 2>"$out/live-mem.err" &
lpid=$!
sleep 2
pid=$(pgrep -n -f " live -i v1 --forget 3s --format json -o $out/live-mem.json")
start=$(rss "$pid" VmRSS)
ip netns exec "$ns" "$out/replay" -i v0 -pps "${BENCH_LIVE_PPS:-50000}" "$cap" 2>"$out/replay.err" &
rpid=$!
peak=0
while kill -0 "$rpid" 2>/dev/null; do
	r=$(rss "$pid" VmRSS); [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.2
done
wait "$rpid"
r=$(rss "$pid" VmRSS); [ "$r" -gt "$peak" ] && peak=$r
trend=
for ((i = 0; i < settle; i += 5)); do
	sleep 5
	trend+=" $(rss "$pid" VmRSS)"
done
after=$(rss "$pid" VmRSS)
kill -INT "$pid"
wait "$lpid" 2>/dev/null || true
pid=
read -r u s k <"$out/live-mem.time"
final=$((k / 1024))
ok() { [ "$1" -le "$2" ] && echo OK || echo MISSED; }
printf '\nh2pcap live memory (%d short connections replayed on a veth, %s):\n' "$n" "$(tail -1 "$out/replay.err")"
printf '  RSS before the first packet %4d MB, %d MB with --small-ring (target <= 30 MB: %s)\n' "$start" "$small" "$(ok "$small" 30)"
printf '  peak RSS during the storm   %4d MB\n' "$peak"
printf '  RSS %2d s after the storm    %4d MB (every 5 s:%s)\n' "$settle" "$after" "$trend"
printf '  peak RSS with the report    %4d MB (target <= 256 MB: %s), CPU %.2f s\n' "$final" "$(ok "$final" 256)" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
printf '  captured %s packets; %s\n' "$(grep -m1 -o '"packets": [0-9]*' "$out/live-mem.json" | tr -dc 0-9)" \
	"$(grep -o 'dropped [0-9]* [a-z ]*packets' "$out/live-mem.json" | paste -sd, || echo 'no capture drops')"
