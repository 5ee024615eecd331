// Package sign_test runs the built notation-xsigner executable as notation
// does (generate-envelope, request JSON on stdin, one process per signature)
// against the in-process AWS emulator, and checks what it returns, what it
// refuses, which AWS calls it makes (the emulator's journal) and what it
// caches on disk.
package sign_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/jws"
	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
	"github.com/xsigner/xsigner/internal/plugintest"
)

func TestMain(m *testing.M) { plugintest.Main(m) }

const (
	payloadType  = "application/vnd.cncf.notary.payload.v1+json"
	attrJob      = "com.amazonaws.signer.signingJob"
	attrVersion  = "com.amazonaws.signer.signingProfileVersion"
	generateArgs = "generate-envelope"
)

// identity is a pair of base credentials, passed to the plugin in the
// environment as the SDK default chain reads them.
type identity struct{ keyID, secret string }

var (
	ciUser   = identity{ciKeyID, ciSecret}
	releaser = identity{releaserKeyID, releaserSec}
)

// fixture is one emulator and the environment of the plugin processes that
// talk to it. Processes of one fixture share HOME and so the credential cache.
type fixture struct {
	emu      *emulatortest.Server
	endpoint string // what the plugin is pointed at (the emulator, or a proxy in front of it)
	exe      string
	env      []string
	cacheDir string
}

func newFixture(t testing.TB, worldJSON string, base identity) *fixture {
	t.Helper()
	return fixtureFor(t, emulatortest.Start(t, worldJSON), base)
}

func fixtureFor(t testing.TB, emu *emulatortest.Server, base identity) *fixture {
	t.Helper()
	env := plugintest.Env(t, "AWS_ACCESS_KEY_ID="+base.keyID, "AWS_SECRET_ACCESS_KEY="+base.secret)
	f := &fixture{emu: emu, endpoint: emu.URL, exe: plugintest.Binary(t), env: env}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "XDG_CACHE_HOME="); ok {
			f.cacheDir = filepath.Join(v, "xsigner")
		}
	}
	return f
}

// config returns pluginConfig pointing both services at the emulator, plus
// extra "key=value" entries.
func (f *fixture) config(extra ...string) map[string]string {
	cfg := map[string]string{"signer-endpoint-url": f.endpoint, "sts-endpoint-url": f.endpoint}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		cfg[k] = v
	}
	return cfg
}

// artifact is the descriptor a test signs; notation-go puts it into the
// payload as {"targetArtifact": <descriptor>}.
func artifact(annotations map[string]string) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType:   "application/vnd.oci.image.manifest.v1+json",
		Digest:      "sha256:73c803930ea3ba1e54bc25c2bdc53edd0284c62ed651fe7b00369da519a3c333",
		Size:        528,
		Annotations: annotations,
	}
}

// request is a generate-envelope request as notation sends it.
func request(t testing.TB, keyID string, target ocispec.Descriptor, cfg map[string]string) *proto.GenerateEnvelopeRequest {
	t.Helper()
	payload, err := json.Marshal(struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}{target})
	if err != nil {
		t.Fatal(err)
	}
	return &proto.GenerateEnvelopeRequest{
		ContractVersion:       proto.ContractVersion,
		KeyID:                 keyID,
		PayloadType:           payloadType,
		SignatureEnvelopeType: jws.MediaTypeEnvelope,
		Payload:               payload,
		PluginConfig:          cfg,
	}
}

func (f *fixture) run(t testing.TB, req *proto.GenerateEnvelopeRequest) plugintest.Result {
	t.Helper()
	return plugintest.Run(t, f.exe, f.env, req, generateArgs)
}

// sign runs one generate-envelope that must succeed and checks the envelope.
func (f *fixture) sign(t testing.TB, req *proto.GenerateEnvelopeRequest) *proto.GenerateEnvelopeResponse {
	t.Helper()
	var resp proto.GenerateEnvelopeResponse
	f.run(t, req).Succeeded(t, &resp)
	f.checkEnvelope(t, req, &resp)
	return &resp
}

