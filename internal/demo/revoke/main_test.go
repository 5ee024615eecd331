package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// Account A's admin user of the example world (signer:*).
const (
	adminKeyID  = "AKIAADMIN1111111EXMP"
	adminSecret = "admin-secret-111111111111-example-key000"
)

// signJob has account A's admin sign a payload with release_signer and
// returns the signing job ARN.
func signJob(t *testing.T, url string) string {
	t.Helper()
	client := signer.New(signer.Options{
		Region:       "us-west-2",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(adminKeyID, adminSecret, ""),
	})
	payload := `{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"digest":"sha256:e049ece3b0fc3f75c6f70df4a9f573589d3d75e8cbae01df94f4a6c8974d95a2","size":571}}`
	out, err := client.SignPayload(context.Background(), &signer.SignPayloadInput{
		ProfileName:   aws.String("release_signer"),
		Payload:       []byte(payload),
		PayloadFormat: aws.String("application/vnd.cncf.notary.payload.v1+json"),
	})
	if err != nil {
		t.Fatalf("SignPayload: %v", err)
	}
	return out.Metadata[emulator.MetadataSigningJob]
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

func TestRevoke(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, string(emulator.ExampleWorldTwoAccounts()))
	jobARN := signJob(t, srv.URL)
	admin := map[string]string{"AWS_ACCESS_KEY_ID": adminKeyID, "AWS_SECRET_ACCESS_KEY": adminSecret}
	ci := map[string]string{"AWS_ACCESS_KEY_ID": "AKIACIUSER222222EXMP", "AWS_SECRET_ACCESS_KEY": "ci-secret-222222222222-example-key000000"}
	missingJob := strings.TrimSuffix(jobARN, jobARN[len(jobARN)-12:]) + "000000000000"

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"revokes the job", []string{"--endpoint-url", srv.URL, "--job-arn", jobARN, "--reason", "test"}, admin, 0, "revoked signing job " + jobARN, ""},
		{"revoking again is fine", []string{"--endpoint-url", srv.URL, "--job-arn", jobARN}, admin, 0, "revoked signing job", ""},
		{"caller without permission", []string{"--endpoint-url", srv.URL, "--job-arn", jobARN}, ci, 1, "", "AccessDeniedException"},
		{"unknown job", []string{"--endpoint-url", srv.URL, "--job-arn", missingJob}, admin, 1, "", "ResourceNotFoundException"},
		{"not a job ARN", []string{"--job-arn", "arn:aws:signer:us-west-2:111111111111:/signing-profiles/release_signer"}, admin, 2, "", "not a signing-job ARN"},
		{"no credentials", []string{"--job-arn", jobARN}, nil, 2, "", "set AWS_ACCESS_KEY_ID"},
		{"extra arguments", []string{"--job-arn", jobARN, "extra"}, admin, 2, "", "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, env(tc.env), &stdout, &stderr)
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("run(%q) = %d\nstdout: %s\nstderr: %s\nwant %d, stdout with %q, stderr with %q",
					tc.args, code, &stdout, &stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
			if strings.Contains(stdout.String()+stderr.String(), adminSecret) {
				t.Error("output shows the secret access key")
			}
		})
	}

	var revoked int
	for _, c := range srv.Calls() {
		if c.Operation == "RevokeSignature" && c.Status == 200 {
			revoked++
		}
	}
	if revoked != 2 {
		t.Errorf("emulator saw %d successful RevokeSignature calls, want 2", revoked)
	}
}
