#!/usr/bin/env bash
# The h2pcap lab: real HTTP/2 traffic between network namespaces, faults
# injected with nftables on a router namespace, captured with tcpdump.
#
#   bash lab/run.sh                 every scenario -> testdata/pcaps/<scenario>/
#   bash lab/run.sh NAME...         only these scenarios
#   bash lab/run.sh bulk OUT.pcap [MB]   large capture for benchmarks (default 800 MB)
#   bash lab/run.sh bulk-live H2PCAP OUTDIR SECONDS MB/s...   h2pcap live during bulk traffic, per rate
#   bash lab/run.sh list            scenario names
#
# Needs root (namespaces, nft, tcpdump). Only 198.18.0.0/15 and fd18::/16
# (ULA) addresses are used, all inside namespaces this script makes and
# deletes (trap EXIT); nothing is routed anywhere else. See lab/README.md.
set -euo pipefail

LAB=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$LAB")
OUT_ROOT=${H2LAB_OUT:-$ROOT/testdata/pcaps}
# What captures_both records, for truth.json.
BOTH_CAPTURES="client.pcap=tcpdump -i c0 in the client namespace;server.pcap=tcpdump -i s0 in the server namespace"
# What captures_four records.
FOUR_CAPTURES="client.pcap=tcpdump -i c0 in the client namespace;router-c.pcap=tcpdump -i rc in the router namespace (towards the client);router-s.pcap=tcpdump -i rs in the router namespace (towards the server);server.pcap=tcpdump -i s0 in the server namespace"

SCENARIOS=(healthy-tls blackhole-s2c-tls blackhole-c2s-h2c blackhole-s2c-h2c random-loss-both random-loss-gro oneway-loss-ipv6
	graceful-shutdown too-many-pings middlebox-reset mtu-blackhole midconn sll2-any
	blackhole-s2c-tls12-gcm blackhole-s2c-tls12-chacha midconn-tls
	perflow-blackhole perflow-blackhole-s2c server-stalled
	oneway-capture capture-drops router-capture multipoint-loss multipoint-blackhole multipoint-nat multipoint-icmp multipoint-vxlan multipoint-synproxy multipoint-natproxy router-any
	synack-loss-healed synack-loss-unhealed middlebox-refuse
	traceroute-probes ping-close dial-race
	etcd-leader-loss etcd-leader-loss-mesh etcd-leader-blackhole etcd-leader-blackhole-tls etcd-leader-blackhole-tls-keys etcd-no-leader etcd-client-blackhole grpc-too-many-pings)

# Names carry our PID so parallel runs (and other people's tests) never collide.
NS_C=h2lab-$$-cli
NS_R=h2lab-$$-rtr
NS_S=h2lab-$$-srv
# The extra hops of router-capture's longer path (topo_up_hops).
NS_A=h2lab-$$-rta
NS_B=h2lab-$$-rtb
C4=198.18.1.2 R4C=198.18.1.1 R4S=198.18.2.1 S4=198.18.2.2
C6=fd18:1::2 R6C=fd18:1::1 R6S=fd18:2::1 S6=fd18:2::2
# etcd scenarios: three member namespaces behind the same router, member N
# at 198.18.1N.2 (router side 198.18.1N.1); the client namespace as above.
NS_M=(h2lab-$$-m1 h2lab-$$-m2 h2lab-$$-m3)

TMP=$(mktemp -d /tmp/h2lab.XXXXXX)
PIDS=()
ETCD_PIDS=()
MISSED=()

log() { printf '%s lab: %s\n' "$(date -u +%T.%3N)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
	topo_down
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

inC() { ip netns exec "$NS_C" "$@"; }
inR() { ip netns exec "$NS_R" "$@"; }
inS() { ip netns exec "$NS_S" "$@"; }

now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }

# ---------------------------------------------------------------- setup

preflight() {
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces, nft, tcpdump)"
	local t
	for t in ip nft tcpdump go; do
		command -v "$t" >/dev/null || die "$t not found (make deps installs ip, nft, tcpdump)"
	done
	if ! command -v ethtool >/dev/null; then
		log "installing ethtool (offloads must be off so captured segments are MTU-sized)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ethtool >/dev/null 2>&1 ||
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ethtool >/dev/null) ||
			die "ethtool missing and not installable: captures would hold GSO/GRO super-segments"
	fi
}

build() {
	log "building h2lab (CGO_ENABLED=0)"
	(cd "$LAB/.." && CGO_ENABLED=0 go build -o "$TMP/h2lab" ./lab/h2lab)
	BIN=$TMP/h2lab
}

# offloads_off makes the kernel build and checksum real MTU-sized segments,
# so a capture shows what a NIC would put on the wire.
offloads_off() {
	local ns=$1 dev=$2
	ip netns exec "$ns" ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 ||
		ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null ||
		die "ethtool -K $dev failed in $ns"
}

quiet_ipv6() {
	# No router solicitations or autoconf: less noise in the captures.
	local ns=$1 k
	for k in all default; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.$k.accept_ra=0 net.ipv6.conf.$k.router_solicitations=0 \
			net.ipv6.conf.$k.accept_dad=0 >/dev/null
	done
}

topo_up() {
	ip netns add "$NS_C"
	ip netns add "$NS_R"
	ip netns add "$NS_S"
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S"; do
		quiet_ipv6 "$ns"
		ip -n "$ns" link set lo up
	done
	# Created inside the namespaces: no interface name ever exists in the
	# root namespace, so concurrent labs cannot clash.
	ip -n "$NS_C" link add c0 type veth peer name rc netns "$NS_R"
	ip -n "$NS_S" link add s0 type veth peer name rs netns "$NS_R"

	ip -n "$NS_C" addr add $C4/24 dev c0
	ip -n "$NS_C" addr add $C6/64 dev c0 nodad
	ip -n "$NS_R" addr add $R4C/24 dev rc
	ip -n "$NS_R" addr add $R6C/64 dev rc nodad
	ip -n "$NS_R" addr add $R4S/24 dev rs
	ip -n "$NS_R" addr add $R6S/64 dev rs nodad
	ip -n "$NS_S" addr add $S4/24 dev s0
	ip -n "$NS_S" addr add $S6/64 dev s0 nodad
	offloads_off "$NS_C" c0
	offloads_off "$NS_R" rc
	offloads_off "$NS_R" rs
	offloads_off "$NS_S" s0
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_R" link set rc up
	ip -n "$NS_R" link set rs up
	ip -n "$NS_S" link set s0 up
	# Only the lab's own prefixes are routed; no default routes anywhere.
	ip -n "$NS_C" route add 198.18.2.0/24 via $R4C
	ip -n "$NS_C" -6 route add fd18:2::/64 via $R6C
	ip -n "$NS_S" route add 198.18.1.0/24 via $R4S
	ip -n "$NS_S" -6 route add fd18:1::/64 via $R6S
	inR sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null
	inR nft add table inet lab
	inR nft add chain inet lab faults '{ type filter hook forward priority 0; policy accept; }'
}

topo_down() {
	local ns
	for ns in "$NS_C" "$NS_R" "$NS_S" "$NS_A" "$NS_B" "${NS_M[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
}

# etcd_topo_up adds the three member namespaces to the topology topo_up
# made (the client and server namespaces stay as they are): member i's veth
# m0 pairs with the router's r<i>, 198.18.1<i>.0/24. Each member routes only
# 198.18.0.0/15 via the router, so nothing leaves the lab.
etcd_topo_up() {
	local i ns
	for i in 1 2 3; do
		ns=${NS_M[$((i - 1))]}
		ip netns add "$ns"
		quiet_ipv6 "$ns"
		ip -n "$ns" link set lo up
		ip -n "$ns" link add m0 type veth peer name r$i netns "$NS_R"
		ip -n "$ns" addr add 198.18.1$i.2/24 dev m0
		ip -n "$NS_R" addr add 198.18.1$i.1/24 dev r$i
		offloads_off "$ns" m0
		offloads_off "$NS_R" r$i
		ip -n "$ns" link set m0 up
		ip -n "$NS_R" link set r$i up
		ip -n "$ns" route add 198.18.0.0/15 via 198.18.1$i.1
	done
	ip -n "$NS_C" route add 198.18.8.0/21 via $R4C
}

# ---------------------------------------------------------------- processes

# bg NS CMD...: starts CMD in namespace NS; its PID is left in $LAST.
bg() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	LAST=$!
	PIDS+=("$LAST")
}

# forget PID: drops an exited process from PIDS so cleanup never signals a
# reused PID.
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

