package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// parseArgs parses a command's flags, which may follow its operands, and
// returns the operands. -h or --help prints help (the text before the
// flags) and the flags on stdout and returns flag.ErrHelp. A bad flag is
// one line, with what the user most likely meant (exit 2): the flag
// package's own message and usage dump are not printed.
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer, help string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	operands, err := parseInterspersed(fs, args)
	switch {
	case err == nil:
		return operands, nil
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, help)
		fmt.Fprint(stdout, "\nFlags:\n")
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil, flag.ErrHelp
	}
	return nil, usageError("%s: %s", fs.Name(), flagError(fs, err.Error(), args))
}

// flagError rewrites the flag package's messages, the only form it gives
// them in, in the words and dashes users type.
func flagError(fs *flag.FlagSet, msg string, args []string) string {
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + dashed(name) + flagHint(fs, name, args)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return dashed(name) + " needs a value"
	}
	// invalid value "x" for flag -h2-port: bad port "x"
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			name, why, _ := strings.Cut(rest[i+len(" for flag -"):], ": ")
			return dashed(name) + " " + rest[:i] + ": " + why
		}
	}
	return msg
}

// dashed writes a flag name as users type it: -o, --format.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagHint says what a user who typed the unknown flag name most likely
// meant: tcpdump's and tshark's flags, which the fingers type at 3 a.m.,
// then a defined flag one or two typos away. It starts with its own
// punctuation, or is empty.
func flagHint(fs *flag.FlagSet, name string, args []string) string {
	cmd := fs.Name()
	switch name {
	case "r":
		if cmd == "live" {
			return ": to read a capture file, h2pcap analyze FILE"
		}
		file := "FILE"
		if v := flagValue(args, name); v != "" {
			file = v
		}
		return ": give the capture file as an argument: h2pcap analyze " + file
	case "w":
		if cmd != "live" {
			return ": the report goes to a file with -o FILE (live -w writes the captured packets)"
		}
	case "i":
		if cmd != "live" {
			return ": " + cmd + " reads capture files; to capture on an interface, h2pcap live -i IFACE"
		}
	case "f", "port", "host":
		if cmd == "live" {
			return ": no capture filter expression; live filters with --port PORT and --host ADDR"
		}
		return ": no filter is needed: h2pcap analyses every TCP connection in the capture and finds HTTP/2 by itself (--h2-port PORT forces it)"
	case "Y", "R":
		return ": no display filter is needed: h2pcap analyses every TCP connection and finds HTTP/2 by itself (--h2-port PORT forces it)"
	case "out", "output":
		if fs.Lookup("o") != nil {
			return "; did you mean -o FILE?"
		}
	}
	if near := nearest(name, flagNames(fs)); near != "" {
		return "; did you mean " + dashed(near) + "?"
	}
	return " (h2pcap " + cmd + " -h lists them)"
}

// flagValue returns the argument that follows flag name in args, or its
// value in -name=value; "" if there is none.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			return args[i+1]
		}
	}
	return ""
}

func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	return names
}

// nearest returns the candidate the typed word is most likely a typo of:
// the same but for case, a prefix of it (--form), or at most one edit
// away for a short word and two for a longer one, counting a swap of
// neighbouring letters as one (--fromat). "" when none is near.
func nearest(typed string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		d := editDistance(strings.ToLower(typed), strings.ToLower(c))
		if len(typed) >= 3 && strings.HasPrefix(c, typed) {
			d = min(d, 1)
		}
		limit := 2
		if len(typed) <= 4 {
			limit = 1
		}
		if (len(typed) == 1 || len(c) == 1) && d > 0 {
			continue // any letter is one edit from any other
		}
		if d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours, one each.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// unknownCommand says what a first argument that is no command most
// likely meant: a capture file given without analyze, a flag of
// tcpdump's, a typo.
func unknownCommand(arg string, args []string) error {
	if name, ok := strings.CutPrefix(arg, "-"); ok {
		name = strings.TrimPrefix(name, "-")
		name, _, _ = strings.Cut(name, "=")
		switch name {
		case "r":
			file := "FILE"
			if v := flagValue(args, name); v != "" {
				file = v
			}
			return usageError("unknown flag -r: give the capture file as an argument: h2pcap analyze %s", file)
		case "i":
			return usageError("unknown flag -i: to capture on an interface, h2pcap live -i IFACE")
		}
		if near := nearest(name, []string{"version", "help"}); near != "" {
			return usageError("unknown flag %s; did you mean --%s?", dashed(name), near)
		}
		return usageError("unknown flag %s: flags go after the command (h2pcap --help)", dashed(name))
	}
	if looksLikeCapture(arg) {
		return usageError("unknown command %q: to analyse a capture, h2pcap analyze %s", arg, arg)
	}
	if near := nearest(arg, []string{"analyze", "analyse", "demo", "live", "version", "help"}); near != "" {
		return usageError("unknown command %q; did you mean %s?", arg, near)
	}
	return usageError("unknown command %q (commands: analyze, demo, live, version; h2pcap --help)", arg)
}

// looksLikeCapture reports whether arg names a capture file: one that
// exists, or has a capture's extension.
func looksLikeCapture(arg string) bool {
	if arg == "-" {
		return true
	}
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(arg, ".gz"))) {
	case ".pcap", ".pcapng", ".cap", ".dmp":
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.Mode().IsRegular()
}
