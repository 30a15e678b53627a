//go:build linux

package live

import (
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"

	"github.com/h2pcap/h2pcap/decode"
)

// Any is the interface name that captures on every interface.
const Any = "any"

// Config says what to capture.
type Config struct {
	// Interfaces to capture on, each with its own socket; "any" is every
	// interface through one socket.
	Interfaces []string
	Filter     Filter
	// Snaplen is the most bytes kept of each packet; 0 keeps whole
	// packets.
	Snaplen int
	// Input is the input index the packets carry (decode.Packet.Input).
	Input int
	// QueueLen is how many packets may wait between the capture
	// goroutines and Next; 0 means a default of 65536. When it is full a
	// packet is dropped and counted in Stats.QueueDrops.
	QueueLen int
	// RingBlocks is the number of 1 MiB blocks of each socket's ring
	// once its link is busy; 0 means 64.
	RingBlocks int
	// StartBlocks, when positive and under RingBlocks, is the number of
	// 1 MiB a socket's ring starts with, until its link carries
	// growBytes of ring within growWindow (see grow): a quiet capture
	// then costs StartBlocks MiB of ring, not 64, but a burst from
	// silence may lose packets while the bigger ring is being opened
	// (measured on the lab's bulk traffic at 160 MB/s with 8 MiB: 1 to
	// 3,923 packets in 3 runs of 12). 0: the ring has RingBlocks from
	// the start.
	StartBlocks int
	// Idle, when positive, makes Next return a *decode.IdleError after
	// waiting that long for a packet, so that the reader sees time pass
	// on a quiet link.
	Idle time.Duration
	// OnBusy, when set, is called once, from a capture goroutine, the
	// first time a socket's link carries growBytes of ring within
	// growWindow (5 MB/s: what makes a small ring grow), whatever the
	// ring's size: from then on the readers must keep pace with a busy
	// link (h2pcap live gives them a P of their own then).
	OnBusy func()
}

// PermissionError is returned by Open without the privilege to open a
// packet socket.
type PermissionError struct {
	Interface string
	Err       error
}

func (e *PermissionError) Error() string {
	return "capturing on " + e.Interface + " needs CAP_NET_RAW (run as root or grant it with setcap cap_net_raw+ep)"
}

func (e *PermissionError) Unwrap() error { return e.Err }

// UnknownInterfaceError is returned by Open for an interface that does not
// exist; Existing lists those that do.
type UnknownInterfaceError struct {
	Interface string
	Existing  []string
}

func (e *UnknownInterfaceError) Error() string {
	return fmt.Sprintf("no interface %q (interfaces: %s, or any)", e.Interface, strings.Join(e.Existing, ", "))
}

// Stats are the capture's counters. A drop here is the capture's, never
// the network's: the packet crossed the interface, the tool did not see it.
type Stats struct {
	Packets     uint64 // packets handed out by Next
	KernelDrops uint64 // dropped by the kernel: the ring was full (tpacket statistics)
	QueueDrops  uint64 // dropped by this package: the queue to Next was full
	// FirstRingDrops are those of KernelDrops the first, smaller rings
	// (Config.StartBlocks) dropped before they were replaced by the full
	// ones: the cost of starting small, apart from the reader's pace.
	FirstRingDrops uint64
}

// Drops is every packet lost by the capture.
func (s Stats) Drops() uint64 { return s.KernelDrops + s.QueueDrops }

// handle is one packet socket.
type handle struct {
	name     string
	tp       *afpacket.TPacket
	linkType layers.LinkType
	vm       *bpf.VM // the filter, run in user space on packets older than attached
	attached time.Time

	// The socket's options without the ring's size, its filter, and its
	// ring's blocks now and once grown (grow).
	opts         []any
	filter       []bpf.RawInstruction
	blocks, full int
	// After a grow, the packets the old ring had delivered that the new
	// one also holds (both sockets were open for a moment): skipped, by
	// fingerprint, up to seenUntil.
	seen      map[uint64]int
	seenUntil time.Time
	pending   map[uint64]int // the same, while the bigger ring is opened
	// Rate: ring bytes since windowStart (capture time), while not grown.
	window      int
	windowStart time.Time
	// The bigger ring being opened while the small one is still read.
	growing chan grown

	dropsMu   sync.Mutex
	drops     uint64 // kernel drops last read, kept for after Close
	dropsBase uint64 // drops of the rings a grow closed
	// frozen: the bigger ring is open and receiving; the old ring's
	// drops from then on are of packets the bigger one holds, and
	// frozenDrops are its drops until then.
	frozen      bool
	frozenDrops uint64
	// small: the ring started smaller than the full one; grown: the
	// full one replaced it (dropsBase then holds the small one's drops).
	small, grown bool
}

