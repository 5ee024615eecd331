package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// DefaultCommandTimeout bounds each command an [Env] runs unless
// [Env.CommandTimeout] says otherwise.
const DefaultCommandTimeout = 2 * time.Minute

// systemPath is appended to the tools directory to form an Env's PATH.
const systemPath = "/usr/bin:/bin"

// TestArtifactType is the artifact type [Env.PushArtifact] pushes.
const TestArtifactType = "application/vnd.example.test"

// Env is an isolated environment for running notation and oras: its own
// HOME, XDG_CONFIG_HOME (so its own notation keys, plugins, trust stores and
// trust policy), XDG_CACHE_HOME and DOCKER_CONFIG, all under t.TempDir(), and
// an environment that inherits nothing from the caller's.
//
// An Env belongs to the test that created it; its commands log to that test.
type Env struct {
	t     testing.TB
	tools ExternalToolPaths
	vars  map[string]string

	// Home, ConfigHome, CacheHome and DockerConfig are the directories
	// HOME, XDG_CONFIG_HOME, XDG_CACHE_HOME and DOCKER_CONFIG point to.
	Home, ConfigHome, CacheHome, DockerConfig string

	// CommandTimeout bounds each command; zero means DefaultCommandTimeout.
	CommandTimeout time.Duration
}

// NewEnv returns a fresh isolated environment. Its variables are exactly:
// PATH (the tools directory, then /usr/bin:/bin), HOME, XDG_CONFIG_HOME,
// XDG_CACHE_HOME, DOCKER_CONFIG, TMPDIR (all fresh temporary directories) and
// AWS_EC2_METADATA_DISABLED=true, so that an AWS SDK in a plugin never probes
// the instance metadata service off loopback. Nothing else, in particular no
// AWS_* or XSIGNER_* variable, comes from the caller's environment; add what a
// test needs with [Env.Set].
func NewEnv(t testing.TB) *Env {
	t.Helper()
	return newEnv(t, ExternalTools(t))
}

func newEnv(t testing.TB, tools ExternalToolPaths) *Env {
	t.Helper()
	base := t.TempDir()
	e := &Env{
		t:            t,
		tools:        tools,
		vars:         map[string]string{},
		Home:         filepath.Join(base, "home"),
		ConfigHome:   filepath.Join(base, "config"),
		CacheHome:    filepath.Join(base, "cache"),
		DockerConfig: filepath.Join(base, "home", ".docker"),
	}
	tmp := filepath.Join(base, "tmp")
	for _, dir := range []string{e.Home, e.ConfigHome, e.CacheHome, e.DockerConfig, tmp} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatalf("creating test environment: %v", err)
		}
	}
	e.vars["PATH"] = tools.Dir + ":" + systemPath
	e.vars["HOME"] = e.Home
	e.vars["XDG_CONFIG_HOME"] = e.ConfigHome
	e.vars["XDG_CACHE_HOME"] = e.CacheHome
	e.vars["DOCKER_CONFIG"] = e.DockerConfig
	e.vars["TMPDIR"] = tmp
	e.vars["AWS_EC2_METADATA_DISABLED"] = "true"
	return e
}

// Set sets an environment variable for the commands the Env runs.
func (e *Env) Set(key, value string) { e.vars[key] = value }

// Unset removes an environment variable, including one NewEnv set.
func (e *Env) Unset(key string) { delete(e.vars, key) }

