package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator/iam"
)

// Amazon ECR (awsJson1_1): POST / with X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.<Operation>, SigV4 service "ecr".
// Three operations are emulated: GetAuthorizationToken, DescribeImages and
// BatchGetImage; others answer UnknownOperationException. Images are not
// kept by the emulator: they live in the upstream registry
// (Options.RegistryUpstream) under <account>/<region>/<repository>, and the
// emulator's OCI endpoint (registry.go) is the only way in.
const ecrTargetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// ecrTokenLifetime is how long a GetAuthorizationToken token is valid
// (AWS: 12 hours).
const ecrTokenLifetime = 12 * time.Hour

// maxManifestBytes is ECR's image manifest size limit (4 MiB).
const maxManifestBytes = 4 << 20

// maxECRTokens bounds the live tokens kept; expired ones are dropped first.
const maxECRTokens = 10_000

// manifestMediaTypes are the manifest types asked for from the upstream.
var manifestMediaTypes = []string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

var (
	imageTagPattern    = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
	imageDigestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$`)
)

// repoInfo is a compiled repository of the world.
type repoInfo struct {
	account, region, name, arn string
	policy                     *iam.Policy
}

func repoKey(account, region, name string) string { return account + "/" + region + "/" + name }

// upstreamName is the repository's name in the upstream registry.
func (r *repoInfo) upstreamName() string { return r.account + "/" + r.region + "/" + r.name }

// ecrToken is the password of a GetAuthorizationToken token, bound to the
// caller's identity.
type ecrToken struct {
	identity *identity
	region   string // the region of the GetAuthorizationToken call
	expires  time.Time
}

func repositoryARN(region, account, name string) string {
	return fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", arn.RegionPartition(region), region, account, name)
}

func (e *Emulator) compileRepositories(w *World) error {
	for acct, a := range w.Accounts {
		for name, r := range a.Repositories {
			ri := &repoInfo{account: acct, region: r.Region, name: name, arn: repositoryARN(r.Region, acct, name)}
			if len(r.Policy) > 0 {
				p, err := iam.ParsePolicy(r.Policy)
				if err != nil {
					return fmt.Errorf("creating emulator: repository %s policy: %w", name, err)
				}
				ri.policy = p
			}
			e.repos[repoKey(acct, r.Region, name)] = ri
		}
	}
	return nil
}

// serveECR answers an awsJson1_1 ECR request.
func (e *Emulator) serveECR(x *exchange) {
	if x.r.Method != http.MethodPost {
		e.writeError(x, errorf(404, "UnknownOperationException", "ECR operations are POST / requests"))
		return
	}
	if ae := e.admit(x); ae != nil {
		e.writeError(x, ae)
		return
	}
	var ae *apiError
	switch x.operation {
	case "GetAuthorizationToken":
		ae = e.getAuthorizationToken(x)
	case "DescribeImages":
		ae = e.describeImages(x)
	case "BatchGetImage":
		ae = e.batchGetImage(x)
	default:
		ae = errorf(400, "UnknownOperationException", "Operation %q is not supported by xsigner-emulator", x.r.Header.Get("X-Amz-Target"))
	}
	if ae != nil {
		e.writeError(x, ae)
	}
}

// ecrOperation names the operation of an X-Amz-Target header, or "".
func ecrOperation(r *http.Request) string {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), ecrTargetPrefix)
	if !ok {
		return ""
	}
	return op
}

// writeECRError writes an awsJson1_1 error: the SDK reads the code from
// __type (or X-Amzn-ErrorType) and the message from "message".
func writeECRError(x *exchange, ae *apiError) {
	h := x.w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-ErrorType", ae.Code)
	x.w.WriteHeader(ae.Status)
	_ = json.NewEncoder(x.w).Encode(map[string]string{"__type": ae.Code, "message": ae.Message})
}

func writeECRJSON(x *exchange, v any) {
	x.w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	x.w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(x.w).Encode(v)
}

func ecrInvalid(format string, args ...any) *apiError {
	return errorf(400, "InvalidParameterException", format, args...)
}

// authorizeECR evaluates the caller's identity policies and the repository
// policy (nil for actions without a repository).
func (e *Emulator) authorizeECR(c *identity, action, resource, resourceAccount, region string, repoPolicy *iam.Policy) iam.Result {
	return iam.Authorize(iam.Request{Action: action, Resource: resource, Principal: c.principal(), Context: map[string]string{
		"aws:PrincipalAccount": c.Account,
		"aws:PrincipalArn":     c.principalARN(),
		"aws:RequestedRegion":  region,
	}}, c.policies, repoPolicy, resourceAccount, false)
}

// ecrDenied is the AccessDeniedException of ECR (HTTP 400, as awsJson
// services send it).
func ecrDenied(c *identity, action, resource string, res iam.Result) *apiError {
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", c.ARN, action, resource)
	if res.Reason != "" {
		msg += " because " + res.Reason
	}
	return errorf(400, "AccessDeniedException", "%s", msg)
}

func (e *Emulator) getAuthorizationToken(x *exchange) *apiError {
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if ae := decodeBody(x, &in); ae != nil {
		return ae
	}
	if len(in.RegistryIDs) > 10 {
		return ecrInvalid("1 validation error detected: Value at 'registryIds' failed to satisfy constraint: Member must have length less than or equal to 10")
	}
	for _, id := range in.RegistryIDs {
		if !twelveDigits.MatchString(id) {
			return ecrInvalid("Invalid parameter at 'registryIds' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [0-9]{12}'")
		}
	}
	const action = "ecr:GetAuthorizationToken"
	c := x.caller
	x.resource = "*"
	if res := e.authorizeECR(c, action, "*", c.Account, x.region, nil); !res.Allowed {
		return ecrDenied(c, action, "*", res)
	}
	expires := e.now().Add(ecrTokenLifetime)
	// AWS documents a 12-hour token; whether a token minted with session
	// credentials outlives the session is not documented. The stricter
	// choice: it ends with the session.
	if !x.credExpires.IsZero() && x.credExpires.Before(expires) {
		expires = x.credExpires
	}
	password := "xsigner-ecr-" + randomString(64, upperAlnum+"abcdefghijklmnopqrstuvwxyz")
	e.mu.Lock()
	now := e.now()
	if len(e.ecrTokens) >= maxECRTokens {
		for k, t := range e.ecrTokens {
			if !now.Before(t.expires) {
				delete(e.ecrTokens, k)
			}
		}
		for k := range e.ecrTokens { // still full: drop arbitrary ones
			if len(e.ecrTokens) < maxECRTokens {
				break
			}
			delete(e.ecrTokens, k)
		}
	}
	e.ecrTokens[password] = &ecrToken{identity: c, region: x.region, expires: expires}
	e.mu.Unlock()
	registries := in.RegistryIDs
	if len(registries) == 0 {
		registries = []string{c.Account}
	}
	type authData struct {
		AuthorizationToken string  `json:"authorizationToken"`
		ExpiresAt          float64 `json:"expiresAt"`
		ProxyEndpoint      string  `json:"proxyEndpoint"`
	}
	out := struct {
		AuthorizationData []authData `json:"authorizationData"`
	}{}
	for _, id := range registries {
		out.AuthorizationData = append(out.AuthorizationData, authData{
			AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
			ExpiresAt:          float64(expires.Unix()),
			ProxyEndpoint:      "https://" + registryHost(id, x.region),
		})
	}
	writeECRJSON(x, out)
	return nil
}

// registryHost is the AWS host name of an account's registry.
func registryHost(account, region string) string {
	suffix := "amazonaws.com"
	if arn.RegionPartition(region) == "aws-cn" {
		suffix = "amazonaws.com.cn"
	}
	return account + ".dkr.ecr." + region + "." + suffix
}

// imageID is the ECR ImageIdentifier.
type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

func (id imageID) String() string {
	d, t := "null", "null"
	if id.ImageDigest != "" {
		d = "'" + id.ImageDigest + "'"
	}
	if id.ImageTag != "" {
		t = "'" + id.ImageTag + "'"
	}
	return "{imageDigest:" + d + ", imageTag:" + t + "}"
}

func validateImageIDs(ids []imageID, max int) *apiError {
	if len(ids) > max {
		return ecrInvalid("Invalid parameter at 'imageIds' failed to satisfy constraint: 'Member must have length less than or equal to %d'", max)
	}
	for _, id := range ids {
		if id.ImageDigest == "" && id.ImageTag == "" {
			return ecrInvalid("Invalid parameter at 'imageIds': an image identifier needs an imageDigest or an imageTag")
		}
		if id.ImageTag != "" && !imageTagPattern.MatchString(id.ImageTag) {
			return ecrInvalid("Invalid parameter at 'imageTag' failed to satisfy constraint: 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_.]+'")
		}
		if id.ImageDigest != "" && !imageDigestPattern.MatchString(id.ImageDigest) {
			return ecrInvalid("Invalid parameter at 'imageDigest': %q is not a digest", id.ImageDigest)
		}
	}
	return nil
}

// repositoryRequest resolves and authorizes the repository an ECR call
// names. IAM decides first (as AWS does: without a repository there is no
// repository policy, so cross-account callers are denied), then existence.
func (e *Emulator) repositoryRequest(x *exchange, action, registryID, name string) (*repoInfo, *apiError) {
	if name == "" {
		return nil, ecrInvalid("1 validation error detected: Value null at 'repositoryName' failed to satisfy constraint: Member must not be null")
	}
	if !validRepositoryName(name) {
		return nil, ecrInvalid("Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''")
	}
	if registryID == "" {
		registryID = x.caller.Account
	}
	if !twelveDigits.MatchString(registryID) {
		return nil, ecrInvalid("Invalid parameter at 'registryId' failed to satisfy constraint: 'must satisfy regular expression '[0-9]{12}''")
	}
	repo := e.repos[repoKey(registryID, x.region, name)]
	resource := repositoryARN(x.region, registryID, name)
	x.resource = resource
	var pol *iam.Policy
	if repo != nil {
		pol = repo.policy
	}
	if res := e.authorizeECR(x.caller, action, resource, registryID, x.region, pol); !res.Allowed {
		return nil, ecrDenied(x.caller, action, resource, res)
	}
	if repo == nil {
		return nil, errorf(400, "RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", name, registryID)
	}
	return repo, nil
}

// manifest is an image manifest read from the upstream registry.
type manifest struct {
	body      []byte
	mediaType string
	digest    string
}

func (m *manifest) parsed() (configType string, size int64) {
	var doc struct {
		MediaType string `json:"mediaType"`
		Config    struct {
			MediaType string `json:"mediaType"`
			Size      int64  `json:"size"`
		} `json:"config"`
		Layers []struct {
			Size int64 `json:"size"`
		} `json:"layers"`
		Manifests []struct {
			Size int64 `json:"size"`
		} `json:"manifests"`
	}
	_ = json.Unmarshal(m.body, &doc)
	size = doc.Config.Size
	for _, l := range doc.Layers {
		size += l.Size
	}
	for _, l := range doc.Manifests {
		size += l.Size
	}
	return doc.Config.MediaType, size
}

// fetchManifest reads a manifest by tag or digest from the upstream; nil
// when it does not exist (or no upstream is configured).
func (e *Emulator) fetchManifest(ctx context.Context, repo *repoInfo, ref string) (*manifest, error) {
	if e.upstream == nil {
		return nil, nil
	}
	u := e.upstream.JoinPath("v2", repo.upstreamName(), "manifests", ref)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", strings.Join(manifestMediaTypes, ", "))
	resp, err := e.upstreamClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s from the upstream registry: %w", ref, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest %s from the upstream registry: %w", ref, err)
	}
	if len(body) > maxManifestBytes {
		// A cut-off manifest would get a wrong digest; say so instead.
		return nil, fmt.Errorf("reading manifest %s from the upstream registry: larger than ECR's %d-byte manifest limit", ref, maxManifestBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading manifest %s from the upstream registry: status %s", ref, resp.Status)
	}
	sum := sha256.Sum256(body)
	m := &manifest{body: body, mediaType: resp.Header.Get("Content-Type"), digest: "sha256:" + hex.EncodeToString(sum[:])}
	if d := resp.Header.Get("Docker-Content-Digest"); d != "" {
		m.digest = d
	}
	return m, nil
}

// listTags lists the repository's tags in the upstream (at most 10000).
func (e *Emulator) listTags(ctx context.Context, repo *repoInfo) ([]string, error) {
	if e.upstream == nil {
		return nil, nil
	}
	u := e.upstream.JoinPath("v2", repo.upstreamName(), "tags", "list")
	u.RawQuery = "n=10000"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := e.upstreamClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("listing tags in the upstream registry: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("listing tags in the upstream registry: status %s", resp.Status)
	}
	var out struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("listing tags in the upstream registry: %w", err)
	}
	return out.Tags, nil
}

func upstreamError(err error) *apiError {
	return errorf(500, "ServerException", "%v", err)
}

type imageDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          float64  `json:"imagePushedAt,omitempty"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
}

