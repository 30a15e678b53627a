#!/usr/bin/env bash
# go vet of lab/etcd, the etcd lab's own Go module (so h2pcap's go.mod does
# not take etcd's dependencies; `go vet ./...` at the top does not reach
# it). It is vetted as lab/run.sh builds it: against the copy of
# go.etcd.io/etcd/client/pkg/v3 with the key log hook (lab/etcd/keylog.sh),
# so a new etcd the hook no longer fits fails here, not in a lab run.
# Skipped, saying so, only when the module cache cannot be filled (no
# module proxy): anything else fails.
set -euo pipefail
cd "$(dirname "$0")/../lab/etcd"
err=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$err" "$tmp"' EXIT
if ! go mod download >/dev/null 2>"$err"; then
	echo "vet-lab: SKIPPED go vet of lab/etcd: its modules could not be downloaded: $(head -c 300 "$err")" >&2
	exit 0
fi
bash -n keylog.sh
modfile=$(bash keylog.sh "$tmp")
go vet -modfile "$modfile" ./...
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "vet-lab: not gofmt'd: $unformatted" >&2
	exit 1
fi
echo "vet-lab: lab/etcd vetted" >&2
