package signing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/notaryproject/notation-core-go/signature"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/invocation"
	"github.com/xsigner/xsigner/internal/signing/signingtest"
)

const (
	profileARN  = "arn:aws:signer:us-west-2:111122223333:/signing-profiles/Prod_Images"
	version     = "a1b2c3d4e5"
	versionARN  = profileARN + "/" + version
	jobARN      = "arn:aws:signer:us-west-2:111122223333:/signing-jobs/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
	callerARN   = "arn:aws:sts::444455556666:assumed-role/codebuild-deploy/build-1"
	payloadJSON = `{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":528,` +
		`"annotations":{"build":"42"}}}`
)

// fakeSigner is an in-process stand-in for the Signer client: it records the
// SignPayload input and returns what the test set.
type fakeSigner struct {
	out    *signer.SignPayloadOutput
	err    error
	caller string
	calls  int
	in     *signer.SignPayloadInput
}

func (f *fakeSigner) SignPayload(_ context.Context, in *signer.SignPayloadInput, _ ...func(*signer.Options)) (*signer.SignPayloadOutput, error) {
	f.calls++
	f.in = in
	return f.out, f.err
}

func (f *fakeSigner) CallerARN(context.Context) string { return f.caller }

func mustKey(t *testing.T, s string) arn.SigningProfile {
	t.Helper()
	k, err := arn.ParseSigningProfile(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newInvocation(t *testing.T, keyID string, mutate func(*proto.GenerateEnvelopeRequest)) invocation.Sign {
	t.Helper()
	req := &proto.GenerateEnvelopeRequest{
		ContractVersion:       "1.0",
		KeyID:                 keyID,
		PayloadType:           PayloadTypeNotary,
		SignatureEnvelopeType: EnvelopeTypeJWS,
		Payload:               []byte(payloadJSON),
	}
	if mutate != nil {
		mutate(req)
	}
	key := mustKey(t, keyID)
	return invocation.Sign{Request: req, Key: key, Region: key.Region}
}

func generator(f *fakeSigner) *Generator {
	return &Generator{Connect: func(context.Context, invocation.Sign) (Client, error) { return f, nil }}
}

func wantProtoError(t *testing.T, err error, code proto.ErrorCode, substrings ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	pe, ok := err.(*proto.Error)
	if !ok {
		t.Fatalf("error %T %v is not a bare *proto.Error", err, err)
	}
	if pe.ErrCode != code {
		t.Errorf("error code = %s, want %s (message %q)", pe.ErrCode, code, pe.Message)
	}
	for _, s := range substrings {
		if !strings.Contains(pe.Message, s) {
			t.Errorf("error message %q does not contain %q", pe.Message, s)
		}
	}
}

// payloadOfSize returns a valid Notary payload of exactly n bytes, padded in
// an annotation the way large -m values grow it.
func payloadOfSize(t *testing.T, n int) []byte {
	t.Helper()
	head := `{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:00","size":1,"annotations":{"note":"`
	tail := `"}}}`
	pad := n - len(head) - len(tail)
	if pad < 0 {
		t.Fatalf("payload size %d too small", n)
	}
	return []byte(head + strings.Repeat("x", pad) + tail)
}

func TestGenerateEnvelopeRefusesBeforeAnyCall(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		mutate func(*proto.GenerateEnvelopeRequest)
		want   []string
	}{
		"expiry": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.ExpiryDurationInSeconds = 3600 },
			want:   []string{"--expiry 3600s", "signature validity period"},
		},
		"cose envelope": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.SignatureEnvelopeType = "application/cose" },
			want:   []string{`"application/cose"`, "--signature-format jws"},
		},
		"other payload type": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.PayloadType = "application/json" },
			want:   []string{`"application/json"`, PayloadTypeNotary},
		},
		"payload over 4096 bytes": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = payloadOfSize(t, 4097) },
			want:   []string{"4097 bytes", "limit of 4096 bytes", "fewer or shorter -m"},
		},
		"payload far over 4096 bytes": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = payloadOfSize(t, 70000) },
			want:   []string{"70000 bytes", "4096"},
		},
		"empty payload": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = nil },
			want:   []string{"empty"},
		},
		"payload not JSON": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = []byte("not json") },
			want:   []string{"not a JSON object"},
		},
		"payload a JSON array": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = []byte(`[1]`) },
			want:   []string{"not a JSON object"},
		},
		"payload null": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = []byte(`null`) },
			want:   []string{"not a JSON object"},
		},
		"payload without targetArtifact": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = []byte(`{"subject":{}}`) },
			want:   []string{"no targetArtifact"},
		},
		"targetArtifact not an object": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = []byte(`{"targetArtifact":"sha256:00"}`) },
			want:   []string{"targetArtifact is not a JSON object"},
		},
		"data after the payload": {
			mutate: func(r *proto.GenerateEnvelopeRequest) { r.Payload = []byte(payloadJSON + `{}`) },
			want:   []string{"data after the JSON object"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			connected := false
			g := &Generator{Connect: func(context.Context, invocation.Sign) (Client, error) {
				connected = true
				return &fakeSigner{}, nil
			}}
			_, err := g.GenerateEnvelope(context.Background(), newInvocation(t, profileARN, tc.mutate))
			wantProtoError(t, err, proto.ErrorCodeValidation, tc.want...)
			if connected {
				t.Error("Connect was called for a request that must be refused before any call")
			}
		})
	}
}

