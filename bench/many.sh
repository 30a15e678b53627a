#!/usr/bin/env bash
# bench/many.sh (run by make bench, or alone): h2pcap on captures of many
# connections, made by bench/gen (internal/synth) into bench/out if
# missing, against tshark's TCP analysis and the read floor (tcpdump
# reading and writing the records). CPU seconds (user + sys, so a loaded
# machine skews it less than wall time) and peak RSS, with the targets of
# issue 15. BENCH_SHORT_N, BENCH_SYN_N, BENCH_PING_N, BENCH_TLS_N change the
# sizes; BENCH_RATE the connections started per second of capture time;
# BENCH_MANY_RUNS how many runs of h2pcap each figure is the median of.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
[ -x bin/h2pcap ] || make build >/dev/null
go build -o "$out/gen" ./bench/gen
# many NAME CASE N TARGET-S TARGET-MB makes the capture if missing and
# measures h2pcap (table and JSON), tshark and tcpdump on it; a target of
# - is none (issue 15 names none for the PING case).
declare -A cpu mrss
cpu_measure() {
	local name=$1; shift
	local log="$out/$name.time"
	/usr/bin/time -f '%U %S %M' -o "$log" "$@" >/dev/null 2>"$out/$name.err" || {
		echo "bench: $name failed:"; tail -5 "$out/$name.err"; return 1; }
	read -r u s k <"$log"
	cpu[$name]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	mrss[$name]=$((k / 1024))
}
# cpu_median NAME CMD...: cpu_measure BENCH_MANY_RUNS times (3 by
# default); the median CPU time and the highest peak RSS. One run's CPU
# time moves 10-20 % from one hour to the next on this machine, more than
# most changes measured against a target; the runs are seconds each
# (tshark's, a minute and more, run once).
cpu_median() {
	local name=$1 runs=${BENCH_MANY_RUNS:-3} cs=() top=0; shift
	for _ in $(seq "$runs"); do
		cpu_measure "$name" "$@" || return 1
		cs+=("${cpu[$name]}")
		((mrss[$name] > top)) && top=${mrss[$name]}
	done
	cpu[$name]=$(printf '%s\n' "${cs[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }')
	mrss[$name]=$top
}
many() {
	local name=$1 kind=$2 n=$3 t_s=$4 t_mb=$5 extra=()
	local cap=$out/$name.pcap
	if [ ! -s "$cap" ]; then
		"$out/gen" -case "$kind" -n "$n" -rate "${BENCH_RATE:-5000}" -o "$cap" -keylog "$out/$name.keys"
	fi
	[ "$kind" = tls ] && extra=(--keylog "$out/$name.keys")
	cpu_measure "$name-floor" tcpdump -Z root -r "$cap" -w /dev/null
	cpu_median "$name-table" bin/h2pcap analyze "$cap" "${extra[@]}" -o /dev/null
	cpu_median "$name-json" bin/h2pcap analyze "$cap" "${extra[@]}" --format json -o /dev/null
	cpu_measure "$name-tshark" tshark -r "$cap" -o tcp.reassemble_out_of_order:TRUE -T fields -e tcp.stream -e tcp.analysis.flags
	printf '%-16s %9d conns %7d MB | h2pcap table %7.2f s %6d MB | json %7.2f s %6d MB | tshark flags %7.2f s %6d MB | floor %6.2f s | %5.1fx tshark, %5.1fx floor | %s\n' \
		"$name" "$n" "$(( $(stat -L -c %s "$cap") / 1000000 ))" \
		"${cpu[$name-table]}" "${mrss[$name-table]}" "${cpu[$name-json]}" "${mrss[$name-json]}" \
		"${cpu[$name-tshark]}" "${mrss[$name-tshark]}" "${cpu[$name-floor]}" \
		"$(awk -v a="${cpu[$name-tshark]}" -v b="${cpu[$name-json]}" 'BEGIN { if (b < 0.01) b = 0.01; print a / b }')" \
		"$(awk -v a="${cpu[$name-json]}" -v b="${cpu[$name-floor]}" 'BEGIN { if (b < 0.01) b = 0.01; print a / b }')" \
		"$(awk -v a="${cpu[$name-table]}" -v j="${cpu[$name-json]}" -v r1="${mrss[$name-table]}" -v r2="${mrss[$name-json]}" -v ts="$t_s" -v tm="$t_mb" \
			'BEGIN { if (ts == "-") { print "no issue target"; exit }
				printf "target <= %s s, <= %s MB: %s\n", ts, tm, (a <= ts && j <= ts && r1 <= tm && r2 <= tm) ? "OK" : "MISSED" }')"
}
echo
echo "Many connections (CPU seconds, peak RSS; captures from bench/gen; h2pcap: median CPU and highest RSS of ${BENCH_MANY_RUNS:-3} runs):"
many short-200k short "${BENCH_SHORT_N:-200000}" 2 300
many syn-1m syn "${BENCH_SYN_N:-1000000}" 5 500
many ping-100k ping "${BENCH_PING_N:-100000}" - -
many tls-2k tls "${BENCH_TLS_N:-2000}" 10 300
# The incident-review page of the same captures: the pictures (analyze
# Options.Plot) and the HTML's lists must not undo what keeps the table
# bounded (before session 38, 1M SYNs in HTML took 57 CPU s and 8.8 GB).
# Issue 15 names no target for it: the table's figures are beside it.
pictures() {
	local name=$1
	cpu_median "$name-html" bin/h2pcap analyze "$out/$name.pcap" --format html -o /dev/null
	printf '%-16s --format html %7.2f s %6d MB | table %7.2f s %6d MB | %.2fx the table'"'"'s CPU, %.2fx its RSS\n' \
		"$name" "${cpu[$name-html]}" "${mrss[$name-html]}" "${cpu[$name-table]}" "${mrss[$name-table]}" \
		"$(awk -v h="${cpu[$name-html]}" -v t="${cpu[$name-table]}" 'BEGIN { if (t < 0.01) t = 0.01; print h / t }')" \
		"$(awk -v h="${mrss[$name-html]}" -v t="${mrss[$name-table]}" 'BEGIN { if (t < 1) t = 1; print h / t }')"
}
echo
echo "The HTML report of many connections (median CPU and highest RSS of ${BENCH_MANY_RUNS:-3} runs; the table's from above):"
pictures short-200k
pictures syn-1m
