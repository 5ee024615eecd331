package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/xsigner/xsigner/internal/arn"
)

// Defaults applied by Parse.
const (
	DefaultTimeout         = 2 * time.Minute
	DefaultCredentialCache = true
)

// Limits of the validated values.
const (
	MinRoleDuration = 15 * time.Minute
	MaxRoleDuration = 12 * time.Hour
	// MaxRoleChain bounds role-arn. AWS sets no count limit on chaining, but
	// every hop is a network round trip and caps the session at 1h; ten hops
	// is far beyond any real setup and keeps a pasted list from running away.
	MaxRoleChain = 10
)

// ErrInvalid is wrapped by every error Parse and ResolveRegion return: all of
// them are user input errors, which the plugin reports as VALIDATION_ERROR.
var ErrInvalid = errors.New("invalid configuration")

var (
	// Go regexps cap repeat counts at 1000, so the length (2..1224) is checked apart.
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// Parse builds the Config of one invocation. Each key is read from
// pluginConfig (by its name or an alias) and, when absent there, from its
// XSIGNER_* environment variable through lookupEnv (nil means no
// environment). An empty environment variable counts as unset. Every value is
// validated; unknown pluginConfig keys are rejected with the closest valid key.
// Defaults: credential-cache on, timeout DefaultTimeout; other keys stay zero.
//
// Every returned error wraps ErrInvalid and names the key, where it came from
// and the valid form.
func Parse(pluginConfig map[string]string, lookupEnv func(string) (string, bool)) (Config, error) {
	if lookupEnv == nil {
		lookupEnv = func(string) (string, bool) { return "", false }
	}
	if err := checkKnownKeys(pluginConfig); err != nil {
		return Config{}, err
	}
	cfg := Config{CredentialCache: DefaultCredentialCache, Timeout: DefaultTimeout}
	for _, k := range Keys {
		v, ok, err := lookup(k, pluginConfig, lookupEnv)
		if err != nil {
			return Config{}, err
		}
		if !ok {
			continue
		}
		if err := set(&cfg, k.Name, v.value); err != nil {
			return Config{}, fmt.Errorf("%w: %s %q: %v", ErrInvalid, v.source, redactURL(v.value), err)
		}
	}
	return cfg, nil
}

// ResolveRegion returns the region for calls about a resource whose ARN is in
// arnRegion: cfg.Region when set, else arnRegion. A set aws-region that
// contradicts the ARN's region is an error, because AWS Signer resources are
// regional and the call would fail with a confusing not-found.
func ResolveRegion(cfg Config, arnRegion string) (string, error) {
	switch {
	case cfg.Region != "" && arnRegion != "" && cfg.Region != arnRegion:
		return "", fmt.Errorf("%w: aws-region %q contradicts region %q of the ARN; remove aws-region or set it to %q",
			ErrInvalid, cfg.Region, arnRegion, arnRegion)
	case cfg.Region != "":
		return cfg.Region, nil
	case arnRegion != "":
		return arnRegion, nil
	default:
		return "", fmt.Errorf("%w: no region: the ARN has none and aws-region is not set", ErrInvalid)
	}
}

// KeyByName returns the key with the given name or alias.
func KeyByName(name string) (Key, bool) {
	for _, k := range Keys {
		if k.Name == name || slices.Contains(k.Aliases, name) {
			return k, true
		}
	}
	return Key{}, false
}

type sourced struct{ value, source string }

// lookup finds a key's value: pluginConfig (name, then aliases) wins over the
// environment.
func lookup(k Key, pluginConfig map[string]string, lookupEnv func(string) (string, bool)) (sourced, bool, error) {
	var found []sourced
	for _, name := range append([]string{k.Name}, k.Aliases...) {
		if v, ok := pluginConfig[name]; ok {
			found = append(found, sourced{v, fmt.Sprintf("pluginConfig %q", name)})
		}
	}
	switch {
	case len(found) > 1 && found[0].value != found[1].value:
		return sourced{}, false, fmt.Errorf("%w: %s and %s are the same key with different values (%q, %q); set only one",
			ErrInvalid, found[0].source, found[1].source, redactURL(found[0].value), redactURL(found[1].value))
	case len(found) > 0:
		if found[0].value == "" {
			return sourced{}, false, fmt.Errorf("%w: %s is empty (%s)", ErrInvalid, found[0].source, validForm(k))
		}
		return found[0], true, nil
	}
	if v, ok := lookupEnv(k.Env); ok && v != "" {
		return sourced{v, fmt.Sprintf("environment variable %s", k.Env)}, true, nil
	}
	return sourced{}, false, nil
}

func validForm(k Key) string { return fmt.Sprintf("%s, e.g. %s", k.Doc, k.Example) }

func checkKnownKeys(pluginConfig map[string]string) error {
	var unknown []string
	for name := range pluginConfig {
		if _, ok := KeyByName(name); !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	name := unknown[0]
	return fmt.Errorf("%w: unknown pluginConfig key %q%s (valid keys: %s)", ErrInvalid, name, suggestion(name), strings.Join(names(), ", "))
}

func suggestion(name string) string {
	best, bestDist := "", -1
	for _, k := range Keys {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			if d := editDistance(strings.ToLower(name), n); bestDist < 0 || d < bestDist {
				best, bestDist = k.Name, d
			}
		}
	}
	// Suggest only what is plausibly a typo, not any key at all.
	if bestDist > max(3, len(name)/2) {
		return ""
	}
	return fmt.Sprintf(": did you mean %s?", best)
}

func names() []string {
	out := make([]string, 0, len(Keys))
	for _, k := range Keys {
		out = append(out, k.Name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// set validates v and stores it in the field of key name. Its errors are
// phrases that follow "<source> <value>: ".
func set(cfg *Config, name, v string) error {
	switch name {
	case KeyAWSRegion:
		if !arn.ValidRegion(v) {
			return errors.New("is not an AWS region name (want e.g. us-west-2)")
		}
		cfg.Region = v
	case KeyAWSProfile:
		if len(v) > 128 || strings.IndexFunc(v, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r == '[' || r == ']'
		}) >= 0 {
			return errors.New("is not a profile name (want up to 128 characters without spaces or brackets, e.g. ci)")
		}
		cfg.Profile = v
	case KeyRoleARN:
		roles, err := parseRoleChain(v)
		if err != nil {
			return err
		}
		cfg.RoleARNs = roles
	case KeyExternalID:
		if len(v) < 2 || len(v) > 1224 || !externalIDPattern.MatchString(v) {
			return errors.New("must be 2 to 1224 characters of letters, digits and +=,.@:/-_")
		}
		cfg.ExternalID = v
	case KeyRoleSessionName:
		if !sessionNamePattern.MatchString(v) {
			return errors.New("must be 2 to 64 characters of letters, digits and +=,.@-_")
		}
		cfg.RoleSessionName = v
	case KeyRoleDuration:
		d, err := time.ParseDuration(v)
		if err != nil || d < MinRoleDuration || d > MaxRoleDuration || d%time.Second != 0 {
			return errors.New("must be a Go duration of whole seconds between 15m and 12h (e.g. 1h)")
		}
		cfg.RoleDuration = d
	case KeySignerEndpointURL:
		u, err := parseEndpoint(v)
		if err != nil {
			return err
		}
		cfg.SignerEndpointURL = u
	case KeySTSEndpointURL:
		u, err := parseEndpoint(v)
		if err != nil {
			return err
		}
		cfg.STSEndpointURL = u
	case KeyCredentialCache:
		switch v {
		case "on":
			cfg.CredentialCache = true
		case "off":
			cfg.CredentialCache = false
		default:
			return errors.New("must be on or off")
		}
	case KeyTimeout:
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return errors.New("must be a positive Go duration (e.g. 30s, 2m)")
		}
		cfg.Timeout = d
	case KeyDebugLog:
		if !filepath.IsAbs(v) || strings.ContainsRune(v, 0) {
			return errors.New("must be an absolute file path (e.g. /tmp/xsigner.log)")
		}
		cfg.DebugLog = filepath.Clean(v)
	default:
		// Unreachable: Keys and this switch list the same names (tested).
		return fmt.Errorf("key %q has no parser", name)
	}
	return nil
}

func parseRoleChain(v string) ([]string, error) {
	parts := strings.Split(v, ",")
	if len(parts) > MaxRoleChain {
		return nil, fmt.Errorf("lists %d roles; at most %d can be chained", len(parts), MaxRoleChain)
	}
	roles := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("role %d of the chain is empty (want comma-separated role ARNs)", i+1)
		}
		r, err := arn.ParseRole(p)
		if err != nil {
			return nil, fmt.Errorf("role %d of the chain: %w", i+1, err)
		}
		roles = append(roles, r.String())
	}
	return roles, nil
}

