package analyze

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/h2pcap/h2pcap/decode"
	"github.com/h2pcap/h2pcap/decode/tls"
	"github.com/h2pcap/h2pcap/model"
)

// AddKeys adds TLS secrets to the key log the analysis decrypts with. It is
// the one way keys come in: Options.Keys (the CLI's --keylog) at New, and
// while reading, a pcapng's Decryption Secrets Blocks and a live capture's
// followed key log (both through a decode.SecretsSource). A connection
// whose records wait for keys looks them up again once the log grows.
func (a *Analyzer) AddKeys(k *tls.KeyLog) {
	if k == nil {
		return
	}
	if a.pool != nil {
		// The workers read the key log: they see the keys from the next
		// segment on, as one goroutine would.
		a.pool.sync()
	}
	// The connections the last sweep found due are judged without
	// these keys, as they were then (Deferred forgetting).
	a.forgetPending()
	a.keys.Add(k)
}

// addSecrets adds the TLS key log secrets of all (a source's) past the
// first used to the analyzer's key log, and returns how many there are.
// A malformed block is skipped, as Wireshark does, with a warning for the
// report.
func (a *Analyzer) addSecrets(all []decode.DecryptionSecret, used int, warn func(string)) int {
	for i, s := range all[min(used, len(all)):] {
		if s.Type != tls.DSBTypeTLSKeyLog {
			continue
		}
		k := &tls.KeyLog{}
		err := k.AddDSB(s.Data) // the lines before a malformed one are kept
		a.AddKeys(k)
		if err != nil {
			var ke *tls.KeyLogError
			if errors.As(err, &ke) {
				err = ke
			}
			warn(fmt.Sprintf("TLS key log in Decryption Secrets Block %d: %v (the lines before it are used)", used+i+1, err))
		}
	}
	return len(all)
}

// KeyLogUse says what the key log k, read from path, did for r: how many
// connections it has secrets for, and how many of r's TLS connections were
// decrypted with them (their client random is in it).
func KeyLogUse(r *model.Report, path string, k *tls.KeyLog) model.KeyLogUse {
	u := model.KeyLogUse{Path: path, Keys: k.Len()}
	for _, c := range r.Connections {
		if c.TLS == nil {
			continue
		}
		u.TLSConnections++
		var cr [32]byte
		if b, err := hex.DecodeString(c.TLS.ClientRandom); c.TLS.Decrypted && err == nil && len(b) == len(cr) {
			copy(cr[:], b)
			if _, ok := k.Lookup(cr); ok {
				u.Decrypted++
			}
		}
	}
	return u
}
