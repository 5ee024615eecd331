package iam

import (
	"strings"
)

// Request is one authorization question.
type Request struct {
	// Action, e.g. "sts:AssumeRole" or "signer:SignPayload"; matched
	// case-insensitively, as AWS does.
	Action string
	// Resource is the ARN of the resource, or "*" for actions that have no
	// resource type (e.g. signer:GetRevocationStatus). Matched case-sensitively.
	Resource string
	// Principal is who is calling.
	Principal Principal
	// Context holds extra condition keys, e.g. "sts:ExternalId" (keys are
	// case-insensitive). aws:PrincipalAccount and aws:PrincipalArn are derived
	// from Principal and override any value given here.
	Context map[string]string
}

// Principal is the caller of a request.
type Principal struct {
	// ARN, e.g. arn:aws:iam::222222222222:user/ci,
	// arn:aws:sts::222222222222:assumed-role/R/sess or arn:aws:iam::111111111111:root.
	ARN string
	// Account is the caller's 12-digit account id ("" for callers that are
	// not AWS principals, e.g. a web identity).
	Account string
	// RoleARN is the IAM role ARN behind an assumed-role session ("" otherwise):
	// policies naming the role ARN match its sessions, as in AWS.
	RoleARN string
	// Federated is the OIDC provider ARN or host for web-identity calls
	// ("" otherwise); it must equal a "Federated" principal entry exactly.
	Federated string
	// Service is the service principal (e.g. "ec2.amazonaws.com") for calls
	// made by an AWS service ("" otherwise).
	Service string
}

// isAWS reports whether the caller is an AWS (IAM/STS) principal.
func (p Principal) isAWS() bool { return p.ARN != "" || p.Account != "" }

// account returns Account, or the account field of ARN when Account is empty.
func (p Principal) account() string {
	if p.Account != "" {
		return p.Account
	}
	if parts := strings.SplitN(p.ARN, ":", 6); len(parts) == 6 {
		return parts[4]
	}
	return ""
}

// principalARN is the value of aws:PrincipalArn: for an assumed-role session
// AWS uses the role ARN, otherwise the caller's ARN.
func (p Principal) principalARN() string {
	if p.RoleARN != "" {
		return p.RoleARN
	}
	return p.ARN
}

// Decision is the outcome of evaluating one policy.
type Decision int

// Decisions, from weakest to strongest.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "ImplicitDeny"
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "Decision(?)"
}

// EvaluateIdentity evaluates p as an identity-based policy (attached to the
// caller). Identity policies have no Principal element (ValidateIdentityPolicy
// rejects one); should a statement carry one anyway, it applies only to the
// principals it names.
func (p *Policy) EvaluateIdentity(r Request) Decision {
	d, _ := p.evaluate(r, conditionContext(r), false)
	return d
}

// EvaluateResource evaluates p as a resource-based policy (a role trust
// policy or a resource policy): a statement applies only if its
// Principal/NotPrincipal matches the caller; statements with neither never
// apply.
func (p *Policy) EvaluateResource(r Request) Decision {
	d, _ := p.evaluate(r, conditionContext(r), true)
	return d
}

// evaluate returns the policy decision and, for Allow, whether an allowing
// statement names the caller itself rather than only its account (see
// Authorize).
func (p *Policy) evaluate(r Request, ctx map[string]string, resourcePolicy bool) (Decision, bool) {
	if p == nil {
		return ImplicitDeny, false
	}
	allowed, named := false, false
	for i := range p.Statements {
		s := &p.Statements[i]
		applies, namesCaller := s.principalApplies(r.Principal, resourcePolicy)
		if !applies || !s.matchesAction(r.Action) || !s.matchesResource(r.Resource) || !s.conditionsHold(ctx) {
			continue
		}
		if s.Effect == EffectDeny {
			return ExplicitDeny, false
		}
		allowed = true
		named = named || namesCaller
	}
	if allowed {
		return Allow, named
	}
	return ImplicitDeny, false
}

// principalApplies reports whether the statement applies to the caller and
// whether it names the caller specifically (not just its account).
func (s *Statement) principalApplies(p Principal, resourcePolicy bool) (applies, named bool) {
	switch {
	case s.Principal != nil:
		return s.Principal.match(p)
	case s.NotPrincipal != nil:
		// Deny with NotPrincipal applies unless every identity of the
		// caller is listed: AWS documents that excluding an assumed-role
		// session needs the session ARN, the role ARN and the account.
		// Allow with NotPrincipal (which AWS advises against) applies only
		// if no identity of the caller is listed. Both are the stricter
		// reading, and neither names the caller.
		ids := callerIdentities(p)
		listed := 0
		for _, id := range ids {
			if s.NotPrincipal.lists(id) {
				listed++
			}
		}
		if s.Effect == EffectDeny {
			return listed < len(ids) || len(ids) == 0, false
		}
		return listed == 0, false
	case resourcePolicy:
		return false, false
	default:
		return true, true
	}
}