stop_pid() {
	local pid=$1 sig=${2:-TERM}
	kill -"$sig" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# capture NS IFACE FILE [tcpdump args]: starts tcpdump and waits until it
# listens, so nothing at the start is missed.
capture() {
	local ns=$1 ifc=$2 file=$3
	shift 3
	local err=$TMP/tcpdump.$RANDOM.err
	# -Z root: Debian's tcpdump drops to user tcpdump, which could not
	# write into the work tree. No --immediate-mode: with -i any it makes
	# the kernel drop most packets (TPACKET ring too small).
	bg "$ns" tcpdump -n ${CAP_FLUSH--U} -Z root -i "$ifc" -w "$file" "$@" 2>"$err"
	local pid=$LAST i
	for i in $(seq 100); do
		grep -q "listening on" "$err" 2>/dev/null && break
		sleep 0.05
	done
	grep -q "listening on" "$err" || die "tcpdump on $ifc did not start: $(cat "$err")"
	CAP_PIDS+=("$pid")
	CAP_ERRS+=("$err")
}

stop_captures() {
	# libpcap hands packets over a ring block at a time, a block at the
	# latest 1 s after its first packet, and SIGINT discards a block not
	# yet handed over: wait longer than that or the last FINs are lost.
	sleep 1.5
	local i
	for i in "${!CAP_PIDS[@]}"; do
		stop_pid "${CAP_PIDS[$i]}" INT
		grep -h "dropped by kernel" "${CAP_ERRS[$i]}" | sed "s/^/    tcpdump: /" >&2 || true
	done
	CAP_PIDS=()
	CAP_ERRS=()
}

# start_server ARGS...: the x/net/http2 server, TLS on 8443 and h2c on 8080
# unless ARGS say otherwise (set SERVER_PORTS to what it will listen on).
start_server() {
	bg "$NS_S" "$BIN" server --log "$OUT/server.log" "$@"
	SERVER_PID=$LAST
	wait_listen "$NS_S" ${SERVER_PORTS:-8443 8080}
}

start_pingserver() {
	bg "$NS_S" "$BIN" pingserver --log "$OUT/server.log" "$@"
	SERVER_PID=$LAST
	wait_listen "$NS_S" 8080
}

wait_listen() {
	local ns=$1 i p ok
	shift
	for i in $(seq 100); do
		ok=1
		for p in "$@"; do
			ip netns exec "$ns" ss -Htln "sport = :$p" | grep -q . || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.05
	done
	die "server in $ns did not listen on $*"
}

# start_client ARGS...: the x/net/http2 client; CLIENT_ENV (NAME=VALUE
# words) goes into its environment.
start_client() {
	bg "$NS_C" env ${CLIENT_ENV-} "$BIN" client --log "$OUT/client.log" "$@"
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
}

# at SECONDS: sleeps until SECONDS after the client started.
at() {
	local d
	d=$(awk -v t0="$T0" -v s="$1" -v now="$(date +%s.%N)" 'BEGIN { d = t0 + s - now; printf "%.3f\n", (d > 0 ? d : 0) }')
	sleep "$d"
}

wait_client() {
	[ -n "$CLIENT_PID" ] || return 0
	wait "$CLIENT_PID" || log "client exited with $?"
	CLIENT_PID=
}

# ---------------------------------------------------------------- faults

# fault DIRECTION WHAT RULES [INDEX...]: adds RULES (one or more rules
# separated by "; ", added in one nft transaction) to the router's forward
# chain and records when; the handles are kept so fault_end removes exactly
# them. The active faults with the given indexes (0 is the scenario's first
# fault) are removed in the same transaction: no packet passes between.
fault() {
	local dir=$1 what=$2 rule=$3 out handles cmd=() r i h names=""
	shift 3
	local IFS=';'
	for r in $rule; do
		r=${r# }
		if [[ " $r " == *" counter "* ]]; then
			# A named counter outlives its rule: fault_end deletes the
			# rule first and reads the count after, so no packet is
			# dropped between the reading and the deletion uncounted.
			N_COUNTERS=$((${N_COUNTERS:-0} + 1))
			local c=lab_c$N_COUNTERS
			inR nft add counter inet lab "$c"
			r=" $r "
			r=${r/ counter / counter name $c }
			r=${r# }
			r=${r% }
			names+="$c "
		fi
		cmd+=("add rule inet lab faults $r;")
	done
	unset IFS
	for i in "$@"; do
		for h in ${F_HANDLE[$i]}; do
			cmd+=("delete rule inet lab faults handle $h;")
		done
	done
	out=$(inR nft --echo --handle "${cmd[*]}")
	FAULT_START=$(now)
	for i in "$@"; do
		F_END[$i]=$FAULT_START
		fault_count "$i"
		log "fault off: ${F_WHAT[$i]}"
	done
	handles=$(sed -n 's/.*# handle \([0-9]*\).*/\1/p' <<<"$out" | tr '\n' ' ')
	[ -n "$handles" ] || die "no handle for nft rule: $out"
	F_HANDLE+=("$handles")
	F_START+=("$FAULT_START")
	F_DIR+=("$dir")
	F_WHAT+=("$what")
	F_RULE+=("$rule")
	F_END+=("")
	F_COUNTERS+=("$names")
	log "fault on: $what ($dir): $rule"
}

# fault_end [INDEX...]: removes the active faults with these indexes (0 is
# the scenario's first fault), every active one without arguments,
# recording the time.
fault_end() {
	local i t idx=("$@")
	[ $# -gt 0 ] || idx=("${!F_HANDLE[@]}")
	for i in "${idx[@]}"; do
		[ -z "${F_END[$i]}" ] || continue
		local h cmd=""
		for h in ${F_HANDLE[$i]}; do
			cmd+="delete rule inet lab faults handle $h; "
		done
		inR nft "$cmd"
		t=$(now)
		fault_count "$i"
		F_END[$i]=$t
		log "fault off: ${F_WHAT[$i]}"
	done
}

# fault_count INDEX: the packets the fault's rules matched, summed over
# their named counters (fault makes one of each rule's counter statement;
# read after the rules are gone, so nothing matched in between is missed),
# into F_COUNT. A fault without a counter has no count.
fault_count() {
	local i=$1 c n=0
	[ -n "${F_COUNTERS[$i]:-}" ] || return 0
	for c in ${F_COUNTERS[$i]}; do
		n=$((n + $(inR nft list counter inet lab "$c" | sed -n 's/.*packets \([0-9]*\) .*/\1/p')))
	done
	F_COUNT[$i]=$n
}

write_faults() {
	local i end count
	: >"$1"
	for i in "${!F_HANDLE[@]}"; do
		end=null
		[ -z "${F_END[$i]}" ] || end="\"${F_END[$i]}\""
		count=
		[ -z "${F_COUNT[$i]-}" ] || count=",\"packets\":${F_COUNT[$i]}"
		printf '{"start":"%s","end":%s,"direction":"%s","nft":"%s","what":"%s"%s}\n' \
			"${F_START[$i]}" "$end" "${F_DIR[$i]}" "$(sed 's/\(^\|; \)/\1nft add rule inet lab faults /g' <<<"${F_RULE[$i]}")" "${F_WHAT[$i]}" "$count" >>"$1"
	done
}

# ---------------------------------------------------------------- scenario frame

begin() {
	SC=$1
	OUT=$OUT_ROOT/$SC
	log "=== $SC"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	F_HANDLE=() F_START=() F_DIR=() F_WHAT=() F_RULE=() F_END=() F_COUNTERS=() F_COUNT=()
	CAP_PIDS=() CAP_ERRS=()
	SC_BAD= KEEP_FAULTS=
	topo_up
}

captures_both() {
	capture "$NS_C" c0 "$OUT/client.pcap" "$@"
	capture "$NS_S" s0 "$OUT/server.pcap" "$@"
}

# captures_four: the multi-point scenarios' four points along the usual
# path: the client, the router's interface towards the client (rc) and
# towards the server (rs), and the server (FOUR_CAPTURES says so).
captures_four() {
	capture "$NS_C" c0 "$OUT/client.pcap"
	capture "$NS_R" rc "$OUT/router-c.pcap"
	capture "$NS_R" rs "$OUT/router-s.pcap"
	capture "$NS_S" s0 "$OUT/server.pcap"
}

# start_client_multipoint ADDR: the multi-point scenarios' client: two h2c
# connections to ADDR for 9 s, GET /small every 300 ms (every 10th
# /large), /watch events each second, health checks after 2 s idle.
start_client_multipoint() {
	start_client --addr "$1" --tls=false --conns 2 --duration 9s \
		--every 300ms --large-every 10 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
}

# faults_counted INDEX...: these faults' nft counters each matched at
# least 3 packets, or the scenario is marked for a rerun: a random drop
# that hit almost nothing tests nothing.
faults_counted() {
	local i
	for i in "$@"; do
		[ "${F_COUNT[$i]:-0}" -ge 3 ] || SC_BAD="fault $i matched only ${F_COUNT[$i]:-0} packets"
	done
}

# tcp_wait NS FILTER quiet|unacked SECONDS: waits until the established
# connections ss(8) finds in NS with FILTER have nothing unacknowledged or
# unsent (quiet: Send-Q 0 on every one) or until one has (unacked); fails
# after SECONDS.
tcp_wait() {
	local ns=$1 filter=$2 want=$3 i n q
	n=$(awk -v s="$4" 'BEGIN { printf "%d\n", s * 50 }')
	for i in $(seq "$n"); do
		q=$(ip netns exec "$ns" ss -Htn state established "$filter" | awk '$2 > m { m = $2 } END { print m + 0 }')
		case $want in
		quiet) [ "$q" = 0 ] && return 0 ;;
		unacked) [ "$q" != 0 ] && return 0 ;;
		esac
		sleep 0.02
	done
	return 1
}

# finish TRUTH-ARGS...: stops everything, writes truth.json, tears down.
# A function notes_<scenario>, if defined, runs once the captures are
# closed; what it prints is appended to the --notes argument. A scenario
# sets SC_BAD to a reason when its run missed the point in a way truth
# cannot tell.
finish() {
	wait_client
	# KEEP_FAULTS: the faults still active stay until the captures are
	# closed (their end is recorded after the last captured packet).
	[ -n "$KEEP_FAULTS" ] || fault_end
	stop_captures
	fault_end
	stop_pid "$SERVER_PID"
	PIDS=()
	write_faults "$TMP/faults.jsonl"
	local args=("$@") i extra
	rm -f "$TMP/pings.jsonl" "$TMP/quality.json" "$TMP/probes.jsonl"
	if declare -F "notes_$SC" >/dev/null; then
		"notes_$SC" >"$TMP/notes"
		extra=$(paste -sd' ' "$TMP/notes")
		for i in "${!args[@]}"; do
			[ "${args[$i]}" != --notes ] || args[$((i + 1))]+=" $extra"
		done
	fi
	# A notes function may have listed the PINGs it found (ping_notes).
	[ ! -s "$TMP/pings.jsonl" ] || args+=(--pings "$TMP/pings.jsonl")
	# A notes function may have measured the captures (capture_quality).
	[ ! -s "$TMP/quality.json" ] || args+=(--capture-quality "$TMP/quality.json")
	[ ! -s "$TMP/probes.jsonl" ] || args+=(--probes "$TMP/probes.jsonl")
	if ! "$BIN" truth --scenario "$SC" --faults "$TMP/faults.jsonl" --log "$OUT/client.log" --out "$OUT/truth.json" "${args[@]}" ||
		{ [ -n "$SC_BAD" ] && log "warning: $SC: $SC_BAD"; }; then
		log "warning: $SC did not show what it is for (see above); truth.json records what did happen"
		MISSED+=("$SC")
	fi
	topo_down
	verify
}

# verify prints what tshark sees, so a run shows at once whether the fault
# is visible in the captures (retransmissions by direction, resets).
verify() {
	command -v tshark >/dev/null || { log "tshark missing: not verifying"; return 0; }
	local f
	for f in "$OUT"/*.pcap; do
		local n size
		n=$(tshark -r "$f" -T fields -e frame.number 2>/dev/null | wc -l)
		size=$(stat -c %s "$f")
		log "$(basename "$f"): $n packets, $size bytes"
		tshark -r "$f" -Y 'tcp.analysis.retransmission || tcp.flags.reset == 1' \
			-T fields -E separator='|' -e ip.src -e ipv6.src -e tcp.flags.reset 2>/dev/null |
			awk -F'|' '{ k = $1 $2 " " ($3 == "1" || $3 == "True" ? "rst" : "retransmission"); c[k]++ }
				END { for (k in c) printf "    from %s: %d\n", k, c[k] }' | sort >&2
	done
	grep -c '"level":"error"' "$OUT/client.log" | sed 's/^/    client errors: /' >&2 || true
	grep '"level":"error"' "$OUT/client.log" | sed 's/.*"msg":"\([^"]*\)".*/\1/' | sort | uniq -c | sed 's/^/    /' >&2 || true
}

# ---------------------------------------------------------------- scenarios

sc_healthy-tls() {
	begin healthy-tls
	start_server
	captures_both
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --conns 2 --duration 6s \
		--every 500ms --large-every 12 --watch-every 1s
	finish --transport tls --server $S4:8443 --conns 2 \
		--description "Two TLS connections, GET /small every 500 ms, GET /large (64 KiB) every 12th, a /watch stream with an event a second; no fault." \
		--captures "$BOTH_CAPTURES" \
		--verdict healthy --loss-direction none --want-no-errors \
		--notes "No fault injected. At the end of the run each connection closes the way Go closes it: client RST_STREAM (the cancelled /watch), GOAWAY NO_ERROR, TLS close_notify and FIN; the server's close_notify then reaches a socket the client has already closed, which answers with an RST. That RST is normal teardown, not a fault. On these sub-millisecond veths the kernel's tail loss probe may also resend a segment a few ms after the first copy when the peer delays its ACK; the peer D-SACKs it: an isolated spurious retransmission, not loss."
}

sc_blackhole-s2c-tls() {
	begin blackhole-s2c-tls
	start_server
	captures_both
	# Requests stop at 3 s so the connection idles: the health-check PING
	# (ReadIdleTimeout 2 s) is what discovers the black hole.
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --conns 1 --duration 15s \
		--every 500ms --large-every 0 --watch-every 30s --quiet-after 3s --quiet-for 6s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 5.6
	fault server_to_client "black hole" "ip saddr $S4 drop"
	at 11
	fault_end
	finish --transport tls --server $S4:8443 --conns 1 \
		--description "One TLS connection idles after 3 s (only an idle /watch stream); health-check PINGs every 2 s are answered until every server->client packet is dropped at the router; the next PING is not answered and after PingTimeout the client closes the connection. Redials fail (SYN-ACKs dropped) until the black hole ends." \
		--captures "$BOTH_CAPTURES" \
		--verdict lost_ping --loss-direction server_to_client --suspects blackhole --want-error "http2: client connection lost" \
		--notes "The first connection dies by the client's health check: the PING reaches the server, whose PING ACK (in server.pcap only) is dropped; after PingTimeout the client closes the socket, but its close_notify and FIN wait behind the unacknowledged PING, which the client's TCP keeps retransmitting (the server's ACKs are dropped too). When the fault ends the server's retransmissions reach the closed socket and draw RSTs. Redials during the fault: SYN arrives, SYN-ACK dropped (server.pcap shows SYN-ACK retransmissions)."
}

sc_blackhole-c2s-h2c() {
	begin blackhole-c2s-h2c
	start_server
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 1 --duration 12s \
		--every 500ms --large-every 0 --watch-every 30s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 3
	fault client_to_server "black hole" "ip saddr $C4 drop"
	at 9
	fault_end
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "One h2c connection with a request every 500 ms; from 3 s to 9 s every client->server packet is dropped at the router. Requests get no response, the connection goes read-idle, the health-check PING is dropped too and the client closes the connection; redials fail (SYNs dropped) until the fault ends." \
		--captures "$BOTH_CAPTURES" \
		--verdict lost_ping --loss-direction client_to_server --suspects blackhole --want-error "http2: client connection lost" \
		--notes "client.pcap shows the client's retransmissions of the first data it sent into the black hole (a HEADERS), never ACKed; the health-check PING never leaves the socket, queued behind them, so neither capture shows it. server.pcap shows nothing from the client during the fault."
}

# idle_blackhole_s2c runs blackhole-s2c-h2c's client and fault (its
# captures and server already started): one h2c connection whose requests
# stop at 3 s (the last at 2.5 s); only the /watch stream stays open and
# its next event is 30 s away, so nothing is sent either way until the
# health-check PING, ReadIdleTimeout (2 s) after the last frame the client
# read (about 4.5 s). The black hole starts in between, once both sides
# have everything ACKed. Sets BH_PORT, the connection's client port.
idle_blackhole_s2c() {
	start_client --addr $S4:8080 --tls=false --conns 1 --duration 10s \
		--every 500ms --large-every 0 --watch-every 30s --quiet-after 3s --quiet-for 4s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 2.7
	local port
	port=$(grep '"op":"dial"' "$OUT/client.log" | head -1 | sed 's/.*"local":"[^"]*:\([0-9]*\)".*/\1/')
	[ -n "$port" ] || die "no client port in client.log"
	BH_PORT=$port
	if ! tcp_wait "$NS_S" "( sport = :8080 )" quiet 1 || ! tcp_wait "$NS_C" "( dport = :8080 )" quiet 1; then
		SC_BAD="data still in flight when the black hole started"
		log "warning: $SC_BAD"
	fi
	fault server_to_client "black hole" "ip saddr $S4 counter drop"
	# The server sends nothing until it answers the PING: once its socket
	# holds unacknowledged data, the PING ACK has been dropped. The black
	# hole then narrows to this connection, in the same nft transaction:
	# the client's redial after the lost ping passes, while the dead
	# connection's server->client packets stay dropped until the captures
	# end (else the server's TCP would retransmit the PING ACK into
	# client.pcap the moment the path is back).
	if tcp_wait "$NS_S" "( sport = :8080 and dport = :$port )" unacked 3; then
		fault server_to_client "black hole (the lost connection only)" \
			"ip saddr $S4 tcp sport 8080 tcp dport $port counter drop" 0
	else
		SC_BAD="the server sent nothing 3 s into the black hole (no PING?)"
		log "warning: $SC_BAD"
	fi
	KEEP_FAULTS=1
}

sc_blackhole-s2c-h2c() {
	begin blackhole-s2c-h2c
	start_server
	captures_both
	idle_blackhole_s2c
	local port=$BH_PORT
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "One h2c connection (client port $port) idles after 3 s: only the /watch stream is open, nothing in flight. Then every server->client packet is dropped at the router. The client's health-check PING (ReadIdleTimeout 2 s) reaches the server; its PING ACK is dropped; after PingTimeout (1 s) the client closes the connection. Once the ACK has been dropped the black hole narrows to that one connection (until the captures end, so the server's retransmitted PING ACK never reaches the client); the client redials at once, unhindered, and its requests resume at 7 s." \
		--captures "$BOTH_CAPTURES" \
		--verdict lost_ping --loss-direction server_to_client --suspects blackhole --want-error "http2: client connection lost" \
		--notes "The connection from client port $port dies by the client's health check: after 2 s of silence its PING is the first frame on the wire and reaches the server, which ACKs it at once; the PING ACK is in server.pcap only. The client's TCP retransmits the PING (the server's TCP ACKs are dropped too; server.pcap shows these as spurious retransmissions with the server's dup ACKs, and the server's retransmissions of the PING ACK); the client's FIN stays queued behind the unacknowledged PING, so neither side sends a FIN or RST on this connection."
}

# notes_blackhole-s2c-h2c: the PING's frame numbers for truth.json, and
# a check that the run shows what the scenario is for.
notes_blackhole-s2c-h2c() {
	command -v tshark >/dev/null || { echo "(tshark missing: no frame numbers)"; return 0; }
	local p=$BH_PORT f cp ca sp sa
	f=(-d tcp.port==8080,http2 -o tcp.reassemble_out_of_order:TRUE -T fields -e frame.number)
	cp=$(tshark -r "$OUT/client.pcap" "${f[@]}" -Y "tcp.srcport==$p && http2.type==6 && http2.flags.ack.ping==0" 2>/dev/null | paste -sd, -)
	ca=$(tshark -r "$OUT/client.pcap" "${f[@]}" -Y "tcp.dstport==$p && http2.type==6 && http2.flags.ack.ping==1" 2>/dev/null | paste -sd, -)
	sp=$(tshark -r "$OUT/server.pcap" "${f[@]}" -Y "tcp.srcport==$p && http2.type==6 && http2.flags.ack.ping==0" 2>/dev/null | paste -sd, -)
	sa=$(tshark -r "$OUT/server.pcap" "${f[@]}" -Y "tcp.dstport==$p && http2.type==6 && http2.flags.ack.ping==1" 2>/dev/null | paste -sd, -)
	if [ -z "$cp" ] || [ -n "$ca" ] || [ -z "$sp" ] || [ -z "$sa" ]; then
		SC_BAD="PING/ACK not as intended: client.pcap PING [$cp] ACK [$ca], server.pcap PING [$sp] ACK [$sa]"
	fi
	echo "Frames (tshark -d tcp.port==8080,http2): the PING is client.pcap frame ${cp:-none} (no PING ACK in client.pcap${ca:+: found $ca}) and server.pcap frame ${sp:-none}; the PING ACK is server.pcap frame ${sa:-none}."
}

# multipoint-blackhole: blackhole-s2c-h2c captured at four points (the
# client, the router's interface towards the client, its interface towards
# the server, the server): the health-check PING reaches the server, its
# ACK leaves the server, passes router-s and is dropped in the router, so
# the placement names the hop between router-s and router-c.
sc_multipoint-blackhole() {
	begin multipoint-blackhole
	start_server
	captures_four
	idle_blackhole_s2c
	local port=$BH_PORT
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "blackhole-s2c-h2c captured at four points: one h2c connection (client port $port) idles after 3 s; then every server->client packet is dropped in the router, between its two interfaces. The client's health-check PING (ReadIdleTimeout 2 s) reaches the server; its PING ACK leaves the server, passes the router's server-side interface and is dropped; after PingTimeout (1 s) the client closes the connection. The black hole then narrows to that connection, and the client's redial passes." \
		--captures "$FOUR_CAPTURES" \
		--verdict lost_ping --loss-direction server_to_client --suspects blackhole --want-error "http2: client connection lost" \
		--notes "h2pcap analyze --point client=client.pcap --point router-c=router-c.pcap --point router-s=router-s.pcap --point server=server.pcap places the lost server->client packets, the PING ACK among them, between router-s and router-c."
}

# notes_multipoint-blackhole: where the PING and its ACK were seen.
notes_multipoint-blackhole() {
	command -v tshark >/dev/null || { echo "(tshark missing: no frame numbers)"; return 0; }
	local p=$BH_PORT f at pt ack out=""
	f=(-d tcp.port==8080,http2 -o tcp.reassemble_out_of_order:TRUE -T fields -e frame.number)
	for at in client router-c router-s server; do
		pt=$(tshark -r "$OUT/$at.pcap" "${f[@]}" -Y "tcp.srcport==$p && http2.type==6 && http2.flags.ack.ping==0" 2>/dev/null | paste -sd, -)
		ack=$(tshark -r "$OUT/$at.pcap" "${f[@]}" -Y "tcp.dstport==$p && http2.type==6 && http2.flags.ack.ping==1" 2>/dev/null | paste -sd, -)
		out+="$at.pcap: PING [${pt:-none}] ACK [${ack:-none}]; "
		case $at in
		client | router-c) [ -z "$ack" ] || SC_BAD="the PING ACK reached $at.pcap";;
		router-s | server) [ -n "$ack" ] || SC_BAD="no PING ACK in $at.pcap";;
		esac
		[ -n "$pt" ] || SC_BAD="no PING in $at.pcap"
	done
	echo "Frames (tshark -d tcp.port==8080,http2): $out"
}

sc_random-loss-both() {
	begin random-loss-both
	start_server --large-size 8192
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 3 --duration 11s \
		--every 500ms --large-every 5 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
	at 2
	fault both "random loss 8%" "meta l4proto tcp numgen random mod 100 < 8 drop"
	at 10
	fault_end
	finish --transport h2c --server $S4:8080 --conns 3 \
		--description "Three h2c connections (GET /small every 500 ms, GET /large 8 KiB every 5th, /watch events each second); 8% of TCP packets dropped at random in both directions from 2 s to 10 s." \
		--captures "$BOTH_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "Retransmissions in both directions on every connection; losses show as lost segments in the receiver's capture and as retransmissions in both."
}

# random-loss-gro: random server->client loss seen at a client whose
# interface merges received packets (GRO), as a Linux host's capture does:
# client.pcap holds segments of several packets each, refills included.
sc_random-loss-gro() {
	begin random-loss-gro
	# The client's side merges what it receives (the lab turns every
	# offload off; a real host's NIC and veth often have GRO on).
	ip netns exec "$NS_C" ethtool -K c0 gro on >/dev/null || die "ethtool -K c0 gro on failed"
	start_server --large-size 32768
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 9s \
		--every 300ms --large-every 3 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
	at 2
	fault server_to_client "random loss 3%" "ip saddr $S4 meta l4proto tcp numgen random mod 100 < 3 drop"
	at 8
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 300 ms, every 3rd a 32 KiB GET /large, /watch events each second); the client's interface has GRO on (every other lab interface has its offloads off), so client.pcap holds segments merged from several received packets; 3% of server->client TCP packets dropped at random from 2 s to 8 s." \
		--captures "$BOTH_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction server_to_client --suspects random_loss \
		--notes "client.pcap: the server's responses arrive as merged segments (up to tens of KB), the gaps the drops leave are refilled by merged segments of full-sized packets too; server.pcap: MTU-sized segments. No MTU black hole: full-sized packets pass throughout."
}

