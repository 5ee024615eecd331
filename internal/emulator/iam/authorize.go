package iam

import (
	"fmt"
)

// Result is the outcome of Authorize. Reason says why, in words usable at the
// end of an AWS AccessDenied message ("... because no identity-based policy
// allows the signer:SignPayload action").
type Result struct {
	Allowed bool
	Reason  string
	// Identity and Resource are the combined decisions of the identity-based
	// policies and of the resource-based policy.
	Identity, Resource Decision
}

// Authorize combines the caller's identity policies and an optional
// resource-based policy of a resource owned by resourceAccount, as AWS does
// (SCPs, permission boundaries and session policies are out of scope):
//
//   - an explicit Deny in any policy denies;
//   - cross-account (caller account != resourceAccount): both an identity
//     Allow and a resource Allow are needed;
//   - same account: an identity Allow suffices, and so does a resource Allow
//     that names the caller itself ("*", its user ARN, role ARN or session
//     ARN). A resource Allow that names only the account (an account id or
//     "arn:aws:iam::ACCOUNT:root") delegates to IAM, so an identity Allow is
//     still needed;
//   - requireResourceAllow (role trust policies: sts:AssumeRole always needs
//     the trust policy to allow, even in the same account) makes the
//     resource Allow mandatory in every case;
//   - a caller that is not an AWS principal (a web identity or service,
//     Principal.Account == "") has no identity policies: the resource policy
//     alone decides.
func Authorize(r Request, identity []*Policy, resource *Policy, resourceAccount string, requireResourceAllow bool) Result {
	ctx := conditionContext(r)
	res := Result{Identity: ImplicitDeny, Resource: ImplicitDeny}
	for _, p := range identity {
		if d, _ := p.evaluate(r, ctx, false); d > res.Identity {
			res.Identity = d
		}
	}
	var named bool
	res.Resource, named = resource.evaluate(r, ctx, true)

	switch {
	case res.Identity == ExplicitDeny:
		res.Reason = "explicit deny in an identity-based policy"
		return res
	case res.Resource == ExplicitDeny:
		res.Reason = "explicit deny in a resource-based policy"
		return res
	}
	noIdentity := fmt.Sprintf("no identity-based policy allows the %s action", r.Action)
	noResource := fmt.Sprintf("no resource-based policy allows the %s action", r.Action)

	acct := r.Principal.account()
	if !r.Principal.isAWS() || acct == "" {
		if res.Resource == Allow {
			return allowed(res, "allowed by a resource-based policy")
		}
		res.Reason = noResource
		return res
	}
	crossAccount := acct != resourceAccount
	if crossAccount || requireResourceAllow {
		if res.Resource != Allow {
			res.Reason = noResource
			return res
		}
		if !crossAccount && named {
			return allowed(res, "allowed by a resource-based policy that names the principal")
		}
		if res.Identity != Allow {
			res.Reason = noIdentity
			return res
		}
		return allowed(res, "allowed by identity-based and resource-based policies")
	}
	if res.Identity == Allow {
		return allowed(res, "allowed by an identity-based policy")
	}
	if res.Resource == Allow && named {
		return allowed(res, "allowed by a resource-based policy that names the principal")
	}
	res.Reason = noIdentity
	return res
}

func allowed(res Result, reason string) Result {
	res.Allowed = true
	res.Reason = reason
	return res
}
