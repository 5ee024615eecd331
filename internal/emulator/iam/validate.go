package iam

import (
	"regexp"
	"strings"
)

var alphanumericSid = regexp.MustCompile(`^[A-Za-z0-9]*$`)

// ValidateIdentityPolicy applies the rules IAM adds for identity-based
// policies (attached to users and roles): no Principal or NotPrincipal, a
// Resource or NotResource in every statement, alphanumeric Sids.
func ValidateIdentityPolicy(p *Policy) error {
	for i, s := range p.Statements {
		switch {
		case s.Principal != nil:
			return malformed("statement %d: identity-based policy has prohibited field Principal", i)
		case s.NotPrincipal != nil:
			return malformed("statement %d: identity-based policy has prohibited field NotPrincipal", i)
		case s.Resource == nil && s.NotResource == nil:
			return malformed("statement %d: policy statement must contain resources", i)
		case !alphanumericSid.MatchString(s.Sid):
			return malformed("statement %d: statement ids (Sid) must be alphanumeric, got %q", i, s.Sid)
		}
	}
	return nil
}

// ValidateTrustPolicy applies the rules IAM adds for role trust policies: a
// Principal or NotPrincipal in every statement, no Resource or NotResource,
// only sts: actions, alphanumeric Sids. (AWS's exact treatment of non-sts
// actions in a trust policy is not documented; rejecting them is the
// stricter choice.)
func ValidateTrustPolicy(p *Policy) error {
	for i, s := range p.Statements {
		switch {
		case s.Principal == nil && s.NotPrincipal == nil:
			return malformed("statement %d: trust policy statement must contain a Principal", i)
		case s.Resource != nil:
			return malformed("statement %d: trust policy has prohibited field Resource", i)
		case s.NotResource != nil:
			return malformed("statement %d: trust policy has prohibited field NotResource", i)
		case !alphanumericSid.MatchString(s.Sid):
			return malformed("statement %d: statement ids (Sid) must be alphanumeric, got %q", i, s.Sid)
		}
		for _, a := range append(append([]string(nil), s.Action...), s.NotAction...) {
			if !strings.HasPrefix(strings.ToLower(a), "sts:") {
				return malformed("statement %d: trust policy action %q is not an sts: action", i, a)
			}
		}
	}
	return nil
}

// ValidateResourcePolicy applies the rule every resource-based policy
// shares: each statement has a Principal or NotPrincipal.
func ValidateResourcePolicy(p *Policy) error {
	for i, s := range p.Statements {
		if s.Principal == nil && s.NotPrincipal == nil {
			return malformed("statement %d: resource-based policy statement must contain a Principal", i)
		}
	}
	return nil
}