// parseEndpoint accepts https URLs, and http URLs whose host is a loopback
// address (127.0.0.0/8, ::1 or localhost), with no user info, path, query or
// fragment. It returns the URL in canonical form.
func parseEndpoint(v string) (string, error) {
	const want = "want https://HOST[:PORT], or http://127.0.0.1:PORT for a local emulator"
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("is not an absolute URL (%s)", want)
	}
	if u.User != nil {
		return "", fmt.Errorf("must not carry user info (%s)", want)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", fmt.Errorf("must not have a path, query or fragment (%s)", want)
	}
	if port := u.Port(); port == "" && strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("has an empty port (%s)", want)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return "", fmt.Errorf("uses http to a non-loopback host %q; plain http is allowed only to 127.0.0.0/8, ::1 or localhost (%s)", u.Hostname(), want)
		}
	default:
		return "", fmt.Errorf("has scheme %q (%s)", u.Scheme, want)
	}
	return u.Scheme + "://" + u.Host, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redactURL hides the user info of a URL-looking value, so a password pasted
// into an endpoint URL does not reach an error message. A value url.Parse
// refuses (a bad escape, a broken host) is redacted by hand: whatever comes
// between "://" and the last "@" of the authority.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err == nil {
		if u.User == nil {
			return v
		}
		u.User = url.User("REDACTED")
		return u.String()
	}
	scheme, rest, ok := strings.Cut(v, "://")
	if !ok {
		return v
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return v
	}
	return scheme + "://REDACTED" + rest[at:]
}
