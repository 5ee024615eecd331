package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/emulator"
)

func TestSummarizeExampleWorld(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(file, emulator.ExampleWorldTwoAccounts(), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{file}, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d, stderr: %s", code, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"account 111111111111\n",
		"  role xsigner-signer (arn:aws:iam::111111111111:role/xsigner-signer)\n" +
			"    trusts arn:aws:iam::222222222222:role/codebuild-ci to sts:AssumeRole if StringEquals sts:ExternalId=xsigner-release-7f3a\n",
		"    may signer:SignPayload, signer:GetSigningProfile on arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer\n",
		"  signing profile release_signer (arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer, Notation-OCI-SHA384-ECDSA)\n" +
			"    grants signer:SignPayload to arn:aws:iam::222222222222:role/codebuild-ci (statement ci-sign)\n",
		"account 222222222222\n",
		"  user ci (arn:aws:iam::222222222222:user/ci, access key AKIACIUSER222222EXMP)\n" +
			"    may sts:AssumeRole on arn:aws:iam::222222222222:role/codebuild-ci\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Errorf("summary shows a secret access key:\n%s", out)
	}
}

func TestUsageAndBadInput(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"accounts": {"1": {}}, "typo": true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args       []string
		wantCode   int
		wantStderr string
	}{
		"no argument":     {nil, 2, "usage: worldinfo WORLD.json"},
		"a flag":          {[]string{"--help"}, 2, "usage: worldinfo WORLD.json"},
		"missing file":    {[]string{filepath.Join(t.TempDir(), "absent.json")}, 1, "no such file"},
		"invalid world":   {[]string{bad}, 1, "bad.json"},
		"two world files": {[]string{bad, bad}, 2, "usage"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stderr.String(), tc.wantStderr) || stdout.Len() != 0 {
				t.Errorf("run(%q) = %d, stdout %q, stderr %q; want %d and stderr with %q", tc.args, code, &stdout, &stderr, tc.wantCode, tc.wantStderr)
			}
		})
	}
}