// Environ returns the environment as sorted KEY=VALUE pairs.
func (e *Env) Environ() []string {
	env := make([]string, 0, len(e.vars))
	for k, v := range e.vars {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// NotationDir is notation's configuration directory in this Env.
func (e *Env) NotationDir() string { return filepath.Join(e.ConfigHome, "notation") }

// Tools returns the third-party tool paths this Env runs.
func (e *Env) Tools() ExternalToolPaths { return e.tools }

// Result is the outcome of a command run by an [Env].
type Result struct {
	// Cmd is the command line, for messages.
	Cmd      string
	Stdout   string
	Stderr   string
	ExitCode int
	// Err is set when the command could not run to completion: it did not
	// start, or it was killed at the timeout. ExitCode is then -1.
	Err error
}

// String describes the result for failure messages.
func (r Result) String() string {
	status := fmt.Sprintf("exit code %d", r.ExitCode)
	if r.Err != nil {
		status = r.Err.Error()
	}
	return fmt.Sprintf("$ %s\n(%s)\n--- stdout ---\n%s\n--- stderr ---\n%s", r.Cmd, status, r.Stdout, r.Stderr)
}

// MustSucceed fails the test unless the command ran and exited 0.
func (r Result) MustSucceed(t testing.TB) Result {
	t.Helper()
	if r.Err != nil || r.ExitCode != 0 {
		t.Fatalf("command failed, want success:\n%s", r)
	}
	return r
}

// MustFail fails the test unless the command ran and exited non-zero. A
// command that could not start or timed out does not count as failing.
func (r Result) MustFail(t testing.TB) Result {
	t.Helper()
	if r.Err != nil || r.ExitCode == 0 {
		t.Fatalf("command did not fail as wanted:\n%s", r)
	}
	return r
}

// MustFailWith is MustFail that also requires want in the command's stderr.
func (r Result) MustFailWith(t testing.TB, want string) Result {
	t.Helper()
	r.MustFail(t)
	if !strings.Contains(r.Stderr, want) {
		t.Fatalf("command failed without the expected message %q:\n%s", want, r)
	}
	return r
}

// Notation runs the notation CLI in this Env.
func (e *Env) Notation(args ...string) Result {
	e.t.Helper()
	return e.Run("", e.tools.Notation, args...)
}

// Oras runs the oras CLI in this Env.
func (e *Env) Oras(args ...string) Result {
	e.t.Helper()
	return e.Run("", e.tools.Oras, args...)
}

// Run runs the executable at path with args in this Env, in directory dir
// (empty: the test's working directory), bounded by the Env's command timeout.
// The command runs in its own process group, all of which is killed on
// timeout. The command line (not the environment) and its outcome are logged.
func (e *Env) Run(dir, path string, args ...string) Result {
	e.t.Helper()
	timeout := e.CommandTimeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = e.Environ()
	cmd.Dir = dir
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	cmd.SysProcAttr = groupSysProcAttr()
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = stopGrace

	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start).Round(time.Millisecond)

	r := Result{Cmd: commandLine(path, args), ExitCode: -1}
	r.Stdout, r.Stderr = stdout.String(), stderr.String()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.Err = fmt.Errorf("killed after timeout of %s", timeout)
	case err == nil:
		r.ExitCode = 0
	case errors.As(err, &exitErr) && exitErr.Exited():
		r.ExitCode = exitErr.ExitCode()
	default:
		r.Err = err
	}
	if r.Err != nil {
		e.t.Logf("$ %s (%v, %s)", r.Cmd, r.Err, elapsed)
	} else {
		e.t.Logf("$ %s (exit %d, %s)", r.Cmd, r.ExitCode, elapsed)
	}
	return r
}

// digestPattern matches a sha256 OCI digest as `oras resolve` prints it.
var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// PushArtifact pushes a small file with unique content to reg as repo:tag
// (artifact type [TestArtifactType], plain HTTP) and returns the reference by
// digest, "host/repo@sha256:...". Each call pushes different content, so two
// pushes never share a digest (and so never share signatures).
func (e *Env) PushArtifact(t testing.TB, reg *Registry, repo, tag string) string {
	t.Helper()
	dir := t.TempDir()
	content := fmt.Sprintf("xsigner e2e artifact %s:%s %s\n", repo, tag, rand.Text())
	const name = "artifact.txt"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatalf("writing artifact: %v", err)
	}
	byTag := reg.Host + "/" + repo + ":" + tag
	// oras refuses absolute file paths, so push from the file's directory.
	e.Run(dir, e.tools.Oras, "push", "--plain-http", "--artifact-type", TestArtifactType, byTag, name).MustSucceed(t)
	digest := strings.TrimSpace(e.Oras("resolve", "--plain-http", byTag).MustSucceed(t).Stdout)
	if !digestPattern.MatchString(digest) {
		t.Fatalf("oras resolve %s printed %q, want a sha256 digest", byTag, digest)
	}
	return reg.Host + "/" + repo + "@" + digest
}

