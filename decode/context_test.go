package decode

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

var errStop = errors.New("stop requested")

// TestStopContext: a Source opened with a context stops when it is done,
// with the context's cause, also while a read waits on a pipe that says
// nothing; the packets read before are counted, and a stop before the
// header is an error that wraps the cause.
func TestStopContext(t *testing.T) {
	pkts := samplePackets(t)
	data := writePcap(binary.LittleEndian, false, 1, pkts)
	rec2 := 24 + 16 + len(pkts[0].data) + 16 + len(pkts[1].data) // end of the second record

	for _, tc := range []struct {
		name        string
		written     []byte // what the writer has written when the stop comes
		fifo        bool   // a named pipe opened by path, else an io.Pipe
		wantPackets int    // -1: the open itself is stopped
	}{
		{"pipe quiet after two packets", data[:rec2], false, 2},
		{"pipe mid-packet", data[:rec2+20], false, 2},
		{"pipe before the header", nil, false, -1},
		{"pipe mid-header", data[:10], false, -1},
		{"fifo quiet after two packets", data[:rec2], true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			var (
				src     Source
				err     error
				opened  = make(chan struct{})
				closeWr func()
			)
			if tc.fifo {
				path := filepath.Join(t.TempDir(), "fifo")
				if err := syscall.Mkfifo(path, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
				go func() {
					src, err = OpenContext(ctx, path, 0)
					close(opened)
				}()
				w, werr := os.OpenFile(path, os.O_WRONLY, 0)
				if werr != nil {
					t.Fatal(werr)
				}
				closeWr = func() { w.Close() }
				w.Write(tc.written)
			} else {
				r, w := io.Pipe()
				closeWr = func() { w.Close() }
				go func() {
					src, err = NewReaderContext(ctx, r, "-", 0)
					close(opened)
				}()
				go w.Write(tc.written) // blocks until read: an io.Pipe has no buffer
			}
			defer closeWr()
			if tc.wantPackets < 0 {
				time.Sleep(50 * time.Millisecond) // let the open wait for the header
				cancel(errStop)
				<-opened
				if !errors.Is(err, errStop) {
					t.Fatalf("open error %v, want one that wraps %v", err, errStop)
				}
				return
			}
			<-opened
			if err != nil {
				t.Fatal(err)
			}
			var got int
			for got < tc.wantPackets {
				if _, err := src.Next(); err != nil {
					t.Fatalf("after %d packets: %v", got, err)
				}
				got++
			}
			next := make(chan error, 1)
			go func() {
				_, err := src.Next()
				next <- err
			}()
			select {
			case err := <-next:
				t.Fatalf("Next returned %v while the writer was quiet", err)
			case <-time.After(50 * time.Millisecond):
			}
			cancel(errStop)
			select {
			case err := <-next:
				if err != errStop {
					t.Errorf("Next after the stop = %v, want %v", err, errStop)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Next still blocked after the stop")
			}
			if _, err := src.Next(); err != errStop {
				t.Errorf("Next again = %v, want %v", err, errStop)
			}
			if info := src.Info(); info.Packets != tc.wantPackets || len(info.Warnings) != 0 {
				t.Errorf("info: %d packets, warnings %q; want %d packets and no warning", info.Packets, info.Warnings, tc.wantPackets)
			}
		})
	}

	t.Run("regular file", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		src, err := OpenContext(ctx, writeFile(t, "x.pcap", data), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		cancel(errStop)
		// What the first read buffered is still served: the stop ends the
		// reading, not the packets already in hand.
		got, err := drain(t, src)
		if err != errStop && !(err == nil && len(got) == len(pkts)) {
			t.Errorf("%d packets, err %v", len(got), err)
		}
	})

	t.Run("not done", func(t *testing.T) {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		src, err := OpenContext(ctx, writeFile(t, "x.pcap", data), 0)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		got, err := drain(t, src)
		if err != nil || len(got) != len(pkts) {
			t.Errorf("%d packets, err %v", len(got), err)
		}
	})
}