// checkEnvelope checks what notation would rely on: a JWS envelope that
// verifies, chains to the emulator's root, signs exactly the request's
// payload under the signing-authority scheme with a version of the requested
// profile, and whose annotations are the SignPayload metadata (the signing
// job and profile version, equal to the signed attributes).
func (f *fixture) checkEnvelope(t testing.TB, req *proto.GenerateEnvelopeRequest, resp *proto.GenerateEnvelopeResponse) {
	t.Helper()
	if resp.SignatureEnvelopeType != jws.MediaTypeEnvelope {
		t.Errorf("signatureEnvelopeType = %q, want %q", resp.SignatureEnvelopeType, jws.MediaTypeEnvelope)
	}
	env, err := signature.ParseEnvelope(jws.MediaTypeEnvelope, resp.SignatureEnvelope)
	if err != nil {
		t.Fatalf("envelope does not parse: %v", err)
	}
	content, err := env.Verify()
	if err != nil {
		t.Fatalf("envelope does not verify: %v", err)
	}
	if ct := content.Payload.ContentType; ct != payloadType {
		t.Errorf("payload content type %q, want %q", ct, payloadType)
	}
	var signed, requested struct {
		TargetArtifact ocispec.Descriptor `json:"targetArtifact"`
	}
	if err := json.Unmarshal(content.Payload.Content, &signed); err != nil {
		t.Fatalf("signed payload: %v", err)
	}
	if err := json.Unmarshal(req.Payload, &requested); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(signed.TargetArtifact, requested.TargetArtifact) {
		t.Errorf("signed targetArtifact %+v, requested %+v", signed.TargetArtifact, requested.TargetArtifact)
	}
	info := content.SignerInfo
	if s := info.SignedAttributes.SigningScheme; s != signature.SigningSchemeX509SigningAuthority {
		t.Errorf("signing scheme %q, want %q", s, signature.SigningSchemeX509SigningAuthority)
	}
	chain := info.CertificateChain
	if root := rootOf(t, f.emu.RootPEM()); len(chain) == 0 || !chain[len(chain)-1].Equal(root) {
		t.Errorf("certificate chain does not end at the emulator's root")
	}
	want := map[string]string{}
	for _, k := range []string{attrJob, attrVersion} {
		a, err := info.ExtendedAttribute(k)
		if err != nil {
			t.Fatalf("signed attribute %s missing", k)
		}
		want[k], _ = a.Value.(string)
	}
	if !reflect.DeepEqual(resp.Annotations, want) {
		t.Errorf("annotations %v, want the SignPayload metadata %v", resp.Annotations, want)
	}
	if !strings.HasPrefix(want[attrVersion], profileOf(req.KeyID)+"/") {
		t.Errorf("signed with profile version %q, want a version of %q", want[attrVersion], req.KeyID)
	}
	wantJob := fmt.Sprintf("arn:aws:signer:%s:%s:/signing-jobs/", region, accountOf(req.KeyID))
	if !strings.HasPrefix(want[attrJob], wantJob) {
		t.Errorf("signing job %q, want one under %q", want[attrJob], wantJob)
	}
}

func rootOf(t testing.TB, pemBytes []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(pemBytes)
	if b == nil {
		t.Fatal("emulator root is not PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// profileOf strips a version from a signing-profile ARN.
func profileOf(keyID string) string {
	i := strings.Index(keyID, "/signing-profiles/")
	if i < 0 {
		return keyID
	}
	name, _, _ := strings.Cut(keyID[i+len("/signing-profiles/"):], "/")
	return keyID[:i] + "/signing-profiles/" + name
}

func accountOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// journal renders calls as "service:Operation status caller" lines for
// readable failure messages.
func journal(calls []emulator.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "\n  %s:%s %d %s %s", c.Service, c.Operation, c.Status, c.ErrorCode, c.Caller)
	}
	return b.String()
}

// count returns how many journal calls have the operation (any outcome).
func count(calls []emulator.Call, operation string) int {
	n := 0
	for _, c := range calls {
		if c.Operation == operation {
			n++
		}
	}
	return n
}

// step is an expected journal entry: operation, status and a caller prefix.
type step struct {
	op     string
	status int
	caller string
}

func checkJournal(t testing.TB, calls []emulator.Call, want []step) {
	t.Helper()
	ok := len(calls) == len(want)
	for i := 0; ok && i < len(want); i++ {
		c := calls[i]
		ok = c.Operation == want[i].op && c.Status == want[i].status && strings.HasPrefix(c.Caller, want[i].caller)
	}
	if !ok {
		t.Errorf("journal:%s\nwant %+v", journal(calls), want)
	}
}

func assumedRole(acct, name string) string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/", acct, name)
}

