package verification

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/invocation"
	"github.com/xsigner/xsigner/internal/signing/signingtest"
)

const sigJob = "arn:aws:signer:us-west-2:111122223333:/signing-jobs/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

var signingTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakeRevocation is an in-process stand-in for Signer GetRevocationStatus.
type fakeRevocation struct {
	revoked []string
	err     error
	in      *signer.GetRevocationStatusInput
	calls   int
}

func (f *fakeRevocation) GetRevocationStatus(_ context.Context, in *signer.GetRevocationStatusInput, _ ...func(*signer.Options)) (*signer.GetRevocationStatusOutput, error) {
	f.calls++
	f.in = in
	if f.err != nil {
		return nil, f.err
	}
	return &signer.GetRevocationStatusOutput{RevokedEntities: f.revoked}, nil
}

// harness is a verifier wired to a fake, recording the region it connected to.
type harness struct {
	fake     *fakeRevocation
	regions  []string
	verifier *Verifier
}

func newHarness(f *fakeRevocation) *harness {
	h := &harness{fake: f}
	h.verifier = &Verifier{Connect: func(_ context.Context, _ invocation.Verify, region string) (RevocationAPI, error) {
		h.regions = append(h.regions, region)
		return h.fake, nil
	}}
	return h
}

// request returns a verify-signature request as notation sends it for an AWS
// Signer signature with chain.
func request(chain [][]byte) *proto.VerifySignatureRequest {
	st := signingTime
	expiry := signingTime.Add(90 * 24 * time.Hour)
	return &proto.VerifySignatureRequest{
		ContractVersion: "1.0",
		Signature: proto.Signature{
			CriticalAttributes: proto.CriticalAttributes{
				ContentType:          "application/vnd.cncf.notary.payload.v1+json",
				SigningScheme:        "notary.x509.signingAuthority",
				Expiry:               &expiry,
				AuthenticSigningTime: &st,
				ExtendedAttributes: map[string]any{
					AttrSigningProfileVersion: sigVersion,
					AttrSigningJob:            sigJob,
				},
			},
			UnprocessedAttributes: []string{AttrSigningProfileVersion, AttrSigningJob},
			CertificateChain:      chain,
		},
		TrustPolicy: proto.TrustPolicy{
			TrustedIdentities:     []string{sigProfile},
			SignatureVerification: []proto.Capability{proto.CapabilityTrustedIdentityVerifier, proto.CapabilityRevocationCheckVerifier},
		},
	}
}

func wantValidationError(t *testing.T, err error, substrings ...string) {
	t.Helper()
	pe, ok := err.(*proto.Error)
	if !ok {
		t.Fatalf("error = %T %v, want a bare *proto.Error", err, err)
	}
	if pe.ErrCode != proto.ErrorCodeValidation {
		t.Errorf("error code = %s, want VALIDATION_ERROR (%q)", pe.ErrCode, pe.Message)
	}
	for _, s := range substrings {
		if !strings.Contains(pe.Message, s) {
			t.Errorf("error message %q does not contain %q", pe.Message, s)
		}
	}
}

