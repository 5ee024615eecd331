package spec

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// The spec/iam documents name the partition only through ${AWS_PARTITION},
// so one set of files serves aws, aws-cn and aws-us-gov. These tests check
// that every ARN uses it, and prove the documents in accounts of
// aws-us-gov and aws-cn as TestSpecDocumentsWork proves them in aws.

var arnPrefix = regexp.MustCompile(`\barn:[^:"\s]*:`)

// TestSpecDocumentsArePartitionAgnostic: every ARN of the spec/iam
// documents and of profile-permissions.sh starts arn:${AWS_PARTITION}:.
func TestSpecDocumentsArePartitionAgnostic(t *testing.T) {
	t.Parallel()
	for _, file := range append(slices.Clone(iamFiles), fileProfilePermissions) {
		data, err := os.ReadFile(filepath.Join("iam", file))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range arnPrefix.FindAllString(line, -1) {
				n++
				if m != "arn:${AWS_PARTITION}:" {
					t.Errorf("%s:%d: ARN starts %s, want arn:${AWS_PARTITION}: (%s)", file, i+1, m, strings.TrimSpace(line))
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no ARN found; the check reads nothing", file)
		}
	}
}

// TestSpecDocumentsWorkInOtherPartitions is TestSpecDocumentsWork with
// both accounts in aws-us-gov (region us-gov-west-1) and in aws-cn
// (cn-north-1): the documents filled with that AWS_PARTITION and
// AWS_REGION let both signing models and the deploy gate work there.
func TestSpecDocumentsWorkInOtherPartitions(t *testing.T) {
	t.Parallel()
	upstream := emulatortest.StartRegistryUpstream(t)
	for _, l := range []layout{govLayout, cnLayout} {
		t.Run(l.partition, func(t *testing.T) {
			t.Parallel()
			f := startFlowEnv(t, upstream, loadSpecDocsIn(t, l))
			errs := f.flows(t, "full")
			for name, err := range errs {
				t.Errorf("%s: %v", name, err)
			}
			// The flows ran in l's partition: the emulator's journal names
			// callers with l's ARNs.
			var callers int
			for _, c := range f.emu.Calls() {
				if c.Service == "signer" && c.Operation == "SignPayload" {
					callers++
					if !strings.HasPrefix(c.Caller, "arn:"+l.partition+":sts::") {
						t.Errorf("SignPayload called by %s, not a session of %s", c.Caller, l.partition)
					}
				}
			}
			if len(errs) == 0 && callers != 2 {
				t.Errorf("SignPayload called %d times, want 2 (one per signing model)", callers)
			}
		})
	}
}

// TestSpecDocumentsNeedTheirPartition: in an aws-us-gov world, the
// documents filled with AWS_PARTITION=aws (what the files said before the
// placeholder: arn:aws:) match none of the accounts' ARNs, and both
// signing models are denied. So the partition placeholder is what makes the
// test above pass.
func TestSpecDocumentsNeedTheirPartition(t *testing.T) {
	t.Parallel()
	values := govLayout.values()
	values["AWS_PARTITION"] = "aws"
	f := startFlowEnv(t, emulatortest.StartRegistryUpstream(t), loadSpecDocsWith(t, govLayout, values))
	errs := f.flows(t, "wrong")
	for _, model := range []signingModel{roleAssumption, profilePermissionModel} {
		err := errs["sign by "+model.String()]
		if err == nil || !isDenied(err) {
			t.Errorf("sign by %s with arn:aws: documents in aws-us-gov: %v, want a denial", model, err)
			continue
		}
		t.Logf("sign by %s denied: %v", model, err)
	}
}

// TestProfilePermissionsScriptPartition runs the part of
// profile-permissions.sh before its aws command with bash for a region of
// each partition: without AWS_PARTITION the partition follows from
// AWS_REGION as in the buildspecs; a set AWS_PARTITION is kept.
func TestProfilePermissionsScriptPartition(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("iam", fileProfilePermissions))
	if err != nil {
		t.Fatal(err)
	}
	prelude, _, ok := strings.Cut(string(data), "\naws signer add-profile-permission")
	if !ok {
		t.Fatalf("%s has no aws signer add-profile-permission command", fileProfilePermissions)
	}
	for _, tc := range []struct{ region, preset, want string }{
		{"us-west-2", "", "aws"},
		{"cn-north-1", "", "aws-cn"},
		{"us-gov-west-1", "", "aws-us-gov"},
		{"us-gov-east-1", "aws-us-gov", "aws-us-gov"},
		{"us-west-2", "aws-cn", "aws-cn"}, // set explicitly: not second-guessed
	} {
		cmd := exec.CommandContext(t.Context(), "/bin/bash", "-c", prelude+"\nprintf '%s' \"$AWS_PARTITION\"\n")
		cmd.Env = []string{"PATH=/usr/bin:/bin", "AWS_REGION=" + tc.region, "ACCOUNT_B_ID=" + accountB,
			"CODEBUILD_ROLE_NAME=codebuild-sign", "SIGNING_PROFILE_NAME=" + profileName}
		if tc.preset != "" {
			cmd.Env = append(cmd.Env, "AWS_PARTITION="+tc.preset)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("region %s: %v\n%s", tc.region, err, out)
		}
		if string(out) != tc.want {
			t.Errorf("region %s, AWS_PARTITION %q: partition %q, want %s", tc.region, tc.preset, out, tc.want)
		}
	}
}
