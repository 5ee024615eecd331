package awsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/smithy-go"

	"github.com/xsigner/xsigner/internal/config"
)

func TestSanitizeSessionName(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ in, want string }{
		"codebuild id":      {"my-project:0b6b3c1e-1d2f-4c7a-9b1e-7c1d2e3f4a5b", "my-project-0b6b3c1e-1d2f-4c7a-9b1e-7c1d2e3f4a5b"},
		"allowed kept":      {"a_b+c=d,e.f@g-h", "a_b+c=d,e.f@g-h"},
		"spaces and slash":  {"ci build/42", "ci-build-42"},
		"non-ascii":         {"büild", "b-ild"},
		"cut to 64":         {strings.Repeat("x", 80), strings.Repeat("x", 64)},
		"exactly 64":        {strings.Repeat("y", 64), strings.Repeat("y", 64)},
		"empty stays empty": {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if got := SanitizeSessionName(tc.in); got != tc.want {
				t.Errorf("SanitizeSessionName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRoleSessionName(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		configured string
		env        map[string]string
		want       string // prefix when wantPrefix
		wantPrefix bool
	}{
		"configured wins":        {configured: "release-42", env: map[string]string{"CODEBUILD_BUILD_ID": "p:1"}, want: "release-42"},
		"codebuild build id":     {env: map[string]string{"CODEBUILD_BUILD_ID": "proj:abc-123", "HOSTNAME": "h"}, want: "proj-abc-123"},
		"too short build id":     {env: map[string]string{"CODEBUILD_BUILD_ID": "x", "HOSTNAME": "box"}, want: "xsigner-box-", wantPrefix: true},
		"host and pid":           {env: map[string]string{"HOSTNAME": "runner 7"}, want: "xsigner-runner-7-", wantPrefix: true},
		"long host is cut to 64": {env: map[string]string{"HOSTNAME": strings.Repeat("h", 100)}, want: "xsigner-" + strings.Repeat("h", 56)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := &Session{
				opts: Options{Config: config.Config{RoleSessionName: tc.configured}, LookupEnv: mapEnv(tc.env)},
				log:  slog.New(slog.DiscardHandler),
			}
			got := s.roleSessionName()
			ok := got == tc.want
			if tc.wantPrefix {
				ok = strings.HasPrefix(got, tc.want) && len(got) > len(tc.want)
			}
			if !ok || len(got) < 2 || len(got) > 64 || sessionNameInvalid.MatchString(got) {
				t.Errorf("roleSessionName() = %q, want %q (prefix=%v) and a valid 2..64 name", got, tc.want, tc.wantPrefix)
			}
		})
	}
}

func TestCacheKey(t *testing.T) {
	t.Parallel()
	base := aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s1"}
	mk := func(mut func(*config.Config), sessionName string) string {
		cfg := config.Config{RoleARNs: []string{"arn:aws:iam::1:role/a"}, ExternalID: "e", RoleDuration: time.Hour}
		if mut != nil {
			mut(&cfg)
		}
		s := &Session{opts: Options{Config: cfg}, sessionName: sessionName}
		return s.cacheKey(base)
	}
	ref := mk(nil, "xsigner-host-1")
	if other := (&Session{opts: Options{Config: config.Config{RoleARNs: []string{"arn:aws:iam::1:role/a"}, ExternalID: "e", RoleDuration: time.Hour}}, sessionName: "xsigner-host-1"}).cacheKey(aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "different"}); other != ref {
		t.Error("the cache key depends on the secret key; it must not")
	}
	if mk(nil, "xsigner-host-2") != ref {
		t.Error("the pid-based default session name changes the key; processes could never share")
	}
	differs := map[string]string{
		"role chain":     mk(func(c *config.Config) { c.RoleARNs = append(c.RoleARNs, "arn:aws:iam::1:role/b") }, "xsigner-host-1"),
		"external id":    mk(func(c *config.Config) { c.ExternalID = "f" }, "xsigner-host-1"),
		"duration":       mk(func(c *config.Config) { c.RoleDuration = 2 * time.Hour }, "xsigner-host-1"),
		"profile":        mk(func(c *config.Config) { c.Profile = "p" }, "xsigner-host-1"),
		"sts endpoint":   mk(func(c *config.Config) { c.STSEndpointURL = "http://127.0.0.1:1" }, "xsigner-host-1"),
		"explicit name":  mk(func(c *config.Config) { c.RoleSessionName = "n1" }, "n1"),
		"codebuild name": mk(nil, "proj-build-1"),
	}
	for what, key := range differs {
		if key == ref {
			t.Errorf("changing the %s does not change the cache key", what)
		}
	}
	if base := (aws.Credentials{AccessKeyID: "AKIAOTHER"}); (&Session{opts: Options{Config: config.Config{RoleARNs: []string{"arn:aws:iam::1:role/a"}, ExternalID: "e", RoleDuration: time.Hour}}, sessionName: "xsigner-host-1"}).cacheKey(base) == ref {
		t.Error("changing the base access key id does not change the cache key")
	}
}