func TestVerifySignatureRejectsMalformedRequests(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	zero := time.Time{}
	before := signingTime.Add(-time.Hour)
	tests := map[string]struct {
		mutate func(*proto.VerifySignatureRequest)
		config config.Config
		want   []string
	}{
		"notary.x509 scheme": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.SigningScheme = "notary.x509" },
			want:   []string{`"notary.x509"`, "notary.x509.signingAuthority"},
		},
		"no authenticSigningTime": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.AuthenticSigningTime = nil },
			want:   []string{"authenticSigningTime"},
		},
		"zero authenticSigningTime": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.AuthenticSigningTime = &zero },
			want:   []string{"authenticSigningTime"},
		},
		"expiry before signing time": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.Expiry = &before },
			want:   []string{"expiry", "not after"},
		},
		"empty content type": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.ContentType = "" },
			want:   []string{"contentType"},
		},
		"no extended attributes": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.ExtendedAttributes = nil },
			want:   []string{AttrSigningProfileVersion, "missing"},
		},
		"profile version missing": {
			mutate: func(r *proto.VerifySignatureRequest) {
				delete(r.Signature.CriticalAttributes.ExtendedAttributes, AttrSigningProfileVersion)
			},
			want: []string{AttrSigningProfileVersion, "missing"},
		},
		"profile version null": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningProfileVersion] = nil
			},
			want: []string{AttrSigningProfileVersion, "must be a string, not null"},
		},
		"profile version a number": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningProfileVersion] = 12.0
			},
			want: []string{AttrSigningProfileVersion, "not a number"},
		},
		"profile version without version": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningProfileVersion] = sigProfile
			},
			want: []string{AttrSigningProfileVersion, "without the profile version"},
		},
		"profile version not an ARN": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningProfileVersion] = "Prod_Images"
			},
			want: []string{AttrSigningProfileVersion, "not an ARN"},
		},
		"job missing": {
			mutate: func(r *proto.VerifySignatureRequest) {
				delete(r.Signature.CriticalAttributes.ExtendedAttributes, AttrSigningJob)
			},
			want: []string{AttrSigningJob, "missing"},
		},
		"job a boolean": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningJob] = true
			},
			want: []string{AttrSigningJob, "not a boolean"},
		},
		"job not a job ARN": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningJob] = sigVersion
			},
			want: []string{AttrSigningJob, "not a signing-job ARN"},
		},
		"no certificate chain": {
			mutate: func(r *proto.VerifySignatureRequest) { r.Signature.CertificateChain = nil },
			want:   []string{"certificateChain is empty"},
		},
		"certificate garbage": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.Signature.CertificateChain = append(r.Signature.CertificateChain, []byte("BadCertificate"))
			},
			want: []string{"certificateChain[3]"},
		},
		"unknown capability": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.TrustPolicy.SignatureVerification = append(r.TrustPolicy.SignatureVerification, "SIGNATURE_VERIFIER.FUTURE")
			},
			want: []string{`"SIGNATURE_VERIFIER.FUTURE"`},
		},
		"no capability": {
			mutate: func(r *proto.VerifySignatureRequest) { r.TrustPolicy.SignatureVerification = nil },
			want:   []string{"signatureVerification is empty"},
		},
		"wildcard identity": {
			mutate: func(r *proto.VerifySignatureRequest) { r.TrustPolicy.TrustedIdentities = []string{"*"} },
			want:   []string{`"*"`, "wildcard"},
		},
		"malformed identity": {
			mutate: func(r *proto.VerifySignatureRequest) {
				r.TrustPolicy.TrustedIdentities = []string{sigProfile, "arn:aws:signer:us-west-2:111122223333:/signing-profile/Prod"}
			},
			want: []string{`"arn:aws:signer:us-west-2:111122223333:/signing-profile/Prod"`, "not a signing-profile ARN"},
		},
		"aws-region contradicts the signature's region": {
			config: config.Config{Region: "eu-west-1"},
			want:   []string{`"eu-west-1"`, `"us-west-2"`, sigVersion},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := request(chain)
			if tc.mutate != nil {
				tc.mutate(req)
			}
			h := newHarness(&fakeRevocation{})
			resp, err := h.verifier.VerifySignature(context.Background(), invocation.Verify{Request: req, Config: tc.config})
			wantValidationError(t, err, tc.want...)
			if resp != nil {
				t.Error("a response was returned with the error")
			}
			if len(h.regions) != 0 || h.fake.calls != 0 {
				t.Errorf("Signer was contacted (connects %v, calls %d) for a malformed request", h.regions, h.fake.calls)
			}
		})
	}
}

