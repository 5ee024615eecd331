package emulator_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

const (
	repoName = "team/app"
	repoARN  = "arn:aws:ecr:us-west-2:111111111111:repository/team/app"
)

// ecrWorld is the example world plus repository team/app in account A,
// whose policy lets codebuild-ci pull and describe (not push); admin may do
// anything with ECR; codebuild-ci's identity policy allows all of ECR on it.
func ecrWorld(t *testing.T) string {
	t.Helper()
	var w map[string]any
	if err := json.Unmarshal([]byte(exampleWorld(t)), &w); err != nil {
		t.Fatal(err)
	}
	accts := w["accounts"].(map[string]any)
	a := accts[accountA].(map[string]any)
	a["repositories"] = map[string]any{repoName: map[string]any{"region": region, "policy": map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid": "PullFromB", "Effect": "Allow", "Principal": map[string]any{"AWS": ciRole},
			"Action": []string{"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"},
		}},
	}}}
	admin := a["users"].(map[string]any)["admin"].(map[string]any)
	admin["policies"] = append(admin["policies"].([]any), map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}}})
	ci := accts[accountB].(map[string]any)["roles"].(map[string]any)["codebuild-ci"].(map[string]any)
	ci["policies"] = append(ci["policies"].([]any), map[string]any{"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
			map[string]any{"Effect": "Allow", "Action": "ecr:*", "Resource": repoARN},
		}})
	out, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func startECR(t *testing.T, upstream string) *env {
	t.Helper()
	c := &testClock{}
	srv := emulatortest.StartWithOptions(t, ecrWorld(t), emulator.Options{Now: c.Now, RegistryUpstream: upstream})
	return &env{Server: srv, clock: c}
}

func (e *env) ecr(c aws.Credentials) *ecr.Client {
	return ecr.New(ecr.Options{Region: region, Credentials: static(c), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1})
}

// loginPassword is what `aws ecr get-login-password` prints.
func (e *env) loginPassword(t *testing.T, c aws.Credentials) string {
	t.Helper()
	out, err := e.ecr(c).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatalf("GetAuthorizationToken: %v", err)
	}
	raw, err := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	if err != nil {
		t.Fatal(err)
	}
	pw, ok := strings.CutPrefix(string(raw), "AWS:")
	if !ok {
		t.Fatalf("token %q does not start with AWS:", raw)
	}
	return pw
}

func wantECRError(t *testing.T, err error, code, msgPart string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), msgPart) {
		t.Fatalf("error = %s: %s, want %s containing %q", ae.ErrorCode(), ae.ErrorMessage(), code, msgPart)
	}
}

func TestECRGetAuthorizationToken(t *testing.T) {
	t.Parallel()
	e := startECR(t, "")
	ci := e.ciSession(t)
	out, err := e.ecr(ci).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	d := out.AuthorizationData[0]
	if got, want := *d.ProxyEndpoint, "https://222222222222.dkr.ecr.us-west-2.amazonaws.com"; got != want {
		t.Errorf("proxyEndpoint = %q, want %q", got, want)
	}
	// The session lasts one hour, so the token does too (not 12 h).
	if left := time.Until(*d.ExpiresAt); left > time.Hour+time.Minute || left < 50*time.Minute {
		t.Errorf("token expires in %s, want the session's hour", left)
	}
	// A long-term key gets the full 12 hours.
	out, err = e.ecr(adminKeys).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(*out.AuthorizationData[0].ExpiresAt); left < 11*time.Hour || left > 12*time.Hour+time.Minute {
		t.Errorf("admin token expires in %s, want 12h", left)
	}
	// User ci has no ecr:GetAuthorizationToken.
	_, err = e.ecr(ciKeys).GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	wantECRError(t, err, "AccessDeniedException",
		"User: arn:aws:iam::222222222222:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: *")
}

