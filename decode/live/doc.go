// Package live captures packets from network interfaces as a
// [decode.Source], so that everything h2pcap does with a capture file it
// can also do on the wire.
//
// It is pure Go (no cgo, no libpcap): one AF_PACKET socket per interface
// with a TPACKET_V3 memory-mapped ring (gopacket's afpacket), and a
// classic BPF program, built here with golang.org/x/net/bpf from the
// ports and hosts asked for, attached to each socket so that the kernel
// drops uninteresting packets before they are copied to user space.
//
// The filter passes TCP over IPv4 and IPv6 (when the TCP header follows
// the IPv6 header directly; a packet with IPv6 extension headers is not
// matched) where a port is one of the ports and an address one of the
// hosts. Inside VXLAN (UDP port 4789 or 8472, either side) the same test
// is made on the inner flow (an untagged inner Ethernet frame, one level
// of tunnel). Every Geneve datagram (UDP 6081) passes whatever it
// carries: its header has a variable length, which classic BPF can follow
// only with a much longer program; the decoder looks inside.
//
// Ethernet interfaces (and loopback, which carries an Ethernet header) are
// captured with their link header (LinkType EN10MB); other interfaces and
// "any" are captured from the network header on (LinkType RAW), since
// their link headers differ from packet to packet.
//
// Each packet says the interface it crossed and whether the host
// received or sent it there (AF_PACKET's sll_ifindex and sll_pkttype;
// gopacket's afpacket returns the first, pktType reads the second from
// the ring), as a tcpdump -i any file's cooked headers do.
//
// Packets from several interfaces are merged in the order they reach
// the reader: one goroutine per socket copies each packet out of the ring
// into a pooled buffer and queues it. Two kinds of drop are counted apart
// ([Source.Stats]), and neither is network loss: the kernel's (the ring
// was full, from the tpacket statistics) and this package's own (the
// queue to the analysis was full).
//
// With Config.Idle, Next returns a *decode.IdleError when no packet came
// for that long, so that the analysis sees time pass on a quiet link (a
// PING that goes unanswered is a finding only some time after it).
package live