func TestVerifySignatureRunsOnlyRequestedCapabilities(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	ti, rc := proto.CapabilityTrustedIdentityVerifier, proto.CapabilityRevocationCheckVerifier
	tests := map[string]struct {
		caps      []proto.Capability
		wantKeys  []proto.Capability
		wantCalls int
	}{
		"trusted identity only": {caps: []proto.Capability{ti}, wantKeys: []proto.Capability{ti}, wantCalls: 0},
		"revocation only":       {caps: []proto.Capability{rc}, wantKeys: []proto.Capability{rc}, wantCalls: 1},
		"both":                  {caps: []proto.Capability{ti, rc}, wantKeys: []proto.Capability{ti, rc}, wantCalls: 1},
		"both, reversed":        {caps: []proto.Capability{rc, ti}, wantKeys: []proto.Capability{ti, rc}, wantCalls: 1},
		"duplicate":             {caps: []proto.Capability{rc, rc}, wantKeys: []proto.Capability{rc}, wantCalls: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := request(chain)
			req.TrustPolicy.SignatureVerification = tc.caps
			h := newHarness(&fakeRevocation{})
			resp, err := h.verifier.VerifySignature(context.Background(), invocation.Verify{Request: req})
			if err != nil {
				t.Fatalf("VerifySignature() = %v", err)
			}
			var keys []proto.Capability
			for k, r := range resp.VerificationResults {
				keys = append(keys, k)
				if !r.Success || r.Reason == "" {
					t.Errorf("%s = %+v, want success with a reason", k, r)
				}
			}
			want := slices.Clone(tc.wantKeys)
			slices.Sort(keys)
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Errorf("result keys = %v, want %v", keys, want)
			}
			if h.fake.calls != tc.wantCalls {
				t.Errorf("GetRevocationStatus calls = %d, want %d", h.fake.calls, tc.wantCalls)
			}
		})
	}
}

