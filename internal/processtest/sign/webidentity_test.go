package sign_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// The web-identity world is the emulator's example (testdata/
// world-web-identity.json), unchanged: role codebuild-ci in account B trusts
// the OIDC issuer https://oidc.xsigner.example for audience sts.amazonaws.com
// and subjects repo:xsigner/*, may sign with release_signer (a profile
// permission names it) and may assume xsigner-signer in account A with the
// ExternalId. That is the GitHub-OIDC / EKS IRSA shape: a token file and a
// role ARN in the environment, no access keys.
const (
	oidcIssuer   = "https://oidc.xsigner.example"
	oidcAudience = "sts.amazonaws.com"
	oidcSubject  = "repo:xsigner/xsigner:ref:refs/heads/main"
	webSession   = "gh-run-4242"
)

// mintToken has the emulator's OIDC issuer mint an ID token (what POST
// /_xsigner/web-identity-token answers).
func mintToken(t testing.TB, emu *emulatortest.Server, subject, audience string, ttl time.Duration) string {
	t.Helper()
	token, err := emu.WebIdentityToken(oidcIssuer, subject, audience, ttl)
	if err != nil {
		t.Fatalf("minting a web identity token: %v", err)
	}
	return token
}

// withoutBaseKeys drops the access keys fixtureFor put into the
// environment, so the SDK chain must find credentials elsewhere.
func withoutBaseKeys(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") && !strings.HasPrefix(kv, "AWS_SESSION_TOKEN=") {
			out = append(out, kv)
		}
	}
	return out
}

// webIdentityFixture is a fixture whose plugin processes get their base
// credentials only from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+
// AWS_ROLE_SESSION_NAME), with token written to the file.
func webIdentityFixture(t *testing.T, emu *emulatortest.Server, token string) *fixture {
	t.Helper()
	f := fixtureFor(t, emu, identity{})
	tokenFile := filepath.Join(t.TempDir(), "token")
	write(t, tokenFile, []byte(token), 0o600)
	f.env = append(withoutBaseKeys(f.env),
		"AWS_WEB_IDENTITY_TOKEN_FILE="+tokenFile,
		"AWS_ROLE_ARN="+codebuildRole,
		"AWS_ROLE_SESSION_NAME="+webSession)
	return f
}

// checkWebIdentityCall checks the first journal entry: an anonymous
// AssumeRoleWithWebIdentity of codebuild-ci with the given outcome.
func checkWebIdentityCall(t testing.TB, calls []emulator.Call, status int, errorCode string) {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("no AWS call was made")
	}
	c := calls[0]
	if c.Service != "sts" || c.Operation != "AssumeRoleWithWebIdentity" || c.Status != status || c.ErrorCode != errorCode || c.Caller != "" {
		t.Errorf("first call %s:%s %d %q caller %q, want an anonymous sts:AssumeRoleWithWebIdentity %d %q:%s",
			c.Service, c.Operation, c.Status, c.ErrorCode, c.Caller, status, errorCode, journal(calls))
	}
	if status == 200 && c.Resource != codebuildRole {
		t.Errorf("AssumeRoleWithWebIdentity of %q, want AWS_ROLE_ARN %q", c.Resource, codebuildRole)
	}
}

