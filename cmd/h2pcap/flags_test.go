package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// A bad command line is said in one line on stderr, exit 2, with what the
// user most likely meant: tcpdump's and tshark's habits, typos.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the whole of stderr, less "h2pcap: " and the newline
	}{
		{[]string{"analyze", "-r", "cap.pcap"}, "analyze: unknown flag -r: give the capture file as an argument: h2pcap analyze cap.pcap"},
		{[]string{"analyze", "-r"}, "analyze: unknown flag -r: give the capture file as an argument: h2pcap analyze FILE"},
		{[]string{"analyze", "x.pcap", "-w", "out.pcap"}, "analyze: unknown flag -w: the report goes to a file with -o FILE (live -w writes the captured packets)"},
		{[]string{"analyze", "-i", "eth0"}, "analyze: unknown flag -i: analyze reads capture files; to capture on an interface, h2pcap live -i IFACE"},
		{[]string{"analyze", "-f", "port 6443", "x.pcap"}, "analyze: unknown flag -f: no filter is needed: h2pcap analyses every TCP connection in the capture and finds HTTP/2 by itself (--h2-port PORT forces it)"},
		{[]string{"analyze", "x.pcap", "-Y", "http2"}, "analyze: unknown flag -Y: no display filter is needed: h2pcap analyses every TCP connection and finds HTTP/2 by itself (--h2-port PORT forces it)"},
		{[]string{"analyze", "--port", "6443", "x.pcap"}, "analyze: unknown flag --port: no filter is needed: h2pcap analyses every TCP connection in the capture and finds HTTP/2 by itself (--h2-port PORT forces it)"},
		{[]string{"analyze", "x.pcap", "--fromat", "json"}, "analyze: unknown flag --fromat; did you mean --format?"},
		{[]string{"analyze", "x.pcap", "-format=jsn", "--formt", "json"}, "analyze: unknown flag --formt; did you mean --format?"}, // the first bad flag is said
		{[]string{"analyze", "--form", "json"}, "analyze: unknown flag --form; did you mean --format?"},
		{[]string{"analyze", "--keylogs", "k.txt"}, "analyze: unknown flag --keylogs; did you mean --keylog?"},
		{[]string{"analyze", "--h2port", "80"}, "analyze: unknown flag --h2port; did you mean --h2-port?"},
		{[]string{"analyze", "-O", "r.txt"}, "analyze: unknown flag -O; did you mean -o?"},
		{[]string{"analyze", "--output", "r.txt"}, "analyze: unknown flag --output; did you mean -o FILE?"},
		{[]string{"analyze", "--zzz"}, "analyze: unknown flag --zzz (h2pcap analyze -h lists them)"},
		{[]string{"analyze", "--format"}, "analyze: --format needs a value"},
		{[]string{"analyze", "--h2-port", "http", "x.pcap"}, `analyze: --h2-port "http": bad port "http"`},
		{[]string{"analyze"}, "analyze: no capture file given (h2pcap analyze FILE...; -h for the flags)"},
		{[]string{"live", "-f", "port 6443"}, "live: unknown flag -f: no capture filter expression; live filters with --port PORT and --host ADDR"},
		{[]string{"live", "-r", "x.pcap"}, "live: unknown flag -r: to read a capture file, h2pcap analyze FILE"},
		{[]string{"live", "-i", "eth0", "--prot", "6443"}, "live: unknown flag --prot; did you mean --port?"},
		{[]string{"live"}, "live: no interface given (-i IFACE; any for every interface; -h for the flags)"},
		{[]string{"live", "eth0"}, `live: unexpected argument "eth0" (interfaces are given with -i IFACE; a capture file is read by h2pcap analyze FILE)`},
		{[]string{"demo", "--fromat", "json"}, "demo: unknown flag --fromat; did you mean --format?"},
		{[]string{"demo", "x.pcap"}, "demo takes no file; to analyse x.pcap, h2pcap analyze x.pcap"},
		{[]string{"-r", "cap.pcap"}, "unknown flag -r: give the capture file as an argument: h2pcap analyze cap.pcap"},
		{[]string{"-i", "eth0"}, "unknown flag -i: to capture on an interface, h2pcap live -i IFACE"},
		{[]string{"--verison"}, "unknown flag --verison; did you mean --version?"},
		{[]string{"--format", "json"}, "unknown flag --format: flags go after the command (h2pcap --help)"},
		{[]string{"cap.pcap"}, `unknown command "cap.pcap": to analyse a capture, h2pcap analyze cap.pcap`},
		{[]string{"analyz", "cap.pcap"}, `unknown command "analyz"; did you mean analyze?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate" (commands: analyze, demo, live, version; h2pcap --help)`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := h2pcap(t, nil, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if want := "h2pcap: " + tc.want + "\n"; errOut != want {
				t.Errorf("stderr\n got %q\nwant %q", errOut, want)
			}
		})
	}
}

