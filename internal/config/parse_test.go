package config

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func defaults() Config { return Config{CredentialCache: true, Timeout: DefaultTimeout} }

func TestParseDefaults(t *testing.T) {
	t.Parallel()
	for name, pc := range map[string]map[string]string{"nil": nil, "empty": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(pc, nil)
			if err != nil {
				t.Fatalf("Parse(%v) error: %v", pc, err)
			}
			if !reflect.DeepEqual(got, defaults()) {
				t.Errorf("Parse(%v) = %+v, want %+v", pc, got, defaults())
			}
		})
	}
}

// TestParseGoodValues covers every key with valid values, from pluginConfig.
func TestParseGoodValues(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		key, value string
		want       func(*Config)
	}{
		"aws-region":         {"aws-region", "us-west-2", func(c *Config) { c.Region = "us-west-2" }},
		"aws-region gov":     {"aws-region", "us-gov-west-1", func(c *Config) { c.Region = "us-gov-west-1" }},
		"aws-region china":   {"aws-region", "cn-north-1", func(c *Config) { c.Region = "cn-north-1" }},
		"aws-profile":        {"aws-profile", "ci-prod", func(c *Config) { c.Profile = "ci-prod" }},
		"aws-profile dotted": {"aws-profile", "team.signer@prod", func(c *Config) { c.Profile = "team.signer@prod" }},
		"role-arn single":    {"role-arn", "arn:aws:iam::111122223333:role/signer", func(c *Config) { c.RoleARNs = []string{"arn:aws:iam::111122223333:role/signer"} }},
		"role-arn with path": {"role-arn", "arn:aws:iam::111122223333:role/ci/signer", func(c *Config) { c.RoleARNs = []string{"arn:aws:iam::111122223333:role/ci/signer"} }},
		"role-arn chain with spaces": {"role-arn", "arn:aws:iam::111122223333:role/a, arn:aws:iam::444455556666:role/b", func(c *Config) {
			c.RoleARNs = []string{"arn:aws:iam::111122223333:role/a", "arn:aws:iam::444455556666:role/b"}
		}},
		"role-arn gov":                  {"role-arn", "arn:aws-us-gov:iam::111122223333:role/x", func(c *Config) { c.RoleARNs = []string{"arn:aws-us-gov:iam::111122223333:role/x"} }},
		"external-id":                   {"external-id", "ab", func(c *Config) { c.ExternalID = "ab" }},
		"external-id all chars":         {"external-id", "a_B9+=,.@:/-", func(c *Config) { c.ExternalID = "a_B9+=,.@:/-" }},
		"external-id max length":        {"external-id", strings.Repeat("x", 1224), func(c *Config) { c.ExternalID = strings.Repeat("x", 1224) }},
		"role-session-name":             {"role-session-name", "ci-build.42@x", func(c *Config) { c.RoleSessionName = "ci-build.42@x" }},
		"role-session-name max":         {"role-session-name", strings.Repeat("s", 64), func(c *Config) { c.RoleSessionName = strings.Repeat("s", 64) }},
		"role-duration min":             {"role-duration", "15m", func(c *Config) { c.RoleDuration = 15 * time.Minute }},
		"role-duration max":             {"role-duration", "12h", func(c *Config) { c.RoleDuration = 12 * time.Hour }},
		"role-duration mixed":           {"role-duration", "1h30m", func(c *Config) { c.RoleDuration = 90 * time.Minute }},
		"signer-endpoint-url https":     {"signer-endpoint-url", "https://signer.us-west-2.amazonaws.com", func(c *Config) { c.SignerEndpointURL = "https://signer.us-west-2.amazonaws.com" }},
		"signer-endpoint-url slash":     {"signer-endpoint-url", "https://signer.example.com:8443/", func(c *Config) { c.SignerEndpointURL = "https://signer.example.com:8443" }},
		"signer-endpoint-url loopback":  {"signer-endpoint-url", "http://127.0.0.1:4566", func(c *Config) { c.SignerEndpointURL = "http://127.0.0.1:4566" }},
		"signer-endpoint-url 127/8":     {"signer-endpoint-url", "http://127.9.8.7:1", func(c *Config) { c.SignerEndpointURL = "http://127.9.8.7:1" }},
		"signer-endpoint-url ipv6":      {"signer-endpoint-url", "http://[::1]:4566", func(c *Config) { c.SignerEndpointURL = "http://[::1]:4566" }},
		"signer-endpoint-url localhost": {"signer-endpoint-url", "http://localhost:4566", func(c *Config) { c.SignerEndpointURL = "http://localhost:4566" }},
		"alias aws-signer-endpoint-url": {"aws-signer-endpoint-url", "http://127.0.0.1:9", func(c *Config) { c.SignerEndpointURL = "http://127.0.0.1:9" }},
		"sts-endpoint-url":              {"sts-endpoint-url", "https://sts.amazonaws.com", func(c *Config) { c.STSEndpointURL = "https://sts.amazonaws.com" }},
		"sts-endpoint-url loopback":     {"sts-endpoint-url", "http://127.0.0.1:4566", func(c *Config) { c.STSEndpointURL = "http://127.0.0.1:4566" }},
		"credential-cache off":          {"credential-cache", "off", func(c *Config) { c.CredentialCache = false }},
		"credential-cache on":           {"credential-cache", "on", func(c *Config) { c.CredentialCache = true }},
		"timeout":                       {"timeout", "30s", func(c *Config) { c.Timeout = 30 * time.Second }},
		"timeout tiny":                  {"timeout", "1ms", func(c *Config) { c.Timeout = time.Millisecond }},
		"debug-log":                     {"debug-log", "/tmp/x/../xsigner.log", func(c *Config) { c.DebugLog = "/tmp/xsigner.log" }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(map[string]string{tc.key: tc.value}, noEnv)
			if err != nil {
				t.Fatalf("Parse(%s=%q) error: %v", tc.key, tc.value, err)
			}
			want := defaults()
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Parse(%s=%q) = %+v, want %+v", tc.key, tc.value, got, want)
			}
		})
	}
}