func TestMaskKeyID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"AKIAIOSFODNN7EXAMPLE": "AKIA…MPLE",
		"ASIA123456789012":     "ASIA…9012",
		"short":                "(5-character key id)",
		"":                     "(0-character key id)",
	} {
		if got := MaskKeyID(in); got != want {
			t.Errorf("MaskKeyID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAssumeRoleErrorHint(t *testing.T) {
	t.Parallel()
	apiErr := func(code, msg string) error {
		return &smithy.GenericAPIError{Code: code, Message: msg}
	}
	tests := map[string]struct {
		err      AssumeRoleError
		want     []string
		wantNone bool
	}{
		"access denied names caller and trust policy": {
			err:  AssumeRoleError{RoleARN: "arn:aws:iam::1:role/r", Hop: 1, Hops: 1, Caller: "arn:aws:iam::2:user/ci", Err: apiErr("AccessDenied", "no")},
			want: []string{`trust policy of role "arn:aws:iam::1:role/r"`, `allow "arn:aws:iam::2:user/ci"`, "set external-id"},
		},
		"access denied with external id": {
			err:  AssumeRoleError{RoleARN: "r", Hop: 2, Hops: 2, ExternalIDSent: true, Err: apiErr("AccessDenied", "no")},
			want: []string{"the calling identity", "external-id matches"},
		},
		"access denied on a middle hop says nothing of external id": {
			err:  AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 2, Err: apiErr("AccessDenied", "no")},
			want: []string{"trust policy"},
		},
		"duration too long": {
			err:  AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 1, Duration: 2 * time.Hour, Err: apiErr("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")},
			want: []string{"lower role-duration", "2h0m0s", "1h"},
		},
		"bad base key": {
			err:  AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 1, Err: apiErr("InvalidClientTokenId", "The security token included in the request is invalid.")},
			want: []string{"base AWS credentials are not valid"},
		},
		"expired": {
			err:  AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 1, Err: apiErr("ExpiredToken", "expired")},
			want: []string{"expired"},
		},
		"region disabled": {
			err:  AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 1, Region: "ap-east-1", Err: apiErr("RegionDisabledException", "off")},
			want: []string{`region "ap-east-1"`, "sts-endpoint-url"},
		},
		"other codes name the role and hop": {
			err:  AssumeRoleError{RoleARN: "arn:aws:iam::1:role/r", Hop: 2, Hops: 3, Err: apiErr("InternalFailure", "oops")},
			want: []string{`assuming role "arn:aws:iam::1:role/r"`, "hop 2 of 3"},
		},
		"region disabled names the role": {
			err:  AssumeRoleError{RoleARN: "arn:aws:iam::1:role/r", Hop: 1, Hops: 1, Region: "ap-east-1", Err: apiErr("RegionDisabledException", "off")},
			want: []string{`assuming role "arn:aws:iam::1:role/r"`, `region "ap-east-1"`},
		},
		"not an API error": {
			err:      AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 1, Err: context.DeadlineExceeded},
			wantNone: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hint := tc.err.Hint()
			if tc.wantNone {
				if hint != "" {
					t.Errorf("Hint() = %q, want none", hint)
				}
				if !errors.Is(&tc.err, context.DeadlineExceeded) {
					t.Error("AssumeRoleError does not unwrap to its cause")
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(hint, w) {
					t.Errorf("Hint() = %q, want it to contain %q", hint, w)
				}
			}
			if msg := tc.err.Error(); !strings.Contains(msg, "assuming role") || !strings.Contains(msg, hint) {
				t.Errorf("Error() = %q, want the role context and the hint", msg)
			}
		})
	}
	t.Run("ExternalId on a middle hop", func(t *testing.T) {
		t.Parallel()
		e := AssumeRoleError{RoleARN: "r", Hop: 1, Hops: 2, Err: apiErr("AccessDenied", "no")}
		if strings.Contains(e.Hint(), "external-id") {
			t.Errorf("Hint() = %q mentions external-id for a hop that never sends it", e.Hint())
		}
	})
}

