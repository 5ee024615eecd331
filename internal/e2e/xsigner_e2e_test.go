//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator/authority"
)

// Every test below runs the real notation CLI against its own registry and
// its own emulator (see fixture). The plugin is bin/notation-xsigner, or the
// `make package` archive.

// TestSignVerifyThroughCrossAccountRole is the main flow: account B's CI user
// signs through codebuild-ci and account A's signing role (with the external
// id), and the signature verifies against the emulator's root with the
// profile ARN as trusted identity, revocation checked with Signer.
func TestSignVerifyThroughCrossAccountRole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")

	f.signOK(ref)
	wantSign := []string{
		"sts:AssumeRole arn:aws:iam::222222222222:user/ci 200",
		"sts:AssumeRole arn:aws:sts::222222222222:assumed-role/codebuild-ci/",
		"signer:SignPayload arn:aws:sts::111111111111:assumed-role/xsigner-signer/",
	}
	assertCalls(t, f.calls(0), wantSign)

	ls := f.env.Notation("ls", "--insecure-registry", ref).MustSucceed(t)
	assertContains(t, "notation ls output", ls.Stdout, "application/vnd.cncf.notary.signature")
	assertContains(t, "notation ls output", ls.Stdout, "└── "+f.inspect(ref).Digest)

	f.trust([]string{profileARN}, nil)
	before := f.journalLen()
	f.verifyOK(ref)
	assertCalls(t, f.calls(before), []string{
		"sts:AssumeRole arn:aws:iam::222222222222:user/ci 200",
		"signer:GetRevocationStatus arn:aws:sts::222222222222:assumed-role/codebuild-ci/",
	})
}

// TestSignWithProfilePermissionOnly signs with account B's own role and no
// role in account A: the profile's resource policy (permission ci-sign for
// codebuild-ci) and codebuild-ci's identity policy allow SignPayload.
func TestSignWithProfilePermissionOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")

	r := f.sign(ref, append(f.endpoints(), "role-arn="+ciRoleARN)).MustSucceed(t)
	assertContains(t, "notation sign output", r.Stdout, "Successfully signed "+ref)
	assertCalls(t, f.calls(0), []string{
		"sts:AssumeRole arn:aws:iam::222222222222:user/ci 200",
		"signer:SignPayload arn:aws:sts::222222222222:assumed-role/codebuild-ci/",
	})

	f.trust([]string{profileARN}, nil)
	f.verifyOK(ref)
}

// TestSignWithStoredKey stores the key and its plugin configuration with
// `notation key add` and signs with `notation sign --key`.
func TestSignWithStoredKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")

	add := []string{"key", "add", "release", "--plugin", "xsigner", "--id", profileARN}
	f.env.Notation(append(add, pluginConfig(f.crossAccount()...)...)...).MustSucceed(t)
	keys := f.env.Notation("key", "ls").MustSucceed(t)
	assertContains(t, "notation key ls output", keys.Stdout, "release")
	assertContains(t, "notation key ls output", keys.Stdout, profileARN)

	r := f.env.Notation("sign", "--insecure-registry", "--key", "release", ref).MustSucceed(t)
	assertContains(t, "notation sign output", r.Stdout, "Successfully signed "+ref)
	assertCalls(t, f.calls(0), []string{"", "", "signer:SignPayload arn:aws:sts::111111111111:assumed-role/xsigner-signer/"})

	f.trust([]string{profileARN}, nil)
	f.verifyOK(ref)
}

// TestInstallFromArchive installs the plugin from the `make package` archive
// for this platform (and, from the executable in it, the AWS alias), then
// signs and verifies with it.
func TestInstallFromArchive(t *testing.T) {
	t.Parallel()
	f := newBareFixture(t)
	tarball := archive(t)
	f.env.InstallPluginArchive(t, tarball)

	dir := t.TempDir()
	untar := exec.Command("tar", "-xzf", tarball, "-C", dir, "notation-xsigner")
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("extracting %s: %v\n%s", tarball, err, out)
	}
	f.env.InstallPlugin(t, filepath.Join(dir, "notation-xsigner"), awsPluginName)

	ls := f.env.Notation("plugin", "ls").MustSucceed(t)
	assertPluginRow(t, ls.Stdout, "xsigner")
	assertPluginRow(t, ls.Stdout, awsPluginName)

	ref := f.push("v1")
	f.signOK(ref)
	f.trust([]string{profileARN}, nil)
	f.verifyOK(ref)
}