func TestGenerateEnvelopeAcceptsPayloadAtTheLimit(t *testing.T) {
	t.Parallel()
	auth := signingtest.NewAuthority(t)
	payload := payloadOfSize(t, MaxPayloadBytes)
	f := &fakeSigner{out: &signer.SignPayloadOutput{Signature: auth.Sign(t, signingtest.Envelope{
		Payload: payload, ProfileVersion: versionARN, Job: jobARN,
	})}}
	inv := newInvocation(t, profileARN, func(r *proto.GenerateEnvelopeRequest) { r.Payload = payload })
	if _, err := generator(f).GenerateEnvelope(context.Background(), inv); err != nil {
		t.Fatalf("GenerateEnvelope(4096-byte payload) = %v, want success", err)
	}
	if f.calls != 1 {
		t.Errorf("SignPayload calls = %d, want 1", f.calls)
	}
}

func TestGenerateEnvelopeSuccess(t *testing.T) {
	t.Parallel()
	auth := signingtest.NewAuthority(t)
	tests := map[string]struct {
		keyID string
		// signed is the payload the envelope signs: the same JSON value as
		// the request, possibly written differently.
		signed          string
		metadata        map[string]string
		wantAnnotations map[string]string
	}{
		"profile ARN": {
			keyID:  profileARN,
			signed: payloadJSON,
			metadata: map[string]string{
				"com.amazonaws.signer.signingProfileVersion": versionARN,
				"io.cncf.notary.x509chain.thumbprint#S256":   "[\"forged\"]",
				"io.cncf.notary.anything":                    "x",
			},
			wantAnnotations: map[string]string{"com.amazonaws.signer.signingProfileVersion": versionARN},
		},
		"profile version ARN equal to the active version": {
			keyID:  versionARN,
			signed: payloadJSON,
		},
		"payload re-serialized with other key order and spacing": {
			keyID: profileARN,
			signed: `{ "targetArtifact": { "size": 528, "annotations": {"build":"42"}, ` +
				`"digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ` +
				`"mediaType": "application/vnd.oci.image.manifest.v1+json" } }`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := auth.Sign(t, signingtest.Envelope{Payload: []byte(tc.signed), ProfileVersion: versionARN, Job: jobARN})
			f := &fakeSigner{out: &signer.SignPayloadOutput{Signature: env, Metadata: tc.metadata}}
			inv := newInvocation(t, tc.keyID, nil)
			var logged bytes.Buffer
			inv.Logger = slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			resp, err := generator(f).GenerateEnvelope(context.Background(), inv)
			if err != nil {
				t.Fatalf("GenerateEnvelope() = %v", err)
			}
			if !bytes.Equal(resp.SignatureEnvelope, env) {
				t.Error("signatureEnvelope is not the envelope as returned by SignPayload")
			}
			if resp.SignatureEnvelopeType != EnvelopeTypeJWS {
				t.Errorf("signatureEnvelopeType = %q, want %q", resp.SignatureEnvelopeType, EnvelopeTypeJWS)
			}
			if fmt.Sprint(resp.Annotations) != fmt.Sprint(tc.wantAnnotations) {
				t.Errorf("annotations = %v, want %v", resp.Annotations, tc.wantAnnotations)
			}
			for k := range tc.metadata {
				if strings.HasPrefix(k, "io.cncf.notary") && !strings.Contains(logged.String(), k) {
					t.Errorf("dropped key %q is not in the debug log %q", k, logged.String())
				}
			}
			in := f.in
			if in == nil {
				t.Fatal("SignPayload was not called")
			}
			if *in.ProfileName != "Prod_Images" || *in.ProfileOwner != "111122223333" ||
				*in.PayloadFormat != PayloadTypeNotary || string(in.Payload) != payloadJSON {
				t.Errorf("SignPayload input = {ProfileName:%q ProfileOwner:%q PayloadFormat:%q Payload:%q}",
					*in.ProfileName, *in.ProfileOwner, *in.PayloadFormat, in.Payload)
			}
		})
	}
}

