package verify_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
	"github.com/xsigner/xsigner/internal/plugintest"
)

const (
	payloadType = "application/vnd.cncf.notary.payload.v1+json"
	attrJob     = "com.amazonaws.signer.signingJob"
	attrVersion = "com.amazonaws.signer.signingProfileVersion"
	awsName     = "com.amazonaws.signer.notation.plugin"

	identityCap   = proto.CapabilityTrustedIdentityVerifier
	revocationCap = proto.CapabilityRevocationCheckVerifier
)

// verificationPluginHeaders are the extended attributes notation-go keeps to
// itself (notation-go v1.3.2 verifier.VerificationPluginHeaders).
var verificationPluginHeaders = []string{"io.cncf.notary.verificationPlugin", "io.cncf.notary.verificationPluginMinVersion"}

// bothChecks is what notation asks for when the plugin has both verifier
// capabilities and the trust policy does not skip revocation.
var bothChecks = []proto.Capability{identityCap, revocationCap}

// fixture is one emulator and the built plugin. Tests that revoke or read
// the journal start their own.
type fixture struct {
	emu *emulatortest.Server
	exe string
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return &fixture{emu: emulatortest.Start(t, world), exe: plugintest.Binary(t)}
}

// env is a hermetic plugin environment with base credentials id, plus extra
// "KEY=value" entries.
func (f *fixture) env(t testing.TB, id identity, extra ...string) []string {
	t.Helper()
	return plugintest.Env(t, append([]string{"AWS_ACCESS_KEY_ID=" + id.keyID, "AWS_SECRET_ACCESS_KEY=" + id.secret}, extra...)...)
}

// config points both services at the emulator, plus extra "key=value".
func (f *fixture) config(extra ...string) map[string]string {
	cfg := map[string]string{"signer-endpoint-url": f.emu.URL, "sts-endpoint-url": f.emu.URL}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		cfg[k] = v
	}
	return cfg
}

// signed is a real signature: the envelope the built plugin returned from
// AWS Signer SignPayload (the emulator) and what notation-go parses from it.
type signed struct {
	envelope []byte
	content  *signature.EnvelopeContent
	job      string // com.amazonaws.signer.signingJob
	version  string // com.amazonaws.signer.signingProfileVersion
}

func (s signed) chain() []*x509.Certificate { return s.content.SignerInfo.CertificateChain }

func (s signed) signingTime() time.Time { return s.content.SignerInfo.SignedAttributes.SigningTime }

// sign signs a fixed artifact with profile (of account A) through the built
// plugin (generate-envelope as notation sends it) as user admin, and
// verifies the envelope as notation-go does before using it.
func (f *fixture) sign(t testing.TB, profile string) signed {
	t.Helper()
	return f.signAs(t, admin, profile)
}

// signAs is sign with the base credentials of id, which must be allowed
// signer:SignPayload on profile in its partition (govSigner for govProfile).
func (f *fixture) signAs(t testing.TB, id identity, profile string) signed {
	t.Helper()
	target := ocispec.Descriptor{
		MediaType: "application/vnd.oci.image.manifest.v1+json",
		Digest:    "sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333",
		Size:      528,
	}
	payload, err := json.Marshal(struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}{target})
	if err != nil {
		t.Fatal(err)
	}
	req := &proto.GenerateEnvelopeRequest{
		ContractVersion:       proto.ContractVersion,
		KeyID:                 profile,
		PayloadType:           payloadType,
		SignatureEnvelopeType: jws.MediaTypeEnvelope,
		Payload:               payload,
		PluginConfig:          f.config(),
	}
	var resp proto.GenerateEnvelopeResponse
	plugintest.Run(t, f.exe, f.env(t, id), req, string(proto.CommandGenerateEnvelope)).Succeeded(t, &resp)
	env, err := signature.ParseEnvelope(resp.SignatureEnvelopeType, resp.SignatureEnvelope)
	if err != nil {
		t.Fatalf("parsing the envelope: %v", err)
	}
	content, err := env.Verify()
	if err != nil {
		t.Fatalf("the envelope does not verify: %v", err)
	}
	s := signed{envelope: resp.SignatureEnvelope, content: content}
	s.job = stringAttr(t, content, attrJob)
	s.version = stringAttr(t, content, attrVersion)
	if !strings.HasPrefix(s.version, profile+"/") {
		t.Fatalf("signed with %q, want a version of %q", s.version, profile)
	}
	return s
}

func stringAttr(t testing.TB, content *signature.EnvelopeContent, name string) string {
	t.Helper()
	a, err := content.SignerInfo.ExtendedAttribute(name)
	if err != nil {
		t.Fatalf("signed attribute %s: %v", name, err)
	}
	v, ok := a.Value.(string)
	if !ok {
		t.Fatalf("signed attribute %s is %T, not a string", name, a.Value)
	}
	return v
}