// TestParseBadValues covers every key with invalid values; the error must
// name the key and say what is valid.
func TestParseBadValues(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		key, value string
		wantInErr  string
	}{
		"aws-region upper":            {"aws-region", "US-WEST-2", "AWS region"},
		"aws-region no number":        {"aws-region", "us-west", "AWS region"},
		"aws-region garbage":          {"aws-region", "mars", "AWS region"},
		"aws-profile space":           {"aws-profile", "my profile", "profile name"},
		"aws-profile bracket":         {"aws-profile", "[x]", "profile name"},
		"aws-profile too long":        {"aws-profile", strings.Repeat("p", 129), "profile name"},
		"role-arn not arn":            {"role-arn", "signer", "it is not an ARN"},
		"role-arn user":               {"role-arn", "arn:aws:iam::111122223333:user/bob", "it is not a role ARN"},
		"role-arn region":             {"role-arn", "arn:aws:iam:us-west-2:111122223333:role/x", "IAM ARNs have no region"},
		"role-arn partition":          {"role-arn", "arn:aws-xx:iam::111122223333:role/x", "partition"},
		"role-arn empty chain entry":  {"role-arn", "arn:aws:iam::111122223333:role/a,,arn:aws:iam::111122223333:role/b", "role 2 of the chain is empty"},
		"role-arn second bad":         {"role-arn", "arn:aws:iam::111122223333:role/a,arn:aws:iam::1:role/b", "role 2 of the chain"},
		"role-arn chain too long":     {"role-arn", strings.TrimSuffix(strings.Repeat("arn:aws:iam::111122223333:role/a,", 11), ","), "at most 10"},
		"external-id short":           {"external-id", "a", "2 to 1224"},
		"external-id space":           {"external-id", "a b", "2 to 1224"},
		"external-id too long":        {"external-id", strings.Repeat("x", 1225), "2 to 1224"},
		"role-session-name colon":     {"role-session-name", "a:b", "2 to 64"},
		"role-session-name too long":  {"role-session-name", strings.Repeat("s", 65), "2 to 64"},
		"role-duration short":         {"role-duration", "14m59s", "between 15m and 12h"},
		"role-duration long":          {"role-duration", "12h1s", "between 15m and 12h"},
		"role-duration bare number":   {"role-duration", "3600", "between 15m and 12h"},
		"role-duration fraction":      {"role-duration", "15m0.5s", "whole seconds"},
		"endpoint http remote":        {"signer-endpoint-url", "http://signer.us-west-2.amazonaws.com", "non-loopback"},
		"endpoint http private ip":    {"signer-endpoint-url", "http://10.0.0.1:80", "non-loopback"},
		"endpoint http fake loopback": {"signer-endpoint-url", "http://127.0.0.1.nip.io", "non-loopback"},
		"endpoint ftp":                {"signer-endpoint-url", "ftp://127.0.0.1", "scheme"},
		"endpoint no scheme":          {"signer-endpoint-url", "signer.us-west-2.amazonaws.com", "absolute URL"},
		"endpoint path":               {"signer-endpoint-url", "https://example.com/signer", "path"},
		"endpoint query":              {"sts-endpoint-url", "https://example.com?x=1", "query"},
		"endpoint userinfo":           {"sts-endpoint-url", "https://u:hunter2@example.com", "user info"},
		// url.Parse fails on these, so the password must be hidden without it.
		"endpoint userinfo bad escape": {"sts-endpoint-url", "http://u:hunter2%zz@127.0.0.1:8080", "absolute URL"},
		"endpoint userinfo bad host":   {"signer-endpoint-url", "http://u:hunter2@[::1", "absolute URL"},
		"endpoint userinfo space":      {"signer-endpoint-url", "https://u:hunter2 x@host", "absolute URL"},
		"alias endpoint http remote":   {"aws-signer-endpoint-url", "http://example.com", "non-loopback"},
		"sts endpoint http remote":     {"sts-endpoint-url", "http://sts.amazonaws.com", "non-loopback"},
		"credential-cache true":        {"credential-cache", "true", "on or off"},
		"credential-cache ON":          {"credential-cache", "ON", "on or off"},
		"timeout zero":                 {"timeout", "0s", "positive Go duration"},
		"timeout negative":             {"timeout", "-1s", "positive Go duration"},
		"timeout bare":                 {"timeout", "30", "positive Go duration"},
		"debug-log relative":           {"debug-log", "xsigner.log", "absolute file path"},
		"empty value":                  {"aws-region", "", "is empty"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(map[string]string{tc.key: tc.value}, noEnv)
			if err == nil {
				t.Fatalf("Parse(%s=%q) succeeded, want error containing %q", tc.key, tc.value, tc.wantInErr)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse(%s=%q) error %v does not wrap ErrInvalid", tc.key, tc.value, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantInErr) || !strings.Contains(msg, `"`+tc.key+`"`) {
				t.Errorf("Parse(%s=%q) error = %q, want it to name the key and contain %q", tc.key, tc.value, msg, tc.wantInErr)
			}
			if strings.Contains(msg, "hunter2") {
				t.Errorf("error %q leaks the URL password", msg)
			}
		})
	}
}