sc_oneway-loss-ipv6() {
	begin oneway-loss-ipv6
	start_server --large-size 8192
	captures_both
	start_client --addr "[$S6]:8443" --tls --keylog "$OUT/keylog.txt" --conns 2 --duration 12s \
		--every 500ms --large-every 5 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
	at 2
	fault server_to_client "random loss 15%" "ip6 saddr $S6 numgen random mod 100 < 15 drop"
	at 10
	fault_end
	finish --transport tls --client $C6 --server "[$S6]:8443" --conns 2 \
		--description "Two TLS connections over IPv6 (fd18:1::2 -> [fd18:2::2]:8443); 15% of server->client packets dropped from 2 s to 10 s, client->server untouched." \
		--captures "$BOTH_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction server_to_client --suspects random_loss \
		--notes "Retransmissions mostly from the server; the client capture misses the dropped segments (lost segment / out of order), the server capture has them all. A client retransmission can still happen when the server's ACK for it was dropped: the fault drops every server->client packet alike."
}

sc_graceful-shutdown() {
	begin graceful-shutdown
	start_server --graceful-after 4s
	local first=$SERVER_PID
	captures_both
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --conns 2 --duration 9s \
		--every 500ms --large-every 0 --watch-every 1s
	# A rolling restart: a new server process takes over once the old
	# one has drained and exited.
	wait "$first" || true
	forget "$first"
	local down
	down=$(now)
	start_server
	log "server restarted (old one exited at $down)"
	wait_client
	local refused="No SYN arrived while no server listened."
	if grep -q "connection refused" "$OUT/client.log"; then
		refused="Until the new server listened, SYNs were answered with RST,ACK by the server's kernel (connection refused, TTL 63 like every real server packet; see client_errors): not a middlebox reset."
	fi
	finish --transport tls --server $S4:8443 --conns 2 \
		--description "Two TLS connections; 4 s after its start the server calls http.Server.Shutdown: GOAWAY NO_ERROR on each connection, the /watch streams end, the connections close and the process exits; a new server process is started at once (rolling restart) and the client reconnects." \
		--captures "$BOTH_CAPTURES" \
		--verdict goaway --loss-direction none --suspects server_shutdown \
		--notes "GOAWAY NO_ERROR from the server on both first connections, then the client closes them (FIN). The old server process exited at $down. $refused No loss."
}

sc_too-many-pings() {
	begin too-many-pings
	start_pingserver --acks 5
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 1 --duration 8s \
		--every 1s --large-every 0 --watch=false --ping-every 300ms \
		--read-idle-timeout 2s --ping-timeout 1s
	finish --transport h2c --server $S4:8080 --conns 1 --ping-every 0.3 \
		--description "An h2c client calls ClientConn.Ping every 300 ms and GETs every second against a Framer-based server that, like grpc-go's keepalive enforcement, ACKs 5 PINGs per connection and then sends GOAWAY ENHANCE_YOUR_CALM with debug data \"too_many_pings\" and closes." \
		--captures "$BOTH_CAPTURES" \
		--verdict goaway --loss-direction none --suspects too_many_pings --want-error EOF \
		--notes "Each connection that lives to send a 6th PING gets GOAWAY ENHANCE_YOUR_CALM with debug data too_many_pings in reply, then the server's FIN; the pending ClientConn.Ping fails with plain EOF (x/net does not surface the GOAWAY there; its CountError hook logs recv_goaway_ENHANCE_YOUR_CALM). The client reconnects on its next request. The last connection is ended by the client (GOAWAY NO_ERROR) when the run stops."
}

sc_middlebox-reset() {
	begin middlebox-reset
	start_server
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 10s \
		--every 500ms --large-every 0 --watch-every 1s
	at 3
	local port
	port=$(grep '"op":"dial"' "$OUT/client.log" | grep '"conn":0,' | head -1 | sed 's/.*"local":"[^"]*:\([0-9]*\)".*/\1/')
	[ -n "$port" ] || die "no client port for conn 0 in client.log"
	# Both halves, as a firewall that forgets a flow does: each side gets an
	# RST that the router forges in the other side's name (TTL 64, while
	# real packets from the peer arrive with TTL 63 after the router).
	fault both "reset" "ip saddr $C4 tcp sport $port tcp dport 8080 reject with tcp reset; ip saddr $S4 tcp sport 8080 tcp dport $port reject with tcp reset"
	at 6
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections; at 3 s the router rejects the packets of one flow (client port $port) with TCP resets in both directions, as a stateful firewall that dropped the flow would; rules removed at 6 s." \
		--captures "$BOTH_CAPTURES" \
		--verdict reset --loss-direction none --suspects middlebox_reset --want-error "connection reset by peer" \
		--notes "Only the connection from client port $port is reset; the RSTs come from the router: TTL 64 in the captures where the real peer's packets have TTL 63. The other connection is unaffected."
}

# traceroute_loop SECONDS ROUNDS PORT: from the client namespace, ROUNDS
# runs of `traceroute -T` (TCP SYN probes, TTL 1 up; -q 3 probes per TTL),
# one every SECONDS, in the background; TRACE_PID is the loop.
traceroute_loop() {
	local every=$1 rounds=$2 port=$3
	command -v traceroute >/dev/null || die "traceroute missing (apt-get install traceroute; make deps)"
	bg "$NS_C" bash -c "for i in \$(seq $rounds); do traceroute -T -n -p $port -q 3 -w 1 $S4 >>'$OUT/traceroute.txt' 2>&1; sleep $every; done"
	TRACE_PID=$LAST
}

sc_traceroute-probes() {
	begin traceroute-probes
	start_server
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 10s \
		--every 500ms --large-every 0 --watch-every 1s
	at 1
	traceroute_loop 1.5 5 8080
	at 3
	local port
	port=$(grep '"op":"dial"' "$OUT/client.log" | grep '"conn":0,' | head -1 | sed 's/.*"local":"[^"]*:\([0-9]*\)".*/\1/')
	[ -n "$port" ] || die "no client port for conn 0 in client.log"
	fault both "reset" "ip saddr $C4 tcp sport $port tcp dport 8080 reject with tcp reset; ip saddr $S4 tcp sport 8080 tcp dport $port reject with tcp reset"
	at 6
	fault_end
	wait "$TRACE_PID" || true
	forget "$TRACE_PID"
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "As middlebox-reset (two h2c connections; 3-6 s the router rejects one flow, client port $port, with TCP resets both ways), while the client host runs traceroute -T -p 8080 -q 3 to the server five times, from 1 s, 1.5 s apart: TCP SYN probes with TTL 1, 2, 3, ... The TTL-1 probes expire at the router (ICMP time exceeded from 198.18.1.1); the others reach the server, whose SYN-ACK the client's kernel answers with an RST (no socket)." \
		--captures "$BOTH_CAPTURES" \
		--verdict reset --loss-direction none --suspects middlebox_reset --want-error "connection reset by peer" \
		--notes "Only the connection from client port $port is reset by the router (TTL 64 where the real peer's packets have 63). The probes are not connections: counted apart (summary.probes), never judged, never used for the capture point. traceroute.txt is the prober's own output."
}

sc_ping-close() {
	begin ping-close
	# The PING ACK comes 40 ms after the PING (a far or busy server), so
	# each connection is closed before its PING's answer arrives.
	start_pingserver --acks 100 --ack-delay 40ms
	captures_both
	bg "$NS_C" "$BIN" pingclose --log "$OUT/client.log" --addr $S4:8080 --rounds 8 --every 300ms
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "A load generator (x/net http2.Transport, h2c) opens a connection, GETs /small, sends a PING (ClientConn.Ping) and closes the connection (ClientConn.Close) 7 to 18 ms later without waiting for the answer; 8 rounds, one connection at a time. The server (pingserver --ack-delay 40ms, as a far or busy server) answers each PING 40 ms after it came, after the client closed. No fault." \
		--captures "$BOTH_CAPTURES" \
		--verdict healthy --loss-direction none --want-no-errors \
		--notes "Every connection ends with a client PING without ACK before the client's FIN, but the close came 7-18 ms after the PING (client.log: close_after_ping_ms), far sooner than any PingTimeout (x/net and client-go 15 s, the lab's 1 s): the client closed for its own reasons, no PING was lost. The late PING ACK reaches the closed socket, which answers with an RST."
}

# notes_ping-close checks with tshark that client.pcap shows what the
# scenario is for: connections whose client closed (FIN) within 20 ms of
# its PING, before the PING's ACK came.
notes_ping-close() {
	command -v tshark >/dev/null || { SC_BAD="tshark missing: the PING-close timing not checked"; return 0; }
	local out
	out=$(tshark -r "$OUT/client.pcap" -d tcp.port==8080,http2 -Y 'http2.type == 6 || (tcp.flags.fin == 1 && tcp.dstport == 8080)' \
		-T fields -e tcp.stream -e frame.time_epoch -e http2.flags.ack.ping -e tcp.flags.fin -E separator=, 2>/dev/null |
		awk -F, '$4 == "1" || $4 == "True" { if (!($1 in fin)) fin[$1] = $2; next }
			$3 == "0" || $3 == "False" { if (!($1 in ping)) ping[$1] = $2; next }
			{ if (!($1 in ack)) ack[$1] = $2 }
			END { n = 0
				for (s in ping) if ((s in fin) && (s in ack) && fin[s] > ping[s] && fin[s] - ping[s] < 0.02 && ack[s] > fin[s]) n++
				printf "%d", n }')
	[ "${out:-0}" -gt 0 ] || SC_BAD="no connection closed within 20 ms of its PING before the ACK"
	echo "client.pcap: $out connections closed by the client within 20 ms of their PING, before its ACK came."
}

# notes_dial-race checks client.log for the race: connections the client
# closed within a second of their dial, without a request.
notes_dial-race() {
	local n
	n=$(grep '"msg":"connection closed"' "$OUT/client.log" | grep -c '"after_dial_ms":[0-9]\{1,3\}\.' || true)
	[ "$n" -gt 0 ] || SC_BAD="no spare connection: the requests did not race"
	echo "client.log: $n connections closed within a second of their dial (the spares)."
}

sc_dial-race() {
	begin dial-race
	start_server
	captures_both
	bg "$NS_C" "$BIN" dialrace --log "$OUT/client.log" --keylog "$OUT/keylog.txt" --addr $S4:8443 --concurrent 6 --every 500ms --duration 4s
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
	finish --transport tls --server $S4:8443 --conns 6 \
		--description "net/http's Transport with HTTP/2 over TLS (ForceAttemptHTTP2, key log) fires 6 requests at once at its start: each dials its own connection, and as their TLS handshakes finish HTTP/2's pool keeps one and closes the others at once (the dial race); then a GET /small every 500 ms on the kept connection for 4 s. No fault." \
		--captures "$BOTH_CAPTURES" \
		--verdict healthy --loss-direction none --want-no-errors \
		--notes "The spare connections (client.log: closed a few ms after their dial, no request) carry a TLS handshake and the client's close (close_notify, then FIN or, with the server's SETTINGS unread, RST) and nothing else: benign, a spare of the dial race. The kept connection serves every request."
}

# notes_traceroute-probes counts each capture's probes with tshark for
# truth.json (probes): SYNs without ACK with TTL 30 or less, and ICMP time
# exceeded errors (the quoted TCP shows in tcp.flags too: excluded by
# requiring no icmp in the frame for the SYNs).
notes_traceroute-probes() { count_probes; }

# count_probes writes to truth.json's probes the traceroute probes that
# client.pcap and server.pcap hold (tshark: SYNs with TTL at most 30, ICMP
# time exceeded), for TestProbesLab.
count_probes() {
	command -v tshark >/dev/null || { SC_BAD="tshark missing: probes not counted"; return 0; }
	local f syns te
	for f in client.pcap server.pcap; do
		syns=$(tshark -r "$OUT/$f" -Y '!icmp && tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.ttl <= 30' 2>/dev/null | wc -l)
		te=$(tshark -r "$OUT/$f" -Y 'icmp.type == 11' 2>/dev/null | wc -l)
		printf '{"capture":"%s","syns":%d,"icmp_time_exceeded":%d}\n' "$f" "$syns" "$te" >>"$TMP/probes.jsonl"
		echo "$f: $syns probe SYNs, $te ICMP time exceeded."
	done
}

sc_mtu-blackhole() {
	begin mtu-blackhole
	start_server --large-size 16384
	captures_both
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --conns 1 --duration 12s \
		--every 500ms --large-every 4 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 2.5
	fault server_to_client "mtu > 1000 bytes dropped" "ip saddr $S4 ip length > 1000 drop"
	at 9
	fault_end
	finish --transport tls --server $S4:8443 --conns 1 \
		--description "One TLS connection; from 2.5 s to 9 s the router drops server->client IPv4 packets longer than 1000 bytes (no ICMP), small ones pass. GET /large (16 KiB) every 4th request stalls; everything after the dropped segment is stuck behind it in TCP." \
		--captures "$BOTH_CAPTURES" \
		--verdict lost_ping --loss-direction server_to_client --suspects mtu_blackhole --want-error "http2: client connection lost" \
		--notes "server.pcap: the server retransmits full-sized segments (len > 1000) again and again while its small segments get through and are seen in client.pcap; client.pcap has no server packet over 1000 bytes during the fault."
}

sc_midconn() {
	begin midconn
	start_server
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 13s \
		--every 500ms --large-every 0 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	# Start capturing 3 s late: no SYN, no preface, no SETTINGS.
	at 3
	captures_both
	at 6
	fault server_to_client "black hole" "ip saddr $S4 drop"
	at 10
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections established before the captures start (tcpdump started 3 s late: no handshake, no connection preface, no SETTINGS in either pcap); from 6 s to 10 s every server->client packet is dropped, the client's health-check PINGs go unanswered and it closes both connections, then redials." \
		--captures "client.pcap=tcpdump -i c0 started 3 s after the client;server.pcap=tcpdump -i s0 started 3 s after the client" \
		--verdict lost_ping --loss-direction server_to_client --suspects blackhole,midstream_capture --want-error "http2: client connection lost" \
		--notes "The first connections begin mid-stream in the captures; the redialed ones after the fault have a full handshake."
}

sc_sll2-any() {
	begin sll2-any
	start_server --large-size 8192
	capture "$NS_C" any "$OUT/client.pcap"
	capture "$NS_S" s0 "$OUT/server.pcap"
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --conns 1 --duration 10s \
		--every 500ms --large-every 4 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
	at 3
	fault server_to_client "random loss 20%" "ip saddr $S4 numgen random mod 100 < 20 drop"
	at 8
	fault_end
	finish --transport tls --server $S4:8443 --conns 1 \
		--description "One TLS connection; client.pcap is tcpdump -i any in the client namespace (link type LINUX_SLL2); 20% of server->client packets dropped from 3 s to 8 s." \
		--captures "client.pcap=tcpdump -i any in the client namespace (LINUX_SLL2);server.pcap=tcpdump -i s0 in the server namespace" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction server_to_client --suspects random_loss \
		--notes "Server retransmissions during the loss window."
}

# blackhole_s2c_tls12 NAME SUITE WHAT: blackhole-s2c-tls over TLS 1.2
# with one ECDHE cipher suite (the server's certificate is ECDSA), and a
# longer quiet spell before the fault so several health-check PINGs are
# answered first: their records (46 bytes with AES-GCM, 38 with
# ChaCha20-Poly1305) are what PING inference from ciphertext looks for.
blackhole_s2c_tls12() {
	local name=$1 suite=$2 what=$3
	begin "$name"
	start_server
	captures_both
	# The last request goes out at 2.5 s; health-check PINGs follow every
	# ReadIdleTimeout (about 4.5, 6.5, 8.5 s), all answered. The black
	# hole starts halfway to the next one (about 10.5 s), which is lost;
	# the client closes about 11.5 s.
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --tls-version 1.2 --cipher-suites "$suite" \
		--conns 1 --duration 14s --every 500ms --large-every 0 --watch-every 30s --quiet-after 3s --quiet-for 10s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 9.5
	fault server_to_client "black hole" "ip saddr $S4 drop"
	at 12.3
	fault_end
	finish --transport tls --server $S4:8443 --conns 1 \
		--description "As blackhole-s2c-tls over TLS 1.2 $what ($suite, offered by the client alone). One connection idles after 3 s (only an idle /watch stream); its health-check PINGs every 2 s are answered (three or more) until every server->client packet is dropped at the router at 9.5 s; the next PING is not answered and after PingTimeout the client closes the connection. A redial waits for its SYN-ACK until the black hole ends at 12.3 s." \
		--captures "$BOTH_CAPTURES" \
		--verdict lost_ping --loss-direction server_to_client --suspects blackhole --want-error "http2: client connection lost" \
		--notes "The lost connection: the last PING reaches the server, whose PING ACK (in server.pcap only) is dropped; after PingTimeout the client closes the socket, but its close_notify and FIN wait behind the unacknowledged PING, which the client's TCP keeps retransmitting (the server's ACKs are dropped too). When the fault ends the server's retransmissions reach the closed socket and draw RSTs."
}

sc_blackhole-s2c-tls12-gcm() {
	blackhole_s2c_tls12 blackhole-s2c-tls12-gcm TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 AES-128-GCM
}

sc_blackhole-s2c-tls12-chacha() {
	blackhole_s2c_tls12 blackhole-s2c-tls12-chacha TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 ChaCha20-Poly1305
}

notes_blackhole-s2c-tls12-gcm() { tls_ping_notes; }
notes_blackhole-s2c-tls12-chacha() { tls_ping_notes; }

sc_midconn-tls() {
	begin midconn-tls
	# Paced at 20 kB/s, the 32 KiB /large asked at 1 s streams until about
	# 2.7 s, so the captures (started at 1.6 s) begin inside it: TCP fills
	# its segments from a paced backlog, so record boundaries fall
	# mid-segment and the first server segment captured starts inside a
	# TLS record.
	start_server --large-size 32768 --pacing-rate 20000
	# Reference captures from the start, kept out of testdata: with their
	# handshake tshark decrypts the PINGs, which the notes then find in the
	# mid-connection captures by TCP sequence number.
	capture "$NS_C" c0 "$TMP/ref-client.pcap"
	capture "$NS_S" s0 "$TMP/ref-server.pcap"
	# GODEBUG=cpu.aes=off: the client offers ChaCha20-Poly1305 first, as
	# one without AES hardware does, and the Go server follows: the only
	# way to a TLS 1.3 ChaCha20 run with crypto/tls.
	CLIENT_ENV=GODEBUG=cpu.aes=off start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --tls-version 1.3 \
		--conns 1 --duration 14s --every 500ms --large-every 2 --watch-every 30s --quiet-after 1.2s --quiet-for 11.8s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 1.6
	captures_both
	# The /large ends about 2.7 s; PINGs about 4.7, 6.7, 8.7 s answered,
	# the one about 10.7 s lost, the client closes about 11.7 s.
	at 9.7
	fault server_to_client "black hole" "ip saddr $S4 drop"
	at 12.3
	fault_end
	finish --transport tls --server $S4:8443 --conns 1 \
		--description "One TLS 1.3 connection (TLS_CHACHA20_POLY1305_SHA256: the client runs with GODEBUG=cpu.aes=off) established before the captures start: tcpdump starts 1.6 s after the client, while the server streams a 32 KiB /large paced at 20 kB/s (SO_MAX_PACING_RATE), so neither capture has the handshake and the first server segment starts inside a TLS record. The connection then idles (only an idle /watch stream); health-check PINGs every 2 s are answered until every server->client packet is dropped at 9.7 s; the next PING is not answered and after PingTimeout the client closes. The redial after the black hole ends at 12.3 s has a full handshake." \
		--captures "client.pcap=tcpdump -i c0 started 1.6 s after the client;server.pcap=tcpdump -i s0 started 1.6 s after the client" \
		--verdict lost_ping --loss-direction server_to_client --suspects blackhole,midstream_capture --want-error "http2: client connection lost" \
		--notes "Without the handshake the first connection cannot be decrypted from these captures (keylog.txt has its secrets, but nothing ties them to it): its PINGs show only as record sizes (39 bytes in TLS 1.3). Their frame numbers below come from full captures of the same run, decrypted and matched by TCP sequence number."
}

# notes_midconn-tls: the PINGs' frames, and a check that client.pcap's
# first server segment starts inside a TLS record (no record header).
notes_midconn-tls() {
	tls_ping_notes "$TMP/ref-client.pcap" "$TMP/ref-server.pcap"
	command -v tshark >/dev/null || return 0
	local first
	first=$(tshark -r "$OUT/client.pcap" -n -Y 'tcp.srcport == 8443 && tcp.len > 0' -c 1 -T fields -e frame.number -e tcp.payload 2>/dev/null)
	case ${first#*$'\t'} in
	170303* | "") SC_BAD="client.pcap's first server segment starts with a TLS record header: ${first:0:40}" ;;
	*) echo "client.pcap's first server segment (frame ${first%%$'\t'*}) starts inside a TLS record." ;;
	esac
}