// kernelDrops reads the socket's drop counter (the kernel resets it on
// each read; afpacket keeps the total).
func (h *handle) kernelDrops() uint64 {
	h.dropsMu.Lock()
	defer h.dropsMu.Unlock()
	switch {
	case h.frozen:
		h.drops = h.dropsBase + h.frozenDrops
	case h.tp != nil:
		if _, v3, err := h.tp.SocketStats(); err == nil {
			h.drops = h.dropsBase + uint64(v3.Drops())
		}
	}
	return h.drops
}

// firstRingDrops is how many of total, the socket's kernel drops, its
// first, smaller ring dropped: all while it is still the one read (the
// full one not open yet, or never had).
func (h *handle) firstRingDrops(total uint64) uint64 {
	h.dropsMu.Lock()
	defer h.dropsMu.Unlock()
	switch {
	case !h.small:
		return 0
	case h.grown:
		return h.dropsBase
	case h.frozen:
		return h.frozenDrops
	}
	return total
}

// buf is a pooled packet copy; it goes back to its pool when Next is
// called again.
type buf struct {
	data    []byte
	t       time.Time
	wire    int
	iface   int
	ifindex int32 // the kernel's index of the interface it crossed (AF_PACKET's sll_ifindex)
	in, out bool  // the host received it there, or sent it (sll_pkttype; neither if unread)
}

// Source is a live capture. Next blocks until a packet arrives or Stop is
// called; after Stop it returns the packets already queued, then io.EOF.
type Source struct {
	cfg     Config
	handles []*handle
	queue   chan *buf
	// Packet copies by size (smallBuf): a short packet in a big buffer
	// would cost the queue 2 KB.
	small, large sync.Pool
	stop         chan struct{}
	stopped      sync.Once
	wg           sync.WaitGroup
	done         chan struct{} // closed when every reader has returned

	queueDrops atomic.Uint64
	delivered  atomic.Uint64
	busyTold   atomic.Bool // Config.OnBusy was called

	// Owned by the caller of Next.
	idle  *time.Timer // Config.Idle's; nil without
	cur   *buf
	last  int              // interface index of the packet Next returned last
	names map[int32]string // interface names by kernel index, as met
	pkt   decode.Packet
	info  decode.InputInfo
	ended bool

	errMu sync.Mutex
	err   error // the first read error of a reader, put in the warnings
}

