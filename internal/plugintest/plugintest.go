// Package plugintest runs the real notation-xsigner executable the way
// notation does (one process per command, JSON on stdin) for process-level
// tests. It builds the executable once per test binary.
package plugintest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	proto "github.com/notaryproject/notation-plugin-framework-go/plugin"
)

// binary is the path of the notation-xsigner that Main built.
var binary string

// Main builds notation-xsigner into a temporary directory, runs the tests
// and removes the directory. Call it from TestMain.
func Main(m *testing.M) {
	dir, err := os.MkdirTemp("", "plugintest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "notation-xsigner")
	build := exec.Command("go", "build", "-trimpath", "-o", binary, "github.com/xsigner/xsigner/plugin/cmd/notation-xsigner")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building notation-xsigner: %v\n%s", err, out)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// Binary returns the path of the executable built by Main.
func Binary(t testing.TB) string {
	t.Helper()
	if binary == "" {
		t.Fatal("plugintest.Main was not called from TestMain")
	}
	return binary
}

// CopyAs copies the executable to a temporary file named name (for example
// "notation-com.amazonaws.signer.notation.plugin") and returns its path.
func CopyAs(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	// A hard link, not a copy, when it can: a copy is written through a file
	// descriptor that a child forked meanwhile by a parallel test inherits
	// until its exec, and exec of the copy then fails with "text file busy".
	if err := os.Link(Binary(t), path); err == nil {
		return path
	}
	b, err := os.ReadFile(Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// Env returns a hermetic environment: temporary HOME and XDG_CACHE_HOME, no
// shared AWS config or credentials files, no instance metadata, plus extra
// ("KEY=value") entries, which win.
func Env(t testing.TB, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{
		"PATH=/usr/bin:/bin",
		"HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	}
	return append(env, extra...)
}

// Result is what one plugin process did.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Run runs exe with args, env and stdin (a []byte, a string, or any value
// marshalled as JSON) and waits for it.
func Run(t testing.TB, exe string, env []string, stdin any, args ...string) Result {
	t.Helper()
	var in []byte
	switch v := stdin.(type) {
	case nil:
	case []byte:
		in = v
	case string:
		in = []byte(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshalling stdin: %v", err)
		}
		in = b
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.ExitCode = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", exe, err)
	}
	return r
}

// Succeeded decodes stdout into resp, failing the test unless the process
// exited 0 with empty stderr.
func (r Result) Succeeded(t testing.TB, resp any) {
	t.Helper()
	if r.ExitCode != 0 || r.Stderr != "" {
		t.Fatalf("plugin failed: exit %d, stderr %s", r.ExitCode, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), resp); err != nil {
		t.Fatalf("stdout is not the response JSON: %v: %q", err, r.Stdout)
	}
}

// Failed decodes the protocol error from stderr, failing the test unless the
// process exited non-zero with empty stdout and exactly one JSON error.
func (r Result) Failed(t testing.TB) proto.Error {
	t.Helper()
	if r.ExitCode == 0 || r.Stdout != "" {
		t.Fatalf("plugin should have failed: exit %d, stdout %q", r.ExitCode, r.Stdout)
	}
	var e proto.Error
	dec := json.NewDecoder(strings.NewReader(r.Stderr))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || dec.More() {
		t.Fatalf("stderr is not one protocol error JSON (%v): %q", err, r.Stderr)
	}
	if e.ErrCode == "" || e.Message == "" {
		t.Fatalf("error without code or message: %q", r.Stderr)
	}
	return e
}