// TestSignSucceeds signs through every supported permission model and
// checks the envelope and the exact AWS calls made.
func TestSignSucceeds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		base    identity
		keyID   string
		cfg     []string
		journal []step
	}{
		{
			name:    "same account, base credentials",
			base:    releaser,
			keyID:   releaseProfile,
			journal: []step{{"SignPayload", 200, releaserARN}},
		},
		{
			name:  "cross account via one role",
			base:  ciUser,
			keyID: releaseProfile,
			cfg:   []string{"role-arn=" + directRole},
			journal: []step{
				{"AssumeRole", 200, ciUserARN},
				{"SignPayload", 200, assumedRole(acctA, "direct-signer")},
			},
		},
		{
			name:  "cross account via one role with ExternalId",
			base:  ciUser,
			keyID: releaseProfile,
			cfg:   []string{"role-arn=" + directExtRole, "external-id=" + directExtID},
			journal: []step{
				{"AssumeRole", 200, ciUserARN},
				{"SignPayload", 200, assumedRole(acctA, "direct-ext")},
			},
		},
		{
			name:  "cross account via two-role chain with ExternalId",
			base:  ciUser,
			keyID: releaseProfile,
			cfg:   []string{"role-arn=" + codebuildRole + "," + signerRole, "external-id=" + chainExternalID},
			journal: []step{
				{"AssumeRole", 200, ciUserARN},
				{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci")},
				{"SignPayload", 200, assumedRole(acctA, "xsigner-signer")},
			},
		},
		{
			name:  "cross account via two-role chain without ExternalId",
			base:  ciUser,
			keyID: releaseProfile,
			cfg:   []string{"role-arn=" + codebuildRole + "," + chainNoExtRole},
			journal: []step{
				{"AssumeRole", 200, ciUserARN},
				{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci")},
				{"SignPayload", 200, assumedRole(acctA, "chain-noext")},
			},
		},
		{
			name:  "cross account via profile permission for a role in the CI account",
			base:  ciUser,
			keyID: releaseProfile,
			cfg:   []string{"role-arn=" + codebuildRole},
			journal: []step{
				{"AssumeRole", 200, ciUserARN},
				{"SignPayload", 200, assumedRole(acctB, "codebuild-ci")},
			},
		},
		{
			name:    "cross account via profile permission only, no role-arn",
			base:    ciUser,
			keyID:   sharedProfile,
			journal: []step{{"SignPayload", 200, ciUserARN}},
		},
		{
			name:    "aws-region equal to the key's region",
			base:    releaser,
			keyID:   releaseProfile,
			cfg:     []string{"aws-region=" + region},
			journal: []step{{"SignPayload", 200, releaserARN}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, tc.base)
			target := artifact(map[string]string{"io.wabbit-networks.buildId": "123", "org.opencontainers.image.title": "net-monitor"})
			f.sign(t, request(t, tc.keyID, target, f.config(tc.cfg...)))
			checkJournal(t, f.emu.Calls(), tc.journal)
		})
	}
}

// TestSignExampleWorld signs in the documented two-account example world
// (testdata/world-two-accounts.json of the emulator), unchanged. The SDK's
// own region is elsewhere (AWS_REGION, AWS_DEFAULT_REGION): STS AssumeRole
// and Signer SignPayload must both be called in the key ARN's region, as the
// emulator sees it in each request's SigV4 credential scope.
func TestSignExampleWorld(t *testing.T) {
	t.Parallel()
	f := newFixture(t, string(emulator.ExampleWorldTwoAccounts()), ciUser)
	f.env = append(f.env, "AWS_REGION=eu-central-1", "AWS_DEFAULT_REGION=ap-southeast-2")
	cfg := f.config("role-arn="+codebuildRole+","+signerRole, "external-id="+chainExternalID)
	f.sign(t, request(t, releaseProfile, artifact(nil), cfg))
	calls := f.emu.Calls()
	checkJournal(t, calls, []step{
		{"AssumeRole", 200, ciUserARN},
		{"AssumeRole", 200, assumedRole(acctB, "codebuild-ci")},
		{"SignPayload", 200, assumedRole(acctA, "xsigner-signer")},
	})
	for _, c := range calls {
		if c.Region != region {
			t.Errorf("%s %s was called in %q, want the key ARN's region %q", c.Service, c.Operation, c.Region, region)
		}
	}
}

