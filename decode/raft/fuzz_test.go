package raft

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/decode/h2"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// FuzzStream: any bytes, in any split, fed to any kind of body never
// panic, and a message the decoder emits has a known type or is flagged.
func FuzzStream(f *testing.F) {
	hb, _ := proto.Marshal(&raftpb.Message{Type: raftpb.MsgHeartbeat.Enum(), From: new(uint64(1)), To: new(uint64(2)), Term: new(uint64(3))})
	f.Add(uint8(KindMessage), 3, append(binary.BigEndian.AppendUint64(nil, uint64(len(hb))), hb...))
	f.Add(uint8(KindMsgApp), 1, append([]byte{msgApp}, append(binary.BigEndian.AppendUint64(nil, uint64(len(hb))), hb...)...))
	f.Add(uint8(KindMsgApp), 2, []byte{msgAppEntries, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 8, 1, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add(uint8(KindPipeline), 5, hb)
	f.Fuzz(func(t *testing.T, kind uint8, step int, b []byte) {
		k := Kind(kind%3 + 1)
		step = max(1, step%64)
		s := NewStream(k, 1, 2)
		emit := func(m *Message, _ h2.Meta) {
			if m.Entries < 0 {
				t.Fatalf("%+v", m)
			}
		}
		for i := 0; i < len(b); i += step {
			s.Data(b[i:min(i+step, len(b))], h2.Meta{Frame: i, Time: time.Unix(0, int64(i))}, emit)
		}
		s.End(h2.Meta{}, emit)
	})
}