func TestGenerateEnvelopeRefusesBadEnvelopes(t *testing.T) {
	t.Parallel()
	auth := signingtest.NewAuthority(t)
	good := func(mutate func(*signingtest.Envelope)) []byte {
		e := signingtest.Envelope{Payload: []byte(payloadJSON), ProfileVersion: versionARN, Job: jobARN}
		if mutate != nil {
			mutate(&e)
		}
		return auth.Sign(t, e)
	}
	otherPayload := strings.Replace(payloadJSON, "e3b0c442", "ffffffff", 1)
	tests := map[string]struct {
		keyID    string
		envelope []byte
		want     []string
	}{
		"envelope for another artifact": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.Payload = []byte(otherPayload) }),
			want:     []string{"different payload", "targetArtifact", "ffffffff"},
		},
		"envelope with an extra annotation": {
			keyID: profileARN,
			envelope: good(func(e *signingtest.Envelope) {
				e.Payload = []byte(strings.Replace(payloadJSON, `"build":"42"`, `"build":"42","x":"y"`, 1))
			}),
			want: []string{"different payload", "targetArtifact"},
		},
		"envelope with an extra top-level payload field": {
			keyID: profileARN,
			envelope: good(func(e *signingtest.Envelope) {
				e.Payload = []byte(strings.TrimSuffix(payloadJSON, "}") + `,"extra":1}`)
			}),
			want: []string{"different payload", "extra"},
		},
		"bad signature": {keyID: profileARN, envelope: signingtest.BreakSignature(t, good(nil)), want: []string{"does not verify"}},
		"truncated":     {keyID: profileARN, envelope: good(nil)[:200], want: []string{"not a JWS signature envelope"}},
		"not JSON":      {keyID: profileARN, envelope: []byte("\x00\x01garbage"), want: []string{"not a JWS signature envelope"}},
		"other content type": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.PayloadType = "application/json" }),
			want:     []string{`"application/json"`},
		},
		"notary.x509 scheme": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.Scheme = signature.SigningSchemeX509 }),
			want:     []string{`"notary.x509"`, "signingAuthority"},
		},
		"other profile": {
			keyID: profileARN,
			envelope: good(func(e *signingtest.Envelope) {
				e.ProfileVersion = "arn:aws:signer:us-west-2:111122223333:/signing-profiles/Dev_Images/a1b2c3d4e5"
			}),
			want: []string{"Dev_Images", "not a version of the requested profile"},
		},
		"other account": {
			keyID: profileARN,
			envelope: good(func(e *signingtest.Envelope) {
				e.ProfileVersion = "arn:aws:signer:us-west-2:999999999999:/signing-profiles/Prod_Images/a1b2c3d4e5"
			}),
			want: []string{"999999999999", "not a version of the requested profile"},
		},
		"other region": {
			keyID: profileARN,
			envelope: good(func(e *signingtest.Envelope) {
				e.ProfileVersion = "arn:aws:signer:us-east-1:111122223333:/signing-profiles/Prod_Images/a1b2c3d4e5"
			}),
			want: []string{"us-east-1", "not a version of the requested profile"},
		},
		"profile ARN without version": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.ProfileVersion = profileARN }),
			want:     []string{"without a version"},
		},
		"missing profile version attribute": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.ProfileVersion = nil }),
			want:     []string{"no signed attribute com.amazonaws.signer.signingProfileVersion"},
		},
		"profile version attribute not a string": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.ProfileVersion = 7 }),
			want:     []string{"not a string"},
		},
		"missing job attribute": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.Job = nil }),
			want:     []string{"no signed attribute com.amazonaws.signer.signingJob"},
		},
		"malformed job attribute": {
			keyID:    profileARN,
			envelope: good(func(e *signingtest.Envelope) { e.Job = "job-1" }),
			want:     []string{"signingJob is malformed"},
		},
		"other version than the key id asks for": {
			keyID:    profileARN + "/zzzzzzzzzz",
			envelope: good(nil),
			want: []string{`active version is "a1b2c3d4e5"`, `asks for version "zzzzzzzzzz"`,
				"Re-run with the profile ARN " + fmt.Sprintf("%q", profileARN), fmt.Sprintf("%q", versionARN)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSigner{out: &signer.SignPayloadOutput{Signature: tc.envelope}}
			resp, err := generator(f).GenerateEnvelope(context.Background(), newInvocation(t, tc.keyID, nil))
			wantProtoError(t, err, proto.ErrorCodeGeneric, tc.want...)
			if resp != nil {
				t.Error("a response was returned with the error")
			}
		})
	}
}

