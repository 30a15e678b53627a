// Package decode turns capture bytes into typed events.
//
// It owns everything between a file (or a live socket) and a TCP segment:
// capture containers (pcap, pcapng, gzip, standard input), link layers
// (Ethernet, Linux SLL/SLL2, raw IP, BSD null/loopback), VLAN tags,
// IPv4/IPv6 and the overlay encapsulations Kubernetes networks use (VXLAN,
// Geneve, IP-in-IP). It never keeps state across packets beyond what a
// container format needs; judgement lives in package analyze.
package decode
