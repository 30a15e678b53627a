package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// exitError carries the process exit code with the message to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit codes: 0 the report was written; 1 the tool failed; 2 the command
// line or an input was bad.
const (
	exitFailure = 1
	exitUsage   = 2
)

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

const usage = `h2pcap: why did my HTTP/2 connection die, and where were the packets lost?

Usage:
  h2pcap analyze [flags] FILE...   analyse capture files (pcap, pcapng, gzipped; - for stdin).
                                   Several files are one capture split by rotation, read in time order.
  h2pcap demo [flags]              analyse the sample capture built into this binary
  h2pcap live -i IFACE [flags]     capture on interfaces until ^C or --duration, then report (root)
  h2pcap version                   the version and the commit it was built from (also --version, -V)

Run 'h2pcap COMMAND -h' for a command's flags.
`

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(args, stdin, stdout, stderr)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "h2pcap: %s\n", oneLine(err.Error()))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: exitUsage, err: errors.New("no command given")}
	}
	switch args[0] {
	case "analyze", "analyse":
		return cmdAnalyze(args[1:], stdin, stdout, stderr)
	case "demo":
		return cmdDemo(args[1:], stdout, stderr)
	case "live":
		return cmdLive(args[1:], stdout, stderr)
	case "version", "--version", "-version", "-V":
		fmt.Fprintln(stdout, version())
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			// h2pcap help analyze: the command's own help.
			switch args[1] {
			case "analyze", "analyse", "demo", "live":
				return dispatch([]string{args[1], "-h"}, stdin, stdout, stderr)
			}
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return unknownCommand(args[0], args)
}

// parseInterspersed lets flags follow the file names, as users type them
// ("h2pcap analyze x.pcap --format json"); the flag package alone stops at
// the first operand.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var operands []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return operands, nil
		}
		operands = append(operands, args[0])
		args = args[1:]
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
