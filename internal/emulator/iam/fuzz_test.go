package iam

import (
	"errors"
	"testing"
)

// FuzzParsePolicy checks that parsing, validating and evaluating arbitrary
// documents never panics, and that every parse failure is a
// *MalformedPolicyError.
func FuzzParsePolicy(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"*"}}`,
		`{"Statement":[{"Sid":"A","Effect":"Deny","NotAction":["sts:*"],"NotResource":"arn:aws:s3:::b/*"}]}`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::222222222222:role/R"],"Federated":"accounts.google.com"},"Action":"sts:AssumeRole",
			"Condition":{"StringEquals":{"sts:ExternalId":["x",1,true]},"NullIfExists":{"a:b":"true"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/?"}}}}`,
		`{"Statement":{"Effect":"Allow","NotPrincipal":{"Service":"ec2.amazonaws.com"},"Action":"*","Resource":"*"}}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"*"}}}}`,
		`{"Statement":[]}`, `[]`, `null`, `{"a":1,"a":2}`, `{"Statement":{"Effect":"Allow","Action":"s:*","Resource":"arn:\xff:*:*:*:*"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "signer:SignPayload", "arn:aws:signer:us-west-2:111111111111:/signing-profiles/P", "x")
	}
	f.Fuzz(func(t *testing.T, doc []byte, action, resource, extID string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			var m *MalformedPolicyError
			if !errors.As(err, &m) {
				t.Fatalf("error %v is not a *MalformedPolicyError", err)
			}
			return
		}
		_ = ValidateIdentityPolicy(p)
		_ = ValidateTrustPolicy(p)
		_ = ValidateResourcePolicy(p)
		for _, caller := range []Principal{sessionB, userA, rootA, {Federated: "accounts.google.com"}, {}} {
			r := Request{Action: action, Resource: resource, Principal: caller, Context: map[string]string{"sts:ExternalId": extID}}
			_ = p.EvaluateIdentity(r)
			_ = p.EvaluateResource(r)
			_ = Authorize(r, []*Policy{p}, p, acctA, true)
		}
	})
}
