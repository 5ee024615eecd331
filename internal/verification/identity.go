package verification

import (
	"fmt"
	"strings"

	"github.com/xsigner/xsigner/internal/arn"
)

// x509SubjectPrefix starts the trusted identities notation itself understands.
// With SIGNATURE_VERIFIER.TRUSTED_IDENTITY the plugin decides alone, and such
// entries can never name an AWS Signer profile, so they are ignored.
const x509SubjectPrefix = "x509.subject:"

// InvalidIdentityError reports a trusted identity xsigner refuses: the
// wildcard "*" or an entry that is neither x509.subject nor a well-formed
// signing-profile ARN. It is a trust-policy mistake, not a verdict on the
// signature.
type InvalidIdentityError struct {
	Identity string
	Reason   string
}

func (e *InvalidIdentityError) Error() string {
	return fmt.Sprintf("trusted identity %q: %s", e.Identity, e.Reason)
}

// MatchTrustedIdentity reports whether the signature made with the signing
// profile version profileVersionARN comes from one of identities (the trust
// policy's trustedIdentities, verbatim).
//
// Accepted entries are signing-profile ARNs, which match every version of that
// profile, and profile-version ARNs, which match exactly:
//
//	arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile
//	arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile/a1b2c3d4e5
//
// Partition, region and account must be equal. The profile name and version
// are compared case-insensitively, as the official AWS Signer plugin does
// (strings.EqualFold in aws-signer-notation-plugin internal/verifier): a trust
// policy written for it must mean the same with xsigner. Only profiles of the
// same account and region can collide that way, and that account controls
// them all. Entries starting with "x509.subject:" are ignored.
//
// On a match, matched is the entry as configured and reason names it. With no
// match, matched is "" and reason names the signature's profile version and
// the configured identities. err (an *InvalidIdentityError, or a parse error
// of profileVersionARN) means the question cannot be answered: "*" is refused
// as AWS refuses it, and so is any other entry that is not a signing-profile
// ARN, because a typo there would otherwise go unnoticed.
func MatchTrustedIdentity(identities []string, profileVersionARN string) (matched string, reason string, err error) {
	sig, err := arn.ParseSigningProfile(profileVersionARN)
	if err != nil {
		return "", "", fmt.Errorf("signature's %s: %w", AttrSigningProfileVersion, err)
	}
	if sig.Version == "" {
		return "", "", fmt.Errorf("signature's %s %q has no profile version", AttrSigningProfileVersion, profileVersionARN)
	}

	var candidates []string
	var trusted []arn.SigningProfile
	for _, id := range identities {
		switch {
		case strings.TrimSpace(id) == "*":
			return "", "", &InvalidIdentityError{Identity: id, Reason: "the wildcard identity is not supported for AWS Signer signatures " +
				"(as with the AWS Signer plugin); list the signing-profile ARNs to trust"}
		case strings.HasPrefix(id, x509SubjectPrefix):
			continue
		}
		p, err := arn.ParseSigningProfile(id)
		if err != nil {
			return "", "", &InvalidIdentityError{Identity: id, Reason: fmt.Sprintf("not a signing-profile ARN (%v)", err)}
		}
		candidates = append(candidates, id)
		trusted = append(trusted, p)
	}
	for i, p := range trusted {
		if identityMatches(p, sig) {
			return candidates[i], fmt.Sprintf("signature publisher matched trusted identity %q", candidates[i]), nil
		}
	}
	if len(candidates) == 0 {
		return "", fmt.Sprintf("signature publisher %q (AWS Signer signing profile version) cannot match: "+
			"the trust policy lists no signing-profile ARN among its trusted identities %q", sig.String(), identities), nil
	}
	return "", fmt.Sprintf("signature publisher %q (AWS Signer signing profile version) matches none of the trusted identities %q",
		sig.String(), candidates), nil
}

// identityMatches reports whether the trusted profile (or profile version) id
// covers the signature's profile version sig.
func identityMatches(id, sig arn.SigningProfile) bool {
	if id.Partition != sig.Partition || id.Region != sig.Region || id.Account != sig.Account {
		return false
	}
	if !strings.EqualFold(id.Name, sig.Name) {
		return false
	}
	return id.Version == "" || strings.EqualFold(id.Version, sig.Version)
}
