// Command gen writes the many-connection captures bench/many.sh (make
// bench) measures h2pcap against tshark and the read floor with; the
// shapes are internal/synth's.
//
//	go run ./bench/gen -case short -n 200000 -rate 5000 -o short.pcap
//	go run ./bench/gen -case syn   -n 1000000 -o syn.pcap
//	go run ./bench/gen -case ping  -n 100000 -o ping.pcap
//	go run ./bench/gen -case tls   -n 2000 -o tls.pcap -keylog tls.keys
//	go run ./bench/gen -case short -n 50000 -rate 1000 -o a.pcap -point2 b.pcap -miss 997
package main
