// Command h2lab produces real HTTP/2 traffic for the h2pcap lab: a client
// built on golang.org/x/net/http2.Transport with health-check PINGs, a
// net/http + x/net/http2 server (TLS and h2c), a Framer-based server that
// punishes PINGs the way grpc-go does, a bulk downloader for benchmark
// captures, and the writer of each scenario's truth.json.
//
// It is one static binary (CGO_ENABLED=0) so lab/run.sh can build it once
// and run it inside the lab's network namespaces.
//
// It is test equipment: nothing of h2pcap imports it, and it never
// analyses what it sends.
package main
