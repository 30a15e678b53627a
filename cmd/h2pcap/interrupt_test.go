package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// The test binary is also the slow capture writer of TestInterrupt, as
// tcpdump -w - is in `tcpdump -w - | h2pcap analyze -`.
func TestMain(m *testing.M) {
	if src := os.Getenv("H2PCAP_TEST_SLOW_WRITER"); src != "" {
		slowWriter(src, os.Getenv("H2PCAP_TEST_SLOW_WRITER_OUT"), os.Getenv("H2PCAP_TEST_SLOW_WRITER_SIGINT") == "ignore")
	}
	os.Exit(m.Run())
}

// slowWriter writes the capture at src to out (standard output if empty)
// as a live capture would: the first half at once, then a packet every
// 50 ms, then nothing, never closing. After each packet it says on stderr
// how many it wrote. With ignoreInt it outlives SIGINT, as a writer that
// does not stop at ^C (or gets no ^C) does; else SIGINT kills it, as it
// ends tcpdump.
func slowWriter(src, out string, ignoreInt bool) {
	if ignoreInt {
		signal.Ignore(os.Interrupt)
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "slow writer:", err)
		os.Exit(3)
	}
	c := readCapture(src, fail)
	w := os.Stdout
	if out != "" {
		f, err := os.OpenFile(out, os.O_WRONLY, 0) // a FIFO: waits for its reader
		if err != nil {
			fail(err)
		}
		w = f
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(c.snaplen, c.linkType); err != nil {
		fail(err)
	}
	for i := range c.data {
		if i >= len(c.data)/2 {
			time.Sleep(50 * time.Millisecond)
		}
		if err := pw.WritePacket(c.ci[i], c.data[i]); err != nil {
			fail(err)
		}
		fmt.Fprintf(os.Stderr, "wrote %d\n", i+1)
	}
	select {}
}

// readCapture is readPcap for a process that is not a test.
func readCapture(path string, fail func(error)) *capture {
	f, err := os.Open(path)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		fail(err)
	}
	c := &capture{linkType: r.LinkType(), snaplen: r.Snaplen()}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			return c
		}
		c.data, c.ci = append(c.data, data), append(c.ci, ci)
	}
}