// request builds the verify-signature request exactly as notation-go v1.3.2
// does (verifier/verifier.go executePlugin) for the signature s, the trust
// policy's identities, the checks asked for and pluginConfig.
func (s signed) request(identities []string, checks []proto.Capability, cfg map[string]string) *proto.VerifySignatureRequest {
	info, payload := &s.content.SignerInfo, s.content.Payload
	extended := map[string]any{}
	var unprocessed []string
	for _, attr := range info.SignedAttributes.ExtendedAttributes {
		key, ok := attr.Key.(string)
		if !ok || containsString(verificationPluginHeaders, key) {
			continue
		}
		extended[key] = attr.Value
		unprocessed = append(unprocessed, key)
	}
	var chain [][]byte
	for _, c := range info.CertificateChain {
		chain = append(chain, c.Raw)
	}
	var authentic *time.Time
	if info.SignedAttributes.SigningScheme == signature.SigningSchemeX509SigningAuthority {
		authentic = &info.SignedAttributes.SigningTime
	}
	expiry := info.SignedAttributes.Expiry // the zero time when the signature has none
	return &proto.VerifySignatureRequest{
		ContractVersion: proto.ContractVersion,
		Signature: proto.Signature{
			CriticalAttributes: proto.CriticalAttributes{
				ContentType:          payload.ContentType,
				SigningScheme:        string(info.SignedAttributes.SigningScheme),
				Expiry:               &expiry,
				AuthenticSigningTime: authentic,
				ExtendedAttributes:   extended,
			},
			UnprocessedAttributes: unprocessed,
			CertificateChain:      chain,
		},
		TrustPolicy:  proto.TrustPolicy{TrustedIdentities: identities, SignatureVerification: checks},
		PluginConfig: cfg,
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// verify runs verify-signature through exe, which must succeed (exit 0,
// protocol response), and checks what notation-go checks of the response.
func verify(t testing.TB, exe string, env []string, req *proto.VerifySignatureRequest) *proto.VerifySignatureResponse {
	t.Helper()
	var resp proto.VerifySignatureResponse
	plugintest.Run(t, exe, env, req, string(proto.CommandVerifySignature)).Succeeded(t, &resp)
	for _, c := range req.TrustPolicy.SignatureVerification {
		if resp.VerificationResults[c] == nil {
			t.Fatalf("no result for %s: %+v", c, resp.VerificationResults)
		}
	}
	if len(resp.VerificationResults) != len(req.TrustPolicy.SignatureVerification) {
		t.Errorf("results for %v, asked for %v", keys(resp.VerificationResults), req.TrustPolicy.SignatureVerification)
	}
	processed := map[string]bool{}
	for _, p := range resp.ProcessedAttributes {
		name, ok := p.(string)
		if !ok {
			t.Fatalf("processedAttributes holds %T %v", p, p)
		}
		processed[name] = true
	}
	for _, name := range req.Signature.UnprocessedAttributes {
		if !processed[name] {
			t.Errorf("processedAttributes %v lacks %q: notation would fail the verification", resp.ProcessedAttributes, name)
		}
	}
	return &resp
}

func keys(m map[proto.Capability]*proto.VerificationResult) []proto.Capability {
	var out []proto.Capability
	for k := range m {
		out = append(out, k)
	}
	return out
}

// revocationCalls returns the journal's GetRevocationStatus calls.
func (f *fixture) revocationCalls() []emulator.Call {
	var out []emulator.Call
	for _, c := range f.emu.Calls() {
		if c.Service == "signer" && c.Operation == "GetRevocationStatus" {
			out = append(out, c)
		}
	}
	return out
}

// settledRevocationCalls returns the GetRevocationStatus journal once it
// holds want entries, or as it stands after a bounded wait. The emulator
// journals a hung call only when it notices that the client went away,
// which can be just after the plugin process has exited.
func (f *fixture) settledRevocationCalls(want int) []emulator.Call {
	calls := f.revocationCalls()
	for wait := 0; len(calls) < want && wait < 500; wait++ {
		time.Sleep(20 * time.Millisecond)
		calls = f.revocationCalls()
	}
	return calls
}

// signerClient is an AWS SDK Signer client for id in region, talking to the
// emulator: how a user revokes (aws signer revoke-signature ...).
func (f *fixture) signerClient(id identity, region string) *signer.Client {
	return signer.New(signer.Options{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(id.keyID, id.secret, ""),
		BaseEndpoint:     aws.String(f.emu.URL),
		RetryMaxAttempts: 1,
	})
}

// revokeJob revokes the signature's signing job with RevokeSignature as admin.
func (f *fixture) revokeJob(t testing.TB, s signed) {
	t.Helper()
	jobID := s.job[strings.LastIndex(s.job, "/")+1:]
	region := strings.Split(s.job, ":")[3]
	_, err := f.signerClient(admin, region).RevokeSignature(context.Background(), &signer.RevokeSignatureInput{
		JobId:    aws.String(jobID),
		JobOwner: aws.String(acctA),
		Reason:   aws.String("compromised build"),
	})
	if err != nil {
		t.Fatalf("RevokeSignature: %v", err)
	}
}

// revokeProfileVersion revokes the signature's profile version with
// RevokeSigningProfile as admin, effective at effective.
func (f *fixture) revokeProfileVersion(t testing.TB, s signed, effective time.Time) {
	t.Helper()
	parts := strings.Split(s.version, "/")
	name, version := parts[len(parts)-2], parts[len(parts)-1]
	region := strings.Split(s.version, ":")[3]
	_, err := f.signerClient(admin, region).RevokeSigningProfile(context.Background(), &signer.RevokeSigningProfileInput{
		ProfileName:    aws.String(name),
		ProfileVersion: aws.String(version),
		EffectiveTime:  aws.Time(effective),
		Reason:         aws.String("key ceremony"),
	})
	if err != nil {
		t.Fatalf("RevokeSigningProfile: %v", err)
	}
}
