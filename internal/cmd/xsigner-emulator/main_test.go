package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const world = `{
  "accounts": {
    "111111111111": {
      "users": {
        "dev": {
          "accessKeys": [{"accessKeyId": "AKIADEV1111111111EXM", "secretAccessKey": "dev-secret-example-000000000000000000000"}]
        }
      }
    }
  }
}`

func writeWorld(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(p, []byte(world), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBinary builds xsigner-emulator, starts it, reads the URL from the
// first stdout line, calls GetCallerIdentity with a real SDK client and
// stops it with SIGTERM.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "xsigner-emulator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The example world of the emulator package, as the README uses it.
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--world", "../../emulator/testdata/world-two-accounts.json", "--state-dir", t.TempDir())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URL line: %v (stderr: %s)", err, stderr.String())
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q is not a loopback URL", line)
	}
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIACIUSER222222EXMP", "ci-secret-222222222222-example-key000000", "")})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Arn != "arn:aws:iam::222222222222:user/ci" {
		t.Errorf("caller %s", *out.Arn)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v (stderr: %s)", err, stderr.String())
	}
	log := stderr.String()
	if !strings.Contains(log, "sts GetCallerIdentity status=200 caller=arn:aws:iam::222222222222:user/ci") {
		t.Errorf("stderr has no call log line:\n%s", log)
	}
	if strings.Contains(log, "ci-secret-222222222222") {
		t.Error("stderr leaks the secret access key")
	}
}

func TestRunArguments(t *testing.T) {
	t.Parallel()
	worldPath := writeWorld(t)
	badWorld := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(badWorld, []byte(`{"accounts":{"1":{}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"help", []string{"--help"}, 0, "Usage: xsigner-emulator", ""},
		{"no world", []string{}, 2, "", "--world is required"},
		{"remote listen refused", []string{"--world", worldPath, "--listen", "0.0.0.0:0"}, 2, "", "not a loopback address"},
		{"bad listen", []string{"--world", worldPath, "--listen", "nonsense"}, 2, "", "want host:port"},
		{"unknown flag", []string{"--wrld", worldPath}, 2, "", "unknown flag"},
		{"missing world file", []string{"--world", filepath.Join(t.TempDir(), "nope.json")}, 1, "", "reading world file"},
		{"invalid world", []string{"--world", badWorld}, 1, "", "account id must be 12 digits"},
		{"registry upstream with a path", []string{"--world", worldPath, "--registry-upstream", "http://127.0.0.1:5000/v2/"}, 1, "", "must be an http(s) URL of a registry without path"},
		{"registry upstream not http", []string{"--world", worldPath, "--registry-upstream", "ftp://127.0.0.1:5000"}, 1, "", "must be an http(s) URL"},
		{"extra argument", []string{"--world", worldPath, "serve"}, 2, "", "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s", tc.args, code, stdout.String(), stderr.String())
			}
		})
	}
	t.Run("serves until the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"--world", worldPath}, &stdout, &stderr) }()
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit code %d, stderr: %s", code, stderr.String())
		}
	})
}
