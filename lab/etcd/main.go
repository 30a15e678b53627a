// Command etcdlab runs the etcd side of the h2pcap lab: an embedded etcd
// member (go.etcd.io/etcd/server/v3/embed), a clientv3 load client, a
// status probe that names the leader, and the truth writer that reads
// the members' own logs. It is a Go module of its own so that h2pcap's
// go.mod does not take etcd's dependencies; lab/run.sh builds it.
//
//	etcdlab member --name m1 --ip 198.18.11.2 --cluster m1=http://...:2380,... --dir D --log F
//	etcdlab client --endpoints http://...:2379,... --duration 10s --every 100ms --log F
//	etcdlab status --endpoints ...     prints {"leader": "m2", "ids": {"m1": "8e9e05c52164694d", ...}}
//	etcdlab truth --scenario S --logs m1=F,m2=F,m3=F --faults F --client-log F > truth.json
//	etcdlab grpcserver --addr :50051 --min-time 15s   grpc-go health service, keepalive enforcement
//	etcdlab grpcclient --addr IP:50051 --keepalive-time 10s --log F   idle grpc-go client that pings
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: etcdlab member|client|status|truth|grpcserver|grpcclient [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "member":
		err = member(os.Args[2:])
	case "client":
		err = client(os.Args[2:])
	case "status":
		err = statusCmd(os.Args[2:])
	case "truth":
		err = truth(os.Args[2:])
	case "grpcserver":
		err = grpcServer(os.Args[2:])
	case "grpcclient":
		err = grpcClient(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdlab:", err)
		os.Exit(1)
	}
}