// TestInterrupt runs `slow-writer | h2pcap analyze - --format json` in a
// process group of its own and sends SIGINT to the group, as a terminal's
// ^C does: h2pcap must write the report of the packets read so far, with
// a warning that says where it stopped, and exit 0; a second SIGINT must
// end it at once with 130 and no report.
func TestInterrupt(t *testing.T) {
	const src = "../../testdata/pcaps/blackhole-s2c-h2c/client.pcap"
	total := len(readPcap(t, src).data)
	bin := t.TempDir()
	buildBinaries(t, bin, ".")
	h2pcapBin := filepath.Join(bin, "h2pcap")

	for _, tc := range []struct {
		name      string
		ignoreInt bool // the writer outlives SIGINT: h2pcap stops reading a pipe that stays open
		fifo      bool // h2pcap reads a named pipe given as a file, not stdin
		second    bool // a second SIGINT 100 ms after the first
	}{
		{name: "writer ends at SIGINT"},
		{name: "writer goes on", ignoreInt: true},
		{name: "fifo", ignoreInt: true, fifo: true},
		{name: "second SIGINT aborts", ignoreInt: true, second: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writer := exec.Command(os.Args[0], "-test.run=^$")
			writer.Env = append(os.Environ(), "H2PCAP_TEST_SLOW_WRITER="+src)
			if tc.ignoreInt {
				writer.Env = append(writer.Env, "H2PCAP_TEST_SLOW_WRITER_SIGINT=ignore")
			}
			writer.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			input := "-"
			var pr, pw *os.File
			if tc.fifo {
				input = filepath.Join(t.TempDir(), "capture.fifo")
				if err := syscall.Mkfifo(input, 0o600); err != nil {
					t.Fatal(err)
				}
				writer.Env = append(writer.Env, "H2PCAP_TEST_SLOW_WRITER_OUT="+input)
			} else {
				var err error
				if pr, pw, err = os.Pipe(); err != nil {
					t.Fatal(err)
				}
				writer.Stdout = pw
			}
			progress, err := writer.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := writer.Start(); err != nil {
				t.Fatal(err)
			}
			pgid := writer.Process.Pid
			t.Cleanup(func() {
				syscall.Kill(-pgid, syscall.SIGKILL)
				writer.Wait()
			})

			var stdout, stderr bytes.Buffer
			h := exec.Command(h2pcapBin, "analyze", input, "--format", "json")
			h.Stdin, h.Stdout, h.Stderr = pr, &stdout, &stderr
			h.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
			if err := h.Start(); err != nil {
				t.Fatal(err)
			}
			if pr != nil {
				pr.Close()
				pw.Close()
			}

			// Wait until the writer is in its slow part, a few packets in.
			written := 0
			lines := bufio.NewScanner(progress)
			for written < total/2+3 && lines.Scan() {
				n, err := strconv.Atoi(strings.TrimPrefix(lines.Text(), "wrote "))
				if err != nil {
					t.Fatalf("writer says %q", lines.Text())
				}
				written = n
			}
			if written < total/2+3 {
				t.Fatalf("writer stopped after %d packets", written)
			}
			go func() { // keep the writer's stderr flowing
				for lines.Scan() {
				}
			}()
			sent := time.Now()
			if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			if tc.second {
				time.Sleep(100 * time.Millisecond)
				syscall.Kill(-pgid, syscall.SIGINT)
			}
			done := make(chan error, 1)
			go func() { done <- h.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				h.Process.Kill()
				t.Fatalf("h2pcap still running 10 s after SIGINT; stderr:\n%s", stderr.String())
			}
			took := time.Since(sent)
			code := h.ProcessState.ExitCode()
			t.Logf("exit %d after %v; stderr:\n%s", code, took, stderr.String())

			if tc.second {
				if code != 130 {
					t.Errorf("exit %d after a second SIGINT, want 130", code)
				}
				if stdout.Len() != 0 {
					t.Errorf("a report was written after all: %d bytes", stdout.Len())
				}
				if took > pipeGrace/2 {
					t.Errorf("took %v to abort", took)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d, want 0", code)
			}
			var r model.Report
			if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
				t.Fatalf("no JSON report: %v\n%s", err, stdout.String())
			}
			if len(r.Inputs) != 1 {
				t.Fatalf("%d inputs", len(r.Inputs))
			}
			in := r.Inputs[0]
			// The pipe holds what the writer wrote: h2pcap reads it before it
			// stops (the last packet may be cut between its header and data).
			if in.Packets < written-1 || in.Packets >= total {
				t.Errorf("%d packets read; the writer had written %d of %d at SIGINT", in.Packets, written, total)
			}
			if len(r.Connections) == 0 {
				t.Error("no connection in the report")
			}
			name := map[bool]string{true: input, false: "stdin"}[tc.fifo]
			want := fmt.Sprintf("interrupted by SIGINT while reading %s, after frame %d (capture time %s)", name, in.Packets, captureTime(in.Last))
			var found bool
			for _, w := range in.Warnings {
				found = found || strings.HasPrefix(w, want)
			}
			if !found {
				t.Errorf("warnings %q, want one starting %q", in.Warnings, want)
			}
			if !strings.Contains(stderr.String(), "h2pcap: warning: input 0 ("+name+"): "+want) {
				t.Errorf("stderr does not have the warning %q", want)
			}
			if tc.ignoreInt && took > pipeGrace+2*time.Second {
				t.Errorf("took %v to stop reading a pipe whose writer goes on", took)
			}
		})
	}
}

