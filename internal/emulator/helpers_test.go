package emulator_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// Keys and names of testdata/world-two-accounts.json.
const (
	accountA    = "111111111111"
	accountB    = "222222222222"
	region      = "us-west-2"
	profileName = "release_signer"
	profileARN  = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"
	signerRole  = "arn:aws:iam::111111111111:role/xsigner-signer"
	ciRole      = "arn:aws:iam::222222222222:role/codebuild-ci"
	ciUserARN   = "arn:aws:iam::222222222222:user/ci"
	externalID  = "xsigner-release-7f3a"
	issuer      = "https://oidc.xsigner.example"
	payloadType = "application/vnd.cncf.notary.payload.v1+json"
)

var (
	adminKeys = aws.Credentials{AccessKeyID: "AKIAADMIN1111111EXMP", SecretAccessKey: "admin-secret-111111111111-example-key000"}
	ciKeys    = aws.Credentials{AccessKeyID: "AKIACIUSER222222EXMP", SecretAccessKey: "ci-secret-222222222222-example-key000000"}
)

func exampleWorld(t testing.TB) string {
	t.Helper()
	return readWorld(t, "testdata/world-two-accounts.json")
}

// readWorld reads a world file of testdata.
func readWorld(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// testClock is the emulator clock: wall time plus an offset tests advance.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

type env struct {
	*emulatortest.Server
	clock *testClock
}

func start(t *testing.T) *env {
	t.Helper()
	return startWorld(t, exampleWorld(t))
}

func startWorld(t *testing.T, world string) *env {
	t.Helper()
	c := &testClock{}
	srv := emulatortest.StartWithOptions(t, world, emulator.Options{Now: c.Now})
	return &env{Server: srv, clock: c}
}

func static(c aws.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

func (e *env) sts(c aws.Credentials) *sts.Client {
	return sts.New(sts.Options{Region: region, Credentials: static(c), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1})
}

func (e *env) anonymousSTS() *sts.Client {
	return sts.New(sts.Options{Region: region, BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1})
}

// disableHostPrefix keeps GetRevocationStatus on the base endpoint's host
// (aws.md §0.1).
func disableHostPrefix(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("xsignerDisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

func (e *env) signer(c aws.Credentials, optFns ...func(*signer.Options)) *signer.Client {
	return e.signerIn(region, c, optFns...)
}

func (e *env) signerIn(reg string, c aws.Credentials, optFns ...func(*signer.Options)) *signer.Client {
	return signer.New(signer.Options{Region: reg, Credentials: static(c), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{disableHostPrefix}}, optFns...)
}

// assume calls AssumeRole and returns the session credentials.
func (e *env) assume(t *testing.T, caller aws.Credentials, role, extID string, duration int32) aws.Credentials {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("test-session")}
	if extID != "" {
		in.ExternalId = aws.String(extID)
	}
	if duration != 0 {
		in.DurationSeconds = aws.Int32(duration)
	}
	out, err := e.sts(caller).AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", role, err)
	}
	return aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}
}

// ciSession is account B's CI role session; signerSession is account A's
// signer role assumed from it (role chaining) with the external id.
func (e *env) ciSession(t *testing.T) aws.Credentials { return e.assume(t, ciKeys, ciRole, "", 0) }

func (e *env) signerSession(t *testing.T) aws.Credentials {
	return e.assume(t, e.ciSession(t), signerRole, externalID, 0)
}

// wantAPIError asserts the HTTP status, error code and exact message.
func wantAPIError(t *testing.T, err error, status int, code, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %d %s", status, code)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not an HTTP response error", err)
	}
	if got := re.HTTPStatusCode(); got != status {
		t.Errorf("status = %d, want %d (%v)", got, status, err)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("no request id in %v", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code = %q, want %q", ae.ErrorCode(), code)
	}
	if message != "*" && ae.ErrorMessage() != message {
		t.Errorf("message =\n  %q\nwant\n  %q", ae.ErrorMessage(), message)
	}
}

// rawResponse is an HTTP answer read in full.
type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a raw request, SigV4-signed with c unless c is empty.
func (e *env) do(t *testing.T, c aws.Credentials, service, method, path string, body []byte, header http.Header) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.AccessKeyID != "" {
		if err := signHTTP(req, c, service, body); err != nil {
			t.Fatal(err)
		}
	}
	return send(t, http.DefaultClient, req)
}

func send(t *testing.T, client *http.Client, req *http.Request) rawResponse {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// wantRawSignerError asserts a restJson1 error answer.
func wantRawSignerError(t *testing.T, r rawResponse, status int, code, message string) {
	t.Helper()
	if r.Status != status || r.Header.Get("X-Amzn-ErrorType") != code {
		t.Fatalf("got %d %s %s, want %d %s", r.Status, r.Header.Get("X-Amzn-ErrorType"), r.Body, status, code)
	}
	if r.Header.Get("X-Amzn-RequestId") == "" {
		t.Error("no X-Amzn-RequestId header")
	}
	var body map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("error body %q: %v", r.Body, err)
	}
	if body["message"] != message {
		t.Errorf("message =\n  %q\nwant\n  %q", body["message"], message)
	}
}

// admin calls the admin API and decodes the JSON answer into out (if not nil).
func (e *env) admin(t *testing.T, method, op string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+"/_xsigner/"+op, body)
	if err != nil {
		t.Fatal(err)
	}
	r := send(t, http.DefaultClient, req)
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			t.Fatalf("admin %s answer %q: %v", op, r.Body, err)
		}
	}
	return r.Status
}

func notaryPayload(t *testing.T) []byte {
	t.Helper()
	return []byte(`{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("ab", 32) + `","size":528}}`)
}

// signHTTP SigV4-signs req as the SDK does.
func signHTTP(req *http.Request, c aws.Credentials, service string, body []byte) error {
	sum := sha256.Sum256(body)
	return v4.NewSigner().SignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), service, region, time.Now())
}
