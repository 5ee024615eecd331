package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// The OCI registry endpoint: /v2/ on the emulator's listener is an Amazon
// ECR private registry. It authenticates as ECR does (HTTP Basic, user AWS,
// the password of a GetAuthorizationToken token), maps each request to the
// ECR IAM action(s) AWS checks for it, evaluates the caller's identity
// policies and the repository policy (iam.Authorize: cross-account needs
// both), and forwards allowed requests to the upstream registry
// (Options.RegistryUpstream, a real distribution registry) under
// <account>/<region>/<repository>.
//
// Which registry (account, region) a request is for: AWS tells by host name
// (<account>.dkr.ecr.<region>.amazonaws.com). The emulator does the same
// when the Host header has that shape (e.g. with /etc/hosts or a proxy);
// otherwise, on 127.0.0.1:PORT, the repository name picks it: the world must
// then declare that name in one account and region only.
//
// Request → action (as ECR documents them for the Docker/OCI API):
//
//	GET/HEAD manifests/<ref>         ecr:BatchGetImage
//	GET referrers/<digest>           ecr:BatchGetImage
//	GET blobs/<digest>               ecr:GetDownloadUrlForLayer
//	HEAD blobs/<digest>              ecr:BatchCheckLayerAvailability
//	POST blobs/uploads/              ecr:InitiateLayerUpload
//	PATCH, GET blobs/uploads/<id>    ecr:UploadLayerPart
//	PUT blobs/uploads/<id>           ecr:CompleteLayerUpload (+ ecr:UploadLayerPart with a body)
//	DELETE blobs/uploads/<id>        ecr:UploadLayerPart
//	PUT manifests/<ref>              ecr:PutImage
//	DELETE manifests/<ref>           ecr:BatchDeleteImage
//	GET tags/list                    ecr:ListImages
//
// Cross-repository blob mounts are turned into plain uploads (ECR answers a
// mount request with 202 and an upload session too, unless the mount is
// allowed; the stricter choice is never to mount). _catalog is not served
// (ECR has no catalog API either).

// registryRoute is a parsed /v2/ path.
type registryRoute struct {
	name string // repository name
	kind string // "manifests", "blobs", "uploads", "tags", "referrers"
	rest string // the path after the name, "/manifests/v1"
}

var registryPathPattern = regexp.MustCompile(`^/v2/(.+?)(/(manifests|blobs|referrers)/[^/]+|/blobs/uploads/[^/]*|/tags/list)$`)

// ecrHostPattern matches <account>.dkr.ecr.<region>.<domain>[:port].
var ecrHostPattern = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.`)

func parseRegistryPath(p string) (registryRoute, bool) {
	m := registryPathPattern.FindStringSubmatch(p)
	if m == nil {
		return registryRoute{}, false
	}
	r := registryRoute{name: m[1], rest: m[2], kind: m[3]}
	switch {
	case strings.HasPrefix(m[2], "/blobs/uploads/"):
		r.kind = "uploads"
	case m[2] == "/tags/list":
		r.kind = "tags"
	}
	// The last segment must be what the distribution API puts there: a tag
	// or digest, a digest, an upload id. Anything else, "." and ".." in
	// particular, is not routed: the upstream cleans dot segments, which
	// would move the request off the repository IAM authorized.
	last := r.rest[strings.LastIndex(r.rest, "/")+1:]
	switch r.kind {
	case "manifests":
		if !imageTagPattern.MatchString(last) && !imageDigestPattern.MatchString(last) {
			return registryRoute{}, false
		}
	case "blobs", "referrers":
		if !imageDigestPattern.MatchString(last) {
			return registryRoute{}, false
		}
	case "uploads":
		if last != "" && !uploadIDPattern.MatchString(last) {
			return registryRoute{}, false
		}
	}
	return r, true
}

// hostHeaderPattern matches host[:port] values safe to echo in a header.
var hostHeaderPattern = regexp.MustCompile(`^[A-Za-z0-9.-]+(:[0-9]+)?$|^\[[0-9A-Fa-f:.]+\](:[0-9]+)?$`)

// uploadIDPattern matches the upload session ids registries hand out
// (distribution: a UUID); ids never start with a dot.
var uploadIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_=.-]*$`)

// registryActions are the IAM actions a registry request needs.
func registryActions(method string, rt registryRoute, hasBody bool) []string {
	switch rt.kind {
	case "manifests":
		switch method {
		case http.MethodGet, http.MethodHead:
			return []string{"ecr:BatchGetImage"}
		case http.MethodPut:
			return []string{"ecr:PutImage"}
		case http.MethodDelete:
			return []string{"ecr:BatchDeleteImage"}
		}
	case "referrers":
		if method == http.MethodGet {
			return []string{"ecr:BatchGetImage"}
		}
	case "blobs":
		switch method {
		case http.MethodGet:
			return []string{"ecr:GetDownloadUrlForLayer"}
		case http.MethodHead:
			return []string{"ecr:BatchCheckLayerAvailability"}
		}
	case "uploads":
		isStart := rt.rest == "/blobs/uploads/"
		switch {
		case isStart && method == http.MethodPost:
			return []string{"ecr:InitiateLayerUpload"}
		case !isStart && method == http.MethodPut && hasBody:
			return []string{"ecr:UploadLayerPart", "ecr:CompleteLayerUpload"}
		case !isStart && method == http.MethodPut:
			return []string{"ecr:CompleteLayerUpload"}
		case !isStart && (method == http.MethodPatch || method == http.MethodGet || method == http.MethodDelete):
			return []string{"ecr:UploadLayerPart"}
		}
	case "tags":
		if method == http.MethodGet {
			return []string{"ecr:ListImages"}
		}
	}
	return nil
}

