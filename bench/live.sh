#!/usr/bin/env bash
# bench/live.sh (run by make bench, or alone; root): h2pcap live's memory,
# the figures of issue 15. In a network namespace of its own, h2pcap live
# captures on one end of a veth pair while bench/replay sends a capture
# of bench/gen's into the other end (nothing leaves the namespace; the
# kernel drops the frames, addressed to other MACs, after the capture saw
# them). Measured from /proc/PID/status (VmRSS, VmHWM):
#   start   RSS before the first packet, with the default 12 MiB first
#           ring (target <= 30 MB) and with --small-ring=false
#   storm   peak RSS while BENCH_LIVE_N short connections arrive as fast as
#           the replay sends them (a reconnect storm)
#   after   RSS BENCH_LIVE_SETTLE s after the storm: the forgotten
#           connections' memory returned to the system
#   final   peak RSS including the final report (JSON)
#   idle    RSS every 10 s while BENCH_LIVE_IDLE_N connections stay open,
#           each answering a PING every 5 s, for BENCH_LIVE_IDLE_SECS
#           (default 240 s: the issue's 10 minutes shortened; 0 skips
#           it): a bench/gen keepalive capture replayed in real time
# Before the first packet it also reads the memory cgroup h2pcap runs in
# (a cgroup of its own, made and removed here): what a pod's memory
# request and limit are judged by. The packet ring is in the RSS (the
# kernel maps it into the process) but not in the cgroup (the kernel does
# not charge the ring's pages to it).
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
cg=
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	[ -n "$cg" ] && rmdir "$cg" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link add v0 type veth peer name v1
ip -n "$ns" link set lo up
ip -n "$ns" link set v0 up
ip -n "$ns" link set v1 up

# leaf PID: the newest process at the end of PID's line of children (ip
# netns exec runs time, which runs live).
leaf() {
	local p=$1 c
	while c=$(pgrep -n -P "$p"); do p=$c; done
	echo "$p"
}

rss() { awk -v k="$2:" '$1 == k { print int($2 / 1024) }' "/proc/$1/status" 2>/dev/null || echo 0; }

