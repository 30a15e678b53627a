#!/usr/bin/env bash
# keylog.sh DIR: prepares DIR for building etcdlab with a key log hook in
# etcd's TLS configs, and prints the go.mod to build with
# (`go build -modfile "$(bash keylog.sh DIR)"`). etcd's TLSInfo has no key
# log field, and every peer and client TLS config etcd makes
# (ServerConfig, ClientConfig) starts from TLSInfo.baseConfig; so DIR gets
# a copy of the module cache's go.etcd.io/etcd/client/pkg/v3 (the version
# go.mod pins) with one line added after baseConfig makes its tls.Config
# (cfg.KeyLogWriter = h2labKeyLog()) and transportkeylog/keylog.go added
# to its transport package (the writer, from ETCDLAB_KEYLOG), and a copy of
# go.mod that replaces the module with it. Nothing of etcd is committed to
# the repository; if etcd's code no longer has the line the hook goes
# after, this fails rather than build a binary that writes no keys.
# (go build -overlay cannot do it: it refuses files in the module cache.)
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mod=go.etcd.io/etcd/client/pkg/v3
(cd "$here" && go mod download "$mod")
src=$(cd "$here" && go list -m -f '{{.Dir}}' "$mod")
rm -rf "$out/clientpkg"
mkdir -p "$out"
cp -r "$src" "$out/clientpkg"
chmod -R u+w "$out/clientpkg"
sed -i '/^\tcfg := &tls.Config{$/,/^\t}$/ s/^\t}$/\t}\n\tcfg.KeyLogWriter = h2labKeyLog() \/\/ h2pcap lab: lab\/etcd\/keylog.sh/' \
	"$out/clientpkg/transport/listener.go"
if [ "$(grep -c 'h2labKeyLog()' "$out/clientpkg/transport/listener.go")" != 1 ]; then
	echo "keylog.sh: $src/transport/listener.go has no single 'cfg := &tls.Config{' in baseConfig; the key log hook does not apply" >&2
	exit 1
fi
cp "$here/transportkeylog/keylog.go" "$out/clientpkg/transport/h2lab_keylog.go"
cp "$here/go.mod" "$out/go.mod"
cp "$here/go.sum" "$out/go.sum"
(cd "$here" && go mod edit -modfile "$out/go.mod" -replace "$mod=$out/clientpkg")
echo "$out/go.mod"
