package live

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// Filter says which packets the kernel passes to the capture: TCP where
// a port is one of Ports and an address one of Hosts. An empty list
// matches everything.
type Filter struct {
	Ports []uint16
	Hosts []netip.Addr
}

// String is the filter in tcpdump's words, for the pcapng interface
// description and messages.
func (f Filter) String() string {
	var parts []string
	if len(f.Ports) > 0 {
		ps := make([]string, len(f.Ports))
		for i, p := range f.Ports {
			ps[i] = "port " + strconv.Itoa(int(p))
		}
		parts = append(parts, "("+strings.Join(ps, " or ")+")")
	}
	if len(f.Hosts) > 0 {
		hs := make([]string, len(f.Hosts))
		for i, h := range f.Hosts {
			hs[i] = "host " + h.String()
		}
		parts = append(parts, "("+strings.Join(hs, " or ")+")")
	}
	s := "tcp"
	if len(parts) > 0 {
		s += " and " + strings.Join(parts, " and ")
	}
	// What tcpdump cannot say in its words: the same test on the flow
	// inside VXLAN.
	return s + " (also inside VXLAN, udp port 4789 or 8472) or udp port 6081"
}

// LinkKind is where the network header starts in the packets a socket
// reads.
type LinkKind int

const (
	// LinkEthernet: an Ethernet header (possibly with one 802.1Q tag)
	// precedes the network header.
	LinkEthernet LinkKind = iota
	// LinkRaw: the packet starts with the IP header.
	LinkRaw
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeVLAN = 0x8100
	protoTCP      = 6
	protoUDP      = 17

	portVXLAN      = 4789
	portVXLANLinux = 8472 // the Linux kernel's (and flannel's) historical VXLAN port
	portGeneve     = 6081
)

// maxInstructions is the kernel's BPF_MAXINSNS.
const maxInstructions = 4096

// maxSnaplen is what the accept return value is when no snaplen is set:
// the kernel keeps min(return value, packet length) bytes.
const maxSnaplen = 262144

// Program builds the classic BPF program of f for packets of the given
// link kind. The accept return value is snaplen, which makes the kernel
// truncate the packet to it (0 means whole packets).
func (f Filter) Program(link LinkKind, snaplen int) ([]bpf.Instruction, error) {
	return f.program(link, snaplen, nil)
}

// outgoingLoopback says which outgoing packets the kernel filter drops:
// on a loopback interface every packet is seen twice, once going out and
// once coming in, and libpcap (so tcpdump) keeps only the incoming copy.
type outgoingLoopback struct {
	all     bool     // the socket is bound to a loopback interface
	ifindex []uint32 // the socket is bound to every interface: these are loopback
}

// program is Program with the loopback rule prepended. It uses ancillary
// loads (packet type, interface index), which x/net/bpf's VM does not
// run; that is why Program, which the tests run in the VM, leaves it out.
func (f Filter) program(link LinkKind, snaplen int, lo *outgoingLoopback) ([]bpf.Instruction, error) {
	if snaplen <= 0 || snaplen > maxSnaplen {
		snaplen = maxSnaplen
	}
	for _, h := range f.Hosts {
		if !h.IsValid() {
			return nil, fmt.Errorf("filter: invalid host address")
		}
	}
	a := &asm{snaplen: uint32(snaplen)}
	if lo != nil && (lo.all || len(lo.ifindex) > 0) {
		a.emit(bpf.LoadExtension{Num: bpf.ExtType})
		if lo.all {
			a.jeqFar(packetOutgoing, "reject")
		} else {
			a.jeq(packetOutgoing, "", "start")
			a.emit(bpf.LoadExtension{Num: bpf.ExtInterfaceIndex})
			for _, i := range lo.ifindex {
				a.jeqFar(i, "reject")
			}
		}
		a.label("start")
	}
	switch link {
	case LinkEthernet:
		a.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		a.jeqFar(etherTypeVLAN, "vlan")
		f.etherTypeDispatch(a, 14)
		a.label("vlan")
		a.emit(bpf.LoadAbsolute{Off: 16, Size: 2})
		f.etherTypeDispatch(a, 18)
		f.network(a, 14)
		f.network(a, 18)
	case LinkRaw:
		a.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		a.jeqFar(4, "ipv4@0")
		a.jeqFar(6, "ipv6@0")
		a.jump("reject")
		f.network(a, 0)
	default:
		return nil, fmt.Errorf("filter: unknown link kind %d", link)
	}
	a.label("reject")
	a.emit(bpf.RetConstant{Val: 0})
	a.label("accept")
	a.emit(bpf.RetConstant{Val: a.snaplen})
	return a.resolve()
}

