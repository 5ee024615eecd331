package verify_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/authority"
)

// TestRevocation revokes real signatures the ways AWS offers (RevokeSignature,
// RevokeSigningProfile with an effective time, a revoked certificate) and
// checks the REVOCATION_CHECK verdict and reason through the built plugin.
// Each case has its own emulator, since revocations are global state.
func TestRevocation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// revoke revokes (part of) s; other is a second signature of the same
		// profile version made before the revocation.
		revoke func(t *testing.T, f *fixture, s signed)
		// revoked: whether s must be reported revoked; reason is what the
		// reason must say (fmt verbs %[1]s job, %[2]s profile version,
		// %[3]s leaf subject, %[4]s root subject).
		revoked bool
		reason  string
		// otherRevoked: whether the second signature is revoked too.
		otherRevoked bool
	}{
		{
			name:    "not revoked",
			revoke:  func(*testing.T, *fixture, signed) {},
			reason:  `reports neither signing job "%[1]s", nor signing profile version "%[2]s", nor any of the 4 certificate(s)`,
			revoked: false,
		},
		{
			name:    "signing job revoked",
			revoke:  func(t *testing.T, f *fixture, s signed) { f.revokeJob(t, s) },
			revoked: true, reason: `signing job "%[1]s" was revoked`,
		},
		{
			name: "profile version revoked before the signing time",
			revoke: func(t *testing.T, f *fixture, s signed) {
				f.revokeProfileVersion(t, s, s.signingTime().Add(-time.Hour))
			},
			revoked: true, reason: `signing profile version "%[2]s" was revoked`, otherRevoked: true,
		},
		{
			name: "profile version revoked after the signing time",
			revoke: func(t *testing.T, f *fixture, s signed) {
				f.revokeProfileVersion(t, s, s.signingTime().Add(time.Hour))
			},
			revoked: false, reason: `reports neither signing job "%[1]s", nor signing profile version "%[2]s"`,
		},
		{
			name: "leaf certificate revoked",
			revoke: func(t *testing.T, f *fixture, s signed) {
				if err := f.emu.RevokeCertificate(authority.CertificateHashes(s.chain())[0]); err != nil {
					t.Fatal(err)
				}
			},
			revoked: true, reason: `certificate(s) in the chain were revoked: #0 "%[3]s"`,
		},
		{
			name: "root certificate revoked",
			revoke: func(t *testing.T, f *fixture, s signed) {
				if err := f.emu.RevokeCertificate(authority.CertificateHashes(s.chain())[len(s.chain())-1]); err != nil {
					t.Fatal(err)
				}
			},
			revoked: true, reason: `certificate(s) in the chain were revoked: #3 "%[4]s"`, otherRevoked: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			other := f.sign(t, releaseV)
			s := f.sign(t, releaseV)
			if s.version != other.version || s.job == other.job {
				t.Fatalf("want two jobs of one profile version, got %s %s and %s %s", s.job, s.version, other.job, other.version)
			}
			c.revoke(t, f, s)
			env := f.env(t, verifier)
			chain := s.chain()
			want := fmt.Sprintf(c.reason, s.job, s.version, chain[0].Subject.String(), chain[len(chain)-1].Subject.String())

			resp := verify(t, f.exe, env, s.request([]string{releaseV}, bothChecks, f.config()))
			if id := resp.VerificationResults[identityCap]; !id.Success {
				t.Errorf("trusted identity failed: %+v", id)
			}
			rev := resp.VerificationResults[revocationCap]
			if rev.Success == c.revoked {
				t.Errorf("revocation success=%v, want %v: %q", rev.Success, !c.revoked, rev.Reason)
			}
			if !strings.Contains(rev.Reason, want) {
				t.Errorf("reason %q\nshould contain %q", rev.Reason, want)
			}
			if c.revoked && !strings.HasPrefix(rev.Reason, "the signature is revoked: ") {
				t.Errorf("reason %q does not say the signature is revoked", rev.Reason)
			}

			otherRev := verify(t, f.exe, env, other.request([]string{releaseV}, []proto.Capability{revocationCap}, f.config())).VerificationResults[revocationCap]
			if otherRev.Success == c.otherRevoked {
				t.Errorf("the other signature of the profile version: success=%v, want %v: %q", otherRev.Success, !c.otherRevoked, otherRev.Reason)
			}

			calls := f.revocationCalls()
			if len(calls) != 2 {
				t.Fatalf("GetRevocationStatus calls %+v, want one per verification", calls)
			}
			for _, call := range calls {
				if call.Status != 200 || call.Region != regionUS || call.Caller != verifierARN {
					t.Errorf("GetRevocationStatus %+v, want 200 in %s by %s", call, regionUS, verifierARN)
				}
			}
		})
	}
}

