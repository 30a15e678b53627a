package analyze

import (
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/tcp"
	"github.com/h2pcap/h2pcap/internal/oracle"

	"github.com/h2pcap/h2pcap/decode"
)

// TestRandomAgainstTshark is a differential test: it generates noisy TCP
// conversations (loss, reordering, retransmissions, duplicate and
// acknowledging-the-unseen ACKs, zero windows and probes, keep-alives,
// window-edge segments with and without scaling, FIN/RST, port reuse, time
// going backwards), writes them to one capture, and requires every
// segment's flags and stream to equal tshark's. H2PCAP_ORACLE_SEED picks
// another seed; H2PCAP_ORACLE_CONNS the number of connections;
// H2PCAP_ORACLE_KEEP a directory to keep the capture in.
func TestRandomAgainstTshark(t *testing.T) {
	oracle.Tshark(t)
	var err error
	seed := uint64(1)
	if v := os.Getenv("H2PCAP_ORACLE_SEED"); v != "" {
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("H2PCAP_ORACLE_SEED: %v", err)
		}
	}
	conns := 150
	if v := os.Getenv("H2PCAP_ORACLE_CONNS"); v != "" {
		if conns, err = strconv.Atoi(v); err != nil {
			t.Fatalf("H2PCAP_ORACLE_CONNS: %v", err)
		}
	}
	if testing.Short() {
		conns = 20
	}
	rng := rand.New(rand.NewPCG(seed, 0x4832))
	var segs []*decode.Segment
	for i := range conns {
		segs = append(segs, randomConn(rng, i, len(segs))...)
	}
	if !testing.Short() {
		segs = append(segs, oneWayConn(conns, len(segs), false)...)
		segs = append(segs, oneWayConn(conns+1, len(segs), true)...)
	}
	dir := os.Getenv("H2PCAP_ORACLE_KEEP") // a directory to keep the capture in
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "random.pcap")
	if err := writeRawPcap(path, segs); err != nil {
		t.Fatal(err)
	}
	theirs := runTshark(t, path)
	a := New(Options{})
	bad := 0
	seen := make([]int, len(oracleFields))
	for _, s := range segs {
		f := a.segment(s)
		c := a.conns.get(new(tupleOf(s.Src, s.Dst)), a.gone)
		th := theirs[s.Frame]
		switch {
		case th == nil:
			t.Errorf("frame %d: tshark shows no TCP", s.Frame)
			bad++
		case shownFields(f) != th.fields || c.stream != th.stream:
			t.Errorf("frame %d (%s -> %s): h2pcap stream %d %s, tshark stream %d %s",
				s.Frame, s.Src, s.Dst, c.stream, fieldNames(shownFields(f)), th.stream, fieldNames(th.fields))
			bad++
		}
		for i := range oracleFields {
			if th != nil && th.fields&(1<<i) != 0 {
				seen[i]++
			}
		}
		if bad >= 20 {
			t.Fatalf("stopping after %d differences (seed %d; the capture: %s)", bad, seed, path)
		}
	}
	if !t.Failed() {
		t.Logf("seed %d: %d segments in %d connections agree", seed, len(segs), conns)
	}
	for i, f := range oracleFields {
		t.Logf("%6d %s", seen[i], f.field)
		if seen[i] == 0 && !testing.Short() {
			t.Errorf("the generator never produced %s", f.field)
		}
	}
}