// Assemble builds and assembles the program, ready for SO_ATTACH_FILTER.
func (f Filter) Assemble(link LinkKind, snaplen int) ([]bpf.RawInstruction, error) {
	prog, err := f.Program(link, snaplen)
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter: assemble: %w", err)
	}
	return raw, nil
}

// etherTypeDispatch jumps to the IPv4 or IPv6 code for the network header
// at off, with the EtherType in A.
func (f Filter) etherTypeDispatch(a *asm, off uint32) {
	a.jeqFar(etherTypeIPv4, fmt.Sprintf("ipv4@%d", off))
	a.jeqFar(etherTypeIPv6, fmt.Sprintf("ipv6@%d", off))
	a.jump("reject")
}

// network emits the IPv4 and IPv6 blocks for a network header at off,
// and the block for the flow inside VXLAN. Every path ends in accept or
// reject.
func (f Filter) network(a *asm, off uint32) {
	tag := strconv.Itoa(int(off))
	f.ip(a, off, false, tag)
	// Inside VXLAN (X holds the outer IP header length, the UDP header is
	// at X+off): 8 bytes of UDP, 8 of VXLAN, then the inner Ethernet
	// header, untagged.
	a.label("vx@" + tag)
	a.emit(bpf.LoadIndirect{Off: off + 8 + 8 + 12, Size: 2})
	a.jeqFar(etherTypeIPv4, "ipv4@in"+tag)
	a.jeqFar(etherTypeIPv6, "ipv6@in"+tag)
	a.jump("reject")
	f.ip(a, off+8+8+14, true, "in"+tag)
}

