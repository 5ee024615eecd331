// Package awsclient builds the AWS clients the plugin uses, in one place:
// base credentials from the SDK default chain, the optional role chain
// assumed with our own STS client (and cached on disk across plugin
// processes), the retry policy, and one HTTP client whose transport
// normalises error bodies and writes a redacted debug log.
//
// Endpoint overrides (aws.md §0): the Signer client disables the endpoint
// host prefix whenever it has a custom endpoint (signer-endpoint-url or one
// the SDK reads from the environment or shared config), so
// GetRevocationStatus reaches the given host instead of data-<host>. When sts-endpoint-url is
// set, our STS client and also the SDK's own shared-config role_arn and
// web-identity providers (which otherwise ignore configured endpoints
// because LoadDefaultConfig resolves credentials before endpoints) call it.
package awsclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/processcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/credcache"
)

// Defaults of the retry policy and the role sessions.
const (
	// DefaultRoleDuration is requested when config.RoleDuration is zero.
	DefaultRoleDuration = 15 * time.Minute
	// MaxChainedDuration is the STS cap for a session obtained by role
	// chaining (assuming a role with role-session credentials).
	MaxChainedDuration = time.Hour
	// DefaultMaxAttempts is the number of attempts per API call (first try
	// plus retries).
	DefaultMaxAttempts = 5
	// DefaultMaxBackoff bounds the jittered exponential backoff.
	DefaultMaxBackoff = 5 * time.Second
)

// Options configure New.
type Options struct {
	// Config is the validated plugin configuration.
	Config config.Config
	// Region is the resolved region (the signing profile's, or the override).
	Region string
	// RegionSource says where Region came from, for the log ("the key ARN",
	// "pluginConfig aws-region"). Optional.
	RegionSource string
	// Logger receives debug logs; nil discards them.
	Logger *slog.Logger
	// LookupEnv reads XDG_CACHE_HOME, CODEBUILD_BUILD_ID and HOSTNAME
	// (os.LookupEnv in production). The AWS SDK itself reads the process
	// environment directly. Nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// UserAgent is added to the SDK user agent, e.g. "xsigner/1.2.3".
	UserAgent string
	// Now is the clock for the credential cache; nil means time.Now.
	Now func() time.Time
	// MaxAttempts per API call; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// MaxBackoff between attempts; 0 means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// Transport is the innermost HTTP transport; nil means the SDK default
	// transport (with AWS_CA_BUNDLE / ca_bundle applied).
	Transport http.RoundTripper
}

// Session holds the resolved credentials and builds the service clients.
type Session struct {
	opts       Options
	log        *slog.Logger
	httpClient *http.Client
	// cfg carries the final credentials (after the role chain).
	cfg aws.Config
	// base is the SDK default chain's provider.
	base aws.CredentialsProvider
	// sessionName is the RoleSessionName sent on every hop.
	sessionName string
	cache       *credcache.Cache

	assumeCalls atomic.Int32

	mu            sync.Mutex
	assumedARN    string // last hop's AssumedRoleUser ARN, when we assumed it
	callerOnce    sync.Once
	callerFromSTS string
}