sc_oneway-capture() {
	begin oneway-capture
	start_server
	# Each capture holds one direction only, as a filter on the source
	# host (or asymmetric routing, or a SPAN of one direction) makes it:
	# the client's packets at the client, the server's at the server.
	capture "$NS_C" c0 "$OUT/client.pcap" src host $C4
	capture "$NS_S" s0 "$OUT/server.pcap" src host $S4
	# Requests stop at 2 s; the idle connection's health-check PINGs
	# (ReadIdleTimeout 2 s) go out about 4 and 6 s and are answered.
	start_client --addr $S4:8080 --tls=false --conns 1 --duration 8s \
		--every 500ms --large-every 0 --watch-every 30s --quiet-after 2s --quiet-for 5s \
		--read-idle-timeout 2s --ping-timeout 1s
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "One h2c connection, no fault; requests stop at 2 s so the connection idles and the client's health-check PINGs (ReadIdleTimeout 2 s) go out and are answered; requests resume at 7 s. client.pcap holds only the client's packets (tcpdump src host $C4 at the client), server.pcap only the server's (src host $S4 at the server): each capture has one direction of the connection." \
		--captures "client.pcap=tcpdump -i c0 src host $C4 in the client namespace (client->server only);server.pcap=tcpdump -i s0 src host $S4 in the server namespace (server->client only)" \
		--verdict healthy --loss-direction none --want-no-errors \
		--notes "No fault, no client error: every PING was answered. client.pcap has the client's PINGs but none of the server's PING ACKs (the filter dropped them), while the client's ACK numbers advance over server data the capture never holds; server.pcap has the PING ACKs but not the PINGs. Neither capture can show a lost PING."
}

# notes_oneway-capture: the PINGs each capture holds, and capture_quality.
notes_oneway-capture() {
	printf '{"client.pcap":{"one_direction":"client_to_server"},"server.pcap":{"one_direction":"server_to_client"}}\n' >"$TMP/quality.json"
	command -v tshark >/dev/null || { echo "(tshark missing: no PING frames)"; return 0; }
	local f cp sa
	f=(-d tcp.port==8080,http2 -T fields -e frame.number)
	cp=$(tshark -r "$OUT/client.pcap" "${f[@]}" -Y "http2.type==6 && http2.flags.ack.ping==0" 2>/dev/null | paste -sd, -)
	sa=$(tshark -r "$OUT/server.pcap" "${f[@]}" -Y "http2.type==6 && http2.flags.ack.ping==1" 2>/dev/null | paste -sd, -)
	[ -n "$cp" ] && [ -n "$sa" ] || SC_BAD="no health-check PING in the captures: client.pcap PINGs [$cp], server.pcap PING ACKs [$sa]"
	echo "The client's PINGs are client.pcap frames ${cp:-none}; their ACKs are server.pcap frames ${sa:-none}."
}

sc_capture-drops() {
	begin capture-drops
	start_server --large-size 131072
	# client.pcap: a capture that cannot keep up. A 32 KiB kernel buffer
	# (-B 32) and tcpdump held still for 500 ms (SIGSTOP, as a busy
	# machine deschedules it) during a 128 KiB response: the ring fills
	# and the kernel drops what comes next, which tcpdump reports as
	# "packets dropped by kernel". A full-buffer capture of the same
	# interface runs alongside ($TMP, not kept) to count what it missed.
	# All cut packets at 128 bytes (headers and an HTTP/2 frame header)
	# to keep the files small.
	capture "$NS_C" c0 "$OUT/client.pcap" -B 32 -s 128
	DROP_PID=${CAP_PIDS[-1]} DROP_ERR=${CAP_ERRS[-1]}
	capture "$NS_C" c0 "$TMP/full-client.pcap" -B 65536 -s 128
	FULL_ERR=${CAP_ERRS[-1]}
	capture "$NS_S" s0 "$OUT/server.pcap" -s 128
	start_client --addr $S4:8080 --tls=false --conns 1 --duration 2s \
		--every 250ms --large-every 1 --watch=false
	at 1.1
	kill -STOP "$DROP_PID"
	sleep 0.5
	kill -CONT "$DROP_PID"
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "One h2c connection downloads a 128 KiB /large every 250 ms for 2 s; no fault in the network. client.pcap is a tcpdump with a 32 KiB buffer (-B 32) that is held still (SIGSTOP) for 500 ms during the downloads: the kernel drops packets the capture never gets. A full-buffer capture of the same interface, taken alongside and not kept, is the reference; server.pcap is a normal capture at the server." \
		--captures "client.pcap=tcpdump -i c0 -B 32 -s 128 in the client namespace, stopped for 500 ms at 1.1 s (drops);server.pcap=tcpdump -i s0 -s 128 in the server namespace" \
		--verdict healthy --loss-direction none --want-no-errors \
		--notes "No packet was lost in the network: client.pcap lacks packets the client received and acknowledged. capture_quality gives tcpdump's own count of kernel drops, and the packets and server->client payload bytes of the full capture that client.pcap lacks."
}