// ip emits the IPv4 and IPv6 blocks for an IP header at off, or at X+off
// when inner (the flow inside a tunnel, where X is the outer headers'
// variable length).
func (f Filter) ip(a *asm, off uint32, inner bool, tag string) {
	v4, v6 := f.split()
	ld := func(off, size uint32) bpf.Instruction {
		if inner {
			return bpf.LoadIndirect{Off: off, Size: int(size)}
		}
		return bpf.LoadAbsolute{Off: off, Size: int(size)}
	}

	// IPv4.
	a.label("ipv4@" + tag)
	a.emit(ld(off+9, 1))
	a.jeq(protoTCP, "", "udp4@"+tag)
	if len(f.Hosts) > 0 {
		for _, h := range v4 {
			w := binary.BigEndian.Uint32(h.AsSlice())
			a.emit(ld(off+12, 4))
			a.jeqFar(w, "host4@"+tag)
			a.emit(ld(off+16, 4))
			a.jeqFar(w, "host4@"+tag)
		}
		a.jump("reject@" + tag)
		a.label("host4@" + tag)
	}
	if len(f.Ports) > 0 {
		// A fragment other than the first has no TCP header; tcpdump's
		// "port" does not match it either.
		a.emit(ld(off+6, 2))
		a.jset(0x1fff, "reject@"+tag, "")
		if inner {
			// X += the inner header length: ldxb only reads at a
			// constant offset.
			a.emit(bpf.LoadIndirect{Off: off, Size: 1})
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: 0xf})
			a.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftLeft, Val: 2})
			a.emit(bpf.ALUOpX{Op: bpf.ALUOpAdd})
			a.emit(bpf.TAX{})
		} else {
			a.emit(bpf.LoadMemShift{Off: off})
		}
		f.ports(a, off, tag)
	} else {
		a.jump("accept@" + tag)
	}
	a.label("udp4@" + tag)
	if inner {
		a.jump("reject@" + tag) // one level of tunnel only
	} else {
		a.jeq(protoUDP, "", "reject@"+tag)
		a.emit(ld(off+6, 2))
		a.jset(0x1fff, "reject@"+tag, "")
		a.emit(bpf.LoadMemShift{Off: off})
		a.tunnel(off, tag)
	}

	// IPv6: only a TCP or UDP header right after the fixed header.
	a.label("ipv6@" + tag)
	a.emit(ld(off+6, 1))
	a.jeq(protoTCP, "", "udp6@"+tag)
	if len(f.Hosts) > 0 {
		for i, h := range v6 {
			b := h.As16()
			for _, field := range []uint32{off + 8, off + 24} { // source, destination
				next := fmt.Sprintf("h6@%s.%d.%d", tag, i, field)
				for k := 0; k < 4; k++ {
					a.emit(ld(field+uint32(4*k), 4))
					a.jeq(binary.BigEndian.Uint32(b[4*k:]), "", next)
				}
				a.jump("host6@" + tag)
				a.label(next)
			}
		}
		a.jump("reject@" + tag)
		a.label("host6@" + tag)
	}
	if len(f.Ports) > 0 {
		if inner {
			f.ports(a, off+40, tag)
		} else {
			a.emit(bpf.LoadConstant{Dst: bpf.RegX, Val: 40})
			f.ports(a, off, tag)
		}
	} else {
		a.jump("accept@" + tag)
	}
	a.label("udp6@" + tag)
	if inner {
		a.jump("reject@" + tag)
	} else {
		a.jeq(protoUDP, "", "reject@"+tag)
		a.emit(bpf.LoadConstant{Dst: bpf.RegX, Val: 40})
		a.tunnel(off, tag)
	}
	// The block's own exits, within a conditional skip of its jumps
	// however far the program's end is.
	a.label("reject@" + tag)
	a.emit(bpf.RetConstant{Val: 0})
	a.label("accept@" + tag)
	a.emit(bpf.RetConstant{Val: a.snaplen})
}

// ports emits the port test of a TCP header at X+off. It ends in its own
// return instructions, near every test, so that its jumps stay short.
func (f Filter) ports(a *asm, off uint32, tag string) {
	match := "port@" + tag + "/" + strconv.Itoa(int(off))
	for _, field := range []uint32{off, off + 2} { // source, destination port
		a.emit(bpf.LoadIndirect{Off: field, Size: 2})
		for _, p := range f.Ports {
			a.jeq(uint32(p), match, "")
		}
	}
	a.emit(bpf.RetConstant{Val: 0})
	a.label(match)
	a.emit(bpf.RetConstant{Val: a.snaplen})
}

// tunnel looks at a UDP header at X+off: from or to a VXLAN port, the
// inner flow is filtered (at vx@tag); from or to Geneve's, the datagram
// passes whatever it carries (its header has a variable length).
func (a *asm) tunnel(off uint32, tag string) {
	for _, field := range []uint32{off + 2, off} { // destination, source port
		a.emit(bpf.LoadIndirect{Off: field, Size: 2})
		a.jeqFar(portVXLAN, "vx@"+tag)
		a.jeqFar(portVXLANLinux, "vx@"+tag)
		a.jeq(portGeneve, "accept@"+tag, "")
	}
	a.jump("reject@" + tag)
}

// split returns the hosts by family; an IPv4-mapped IPv6 address is
// matched as the IPv4 address it carries.
func (f Filter) split() (v4, v6 []netip.Addr) {
	for _, h := range f.Hosts {
		h = h.Unmap()
		if h.Is4() {
			v4 = append(v4, h)
		} else {
			v6 = append(v6, h)
		}
	}
	return v4, v6
}

// asm is a tiny assembler with named forward labels, since classic BPF
// jumps are relative skips and hand-counted skips break whenever the
// program changes.
type asm struct {
	snaplen uint32 // the accept return value
	ins     []pending
	labels  map[string]int
}

