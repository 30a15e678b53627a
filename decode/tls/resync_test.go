package tls

import (
	"fmt"
	"testing"

	"github.com/h2pcap/h2pcap/internal/oracle"
)

type recKey struct {
	fromClient bool
	off        int64 // from the direction's first captured byte
}

// plainRun feeds a connection's segments in capture order (new bytes
// only: retransmissions are dropped) with each direction starting at byte
// start[fromClient] of its payload, and the segments drop says replaced by
// a gap of their length. It returns every decrypted record's plaintext by
// offset, and the Conn.
func plainRun(t *testing.T, tc *tcpConn, keys *KeyLog, start [2]int64, drop func(fromClient bool, i int) bool) (map[recKey]string, map[recKey]bool, *Conn) {
	got := map[recKey]string{}
	resynced := map[recKey]bool{}
	var conn *Conn
	conn = NewConn(Config{Keys: keys, Record: func(fromClient bool, r *Record, p *Plain) {
		k := recKey{fromClient, r.Offset + start[idx(fromClient)]}
		if r.Resynced {
			resynced[k] = true
		}
		if p.Decrypted && p.Content == RecordTypeApplicationData {
			got[k] = string(p.Data)
		}
	}})
	var next [2]int64
	var base [2]int64
	var seen [2]bool
	var n [2]int
	for _, ev := range tc.order {
		fc := ev.port == tc.clientPort
		d := idx(fc)
		sg := ev.seg
		if !seen[d] {
			seen[d] = true
			base[d] = sg.seq
		}
		lo, hi := sg.seq-base[d], sg.seq-base[d]+int64(len(sg.data))
		lo = max(lo, next[d], start[d])
		if hi <= lo {
			continue
		}
		i := n[d]
		n[d]++
		if drop != nil && drop(fc, i) {
			conn.Gap(fc, int(hi-lo))
		} else {
			conn.Data(fc, sg.data[lo-(sg.seq-base[d]):], Meta{Frame: sg.frame})
		}
		next[d] = hi
	}
	conn.End(true)
	conn.End(false)
	return got, resynced, conn
}

func labConn(t *testing.T, file string, stream string) (*tcpConn, *KeyLog) {
	oracle.Tshark(t)
	c := tlsCapture{file: file, keyFile: "keylog.txt"}
	keys := c.keys(t)
	for _, tc := range tcpConns(t, c.tsharkRows(t)) {
		if tc.stream == stream {
			return tc, keys
		}
	}
	t.Fatalf("%s: no stream %s", file, stream)
	return nil, nil
}

// sortedOffsets returns a direction's record offsets in order.
func offsets(m map[recKey]string, fromClient bool) []int64 {
	var o []int64
	for k := range m {
		if k.fromClient == fromClient {
			o = append(o, k.off)
		}
	}
	for i := range o {
		for j := i + 1; j < len(o); j++ {
			if o[j] < o[i] {
				o[i], o[j] = o[j], o[i]
			}
		}
	}
	return o
}

// compareRuns checks that every record the cut run decrypted has the
// plaintext of the full run, and that every record of the full run after
// from[dir] was decrypted.
func compareRuns(t *testing.T, full, cut map[recKey]string, from [2]int64) {
	for k, v := range cut {
		if full[k] != v {
			t.Errorf("%v: plaintext %q, full run %q", k, v, full[k])
		}
	}
	for _, fc := range []bool{false, true} {
		missed, after := 0, 0
		for _, off := range offsets(full, fc) {
			if off < from[idx(fc)] {
				continue
			}
			after++
			if _, ok := cut[recKey{fc, off}]; !ok {
				missed++
				t.Errorf("client=%v: record at %d not decrypted", fc, off)
			}
		}
		t.Logf("client=%v: %d records after the cut, %d not decrypted", fc, after, missed)
	}
}

// TestMidStart cuts a lab connection's first records off, starting each
// direction inside a record: the record layer searches for boundaries, and
// with no handshake the Conn tries the key log's TLS 1.3 secrets at
// sequence numbers up to MidStartWindow.
func TestMidStart(t *testing.T) {
	tc, keys := labConn(t, "healthy-tls/client.pcap", "1")
	full, _, fullConn := plainRun(t, tc, keys, [2]int64{}, nil)
	if fullConn.Info().KeyProblem() != "" {
		t.Fatal(fullConn.Info().KeyProblem())
	}
	for _, n := range []int{3, 8} {
		t.Run(fmt.Sprint(n, " records cut"), func(t *testing.T) {
			var start [2]int64
			for _, fc := range []bool{false, true} {
				o := offsets(full, fc)
				if len(o) <= n+4 {
					t.Fatalf("client=%v: %d records", fc, len(o))
				}
				start[idx(fc)] = o[n] + 3 // inside the header of the record after the n-th application record
			}
			cut, resynced, conn := plainRun(t, tc, keys, start, nil)
			info := conn.Info()
			if !info.MidStart || info.ClientRandom != fullConn.Info().ClientRandom || info.CipherSuite != fullConn.Info().CipherSuite {
				t.Fatalf("mid-start %v, client random %x, suite %s", info.MidStart, info.ClientRandom, CipherSuiteName(info.CipherSuite))
			}
			if len(resynced) == 0 {
				t.Fatal("no record found by search")
			}
			// The first record after each start is found by search; the
			// secret is found on the first small one.
			var from [2]int64
			for _, fc := range []bool{false, true} {
				for _, off := range offsets(cut, fc) {
					from[idx(fc)] = off
					break
				}
				t.Logf("client=%v: started at %d, first decrypted record at %d", fc, start[idx(fc)], from[idx(fc)])
			}
			compareRuns(t, full, cut, from)
		})
	}
}

// TestGapSeqRecovery drops segments in the middle of each direction of a
// lab connection: records after the gap decrypt again once the search has
// found their boundaries and the sequence number has been recovered by
// trying the next ones.
func TestGapSeqRecovery(t *testing.T) {
	tc, keys := labConn(t, "healthy-tls/client.pcap", "0")
	full, _, _ := plainRun(t, tc, keys, [2]int64{}, nil)
	cases := []struct {
		name string
		drop func(fromClient bool, i int) bool
	}{
		{"one segment each way", func(fc bool, i int) bool { return i == 12 }},
		{"three segments from the server", func(fc bool, i int) bool { return !fc && i >= 12 && i < 15 }},
		{"every 7th segment", func(fc bool, i int) bool { return i > 6 && i%7 == 0 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dropped := 0
			cut, resynced, conn := plainRun(t, tc, keys, [2]int64{}, func(fc bool, i int) bool {
				d := c.drop(fc, i)
				if d {
					dropped++
				}
				return d
			})
			if len(resynced) == 0 {
				t.Fatal("no record found by search")
			}
			for k := range resynced {
				if _, ok := cut[k]; !ok && full[k] != "" {
					t.Errorf("%v: record found by search not decrypted", k)
				}
			}
			for k, v := range cut {
				if full[k] != v {
					t.Errorf("%v: plaintext differs", k)
				}
			}
			// A dropped segment takes at most two records (one it ends, one
			// it begins); all the others decrypt, whatever sequence numbers
			// went missing with them.
			lost := len(full) - len(cut)
			info := conn.Info()
			t.Logf("%d of %d application records decrypted; %d resyncs; undecrypted %v; stats c->s %+v s->c %+v",
				len(cut), len(full), len(resynced), info.Undecrypted, conn.RecordStats(true), conn.RecordStats(false))
			if lost > 2*dropped {
				t.Errorf("%d records not decrypted for %d segments dropped", lost, dropped)
			}
		})
	}
}
