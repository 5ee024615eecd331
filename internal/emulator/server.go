// Package emulator is xsigner-emulator: an offline, wire-faithful emulator of
// AWS STS (awsQuery, XML), AWS Signer (restJson1), Amazon ECR (awsJson1_1:
// GetAuthorizationToken, DescribeImages, BatchGetImage) and an ECR private
// registry's OCI endpoint (/v2/, see registry.go) on one HTTP server. It
// verifies SigV4 signatures (package sigv4), evaluates real IAM policy
// documents (package iam) and really signs Notary JWS envelopes (package
// authority). Wire shapes follow aws.md of the project research; where AWS
// behaviour is not documented a comment says so and the stricter choice is
// made.
//
// # Routing
//
// Requests under /_xsigner/ are the admin API (loopback callers only, see
// admin.go); requests under /v2/ are the registry (ECR token in HTTP Basic
// auth; image content lives in Options.RegistryUpstream). Every other request
// is STS, Signer or ECR, chosen by the service in the SigV4 credential scope;
// unsigned requests are routed by X-Amz-Target (ECR) or path (POST / is STS). The Host header is ignored, so the verification./data- host prefixes
// the Signer SDK adds for GetRevocationStatus work. Signer state is per
// (account, region), the region being the credential-scope region.
//
// # Clients
//
// Point SDKs and the AWS CLI at the base URL with AWS_ENDPOINT_URL_STS,
// AWS_ENDPOINT_URL_SIGNER and AWS_ENDPOINT_URL_ECR (or BaseEndpoint), give
// them a user's keys from the world file (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and a region
// (AWS_REGION). For GetRevocationStatus either disable the endpoint host
// prefix (smithyhttp.DisableEndpointHostPrefix) or use a dialer that sends
// data-127.0.0.1 / verification.127.0.0.1 to the emulator.
//
// # Not emulated
//
// Session policies, tags, MFA and SAML in STS (rejected with a clear
// ValidationError, since ignoring them would grant more than AWS); Signer
// operations other than the ten listed in signer.go (StartSigningJob,
// ListSigningJobs, tags, platforms) answer UnknownOperationException;
// pagination (ListProfilePermissions and DescribeImages return everything);
// ECR operations other than the three above, untagged images in a
// DescribeImages without imageIds, scanning and lifecycle; service quotas
// (ServiceLimitExceededException, throttling) except through faults; SCPs and
// permission boundaries. Web identity signing keys live in memory only.
package emulator

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/xsigner/xsigner/internal/arn"
	"github.com/xsigner/xsigner/internal/emulator/authority"
	"github.com/xsigner/xsigner/internal/emulator/iam"
)

// maxBodyBytes bounds request bodies. AWS front ends reject large bodies with
// 413; the exact limits per service are not documented (the largest legal
// Signer body, a 4096-byte payload in base64, is far below this).
const maxBodyBytes = 1 << 20

// maxJournal bounds the journal; when full, the older half is dropped.
const maxJournal = 100_000

// Options configure an Emulator.
type Options struct {
	// StateDir keeps the CA keys and the Signer state changed through the
	// API across restarts. Empty means everything is in memory.
	StateDir string
	// Now is the emulator's clock: session expiry, signing times, revocation
	// times. nil means time.Now. SigV4 request freshness is always checked
	// against the wall clock, because SDK clients sign with theirs.
	Now func() time.Time
	// Log, when set, receives one line per STS/Signer/ECR/registry call (no
	// secrets).
	Log io.Writer
	// RegistryUpstream is the base URL (http://127.0.0.1:5000) of a real
	// OCI distribution registry that stores the images of the emulated ECR
	// repositories (registry.go). Empty means repositories look empty and
	// the /v2/ endpoint answers 503 after authorizing.
	RegistryUpstream string
}

