package verification

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/invocation"
)

// FuzzVerifySignature feeds arbitrary verify-signature request JSON (what
// notation puts on stdin) and arbitrary revoked entities to the verifier. It
// must never panic; an error must be a bare *proto.Error; a response must
// answer exactly the requested checks, give a reason for every failure and
// claim only attributes the request listed as unprocessed.
func FuzzVerifySignature(f *testing.F) {
	// A fixed chain: every fuzz worker process must compute the same seeds.
	var chain [][]byte
	for _, c := range readPEMChain(f, "testdata/vector-chain.pem") {
		chain = append(chain, c.Raw)
	}
	seed, err := json.Marshal(request(chain))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, sigJob)
	f.Add(seed, "")
	f.Add([]byte(`{"contractVersion":"1.0","signature":{"criticalAttributes":{"extendedAttributes":{"com.amazonaws.signer.signingProfileVersion":7}}},"trustPolicy":{"signatureVerification":["SIGNATURE_VERIFIER.REVOCATION_CHECK"]}}`), "x")
	f.Add([]byte(`{"trustPolicy":{"trustedIdentities":["*"],"signatureVerification":["SIGNATURE_VERIFIER.TRUSTED_IDENTITY"]}}`), "")
	f.Fuzz(func(t *testing.T, data []byte, revoked string) {
		var req proto.VerifySignatureRequest
		if json.Unmarshal(data, &req) != nil {
			return
		}
		fake := &fakeRevocation{}
		if revoked != "" {
			fake.revoked = []string{revoked}
		}
		resp, err := newHarness(fake).verifier.VerifySignature(context.Background(), invocation.Verify{Request: &req})
		if err != nil {
			if _, ok := err.(*proto.Error); !ok {
				t.Fatalf("error %T %v is not a bare *proto.Error", err, err)
			}
			return
		}
		for c, r := range resp.VerificationResults {
			if !slices.Contains(req.TrustPolicy.SignatureVerification, c) {
				t.Errorf("result for %q, which was not requested", c)
			}
			if r == nil || (!r.Success && r.Reason == "") {
				t.Errorf("result for %q = %+v: a failure needs a reason", c, r)
			}
		}
		for _, c := range req.TrustPolicy.SignatureVerification {
			if resp.VerificationResults[c] == nil {
				t.Errorf("no result for requested %q", c)
			}
		}
		for _, a := range resp.ProcessedAttributes {
			if s, ok := a.(string); !ok || !slices.Contains(req.Signature.UnprocessedAttributes, s) {
				t.Errorf("processed attribute %v was not listed as unprocessed", a)
			}
		}
	})
}
