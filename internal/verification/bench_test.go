package verification

import (
	"testing"

	"github.com/xsigner/xsigner/internal/signing/signingtest"
)

// BenchmarkCertificateHashes measures hashing a three-certificate chain for
// GetRevocationStatus.
func BenchmarkCertificateHashes(b *testing.B) {
	chain := signingtest.NewAuthority(b).Chain
	b.ReportAllocs()
	for b.Loop() {
		if len(CertificateHashes(chain)) != len(chain) {
			b.Fatal("wrong number of hashes")
		}
	}
}

// BenchmarkMatchTrustedIdentity measures matching against a ten-entry policy
// whose last entry matches.
func BenchmarkMatchTrustedIdentity(b *testing.B) {
	ids := make([]string, 0, 10)
	for i := range 9 {
		ids = append(ids, "arn:aws:signer:us-west-2:111122223333:/signing-profiles/Other_"+string(rune('a'+i)))
	}
	ids = append(ids, sigProfile)
	b.ReportAllocs()
	for b.Loop() {
		if m, _, err := MatchTrustedIdentity(ids, sigVersion); err != nil || m == "" {
			b.Fatal(m, err)
		}
	}
}
