//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
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
			// The caller's environment (go, its caches, the aws CLI), plus
			// leftovers of a user's own AWS and notation work that the demo
			// must ignore: each of these alone made it fail once.
			cmd.Env = append(demoEnviron(), "TMPDIR="+tmp)
			cmd.Env = append(cmd.Env, hostileEnviron(t)...)
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
			assertNothingLeft(t, got, tmp)
		})
	}
}

// hostileEnviron is what a developer's shell may hold from real AWS work: a
// session token, a profile of their own, an endpoint, xsigner settings, a
// shared config file with a broken default profile. The demo must not use
// any of it.
func hostileEnviron(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config")
	if err := os.WriteFile(config, []byte("[default]\nregion = eu-west-1\ncredential_process = /nonexistent/helper\n[profile work]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"AWS_SESSION_TOKEN=FwoGZXIvYXdzEleftover",
		"AWS_PROFILE=work",
		"AWS_CONFIG_FILE=" + config,
		"AWS_REGION=eu-west-1",
		"AWS_ENDPOINT_URL=https://unreachable.invalid",
		"XSIGNER_CREDENTIAL_CACHE=bogus",
		"XSIGNER_DEBUG_LOG=/nonexistent/xsigner.log",
		"NOTATION_CONFIG=" + filepath.Join(dir, "users-notation"),
	}
}

// TestDemoInterrupted sends Ctrl-C (SIGINT to the demo's process group, as
// a terminal does) while the demo runs a command with the emulator and the
// registry up, and checks that it stops them, removes its files and exits
// 130. A stand-in aws CLI, first on PATH, blocks at the revoke step and says
// when it runs, so the signal always lands at the same point.
func TestDemoInterrupted(t *testing.T) {
	t.Parallel()
	harness.Tools(t)
	root := harness.ModuleRoot(t)
	tmp, fake := t.TempDir(), t.TempDir()
	started := filepath.Join(fake, "aws-started")
	script := "#!/bin/sh\n: > " + started + "\nexec sleep 120\n"
	if err := os.WriteFile(filepath.Join(fake, "aws"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "internal", "demo", "demo.sh"))
	env := append(demoEnviron(), "TMPDIR="+tmp)
	for i, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			env[i] = "PATH=" + fake + ":" + strings.TrimPrefix(kv, "PATH=")
		}
	}
	cmd.Env = env
	cmd.Dir = t.TempDir()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out harness.SyncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })

	for {
		if _, err := os.Stat(started); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the demo never reached the revoke step:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	got := out.String()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
		t.Errorf("interrupted demo ended with %v, want exit status 130\n%s", err, got)
	}
	assertContains(t, "interrupted demo output", got, "Cleaned up: stopped 2 process(es)")
	if strings.Contains(got, "Demo complete") {
		t.Errorf("interrupted demo claims to be complete:\n%s", got)
	}
	assertNothingLeft(t, got, tmp)
	if groupAlive(cmd.Process.Pid) {
		t.Errorf("a process of the demo's group survived Ctrl-C")
	}
}

// assertNothingLeft checks that the emulator and registry ports the demo
// printed are closed and that its TMPDIR is empty.
func assertNothingLeft(t *testing.T, out, tmp string) {
	t.Helper()
	ports := regexp.MustCompile(`(?m)^    (?:emulator|registry): (?:http://)?(127\.0\.0\.1:\d+)$`).FindAllStringSubmatch(out, -1)
	if len(ports) != 2 {
		t.Errorf("demo output names %d emulator/registry addresses, want 2", len(ports))
	}
	for _, m := range ports {
		if conn, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after the demo", m[1])
		}
	}
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("the demo left files in its TMPDIR: %v %v", entries, err)
	}
}

// groupAlive reports whether any process of group pgid is still running
// (signal 0 to the group; zombies of a reaped group do not answer).
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
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