// TestSignProfileVersionARN signs with a profile-version ARN as key id: the
// active version signs, any other version is refused with an ERROR that names
// both versions.
func TestSignProfileVersionARN(t *testing.T) {
	t.Parallel()
	f := newFixture(t, world, releaser)
	first := f.sign(t, request(t, releaseProfile, artifact(nil), f.config()))
	active := first.Annotations[attrVersion]
	if !strings.HasPrefix(active, releaseProfile+"/") {
		t.Fatalf("profile version ARN %q", active)
	}

	t.Run("active version", func(t *testing.T) {
		f.sign(t, request(t, active, artifact(nil), f.config()))
	})
	t.Run("other version", func(t *testing.T) {
		other := releaseProfile + "/AAAAAAAAAA"
		if other == active {
			t.Skip("the emulator picked AAAAAAAAAA")
		}
		e := f.run(t, request(t, other, artifact(nil), f.config())).Failed(t)
		if e.ErrCode != proto.ErrorCodeGeneric {
			t.Errorf("code %s, want %s: %s", e.ErrCode, proto.ErrorCodeGeneric, e.Message)
		}
		activeVersion := active[strings.LastIndex(active, "/")+1:]
		for _, s := range []string{"AAAAAAAAAA", activeVersion, releaseProfile} {
			if !strings.Contains(e.Message, s) {
				t.Errorf("message does not name %q: %s", s, e.Message)
			}
		}
	})
}

