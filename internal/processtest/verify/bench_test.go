package verify_test

import (
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/plugintest"
)

// BenchmarkVerifyProcess measures one notation-xsigner verify-signature
// process, start to exit, against the in-process emulator: the trusted
// identity alone (no AWS call), both checks with base credentials, both
// checks through a cross-account role (served from the credential cache, and
// assumed afresh), and both checks with 50 ms added to GetRevocationStatus,
// a regional-Signer-like round trip.
func BenchmarkVerifyProcess(b *testing.B) {
	cases := []struct {
		name             string
		base             identity
		checks           []proto.Capability
		cfg              []string
		signerLatencyMs  int
		wantRevokeCalled bool
	}{
		{"trusted identity only", verifier, []proto.Capability{identityCap}, nil, 0, false},
		{"both checks, base credentials", verifier, bothChecks, nil, 0, true},
		{"both checks, role-arn, cached", deployer, bothChecks, []string{"role-arn=" + checkerRole}, 0, true},
		{"both checks, role-arn, no cache", deployer, bothChecks, []string{"role-arn=" + checkerRole, "credential-cache=off"}, 0, true},
		{"both checks, base credentials, Signer +50ms", verifier, bothChecks, nil, 50, true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b)
			s := f.sign(b, releaseV)
			if c.signerLatencyMs > 0 {
				if err := f.emu.InjectFault(emulator.Fault{Service: "signer", Operation: "GetRevocationStatus", LatencyMs: c.signerLatencyMs, Count: 1 << 30}); err != nil {
					b.Fatal(err)
				}
			}
			env := f.env(b, c.base)
			req := s.request([]string{releaseV}, c.checks, f.config(c.cfg...))
			verify(b, f.exe, env, req) // warm the credential cache and the page cache
			for b.Loop() {
				var resp proto.VerifySignatureResponse
				plugintest.Run(b, f.exe, env, req, string(proto.CommandVerifySignature)).Succeeded(b, &resp)
				for k, r := range resp.VerificationResults {
					if !r.Success {
						b.Fatalf("%s failed: %q", k, r.Reason)
					}
				}
			}
			if got := len(f.revocationCalls()) > 0; got != c.wantRevokeCalled {
				b.Fatalf("GetRevocationStatus called: %v, want %v", got, c.wantRevokeCalled)
			}
		})
	}
}
