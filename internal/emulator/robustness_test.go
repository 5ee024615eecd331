package emulator_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// TestGarbageInput sends malformed requests; each must get a 4xx answer with
// a request id, never a 5xx or a dropped connection.
func TestGarbageInput(t *testing.T) {
	t.Parallel()
	e := start(t)
	json := http.Header{"Content-Type": {"application/json"}}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name, service, method, path, body string
		header                            http.Header
		signed                            bool
	}{
		{"authorization not sigv4", "", http.MethodGet, "/signing-profiles/p", "", http.Header{"Authorization": {"Bearer abc"}}, false},
		{"authorization without parts", "", http.MethodPost, "/", "Action=GetCallerIdentity", http.Header{"Authorization": {"AWS4-HMAC-SHA256 Credential=a"}, "Content-Type": {"application/x-www-form-urlencoded"}}, false},
		{"sts body not a form", "sts", http.MethodPost, "/", "%%%", form, true},
		{"sts wrong content type", "sts", http.MethodPost, "/", "{}", json, true},
		{"sts put", "sts", http.MethodPut, "/", "", nil, true},
		{"signer unknown path", "signer", http.MethodGet, "/nope/a/b/c/d", "", nil, true},
		{"signer escaped path", "signer", http.MethodGet, "/signing-profiles/a%2Fb%00", "", nil, true},
		{"signer json array", "signer", http.MethodPost, "/signing-jobs/with-payload", "[1,2]", json, true},
		{"signer payload not base64", "signer", http.MethodPost, "/signing-jobs/with-payload", `{"profileName":"release_signer","payload":"!!","payloadFormat":"x"}`, json, true},
		{"signer empty put", "signer", http.MethodPut, "/signing-profiles/release_signer", "", nil, true},
		{"signer revoke wrong types", "signer", http.MethodPut, "/signing-profiles/release_signer/revoke", `{"effectiveTime":"soon"}`, json, true},
		{"revocations bad timestamp", "signer", http.MethodGet, "/revocations?signatureTimestamp=yesterday&platformId=Notation-OCI-SHA384-ECDSA&profileVersionArn=" + strings.Repeat("a", 30) + "&jobArn=" + strings.Repeat("b", 30) + "&certificateHashes=c", "", nil, true},
		{"revocations bad arns", "signer", http.MethodGet, "/revocations?signatureTimestamp=2024-01-02T03:04:05.678Z&platformId=Notation-OCI-SHA384-ECDSA&profileVersionArn=" + strings.Repeat("a", 30) + "&jobArn=" + strings.Repeat("b", 30) + "&certificateHashes=c", "", nil, true},
		{"admin bad json", "", http.MethodPost, "/_xsigner/faults", "{", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			creds := aws.Credentials{}
			if tc.signed {
				creds = adminKeys
			}
			r := e.do(t, creds, tc.service, tc.method, tc.path, []byte(tc.body), tc.header)
			if r.Status < 400 || r.Status >= 500 || r.Header.Get("X-Amzn-RequestId") == "" {
				t.Errorf("got %d %s", r.Status, r.Body)
			}
		})
	}
}

// TestConcurrentSigning signs from many goroutines at once (run with -race).
func TestConcurrentSigning(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := context.Background()
	session := e.signerSession(t)
	var wg sync.WaitGroup
	jobs := make(chan string, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.signer(session).SignPayload(ctx, signInput(accountA, notaryPayload(t)))
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := e.signer(adminKeys).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profileName)}); err != nil {
				t.Error(err)
			}
			jobs <- *out.JobId
		}()
	}
	wg.Wait()
	close(jobs)
	seen := map[string]bool{}
	for id := range jobs {
		if seen[id] {
			t.Errorf("job id %s issued twice", id)
		}
		seen[id] = true
	}
	if len(seen) != 16 {
		t.Errorf("%d jobs, want 16", len(seen))
	}
}

// BenchmarkSignPayload measures a full SignPayload round trip through the
// SDK: SigV4 verification, IAM evaluation and a real ES384 signature.
func BenchmarkSignPayload(b *testing.B) {
	srv := emulatortest.Start(b, exampleWorld(b))
	client := signer.New(signer.Options{Region: region, Credentials: static(adminKeys), BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	in := signInput("", []byte(`{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:`+strings.Repeat("ab", 32)+`","size":528}}`))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := client.SignPayload(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
