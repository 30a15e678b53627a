//go:build linux

package live

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/h2pcap/h2pcap/decode"
)

// The capture tests run in namespaces of their own: the test binary runs
// itself again under ip netns exec, with H2LIVE_HELPER naming the case.
// Namespace A holds v0 (198.19.3.1) and lo; namespace B holds v1
// (198.19.3.2) and nothing listens there, so a SYN to it is answered with
// a RST: traffic on v0 in both directions.

const helperEnv = "H2LIVE_HELPER"

func needRoot(t *testing.T) {
	t.Helper()
	fail := t.Skipf
	if os.Getenv("CI") == "true" {
		fail = t.Fatalf
	}
	if os.Geteuid() != 0 {
		fail("needs root (network namespaces, packet sockets)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		fail("needs ip: %v", err)
	}
}

// inNetns runs the named helper case in a fresh pair of namespaces.
func inNetns(t *testing.T, helper string) {
	needRoot(t)
	a := fmt.Sprintf("h2live-%d-a", os.Getpid())
	b := fmt.Sprintf("h2live-%d-b", os.Getpid())
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", a).Run()
		exec.Command("ip", "netns", "del", b).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", a}, {"netns", "add", b},
		{"-n", a, "link", "set", "lo", "up"},
		{"-n", a, "link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", b},
		{"-n", a, "addr", "add", "198.19.3.1/24", "dev", "v0"},
		{"-n", b, "addr", "add", "198.19.3.2/24", "dev", "v1"},
		{"-n", a, "link", "set", "v0", "up"},
		{"-n", b, "link", "set", "v1", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cmd := exec.Command("ip", "netns", "exec", a, os.Args[0], "-test.run=^TestHelper$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"="+helper)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "HELPER OK") {
		t.Fatalf("helper %s: %v\n%s", helper, err, out)
	}
	t.Logf("%s", out)
}

func TestSourceTwoInterfaces(t *testing.T) { inNetns(t, "two") }
func TestSourceAny(t *testing.T)           { inNetns(t, "any") }
func TestSourceQueueDrops(t *testing.T)    { inNetns(t, "queue") }

// TestSourceIdle: with Config.Idle, a quiet link gives *decode.IdleError
// about every Idle, and the packets still come between them.
func TestSourceIdle(t *testing.T) { inNetns(t, "idle") }

// TestSourceLongFilter: the kernel takes a filter with far jumps.
func TestSourceLongFilter(t *testing.T) { inNetns(t, "long") }

// TestSourceGrow: a ring started small (Config.StartBlocks) is replaced
// by the full one while a burst of full-sized segments passes (and
// Config.OnBusy is told, once):
// every packet is read once, none twice, and any lost is counted.
func TestSourceGrow(t *testing.T) { inNetns(t, "grow") }

// TestHelper is the part that runs inside the namespaces.
func TestHelper(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		t.Skip("runs only as a helper of the capture tests")
	case "two":
		helperCapture(t, []string{"v0", "lo"}, layers.LinkTypeEthernet, Filter{Ports: []uint16{9999}})
	case "any":
		helperCapture(t, []string{Any}, layers.LinkTypeRaw, Filter{Ports: []uint16{9999}})
	case "long":
		var f Filter
		for p := uint16(20000); p < 20100; p++ {
			f.Ports = append(f.Ports, p)
		}
		f.Ports = append(f.Ports, 9999)
		for i := 0; i < 30; i++ {
			f.Hosts = append(f.Hosts, netip.AddrFrom4([4]byte{10, 9, 0, byte(i)}))
		}
		f.Hosts = append(f.Hosts, netip.MustParseAddr("fd09::1"), netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("198.19.3.2"))
		if prog, _ := f.Program(LinkEthernet, 100); !hasFarJump(prog) {
			t.Fatal("no far jump in the long filter")
		}
		helperCapture(t, []string{"v0", "lo"}, layers.LinkTypeEthernet, f)
	case "queue":
		helperQueue(t)
	case "idle":
		helperIdle(t)
	case "grow":
		helperGrow(t)
	default:
		t.Fatalf("unknown helper %q", os.Getenv(helperEnv))
	}
	fmt.Println("HELPER OK")
}

// traffic makes packets: a TCP connection on lo to port 9999 carrying
// 1000 bytes each way, one on lo to port 9998 (filtered out), and a SYN
// to 198.19.3.2:9999 through v0, answered by RST.
func traffic(t *testing.T) {
	t.Helper()
	for _, port := range []string{"9999", "9998"} {
		ln, err := net.Listen("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1000)
			io.ReadFull(c, buf)
			c.Write(buf)
			c.Close()
		}()
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(make([]byte, 1000))
		io.ReadFull(c, make([]byte, 1000))
		c.Close()
		ln.Close()
	}
	if c, err := net.DialTimeout("tcp", "198.19.3.2:9999", time.Second); err == nil {
		c.Close()
		t.Fatal("connected to 198.19.3.2:9999, where nothing listens")
	}
}

func helperCapture(t *testing.T, ifaces []string, link layers.LinkType, f Filter) {
	src, err := Open(Config{Interfaces: ifaces, Filter: f, Snaplen: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	traffic(t)
	time.AfterFunc(300*time.Millisecond, src.Stop)

	seen := map[string]int{}
	dup := map[string]bool{}
	frames := 0
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		frames++
		if p.Frame != frames {
			t.Errorf("frame %d numbered %d", frames, p.Frame)
		}
		if p.LinkType != link {
			t.Errorf("frame %d: link type %v, want %v", p.Frame, p.LinkType, link)
		}
		if p.CaptureLen > 100 || len(p.Data) != p.CaptureLen || p.WireLen < p.CaptureLen {
			t.Errorf("frame %d: captured %d (data %d) of %d, snaplen 100", p.Frame, p.CaptureLen, len(p.Data), p.WireLen)
		}
		if time.Since(p.Time) > time.Minute || p.Time.After(time.Now()) {
			t.Errorf("frame %d: time %v", p.Frame, p.Time)
		}
		data := p.Data
		if link == layers.LinkTypeEthernet {
			data = data[14:]
		}
		if data[0]>>4 != 4 || data[9] != 6 {
			t.Errorf("frame %d: not IPv4 TCP: % x", p.Frame, data[:20])
			continue
		}
		ihl := int(data[0]&0xf) * 4
		sport, dport := int(data[ihl])<<8|int(data[ihl+1]), int(data[ihl+2])<<8|int(data[ihl+3])
		if sport != 9999 && dport != 9999 {
			t.Errorf("frame %d: ports %d -> %d passed the filter", p.Frame, sport, dport)
		}
		seen[net.IP(data[12:16]).String()+">"+net.IP(data[16:20]).String()]++
		// The direction the kernel gave (sll_pkttype, read from the
		// ring: pktType): this namespace sends from 198.19.3.1; on lo
		// the copy kept is the one received.
		if out := net.IP(data[12:16]).Equal(net.IP{198, 19, 3, 1}); p.Iface.Out != out || p.Iface.In == out {
			t.Errorf("frame %d from %v: in %v, out %v", p.Frame, net.IP(data[12:16]), p.Iface.In, p.Iface.Out)
		}
		// Loopback shows each packet going out and coming in; like
		// tcpdump, the capture keeps it once.
		if dup[string(data)] {
			t.Errorf("frame %d: seen twice: % x", p.Frame, data[:40])
		}
		dup[string(data)] = true
	}
	info := src.Info()
	st := src.Stats()
	t.Logf("%d frames %v; stats %+v; info packets %d truncated %d link %v", frames, seen, st, info.Packets, info.TruncatedPackets, info.LinkTypes)
	if info.Packets != frames || st.Packets != uint64(frames) {
		t.Errorf("info says %d packets, stats %d, Next gave %d", info.Packets, st.Packets, frames)
	}
	if st.Drops() != 0 || len(info.Warnings) != 0 {
		t.Errorf("drops %+v, warnings %v", st, info.Warnings)
	}
	if info.TruncatedPackets == 0 {
		t.Error("no packet truncated by the snaplen of 100 (1000-byte writes)")
	}
	for _, dir := range []string{"127.0.0.1>127.0.0.1", "198.19.3.1>198.19.3.2", "198.19.3.2>198.19.3.1"} {
		if seen[dir] == 0 {
			t.Errorf("no packet %s", dir)
		}
	}
	// The lo connection: SYN, SYN-ACK, ACK, data and ACK each way, FINs:
	// at least 8 packets, each seen once per interface it crossed.
	if seen["127.0.0.1>127.0.0.1"] < 8 {
		t.Errorf("only %d packets on lo", seen["127.0.0.1>127.0.0.1"])
	}
}

// helperQueue: with a queue of one packet and nobody reading, packets are
// dropped by the tool and counted as such, not as kernel drops.
func helperQueue(t *testing.T) {
	src, err := Open(Config{Interfaces: []string{"lo"}, Filter: Filter{Ports: []uint16{9999}}, QueueLen: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	traffic(t)
	time.Sleep(100 * time.Millisecond)
	src.Stop()
	n := 0
	for {
		if _, err := src.Next(); err != nil {
			break
		}
		n++
	}
	st := src.Stats()
	t.Logf("read %d, stats %+v, warnings %v", n, st, src.Info().Warnings)
	if st.QueueDrops == 0 || st.KernelDrops != 0 || n != 1 {
		t.Errorf("read %d, stats %+v: want 1 read, queue drops, no kernel drops", n, st)
	}
	if w := src.Info().Warnings; len(w) != 1 || !strings.Contains(w[0], "not network loss") {
		t.Errorf("warnings %q", w)
	}
}

func helperGrow(t *testing.T) {
	var busy atomic.Int32
	src, err := Open(Config{Interfaces: []string{"v0"}, Filter: Filter{Ports: []uint16{9999}}, StartBlocks: 4, RingBlocks: 16, OnBusy: func() { busy.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// A burst of full-sized TCP segments to 198.19.3.2:9999 (frames
	// written on v0, so nothing needs to listen), each numbered: the
	// ring grows on bytes (growBytes), which SYNs alone hardly reach.
	out, err := afpacket.NewTPacket(afpacket.OptInterface("v0"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	v0, err := net.InterfaceByName("v0")
	if err != nil {
		t.Fatal(err)
	}
	const sent = 6000
	buf := gopacket.NewSerializeBuffer()
	for i := range sent {
		eth := &layers.Ethernet{SrcMAC: v0.HardwareAddr, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP{198, 19, 3, 1}, DstIP: net.IP{198, 19, 3, 2}}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 9999, Seq: uint32(i) * 1400, ACK: true, PSH: true, Window: 512}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, 1400)
		payload[0], payload[1] = byte(i>>8), byte(i)
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		if err := out.WritePacketData(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	src.Stop()
	seen := map[string]int{}
	n := 0
	for {
		p, err := src.Next()
		if err != nil {
			break
		}
		n++
		seen[string(p.Data)]++
	}
	st := src.Stats()
	t.Logf("read %d, distinct %d, stats %+v, ring %d blocks", n, len(seen), st, src.handles[0].blocks)
	if src.handles[0].blocks != 16 {
		t.Errorf("the ring did not grow: %d blocks", src.handles[0].blocks)
	}
	if n := busy.Load(); n != 1 {
		t.Errorf("OnBusy called %d times, want once", n)
	}
	// The moment both rings are open may cost packets (--small-ring
	// says so): those are counted as drops, never read twice.
	if len(seen) != n || n > sent || n+int(st.Drops()) < sent {
		t.Errorf("read %d packets (%d distinct), stats %+v: want %d, each once, the rest counted as drops", n, len(seen), st, sent)
	}
}

func helperIdle(t *testing.T) {
	const idle = 50 * time.Millisecond
	src, err := Open(Config{Interfaces: []string{"lo"}, Filter: Filter{Ports: []uint16{9999}}, Idle: idle})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	idles, packets := 0, 0
	var last time.Time
	time.AfterFunc(400*time.Millisecond, func() { traffic(t) })
	time.AfterFunc(900*time.Millisecond, src.Stop)
	for {
		p, err := src.Next()
		if err == io.EOF {
			break
		}
		var ie *decode.IdleError
		if errors.As(err, &ie) {
			idles++
			if ie.At.Before(last) || ie.At.Before(start) || time.Since(ie.At) > time.Second {
				t.Errorf("idle at %v, after %v", ie.At, last)
			}
			last = ie.At
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		packets++
		if p.Frame != packets {
			t.Errorf("frame %d numbered %d", packets, p.Frame)
		}
	}
	// 400 ms of silence, then traffic, then 500 ms mostly quiet: at least
	// 10 idle reports, and the traffic's packets.
	if idles < 10 || packets == 0 {
		t.Errorf("%d idle reports, %d packets", idles, packets)
	}
	if src.Info().Packets != packets {
		t.Errorf("info says %d packets, %d delivered", src.Info().Packets, packets)
	}
}

// TestFingerprintInterface: the same bytes crossing two interfaces (a
// bridge forwards a frame unchanged) are two packets to a grow's
// dedupe, not one and its copy.
func TestFingerprintInterface(t *testing.T) {
	data := []byte("the same frame on both ports of a bridge")
	a := fingerprint(data, gopacket.CaptureInfo{Length: len(data), InterfaceIndex: 4})
	b := fingerprint(data, gopacket.CaptureInfo{Length: len(data), InterfaceIndex: 5})
	if a == b {
		t.Error("one fingerprint for the frame on two interfaces")
	}
	if a != fingerprint(data, gopacket.CaptureInfo{Length: len(data), InterfaceIndex: 4}) {
		t.Error("two fingerprints for one frame on one interface")
	}
}
