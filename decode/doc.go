// Package decode turns capture bytes into typed events.
//
// It owns everything between a file (or a live socket) and a TCP segment:
// capture containers (pcap, pcapng, gzip, standard input), link layers
// (Ethernet, Linux SLL/SLL2, raw IP, BSD null/loopback), VLAN tags,
// IPv4/IPv6 and the overlay encapsulations Kubernetes networks use (VXLAN,
// Geneve, IP-in-IP). A Decoder keeps no state across packets; an
// InputDecoder keeps what takes several packets of one input to tell (IPv4
// reassembly) and says what in the input could mislead. Judgement lives in
// package analyze.
//
// # Sources
//
// Open detects gzip, pcap (either byte order, micro- or nanosecond) and
// pcapng by their magic numbers. Both container readers are this
// package's own rather than pcapgo's: they serve each record from the
// read buffer without copying, know the byte offset of every record for
// error messages, accept what Wireshark accepts (pcap records whose
// captured length exceeds the original length), reject pcapng blocks
// whose lengths are inconsistent instead of reading them as a capture cut
// short, and keep pcapng Decryption Secrets Blocks (see SecretsSource;
// nothing here decrypts).
//
// Frames are numbered from 1 in file order, every record counting, as
// Wireshark numbers them. In pcapng each packet has the link type of its
// interface; packets of an interface whose link type the Decoder does not
// know are still returned (and a warning is added to InputInfo).
//
// A capture that ends in the middle of a record, as one from a killed
// tcpdump does, ends normally: Next returns io.EOF and InputInfo.Warnings
// says where the cut was. Any other damage is a *FormatError naming the
// file and, where it applies, the byte offset (of the decompressed stream
// for gzip input); what was read before it stays counted in InputInfo, so
// a caller may report it.
//
// OpenContext and NewReaderContext stop reading when their context is
// done, even a read waiting on a quiet pipe: Next then returns the
// context's cause.
//
// # Decoding
//
// A Decoder turns a Packet into a Segment without allocating, reusing its
// layer values (gopacket's for Ethernet, loopback and IPv4; hand-written
// for the rest: gopacket's TCP layer allocates for some options, its Linux
// SLL layers reject long hardware addresses, and the tunnel headers are a
// few bytes each). Inside the link layer it follows 802.1Q
// and QinQ tags, MPLS, PPPoE, IPv6 extension headers, and the tunnels
// VXLAN (UDP 4789 and 8472), Geneve (6081), GRE and IP-in-IP in all four
// combinations, and reports the innermost TCP segment. PayloadLen comes
// from the innermost IP length, bounded by what the frame had on the wire,
// so it is right for captures cut by a snap length. To a Decoder,
// non-first IP fragments are not TCP segments; a first fragment is, with
// Segment.Fragment set.
//
// # Inputs
//
// An InputDecoder decodes the packets of one input in order, as the
// analysis reads them. It reassembles IPv4 fragments of datagrams that may
// hold TCP (TCP itself, or a tunnel) with gopacket's ip4defrag, as
// Wireshark does: the segment comes out at the fragment that completes the
// datagram, with that frame's number and time, and Segment.Reassembled set.
// Fragments wait at most 30 s of capture time (Linux's ipfrag_time) and
// 8 MiB in all; the ones that never make a datagram are named in
// Warnings, by reason. Unfragmented packets cost no allocation.
//
// It also drops the copies of a capture that has every packet twice (a
// port mirroring both directions, `tcpdump -i any` seeing a bridge and
// its port): a TCP segment that repeats one captured within 5 ms, with
// the same IP ID, is a copy, where a retransmission would have a new IP
// ID. Without an IP ID to tell (IPv6, IPv4 ID 0) a repeat within 500 µs
// is a copy only while the capture shows copies throughout. Here h2pcap
// intentionally differs from Wireshark, which counts copies as
// retransmissions; dup.go says why each threshold is what it is. Capture
// time that runs backwards and packets skipped as malformed are warnings
// as well, with the first frame and a count per reason.
//
// # Interfaces
//
// Each Packet names the interface it was captured on where the capture
// says (Packet.Iface): the ifindex and packet type of a LINUX_SLL2 header
// (tcpdump -i any), the pcapng interface and its if_name, the AF_PACKET
// ifindex of a live capture. A router's or a node's capture of several
// interfaces holds each forwarded packet once per interface it crossed;
// the copy finder counts the copies found on another interface than
// their original apart (DecodeStats.CopiesAcrossInterfaces), and
// SurveyInterfaces reads a file once to say which interfaces carried TCP
// and how many copies crossed between them, for the caller to read the
// file as a capture point per interface. A live capture on every
// interface analyses each connection on the first interface it was seen
// on instead (InputDecoder.OneInterfacePerConnection, owner.go).
package decode