// Open opens a socket on every interface of cfg and starts capturing.
func Open(cfg Config) (*Source, error) {
	if len(cfg.Interfaces) == 0 {
		return nil, errors.New("live: no interface given")
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 65536
	}
	if cfg.RingBlocks <= 0 {
		cfg.RingBlocks = 64
	}
	if cfg.StartBlocks <= 0 || cfg.StartBlocks > cfg.RingBlocks {
		cfg.StartBlocks = cfg.RingBlocks
	}
	s := &Source{
		cfg:   cfg,
		queue: make(chan *buf, cfg.QueueLen),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	snap := cfg.Snaplen
	if snap <= 0 || snap > maxSnaplen {
		snap = maxSnaplen
	}
	s.small.New = func() any { return &buf{data: make([]byte, 0, smallBuf)} }
	s.large.New = func() any { return &buf{data: make([]byte, 0, max(smallBuf+1, min(snap, 2048)))} }
	s.info = decode.InputInfo{Path: "live:" + strings.Join(cfg.Interfaces, ","), Format: "live"}
	for _, name := range cfg.Interfaces {
		h, err := openHandle(name, cfg)
		if err != nil {
			s.closeHandles()
			return nil, err
		}
		s.handles = append(s.handles, h)
		lt := decode.LinkTypeName(h.linkType)
		if !containsString(s.info.LinkTypes, lt) {
			s.info.LinkTypes = append(s.info.LinkTypes, lt)
		}
	}
	for i, h := range s.handles {
		s.wg.Add(1)
		go s.read(i, h)
	}
	go func() {
		s.wg.Wait()
		close(s.done)
	}()
	return s, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openHandle opens and filters the socket of one interface.
func openHandle(name string, cfg Config) (*handle, error) {
	h := &handle{name: name, blocks: cfg.StartBlocks, full: cfg.RingBlocks}
	h.small = h.blocks > 0 && h.blocks < h.full
	opts := []any{
		afpacket.OptFrameSize(1 << 16),
		// Short block timeout: a quiet link still hands over its packets
		// within 10 ms, and Stop is seen within a poll timeout.
		afpacket.OptBlockTimeout(10 * time.Millisecond),
		afpacket.OptPollTimeout(100 * time.Millisecond),
		afpacket.TPacketVersion3,
	}
	kind := LinkRaw
	if name == Any {
		// One socket bound to no interface. Link headers differ from
		// interface to interface, so the kernel strips them (SOCK_DGRAM).
		opts = append(opts, afpacket.SocketDgram)
	} else {
		if _, err := net.InterfaceByName(name); err != nil {
			return nil, unknownInterface(name)
		}
		opts = append(opts, afpacket.OptInterface(name))
		if ethernetLike(name) {
			kind = LinkEthernet
		} else {
			opts = append(opts, afpacket.SocketDgram)
		}
	}
	h.linkType = layers.LinkTypeRaw
	if kind == LinkEthernet {
		h.linkType = layers.LinkTypeEthernet
	}
	prog, err := cfg.Filter.program(kind, cfg.Snaplen, loopbacks(name))
	if err != nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("live: assemble filter: %w", err)
	}
	// The VM runs the filter without the loopback rule (it cannot run
	// ancillary loads): a duplicate from before the filter was attached
	// may pass, in the microseconds between bind and attach.
	vmProg, err := cfg.Filter.Program(kind, cfg.Snaplen)
	if err != nil {
		return nil, err
	}
	h.vm, err = bpf.NewVM(vmProg)
	if err != nil {
		return nil, fmt.Errorf("live: filter: %w", err)
	}
	h.opts, h.filter = opts, raw
	tp, attached, err := h.open(h.blocks)
	if err != nil {
		return nil, err
	}
	h.tp, h.attached = tp, attached
	return h, nil
}

// open opens a socket of h's with a ring of the given blocks, filtered:
// the socket was bound before the filter was attached, and packets that
// reached the ring in between (older than attached) are filtered by the
// reader in user space.
func (h *handle) open(blocks int) (*afpacket.TPacket, time.Time, error) {
	// The kernel hands over a block when it is full or after the block
	// timeout: a ring of few blocks is full after that many timeouts
	// when the reader is held up, whatever its size. The big ring is
	// made of 128 KiB blocks (two of the largest packets a frame holds):
	// the kernel finds 512 of those at once on a busy machine, where 64
	// blocks of 1 MiB, each a run of 256 free pages, took it 60-125 ms
	// while the lab's bulk transfer loaded both cores (8-75 ms in 128
	// KiB blocks), and the small ring being replaced overflowed meanwhile.
	opts := append(slices.Clip(h.opts), afpacket.OptBlockSize(bigBlock), afpacket.OptNumBlocks(blocks*(1<<20)/bigBlock))
	if blocks < h.full {
		// A ring that will grow polls for less (drainPoll): when it is
		// replaced, a drain on a link gone quiet ends at a poll that
		// finds nothing, and meanwhile nobody reads the bigger ring.
		opts = append(opts, afpacket.OptBlockSize(1<<19), afpacket.OptNumBlocks(blocks*2), afpacket.OptPollTimeout(drainPoll))
	}
	tp, err := afpacket.NewTPacket(opts...)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, time.Time{}, &PermissionError{Interface: h.name, Err: err}
		}
		return nil, time.Time{}, fmt.Errorf("capture on %s: %w", h.name, err)
	}
	if err := tp.SetBPF(h.filter); err != nil {
		tp.Close()
		return nil, time.Time{}, fmt.Errorf("capture on %s: attach filter: %w", h.name, err)
	}
	return tp, time.Now(), nil
}

