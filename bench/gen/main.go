package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/h2pcap/h2pcap/internal/synth"
)

func main() {
	kind := flag.String("case", "short", strings.Join(synth.Cases, ", "))
	n := flag.Int("n", 1000, "connections")
	out := flag.String("o", "", "output pcap")
	keylog := flag.String("keylog", "", "NSS key log to write (tls)")
	open := flag.Int("open", 64, "connections open at once")
	rate := flag.Float64("rate", 0, "connections started per second of capture time (0: as fast as they close)")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "gen: -o is required")
		os.Exit(2)
	}
	if err := run(*kind, synth.Config{N: *n, Open: *open, Rate: *rate}, *out, *keylog); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(kind string, cfg synth.Config, out, keylog string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	var kl io.Writer
	if keylog != "" && kind == "tls" {
		kf, err := os.Create(keylog)
		if err != nil {
			return err
		}
		defer kf.Close()
		kl = kf
	}
	if err := synth.Write(f, kind, cfg, kl); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	return f.Close()
}
