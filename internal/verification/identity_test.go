package verification

import (
	"errors"
	"strings"
	"testing"
)

const (
	sigProfile = "arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod_Images"
	sigVersion = sigProfile + "/a1b2c3d4e5"
)

func TestMatchTrustedIdentity(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		identities []string
		signature  string
		matched    string   // "" for no match
		reason     []string // substrings of the reason
		invalid    string   // the identity an *InvalidIdentityError names; "" for none
	}{
		"profile ARN matches its version": {
			identities: []string{sigProfile},
			signature:  sigVersion,
			matched:    sigProfile,
			reason:     []string{`signature publisher matched trusted identity "` + sigProfile + `"`},
		},
		"profile ARN matches another version of it": {
			identities: []string{sigProfile},
			signature:  sigProfile + "/zzzzzzzzzz",
			matched:    sigProfile,
		},
		"version ARN matches exactly": {
			identities: []string{sigVersion},
			signature:  sigVersion,
			matched:    sigVersion,
		},
		"version ARN does not match another version": {
			identities: []string{sigProfile + "/zzzzzzzzzz"},
			signature:  sigVersion,
			reason:     []string{sigVersion, "matches none", "zzzzzzzzzz"},
		},
		"other profile name": {
			identities: []string{"arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod_Images2"},
			signature:  sigVersion,
			reason:     []string{sigVersion, "Prod_Images2"},
		},
		"profile name prefix is no match": {
			identities: []string{"arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod"},
			signature:  sigVersion,
			reason:     []string{"matches none"},
		},
		"other account": {
			identities: []string{"arn:aws:signer:us-west-2:999999999999:/signing-profiles/Prod_Images"},
			signature:  sigVersion,
			reason:     []string{"matches none", "999999999999"},
		},
		"other region": {
			identities: []string{"arn:aws:signer:us-east-1:111122223333:/signing-profiles/Prod_Images"},
			signature:  sigVersion,
			reason:     []string{"matches none"},
		},
		"GovCloud profile matches in its partition": {
			identities: []string{"arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/Prod_Images"},
			signature:  "arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/Prod_Images/a1b2c3d4e5",
			matched:    "arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/Prod_Images",
		},
		"same names in another partition": {
			identities: []string{"arn:aws-cn:signer:cn-north-1:111122223333:/signing-profiles/Prod_Images"},
			signature:  "arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod_Images/a1b2c3d4e5",
			reason:     []string{"matches none"},
		},
		"mixed list with x509.subject entries": {
			identities: []string{"x509.subject: C=US, ST=WA, O=Acme", "arn:aws:signer:us-west-2:111122223333:/signing-profiles/Other", sigProfile},
			signature:  sigVersion,
			matched:    sigProfile,
		},
		"first matching entry is named": {
			identities: []string{sigVersion, sigProfile},
			signature:  sigVersion,
			matched:    sigVersion,
		},
		"only x509.subject entries": {
			identities: []string{"x509.subject: C=US, ST=WA, O=Acme"},
			signature:  sigVersion,
			reason:     []string{"lists no signing-profile ARN", "x509.subject"},
		},
		"empty list": {
			identities: nil,
			signature:  sigVersion,
			reason:     []string{"lists no signing-profile ARN"},
		},
		"wildcard": {
			identities: []string{"*"},
			signature:  sigVersion,
			invalid:    "*",
		},
		"wildcard next to a matching ARN": {
			identities: []string{sigProfile, "*"},
			signature:  sigVersion,
			invalid:    "*",
		},
		"not an ARN": {
			identities: []string{sigProfile, "Prod_Images"},
			signature:  sigVersion,
			invalid:    "Prod_Images",
		},
		"signing job ARN": {
			identities: []string{"arn:aws:signer:us-west-2:111122223333:/signing-jobs/0b1c2d3e"},
			signature:  sigVersion,
			invalid:    "arn:aws:signer:us-west-2:111122223333:/signing-jobs/0b1c2d3e",
		},
		"profile ARN without the slash after the account": {
			identities: []string{"arn:aws:signer:us-west-2:111122223333:signing-profiles/Prod_Images"},
			signature:  sigVersion,
			invalid:    "arn:aws:signer:us-west-2:111122223333:signing-profiles/Prod_Images",
		},
		"other service": {
			identities: []string{"arn:aws:iam::111122223333:role/Prod_Images"},
			signature:  sigVersion,
			invalid:    "arn:aws:iam::111122223333:role/Prod_Images",
		},
		"too many path segments": {
			identities: []string{sigVersion + "/extra"},
			signature:  sigVersion,
			invalid:    sigVersion + "/extra",
		},
		"profile name in other case matches, as in the official plugin": {
			identities: []string{"arn:aws:signer:us-west-2:111122223333:/signing-profiles/prod_images"},
			signature:  sigVersion,
			matched:    "arn:aws:signer:us-west-2:111122223333:/signing-profiles/prod_images",
		},
		"version in other case matches, as in the official plugin": {
			identities: []string{sigProfile + "/A1B2C3D4E5"},
			signature:  sigVersion,
			matched:    sigProfile + "/A1B2C3D4E5",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			matched, reason, err := MatchTrustedIdentity(tc.identities, tc.signature)
			if tc.invalid != "" {
				var ie *InvalidIdentityError
				if !errors.As(err, &ie) || ie.Identity != tc.invalid {
					t.Fatalf("MatchTrustedIdentity err = %v, want an InvalidIdentityError for %q", err, tc.invalid)
				}
				if !strings.Contains(err.Error(), tc.invalid) {
					t.Errorf("error %q does not name the entry %q", err, tc.invalid)
				}
				if matched != "" {
					t.Errorf("matched = %q with an error", matched)
				}
				return
			}
			if err != nil {
				t.Fatalf("MatchTrustedIdentity err = %v", err)
			}
			if matched != tc.matched {
				t.Errorf("matched = %q, want %q (reason %q)", matched, tc.matched, reason)
			}
			if reason == "" {
				t.Error("reason is empty")
			}
			if tc.matched != "" && !strings.Contains(reason, `"`+tc.matched+`"`) {
				t.Errorf("reason %q does not name the identity %q", reason, tc.matched)
			}
			for _, s := range tc.reason {
				if !strings.Contains(reason, s) {
					t.Errorf("reason %q does not contain %q", reason, s)
				}
			}
		})
	}
}

func TestMatchTrustedIdentityBadSignatureARN(t *testing.T) {
	t.Parallel()
	for name, sig := range map[string]string{
		"profile without version":          sigProfile,
		"not an ARN":                       "Prod_Images",
		"empty":                            "",
		"GovCloud region in partition aws": "arn:aws:signer:us-gov-west-1:111122223333:/signing-profiles/Prod_Images/a1b2c3d4e5",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if m, _, err := MatchTrustedIdentity([]string{sigProfile}, sig); err == nil || m != "" {
				t.Errorf("MatchTrustedIdentity(%q) = %q, %v; want an error", sig, m, err)
			}
		})
	}
}
