package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/live"
	"github.com/h2pcap/h2pcap/internal/evidence"
	"github.com/h2pcap/h2pcap/internal/outfile"
	"github.com/h2pcap/h2pcap/model"
)

// defaultRing is --ring when --save is given without it.
const defaultRing = 64 << 20

// At most saveBurst evidence files are written per saveWindow of capture
// time. Each one reads the whole ring in the analysis goroutine (about
// 10 ms for 64 MB); an outage that hits hundreds of connections at once
// would otherwise stall the capture for seconds, and the first files tell
// what the rest would.
const (
	saveBurst  = 10
	saveWindow = 10 * time.Second
)

// parseSize reads a byte size: a number with an optional K, M or G suffix
// (binary multiples; KB, KiB and the like are taken the same way).
func parseSize(s string) (int, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := 1
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<40 {
		return 0, fmt.Errorf("bad size %q (want e.g. 64MB, 512K, 1G)", s)
	}
	return int(n * float64(mult)), nil
}

// ringTee is a Source that keeps a copy of every packet it passes on in
// the evidence ring.
type ringTee struct {
	src  teeSource
	ring *evidence.Ring
	// anyIface is the index of the any socket among the capture's
	// interfaces, -1 none: its packets are kept with the kernel's index
	// of the interface they crossed (ringKernelIface), so that a saved
	// file has an interface block for each, as -w's has.
	anyIface int
}

// ringKernelIface marks a ring packet's interface as the kernel's index
// (below it) of the interface a packet of the any socket crossed, rather
// than the index of a capture interface.
const ringKernelIface = 1 << 24

// ringIn and ringOut keep a ring packet's direction on its interface
// (decode.Iface.In, Out), for the saved file's epb_flags.
const (
	ringIn  = 1 << 25
	ringOut = 1 << 26
)

func (t *ringTee) Next() (*decode.Packet, error) {
	p, err := t.src.Next()
	if err == nil {
		iface := t.src.Interface()
		if iface == t.anyIface && p.Iface.Known && p.Iface.ID > 0 && p.Iface.ID < ringKernelIface {
			iface = ringKernelIface | int(p.Iface.ID)
		}
		switch {
		case p.Iface.In:
			iface |= ringIn
		case p.Iface.Out:
			iface |= ringOut
		}
		t.ring.Add(p.Time, iface, p.WireLen, p.Data)
	}
	return p, err
}

func (t *ringTee) Info() *decode.InputInfo { return t.src.Info() }
func (t *ringTee) Close() error            { return t.src.Close() }
func (t *ringTee) Interface() int          { return t.src.Interface() }

// saver writes the evidence of problem connections (--save): for each
// problem a notice reports, a pcapng of that connection's packets in the
// ring from its last healthy moment (its last PING answered in time; else
// the oldest packet the ring holds) to the notice. Only that connection's
// packets are written: the file stays small and analyses to the same
// verdict, since the analysis is per connection.
//
// It runs in the analysis goroutine, from OnNotice: the ring does not
// change while it is read. A write error (a full disk) is said once; the
// partial file is removed and the capture goes on.
type saver struct {
	ring    *evidence.Ring
	dir     string
	ifaces  []string
	links   []layers.LinkType
	filter  string
	snaplen int
	con     *console // where "saved" lines go, as findings do
	stderr  io.Writer

	failed bool
	saved  map[savedKey]bool
	// The rate limit: files written since windowStart; whether the limit
	// was said (once).
	windowStart time.Time
	inWindow    int
	limited     bool
	dec         *decode.Decoder
	seg         decode.Segment
}

// savedKey: a connection's evidence is written once per kind of problem.
type savedKey struct {
	stream int
	kind   model.NoticeKind
}

// problem says whether n is worth its connection's evidence: a lost PING,
// a reset, a retransmission burst, a silence, a failed handshake, a
// connection its client abandoned, a GOAWAY with an error.
func problem(n *model.Notice) bool {
	switch n.Kind {
	case model.NoticePingLost, model.NoticeReset, model.NoticeRetransBurst, model.NoticeSilent, model.NoticeConnectFailed, model.NoticeBlackholed,
		model.NoticeAbandoned:
		return true
	case model.NoticeGoaway:
		return n.Code != "" && n.Code != "NO_ERROR"
	}
	return false
}

func (s *saver) notice(n *model.Notice) {
	if !problem(n) {
		return
	}
	k := savedKey{n.Stream, n.Kind}
	if s.saved[k] {
		return
	}
	if s.saved == nil {
		s.saved, s.dec = map[savedKey]bool{}, decode.NewDecoder()
	}
	s.saved[k] = true
	if n.Time.Sub(s.windowStart) >= saveWindow {
		s.windowStart, s.inWindow = n.Time, 0
	}
	if s.inWindow >= saveBurst {
		if !s.limited {
			s.limited = true
			fmt.Fprintf(s.stderr, "h2pcap: --save %s: more than %d problems within %s; the evidence of the first ones is written, of the others not (this is said once)\n", s.dir, saveBurst, saveWindow)
		}
		return
	}
	s.inWindow++
	name := fmt.Sprintf("h2pcap-%s-%s-%s-%s.pcapng", n.Time.UTC().Format("20060102T150405Z"), fileAddr(n.Client), fileAddr(n.Server), n.Kind)
	path := filepath.Join(s.dir, name)
	count, err := s.write(path, n)
	if err != nil {
		if !s.failed {
			s.failed = true
			fmt.Fprintf(s.stderr, "h2pcap: --save %s: %s; the capture goes on (this is said once)\n", s.dir, oneLine(err.Error()))
		}
		return
	}
	s.con.line(fmt.Sprintf("%s %-*s %s -> %s (stream %d) wrote %s (%d packets)\n", n.Time.Local().Format("15:04:05.000"), labelWidth, "saved", n.Client, n.Server, n.Stream, path, count))
}

