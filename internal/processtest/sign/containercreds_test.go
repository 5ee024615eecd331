package sign_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

// containerAuthToken is what CodeBuild and ECS put into
// AWS_CONTAINER_AUTHORIZATION_TOKEN; the endpoint refuses requests without it.
const (
	containerAuthToken = "container-auth-token-7f3a-example-000000"
	containerSession   = "codebuild-build-42"
)

// containerEndpoint is the container credentials endpoint of CodeBuild/ECS
// on loopback: it answers GET with the JSON the SDK's endpointcreds provider
// reads, after checking the Authorization header, and counts what it saw.
type containerEndpoint struct {
	mu       sync.Mutex
	requests int
	badAuth  int
	// serve writes the answer to an authorized request.
	serve func(w http.ResponseWriter)
}

func (c *containerEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.requests++
	authorized := r.Method == http.MethodGet && r.Header.Get("Authorization") == containerAuthToken
	if !authorized {
		c.badAuth++
	}
	c.mu.Unlock()
	if !authorized {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"code":"AccessDenied","message":"missing or wrong authorization token"}`))
		return
	}
	c.serve(w)
}

func (c *containerEndpoint) counts() (requests, badAuth int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests, c.badAuth
}

// codebuildSession obtains session credentials of role codebuild-ci from
// the emulator with a real STS client, as CodeBuild's own credentials are:
// the user ci assumes the role.
func codebuildSession(t testing.TB, emuURL string) aws.Credentials {
	t.Helper()
	client := sts.New(sts.Options{
		Region:       region,
		BaseEndpoint: aws.String(emuURL),
		Credentials:  credentials.NewStaticCredentialsProvider(ciKeyID, ciSecret, ""),
	})
	out, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String(codebuildRole),
		RoleSessionName: aws.String(containerSession),
	})
	if err != nil {
		t.Fatalf("assuming codebuild-ci for the container endpoint: %v", err)
	}
	c := out.Credentials
	return aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Expires:         aws.ToTime(c.Expiration),
	}
}

// credentialsJSON is the endpoint's answer for creds, in the shape the
// SDK's endpointcreds provider decodes.
func credentialsJSON(t testing.TB, creds aws.Credentials) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{
		"AccessKeyId":     creds.AccessKeyID,
		"SecretAccessKey": creds.SecretAccessKey,
		"Token":           creds.SessionToken,
		"Expiration":      creds.Expires.UTC().Format(time.RFC3339),
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// containerFixture is a fixture whose plugin processes get their base
// credentials only from the container endpoint (no keys, no profile), and
// the session credentials the endpoint holds.
func containerFixture(t *testing.T, serve func(creds aws.Credentials) func(http.ResponseWriter)) (*fixture, *containerEndpoint, aws.Credentials) {
	t.Helper()
	f := newFixture(t, world, identity{})
	creds := codebuildSession(t, f.emu.URL)
	ep := &containerEndpoint{serve: serve(creds)}
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	f.env = append(withoutBaseKeys(f.env),
		"AWS_CONTAINER_CREDENTIALS_FULL_URI="+srv.URL+"/v2/credentials/4f2a",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN="+containerAuthToken)
	return f, ep, creds
}

// TestSignContainerCredentials signs with base credentials from a
// container credentials endpoint (CodeBuild, ECS): the SDK's endpointcreds
// provider must send the authorization token, and the session credentials it
// gets must call STS and Signer as role codebuild-ci, with or without a role
// hop into account A. The secrets must not appear in the output or the log.
func TestSignContainerCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     []string
		journal []step // after the test's own AssumeRole of codebuild-ci
	}{
		{
			name: "role-arn into account A",
			cfg:  []string{"role-arn=" + signerRole, "external-id=" + chainExternalID},
			journal: []step{
				{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci") + containerSession},
				{"SignPayload", 200, assumedRole(acctA, "xsigner-signer")},
			},
		},
		{
			name:    "container session signs (profile permission)",
			journal: []step{{"SignPayload", 200, assumedRole(acctB, "codebuild-ci") + containerSession}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ep, creds := containerFixture(t, func(creds aws.Credentials) func(http.ResponseWriter) {
				body := credentialsJSON(t, creds)
				return func(w http.ResponseWriter) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(body)
				}
			})
			logPath := filepath.Join(t.TempDir(), "debug.log")
			req := request(t, releaseProfile, artifact(nil), f.config(append(tc.cfg, "debug-log="+logPath)...))
			res := f.run(t, req)
			var resp proto.GenerateEnvelopeResponse
			res.Succeeded(t, &resp)
			f.checkEnvelope(t, req, &resp)

			calls := f.emu.Calls()
			checkJournal(t, calls, append([]step{{"AssumeRole", 200, ciUserARN}}, tc.journal...))
			if n, bad := ep.counts(); n != 1 || bad != 0 {
				t.Errorf("container endpoint saw %d requests, %d without the authorization token; want 1 with it", n, bad)
			}
			secrets := []string{containerAuthToken, creds.SecretAccessKey, creds.SessionToken}
			for name, text := range map[string][]byte{"stdout/stderr": []byte(res.Stdout + res.Stderr), "debug log": readFile(t, logPath)} {
				if s, found := containsAny(text, secrets); found {
					t.Errorf("%s contains a secret (%d characters, starting %q)", name, len(s), s[:4])
				}
			}
		})
	}
}

// TestSignContainerCredentialsBroken: an endpoint that fails (500, with or
// without a JSON error body) or answers something that is not credentials
// JSON fails the sign before any AWS call, with a message that says the
// base credentials could not be resolved, and without quoting the secrets
// the endpoint holds or the authorization token.
func TestSignContainerCredentialsBroken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		serve    func(creds aws.Credentials) func(http.ResponseWriter)
		wantCode proto.ErrorCode
		wantIn   []string
		// wantRequests bounds the endpoint requests (the SDK retries 5xx).
		wantRequests [2]int
	}{
		{
			name: "500 with a text body",
			serve: func(aws.Credentials) func(http.ResponseWriter) {
				return func(w http.ResponseWriter) {
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte("credentials agent unavailable"))
				}
			},
			wantCode:     proto.ErrorCodeGeneric,
			wantIn:       []string{"credentials agent unavailable"},
			wantRequests: [2]int{2, 5},
		},
		{
			name: "500 with a JSON error",
			serve: func(aws.Credentials) func(http.ResponseWriter) {
				return func(w http.ResponseWriter) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"code":"InternalError","message":"role session not ready"}`))
				}
			},
			wantCode:     proto.ErrorCodeGeneric,
			wantIn:       []string{"InternalError", "role session not ready"},
			wantRequests: [2]int{2, 5},
		},
		{
			name: "200 with truncated JSON holding the secret",
			serve: func(creds aws.Credentials) func(http.ResponseWriter) {
				return func(w http.ResponseWriter) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"AccessKeyId":"` + creds.AccessKeyID + `","SecretAccessKey":"` + creds.SecretAccessKey + `","Token":"` + creds.SessionToken))
				}
			},
			wantCode:     proto.ErrorCodeGeneric,
			wantIn:       []string{"deserialize"},
			wantRequests: [2]int{1, 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ep, creds := containerFixture(t, tc.serve)
			logPath := filepath.Join(t.TempDir(), "debug.log")
			cfg := f.config("role-arn="+signerRole, "external-id="+chainExternalID, "debug-log="+logPath)
			res := f.run(t, request(t, releaseProfile, artifact(nil), cfg))
			e := res.Failed(t)
			t.Logf("%s: %s", e.ErrCode, e.Message)
			if e.ErrCode != tc.wantCode {
				t.Errorf("code %s, want %s: %s", e.ErrCode, tc.wantCode, e.Message)
			}
			for _, s := range append([]string{"base AWS credentials"}, tc.wantIn...) {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message does not contain %q:\n%s", s, e.Message)
				}
			}
			n, bad := ep.counts()
			if bad != 0 || n < tc.wantRequests[0] || n > tc.wantRequests[1] {
				t.Errorf("container endpoint saw %d requests (%d without the token), want %d..%d with it", n, bad, tc.wantRequests[0], tc.wantRequests[1])
			}
			// Only the test's own AssumeRole: the plugin never reached AWS.
			checkJournal(t, f.emu.Calls(), []step{{"AssumeRole", 200, ciUserARN}})
			secrets := []string{containerAuthToken, creds.SecretAccessKey, creds.SessionToken}
			for name, text := range map[string][]byte{"stdout/stderr": []byte(res.Stdout + res.Stderr), "debug log": readFile(t, logPath)} {
				if s, found := containsAny(text, secrets); found {
					t.Errorf("%s contains a secret (%d characters, starting %q)", name, len(s), s[:4])
				}
			}
		})
	}
}