func TestECRErrors(t *testing.T) {
	t.Parallel()
	e := startECR(t, "")
	ctx := context.Background()
	ci := e.ciSession(t)
	tests := []struct {
		name      string
		creds     aws.Credentials
		in        *ecr.DescribeImagesInput
		code, msg string
	}{
		{"same-account missing repository", adminKeys, &ecr.DescribeImagesInput{RepositoryName: aws.String("nope")},
			"RepositoryNotFoundException", "The repository with name 'nope' does not exist in the registry with id '111111111111'"},
		{"cross-account missing repository", ci, &ecr.DescribeImagesInput{RegistryId: aws.String(accountA), RepositoryName: aws.String("nope")},
			"AccessDeniedException", "not authorized to perform: ecr:DescribeImages on resource: arn:aws:ecr:us-west-2:111111111111:repository/nope because no resource-based policy allows"},
		{"image not found", ci, &ecr.DescribeImagesInput{RegistryId: aws.String(accountA), RepositoryName: aws.String(repoName),
			ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v9")}}},
			"ImageNotFoundException", "The image with imageId {imageDigest:null, imageTag:'v9'} does not exist within the repository with name 'team/app' in the registry with id '111111111111'"},
		{"bad repository name", adminKeys, &ecr.DescribeImagesInput{RepositoryName: aws.String("Team")},
			"InvalidParameterException", "repositoryName"},
		{"user without ECR permissions", ciKeys, &ecr.DescribeImagesInput{RegistryId: aws.String(accountA), RepositoryName: aws.String(repoName)},
			"AccessDeniedException", "user/ci is not authorized to perform: ecr:DescribeImages on resource: " + repoARN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.ecr(tc.creds).DescribeImages(ctx, tc.in)
			wantECRError(t, err, tc.code, tc.msg)
		})
	}
}

// registryDo sends a request to the emulator's registry endpoint.
func registryDo(t *testing.T, method, url, user, password string, body []byte) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	req.Header.Set("Accept", ocispec.MediaTypeImageManifest+", "+ocispec.MediaTypeImageIndex)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestRegistryAuthentication(t *testing.T) {
	t.Parallel()
	e := startECR(t, "")
	pw := e.loginPassword(t, adminKeys)
	tests := []struct {
		name, user, password string
		status               int
		body                 string
	}{
		{"no credentials", "", "", 401, `"code":"UNAUTHORIZED"`},
		{"wrong user", "admin", pw, 401, "not an ECR authorization token"},
		{"unknown password", "AWS", "xsigner-ecr-forged", 401, "not an ECR authorization token"},
		{"token", "AWS", pw, 200, "{}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := registryDo(t, http.MethodGet, e.URL+"/v2/", tc.user, tc.password, nil)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) {
				t.Fatalf("GET /v2/ = %d %s, want %d containing %s", resp.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 401 {
				if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Basic realm="https://`) || !strings.Contains(got, `service="ecr.amazonaws.com"`) {
					t.Errorf("WWW-Authenticate = %q", got)
				}
			}
		})
	}
	e.clock.Advance(12*time.Hour + time.Second)
	resp, body := registryDo(t, http.MethodGet, e.URL+"/v2/", "AWS", pw, nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "Your authorization token has expired") {
		t.Fatalf("expired token: %d %s", resp.StatusCode, body)
	}
}