// write writes the connection's packets of the window to path, whole or
// not at all: a file that fails half-way is not left behind.
func (s *saver) write(path string, n *model.Notice) (count int, err error) {
	f, err := outfile.Create(path)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			f.Abort()
		} else {
			err = f.Commit()
		}
	}()
	w, ids, err := newNgWriter(f, s.ifaces, s.links, s.filter, s.snaplen)
	if err != nil {
		return 0, err
	}
	anyIface := slices.Index(s.ifaces, live.Any)
	kernel := map[int]int{} // kernel interface index -> this file's interface id
	dirs := newEPBFlags()
	s.ring.Each(func(p *evidence.Packet) bool {
		in, out := p.Interface&ringIn != 0, p.Interface&ringOut != 0
		iface := p.Interface &^ (ringIn | ringOut)
		handle, id := iface, 0
		if iface&ringKernelIface != 0 {
			handle = anyIface
		}
		if p.Time.Before(n.Since) || handle < 0 || handle >= len(ids) {
			return true
		}
		pkt := decode.Packet{Frame: 1, Time: p.Time, CaptureLen: len(p.Data), WireLen: p.WireLen, LinkType: s.links[handle], Data: p.Data}
		if ok, _ := s.dec.Decode(&pkt, &s.seg); !ok || !sameConn(&s.seg, n.Client, n.Server) {
			return true
		}
		id = ids[handle]
		if iface&ringKernelIface != 0 {
			// A packet of the any socket: the interface it crossed gets
			// a block of its own (a forwarding node's evidence is then
			// read as a capture point per interface).
			k := iface &^ ringKernelIface
			var ok bool
			if id, ok = kernel[k]; !ok {
				name := "if" + strconv.Itoa(k)
				if fi, ierr := net.InterfaceByIndex(k); ierr == nil {
					name = fi.Name
				}
				id, err = w.AddInterface(pcapgo.NgInterface{Name: name, Description: "seen through the any socket", Filter: s.filter, OS: "Linux",
					LinkType: s.links[handle], TimestampResolution: 9, SnapLength: uint32(s.snaplen)})
				if err != nil {
					return false
				}
				kernel[k] = id
			}
		}
		err = w.WritePacketWithOptions(gopacket.CaptureInfo{Timestamp: p.Time, CaptureLength: len(p.Data), Length: p.WireLen, InterfaceIndex: id}, p.Data, dirs.options(in, out))
		count++
		return err == nil
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil && count == 0 {
		err = errors.New("no packet of the connection left in the ring (make --ring bigger)")
	}
	return count, err
}

func sameConn(s *decode.Segment, client, server netip.AddrPort) bool {
	return s.Src == client && s.Dst == server || s.Src == server && s.Dst == client
}

// fileAddr writes an address and port for a file name: 198.18.1.2_41286,
// and for IPv6 with dots for colons (2001.db8..1_443).
func fileAddr(ap netip.AddrPort) string {
	return strings.ReplaceAll(ap.Addr().String(), ":", ".") + "_" + strconv.Itoa(int(ap.Port()))
}

// epbFlags gives a packet written to a pcapng file its direction
// (epb_flags): received or sent on its interface, as AF_PACKET's packet
// type said (decode.Iface.In, Out). analyze reads it back as it reads a
// tcpdump -i any file's cooked headers: a node's file then says that
// the node received a pod's SYNs on the pod's veth, which places them
// when the node forwarded none of the pod's connections.
type epbFlags struct{ in, out pcapgo.NgEpbFlags }

func newEPBFlags() epbFlags {
	return epbFlags{in: pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionInbound}, out: pcapgo.NgEpbFlags{Direction: pcapgo.NgEpbFlagDirectionOutbound}}
}

// options returns the options of a packet the host received (in) or
// sent (out) on its interface.
func (e *epbFlags) options(in, out bool) pcapgo.NgPacketOptions {
	switch {
	case in:
		return pcapgo.NgPacketOptions{Flags: &e.in}
	case out:
		return pcapgo.NgPacketOptions{Flags: &e.out}
	}
	return pcapgo.NgPacketOptions{}
}

// newNgWriter starts a pcapng file with one interface description per
// capture interface, and returns the pcapng id of each.
func newNgWriter(f io.Writer, ifaces []string, links []layers.LinkType, filter string, snaplen int) (*pcapgo.NgWriter, []int, error) {
	var w *pcapgo.NgWriter
	var ids []int
	for i, name := range ifaces {
		intf := pcapgo.NgInterface{
			Name:                name,
			Filter:              filter,
			OS:                  "Linux",
			LinkType:            links[i],
			TimestampResolution: 9,
			SnapLength:          uint32(snaplen),
		}
		var err error
		if i == 0 {
			w, err = pcapgo.NewNgWriterInterface(f, intf, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{Application: "h2pcap live"}})
			ids = append(ids, 0)
		} else {
			var id int
			id, err = w.AddInterface(intf)
			ids = append(ids, id)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return w, ids, nil
}
