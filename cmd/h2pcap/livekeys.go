package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
)

// keylogPoll is how often a live capture looks for lines appended to its
// key logs. A client writes a connection's secrets as it handshakes, while
// the capture already has the handshake: records that pass before the
// next look are not decrypted (decode/tls looks the keys up again once
// the log grows), so the wait is kept short; a stat is cheap.
const keylogPoll = 100 * time.Millisecond

// keylogTail is a live capture's source that also follows its key logs
// (--keylog, SSLKEYLOGFILE), as tail -f does: what clients append while it
// captures is handed on as pcapng Decryption Secrets Blocks are, through
// decode.SecretsSource, and the analysis adds them to its key log.
type keylogTail struct {
	decode.Source
	initial *tls.KeyLog // what the files held at the start; nil without any
	files   []*tailFile
	secrets []decode.DecryptionSecret
	next    time.Time
	now     func() time.Time
}

// tailFile is one followed key log: off is where the next read starts (the
// byte after the last newline read).
type tailFile struct {
	path string
	off  int64
}

// newKeylogTail reads the key logs at paths (and SSLKEYLOGFILE's, if set
// and present) as analyze does, into initial, and returns the source that
// follows them: src, or the one set in Source later. A malformed line in
// what is there at the start is an input error naming file and line; one
// appended later is a warning.
func newKeylogTail(src decode.Source, paths []string) (*keylogTail, error) {
	paths = keyLogPaths(paths)
	t := &keylogTail{Source: src, now: time.Now}
	if len(paths) == 0 {
		return t, nil
	}
	keys := &tls.KeyLog{}
	for _, p := range paths {
		f := &tailFile{path: p}
		b, err := f.read()
		if err != nil {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("keylog: %w", err)}
		}
		k, err := tls.ParseKeyLog(bytes.NewReader(b))
		if err != nil {
			var ke *tls.KeyLogError
			if errors.As(err, &ke) {
				ke.File = p
				err = ke
			}
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("keylog: %w", err)}
		}
		keys.Merge(k)
		t.files = append(t.files, f)
	}
	t.initial = keys
	t.next = t.now().Add(keylogPoll)
	return t, nil
}

// read returns the whole lines appended since the last read. A file that
// shrank was rotated or truncated: it is read again from its start.
func (f *tailFile) read() ([]byte, error) {
	fh, err := os.Open(f.path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < f.off {
		f.off = 0
	}
	if st.Size() == f.off {
		return nil, nil
	}
	b, err := io.ReadAll(io.NewSectionReader(fh, f.off, st.Size()-f.off))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.path, err)
	}
	// A line still being written waits for its newline.
	n := bytes.LastIndexByte(b, '\n') + 1
	f.off += int64(n)
	return b[:n], nil
}

// Next returns the next packet, having looked for new key log lines when
// keylogPoll has passed.
func (t *keylogTail) Next() (*decode.Packet, error) {
	p, err := t.Source.Next()
	if len(t.files) > 0 {
		if now := t.now(); !now.Before(t.next) {
			t.next = now.Add(keylogPoll)
			t.poll()
		}
	}
	return p, err
}

// poll reads what the key logs gained. A file that went away or cannot be
// read is left until it can be: the capture matters more than the keys.
func (t *keylogTail) poll() {
	// The analysis took the earlier lines after the Next that brought
	// them (analyze.ReadSource): only the count must stay.
	for i := range t.secrets {
		t.secrets[i].Data = nil
	}
	for _, f := range t.files {
		b, err := f.read()
		if err != nil || len(b) == 0 {
			continue
		}
		t.secrets = append(t.secrets, decode.DecryptionSecret{Type: tls.DSBTypeTLSKeyLog, Data: b})
	}
}

// Secrets returns the key log lines appended since the capture began, one
// entry per file and look that found some.
func (t *keylogTail) Secrets() []decode.DecryptionSecret { return t.secrets }
