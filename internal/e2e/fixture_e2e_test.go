//go:build e2e

package e2e

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/xsigner/xsigner/internal/e2e/harness"
	"github.com/xsigner/xsigner/internal/emulator"
)

// The two-account world (internal/emulator/testdata/world-two-accounts.json):
// account A (111111111111) owns the signing profile and the signing role,
// account B (222222222222) runs CI as user ci, which may assume codebuild-ci.
const (
	accountA     = "111111111111"
	region       = "us-west-2"
	profileName  = "release_signer"
	profileARN   = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"
	otherProfile = "other_signer"
	otherARN     = "arn:aws:signer:us-west-2:111111111111:/signing-profiles/other_signer"
	ciRoleARN    = "arn:aws:iam::222222222222:role/codebuild-ci"
	signerRole   = "xsigner-signer"
	signerARN    = "arn:aws:iam::111111111111:role/xsigner-signer"
	externalID   = "xsigner-release-7f3a"

	// Account B's CI user: the base credentials notation passes to the plugin.
	ciAccessKeyID     = "AKIACIUSER222222EXMP"
	ciSecretAccessKey = "ci-secret-222222222222-example-key000000"
	// Account A's admin user (signer:*), who revokes.
	adminAccessKeyID     = "AKIAADMIN1111111EXMP"
	adminSecretAccessKey = "admin-secret-111111111111-example-key000"

	// awsPluginName is the official AWS Signer plugin's name, which Signer
	// signatures name as their verification plugin.
	awsPluginName = "com.amazonaws.signer.notation.plugin"
	// trustStore is the signingAuthority store holding the emulator's root.
	trustStore = "signingAuthority:xsigner-emulator"
	// repo is the repository artifacts are pushed to.
	repo = "e2e/app"
)

// capabilities is how `notation plugin ls` shows xsigner's capabilities.
const capabilities = "[SIGNATURE_GENERATOR.ENVELOPE SIGNATURE_VERIFIER.TRUSTED_IDENTITY SIGNATURE_VERIFIER.REVOCATION_CHECK]"

// fixture is one test's world: its own emulator, registry and notation
// environment (with account B's CI credentials), xsigner installed under its
// own name and the AWS alias.
type fixture struct {
	t     *testing.T
	tools harness.ToolPaths
	emu   *harness.Emulator
	reg   *harness.Registry
	env   *harness.Env

	trustReady bool
}

// worldEdit changes the example world (decoded JSON) before the emulator loads it.
type worldEdit func(t *testing.T, world map[string]any)

// newFixture starts an emulator serving the two-account world (after edits),
// a registry and a fresh notation environment, and installs the plugin from
// bin/notation-xsigner as xsigner and as the AWS alias.
func newFixture(t *testing.T, edits ...worldEdit) *fixture {
	t.Helper()
	f := newBareFixture(t, edits...)
	f.env.InstallPlugin(t, f.tools.Plugin, "xsigner")
	f.env.InstallPlugin(t, f.tools.Plugin, awsPluginName)
	return f
}

// newBareFixture is newFixture without installing any plugin.
func newBareFixture(t *testing.T, edits ...worldEdit) *fixture {
	t.Helper()
	tools := harness.Tools(t)
	var world map[string]any
	if err := json.Unmarshal(emulator.ExampleWorldTwoAccounts(), &world); err != nil {
		t.Fatalf("decoding the example world: %v", err)
	}
	for _, edit := range edits {
		edit(t, world)
	}
	worldJSON, err := json.MarshalIndent(world, "", "  ")
	if err != nil {
		t.Fatalf("encoding the world: %v", err)
	}
	f := &fixture{
		t:     t,
		tools: tools,
		emu:   harness.StartEmulator(t, worldJSON),
		reg:   harness.StartRegistry(t),
		env:   harness.NewEnv(t),
	}
	f.env.Set("AWS_ACCESS_KEY_ID", ciAccessKeyID)
	f.env.Set("AWS_SECRET_ACCESS_KEY", ciSecretAccessKey)
	return f
}