// TestRevocationCallFails checks that a GetRevocationStatus call that
// cannot be made or fails gives REVOCATION_CHECK success:false with the AWS
// error text (a verdict the trust policy enforces or logs, as with the
// official plugin), while the trusted-identity verdict stands and the
// process succeeds.
func TestRevocationCallFails(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		base identity
		cfg  []string
		// fault is injected before verifying, when set.
		fault *emulator.Fault
		// messageField is the emulator's error message key, when set.
		messageField string
		// deadEndpoint points signer-endpoint-url at a closed port.
		deadEndpoint bool
		// reason parts; calls is the number of GetRevocationStatus calls.
		reason []string
		calls  int
		status int
	}{
		{
			name: "caller without signer:GetRevocationStatus", base: deployer,
			reason: []string{"the revocation status could not be checked", "User: " + deployerARN + " is not authorized to perform: signer:GetRevocationStatus",
				"needs an IAM policy allowing signer:GetRevocationStatus", "region us-west-2"},
			calls: 1, status: 403,
		},
		{
			name: "denied, message in the Message member (aws.md §0.3)", base: deployer, messageField: "Message",
			reason: []string{"User: " + deployerARN + " is not authorized to perform: signer:GetRevocationStatus"},
			calls:  1, status: 403,
		},
		{
			name: "assumed role without signer:GetRevocationStatus", base: deployer, cfg: []string{"role-arn=" + signerOnlyRole},
			reason: []string{"the revocation status could not be checked", "assumed-role/signer-only/", "is not authorized to perform: signer:GetRevocationStatus"},
			calls:  1, status: 403,
		},
		{
			name: "role that cannot be assumed", base: verifier, cfg: []string{"role-arn=" + checkerRole},
			reason: []string{"the revocation status could not be checked", verifierARN, "sts:AssumeRole", checkerRole},
			calls:  0,
		},
		{
			name: "throttled on every attempt", base: verifier,
			fault:  &emulator.Fault{Service: "signer", Operation: "GetRevocationStatus", ErrorCode: "ThrottlingException", Message: "Rate exceeded", Count: 5},
			reason: []string{"the revocation status could not be checked", "Rate exceeded"},
			calls:  5, status: 429,
		},
		{
			name: "internal error on every attempt", base: verifier,
			fault:  &emulator.Fault{Service: "signer", Operation: "GetRevocationStatus", ErrorCode: "InternalServiceErrorException", Message: "emulated outage", Count: 5},
			reason: []string{"the revocation status could not be checked", "emulated outage"},
			calls:  5, status: 500,
		},
		{
			name: "no answer before the deadline", base: verifier, cfg: []string{"timeout=2s"},
			fault:  &emulator.Fault{Service: "signer", Operation: "GetRevocationStatus", Hang: true},
			reason: []string{"the revocation status could not be checked", "GetRevocationStatus timed out", "deadline of 2s", "timeout=2m"},
			calls:  1, status: 503, // the emulator journals a hung call as 503 once the client gives up
		},
		{
			name: "endpoint not listening", base: verifier, deadEndpoint: true,
			reason: []string{"the revocation status could not be checked", "GetRevocationStatus failed", "connection refused", "/revocations?…"},
			calls:  0,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			s := f.sign(t, releaseV)
			if c.fault != nil {
				if err := f.emu.InjectFault(*c.fault); err != nil {
					t.Fatal(err)
				}
			}
			if c.messageField != "" {
				if err := f.emu.SetErrorMessageField(c.messageField); err != nil {
					t.Fatal(err)
				}
			}
			cfg := f.config(c.cfg...)
			if c.deadEndpoint {
				cfg["signer-endpoint-url"] = closedPortURL(t)
			}
			resp := verify(t, f.exe, f.env(t, c.base), s.request([]string{releaseV}, bothChecks, cfg))
			if id := resp.VerificationResults[identityCap]; !id.Success {
				t.Errorf("trusted identity failed: %+v", id)
			}
			rev := resp.VerificationResults[revocationCap]
			if rev.Success {
				t.Fatalf("revocation check succeeded: %+v", rev)
			}
			for _, part := range c.reason {
				if !strings.Contains(rev.Reason, part) {
					t.Errorf("reason %q\nshould contain %q", rev.Reason, part)
				}
			}
			if strings.Contains(rev.Reason, "certificateHashes=") || len(rev.Reason) > 1000 {
				t.Errorf("reason carries the request's query or is too long (%d bytes): %q", len(rev.Reason), rev.Reason)
			}
			calls := f.revocationCalls()
			if c.fault != nil && c.fault.Hang {
				calls = f.settledRevocationCalls(c.calls)
			}
			if len(calls) != c.calls {
				t.Fatalf("GetRevocationStatus calls %+v, want %d", calls, c.calls)
			}
			for _, call := range calls {
				if call.Status != c.status {
					t.Errorf("call %+v, want status %d", call, c.status)
				}
			}
		})
	}
}

// closedPortURL returns an http URL of a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestRevocationRetriesThrottling checks that throttling that stops before
// the attempts run out does not fail the check.
func TestRevocationRetriesThrottling(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	if err := f.emu.InjectFault(emulator.Fault{Service: "signer", Operation: "GetRevocationStatus", ErrorCode: "ThrottlingException", Count: 2}); err != nil {
		t.Fatal(err)
	}
	rev := verify(t, f.exe, f.env(t, verifier), s.request([]string{releaseV}, bothChecks, f.config())).VerificationResults[revocationCap]
	if !rev.Success {
		t.Errorf("revocation check failed after transient throttling: %+v", rev)
	}
	var codes []string
	for _, c := range f.revocationCalls() {
		codes = append(codes, fmt.Sprint(c.Status, c.ErrorCode))
	}
	if want := "[429ThrottlingException 429ThrottlingException 200]"; fmt.Sprint(codes) != want {
		t.Errorf("GetRevocationStatus outcomes %v, want %s", codes, want)
	}
}