// registryExchange is one registry request in flight, for the journal.
type registryExchange struct {
	requestID string
	operation string
	region    string
	resource  string
	caller    *identity
	status    int
	errCode   string
}

// writeRegistryError answers with the distribution error format.
func writeRegistryError(w http.ResponseWriter, r *http.Request, rx *registryExchange, status int, code, msg string) {
	rx.status, rx.errCode = status, code
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

func (e *Emulator) serveRegistry(w http.ResponseWriter, r *http.Request) {
	rx := &registryExchange{requestID: uuid.NewString(), status: http.StatusOK}
	w.Header().Set("X-Amzn-RequestId", rx.requestID)
	defer e.recordRegistry(rx)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value of the reverse proxy
				panic(v)
			}
			writeRegistryError(w, r, rx, 500, "UNKNOWN", fmt.Sprintf("internal error: %v", v))
		}
	}()
	rt, routed := parseRegistryPath(r.URL.Path)
	if routed {
		rx.operation = strings.Join(registryActions(r.Method, rt, r.ContentLength != 0), "+")
	}
	realm := "https://" + r.Host + "/"
	if !hostHeaderPattern.MatchString(r.Host) {
		// The Host header is the client's; never copy quotes or the like
		// into a header value.
		realm = "https://ecr.amazonaws.com/"
	}
	if m := ecrHostPattern.FindStringSubmatch(r.Host); m != nil {
		realm = "https://" + registryHost(m[1], m[2]) + "/"
	}
	tok, status, msg := e.registryCaller(r)
	if tok == nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`",service="ecr.amazonaws.com"`)
			writeRegistryError(w, r, rx, status, "UNAUTHORIZED", msg)
			return
		}
		writeRegistryError(w, r, rx, status, "DENIED", msg)
		return
	}
	caller := tok.identity
	rx.caller = caller
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeRegistryError(w, r, rx, http.StatusMethodNotAllowed, "UNSUPPORTED", "The operation is unsupported.")
			return
		}
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, "{}")
		}
		return
	}
	if !routed {
		writeRegistryError(w, r, rx, http.StatusNotFound, "UNSUPPORTED", "The operation is unsupported.")
		return
	}
	actions := registryActions(r.Method, rt, r.ContentLength != 0)
	if actions == nil {
		writeRegistryError(w, r, rx, http.StatusMethodNotAllowed, "UNSUPPORTED", "The operation is unsupported.")
		return
	}
	repo, msg := e.registryRepository(r.Host, rt.name)
	if repo == nil {
		writeRegistryError(w, r, rx, http.StatusNotFound, "NAME_UNKNOWN", msg)
		return
	}
	rx.region, rx.resource = repo.region, repo.arn
	if tok.region != repo.region {
		// An ECR token is asked for in one region (aws ecr
		// get-login-password --region R) for that region's registries. AWS
		// does not document using it elsewhere; refusing is the stricter
		// choice.
		w.Header().Set("WWW-Authenticate", `Basic realm="`+realm+`",service="ecr.amazonaws.com"`)
		writeRegistryError(w, r, rx, http.StatusUnauthorized, "UNAUTHORIZED", fmt.Sprintf(
			"the authorization token was issued in region %s, but repository %s is in %s: get one with aws ecr get-login-password --region %s",
			tok.region, repo.name, repo.region, repo.region))
		return
	}
	for _, action := range actions {
		res := e.authorizeECR(caller, action, repo.arn, repo.account, repo.region, repo.policy)
		if !res.Allowed {
			m := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", caller.ARN, action, repo.arn)
			if res.Reason != "" {
				m += " because " + res.Reason
			}
			writeRegistryError(w, r, rx, http.StatusForbidden, "DENIED", m)
			return
		}
	}
	if e.upstream == nil {
		writeRegistryError(w, r, rx, http.StatusServiceUnavailable, "UNAVAILABLE",
			"xsigner-emulator has no upstream registry for image content (set Options.RegistryUpstream, --registry-upstream)")
		return
	}
	e.proxyRegistry(w, r, rx, repo, rt)
}