# notes_capture-drops: what client.pcap missed, against the full capture.
notes_capture-drops() {
	local dropped recv full small fb sb
	dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$DROP_ERR")
	recv=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' "$DROP_ERR")
	[ -n "$dropped" ] && [ "$dropped" != 0 ] || SC_BAD="tcpdump dropped nothing: $(tr '\n' ' ' <"$DROP_ERR")"
	grep -q "^0 packets dropped by kernel" "$FULL_ERR" || SC_BAD="the reference capture dropped packets too: $(tr '\n' ' ' <"$FULL_ERR")"
	if ! command -v tshark >/dev/null; then
		SC_BAD="tshark missing: no reference counts"
		printf '{"client.pcap":{"kernel_dropped":%d,"received_by_filter":%d}}\n' "${dropped:-0}" "${recv:-0}" >"$TMP/quality.json"
		return 0
	fi
	full=$(tshark -r "$TMP/full-client.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
	small=$(tshark -r "$OUT/client.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
	fb=$(tshark -r "$TMP/full-client.pcap" -Y 'tcp.srcport == 8080' -T fields -e tcp.len 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	sb=$(tshark -r "$OUT/client.pcap" -Y 'tcp.srcport == 8080' -T fields -e tcp.len 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	awk -v d="${dropped:-0}" -v r="${recv:-0}" -v f="$full" -v s="$small" -v fb="$fb" -v sb="$sb" 'BEGIN {
		printf "{\"client.pcap\":{\"kernel_dropped\":%d,\"received_by_filter\":%d,\"packets\":%d,\"full_capture_packets\":%d,\"missed_packets\":%d,\"missed_fraction\":%.4f,\"server_payload_bytes\":%d,\"full_capture_server_payload_bytes\":%d,\"missed_server_payload_bytes\":%d,\"missed_server_payload_fraction\":%.4f}}\n",
			d, r, s, f, f - s, (f > 0 ? (f - s) / f : 0), sb, fb, fb - sb, (fb > 0 ? (fb - sb) / fb : 0) }' >"$TMP/quality.json"
	echo "tcpdump: $dropped packets dropped by kernel, $recv received by filter; client.pcap has $small packets, the full capture $full ($((full - small)) missed); server->client payload $sb of $fb bytes."
}

# topo_up_hops: the lab path with one more router on each side of the
# router namespace, so that a capture there sees both ends' packets
# already forwarded once (TTL 63), as on a load balancer or a core
# router: client - rta - rtr - rtb - server.
#
#   c0 198.18.1.2 | ca 198.18.1.1  ar 198.18.3.1 | ra 198.18.3.2  rb 198.18.4.1 | br 198.18.4.2  bs 198.18.2.1 | s0 198.18.2.2
topo_up_hops() {
	local ns
	for ns in "$NS_C" "$NS_A" "$NS_R" "$NS_B" "$NS_S"; do
		ip netns add "$ns"
		quiet_ipv6 "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_C" link add c0 type veth peer name ca netns "$NS_A"
	ip -n "$NS_A" link add ar type veth peer name ra netns "$NS_R"
	ip -n "$NS_R" link add rb type veth peer name br netns "$NS_B"
	ip -n "$NS_B" link add bs type veth peer name s0 netns "$NS_S"
	local spec n d a
	for spec in "$NS_C c0 $C4/24" "$NS_A ca 198.18.1.1/24" "$NS_A ar 198.18.3.1/24" "$NS_R ra 198.18.3.2/24" \
		"$NS_R rb 198.18.4.1/24" "$NS_B br 198.18.4.2/24" "$NS_B bs 198.18.2.1/24" "$NS_S s0 $S4/24"; do
		read -r n d a <<<"$spec"
		ip -n "$n" addr add "$a" dev "$d"
		offloads_off "$n" "$d"
		ip -n "$n" link set dev "$d" up
	done
	ip -n "$NS_C" route add 198.18.2.0/24 via 198.18.1.1
	ip -n "$NS_A" route add 198.18.2.0/24 via 198.18.3.2
	ip -n "$NS_R" route add 198.18.1.0/24 via 198.18.3.1
	ip -n "$NS_R" route add 198.18.2.0/24 via 198.18.4.2
	ip -n "$NS_B" route add 198.18.1.0/24 via 198.18.4.1
	ip -n "$NS_S" route add 198.18.1.0/24 via 198.18.2.1
	for ns in "$NS_A" "$NS_R" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	done
	# The faults chain of this path is on rtb, beyond the capturing
	# router: loss between the capture point and the server.
	ip netns exec "$NS_B" nft add table inet lab
	ip netns exec "$NS_B" nft add chain inet lab faults '{ type filter hook forward priority 0; policy accept; }'
}

sc_router-capture() {
	begin router-capture
	# begin made the usual three namespaces; this path has five.
	topo_down
	topo_up_hops
	start_server
	capture "$NS_C" c0 "$OUT/client.pcap"
	capture "$NS_R" ra "$OUT/router-c.pcap"
	capture "$NS_R" rb "$OUT/router-s.pcap"
	capture "$NS_S" s0 "$OUT/server.pcap"
	# A request every 500 ms is alone in flight: a lost one is sent again
	# by a timer (a retransmission to Wireshark), not within a few ms on
	# the next request's SACK (an "out-of-order" segment on these
	# sub-millisecond links).
	start_client --addr $S4:8080 --tls=false --conns 1 --duration 9s \
		--every 500ms --large-every 0 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
	at 2
	# fault() adds to the router namespace's chain; this one is on rtb.
	local out
	out=$(ip netns exec "$NS_B" nft --echo --handle add rule inet lab faults ip saddr $C4 numgen random mod 100 '<' 40 drop)
	F_HANDLE+=("$(sed -n 's/.*# handle \([0-9]*\).*/\1/p' <<<"$out")") F_START+=("$(now)") F_DIR+=(client_to_server)
	F_WHAT+=("random loss 40% at rtb, between the capturing router and the server") F_RULE+=("ip saddr $C4 numgen random mod 100 < 40 drop") F_END+=("")
	log "fault on: ${F_WHAT[0]}"
	at 7
	ip netns exec "$NS_B" nft delete rule inet lab faults handle "${F_HANDLE[0]}"
	F_END[0]=$(now)
	log "fault off: ${F_WHAT[0]}"
	finish --transport h2c --server $S4:8080 --conns 1 \
		--description "One h2c connection across two routers on each side of the capturing one (client - rta - rtr - rtb - server), GET /small every 500 ms and /watch events each second; from 2 s to 7 s 40% of client->server packets are dropped at rtb, beyond the capturing router, toward the server. router-c.pcap and router-s.pcap are the router's two interfaces (towards the client, towards the server): there both ends' packets arrive already forwarded once (TTL 63)." \
		--captures "client.pcap=tcpdump -i c0 in the client namespace;router-c.pcap=tcpdump -i ra in the middle router namespace (towards the client);router-s.pcap=tcpdump -i rb in the middle router namespace (towards the server);server.pcap=tcpdump -i s0 in the server namespace" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction client_to_server --suspects random_loss \
		--notes "The router's captures see the client's data pass toward the server, then the client's retransmissions of it, while the server's packets (its ACKs, /watch events) show it never got the data: lost between the router and the server. The server's packets cross two routers to the client (TTL 62 in client.pcap), the client's two to the server."
}

notes_router-capture() {
	printf '{"router-c.pcap":{"capture_point":"middle","loss_location":"between this capture point and the server"},"router-s.pcap":{"capture_point":"middle","loss_location":"between this capture point and the server"}}\n' >"$TMP/quality.json"
	command -v tshark >/dev/null || { echo "(tshark missing: retransmissions not counted)"; return 0; }
	# The point of the run is data lost beyond the router and sent again
	# through it. A loss the client repairs within a few ms (RACK on these
	# sub-millisecond links) is an "out-of-order" segment to Wireshark's
	# rules, not a retransmission; a run with only those, or whose drops
	# hit only ACKs, shows nothing to place.
	local n
	n=$(tshark -r "$OUT/router-s.pcap" -Y "ip.src == $C4 && tcp.analysis.retransmission" -T fields -e frame.number 2>/dev/null | wc -l)
	[ "$n" -gt 1 ] || SC_BAD="only $n client retransmission(s) through the router"
	echo "router-s.pcap has $n client->server retransmissions (tshark)."
}

# multipoint-loss: the usual path (client - router - server) captured at
# four points: the client, the router's two interfaces (towards the
# client, towards the server) and the server. The router drops packets
# at random each way in its forward hook, after the capture on the
# interface they came in by and before the one they leave by: the loss
# is between router-c and router-s client->server, between router-s and
# router-c server->client, and every other hop is clean. Each direction
# is a fault of its own with an nft counter, so truth.json has the drops
# per hop.
sc_multipoint-loss() {
	begin multipoint-loss
	start_server --large-size 4096
	captures_four
	start_client_multipoint $S4:8080
	at 2
	fault client_to_server "random loss 10% client->server in the router" "ip saddr $C4 meta l4proto tcp numgen random mod 100 < 10 counter drop"
	fault server_to_client "random loss 6% server->client in the router" "ip saddr $S4 meta l4proto tcp numgen random mod 100 < 6 counter drop"
	at 8
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 300 ms, every 10th /large of 4 KiB, /watch events each second) captured at four points: the client, the router's interface towards the client, its interface towards the server, and the server. From 2 s to 8 s the router drops 10% of client->server and 6% of server->client TCP packets at random (nft numgen with counters), between its two interfaces." \
		--captures "$FOUR_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "h2pcap analyze --point client=client.pcap --point router-c=router-c.pcap --point router-s=router-s.pcap --point server=server.pcap places every loss between router-c and router-s (client->server) or router-s and router-c (server->client): the faults' packet counts are the drops of those two hops."
}

notes_multipoint-loss() {
	faults_counted 0 1
	echo "The router dropped ${F_COUNT[0]:-?} client->server and ${F_COUNT[1]:-?} server->client packets (nft counters)."
}

# multipoint-icmp: multipoint-loss's four points, where the router stops
# some packets and says so with an ICMP error, and loses others silently.
# A firewall rule rejects 6% of the client's data packets with ICMP
# administratively prohibited (Linux TCP takes it as a soft error and
# sends the data again), traceroute -T probes from the client expire at
# the router (ICMP time exceeded), and 4% of server->client packets are
# dropped without a word. The router's ICMP rate limit is off, so every
# stopped packet is answered.
sc_multipoint-icmp() {
	begin multipoint-icmp
	inR sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 >/dev/null
	start_server --large-size 4096
	captures_four
	start_client_multipoint $S4:8080
	at 1
	traceroute_loop 1.5 3 8080
	at 2
	# Data only (longer than a pure ACK with timestamps, 52 bytes): an
	# ICMP error quotes the sequence number, which a pure ACK shares
	# with the data after it.
	fault client_to_server "6% of client->server data rejected with ICMP admin-prohibited in the router" "ip saddr $C4 tcp dport 8080 ip length > 60 numgen random mod 100 < 6 counter reject with icmp type admin-prohibited"
	# Data only here too: the hop table counts packets that carry
	# sequence space, so the counter is its truth.
	fault server_to_client "random loss 4% of server->client data in the router" "ip saddr $S4 meta l4proto tcp ip length > 60 numgen random mod 100 < 4 counter drop"
	at 8
	fault_end
	wait "$TRACE_PID" || true
	forget "$TRACE_PID"
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 300 ms, every 10th /large of 4 KiB, /watch events each second) captured at four points: the client, the router's interface towards the client, its interface towards the server, and the server. From 2 s to 8 s the router rejects 6% of the client's data packets with ICMP administratively prohibited (type 3 code 13; the client's TCP sends them again) and drops 4% of server->client data packets silently; from 1 s the client runs traceroute -T -p 8080 -q 3 to the server three times, whose TTL-1 probes expire at the router (ICMP time exceeded from 198.18.1.1)." \
		--captures "$FOUR_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "h2pcap analyze --point client=client.pcap --point router-c=router-c.pcap --point router-s=router-s.pcap --point server=server.pcap: between router-c and router-s, client->server, the rejected packets and the expired probes are stopped and said so (hops icmp), not lost; server->client the silent drops are lost (the fault's counter)."
}

notes_multipoint-icmp() {
	faults_counted 0 1
	echo "The router rejected ${F_COUNT[0]:-?} client->server data packets with ICMP and dropped ${F_COUNT[1]:-?} server->client packets (nft counters)."
	count_probes
}

# multipoint-vxlan: multipoint-loss's path with a VXLAN overlay on the
# client's side, as between a pod and its node on a Kubernetes overlay
# network: the client's address 198.18.5.2 is on vx0 (VNI 42, UDP 4789)
# over the c0-rc underlay, the router ends the tunnel and routes to the
# server in the clear. client.pcap (c0) and router-c.pcap (rc) hold the
# encapsulated packets, router-s.pcap and server.pcap the plain ones: the
# flows match across points by their inner headers.
sc_multipoint-vxlan() {
	begin multipoint-vxlan
	local ov=198.18.5.2 ovr=198.18.5.1
	ip -n "$NS_C" link add vx0 type vxlan id 42 local $C4 remote $R4C dstport 4789 dev c0
	ip -n "$NS_R" link add vx0 type vxlan id 42 local $R4C remote $C4 dstport 4789 dev rc
	ip -n "$NS_C" addr add $ov/24 dev vx0
	ip -n "$NS_R" addr add $ovr/24 dev vx0
	offloads_off "$NS_C" vx0
	offloads_off "$NS_R" vx0
	ip -n "$NS_C" link set vx0 up
	ip -n "$NS_R" link set vx0 up
	ip -n "$NS_C" route replace 198.18.2.0/24 via $ovr dev vx0 src $ov
	ip -n "$NS_S" route add 198.18.5.0/24 via $R4S
	start_server --large-size 4096
	captures_four
	start_client_multipoint $S4:8080
	at 2
	# The router's forward hook sees the inner packets, between the
	# tunnel and rs. Data only (longer than a pure ACK, 52 bytes): the
	# hop table counts packets with sequence space.
	fault client_to_server "random loss 8% of client->server data in the router, past the tunnel" "ip saddr $ov meta l4proto tcp ip length > 60 numgen random mod 100 < 8 counter drop"
	fault server_to_client "random loss 6% of server->client data in the router, before the tunnel" "ip daddr $ov meta l4proto tcp ip length > 60 numgen random mod 100 < 6 counter drop"
	at 8
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 300 ms, every 10th /large of 4 KiB, /watch events each second) from 198.18.5.2, the client's address on a VXLAN overlay (vx0, VNI 42, UDP 4789, over the c0-rc link) that the router terminates; captured at four points: the client's underlay c0 and the router's rc (VXLAN-encapsulated), the router's rs and the server's s0 (plain). From 2 s to 8 s the router drops 8% of client->server and 6% of server->client data packets at random (nft numgen with counters), between the tunnel and rs." \
		--captures "client.pcap=tcpdump -i c0 in the client namespace (the underlay: VXLAN);router-c.pcap=tcpdump -i rc in the router namespace (the underlay: VXLAN);router-s.pcap=tcpdump -i rs in the router namespace (towards the server);server.pcap=tcpdump -i s0 in the server namespace" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "h2pcap analyze --point client=client.pcap --point router-c=router-c.pcap --point router-s=router-s.pcap --point server=server.pcap matches each connection at the four points by its inner headers (the first two points see it inside VXLAN) and places every loss between router-c and router-s (client->server) or router-s and router-c (server->client)."
}

notes_multipoint-vxlan() {
	faults_counted 0 1
	echo "The router dropped ${F_COUNT[0]:-?} client->server and ${F_COUNT[1]:-?} server->client data packets (nft counters)."
}

# synproxy_router [CHAIN]: the router a SYN proxy for the server's port
# 8080 (nft synproxy with SYN cookies, strict conntrack), with CHAIN, if
# given, added to its table (multipoint-natproxy's masquerade).
synproxy_router() {
	inR sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0 >/dev/null
	inR nft -f - <<-NFT
		table ip syn {
			chain synpre { type filter hook prerouting priority raw; ip daddr $S4 tcp dport 8080 tcp flags syn notrack; }
			chain synfwd {
				type filter hook forward priority filter - 10;
				ip daddr $S4 tcp dport 8080 ct state invalid,untracked synproxy mss 1460 wscale 7 timestamp sack-perm
				ct state invalid drop
			}
			${1:-}
		}
	NFT
}

# multipoint-synproxy: multipoint-loss's four points with the router a
# firewall that answers SYNs itself (nft synproxy, SYN cookies) and opens
# the connection to the server only once the client completed the
# handshake: the client's sequence numbers pass unchanged, the server's are
# shifted by conntrack (the cookie the client got is not the server's
# ISN), so server->client packets carry other sequence numbers each side
# of the router. The router drops at random each way, past the
# synproxy (forward hook, after it).
sc_multipoint-synproxy() {
	begin multipoint-synproxy
	synproxy_router
	start_server --large-size 4096
	captures_four
	start_client_multipoint $S4:8080
	at 2
	fault client_to_server "random loss 8% of client->server data in the router" "ip saddr $C4 meta l4proto tcp ip length > 60 numgen random mod 100 < 8 counter drop"
	fault server_to_client "random loss 6% of server->client data in the router" "ip saddr $S4 meta l4proto tcp ip length > 60 numgen random mod 100 < 6 counter drop"
	at 8
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 300 ms, every 10th /large of 4 KiB, /watch events each second) through a router that is a SYN proxy (nft synproxy: it answers the client's SYN with a SYN cookie and opens the connection to the server after the client's ACK; conntrack then shifts the server's sequence numbers by the difference between its ISN and the cookie), captured at the client, the router's two interfaces and the server. From 2 s to 8 s the router drops 8% of client->server and 6% of server->client data packets at random (nft numgen with counters)." \
		--captures "$FOUR_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "Each side of the router sees its own handshake: client-router (the SYN-ACK from the router, a cookie) and router-server (the router's SYN with the client's ISN, the server's SYN-ACK). Server->client sequence numbers differ by a constant between router-s and router-c. h2pcap analyze --point client=client.pcap --point router-c=router-c.pcap --point router-s=router-s.pcap --point server=server.pcap places every loss between router-c and router-s (client->server) or router-s and router-c (server->client)."
}

notes_multipoint-synproxy() {
	faults_counted 0 1
	echo "The router dropped ${F_COUNT[0]:-?} client->server and ${F_COUNT[1]:-?} server->client data packets (nft counters)."
}

# multipoint-natproxy: multipoint-synproxy's SYN proxy that also
# masquerades towards the server (the server sees the router's address
# and other ports), with every capture started after the handshakes: no
# point sees a SYN, the 4-tuples differ across the router, and so do the
# server's sequence numbers (the proxy's shift). Only the bytes tell which
# connection at router-s is which at router-c (hops' content matching).
sc_multipoint-natproxy() {
	begin multipoint-natproxy
	synproxy_router 'chain post { type nat hook postrouting priority srcnat; oifname "rs" ip daddr '"$S4"' masquerade; }'
	start_server --large-size 4096
	start_client_multipoint $S4:8080
	at 1
	captures_four
	at 2
	fault client_to_server "random loss 15% of client->server data in the router" "ip saddr $C4 meta l4proto tcp ip length > 60 numgen random mod 100 < 15 counter drop"
	fault server_to_client "random loss 12% of server->client data in the router" "ip saddr $S4 meta l4proto tcp ip length > 60 numgen random mod 100 < 12 counter drop"
	at 8
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 300 ms, every 10th /large of 4 KiB, /watch events each second) through a router that is a SYN proxy (nft synproxy: the server's sequence numbers shifted by conntrack) and masquerades towards the server (the server sees $R4S as the client), captured at the client, the router's two interfaces and the server, every capture started 1 s after the connections (no SYN in any file). From 2 s to 8 s the router drops 15% of client->server and 12% of server->client data packets at random (nft numgen with counters)." \
		--captures "$FOUR_CAPTURES" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "No capture holds a handshake; across the router the 4-tuple differs (masquerade) and so do the server's sequence numbers (the SYN proxy's shift). h2pcap analyze --point client=client.pcap --point router-c=router-c.pcap --point router-s=router-s.pcap --point server=server.pcap matches the connections across the router by their payload bytes and places every loss between router-c and router-s (client->server) or router-s and router-c (server->client)."
}

notes_multipoint-natproxy() {
	faults_counted 0 1
	echo "The router dropped ${F_COUNT[0]:-?} client->server and ${F_COUNT[1]:-?} server->client data packets (nft counters)."
}

# router-any: multipoint-loss with the router captured the way an SRE
# captures a box: ONE tcpdump -i any in the router namespace (router.pcap,
# LINUX_SLL2: each packet names its interface, and every forwarded packet
# is in it twice, in on one interface and out on the other), and one
# dumpcap on both router interfaces (router.pcapng: one Interface
# Description Block per interface, with its name). The router drops at
# random each way between its interfaces, each direction a fault with an
# nft counter: h2pcap analyze splits router.pcap into its two interfaces
# (router:rc, router:rs) and places the drops between them.
sc_router-any() {
	begin router-any
	start_server --large-size 4096
	capture "$NS_C" c0 "$OUT/client.pcap"
	capture "$NS_R" any "$OUT/router.pcap"
	capture_dumpcap "$NS_R" "$OUT/router.pcapng" rc rs
	capture "$NS_S" s0 "$OUT/server.pcap"
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 9s \
		--every 200ms --large-every 10 --watch-every 1s \
		--read-idle-timeout 2s --ping-timeout 1s
	at 2
	fault client_to_server "random loss 10% client->server in the router" "ip saddr $C4 meta l4proto tcp numgen random mod 100 < 10 counter drop"
	fault server_to_client "random loss 8% server->client in the router" "ip saddr $S4 meta l4proto tcp numgen random mod 100 < 8 counter drop"
	at 8
	fault_end
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two h2c connections (GET /small every 200 ms, every 10th /large of 4 KiB, /watch events each second) captured at the client, in the router namespace with one tcpdump -i any (router.pcap, LINUX_SLL2: each forwarded packet twice, on rc and on rs) and one dumpcap -i rc -i rs (router.pcapng.gz), and at the server. From 2 s to 8 s the router drops 10% of client->server and 8% of server->client TCP packets at random (nft numgen with counters), between its two interfaces." \
		--captures "client.pcap=tcpdump -i c0 in the client namespace;router.pcap=tcpdump -i any in the router namespace (LINUX_SLL2; interfaces rc towards the client, rs towards the server);router.pcapng.gz=dumpcap -i rc -i rs in the router namespace (pcapng, one interface block each, gzipped);server.pcap=tcpdump -i s0 in the server namespace" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "h2pcap analyze client.pcap router.pcap server.pcap splits router.pcap into the points router:rc and router:rs (its packets are forwarded copies) and places every loss between router:rc and router:rs (client->server) or router:rs and router:rc (server->client): the faults' packet counts are the drops of those two hops."
}

notes_router-any() {
	faults_counted 0 1
	echo "The router dropped ${F_COUNT[0]:-?} client->server and ${F_COUNT[1]:-?} server->client packets (nft counters)."
	# dumpcap writes its file 0600; gzipped (h2pcap and tshark read it
	# as is) to keep the testdata small.
	chmod 644 "$OUT/router.pcapng"
	gzip -9f "$OUT/router.pcapng"
	command -v tshark >/dev/null || return 0
	# The interface indexes tcpdump -i any recorded (sll.ifindex), for a
	# per-interface tshark: -Y 'sll.ifindex == N'.
	echo "router.pcap interfaces (sll.ifindex: packets): $(tshark -r "$OUT/router.pcap" -T fields -e sll.ifindex 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s: %s", (n++ ? ", " : ""), $2, $1 }')."
}

# capture_dumpcap NS FILE IFACE...: one dumpcap on several interfaces into
# one pcapng file (an Interface Description Block per interface, named),
# waiting until it captures; stopped with the tcpdumps.
capture_dumpcap() {
	local ns=$1 file=$2
	shift 2
	local err=$TMP/dumpcap.$RANDOM.err args=() i
	for i in "$@"; do
		args+=(-i "$i")
	done
	bg "$ns" dumpcap -q "${args[@]}" -w "$file" 2>"$err"
	local pid=$LAST
	for i in $(seq 100); do
		grep -q "Capturing on" "$err" 2>/dev/null && break
		sleep 0.05
	done
	grep -q "Capturing on" "$err" || die "dumpcap on $* did not start: $(cat "$err")"
	sleep 0.3 # dumpcap opens its interfaces one after the other
	CAP_PIDS+=("$pid")
	CAP_ERRS+=("$err")
}