// describeImages answers DescribeImages. Without imageIds it lists the
// tagged images (the upstream cannot enumerate untagged manifests);
// pagination is not emulated: everything comes in one page.
func (e *Emulator) describeImages(x *exchange) *apiError {
	var in struct {
		RegistryID     string    `json:"registryId"`
		RepositoryName string    `json:"repositoryName"`
		ImageIDs       []imageID `json:"imageIds"`
		MaxResults     *int      `json:"maxResults"`
		NextToken      string    `json:"nextToken"`
	}
	if ae := decodeBody(x, &in); ae != nil {
		return ae
	}
	if ae := validateImageIDs(in.ImageIDs, 100); ae != nil {
		return ae
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 1000) {
		return ecrInvalid("Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000'")
	}
	if in.MaxResults != nil && len(in.ImageIDs) > 0 {
		return ecrInvalid("maxResults cannot be used together with imageIds")
	}
	repo, ae := e.repositoryRequest(x, "ecr:DescribeImages", in.RegistryID, in.RepositoryName)
	if ae != nil {
		return ae
	}
	ctx := x.r.Context()
	tags, err := e.listTags(ctx, repo)
	if err != nil {
		return upstreamError(err)
	}
	// digest → its tags, from the tag list.
	tagsOf := map[string][]string{}
	manifests := map[string]*manifest{}
	for _, t := range tags {
		m, err := e.fetchManifest(ctx, repo, t)
		if err != nil {
			return upstreamError(err)
		}
		if m == nil {
			continue
		}
		tagsOf[m.digest] = append(tagsOf[m.digest], t)
		manifests[m.digest] = m
	}
	var digests []string
	if len(in.ImageIDs) == 0 {
		for d := range manifests {
			digests = append(digests, d)
		}
		slices.Sort(digests)
	}
	for _, id := range in.ImageIDs {
		var m *manifest
		if id.ImageDigest != "" {
			if m, err = e.fetchManifest(ctx, repo, id.ImageDigest); err != nil {
				return upstreamError(err)
			}
		} else {
			m = manifests[digestOfTag(tagsOf, id.ImageTag)]
		}
		if m == nil || (id.ImageTag != "" && !slices.Contains(tagsOf[m.digest], id.ImageTag)) {
			return errorf(400, "ImageNotFoundException", "The image with imageId %s does not exist within the repository with name '%s' in the registry with id '%s'", id, repo.name, repo.account)
		}
		manifests[m.digest] = m
		if !slices.Contains(digests, m.digest) {
			digests = append(digests, m.digest)
		}
	}
	out := struct {
		ImageDetails []imageDetail `json:"imageDetails"`
	}{ImageDetails: []imageDetail{}}
	for _, d := range digests {
		m := manifests[d]
		cfgType, size := m.parsed()
		det := imageDetail{RegistryID: repo.account, RepositoryName: repo.name, ImageDigest: d, ImageTags: tagsOf[d],
			ImageSizeInBytes: size, ImageManifestMediaType: m.mediaType, ArtifactMediaType: cfgType}
		if t, ok := e.pushedAt(repo, d); ok {
			det.ImagePushedAt = float64(t.Unix())
		}
		out.ImageDetails = append(out.ImageDetails, det)
	}
	writeECRJSON(x, out)
	return nil
}

