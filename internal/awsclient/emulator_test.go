package awsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/smithy-go"

	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// Facts of testdata/world.json.
const (
	region      = "us-west-2"
	ciKeyID     = "AKIACIUSER222222EXMP"
	ciSecret    = "ci-secret-222222222222-example-key000000"
	ciUserARN   = "arn:aws:iam::222222222222:user/ci"
	ciRole      = "arn:aws:iam::222222222222:role/codebuild-ci"
	signerRole  = "arn:aws:iam::111111111111:role/xsigner-signer"
	lockedRole  = "arn:aws:iam::111111111111:role/locked"
	externalID  = "xsigner-release-7f3a"
	profileName = "release_signer"
	profileAcct = "111111111111"
	payloadType = "application/vnd.cncf.notary.payload.v1+json"
)

func startEmulator(t *testing.T) *emulatortest.Server {
	t.Helper()
	world, err := os.ReadFile(filepath.Join("testdata", "world.json"))
	if err != nil {
		t.Fatal(err)
	}
	return emulatortest.Start(t, string(world))
}

// isolateEnv keeps the SDK away from the machine's AWS setup: empty config
// and credentials files, no IMDS, and none of the AWS_* variables it reads.
// It returns the path of the (empty) shared config file.
func isolateEnv(t *testing.T) string {
	t.Helper()
	for _, k := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_SIGNER",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_MAX_ATTEMPTS",
		"AWS_RETRY_MODE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_STS_REGIONAL_ENDPOINTS", "AWS_CA_BUNDLE",
	} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	dir := t.TempDir()
	cfgFile, credFile := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for _, f := range []string{cfgFile, credFile} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return cfgFile
}

func ciUserFromEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", ciKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", ciSecret)
}

// recorder is the innermost transport: it records what went on the wire
// (host, Authorization header, STS form bodies) for assertions.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	Host          string
	Authorization string
	Form          url.Values // STS query-protocol body
}

func newRecorder() *recorder {
	return &recorder{next: http.DefaultTransport.(*http.Transport).Clone()}
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := recorded{Host: req.URL.Host, Authorization: req.Header.Get("Authorization")}
	if req.Body != nil && strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		rec.Form, _ = url.ParseQuery(string(body))
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) assumeRoleForms() []url.Values {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []url.Values
	for _, q := range r.reqs {
		if q.Form.Get("Action") == "AssumeRole" {
			out = append(out, q.Form)
		}
	}
	return out
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// testOptions points everything at srv, with a private cache dir and fast
// backoff.
func testOptions(t *testing.T, srv *emulatortest.Server, cfg config.Config) Options {
	cfg.STSEndpointURL = srv.URL
	cfg.SignerEndpointURL = srv.URL
	return Options{
		Config:     cfg,
		Region:     region,
		LookupEnv:  mapEnv(map[string]string{"XDG_CACHE_HOME": t.TempDir(), "HOSTNAME": "testhost"}),
		UserAgent:  "xsigner/0.0.0-test",
		MaxBackoff: 10 * time.Millisecond,
	}
}

func calls(srv *emulatortest.Server, service, op string) []emulator.Call {
	var out []emulator.Call
	for _, c := range srv.Calls() {
		if c.Service == service && c.Operation == op {
			out = append(out, c)
		}
	}
	return out
}

func callers(cs []emulator.Call) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Caller
	}
	return out
}

