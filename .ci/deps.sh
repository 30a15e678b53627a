#!/usr/bin/env bash
# Installs the programs the tests and the lab need, when missing: tshark (the
# oracle), tcpdump and nftables (the lab), iproute2 (namespaces), traceroute
# (the lab's traceroute-probes; the tests read its committed captures),
# ethtool (the live tests turn a veth's offloads off, as the lab does, so
# that captured segments are MTU-sized), chromium (headless: the HTML
# report's browser test).
set -euo pipefail
need=()
command -v tshark  >/dev/null || need+=(tshark)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v nft     >/dev/null || need+=(nftables)
command -v ip      >/dev/null || need+=(iproute2)
command -v traceroute >/dev/null || need+=(traceroute)
command -v ethtool >/dev/null || need+=(ethtool)
[ -x /usr/bin/time ] || need+=(time)
command -v chromium >/dev/null || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${need[*]}; run as root or install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
