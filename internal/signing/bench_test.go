package signing

import (
	"testing"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/signing/signingtest"
)

// BenchmarkCheckEnvelope measures the local check of a returned envelope
// (JWS parse, ES384 verification, chain rules, payload comparison), the cost
// xsigner adds to every signature on top of the SignPayload round trip.
func BenchmarkCheckEnvelope(b *testing.B) {
	auth := signingtest.NewAuthority(b)
	env := auth.Sign(b, signingtest.Envelope{Payload: []byte(payloadJSON), ProfileVersion: versionARN, Job: jobARN})
	key, err := arn.ParseSigningProfile(profileARN)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckEnvelope(env, []byte(payloadJSON), key); err != nil {
			b.Fatal(err)
		}
	}
}
