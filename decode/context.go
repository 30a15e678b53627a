package decode

import (
	"context"
	"errors"
	"io"
	"os"
)

// OpenContext is Open whose reading stops when ctx is done: from then on
// Next returns context.Cause(ctx), and OpenContext returns an error that
// wraps it if ctx is done before the capture's header was read. This
// holds even while a read is waiting on a pipe or a FIFO that has nothing
// to say (tcpdump -w - on a quiet port), which is what a user's ^C must
// end. The packets read before are counted in Info as usual; saying why
// the capture ended is the caller's business.
func OpenContext(ctx context.Context, path string, input int) (Source, error) {
	return open(ctx, path, input)
}

// NewReaderContext is NewReader that stops as OpenContext does.
func NewReaderContext(ctx context.Context, r io.Reader, name string, input int) (Source, error) {
	return newReader(ctx, r, name, input)
}

// stopped reports whether err is the end ctx asked for, which finish
// hands on as it is rather than as a damaged capture.
func stopped(ctx context.Context, err error) bool {
	return ctx != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx))
}

// stoppable wraps r so that its reads end when ctx is done. A regular
// file's reads never wait for long, so checking ctx before each is
// enough; anything else (a pipe, a FIFO, a terminal, a socket) is read in
// a goroutine of its own.
func stoppable(ctx context.Context, r io.Reader) io.Reader {
	if ctx == nil || ctx.Done() == nil {
		return r
	}
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return &ctxReader{ctx: ctx, r: r}
		}
	}
	return newPipeReader(ctx, r)
}

// ctxReader checks ctx before each read of a reader that does not block.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if c.ctx.Err() != nil {
		return 0, context.Cause(c.ctx)
	}
	return c.r.Read(p)
}

// pipeChunk is the most one read of a pipe takes: Linux's default pipe
// capacity.
const pipeChunk = 64 << 10

// pipeReader reads r in a goroutine of its own, so that a Read waiting for
// a pipe to say something can be given up when ctx is done. That goroutine
// then stays blocked in its read until the pipe's writer writes or closes
// it; for a command that is about to write its report and exit, that
// costs nothing. Two buffers go back and forth between the goroutine and
// Read, so the reading allocates nothing once started.
type pipeReader struct {
	ctx    context.Context
	chunks chan pipeRead // filled by pump
	free   chan []byte   // buffers pump may fill
	cur    []byte        // the buffer being read from, if any
	rest   []byte        // its unread part
	err    error         // the error that ended pump
}

type pipeRead struct {
	buf []byte // the whole buffer; n bytes of it were read
	n   int
	err error
}

func newPipeReader(ctx context.Context, r io.Reader) *pipeReader {
	p := &pipeReader{ctx: ctx, chunks: make(chan pipeRead), free: make(chan []byte, 2)}
	p.free <- make([]byte, pipeChunk)
	p.free <- make([]byte, pipeChunk)
	go p.pump(r)
	return p
}

func (p *pipeReader) pump(r io.Reader) {
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.ctx.Done():
			return
		}
		n, err := r.Read(buf)
		select {
		case p.chunks <- pipeRead{buf: buf, n: n, err: err}:
		case <-p.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *pipeReader) Read(b []byte) (int, error) {
	if p.ctx.Err() != nil {
		return 0, context.Cause(p.ctx)
	}
	for len(p.rest) == 0 {
		if p.cur != nil {
			p.free <- p.cur // never blocks: there are two buffers and room for both
			p.cur = nil
		}
		if p.err != nil {
			return 0, p.err
		}
		select {
		case c := <-p.chunks:
			p.cur, p.rest, p.err = c.buf, c.buf[:c.n], c.err
		case <-p.ctx.Done():
			return 0, context.Cause(p.ctx)
		}
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	return n, nil
}
