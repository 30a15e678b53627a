#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time (FUZZTIME, default
# 20s each). go test fuzzes one target of one package per run, so the
# targets are found with grep and run one after the other. New crashers
# land in the package's testdata/fuzz/ and then run as regular tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=0
fuzztime=${FUZZTIME:-20s}
# Minimising a new input (default 60 s each) would eat a short run whole:
# FuzzTLSConn ran 11 inputs in 60 s without this.
minimize=${FUZZMINIMIZETIME:-5s}
status=0
while IFS=: read -r file _ line; do
	dir=$(dirname "$file")
	name=$(sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
	echo "== $dir $name ($fuzztime)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" "$dir"; then
		status=1
	fi
done < <(grep -rnE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | sort)
exit $status
