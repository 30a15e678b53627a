package model

import (
	"encoding/json"
	"testing"
	"time"
)

// The contract's enumerations read back what they write, and a direction
// that is not one is an error, not a silent client_to_server.
func TestDirectionText(t *testing.T) {
	for _, d := range []Direction{ClientToServer, ServerToClient} {
		b, err := json.Marshal(map[Direction]int{d: 1})
		if err != nil {
			t.Fatal(err)
		}
		var back map[Direction]int
		if err := json.Unmarshal(b, &back); err != nil || back[d] != 1 {
			t.Errorf("%v: %s read back as %v (%v)", d, b, back, err)
		}
		if d.Reverse().Reverse() != d || d.Reverse() == d {
			t.Errorf("%v: Reverse", d)
		}
	}
	var d Direction
	if err := d.UnmarshalText([]byte("sideways")); err == nil {
		t.Error("an unknown direction is not an error")
	}
}

// Clone shares no memory with the original: the report's counters do not
// move when the tracker's do.
func TestDirStatsClone(t *testing.T) {
	orig := DirStats{Packets: 3, TTL: []int{64}}
	c := orig.Clone()
	orig.TTL[0] = 1
	orig.Packets = 9
	if c.TTL[0] != 64 || c.Packets != 3 {
		t.Errorf("clone %+v follows the original", c)
	}
}

// Typed kinds keep the JSON of version 1: plain strings.
func TestVerdictJSON(t *testing.T) {
	v := Verdict{Kind: KindLostPing, LossDirection: LossServerToClient, LossLocation: BeforeCapture,
		LossLocations: map[Direction]LossLocation{ServerToClient: BeforeCapture}, Suspects: []Suspect{SuspectMTUBlackhole}}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"lost_ping","loss_direction":"server_to_client","loss_location":"before_capture","loss_locations":{"server_to_client":"before_capture"},"suspects":["mtu_blackhole"],"summary":"","evidence":null,"wireshark_filter":""}`
	if string(b) != want {
		t.Errorf("verdict JSON\n%s\nwant\n%s", b, want)
	}
}

// A dead flow's verdict adds since, retrying_ms and retries; a verdict
// without them writes none of the three (version 1 only gains fields).
func TestVerdictDeadJSON(t *testing.T) {
	ms := 6683.5
	v := Verdict{Kind: KindBlackholed, LossDirection: LossUnknown, LossLocation: LocationUnknown, Suspects: []Suspect{},
		Since:      &Moment{Frame: 444, Input: 0, Time: time.Date(2026, 12, 5, 23, 36, 23, 370456000, time.UTC)},
		RetryingMs: &ms, Retries: 6}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"blackholed","loss_direction":"unknown","loss_location":"unknown","suspects":[],"summary":"","evidence":null,"wireshark_filter":"","since":{"frame":444,"input":0,"time":"2026-12-05T23:36:23.370456Z"},"retrying_ms":6683.5,"retries":6}`
	if string(b) != want {
		t.Errorf("verdict JSON\n%s\nwant\n%s", b, want)
	}
}

// The multi-point fields' JSON names are the contract, and a
// one-point report carries none of them.
func TestPointsJSONNames(t *testing.T) {
	off := 12.5
	r := Report{
		Points:      []Point{{Name: "lb", Inputs: []int{1}, ClockOffsetMs: &off, Connections: 2}},
		Connections: []*Connection{{Points: map[string]ConnPoint{"lb": {Input: 1, Stream: 3}}, Placement: []Placement{{Direction: ServerToClient, From: "lb", To: "client", Packets: 1, Bytes: 9}}}},
		Summary:     &Summary{Hops: []Hop{{From: "lb", To: "client", Direction: ServerToClient, PacketsUpstream: 10, PacketsLost: 1, LossRate: 0.1}}},
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Points []map[string]any `json:"points"`
		Conns  []struct {
			Points    map[string]map[string]any `json:"points"`
			Placement []map[string]any          `json:"placement"`
		} `json:"connections"`
		Summary struct {
			Hops []map[string]any `json:"hops"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	has := func(what string, m map[string]any, keys ...string) {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q in %v", what, k, m)
			}
		}
	}
	has("point", doc.Points[0], "name", "inputs", "clock_offset_ms", "connections")
	has("connection point", doc.Conns[0].Points["lb"], "input", "stream", "first_frame", "tcp")
	has("placement", doc.Conns[0].Placement[0], "direction", "from", "to", "packets", "bytes", "frames")
	has("hop", doc.Summary.Hops[0], "from", "to", "direction", "packets_upstream", "packets_lost", "loss_rate")

	one, err := json.Marshal(Report{Connections: []*Connection{{}}, Summary: &Summary{}})
	if err != nil {
		t.Fatal(err)
	}
	var plain map[string]any
	json.Unmarshal(one, &plain)
	if _, ok := plain["points"]; ok {
		t.Error("a one-point report has points")
	}
	c := plain["connections"].([]any)[0].(map[string]any)
	s := plain["summary"].(map[string]any)
	for _, k := range []string{"points", "placement"} {
		if _, ok := c[k]; ok {
			t.Errorf("a one-point connection has %q", k)
		}
	}
	if _, ok := s["hops"]; ok {
		t.Error("a one-point summary has hops")
	}
}