# multipoint-nat: a load balancer in front of the server. On router-capture's
# longer path (client - rta - lb - rtb - server) the middle router is the
# load balancer: the client dials its VIP 198.18.3.2:80, which it DNATs to
# the server's 198.18.2.2:8080 and masquerades to its own address towards
# the server (198.18.4.1). Captured at the client, the load balancer's two
# interfaces (lb-in.pcap towards the client, lb-out.pcap towards the
# server, after its NAT) and the server: the same connections under other
# 4-tuples each side of the load balancer, matched by the client's ISN.
# rtb, on the link between the load balancer and the server, drops at
# random each way, each direction a fault with its own nft counter.
sc_multipoint-nat() {
	begin multipoint-nat
	topo_down
	topo_up_hops
	local vip=198.18.3.2 out=198.18.4.1
	ip -n "$NS_C" route add 198.18.3.0/24 via 198.18.1.1
	ip -n "$NS_S" route add 198.18.4.0/24 via 198.18.2.1
	ip netns exec "$NS_R" nft -f - <<-NFT
		table ip lb {
			chain pre { type nat hook prerouting priority dstnat; ip daddr $vip tcp dport 80 dnat to $S4:8080; }
			chain post { type nat hook postrouting priority srcnat; ip daddr $S4 masquerade; }
		}
	NFT
	start_server --large-size 4096
	capture "$NS_C" c0 "$OUT/client.pcap"
	capture "$NS_R" ra "$OUT/lb-in.pcap"
	capture "$NS_R" rb "$OUT/lb-out.pcap"
	capture "$NS_S" s0 "$OUT/server.pcap"
	start_client_multipoint $vip:80
	at 2
	local rule dir what k out_h
	for k in 0 1; do
		if [ $k = 0 ]; then
			dir=client_to_server what="random loss 8% client->server at rtb, between the load balancer and the server" rule="ip saddr $out ip daddr $S4 meta l4proto tcp numgen random mod 100 < 8 counter drop"
		else
			dir=server_to_client what="random loss 10% server->client at rtb, between the server and the load balancer" rule="ip saddr $S4 ip daddr $out meta l4proto tcp numgen random mod 100 < 10 counter drop"
		fi
		out_h=$(ip netns exec "$NS_B" nft --echo --handle add rule inet lab faults $rule)
		F_HANDLE+=("$(sed -n 's/.*# handle \([0-9]*\).*/\1/p' <<<"$out_h")") F_START+=("$(now)") F_DIR+=("$dir")
		F_WHAT+=("$what") F_RULE+=("$rule") F_END+=("")
		log "fault on: $what"
	done
	at 8
	for k in 0 1; do
		F_COUNT[$k]=$(ip netns exec "$NS_B" nft --handle list chain inet lab faults | sed -n "s/.*counter packets \([0-9]*\) .*# handle ${F_HANDLE[$k]}\$/\1/p")
		ip netns exec "$NS_B" nft delete rule inet lab faults handle "${F_HANDLE[$k]}"
		F_END[$k]=$(now)
		log "fault off: ${F_WHAT[$k]} (${F_COUNT[$k]} packets)"
	done
	finish --transport h2c --server $vip:80 --conns 2 \
		--description "Two h2c connections to a load balancer's VIP $vip:80 (GET /small every 300 ms, every 10th /large of 4 KiB, /watch events each second) on the path client - rta - lb - rtb - server; the load balancer DNATs to $S4:8080 and masquerades to $out. From 2 s to 8 s rtb, between the load balancer and the server, drops 8% of client->server and 10% of server->client TCP packets at random (nft numgen with counters)." \
		--captures "client.pcap=tcpdump -i c0 in the client namespace;lb-in.pcap=tcpdump -i ra in the load balancer's namespace (towards the client: client -> VIP);lb-out.pcap=tcpdump -i rb in the load balancer's namespace (towards the server: $out -> server, after NAT);server.pcap=tcpdump -i s0 in the server namespace" \
		--verdict degraded --verdict-if-lost lost_ping --loss-direction both --suspects random_loss \
		--notes "h2pcap analyze --point client=client.pcap --point lb-in=lb-in.pcap --point lb-out=lb-out.pcap --point server=server.pcap matches each connection across the NAT by the client's ISN and places every loss between lb-out and server (client->server) or server and lb-out (server->client): the faults' packet counts are the drops of those two hops. server.pcap sees the load balancer ($out) as the client."
}

notes_multipoint-nat() {
	faults_counted 0 1
	echo "rtb dropped ${F_COUNT[0]:-?} client->server and ${F_COUNT[1]:-?} server->client packets (nft counters)."
}

# synack_loss NAME END DESCRIPTION-TAIL: two long-lived h2c connections
# and a new short-lived one every 400 ms (client --dial-every: dial, GET
# /small, close; dial timeout 1.5 s) while the router drops every
# server->client SYN-ACK from 2 s, until END seconds (healed) or, with END
# "never", until the captures end. Established flows never see a SYN-ACK:
# they go on untouched.
synack_loss() {
	local name=$1 end=$2
	begin "$name"
	start_server
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 8s \
		--every 500ms --large-every 0 --watch-every 1s \
		--dial-every 400ms --dial-timeout 1.5s
	at 2
	fault server_to_client "SYN-ACK dropped" "ip saddr $S4 tcp sport 8080 tcp flags & (syn|ack) == (syn|ack) counter drop"
	if [ "$end" = never ]; then
		KEEP_FAULTS=1
	else
		at "$end"
		fault_end
	fi
}

sc_synack-loss-healed() {
	synack_loss synack-loss-healed 4.5
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two long-lived h2c connections (GET /small every 500 ms, /watch events each second) and a new short-lived h2c connection every 400 ms (dial with a 1.5 s timeout, GET /small, close). From 2 s to 4.5 s the router drops every server->client SYN-ACK, as a stateful firewall or a half-broken return path would: the established connections go on untouched, new dials time out or connect late (a SYN sent again once the fault ended gets its SYN-ACK)." \
		--captures "$BOTH_CAPTURES" \
		--verdict connect_failed --loss-direction server_to_client --want-error "i/o timeout" \
		--notes "Every dial that timed out is listed below by client port (Failed dials): client.pcap shows its SYN sent again (about 1 s later) and no SYN-ACK (the SYN or the SYN-ACK was lost: only server.pcap tells), server.pcap the SYN arriving and the SYN-ACK sent each time a SYN came and by the server's timer (1 s, 3 s, 7 s after the first), never ACKed: lost server->client after the server. faults[].packets is the SYN-ACKs the router dropped (its nft counter). A SYN-ACK the server sends again after the fault ended reaches a client that had given up (its dial timed out and closed the socket, which sends nothing in SYN-SENT): the client's kernel answers it with an RST, a consequence of the failed handshake, in both captures. Dials whose SYN retransmission came after the fault ended connected late (connect_ms about 1000). The two long-lived connections are healthy throughout."
}

sc_synack-loss-unhealed() {
	synack_loss synack-loss-unhealed never
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "As synack-loss-healed, but the SYN-ACK drop from 2 s is never lifted before the captures end: every dial from 2 s on times out, the established connections go on untouched until the client stops at 8 s." \
		--captures "$BOTH_CAPTURES" \
		--verdict connect_failed --loss-direction server_to_client --want-error "i/o timeout" \
		--notes "Every dial from about 2 s on times out (Failed dials below, by client port): client.pcap shows each SYN sent twice (at 0 and about 1 s; the dial gives up at 1.5 s) and no SYN-ACK; server.pcap the SYNs arriving and SYN-ACKs sent (on each SYN and by the server's timer) that are never ACKed and never reach the client; no SYN-ACK of a failed dial ever reaches client.pcap. faults[].packets is the SYN-ACKs the router dropped (its nft counter, read when the rule was removed after the captures closed: it includes the server's SYN-ACK retransmissions in the last second and a half, which no capture holds). The dials still waiting when the client stopped at 8 s are not in client.log (cut short by the end of the run): their lone SYN ends client.pcap. The two long-lived connections are healthy throughout."
}

sc_middlebox-refuse() {
	begin middlebox-refuse
	start_server
	captures_both
	start_client --addr $S4:8080 --tls=false --conns 2 --duration 8s \
		--every 500ms --large-every 0 --watch-every 1s \
		--dial-every 300ms --dial-timeout 1.5s
	at 2
	# Only SYNs: established flows pass, every new connection to the
	# server port is refused by the router in the server's name (TTL 64
	# at the client, where the server's packets arrive with 63).
	fault client_to_server "SYN refused by the router" "ip saddr $C4 tcp dport 8080 tcp flags & (syn|ack) == syn counter reject with tcp reset"
	at 5.7
	fault_end
	at 6
	# For contrast, a real refusal: dials to a port nothing listens on,
	# answered by the server host's kernel (TTL 63 at the client, like
	# every server packet).
	inC "$BIN" client --log "$OUT/client.log" --addr $S4:8081 --tls=false --conns 0 --duration 1s \
		--dial-every 300ms --dial-timeout 1.5s
	finish --transport h2c --server $S4:8080 --conns 2 \
		--description "Two long-lived h2c connections (GET /small every 500 ms, /watch events each second) and a new short-lived h2c connection every 300 ms (dial, GET /small, close). From 2 s to 5.7 s the router answers every client SYN to port 8080 with reject with tcp reset: about a dozen new connections are refused by a device in between, while the established ones go on. At 6 s a second client process dials $S4:8081, where nothing listens, three times: refused by the server host itself." \
		--captures "$BOTH_CAPTURES" \
		--verdict reset --loss-direction none --suspects middlebox_reset --want-error "connection refused" \
		--notes "Failed dials are listed below by client port. Those to $S4:8080 between 2 s and 5.7 s were refused by the router: client.pcap shows the SYN and an RST,ACK with TTL 64 while every packet of the server host arrives with TTL 63; server.pcap has no trace of them (the router answered before forwarding). Those to $S4:8081 (nothing listening) were refused by the server's kernel: RST,ACK with TTL 63 in client.pcap, as the server's other packets; in server.pcap the SYN and the RST (TTL 64, as every server packet there). The two long-lived connections are healthy throughout."
}

# ping_rows FILE: one line per HTTP/2 PING tshark decrypts in FILE with
# the scenario's key log: frame srcport dstport seq_raw ack data time.
ping_rows() {
	tshark -r "$1" -n -o tcp.reassemble_out_of_order:TRUE -o "tls.keylog_file:$OUT/keylog.txt" -Y 'http2.type == 6' \
		-T fields -e frame.number -e tcp.srcport -e tcp.dstport -e tcp.seq_raw -e http2.flags.ack.ping -e http2.ping -e http2.pong \
		-e frame.time_epoch 2>/dev/null |
		awk -F'\t' '{ print $1, $2, $3, $4, $5, $6 $7, $8 }'
}

# ping_notes CAPTURE PORT [REF]: the health-check PINGs of the connection
# from client port PORT in CAPTURE, each with the frame of its ACK. With
# REF (the same interface captured from the connection's start) the PINGs
# are decrypted there and found in CAPTURE by TCP sequence number, for a
# CAPTURE without the handshake. Prints a sentence, then "ANSWERED
# UNANSWERED" on a second line.
ping_notes() {
	local cap=$1 port=$2 ref=${3-} rows
	rows=$(ping_rows "${ref:-$cap}")
	if [ -n "$ref" ]; then
		rows=$(awk 'NR == FNR { k = $2 " " $3; if (!(k in f)) f[k] = $1; next }
			(($2 " " $4) in f) { $1 = f[$2 " " $4]; print }' \
			<(tshark -r "$cap" -n -Y 'tcp.len > 0' -T fields -e frame.number -e tcp.srcport -e tcp.seq_raw 2>/dev/null) - <<<"$rows")
	fi
	# Every PING and PING ACK of every connection, for truth.json's pings.
	awk -v name="$(basename "$cap")" -v sp="${SERVER_PORT:-8443}" '$1 != "" {
		printf "{\"capture\":\"%s\",\"frame\":%d,\"client_port\":%d,\"from\":\"%s\",\"ack\":%s,\"data\":\"%s\"}\n",
			name, $1, ($2 == sp ? $3 : $2), ($2 == sp ? "server" : "client"), ($5 == 1 ? "true" : "false"), $6
	}' <<<"$rows" >>"$TMP/pings.jsonl"
	# An ACK later than PingTimeout (1 s) came after the client had given
	# up: the server's retransmission once the black hole ended.
	awk -v p="$port" -v name="$(basename "$cap")" '
		$2 == p && $5 == 0 { n++; fr[n] = $1; d[n] = $6; t[n] = $7 }
		$3 == p && $5 == 1 && !($6 in ack) { ack[$6] = $1; at[$6] = $7 }
		END {
			s = name ": the client'"'"'s PINGs at frames"
			for (i = 1; i <= n; i++) {
				if (!(d[i] in ack)) { u++; s = s sprintf(" %d (no ACK)", fr[i]) }
				else if (at[d[i]] - t[i] < 1) { a++; s = s sprintf(" %d (ACK %d)", fr[i], ack[d[i]]) }
				else { u++; s = s sprintf(" %d (no ACK within PingTimeout; it arrives at frame %d, %.1f s later, after the client closed)", fr[i], ack[d[i]], at[d[i]] - t[i]) }
			}
			if (n == 0) s = s " none"
			print s "."
			print a + 0, u + 0
		}' <<<"$rows"
}

# tls_ping_notes [REF_CLIENT REF_SERVER]: frame numbers of the lost
# connection's PINGs in both captures, for truth.json; the run missed its
# point unless client.pcap has at least 3 answered PINGs and then one
# without ACK, whose ACK server.pcap has.
tls_ping_notes() {
	if ! command -v tshark >/dev/null; then
		SC_BAD="tshark missing: truth.json lists no PINGs, which the tests of this scenario read"
		echo "(tshark missing: no PING frames)"
		return 0
	fi
	local port c s ca cu sa su
	port=$(grep '"msg":"http2: client connection lost"' "$OUT/client.log" | head -1 | sed 's/.*"local":"[^"]*:\([0-9]*\)".*/\1/')
	[ -n "$port" ] || { SC_BAD="no connection lost to the health check in client.log"; return 0; }
	c=$(ping_notes "$OUT/client.pcap" "$port" ${1-})
	s=$(ping_notes "$OUT/server.pcap" "$port" ${2-})
	read -r ca cu <<<"$(sed -n 2p <<<"$c")"
	read -r sa su <<<"$(sed -n 2p <<<"$s")"
	if [ "$ca" -lt 3 ] || [ "$cu" != 1 ] || [ "$sa" != $((ca + 1)) ] || [ "$su" != 0 ]; then
		SC_BAD="PINGs not as intended: client.pcap $ca answered, $cu not; server.pcap $sa answered, $su not"
	fi
	echo "Health-check PINGs of the connection from client port $port (tshark with keylog.txt): $(sed -n 1p <<<"$c") $(sed -n 1p <<<"$s") In server.pcap the last PING has its ACK: the black hole dropped it after the server sent it."
}