func TestVerifySignatureProcessedAttributes(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	tests := map[string]struct {
		unprocessed []string
		want        string // JSON
	}{
		"both":           {unprocessed: []string{AttrSigningProfileVersion, AttrSigningJob}, want: `["` + AttrSigningProfileVersion + `","` + AttrSigningJob + `"]`},
		"request order":  {unprocessed: []string{AttrSigningJob, AttrSigningProfileVersion}, want: `["` + AttrSigningJob + `","` + AttrSigningProfileVersion + `"]`},
		"one":            {unprocessed: []string{AttrSigningJob}, want: `["` + AttrSigningJob + `"]`},
		"none (null)":    {unprocessed: nil, want: `[]`},
		"others ignored": {unprocessed: []string{"com.example.other", AttrSigningJob}, want: `["` + AttrSigningJob + `"]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := request(chain)
			req.Signature.UnprocessedAttributes = tc.unprocessed
			req.TrustPolicy.SignatureVerification = []proto.Capability{proto.CapabilityTrustedIdentityVerifier}
			resp, err := newHarness(&fakeRevocation{}).verifier.VerifySignature(context.Background(), invocation.Verify{Request: req})
			if err != nil {
				t.Fatalf("VerifySignature() = %v", err)
			}
			got, err := json.Marshal(resp.ProcessedAttributes)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("processedAttributes = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestVerifySignatureTrustedIdentityOutcome(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	tests := map[string]struct {
		identities []string
		success    bool
		reason     string
	}{
		"match":    {identities: []string{sigProfile}, success: true, reason: `signature publisher matched trusted identity "` + sigProfile + `"`},
		"no match": {identities: []string{"arn:aws:signer:us-west-2:999999999999:/signing-profiles/Prod_Images"}, reason: sigVersion},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := request(chain)
			req.TrustPolicy.TrustedIdentities = tc.identities
			req.TrustPolicy.SignatureVerification = []proto.Capability{proto.CapabilityTrustedIdentityVerifier}
			resp, err := newHarness(&fakeRevocation{}).verifier.VerifySignature(context.Background(), invocation.Verify{Request: req})
			if err != nil {
				t.Fatalf("VerifySignature() = %v", err)
			}
			r := resp.VerificationResults[proto.CapabilityTrustedIdentityVerifier]
			if r.Success != tc.success || !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("result = %+v, want success %v with reason containing %q", r, tc.success, tc.reason)
			}
		})
	}
}

func TestVerifySignatureExpiry(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	zero := time.Time{}
	noExpiry, err := time.Parse(time.RFC3339, "0001-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	for name, expiry := range map[string]*time.Time{"absent": nil, "zero time": &zero, "0001-01-01T00:00:00Z as notation sends it": &noExpiry} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := request(chain)
			req.Signature.CriticalAttributes.Expiry = expiry
			if _, err := newHarness(&fakeRevocation{}).verifier.VerifySignature(context.Background(), invocation.Verify{Request: req}); err != nil {
				t.Errorf("VerifySignature(expiry %v) = %v, want it accepted as no expiry", expiry, err)
			}
		})
	}
}

func revocationAPIError(requestID string, err error) error {
	return &smithy.OperationError{
		ServiceID:     "signer",
		OperationName: "GetRevocationStatus",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}}, Err: err},
			RequestID:     requestID,
		},
	}
}

func TestVerifySignatureRevocation(t *testing.T) {
	t.Parallel()
	auth := signingtest.NewAuthority(t)
	chain := auth.ChainDER()
	hashes := CertificateHashes(auth.Chain)
	msg := "User: arn:aws:sts::444455556666:assumed-role/deploy/s is not authorized to perform: signer:GetRevocationStatus"
	tests := map[string]struct {
		revoked []string
		err     error
		success bool
		reason  []string
		reject  []string
	}{
		"not revoked": {
			success: true,
			reason:  []string{"us-west-2", sigJob, sigVersion, "3 certificate(s)"},
		},
		"job revoked": {
			revoked: []string{sigJob},
			reason:  []string{fmt.Sprintf("signing job %q was revoked", sigJob)},
			reject:  []string{"profile version", "certificate"},
		},
		"profile version revoked": {
			revoked: []string{sigVersion},
			reason:  []string{fmt.Sprintf("signing profile version %q was revoked", sigVersion)},
			reject:  []string{"signing job", "certificate"},
		},
		"leaf certificate revoked": {
			revoked: []string{hashes[0]},
			reason:  []string{"certificate(s) in the chain were revoked", "#0", "Test Signer"},
			reject:  []string{"signing job"},
		},
		"unknown certificate hash": {
			revoked: []string{"00ff"},
			reason:  []string{"1 certificate(s) in the chain were revoked"},
		},
		"job, profile and intermediate revoked": {
			revoked: []string{sigJob, sigVersion, hashes[1]},
			reason:  []string{"signing job", "signing profile version", "#1", "Test Signer Code Signing CA"},
		},
		"other ARN": {
			revoked: []string{"arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod_Images"},
			reason:  []string{`"arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod_Images" was revoked`},
		},
		"call denied": {
			err:    revocationAPIError("req-9", &types.AccessDeniedException{Message: &msg}),
			reason: []string{"could not be checked", "AccessDeniedException", msg, "req-9"},
		},
		"call throttled": {
			err:    revocationAPIError("req-10", &types.TooManyRequestsException{Message: ptr("Rate exceeded")}),
			reason: []string{"could not be checked", "TooManyRequestsException", "Rate exceeded", "req-10"},
		},
		"call timed out": {
			err:    &smithy.OperationError{ServiceID: "signer", OperationName: "GetRevocationStatus", Err: context.DeadlineExceeded},
			reason: []string{"could not be checked", "GetRevocationStatus timed out"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(&fakeRevocation{revoked: tc.revoked, err: tc.err})
			req := request(chain)
			req.TrustPolicy.SignatureVerification = []proto.Capability{proto.CapabilityRevocationCheckVerifier}
			resp, err := h.verifier.VerifySignature(context.Background(), invocation.Verify{Request: req, Config: config.Config{Region: "us-west-2"}})
			if err != nil {
				t.Fatalf("VerifySignature() = %v", err)
			}
			r := resp.VerificationResults[proto.CapabilityRevocationCheckVerifier]
			if r.Success != tc.success || r.Reason == "" {
				t.Errorf("result = %+v, want success %v with a reason", r, tc.success)
			}
			for _, s := range tc.reason {
				if !strings.Contains(r.Reason, s) {
					t.Errorf("reason %q does not contain %q", r.Reason, s)
				}
			}
			for _, s := range tc.reject {
				if strings.Contains(r.Reason, s) {
					t.Errorf("reason %q contains %q", r.Reason, s)
				}
			}

			if !slices.Equal(h.regions, []string{"us-west-2"}) {
				t.Errorf("connected to regions %v, want [us-west-2]", h.regions)
			}
			in := h.fake.in
			if *in.JobArn != sigJob || *in.ProfileVersionArn != sigVersion || *in.PlatformId != "Notation-OCI-SHA384-ECDSA" ||
				!in.SignatureTimestamp.Equal(signingTime) || !slices.Equal(in.CertificateHashes, hashes) {
				t.Errorf("GetRevocationStatus input = {JobArn:%q ProfileVersionArn:%q PlatformId:%q SignatureTimestamp:%v CertificateHashes:%d}",
					*in.JobArn, *in.ProfileVersionArn, *in.PlatformId, in.SignatureTimestamp, len(in.CertificateHashes))
			}
		})
	}
}

func TestVerifySignatureRevocationRegionIsTheSignatures(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	const euVersion = "arn:aws:signer:eu-central-1:111122223333:/signing-profiles/Prod_Images/a1b2c3d4e5"
	req := request(chain)
	req.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningProfileVersion] = euVersion
	req.Signature.CriticalAttributes.ExtendedAttributes[AttrSigningJob] = "arn:aws:signer:eu-central-1:111122223333:/signing-jobs/j-1"
	req.TrustPolicy.SignatureVerification = []proto.Capability{proto.CapabilityRevocationCheckVerifier}
	h := newHarness(&fakeRevocation{})
	if _, err := h.verifier.VerifySignature(context.Background(), invocation.Verify{Request: req}); err != nil {
		t.Fatalf("VerifySignature() = %v", err)
	}
	if !slices.Equal(h.regions, []string{"eu-central-1"}) {
		t.Errorf("connected to regions %v, want the signature's region [eu-central-1]", h.regions)
	}
}

func TestVerifySignatureConnectErrorFailsTheRevocationCheck(t *testing.T) {
	t.Parallel()
	chain := signingtest.NewAuthority(t).ChainDER()
	v := &Verifier{Connect: func(context.Context, invocation.Verify, string) (RevocationAPI, error) {
		return nil, fmt.Errorf("building client: %w", proto.NewError(proto.ErrorCodeAccessDenied, "assuming role \"arn:aws:iam::111122223333:role/verify\": denied"))
	}}
	resp, err := v.VerifySignature(context.Background(), invocation.Verify{Request: request(chain)})
	if err != nil {
		t.Fatalf("VerifySignature() = %v, want results", err)
	}
	if r := resp.VerificationResults[proto.CapabilityTrustedIdentityVerifier]; r == nil || !r.Success {
		t.Errorf("trusted identity = %+v, want success (it needs no AWS call)", r)
	}
	r := resp.VerificationResults[proto.CapabilityRevocationCheckVerifier]
	if r == nil || r.Success || !strings.Contains(r.Reason, "could not be checked") || !strings.Contains(r.Reason, "role/verify") {
		t.Errorf("revocation = %+v, want failure naming the connect error", r)
	}
}

func TestVerifySignatureWithoutConnect(t *testing.T) {
	t.Parallel()
	_, err := (&Verifier{}).VerifySignature(context.Background(), invocation.Verify{Request: request(signingtest.NewAuthority(t).ChainDER())})
	var pe *proto.Error
	if !errors.As(err, &pe) || pe.ErrCode != proto.ErrorCodeGeneric {
		t.Errorf("VerifySignature() with no Connect = %v, want ERROR", err)
	}
}

func TestCertificateHashes(t *testing.T) {
	t.Parallel()
	chain := readPEMChain(t, "testdata/vector-chain.pem")
	want := readLines(t, "testdata/vector-chain.hashes")
	if got := CertificateHashes(chain); !slices.Equal(got, want) {
		t.Errorf("CertificateHashes(vector chain) =\n%q\nwant (computed with openssl and Python)\n%q", got, want)
	}

	root := chain[2:]
	if got := CertificateHashes(root); len(got) != 1 || got[0] != want[2] {
		t.Errorf("CertificateHashes(root only) = %q, want [%q]", got, want[2])
	}
	if got := CertificateHashes(nil); got != nil {
		t.Errorf("CertificateHashes(nil) = %q, want nil", got)
	}
	for i, h := range want {
		if len(h) != 192 || strings.ToLower(h) != h {
			t.Errorf("entry %d has %d characters or upper case, want 192 lower-case hex", i, len(h))
		}
	}
}

func readPEMChain(t testing.TB, path string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	if len(out) != 3 {
		t.Fatalf("%s holds %d certificates, want 3", path, len(out))
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if line := strings.TrimSpace(s.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr(s string) *string { return &s }