// Growing the ring.
//
// The kernel maps a socket's whole ring into the process when it is
// opened: 64 MiB of resident memory on a link that may stay quiet for
// hours. The kernel allocates the ring's pages itself and does not charge
// them to the process's memory cgroup (bench/live.sh: 26 MB charged
// with either ring), so a pod's memory request is not what this saves;
// the RSS that ps and top show is.
// With Config.StartBlocks, a ring starts that small and is replaced by
// one of Config.RingBlocks once its link fills growBytes of it within
// growWindow: the new socket is opened first, then the old one's filter
// set to take nothing more and its ring read up to the first packet the
// new one holds too, so no packet falls between them; the packets both
// rings hold (those of the moment both sockets were open) are delivered
// once, recognised by their bytes and interface (fingerprint).
//
// Measured on the lab's bulk transfer at 160 MB/s on this 2-core machine
// (bench: lab/run.sh bulk-live with --small-ring): the kernel opens the
// big ring in 8-75 ms while both cores are busy, and an 8 MiB ring
// overflows in about 50 ms; 3 runs in 12 lost packets (1, 1,348 and
// 3,923), counted as drops, where the big ring from the start lost none.
// The reader's own pace matters as much: a 12 MiB first ring, with the
// capture's goroutines given one P more than the cores once the link is
// busy (Config.OnBusy; h2pcap live's readerProcs), lost none in 22 runs
// (16 of them with the extra P from the start).
// Growing in steps (8, 32, then 64 MiB) did not help: the ring
// overflows because its reader falls behind while the kernel clears the
// new ring, whatever its size.
const (
	growWindow = 50 * time.Millisecond
	// growBytes: 5 MB/s, early in a TCP transfer's slow start, so that
	// the bigger ring is there before the rate is; but above what
	// 20,000 idle connections each answering a PING every 5 s take (12,000
	// packets/s, 2 MB/s of ring), which the small ring holds for 4 s.
	growBytes = 256 << 10
	// ringOverhead is what the ring takes for a packet beside its bytes:
	// its tpacket3_hdr and sockaddr_ll, aligned.
	ringOverhead = 80
	// bigBlock is the size of the big ring's blocks (see open).
	bigBlock = 128 << 10
	// drainPoll is the poll timeout of a ring that will grow. Its drain
	// (see grew) ends at the first packet the bigger ring holds too or,
	// on a link gone quiet meanwhile, at a poll that finds nothing: once
	// its filter takes nothing the kernel hands over its last block
	// within the block timeout (10 ms), so twice that is enough. The
	// capture's usual 100 ms would leave the bigger ring unread that
	// much longer.
	drainPoll = 20 * time.Millisecond
	// seenSlack widens the moment both sockets were open, in packet
	// time: a packet's timestamp may be taken before it reached the
	// sockets.
	seenSlack = 100 * time.Millisecond
)

// rejectAll is the filter of a socket being replaced: it takes nothing.
var rejectAll = []bpf.RawInstruction{{Op: 0x06, K: 0}} // ret #0

// busy counts a packet of n bytes at t and says whether h's link now
// carries growBytes of ring within growWindow.
func (h *handle) busy(t time.Time, n int) bool {
	if t.Sub(h.windowStart) > growWindow || t.Before(h.windowStart) {
		h.windowStart, h.window = t, 0
	}
	h.window += n + ringOverhead
	return h.window >= growBytes
}

// fingerprint identifies a packet's copy in the other ring of a grow:
// its bytes, length and interface. The interface, because on the any
// socket a bridged packet crosses two with the same bytes (a bridge
// rewrites nothing), and the second crossing, a moment later, may be in
// the bigger ring only: without it that one was taken for the first's
// copy and dropped (TestLiveAnyForwarding, bridged and queued, when a
// burst made the ring grow).
func fingerprint(data []byte, ci gopacket.CaptureInfo) uint64 {
	return maphash.Bytes(fingerprintSeed, data) ^ uint64(ci.Length)*0x9e3779b97f4a7c15 ^ uint64(uint32(ci.InterfaceIndex))*0xc2b2ae3d27d4eb4f
}

var fingerprintSeed = maphash.MakeSeed()

// grown is a bigger ring opened for a handle.
type grown struct {
	tp       *afpacket.TPacket
	attached time.Time
	err      error
}