func TestGenerateEnvelopeEmptySignature(t *testing.T) {
	t.Parallel()
	f := &fakeSigner{out: &signer.SignPayloadOutput{}}
	_, err := generator(f).GenerateEnvelope(context.Background(), newInvocation(t, profileARN, nil))
	wantProtoError(t, err, proto.ErrorCodeGeneric, "no signature envelope")
}

// apiError builds the error the SDK returns for a Signer error response.
func apiError(status int, requestID string, err error) error {
	return &smithy.OperationError{
		ServiceID:     "signer",
		OperationName: "SignPayload",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      err,
			},
			RequestID: requestID,
		},
	}
}

func ptr(s string) *string { return &s }

func TestGenerateEnvelopeAWSErrors(t *testing.T) {
	t.Parallel()
	denied := &types.AccessDeniedException{Message: ptr("User: " + callerARN + " is not authorized to perform: signer:SignPayload")}
	tests := map[string]struct {
		keyID  string
		roles  []string
		caller string
		err    error
		code   proto.ErrorCode
		want   []string
		reject []string
	}{
		"access denied across accounts without a role": {
			keyID: profileARN, caller: callerARN,
			err:  apiError(403, "req-1", denied),
			code: proto.ErrorCodeAccessDenied,
			want: []string{"req-1", "is not authorized", fmt.Sprintf("%q", callerARN), fmt.Sprintf("%q", profileARN),
				"identity policy in account 444455556666", "add-profile-permission --profile-name Prod_Images",
				"--principal 444455556666", "role-arn"},
		},
		"access denied in the same account": {
			keyID: profileARN, caller: "arn:aws:iam::111122223333:user/ci",
			err:    apiError(403, "req-2", denied),
			code:   proto.ErrorCodeAccessDenied,
			want:   []string{"req-2", `"arn:aws:iam::111122223333:user/ci"`, "profile's account 111122223333", "identity policy"},
			reject: []string{"add-profile-permission"},
		},
		"access denied as an assumed role in another account": {
			keyID: profileARN, caller: "arn:aws:sts::444455556666:assumed-role/signer/s",
			roles: []string{"arn:aws:iam::444455556666:role/signer"},
			err:   apiError(403, "req-3", denied),
			code:  proto.ErrorCodeAccessDenied,
			want:  []string{`role "arn:aws:iam::444455556666:role/signer"`, "permissions policy", "add-profile-permission", "--principal 444455556666"},
		},
		"access denied as an assumed role in the profile's account": {
			keyID: profileARN, caller: "arn:aws:sts::111122223333:assumed-role/signer/s",
			roles:  []string{"arn:aws:iam::444455556666:role/hop", "arn:aws:iam::111122223333:role/signer"},
			err:    apiError(403, "req-4", denied),
			code:   proto.ErrorCodeAccessDenied,
			want:   []string{`role "arn:aws:iam::111122223333:role/signer"`, "permissions policy", "no profile permission is needed"},
			reject: []string{"add-profile-permission"},
		},
		"access denied with unknown caller": {
			keyID: profileARN, caller: "",
			err:  apiError(403, "req-5", denied),
			code: proto.ErrorCodeAccessDenied,
			want: []string{"could not be found out", "add-profile-permission"},
		},
		"profile not found": {
			keyID: versionARN,
			err:   apiError(404, "req-6", &types.ResourceNotFoundException{Message: ptr("profile not found")}),
			code:  proto.ErrorCodeValidation,
			want:  []string{"req-6", `"Prod_Images"`, "account 111122223333", "region us-west-2", "Active"},
		},
		"base credentials refused": {
			keyID: profileARN,
			err:   apiError(403, "req-8", &smithy.GenericAPIError{Code: "InvalidSignatureException", Message: "The request signature we calculated does not match"}),
			code:  proto.ErrorCodeAccessDenied,
			want:  []string{"req-8", "InvalidSignatureException", "base AWS credentials", "secret key"},
		},
		"base credentials expired": {
			keyID: profileARN,
			err:   apiError(403, "req-9", &smithy.GenericAPIError{Code: "ExpiredTokenException", Message: "expired"}),
			code:  proto.ErrorCodeAccessDenied,
			want:  []string{"req-9", "have expired", "refresh them"},
		},
		"role session refused": {
			keyID: profileARN,
			roles: []string{"arn:aws:iam::111122223333:role/signer"},
			err:   apiError(403, "req-10", &smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}),
			code:  proto.ErrorCodeAccessDenied,
			want:  []string{"req-10", `role "arn:aws:iam::111122223333:role/signer"`, "sts-endpoint-url"},
		},
		"throttled": {
			keyID: profileARN,
			err:   apiError(429, "req-7", &types.TooManyRequestsException{Message: ptr("slow down")}),
			code:  proto.ErrorCodeThrottled,
			want:  []string{"req-7", "slow down"},
		},
		"deadline": {
			keyID: profileARN,
			err:   &smithy.OperationError{ServiceID: "signer", OperationName: "SignPayload", Err: context.DeadlineExceeded},
			code:  proto.ErrorCodeTimeout,
			want:  []string{"SignPayload"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := &fakeSigner{err: tc.err, caller: tc.caller}
			inv := newInvocation(t, tc.keyID, nil)
			inv.Config = config.Config{RoleARNs: tc.roles}
			_, err := generator(f).GenerateEnvelope(context.Background(), inv)
			wantProtoError(t, err, tc.code, tc.want...)
			for _, r := range tc.reject {
				if strings.Contains(err.Error(), r) {
					t.Errorf("error %q contains %q", err, r)
				}
			}
		})
	}
}

func TestGenerateEnvelopeConnectErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		err  error
		code proto.ErrorCode
	}{
		"protocol error passes through": {err: proto.NewError(proto.ErrorCodeAccessDenied, "assuming role: denied"), code: proto.ErrorCodeAccessDenied},
		"wrapped protocol error":        {err: fmt.Errorf("connecting: %w", proto.NewValidationError("bad")), code: proto.ErrorCodeValidation},
		"plain error":                   {err: errors.New("no credentials"), code: proto.ErrorCodeGeneric},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := &Generator{Connect: func(context.Context, invocation.Sign) (Client, error) { return nil, tc.err }}
			_, err := g.GenerateEnvelope(context.Background(), newInvocation(t, profileARN, nil))
			wantProtoError(t, err, tc.code)
		})
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	f := &fakeSigner{err: errors.New("boom")}
	c := NewClient(f, func(context.Context) string { return callerARN })
	if got := c.CallerARN(context.Background()); got != callerARN {
		t.Errorf("CallerARN() = %q, want %q", got, callerARN)
	}
	if _, err := c.SignPayload(context.Background(), &signer.SignPayloadInput{}); err == nil || f.calls != 1 {
		t.Errorf("SignPayload went to %d calls, err %v; want 1 call to the wrapped API", f.calls, err)
	}
	if got := NewClient(f, nil).CallerARN(context.Background()); got != "" {
		t.Errorf("CallerARN() without a function = %q, want \"\"", got)
	}
}

// TestGenerateEnvelopeDeadlineHint: when the command's deadline has run out,
// the TIMEOUT names the configured timeout and how to raise it, whether
// Connect (the role chain) or SignPayload ran out of time.
func TestGenerateEnvelopeDeadlineHint(t *testing.T) {
	t.Parallel()
	deadline := &smithy.OperationError{ServiceID: "signer", OperationName: "SignPayload", Err: context.DeadlineExceeded}
	assume := &smithy.OperationError{ServiceID: "sts", OperationName: "AssumeRole", Err: context.DeadlineExceeded}
	tests := map[string]struct {
		gen  func() *Generator
		want []string
	}{
		"SignPayload": {
			gen:  func() *Generator { return generator(&fakeSigner{err: deadline}) },
			want: []string{"AWS Signer SignPayload timed out", "deadline of 2s", "timeout=", "XSIGNER_TIMEOUT"},
		},
		"Connect": {
			gen: func() *Generator {
				return &Generator{Connect: func(context.Context, invocation.Sign) (Client, error) { return nil, assume }}
			},
			want: []string{"AWS STS AssumeRole timed out", "deadline of 2s", "timeout="},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
			defer cancel()
			inv := newInvocation(t, profileARN, nil)
			inv.Config = config.Config{Timeout: 2 * time.Second}
			_, err := tc.gen().GenerateEnvelope(ctx, inv)
			wantProtoError(t, err, proto.ErrorCodeTimeout, tc.want...)
		})
	}
}
