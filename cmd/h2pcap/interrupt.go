package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// interruptError is the cause the reading stops with at SIGINT or SIGTERM.
type interruptError struct{ sig os.Signal }

func (e *interruptError) Error() string { return "interrupted by " + signalName(e.sig) }

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// pipeGrace is how long a pipe is read on after the first signal, until
// its writer closes it. A terminal's ^C reaches the whole pipeline, and
// tcpdump -w - answers it by writing out the packets it had buffered
// (without -U, up to the last 4 KiB) before it exits: those are the last
// moments of the capture, the ones the user stopped it for. Waiting for
// them costs nothing when the writer exits, and this long at most when it
// does not.
const pipeGrace = time.Second

// interrupts turns the first SIGINT or SIGTERM into the end of the
// reading, so that the report of what was read is written, and the second
// into an exit at once.
type interrupts struct {
	// files is done at the first signal: a regular file stops there, as
	// does the reading of further inputs. pipes is done pipeGrace later
	// (see pipeGrace). Both end with the same *interruptError.
	files, pipes context.Context
	cancel       []context.CancelCauseFunc
	done         chan struct{}
	sigs         chan os.Signal
}

// catchInterrupts starts catching SIGINT and SIGTERM until stop. It says
// what it does on stderr, which must be safe to write from another
// goroutine. exit ends the process at the second signal.
func catchInterrupts(stderr io.Writer, exit func(code int)) *interrupts {
	files, cancelFiles := context.WithCancelCause(context.Background())
	pipes, cancelPipes := context.WithCancelCause(context.Background())
	ir := &interrupts{
		files: files, pipes: pipes,
		cancel: []context.CancelCauseFunc{cancelFiles, cancelPipes},
		done:   make(chan struct{}),
		sigs:   make(chan os.Signal, 2),
	}
	signal.Notify(ir.sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		var sig os.Signal
		select {
		case sig = <-ir.sigs:
		case <-ir.done:
			return
		}
		cause := &interruptError{sig: sig}
		// Stop first, say so after: the reading may be ending at this
		// moment, and the report must know of the stop it tells of.
		cancelFiles(cause)
		fmt.Fprintf(stderr, "h2pcap: %s: stopping the reading to write the report of what was read (a second %s aborts)\n", signalName(sig), signalName(sig))
		grace := time.NewTimer(pipeGrace)
		defer grace.Stop()
		for {
			select {
			case <-grace.C:
				cancelPipes(cause)
			case sig := <-ir.sigs:
				fmt.Fprintf(stderr, "h2pcap: %s again: aborted, no report written\n", signalName(sig))
				exit(128 + int(sig.(syscall.Signal)))
				return
			case <-ir.done:
				return
			}
		}
	}()
	return ir
}

// stop stops catching the signals: from then on they have their default
// effect.
func (ir *interrupts) stop() {
	signal.Stop(ir.sigs)
	close(ir.done)
	for _, cancel := range ir.cancel {
		cancel(nil) // the reading is over; this frees the contexts
	}
}

// lateSignal is how long a report read from a pipe waits, after the pipe
// ended, for a signal on its way: a ^C reaches the writer and h2pcap at
// once, and the writer's exit can close the pipe before the runtime has
// handed the signal to h2pcap's handler. Without the wait the report of a
// cut capture would not say it was cut. A pipe that ends of itself costs
// this much once.
const lateSignal = 50 * time.Millisecond

// settle waits up to lateSignal for a stop when any of paths is read from
// a pipe (or stdin), so that markLateInterrupt sees a signal sent as the
// pipe closed.
func (ir *interrupts) settle(paths []string) {
	if ir.files.Err() != nil {
		return
	}
	for _, p := range paths {
		if p == "-" || ir.pathContext(p) == ir.pipes {
			t := time.NewTimer(lateSignal)
			defer t.Stop()
			select {
			case <-ir.files.Done():
			case <-t.C:
			}
			return
		}
	}
}

// context returns the context that stops the reading of r: the pipes'
// unless r is a regular file.
func (ir *interrupts) context(r io.Reader) context.Context {
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return ir.files
		}
	}
	return ir.pipes
}

// pathContext is context for the file at path. A path that cannot be
// stat'ed gets the files' context; opening it will say what is wrong.
func (ir *interrupts) pathContext(path string) context.Context {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return ir.pipes
	}
	return ir.files
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
