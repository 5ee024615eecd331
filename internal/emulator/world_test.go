package emulator_test

import (
	"os"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/emulator"
)

func TestParseWorld(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("testdata/world-two-accounts.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(example) != string(emulator.ExampleWorldTwoAccounts()) {
		t.Error("ExampleWorldTwoAccounts differs from testdata")
	}
	w, err := emulator.ParseWorld(example)
	if err != nil {
		t.Fatalf("example world: %v", err)
	}
	if len(w.Accounts) != 2 || w.Accounts[accountA].SigningProfiles[0].Name != profileName || w.Accounts[accountB].Roles["codebuild-ci"] == nil {
		t.Errorf("example world parsed as %+v", w)
	}
	if _, err := emulator.ParseWorld([]byte(readWorld(t, "testdata/world-web-identity.json"))); err != nil {
		t.Errorf("web identity world: %v", err)
	}
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole"}]}`
	tests := []struct {
		name, world, wantErr string
	}{
		{"minimal", `{"accounts":{"111111111111":{}}}`, ""},
		{"unknown field", `{"accounts":{"111111111111":{}},"acounts":{}}`, `unknown field "acounts"`},
		{"no accounts", `{}`, `"accounts" is empty`},
		{"short account id", `{"accounts":{"1111":{}}}`, `accounts["1111"]: account id must be 12 digits`},
		{"trailing data", `{"accounts":{"111111111111":{}}} {}`, "trailing data"},
		{"bad user policy", `{"accounts":{"111111111111":{"users":{"u":{"policies":[{"Statement":"x"}]}}}}}`, `accounts["111111111111"].users["u"].policies[0]`},
		{"duplicate access key", `{"accounts":{"111111111111":{"users":{"a":{"accessKeys":[{"accessKeyId":"AKIAAAAAAAAAAAAAAAAA","secretAccessKey":"s"}]},"b":{"accessKeys":[{"accessKeyId":"AKIAAAAAAAAAAAAAAAAA","secretAccessKey":"s"}]}}}}}`, `is also used by`},
		{"session key prefix", `{"accounts":{"111111111111":{"users":{"a":{"accessKeys":[{"accessKeyId":"ASIAAAAAAAAAAAAAAAAA","secretAccessKey":"s"}]}}}}}`, `reserves for session keys`},
		{"empty secret", `{"accounts":{"111111111111":{"users":{"a":{"accessKeys":[{"accessKeyId":"AKIAAAAAAAAAAAAAAAAA"}]}}}}}`, `secretAccessKey is empty`},
		{"role without trust policy", `{"accounts":{"111111111111":{"roles":{"r":{"policies":[` + allow + `]}}}}}`, `trustPolicy is required`},
		{"role session too long", `{"accounts":{"111111111111":{"roles":{"r":{"trustPolicy":` + trust + `,"maxSessionDuration":50000}}}}}`, `maxSessionDuration 50000`},
		{"role with bad path", `{"accounts":{"111111111111":{"roles":{"r":{"trustPolicy":` + trust + `,"path":"ci"}}}}}`, `name or path is not valid`},
		{"role with path", `{"accounts":{"111111111111":{"roles":{"r":{"trustPolicy":` + trust + `,"path":"/ci/"}}}}}`, ""},
		{"bad profile name", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"a-b","region":"us-west-2"}]}}}`, `name "a-b" must be 2 to 64`},
		{"bad region", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"ab","region":"mars"}]}}}`, `region "mars"`},
		{"duplicate profile", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"ab","region":"us-west-2"},{"name":"ab","region":"us-west-2"}]}}}`, `declared twice`},
		{"other platform", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"ab","region":"us-west-2","platformId":"AWSLambda-SHA384-ECDSA"}]}}}`, `platformId "AWSLambda-SHA384-ECDSA" is not supported`},
		{"bad validity", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"ab","region":"us-west-2","signatureValidityPeriod":{"value":1,"type":"WEEKS"}}]}}}`, `type "WEEKS"`},
		{"bad permission action", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"ab","region":"us-west-2","permissions":[{"statementId":"s","action":"signer:StartSigningJob","principal":"222222222222"}]}]}}}`, `Action signer:StartSigningJob not supported`},
		{"permission role with path", `{"accounts":{"111111111111":{"signingProfiles":[{"name":"ab","region":"us-west-2","permissions":[{"statementId":"s","action":"signer:SignPayload","principal":"arn:aws:iam::222222222222:role/p/r"}]}]}}}`, `Principal is not a valid AWS account id or IAM Role Arn`},
		{"http issuer", `{"accounts":{"111111111111":{}},"webIdentity":{"providers":[{"issuer":"http://oidc.example","audiences":["a"]}]}}`, `must be an https URL`},
		{"issuer without audiences", `{"accounts":{"111111111111":{}},"webIdentity":{"providers":[{"issuer":"https://oidc.example"}]}}`, `audiences is empty`},
		{"bad fault", `{"accounts":{"111111111111":{}},"faults":[{"service":"signer"}]}`, `faults[0]: the fault does nothing`},
		{"bad message field", `{"accounts":{"111111111111":{}},"errorMessageField":"msg"}`, `errorMessageField "msg"`},
		{"repository", `{"accounts":{"111111111111":{"repositories":{"team/app":{"region":"us-west-2","policy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"ecr:BatchGetImage"}]}}}}}}`, ""},
		// AWS refuses these documents (MalformedPolicyDocument), so a world
		// that uses them would work here and fail there.
		{"principal in a user policy", `{"accounts":{"111111111111":{"users":{"u":{"policies":[` + trust + `]}}}}}`, `users["u"].policies[0]: malformed policy document: statement 0: identity-based policy has prohibited field Principal`},
		{"role policy without resource", `{"accounts":{"111111111111":{"roles":{"r":{"trustPolicy":` + trust + `,"policies":[{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"signer:*"}]}]}}}}}`, `policy statement must contain resources`},
		{"trust policy with resource", `{"accounts":{"111111111111":{"roles":{"r":{"trustPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Resource":"*"}]}}}}}}`, `trustPolicy: malformed policy document: statement 0: trust policy has prohibited field Resource`},
		{"trust policy without principal", `{"accounts":{"111111111111":{"roles":{"r":{"trustPolicy":` + allow + `}}}}}`, `trust policy statement must contain a Principal`},
		{"repository policy without principal", `{"accounts":{"111111111111":{"repositories":{"team/app":{"region":"us-west-2","policy":` + allow + `}}}}}`, `resource-based policy statement must contain a Principal`},
		{"repository name upper case", `{"accounts":{"111111111111":{"repositories":{"Team/app":{"region":"us-west-2"}}}}}`, `repositories["Team/app"]: name must be`},
		{"repository bad region", `{"accounts":{"111111111111":{"repositories":{"app":{"region":"mars"}}}}}`, `region "mars"`},
		{"repository bad policy", `{"accounts":{"111111111111":{"repositories":{"app":{"region":"us-west-2","policy":{"Statement":"x"}}}}}}`, `repositories["app"].policy`},
		{"ecr fault", `{"accounts":{"111111111111":{}},"faults":[{"service":"ecr","errorCode":"ThrottlingException"}]}`, ""},
		{"fault and message field", `{"accounts":{"111111111111":{}},"faults":[{"service":"sts","errorCode":"Throttling","count":2}],"errorMessageField":"Message"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emulator.ParseWorld([]byte(tc.world))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted, want an error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
	t.Run("New rejects a nil world", func(t *testing.T) {
		if _, err := emulator.New(nil, emulator.Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}
