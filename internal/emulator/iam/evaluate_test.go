package iam

import (
	"testing"
)

const (
	acctA      = "111111111111" // owns the signing profile and the signer role
	acctB      = "222222222222" // the workload account
	profileARN = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/P"
	roleARN    = "arn:aws:iam::111111111111:role/SignerRole"
)

var (
	userB    = Principal{ARN: "arn:aws:iam::222222222222:user/ci", Account: acctB}
	sessionB = Principal{ARN: "arn:aws:sts::222222222222:assumed-role/R/sess", Account: acctB, RoleARN: "arn:aws:iam::222222222222:role/R"}
	sessionA = Principal{ARN: "arn:aws:sts::111111111111:assumed-role/SignerRole/s1", Account: acctA, RoleARN: roleARN}
	userA    = Principal{ARN: "arn:aws:iam::111111111111:user/alice", Account: acctA}
	rootA    = Principal{ARN: "arn:aws:iam::111111111111:root", Account: acctA}
)

func TestEvaluateIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		policy   string
		action   string
		resource string
		want     Decision
	}{
		{"allow", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"` + profileARN + `"}}`, "signer:SignPayload", profileARN, Allow},
		{"implicit deny other action", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"*"}}`, "signer:RevokeSignature", profileARN, ImplicitDeny},
		{"implicit deny other resource", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"` + profileARN + `"}}`, "signer:SignPayload", profileARN + "2", ImplicitDeny},
		{"explicit deny wins over allow", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"signer:SignPayload","Resource":"*"}]}`, "signer:SignPayload", profileARN, ExplicitDeny},
		{"explicit deny first still wins", `{"Statement":[{"Effect":"Deny","Action":"signer:*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "signer:SignPayload", profileARN, ExplicitDeny},
		{"deny of other action does not apply", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"signer:RevokeSignature","Resource":"*"}]}`, "signer:SignPayload", profileARN, Allow},
		{"action star", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "sts:AssumeRole", roleARN, Allow},
		{"action prefix wildcard", `{"Statement":{"Effect":"Allow","Action":"signer:Sign*","Resource":"*"}}`, "signer:SignPayload", profileARN, Allow},
		{"action prefix wildcard no match", `{"Statement":{"Effect":"Allow","Action":"signer:Get*","Resource":"*"}}`, "signer:SignPayload", profileARN, ImplicitDeny},
		{"action question mark", `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRol?","Resource":"*"}}`, "sts:AssumeRole", roleARN, Allow},
		{"action question mark is one char", `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRol?","Resource":"*"}}`, "sts:AssumeRoleWithWebIdentity", roleARN, ImplicitDeny},
		{"action case-insensitive", `{"Statement":{"Effect":"Allow","Action":"SIGNER:signpayload","Resource":"*"}}`, "signer:SignPayload", profileARN, Allow},
		{"action wildcard case-insensitive", `{"Statement":{"Effect":"Allow","Action":"Signer:sign*","Resource":"*"}}`, "signer:SignPayload", profileARN, Allow},
		{"action service must match", `{"Statement":{"Effect":"Allow","Action":"sts:SignPayload","Resource":"*"}}`, "signer:SignPayload", profileARN, ImplicitDeny},
		{"not action allows others", `{"Statement":{"Effect":"Allow","NotAction":"signer:RevokeSignature","Resource":"*"}}`, "signer:SignPayload", profileARN, Allow},
		{"not action excludes listed", `{"Statement":{"Effect":"Allow","NotAction":"signer:RevokeSignature","Resource":"*"}}`, "signer:RevokeSignature", profileARN, ImplicitDeny},
		{"not action excludes case-insensitively", `{"Statement":{"Effect":"Allow","NotAction":"signer:revoke*","Resource":"*"}}`, "signer:RevokeSignature", profileARN, ImplicitDeny},
		{"not action deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":"sts:*","Resource":"*"}]}`, "signer:SignPayload", profileARN, ExplicitDeny},
		{"resource star wildcard", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"arn:aws:signer:*:111111111111:/signing-profiles/*"}}`, "signer:SignPayload", profileARN, Allow},
		{"resource star wrong account", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"arn:aws:signer:*:222222222222:/signing-profiles/*"}}`, "signer:SignPayload", profileARN, ImplicitDeny},
		{"resource question mark", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"arn:aws:signer:us-west-?:111111111111:/signing-profiles/?"}}`, "signer:SignPayload", profileARN, Allow},
		{"resource question mark is one char", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"arn:aws:signer:us-west-2:111111111111:/signing-profiles/?"}}`, "signer:SignPayload", profileARN + "Q", ImplicitDeny},
		{"resource case-sensitive", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"arn:aws:signer:us-west-2:111111111111:/signing-profiles/p"}}`, "signer:SignPayload", profileARN, ImplicitDeny},
		{"resource wildcard does not span components", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:*:*:*:2"}}`, "s3:GetObject", "arn:aws:s3:::b/k:1:2", ImplicitDeny},
		{"resource part may contain colons", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:*:*:*:*:2"}}`, "s3:GetObject", "arn:aws:s3:::b/k:1:2", Allow},
		{"resource star matches no-resource-type request", `{"Statement":{"Effect":"Allow","Action":"signer:GetRevocationStatus","Resource":"*"}}`, "signer:GetRevocationStatus", "*", Allow},
		{"resource arn does not match no-resource-type request", `{"Statement":{"Effect":"Allow","Action":"signer:GetRevocationStatus","Resource":"arn:aws:signer:*:*:*"}}`, "signer:GetRevocationStatus", "*", ImplicitDeny},
		{"not resource allows others", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","NotResource":"arn:aws:signer:*:*:/signing-profiles/Prod*"}}`, "signer:SignPayload", profileARN, Allow},
		{"not resource excludes listed", `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","NotResource":"arn:aws:signer:*:*:/signing-profiles/P"}}`, "signer:SignPayload", profileARN, ImplicitDeny},
		{"array values any match", `{"Statement":{"Effect":"Allow","Action":["sts:AssumeRole","signer:SignPayload"],"Resource":["arn:aws:iam::111111111111:role/X",` + `"` + profileARN + `"]}}`, "signer:SignPayload", profileARN, Allow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tc.policy)
			got := p.EvaluateIdentity(Request{Action: tc.action, Resource: tc.resource, Principal: sessionA})
			if got != tc.want {
				t.Errorf("EvaluateIdentity = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvaluateResourcePrincipals(t *testing.T) {
	t.Parallel()
	stmt := func(principal string) string {
		return `{"Statement":{"Effect":"Allow","Principal":` + principal + `,"Action":"signer:SignPayload","Resource":"` + profileARN + `"}}`
	}
	webIdentity := Principal{Federated: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"}
	tests := []struct {
		name   string
		policy string
		caller Principal
		want   Decision
	}{
		{"star matches user", stmt(`"*"`), userB, Allow},
		{"star matches web identity", stmt(`"*"`), webIdentity, Allow},
		{"aws star matches session", stmt(`{"AWS":"*"}`), sessionB, Allow},
		{"aws star does not match web identity", stmt(`{"AWS":"*"}`), webIdentity, ImplicitDeny},
		{"account id matches user", stmt(`{"AWS":"222222222222"}`), userB, Allow},
		{"account id matches session", stmt(`{"AWS":"222222222222"}`), sessionB, Allow},
		{"account id other account", stmt(`{"AWS":"333333333333"}`), userB, ImplicitDeny},
		{"account root matches session", stmt(`{"AWS":"arn:aws:iam::222222222222:root"}`), sessionB, Allow},
		{"account root other partition", stmt(`{"AWS":"arn:aws-cn:iam::222222222222:root"}`), sessionB, ImplicitDeny},
		{"user arn matches user", stmt(`{"AWS":"arn:aws:iam::222222222222:user/ci"}`), userB, Allow},
		{"user arn other user", stmt(`{"AWS":"arn:aws:iam::222222222222:user/other"}`), userB, ImplicitDeny},
		{"role arn matches its session", stmt(`{"AWS":"arn:aws:iam::222222222222:role/R"}`), sessionB, Allow},
		{"role arn other role", stmt(`{"AWS":"arn:aws:iam::222222222222:role/R2"}`), sessionB, ImplicitDeny},
		{"role arn does not match a user", stmt(`{"AWS":"arn:aws:iam::222222222222:role/ci"}`), userB, ImplicitDeny},
		{"session arn matches session", stmt(`{"AWS":"arn:aws:sts::222222222222:assumed-role/R/sess"}`), sessionB, Allow},
		{"session arn other session", stmt(`{"AWS":"arn:aws:sts::222222222222:assumed-role/R/other"}`), sessionB, ImplicitDeny},
		{"federated matches", stmt(`{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"}`), webIdentity, Allow},
		{"federated other provider", stmt(`{"Federated":"accounts.google.com"}`), webIdentity, ImplicitDeny},
		{"federated does not match aws principal", stmt(`{"Federated":"accounts.google.com"}`), userB, ImplicitDeny},
		{"service matches", stmt(`{"Service":"lambda.amazonaws.com"}`), Principal{Service: "lambda.amazonaws.com"}, Allow},
		{"service does not match user", stmt(`{"Service":"lambda.amazonaws.com"}`), userB, ImplicitDeny},
		{"one of several entries", stmt(`{"AWS":["333333333333","arn:aws:iam::222222222222:role/R"],"Service":"ec2.amazonaws.com"}`), sessionB, Allow},
		{"statement without principal never applies", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, userB, ImplicitDeny},
		{"not principal deny applies to others",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::222222222222:user/ci"},"Action":"*","Resource":"*"}]}`,
			sessionB, ExplicitDeny},
		{"not principal listing user alone still denies it (account not listed)",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::222222222222:user/ci"},"Action":"*","Resource":"*"}]}`,
			userB, ExplicitDeny},
		{"not principal listing user and account exempts it",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::222222222222:user/ci","222222222222"]},"Action":"*","Resource":"*"}]}`,
			userB, Allow},
		{"not principal exempts session only with session, role and account",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::222222222222:assumed-role/R/sess","arn:aws:iam::222222222222:role/R","arn:aws:iam::222222222222:root"]},"Action":"*","Resource":"*"}]}`,
			sessionB, Allow},
		// Allow with NotPrincipal grants everyone but the listed; for a caller
		// listed under any of its identities, the stricter reading is that
		// it is excluded (AWS advises against the combination and documents
		// the all-identities rule only for Deny).
		{"not principal allow excludes a caller listed by role only",
			`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::222222222222:role/R"},"Action":"*","Resource":"*"}}`,
			sessionB, ImplicitDeny},
		{"not principal allow excludes a caller listed by account only",
			`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"222222222222"},"Action":"*","Resource":"*"}}`,
			userB, ImplicitDeny},
		{"not principal allow grants others",
			`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"333333333333"},"Action":"*","Resource":"*"}}`,
			userB, Allow},
		{"not principal with role and account but not session denies",
			`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::222222222222:role/R","arn:aws:iam::222222222222:root"]},"Action":"*","Resource":"*"}]}`,
			sessionB, ExplicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, tc.policy).EvaluateResource(Request{Action: "signer:SignPayload", Resource: profileARN, Principal: tc.caller})
			if got != tc.want {
				t.Errorf("EvaluateResource = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvaluateConditions(t *testing.T) {
	t.Parallel()
	trust := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole","Condition":` + cond + `}}`
	}
	extID := func(v string) map[string]string { return map[string]string{"sts:ExternalId": v} }
	tests := []struct {
		name    string
		cond    string
		caller  Principal
		context map[string]string
		want    Decision
	}{
		{"external id match", `{"StringEquals":{"sts:ExternalId":"secret-1"}}`, sessionB, extID("secret-1"), Allow},
		{"external id mismatch", `{"StringEquals":{"sts:ExternalId":"secret-1"}}`, sessionB, extID("secret-2"), ImplicitDeny},
		{"external id missing", `{"StringEquals":{"sts:ExternalId":"secret-1"}}`, sessionB, nil, ImplicitDeny},
		{"external id case-sensitive value", `{"StringEquals":{"sts:ExternalId":"secret-1"}}`, sessionB, extID("SECRET-1"), ImplicitDeny},
		{"condition key case-insensitive", `{"StringEquals":{"STS:externalid":"secret-1"}}`, sessionB, map[string]string{"sts:EXTERNALID": "secret-1"}, Allow},
		{"multiple values are ORed", `{"StringEquals":{"sts:ExternalId":["a","secret-1"]}}`, sessionB, extID("secret-1"), Allow},
		{"multiple keys are ANDed (one fails)", `{"StringEquals":{"sts:ExternalId":"secret-1","aws:PrincipalAccount":"333333333333"}}`, sessionB, extID("secret-1"), ImplicitDeny},
		{"multiple operators are ANDed (both hold)", `{"StringEquals":{"sts:ExternalId":"secret-1"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/*"}}`, sessionB, extID("secret-1"), Allow},
		{"principal account matches", `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`, userB, nil, Allow},
		{"principal account mismatch", `{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}`, userB, nil, ImplicitDeny},
		{"principal account cannot be spoofed by context", `{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}`, userB, map[string]string{"aws:PrincipalAccount": "333333333333"}, ImplicitDeny},
		{"principal arn of session is the role arn", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/R"}}`, sessionB, nil, Allow},
		{"principal arn of session is not the session arn", `{"StringEquals":{"aws:PrincipalArn":"arn:aws:sts::222222222222:assumed-role/R/sess"}}`, sessionB, nil, ImplicitDeny},
		{"principal arn of user", `{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:user/ci"}}`, userB, nil, Allow},
		{"string not equals holds", `{"StringNotEquals":{"sts:ExternalId":"bad"}}`, sessionB, extID("good"), Allow},
		{"string not equals fails", `{"StringNotEquals":{"sts:ExternalId":["x","bad"]}}`, sessionB, extID("bad"), ImplicitDeny},
		{"string not equals with missing key is true", `{"StringNotEquals":{"sts:ExternalId":"bad"}}`, sessionB, nil, Allow},
		{"string like", `{"StringLike":{"sts:ExternalId":"team-?-*"}}`, sessionB, extID("team-a-123"), Allow},
		{"string like no match", `{"StringLike":{"sts:ExternalId":"team-?-*"}}`, sessionB, extID("team-ab-123"), ImplicitDeny},
		{"string like missing key", `{"StringLike":{"sts:ExternalId":"*"}}`, sessionB, nil, ImplicitDeny},
		{"string not like holds", `{"StringNotLike":{"sts:ExternalId":"prod-*"}}`, sessionB, extID("dev-1"), Allow},
		{"string not like fails", `{"StringNotLike":{"sts:ExternalId":"prod-*"}}`, sessionB, extID("prod-1"), ImplicitDeny},
		{"string not like with missing key is true", `{"StringNotLike":{"sts:ExternalId":"prod-*"}}`, sessionB, nil, Allow},
		{"string equals ignore case", `{"StringEqualsIgnoreCase":{"sts:ExternalId":"Secret"}}`, sessionB, extID("sECRET"), Allow},
		{"string equals ignore case mismatch", `{"StringEqualsIgnoreCase":{"sts:ExternalId":"Secret"}}`, sessionB, extID("secrets"), ImplicitDeny},
		{"string not equals ignore case", `{"StringNotEqualsIgnoreCase":{"sts:ExternalId":"Secret"}}`, sessionB, extID("SECRET"), ImplicitDeny},
		{"arn like wildcard", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/R"}}`, sessionB, nil, Allow},
		{"arn like is case-sensitive", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/r"}}`, sessionB, nil, ImplicitDeny},
		{"arn like wildcard stays in its component", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:*:role/R"}}`, sessionB, nil, ImplicitDeny},
		{"arn like on non-arn value", `{"ArnLike":{"sts:ExternalId":"arn:*:*:*:*:*"}}`, sessionB, extID("not-an-arn"), ImplicitDeny},
		{"arn not equals", `{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/Other"}}`, sessionB, nil, Allow},
		{"arn not like fails", `{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/*"}}`, sessionB, nil, ImplicitDeny},
		{"bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, sessionB, map[string]string{"aws:SecureTransport": "true"}, Allow},
		{"bool json true", `{"Bool":{"aws:SecureTransport":true}}`, sessionB, map[string]string{"aws:SecureTransport": "true"}, Allow},
		{"bool mismatch", `{"Bool":{"aws:SecureTransport":"true"}}`, sessionB, map[string]string{"aws:SecureTransport": "false"}, ImplicitDeny},
		{"bool missing", `{"Bool":{"aws:SecureTransport":"false"}}`, sessionB, nil, ImplicitDeny},
		{"if exists missing key", `{"StringEqualsIfExists":{"sts:ExternalId":"secret-1"}}`, sessionB, nil, Allow},
		{"if exists present mismatch", `{"StringEqualsIfExists":{"sts:ExternalId":"secret-1"}}`, sessionB, extID("x"), ImplicitDeny},
		{"null true with missing key", `{"Null":{"sts:ExternalId":"true"}}`, sessionB, nil, Allow},
		{"null true with present key", `{"Null":{"sts:ExternalId":"true"}}`, sessionB, extID("x"), ImplicitDeny},
		{"null false with present key", `{"Null":{"sts:ExternalId":"false"}}`, sessionB, extID("x"), Allow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, trust(tc.cond))
			got := p.EvaluateResource(Request{Action: "sts:AssumeRole", Resource: roleARN, Principal: tc.caller, Context: tc.context})
			if got != tc.want {
				t.Errorf("EvaluateResource = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"", "", false, true},
		{"*", "", false, true},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"*x", "xxxxx", false, true},
		{"é?", "éü", false, true},
		{"ABC", "abc", true, true},
		{"ABC", "abc", false, false},
		{"a\xffb", "a\xfeb", false, false},
		{"a?b", "a\xfeb", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"~"+tc.s, func(t *testing.T) {
			t.Parallel()
			if got := globMatch(tc.pattern, tc.s, tc.fold); got != tc.want {
				t.Errorf("globMatch(%q, %q, %v) = %v, want %v", tc.pattern, tc.s, tc.fold, got, tc.want)
			}
		})
	}
}
