package emulator_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestGetCallerIdentity(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	tests := []struct {
		name        string
		creds       func() aws.Credentials
		wantARN     string
		wantAccount string
		wantUserID  string
	}{
		{"user", func() aws.Credentials { return ciKeys }, ciUserARN, accountB, "AIDA"},
		{"assumed role", func() aws.Credentials { return e.ciSession(t) }, "arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session", accountB, "AROA"},
		{"chained role", func() aws.Credentials { return e.signerSession(t) }, "arn:aws:sts::111111111111:assumed-role/xsigner-signer/test-session", accountA, "AROA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.sts(tc.creds()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *out.Arn != tc.wantARN || *out.Account != tc.wantAccount || !strings.HasPrefix(*out.UserId, tc.wantUserID) {
				t.Errorf("got %s %s %s, want %s %s %s...", *out.Arn, *out.Account, *out.UserId, tc.wantARN, tc.wantAccount, tc.wantUserID)
			}
		})
	}
}

func TestAssumeRole(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	ciSession := e.ciSession(t)
	before := time.Now().Truncate(time.Second)
	out, err := e.sts(ciSession).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(signerRole),
		RoleSessionName: aws.String("sign-1"), ExternalId: aws.String(externalID), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if k := *out.Credentials.AccessKeyId; !strings.HasPrefix(k, "ASIA") || len(k) != 20 {
		t.Errorf("access key id %q is not an ASIA session key", k)
	}
	if exp := *out.Credentials.Expiration; exp.Before(before.Add(900*time.Second)) || exp.After(time.Now().Add(901*time.Second)) {
		t.Errorf("expiration %v is not 900 s from now", exp)
	}
	if got := *out.AssumedRoleUser.Arn; got != "arn:aws:sts::111111111111:assumed-role/xsigner-signer/sign-1" {
		t.Errorf("assumed role ARN %s", got)
	}
	if !strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":sign-1") {
		t.Errorf("assumed role id %s", *out.AssumedRoleUser.AssumedRoleId)
	}

	denied := func(caller, role string) string {
		return "User: " + caller + " is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	ciSessionARN := "arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session"
	tests := []struct {
		name    string
		caller  aws.Credentials
		in      sts.AssumeRoleInput
		status  int
		code    string
		message string
	}{
		{"wrong external id", ciSession, sts.AssumeRoleInput{RoleArn: aws.String(signerRole), RoleSessionName: aws.String("s1"), ExternalId: aws.String("wrong-id")},
			403, "AccessDenied", denied(ciSessionARN, signerRole)},
		{"missing external id", ciSession, sts.AssumeRoleInput{RoleArn: aws.String(signerRole), RoleSessionName: aws.String("s1")},
			403, "AccessDenied", denied(ciSessionARN, signerRole)},
		{"not trusted", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(signerRole), RoleSessionName: aws.String("s1"), ExternalId: aws.String(externalID)},
			403, "AccessDenied", denied(ciUserARN, signerRole)},
		{"no identity policy", adminKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s1")},
			403, "AccessDenied", denied("arn:aws:iam::111111111111:user/admin", ciRole)},
		{"role does not exist", ciSession, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/nope"), RoleSessionName: aws.String("s1")},
			403, "AccessDenied", denied(ciSessionARN, "arn:aws:iam::111111111111:role/nope")},
		{"role chaining over one hour", ciSession, sts.AssumeRoleInput{RoleArn: aws.String(signerRole), RoleSessionName: aws.String("s1"), ExternalId: aws.String(externalID), DurationSeconds: aws.Int32(3601)},
			400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
		{"over max session duration", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(3601)},
			400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"session name too short", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s")},
			400, "ValidationError", "1 validation error detected: Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"session name pattern", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("bad name")},
			400, "ValidationError", `1 validation error detected: Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`},
		{"duration too short and external id too short", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(899), ExternalId: aws.String("x")},
			400, "ValidationError", "2 validation errors detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900; Value 'x' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"duration too long", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(43201)},
			400, "ValidationError", "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"},
		{"role arn too short", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1:r"), RoleSessionName: aws.String("s1")},
			400, "ValidationError", "1 validation error detected: Value 'arn:aws:iam::1:r' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"session policy not emulated", ciKeys, sts.AssumeRoleInput{RoleArn: aws.String(ciRole), RoleSessionName: aws.String("s1"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)},
			400, "ValidationError", "xsigner-emulator does not emulate the Policy parameter; remove it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sts(tc.caller).AssumeRole(ctx, &tc.in)
			wantAPIError(t, err, tc.status, tc.code, tc.message)
		})
	}
}

func TestAuthenticationErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	session := e.ciSession(t)
	expiring := e.assume(t, ciKeys, ciRole, "", 900)
	e.clock.Advance(901 * time.Second)
	sigMismatch := "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	invalidToken := "The security token included in the request is invalid."
	expired := "The security token included in the request is expired"
	tests := []struct {
		name                    string
		creds                   aws.Credentials
		stsStatus               int
		stsCode                 string
		signerStatus            int
		signerCode, wantMessage string
	}{
		{"unknown access key", aws.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"},
			403, "InvalidClientTokenId", 403, "UnrecognizedClientException", invalidToken},
		{"wrong secret", aws.Credentials{AccessKeyID: ciKeys.AccessKeyID, SecretAccessKey: "wrong"},
			403, "SignatureDoesNotMatch", 403, "InvalidSignatureException", sigMismatch},
		{"session key without token", aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey},
			403, "InvalidClientTokenId", 403, "UnrecognizedClientException", invalidToken},
		{"session key with wrong token", aws.Credentials{AccessKeyID: session.AccessKeyID, SecretAccessKey: session.SecretAccessKey, SessionToken: "forged"},
			403, "InvalidClientTokenId", 403, "UnrecognizedClientException", invalidToken},
		{"user key with a token", aws.Credentials{AccessKeyID: ciKeys.AccessKeyID, SecretAccessKey: ciKeys.SecretAccessKey, SessionToken: session.SessionToken},
			403, "InvalidClientTokenId", 403, "UnrecognizedClientException", invalidToken},
		{"expired session", expiring,
			400, "ExpiredToken", 403, "ExpiredTokenException", expired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sts(tc.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			wantAPIError(t, err, tc.stsStatus, tc.stsCode, tc.wantMessage)
			_, err = e.signer(tc.creds).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profileName)})
			wantAPIError(t, err, tc.signerStatus, tc.signerCode, tc.wantMessage)
		})
	}
	t.Run("missing authentication", func(t *testing.T) {
		r := e.do(t, aws.Credentials{}, "sts", http.MethodPost, "/", []byte("Action=GetCallerIdentity&Version=2011-06-15"),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		var er struct {
			Error     struct{ Type, Code, Message string }
			RequestId string
		}
		if err := xml.Unmarshal(r.Body, &er); err != nil {
			t.Fatalf("%q: %v", r.Body, err)
		}
		if r.Status != 403 || er.Error.Code != "MissingAuthenticationToken" || er.Error.Type != "Sender" || er.RequestId != r.Header.Get("X-Amzn-RequestId") || er.RequestId == "" {
			t.Errorf("got %d %s", r.Status, r.Body)
		}
		r = e.do(t, aws.Credentials{}, "signer", http.MethodGet, "/signing-profiles/release_signer", nil, nil)
		wantRawSignerError(t, r, 403, "MissingAuthenticationTokenException", "Missing Authentication Token")
		// Presigned (query-string) authentication is not accepted.
		presigned := "/signing-profiles/release_signer?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + ciKeys.AccessKeyID +
			"%2F20260101%2Fus-west-2%2Fsigner%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
		r = e.do(t, aws.Credentials{}, "signer", http.MethodGet, presigned, nil, nil)
		wantRawSignerError(t, r, 403, "MissingAuthenticationTokenException", "Missing Authentication Token")
		r = e.do(t, aws.Credentials{}, "ecr", http.MethodPost, "/", []byte("{}"), http.Header{
			"X-Amz-Target": {"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"}, "Content-Type": {"application/x-amz-json-1.1"}})
		if r.Status != 403 || r.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
			t.Errorf("unsigned ECR call: %d %s %s", r.Status, r.Header.Get("X-Amzn-ErrorType"), r.Body)
		}
	})
	t.Run("credential scoped to another service", func(t *testing.T) {
		// Signed for signer but sent to STS's POST /: routed by scope to Signer, which has no such route.
		r := e.do(t, ciKeys, "signer", http.MethodPost, "/", []byte("Action=GetCallerIdentity&Version=2011-06-15"),
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
		wantRawSignerError(t, r, 404, "UnknownOperationException", "No operation matches POST /")
	})
}

func TestAssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	// world-web-identity.json is the example world plus an OIDC provider
	// trusted by account B's CI role (GitHub-Actions-style sub/aud keys).
	e := startWorld(t, readWorld(t, "testdata/world-web-identity.json"))
	ctx := context.Background()
	token := func(t *testing.T, iss, sub, aud string, ttl int) string {
		var out struct{ Token, Error string }
		if st := e.admin(t, http.MethodPost, "web-identity-token", map[string]any{"issuer": iss, "subject": sub, "audience": aud, "ttlSeconds": ttl}, &out); st != 200 {
			t.Fatalf("minting token: %d %s", st, out.Error)
		}
		return out.Token
	}
	assume := func(tok string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return e.anonymousSTS().AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
			RoleArn: aws.String(ciRole), RoleSessionName: aws.String("gh-run-1"), WebIdentityToken: aws.String(tok)})
	}
	good := token(t, issuer, "repo:xsigner/xsigner:ref:refs/heads/main", "sts.amazonaws.com", 600)
	out, err := assume(good)
	if err != nil {
		t.Fatal(err)
	}
	if *out.SubjectFromWebIdentityToken != "repo:xsigner/xsigner:ref:refs/heads/main" || *out.Provider != issuer || *out.Audience != "sts.amazonaws.com" {
		t.Errorf("got subject %s provider %s audience %s", *out.SubjectFromWebIdentityToken, *out.Provider, *out.Audience)
	}
	id, err := e.sts(aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != "arn:aws:sts::222222222222:assumed-role/codebuild-ci/gh-run-1" {
		t.Fatalf("GetCallerIdentity with web identity session: %v %v", id, err)
	}

	t.Run("token must be unforgeable", func(t *testing.T) {
		parts := strings.Split(good, ".")
		forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
		_, err := assume(forged)
		wantAPIError(t, err, 400, "InvalidIdentityToken", "Couldn't verify the signature of the token")
	})
	t.Run("subject not trusted", func(t *testing.T) {
		_, err := assume(token(t, issuer, "repo:someone-else/app:ref:refs/heads/main", "sts.amazonaws.com", 600))
		wantAPIError(t, err, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	})
	t.Run("audience not registered", func(t *testing.T) {
		_, err := assume(token(t, issuer, "repo:xsigner/xsigner", "other-client", 600))
		wantAPIError(t, err, 400, "InvalidIdentityToken", "Incorrect token audience")
	})
	t.Run("not a JWT", func(t *testing.T) {
		_, err := assume("not-a-jwt")
		wantAPIError(t, err, 400, "InvalidIdentityToken", "The ID token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	})
	t.Run("unknown issuer cannot be minted", func(t *testing.T) {
		var out struct{ Error string }
		if st := e.admin(t, http.MethodPost, "web-identity-token", map[string]any{"issuer": "https://evil.example", "subject": "s", "audience": "a"}, &out); st != 400 {
			t.Errorf("status %d, want 400", st)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		tok := token(t, issuer, "repo:xsigner/xsigner", "sts.amazonaws.com", 60)
		e.clock.Advance(61 * time.Second)
		_, err := assume(tok)
		wantAPIError(t, err, 400, "ExpiredTokenException", "*")
	})
}

func TestSTSProtocolErrors(t *testing.T) {
	t.Parallel()
	e := start(t)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name   string
		body   url.Values
		status int
		code   string
	}{
		{"unknown action", url.Values{"Action": {"GetSessionToken"}, "Version": {"2011-06-15"}}, 400, "InvalidAction"},
		{"missing action", url.Values{"Version": {"2011-06-15"}}, 400, "MissingAction"},
		{"wrong version", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2099-01-01"}}, 400, "InvalidAction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, ciKeys, "sts", http.MethodPost, "/", []byte(tc.body.Encode()), form)
			var er struct {
				Error struct{ Code string }
			}
			if err := xml.Unmarshal(r.Body, &er); err != nil || r.Status != tc.status || er.Error.Code != tc.code {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
}

// TestAssumeRoleRequestedRegion: aws:RequestedRegion is set for STS as for
// the other services, so the common "deny outside approved regions" policy
// works (a missing key made a StringEquals Deny never apply).
func TestAssumeRoleRequestedRegion(t *testing.T) {
	t.Parallel()
	e := startWorld(t, `{"accounts": {"111111111111": {
	  "users": {"u": {"accessKeys": [{"accessKeyId": "AKIAREGIONUSER11EXMP", "secretAccessKey": "s"}],
	    "policies": [{"Version": "2012-10-17", "Statement": [
	      {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
	      {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]}]}},
	  "roles": {"r": {"trustPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "111111111111"}}]}}}}}}`)
	keys := aws.Credentials{AccessKeyID: "AKIAREGIONUSER11EXMP", SecretAccessKey: "s"}
	in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/r"), RoleSessionName: aws.String("sess")}
	if _, err := e.stsIn("us-west-2", keys).AssumeRole(context.Background(), in); err != nil {
		t.Fatalf("us-west-2: %v", err)
	}
	_, err := e.stsIn("eu-west-1", keys).AssumeRole(context.Background(), in)
	wantAPIError(t, err, 403, "AccessDenied", "User: arn:aws:iam::111111111111:user/u is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/r")
}
