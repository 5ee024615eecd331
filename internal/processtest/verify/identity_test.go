package verify_test

import (
	"strings"
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/plugintest"
)

// TestTrustedIdentity checks the trusted-identity verdict for one real
// release_signer signature against trust policies as users write them.
// Only TRUSTED_IDENTITY is asked for, so no AWS call may happen.
func TestTrustedIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	otherVersion := releaseV + "/AAAAAAAAAA"
	if strings.EqualFold(otherVersion, s.version) {
		t.Fatal("the emulator chose the test's other version")
	}
	x509ID := "x509.subject: C=US, ST=WA, O=xsigner emulator"
	cases := []struct {
		name       string
		identities []string
		matched    string // "" when the identity must not match
		reason     string // for a mismatch: part of the reason
	}{
		{"profile ARN", []string{releaseV}, releaseV, ""},
		{"profile version ARN", []string{s.version}, s.version, ""},
		{"profile name in other case, as the official plugin", []string{strings.Replace(releaseV, "release_signer", "Release_Signer", 1)},
			strings.Replace(releaseV, "release_signer", "Release_Signer", 1), ""},
		{"other version of the profile", []string{otherVersion}, "", "matches none of the trusted identities"},
		{"other profile", []string{"arn:aws:signer:us-west-2:111111111111:/signing-profiles/release"}, "", "matches none"},
		{"other account", []string{"arn:aws:signer:us-west-2:222222222222:/signing-profiles/release_signer"}, "", "matches none"},
		{"other region", []string{"arn:aws:signer:us-east-1:111111111111:/signing-profiles/release_signer"}, "", "matches none"},
		{"other partition", []string{"arn:aws-us-gov:signer:us-gov-west-1:111111111111:/signing-profiles/release_signer"}, "", "matches none"},
		{"mixed list, match last", []string{x509ID, "arn:aws:signer:us-west-2:222222222222:/signing-profiles/release_signer", releaseV}, releaseV, ""},
		{"mixed list, version match among others", []string{otherVersion, s.version, x509ID}, s.version, ""},
		{"mixed list, no match", []string{x509ID, otherVersion, "arn:aws:signer:eu-west-1:111111111111:/signing-profiles/release_signer"}, "", "matches none"},
		{"x509.subject only", []string{x509ID}, "", "lists no signing-profile ARN"},
	}
	env := f.env(t, verifier)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := s.request(c.identities, []proto.Capability{identityCap}, f.config())
			res := verify(t, f.exe, env, req).VerificationResults[identityCap]
			if c.matched != "" {
				if !res.Success || !strings.Contains(res.Reason, `"`+c.matched+`"`) {
					t.Errorf("got %+v, want success naming %q", res, c.matched)
				}
				return
			}
			if res.Success {
				t.Fatalf("identities %q matched signature %s: %+v", c.identities, s.version, res)
			}
			if !strings.Contains(res.Reason, c.reason) || !strings.Contains(res.Reason, s.version) {
				t.Errorf("reason %q should say %q and name the signature's profile version %s", res.Reason, c.reason, s.version)
			}
		})
	}
	t.Cleanup(func() {
		if calls := f.revocationCalls(); len(calls) != 0 {
			t.Errorf("only TRUSTED_IDENTITY was asked for, yet GetRevocationStatus was called: %+v", calls)
		}
	})
}

// TestTrustedIdentityRefused checks trust policies the plugin refuses as a
// whole (VALIDATION_ERROR naming the entry): notation fails verification
// however the policy's levels are set.
func TestTrustedIdentityRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := f.sign(t, releaseV)
	cases := []struct {
		name, bad  string
		identities []string
		message    string
	}{
		{"wildcard", "*", []string{"*"}, "wildcard"},
		{"wildcard among ARNs", "*", []string{releaseV, "*"}, "wildcard"},
		{"signing-job ARN", s.job, []string{s.job}, "not a signing-profile ARN"},
		{"IAM role ARN", checkerRole, []string{releaseV, checkerRole}, "not a signing-profile ARN"},
		{"region outside the partition", "arn:aws-cn:signer:us-west-2:111111111111:/signing-profiles/release_signer",
			[]string{"arn:aws-cn:signer:us-west-2:111111111111:/signing-profiles/release_signer"}, "not a signing-profile ARN"},
		{"other prefix", "ecr.repository:foo", []string{"ecr.repository:foo"}, "not a signing-profile ARN"},
	}
	env := f.env(t, verifier)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			req := s.request(c.identities, bothChecks, f.config())
			e := plugintest.Run(t, f.exe, env, req, string(proto.CommandVerifySignature)).Failed(t)
			if e.ErrCode != proto.ErrorCodeValidation || !strings.Contains(e.Message, c.message) || !strings.Contains(e.Message, `"`+c.bad+`"`) {
				t.Errorf("got %s %q, want VALIDATION_ERROR saying %q about %q", e.ErrCode, e.Message, c.message, c.bad)
			}
		})
	}
	t.Cleanup(func() {
		if calls := f.revocationCalls(); len(calls) != 0 {
			t.Errorf("a refused trust policy still led to GetRevocationStatus: %+v", calls)
		}
	})
}
