package spec

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// These tests prove the IAM documents of spec/iam with real SDK clients and
// oras-go against xsigner-emulator (and a real registry behind its ECR
// endpoint): the full documents let both signing models and the deploy gate
// work, and without any one statement some step of them is denied.

// flowEnv is one emulator serving a world made of the spec documents.
type flowEnv struct {
	url  string
	host string
	emu  *emulator.Emulator
	l    layout // the world's partition and region; clients sign for its region
}

func startFlowEnv(t *testing.T, upstream string, docs specDocs) *flowEnv {
	t.Helper()
	srv := emulatortest.StartWithOptions(t, string(docs.world(t)), emulator.Options{RegistryUpstream: upstream})
	return &flowEnv{url: srv.URL, host: strings.TrimPrefix(srv.URL, "http://"), emu: srv.Emulator, l: docs.layout}
}

func creds(id, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, token)
}

func (f *flowEnv) stsClient(c aws.CredentialsProvider) *sts.Client {
	return sts.New(sts.Options{Region: f.l.region, Credentials: c, BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

func (f *flowEnv) ecrClient(c aws.CredentialsProvider) *ecr.Client {
	return ecr.New(ecr.Options{Region: f.l.region, Credentials: c, BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

func disableHostPrefix(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("disableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

func (f *flowEnv) signerClient(c aws.CredentialsProvider) *signer.Client {
	return signer.New(signer.Options{Region: f.l.region, Credentials: c, BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{disableHostPrefix}})
}

func (f *flowEnv) assume(ctx context.Context, caller aws.CredentialsProvider, role, extID string) (aws.CredentialsProvider, error) {
	in := &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("spec")}
	if extID != "" {
		in.ExternalId = aws.String(extID)
	}
	out, err := f.stsClient(caller).AssumeRole(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("AssumeRole %s: %w", role, err)
	}
	c := out.Credentials
	return creds(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken), nil
}

// repository is account A's repository through the emulator's registry
// endpoint, logged in with an ECR token of c (aws ecr get-login-password).
func (f *flowEnv) repository(ctx context.Context, c aws.CredentialsProvider) (*remote.Repository, error) {
	out, err := f.ecrClient(c).GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		return nil, fmt.Errorf("GetAuthorizationToken: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		return nil, err
	}
	password := strings.TrimPrefix(string(raw), "AWS:")
	repo, err := remote.NewRepository(f.host + "/" + repoName)
	if err != nil {
		return nil, err
	}
	repo.PlainHTTP = true
	repo.Client = &auth.Client{Credential: auth.StaticCredential(f.host, auth.Credential{Username: "AWS", Password: password})}
	return repo, nil
}

// pushImage pushes an image as account A's admin and returns its digest.
func (f *flowEnv) pushImage(t *testing.T, tag string) string {
	t.Helper()
	ctx := context.Background()
	repo, err := f.repository(ctx, creds(adminKeyID, adminSecret, ""))
	if err != nil {
		t.Fatal(err)
	}
	layer := []byte("spec image " + tag)
	ld := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: digest.FromBytes(layer), Size: int64(len(layer))}
	if err := repo.Push(ctx, ld, bytes.NewReader(layer)); err != nil {
		t.Fatalf("pushing image layer: %v", err)
	}
	md, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example.app", oras.PackManifestOptions{Layers: []ocispec.Descriptor{ld}})
	if err != nil {
		t.Fatalf("pushing image manifest: %v", err)
	}
	if err := repo.Tag(ctx, md, tag); err != nil {
		t.Fatalf("tagging image: %v", err)
	}
	return md.Digest.String()
}

// signingModel is how the CodeBuild role reaches the signing profile.
type signingModel int

const (
	roleAssumption signingModel = iota
	profilePermissionModel
)

func (m signingModel) String() string {
	if m == roleAssumption {
		return "role assumption"
	}
	return "profile permission"
}

// sign is what sign.yml does, step by step, as account B's CodeBuild role:
// log in to ECR, resolve the tag with DescribeImages, read the manifest,
// sign (through the signing role with the external id, or directly with
// the profile permission) and push the signature as a referrer.
func (f *flowEnv) sign(ctx context.Context, model signingModel, tag string) (string, error) {
	service := creds(serviceKeyID, serviceSecret, "")
	cb, err := f.assume(ctx, service, f.l.codebuildRole(), "")
	if err != nil {
		return "", err
	}
	repo, err := f.repository(ctx, cb)
	if err != nil {
		return "", err
	}
	imgs, err := f.ecrClient(cb).DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: aws.String(accountA),
		RepositoryName: aws.String(repoName), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}}})
	if err != nil {
		return "", fmt.Errorf("DescribeImages: %w", err)
	}
	dgst := *imgs.ImageDetails[0].ImageDigest
	subject, err := repo.Resolve(ctx, dgst)
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", dgst, err)
	}
	signerCreds, in := cb, &signer.SignPayloadInput{ProfileName: aws.String(profileName), ProfileOwner: aws.String(accountA)}
	if model == roleAssumption {
		if signerCreds, err = f.assume(ctx, cb, f.l.signingRole(), externalID); err != nil {
			return "", err
		}
		in.ProfileOwner = nil
	}
	payload, _ := json.Marshal(map[string]any{"targetArtifact": subject})
	in.Payload, in.PayloadFormat = payload, aws.String("application/vnd.cncf.notary.payload.v1+json")
	out, err := f.signerClient(signerCreds).SignPayload(ctx, in)
	if err != nil {
		return "", fmt.Errorf("SignPayload: %w", err)
	}
	sd := ocispec.Descriptor{MediaType: "application/jose+json", Digest: digest.FromBytes(out.Signature), Size: int64(len(out.Signature))}
	if err := repo.Push(ctx, sd, bytes.NewReader(out.Signature)); err != nil {
		return "", fmt.Errorf("pushing the signature blob: %w", err)
	}
	if _, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.cncf.notary.signature",
		oras.PackManifestOptions{Subject: &subject, Layers: []ocispec.Descriptor{sd}}); err != nil {
		return "", fmt.Errorf("pushing the signature manifest: %w", err)
	}
	return dgst, nil
}