func digestOfTag(tagsOf map[string][]string, tag string) string {
	for d, ts := range tagsOf {
		if slices.Contains(ts, tag) {
			return d
		}
	}
	return ""
}

func (e *Emulator) pushedAt(repo *repoInfo, digest string) (time.Time, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.pushed[repo.upstreamName()+"@"+digest]
	return t, ok
}

// batchGetImage answers BatchGetImage: found images in "images", the others
// in "failures" (ImageNotFound, ImageTagDoesNotMatchDigest,
// UnsupportedImageType).
func (e *Emulator) batchGetImage(x *exchange) *apiError {
	var in struct {
		RegistryID         string    `json:"registryId"`
		RepositoryName     string    `json:"repositoryName"`
		ImageIDs           []imageID `json:"imageIds"`
		AcceptedMediaTypes []string  `json:"acceptedMediaTypes"`
	}
	if ae := decodeBody(x, &in); ae != nil {
		return ae
	}
	if len(in.ImageIDs) == 0 {
		return ecrInvalid("1 validation error detected: Value at 'imageIds' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if ae := validateImageIDs(in.ImageIDs, 100); ae != nil {
		return ae
	}
	repo, ae := e.repositoryRequest(x, "ecr:BatchGetImage", in.RegistryID, in.RepositoryName)
	if ae != nil {
		return ae
	}
	type image struct {
		RegistryID             string  `json:"registryId"`
		RepositoryName         string  `json:"repositoryName"`
		ImageID                imageID `json:"imageId"`
		ImageManifest          string  `json:"imageManifest"`
		ImageManifestMediaType string  `json:"imageManifestMediaType,omitempty"`
	}
	type failure struct {
		ImageID       imageID `json:"imageId"`
		FailureCode   string  `json:"failureCode"`
		FailureReason string  `json:"failureReason"`
	}
	out := struct {
		Images   []image   `json:"images"`
		Failures []failure `json:"failures"`
	}{Images: []image{}, Failures: []failure{}}
	for _, id := range in.ImageIDs {
		ref := id.ImageDigest
		if ref == "" {
			ref = id.ImageTag
		}
		m, err := e.fetchManifest(x.r.Context(), repo, ref)
		if err != nil {
			return upstreamError(err)
		}
		switch {
		case m == nil:
			out.Failures = append(out.Failures, failure{id, "ImageNotFound", "Requested image not found"})
			continue
		case id.ImageDigest != "" && id.ImageTag != "":
			byTag, err := e.fetchManifest(x.r.Context(), repo, id.ImageTag)
			if err != nil {
				return upstreamError(err)
			}
			if byTag == nil || byTag.digest != m.digest {
				out.Failures = append(out.Failures, failure{id, "ImageTagDoesNotMatchDigest", "Invalid image tag for the image digest"})
				continue
			}
		}
		if len(in.AcceptedMediaTypes) > 0 && !slices.Contains(in.AcceptedMediaTypes, m.mediaType) {
			out.Failures = append(out.Failures, failure{id, "UnsupportedImageType", "Image media type " + m.mediaType + " is not among the accepted media types"})
			continue
		}
		got := id
		got.ImageDigest = m.digest
		out.Images = append(out.Images, image{RegistryID: repo.account, RepositoryName: repo.name, ImageID: got,
			ImageManifest: string(m.body), ImageManifestMediaType: m.mediaType})
	}
	writeECRJSON(x, out)
	return nil
}

// parseUpstream checks Options.RegistryUpstream.
func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("registry upstream %q must be an http(s) URL of a registry without path or query, e.g. http://127.0.0.1:5000", s)
	}
	u.Path = ""
	return u, nil
}
