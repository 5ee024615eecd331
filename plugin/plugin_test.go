package plugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"

	"github.com/xsigner/xsigner/internal/version"
)

const keyARN = "arn:aws:signer:us-west-2:111122223333:/signing-profiles/MyProfile"

func TestNameForExecutable(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/usr/lib/notation/plugins/xsigner/notation-xsigner": Name,
		"notation-xsigner.exe":                               Name,
		"/p/com.amazonaws.signer.notation.plugin/notation-com.amazonaws.signer.notation.plugin": AWSPluginName,
		`C:\plugins\notation-com.amazonaws.signer.notation.plugin.exe`:                          Name, // backslashes are not separators on unix
		"notation-com.amazonaws.signer.notation.plugin.exe":                                     AWSPluginName,
		"./bin/notation-com.amazonaws.signer.notation.plugin":                                   AWSPluginName,
		"notation-com.amazonaws.signer.notation.plugin-old":                                     Name,
		"com.amazonaws.signer.notation.plugin":                                                  Name,
		"xsigner.test":                                                                          Name,
		"":                                                                                      Name,
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			if got := NameForExecutable(path); got != want {
				t.Errorf("NameForExecutable(%q) = %q, want %q", path, got, want)
			}
		})
	}
}

func noEnvAllowed(t *testing.T) func(string) (string, bool) {
	return func(k string) (string, bool) {
		t.Errorf("GetMetadata read environment variable %s", k)
		return "", false
	}
}

func TestGetMetadata(t *testing.T) {
	t.Parallel()
	for _, name := range []string{Name, AWSPluginName} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := New(WithName(name), WithEnv(noEnvAllowed(t)))
			md, err := p.GetMetadata(t.Context(), &proto.GetMetadataRequest{PluginConfig: map[string]string{"not-a-key": "x"}})
			if err != nil {
				t.Fatal(err)
			}
			want := &proto.GetMetadataResponse{
				Name:                      name,
				Description:               md.Description,
				Version:                   version.Get(),
				URL:                       "https://github.com/xsigner/xsigner",
				SupportedContractVersions: []string{"1.0"},
				Capabilities: []proto.Capability{
					"SIGNATURE_GENERATOR.ENVELOPE", "SIGNATURE_VERIFIER.TRUSTED_IDENTITY", "SIGNATURE_VERIFIER.REVOCATION_CHECK",
				},
			}
			if !reflect.DeepEqual(md, want) || md.Description == "" {
				t.Errorf("GetMetadata = %+v, want %+v", md, want)
			}
		})
	}
}

func TestDefaultName(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]*Plugin{"no options": New(), "empty name": New(WithName(""))} {
		if p.PluginName() != Name {
			t.Errorf("%s: name = %q, want %q", name, p.PluginName(), Name)
		}
	}
}

func TestRawCommandsUnsupported(t *testing.T) {
	t.Parallel()
	p := New()
	_, err1 := p.DescribeKey(t.Context(), &proto.DescribeKeyRequest{ContractVersion: "1.0", KeyID: keyARN})
	_, err2 := p.GenerateSignature(t.Context(), &proto.GenerateSignatureRequest{ContractVersion: "1.0", KeyID: keyARN})
	for _, err := range []error{err1, err2} {
		var pe *proto.Error
		if !errors.As(err, &pe) || pe.ErrCode != proto.ErrorCodeValidation || !strings.Contains(pe.Message, "is not supported") {
			t.Errorf("error = %v, want VALIDATION_ERROR not supported", err)
		}
	}
}

// recordingGenerator is an in-process fake of the signing seam: it records
// what Plugin passed and returns canned results.
type recordingGenerator struct {
	got         SignInvocation
	deadline    time.Time
	hasDeadline bool
	resp        *proto.GenerateEnvelopeResponse
	err         error
}

func (g *recordingGenerator) GenerateEnvelope(ctx context.Context, inv SignInvocation) (*proto.GenerateEnvelopeResponse, error) {
	g.got = inv
	g.deadline, g.hasDeadline = ctx.Deadline()
	inv.Logger.Info("generator ran")
	return g.resp, g.err
}

