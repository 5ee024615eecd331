package verification

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/smithy-go"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/awsclient"
	"github.com/xsigner/xsigner/internal/invocation"
	"github.com/xsigner/xsigner/internal/signing/signingtest"
)

// TestRevocationCustomEndpointHasNoHostPrefix sends GetRevocationStatus with
// a real SDK client whose endpoint is set the way the SDK's
// AWS_ENDPOINT_URL_SIGNER sets it (BaseEndpoint), with the option
// awsclient.Session.Signer applies: the call must reach that endpoint, not
// data-<host>.
func TestRevocationCustomEndpointHasNoHostPrefix(t *testing.T) {
	t.Parallel()
	var paths []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"revokedEntities":[]}`))
	}))
	t.Cleanup(srv.Close)
	client := signer.New(signer.Options{
		Region:           "us-west-2",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAEXAMPLEEXAMPLE00", "secret", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}, awsclient.NoHostPrefixOnCustomEndpoint)
	v := &Verifier{Connect: func(context.Context, invocation.Verify, string) (RevocationAPI, error) { return client, nil }}
	req := request(signingtest.NewAuthority(t).ChainDER())
	req.TrustPolicy.SignatureVerification = []proto.Capability{proto.CapabilityRevocationCheckVerifier}
	resp, err := v.VerifySignature(context.Background(), invocation.Verify{Request: req})
	if err != nil {
		t.Fatal(err)
	}
	if r := resp.VerificationResults[proto.CapabilityRevocationCheckVerifier]; !r.Success {
		t.Errorf("revocation check failed: %q", r.Reason)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(paths) != 1 || paths[0] != "/revocations" {
		t.Errorf("the custom endpoint received %q, want one GET /revocations", paths)
	}
}

// TestCallFailedReason checks the reason of a failed revocation call: the
// request's query (certificate hashes) is left out, an access denial says
// which permission is needed, and a spent deadline says how to raise it.
func TestCallFailedReason(t *testing.T) {
	t.Parallel()
	sendErr := &smithy.OperationError{ServiceID: "signer", OperationName: "GetRevocationStatus",
		Err: &url.Error{Op: "Get", URL: "http://127.0.0.1:1/revocations?certificateHashes=" + strings.Repeat("ab", 96), Err: errors.New("connection refused")}}
	denied := &smithy.OperationError{ServiceID: "signer", OperationName: "GetRevocationStatus",
		Err: &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User: arn:aws:iam::222222222222:user/d is not authorized"}}
	unknownKey := &smithy.OperationError{ServiceID: "signer", OperationName: "GetRevocationStatus",
		Err: &smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}}
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	cases := []struct {
		name    string
		ctx     context.Context
		region  string
		err     error
		want    []string
		wantNot []string
	}{
		{"transport error", context.Background(), "us-west-2", sendErr, []string{"could not be checked", `"http://127.0.0.1:1/revocations?…"`, "connection refused"}, []string{"certificateHashes"}},
		{"access denied", context.Background(), "us-west-2", denied, []string{"is not authorized", "signer:GetRevocationStatus", "region us-west-2"}, nil},
		{"unknown credentials", context.Background(), "us-gov-west-1", unknownKey, []string{"The security token included in the request is invalid", "region us-gov-west-1", "partition aws-us-gov"}, []string{"needs an IAM policy"}},
		{"deadline", expired, "us-west-2", sendErr, []string{"deadline of 30s", "timeout=2m"}, []string{"needs an IAM policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := callFailedReason(c.ctx, c.err, 30*time.Second, refusalHint(c.err, c.region))
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("reason %q lacks %q", got, w)
				}
			}
			for _, w := range c.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("reason %q has %q", got, w)
				}
			}
		})
	}
}