// InstallPlugin installs the plugin executable at path under the name as
// (notation's plugin name, so the executable becomes notation-<as>) with
// `notation plugin install --file`. The binary is copied to a file named
// notation-<as> first, because notation takes the plugin name from the file
// name and requires it to match the name the plugin reports.
func (e *Env) InstallPlugin(t testing.TB, path, as string) {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading plugin binary: %v", err)
	}
	copyPath := filepath.Join(t.TempDir(), "notation-"+as)
	if err := os.WriteFile(copyPath, bin, 0o755); err != nil {
		t.Fatalf("copying plugin binary: %v", err)
	}
	e.Notation("plugin", "install", "--file", copyPath).MustSucceed(t)
}

// InstallPluginArchive installs a plugin from a .tar.gz or .zip archive with
// `notation plugin install --file`.
func (e *Env) InstallPluginArchive(t testing.TB, archive string) {
	t.Helper()
	e.Notation("plugin", "install", "--file", archive).MustSucceed(t)
}

// TrustPolicyDocument is notation's trust policy file (trustpolicy.json,
// version 1.0), for tests that build policies as values.
type TrustPolicyDocument struct {
	Version       string        `json:"version"`
	TrustPolicies []TrustPolicy `json:"trustPolicies"`
}

// TrustPolicy is one statement of a [TrustPolicyDocument].
type TrustPolicy struct {
	Name                  string                `json:"name"`
	RegistryScopes        []string              `json:"registryScopes"`
	SignatureVerification SignatureVerification `json:"signatureVerification"`
	TrustStores           []string              `json:"trustStores,omitempty"`
	TrustedIdentities     []string              `json:"trustedIdentities,omitempty"`
}

// SignatureVerification is a trust policy's verification level and overrides
// (e.g. Override: {"revocation": "skip"}).
type SignatureVerification struct {
	Level    string            `json:"level"`
	Override map[string]string `json:"override,omitempty"`
}

// WriteTrustPolicy imports policy as the Env's trust policy with `notation
// policy import --force`. A []byte or string policy is written as is; any
// other value (such as a [TrustPolicyDocument]) is marshalled to JSON.
func (e *Env) WriteTrustPolicy(t testing.TB, policy any) {
	t.Helper()
	var doc []byte
	switch p := policy.(type) {
	case []byte:
		doc = p
	case string:
		doc = []byte(p)
	default:
		var err error
		if doc, err = json.MarshalIndent(policy, "", "  "); err != nil {
			t.Fatalf("encoding trust policy: %v", err)
		}
	}
	file := filepath.Join(t.TempDir(), "trustpolicy.json")
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		t.Fatalf("writing trust policy: %v", err)
	}
	e.Notation("policy", "import", "--force", file).MustSucceed(t)
}

// AddTrustStoreCert adds the PEM certificate(s) to the Env's trust store
// storeType:name (storeType is ca, signingAuthority or tsa) with `notation
// cert add`. The certificate file is named after a hash of its content, so
// several certificates can go into one store.
func (e *Env) AddTrustStoreCert(t testing.TB, storeType, name string, pemBytes []byte) {
	t.Helper()
	sum := sha256.Sum256(pemBytes)
	file := filepath.Join(t.TempDir(), hex.EncodeToString(sum[:6])+".pem")
	if err := os.WriteFile(file, pemBytes, 0o600); err != nil {
		t.Fatalf("writing certificate: %v", err)
	}
	e.Notation("cert", "add", "--type", storeType, "--store", name, file).MustSucceed(t)
}