# perflow NAME DIRECTION: a per-flow black hole, as a broken ECMP or LAG
# member (or one node behind a VIP) makes: from 4 s on, every packet of the
# flows whose 4-tuple hashes to one bucket in 4 is dropped (DIRECTION
# both: each way; server_to_client: only the server's), while the other
# flows between the same hosts pass. The hash is symmetric (the reverse
# direction hashes the same bytes: client address and port, server
# address and port), as a router's must be for both halves of a flow to
# take one path. Dynamic sets with counters record which client ports the
# rules dropped, and how many packets each way: truth.json's dead_flows.
perflow() {
	local name=$1 dir=$2 rules
	begin "$name"
	start_server
	inR nft add set inet lab dead_c2s '{ type inet_service; flags dynamic; counter; }'
	inR nft add set inet lab dead_s2c '{ type inet_service; flags dynamic; counter; }'
	captures_both
	# 12 connections: 6 busy (a GET every 400 ms), 6 idle but for their
	# /watch stream (an event every 30 s) and the health-check PINGs
	# (ReadIdleTimeout 2 s, PingTimeout 1 s).
	start_client --addr $S4:8080 --tls=false --conns 12 --idle-conns 6 --duration 13s \
		--every 400ms --large-every 0 --watch-every 30s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	local c2s="ip saddr $C4 ip daddr $S4 tcp dport 8080 jhash ip saddr . tcp sport . ip daddr . tcp dport mod 4 seed 0x48324c == 0 update @dead_c2s { tcp sport } drop"
	local s2c="ip saddr $S4 ip daddr $C4 tcp sport 8080 jhash ip daddr . tcp dport . ip saddr . tcp sport mod 4 seed 0x48324c == 0 update @dead_s2c { tcp dport } drop"
	rules="$c2s; $s2c"
	[ "$dir" = both ] || rules=$s2c
	at 4
	fault "$dir" "per-flow black hole (4-tuple hash bucket 0 of 4)" "$rules"
	# The dead flows give up about 3 s later (PingTimeout after the first
	# health-check PING); the capture goes on for 6 s after that.
	KEEP_FAULTS=1
	local what="both directions" verdicts="client.pcap: blackholed for a busy flow (its request's retransmissions never answered; direction unknown from the client side), lost_ping for an idle one (its health-check PING retransmitted, never answered); server.pcap: silent (the client's packets just stop) or blackholed where the server had data in flight"
	local lossdir=both
	local busy="client.pcap=blackholed/unknown;server.pcap=silent/none,blackholed/unknown"
	local idle="client.pcap=lost_ping/unknown;server.pcap=silent/none,blackholed/unknown"
	if [ "$dir" = server_to_client ]; then
		what="server->client only" lossdir=server_to_client
		verdicts="client.pcap: as in perflow-blackhole (nothing comes back; direction unknown from the client side); server.pcap: blackholed, server_to_client (the server's answers are retransmitted, never acknowledged, while the client's retransmissions of what the server has ACKed keep arriving), lost_ping for an idle flow whose PING the capture decodes"
		busy="client.pcap=blackholed/unknown;server.pcap=blackholed/server_to_client"
		idle="client.pcap=lost_ping/unknown;server.pcap=lost_ping/server_to_client,blackholed/server_to_client"
	fi
	finish --transport h2c --server $S4:8080 --conns 12 \
		--description "12 h2c connections between the same two hosts (6 with a GET every 400 ms, 6 idle but for health-check PINGs); from 4 s the router drops every packet ($what) of the flows whose 4-tuple hashes into bucket 0 of 4 (nft jhash, symmetric), as one broken ECMP/LAG member or load-balancer node would; the other flows pass untouched. The dead flows' clients give up (health check) and redial; a redial that hashes into the dead bucket never completes its handshake." \
		--captures "$BOTH_CAPTURES" --idle-conns 6 --dead-flows "$TMP/dead.jsonl" \
		--dead-expect-busy "$busy" --dead-expect-idle "$idle" \
		--verdict blackholed --loss-direction "$lossdir" --suspects blackhole --want-error "http2: client connection lost" \
		--notes "Expected per dead flow (dead_flows lists them with the packets nft dropped each way): $verdicts. Every flow not in dead_flows is healthy. verdict.since is the last packet of the flow that made progress: the fault started at faults[0].start, so a busy flow's since lies within a request period (400 ms) before it, an idle flow's within ReadIdleTimeout (2 s) before it (its last PING exchange)."
}

# notes_perflow: the dead flows from the router's sets (dead_flows in
# truth.json); the run missed its point unless some but not all of the
# 12 first connections died.
perflow_notes() {
	inR nft -j list set inet lab dead_c2s >"$TMP/dead_c2s.json" 2>/dev/null || true
	inR nft -j list set inet lab dead_s2c >"$TMP/dead_s2c.json" 2>/dev/null || true
	python3 - "$TMP/dead_c2s.json" "$TMP/dead_s2c.json" >"$TMP/dead.jsonl" <<'PY'
import json, sys
flows = {}
for key, path in (("client_to_server", sys.argv[1]), ("server_to_client", sys.argv[2])):
    try:
        doc = json.load(open(path))
    except (OSError, ValueError):
        continue
    for item in doc.get("nftables", []):
        for e in item.get("set", {}).get("elem", []):
            el = e.get("elem", e)
            port = el["val"] if isinstance(el, dict) else el
            cnt = (el.get("counter") if isinstance(el, dict) else None) or {}
            f = flows.setdefault(port, {"client_port": port})
            f["dropped_" + key] = cnt.get("packets", 0)
for port in sorted(flows):
    print(json.dumps(flows[port]))
PY
	local n
	n=$(wc -l <"$TMP/dead.jsonl")
	if [ "$n" -lt 1 ]; then
		SC_BAD="no flow hashed into the dead bucket"
	fi
	echo "The router's sets name $n client ports whose packets it dropped (dead_flows)."
}
notes_perflow-blackhole() { perflow_notes; }
notes_perflow-blackhole-s2c() { perflow_notes; }

sc_perflow-blackhole() { perflow perflow-blackhole both; }
sc_perflow-blackhole-s2c() { perflow perflow-blackhole-s2c server_to_client; }

sc_server-stalled() {
	begin server-stalled
	start_server
	captures_both
	# One busy connection (a GET every 500 ms) and one idle (health-check
	# PINGs only), TLS with the key log: the tests judge it decrypted and
	# from record sizes alone.
	start_client --addr $S4:8443 --tls --keylog "$OUT/keylog.txt" --conns 2 --idle-conns 1 --duration 11s \
		--every 500ms --large-every 0 --watch-every 30s \
		--read-idle-timeout 2s --ping-timeout 1s --dial-timeout 3s
	at 3
	# SIGSTOP: the process stops, its kernel does not: TCP goes on ACKing
	# what arrives, HTTP/2 and TLS answer nothing.
	kill -STOP "$SERVER_PID"
	local stopped
	stopped=$(now)
	log "server stopped (SIGSTOP) at $stopped"
	at 8
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	forget "$SERVER_PID"
	local killed
	killed=$(now)
	log "server killed (SIGKILL) at $killed"
	SERVER_PID=
	finish --transport tls --server $S4:8443 --conns 2 --idle-conns 1 \
		--description "Two TLS connections (one with a GET every 500 ms, one idle but for health-check PINGs). At 3 s the server process is stopped with SIGSTOP ($stopped): its kernel keeps ACKing every segment, but no TLS record or HTTP/2 frame comes back. The client's requests and health-check PINGs go unanswered and it closes the connections (http2: client connection lost); its redials complete the TCP handshake (the kernel's listen queue) and then get no ServerHello. At 8 s the process is killed ($killed): its kernel closes the sockets (RST where data was unread) and later SYNs are refused." \
		--captures "$BOTH_CAPTURES" \
		--verdict lost_ping --loss-direction none --suspects server_stalled --want-error "http2: client connection lost" \
		--notes "No packet is lost: every client segment is ACKed by the server's TCP. A stalled application, not the network: the connections lost to the health check get lost_ping with suspect server_stalled and loss direction none in both captures; a redial whose TLS handshake got no answer is silent (setup timed out) with server_stalled."
}

# ---------------------------------------------------------------- bulk

bulk() {
	local out=${1:?usage: run.sh bulk OUT.pcap [MB]} mb=${2:-800}
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	OUT=$TMP/bulk
	mkdir -p "$OUT" "$(dirname "$out")"
	CAP_PIDS=() CAP_ERRS=() F_HANDLE=() F_START=() F_DIR=() F_WHAT=() F_RULE=() F_END=() F_COUNTERS=()
	topo_up
	SERVER_PORTS=8080 start_server --tls-listen ""
	# A bigger kernel buffer (-B, KiB) keeps tcpdump from dropping at
	# full veth speed.
	# Without -U (a write per packet) tcpdump keeps up with the transfer.
	CAP_FLUSH= capture "$NS_C" c0 "$out" -B 131072
	# Wire size per payload byte with offloads off: 1514+16 bytes per 1448
	# of payload plus an ACK (66+16) every two segments, about 1.085.
	local bytes=$((mb * 1000 * 1000 * 100 / 109))
	inR nft add rule inet lab faults ip saddr $S4 numgen random mod 10000 '<' 3 drop
	local t0=$SECONDS
	inC "$BIN" bulk --addr $S4:8080 --conns 2 --streams 3 --bytes $bytes --size $((32 << 20)) \
		--rate "${H2LAB_BULK_RATE:-0}" --log "$OUT/bulk.log"
	stop_captures 2>"$OUT/stop.err"
	cat "$OUT/stop.err" >&2
	if grep -q "[1-9][0-9]* packets dropped by kernel" "$OUT/stop.err"; then
		log "warning: tcpdump dropped packets; the capture has gaps. Rerun with H2LAB_BULK_RATE=MB/s (e.g. 60) to pace the transfer"
	fi
	stop_pid "$SERVER_PID"
	PIDS=()
	cat "$OUT/bulk.log" >&2
	log "bulk: $(stat -c %s "$out") bytes in $out after $((SECONDS - t0)) s"
}