// TestSignFailures runs each failure the plugin must explain and checks the
// code, that the message names what to fix, and which calls were made.
func TestSignFailures(t *testing.T) {
	t.Parallel()
	big := map[string]string{"org.example.notes": strings.Repeat("x", 4200)}
	tests := []struct {
		name     string
		base     identity
		keyID    string
		cfg      []string
		target   ocispec.Descriptor
		mutate   func(*proto.GenerateEnvelopeRequest)
		fault    *emulator.Fault
		wantCode proto.ErrorCode
		wantIn   []string
		// noCalls: the request must be refused before any AWS call.
		noCalls bool
	}{
		{
			name:     "trust policy does not trust the caller",
			base:     ciUser,
			keyID:    releaseProfile,
			cfg:      []string{"role-arn=" + signerRole, "external-id=" + chainExternalID},
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{signerRole, "trust policy", ciUserARN, "AssumeRole"},
		},
		{
			name:     "ExternalId mismatch",
			base:     ciUser,
			keyID:    releaseProfile,
			cfg:      []string{"role-arn=" + codebuildRole + "," + signerRole, "external-id=wrong-id"},
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{signerRole, "trust policy", "external-id", "hop 2 of 2", assumedRole(acctB, "codebuild-ci")},
		},
		{
			name:     "ExternalId missing",
			base:     ciUser,
			keyID:    releaseProfile,
			cfg:      []string{"role-arn=" + codebuildRole + "," + signerRole},
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{signerRole, "trust policy", "set external-id"},
		},
		{
			name:     "SignPayload denied to an assumed role in another account",
			base:     ciUser,
			keyID:    lockedProfile,
			cfg:      []string{"role-arn=" + codebuildRole},
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn: []string{assumedRole(acctB, "codebuild-ci"), lockedProfile, "permissions policy of role",
				"add-profile-permission", "--principal " + acctB},
		},
		{
			name:     "SignPayload denied to base credentials in another account",
			base:     ciUser,
			keyID:    lockedProfile,
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{ciUserARN, lockedProfile, "identity policy", "add-profile-permission", "role-arn"},
		},
		{
			name:     "role-duration over the role's MaxSessionDuration",
			base:     ciUser,
			keyID:    releaseProfile,
			cfg:      []string{"role-arn=" + directRole, "role-duration=12h"},
			wantCode: proto.ErrorCodeValidation,
			wantIn:   []string{"MaxSessionDuration", "lower role-duration", directRole},
		},
		{
			name:     "unknown signing profile",
			base:     releaser,
			keyID:    missingProfile,
			wantCode: proto.ErrorCodeValidation,
			wantIn:   []string{"no_such_profile", acctA, region},
		},
		{
			name:     "aws-region contradicts the key",
			base:     releaser,
			keyID:    releaseProfile,
			cfg:      []string{"aws-region=us-east-1"},
			wantCode: proto.ErrorCodeValidation,
			wantIn:   []string{"us-east-1", region},
			noCalls:  true,
		},
		{
			name:     "expiry requested",
			base:     releaser,
			keyID:    releaseProfile,
			mutate:   func(r *proto.GenerateEnvelopeRequest) { r.ExpiryDurationInSeconds = 3600 },
			wantCode: proto.ErrorCodeValidation,
			wantIn:   []string{"--expiry", "validity period"},
			noCalls:  true,
		},
		{
			name:     "COSE envelope requested",
			base:     releaser,
			keyID:    releaseProfile,
			mutate:   func(r *proto.GenerateEnvelopeRequest) { r.SignatureEnvelopeType = "application/cose" },
			wantCode: proto.ErrorCodeValidation,
			wantIn:   []string{"application/cose", "JWS", "--signature-format jws"},
			noCalls:  true,
		},
		{
			name:     "payload over 4096 bytes",
			base:     releaser,
			keyID:    releaseProfile,
			target:   artifact(big),
			wantCode: proto.ErrorCodeValidation,
			wantIn:   []string{"4096", "-m"},
			noCalls:  true,
		},
		{
			name:     "tampered envelope: wrong payload",
			base:     releaser,
			keyID:    releaseProfile,
			fault:    &emulator.Fault{Service: "signer", Operation: "SignPayload", Tamper: "wrong-payload"},
			wantCode: proto.ErrorCodeGeneric,
			wantIn:   []string{"refuses to pass on", "different payload"},
		},
		{
			name:     "tampered envelope: bad signature",
			base:     releaser,
			keyID:    releaseProfile,
			fault:    &emulator.Fault{Service: "signer", Operation: "SignPayload", Tamper: "bad-signature"},
			wantCode: proto.ErrorCodeGeneric,
			wantIn:   []string{"refuses to pass on", "does not verify"},
		},
		{
			name:     "tampered envelope: truncated",
			base:     releaser,
			keyID:    releaseProfile,
			fault:    &emulator.Fault{Service: "signer", Operation: "SignPayload", Tamper: "truncated"},
			wantCode: proto.ErrorCodeGeneric,
			wantIn:   []string{"refuses to pass on", "not a JWS"},
		},
		{
			name:     "hung SignPayload",
			base:     releaser,
			keyID:    releaseProfile,
			cfg:      []string{"timeout=2s"},
			fault:    &emulator.Fault{Service: "signer", Operation: "SignPayload", Hang: true},
			wantCode: proto.ErrorCodeTimeout,
			wantIn:   []string{"AWS Signer SignPayload timed out", "deadline of 2s", "timeout="},
		},
		{
			name:     "hung AssumeRole",
			base:     ciUser,
			keyID:    releaseProfile,
			cfg:      []string{"timeout=2s", "role-arn=" + directRole},
			fault:    &emulator.Fault{Service: "sts", Operation: "AssumeRole", Hang: true},
			wantCode: proto.ErrorCodeTimeout,
			wantIn:   []string{"AWS STS AssumeRole timed out", "deadline of 2s", "timeout="},
		},
		{
			name:     "wrong secret key",
			base:     identity{ciKeyID, "not-the-secret-of-the-ci-user-000000000"},
			keyID:    sharedProfile,
			wantCode: proto.ErrorCodeAccessDenied,
			wantIn:   []string{"SignPayload", "InvalidSignatureException", "base AWS credentials", "secret key"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, tc.base)
			if tc.fault != nil {
				if err := f.emu.InjectFault(*tc.fault); err != nil {
					t.Fatal(err)
				}
			}
			target := tc.target
			if target.Digest == "" {
				target = artifact(nil)
			}
			req := request(t, tc.keyID, target, f.config(tc.cfg...))
			if tc.mutate != nil {
				tc.mutate(req)
			}
			e := f.run(t, req).Failed(t)
			t.Logf("%s: %s", e.ErrCode, e.Message)
			if e.ErrCode != tc.wantCode {
				t.Errorf("code %s, want %s: %s", e.ErrCode, tc.wantCode, e.Message)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(e.Message, s) {
					t.Errorf("message does not contain %q:\n%s", s, e.Message)
				}
			}
			calls := f.emu.Calls()
			// The emulator journals a hung call only once it notices the
			// client went away, which can be just after the plugin exited.
			for wait := 0; tc.fault != nil && tc.fault.Hang && len(calls) == 0 && wait < 500; wait++ {
				time.Sleep(20 * time.Millisecond)
				calls = f.emu.Calls()
			}
			if tc.noCalls && len(calls) != 0 {
				t.Errorf("refused too late, after AWS calls:%s", journal(calls))
			}
			if !tc.noCalls && len(calls) == 0 {
				t.Errorf("no AWS call was made")
			}
		})
	}
}

