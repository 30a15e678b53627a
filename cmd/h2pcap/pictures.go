package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/h2pcap/h2pcap/internal/outfile"
	"github.com/h2pcap/h2pcap/model"
	"github.com/h2pcap/h2pcap/report"
)

// pictures says whether the report drawn needs the analysis's picture
// data (analyze.Options.Plot): the HTML page, and a Markdown report
// written to a file, beside which its pictures go.
func (o *outputFlags) pictures() bool {
	toFile := o.output != "" && o.output != "-"
	return o.plot || o.format == "html" || o.format == "markdown" && toFile && picturesDir(o.output) != ""
}

// picturesDir is where a Markdown report's pictures go: review.md's in
// review-files beside it. "" for a path that is not a regular file's
// (a device, standard output), which gets no pictures.
func picturesDir(output string) string {
	if strings.HasPrefix(output, "/dev/") || strings.HasPrefix(output, "/proc/") {
		return ""
	}
	base := filepath.Base(output)
	return strings.TrimSuffix(base, filepath.Ext(base)) + "-files"
}

// writePictures writes the report's pictures into the Markdown report's
// pictures directory, each file whole or not at all, and returns the
// directory as the report links it (relative to the report); "" when
// there are none.
func writePictures(output string, r *model.Report) (string, error) {
	name := picturesDir(output)
	pics := report.Pictures(r)
	if name == "" || len(pics) == 0 {
		return "", nil
	}
	dir := filepath.Join(filepath.Dir(output), name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("write report pictures: %w", err)
	}
	for _, p := range pics {
		f, err := outfile.Create(filepath.Join(dir, p.Name))
		if err != nil {
			return "", fmt.Errorf("write report picture: %w", err)
		}
		if _, err := f.Write(p.SVG); err != nil {
			f.Abort()
			return "", fmt.Errorf("write report picture %s: %w", f.Name(), err)
		}
		if err := f.Commit(); err != nil {
			return "", fmt.Errorf("write report picture: %w", err)
		}
	}
	return name, nil
}