type pending struct {
	ins    bpf.Instruction
	fixed  bool   // a conditional jump whose skips are already set
	jt, jf string // labels of a conditional jump ("" is the next instruction)
	to     string // label of an unconditional jump
}

func (a *asm) emit(ins bpf.Instruction) { a.ins = append(a.ins, pending{ins: ins}) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = make(map[string]int)
	}
	a.labels[name] = len(a.ins)
}

func (a *asm) jeq(v uint32, jt, jf string) {
	a.ins = append(a.ins, pending{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, jt: jt, jf: jf})
}

// jeqFar jumps to a label that may be further than a conditional skip
// reaches (255 instructions): a conditional hop over an unconditional
// jump, whose reach is 32 bits.
func (a *asm) jeqFar(v uint32, to string) {
	a.ins = append(a.ins, pending{ins: bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: v, SkipTrue: 1}, fixed: true})
	a.jump(to)
}

func (a *asm) jset(v uint32, jt, jf string) {
	a.ins = append(a.ins, pending{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: v}, jt: jt, jf: jf})
}

func (a *asm) jump(to string) {
	a.ins = append(a.ins, pending{ins: bpf.Jump{}, to: to})
}

// resolve turns labels into skips. A conditional skip reaches at most 255
// instructions: a conditional jump whose target is further becomes a hop
// over two unconditional jumps (32-bit reach), found by relaxation since
// each such expansion moves what follows it.
func (a *asm) resolve() ([]bpf.Instruction, error) {
	far := make([]bool, len(a.ins))
	pos := make([]int, len(a.ins)+1) // final position of each pending instruction
	target := func(i int, label string) (int, error) {
		if label == "" {
			return pos[i+1], nil
		}
		t, ok := a.labels[label]
		if !ok {
			return 0, fmt.Errorf("filter: internal error: no label %q", label)
		}
		if t < i+1 {
			return 0, fmt.Errorf("filter: internal error: backward jump to %q", label)
		}
		return pos[t], nil
	}
	for {
		n := 0
		for i := range a.ins {
			pos[i] = n
			n++
			if far[i] {
				n += 2
			}
		}
		pos[len(a.ins)] = n
		if n > maxInstructions {
			return nil, fmt.Errorf("filter: too many ports and hosts for a kernel filter (%d instructions)", n)
		}
		changed := false
		for i, p := range a.ins {
			if _, ok := p.ins.(bpf.JumpIf); !ok || p.fixed || far[i] {
				continue
			}
			for _, l := range []string{p.jt, p.jf} {
				t, err := target(i, l)
				if err != nil {
					return nil, err
				}
				if t-pos[i]-1 > 255 {
					far[i], changed = true, true
				}
			}
		}
		if !changed {
			break
		}
	}
	out := make([]bpf.Instruction, 0, pos[len(a.ins)])
	for i, p := range a.ins {
		if p.fixed {
			out = append(out, p.ins)
			continue
		}
		switch ins := p.ins.(type) {
		case bpf.JumpIf:
			jt, err := target(i, p.jt)
			if err != nil {
				return nil, err
			}
			jf, err := target(i, p.jf)
			if err != nil {
				return nil, err
			}
			if far[i] {
				// true: the next instruction, ja jt; false: skip it, ja jf.
				ins.SkipTrue, ins.SkipFalse = 0, 1
				out = append(out, ins,
					bpf.Jump{Skip: uint32(jt - pos[i] - 2)},
					bpf.Jump{Skip: uint32(jf - pos[i] - 3)})
				continue
			}
			ins.SkipTrue, ins.SkipFalse = uint8(jt-pos[i]-1), uint8(jf-pos[i]-1)
			out = append(out, ins)
		case bpf.Jump:
			t, err := target(i, p.to)
			if err != nil {
				return nil, err
			}
			out = append(out, bpf.Jump{Skip: uint32(t - pos[i] - 1)})
		default:
			out = append(out, p.ins)
		}
	}
	return out, nil
}
