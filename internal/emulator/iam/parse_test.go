package iam

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func TestParsePolicyShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []Statement // compared field by field, Conditions ignored
	}{
		{
			name: "statement as object, values as strings",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"*"}}`,
			want: []Statement{{Effect: "Allow", Action: []string{"signer:SignPayload"}, Resource: []string{"*"}}},
		},
		{
			name: "statement as array, values as arrays",
			doc: `{"Version":"2012-10-17","Statement":[{"Sid":"A1","Effect":"Allow","Action":["signer:SignPayload","signer:GetSigningProfile"],
				"Resource":["arn:aws:signer:us-west-2:111111111111:/signing-profiles/P"]},{"Effect":"Deny","NotAction":["sts:*"],"NotResource":"*"}]}`,
			want: []Statement{
				{Sid: "A1", Effect: "Allow", Action: []string{"signer:SignPayload", "signer:GetSigningProfile"},
					Resource: []string{"arn:aws:signer:us-west-2:111111111111:/signing-profiles/P"}},
				{Effect: "Deny", NotAction: []string{"sts:*"}, NotResource: []string{"*"}},
			},
		},
		{
			name: "version absent and 2008",
			doc:  `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			want: []Statement{{Effect: "Allow", Action: []string{"*"}, Resource: []string{"*"}}},
		},
		{
			name: "principal star",
			doc:  `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`,
			want: []Statement{{Effect: "Allow", Principal: &Principals{Any: true}, Action: []string{"sts:AssumeRole"}}},
		},
		{
			name: "principal object with string and array entries",
			doc: `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{
				"AWS":["111111111111","arn:aws:iam::222222222222:root","arn:aws:iam::222222222222:user/ci","arn:aws:iam::222222222222:role/path/R",
				"arn:aws:sts::222222222222:assumed-role/R/sess","*"],
				"Service":"ec2.amazonaws.com",
				"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"}}}`,
			want: []Statement{{Effect: "Allow", Action: []string{"sts:AssumeRole"}, Principal: &Principals{
				AWS: []string{"111111111111", "arn:aws:iam::222222222222:root", "arn:aws:iam::222222222222:user/ci",
					"arn:aws:iam::222222222222:role/path/R", "arn:aws:sts::222222222222:assumed-role/R/sess", "*"},
				Service:   []string{"ec2.amazonaws.com"},
				Federated: []string{"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},
			}}},
		},
		{
			name: "not principal",
			doc:  `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"*","Resource":"*"}}`,
			want: []Statement{{Effect: "Deny", NotPrincipal: &Principals{AWS: []string{"111111111111"}}, Action: []string{"*"}, Resource: []string{"*"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tc.doc)
			if len(p.Statements) != len(tc.want) {
				t.Fatalf("got %d statements, want %d", len(p.Statements), len(tc.want))
			}
			for i := range tc.want {
				got := p.Statements[i]
				got.Conditions = nil
				if !reflect.DeepEqual(got, tc.want[i]) {
					t.Errorf("statement %d:\n got %+v\nwant %+v", i, got, tc.want[i])
				}
			}
			if string(p.Raw()) != tc.doc {
				t.Errorf("Raw() does not return the document")
			}
		})
	}
}