// verify is what verify.yml needs as the deploy role: log in, read the
// image manifest, find and read its signature, check revocation.
func (f *flowEnv) verify(ctx context.Context, dgst string) error {
	dep, err := f.assume(ctx, creds(serviceKeyID, serviceSecret, ""), f.l.deployRole(), "")
	if err != nil {
		return err
	}
	repo, err := f.repository(ctx, dep)
	if err != nil {
		return err
	}
	subject, err := repo.Resolve(ctx, dgst)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", dgst, err)
	}
	var sigs []ocispec.Descriptor
	if err := repo.Referrers(ctx, subject, "application/vnd.cncf.notary.signature", func(r []ocispec.Descriptor) error {
		sigs = append(sigs, r...)
		return nil
	}); err != nil {
		return fmt.Errorf("listing signatures: %w", err)
	}
	if len(sigs) == 0 {
		return errors.New("no signature found")
	}
	_, mf, err := oras.FetchBytes(ctx, repo, sigs[0].Digest.String(), oras.DefaultFetchBytesOptions)
	if err != nil {
		return fmt.Errorf("fetching the signature manifest: %w", err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mf, &m); err != nil {
		return err
	}
	rc, err := repo.Blobs().Fetch(ctx, m.Layers[0])
	if err != nil {
		return fmt.Errorf("fetching the signature blob: %w", err)
	}
	rc.Close()
	_, err = f.signerClient(dep).GetRevocationStatus(ctx, &signer.GetRevocationStatusInput{
		CertificateHashes: []string{strings.Repeat("a", 64)},
		JobArn:            aws.String("arn:" + f.l.partition + ":signer:" + f.l.region + ":" + accountA + ":/signing-jobs/" + strings.Repeat("0", 8) + "-0000-0000-0000-" + strings.Repeat("0", 12)),
		PlatformId:        aws.String("Notation-OCI-SHA384-ECDSA"), ProfileVersionArn: aws.String(f.l.profileARN() + "/AbCdEfGhIj"), SignatureTimestamp: aws.Time(timeNow()),
	})
	if err != nil {
		return fmt.Errorf("GetRevocationStatus: %w", err)
	}
	return nil
}

// flows runs both signing models and the deploy gate and returns the
// error of each that failed, keyed by flow name.
func (f *flowEnv) flows(t *testing.T, tag string) map[string]error {
	t.Helper()
	ctx := context.Background()
	errs := map[string]error{}
	for _, model := range []signingModel{roleAssumption, profilePermissionModel} {
		img := f.pushImage(t, fmt.Sprintf("%s-%d", tag, model))
		dgst, err := f.sign(ctx, model, fmt.Sprintf("%s-%d", tag, model))
		if err != nil {
			errs["sign by "+model.String()] = err
			continue
		}
		if dgst != img {
			t.Fatalf("DescribeImages resolved %s, pushed %s", dgst, img)
		}
		if err := f.verify(ctx, dgst); err != nil {
			errs["verify after "+model.String()] = err
		}
	}
	return errs
}