// TestPluginList checks the `notation plugin ls` rows of the bare-binary
// install, under both names.
func TestPluginList(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ls := f.env.Notation("plugin", "ls").MustSucceed(t)
	assertContains(t, "notation plugin ls header", ls.Stdout, "NAME")
	assertPluginRow(t, ls.Stdout, "xsigner")
	assertPluginRow(t, ls.Stdout, awsPluginName)
}

// TestVerifyRefusesWrongTrustedIdentity: the trust policy trusts another
// profile, so the plugin's trusted-identity check fails.
func TestVerifyRefusesWrongTrustedIdentity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")
	f.signOK(ref)

	f.trust([]string{otherARN}, nil)
	f.verifyRefused(ref, `trusted identify verification by plugin "`+awsPluginName+`" failed`, profileARN)
}

// TestVerifyRefusesOtherProfile: the artifact is signed by another profile
// of the same account, which the trust policy does not trust.
func TestVerifyRefusesOtherProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withOtherProfile)
	ref := f.push("v1")
	args := []string{"sign", "--insecure-registry", "--plugin", "xsigner", "--id", otherARN}
	f.env.Notation(append(append(args, pluginConfig(f.crossAccount()...)...), ref)...).MustSucceed(t)

	f.trust([]string{profileARN}, nil)
	f.verifyRefused(ref, `trusted identify verification by plugin "`+awsPluginName+`" failed`, otherARN)

	// The same signature verifies once its profile is trusted.
	f.trust([]string{otherARN}, nil)
	f.verifyOK(ref)
}

// TestVerifyRefusesUnsignedArtifact: an artifact without signatures.
func TestVerifyRefusesUnsignedArtifact(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	signed, unsigned := f.push("v1"), f.push("v2")
	f.signOK(signed)
	f.trust([]string{profileARN}, nil)
	f.verifyOK(signed)
	f.verify(unsigned).MustFailWith(t, `no signature is associated with "`+unsigned+`"`)
}

// TestVerifyRefusesRevokedJob: account A's admin revokes the signing job
// with the Signer API (RevokeSignature); GetRevocationStatus reports it.
func TestVerifyRefusesRevokedJob(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref, other := f.push("v1"), f.push("v2")
	f.signOK(ref)
	f.signOK(other)
	f.trust([]string{profileARN}, nil)
	f.verifyOK(ref)

	jobARN := f.inspect(ref).SignedAttributes["com.amazonaws.signer.signingJob"]
	job, err := arn.ParseSigningJob(jobARN)
	if err != nil {
		t.Fatalf("signature's signing job: %v", err)
	}
	_, err = f.adminSigner().RevokeSignature(f.adminContext(), &signer.RevokeSignatureInput{
		JobId: aws.String(job.ID), JobOwner: aws.String(job.Account), Reason: aws.String("e2e: key ceremony failed"),
	})
	if err != nil {
		t.Fatalf("RevokeSignature: %v", err)
	}

	f.verifyRefused(ref, `revocation check by verification plugin "`+awsPluginName+`" failed`,
		`signing job \"`+jobARN+`\" was revoked`)
	// Another job of the same profile is unaffected.
	f.verifyOK(other)
}

// TestVerifyRefusesRevokedProfile: account A's admin revokes the profile
// version from before the signing time (RevokeSigningProfile); signatures of
// that version are refused and the profile no longer signs.
func TestVerifyRefusesRevokedProfile(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")
	f.signOK(ref)
	f.trust([]string{profileARN}, nil)
	f.verifyOK(ref)

	versionARN := f.inspect(ref).SignedAttributes["com.amazonaws.signer.signingProfileVersion"]
	version, err := arn.ParseSigningProfile(versionARN)
	if err != nil || version.Version == "" {
		t.Fatalf("signature's profile version %q: %v", versionARN, err)
	}
	_, err = f.adminSigner().RevokeSigningProfile(f.adminContext(), &signer.RevokeSigningProfileInput{
		ProfileName:    aws.String(profileName),
		ProfileVersion: aws.String(version.Version),
		Reason:         aws.String("e2e: profile compromised"),
		EffectiveTime:  aws.Time(time.Now().Add(-time.Hour)),
	})
	if err != nil {
		t.Fatalf("RevokeSigningProfile: %v", err)
	}

	f.verifyRefused(ref, `revocation check by verification plugin "`+awsPluginName+`" failed`,
		`signing profile version \"`+versionARN+`\" was revoked`)
	f.sign(f.push("v2"), f.crossAccount()).MustFailWith(t, "is not active")
}