func TestParseEnvFallbackAndPrecedence(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{
		"XSIGNER_AWS_REGION":          "eu-west-1",
		"XSIGNER_ROLE_ARN":            "arn:aws:iam::111122223333:role/from-env",
		"XSIGNER_TIMEOUT":             "10s",
		"XSIGNER_CREDENTIAL_CACHE":    "off",
		"XSIGNER_SIGNER_ENDPOINT_URL": "http://127.0.0.1:1",
		"XSIGNER_DEBUG_LOG":           "", // empty counts as unset
	})
	got, err := Parse(map[string]string{
		"aws-region":              "us-east-1",
		"aws-signer-endpoint-url": "http://127.0.0.1:2",
	}, env)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Region:            "us-east-1", // pluginConfig wins
		RoleARNs:          []string{"arn:aws:iam::111122223333:role/from-env"},
		Timeout:           10 * time.Second,
		CredentialCache:   false,
		SignerEndpointURL: "http://127.0.0.1:2", // alias in pluginConfig wins over env
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse = %+v, want %+v", got, want)
	}
}

func TestParseEveryKeyFromEnv(t *testing.T) {
	t.Parallel()
	for _, k := range Keys {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			fromEnv, err := Parse(nil, envOf(map[string]string{k.Env: k.Example}))
			if err != nil {
				t.Fatalf("Parse with %s=%q: %v", k.Env, k.Example, err)
			}
			fromConfig, err := Parse(map[string]string{k.Name: k.Example}, noEnv)
			if err != nil {
				t.Fatalf("Parse with %s=%q: %v", k.Name, k.Example, err)
			}
			if !reflect.DeepEqual(fromEnv, fromConfig) {
				t.Errorf("env gives %+v, pluginConfig gives %+v", fromEnv, fromConfig)
			}
			if reflect.DeepEqual(fromEnv, defaults()) && k.Example != k.Default {
				t.Errorf("%s=%q left the config at its defaults", k.Env, k.Example)
			}
		})
	}
}

func TestParseBadEnvValueNamesVariable(t *testing.T) {
	t.Parallel()
	_, err := Parse(nil, envOf(map[string]string{"XSIGNER_ROLE_DURATION": "5m"}))
	if err == nil || !strings.Contains(err.Error(), "environment variable XSIGNER_ROLE_DURATION") {
		t.Errorf("error = %v, want it to name XSIGNER_ROLE_DURATION", err)
	}
}

func TestParseAliasConflict(t *testing.T) {
	t.Parallel()
	_, err := Parse(map[string]string{
		"signer-endpoint-url":     "http://127.0.0.1:1",
		"aws-signer-endpoint-url": "http://127.0.0.1:2",
	}, noEnv)
	if err == nil || !strings.Contains(err.Error(), "same key") {
		t.Errorf("error = %v, want a same-key conflict", err)
	}
	got, err := Parse(map[string]string{
		"signer-endpoint-url":     "http://127.0.0.1:1",
		"aws-signer-endpoint-url": "http://127.0.0.1:1",
	}, noEnv)
	if err != nil || got.SignerEndpointURL != "http://127.0.0.1:1" {
		t.Errorf("identical alias values: got %+v, %v", got, err)
	}
}