// isDenied says whether an error is an authorization refusal.
func isDenied(err error) bool {
	s := err.Error()
	return strings.Contains(s, "not authorized to perform") || strings.Contains(s, "403")
}

func TestSpecDocumentsWork(t *testing.T) {
	t.Parallel()
	f := startFlowEnv(t, emulatortest.StartRegistryUpstream(t), loadSpecDocs(t))
	for name, err := range f.flows(t, "full") {
		t.Errorf("%s: %v", name, err)
	}
}

// TestEveryStatementIsNeeded removes each statement of each spec/iam
// document (and each profile permission of profile-permissions.sh) in
// turn: some step of signing or verification must then be denied.
func TestEveryStatementIsNeeded(t *testing.T) {
	t.Parallel()
	upstream := emulatortest.StartRegistryUpstream(t)
	type removal struct {
		name string
		edit func(*specDocs)
	}
	var removals []removal
	for _, file := range iamFiles {
		doc := loadIAM(t, file)
		for i, s := range doc.statements() {
			sid, _ := s.(map[string]any)["Sid"].(string)
			removals = append(removals, removal{fmt.Sprintf("%s/%d-%s", file, i, sid), func(d *specDocs) { d.set(file, doc.without(i)) }})
		}
	}
	for i, p := range loadProfilePermissions(t) {
		removals = append(removals, removal{fmt.Sprintf("%s/%d-%s", fileProfilePermissions, i, p.StatementID), func(d *specDocs) {
			d.profilePermissions = append(d.profilePermissions[:i:i], d.profilePermissions[i+1:]...)
		}})
	}
	for i, r := range removals {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			docs := loadSpecDocs(t)
			r.edit(&docs)
			f := startFlowEnv(t, upstream, docs)
			errs := f.flows(t, fmt.Sprintf("rm%d", i))
			if len(errs) == 0 {
				t.Fatalf("without %s, signing and verification still work: the statement is not needed", r.name)
			}
			for name, err := range errs {
				if !isDenied(err) {
					t.Errorf("%s failed, but not with a denial: %v", name, err)
				}
				t.Logf("%s denied: %v", name, err)
			}
		})
	}
}

// TestGuideRepositoryPolicyFails: the repository policy of the guide
// (shared/seed), which grants account B no pull of the manifest and no
// push, makes signing fail with the missing action named.
func TestGuideRepositoryPolicyFails(t *testing.T) {
	t.Parallel()
	docs := loadSpecDocs(t)
	docs.repoPolicy = guideRepositoryPolicy()
	f := startFlowEnv(t, emulatortest.StartRegistryUpstream(t), docs)
	f.pushImage(t, "guide")
	_, err := f.sign(context.Background(), roleAssumption, "guide")
	if err == nil || !isDenied(err) {
		t.Fatalf("signing with the guide's repository policy: %v, want a denial", err)
	}
	t.Logf("denied as expected: %v", err)
}

// guideRepositoryPolicy is the guide's ECR repository policy (its Resource
// line, broken across lines in the guide, joined).
func guideRepositoryPolicy() map[string]any {
	return map[string]any{
		"Version": "2008-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"AWS": "arn:aws:iam::" + accountB + ":root"},
			"Action":    []string{"ecr:DescribeImages", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:ListImages"},
			"Resource":  "arn:aws:ecr:" + region + ":" + accountA + ":repository/" + repoName,
		}},
	}
}

// TestSigningRoleNeedsTheExternalID: the trust policy's condition holds:
// without the external id, or with another, account B cannot assume the
// signing role.
func TestSigningRoleNeedsTheExternalID(t *testing.T) {
	t.Parallel()
	f := startFlowEnv(t, "", loadSpecDocs(t))
	ctx := context.Background()
	cb, err := f.assume(ctx, creds(serviceKeyID, serviceSecret, ""), codebuildRole, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "not-the-external-id"} {
		if _, err := f.assume(ctx, cb, signingRole, id); err == nil || !isDenied(err) {
			t.Errorf("external id %q: %v, want AccessDenied", id, err)
		}
	}
	if _, err := f.assume(ctx, cb, signingRole, externalID); err != nil {
		t.Errorf("with the external id: %v", err)
	}
}
