package tls

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// Secrets are what a key log says about one connection, found by its
// client random. TLS 1.2 needs MasterSecret; TLS 1.3 needs the handshake
// traffic secrets for the encrypted handshake and the application traffic
// secrets (generation 0; KeyUpdate derives the next ones) for the rest.
type Secrets struct {
	MasterSecret []byte // CLIENT_RANDOM

	ClientHandshakeTrafficSecret []byte // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshakeTrafficSecret []byte // SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTrafficSecret0         []byte // CLIENT_TRAFFIC_SECRET_0
	ServerTrafficSecret0         []byte // SERVER_TRAFFIC_SECRET_0
	ClientEarlyTrafficSecret     []byte // CLIENT_EARLY_TRAFFIC_SECRET: TLS 1.3 0-RTT data
}

// KeyLog holds the secrets of an NSS key log (the SSLKEYLOGFILE format),
// by client random. The zero value is empty and ready to use.
type KeyLog struct {
	byRandom map[[32]byte]*Secrets
	order    [][32]byte // first-seen order, for trial decryption without a handshake
}

// KeyLogError is a malformed key log line. Error reads
// "keylog.txt:12: bad hex in client random", or "line 12: ..." when the
// log has no file name.
type KeyLogError struct {
	File string // set by ReadKeyLogFile
	Line int    // 1-based
	Msg  string
}

func (e *KeyLogError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// maxKeyLogLine bounds one line: the longest valid one is a label, 64 hex
// digits and 96 more, far below it.
const maxKeyLogLine = 4096

// ParseKeyLog reads an NSS key log. Comments (#) and blank lines are
// skipped, and so are labels this package has no use for (EXPORTER_SECRET,
// EARLY_EXPORTER_SECRET, RSA, and ones yet to be invented), as
// Wireshark does: key logs are appended to by many programs. A line with a
// known label but the wrong shape is an error naming its line, since a
// silently dropped key shows up much later as "no key" for a connection.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	k := &KeyLog{}
	if err := k.read(r); err != nil {
		return nil, err
	}
	return k, nil
}

// ReadKeyLogFile reads the key log at path; errors name the file.
func ReadKeyLogFile(path string) (*KeyLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("key log: %w", err)
	}
	defer f.Close()
	k, err := ParseKeyLog(f)
	if err != nil {
		if ke, ok := err.(*KeyLogError); ok {
			ke.File = path
			return nil, ke
		}
		return nil, fmt.Errorf("key log %s: %w", path, err)
	}
	return k, nil
}

// AddDSB adds the secrets of a pcapng Decryption Secrets Block of type TLS
// key log (0x544c534b), whose data is a key log.
func (k *KeyLog) AddDSB(data []byte) error {
	if err := k.read(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("decryption secrets block: %w", err)
	}
	return nil
}

// DSBTypeTLSKeyLog is the pcapng Decryption Secrets Block type of a TLS key log.
const DSBTypeTLSKeyLog = 0x544c534b

// Merge adds every secret of o to k; o's win where both have one.
func (k *KeyLog) Merge(o *KeyLog) {
	if o == nil {
		return
	}
	for _, cr := range o.order {
		s := k.entry(cr)
		src := o.byRandom[cr]
		for i, p := range s.fields() {
			if v := *src.fields()[i]; v != nil {
				*p = v
			}
		}
	}
}

// Lookup returns the secrets for a client random.
func (k *KeyLog) Lookup(clientRandom [32]byte) (*Secrets, bool) {
	if k == nil {
		return nil, false
	}
	s, ok := k.byRandom[clientRandom]
	return s, ok
}

// Len returns the number of connections (client randoms) in the log.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.order)
}

func (s *Secrets) fields() [6]*[]byte {
	return [6]*[]byte{&s.MasterSecret, &s.ClientHandshakeTrafficSecret, &s.ServerHandshakeTrafficSecret,
		&s.ClientTrafficSecret0, &s.ServerTrafficSecret0, &s.ClientEarlyTrafficSecret}
}

func (k *KeyLog) entry(cr [32]byte) *Secrets {
	if k.byRandom == nil {
		k.byRandom = map[[32]byte]*Secrets{}
	}
	s := k.byRandom[cr]
	if s == nil {
		s = &Secrets{}
		k.byRandom[cr] = s
		k.order = append(k.order, cr)
	}
	return s
}

func (k *KeyLog) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxKeyLogLine)
	line := 0
	for sc.Scan() {
		line++
		if msg := k.line(sc.Text()); msg != "" {
			return &KeyLogError{Line: line, Msg: msg}
		}
	}
	if err := sc.Err(); err != nil {
		if err == bufio.ErrTooLong {
			return &KeyLogError{Line: line + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxKeyLogLine)}
		}
		return fmt.Errorf("reading key log: %w", err)
	}
	return nil
}

// line parses one line and returns what is wrong with it, or "".
func (k *KeyLog) line(l string) string {
	l = strings.TrimSpace(l)
	if l == "" || l[0] == '#' {
		return ""
	}
	f := strings.Fields(l)
	var field func(*Secrets) *[]byte
	secretLen := []int{32, 48} // TLS 1.3: the suite's hash size
	switch f[0] {
	case "CLIENT_RANDOM":
		field = func(s *Secrets) *[]byte { return &s.MasterSecret }
		secretLen = []int{48}
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		field = func(s *Secrets) *[]byte { return &s.ClientHandshakeTrafficSecret }
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		field = func(s *Secrets) *[]byte { return &s.ServerHandshakeTrafficSecret }
	case "CLIENT_TRAFFIC_SECRET_0":
		field = func(s *Secrets) *[]byte { return &s.ClientTrafficSecret0 }
	case "SERVER_TRAFFIC_SECRET_0":
		field = func(s *Secrets) *[]byte { return &s.ServerTrafficSecret0 }
	case "CLIENT_EARLY_TRAFFIC_SECRET":
		field = func(s *Secrets) *[]byte { return &s.ClientEarlyTrafficSecret }
	default:
		// EXPORTER_SECRET, EARLY_EXPORTER_SECRET, RSA, or unknown: not
		// needed to decrypt records.
		return ""
	}
	if len(f) != 3 {
		return fmt.Sprintf("%s: want 2 fields after the label, have %d", f[0], len(f)-1)
	}
	cr, err := hex.DecodeString(f[1])
	if err != nil {
		return "bad hex in client random"
	}
	if len(cr) != 32 {
		return fmt.Sprintf("client random is %d bytes, want 32", len(cr))
	}
	sec, err := hex.DecodeString(f[2])
	if err != nil {
		return "bad hex in secret"
	}
	okLen := false
	for _, n := range secretLen {
		okLen = okLen || len(sec) == n
	}
	if !okLen {
		return fmt.Sprintf("%s secret is %d bytes, want %v", f[0], len(sec), secretLen)
	}
	*field(k.entry([32]byte(cr))) = sec
	return ""
}