// Help goes to stdout, exit 0, for every command and every way of asking.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // a line of the help
	}{
		{[]string{"-h"}, "Usage:"},
		{[]string{"--help"}, "Usage:"},
		{[]string{"help"}, "Usage:"},
		{[]string{"analyze", "-h"}, "Usage: h2pcap analyze [flags] FILE..."},
		{[]string{"analyze", "--help"}, "  -format string"},
		{[]string{"analyze", "x.pcap", "--help"}, "  -keylog FILE"},
		{[]string{"help", "analyze"}, "Usage: h2pcap analyze [flags] FILE..."},
		{[]string{"live", "-h"}, "Usage: h2pcap live -i IFACE [flags]"},
		{[]string{"live", "--help"}, "  -port PORT"},
		{[]string{"help", "live"}, "Usage: h2pcap live -i IFACE [flags]"},
		{[]string{"demo", "-h"}, "Usage: h2pcap demo [flags]"},
		{[]string{"demo", "--help"}, "  -format string"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := h2pcap(t, nil, tc.args...)
			if code != 0 || errOut != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", code, errOut)
			}
			if !strings.Contains(out, tc.want+"\n") && !strings.Contains(out, tc.want+" ") && !strings.Contains(out, tc.want+"\t") {
				t.Errorf("stdout does not have %q:\n%s", tc.want, out)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-V"}, {"version"}, {"-version"}} {
		code, out, errOut := h2pcap(t, nil, args...)
		// go test records no VCS information.
		if code != 0 || errOut != "" || !strings.HasPrefix(out, "h2pcap ") || !strings.Contains(out, ", revision unknown, commit time unknown, ") || strings.Count(out, "\n") != 1 {
			t.Errorf("h2pcap %s: exit %d, stdout %q, stderr %q", args[0], code, out, errOut)
		}
	}

	platform := " " + runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build info", nil, "h2pcap unknown, revision unknown, commit time unknown, " + runtime.Version() + platform},
		{"go run", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"h2pcap (devel), revision unknown, commit time unknown, go1.26.8" + platform},
		{"go build in a clean checkout", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "5531d94e1c2a58b0a0b6f4c1e0f1d7b4f6a1e2c3"},
			{Key: "vcs.time", Value: "2026-12-05T21:16:00Z"}, {Key: "vcs.modified", Value: "false"}}},
			"h2pcap (devel), revision 5531d94e1c2a58b0a0b6f4c1e0f1d7b4f6a1e2c3, commit time 2026-12-05T21:16:00Z, go1.26.8" + platform},
		{"go build with changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "5531d94e1c2a58b0a0b6f4c1e0f1d7b4f6a1e2c3"}, {Key: "vcs.time", Value: "2026-12-05T21:16:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			"h2pcap (devel), revision 5531d94e1c2a58b0a0b6f4c1e0f1d7b4f6a1e2c3 (modified), commit time 2026-12-05T21:16:00Z, go1.26.8" + platform},
		{"go install module@v1.2.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}},
			"h2pcap v1.2.0, revision unknown, commit time unknown, go1.26.8" + platform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionString(tc.info, tc.info != nil); got != tc.want {
				t.Errorf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestNearest(t *testing.T) {
	flags := []string{"format", "o", "h2-port", "keylog"}
	for _, tc := range []struct{ typed, want string }{
		{"format", "format"},
		{"FORMAT", "format"},
		{"fromat", "format"}, // a swap is one edit
		{"formta", "format"},
		{"frmat", "format"},
		{"formats", "format"},
		{"form", "format"}, // a prefix
		{"fo", ""},         // too short to be a prefix
		{"fmt", ""},
		{"O", "o"},
		{"x", ""}, // one letter is one edit from any other
		{"h2port", "h2-port"},
		{"key", "keylog"},
		{"keylogfile", ""},
		{"output", ""},
	} {
		if got := nearest(tc.typed, flags); got != tc.want {
			t.Errorf("nearest(%q) = %q, want %q", tc.typed, got, tc.want)
		}
	}
}