// registryCaller authenticates a registry request: its token, or nil and
// the status and message to answer.
func (e *Emulator) registryCaller(r *http.Request) (*ecrToken, int, string) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, http.StatusUnauthorized, "authentication required: log in with the password of aws ecr get-login-password, user AWS"
	}
	scheme, cred, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return nil, http.StatusUnauthorized, "authentication required: use HTTP Basic with user AWS and an ECR authorization token"
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return nil, http.StatusUnauthorized, "authentication required: the Basic credentials are not base64"
	}
	user, password, _ := strings.Cut(string(raw), ":")
	e.mu.Lock()
	tok := e.ecrTokens[password]
	e.mu.Unlock()
	if user != "AWS" || tok == nil {
		return nil, http.StatusUnauthorized, "authentication required: the user is not AWS or the password is not an ECR authorization token of this emulator"
	}
	if !e.now().Before(tok.expires) {
		// ECR: "denied: Your authorization token has expired. Reauthenticate and try again."
		return nil, http.StatusForbidden, "Your authorization token has expired. Reauthenticate and try again."
	}
	return tok, 0, ""
}

// registryRepository finds the repository a request names.
func (e *Emulator) registryRepository(host, name string) (*repoInfo, string) {
	if m := ecrHostPattern.FindStringSubmatch(host); m != nil {
		if repo := e.repos[repoKey(m[1], m[2], name)]; repo != nil {
			return repo, ""
		}
		return nil, fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, m[1])
	}
	var found []*repoInfo
	for _, repo := range e.repos {
		if repo.name == name {
			found = append(found, repo)
		}
	}
	switch len(found) {
	case 1:
		return found[0], ""
	case 0:
		return nil, fmt.Sprintf("The repository with name '%s' does not exist in any registry of the world", name)
	default:
		return nil, fmt.Sprintf("The repository name '%s' is declared in %d accounts or regions; address the registry by host <account>.dkr.ecr.<region>.amazonaws.com to choose one", name, len(found))
	}
}

// proxyRegistry forwards an authorized request to the upstream, renaming
// the repository there and back.
func (e *Emulator) proxyRegistry(w http.ResponseWriter, r *http.Request, rx *registryExchange, repo *repoInfo, rt registryRoute) {
	upstreamPrefix := "/v2/" + repo.upstreamName()
	proxy := &httputil.ReverseProxy{
		Transport: e.upstreamClient.Transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(e.upstream)
			pr.Out.URL.Path = upstreamPrefix + rt.rest
			pr.Out.URL.RawPath = ""
			q := pr.In.URL.Query()
			if rt.kind == "uploads" && r.Method == http.MethodPost {
				q.Del("mount")
				q.Del("from")
			}
			pr.Out.URL.RawQuery = q.Encode()
			pr.Out.Header.Del("Authorization")
			pr.Out.Host = e.upstream.Host
		},
		ModifyResponse: func(resp *http.Response) error {
			rx.status = resp.StatusCode
			for _, h := range []string{"Location", "Link"} {
				if v := resp.Header.Get(h); v != "" {
					resp.Header.Set(h, e.rewriteUpstreamURL(v, upstreamPrefix, repo.name))
				}
			}
			if rt.kind == "manifests" && r.Method == http.MethodPut && resp.StatusCode == http.StatusCreated {
				if d := resp.Header.Get("Docker-Content-Digest"); d != "" {
					e.mu.Lock()
					if len(e.pushed) < maxJournal {
						e.pushed[repo.upstreamName()+"@"+d] = e.now()
					}
					e.mu.Unlock()
				}
			}
			if rt.kind == "tags" && resp.StatusCode == http.StatusOK {
				return renameTagList(resp, repo.name)
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			writeRegistryError(w, r, rx, http.StatusBadGateway, "UNAVAILABLE", "upstream registry: "+err.Error())
		},
	}
	proxy.ServeHTTP(w, r)
}

// rewriteUpstreamURL turns an upstream Location or Link value (absolute or
// relative, naming the upstream repository) into a relative one naming the
// ECR repository.
func (e *Emulator) rewriteUpstreamURL(v, upstreamPrefix, name string) string {
	upstreamBase := e.upstream.String()
	v = strings.ReplaceAll(v, upstreamBase, "")
	return strings.ReplaceAll(v, upstreamPrefix+"/", "/v2/"+name+"/")
}

// renameTagList rewrites the "name" of a tags/list answer.
func renameTagList(resp *http.Response, name string) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	var doc map[string]any
	if json.Unmarshal(body, &doc) == nil {
		doc["name"] = name
		if b, err := json.Marshal(doc); err == nil {
			body = b
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

func (e *Emulator) recordRegistry(rx *registryExchange) {
	c := Call{Time: e.now().UTC(), RequestID: rx.requestID, Service: "registry", Operation: rx.operation,
		Region: rx.region, Resource: rx.resource, Status: rx.status, ErrorCode: rx.errCode}
	if rx.caller != nil {
		c.Caller = rx.caller.ARN
	}
	e.appendCall(c)
}

// newUpstreamClient is the HTTP client for the upstream registry.
func newUpstreamClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 60 * time.Second
	return &http.Client{Transport: t, Timeout: 5 * time.Minute}
}