# A memory cgroup of our own (v2, or v1's memory controller), for what
# live is charged; none if neither can be made.
if [ -w /sys/fs/cgroup/cgroup.procs ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	cg=/sys/fs/cgroup/h2bench$$ cgmem=memory.current
elif [ -d /sys/fs/cgroup/memory ]; then
	cg=/sys/fs/cgroup/memory/h2bench$$ cgmem=memory.usage_in_bytes
fi
[ -n "$cg" ] && { mkdir "$cg" 2>/dev/null || cg=; }

# start_rss FLAGS...: live's RSS 2 s after it started on the quiet veth,
# and its cgroup's memory ("RSS cgroup", MB). The binary is copied
# first, so that its pages are read in (and charged) by live itself, as
# in a new pod.
start_rss() {
	local bin=$out/h2pcap-start
	cp "$h2pcap" "$bin"
	sync "$bin"
	python3 -c 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$bin" 2>/dev/null || true
	if [ -n "$cg" ]; then
		sh -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' sh "$cg" ip netns exec "$ns" "$bin" live -i v1 "$@" -o /dev/null >/dev/null 2>&1 &
	else
		ip netns exec "$ns" "$bin" live -i v1 "$@" -o /dev/null >/dev/null 2>&1 &
	fi
	local p=$!
	sleep 2
	local m=0
	[ -n "$cg" ] && m=$(($(cat "$cg/$cgmem") >> 20))
	echo "$(rss "$p" VmRSS) $m"
	kill -INT "$p"
	wait "$p" 2>/dev/null || true
	rm -f "$bin"
}
ok() { [ "$1" -le "$2" ] && echo OK || echo MISSED; }

# BENCH_LIVE_STORM=0 skips the start and the storm.
if [ "${BENCH_LIVE_STORM:-1}" != 0 ]; then
r=$(start_rss --small-ring=false)
read -r big bigcg <<<"$r"
r=$(start_rss --small-ring)
read -r small smallcg <<<"$r"

# --forget 3s: what h2pcap analyze uses; the default 2m would outlast the
# bench.
ip netns exec "$ns" /usr/bin/time -f '%U %S %M' -o "$out/live-mem.time" \
	"$h2pcap" live -i v1 --forget 3s --format json -o "$out/live-mem.json" >"$out/live-mem.notices" 2>"$out/live-mem.err" &
lpid=$!
sleep 2
pid=$(leaf "$lpid")
ip netns exec "$ns" "$out/replay" -i v0 -pps "${BENCH_LIVE_PPS:-50000}" "$cap" 2>"$out/replay.err" &
rpid=$!
peak=0
while kill -0 "$rpid" 2>/dev/null; do
	r=$(rss "$pid" VmRSS); [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.2
done
wait "$rpid"
rpid=
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
printf '\nh2pcap live memory (%d short connections replayed on a veth, %s):\n' "$n" "$(tail -1 "$out/replay.err")"
printf '  RSS before the first packet %4d MB (cgroup %d MB) with the 12 MiB first ring (the default), %d MB (cgroup %d MB) with --small-ring=false, the 64 MiB ring (target <= 30 MB: %s)\n' \
	"$small" "$smallcg" "$big" "$bigcg" "$(ok "$small" 30)"
printf '  peak RSS during the storm   %4d MB\n' "$peak"
printf '  RSS %2d s after the storm    %4d MB (every 5 s:%s)\n' "$settle" "$after" "$trend"
printf '  peak RSS with the report    %4d MB (target <= 256 MB: %s), CPU %.2f s\n' "$final" "$(ok "$final" 256)" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
drops=$(grep -o 'dropped [0-9]* [a-z ]*packets' "$out/live-mem.json" | paste -sd, || true)
printf '  captured %s packets; %s\n' "$(grep -m1 -o '"packets": [0-9]*' "$out/live-mem.json" | tr -dc 0-9)" "${drops:-no capture drops}"
fi

# Idle connections: BENCH_LIVE_IDLE_N connections open at once, each
# answering a PING every 5 s (bench/gen -case keepalive), replayed at the
# rate that keeps the capture's time: 3 packets per connection every 5 s.
isecs=${BENCH_LIVE_IDLE_SECS:-240}
[ "$isecs" -gt 0 ] || exit 0
in=${BENCH_LIVE_IDLE_N:-20000}
icap=${BENCH_LIVE_IDLE_CAPTURE:-$out/live-keepalive-$in.pcap}
[ -s "$icap" ] || "$out/gen" -case keepalive -n "$in" -open "$in" -o "$icap"
ip netns exec "$ns" /usr/bin/time -f '%U %S %M' -o "$out/live-idle.time" \
	"$h2pcap" live -i v1 --format json -o "$out/live-idle.json" >/dev/null 2>"$out/live-idle.err" &
lpid=$!
sleep 2
pid=$(leaf "$lpid")
ip netns exec "$ns" "$out/replay" -i v0 -pps $((in * 3 / 5)) "$icap" 2>"$out/replay-idle.err" &
rpid=$!
itrend= imax=0 ilate=0
for ((i = 10; i <= isecs; i += 10)); do
	sleep 10
	r=$(rss "$pid" VmRSS)
	itrend+=" $r"
	[ "$r" -gt "$imax" ] && imax=$r
	# Flat: the highest of the second half against the first half's.
	[ "$i" -gt $((isecs / 2)) ] && [ "$r" -gt "$ilate" ] && ilate=$r
done
kill "$rpid" 2>/dev/null || true
wait "$rpid" 2>/dev/null || true
rpid=
kill -INT "$pid"
wait "$lpid" 2>/dev/null || true
pid=
read -r u s k <"$out/live-idle.time"
printf '\nh2pcap live, %d connections each answering a PING every 5 s, %d s (the issue: 10 minutes):\n' "$in" "$isecs"
printf '  RSS every 10 s:%s MB\n' "$itrend"
printf '  highest %d MB, highest of the second half %d MB (target < 200 MB and flat: %s); with the report %d MB, CPU %.2f s\n' \
	"$imax" "$ilate" "$(ok "$imax" 199)" "$((k / 1024))" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')"
drops=$(grep -o 'dropped [0-9]* [a-z ]*packets' "$out/live-idle.json" | paste -sd, || true)
printf '  captured %s packets; %s\n' "$(grep -m1 -o '"packets": [0-9]*' "$out/live-idle.json" | tr -dc 0-9)" "${drops:-no capture drops}"
