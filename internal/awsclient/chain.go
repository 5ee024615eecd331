package awsclient

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/xsigner/xsigner/internal/credcache"
)

// chainProvider re-runs the role chain when the in-memory credentials
// cache asks for a refresh. primed holds the credentials New retrieved
// eagerly; the first Retrieve hands them out.
type chainProvider struct {
	s      *Session
	primed *aws.Credentials
}

func (p *chainProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if c := p.primed; c != nil {
		p.primed = nil
		return *c, nil
	}
	base, err := p.s.retrieveBase(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	return p.s.fetchChain(ctx, base)
}

// fetchChain returns the final credentials of the role chain, through the
// disk cache when it is enabled.
func (s *Session) fetchChain(ctx context.Context, base aws.Credentials) (aws.Credentials, error) {
	roles := s.opts.Config.RoleARNs
	last := roles[len(roles)-1]
	if s.cache == nil {
		return s.assumeChain(ctx, base)
	}
	key := s.cacheKey(base)
	refreshed := false
	creds, err := s.cache.Fetch(ctx, key, func(ctx context.Context) (aws.Credentials, error) {
		refreshed = true
		return s.assumeChain(ctx, base)
	})
	if err != nil {
		return aws.Credentials{}, err
	}
	if !refreshed {
		s.log.Debug(fmt.Sprintf("assumed role %q (cache hit, %s, expires %s)", last, MaskKeyID(creds.AccessKeyID), creds.Expires.UTC().Format(time.RFC3339)))
	}
	return creds, nil
}

// cacheKey identifies a chain result: who starts it (the base access key id,
// never the secret), through which profile and STS endpoint, which roles,
// with which external id, duration and session name.
func (s *Session) cacheKey(base aws.Credentials) string {
	cfg := s.opts.Config
	parts := []string{
		"base=" + base.AccessKeyID,
		"profile=" + cfg.Profile,
		"sts=" + cfg.STSEndpointURL,
		"roles=" + strings.Join(cfg.RoleARNs, ","),
		"external-id=" + cfg.ExternalID,
		"duration=" + s.roleDuration().String(),
	}
	// The pid-based default name differs in every process; keying on it
	// would defeat the cache. Explicit and CodeBuild names are stable.
	if !strings.HasPrefix(s.sessionName, defaultSessionPrefix) || cfg.RoleSessionName != "" {
		parts = append(parts, "session="+s.sessionName)
	}
	return credcache.Key(parts...)
}

// openCache opens the disk cache, or returns nil (no caching) when its
// directory cannot be determined or created. A directory it refuses to
// trust is also skipped, loudly, rather than used.
func (s *Session) openCache() *credcache.Cache {
	dir, err := credcache.DefaultDir(s.opts.LookupEnv)
	if err != nil {
		s.log.Warn("credential cache disabled: no cache directory", "reason", err.Error())
		return nil
	}
	c, err := credcache.Open(dir, s.opts.Now, credcache.WithLogger(s.log))
	if err != nil {
		if errors.Is(err, credcache.ErrInsecure) {
			s.log.Warn("credential cache disabled: refusing an untrusted directory", "reason", err.Error())
		} else {
			s.log.Warn("credential cache disabled", "reason", err.Error())
		}
		return nil
	}
	s.log.Debug(fmt.Sprintf("using credential cache %s", dir))
	return c
}

func (s *Session) roleDuration() time.Duration {
	if d := s.opts.Config.RoleDuration; d > 0 {
		return d
	}
	return DefaultRoleDuration
}

// assumeChain assumes each role in order, each hop calling STS with the
// previous hop's credentials, and returns the last hop's credentials.
func (s *Session) assumeChain(ctx context.Context, base aws.Credentials) (aws.Credentials, error) {
	cfg := s.opts.Config
	roles := cfg.RoleARNs
	cur := base
	caller := "" // ARN of the identity making the current hop, when known
	for i, role := range roles {
		hop := i + 1
		duration := s.roleDuration()
		if i > 0 && duration > MaxChainedDuration {
			s.log.Debug(fmt.Sprintf("requesting 1h for role %q: STS caps role-chained sessions (hop %d) at 1h; role-duration %s applies to the first hop", role, hop, duration))
			duration = MaxChainedDuration
		}
		in := &sts.AssumeRoleInput{
			RoleArn:         aws.String(role),
			RoleSessionName: aws.String(s.sessionName),
			DurationSeconds: aws.Int32(int32(duration / time.Second)),
		}
		lastHop := hop == len(roles)
		if lastHop && cfg.ExternalID != "" {
			in.ExternalId = aws.String(cfg.ExternalID)
		}
		client := s.stsClient(credentials.StaticCredentialsProvider{Value: cur})
		s.assumeCalls.Add(1)
		start := time.Now()
		out, err := client.AssumeRole(ctx, in)
		if err != nil {
			if caller == "" {
				caller = s.identityOf(ctx, client)
			}
			return aws.Credentials{}, &AssumeRoleError{
				RoleARN: role, Hop: hop, Hops: len(roles), Caller: caller,
				ExternalIDSent: in.ExternalId != nil, Duration: duration, Region: s.opts.Region, Err: err,
			}
		}
		if out.Credentials == nil || aws.ToString(out.Credentials.AccessKeyId) == "" || aws.ToString(out.Credentials.SecretAccessKey) == "" {
			return aws.Credentials{}, fmt.Errorf("assuming role %q (hop %d of %d): STS returned no credentials", role, hop, len(roles))
		}
		arn := ""
		if out.AssumedRoleUser != nil {
			arn = aws.ToString(out.AssumedRoleUser.Arn)
		}
		cur = aws.Credentials{
			AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
			SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
			SessionToken:    aws.ToString(out.Credentials.SessionToken),
			Source:          "xsigner role chain",
			CanExpire:       true,
			Expires:         aws.ToTime(out.Credentials.Expiration),
			AccountID:       accountOf(arn),
		}
		caller = arn
		s.log.Debug(fmt.Sprintf("assumed role %q as %q (hop %d of %d, session %s, expires %s, took %s)",
			role, arn, hop, len(roles), MaskKeyID(cur.AccessKeyID), cur.Expires.UTC().Format(time.RFC3339), time.Since(start).Round(time.Millisecond)))
	}
	s.mu.Lock()
	s.assumedARN = caller
	s.mu.Unlock()
	return cur, nil
}

// identityOf names the identity behind client's credentials with one
// GetCallerIdentity call; "" when that fails too. Only used on error paths.
func (s *Session) identityOf(ctx context.Context, client *sts.Client) string {
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return ""
	}
	return aws.ToString(out.Arn)
}

