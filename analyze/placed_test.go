package analyze

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/h2pcap/h2pcap/analyze/verdict"
	"github.com/h2pcap/h2pcap/model"
)

// ForgottenRows gives back, for each forgotten connection, exactly the
// fields a multi-point report reads of its row, whatever order the
// connections were forgotten in; every counter of model.DirStats is
// kept, and a nil TTL list stays nil (the JSON writes null, not []).
func TestForgottenRows(t *testing.T) {
	full := func(seed int) model.DirStats {
		var s model.DirStats
		v := reflect.ValueOf(&s).Elem()
		for i := range v.NumField() {
			switch f := v.Field(i); f.Kind() {
			case reflect.Slice:
				f.Set(reflect.ValueOf([]int{64 - seed, 63}))
			default:
				f.SetInt(int64(seed*1000 + i*37))
			}
		}
		return s
	}
	rows := []*model.Connection{
		{Stream: 7, Client: "10.0.0.1:40000", FirstInput: 1, FirstFrame: 123456, TCP: model.TCPStats{ClientToServer: full(1), ServerToClient: full(2)}},
		{Stream: 2, Client: "[fd18::1]:443", FirstInput: 0, FirstFrame: 1},
		{Stream: 3, Client: "", TCP: model.TCPStats{ClientToServer: model.DirStats{TTL: []int{}, Packets: -1}}},
		{Stream: 100000, Client: "198.18.0.1:1", FirstFrame: 1 << 40},
		{Stream: 5, Client: "198.18.0.1:2"}, // no start (Conn gives none back)
	}
	// What Conn gives besides: the row's server, times and handshake,
	// of its facts its data segments and the server's TTL.
	conns := make([]verdict.ForgottenConn, len(rows))
	var fr ForgottenRows
	for i, c := range rows {
		full := *c
		full.Server = fmt.Sprintf("198.18.%d.2:8080", i)
		if i < 4 {
			full.Start = time.Date(2026, 12, 7, 23, 0, i, 123456789, time.UTC)
			full.End = full.Start.Add(time.Duration(i) * 1500 * time.Millisecond)
		}
		if i == 3 {
			full.Start = time.Unix(0, 0).UTC() // a capture of 1970: not none
		}
		full.Handshake.Seen = i%2 == 0
		full.Verdict = &model.Verdict{Kind: model.KindHealthy} // not kept
		var f verdict.Facts
		f.Dir[model.ClientToServer].DataSegs = 10 * i
		f.Dir[model.ServerToClient].DataSegs = 1 << (20 + i)
		f.Dir[model.ServerToClient].TTL = 60 + i
		fr.add(&full, &f)
		full.Verdict = nil
		conns[i] = verdict.ForgottenConn{Row: &full, Data: [2]int{10 * i, 1 << (20 + i)}, ServerTTL: 60 + i}
	}
	if fr.Len() != len(rows) {
		t.Fatalf("Len %d, want %d", fr.Len(), len(rows))
	}
	for i, want := range rows {
		got := fr.Row(want.Stream)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stream %d: got %+v, want %+v", want.Stream, got, want)
		}
		fc, ok := fr.Conn(want.Stream)
		if !ok || !reflect.DeepEqual(fc, conns[i]) {
			t.Errorf("stream %d: Conn gave %+v, %v; want %+v", want.Stream, fc.Row, fc, conns[i].Row)
		}
	}
	// ClientIs answers as the row's Client does, without making it.
	for _, want := range rows {
		for _, client := range []string{want.Client, "10.0.0.1:4000", "[fd18::1]:443", ""} {
			if found, same := fr.ClientIs(want.Stream, []byte(client)); !found || same != (client == want.Client) {
				t.Errorf("stream %d ClientIs(%q) = %v, %v; its Client is %q", want.Stream, client, found, same, want.Client)
			}
		}
	}
	for _, st := range []int{0, 4, 99999, -1} {
		if c := fr.Row(st); c != nil {
			t.Errorf("stream %d never forgotten: got %+v", st, c)
		}
		if found, _ := fr.ClientIs(st, nil); found {
			t.Errorf("stream %d never forgotten: ClientIs found it", st)
		}
	}
	var none *ForgottenRows
	if found, _ := none.ClientIs(1, nil); found {
		t.Error("a nil ForgottenRows holds something")
	}
	if _, ok := none.Conn(1); ok || none.Len() != 0 || none.Row(1) != nil {
		t.Error("a nil ForgottenRows holds something")
	}
}