// New resolves the base credentials, assumes the configured role chain and
// retrieves the final credentials eagerly, so that credential and
// AssumeRole errors surface here rather than inside the first Signer call.
func New(ctx context.Context, opts Options) (*Session, error) {
	if opts.Region == "" {
		return nil, errors.New("no AWS region: set aws-region or use a key ARN that names one")
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{opts: opts, log: log}

	if src := opts.RegionSource; src != "" {
		log.Debug(fmt.Sprintf("using region %q from %s", opts.Region, src))
	} else {
		log.Debug(fmt.Sprintf("using region %q", opts.Region))
	}
	cfg := opts.Config
	// No WithHTTPClient here: the SDK only applies a custom CA bundle
	// (AWS_CA_BUNDLE, ca_bundle) to its own *awshttp.BuildableClient and
	// refuses any other client. Our client is built below on top of that
	// client's transport, and the SDK's own STS calls (shared-config
	// role_arn, web identity) are routed through it per call.
	loadOpts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(opts.Region),
		awsconfig.WithRetryer(s.newRetryer),
		awsconfig.WithAPIOptions(userAgentOptions(opts.UserAgent)),
		awsconfig.WithAssumeRoleCredentialOptions(func(o *stscreds.AssumeRoleOptions) {
			if o.Client != nil {
				if _, done := o.Client.(stsViaSession); !done {
					o.Client = stsViaSession{assumeRole: o.Client, s: s}
				}
			}
		}),
		awsconfig.WithWebIdentityRoleCredentialOptions(func(o *stscreds.WebIdentityRoleOptions) {
			// The first application sees no client (LoadDefaultConfig then
			// builds one); the second, inside NewWebIdentityRoleProvider,
			// sees that client and wraps it.
			if o.Client != nil {
				if _, done := o.Client.(stsViaSession); !done {
					o.Client = stsViaSession{webIdentity: o.Client, s: s}
				}
			}
		}),
	}
	if cfg.Profile != "" {
		log.Debug(fmt.Sprintf("using shared-config profile %q from pluginConfig aws-profile", cfg.Profile))
		loadOpts = append(loadOpts, awsconfig.WithSharedConfigProfile(cfg.Profile))
	}
	if u := cfg.STSEndpointURL; u != "" {
		log.Debug(fmt.Sprintf("using STS endpoint %q from sts-endpoint-url, also for shared-config role_arn and web identity", u))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", scrubCredentialError(err))
	}
	transport := opts.Transport
	if transport == nil {
		if bc, ok := awsCfg.HTTPClient.(*awshttp.BuildableClient); ok {
			transport = bc.GetTransport() // carries a custom CA bundle, if any
		} else {
			transport = http.DefaultTransport.(*http.Transport).Clone()
		}
	}
	s.httpClient = newHTTPClient(transport, log)
	awsCfg.HTTPClient = s.httpClient
	s.base = awsCfg.Credentials
	s.cfg = awsCfg

	baseCreds, err := s.retrieveBase(ctx)
	if err != nil {
		return nil, err
	}
	if len(cfg.RoleARNs) == 0 {
		log.Debug("no role-arn: the base credentials call Signer directly")
		return s, nil
	}

	s.sessionName = s.roleSessionName()
	if cfg.CredentialCache {
		s.cache = s.openCache()
	}
	first, err := s.fetchChain(ctx, baseCreds)
	if err != nil {
		return nil, err
	}
	prov := &chainProvider{s: s, primed: &first}
	final := aws.NewCredentialsCache(prov, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = time.Minute
	})
	if _, err := final.Retrieve(ctx); err != nil { // consumes the primed credentials
		return nil, err
	}
	s.cfg.Credentials = final
	return s, nil
}

// retrieveBase retrieves the base credentials and logs their source.
func (s *Session) retrieveBase(ctx context.Context) (aws.Credentials, error) {
	creds, err := s.base.Retrieve(ctx)
	if err != nil {
		where := "the AWS SDK default credential chain (environment, shared config, container, instance metadata)"
		if p := s.opts.Config.Profile; p != "" {
			where = fmt.Sprintf("shared-config profile %q", p)
		}
		return aws.Credentials{}, &BaseCredentialsError{Source: where, Err: scrubCredentialError(err)}
	}
	s.log.Debug(fmt.Sprintf("base credentials %s from %s", MaskKeyID(creds.AccessKeyID), credentialSource(creds)))
	return creds, nil
}

// BaseCredentialsError is a failure to resolve the base credentials (the
// SDK's default chain, or aws-profile), before any role-arn hop. Its Hint
// says where to look; Unwrap gives the SDK error, which for web identity or
// a container credentials endpoint may be an AWS API error of its own.
type BaseCredentialsError struct {
	Source string // where the credentials were looked for
	Err    error
}

func (e *BaseCredentialsError) Error() string {
	return fmt.Sprintf("resolving base AWS credentials from %s: %v", e.Source, e.Err)
}

// Unwrap returns the SDK error.
func (e *BaseCredentialsError) Unwrap() error { return e.Err }

// Hint says what to check; awserr appends it to the protocol error.
func (e *BaseCredentialsError) Hint() string {
	return "xsigner could not get the base AWS credentials from " + e.Source + ", before assuming any role-arn. " +
		"Check that source: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared-config profile, " +
		"AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN (the role's trust policy must accept the token's issuer, " +
		"audience and subject), or the CodeBuild/ECS container credentials endpoint."
}

// Signer returns a Signer client with the session's credentials, region,
// retry policy and HTTP client. With a custom endpoint (signer-endpoint-url,
// or the SDK's AWS_ENDPOINT_URL_SIGNER, AWS_ENDPOINT_URL or shared-config
// services section) it sends every operation to that URL, with the endpoint
// host prefix disabled.
func (s *Session) Signer() *signer.Client {
	return signer.NewFromConfig(s.cfg, func(o *signer.Options) {
		if u := s.opts.Config.SignerEndpointURL; u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	}, NoHostPrefixOnCustomEndpoint)
}

// STS returns an STS client with the session's final credentials, at the
// regional endpoint of the session's region or at sts-endpoint-url.
func (s *Session) STS() *sts.Client {
	return s.stsClient(s.cfg.Credentials)
}

func (s *Session) stsClient(creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(s.cfg, func(o *sts.Options) {
		o.Credentials = creds
		if u := s.opts.Config.STSEndpointURL; u != "" {
			o.BaseEndpoint = aws.String(u)
		}
	})
}

