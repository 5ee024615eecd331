package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	testAKID   = "AKIAEMULATORTEST0001"
	testSecret = "emulatorSecretKey/0123456789abcdefghijklm"
	testToken  = "FwoGZXIvYXdzEmulatorSessionToken=="
)

var testSecrets = map[string]string{testAKID: testSecret}

// verified is what the test server saw for one request.
type verified struct {
	auth *Authorization
	host string
	err  error
}

// newVerifyingServer starts a server that runs Parse+Verify on every request
// with testSecrets and time.Now, reports the outcome on the returned
// channel, and on success lets respond write the response.
func newVerifyingServer(t *testing.T, respond http.HandlerFunc) (*httptest.Server, <-chan verified) {
	t.Helper()
	results := make(chan verified, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading body: %v", err)
			return
		}
		a, err := Parse(r)
		if err == nil {
			err = a.Verify(r, body, testSecrets[a.AccessKeyID], time.Now())
		}
		results <- verified{auth: a, host: r.Host, err: err}
		if err != nil {
			w.Header().Set("X-Amzn-ErrorType", "InvalidSignatureException")
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"message":"signature"}`)
			return
		}
		if respond != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			respond(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, results
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestVerifySDKSignedRequests(t *testing.T) {
	t.Parallel()
	type request struct {
		method, path, rawQuery string
		body                   string
		headers                map[string]string
		host                   func(string) string // Host to send, from the server's host
	}
	cases := []struct {
		name      string
		req       request
		secret    string // secret the client signs with; default testSecret
		token     string
		signAt    time.Duration // offset of the signing time from now
		payload   func(body []byte) string
		afterSign func(r *http.Request) // runs after signing, before sending
		bodySent  string                // body sent if it differs from the signed one
		want      error
	}{
		{
			name: "GET with repeated query params and colons",
			req: request{method: "GET", path: "/revocations",
				rawQuery: "platformId=Notation-OCI-SHA384-ECDSA&certificateHashes=bb&certificateHashes=aa&signatureTimestamp=2024-01-02T03%3A04%3A05.678Z&profileVersionArn=arn%3Aaws%3Asigner%3Aus-east-1%3A111122223333%3A%2Fsigning-profiles%2Fp%2Fv1"},
		},
		{
			name: "query reordered on the wire still verifies",
			req:  request{method: "GET", path: "/revocations", rawQuery: "b=2&a=1&a=0&c=x%3Ay"},
			afterSign: func(r *http.Request) {
				r.URL.RawQuery = "c=x:y&a=1&b=2&a=0"
			},
		},
		{
			name: "POST JSON",
			req: request{method: "POST", path: "/signing-jobs/with-payload",
				body:    `{"payload":"e30=","payloadFormat":"application/vnd.cncf.notary.payload.v1+json","profileName":"p","profileOwner":"111111111111"}`,
				headers: map[string]string{"Content-Type": "application/json"}},
		},
		{
			name: "POST form",
			req: request{method: "POST", path: "/",
				body:    "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fsigner&RoleSessionName=s&Version=2011-06-15",
				headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}},
		},
		{
			name:  "session token header",
			token: testToken,
			req:   request{method: "GET", path: "/signing-profiles/p", rawQuery: "profileOwner=111122223333"},
		},
		{
			name: "host with data- prefix",
			req: request{method: "GET", path: "/revocations", rawQuery: "jobArn=x",
				host: func(h string) string { return "data-" + h }},
		},
		{
			name: "host with verification. prefix",
			req: request{method: "GET", path: "/revocations",
				host: func(h string) string { return "verification." + h }},
		},
		{
			name: "path needing escaping is double-escaped",
			req:  request{method: "GET", path: "/signing-profiles/a b:c%d"},
		},
		{
			name: "header value with excess spaces",
			req: request{method: "GET", path: "/",
				headers: map[string]string{"X-Amz-Meta-Note": "  a   b  c "}},
		},
		{
			name: "X-Amz-Content-Sha256 present",
			req: request{method: "POST", path: "/", body: "Action=GetCallerIdentity&Version=2011-06-15",
				headers: map[string]string{"X-Amz-Content-Sha256": hashHex([]byte("Action=GetCallerIdentity&Version=2011-06-15"))}},
		},
		{
			name: "unsigned header added after signing",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				r.Header.Set("X-Forwarded-For", "127.0.0.1")
			},
		},
		{
			name:   "signed 14 minutes ago",
			req:    request{method: "GET", path: "/"},
			signAt: -14 * time.Minute,
		},
		{
			name:   "wrong secret",
			secret: testSecret + "x",
			req:    request{method: "GET", path: "/"},
			want:   ErrSignatureDoesNotMatch,
		},
		{
			name:     "tampered body",
			req:      request{method: "POST", path: "/", body: "Action=GetCallerIdentity&Version=2011-06-15"},
			bodySent: "Action=GetCallerIdentitz&Version=2011-06-15",
			want:     ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered query value",
			req:  request{method: "GET", path: "/revocations", rawQuery: "jobArn=a"},
			afterSign: func(r *http.Request) {
				r.URL.RawQuery = "jobArn=b"
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "query param added",
			req:  request{method: "GET", path: "/revocations", rawQuery: "jobArn=a"},
			afterSign: func(r *http.Request) {
				r.URL.RawQuery += "&certificateHashes=c"
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered signed header",
			req: request{method: "POST", path: "/", body: "{}",
				headers: map[string]string{"Content-Type": "application/json"}},
			afterSign: func(r *http.Request) {
				r.Header.Set("Content-Type", "text/plain")
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered path",
			req:  request{method: "GET", path: "/signing-profiles/a"},
			afterSign: func(r *http.Request) {
				r.URL.Path = "/signing-profiles/b"
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "host changed after signing",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				r.Host = "data-" + r.Host
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "tampered session token",
			req:  request{method: "GET", path: "/"}, token: testToken,
			afterSign: func(r *http.Request) {
				r.Header.Set("X-Amz-Security-Token", testToken+"x")
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "declared payload hash differs from body",
			req:  request{method: "POST", path: "/", body: "x", headers: map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"}},
			payload: func([]byte) string {
				return "UNSIGNED-PAYLOAD"
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name:   "expired date",
			req:    request{method: "GET", path: "/"},
			signAt: -16 * time.Minute,
			want:   ErrRequestExpired,
		},
		{
			name:   "date in the future",
			req:    request{method: "GET", path: "/"},
			signAt: 16 * time.Minute,
			want:   ErrRequestExpired,
		},
		{
			name: "credential scope date differs from X-Amz-Date",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				a := r.Header.Get("Authorization")
				d := time.Now().UTC()
				a = strings.Replace(a, "/"+d.Format("20060102")+"/", "/"+d.AddDate(0, 0, -1).Format("20060102")+"/", 1)
				r.Header.Set("Authorization", a)
			},
			want: ErrSignatureDoesNotMatch,
		},
		{
			name: "missing Authorization header",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				r.Header.Del("Authorization")
			},
			want: ErrMissingAuthentication,
		},
		{
			name: "missing X-Amz-Date header",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				r.Header.Del("X-Amz-Date")
			},
			want: ErrIncompleteSignature,
		},
		{
			// Some AWS services let the token be added after signing, others
			// do not; the SDK signs it, so requiring that is the stricter choice.
			name: "session token added after signing",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				r.Header.Set("X-Amz-Security-Token", "token-added-later")
			},
			want: ErrIncompleteSignature,
		},
		{
			name: "host not signed",
			req:  request{method: "GET", path: "/"},
			afterSign: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "SignedHeaders=host;", "SignedHeaders=", 1))
			},
			want: ErrIncompleteSignature,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, results := newVerifyingServer(t, nil)
			u, err := url.Parse(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			u.Path = tc.req.path
			u.RawQuery = tc.req.rawQuery
			body := []byte(tc.req.body)
			r, err := http.NewRequest(tc.req.method, u.String(), bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if len(body) == 0 {
				r.Body, r.ContentLength = http.NoBody, 0
			}
			for k, v := range tc.req.headers {
				r.Header.Set(k, v)
			}
			if tc.req.host != nil {
				r.Host = tc.req.host(u.Host)
			}
			secret := testSecret
			if tc.secret != "" {
				secret = tc.secret
			}
			payloadHash := hashHex(body)
			if tc.payload != nil {
				payloadHash = tc.payload(body)
			}
			creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: secret, SessionToken: tc.token}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payloadHash, "signer", "us-east-1", time.Now().Add(tc.signAt)); err != nil {
				t.Fatalf("SignHTTP: %v", err)
			}
			if tc.afterSign != nil {
				tc.afterSign(r)
			}
			if tc.bodySent != "" {
				r.Body = io.NopCloser(strings.NewReader(tc.bodySent))
				r.ContentLength = int64(len(tc.bodySent))
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatalf("sending: %v", err)
			}
			resp.Body.Close()
			got := <-results
			if tc.want == nil {
				if got.err != nil {
					t.Fatalf("Verify: %v", got.err)
				}
				if tc.req.host != nil && got.host != tc.req.host(u.Host) {
					t.Errorf("server saw Host %q, want %q", got.host, tc.req.host(u.Host))
				}
				if got.auth.AccessKeyID != testAKID || got.auth.Region != "us-east-1" || got.auth.Service != "signer" {
					t.Errorf("parsed %+v", got.auth)
				}
				return
			}
			if !errors.Is(got.err, tc.want) {
				t.Fatalf("Verify error = %v, want %v", got.err, tc.want)
			}
			if strings.Contains(got.err.Error(), secret) {
				t.Errorf("error %q contains the secret", got.err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header []string
		want   error
	}{
		{"no header", nil, ErrMissingAuthentication},
		{"empty header", []string{""}, ErrMissingAuthentication},
		{"other algorithm", []string{"AWS4-HMAC-SHA512 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"}, ErrIncompleteSignature},
		{"bearer", []string{"Bearer abc"}, ErrIncompleteSignature},
		{"no signature", []string{"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders=host"}, ErrIncompleteSignature},
		{"no credential", []string{"AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"}, ErrIncompleteSignature},
		{"short credential", []string{"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/aws4_request, SignedHeaders=host, Signature=00"}, ErrIncompleteSignature},
		{"bad scope date", []string{"AWS4-HMAC-SHA256 Credential=a/2024-01-01/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"}, ErrIncompleteSignature},
		{"bad terminator", []string{"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws5_request, SignedHeaders=host, Signature=00"}, ErrIncompleteSignature},
		{"component without =", []string{"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders, Signature=00"}, ErrIncompleteSignature},
		{"repeated component", []string{"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00, Signature=01"}, ErrIncompleteSignature},
		{"empty signed header name", []string{"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders=host;;x-amz-date, Signature=00"}, ErrIncompleteSignature},
		{"two headers", []string{
			"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00",
			"AWS4-HMAC-SHA256 Credential=a/20240101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00"}, ErrIncompleteSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tc.header {
				r.Header.Add("Authorization", h)
			}
			a, err := Parse(r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse = %+v, %v; want %v", a, err, tc.want)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-1/sts/aws4_request,SignedHeaders=host;x-amz-date,  Signature=abc")
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	want := Authorization{AccessKeyID: "AKIDEXAMPLE", Date: "20240102", Region: "eu-west-1", Service: "sts",
		SignedHeaders: []string{"host", "x-amz-date"}, Signature: "abc"}
	if a.AccessKeyID != want.AccessKeyID || a.Date != want.Date || a.Region != want.Region || a.Service != want.Service ||
		strings.Join(a.SignedHeaders, ";") != "host;x-amz-date" || a.Signature != want.Signature {
		t.Fatalf("Parse = %+v, want %+v", a, want)
	}
}

// TestVerifyAWSTestSuiteVector checks the "get-vanilla" example of the AWS
// SigV4 test suite (published AKID/secret/date/signature), so the key
// derivation and string to sign are right independently of the SDK.
func TestVerifyAWSTestSuiteVector(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Host = "example.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2015, 8, 30, 12, 40, 0, 0, time.UTC)
	if err := a.Verify(r, nil, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := a.Verify(r, nil, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEX", now); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Fatalf("Verify with wrong secret = %v", err)
	}
}

func TestExpiredMessage(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Verify(r, nil, "s", time.Date(2015, 8, 30, 13, 0, 0, 0, time.UTC))
	want := "Signature expired: 20150830T123600Z is now earlier than 20150830T124500Z (20150830T130000Z - 15 min.)"
	if !errors.Is(err, ErrRequestExpired) || err.Error() != want {
		t.Fatalf("Verify = %v, want %q", err, want)
	}
}

// TestRealSDKClients proves that what the real STS and Signer clients send
// verifies: several operations, long-term and temporary credentials, and
// GetRevocationStatus both with the host prefix disabled and with the
// "data-" host prefix the SDK adds (dialled to the test server).
func TestRealSDKClients(t *testing.T) {
	t.Parallel()
	respond := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			w.Header().Set("Content-Type", "text/xml")
			if r.FormValue("Action") == "AssumeRole" {
				_, _ = io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIAX</AccessKeyId><SecretAccessKey>y</SecretAccessKey><SessionToken>z</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`)
				return
			}
			_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/u</Arn><UserId>AIDAX</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case r.URL.Path == "/signing-jobs/with-payload":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"jobId":"j","jobOwner":"111122223333","metadata":{},"signature":"e30="}`)
		case r.URL.Path == "/revocations":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"revokedEntities":[]}`)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"profileName":"p"}`)
		}
	}
	disableHostPrefix := func(o *signer.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
				}), middleware.Before)
		})
	}
	revocationInput := &signer.GetRevocationStatusInput{
		CertificateHashes:  []string{"bb", "aa", "cc"},
		JobArn:             aws.String("arn:aws:signer:us-east-1:111122223333:/signing-jobs/e218ee67-5dd3-4dc4-8caf-224898b12493"),
		PlatformId:         aws.String("Notation-OCI-SHA384-ECDSA"),
		ProfileVersionArn:  aws.String("arn:aws:signer:us-east-1:111122223333:/signing-profiles/p/abcdefghij"),
		SignatureTimestamp: aws.Time(time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)),
	}

	cases := []struct {
		name     string
		secret   string
		token    string
		call     func(ctx context.Context, cfg aws.Config, endpoint string, dialTo string) error
		wantHost func(endpointHost string) string
		wantErr  error
	}{
		{
			name: "sts GetCallerIdentity",
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return err
			},
		},
		{
			name: "sts AssumeRole",
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) }).AssumeRole(ctx, &sts.AssumeRoleInput{
					RoleArn: aws.String("arn:aws:iam::111122223333:role/signer-role"), RoleSessionName: aws.String("xsigner@host"),
					ExternalId: aws.String("ext:id/1"), DurationSeconds: aws.Int32(900),
				})
				return err
			},
		},
		{
			name:  "sts GetCallerIdentity with session token",
			token: testToken,
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(endpoint) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				return err
			},
		},
		{
			name:  "signer SignPayload",
			token: testToken,
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := signer.NewFromConfig(cfg, func(o *signer.Options) { o.BaseEndpoint = aws.String(endpoint) }).SignPayload(ctx, &signer.SignPayloadInput{
					Payload:       []byte(`{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","size":1}}`),
					PayloadFormat: aws.String("application/vnd.cncf.notary.payload.v1+json"), ProfileName: aws.String("p"), ProfileOwner: aws.String("111122223333"),
				})
				return err
			},
		},
		{
			name: "signer GetSigningProfile",
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := signer.NewFromConfig(cfg, func(o *signer.Options) { o.BaseEndpoint = aws.String(endpoint) }).GetSigningProfile(ctx, &signer.GetSigningProfileInput{
					ProfileName: aws.String("profile_1"), ProfileOwner: aws.String("111122223333"),
				})
				return err
			},
		},
		{
			name: "signer GetRevocationStatus with host prefix disabled",
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := signer.NewFromConfig(cfg, func(o *signer.Options) { o.BaseEndpoint = aws.String(endpoint) }, disableHostPrefix).
					GetRevocationStatus(ctx, revocationInput)
				return err
			},
			wantHost: func(h string) string { return h },
		},
		{
			name: "signer GetRevocationStatus with data- host prefix",
			call: func(ctx context.Context, cfg aws.Config, endpoint, dialTo string) error {
				dialer := &net.Dialer{}
				client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return dialer.DialContext(ctx, network, dialTo)
				}}}
				_, err := signer.NewFromConfig(cfg, func(o *signer.Options) {
					o.BaseEndpoint = aws.String(endpoint)
					o.HTTPClient = client
				}).GetRevocationStatus(ctx, revocationInput)
				return err
			},
			wantHost: func(h string) string { return "data-" + h },
		},
		{
			name:   "signer SignPayload with wrong secret",
			secret: "wrong",
			call: func(ctx context.Context, cfg aws.Config, endpoint, _ string) error {
				_, err := signer.NewFromConfig(cfg, func(o *signer.Options) { o.BaseEndpoint = aws.String(endpoint) }).SignPayload(ctx, &signer.SignPayloadInput{
					Payload: []byte(`{}`), PayloadFormat: aws.String("application/vnd.cncf.notary.payload.v1+json"), ProfileName: aws.String("p"),
				})
				if err == nil {
					return errors.New("SignPayload succeeded with a wrong secret")
				}
				return nil
			},
			wantErr: ErrSignatureDoesNotMatch,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, results := newVerifyingServer(t, respond)
			secret := testSecret
			if tc.secret != "" {
				secret = tc.secret
			}
			cfg := aws.Config{
				Region:           "us-west-2",
				Credentials:      credentials.NewStaticCredentialsProvider(testAKID, secret, tc.token),
				RetryMaxAttempts: 1,
			}
			endpointHost := strings.TrimPrefix(srv.URL, "http://")
			if err := tc.call(context.Background(), cfg, srv.URL, endpointHost); err != nil {
				t.Fatalf("call: %v", err)
			}
			got := <-results
			if tc.wantErr != nil {
				if !errors.Is(got.err, tc.wantErr) {
					t.Fatalf("server Verify = %v, want %v", got.err, tc.wantErr)
				}
				return
			}
			if got.err != nil {
				t.Fatalf("server Verify: %v", got.err)
			}
			if got.auth.Region != "us-west-2" {
				t.Errorf("region %q", got.auth.Region)
			}
			if tc.wantHost != nil && got.host != tc.wantHost(endpointHost) {
				t.Errorf("Host %q, want %q", got.host, tc.wantHost(endpointHost))
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"payload":"e30=","payloadFormat":"application/vnd.cncf.notary.payload.v1+json","profileName":"p","profileOwner":"111111111111"}`)
	r := httptest.NewRequest("POST", "http://signer.us-east-1.amazonaws.com/signing-jobs/with-payload", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	now := time.Now()
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret, SessionToken: testToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hashHex(body), "signer", "us-east-1", now); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		a, err := Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		if err := a.Verify(r, body, testSecret, now); err != nil {
			b.Fatal(err)
		}
	}
}