func notationPayload() []byte {
	return []byte(`{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("ab", 32) + `","size":528}}`)
}

func signPayload(ctx context.Context, s *Session) (*signer.SignPayloadOutput, error) {
	return s.Signer().SignPayload(ctx, &signer.SignPayloadInput{
		ProfileName:   aws.String(profileName),
		ProfileOwner:  aws.String(profileAcct),
		Payload:       notationPayload(),
		PayloadFormat: aws.String(payloadType),
	})
}

func TestBaseCredentialsFromEnvironment(t *testing.T) {
	isolateEnv(t)
	ciUserFromEnv(t)
	srv := startEmulator(t)
	ctx := context.Background()

	s, err := New(ctx, testOptions(t, srv, config.Config{}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	creds, err := s.Credentials().Retrieve(ctx)
	if err != nil || creds.AccessKeyID != ciKeyID {
		t.Fatalf("credentials = %q, %v; want the environment's %q", creds.AccessKeyID, err, ciKeyID)
	}
	if n := s.AssumeRoleCalls(); n != 0 {
		t.Errorf("AssumeRoleCalls() = %d without role-arn, want 0", n)
	}
	for range 2 {
		if got := s.CallerARN(ctx); got != ciUserARN {
			t.Errorf("CallerARN() = %q, want %q", got, ciUserARN)
		}
	}
	if got := callers(calls(srv, "sts", "GetCallerIdentity")); len(got) != 1 || got[0] != ciUserARN {
		t.Errorf("GetCallerIdentity journal callers = %v, want exactly one by %s", got, ciUserARN)
	}
}

func TestBaseCredentialsFromCredentialProcess(t *testing.T) {
	cfgFile := isolateEnv(t)
	srv := startEmulator(t)
	script := filepath.Join(t.TempDir(), "creds.sh")
	out := fmt.Sprintf(`{"Version":1,"AccessKeyId":%q,"SecretAccessKey":%q}`, ciKeyID, ciSecret)
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho '"+out+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte("[profile proc]\ncredential_process = "+script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := New(ctx, testOptions(t, srv, config.Config{Profile: "proc", RoleARNs: []string{ciRole}}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if got := callers(calls(srv, "sts", "AssumeRole")); len(got) != 1 || got[0] != ciUserARN {
		t.Errorf("AssumeRole callers = %v, want [%s] (the credential_process identity)", got, ciUserARN)
	}
	if arn := s.CallerARN(ctx); !strings.HasPrefix(arn, "arn:aws:sts::222222222222:assumed-role/codebuild-ci/") {
		t.Errorf("CallerARN() = %q, want the codebuild-ci session", arn)
	}
}

func TestCredentialProcessGarbageIsNotQuoted(t *testing.T) {
	cfgFile := isolateEnv(t)
	srv := startEmulator(t)
	script := filepath.Join(t.TempDir(), "creds.sh")
	const leaked = "SECRET-IN-BROKEN-OUTPUT"
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho '{\"Version\":1,\"SecretAccessKey\":\""+leaked+"\"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte("[profile proc]\ncredential_process = "+script+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), testOptions(t, srv, config.Config{Profile: "proc"}))
	if err == nil {
		t.Fatal("New succeeded with a credential_process printing broken JSON")
	}
	if strings.Contains(err.Error(), leaked) {
		t.Errorf("error quotes the credential_process output: %v", err)
	}
	if !strings.Contains(err.Error(), `profile "proc"`) || !strings.Contains(err.Error(), "credential_process") {
		t.Errorf("error %q should name the profile and credential_process", err)
	}
}

func TestRoleChains(t *testing.T) {
	tests := map[string]struct {
		roles         []string
		duration      time.Duration
		wantCallers   []string // AssumeRole callers, by prefix
		wantDurations []string
	}{
		"one role": {
			roles:         []string{signerRole},
			duration:      2 * time.Hour,
			wantCallers:   []string{ciUserARN},
			wantDurations: []string{"7200"},
		},
		"two roles": {
			roles:         []string{ciRole, signerRole},
			duration:      2 * time.Hour,
			wantCallers:   []string{ciUserARN, "arn:aws:sts::222222222222:assumed-role/codebuild-ci/ci-build-42"},
			wantDurations: []string{"7200", "3600"}, // the chained hop is capped at 1h
		},
		"default duration": {
			roles:         []string{ciRole, signerRole},
			wantCallers:   []string{ciUserARN, "arn:aws:sts::222222222222:assumed-role/codebuild-ci/ci-build-42"},
			wantDurations: []string{"900", "900"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			ciUserFromEnv(t)
			srv := startEmulator(t)
			rec := newRecorder()
			opts := testOptions(t, srv, config.Config{
				RoleARNs: tc.roles, ExternalID: externalID, RoleSessionName: "ci-build-42", RoleDuration: tc.duration,
			})
			opts.Transport = rec
			ctx := context.Background()
			s, err := New(ctx, opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got := callers(calls(srv, "sts", "AssumeRole"))
			if strings.Join(got, " ") != strings.Join(tc.wantCallers, " ") {
				t.Errorf("AssumeRole callers = %v, want %v", got, tc.wantCallers)
			}
			if n := s.AssumeRoleCalls(); n != len(tc.roles) {
				t.Errorf("AssumeRoleCalls() = %d, want %d", n, len(tc.roles))
			}
			forms := rec.assumeRoleForms()
			if len(forms) != len(tc.roles) {
				t.Fatalf("recorded %d AssumeRole requests, want %d", len(forms), len(tc.roles))
			}
			for i, f := range forms {
				last := i == len(forms)-1
				if f.Get("RoleArn") != tc.roles[i] || f.Get("RoleSessionName") != "ci-build-42" || f.Get("DurationSeconds") != tc.wantDurations[i] {
					t.Errorf("hop %d sent RoleArn=%q RoleSessionName=%q DurationSeconds=%q; want %q ci-build-42 %s",
						i+1, f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("DurationSeconds"), tc.roles[i], tc.wantDurations[i])
				}
				if has := f.Has("ExternalId"); has != last || (last && f.Get("ExternalId") != externalID) {
					t.Errorf("hop %d: ExternalId sent=%v (%q), want sent only on the last hop", i+1, has, f.Get("ExternalId"))
				}
			}
			wantCaller := "arn:aws:sts::111111111111:assumed-role/xsigner-signer/ci-build-42"
			if got := s.CallerARN(ctx); got != wantCaller {
				t.Errorf("CallerARN() = %q, want %q", got, wantCaller)
			}
			if _, err := signPayload(ctx, s); err != nil {
				t.Fatalf("SignPayload with the chain's credentials: %v", err)
			}
			if got := callers(calls(srv, "signer", "SignPayload")); len(got) != 1 || got[0] != wantCaller {
				t.Errorf("SignPayload callers = %v, want [%s]", got, wantCaller)
			}
		})
	}
}

func TestAssumeRoleErrorsTeach(t *testing.T) {
	tests := map[string]struct {
		roles      []string
		externalID string
		wantHop    string
		wantInMsg  []string
	}{
		"trust policy denies": {
			roles:     []string{lockedRole},
			wantHop:   "hop 1 of 1",
			wantInMsg: []string{lockedRole, "trust policy", `"` + ciUserARN + `"`, "AccessDenied", "set external-id"},
		},
		"wrong external id": {
			roles: []string{signerRole}, externalID: "not-the-one",
			wantHop:   "hop 1 of 1",
			wantInMsg: []string{signerRole, "trust policy", "external-id matches"},
		},
		"missing external id on the last hop": {
			roles:     []string{ciRole, signerRole},
			wantHop:   "hop 2 of 2",
			wantInMsg: []string{signerRole, "arn:aws:sts::222222222222:assumed-role/codebuild-ci/", "set external-id"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			ciUserFromEnv(t)
			srv := startEmulator(t)
			_, err := New(context.Background(), testOptions(t, srv, config.Config{RoleARNs: tc.roles, ExternalID: tc.externalID}))
			if err == nil {
				t.Fatal("New succeeded, want an AssumeRole error")
			}
			var are *AssumeRoleError
			if !errors.As(err, &are) {
				t.Fatalf("error %v is not an *AssumeRoleError", err)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
				t.Errorf("error code = %v, want AccessDenied", apiErr)
			}
			msg := err.Error()
			for _, want := range append(tc.wantInMsg, tc.wantHop) {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestCredentialCacheAcrossSessions(t *testing.T) {
	const n = 3
	chain := []string{ciRole, signerRole}
	tests := map[string]struct {
		cache           bool
		wantAssumeRoles int
		wantPerSession  []int
	}{
		"cache on":  {cache: true, wantAssumeRoles: len(chain), wantPerSession: []int{2, 0, 0}},
		"cache off": {cache: false, wantAssumeRoles: n * len(chain), wantPerSession: []int{2, 2, 2}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			ciUserFromEnv(t)
			srv := startEmulator(t)
			opts := testOptions(t, srv, config.Config{RoleARNs: chain, ExternalID: externalID, CredentialCache: tc.cache})
			ctx := context.Background()
			keys := map[string]bool{}
			for i := range n {
				s, err := New(ctx, opts)
				if err != nil {
					t.Fatalf("session %d: %v", i, err)
				}
				if got := s.AssumeRoleCalls(); got != tc.wantPerSession[i] {
					t.Errorf("session %d: AssumeRoleCalls() = %d, want %d", i, got, tc.wantPerSession[i])
				}
				creds, err := s.Credentials().Retrieve(ctx)
				if err != nil {
					t.Fatal(err)
				}
				keys[creds.AccessKeyID] = true
				if _, err := signPayload(ctx, s); err != nil {
					t.Fatalf("session %d SignPayload: %v", i, err)
				}
			}
			if got := len(calls(srv, "sts", "AssumeRole")); got != tc.wantAssumeRoles {
				t.Errorf("journal has %d AssumeRole calls for %d sessions, want %d", got, n, tc.wantAssumeRoles)
			}
			if wantKeys := map[bool]int{true: 1, false: n}[tc.cache]; len(keys) != wantKeys {
				t.Errorf("sessions used %d distinct access keys, want %d", len(keys), wantKeys)
			}
			// A cache hit still names the caller (via GetCallerIdentity).
			if tc.cache {
				s, err := New(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				if got := s.CallerARN(ctx); !strings.HasPrefix(got, "arn:aws:sts::111111111111:assumed-role/xsigner-signer/") {
					t.Errorf("CallerARN() on a cache hit = %q, want the xsigner-signer session", got)
				}
			}
		})
	}
}

func TestCredentialCacheExpiry(t *testing.T) {
	isolateEnv(t)
	ciUserFromEnv(t)
	srv := startEmulator(t)
	opts := testOptions(t, srv, config.Config{RoleARNs: []string{signerRole}, ExternalID: externalID, CredentialCache: true, RoleDuration: 15 * time.Minute})
	ctx := context.Background()
	steps := []struct {
		skew        time.Duration // how far the plugin's clock is ahead
		wantAssumed int
	}{
		{0, 1},
		{9 * time.Minute, 0},  // 6 minutes left: reused
		{11 * time.Minute, 1}, // 4 minutes left: refreshed
	}
	for _, st := range steps {
		o := opts
		o.Now = func() time.Time { return time.Now().Add(st.skew) }
		s, err := New(ctx, o)
		if err != nil {
			t.Fatalf("clock +%v: %v", st.skew, err)
		}
		if got := s.AssumeRoleCalls(); got != st.wantAssumed {
			t.Errorf("clock +%v: AssumeRoleCalls() = %d, want %d", st.skew, got, st.wantAssumed)
		}
	}
	if got := len(calls(srv, "sts", "AssumeRole")); got != 2 {
		t.Errorf("journal has %d AssumeRole calls, want 2", got)
	}
}

// TestSignerReachesCustomEndpoint: with a custom Signer endpoint, from
// signer-endpoint-url or set the SDK's way (AWS_ENDPOINT_URL_SIGNER),
// SignPayload and GetRevocationStatus both reach that host, not
// verification.<host> or data-<host>: Signer() owns the host-prefix rule for
// every endpoint source.
func TestSignerReachesCustomEndpoint(t *testing.T) {
	for _, fromEnv := range []bool{false, true} {
		name := "signer-endpoint-url"
		if fromEnv {
			name = "AWS_ENDPOINT_URL_SIGNER"
		}
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			ciUserFromEnv(t)
			srv := startEmulator(t)
			rec := newRecorder()
			opts := testOptions(t, srv, config.Config{RoleARNs: []string{signerRole}, ExternalID: externalID})
			if fromEnv {
				t.Setenv("AWS_ENDPOINT_URL_SIGNER", srv.URL)
				opts.Config.SignerEndpointURL = ""
			}
			opts.Transport = rec
			ctx := context.Background()
			s, err := New(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			out, err := signPayload(ctx, s)
			if err != nil {
				t.Fatalf("SignPayload: %v", err)
			}
			job, version := out.Metadata[emulator.MetadataSigningJob], out.Metadata[emulator.MetadataSigningProfileVersion]
			if job == "" || version == "" {
				t.Fatalf("SignPayload metadata = %v, want the job and profile version", out.Metadata)
			}
			rev, err := s.Signer().GetRevocationStatus(ctx, &signer.GetRevocationStatusInput{
				CertificateHashes:  []string{strings.Repeat("0f", 48)},
				JobArn:             aws.String(job),
				PlatformId:         aws.String("Notation-OCI-SHA384-ECDSA"),
				ProfileVersionArn:  aws.String(version),
				SignatureTimestamp: aws.Time(time.Now()),
			})
			if err != nil {
				t.Fatalf("GetRevocationStatus (host prefix must be disabled): %v", err)
			}
			if len(rev.RevokedEntities) != 0 {
				t.Errorf("RevokedEntities = %v, want none", rev.RevokedEntities)
			}
			if got := calls(srv, "signer", "GetRevocationStatus"); len(got) != 1 || got[0].Status != 200 {
				t.Errorf("journal GetRevocationStatus = %+v, want one 200", got)
			}
			want := strings.TrimPrefix(srv.URL, "http://")
			for _, r := range rec.reqs {
				if r.Host != want {
					t.Errorf("request went to host %q, want %q (no verification./data- prefix)", r.Host, want)
				}
			}
		})
	}
}

func TestSharedConfigRoleARNUsesSTSEndpoint(t *testing.T) {
	cfgFile := isolateEnv(t)
	srv := startEmulator(t)
	// The SDK's own assume-role provider (role_arn in the profile) would call
	// the real regional STS endpoint; sts-endpoint-url must reach it too.
	conf := fmt.Sprintf("[profile src]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[profile chained]\nrole_arn = %s\nsource_profile = src\nrole_session_name = from-profile\n", ciKeyID, ciSecret, ciRole)
	if err := os.WriteFile(cfgFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := New(ctx, testOptions(t, srv, config.Config{Profile: "chained", RoleARNs: []string{signerRole}, ExternalID: externalID, RoleSessionName: "ours"}))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	got := callers(calls(srv, "sts", "AssumeRole"))
	want := []string{ciUserARN, "arn:aws:sts::222222222222:assumed-role/codebuild-ci/from-profile"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("AssumeRole callers = %v, want %v", got, want)
	}
	if got := s.AssumeRoleCalls(); got != 1 {
		t.Errorf("AssumeRoleCalls() = %d, want 1 (the profile's hop is the SDK's)", got)
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	tests := map[string]struct {
		fault     emulator.Fault
		service   string
		operation string
		roles     []string
		wantErr   bool
		wantCalls int
	}{
		"signer 429 TooManyRequestsException": {
			fault:   emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "TooManyRequestsException", Status: 429, Count: 2},
			service: "signer", operation: "SignPayload", wantCalls: 3,
		},
		"signer ThrottlingException": {
			fault:   emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "ThrottlingException", Count: 4},
			service: "signer", operation: "SignPayload", wantCalls: 5,
		},
		"sts Throttling on AssumeRole": {
			fault:   emulator.Fault{Service: "sts", Operation: "AssumeRole", ErrorCode: "Throttling", Status: 400, Count: 1},
			service: "sts", operation: "AssumeRole", roles: []string{signerRole}, wantCalls: 2,
		},
		"gives up after 5 attempts": {
			fault:   emulator.Fault{Service: "signer", Operation: "SignPayload", ErrorCode: "TooManyRequestsException", Status: 429, Count: 9},
			service: "signer", operation: "SignPayload", wantErr: true, wantCalls: 5,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			isolateEnv(t)
			ciUserFromEnv(t)
			srv := startEmulator(t)
			if err := srv.InjectFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s, err := New(ctx, testOptions(t, srv, config.Config{RoleARNs: tc.roles, ExternalID: externalID}))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if tc.roles == nil {
				// Sign with the user directly; the profile has no permission
				// for it, but the fault answers first, and the last attempt's
				// answer decides only in the give-up case.
				_, err = signPayload(ctx, s)
				var apiErr smithy.APIError
				if tc.wantErr {
					if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.fault.ErrorCode {
						t.Errorf("SignPayload error = %v, want %s after the last attempt", err, tc.fault.ErrorCode)
					}
				} else if errors.As(err, &apiErr) && apiErr.ErrorCode() == tc.fault.ErrorCode {
					t.Errorf("SignPayload still failed with the injected %s: %v", tc.fault.ErrorCode, err)
				}
			}
			got := calls(srv, tc.service, tc.operation)
			if len(got) != tc.wantCalls {
				t.Fatalf("journal has %d %s calls, want %d: %+v", len(got), tc.operation, tc.wantCalls, got)
			}
			faulted := min(tc.fault.Count, tc.wantCalls)
			for i, c := range got[:faulted] {
				if c.ErrorCode != tc.fault.ErrorCode {
					t.Errorf("attempt %d: error code %q, want the injected %q", i+1, c.ErrorCode, tc.fault.ErrorCode)
				}
			}
		})
	}
}

func TestHungServiceHitsDeadline(t *testing.T) {
	isolateEnv(t)
	ciUserFromEnv(t)
	srv := startEmulator(t)
	s, err := New(context.Background(), testOptions(t, srv, config.Config{RoleARNs: []string{signerRole}, ExternalID: externalID}))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(emulator.Fault{Service: "signer", Operation: "SignPayload", Hang: true, Count: 9}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = signPayload(ctx, s)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SignPayload on a hung service = %v, want context.DeadlineExceeded", err)
	}
}

// TestDebugLogCanary runs AssumeRole, SignPayload and an error path with
// debug logging on and checks no secret reached the log.
func TestDebugLogCanary(t *testing.T) {
	isolateEnv(t)
	ciUserFromEnv(t)
	srv := startEmulator(t)
	var logBuf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rec := newRecorder()
	opts := testOptions(t, srv, config.Config{RoleARNs: []string{ciRole, signerRole}, ExternalID: externalID, CredentialCache: true})
	opts.Logger = logger
	opts.Transport = rec
	ctx := context.Background()

	s, err := New(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signPayload(ctx, s); err != nil {
		t.Fatal(err)
	}
	session, err := s.Credentials().Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Error paths: a denied role, and a Signer AccessDenied for the user.
	bad := testOptions(t, srv, config.Config{RoleARNs: []string{lockedRole}})
	bad.Logger, bad.Transport = logger, rec
	if _, err := New(ctx, bad); err == nil {
		t.Fatal("assuming the locked role succeeded")
	}
	plain := testOptions(t, srv, config.Config{})
	plain.Logger, plain.Transport = logger, rec
	user, err := New(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signPayload(ctx, user); err == nil {
		t.Fatal("the user signed without a profile permission")
	}
	_ = user.CallerARN(ctx)

	log := logBuf.String()
	secrets := map[string]string{
		"base secret key":        ciSecret,
		"session secret key":     session.SecretAccessKey,
		"session token":          session.SessionToken,
		"session token (prefix)": session.SessionToken[:min(24, len(session.SessionToken))],
	}
	var auths int
	for _, r := range rec.reqs {
		if r.Authorization != "" {
			auths++
			secrets["Authorization header #"+fmt.Sprint(auths)] = r.Authorization
			if _, sig, ok := strings.Cut(r.Authorization, "Signature="); ok {
				secrets["signature #"+fmt.Sprint(auths)] = sig
			}
		}
	}
	if auths < 5 || session.SessionToken == "" || session.SecretAccessKey == "" {
		t.Fatalf("canary setup too weak: %d signed requests, session secret %d bytes, token %d bytes", auths, len(session.SecretAccessKey), len(session.SessionToken))
	}
	for what, secret := range secrets {
		if strings.Contains(log, secret) {
			t.Errorf("debug log contains the %s", what)
		}
	}
	// And the log is useful: it names what happened.
	for _, want := range []string{"assumed role", "errorCode=AccessDenied", "status=200", "requestId=", `using region \"us-west-2\"`, "http.operation=STS.AssumeRole", "http.operation=signer.SignPayload", "base credentials AKIA…EXMP from EnvConfigCredentials"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	// The cache file holds the session; the log must not quote it either.
	dir, _ := opts.LookupEnv("XDG_CACHE_HOME")
	entries, _ := filepath.Glob(filepath.Join(dir, "xsigner", "*"))
	if len(entries) == 0 {
		t.Error("no credential cache entry was written")
	}
	if t.Failed() {
		t.Logf("debug log:\n%s", log)
	}
}

// TestCustomCABundle: the SDK applies AWS_CA_BUNDLE only to its own HTTP
// client type and rejects others; New must still load (corporate proxies).
func TestCustomCABundle(t *testing.T) {
	isolateEnv(t)
	ciUserFromEnv(t)
	srv := startEmulator(t)
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, srv.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	ctx := context.Background()
	s, err := New(ctx, testOptions(t, srv, config.Config{RoleARNs: []string{signerRole}, ExternalID: externalID}))
	if err != nil {
		t.Fatalf("New with AWS_CA_BUNDLE: %v", err)
	}
	if _, err := signPayload(ctx, s); err != nil {
		t.Fatalf("SignPayload: %v", err)
	}
}