// push pushes a fresh artifact and returns its reference by digest.
func (f *fixture) push(tag string) string {
	f.t.Helper()
	return f.env.PushArtifact(f.t, f.reg, repo, tag)
}

// pluginConfig turns key=value pairs into --plugin-config flags.
func pluginConfig(pairs ...string) []string {
	var args []string
	for _, p := range pairs {
		args = append(args, "--plugin-config", p)
	}
	return args
}

// endpoints is the plugin configuration pointing STS and Signer at the emulator.
func (f *fixture) endpoints() []string {
	return []string{"signer-endpoint-url=" + f.emu.URL, "sts-endpoint-url=" + f.emu.URL}
}

// crossAccount is the plugin configuration for signing as account B through
// account A's role: the role chain codebuild-ci, then xsigner-signer with
// the external id.
func (f *fixture) crossAccount() []string {
	return append(f.endpoints(), "role-arn="+ciRoleARN+","+signerARN, "external-id="+externalID)
}

// sign runs `notation sign --plugin xsigner --id <profile ARN>` on ref with
// the given plugin configuration and extra flags.
func (f *fixture) sign(ref string, config []string, extra ...string) harness.Result {
	f.t.Helper()
	args := []string{"sign", "--insecure-registry", "--plugin", "xsigner", "--id", profileARN}
	args = append(args, pluginConfig(config...)...)
	args = append(args, extra...)
	return f.env.Notation(append(args, ref)...)
}

// signOK signs ref through the cross-account role and checks notation's report.
func (f *fixture) signOK(ref string, extra ...string) {
	f.t.Helper()
	r := f.sign(ref, f.crossAccount(), extra...).MustSucceed(f.t)
	assertContains(f.t, "notation sign output", r.Stdout, "Successfully signed "+ref)
}

// trust adds the emulator's root to the signingAuthority trust store (once)
// and imports a trust policy for the repository with the given trusted
// identities and verification overrides.
func (f *fixture) trust(identities []string, override map[string]string) {
	f.t.Helper()
	if !f.trustReady {
		f.env.AddTrustStoreCert(f.t, "signingAuthority", "xsigner-emulator", f.emu.CAPEM(f.t))
		f.trustReady = true
	}
	f.env.WriteTrustPolicy(f.t, harness.TrustPolicyDocument{
		Version: "1.0",
		TrustPolicies: []harness.TrustPolicy{{
			Name:                  "xsigner-e2e",
			RegistryScopes:        []string{f.reg.Host + "/" + repo},
			SignatureVerification: harness.SignatureVerification{Level: "strict", Override: override},
			TrustStores:           []string{trustStore},
			TrustedIdentities:     identities,
		}},
	})
}

// verifyConfig is the plugin configuration for `notation verify`: the
// emulator's endpoints and account B's role, which may call
// GetRevocationStatus (user ci itself may only assume the role).
func (f *fixture) verifyConfig() []string {
	return append(f.endpoints(), "role-arn="+ciRoleARN)
}

// verify runs `notation verify -v` on ref with the verify configuration.
// Verbose output carries the plugin's reason when verification fails.
func (f *fixture) verify(ref string, extra ...string) harness.Result {
	f.t.Helper()
	args := append([]string{"verify", "-v", "--insecure-registry"}, pluginConfig(f.verifyConfig()...)...)
	args = append(args, extra...)
	return f.env.Notation(append(args, ref)...)
}

// verifyOK verifies ref and checks notation's report.
func (f *fixture) verifyOK(ref string, extra ...string) harness.Result {
	f.t.Helper()
	r := f.verify(ref, extra...).MustSucceed(f.t)
	assertContains(f.t, "notation verify output", r.Stdout, "Successfully verified signature for "+ref)
	return r
}

// verifyRefused verifies ref, wants failure, and wants each of reasons in
// notation's output (stdout and stderr).
func (f *fixture) verifyRefused(ref string, reasons ...string) harness.Result {
	f.t.Helper()
	r := f.verify(ref).MustFailWith(f.t, "signature verification failed")
	for _, reason := range reasons {
		assertContains(f.t, "notation verify output", r.Stdout+r.Stderr, reason)
	}
	return r
}