// TestVerifyRefusesRevokedCertificate: a CA certificate of the signature's
// chain is revoked (admin API: AWS revokes its own CA certificates).
func TestVerifyRefusesRevokedCertificate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")
	f.signOK(ref)
	f.trust([]string{profileARN}, nil)
	f.verifyOK(ref)

	chain := f.signatureChain(ref)
	f.emu.RevokeCertificate(t, authority.CertificateHashes(chain)[1])
	f.verifyRefused(ref, `revocation check by verification plugin "`+awsPluginName+`" failed`,
		"certificate(s) in the chain were revoked", chain[1].Subject.CommonName)
}

// TestRevocationSkip: with `revocation: skip` the plugin is not asked to
// check revocation, so a revoked job verifies, no credentials are needed and
// the emulator sees no GetRevocationStatus.
func TestRevocationSkip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")
	f.signOK(ref)
	jobARN := f.inspect(ref).SignedAttributes["com.amazonaws.signer.signingJob"]
	job, err := arn.ParseSigningJob(jobARN)
	if err != nil {
		t.Fatalf("signature's signing job: %v", err)
	}
	if _, err := f.adminSigner().RevokeSignature(f.adminContext(), &signer.RevokeSignatureInput{
		JobId: aws.String(job.ID), JobOwner: aws.String(job.Account), Reason: aws.String("e2e"),
	}); err != nil {
		t.Fatalf("RevokeSignature: %v", err)
	}

	f.trust([]string{profileARN}, map[string]string{"revocation": "skip"})
	f.env.Unset("AWS_ACCESS_KEY_ID")
	f.env.Unset("AWS_SECRET_ACCESS_KEY")
	before := f.journalLen()
	f.verifyOK(ref)
	if got := f.calls(before); len(got) != 0 {
		t.Errorf("verify with revocation: skip made AWS calls:\n%s", strings.Join(got, "\n"))
	}

	// The trusted identity is still enforced.
	f.trust([]string{otherARN}, map[string]string{"revocation": "skip"})
	f.verifyRefused(ref, `trusted identify verification by plugin "`+awsPluginName+`" failed`)
}

// TestSignFailures: AWS refusals fail `notation sign`, and notation shows
// the plugin's message (the AWS error, the request id and a hint).
func TestSignFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		world  []worldEdit
		config func(f *fixture) []string
		want   []string
	}{
		{
			name:   "signing role does not trust the caller",
			world:  []worldEdit{withoutTrust},
			config: (*fixture).crossAccount,
			want: []string{
				"AWS STS AssumeRole failed: AccessDenied",
				`the trust policy of role "` + signerARN + `" must allow`,
			},
		},
		{
			name: "external id mismatch",
			config: func(f *fixture) []string {
				return append(f.endpoints(), "role-arn="+ciRoleARN+","+signerARN, "external-id=not-the-agreed-id")
			},
			want: []string{
				"AWS STS AssumeRole failed: AccessDenied",
				"check that external-id matches the trust policy's sts:ExternalId condition",
			},
		},
		{
			name:   "signing role lacks signer:SignPayload",
			world:  []worldEdit{withoutSignPayload},
			config: (*fixture).crossAccount,
			want: []string{
				"AWS Signer SignPayload failed: AccessDeniedException",
				`the permissions policy of role "` + signerARN + `" must allow signer:SignPayload`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.world...)
			ref := f.push("v1")
			r := f.sign(ref, tc.config(f)).MustFail(t)
			for _, want := range tc.want {
				assertContains(t, "notation sign error", r.Stderr, want)
			}
			assertContains(t, "notation sign error", r.Stderr, "request id ")
			if strings.Contains(r.Stderr+r.Stdout, ciSecretAccessKey) {
				t.Errorf("notation output shows the secret access key")
			}
			ls := f.env.Notation("ls", "--insecure-registry", ref).MustSucceed(t)
			if strings.Contains(ls.Stdout, "application/vnd.cncf.notary.signature") {
				t.Errorf("a failed sign left a signature:\n%s", ls.Stdout)
			}
		})
	}
}

