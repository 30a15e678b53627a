package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutputSpecialFiles runs the built binary with -o on a FIFO and on a
// character device made with mknod (a copy of /dev/null: major 1, minor 3),
// as `make bench` does with /dev/null as root, and checks both are still
// what they were: no rename over them, no temporary file beside them.
func TestOutputSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	buildBinaries(t, dir, ".")
	bin := filepath.Join(dir, "h2pcap")

	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(dir, "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			b, _ := os.ReadFile(fifo)
			got <- string(b)
		}()
		if out, err := exec.Command(bin, "analyze", multistream, "-o", fifo).CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		select {
		case s := <-got:
			if !strings.Contains(s, "h2pcap report") {
				t.Errorf("the FIFO's reader got %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("nothing came through the FIFO")
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode().Type() != fs.ModeNamedPipe {
			t.Errorf("the FIFO is now %v (%v)", fi.Mode(), err)
		}
		checkNoTemp(t, dir)
	})

	t.Run("char device", func(t *testing.T) {
		if os.Geteuid() != 0 {
			if os.Getenv("CI") == "true" {
				t.Fatal("needs root (mknod)")
			}
			t.Skip("needs root (mknod)")
		}
		dev := filepath.Join(dir, "null")
		if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, int(mkdev(1, 3))); err != nil {
			t.Fatal("mknod:", err)
		}
		before, _ := os.Lstat(dev)
		for _, format := range []string{"table", "json"} {
			if out, err := exec.Command(bin, "analyze", multistream, "--format", format, "-o", dev).CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		after, err := os.Lstat(dev)
		if err != nil || after.Mode() != before.Mode() || after.Sys().(*syscall.Stat_t).Rdev != before.Sys().(*syscall.Stat_t).Rdev {
			t.Errorf("the device was %v, is now %v (%v)", before.Mode(), after.Mode(), err)
		}
		if after.Sys().(*syscall.Stat_t).Uid != before.Sys().(*syscall.Stat_t).Uid {
			t.Error("the device changed owner")
		}
		checkNoTemp(t, dir)
	})
}

func mkdev(major, minor uint32) uint64 {
	return uint64(major)<<8 | uint64(minor)
}

func checkNoTemp(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestOutputErrorNamesFile: an -o that cannot be written is one line naming
// the file the user gave, not a temporary name.
func TestOutputErrorNamesFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "missing-dir", "review.md")
	code, _, errOut := h2pcap(t, nil, "analyze", "../../testdata/pcaps/blackhole-s2c-h2c/client.pcap", "-o", out)
	if code == 0 || !strings.Contains(errOut, out) || strings.Contains(errOut, ".tmp") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q: want one line naming %s", code, errOut, out)
	}
}
