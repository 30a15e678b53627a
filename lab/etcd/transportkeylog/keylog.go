// Package transport (this directory) is not built on its own: lab/run.sh
// builds etcdlab with lab/etcd/keylog.sh, which adds this file to
// go.etcd.io/etcd/client/pkg/v3/transport and makes that package's
// TLSInfo.baseConfig set tls.Config.KeyLogWriter = h2labKeyLog()
// (keylog.sh). etcd's TLSInfo has no key log field, and every peer and
// client TLS config etcd makes (ServerConfig, ClientConfig) starts from
// baseConfig, so this one hook gives the lab NSS key logs of etcd's own
// TLS connections without a copy of etcd's code in the repository.
package transport

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// h2labKeyLog is the key log named by ETCDLAB_KEYLOG, opened for appending
// once per process (the peer listener and every dialer share it); nil
// when the variable is unset, as crypto/tls wants for no key log.
var h2labKeyLog = sync.OnceValue(func() io.Writer {
	p := os.Getenv("ETCDLAB_KEYLOG")
	if p == "" {
		return nil
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		// A lab run that asked for keys and cannot have them must not
		// produce captures that look keyed.
		fmt.Fprintln(os.Stderr, "etcdlab: key log:", err)
		os.Exit(1)
	}
	return f
})