# bulk_live H2PCAP OUTDIR SECONDS RATE...: for each RATE (MB/s, 0 for
# unpaced) the bulk download of bulk() runs for SECONDS while H2PCAP live
# captures on the client's veth, writing its JSON report to
# OUTDIR/live-RATE.json (the capture's drops are in its warnings), its
# GNU time figures (elapsed, user, system seconds, peak RSS KiB) to
# OUTDIR/live-RATE.time and the client's log to OUTDIR/live-RATE.log.
# One topology for every rate.
bulk_live() {
	local h2pcap=${1:?usage: run.sh bulk-live H2PCAP OUTDIR SECONDS MB/s...} dir=${2:?} secs=${3:?}
	shift 3
	case $h2pcap in /*) ;; *) h2pcap=$PWD/$h2pcap ;; esac
	case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
	OUT=$TMP/bulk
	mkdir -p "$OUT" "$dir"
	CAP_PIDS=() CAP_ERRS=() F_HANDLE=() F_START=() F_DIR=() F_WHAT=() F_RULE=() F_END=() F_COUNTERS=()
	topo_up
	SERVER_PORTS=8080 start_server --tls-listen ""
	inR nft add rule inet lab faults ip saddr $S4 numgen random mod 10000 '<' 3 drop
	local rate pid
	for rate in "$@"; do
		# live outlasts the download by 2 s, so the capture holds the end
		# of every connection.
		# GNU time: h2pcap's own CPU time and peak RSS at this rate.
		bg "$NS_C" /usr/bin/time -f '%e %U %S %M' -o "$dir/live-$rate.time" \
			"$h2pcap" live -i c0 --port 8080 --duration "$((secs + 3))s" --metrics-addr "$C4:9464" \
			--format json -o "$dir/live-$rate.json"
		pid=$LAST
		sleep 1 # opening the socket takes milliseconds; live says nothing when it is ready
		inC "$BIN" bulk --addr $S4:8080 --conns 2 --streams 3 --bytes $((1 << 40)) --size $((32 << 20)) \
			--max-time "${secs}s" --rate "$rate" --log "$dir/live-$rate.log" || log "bulk at $rate MB/s: exit $?"
		wait "$pid" || die "h2pcap live at $rate MB/s: exit $?"
		forget "$pid"
		log "bulk-live: $rate MB/s done: $dir/live-$rate.json"
	done
	stop_pid "$SERVER_PID"
	PIDS=()
}

# ---------------------------------------------------------------- etcd

build_etcd() {
	[ -z "${ETCD_BIN:-}" ] || return 0
	log "building lab/etcd (its own module: embedded etcd members, clientv3; etcd's TLS with a key log hook, lab/etcd/keylog.sh)"
	local modfile
	modfile=$(bash "$LAB/etcd/keylog.sh" "$TMP/etcdmod") || die "lab/etcd/keylog.sh failed"
	(cd "$LAB/etcd" && CGO_ENABLED=0 go build -modfile "$modfile" -o "$TMP/etcdlab" .)
	ETCD_BIN=$TMP/etcdlab
}

etcd_ip() { echo "198.18.1$1.2"; }
ETCD_CLUSTER="m1=http://198.18.11.2:2380,m2=http://198.18.12.2:2380,m3=http://198.18.13.2:2380"
ETCD_ENDPOINTS="http://198.18.11.2:2379,http://198.18.12.2:2379,http://198.18.13.2:2379"

# etcd_status: the JSON etcdlab status prints (leader, term, ids), asked
# from the client namespace.
etcd_status() {
	inC "$ETCD_BIN" status --endpoints "$ETCD_ENDPOINTS" 2>/dev/null
}

# etcd_scenario NAME DESCRIPTION RULE-TEMPLATE WHAT DIRECTION EXPECT-JSON:
# three members, captured each at its own veth (m1.pcap .. m3.pcap) from
# before they start (so every peer connection's HTTP request is in the
# captures; the faulty member's and one other's are kept); a clientv3
# client in the client namespace puts a key every 300 ms for 12 s; at 3 s the runner finds the leader and adds the fault
# on the leader's link (RULE-TEMPLATE with @IP@ for its address); the
# fault stays until a new leader is elected, then 1.5 s more, at most
# until 9 s.
etcd_scenario() {
	local name=$1 desc=$2 tmpl=$3 what=$4 dir=$5 expect=$6 i st leader term ip rule
	build_etcd
	begin "$name"
	etcd_topo_up
	for i in 1 2 3; do
		capture "${NS_M[$((i - 1))]}" m0 "$OUT/m$i.pcap"
	done
	for i in 1 2 3; do
		mkdir -p "$TMP/m$i"
		local keys=()
		[ -z "${ETCD_KEYLOG:-}" ] || keys=(--keylog "$TMP/m$i.keylog")
		bg "${NS_M[$((i - 1))]}" "$ETCD_BIN" member --name m$i --ip "$(etcd_ip $i)" --cluster "${ETCD_CLUSTER_URLS:-$ETCD_CLUSTER}" \
			--dir "$TMP/m$i/data" --log "$OUT/m$i.log" ${ETCD_MEMBER_ARGS:-} "${keys[@]}"
		ETCD_PIDS+=("$LAST")
	done
	for i in 1 2 3; do
		wait_listen "${NS_M[$((i - 1))]}" 2379 2380
	done
	for i in $(seq 50); do
		st=$(etcd_status) && leader=$(sed -n 's/.*"leader":"\(m[0-9]\)".*/\1/p' <<<"$st") && [ -n "$leader" ] && break
		sleep 0.1
	done
	[ -n "$leader" ] || die "no etcd leader"
	bg "$NS_C" "$ETCD_BIN" client --endpoints "$ETCD_ENDPOINTS" --duration "${ETCD_DURATION:-12s}" --every 300ms --log "$OUT/client.log" 2>"$TMP/client.stderr"
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
	at 3
	st=$(etcd_status)
	leader=$(sed -n 's/.*"leader":"\(m[0-9]\)".*/\1/p' <<<"$st")
	term=$(sed -n 's/.*"term":\([0-9]*\).*/\1/p' <<<"$st")
	[ -n "$leader" ] || die "no etcd leader at 3 s"
	ip=$(etcd_ip "${leader#m}")
	rule=${tmpl//@IP@/$ip}
	fault "$dir" "$what on $leader's link" "$rule"
	log "leader $leader (term $term) at $ip: fault on"
	# Until the members log a new term's leader (the log line is the truth),
	# then 1.5 s more; at most until 9 s.
	local t
	for t in $(seq 60); do
		if grep -h 'elected leader' "$OUT"/m?.log | grep -qv "at term $term\b" &&
			grep -h 'elected leader' "$OUT"/m?.log | awk -v t="$term" '{ if (match($0, /at term [0-9]+/)) { n = substr($0, RSTART + 8, RLENGTH - 8) + 0; if (n > t) f = 1 } } END { exit !f }'; then
			sleep 1.5
			break
		fi
		sleep 0.1
	done
	fault_end
	wait_client
	stop_captures
	for i in "${ETCD_PIDS[@]}"; do stop_pid "$i"; done
	ETCD_PIDS=()
	PIDS=()
	write_faults "$TMP/faults.jsonl"
	local ids members=() logs=()
	for i in 1 2 3; do
		ids=$(sed -n "s/.*\"m$i\":\"\([0-9a-f]*\)\".*/\1/p" <<<"$st")
		members+=("m$i=$ids=$(etcd_ip $i)=m$i.pcap")
		logs+=("m$i=$OUT/m$i.log")
	done
	if ! "$ETCD_BIN" truth --scenario "$name" --description "$desc" --faulty "$leader" \
		--members "$(IFS=,; echo "${members[*]}")" --logs "$(IFS=,; echo "${logs[*]}")" \
		--faults "$TMP/faults.jsonl" --client-log "$OUT/client.log" --expect "${expect//@LEADER@/$leader}" \
		--want-leader-change --out "$OUT/truth.json"; then
		log "warning: $name did not show a leader change; truth.json records what did happen"
		MISSED+=("$name")
	fi
	# Kept small: the faulty member's capture and one other member's
	# (the third follower's shows the same as the second's), and of the
	# members' logs the raft lines truth.json is made from.
	local other=1 keep
	[ "$leader" != m1 ] || other=2
	# ETCD_KEEP=other keeps only the other member's (the TLS scenario:
	# without keys a follower's capture tells as much); ETCD_KEEP=all
	# keeps the three (a mesh of captures, each member's the only one
	# of the two others' connections with each other). ETCD_KEYLOG: the
	# members' key logs (each writes the secrets of the connections it
	# dials and accepts) merged into keylog.txt.
	if [ -n "${ETCD_KEYLOG:-}" ]; then
		cat "$TMP"/m?.keylog | sort -u >"$OUT/keylog.txt"
	fi
	for i in 1 2 3; do
		keep=0
		[ "m$i" != "$leader" ] && [ "$i" != "$other" ] || keep=1
		[ "${ETCD_KEEP:-}" != other ] || [ "m$i" != "$leader" ] || keep=0
		[ "${ETCD_KEEP:-}" != all ] || keep=1
		[ $keep = 1 ] || rm -f "$OUT/m$i.pcap"
		grep -E '"logger":"raft"|became leader|elected leader|lost leader' "$OUT/m$i.log" >"$TMP/m$i.raft.log" || true
		mv "$TMP/m$i.raft.log" "$OUT/m$i.log"
	done
	topo_down
	verify
}

sc_etcd-leader-loss() {
	etcd_scenario etcd-leader-loss \
		"Three embedded etcd v3.7 members (heartbeat 100 ms, election timeout 1 s) and a clientv3 client putting a key every 300 ms; at 3 s the leader's link loses 50% of its packets at random in both directions until the members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ numgen random mod 100 < 50 drop; ip daddr @IP@ numgen random mod 100 < 50 drop" \
		"random loss 50%" both \
		'{"verdict": "degraded", "loss_direction": "both", "suspects": ["random_loss"], "faulty_member": "@LEADER@", "leader_change": true, "notes": "Every connection through the faulty member (the leader when the fault started) loses packets both ways; the other two members talk cleanly. The members elect a new leader in a higher term (elections in this file, from the members own logs)."}'
}

# etcd-leader-loss-mesh: etcd-leader-loss with each member's capture
# kept, three points that are no one path: each member's capture holds
# its own peer connections, the only capture of the two others' with
# each other. Given together, the report lists every connection once
# and the etcd summary is of every pair (hops.Result.Elsewhere).
sc_etcd-leader-loss-mesh() {
	ETCD_KEEP=all etcd_scenario etcd-leader-loss-mesh \
		"etcd-leader-loss with every member's capture kept (m1.pcap, m2.pcap, m3.pcap): three embedded etcd v3.7 members (heartbeat 100 ms, election timeout 1 s) and a clientv3 client putting a key every 300 ms; at 3 s the leader's link loses 50% of its packets at random in both directions until the members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ numgen random mod 100 < 50 drop; ip daddr @IP@ numgen random mod 100 < 50 drop" \
		"random loss 50%" both \
		'{"verdict": "degraded", "loss_direction": "both", "suspects": ["random_loss"], "faulty_member": "@LEADER@", "leader_change": true, "notes": "As etcd-leader-loss, with the three members captures: given together they are three capture points, none on the path of the two others connections with each other; the report must list every connection of the three once, name the faulty member with every other pair clean, and date the election as the new leader logged it."}'
}

sc_etcd-leader-blackhole() {
	etcd_scenario etcd-leader-blackhole \
		"Three embedded etcd v3.7 members and a clientv3 client putting a key every 300 ms; at 3 s every packet the leader sends is dropped (a one-way black hole: it still receives) until the other members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ drop" \
		"black hole of everything the leader sends" client_to_server \
		'{"verdict": "blackholed", "loss_direction": "from_faulty_member", "suspects": ["blackhole"], "faulty_member": "@LEADER@", "leader_change": true, "notes": "Nothing the faulty member (the leader when the fault started) sends arrives; what it receives does. Its heartbeats stop reaching the followers, which elect a new leader."}'
}

# etcd-leader-blackhole-tls: etcd-leader-blackhole with TLS on the peer
# port (etcd's self-signed certificates) and no key log (etcd's transport
# has no key log option; etcd-leader-blackhole-tls-keys adds the lab's
# hook), so the peer traffic stays encrypted; what the report can still
# say is which member's connections lost packets.
sc_etcd-leader-blackhole-tls() {
	ETCD_KEEP=other ETCD_MEMBER_ARGS=--peer-tls ETCD_CLUSTER_URLS=${ETCD_CLUSTER//http:/https:} etcd_scenario etcd-leader-blackhole-tls \
		"etcd-leader-blackhole with TLS on the peer port (--peer-auto-tls, no key log: etcd's transport has no option for one): three embedded etcd v3.7 members and a clientv3 client putting a key every 300 ms; at 3 s every packet the leader sends is dropped until the other members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ drop" \
		"black hole of everything the leader sends" client_to_server \
		'{"verdict": "blackholed", "loss_direction": "from_faulty_member", "suspects": ["blackhole"], "faulty_member": "@LEADER@", "leader_change": true, "encrypted": true, "notes": "As etcd-leader-blackhole, with the peer traffic in TLS that the captures cannot decrypt: the elections are in the members logs (this file), not readable from the captures; the faulty member is, from the TCP loss per member pair."}'
}

# etcd-leader-blackhole-tls-keys: etcd-leader-blackhole-tls with the
# members' key logs (keylog.txt; lab/etcd/keylog.sh adds the hook etcd's
# transport lacks): decrypted, the report must say what it says of the
# plaintext scenario; without the keys, what etcd-leader-blackhole-tls
# says. 7 s of client load (not 12) to keep the captures small.
sc_etcd-leader-blackhole-tls-keys() {
	ETCD_KEYLOG=1 ETCD_DURATION=7s ETCD_MEMBER_ARGS=--peer-tls ETCD_CLUSTER_URLS=${ETCD_CLUSTER//http:/https:} etcd_scenario etcd-leader-blackhole-tls-keys \
		"etcd-leader-blackhole with TLS on the peer port (--peer-auto-tls, TLS 1.3) and the members' key logs (keylog.txt): three embedded etcd v3.7 members and a clientv3 client putting a key every 300 ms for 7 s; at 3 s every packet the leader sends is dropped until the other members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ drop" \
		"black hole of everything the leader sends" client_to_server \
		'{"verdict": "blackholed", "loss_direction": "from_faulty_member", "suspects": ["blackhole"], "faulty_member": "@LEADER@", "leader_change": true, "keylog": true, "notes": "As etcd-leader-blackhole, in TLS: with keylog.txt the report must say what it says of the plaintext scenario (the leader change with its term and time, the faulty member); without it, what etcd-leader-blackhole-tls says."}'
}

# etcd-no-leader: one clientv3 client on a follower only, every call with
# WithRequireLeader (a Put every 300 ms with a 1 s deadline, a Watch
# started again 1 s after the member ends it); at 3 s that follower is
# cut off from the other two members (peer traffic dropped both ways at
# the router; its client port untouched) for 6 s. The isolated member
# loses its leader (pre-vote: no term is raised) and refuses each call at
# once with Unavailable "etcdserver: no leader" (the Watch 3 election
# timeouts later); the Puts in flight when it was cut off run out of
# deadline. client.pcap: the client's namespace; server.pcap: the member;
# both port 2379 only (h2c: HPACK decodes every grpc-status).
sc_etcd-no-leader() {
	local i st= leader= iso ip
	build_etcd
	begin etcd-no-leader
	etcd_topo_up
	for i in 1 2 3; do
		mkdir -p "$TMP/m$i"
		bg "${NS_M[$((i - 1))]}" "$ETCD_BIN" member --name m$i --ip "$(etcd_ip $i)" --cluster "$ETCD_CLUSTER" \
			--dir "$TMP/m$i/data" --log "$OUT/m$i.log"
		ETCD_PIDS+=("$LAST")
	done
	for i in 1 2 3; do
		wait_listen "${NS_M[$((i - 1))]}" 2379 2380
	done
	for i in $(seq 50); do
		st=$(etcd_status) && leader=$(sed -n 's/.*"leader":"\(m[0-9]\)".*/\1/p' <<<"$st") && [ -n "$leader" ] && break
		sleep 0.1
	done
	[ -n "$leader" ] || die "no etcd leader"
	# The isolated member: the first follower.
	iso=1
	[ "$leader" != m1 ] || iso=2
	ip=$(etcd_ip $iso)
	capture "$NS_C" c0 "$OUT/client.pcap" tcp port 2379
	capture "${NS_M[$((iso - 1))]}" m0 "$OUT/server.pcap" tcp port 2379
	bg "$NS_C" "$ETCD_BIN" client --endpoints "http://$ip:2379" --duration 12s --every 300ms --require-leader \
		--log "$OUT/client.log" 2>"$TMP/client.stderr"
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
	at 3
	fault both "m$iso cut off from the other members (peer traffic both ways)" \
		"ip saddr $ip ip daddr 198.18.8.0/21 tcp dport 2380 drop; ip saddr $ip ip daddr 198.18.8.0/21 tcp sport 2380 drop; ip daddr $ip ip saddr 198.18.8.0/21 tcp dport 2380 drop; ip daddr $ip ip saddr 198.18.8.0/21 tcp sport 2380 drop"
	at 9
	fault_end
	wait_client
	stop_captures
	for i in "${ETCD_PIDS[@]}"; do stop_pid "$i"; done
	ETCD_PIDS=()
	PIDS=()
	write_faults "$TMP/faults.jsonl"
	local members=() logs=()
	for i in 1 2 3; do
		members+=("m$i=$(sed -n "s/.*\"m$i\":\"\([0-9a-f]*\)\".*/\1/p" <<<"$st")=$(etcd_ip $i)=")
		logs+=("m$i=$OUT/m$i.log")
	done
	if ! "$ETCD_BIN" truth --scenario etcd-no-leader --faulty "m$iso" \
		--description "Three etcd members (leader $leader); one clientv3 client on follower m$iso only, every call WithRequireLeader: a Put every 300 ms (1 s deadline) and a Watch started again 1 s after the member ends it. From 3 s to 9 s m$iso is cut off from the other members (port 2380 both ways; its client port untouched): it loses its leader and refuses the calls with Unavailable \"etcdserver: no leader\". client.pcap: the client's namespace; server.pcap: m$iso; port 2379 only." \
		--members "$(IFS=,; echo "${members[*]}")" --logs "$(IFS=,; echo "${logs[*]}")" \
		--faults "$TMP/faults.jsonl" --client-log "$OUT/client.log" --want-error "no leader" \
		--expect '{"grpc": "every grpc-status the member sent is one the client logged (per method and code); every call the client reset (CANCEL) one it logged as DeadlineExceeded", "loss_direction": "none"}' \
		--out "$OUT/truth.json"; then
		MISSED+=(etcd-no-leader)
	fi
	for i in 1 2 3; do
		grep -E 'became leader|elected leader|lost leader|became (pre-)?candidate|became follower' "$OUT/m$i.log" >"$TMP/m$i.raft.log" || true
		mv "$TMP/m$i.raft.log" "$OUT/m$i.log"
	done
	topo_down
	verify
}

# etcd-client-blackhole: two clientv3 clients with grpc-go keepalive (Time
# 10 s, Timeout 3 s) talk to member m1 only: a busy one (a Put every 300 ms
# with a 1 s deadline) and an idle one (a Watch, nothing else); from 3 s to
# 21 s every packet m1 sends from its client port 2379 is dropped. The idle
# client's keepalive PING goes unanswered and it closes the connection; the
# busy one's data goes unacknowledged, and grpc-go's TCP_USER_TIMEOUT (the
# keepalive Timeout) makes its kernel drop the socket without a FIN or
# RST. Both redial m1 at once (SYN-ACKs dropped until the fault ends).
# client.pcap is the client namespace's c0, server.pcap m1's m0.
sc_etcd-client-blackhole() {
	local i
	build_etcd
	begin etcd-client-blackhole
	etcd_topo_up
	capture "$NS_C" c0 "$OUT/client.pcap" tcp port 2379
	capture "${NS_M[0]}" m0 "$OUT/server.pcap" tcp port 2379
	for i in 1 2 3; do
		mkdir -p "$TMP/m$i"
		bg "${NS_M[$((i - 1))]}" "$ETCD_BIN" member --name m$i --ip "$(etcd_ip $i)" --cluster "$ETCD_CLUSTER" \
			--dir "$TMP/m$i/data" --log "$TMP/m$i.log"
		ETCD_PIDS+=("$LAST")
	done
	for i in 1 2 3; do
		wait_listen "${NS_M[$((i - 1))]}" 2379 2380
	done
	local ep=http://198.18.11.2:2379 st
	for i in $(seq 50); do
		st=$(etcd_status) && grep -q '"leader":"m' <<<"$st" && break
		sleep 0.1
	done
	bg "$NS_C" "$ETCD_BIN" client --endpoints $ep --duration 25s --every 300ms --keepalive-time 10s --keepalive-timeout 3s \
		--log "$OUT/client-busy.log" 2>"$TMP/client-busy.stderr"
	local busy=$LAST
	bg "$NS_C" "$ETCD_BIN" client --endpoints $ep --duration 25s --idle --keepalive-time 10s --keepalive-timeout 3s \
		--log "$OUT/client-idle.log" 2>"$TMP/client-idle.stderr"
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
	at 3
	fault server_to_client "black hole of m1's client port (2379) towards the clients" "ip saddr 198.18.11.2 tcp sport 2379 drop"
	at 21
	fault_end
	wait "$busy" || true
	wait_client
	stop_captures
	# The members too: a process left in a namespace about to be deleted
	# lives on, holding its ports' memory and its log.
	for i in "${ETCD_PIDS[@]}"; do stop_pid "$i"; done
	ETCD_PIDS=()
	PIDS=()
	write_faults "$TMP/faults.jsonl"
	local members=()
	for i in 1 2 3; do
		members+=("m$i=$(sed -n "s/.*\"m$i\":\"\([0-9a-f]*\)\".*/\1/p" <<<"$st")=$(etcd_ip $i)=")
	done
	if ! "$ETCD_BIN" truth --scenario etcd-client-blackhole --faulty m1 \
		--description "Three etcd members; two clientv3 clients (grpc-go keepalive Time 10 s, Timeout 3 s) on member m1 only: a busy one (Put every 300 ms, 1 s deadline) and an idle one (a Watch only). From 3 s to 21 s every packet m1 sends from port 2379 is dropped (server->client black hole). client.pcap: the clients' namespace; server.pcap: m1." \
		--members "$(IFS=,; echo "${members[*]}")" --logs "m1=$TMP/m1.log" \
		--faults "$TMP/faults.jsonl" --client-log "$OUT/client-busy.log,$OUT/client-idle.log" --want-error "deadline" \
		--expect '{"busy": "the keepalive-timeout abandonment: data unanswered, the socket gone without FIN or RST, a redial at once", "idle": "keepalive PING unanswered, the client closes", "loss_direction": "server_to_client", "suspects": ["blackhole"]}' \
		--out "$OUT/truth.json"; then
		MISSED+=(etcd-client-blackhole)
	fi
	topo_down
	verify
}

sc_grpc-too-many-pings() {
	build_etcd
	begin grpc-too-many-pings
	bg "$NS_S" "$ETCD_BIN" grpcserver --addr "$S4:50051" --min-time 15s
	SERVER_PID=$LAST
	wait_listen "$NS_S" 50051
	captures_both
	bg "$NS_C" "$ETCD_BIN" grpcclient --addr "$S4:50051" --keepalive-time 10s --keepalive-timeout 2s --duration 75s \
		--log "$OUT/client.log"
	CLIENT_PID=$LAST
	T0=$(date +%s.%N)
	finish --transport h2c --server $S4:50051 --conns 1 \
		--description "A grpc-go client (keepalive Time 10 s, Timeout 2 s, PermitWithoutStream) calls the health service once and stays idle, pinging; the grpc-go server's enforcement policy allows a PING every 15 s at most: after two strikes it sends GOAWAY ENHANCE_YOUR_CALM \"too_many_pings\" and closes. The client reconnects at once (it asks for a connection whenever the channel falls idle), and grpc-go doubles its keepalive time on the new connection: a PING every 20 s, which the policy allows." \
		--captures "$BOTH_CAPTURES" \
		--verdict goaway --loss-direction none --suspects too_many_pings --want-error too_many_pings \
		--notes "The first connection pings at about 10, 20 and 30 s; the third PING is the third strike: GOAWAY ENHANCE_YOUR_CALM too_many_pings (grpc-go's client logs it), then the server closes. The redial pings every 20 s and lives to the end of the run."
}

# ---------------------------------------------------------------- main

main() {
	case ${1:-} in
	list)
		printf '%s\n' "${SCENARIOS[@]}"
		return
		;;
	-h | --help)
		sed -n '2,13p' "$0"
		return
		;;
	esac
	preflight
	build
	if [ "${1:-}" = bulk ]; then
		shift
		bulk "$@"
		return
	fi
	if [ "${1:-}" = bulk-live ]; then
		shift
		bulk_live "$@"
		return
	fi
	local list=("$@") s
	[ ${#list[@]} -gt 0 ] || list=("${SCENARIOS[@]}")
	for s in "${list[@]}"; do
		declare -F "sc_$s" >/dev/null || die "unknown scenario $s (try: run.sh list)"
	done
	for s in "${list[@]}"; do
		"sc_$s"
	done
	log "done: ${list[*]} in $OUT_ROOT"
	if [ ${#MISSED[@]} -gt 0 ]; then
		log "rerun these, their run did not show the fault's effect: bash lab/run.sh ${MISSED[*]}"
		exit 1
	fi
}

main "$@"