// identityKind classifies one identity of a caller.
type identityKind int

const (
	idAccount identityKind = iota
	idARN
	idFederated
	idService
)

type callerIdentity struct {
	kind      identityKind
	value     string
	partition string
}

// callerIdentities lists everything a principal element can name for the
// caller: its account, its own ARN, the role behind a session, its
// federated provider and its service.
func callerIdentities(p Principal) []callerIdentity {
	var out []callerIdentity
	part := ""
	if parts := strings.SplitN(p.ARN, ":", 3); len(parts) == 3 {
		part = parts[1]
	}
	if acct := p.account(); acct != "" {
		out = append(out, callerIdentity{kind: idAccount, value: acct, partition: part})
	}
	if p.ARN != "" && !isRootARN(p.ARN) {
		out = append(out, callerIdentity{kind: idARN, value: p.ARN})
	}
	if p.RoleARN != "" {
		out = append(out, callerIdentity{kind: idARN, value: p.RoleARN})
	}
	if p.Federated != "" {
		out = append(out, callerIdentity{kind: idFederated, value: p.Federated})
	}
	if p.Service != "" {
		out = append(out, callerIdentity{kind: idService, value: p.Service})
	}
	return out
}

func isRootARN(arn string) bool {
	a, ok := parseAWSPrincipalARN(arn)
	return ok && a.root
}

// lists reports whether the principal element names the identity.
func (ps *Principals) lists(id callerIdentity) bool {
	if ps.Any {
		return true
	}
	switch id.kind {
	case idAccount:
		for _, v := range ps.AWS {
			if v == "*" || v == id.value {
				return true
			}
			if a, ok := parseAWSPrincipalARN(v); ok && a.root && a.account == id.value &&
				(id.partition == "" || strings.SplitN(v, ":", 3)[1] == id.partition) {
				return true
			}
		}
	case idARN:
		for _, v := range ps.AWS {
			if v == "*" || v == id.value {
				return true
			}
		}
	case idFederated:
		return contains(ps.Federated, id.value)
	case idService:
		return contains(ps.Service, id.value)
	}
	return false
}

// match reports whether the Principal element matches the caller and whether
// it names the caller itself. "*" and {"AWS":"*"} name every caller
// ({"AWS":"*"} only AWS principals: the stricter reading of AWS's docs); an
// account id or account root ARN matches every principal of that account but
// only delegates to that account's IAM policies.
func (ps *Principals) match(p Principal) (applies, named bool) {
	if ps.Any {
		return true, true
	}
	for _, id := range callerIdentities(p) {
		if !ps.lists(id) {
			continue
		}
		applies = true
		if id.kind != idAccount || isRootARN(p.ARN) || contains(ps.AWS, "*") {
			named = true
		}
	}
	return applies, named
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Statement) matchesAction(action string) bool {
	if s.Action != nil {
		return anyGlob(s.Action, action, true)
	}
	return !anyGlob(s.NotAction, action, true)
}

// matchesResource: a statement without Resource/NotResource (a role trust
// policy) applies to the resource the policy is attached to.
func (s *Statement) matchesResource(resource string) bool {
	switch {
	case s.Resource != nil:
		return anyARN(s.Resource, resource)
	case s.NotResource != nil:
		return !anyARN(s.NotResource, resource)
	default:
		return true
	}
}

func anyGlob(patterns []string, v string, foldCase bool) bool {
	for _, p := range patterns {
		if globMatch(p, v, foldCase) {
			return true
		}
	}
	return false
}

func anyARN(patterns []string, v string) bool {
	for _, p := range patterns {
		if arnMatch(p, v) {
			return true
		}
	}
	return false
}

func (s *Statement) conditionsHold(ctx map[string]string) bool {
	for _, c := range s.Conditions {
		if !c.evaluate(ctx) {
			return false
		}
	}
	return true
}

// conditionContext builds the condition-key values of a request: the
// request's Context (keys lower-cased) plus aws:PrincipalAccount and
// aws:PrincipalArn derived from the principal. aws:userid, aws:username and
// other global keys are not derived; a condition on them sees a missing key.
func conditionContext(r Request) map[string]string {
	ctx := make(map[string]string, len(r.Context)+2)
	for k, v := range r.Context {
		ctx[strings.ToLower(k)] = v
	}
	if r.Principal.isAWS() {
		if acct := r.Principal.account(); acct != "" {
			ctx["aws:principalaccount"] = acct
		}
		if arn := r.Principal.principalARN(); arn != "" {
			ctx["aws:principalarn"] = arn
		}
	}
	return ctx
}