// TestRegistryDeniesWithMissingAction: the repository policy lets
// codebuild-ci pull but not push; each push step is refused with 403 naming
// the action ECR checks, before anything reaches the upstream.
func TestRegistryDeniesWithMissingAction(t *testing.T) {
	t.Parallel()
	e := startECR(t, "")
	pw := e.loginPassword(t, e.ciSession(t))
	base := e.URL + "/v2/" + repoName
	dgst := "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	tests := []struct{ method, path, action string }{
		{http.MethodPut, "/manifests/v1", "ecr:PutImage"},
		{http.MethodPost, "/blobs/uploads/", "ecr:InitiateLayerUpload"},
		{http.MethodPatch, "/blobs/uploads/abc", "ecr:UploadLayerPart"},
		{http.MethodPut, "/blobs/uploads/abc?digest=" + dgst, "ecr:CompleteLayerUpload"},
		{http.MethodHead, "/blobs/" + dgst, "ecr:BatchCheckLayerAvailability"},
		{http.MethodGet, "/tags/list", "ecr:ListImages"},
		{http.MethodDelete, "/manifests/" + dgst, "ecr:BatchDeleteImage"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := registryDo(t, tc.method, base+tc.path, "AWS", pw, nil)
			if resp.StatusCode != 403 {
				t.Fatalf("status %d %s, want 403", resp.StatusCode, body)
			}
			want := "User: arn:aws:sts::222222222222:assumed-role/codebuild-ci/test-session is not authorized to perform: " +
				tc.action + " on resource: " + repoARN + " because no resource-based policy allows the " + tc.action + " action"
			if tc.method != http.MethodHead && !strings.Contains(body, want) {
				t.Fatalf("body %s, want %q", body, want)
			}
		})
	}
	// Allowed pulls get past IAM to the missing upstream.
	resp, body := registryDo(t, http.MethodGet, base+"/manifests/v1", "AWS", pw, nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "no upstream registry") {
		t.Fatalf("pull without upstream: %d %s", resp.StatusCode, body)
	}
	// The ECR host name picks the registry; a host of another account does
	// not have the repository.
	req, _ := http.NewRequest(http.MethodGet, base+"/manifests/v1", nil)
	req.Host = "222222222222.dkr.ecr.us-west-2.amazonaws.com"
	req.SetBasicAuth("AWS", pw)
	hresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	hresp.Body.Close()
	if hresp.StatusCode != 404 {
		t.Fatalf("other account's host: %d, want 404", hresp.StatusCode)
	}
	// Unknown repository.
	resp, body = registryDo(t, http.MethodGet, e.URL+"/v2/other/manifests/v1", "AWS", pw, nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "NAME_UNKNOWN") {
		t.Fatalf("unknown repository: %d %s", resp.StatusCode, body)
	}
}

// pushImage pushes a small artifact through the emulator's registry
// endpoint with oras-go and returns its manifest descriptor.
func pushImage(t *testing.T, e *env, password, tag string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	host := strings.TrimPrefix(e.URL, "http://")
	repo, err := remote.NewRepository(host + "/" + repoName)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	repo.Client = &auth.Client{Credential: auth.StaticCredential(host, auth.Credential{Username: "AWS", Password: password})}
	layer := []byte("layer of " + tag + " " + time.Now().String())
	ld := ocispec.Descriptor{MediaType: "application/vnd.example.layer", Digest: digest.FromBytes(layer), Size: int64(len(layer))}
	if err := repo.Push(ctx, ld, bytes.NewReader(layer)); err != nil {
		t.Fatalf("pushing layer: %v", err)
	}
	md, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, "application/vnd.example.test",
		oras.PackManifestOptions{Layers: []ocispec.Descriptor{ld}})
	if err != nil {
		t.Fatalf("pushing manifest: %v", err)
	}
	if err := repo.Tag(ctx, md, tag); err != nil {
		t.Fatalf("tagging: %v", err)
	}
	return md
}