// startGrow opens h's bigger ring in its own goroutine: the kernel may
// take tens of milliseconds to find and clear 64 MiB, while the small
// ring goes on being read.
func (h *handle) startGrow() {
	ch := make(chan grown, 1)
	h.growing = ch
	h.pending = map[uint64]int{} // what the old ring delivers from now on
	old := h.tp
	go func() {
		var g grown
		g.tp, g.attached, g.err = h.open(h.full)
		if g.err == nil {
			// The old ring may overflow while the reader catches up:
			// what it loses from now on the new one has.
			h.dropsMu.Lock()
			if _, v3, err := old.SocketStats(); err == nil {
				h.frozen, h.frozenDrops = true, uint64(v3.Drops())
			}
			h.dropsMu.Unlock()
		}
		ch <- g
	}()
}

// grew takes the bigger ring of h once it is open (see growWindow),
// delivering what the old one still holds. If the bigger ring cannot be
// had (the memory is not there), the capture goes on with the small one.
func (s *Source) grew(iface int, h *handle) {
	var g grown
	select {
	case g = <-h.growing:
	default:
		return
	}
	h.growing = nil
	seen := h.pending
	h.pending = nil
	if g.err != nil {
		h.full = h.blocks
		return
	}
	tp, attached := g.tp, g.attached
	old := h.tp
	if err := old.SetBPF(rejectAll); err != nil {
		tp.Close()
		h.full = h.blocks
		return
	}
	detached := time.Now()
	for {
		data, ci, err := old.ZeroCopyReadPacketData()
		if err != nil {
			if !errors.Is(err, afpacket.ErrTimeout) && !errors.Is(err, syscall.EINTR) {
				s.setErr(fmt.Errorf("capture on %s: %w", h.name, err))
			}
			break
		}
		if !ci.Timestamp.Before(attached) {
			// The bigger ring had its filter by then: it holds this
			// packet and every one after it. Reading the old ring to
			// its end (a poll that finds nothing) would leave the
			// bigger one unread that much longer, a backlog a busy
			// link may not let it catch up on.
			break
		}
		seen[fingerprint(data, ci)]++
		s.take(iface, h, data, ci)
	}
	h.dropsMu.Lock()
	if h.frozen {
		h.dropsBase += h.frozenDrops
	} else if _, v3, err := old.SocketStats(); err == nil {
		h.dropsBase += uint64(v3.Drops())
	}
	h.frozen = false
	old.Close()
	h.tp, h.attached, h.blocks, h.grown = tp, attached, h.full, true
	h.dropsMu.Unlock()
	h.seen, h.seenUntil = seen, detached.Add(seenSlack)
}

// loopbacks returns the loopback rule of the socket of interface name.
func loopbacks(name string) *outgoingLoopback {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	lo := &outgoingLoopback{}
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback == 0 {
			continue
		}
		if name == Any {
			lo.ifindex = append(lo.ifindex, uint32(i.Index))
		} else if i.Name == name {
			lo.all = true
		}
	}
	return lo
}

func unknownInterface(name string) error {
	e := &UnknownInterfaceError{Interface: name}
	if ifs, err := net.Interfaces(); err == nil {
		for _, i := range ifs {
			e.Existing = append(e.Existing, i.Name)
		}
	}
	return e
}

// ethernetLike says whether a SOCK_RAW socket on the interface reads an
// Ethernet header: ARPHRD_ETHER, and loopback, whose header is Ethernet's
// with zero addresses.
func ethernetLike(name string) bool {
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	if err != nil {
		return false // read from the network header on: right for any link
	}
	t, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && (t == syscall.ARPHRD_ETHER || t == syscall.ARPHRD_LOOPBACK)
}