func TestScrubCredentialError(t *testing.T) {
	t.Parallel()
	leaky := &processcreds.ProviderError{Err: errors.New(`parse failed of process output: {"SecretAccessKey":"TOPSECRET", error: unexpected EOF`)}
	if got := scrubCredentialError(leaky).Error(); strings.Contains(got, "TOPSECRET") || !strings.Contains(got, "credential_process") {
		t.Errorf("scrubCredentialError(processcreds parse error) = %q, want it withheld and explained", got)
	}
	other := errors.New("no EC2 IMDS role found")
	if got := scrubCredentialError(other); got != other {
		t.Errorf("scrubCredentialError changed an unrelated error: %v", got)
	}
}

func TestRetryerPolicy(t *testing.T) {
	t.Parallel()
	s := &Session{opts: Options{MaxAttempts: DefaultMaxAttempts, MaxBackoff: DefaultMaxBackoff}}
	r := s.newRetryer()
	if r.MaxAttempts() != 5 {
		t.Errorf("MaxAttempts() = %d, want 5", r.MaxAttempts())
	}
	for _, code := range []string{"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestTimeout", "RequestTimeoutException"} {
		if !r.IsErrorRetryable(&smithy.GenericAPIError{Code: code}) {
			t.Errorf("%s is not retried", code)
		}
	}
	for _, code := range []string{"AccessDenied", "AccessDeniedException", "ValidationException", "ResourceNotFoundException"} {
		if r.IsErrorRetryable(&smithy.GenericAPIError{Code: code}) {
			t.Errorf("%s is retried; it cannot succeed on retry", code)
		}
	}
	for attempt := 1; attempt <= 10; attempt++ {
		d, err := r.RetryDelay(attempt, &smithy.GenericAPIError{Code: "ThrottlingException"})
		if err != nil || d < 0 || d > DefaultMaxBackoff {
			t.Errorf("RetryDelay(%d) = %v, %v; want within [0, %v]", attempt, d, err, DefaultMaxBackoff)
		}
	}
}

