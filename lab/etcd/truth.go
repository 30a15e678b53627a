package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Election is one term a member won, from the members' own logs.
type Election struct {
	Term   uint64    `json:"term"`
	Leader string    `json:"leader"` // member name
	ID     string    `json:"leader_id"`
	Time   time.Time `json:"time"` // the winner's "became leader" line
	// Previous is the leader of the term before (from the logs); empty
	// for the first election.
	Previous string `json:"previous_leader,omitempty"`
	// LoggedBy lists each member's "elected leader" line for the term.
	LoggedBy map[string]time.Time `json:"logged_by"`
}

// Member is one etcd member of the scenario.
type Member struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Address string `json:"address"` // its IP
	Capture string `json:"capture"` // its interface's capture file
}

var (
	reBecame  = regexp.MustCompile(`([0-9a-f]+) became leader at term (\d+)`)
	reElected = regexp.MustCompile(`elected leader ([0-9a-f]+) at term (\d+)`)
)

// zapLine is what truth reads of a member's zap JSON log line.
type zapLine struct {
	TS  string `json:"ts"`
	Msg string `json:"msg"`
}

func parseTS(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// truth writes the scenario's truth.json from the members' logs, the
// runner's fault log and the client's log.
func truth(args []string) error {
	fs := flag.NewFlagSet("truth", flag.ExitOnError)
	scenario := fs.String("scenario", "", "scenario name")
	desc := fs.String("description", "", "what the scenario does")
	logs := fs.String("logs", "", "name=member log,...")
	members := fs.String("members", "", "name=id=ip=capture,...")
	faults := fs.String("faults", "", "the runner's fault log (JSON lines)")
	clientLog := fs.String("client-log", "", "the etcd client's log")
	expect := fs.String("expect", "{}", "the expect object (JSON)")
	faulty := fs.String("faulty", "", "the member whose link the fault was on")
	wantChange := fs.Bool("want-leader-change", false, "fail unless the leader changed while the fault was on")
	wantError := fs.String("want-error", "", "fail unless a client logged an error containing this")
	out := fs.String("out", "truth.json", "output file")
	fs.Parse(args)

	// transport and server: the etcd clients' gRPC (h2c on 2379), which
	// the h2 tests compare with tshark's frame counts (-d tcp.port==2379,http2).
	t := map[string]any{"scenario": *scenario, "lab": "etcd", "description": *desc, "faulty_member": *faulty,
		"transport": "h2c", "server": "198.18.11.2:2379"}
	var ms []Member
	names := map[string]string{} // id -> name
	for _, m := range strings.Split(*members, ",") {
		p := strings.Split(m, "=")
		if len(p) != 4 {
			return fmt.Errorf("--members: %q", m)
		}
		ms = append(ms, Member{Name: p[0], ID: p[1], Address: p[2], Capture: p[3]})
		names[p[1]] = p[0]
	}
	t["members"] = ms

	byTerm := map[uint64]*Election{}
	for _, l := range strings.Split(*logs, ",") {
		name, file, _ := strings.Cut(l, "=")
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var z zapLine
			if json.Unmarshal(sc.Bytes(), &z) != nil {
				continue
			}
			ts, err := parseTS(z.TS)
			if err != nil {
				continue
			}
			if m := reBecame.FindStringSubmatch(z.Msg); m != nil {
				term, _ := strconv.ParseUint(m[2], 10, 64)
				e := election(byTerm, term)
				e.ID, e.Leader, e.Time = m[1], names[m[1]], ts
			}
			if m := reElected.FindStringSubmatch(z.Msg); m != nil {
				term, _ := strconv.ParseUint(m[2], 10, 64)
				e := election(byTerm, term)
				e.LoggedBy[name] = ts
				if e.ID == "" {
					e.ID, e.Leader = m[1], names[m[1]]
				}
			}
		}
		f.Close()
	}
	var terms []uint64
	for term := range byTerm {
		terms = append(terms, term)
	}
	sort.Slice(terms, func(i, j int) bool { return terms[i] < terms[j] })
	var els []*Election
	for i, term := range terms {
		e := byTerm[term]
		if i > 0 {
			e.Previous = byTerm[terms[i-1]].Leader
		}
		els = append(els, e)
	}
	t["elections"] = els

	var fl []map[string]any
	if b, err := os.ReadFile(*faults); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil {
				fl = append(fl, m)
			}
		}
	}
	t["faults"] = fl

	// The client's errors, counted per operation, gRPC code and message:
	// what h2pcap's gRPC status counts must equal.
	counts := map[string]int{}
	var errs []logLine
	dials := map[string][]string{} // client log -> its connections (local -> server)
	for _, cl := range strings.Split(*clientLog, ",") {
		if cl == "" {
			continue
		}
		b, err := os.ReadFile(cl)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(cl), ".log")
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var l logLine
			if json.Unmarshal([]byte(line), &l) != nil {
				continue
			}
			if l.Op == "dial" && l.Level == "info" {
				dials[name] = append(dials[name], l.Time.Format(time.RFC3339Nano)+" "+l.Msg)
			}
			if l.Level != "error" {
				continue
			}
			l.Client = name
			errs = append(errs, l)
			counts[name+" "+l.Op+" "+l.Code+": "+l.Msg]++
		}
	}
	t["client_dials"] = dials
	t["client_errors"] = errs
	t["client_error_counts"] = counts

	var ex map[string]any
	if err := json.Unmarshal([]byte(*expect), &ex); err != nil {
		return fmt.Errorf("--expect: %w", err)
	}
	t["expect"] = ex

	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	if *wantError != "" {
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e.Msg+" "+e.Error, *wantError)
		}
		if !found {
			return fmt.Errorf("no client error says %q", *wantError)
		}
	}
	if *wantChange {
		// A leader change while a fault was on: a term won after the
		// first fault started.
		if len(fl) == 0 {
			return fmt.Errorf("no fault recorded")
		}
		start, _ := parseTS(fmt.Sprint(fl[0]["start"]))
		for _, e := range els {
			if e.Time.After(start) {
				return nil
			}
		}
		return fmt.Errorf("no leader change after the fault started at %s", start.Format(time.RFC3339Nano))
	}
	return nil
}

func election(m map[uint64]*Election, term uint64) *Election {
	e := m[term]
	if e == nil {
		e = &Election{Term: term, LoggedBy: map[string]time.Time{}}
		m[term] = e
	}
	return e
}
