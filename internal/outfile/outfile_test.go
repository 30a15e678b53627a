package outfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestRegularFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		before string // "" for no file
		commit bool
		want   string // content after; "" for no file
	}{
		{"new, committed", "", true, "report"},
		{"new, aborted", "", false, ""},
		{"replaced", "old", true, "report"},
		{"aborted keeps the old one", "old", false, "old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if tc.before != "" {
				os.WriteFile(path, []byte(tc.before), 0o640)
			}
			f, err := Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if f.InPlace() || f.Name() != path {
				t.Errorf("InPlace %v, Name %q", f.InPlace(), f.Name())
			}
			f.WriteString("report")
			if b, _ := os.ReadFile(path); string(b) != tc.before {
				t.Errorf("before Commit the file holds %q, want %q", b, tc.before)
			}
			if tc.commit {
				if err := f.Commit(); err != nil {
					t.Fatal(err)
				}
			} else {
				f.Abort()
			}
			b, err := os.ReadFile(path)
			if tc.want == "" {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("file exists (%q, %v)", b, err)
				}
			} else if string(b) != tc.want {
				t.Errorf("file holds %q, want %q", b, tc.want)
			}
			if tc.before != "" && tc.commit {
				if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
					t.Errorf("mode %v, want the old file's 0640", fi.Mode().Perm())
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestSymlinkStaysLink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.txt")
	link := filepath.Join(dir, "link.txt")
	os.WriteFile(real, []byte("old"), 0o644)
	os.Symlink("real.txt", link)
	f, err := Create(link)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("link replaced: %v %v", fi, err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Errorf("real file holds %q", b)
	}
}

// TestFIFO: a FIFO is written in place and stays a FIFO.
func TestFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(path)
		got <- string(b)
	}()
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.InPlace() {
		t.Error("a FIFO is not written in place")
	}
	f.WriteString("through the pipe")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("reader got %q", s)
	}
	if fi, _ := os.Lstat(path); fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("FIFO is now %v", fi.Mode())
	}
}

func TestErrorsNameThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", "report.txt")
	_, err := Create(path)
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %v should name %s and no temporary file", err, path)
	}
}