// accountOf returns the account field of an ARN, "" when it has none.
func accountOf(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// AssumeRoleError is a failed hop of the role chain. Its message names the
// role and hop and says what to check; Unwrap gives the SDK error (use
// errors.As with smithy.APIError for the code and request id).
type AssumeRoleError struct {
	RoleARN        string
	Hop, Hops      int
	Caller         string // identity that tried to assume RoleARN, "" when unknown
	ExternalIDSent bool
	Duration       time.Duration
	Region         string
	Err            error
}

func (e *AssumeRoleError) Error() string {
	msg := fmt.Sprintf("assuming role %q (hop %d of %d): %v", e.RoleARN, e.Hop, e.Hops, e.Err)
	if h := e.Hint(); h != "" {
		msg += "; " + h
	}
	return msg
}

func (e *AssumeRoleError) Unwrap() error { return e.Err }

// Hint says what to check for the error's AWS error code, naming the role
// (protocol errors carry the AWS message, which may not name it); "" when the
// error is no AWS error.
func (e *AssumeRoleError) Hint() string {
	var apiErr smithy.APIError
	if !errors.As(e.Err, &apiErr) {
		return ""
	}
	h := e.codeHint(apiErr)
	if strings.Contains(h, e.RoleARN) {
		return h
	}
	where := fmt.Sprintf("hint: this happened assuming role %q (hop %d of %d of role-arn)", e.RoleARN, e.Hop, e.Hops)
	if h == "" {
		return where
	}
	return where + "; " + strings.TrimPrefix(h, "hint: ")
}

func (e *AssumeRoleError) codeHint(apiErr smithy.APIError) string {
	caller := "the calling identity"
	if e.Caller != "" {
		caller = strconv.Quote(e.Caller)
	}
	switch apiErr.ErrorCode() {
	case "AccessDenied", "AccessDeniedException":
		h := fmt.Sprintf("hint: the trust policy of role %q must allow %s to call sts:AssumeRole, and %s's own IAM policy must allow sts:AssumeRole on that role", e.RoleARN, caller, caller)
		if e.Hops > 1 {
			// In a chain, say which link broke: the message names only the role.
			h = fmt.Sprintf("hint: role %q is hop %d of %d of role-arn; ", e.RoleARN, e.Hop, e.Hops) + strings.TrimPrefix(h, "hint: ")
		}
		if e.ExternalIDSent {
			h += "; check that external-id matches the trust policy's sts:ExternalId condition"
		} else if e.Hop == e.Hops {
			h += "; if the trust policy has an sts:ExternalId condition, set external-id"
		}
		return h
	case "ValidationError":
		if strings.Contains(apiErr.ErrorMessage(), "Duration") {
			return fmt.Sprintf("hint: lower role-duration (requested %s) or raise the MaxSessionDuration of role %q: role chaining caps sessions at 1h and each role's MaxSessionDuration caps the rest", e.Duration, e.RoleARN)
		}
	case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException":
		if e.Hop == 1 {
			return "hint: the base AWS credentials are not valid (wrong or deleted access key, or a secret that does not match it); check the environment, aws-profile and the shared credentials file"
		}
	case "ExpiredToken", "ExpiredTokenException":
		return "hint: the base AWS credentials have expired; refresh them (e.g. aws sso login) and retry"
	case "RegionDisabledException":
		return fmt.Sprintf("hint: STS is not activated in region %q for this account; activate it in the IAM console (Account settings) or set sts-endpoint-url", e.Region)
	}
	return ""
}

// defaultSessionPrefix starts the fallback RoleSessionName.
const defaultSessionPrefix = "xsigner-"

// roleSessionName picks the RoleSessionName: role-session-name, else a
// sanitized CODEBUILD_BUILD_ID, else xsigner-<host>-<pid>.
func (s *Session) roleSessionName() string {
	if n := s.opts.Config.RoleSessionName; n != "" {
		s.log.Debug(fmt.Sprintf("using role session name %q from role-session-name", n))
		return n
	}
	if id, ok := s.opts.LookupEnv("CODEBUILD_BUILD_ID"); ok {
		if n := SanitizeSessionName(id); len(n) >= 2 {
			s.log.Debug(fmt.Sprintf("using role session name %q from CODEBUILD_BUILD_ID", n))
			return n
		}
	}
	host, _ := s.opts.LookupEnv("HOSTNAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	if host == "" {
		host = "host"
	}
	n := SanitizeSessionName(fmt.Sprintf("%s%s-%d", defaultSessionPrefix, host, os.Getpid()))
	s.log.Debug(fmt.Sprintf("using role session name %q (xsigner-<host>-<pid>)", n))
	return n
}

var sessionNameInvalid = regexp.MustCompile(`[^\w+=,.@-]`)

// SanitizeSessionName makes s a valid RoleSessionName: every character
// outside [\w+=,.@-] becomes '-', and the result is cut to 64 characters.
func SanitizeSessionName(s string) string {
	s = sessionNameInvalid.ReplaceAllString(s, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