func envelopeRequest(mutate func(*proto.GenerateEnvelopeRequest)) *proto.GenerateEnvelopeRequest {
	r := &proto.GenerateEnvelopeRequest{
		ContractVersion:       "1.0",
		KeyID:                 keyARN,
		PayloadType:           "application/vnd.cncf.notary.payload.v1+json",
		SignatureEnvelopeType: "application/jose+json",
		Payload:               []byte(`{"targetArtifact":{}}`),
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func TestGenerateEnvelopeErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		req       *proto.GenerateEnvelopeRequest
		generator EnvelopeGenerator
		wantCode  proto.ErrorCode
		wantInMsg string
	}{
		"nil request":    {nil, &recordingGenerator{}, proto.ErrorCodeValidation, "missing"},
		"contract 2.0":   {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.ContractVersion = "2.0" }), &recordingGenerator{}, proto.ErrorCodeUnsupportedContractVersion, `"2.0" is not a supported`},
		"contract 1.1":   {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.ContractVersion = "1.1" }), &recordingGenerator{}, proto.ErrorCodeUnsupportedContractVersion, `"1.1"`},
		"contract empty": {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.ContractVersion = "" }), &recordingGenerator{}, proto.ErrorCodeValidation, "contractVersion cannot be empty"},
		"no payload":     {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.Payload = nil }), &recordingGenerator{}, proto.ErrorCodeValidation, "payload cannot be empty"},
		"key not an ARN": {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.KeyID = "MyProfile" }), &recordingGenerator{}, proto.ErrorCodeValidation, "it is not an ARN"},
		"key without slash": {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) {
			r.KeyID = "arn:aws:signer:us-west-2:111122223333:signing-profiles/P1"
		}), &recordingGenerator{}, proto.ErrorCodeValidation, "slash after the account"},
		"key is a role":        {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.KeyID = "arn:aws:iam::111122223333:role/x" }), &recordingGenerator{}, proto.ErrorCodeValidation, `service is "iam"`},
		"unknown config key":   {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.PluginConfig = map[string]string{"aws-regoin": "us-west-2"} }), &recordingGenerator{}, proto.ErrorCodeValidation, "did you mean aws-region?"},
		"bad config value":     {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.PluginConfig = map[string]string{"timeout": "soon"} }), &recordingGenerator{}, proto.ErrorCodeValidation, `"timeout"`},
		"region contradicts":   {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.PluginConfig = map[string]string{"aws-region": "eu-west-1"} }), &recordingGenerator{}, proto.ErrorCodeValidation, `"eu-west-1" contradicts region "us-west-2"`},
		"relative debug log":   {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.PluginConfig = map[string]string{"debug-log": "x.log"} }), &recordingGenerator{}, proto.ErrorCodeValidation, "absolute"},
		"debug log is a dir":   {envelopeRequest(func(r *proto.GenerateEnvelopeRequest) { r.PluginConfig = map[string]string{"debug-log": os.TempDir()} }), &recordingGenerator{}, proto.ErrorCodeValidation, "not a regular file"},
		"nil response":         {envelopeRequest(nil), &recordingGenerator{}, proto.ErrorCodeGeneric, "produced no response"},
		"plain error":          {envelopeRequest(nil), &recordingGenerator{err: errors.New("boom")}, proto.ErrorCodeGeneric, "boom"},
		"wrapped plugin error": {envelopeRequest(nil), &recordingGenerator{err: fmt.Errorf("ctx: %w", proto.NewError(proto.ErrorCodeThrottled, "slow down"))}, proto.ErrorCodeThrottled, "slow down"},
		"deadline":             {envelopeRequest(nil), &recordingGenerator{err: fmt.Errorf("calling: %w", context.DeadlineExceeded)}, proto.ErrorCodeTimeout, "timed out"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithEnv(func(string) (string, bool) { return "", false })}
			if tc.generator != nil {
				opts = append(opts, WithEnvelopeGenerator(tc.generator))
			}
			resp, err := New(opts...).GenerateEnvelope(t.Context(), tc.req)
			if resp != nil {
				t.Errorf("response = %+v, want nil", resp)
			}
			pe, ok := err.(*proto.Error) // a bare *proto.Error, as the framework requires
			if !ok {
				t.Fatalf("error %T %v is not a bare *plugin.Error", err, err)
			}
			if pe.ErrCode != tc.wantCode || !strings.Contains(pe.Message, tc.wantInMsg) {
				t.Errorf("error = %s %q, want %s containing %q", pe.ErrCode, pe.Message, tc.wantCode, tc.wantInMsg)
			}
		})
	}
}

