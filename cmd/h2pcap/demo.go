package main

import (
	"bytes"
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"

	"github.com/h2pcap/h2pcap/analyze"
	"github.com/h2pcap/h2pcap/decode"
)

// sample is the capture `h2pcap demo` analyses; sample/README.md says
// what it holds and what it shows.
//
//go:embed sample/sample.pcap
var sample []byte

const sampleName = "sample.pcap (built in)"

func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var out outputFlags
	out.register(fs)
	rest, err := parseArgs(fs, args, stdout, "Usage: h2pcap demo [flags]\n\nAnalyses the sample capture built into the binary: a Go HTTP/2 client whose\nhealth-check PING went unanswered. For your own capture: h2pcap analyze FILE.\n")
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("demo takes no file; to analyse %s, h2pcap analyze %s", rest[0], rest[0])
	}
	if err := out.check(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "h2pcap: analysing the built-in sample capture (%d bytes)\n", len(sample))
	r, err := analyzeInputs(context.Background(), []string{sampleName}, analyze.Options{}, func(path string, input int) (decode.Source, error) {
		return decode.NewReader(bytes.NewReader(sample), path, input)
	}, nil, nil, false)
	if err != nil {
		return err
	}
	warnInputs(stderr, r)
	return out.write(stdout, r)
}