// CallerARN returns the identity that calls Signer: the last assumed-role
// ARN when this process assumed the role, else the answer of one STS
// GetCallerIdentity call. Meant for error messages; "" when unknown.
func (s *Session) CallerARN(ctx context.Context) string {
	s.mu.Lock()
	arn := s.assumedARN
	s.mu.Unlock()
	if arn != "" {
		return arn
	}
	s.callerOnce.Do(func() {
		out, err := s.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			s.log.Debug("GetCallerIdentity failed; the caller stays unnamed", "error", err.Error())
			return
		}
		s.callerFromSTS = aws.ToString(out.Arn)
	})
	return s.callerFromSTS
}

// AssumeRoleCalls reports how many AssumeRole operations this session made
// (0 when the credential cache served the chain).
func (s *Session) AssumeRoleCalls() int { return int(s.assumeCalls.Load()) }

// Credentials returns the session's final credentials provider.
func (s *Session) Credentials() aws.CredentialsProvider { return s.cfg.Credentials }

// HTTPClient returns the session's HTTP client (error-body normalisation
// and redacted debug logging).
func (s *Session) HTTPClient() *http.Client { return s.httpClient }

// NoHostPrefixOnCustomEndpoint is a Signer client option: when the client
// has a custom endpoint, from any source, it keeps the SDK from adding an
// operation's endpoint host prefix, which turns http://127.0.0.1:PORT into
// data-127.0.0.1:PORT for GetRevocationStatus, a host that does not resolve
// (research aws.md §0.1). A custom endpoint is taken as the whole address,
// for every operation. The regional AWS endpoint (no BaseEndpoint) keeps the
// prefix AWS requires. signer.NewFromConfig resolves BaseEndpoint from the
// environment and shared config before it applies options, so this option
// sees every source; Signer() applies it last.
func NoHostPrefixOnCustomEndpoint(o *signer.Options) {
	if o.BaseEndpoint == nil {
		return
	}
	o.APIOptions = append(o.APIOptions, disableHostPrefix)
}

// disableHostPrefix is the middleware behind NoHostPrefixOnCustomEndpoint;
// adding it twice to one stack is a no-op.
func disableHostPrefix(stack *middleware.Stack) error {
	const id = "xsignerDisableEndpointHostPrefix"
	if _, ok := stack.Initialize.Get(id); ok {
		return nil
	}
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc(id,
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// userAgentOptions adds "name/version" (or a bare key) to the user agent.
func userAgentOptions(ua string) []func(*middleware.Stack) error {
	if ua == "" {
		return nil
	}
	if name, ver, ok := strings.Cut(ua, "/"); ok {
		return []func(*middleware.Stack) error{awsmiddleware.AddUserAgentKeyValue(name, ver)}
	}
	return []func(*middleware.Stack) error{awsmiddleware.AddUserAgentKey(ua)}
}

// stsViaSession routes the SDK's own assume-role / web-identity calls
// through the session's HTTP client and, when set, sts-endpoint-url. It
// keeps the SDK's client (and so its source credentials) and overrides
// per call.
type stsViaSession struct {
	assumeRole  stscreds.AssumeRoleAPIClient
	webIdentity stscreds.AssumeRoleWithWebIdentityAPIClient
	s           *Session
}

func (c stsViaSession) apply(o *sts.Options) {
	if c.s.httpClient != nil {
		o.HTTPClient = c.s.httpClient
	}
	if u := c.s.opts.Config.STSEndpointURL; u != "" {
		o.BaseEndpoint = aws.String(u)
	}
}

func (c stsViaSession) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	return c.assumeRole.AssumeRole(ctx, in, append(optFns, c.apply)...)
}

func (c stsViaSession) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	return c.webIdentity.AssumeRoleWithWebIdentity(ctx, in, append(optFns, c.apply)...)
}

// scrubCredentialError removes the one SDK error text known to quote
// credential material: processcreds quotes the whole output of a
// credential_process that is not valid JSON.
func scrubCredentialError(err error) error {
	var pe *processcreds.ProviderError
	if errors.As(err, &pe) && strings.Contains(err.Error(), "parse failed of process output") {
		return errors.New("credential_process printed output that is not credentials JSON (output withheld: it may contain secrets)")
	}
	return err
}

// MaskKeyID shows an access key id as its prefix and last four characters
// (ASIA…WXYZ), never panicking on short input.
func MaskKeyID(id string) string {
	if len(id) < 12 {
		return "(" + fmt.Sprint(len(id)) + "-character key id)"
	}
	return id[:4] + "…" + id[len(id)-4:]
}

func credentialSource(c aws.Credentials) string {
	if c.Source == "" {
		return "an unnamed provider"
	}
	return c.Source
}