func TestParsePolicyConditions(t *testing.T) {
	t.Parallel()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"sts:AssumeRole",
		"Condition":{"StringEquals":{"sts:ExternalId":["a","b"]},"Bool":{"aws:SecureTransport":true},"StringLikeIfExists":{"aws:PrincipalArn":"arn:*"}}}}`)
	got := map[string][]string{}
	for _, c := range p.Statements[0].Conditions {
		got[c.Operator+" "+c.Key] = c.Values
	}
	want := map[string][]string{
		"StringEquals sts:ExternalId":         {"a", "b"},
		"Bool aws:SecureTransport":            {"true"},
		"StringLikeIfExists aws:PrincipalArn": {"arn:*"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conditions = %v, want %v", got, want)
	}
}

func TestParsePolicyMalformed(t *testing.T) {
	t.Parallel()
	const ok = `"Effect":"Allow","Action":"s3:GetObject","Resource":"*"`
	tests := []struct {
		name, doc, wantErr string
	}{
		{"not json", `{`, "invalid JSON"},
		{"empty document", ``, "invalid JSON"},
		{"not an object", `[]`, "JSON object"},
		{"null", `null`, "JSON object"},
		{"trailing data", `{"Statement":{` + ok + `}} {}`, "unexpected data"},
		{"duplicate key", `{"Statement":{` + ok + `,"Effect":"Deny"}}`, `duplicate key "Effect"`},
		{"duplicate top-level key", `{"Statement":{` + ok + `},"Statement":[]}`, `duplicate key "Statement"`},
		{"unknown top-level key", `{"Statement":{` + ok + `},"Extra":1}`, `unknown field "Extra"`},
		{"top-level key wrong case", `{"statement":{` + ok + `}}`, `unknown field "statement"`},
		{"unsupported version", `{"Version":"2020-01-01","Statement":{` + ok + `}}`, "Version"},
		{"version not string", `{"Version":2012,"Statement":{` + ok + `}}`, "Version must be a string"},
		{"missing statement", `{"Version":"2012-10-17"}`, "missing required field Statement"},
		{"empty statement array", `{"Statement":[]}`, "must not be empty"},
		{"statement is a string", `{"Statement":"x"}`, "Statement must be"},
		{"statement element not object", `{"Statement":["x"]}`, "must be a JSON object"},
		{"unknown statement key", `{"Statement":{` + ok + `,"Actions":"x"}}`, `unknown field "Actions"`},
		{"missing effect", `{"Statement":{"Action":"s3:GetObject","Resource":"*"}}`, "missing required field Effect"},
		{"bad effect", `{"Statement":{"Effect":"Permit","Action":"s3:GetObject","Resource":"*"}}`, "Effect must be"},
		{"lower-case effect", `{"Statement":{"Effect":"allow","Action":"s3:GetObject","Resource":"*"}}`, "Effect must be"},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "must contain Action or NotAction"},
		{"action and not action", `{"Statement":{` + ok + `,"NotAction":"s3:PutObject"}}`, "both Action and NotAction"},
		{"resource and not resource", `{"Statement":{` + ok + `,"NotResource":"*"}}`, "both Resource and NotResource"},
		{"principal and not principal", `{"Statement":{` + ok + `,"Principal":"*","NotPrincipal":{"AWS":"111111111111"}}}`, "both Principal and NotPrincipal"},
		{"empty action array", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "must not be an empty array"},
		{"action is a number", `{"Statement":{"Effect":"Allow","Action":5,"Resource":"*"}}`, "Action must be a string"},
		{"action array with a number", `{"Statement":{"Effect":"Allow","Action":["s3:GetObject",5],"Resource":"*"}}`, "Action must be a string"},
		{"action without vendor", `{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, "prefixed by a service"},
		{"resource not an arn", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket"}}`, "must be \"*\" or an ARN"},
		{"resource arn too short", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3"}}`, "must be \"*\" or an ARN"},
		{"policy variable in resource", `{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`, "policy variable"},
		{"policy variable in condition", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"aws:PrincipalArn":"${aws:username}"}}}}`, "policy variable"},
		{"principal string not star", `{"Statement":{` + ok + `,"Principal":"111111111111"}}`, `Principal must be "*"`},
		{"principal empty object", `{"Statement":{` + ok + `,"Principal":{}}}`, "must not be empty"},
		{"principal unknown type", `{"Statement":{` + ok + `,"Principal":{"Aws":"111111111111"}}}`, `invalid principal type "Aws"`},
		{"canonical user principal", `{"Statement":{` + ok + `,"Principal":{"CanonicalUser":"abc"}}}`, "CanonicalUser"},
		{"principal short account", `{"Statement":{` + ok + `,"Principal":{"AWS":"12345"}}}`, "invalid principal"},
		{"principal partial wildcard", `{"Statement":{` + ok + `,"Principal":{"AWS":"arn:aws:iam::111111111111:role/*"}}}`, "invalid principal"},
		{"principal non-principal arn", `{"Statement":{` + ok + `,"Principal":{"AWS":"arn:aws:s3:::bucket"}}}`, "invalid principal"},
		{"principal bad service", `{"Statement":{` + ok + `,"Principal":{"Service":"ec2"}}}`, "invalid principal"},
		{"principal wildcard federated", `{"Statement":{` + ok + `,"Principal":{"Federated":"*"}}}`, "invalid principal"},
		{"not principal star", `{"Statement":{` + ok + `,"NotPrincipal":"*"}}`, `NotPrincipal must not be "*"`},
		{"duplicate sid", `{"Statement":[{"Sid":"A",` + ok + `},{"Sid":"A",` + ok + `}]}`, "must be unique"},
		{"sid not string", `{"Statement":{"Sid":1,` + ok + `}}`, "Sid must be a string"},
		{"condition not object", `{"Statement":{` + ok + `,"Condition":[]}}`, "Condition must be an object"},
		{"condition empty", `{"Statement":{` + ok + `,"Condition":{}}}`, "Condition must not be empty"},
		{"unsupported operator", `{"Statement":{` + ok + `,"Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}}`, "not supported"},
		{"unknown operator", `{"Statement":{` + ok + `,"Condition":{"StringEqual":{"sts:ExternalId":"x"}}}}`, "not supported"},
		{"for any value", `{"Statement":{` + ok + `,"Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"x"}}}}`, "set operators are not supported"},
		{"for all values", `{"Statement":{` + ok + `,"Condition":{"ForAllValues:StringLike":{"aws:TagKeys":"x"}}}}`, "set operators are not supported"},
		{"null if exists", `{"Statement":{` + ok + `,"Condition":{"NullIfExists":{"sts:ExternalId":"true"}}}}`, "not supported"},
		{"operator body not object", `{"Statement":{` + ok + `,"Condition":{"StringEquals":"x"}}}`, "must map condition keys"},
		{"operator without keys", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{}}}}`, "has no condition keys"},
		{"condition key without vendor", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"ExternalId":"x"}}}}`, "prefixed by a service"},
		{"condition value object", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"sts:ExternalId":{"a":1}}}}}`, "value must be"},
		{"condition value null", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"sts:ExternalId":null}}}}`, "value must be"},
		{"condition value empty array", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"sts:ExternalId":[]}}}}`, "must not be an empty array"},
		{"nested too deeply", strings.Repeat("[", 100) + strings.Repeat("]", 100), "nested too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePolicy([]byte(tc.doc))
			if err == nil {
				t.Fatalf("ParsePolicy succeeded (%+v), want error containing %q", p, tc.wantErr)
			}
			var m *MalformedPolicyError
			if !errors.As(err, &m) {
				t.Errorf("error %v is not a *MalformedPolicyError", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidatePolicyKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		validate func(*Policy) error
		doc      string
		wantErr  string // "" = valid
	}{
		{"identity ok", ValidateIdentityPolicy, `{"Statement":{"Sid":"Sign1","Effect":"Allow","Action":"signer:SignPayload","Resource":"*"}}`, ""},
		{"identity with principal", ValidateIdentityPolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"signer:SignPayload","Resource":"*"}}`, "prohibited field Principal"},
		{"identity with not principal", ValidateIdentityPolicy, `{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"111111111111"},"Action":"signer:SignPayload","Resource":"*"}}`, "prohibited field NotPrincipal"},
		{"identity without resource", ValidateIdentityPolicy, `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload"}}`, "must contain resources"},
		{"identity sid with space", ValidateIdentityPolicy, `{"Statement":{"Sid":"a b","Effect":"Allow","Action":"signer:SignPayload","Resource":"*"}}`, "alphanumeric"},
		{"trust ok", ValidateTrustPolicy, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":["sts:AssumeRole","sts:TagSession"]}}`, ""},
		{"trust without principal", ValidateTrustPolicy, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, "must contain a Principal"},
		{"trust with resource", ValidateTrustPolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}`, "prohibited field Resource"},
		{"trust with not resource", ValidateTrustPolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","NotResource":"*"}}`, "prohibited field NotResource"},
		{"trust non-sts action", ValidateTrustPolicy, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}`, "not an sts: action"},
		{"resource ok", ValidateResourcePolicy, `{"Statement":{"Sid":"cross account","Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"signer:SignPayload","Resource":"*"}}`, ""},
		{"resource without principal", ValidateResourcePolicy, `{"Statement":{"Effect":"Allow","Action":"signer:SignPayload","Resource":"*"}}`, "must contain a Principal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.validate(mustParse(t, tc.doc))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