// TestSignRetriesThrottling throttles the first two attempts of a call and
// expects the third to succeed, within the default retry policy.
func TestSignRetriesThrottling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		base  identity
		cfg   []string
		fault emulator.Fault
	}{
		{"SignPayload TooManyRequestsException", releaser, nil,
			emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "TooManyRequestsException", Count: 2}},
		{"SignPayload ThrottlingException", releaser, nil,
			emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "ThrottlingException", Count: 2}},
		{"AssumeRole Throttling", ciUser, []string{"role-arn=" + directRole},
			emulator.Fault{Service: "sts", Operation: "AssumeRole", ErrorCode: "Throttling", Count: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, world, tc.base)
			if err := f.emu.InjectFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			f.sign(t, request(t, releaseProfile, artifact(nil), f.config(tc.cfg...)))
			calls := f.emu.Calls()
			var statuses []int
			for _, c := range calls {
				if c.Operation == tc.fault.Operation {
					statuses = append(statuses, c.Status)
					if c.Status != 200 && c.ErrorCode != tc.fault.ErrorCode {
						t.Errorf("error code %q, want %q", c.ErrorCode, tc.fault.ErrorCode)
					}
				}
			}
			wantStatus := 429
			if tc.fault.Service == "sts" {
				wantStatus = 400
			}
			if want := []int{wantStatus, wantStatus, 200}; !reflect.DeepEqual(statuses, want) {
				t.Errorf("%s attempts %v, want %v:%s", tc.fault.Operation, statuses, want, journal(calls))
			}
		})
	}
}

// TestSignThrottledTooLong keeps throttling past the retry budget: the
// plugin gives up with THROTTLED after a bounded number of attempts.
func TestSignThrottledTooLong(t *testing.T) {
	t.Parallel()
	f := newFixture(t, world, releaser)
	if err := f.emu.InjectFault(emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "ThrottlingException", Count: 100}); err != nil {
		t.Fatal(err)
	}
	e := f.run(t, request(t, releaseProfile, artifact(nil), f.config("timeout=30s"))).Failed(t)
	if e.ErrCode != proto.ErrorCodeThrottled && e.ErrCode != proto.ErrorCodeTimeout {
		t.Errorf("code %s, want THROTTLED (or TIMEOUT if the backoff outlasted the deadline): %s", e.ErrCode, e.Message)
	}
	if n := count(f.emu.Calls(), "SignPayload"); n < 2 || n > 5 {
		t.Errorf("%d SignPayload attempts, want 2..5 (bounded retries)", n)
	}
}

// readFile reads a file the test expects to exist.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// containsAny returns the first of secrets found in text.
func containsAny(text []byte, secrets []string) (string, bool) {
	for _, s := range secrets {
		if s != "" && bytes.Contains(text, []byte(s)) {
			return s, true
		}
	}
	return "", false
}
