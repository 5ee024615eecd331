//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xsigner/xsigner/internal/e2e/harness"
)

// TestDemo runs internal/demo/demo.sh (what `make demo` runs) and checks
// that it succeeds, narrates the key steps, and leaves no process, port or
// directory behind. It runs once revoking with the aws CLI, when installed,
// and once with the Go helper.
func TestDemo(t *testing.T) {
	t.Parallel()
	harness.Tools(t) // the demo needs bin/ and .tools/bin: fail early with the make target
	root := harness.ModuleRoot(t)

	tests := []struct {
		name      string
		env       []string
		wantCLI   bool
		skipNoCLI bool
	}{
		{name: "revoke with the aws CLI", wantCLI: true, skipNoCLI: true},
		{name: "revoke with the Go helper", env: []string{"XSIGNER_DEMO_NO_AWS_CLI=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath("aws"); err != nil && tc.skipNoCLI {
				t.Skip("no aws CLI on PATH")
			}
			tmp := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "internal", "demo", "demo.sh"))
			// The caller's environment (go, its caches, the aws CLI), minus
			// anything that would change the demo's AWS or notation setup.
			cmd.Env = append(demoEnviron(), "TMPDIR="+tmp)
			cmd.Env = append(cmd.Env, tc.env...)
			cmd.Dir = t.TempDir() // the script must not depend on the working directory
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			start := time.Now()
			err := cmd.Run()
			t.Logf("demo ran in %s", time.Since(start).Round(time.Millisecond))
			if err != nil {
				t.Fatalf("demo.sh failed: %v\n%s", err, &out)
			}
			got := out.String()

			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`trusts arn:aws:iam::222222222222:role/codebuild-ci to sts:AssumeRole if StringEquals sts:ExternalId=xsigner-release-7f3a`),
				regexp.MustCompile(`(?m)^\$ notation sign --insecure-registry --plugin xsigner --id ` + regexp.QuoteMeta(profileARN) +
					` --plugin-config role-arn=` + regexp.QuoteMeta(ciRoleARN+","+signerARN) + ` --plugin-config external-id=` + externalID + ` `),
				regexp.MustCompile(`(?m)^Successfully signed 127\.0\.0\.1:\d+/demo/app@sha256:[0-9a-f]{64}$`),
				regexp.MustCompile(`signer SignPayload status=200 caller=arn:aws:sts::111111111111:assumed-role/xsigner-signer/`),
				regexp.MustCompile(`(?m)^└── application/vnd\.cncf\.notary\.signature$`),
				regexp.MustCompile(`(?m)^Successfully verified signature for 127\.0\.0\.1:\d+/demo/app@sha256:[0-9a-f]{64}$`),
				regexp.MustCompile(`(?m)^\$ aws signer revoke-signature --region us-west-2 --endpoint-url http://127\.0\.0\.1:\d+ --job-id [0-9a-f-]{36} --job-owner 111111111111 `),
				regexp.MustCompile(`revocation check by verification plugin "com\.amazonaws\.signer\.notation\.plugin" failed with reason "the signature is revoked: signing job \\"arn:aws:signer:us-west-2:111111111111:/signing-jobs/[0-9a-f-]{36}\\" was revoked"`),
				regexp.MustCompile(`(?m)^Error: signature verification failed for all the signatures associated with`),
				regexp.MustCompile(`(?m)^Demo complete: signed across accounts, verified, revoked, refused\.$`),
			} {
				if !want.MatchString(got) {
					t.Errorf("demo output lacks %s", want)
				}
			}
			how := "(no aws CLI: the same call with the AWS SDK for Go)"
			if tc.wantCLI {
				how = "(aws CLI)"
			}
			assertContains(t, "demo output", got, how)
			if strings.Contains(got, ciSecretAccessKey) || strings.Contains(got, adminSecretAccessKey) {
				t.Error("demo output shows a secret access key")
			}
			if t.Failed() {
				t.Logf("demo output:\n%s", got)
			}

			// Nothing left behind: ports closed, work directory removed.
			for _, m := range regexp.MustCompile(`(?m)^    (?:emulator|registry): (?:http://)?(127\.0\.0\.1:\d+)$`).FindAllStringSubmatch(got, -1) {
				if conn, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
					conn.Close()
					t.Errorf("%s still accepts connections after the demo", m[1])
				}
			}
			if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
				t.Errorf("the demo left files in its TMPDIR: %v %v", entries, err)
			}
		})
	}
}

// demoEnviron is the test's environment without AWS_*, XSIGNER_* and
// NOTATION_* variables, so the demo runs as on a clean machine.
func demoEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "XSIGNER_") || strings.HasPrefix(kv, "NOTATION_") || strings.HasPrefix(kv, "TMPDIR=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