// Call is one journal entry: an STS or Signer request and its outcome.
type Call struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"requestId"`
	Service   string    `json:"service"`   // "sts", "signer", "ecr" or "registry"
	Operation string    `json:"operation"` // e.g. "AssumeRole", "SignPayload"; for "registry" the IAM actions, e.g. "ecr:PutImage"; "" when not recognised
	Caller    string    `json:"caller,omitempty"`
	Region    string    `json:"region,omitempty"`
	// Resource is the ARN (or "*") IAM authorized the call against, e.g.
	// the signing profile or role; "" for calls that did not get that far.
	Resource  string `json:"resource,omitempty"`
	Status    int    `json:"status"`
	ErrorCode string `json:"errorCode,omitempty"`
}

// Emulator is the emulated AWS. It is an http.Handler and safe for
// concurrent use.
type Emulator struct {
	world     *World
	opts      Options
	now       func() time.Time
	authority *authority.Authority

	// Compiled from the world; read-only after New.
	userKeys map[string]*userKey  // access key id → user
	roles    map[string]*roleInfo // role ARN → role
	oidc     map[string]*oidcProvider
	repos    map[string]*repoInfo // repoKey → repository

	upstream       *url.URL // nil without Options.RegistryUpstream
	upstreamClient *http.Client

	done      chan struct{}
	closeOnce sync.Once

	mu           sync.Mutex
	st           *signerState
	sessions     map[string]*session // ASIA access key id → session
	faults       []*Fault
	calls        []Call
	messageField string
	ecrTokens    map[string]*ecrToken // ECR authorization token password → token
	pushed       map[string]time.Time // <upstream repository>@<digest> → push time
}

type userKey struct {
	secret   string
	identity *identity
}

type roleInfo struct {
	arn, account, name, id string
	partition              string // the account's partition
	trust                  *iam.Policy
	policies               []*iam.Policy
	maxSession             int
}

// identity is an authenticated principal.
type identity struct {
	ARN     string
	Account string
	// Partition of the account: the credentials are refused in regions of
	// other partitions.
	Partition string
	UserID    string
	RoleARN   string // the role behind an assumed-role session
	Session   bool   // an assumed-role session (role chaining applies)
	policies  []*iam.Policy
}

func (id *identity) principal() iam.Principal {
	return iam.Principal{ARN: id.ARN, Account: id.Account, RoleARN: id.RoleARN}
}

// principalARN is aws:PrincipalArn: the role ARN for a session, else the ARN.
func (id *identity) principalARN() string {
	if id.RoleARN != "" {
		return id.RoleARN
	}
	return id.ARN
}

type session struct {
	secret, token string
	expires       time.Time
	identity      *identity
}

// New builds an emulator from a validated world (see ParseWorld).
func New(w *World, opts Options) (*Emulator, error) {
	if w == nil {
		return nil, errors.New("creating emulator: world is nil")
	}
	if err := w.validate(); err != nil {
		return nil, fmt.Errorf("creating emulator: invalid world: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	e := &Emulator{
		world: w, opts: opts, now: now,
		userKeys: map[string]*userKey{}, roles: map[string]*roleInfo{}, oidc: map[string]*oidcProvider{},
		sessions: map[string]*session{}, done: make(chan struct{}),
		repos: map[string]*repoInfo{}, ecrTokens: map[string]*ecrToken{}, pushed: map[string]time.Time{},
		upstreamClient: newUpstreamClient(),
		messageField:   w.ErrorMessageField,
	}
	if e.messageField == "" {
		e.messageField = "message"
	}
	for acct, a := range w.Accounts {
		part := a.partition()
		for name, u := range a.Users {
			pols, err := parsePolicies(u.Policies)
			if err != nil {
				return nil, err
			}
			id := &identity{ARN: fmt.Sprintf("arn:%s:iam::%s:user/%s", part, acct, name), Account: acct,
				Partition: part, UserID: "AIDA" + stableID(acct+"/user/"+name), policies: pols}
			for _, k := range u.AccessKeys {
				e.userKeys[k.AccessKeyID] = &userKey{secret: k.SecretAccessKey, identity: id}
			}
		}
		for name, r := range a.Roles {
			path := r.Path
			if path == "" {
				path = "/"
			}
			trust, err := iam.ParsePolicy(r.TrustPolicy)
			if err != nil {
				return nil, fmt.Errorf("creating emulator: role %s trust policy: %w", name, err)
			}
			pols, err := parsePolicies(r.Policies)
			if err != nil {
				return nil, err
			}
			ri := &roleInfo{arn: "arn:" + part + ":iam::" + acct + ":role" + path + name, account: acct, partition: part, name: name,
				id: "AROA" + stableID(acct+"/role/"+name), trust: trust, policies: pols, maxSession: r.MaxSessionDuration}
			if ri.maxSession == 0 {
				ri.maxSession = defaultMaxSessionDuration
			}
			e.roles[ri.arn] = ri
		}
	}
	if err := e.compileRepositories(w); err != nil {
		return nil, err
	}
	if opts.RegistryUpstream != "" {
		u, err := parseUpstream(opts.RegistryUpstream)
		if err != nil {
			return nil, fmt.Errorf("creating emulator: %w", err)
		}
		e.upstream = u
	}
	if w.WebIdentity != nil {
		for _, p := range w.WebIdentity.Providers {
			op, err := newOIDCProvider(p)
			if err != nil {
				return nil, fmt.Errorf("creating emulator: %w", err)
			}
			e.oidc[p.Issuer] = op
		}
	}
	if opts.StateDir != "" {
		if err := mkdirState(opts.StateDir); err != nil {
			return nil, err
		}
	}
	auth, err := authority.Open(opts.StateDir, now)
	if err != nil {
		return nil, fmt.Errorf("creating emulator: opening signing authority: %w", err)
	}
	e.authority = auth
	st, err := loadState(opts.StateDir)
	if err != nil {
		return nil, fmt.Errorf("creating emulator: %w", err)
	}
	if st == nil {
		st = initialState(w)
		if err := saveState(opts.StateDir, st); err != nil {
			return nil, fmt.Errorf("creating emulator: %w", err)
		}
	}
	e.st = st
	for i := range w.Faults {
		f := w.Faults[i]
		e.faults = append(e.faults, &f)
	}
	return e, nil
}

func parsePolicies(docs []json.RawMessage) ([]*iam.Policy, error) {
	out := make([]*iam.Policy, 0, len(docs))
	for _, d := range docs {
		p, err := iam.ParsePolicy(d)
		if err != nil {
			return nil, fmt.Errorf("creating emulator: %w", err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Close releases requests blocked by a hang fault. The emulator keeps
// answering other requests; callers close their HTTP server afterwards.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() { close(e.done) })
	return nil
}

// RootPEM returns the PEM of the emulator's root CA certificate, the trust
// anchor for notation's signingAuthority trust store.
func (e *Emulator) RootPEM() []byte { return e.authority.RootPEM() }

// Calls returns a copy of the journal, oldest first.
func (e *Emulator) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// apiError is an error answer in the service's protocol.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (a *apiError) Error() string { return a.Code + ": " + a.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// exchange is one request in flight.
type exchange struct {
	w         http.ResponseWriter
	r         *http.Request
	body      []byte
	requestID string
	service   string
	operation string
	region    string
	caller    *identity
	resource  string // what IAM was asked about, for the journal
	status    int
	errCode   string
	tamper    authority.Tamper
	// credExpires is when the caller's session credentials expire (zero
	// for long-term keys).
	credExpires time.Time
}

// ServeHTTP answers STS, Signer and admin requests.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r, requestID: uuid.NewString(), status: http.StatusOK}
	w.Header().Set("X-Amzn-RequestId", x.requestID)
	if r.URL.Path == adminPrefix[:len(adminPrefix)-1] || strings.HasPrefix(r.URL.Path, adminPrefix) {
		e.serveAdmin(w, r)
		return
	}
	if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") {
		e.serveRegistry(w, r)
		return
	}
	defer e.record(x)
	defer func() {
		// Bad input must never take the server down; a panic here is a bug,
		// answered as AWS answers its own bugs.
		if v := recover(); v != nil {
			e.writeError(x, errorf(500, e.internalErrorCode(x), "internal error: %v", v))
		}
	}()
	x.service, x.operation = e.route(r)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		e.writeError(x, errorf(400, e.validationCode(x), "reading request body: %v", err))
		return
	}
	if len(body) > maxBodyBytes {
		code := "RequestEntityTooLargeException"
		if x.service == "sts" {
			code = "RequestEntityTooLarge"
		}
		e.writeError(x, errorf(413, code, "Request must be smaller than %d bytes", maxBodyBytes))
		return
	}
	x.body = body
	switch x.service {
	case "sts":
		e.serveSTS(x)
	case "ecr":
		e.serveECR(x)
	default:
		e.serveSigner(x)
	}
}

// route decides the service by the SigV4 credential scope, falling back to
// the path for unsigned or unparsable requests, and the operation by path,
// method and (STS) the Action parameter.
func (e *Emulator) route(r *http.Request) (service, operation string) {
	service = scopeService(r)
	if service == "" && strings.HasPrefix(r.Header.Get("X-Amz-Target"), ecrTargetPrefix) {
		service = "ecr"
	}
	if service == "ecr" {
		return service, ecrOperation(r)
	}
	if service != "sts" && service != "signer" {
		if r.URL.Path == "/" {
			service = "sts"
		} else {
			service = "signer"
		}
	}
	if service == "sts" {
		return service, "" // the operation comes from the form (serveSTS)
	}
	return service, signerOperation(r.Method, splitPath(r.URL.EscapedPath()))
}

// scopeService returns the service named in the SigV4 credential scope of
// the Authorization header or presigned query, or "".
func scopeService(r *http.Request) string {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		_, rest, ok := strings.Cut(h, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(rest, ",")
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

func (e *Emulator) record(x *exchange) {
	c := Call{Time: e.now().UTC(), RequestID: x.requestID, Service: x.service, Operation: x.operation,
		Region: x.region, Resource: x.resource, Status: x.status, ErrorCode: x.errCode}
	if x.caller != nil {
		c.Caller = x.caller.ARN
	}
	e.appendCall(c)
}

// appendCall adds a journal entry and logs it.
func (e *Emulator) appendCall(c Call) {
	e.mu.Lock()
	if len(e.calls) >= maxJournal { // keep memory bounded in long-running servers
		e.calls = append(e.calls[:0:0], e.calls[len(e.calls)-maxJournal/2:]...)
	}
	e.calls = append(e.calls, c)
	e.mu.Unlock()
	if e.opts.Log != nil {
		op := c.Operation
		if op == "" {
			op = "-"
		}
		caller := c.Caller
		if caller == "" {
			caller = "-"
		}
		line := fmt.Sprintf("%s %s %s status=%d caller=%s region=%s request-id=%s", c.Time.Format(time.RFC3339), c.Service, op, c.Status, caller, orDash(c.Region), c.RequestID)
		if c.ErrorCode != "" {
			line += " error=" + c.ErrorCode
		}
		fmt.Fprintln(e.opts.Log, line)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (e *Emulator) validationCode(x *exchange) string {
	switch x.service {
	case "sts":
		return "ValidationError"
	case "ecr":
		return "InvalidParameterException"
	}
	return "ValidationException"
}

func (e *Emulator) internalErrorCode(x *exchange) string {
	switch x.service {
	case "sts":
		return "InternalFailure"
	case "ecr":
		return "ServerException"
	}
	return "InternalServiceErrorException"
}

// writeError answers with an error in the protocol of x.service.
func (e *Emulator) writeError(x *exchange, ae *apiError) {
	x.status, x.errCode = ae.Status, ae.Code
	if x.service == "sts" {
		writeSTSError(x, ae)
		return
	}
	if x.service == "ecr" {
		writeECRError(x, ae)
		return
	}
	e.mu.Lock()
	field := e.messageField
	e.mu.Unlock()
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-ErrorType", ae.Code)
	x.w.WriteHeader(ae.Status)
	_ = json.NewEncoder(x.w).Encode(map[string]string{field: ae.Message})
}

// writeJSON answers 200 with a JSON body (Signer).
func writeJSON(x *exchange, v any) {
	x.w.Header().Set("Content-Type", "application/json")
	x.w.WriteHeader(http.StatusOK)
	if v == nil {
		return
	}
	_ = json.NewEncoder(x.w).Encode(v)
}

// authenticate verifies the request's SigV4 signature and resolves the
// caller. It is called for every signed operation.
func (e *Emulator) authenticate(x *exchange) *apiError {
	a, err := parseAuthorization(x.r)
	if err != nil {
		return e.authError(x, err)
	}
	x.region = a.Region
	if a.Service != x.service {
		// AWS: "Credential should be scoped to correct service: 'sts'."
		return e.authFailure(x, authBadSignature, fmt.Sprintf("Credential should be scoped to correct service: '%s'. ", x.service))
	}
	if !arn.ValidRegion(a.Region) {
		return e.authFailure(x, authBadSignature, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", a.Region))
	}
	token := x.r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = x.r.URL.Query().Get("X-Amz-Security-Token")
	}
	var secret string
	var id *identity
	if uk, ok := e.userKeys[a.AccessKeyID]; ok {
		if token != "" {
			// A long-term key with a session token is rejected by AWS too.
			return e.authFailure(x, authUnknownKey, "")
		}
		secret, id = uk.secret, uk.identity
	} else {
		e.mu.Lock()
		s, ok := e.sessions[a.AccessKeyID]
		e.mu.Unlock()
		if !ok || subtle.ConstantTimeCompare([]byte(token), []byte(s.token)) != 1 {
			return e.authFailure(x, authUnknownKey, "")
		}
		if !e.now().Before(s.expires) {
			return e.authFailure(x, authExpired, "")
		}
		secret, id = s.secret, s.identity
		x.credExpires = s.expires
	}
	if arn.RegionPartition(a.Region) != id.Partition {
		// The key exists only in its account's partition; the other
		// partitions have never heard of it.
		return e.authFailure(x, authUnknownKey, "")
	}
	if err := a.Verify(x.r, x.body, secret, time.Now()); err != nil {
		return e.authError(x, err)
	}
	x.caller = id
	return nil
}

// admit authenticates a signed request and applies the first matching
// fault: the prelude of every signed STS, Signer and ECR operation. Unsigned
// and presigned (query-string) requests get MissingAuthenticationToken(Exception).
func (e *Emulator) admit(x *exchange) *apiError {
	if ae := e.authenticate(x); ae != nil {
		return ae
	}
	return e.applyFault(x)
}

type authFailureKind int

const (
	authMissing authFailureKind = iota
	authIncomplete
	authUnknownKey
	authBadSignature
	authExpired
	authRequestExpired
)

// authFailure builds the error AWS sends for an authentication failure. STS
// (awsQuery) codes are documented/observed (aws.md §2.4). For Signer the
// codes are those AWS restJson1 services behind the AWS API front end send
// (UnrecognizedClientException, InvalidSignatureException,
// ExpiredTokenException, MissingAuthenticationTokenException); Signer does
// not document them, so this is an informed choice.
func (e *Emulator) authFailure(x *exchange, kind authFailureKind, detail string) *apiError {
	sts := x.service == "sts"
	switch kind {
	case authMissing:
		if sts {
			return errorf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
		}
		return errorf(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case authIncomplete:
		if sts {
			return errorf(400, "IncompleteSignature", "%s", detail)
		}
		return errorf(403, "IncompleteSignatureException", "%s", detail)
	case authUnknownKey:
		if sts {
			return errorf(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
		}
		return errorf(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case authExpired:
		if sts {
			return errorf(400, "ExpiredToken", "The security token included in the request is expired")
		}
		return errorf(403, "ExpiredTokenException", "The security token included in the request is expired")
	case authRequestExpired:
		// STS answers SignatureDoesNotMatch "Signature expired: ..." (some STS
		// front ends say RequestExpired); Signer InvalidSignatureException.
		if sts {
			return errorf(403, "SignatureDoesNotMatch", "%s", detail)
		}
		return errorf(403, "InvalidSignatureException", "%s", detail)
	default:
		msg := "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
		if detail != "" {
			msg = detail
		}
		if sts {
			return errorf(403, "SignatureDoesNotMatch", "%s", msg)
		}
		return errorf(403, "InvalidSignatureException", "%s", msg)
	}
}

// adminPrefix is where the admin API lives.
const adminPrefix = "/_xsigner/"

func isLoopback(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// splitPath splits an escaped URL path into unescaped segments; a segment
// that does not unescape is kept as is (it will not match any route).
func splitPath(escaped string) []string {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		if u, err := url.PathUnescape(p); err == nil {
			parts[i] = u
		}
	}
	return parts
}

// stableID derives a 17-character upper-case id from s, for user and role ids.
func stableID(s string) string {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	var b strings.Builder
	for i := 0; i < 17; i++ {
		b.WriteByte(upperAlnum[h%uint64(len(upperAlnum))])
		h = h*6364136223846793005 + 1442695040888963407
	}
	return b.String()
}
