package iam

import (
	"testing"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	const (
		allowSign       = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"` + profileARN + `"}}`
		allowAll        = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
		denySign        = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"signer:SignPayload","Resource":"*"}}`
		allowAssumeRole = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}}`
	)
	resourceAllow := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":` + principal + `,"Action":"signer:SignPayload","Resource":"` + profileARN + `"}}`
	}
	resourceDeny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"signer:*","Resource":"*"},` +
		`{"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"signer:SignPayload","Resource":"*"}]}`
	trust := func(principal, cond string) string {
		c := ""
		if cond != "" {
			c = `,"Condition":` + cond
		}
		return `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"` + c + `}}`
	}
	sign := func(p Principal) Request {
		return Request{Action: "signer:SignPayload", Resource: profileARN, Principal: p}
	}
	assume := func(p Principal, ctx map[string]string) Request {
		return Request{Action: "sts:AssumeRole", Resource: roleARN, Principal: p, Context: ctx}
	}
	webIdentity := Principal{Federated: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"}

	tests := []struct {
		name            string
		req             Request
		identity        []string
		resource        string // "" = no resource policy
		requireResource bool
		wantAllowed     bool
		wantReason      string
	}{
		// Same account, identity policies only.
		{"same account identity allow", sign(sessionA), []string{allowSign}, "", false, true, "allowed by an identity-based policy"},
		{"same account no policy", sign(sessionA), nil, "", false, false, "no identity-based policy allows the signer:SignPayload action"},
		{"same account other action only", sign(sessionA), []string{allowAssumeRole}, "", false, false, "no identity-based policy allows the signer:SignPayload action"},
		{"explicit deny across identity policies wins", sign(sessionA), []string{allowAll, denySign}, "", false, false, "explicit deny in an identity-based policy"},
		{"explicit deny in resource policy wins over identity allow", sign(sessionB), []string{allowAll}, resourceDeny, false, false, "explicit deny in a resource-based policy"},
		{"explicit deny in identity wins over resource allow", sign(userA), []string{denySign}, resourceAllow(`{"AWS":"arn:aws:iam::111111111111:user/alice"}`), false, false, "explicit deny in an identity-based policy"},

		// Cross-account needs both sides.
		{"cross account both sides allow", sign(sessionB), []string{allowSign}, resourceAllow(`{"AWS":"222222222222"}`), false, true, "allowed by identity-based and resource-based policies"},
		{"cross account resource names role", sign(sessionB), []string{allowSign}, resourceAllow(`{"AWS":"arn:aws:iam::222222222222:role/R"}`), false, true, "allowed by identity-based and resource-based policies"},
		{"cross account identity only", sign(sessionB), []string{allowSign}, "", false, false, "no resource-based policy allows the signer:SignPayload action"},
		{"cross account resource policy for another account", sign(sessionB), []string{allowSign}, resourceAllow(`{"AWS":"333333333333"}`), false, false, "no resource-based policy allows the signer:SignPayload action"},
		{"cross account resource only", sign(sessionB), nil, resourceAllow(`{"AWS":"222222222222"}`), false, false, "no identity-based policy allows the signer:SignPayload action"},
		{"cross account resource names the session itself, still needs identity", sign(sessionB), nil, resourceAllow(`{"AWS":"arn:aws:sts::222222222222:assumed-role/R/sess"}`), false, false, "no identity-based policy allows the signer:SignPayload action"},
		{"cross account resource star, still needs identity", sign(sessionB), nil, resourceAllow(`"*"`), false, false, "no identity-based policy allows the signer:SignPayload action"},

		// Same account with a resource policy.
		{"same account resource names the user", sign(userA), nil, resourceAllow(`{"AWS":"arn:aws:iam::111111111111:user/alice"}`), false, true, "allowed by a resource-based policy that names the principal"},
		{"same account resource names the role of the session", sign(sessionA), nil, resourceAllow(`{"AWS":"` + roleARN + `"}`), false, true, "allowed by a resource-based policy that names the principal"},
		{"same account resource names the session", sign(sessionA), nil, resourceAllow(`{"AWS":"arn:aws:sts::111111111111:assumed-role/SignerRole/s1"}`), false, true, "allowed by a resource-based policy that names the principal"},
		{"same account resource star", sign(userA), nil, resourceAllow(`"*"`), false, true, "allowed by a resource-based policy that names the principal"},
		{"same account resource names account id only", sign(userA), nil, resourceAllow(`{"AWS":"111111111111"}`), false, false, "no identity-based policy allows the signer:SignPayload action"},
		{"same account resource names account root only", sign(sessionA), nil, resourceAllow(`{"AWS":"arn:aws:iam::111111111111:root"}`), false, false, "no identity-based policy allows the signer:SignPayload action"},
		{"same account account root plus identity allow", sign(sessionA), []string{allowSign}, resourceAllow(`{"AWS":"arn:aws:iam::111111111111:root"}`), false, true, "allowed by an identity-based policy"},
		{"account root caller named by root arn", sign(rootA), nil, resourceAllow(`{"AWS":"arn:aws:iam::111111111111:root"}`), false, true, "allowed by a resource-based policy that names the principal"},
		{"same account resource for another principal", sign(userA), nil, resourceAllow(`{"AWS":"arn:aws:iam::111111111111:user/bob"}`), false, false, "no identity-based policy allows the signer:SignPayload action"},

		// Role trust policies (requireResourceAllow).
		{"assume role cross account", assume(sessionB, nil), []string{allowAssumeRole}, trust(`{"AWS":"arn:aws:iam::222222222222:role/R"}`, ""), true, true, "allowed by identity-based and resource-based policies"},
		{"assume role cross account account root trust", assume(userB, nil), []string{allowAssumeRole}, trust(`{"AWS":"222222222222"}`, ""), true, true, "allowed by identity-based and resource-based policies"},
		{"assume role cross account no identity allow", assume(sessionB, nil), nil, trust(`{"AWS":"arn:aws:iam::222222222222:role/R"}`, ""), true, false, "no identity-based policy allows the sts:AssumeRole action"},
		{"assume role trust names another role", assume(sessionB, nil), []string{allowAssumeRole}, trust(`{"AWS":"arn:aws:iam::222222222222:role/Other"}`, ""), true, false, "no resource-based policy allows the sts:AssumeRole action"},
		{"assume role no trust policy", assume(sessionB, nil), []string{allowAssumeRole}, "", true, false, "no resource-based policy allows the sts:AssumeRole action"},
		{"assume role same account needs trust even with identity allow", assume(userA, nil), []string{allowAll}, trust(`{"AWS":"333333333333"}`, ""), true, false, "no resource-based policy allows the sts:AssumeRole action"},
		{"assume role same account trust names user", assume(userA, nil), nil, trust(`{"AWS":"arn:aws:iam::111111111111:user/alice"}`, ""), true, true, "allowed by a resource-based policy that names the principal"},
		{"assume role same account trust names account only", assume(userA, nil), nil, trust(`{"AWS":"111111111111"}`, ""), true, false, "no identity-based policy allows the sts:AssumeRole action"},
		{"assume role same account trust names account plus identity", assume(userA, nil), []string{allowAssumeRole}, trust(`{"AWS":"111111111111"}`, ""), true, true, "allowed by identity-based and resource-based policies"},
		{"external id match", assume(sessionB, map[string]string{"sts:ExternalId": "xyz"}), []string{allowAssumeRole},
			trust(`{"AWS":"222222222222"}`, `{"StringEquals":{"sts:ExternalId":"xyz"}}`), true, true, "allowed by identity-based and resource-based policies"},
		{"external id mismatch", assume(sessionB, map[string]string{"sts:ExternalId": "abc"}), []string{allowAssumeRole},
			trust(`{"AWS":"222222222222"}`, `{"StringEquals":{"sts:ExternalId":"xyz"}}`), true, false, "no resource-based policy allows the sts:AssumeRole action"},
		{"external id missing", assume(sessionB, nil), []string{allowAssumeRole},
			trust(`{"AWS":"222222222222"}`, `{"StringEquals":{"sts:ExternalId":"xyz"}}`), true, false, "no resource-based policy allows the sts:AssumeRole action"},
		{"web identity trusted provider", Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: roleARN, Principal: webIdentity}, nil,
			`{"Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`,
			true, true, "allowed by a resource-based policy"},
		{"web identity untrusted provider", Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: roleARN, Principal: webIdentity}, nil,
			`{"Statement":{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity"}}`,
			true, false, "no resource-based policy allows the sts:AssumeRoleWithWebIdentity action"},
		{"web identity with aws star trust", Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: roleARN, Principal: webIdentity}, nil,
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}}`,
			true, false, "no resource-based policy allows the sts:AssumeRoleWithWebIdentity action"},

		// Global condition keys in identity and resource policies.
		{"identity condition on principal account", sign(sessionA),
			[]string{`{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"111111111111"}}}}`},
			"", false, true, "allowed by an identity-based policy"},
		{"resource condition on principal arn (role of the session)", sign(sessionB), []string{allowSign},
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"signer:SignPayload","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/R"}}}}`,
			false, true, "allowed by identity-based and resource-based policies"},
		{"resource condition on principal arn excludes other principals", sign(userB), []string{allowSign},
			`{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"signer:SignPayload","Resource":"*","Condition":{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/R"}}}}`,
			false, false, "no resource-based policy allows the signer:SignPayload action"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var identity []*Policy
			for _, doc := range tc.identity {
				identity = append(identity, mustParse(t, doc))
			}
			var resource *Policy
			if tc.resource != "" {
				resource = mustParse(t, tc.resource)
			}
			got := Authorize(tc.req, identity, resource, acctA, tc.requireResource)
			if got.Allowed != tc.wantAllowed || got.Reason != tc.wantReason {
				t.Errorf("Authorize = {Allowed:%v Reason:%q} (identity %v, resource %v), want {Allowed:%v Reason:%q}",
					got.Allowed, got.Reason, got.Identity, got.Resource, tc.wantAllowed, tc.wantReason)
			}
		})
	}
}

func TestAuthorizeNilPoliciesAreIgnored(t *testing.T) {
	t.Parallel()
	got := Authorize(Request{Action: "signer:SignPayload", Resource: profileARN, Principal: sessionA}, []*Policy{nil}, nil, acctA, false)
	if got.Allowed {
		t.Fatalf("Authorize with nil policies allowed: %+v", got)
	}
}

func BenchmarkAuthorize(b *testing.B) {
	identity := []*Policy{
		mustParse(b, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["signer:SignPayload","signer:GetSigningProfile"],"Resource":"arn:aws:signer:*:111111111111:/signing-profiles/*"},
			{"Effect":"Allow","Action":"signer:GetRevocationStatus","Resource":"*"},{"Effect":"Deny","Action":"signer:RevokeSignature","Resource":"*"}]}`),
	}
	resource := mustParse(b, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["222222222222","arn:aws:iam::222222222222:role/R"]},
		"Action":"signer:SignPayload","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}}}`)
	req := Request{Action: "signer:SignPayload", Resource: profileARN, Principal: sessionB}
	b.ReportAllocs()
	for b.Loop() {
		if !Authorize(req, identity, resource, acctA, false).Allowed {
			b.Fatal("denied")
		}
	}
}
