package analyze

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/model"
)

// TestIncidentsLab holds summary.incidents on the lab captures: the
// per-flow black holes are one per_flow incident naming exactly the flows
// truth.json says were dropped (with the clean ones beside them counted),
// the scenarios where every flow died are path or server outages, and no
// other capture has an incident.
func TestIncidentsLab(t *testing.T) {
	want := map[string][]model.IncidentKind{
		"perflow-blackhole":     {model.IncidentPerFlow},
		"perflow-blackhole-s2c": {model.IncidentPerFlow},
		// Both health-checked connections died in the 6-10 s black hole:
		// the only path to the server, so the path (or the server).
		"midconn": {model.IncidentPathOutage},
		// SIGSTOP: the server's TCP acknowledged, nothing answered; then
		// SIGKILL reset what was open.
		"server-stalled": {model.IncidentServerOutage, model.IncidentServerOutage},
		// SYN-ACKs dropped: new connections failed while the two
		// long-lived ones went on.
		"synack-loss-healed":   {model.IncidentHandshakeOutage},
		"synack-loss-unhealed": {model.IncidentHandshakeOutage},
		// Both clientv3 clients of the member black-holed server->client:
		// every flow on the only path to its 2379.
		"etcd-client-blackhole": {model.IncidentPathOutage},
		// Peers' new dials to the faulty member failed (its SYN-ACKs lost,
		// all of them in the one-way black hole, some in the random loss)
		// while the established peer streams had no failure of their own.
		"etcd-leader-blackhole": {model.IncidentHandshakeOutage},
		// The same in TLS (the handshakes are TCP's: keys change nothing).
		"etcd-leader-blackhole-tls-keys": {model.IncidentHandshakeOutage},
	}
	// etcd-leader-loss: m1 is the member whose link loses 30% both ways:
	// its captures see the other members' dials to it fail now and then.
	wantCapture := map[string][]model.IncidentKind{
		"etcd-leader-loss/m1.pcap": {model.IncidentHandshakeOutage},
		// Its run with every member's capture (m1 the faulty member
		// again): m1's dials to m2 failed, their SYN-ACKs lost on m1's
		// link, seen at both ends.
		"etcd-leader-loss-mesh/m1.pcap": {model.IncidentHandshakeOutage},
		"etcd-leader-loss-mesh/m2.pcap": {model.IncidentHandshakeOutage},
	}
	root := filepath.Join("..", "testdata", "pcaps")
	captures, _ := filepath.Glob(filepath.Join(root, "*", "*.pcap"))
	if len(captures) == 0 {
		t.Skip("no lab captures")
	}
	for _, path := range captures {
		scenario := filepath.Base(filepath.Dir(path))
		name := scenario + "/" + filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			r := verdictReport(t, path)
			var kinds []model.IncidentKind
			for _, inc := range r.Summary.Incidents {
				kinds = append(kinds, inc.Kind)
			}
			w, ok := wantCapture[name]
			if !ok {
				w = want[scenario]
			}
			if !slices.Equal(kinds, w) {
				t.Fatalf("incidents %v, want %v (%+v)", kinds, w, r.Summary.Incidents)
			}
			if strings.HasPrefix(scenario, "synack-loss-") && r.Summary.Incidents[0].Unaffected != 2 {
				t.Errorf("handshake outage beside %d established connections, want the 2 long-lived ones", r.Summary.Incidents[0].Unaffected)
			}
			if !strings.HasPrefix(scenario, "perflow-") {
				return
			}
			inc := r.Summary.Incidents[0]
			dead := deadPorts(t, filepath.Join(filepath.Dir(path), "truth.json"))
			byStream := map[int]*model.Connection{}
			for _, c := range r.Connections {
				byStream[c.Stream] = c
			}
			var got []uint16
			for _, s := range inc.Connections {
				// The flows, not the dials that failed beside them (a
				// dial's SYN was never answered).
				if c := byStream[s]; c != nil && c.TCP.ServerToClient.Packets > 0 {
					got = append(got, verdictClientPort(c.Client))
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, dead) {
				t.Errorf("incident's dead flows %v, truth %v", got, dead)
			}
			if inc.Unaffected != 9 {
				t.Errorf("unaffected %d, want the 9 clean flows", inc.Unaffected)
			}
			if !strings.HasPrefix(r.Summary.Headline, "3 of 12 flows to 198.18.2.2:8080 died together at ") {
				t.Errorf("headline %q does not lead with the incident", r.Summary.Headline)
			}
		})
	}
}

// deadPorts are the client ports of the established flows truth.json says
// the router dropped.
func deadPorts(t *testing.T, truth string) []uint16 {
	b, err := os.ReadFile(truth)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		DeadFlows []struct {
			ClientPort uint16 `json:"client_port"`
			Conn       *int   `json:"conn"`
		} `json:"dead_flows"`
	}
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	var ports []uint16
	for _, d := range tr.DeadFlows {
		if d.Conn != nil {
			ports = append(ports, d.ClientPort)
		}
	}
	slices.Sort(ports)
	return ports
}
