// Command replay sends the packets of a pcap out of an interface, as
// fast as it can or at a rate, for bench/live.sh: a reconnect storm or
// many idle connections that h2pcap live captures on the other end of a
// veth pair inside a network namespace. It writes the frames as they
// are (Ethernet captures only); nothing but the veth's peer receives
// them.
//
//	replay -i v0 -pps 50000 bench/out/short-200k.pcap
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func main() {
	iface := flag.String("i", "", "interface to send on")
	pps := flag.Int("pps", 0, "packets per second (0: as fast as the socket takes them)")
	flag.Parse()
	if *iface == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: replay -i IFACE [-pps N] FILE.pcap")
		os.Exit(2)
	}
	n, err := replay(*iface, *pps, flag.Arg(0))
	fmt.Fprintf(os.Stderr, "replay: %d packets\n", n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func replay(iface string, pps int, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return 0, fmt.Errorf("%s: link type %s, not Ethernet", path, r.LinkType())
	}
	tp, err := afpacket.NewTPacket(afpacket.OptInterface(iface))
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", iface, err)
	}
	defer tp.Close()
	start := time.Now()
	n := 0
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("%s: %w", path, err)
		}
		for {
			err = tp.WritePacketData(data)
			if !errors.Is(err, syscall.ENOBUFS) && !errors.Is(err, syscall.EAGAIN) {
				break
			}
			time.Sleep(50 * time.Microsecond) // the device's queue is full
		}
		if err != nil {
			return n, fmt.Errorf("send on %s: %w", iface, err)
		}
		n++
		if pps > 0 && n%64 == 0 {
			// Paced in batches: sleeping per packet costs more than
			// the send.
			if d := time.Until(start.Add(time.Duration(n) * time.Second / time.Duration(pps))); d > 0 {
				time.Sleep(d)
			}
		}
	}
}