func TestParseUnknownKey(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		key, wantSuggestion string
	}{
		"transposed":        {"aws-regoin", "did you mean aws-region?"},
		"missing letter":    {"aws-profle", "did you mean aws-profile?"},
		"official name":     {"aws-signer-endpoint", "did you mean signer-endpoint-url?"},
		"underscore":        {"role_arn", "did you mean role-arn?"},
		"upper case":        {"TIMEOUT", "did you mean timeout?"},
		"nothing close":     {"completely-unrelated-setting", ""},
		"env name as key":   {"XSIGNER_TIMEOUT", ""},
		"sts endpoint typo": {"sts-endpoint", "did you mean sts-endpoint-url?"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(map[string]string{tc.key: "x", "aws-region": "us-west-2"}, noEnv)
			if err == nil {
				t.Fatalf("Parse with unknown key %q succeeded", tc.key)
			}
			msg := err.Error()
			if !strings.Contains(msg, `unknown pluginConfig key "`+tc.key+`"`) || !strings.Contains(msg, "valid keys: aws-region,") {
				t.Errorf("error = %q, want it to name %q and list the valid keys", msg, tc.key)
			}
			if tc.wantSuggestion != "" && !strings.Contains(msg, tc.wantSuggestion) {
				t.Errorf("error = %q, want %q", msg, tc.wantSuggestion)
			}
			if tc.wantSuggestion == "" && strings.Contains(msg, "did you mean") {
				t.Errorf("error = %q suggests a key for an unrelated name", msg)
			}
		})
	}
}

func TestResolveRegion(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfgRegion, arnRegion, want, wantErr string
	}{
		"from arn":    {"", "us-west-2", "us-west-2", ""},
		"agreeing":    {"us-west-2", "us-west-2", "us-west-2", ""},
		"config only": {"eu-west-1", "", "eu-west-1", ""},
		"contradicts": {"eu-west-1", "us-west-2", "", `aws-region "eu-west-1" contradicts region "us-west-2"`},
		"neither":     {"", "", "", "no region"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := ResolveRegion(Config{Region: tc.cfgRegion}, tc.arnRegion)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Errorf("ResolveRegion(%q, %q) error = %v, want %q", tc.cfgRegion, tc.arnRegion, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ResolveRegion(%q, %q) = %q, %v; want %q", tc.cfgRegion, tc.arnRegion, got, err, tc.want)
			}
		})
	}
}

// TestKeysTable checks the table itself: env names follow the rule, every key
// has doc text and an example that parses, and names are unique.
func TestKeysTable(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, k := range Keys {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			if seen[n] {
				t.Errorf("name %q appears twice", n)
			}
			seen[n] = true
		}
		if k.Env != EnvName(k.Name) {
			t.Errorf("%s: Env = %q, want %q", k.Name, k.Env, EnvName(k.Name))
		}
		if k.Doc == "" || k.Example == "" || k.Default == "" {
			t.Errorf("%s: Doc, Example and Default must be set", k.Name)
		}
		if _, err := Parse(map[string]string{k.Name: k.Example}, noEnv); err != nil {
			t.Errorf("%s: example %q does not parse: %v", k.Name, k.Example, err)
		}
	}
}

// TestReadmeListsEveryKey keeps README.md's configuration table in step with
// Keys: every key, its env name and its aliases must appear there.
func TestReadmeListsEveryKey(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	for _, k := range Keys {
		for _, want := range append([]string{"`" + k.Name + "`", "`" + k.Env + "`"}, k.Aliases...) {
			if !strings.Contains(string(readme), want) {
				t.Errorf("README.md does not mention %s (key %s)", want, k.Name)
			}
		}
	}
}

// FuzzParse: no key/value panics Parse, and every error wraps ErrInvalid.
func FuzzParse(f *testing.F) {
	for _, k := range Keys {
		f.Add(k.Name, k.Example)
	}
	f.Add("aws-regoin", "x")
	f.Add("signer-endpoint-url", "http://[::1")
	f.Fuzz(func(t *testing.T, key, value string) {
		_, err := Parse(map[string]string{key: value}, noEnv)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q=%q) error %v does not wrap ErrInvalid", key, value, err)
		}
		_, err = Parse(nil, envOf(map[string]string{EnvName(key): value}))
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(env %s=%q) error %v does not wrap ErrInvalid", EnvName(key), value, err)
		}
	})
}