// read copies the packets of one socket into the queue until Stop.
func (s *Source) read(iface int, h *handle) {
	defer s.wg.Done()
	defer func() {
		if h.growing != nil {
			// Stopped while the bigger ring was being opened.
			if g := <-h.growing; g.tp != nil {
				g.tp.Close()
			}
			h.growing = nil
		}
	}()
	// After Stop the ring is drained: packets that crossed the interface
	// before Stop are still read, until the ring is empty (a poll timeout)
	// or, on a busy link, for at most drainFor.
	const drainFor = 500 * time.Millisecond
	var drainUntil time.Time
	for {
		if drainUntil.IsZero() {
			select {
			case <-s.stop:
				drainUntil = time.Now().Add(drainFor)
			default:
			}
		} else if time.Now().After(drainUntil) {
			return
		}
		data, ci, err := h.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, syscall.EINTR) {
				if !drainUntil.IsZero() {
					return
				}
				if h.growing != nil {
					s.grew(iface, h)
				}
				continue
			}
			s.setErr(fmt.Errorf("capture on %s: %w", h.name, err))
			return
		}
		if h.seen != nil {
			if ci.Timestamp.After(h.seenUntil) {
				h.seen = nil
			} else if k := fingerprint(data, ci); h.seen[k] > 0 {
				h.seen[k]-- // delivered from the old ring already
				continue
			}
		}
		if h.growing != nil {
			// The bigger ring may hold this packet too.
			h.pending[fingerprint(data, ci)]++
		}
		s.take(iface, h, data, ci)
		switch {
		case h.growing != nil:
			s.grew(iface, h)
		case drainUntil.IsZero() && (h.blocks < h.full || !s.busyTold.Load()) && h.busy(ci.Timestamp, ci.CaptureLength):
			if s.busyTold.CompareAndSwap(false, true) && s.cfg.OnBusy != nil {
				s.cfg.OnBusy()
			}
			if h.blocks < h.full {
				h.startGrow()
			}
		}
	}
}

// take queues a packet h read for Next.
func (s *Source) take(iface int, h *handle, data []byte, ci gopacket.CaptureInfo) {
	if !h.attached.IsZero() && ci.Timestamp.Before(h.attached) {
		if n, err := h.vm.Run(data); err != nil || n == 0 {
			return
		}
	}
	t, typed := pktType(data, ci)
	if snap := s.cfg.Snaplen; snap > 0 && len(data) > snap {
		data = data[:snap]
	}
	b := s.getBuf(len(data))
	b.in, b.out = typed && t <= packetOtherHost, typed && t == packetOutgoing
	b.data = append(b.data[:0], data...)
	b.t = ci.Timestamp
	b.wire = ci.Length
	b.iface = iface
	b.ifindex = int32(ci.InterfaceIndex)
	select {
	case s.queue <- b:
	default:
		s.queueDrops.Add(1)
		s.putBuf(b)
	}
}

// smallBuf is the capacity of the copies of short packets: a SYN, an ACK,
// a PING or a small request on Ethernet, with IPv6 or VXLAN headers. A
// reconnect storm is such packets, and when the analysis falls behind
// they fill the queue (Config.QueueLen, 65,536): 22 MB of 256-byte
// copies, not 140 MB of 2 KB ones.
const smallBuf = 256

// getBuf returns a pooled buf for a packet of n bytes.
func (s *Source) getBuf(n int) *buf {
	if n <= smallBuf {
		return s.small.Get().(*buf)
	}
	return s.large.Get().(*buf)
}

// putBuf gives b back to the pool of its size.
func (s *Source) putBuf(b *buf) {
	if cap(b.data) <= smallBuf {
		s.small.Put(b)
	} else {
		s.large.Put(b)
	}
}

func (s *Source) setErr(err error) {
	s.errMu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.errMu.Unlock()
}

// Next returns the next captured packet. Its Data is valid until the
// following call.
func (s *Source) Next() (*decode.Packet, error) {
	if s.cur != nil {
		s.putBuf(s.cur)
		s.cur = nil
	}
	if s.ended {
		return nil, io.EOF
	}
	var b *buf
	var idle <-chan time.Time
	if s.cfg.Idle > 0 {
		select {
		case b = <-s.queue:
			return s.deliver(b), nil
		default:
		}
		// The queue is empty: wait, at most Idle. The timer is made
		// once and only reset here, when the link is quiet.
		if s.idle == nil {
			s.idle = time.NewTimer(s.cfg.Idle)
		} else {
			s.idle.Reset(s.cfg.Idle)
		}
		defer s.idle.Stop()
		idle = s.idle.C
	}
	select {
	case b = <-s.queue:
	case now := <-idle:
		return nil, &decode.IdleError{At: now}
	case <-s.done:
		// Every reader has returned; what is queued is still delivered.
		select {
		case b = <-s.queue:
		default:
			s.ended = true
			s.finish()
			return nil, io.EOF
		}
	}
	return s.deliver(b), nil
}

