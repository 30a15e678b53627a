package main

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// --format html writes one self-contained page; --format markdown -o
// review.md writes its pictures into review-files beside it and links
// each; the JSON report has no picture data unless asked.
func TestPictureOutputs(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "pcaps", "too-many-pings", "client.pcap")
	dir := t.TempDir()

	page := filepath.Join(dir, "review.html")
	if code, _, errOut := h2pcap(t, nil, "analyze", "--format", "html", "-o", page, src); code != 0 {
		t.Fatalf("html: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<svg id="timeline"`, `class="seqgraph"`, `id="headline"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	md := filepath.Join(dir, "review.md")
	if code, _, errOut := h2pcap(t, nil, "analyze", "--format", "markdown", "-o", md, src); code != 0 {
		t.Fatalf("markdown: exit %d: %s", code, errOut)
	}
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`!\[[^]]*\]\((review-files/[^)]+\.svg)\)`).FindAllStringSubmatch(string(text), -1)
	if len(links) < 2 {
		t.Fatalf("the Markdown report links %d pictures, want the timeline and a graph:\n%s", len(links), text)
	}
	for _, l := range links {
		svg, err := os.ReadFile(filepath.Join(dir, l[1]))
		if err != nil || len(svg) == 0 {
			t.Errorf("linked picture %s: %v", l[1], err)
			continue
		}
		// A standalone SVG is XML: an image viewer rejects it otherwise.
		d := xml.NewDecoder(bytes.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s is not well-formed XML: %v", l[1], err)
				break
			}
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "review-files"))
	if len(entries) != len(links) {
		t.Errorf("%d files in review-files, %d linked", len(entries), len(links))
	}

	// Markdown on standard output has no directory to put pictures in.
	_, out, _ := h2pcap(t, nil, "analyze", "--format", "markdown", src)
	if strings.Contains(out, "![") {
		t.Error("markdown on standard output links pictures")
	}
	_, out, _ = h2pcap(t, nil, "analyze", "--format", "json", src)
	if strings.Contains(out, `"plot"`) {
		t.Error("the JSON report has picture data without being asked")
	}
	_, out, _ = h2pcap(t, nil, "analyze", "--format", "json", "--plot-data", src)
	if !strings.Contains(out, `"plot"`) || !strings.Contains(out, `"segments_seen"`) {
		t.Error("--plot-data: the JSON report has no picture data")
	}
}
