package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/plugintest"
)

// TestMain builds notation-xsigner once; plugintest.Binary returns it.
func TestMain(m *testing.M) { plugintest.Main(m) }

type result struct {
	stdout, stderr string
	code           int
}

// run runs exe with a minimal environment (env entries added to PATH only).
func run(t *testing.T, exe, stdin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s: %v", exe, err)
	}
	return result{stdout.String(), stderr.String(), code}
}

var nameField = regexp.MustCompile(`"name":"([^"]*)"`)

// TestNameFollowsExecutable: notation requires metadata name == file suffix.
func TestNameFollowsExecutable(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"notation-xsigner": "xsigner",
		"notation-com.amazonaws.signer.notation.plugin": "com.amazonaws.signer.notation.plugin",
		"notation-something-else":                       "xsigner",
		"xsigner":                                       "xsigner",
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			r := run(t, plugintest.CopyAs(t, file), "{}", nil, "get-plugin-metadata")
			m := nameField.FindStringSubmatch(r.stdout)
			if r.code != 0 || m == nil || m[1] != want {
				t.Errorf("%s get-plugin-metadata: exit %d, stdout %q; want name %q", file, r.code, r.stdout, want)
			}
			v := run(t, plugintest.CopyAs(t, file), "", nil, "version")
			if !strings.HasPrefix(v.stdout, want+" - ") {
				t.Errorf("%s version: %q, want it to start with %q", file, v.stdout, want+" - ")
			}
		})
	}
}

// TestMetadataDoesNoIO: get-plugin-metadata gives identical output with no
// HOME, no AWS config, pluginConfig naming unreachable endpoints and invalid
// values, and a broken environment.
func TestMetadataDoesNoIO(t *testing.T) {
	t.Parallel()
	want := run(t, plugintest.Binary(t), "{}", nil, "get-plugin-metadata")
	if want.code != 0 || want.stderr != "" {
		t.Fatalf("baseline: %+v", want)
	}
	hostile := []string{
		"AWS_CONFIG_FILE=/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/credentials",
		"AWS_PROFILE=does-not-exist", "AWS_ENDPOINT_URL=http://192.0.2.1:1", "HTTPS_PROXY=http://192.0.2.1:1",
		"XSIGNER_TIMEOUT=not-a-duration", "XSIGNER_DEBUG_LOG=/nonexistent/dir/debug.log",
	}
	inputs := map[string]string{
		"unreachable endpoints": `{"pluginConfig":{"signer-endpoint-url":"https://192.0.2.1:1","sts-endpoint-url":"http://127.0.0.1:1","role-arn":"arn:aws:iam::111122223333:role/x"}}`,
		"invalid config":        `{"pluginConfig":{"no-such-key":"x","timeout":"never","debug-log":"/nonexistent/dir/x.log"}}`,
		"empty config":          `{"pluginConfig":{}}`,
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got := run(t, plugintest.Binary(t), in, hostile, "get-plugin-metadata")
			if got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestMetadataSyscalls traces get-plugin-metadata with strace: after the
// runtime starts, the only file the process may open is /dev/null (the
// framework parks stdout there), and it may make no network call at all.
//
// With HOME unset there is one more, outside our code: the AWS SDK's config
// package initialises DefaultSharedConfigFiles at package init, and its
// shareddefaults.UserHomeDir falls back to os/user, which reads /etc/passwd.
// That read is local, happens only without HOME, and is allowed by name.
func TestMetadataSyscalls(t *testing.T) {
	t.Parallel()
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed; install it to trace get-plugin-metadata's system calls")
	}
	cases := map[string]struct {
		env     []string
		allowed []string
	}{
		"HOME set":   {env: []string{"HOME=/nonexistent/home"}},
		"HOME unset": {allowed: []string{`"/etc/passwd"`}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			traceMetadata(t, strace, tc.env, tc.allowed)
		})
	}
}

func traceMetadata(t *testing.T, strace string, env, allowed []string) {
	t.Helper()
	trace := filepath.Join(t.TempDir(), "trace")
	in := `{"pluginConfig":{"signer-endpoint-url":"https://192.0.2.1:1","aws-profile":"x"}}`
	cmd := exec.Command(strace, "-f", "-qq", "-o", trace, "-e", "trace=file,network", plugintest.Binary(t), "get-plugin-metadata")
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "AWS_CONFIG_FILE=/nonexistent/config"}, env...)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "ptrace") {
			t.Skipf("strace cannot trace here: %s", ee.Stderr)
		}
		t.Fatalf("strace: %v", err)
	}
	if !strings.Contains(string(out), `"name":"xsigner"`) {
		t.Fatalf("unexpected output %q", out)
	}
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The Go runtime reads these at start-up (huge pages, cgroup CPU limits).
	runtimePaths := regexp.MustCompile(`"(/proc/self/[^"]*|/sys/[^"]*)"`)
	isAllowed := func(line string) bool {
		for _, a := range allowed {
			if strings.Contains(line, a) {
				return true
			}
		}
		return false
	}
	var lines int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		lines++
		switch {
		case strings.Contains(line, "execve("):
		case strings.Contains(line, `"/dev/null"`):
		case runtimePaths.MatchString(line):
		case strings.Contains(line, "+++") || strings.Contains(line, "---"):
		case isAllowed(line):
		default:
			t.Errorf("unexpected system call: %s", line)
		}
	}
	if lines == 0 {
		t.Error("empty trace")
	}
}
