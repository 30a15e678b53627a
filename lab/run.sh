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

SCENARIOS=(healthy-tls blackhole-s2c-tls blackhole-c2s-h2c blackhole-s2c-h2c random-loss-both oneway-loss-ipv6
	graceful-shutdown too-many-pings middlebox-reset mtu-blackhole midconn sll2-any
	blackhole-s2c-tls12-gcm blackhole-s2c-tls12-chacha midconn-tls
	etcd-leader-loss etcd-leader-blackhole etcd-leader-blackhole-tls etcd-client-blackhole grpc-too-many-pings)

# Names carry our PID so parallel runs (and other people's tests) never collide.
NS_C=h2lab-$$-cli
NS_R=h2lab-$$-rtr
NS_S=h2lab-$$-srv
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
	for ns in "$NS_C" "$NS_R" "$NS_S" "${NS_M[@]}"; do
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
	local dir=$1 what=$2 rule=$3 out handles cmd=() r i h
	shift 3
	local IFS=';'
	for r in $rule; do
		cmd+=("add rule inet lab faults ${r# };")
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
		F_END[$i]=$t
		log "fault off: ${F_WHAT[$i]}"
	done
}

write_faults() {
	local i end
	: >"$1"
	for i in "${!F_HANDLE[@]}"; do
		end=null
		[ -z "${F_END[$i]}" ] || end="\"${F_END[$i]}\""
		printf '{"start":"%s","end":%s,"direction":"%s","nft":"%s","what":"%s"}\n' \
			"${F_START[$i]}" "$end" "${F_DIR[$i]}" "$(sed 's/\(^\|; \)/\1nft add rule inet lab faults /g' <<<"${F_RULE[$i]}")" "${F_WHAT[$i]}" >>"$1"
	done
}

# ---------------------------------------------------------------- scenario frame

begin() {
	SC=$1
	OUT=$OUT_ROOT/$SC
	log "=== $SC"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	F_HANDLE=() F_START=() F_DIR=() F_WHAT=() F_RULE=() F_END=()
	CAP_PIDS=() CAP_ERRS=()
	SC_BAD= KEEP_FAULTS=
	topo_up
}

