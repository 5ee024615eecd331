package signing

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/signer"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/emulator/authority"
)

// TestGenerateEnvelopeWithEmulatorAuthority feeds the generator envelopes
// made by the emulator's signing authority (the one the emulator's
// SignPayload uses), untouched and with each of its tamper faults.
func TestGenerateEnvelopeWithEmulatorAuthority(t *testing.T) {
	t.Parallel()
	auth, err := authority.Open("", time.Now)
	if err != nil {
		t.Fatalf("authority.Open: %v", err)
	}
	req := authority.SignRequest{
		Region:            "us-west-2",
		Payload:           []byte(payloadJSON),
		PayloadType:       PayloadTypeNotary,
		SigningTime:       time.Now(),
		Expiry:            time.Now().Add(24 * time.Hour),
		ProfileVersionARN: versionARN,
		JobARN:            jobARN,
	}
	tests := map[string]struct {
		tamper authority.Tamper
		want   string // "" for success
	}{
		"untouched":     {tamper: authority.TamperNone},
		"wrong payload": {tamper: authority.TamperWrongPayload, want: "different payload"},
		"bad signature": {tamper: authority.TamperBadSignature, want: "does not verify"},
		"truncated":     {tamper: authority.TamperTruncated, want: "not a JWS signature envelope"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env, _, err := auth.SignTampered(req, tc.tamper)
			if err != nil {
				t.Fatalf("SignTampered(%v): %v", tc.tamper, err)
			}
			f := &fakeSigner{out: &signer.SignPayloadOutput{Signature: env}}
			resp, err := generator(f).GenerateEnvelope(context.Background(), newInvocation(t, versionARN, nil))
			if tc.want == "" {
				if err != nil || resp == nil {
					t.Fatalf("GenerateEnvelope(%v envelope) = %v", tc.tamper, err)
				}
				return
			}
			wantProtoError(t, err, proto.ErrorCodeGeneric, tc.want)
		})
	}
}