// signatureInfo is one signature of `notation inspect -o json`.
type signatureInfo struct {
	// Digest is the signature manifest's digest.
	Digest                string            `json:"digest"`
	MediaType             string            `json:"mediaType"`
	SignedAttributes      map[string]string `json:"signedAttributes"`
	UserDefinedAttributes map[string]string `json:"userDefinedAttributes"`
}

// inspect returns the one signature of ref, as `notation inspect` shows it.
func (f *fixture) inspect(ref string) signatureInfo {
	f.t.Helper()
	r := f.env.Notation("inspect", "--insecure-registry", "-o", "json", ref).MustSucceed(f.t)
	var out struct {
		Signatures []signatureInfo `json:"Signatures"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		f.t.Fatalf("decoding notation inspect output: %v\n%s", err, r.Stdout)
	}
	if len(out.Signatures) != 1 {
		f.t.Fatalf("notation inspect shows %d signatures, want 1:\n%s", len(out.Signatures), r.Stdout)
	}
	return out.Signatures[0]
}

// ociManifest is the part of an OCI image manifest the tests read.
type ociManifest struct {
	MediaType string `json:"mediaType"`
	Config    struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Layers []struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
	} `json:"layers"`
	Subject *struct {
		Digest string `json:"digest"`
	} `json:"subject"`
	Annotations map[string]string `json:"annotations"`
}

// signatureManifest fetches the manifest with the given digest from the
// repository with oras.
func (f *fixture) signatureManifest(digest string) ociManifest {
	f.t.Helper()
	r := f.env.Oras("manifest", "fetch", "--plain-http", f.reg.Host+"/"+repo+"@"+digest).MustSucceed(f.t)
	var m ociManifest
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		f.t.Fatalf("decoding signature manifest: %v\n%s", err, r.Stdout)
	}
	return m
}

// signatureChain fetches ref's signature envelope (JWS JSON) from the
// registry with oras and returns its certificate chain, leaf first.
func (f *fixture) signatureChain(ref string) []*x509.Certificate {
	f.t.Helper()
	m := f.signatureManifest(f.inspect(ref).Digest)
	if len(m.Layers) != 1 || m.Layers[0].MediaType != "application/jose+json" {
		f.t.Fatalf("signature manifest layers = %+v, want one application/jose+json envelope", m.Layers)
	}
	blob := f.env.Oras("blob", "fetch", "--plain-http", "--output", "-", f.reg.Host+"/"+repo+"@"+m.Layers[0].Digest).MustSucceed(f.t)
	var jws struct {
		Header struct {
			X5C []string `json:"x5c"`
		} `json:"header"`
	}
	if err := json.Unmarshal([]byte(blob.Stdout), &jws); err != nil {
		f.t.Fatalf("decoding the JWS envelope: %v", err)
	}
	var chain []*x509.Certificate
	for i, b64 := range jws.Header.X5C {
		der, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			f.t.Fatalf("x5c[%d] is not base64: %v", i, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			f.t.Fatalf("x5c[%d]: %v", i, err)
		}
		chain = append(chain, cert)
	}
	if len(chain) < 2 {
		f.t.Fatalf("the envelope carries %d certificates, want a chain", len(chain))
	}
	return chain
}

// adminSigner is an AWS SDK Signer client for account A's admin user,
// talking to the emulator.
func (f *fixture) adminSigner() *signer.Client {
	return signer.New(signer.Options{
		Region:           region,
		BaseEndpoint:     aws.String(f.emu.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(adminAccessKeyID, adminSecretAccessKey, ""),
		RetryMaxAttempts: 1,
	})
}

// adminContext bounds one admin call.
func (f *fixture) adminContext() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	f.t.Cleanup(cancel)
	return ctx
}

// calls returns the journal entries from index from on, as
// "service:Operation caller status" lines.
func (f *fixture) calls(from int) []string {
	f.t.Helper()
	all := f.emu.Calls(f.t)
	var out []string
	for _, c := range all[min(from, len(all)):] {
		line := c.Service + ":" + c.Operation + " " + c.Caller + " " + strconv.Itoa(c.Status)
		if c.ErrorCode != "" {
			line += " " + c.ErrorCode
		}
		out = append(out, line)
	}
	return out
}

// journalLen is the number of calls the emulator has journalled so far.
func (f *fixture) journalLen() int {
	f.t.Helper()
	return len(f.emu.Calls(f.t))
}

// archive returns the `make package` archive for the running platform.
func archive(t *testing.T) string {
	t.Helper()
	pattern := filepath.Join(harness.ModuleRoot(t), "dist", "notation-xsigner_*_"+runtime.GOOS+"_"+runtime.GOARCH+".tar.gz")
	matches, err := filepath.Glob(pattern)
	if err != nil || len(matches) == 0 {
		t.Fatalf("no plugin archive %s; run `make package` first", pattern)
	}
	if len(matches) > 1 {
		// Several versions: take the newest.
		slices.SortFunc(matches, func(a, b string) int {
			return modTime(t, b).Compare(modTime(t, a))
		})
	}
	return matches[0]
}

func modTime(t *testing.T, path string) time.Time {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.ModTime()
}

// dig returns the JSON object at path in doc, failing the test if absent.
func dig(t *testing.T, doc map[string]any, path ...string) map[string]any {
	t.Helper()
	cur := doc
	for i, key := range path {
		next, ok := cur[key].(map[string]any)
		if !ok {
			t.Fatalf("world has no object at %s", strings.Join(path[:i+1], "."))
		}
		cur = next
	}
	return cur
}

// statement returns the statement with the given Sid of a policy document.
func statement(t *testing.T, policy map[string]any, sid string) map[string]any {
	t.Helper()
	stmts, _ := policy["Statement"].([]any)
	for _, s := range stmts {
		if m, ok := s.(map[string]any); ok && m["Sid"] == sid {
			return m
		}
	}
	t.Fatalf("no policy statement %q", sid)
	return nil
}

// signerRolePolicy returns the first identity policy of account A's signing role.
func signerRolePolicy(t *testing.T, world map[string]any) map[string]any {
	t.Helper()
	policies, _ := dig(t, world, "accounts", accountA, "roles", signerRole)["policies"].([]any)
	if len(policies) == 0 {
		t.Fatal("the signing role has no identity policy")
	}
	return policies[0].(map[string]any)
}

// withOtherProfile adds a second signing profile, other_signer, to account A,
// with the same permissions as release_signer, and lets the signing role use it.
func withOtherProfile(t *testing.T, world map[string]any) {
	t.Helper()
	acct := dig(t, world, "accounts", accountA)
	profiles, _ := acct["signingProfiles"].([]any)
	if len(profiles) == 0 {
		t.Fatal("account A has no signing profiles")
	}
	other := map[string]any{}
	for k, v := range profiles[0].(map[string]any) {
		other[k] = v
	}
	other["name"] = otherProfile
	acct["signingProfiles"] = append(profiles, other)
	statement(t, signerRolePolicy(t, world), "SignWithReleaseProfile")["Resource"] = []any{profileARN, otherARN}
}

// withoutTrust makes the signing role trust only account B's user ci, not
// the codebuild-ci role that assumes it.
func withoutTrust(t *testing.T, world map[string]any) {
	t.Helper()
	trust := dig(t, world, "accounts", accountA, "roles", signerRole, "trustPolicy")
	statement(t, trust, "TrustCIFromAccountB")["Principal"] = map[string]any{"AWS": "arn:aws:iam::222222222222:user/ci"}
}

// withoutSignPayload takes signer:SignPayload out of the signing role's policy.
func withoutSignPayload(t *testing.T, world map[string]any) {
	t.Helper()
	statement(t, signerRolePolicy(t, world), "SignWithReleaseProfile")["Action"] = []any{"signer:GetSigningProfile"}
}
