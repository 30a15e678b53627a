package analyze

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/h2pcap/h2pcap/decode"
)

// secretsSource is a capture with Decryption Secrets Blocks made up.
type secretsSource struct {
	decode.Source
	secrets []decode.DecryptionSecret
}

func (s *secretsSource) Secrets() []decode.DecryptionSecret { return s.secrets }

// A malformed key log in a Decryption Secrets Block is an input warning
// naming the block and line; its good lines are still used.
func TestSecretsWarning(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets []decode.DecryptionSecret
		want    []string
	}{
		{"none", nil, nil},
		{"good", []decode.DecryptionSecret{{Type: 0x544c534b, Data: []byte("# a comment\n")}}, nil},
		{"other type ignored", []decode.DecryptionSecret{{Type: 0x57474b4c, Data: []byte("not a key log\n")}}, nil},
		{"bad line", []decode.DecryptionSecret{
			{Type: 0x544c534b, Data: []byte("# ok\n")},
			{Type: 0x544c534b, Data: []byte("# ok\nCLIENT_RANDOM zz\n")},
		}, []string{"TLS key log in Decryption Secrets Block 2: line 2: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, err := decode.Open(filepath.Join(pcapRoot(), "healthy-tls", "client.pcap"), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			a := New(Options{})
			info, err := a.ReadSource(&secretsSource{src, tc.secrets})
			if err != nil {
				t.Fatal(err)
			}
			if len(info.Warnings) != len(tc.want) {
				t.Fatalf("warnings %q, want %q", info.Warnings, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(info.Warnings[i], w) {
					t.Errorf("warning %q, want prefix %q", info.Warnings[i], w)
				}
			}
		})
	}
}