// TestSignWebIdentity signs with web identity base credentials (the SDK's
// own provider, reading the token file), with STS reached through
// sts-endpoint-url or through the SDK's AWS_ENDPOINT_URL_STS, with and
// without a role-arn hop into account A. The journal shows who called what;
// the token must not appear in the output or the debug log.
func TestSignWebIdentity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// stsViaEnv: STS is reached through AWS_ENDPOINT_URL_STS instead of
		// pluginConfig sts-endpoint-url.
		stsViaEnv bool
		cfg       []string
		journal   []step // after AssumeRoleWithWebIdentity
	}{
		{
			name: "sts-endpoint-url, role-arn into account A",
			cfg:  []string{"role-arn=" + signerRole, "external-id=" + chainExternalID},
			journal: []step{
				{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci") + webSession},
				{"SignPayload", 200, assumedRole(acctA, "xsigner-signer")},
			},
		},
		{
			name:      "AWS_ENDPOINT_URL_STS, role-arn into account A",
			stsViaEnv: true,
			cfg:       []string{"role-arn=" + signerRole, "external-id=" + chainExternalID},
			journal: []step{
				{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci") + webSession},
				{"SignPayload", 200, assumedRole(acctA, "xsigner-signer")},
			},
		},
		{
			name:    "sts-endpoint-url, web identity session signs (profile permission)",
			journal: []step{{"SignPayload", 200, assumedRole(acctB, "codebuild-ci") + webSession}},
		},
		{
			name:      "AWS_ENDPOINT_URL_STS, web identity session signs (profile permission)",
			stsViaEnv: true,
			journal:   []step{{"SignPayload", 200, assumedRole(acctB, "codebuild-ci") + webSession}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := emulatortest.Start(t, string(emulator.ExampleWorldWebIdentity()))
			token := mintToken(t, emu, oidcSubject, oidcAudience, time.Hour)
			f := webIdentityFixture(t, emu, token)
			logPath := filepath.Join(t.TempDir(), "debug.log")
			cfg := f.config(append(tc.cfg, "debug-log="+logPath)...)
			if tc.stsViaEnv {
				delete(cfg, "sts-endpoint-url")
				f.env = append(f.env, "AWS_ENDPOINT_URL_STS="+emu.URL)
			}
			req := request(t, releaseProfile, artifact(nil), cfg)
			res := f.run(t, req)
			var resp proto.GenerateEnvelopeResponse
			res.Succeeded(t, &resp)
			f.checkEnvelope(t, req, &resp)

			calls := f.emu.Calls()
			checkWebIdentityCall(t, calls, 200, "")
			if len(calls) > 0 {
				checkJournal(t, calls[1:], tc.journal)
			}
			out := []byte(res.Stdout + res.Stderr)
			log := readFile(t, logPath)
			if !bytes.Contains(log, []byte("base credentials")) {
				t.Errorf("debug log does not record the base credentials; is it written at all?")
			}
			// The whole token, and its signature alone (the part that makes
			// it a credential), must not leak.
			secrets := []string{token, token[strings.LastIndex(token, ".")+1:]}
			for name, text := range map[string][]byte{"stdout/stderr": out, "debug log": log} {
				if _, found := containsAny(text, secrets); found {
					t.Errorf("%s contains the web identity token", name)
				}
			}
		})
	}
}

// TestSignWebIdentityRefused: a token STS refuses (expired, or minted for an
// audience the provider is not registered with) fails the sign with
// ACCESS_DENIED, as every other refusal of the caller's credentials does
// (awserr maps ExpiredTokenException, InvalidClientTokenId, ... so), with a
// message that names the operation, the STS error and what is wrong with the
// token, no AssumeRole or SignPayload after it, and the token nowhere in the
// output.
func TestSignWebIdentityRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		audience string
		ttl      time.Duration
		// skew is how far the emulator's clock moves after minting.
		skew     time.Duration
		awsCode  string
		wantCode proto.ErrorCode
		wantIn   []string
	}{
		{
			name:     "expired token",
			audience: oidcAudience,
			ttl:      time.Minute,
			skew:     2 * time.Minute,
			awsCode:  "ExpiredTokenException",
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{"AssumeRoleWithWebIdentity", "ExpiredTokenException", "Token expired"},
		},
		{
			name:     "wrong audience",
			audience: "sigstore",
			ttl:      time.Hour,
			awsCode:  "InvalidIdentityToken",
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{"AssumeRoleWithWebIdentity", "InvalidIdentityToken", "audience"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var skew atomic.Int64
			emu := emulatortest.StartWithOptions(t, string(emulator.ExampleWorldWebIdentity()), emulator.Options{
				Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) },
			})
			token := mintToken(t, emu, oidcSubject, tc.audience, tc.ttl)
			skew.Store(int64(tc.skew))
			f := webIdentityFixture(t, emu, token)
			cfg := f.config("role-arn="+signerRole, "external-id="+chainExternalID)
			res := f.run(t, request(t, releaseProfile, artifact(nil), cfg))
			e := res.Failed(t)
			t.Logf("%s: %s", e.ErrCode, e.Message)
			if e.ErrCode != tc.wantCode {
				t.Errorf("code %s, want %s: %s", e.ErrCode, tc.wantCode, e.Message)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message does not contain %q:\n%s", s, e.Message)
				}
			}
			calls := f.emu.Calls()
			checkWebIdentityCall(t, calls, 400, tc.awsCode)
			// The SDK retries InvalidIdentityToken (IdP eventual
			// consistency), within the plugin's attempt budget.
			if n := len(calls); n > 5 {
				t.Errorf("%d AssumeRoleWithWebIdentity attempts, want at most 5:%s", n, journal(calls))
			}
			for _, c := range calls {
				if c.Operation != "AssumeRoleWithWebIdentity" {
					t.Errorf("call after the refused token:%s", journal(calls))
					break
				}
			}
			if _, found := containsAny([]byte(res.Stdout+res.Stderr), []string{token}); found {
				t.Errorf("stdout/stderr contains the web identity token")
			}
		})
	}
}