func TestECRWithUpstreamRegistry(t *testing.T) {
	t.Parallel()
	e := startECR(t, emulatortest.StartRegistryUpstream(t))
	ctx := context.Background()
	md := pushImage(t, e, e.loginPassword(t, adminKeys), "v1")
	ci := e.ciSession(t)

	out, err := e.ecr(ci).DescribeImages(ctx, &ecr.DescribeImagesInput{RegistryId: aws.String(accountA),
		RepositoryName: aws.String(repoName), ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}}})
	if err != nil {
		t.Fatal(err)
	}
	d := out.ImageDetails[0]
	if *d.ImageDigest != md.Digest.String() || len(d.ImageTags) != 1 || d.ImageTags[0] != "v1" || *d.RegistryId != accountA ||
		*d.ImageManifestMediaType != ocispec.MediaTypeImageManifest || d.ImagePushedAt == nil {
		t.Fatalf("DescribeImages = %+v, want digest %s tag v1", d, md.Digest)
	}
	// By digest; and everything in the repository.
	for _, in := range []*ecr.DescribeImagesInput{
		{RegistryId: aws.String(accountA), RepositoryName: aws.String(repoName), ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(md.Digest.String())}}},
		{RegistryId: aws.String(accountA), RepositoryName: aws.String(repoName)},
	} {
		out, err := e.ecr(ci).DescribeImages(ctx, in)
		if err != nil || len(out.ImageDetails) != 1 || *out.ImageDetails[0].ImageDigest != md.Digest.String() {
			t.Fatalf("DescribeImages(%+v) = %+v, %v", in, out, err)
		}
	}

	got, err := e.ecr(ci).BatchGetImage(ctx, &ecr.BatchGetImageInput{RegistryId: aws.String(accountA), RepositoryName: aws.String(repoName),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("v1")}, {ImageTag: aws.String("v2")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Images) != 1 || *got.Images[0].ImageId.ImageDigest != md.Digest.String() || !strings.Contains(*got.Images[0].ImageManifest, `"artifactType":"application/vnd.example.test"`) {
		t.Fatalf("BatchGetImage images = %+v", got.Images)
	}
	if len(got.Failures) != 1 || got.Failures[0].FailureCode != ecrtypes.ImageFailureCodeImageNotFound {
		t.Fatalf("BatchGetImage failures = %+v", got.Failures)
	}

	// Pull through the registry endpoint as account B; tags/list names the
	// ECR repository, not the upstream one.
	pw := e.loginPassword(t, ci)
	resp, body := registryDo(t, http.MethodGet, e.URL+"/v2/"+repoName+"/manifests/v1", "AWS", pw, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Docker-Content-Digest") != md.Digest.String() {
		t.Fatalf("pull: %d %s", resp.StatusCode, body)
	}
	apw := e.loginPassword(t, adminKeys)
	resp, body = registryDo(t, http.MethodGet, e.URL+"/v2/"+repoName+"/tags/list", "AWS", apw, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"team/app"`) || !strings.Contains(body, `"v1"`) {
		t.Fatalf("tags/list: %d %s", resp.StatusCode, body)
	}
	// A push by account B is refused at PutImage (the repository policy
	// grants pull only), naming the action.
	resp, body = registryDo(t, http.MethodPut, e.URL+"/v2/"+repoName+"/manifests/v2", "AWS", pw, []byte("{}"))
	if resp.StatusCode != 403 || !strings.Contains(body, "ecr:PutImage") {
		t.Fatalf("push as B: %d %s", resp.StatusCode, body)
	}
	var ops []string
	for _, c := range e.Calls() {
		if c.Service == "registry" {
			ops = append(ops, c.Operation)
		}
	}
	if !strings.Contains(strings.Join(ops, " "), "ecr:InitiateLayerUpload") {
		t.Errorf("journal registry operations %v lack the push", ops)
	}
}

// TestRegistryTokenRegion: an ECR token is for the registry of the region
// it was asked for; a token of another region is refused before IAM and the
// upstream (AWS does not document this; refusing is the stricter choice).
func TestRegistryTokenRegion(t *testing.T) {
	t.Parallel()
	e := startECR(t, "")
	out, err := ecr.New(ecr.Options{Region: "eu-west-1", Credentials: static(adminKeys), BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1}).
		GetAuthorizationToken(context.Background(), &ecr.GetAuthorizationTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(*out.AuthorizationData[0].AuthorizationToken)
	pw := strings.TrimPrefix(string(raw), "AWS:")
	resp, body := registryDo(t, http.MethodGet, e.URL+"/v2/"+repoName+"/manifests/v1", "AWS", pw, nil)
	if resp.StatusCode != 401 || !strings.Contains(body, "eu-west-1") {
		t.Fatalf("eu-west-1 token on a us-west-2 repository: %d %s, want 401", resp.StatusCode, body)
	}
	resp, body = registryDo(t, http.MethodGet, e.URL+"/v2/"+repoName+"/manifests/v1", "AWS", e.loginPassword(t, adminKeys), nil)
	if resp.StatusCode != 503 {
		t.Fatalf("us-west-2 token: %d %s, want 503 (allowed, no upstream)", resp.StatusCode, body)
	}
}

// TestRegistryRejectsDotSegments: references and upload ids are single
// names; "." and ".." (also percent-encoded) would make the upstream's path
// cleaning leave the authorized repository's path.
func TestRegistryRejectsDotSegments(t *testing.T) {
	t.Parallel()
	e := startECR(t, "")
	pw := e.loginPassword(t, adminKeys)
	for _, p := range []string{"/manifests/..", "/manifests/%2e%2e", "/blobs/.", "/blobs/uploads/..", "/referrers/..", "/manifests/-bad"} {
		resp, body := registryDo(t, http.MethodGet, e.URL+"/v2/"+repoName+p, "AWS", pw, nil)
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d %s, want 404", p, resp.StatusCode, body)
		}
	}
}