// TestInterruptedInputs: a stop while several files are read ends the
// reading where it came; the warning names the input it stopped in and
// those not read, and every report format carries it.
func TestInterruptedInputs(t *testing.T) {
	parts := splitPcap(t, retransPcap, t.TempDir(), 3)
	for _, tc := range []struct {
		name   string
		stopAt int // the stop comes as input stopAt is opened to be read
		open   int // or opened before: 1 for its first packet's time, 2 to probe its packets
		inputs int // in the report
		want   string
	}{
		{"before the first", 0, 0, 1, "interrupted by SIGINT before anything was read from " + parts[0] + "; not read: " + parts[1] + ", " + parts[2]},
		{"before the second", 1, 0, 2, "interrupted by SIGINT before anything was read from " + parts[1] + "; not read: " + parts[2]},
		{"before the third", 2, 0, 3, "interrupted by SIGINT before anything was read from " + parts[2]},
		{"while they are ordered", 1, 1, 1, "interrupted by SIGINT before anything was read from " + parts[0] + "; not read: " + parts[1] + ", " + parts[2]},
		{"while their packets are compared", 1, 2, 1, "interrupted by SIGINT before anything was read from " + parts[0] + "; not read: " + parts[1] + ", " + parts[2]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			// Each file is opened three times: for its first packet's
			// time (timeOrder), to see whether the files hold the same
			// packets (samePackets), then to be read.
			stopOpen := 3
			if tc.open > 0 {
				stopOpen = tc.open
			}
			opened := map[string]int{}
			open := func(path string, input int) (decode.Source, error) {
				opened[path]++
				if input == tc.stopAt && opened[path] == stopOpen {
					cancel(&interruptError{sig: os.Interrupt})
				}
				return decode.OpenContext(ctx, path, input)
			}
			r, err := analyzeInputs(ctx, parts, analyze.Options{}, open, nil, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Inputs) != tc.inputs {
				t.Fatalf("%d inputs in the report, want %d", len(r.Inputs), tc.inputs)
			}
			cutAt := tc.inputs - 1
			for i, in := range r.Inputs[:cutAt] {
				// The capture holds copies, which have a warning of their
				// own; the interruption is said on the input it cut.
				if slices.ContainsFunc(in.Warnings, func(w string) bool { return strings.HasPrefix(w, "interrupted") }) || in.Packets == 0 {
					t.Errorf("input %d read before the stop: %d packets, warnings %q", i, in.Packets, in.Warnings)
				}
			}
			cut := r.Inputs[cutAt]
			if cut.Path != parts[cutAt] || len(cut.Warnings) != 1 || cut.Warnings[0] != tc.want {
				t.Fatalf("input %d: %s, warnings %q; want %q", cutAt, cut.Path, cut.Warnings, tc.want)
			}
			for _, format := range report.Formats {
				var b bytes.Buffer
				if err := report.Write(&b, r, format); err != nil {
					t.Fatal(err)
				}
				if want, _ := json.Marshal(tc.want); !strings.Contains(b.String(), tc.want) && !bytes.Contains(b.Bytes(), want) {
					t.Errorf("%s report does not carry the warning", format)
				}
			}
		})
	}
}

// A stop that comes after the reading ended, before the report is written
// (the writer killed by the same ^C closed its pipe first), still marks
// the last input, once.
func TestLateInterrupt(t *testing.T) {
	stop, cancel := context.WithCancelCause(context.Background())
	r := &model.Report{Inputs: []*decode.InputInfo{{Path: "a.pcap", Format: "pcap", Packets: 3}, {Path: "-", Format: "pcap", Packets: 7}}}
	markLateInterrupt(stop, r)
	if len(r.Inputs[1].Warnings) != 0 {
		t.Fatalf("marked without a stop: %q", r.Inputs[1].Warnings)
	}
	cancel(&interruptError{sig: os.Interrupt})
	markLateInterrupt(stop, r)
	markLateInterrupt(stop, r)
	w := r.Inputs[1].Warnings
	if len(w) != 1 || !strings.HasPrefix(w[0], "interrupted by SIGINT while reading stdin, after frame 7") || len(r.Inputs[0].Warnings) != 0 {
		t.Errorf("warnings %q / %q", r.Inputs[0].Warnings, w)
	}
}