// TestUserMetadataSurvives: `-m key=value` goes into the signed payload,
// shows in `notation inspect`, and `notation verify -m` enforces it.
func TestUserMetadataSurvives(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")
	f.signOK(ref, "-m", "build=42", "-m", "team=release")

	got := f.inspect(ref).UserDefinedAttributes
	if got["build"] != "42" || got["team"] != "release" || len(got) != 2 {
		t.Errorf("user defined attributes = %v, want build=42 team=release", got)
	}

	f.trust([]string{profileARN}, nil)
	r := f.verifyOK(ref, "-m", "build=42")
	assertContains(t, "notation verify output", r.Stdout, "user metadata")
	f.verify(ref, "-m", "build=43").MustFailWith(t, "signature verification failed")
}

// TestSignatureManifestAnnotations: the signature manifest carries Signer's
// metadata (the signing job and profile version ARNs) as annotations, equal
// to the signed attributes of the envelope.
func TestSignatureManifestAnnotations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ref := f.push("v1")
	f.signOK(ref)

	sig := f.inspect(ref)
	if sig.MediaType != "application/jose+json" {
		t.Errorf("signature media type = %q, want application/jose+json", sig.MediaType)
	}
	m := f.signatureManifest(sig.Digest)
	if m.Config.MediaType != "application/vnd.cncf.notary.signature" {
		t.Errorf("signature manifest config media type = %q", m.Config.MediaType)
	}
	if m.Subject == nil || !strings.HasSuffix(ref, "@"+m.Subject.Digest) {
		t.Errorf("signature manifest subject = %+v, want %s", m.Subject, ref)
	}
	jobARN := m.Annotations["com.amazonaws.signer.signingJob"]
	if _, err := arn.ParseSigningJob(jobARN); err != nil || !strings.HasPrefix(jobARN, "arn:aws:signer:us-west-2:111111111111:/signing-jobs/") {
		t.Errorf("annotation com.amazonaws.signer.signingJob = %q (%v), want a job of account A in us-west-2", jobARN, err)
	}
	versionARN := m.Annotations["com.amazonaws.signer.signingProfileVersion"]
	if v, err := arn.ParseSigningProfile(versionARN); err != nil || v.ProfileARN() != profileARN || v.Version == "" {
		t.Errorf("annotation com.amazonaws.signer.signingProfileVersion = %q (%v), want a version of %s", versionARN, err, profileARN)
	}
	for _, key := range []string{"com.amazonaws.signer.signingJob", "com.amazonaws.signer.signingProfileVersion"} {
		if m.Annotations[key] != sig.SignedAttributes[key] {
			t.Errorf("annotation %s = %q, but the envelope says %q", key, m.Annotations[key], sig.SignedAttributes[key])
		}
	}
	for _, key := range []string{"io.cncf.notary.x509chain.thumbprint#S256", "org.opencontainers.image.created"} {
		if m.Annotations[key] == "" {
			t.Errorf("signature manifest lacks annotation %s: %v", key, m.Annotations)
		}
	}
}

// assertCalls checks that got (journal lines) matches want line by line by
// prefix; an empty want line matches anything.
func assertCalls(t *testing.T, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("emulator journal:\n%s\nwant (by prefix):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// pluginRow matches a healthy `notation plugin ls` row: name, description,
// SemVer version, capabilities, <nil> error.
func pluginRow(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` +\S.*? +(\d+\.\d+\.\d+\S*) +` +
		regexp.QuoteMeta(capabilities) + ` +<nil> *$`)
}

// assertPluginRow checks that `notation plugin ls` output lists name as a
// healthy plugin with xsigner's capabilities.
func assertPluginRow(t *testing.T, list, name string) {
	t.Helper()
	if !pluginRow(name).MatchString(list) {
		t.Errorf("notation plugin ls has no healthy row for %s with %s:\n%s", name, capabilities, list)
	}
}