// deliver makes b the packet Next returns.
func (s *Source) deliver(b *buf) *decode.Packet {
	s.cur = b
	s.last = b.iface
	s.delivered.Add(1)
	h := s.handles[b.iface]
	s.pkt = decode.Packet{
		Input:      s.cfg.Input,
		Frame:      s.info.Packets + 1,
		Time:       b.t.UTC(), // as a file's: one zone for every source (app.pingAt)
		CaptureLen: len(b.data),
		WireLen:    max(b.wire, len(b.data)),
		LinkType:   h.linkType,
		Data:       b.data,
		Iface:      decode.Iface{ID: b.ifindex, Known: b.ifindex > 0, In: b.in, Out: b.out, Name: s.ifName(b.ifindex)},
	}
	s.count(&s.pkt)
	return &s.pkt
}

func (s *Source) count(p *decode.Packet) {
	s.info.Count(p.Time, p.CaptureLen, p.WireLen)
}

// ifName returns the name of the interface with kernel index i, looked
// up once; "" if it is gone already.
func (s *Source) ifName(i int32) string {
	if i <= 0 {
		return ""
	}
	if n, ok := s.names[i]; ok {
		return n
	}
	if s.names == nil {
		s.names = map[int32]string{}
	}
	var n string
	if f, err := net.InterfaceByIndex(int(i)); err == nil {
		n = f.Name
	}
	s.names[i] = n
	return n
}

// finish puts the capture's drops in the report's warnings, so a reader
// of the report cannot take them for network loss.
//
// A socket that failed (its interface went down) ends the capture early;
// that is a warning too, not an error, so the report of what was captured
// is still written.
func (s *Source) finish() {
	s.errMu.Lock()
	if s.err != nil {
		s.info.Warnings = append(s.info.Warnings, "the capture ended early: "+s.err.Error())
	}
	s.errMu.Unlock()
	st := s.Stats()
	if st.KernelDrops > 0 {
		w := fmt.Sprintf("the kernel dropped %d packets before the capture read them (capture loss, not network loss)", st.KernelDrops)
		if st.FirstRingDrops > 0 {
			// Which ring lost them says what would have helped: a
			// capture that starts with the full ring, or a reader that
			// keeps up.
			w += fmt.Sprintf("; %d of them from the first, smaller packet ring, before the full one replaced it (a capture that starts with the full ring avoids those)", st.FirstRingDrops)
		}
		s.info.Warnings = append(s.info.Warnings, w)
	}
	if st.QueueDrops > 0 {
		s.info.Warnings = append(s.info.Warnings, fmt.Sprintf("h2pcap dropped %d captured packets: the analysis fell behind (capture loss, not network loss)", st.QueueDrops))
	}
}

// Interface returns the index in Config.Interfaces of the interface the
// packet Next returned last came from.
func (s *Source) Interface() int { return s.last }

// LinkType returns the link type of the packets of interface i.
func (s *Source) LinkType(i int) layers.LinkType { return s.handles[i].linkType }

// Info returns the input's info; its counters are final after Next has
// returned io.EOF.
func (s *Source) Info() *decode.InputInfo { return &s.info }

// Stats returns the counters so far. It may be called from any goroutine.
func (s *Source) Stats() Stats {
	st := Stats{Packets: s.delivered.Load(), QueueDrops: s.queueDrops.Load()}
	for _, h := range s.handles {
		d := h.kernelDrops()
		st.KernelDrops += d
		st.FirstRingDrops += h.firstRingDrops(d)
	}
	return st
}

// Stop ends the capture: the readers return, and Next returns what is
// still queued, then io.EOF. It may be called from any goroutine, more
// than once.
func (s *Source) Stop() {
	s.stopped.Do(func() { close(s.stop) })
}

// Close stops the capture and closes the sockets.
func (s *Source) Close() error {
	s.Stop()
	<-s.done
	s.closeHandles()
	return nil
}

func (s *Source) closeHandles() {
	for _, h := range s.handles {
		h.kernelDrops()
		h.dropsMu.Lock()
		if h.tp != nil {
			h.tp.Close()
			h.tp = nil
		}
		h.dropsMu.Unlock()
	}
}