func TestGenerateEnvelopeDelegates(t *testing.T) {
	t.Parallel()
	logPath := filepath.Join(t.TempDir(), "debug.log")
	want := &proto.GenerateEnvelopeResponse{SignatureEnvelope: []byte("env"), SignatureEnvelopeType: "application/jose+json"}
	g := &recordingGenerator{resp: want}
	env := map[string]string{"XSIGNER_ROLE_ARN": "arn:aws:iam::444455556666:role/signer", "XSIGNER_TIMEOUT": "1h"}
	p := New(WithEnvelopeGenerator(g), WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
	req := envelopeRequest(func(r *proto.GenerateEnvelopeRequest) {
		r.KeyID = keyARN + "/abcdefghij"
		r.PluginConfig = map[string]string{"timeout": "45s", "debug-log": logPath}
	})
	before := time.Now()
	got, err := p.GenerateEnvelope(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("response = %+v, want the generator's", got)
	}
	inv := g.got
	if inv.Request != req || inv.Region != "us-west-2" || inv.Key.Version != "abcdefghij" || inv.Key.Account != "111122223333" {
		t.Errorf("invocation = %+v", inv)
	}
	if inv.Config.Timeout != 45*time.Second || !reflect.DeepEqual(inv.Config.RoleARNs, []string{"arn:aws:iam::444455556666:role/signer"}) {
		t.Errorf("config = %+v, want timeout from pluginConfig and role from env", inv.Config)
	}
	if !g.hasDeadline || g.deadline.Before(before.Add(44*time.Second)) || g.deadline.After(time.Now().Add(46*time.Second)) {
		t.Errorf("deadline = %v (set %v), want about 45s from the call", g.deadline, g.hasDeadline)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"command=generate-envelope", "msg=\"generator ran\"", "msg=done"} {
		if !strings.Contains(string(log), s) {
			t.Errorf("debug log lacks %q:\n%s", s, log)
		}
	}
}

type recordingVerifier struct {
	got  VerifyInvocation
	resp *proto.VerifySignatureResponse
	err  error
}

func (v *recordingVerifier) VerifySignature(_ context.Context, inv VerifyInvocation) (*proto.VerifySignatureResponse, error) {
	v.got = inv
	return v.resp, v.err
}

func verifyRequest(mutate func(*proto.VerifySignatureRequest)) *proto.VerifySignatureRequest {
	r := &proto.VerifySignatureRequest{
		ContractVersion: "1.0",
		Signature: proto.Signature{
			CriticalAttributes: proto.CriticalAttributes{ContentType: "application/vnd.cncf.notary.payload.v1+json", SigningScheme: "notary.x509.signingAuthority"},
			CertificateChain:   [][]byte{[]byte("leaf")},
		},
		TrustPolicy: proto.TrustPolicy{
			TrustedIdentities:     []string{keyARN},
			SignatureVerification: []proto.Capability{proto.CapabilityTrustedIdentityVerifier},
		},
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	ok := &proto.VerifySignatureResponse{VerificationResults: map[proto.Capability]*proto.VerificationResult{proto.CapabilityTrustedIdentityVerifier: {Success: true}}}
	tests := map[string]struct {
		req       *proto.VerifySignatureRequest
		verifier  *recordingVerifier
		wantCode  proto.ErrorCode
		wantInMsg string
	}{
		"nil request":     {nil, &recordingVerifier{}, proto.ErrorCodeValidation, "missing"},
		"contract 2.0":    {verifyRequest(func(r *proto.VerifySignatureRequest) { r.ContractVersion = "2.0" }), &recordingVerifier{}, proto.ErrorCodeUnsupportedContractVersion, `"2.0"`},
		"no chain":        {verifyRequest(func(r *proto.VerifySignatureRequest) { r.Signature.CertificateChain = nil }), &recordingVerifier{}, proto.ErrorCodeValidation, "certificateChain cannot be empty"},
		"no checks":       {verifyRequest(func(r *proto.VerifySignatureRequest) { r.TrustPolicy.SignatureVerification = nil }), &recordingVerifier{}, proto.ErrorCodeValidation, "cannot be empty"},
		"no content type": {verifyRequest(func(r *proto.VerifySignatureRequest) { r.Signature.CriticalAttributes.ContentType = "" }), &recordingVerifier{}, proto.ErrorCodeValidation, "contentType cannot be empty"},
		"bad config":      {verifyRequest(func(r *proto.VerifySignatureRequest) { r.PluginConfig = map[string]string{"credential-cache": "maybe"} }), &recordingVerifier{}, proto.ErrorCodeValidation, "on or off"},
		"verifier error":  {verifyRequest(nil), &recordingVerifier{err: errors.New("broken")}, proto.ErrorCodeGeneric, "broken"},
		"success":         {verifyRequest(nil), &recordingVerifier{resp: ok}, "", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := []Option{WithName(AWSPluginName), WithEnv(func(string) (string, bool) { return "", false })}
			if tc.verifier != nil {
				opts = append(opts, WithSignatureVerifier(tc.verifier))
			}
			resp, err := New(opts...).VerifySignature(t.Context(), tc.req)
			if tc.wantCode == "" {
				if err != nil || resp != ok {
					t.Fatalf("VerifySignature = %v, %v; want the verifier's response", resp, err)
				}
				if tc.verifier.got.PluginName != AWSPluginName || tc.verifier.got.Request != tc.req || tc.verifier.got.Logger == nil {
					t.Errorf("invocation = %+v", tc.verifier.got)
				}
				return
			}
			pe, isBare := err.(*proto.Error)
			if !isBare || resp != nil {
				t.Fatalf("VerifySignature = %v, %T %v; want nil and a bare *plugin.Error", resp, err, err)
			}
			if pe.ErrCode != tc.wantCode || !strings.Contains(pe.Message, tc.wantInMsg) {
				t.Errorf("error = %s %q, want %s containing %q", pe.ErrCode, pe.Message, tc.wantCode, tc.wantInMsg)
			}
		})
	}
}

type panickingGenerator struct{ value any }

func (g panickingGenerator) GenerateEnvelope(context.Context, SignInvocation) (*proto.GenerateEnvelopeResponse, error) {
	panic(g.value)
}

type panickingVerifier struct{ value any }

func (v panickingVerifier) VerifySignature(context.Context, VerifyInvocation) (*proto.VerifySignatureResponse, error) {
	panic(v.value)
}

// TestPanicBecomesError checks that a panic behind the protocol boundary
// reaches notation as one bare ERROR, not as a goroutine dump on stderr
// (which notation cannot parse), and that only a runtime error's text is
// quoted: any other panic value may carry arbitrary data.
func TestPanicBecomesError(t *testing.T) {
	t.Parallel()
	var nilMap map[string]int
	runtimeErr := func() (r any) {
		defer func() { r = recover() }()
		nilMap["x"] = 1
		return nil
	}()
	tests := map[string]struct {
		value   any
		want    string
		wantNot string
	}{
		"runtime error": {runtimeErr, "assignment to entry in nil map", ""},
		"string value":  {"AKIA-secret-canary", "internal error: string", "secret-canary"},
		"error value":   {errors.New("token-canary"), "internal error: *errors.errorString", "token-canary"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			noEnv := WithEnv(func(string) (string, bool) { return "", false })
			p := New(noEnv, WithEnvelopeGenerator(panickingGenerator{tc.value}), WithSignatureVerifier(panickingVerifier{tc.value}))
			resp1, err1 := p.GenerateEnvelope(t.Context(), envelopeRequest(nil))
			resp2, err2 := p.VerifySignature(t.Context(), verifyRequest(nil))
			if resp1 != nil || resp2 != nil {
				t.Errorf("responses = %v, %v; want none", resp1, resp2)
			}
			for _, err := range []error{err1, err2} {
				pe, ok := err.(*proto.Error)
				if !ok {
					t.Fatalf("error %T %v is not a bare *plugin.Error", err, err)
				}
				if pe.ErrCode != proto.ErrorCodeGeneric || !strings.Contains(pe.Message, tc.want) || !strings.Contains(pe.Message, "bug in xsigner") {
					t.Errorf("error = %s %q, want ERROR containing %q", pe.ErrCode, pe.Message, tc.want)
				}
				if tc.wantNot != "" && strings.Contains(pe.Message, tc.wantNot) {
					t.Errorf("error %q quotes the panic value %q", pe.Message, tc.wantNot)
				}
			}
		})
	}
}
