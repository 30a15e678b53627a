#!/usr/bin/env bash
# make bench: h2pcap against tshark (the same TCP analysis) and tcpdump
# (reading and writing packets, the floor) on one large real capture made
# by the lab. Prints packets/s, MB/s and peak RSS for each, then the
# ratios the targets are set in: >= 30x tshark's speed, within 4x of
# tcpdump, peak RSS under 150 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
cap=${BENCH_CAPTURE:-$out/bulk.pcap}
size_mb=${BENCH_MB:-800}
if [ ! -s "$cap" ]; then
	echo "bench: making a ${size_mb} MB bulk-transfer capture with the lab (root needed)..."
	# Paced so that tcpdump keeps up on a 2-core machine: a capture with
	# kernel drops would still work, but would not be the real traffic.
	H2LAB_BULK_RATE=${H2LAB_BULK_RATE:-120} bash lab/run.sh bulk "$cap" "$size_mb"
fi
bytes=$(stat -c %s "$cap")
packets=$(tcpdump -r "$cap" --count 2>/dev/null | awk '{print $1; exit}') || true
if ! [[ "$packets" =~ ^[0-9]+$ ]]; then
	packets=$(tshark -r "$cap" -T fields -e frame.number 2>/dev/null | tail -1)
fi
echo "capture: $cap, $((bytes / 1000000)) MB, $packets packets"

# measure NAME CMD... runs CMD under GNU time and records seconds and peak RSS.
declare -A secs rss
measure() {
	local name=$1; shift
	local log="$out/$name.time"
	/usr/bin/time -f '%e %M' -o "$log" "$@" >/dev/null 2>"$out/$name.err" || {
		echo "bench: $name failed:"; tail -5 "$out/$name.err"; exit 1; }
	read -r secs[$name] rss[$name] <"$log"
}

measure tcpdump tcpdump -r "$cap" -w /dev/null
measure h2pcap bin/h2pcap analyze "$cap" --format json -o /dev/null
measure tshark tshark -r "$cap" -o tcp.reassemble_out_of_order:TRUE -T fields -e tcp.stream -e tcp.analysis.flags

printf '\n%-8s %10s %12s %10s %12s\n' tool seconds packets/s MB/s "peak RSS MB"
for t in h2pcap tshark tcpdump; do
	awk -v t="$t" -v s="${secs[$t]}" -v k="${rss[$t]}" -v p="$packets" -v b="$bytes" 'BEGIN {
		if (s < 0.01) s = 0.01
		printf "%-8s %10.2f %12.0f %10.1f %12.1f\n", t, s, p/s, b/s/1e6, k/1024 }'
done
awk -v h="${secs[h2pcap]}" -v ts="${secs[tshark]}" -v td="${secs[tcpdump]}" -v r="${rss[h2pcap]}" 'BEGIN {
	if (h < 0.01) h = 0.01; if (td < 0.01) td = 0.01
	sp = ts / h; fl = h / td; mb = r / 1024
	printf "\nh2pcap vs tshark: %.1fx faster (target >= 30x) %s\n", sp, (sp >= 30 ? "OK" : "MISSED")
	printf "h2pcap vs tcpdump floor: %.2fx its time (target <= 4x) %s\n", fl, (fl <= 4 ? "OK" : "MISSED")
	printf "h2pcap peak RSS: %.1f MB (target < 150 MB) %s\n", mb, (mb < 150 ? "OK" : "MISSED")
}'
echo
echo "Go benchmarks (decoder and analyzer hot paths):"
go test -run '^$' -bench . -benchmem ./decode ./analyze | grep -E '^(Benchmark|ok|FAIL)'