// randomConn generates one noisy conversation on its own client port.
func randomConn(rng *rand.Rand, idx, frameBase int) []*decode.Segment {
	cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, byte(idx >> 8), byte(idx)}), uint16(30000+idx))
	srv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 8, 0, 1}), 8080)
	ep := [2]netip.AddrPort{cli, srv}
	now := t0.Add(time.Duration(idx) * time.Hour)

	type side struct {
		next     uint32 // next new byte
		lastAck  uint32
		win      uint16
		ws       int8
		sent     []uint32 // seqs of data sent, for retransmissions
		lens     []int
		hasScale bool
	}
	var sd [2]side
	var out []*decode.Segment
	emit := func(from int, flags decode.TCPFlags, seq, ack uint32, n int, win uint16) *decode.Segment {
		s := &decode.Segment{
			Frame: frameBase + len(out) + 1, Time: now, Src: ep[from], Dst: ep[1-from], TTL: 64,
			Seq: seq, Ack: ack, Flags: flags, Window: win, PayloadLen: n,
			Options: decode.TCPOptions{WindowScale: -1},
		}
		out = append(out, s)
		return s
	}
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	step := func() {
		d := []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 2 * time.Millisecond,
			4 * time.Millisecond, 15 * time.Millisecond, 25 * time.Millisecond, 400 * time.Millisecond,
			-time.Millisecond}[rng.IntN(9)]
		now = now.Add(d)
	}
	windows := []uint16{0, 1, 2, 100, 1000, 1448, 4000, 65535}

	for i := range sd {
		sd[i].next = rng.Uint32()
		if rng.IntN(8) == 0 {
			sd[i].next = uint32(-rng.IntN(3000)) // near the wrap
		}
		sd[i].win = windows[3+rng.IntN(5)]
		sd[i].ws = int8(pick(-1, -1, 0, 2, 7, 14, 15))
	}
	handshake := func() {
		if rng.IntN(5) != 0 {
			s := emit(0, decode.FlagSYN, sd[0].next, 0, pick(0, 0, 0, 10), sd[0].win)
			s.Options.WindowScale = sd[0].ws
			sd[0].next += 1 + uint32(s.PayloadLen)
			step()
			if rng.IntN(6) == 0 { // SYN retransmitted
				emit(0, decode.FlagSYN, sd[0].next-1-uint32(s.PayloadLen), 0, 0, sd[0].win)
				step()
			}
		}
		if rng.IntN(5) != 0 {
			s := emit(1, decode.FlagSYN|decode.FlagACK, sd[1].next, sd[0].next, 0, sd[1].win)
			s.Options.WindowScale = sd[1].ws
			sd[1].next++
			step()
		}
		emit(0, decode.FlagACK, sd[0].next, sd[1].next, 0, sd[0].win)
		step()
	}
	handshake()
	for n := 40 + rng.IntN(60); n > 0; n-- {
		from := rng.IntN(2)
		me, peer := &sd[from], &sd[1-from]
		ackFor := func() uint32 {
			switch rng.IntN(10) {
			case 0:
				return peer.next + uint32(pick(1, 100, 1448)) // acks the unseen
			case 1, 2:
				if len(peer.sent) > 0 { // an old ack
					return peer.sent[rng.IntN(len(peer.sent))]
				}
			}
			return peer.next
		}
		switch r := rng.IntN(100); {
		case r < 40: // new data
			l := pick(1, 2, 100, 1448, 1448, 500)
			if rng.IntN(8) == 0 { // up to the peer's window edge
				shift := uint(0)
				if peer.ws > 0 {
					shift = uint(min(peer.ws, 14))
				}
				edge := int(peer.lastAck + uint32(peer.win)<<shift - me.next)
				if edge > 0 && edge <= 1448 {
					l = edge
				}
			}
			s := emit(from, decode.FlagACK|decode.FlagPSH, me.next, ackFor(), l, me.win)
			me.sent = append(me.sent, s.Seq)
			me.lens = append(me.lens, l)
			me.next += uint32(l)
		case r < 47: // lost: the bytes go uncaptured
			l := pick(100, 1448)
			me.sent = append(me.sent, me.next)
			me.lens = append(me.lens, l)
			me.next += uint32(l)
			continue
		case r < 57: // retransmission of something earlier
			if len(me.sent) == 0 {
				continue
			}
			j := rng.IntN(len(me.sent))
			emit(from, decode.FlagACK, me.sent[j], ackFor(), me.lens[j], me.win)
		case r < 80: // pure ACK, sometimes a window change
			if rng.IntN(4) == 0 {
				me.win = windows[rng.IntN(len(windows))]
			}
			ack := ackFor()
			me.lastAck = ack
			emit(from, decode.FlagACK, me.next, ack, 0, me.win)
		case r < 85: // keep-alive or zero window probe
			emit(from, decode.FlagACK, me.next-uint32(pick(0, 1)), peer.next, pick(0, 1), me.win)
		case r < 88: // window-less duplicate of the last segment
			emit(from, decode.FlagACK, me.next, me.lastAck, 0, me.win)
		case r < 91: // FIN
			emit(from, decode.FlagACK|decode.FlagFIN, me.next, peer.next, pick(0, 0, 10), me.win)
			me.next++
		case r < 93: // RST, sometimes with a seq far ahead
			emit(from, decode.FlagACK|decode.FlagRST, me.next+uint32(pick(0, 0, 5000)), peer.next, 0, 0)
		case r < 95: // port reuse: a new SYN
			for i := range sd {
				sd[i].next = rng.Uint32()
				sd[i].sent, sd[i].lens = nil, nil
			}
			handshake()
		default: // same SYN again, late
			emit(0, decode.FlagSYN, sd[0].next-1, 0, 0, sd[0].win)
		}
		step()
	}
	return out
}

// oneWayConn is a one-sided capture: more than maxUnacked data segments
// with no ACK seen (or one partial ACK midway, when ack is set), then FIN,
// its retransmission, and more: the SYN/FIN byte is not counted while
// Wireshark's unacked list is full.
func oneWayConn(idx, frameBase int, ack bool) []*decode.Segment {
	cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 7, byte(idx >> 8), byte(idx)}), uint16(30000+idx))
	srv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 8, 0, 1}), 8080)
	now := t0.Add(time.Duration(idx) * time.Hour)
	var out []*decode.Segment
	emit := func(src, dst netip.AddrPort, flags decode.TCPFlags, seq, ackN uint32, n int) {
		now = now.Add(time.Millisecond)
		out = append(out, &decode.Segment{
			Frame: frameBase + len(out) + 1, Time: now, Src: src, Dst: dst, TTL: 64,
			Seq: seq, Ack: ackN, Flags: flags, Window: 1000, PayloadLen: n,
			Options: decode.TCPOptions{WindowScale: -1},
		})
	}
	seq, peer := uint32(0xFFFF0000), uint32(77)
	emit(cli, srv, decode.FlagSYN, seq, 0, 0)
	seq++
	for i := range tcp.MaxUnacked + 5 {
		emit(cli, srv, decode.FlagACK, seq, peer, 3)
		seq += 3
		if ack && i == 6000 {
			emit(srv, cli, decode.FlagACK, peer, seq-3*3000, 0)
		}
	}
	emit(cli, srv, decode.FlagACK|decode.FlagFIN, seq, peer, 0)
	emit(cli, srv, decode.FlagACK|decode.FlagFIN, seq, peer, 0)
	emit(cli, srv, decode.FlagACK, seq+1, peer, 0)
	emit(cli, srv, decode.FlagACK, seq+1, peer, 2)
	if ack {
		emit(srv, cli, decode.FlagACK, peer, seq+3, 0)
		emit(cli, srv, decode.FlagACK|decode.FlagFIN, seq+3, peer, 0)
		emit(cli, srv, decode.FlagACK, seq+4, peer, 0)
	}
	return out
}