// TestDebugTransport checks the redacting transport on its own: one line
// per exchange with status, request id and error code (from the header or
// the STS XML body), no headers, no query, no bodies, and the body still
// intact for the SDK.
func TestDebugTransport(t *testing.T) {
	t.Parallel()
	const stsError = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: x is not authorized</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`
	const stsOK = `<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>SESSION-SECRET</SecretAccessKey><SessionToken>SESSION-TOKEN</SessionToken></Credentials></AssumeRoleResult></AssumeRoleResponse>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-Requestid", "req-"+r.URL.Path[1:])
		switch r.URL.Path {
		case "/sts-error":
			w.WriteHeader(403)
			io.WriteString(w, stsError)
		case "/json-error":
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException:http://internal.amazon.com/coral/")
			w.WriteHeader(403)
			io.WriteString(w, `{"message":"denied"}`)
		default:
			io.WriteString(w, stsOK)
		}
	}))
	defer srv.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client := newHTTPClient(http.DefaultTransport.(*http.Transport).Clone(), log)
	get := func(path string) string {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path+"?X-Amz-Security-Token=QUERY-TOKEN", strings.NewReader("Action=AssumeRole&SecretInBody=REQ-BODY"))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=SIGNATURE-VALUE")
		req.Header.Set("X-Amz-Security-Token", "HEADER-TOKEN")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if body := get("/sts-error"); body != stsError {
		t.Errorf("STS error body reached the SDK changed: %q", body)
	}
	if body := get("/ok"); body != stsOK {
		t.Errorf("success body changed: %q", body)
	}
	get("/json-error")
	out := buf.String()
	for _, want := range []string{"http.status=403", "http.errorCode=AccessDenied\n", "http.errorCode=AccessDeniedException", "http.requestId=req-ok", "http.path=/sts-error", "http.method=POST"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"SESSION-SECRET", "SESSION-TOKEN", "QUERY-TOKEN", "HEADER-TOKEN", "SIGNATURE-VALUE", "REQ-BODY", "not authorized"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("log has %d lines for 3 exchanges", n)
	}
}

func TestDebugTransportSilentWhenDisabled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }))
	defer srv.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	resp, err := newHTTPClient(nil, log).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if buf.Len() != 0 {
		t.Errorf("debug transport wrote at info level: %q", buf.String())
	}
}

func TestNewNeedsRegion(t *testing.T) {
	t.Parallel()
	if _, err := New(context.Background(), Options{}); err == nil || !strings.Contains(err.Error(), "aws-region") {
		t.Errorf("New without a region = %v, want an error naming aws-region", err)
	}
}

// hostRecorder is an HTTP client that records the hosts it is asked to
// reach and fails every request without sending it.
type hostRecorder struct {
	mu    sync.Mutex
	hosts []string
}

func (h *hostRecorder) Do(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.hosts = append(h.hosts, r.URL.Host)
	h.mu.Unlock()
	return nil, errors.New("hostRecorder does not send requests")
}

// TestNoHostPrefixOnCustomEndpoint: with a custom endpoint GetRevocationStatus
// goes to that host; without one the SDK's host prefix stays, because AWS
// serves GetRevocationStatus on data-signer.<region>.amazonaws.com.
func TestNoHostPrefixOnCustomEndpoint(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		endpoint *string
		want     string
	}{
		"regional endpoint keeps the prefix": {nil, "data-signer.eu-central-1.amazonaws.com"},
		"custom endpoint is the whole host":  {aws.String("http://127.0.0.1:9"), "127.0.0.1:9"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec := &hostRecorder{}
			client := signer.New(signer.Options{
				Region:           "eu-central-1",
				Credentials:      credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", ""),
				BaseEndpoint:     tc.endpoint,
				HTTPClient:       rec,
				RetryMaxAttempts: 1,
			}, NoHostPrefixOnCustomEndpoint, NoHostPrefixOnCustomEndpoint) // twice: idempotent
			_, err := client.GetRevocationStatus(context.Background(), &signer.GetRevocationStatusInput{
				CertificateHashes:  []string{"aa"},
				JobArn:             aws.String("arn:aws:signer:eu-central-1:111122223333:/signing-jobs/j1"),
				PlatformId:         aws.String("Notation-OCI-SHA384-ECDSA"),
				ProfileVersionArn:  aws.String("arn:aws:signer:eu-central-1:111122223333:/signing-profiles/P/a1b2c3d4e5"),
				SignatureTimestamp: aws.Time(time.Unix(1700000000, 0)),
			})
			if err == nil {
				t.Fatal("the recorder answered")
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.hosts) != 1 || rec.hosts[0] != tc.want {
				t.Errorf("hosts %q, want [%q]", rec.hosts, tc.want)
			}
		})
	}
}
