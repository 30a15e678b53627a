package model

// TLS is what a connection's TLS layer told: the handshake facts, the
// alerts, and whether the key log opened it. Present on connections that
// start with TLS records, keys or not.
type TLS struct {
	Version     string   `json:"version,omitempty"`
	CipherSuite string   `json:"cipher_suite,omitempty"`
	SNI         string   `json:"sni,omitempty"`
	ALPNOffered []string `json:"alpn_offered,omitempty"`
	ALPN        string   `json:"alpn,omitempty"` // selected, where visible or decrypted
	// NoH2: the handshake shows the connection cannot carry HTTP/2 (the
	// client offered no h2, or the server selected another protocol):
	// nothing of HTTP/2 is inferred from its records.
	NoH2      bool `json:"no_h2,omitempty"`
	Alerts    int  `json:"alerts"`
	Decrypted bool `json:"decrypted"`
	// KeyProblem says why the connection is not decrypted, when keys were
	// given (e.g. "no key in the key log for client random 6a02…").
	KeyProblem string `json:"key_problem,omitempty"`
	// ClientRandom is the hex client random that names the connection in
	// a key log (from its ClientHello, or the entry that decrypted it);
	// empty when neither was seen.
	ClientRandom string `json:"client_random,omitempty"`
	// ClientAppRecords counts the application-data records the client
	// sent (in TLS 1.3 its Finished is the first: encrypted handshake
	// messages travel as application data), ClientAppLastLen the last
	// one's length on the wire, header included. Without keys they tell
	// a client that sent no request: a dial race's spare sends its
	// Finished and a close_notify alert (24 bytes), too small for the
	// HTTP/2 preface.
	ClientAppRecords int `json:"client_app_records,omitempty"`
	ClientAppLastLen int `json:"client_app_last_len,omitempty"`
}

// KeyLogUse says what one key log (--keylog, SSLKEYLOGFILE) brought to
// the analysis: so that a key log meant for another capture is seen to
// decrypt nothing, rather than leave the TLS connections silently opaque.
type KeyLogUse struct {
	Path           string `json:"path"`
	Keys           int    `json:"keys"`            // connections (client randoms) it has secrets for
	Decrypted      int    `json:"decrypted"`       // TLS connections decrypted with its secrets
	TLSConnections int    `json:"tls_connections"` // TLS connections in the report
}
