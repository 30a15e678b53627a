package verdict

import (
	"fmt"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

func TestAttempts(t *testing.T) {
	syn := func(i int, answered bool) *model.Connection {
		c := &model.Connection{Client: fmt.Sprintf("198.18.%d.%d:40000", i/250, i%250), Server: fmt.Sprintf("198.19.0.%d:443", 1+i%50)}
		c.TCP.ClientToServer.Packets = 1
		if answered {
			c.TCP.ServerToClient.Packets = 1
		}
		return c
	}
	data := func() *model.Connection {
		c := &model.Connection{Client: "198.18.9.9:1", Server: "198.19.0.1:443"}
		c.TCP.ClientToServer.Bytes = 10
		return c
	}
	build := func(syns, answered, withData int) []*model.Connection {
		var cs []*model.Connection
		for i := range syns {
			cs = append(cs, syn(i, i < answered))
		}
		for range withData {
			cs = append(cs, data())
		}
		return cs
	}
	tests := []struct {
		name  string
		conns []*model.Connection
		words string // "": no attempts summary
	}{
		{"a flood", build(2000, 1, 10),
			"2,000 connection attempts without data to 50 servers from 2,000 client addresses, 0.05% answered: a SYN flood or a scan, not an application's traffic"},
		{"a redialling client is not a flood", build(minAttempts-1, 0, 0), ""},
		{"a busy node's traffic with a scan in it", build(1500, 0, 1600), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := attempts(tc.conns, nil)
			got := ""
			if a != nil {
				got = attemptsWords(a)
			}
			if got != tc.words {
				t.Errorf("got %q\nwant %q", got, tc.words)
			}
		})
	}
}