captures_both() {
	capture "$NS_C" c0 "$OUT/client.pcap" "$@"
	capture "$NS_S" s0 "$OUT/server.pcap" "$@"
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
	rm -f "$TMP/pings.jsonl"
	if declare -F "notes_$SC" >/dev/null; then
		"notes_$SC" >"$TMP/notes"
		extra=$(paste -sd' ' "$TMP/notes")
		for i in "${!args[@]}"; do
			[ "${args[$i]}" != --notes ] || args[$((i + 1))]+=" $extra"
		done
	fi
	# A notes function may have listed the PINGs it found (ping_notes).
	[ ! -s "$TMP/pings.jsonl" ] || args+=(--pings "$TMP/pings.jsonl")
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

sc_blackhole-s2c-h2c() {
	begin blackhole-s2c-h2c
	start_server
	captures_both
	# Requests stop at 3 s (the last at 2.5 s); only the /watch stream
	# stays open and its next event is 30 s away, so nothing is sent
	# either way until the health-check PING, ReadIdleTimeout (2 s) after
	# the last frame the client read (about 4.5 s). The black hole starts
	# in between, once both sides have everything ACKed.
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
	fault server_to_client "black hole" "ip saddr $S4 drop"
	# The server sends nothing until it answers the PING: once its socket
	# holds unacknowledged data, the PING ACK has been dropped. The black
	# hole then narrows to this connection, in the same nft transaction:
	# the client's redial after the lost ping passes, while the dead
	# connection's server->client packets stay dropped until the captures
	# end (else the server's TCP would retransmit the PING ACK into
	# client.pcap the moment the path is back).
	if tcp_wait "$NS_S" "( sport = :8080 and dport = :$port )" unacked 3; then
		fault server_to_client "black hole (the lost connection only)" \
			"ip saddr $S4 tcp sport 8080 tcp dport $port drop" 0
	else
		SC_BAD="the server sent nothing 3 s into the black hole (no PING?)"
		log "warning: $SC_BAD"
	fi
	KEEP_FAULTS=1
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

# ---------------------------------------------------------------- bulk

bulk() {
	local out=${1:?usage: run.sh bulk OUT.pcap [MB]} mb=${2:-800}
	case $out in /*) ;; *) out=$PWD/$out ;; esac
	OUT=$TMP/bulk
	mkdir -p "$OUT" "$(dirname "$out")"
	CAP_PIDS=() CAP_ERRS=() F_HANDLE=() F_START=() F_DIR=() F_WHAT=() F_RULE=() F_END=()
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
	CAP_PIDS=() CAP_ERRS=() F_HANDLE=() F_START=() F_DIR=() F_WHAT=() F_RULE=() F_END=()
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
	log "building lab/etcd (its own module: embedded etcd members, clientv3)"
	(cd "$LAB/etcd" && CGO_ENABLED=0 go build -o "$TMP/etcdlab" .)
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
		bg "${NS_M[$((i - 1))]}" "$ETCD_BIN" member --name m$i --ip "$(etcd_ip $i)" --cluster "${ETCD_CLUSTER_URLS:-$ETCD_CLUSTER}" \
			--dir "$TMP/m$i/data" --log "$OUT/m$i.log" ${ETCD_MEMBER_ARGS:-}
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
	bg "$NS_C" "$ETCD_BIN" client --endpoints "$ETCD_ENDPOINTS" --duration 12s --every 300ms --log "$OUT/client.log" 2>"$TMP/client.stderr"
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
	# without keys a follower's capture tells as much).
	for i in 1 2 3; do
		keep=0
		[ "m$i" != "$leader" ] && [ "$i" != "$other" ] || keep=1
		[ "${ETCD_KEEP:-}" != other ] || [ "m$i" != "$leader" ] || keep=0
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

sc_etcd-leader-blackhole() {
	etcd_scenario etcd-leader-blackhole \
		"Three embedded etcd v3.7 members and a clientv3 client putting a key every 300 ms; at 3 s every packet the leader sends is dropped (a one-way black hole: it still receives) until the other members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ drop" \
		"black hole of everything the leader sends" client_to_server \
		'{"verdict": "blackholed", "loss_direction": "from_faulty_member", "suspects": ["blackhole"], "faulty_member": "@LEADER@", "leader_change": true, "notes": "Nothing the faulty member (the leader when the fault started) sends arrives; what it receives does. Its heartbeats stop reaching the followers, which elect a new leader."}'
}

# etcd-leader-blackhole-tls: etcd-leader-blackhole with TLS on the peer
# port (etcd's self-signed certificates) and no key log: etcd's transport
# has no key log hook, so the peer traffic stays encrypted; what the
# report can still say is which member's connections lost packets.
sc_etcd-leader-blackhole-tls() {
	ETCD_KEEP=other ETCD_MEMBER_ARGS=--peer-tls ETCD_CLUSTER_URLS=${ETCD_CLUSTER//http:/https:} etcd_scenario etcd-leader-blackhole-tls \
		"etcd-leader-blackhole with TLS on the peer port (--peer-auto-tls, no key log: etcd's transport has none): three embedded etcd v3.7 members and a clientv3 client putting a key every 300 ms; at 3 s every packet the leader sends is dropped until the other members elect another leader, then 1.5 s more." \
		"ip saddr @IP@ drop" \
		"black hole of everything the leader sends" client_to_server \
		'{"verdict": "blackholed", "loss_direction": "from_faulty_member", "suspects": ["blackhole"], "faulty_member": "@LEADER@", "leader_change": true, "encrypted": true, "notes": "As etcd-leader-blackhole, with the peer traffic in TLS that the captures cannot decrypt: the elections are in the members logs (this file), not readable from the captures; the faulty member is, from the TCP loss per member pair."}'
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
