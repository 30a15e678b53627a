package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/h2pcap/h2pcap/internal/synth"
)

func main() {
	kind := flag.String("case", "short", strings.Join(synth.Cases, ", "))
	n := flag.Int("n", 1000, "connections")
	out := flag.String("o", "", "output pcap")
	keylog := flag.String("keylog", "", "NSS key log to write (tls)")
	open := flag.Int("open", 64, "connections open at once")
	rate := flag.Float64("rate", 0, "connections started per second of capture time (0: as fast as they close)")
	point2 := flag.String("point2", "", "also write the capture as a second capture point nearer the servers took it (synth.SecondPoint) to this pcap")
	delay := flag.Duration("delay", 2*time.Microsecond, "with -point2: the path delay between the two points")
	miss := flag.Int("miss", 0, "with -point2: the second point lacks one packet in this many (0: none)")
	from := flag.String("from", "", "write no capture: take this pcap (Ethernet, a real one such as make bench's bulk.pcap) as the first point, and write its -point2 and -further points")
	further := flag.String("further", "", "with -point2: comma-separated pcaps each written as a further point past the one before (delay further along, lacking none): four points with -point2 b.pcap -further c.pcap,d.pcap")
	flag.Parse()
	base := *from
	switch {
	case base != "" && *point2 == "":
		fmt.Fprintln(os.Stderr, "gen: -from needs -point2")
		os.Exit(2)
	case base == "" && *out == "":
		fmt.Fprintln(os.Stderr, "gen: -o is required")
		os.Exit(2)
	case base == "":
		if err := run(*kind, synth.Config{N: *n, Open: *open, Rate: *rate}, *out, *keylog); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		base = *out
	}
	if *point2 != "" {
		if err := second(base, *point2, *delay, *miss); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		prev := *point2
		for _, next := range strings.Split(*further, ",") {
			if next == "" {
				continue
			}
			if err := second(prev, next, *delay, 0); err != nil {
				fmt.Fprintln(os.Stderr, "gen:", err)
				os.Exit(1)
			}
			prev = next
		}
	}
}

// second writes capture in as the second point's, to out.
func second(in, out string, delay time.Duration, miss int) error {
	r, err := os.Open(in)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := synth.SecondPoint(r, w, delay, miss); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	return w.Close()
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
