package spec

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The documents of spec/ use ${PLACEHOLDER}s; tests fill them with these
// values, the two-account layout of the emulator's example world, in the
// aws partition (awsLayout).
var placeholders = map[string]string{
	"AWS_PARTITION":        "aws",
	"ACCOUNT_A_ID":         "111111111111",
	"ACCOUNT_B_ID":         "222222222222",
	"AWS_REGION":           region,
	"REPO_NAME":            "team/app",
	"SIGNING_PROFILE_NAME": "release_signer",
	"SIGNING_ROLE_NAME":    "xsigner-signer",
	"CODEBUILD_ROLE_NAME":  "codebuild-sign",
	"DEPLOY_ROLE_NAME":     "deploy-verify",
	"EXTERNAL_ID":          "xsigner-release-7f3a",
}

// layout is where the documents are deployed: a partition and a region of
// it (AWS_PARTITION and AWS_REGION); the other placeholders keep their
// values.
type layout struct{ partition, region string }

var (
	awsLayout = layout{"aws", region}
	govLayout = layout{"aws-us-gov", "us-gov-west-1"}
	cnLayout  = layout{"aws-cn", "cn-north-1"}
)

// values are the placeholder values of the layout.
func (l layout) values() map[string]string {
	v := maps.Clone(placeholders)
	v["AWS_PARTITION"], v["AWS_REGION"] = l.partition, l.region
	return v
}

func (l layout) iamARN(account, resource string) string {
	return "arn:" + l.partition + ":iam::" + account + ":" + resource
}

// profileARN is the ARN of account A's signing profile (no version).
func (l layout) profileARN() string {
	return "arn:" + l.partition + ":signer:" + l.region + ":" + accountA + ":/signing-profiles/" + profileName
}

func (l layout) signingRole() string {
	return l.iamARN(accountA, "role/"+placeholders["SIGNING_ROLE_NAME"])
}

func (l layout) codebuildRole() string {
	return l.iamARN(accountB, "role/"+placeholders["CODEBUILD_ROLE_NAME"])
}

func (l layout) deployRole() string {
	return l.iamARN(accountB, "role/"+placeholders["DEPLOY_ROLE_NAME"])
}

func (l layout) serviceUser() string { return l.iamARN(accountB, "user/codebuild-service") }

// Names derived from the placeholders, in the aws partition.
const (
	accountA    = "111111111111"
	accountB    = "222222222222"
	region      = "us-west-2"
	repoName    = "team/app"
	profileName = "release_signer"
	externalID  = "xsigner-release-7f3a"

	// Account A's administrator (pushes the image, manages Signer) and the
	// user that stands in for the CodeBuild service in account B (it may
	// assume the CodeBuild and deploy roles, as codebuild.amazonaws.com does).
	adminKeyID        = "AKIAADMIN1111111SPEC"
	adminSecret       = "spec-admin-secret-111111111111-000000000"
	serviceKeyID      = "AKIACODEBUILD222SPEC"
	serviceSecret     = "spec-codebuild-service-secret-222222222"
	placeholderMarker = "${"
)

var (
	signingRole   = awsLayout.signingRole()
	codebuildRole = awsLayout.codebuildRole()
)

var placeholderPattern = regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`)

// fill substitutes the placeholders with values and fails on any it does
// not know.
func fill(t testing.TB, values map[string]string, name, text string) string {
	t.Helper()
	out := placeholderPattern.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := values[m[2:len(m)-1]]; ok {
			return v
		}
		return m
	})
	if strings.Contains(out, placeholderMarker) {
		t.Fatalf("%s: unknown placeholder left: %s", name, placeholderPattern.FindString(out))
	}
	return out
}

// iamDoc is one IAM document of spec/iam, decoded after substitution.
type iamDoc struct {
	file string
	doc  map[string]any
}

func (d iamDoc) statements() []any { return d.doc["Statement"].([]any) }

// without returns a copy of the document without statement i. A document
// left with no statement is returned as nil (no policy at all).
func (d iamDoc) without(i int) map[string]any {
	stmts := slices.Delete(slices.Clone(d.statements()), i, i+1)
	if len(stmts) == 0 {
		return nil
	}
	out := map[string]any{}
	for k, v := range d.doc {
		out[k] = v
	}
	out["Statement"] = stmts
	return out
}

// loadIAM loads a spec/iam document filled for awsLayout.
func loadIAM(t testing.TB, file string) iamDoc {
	t.Helper()
	return loadIAMWith(t, placeholders, file)
}

// loadIAMWith loads a spec/iam document filled with values.
func loadIAMWith(t testing.TB, values map[string]string, file string) iamDoc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("iam", file))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(fill(t, values, file, string(data))), &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return iamDoc{file: file, doc: doc}
}

// profilePermission is one `aws signer add-profile-permission` of
// iam/profile-permissions.sh.
type profilePermission struct {
	StatementID string `json:"statementId"`
	Action      string `json:"action"`
	Principal   string `json:"principal"`
}

// loadProfilePermissions parses the add-profile-permission commands of
// iam/profile-permissions.sh (backslash continuations joined, shell
// ${VAR} placeholders filled for awsLayout, quotes dropped).
func loadProfilePermissions(t testing.TB) []profilePermission {
	t.Helper()
	return loadProfilePermissionsWith(t, placeholders)
}

// loadProfilePermissionsWith is loadProfilePermissions with the
// placeholders filled with values.
func loadProfilePermissionsWith(t testing.TB, values map[string]string) []profilePermission {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("iam", "profile-permissions.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(string(data), "\\\n", " "), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "aws signer add-profile-permission") {
			lines = append(lines, l)
		}
	}
	var perms []profilePermission
	for _, l := range lines {
		fields := strings.Fields(strings.ReplaceAll(fill(t, values, "profile-permissions.sh", l), `"`, ""))
		var p profilePermission
		for i := 0; i+1 < len(fields); i++ {
			switch fields[i] {
			case "--action":
				p.Action = fields[i+1]
			case "--principal":
				p.Principal = fields[i+1]
			case "--statement-id":
				p.StatementID = fields[i+1]
			}
		}
		if p.Action == "" || p.Principal == "" || p.StatementID == "" {
			t.Fatalf("profile-permissions.sh: cannot parse %q", l)
		}
		perms = append(perms, p)
	}
	if len(perms) == 0 {
		t.Fatal("profile-permissions.sh has no aws signer add-profile-permission command")
	}
	return perms
}

// specDocs are the IAM documents the world is made of, and the layout
// (partition and region) of that world.
type specDocs struct {
	layout                                                                                         layout
	signingTrust, signingPolicy, repoPolicy, codebuildPolicy, codebuildProfilePolicy, deployPolicy map[string]any
	profilePermissions                                                                             []profilePermission
}

// Files of spec/iam.
const (
	fileSigningTrust       = "account-a-signing-role-trust-policy.json"
	fileSigningPolicy      = "account-a-signing-role-policy.json"
	fileRepoPolicy         = "account-a-ecr-repository-policy.json"
	fileCodebuildPolicy    = "account-b-codebuild-role-policy.json"
	fileCodebuildProfile   = "account-b-codebuild-profile-permission-policy.json"
	fileDeployPolicy       = "account-b-deploy-role-policy.json"
	fileProfilePermissions = "profile-permissions.sh"
)

var iamFiles = []string{fileSigningTrust, fileSigningPolicy, fileRepoPolicy, fileCodebuildPolicy, fileCodebuildProfile, fileDeployPolicy}

// loadSpecDocs loads the documents for a world in awsLayout.
func loadSpecDocs(t testing.TB) specDocs {
	t.Helper()
	return loadSpecDocsIn(t, awsLayout)
}

// loadSpecDocsIn loads the documents filled for l, for a world in l.
func loadSpecDocsIn(t testing.TB, l layout) specDocs {
	t.Helper()
	return loadSpecDocsWith(t, l, l.values())
}

// loadSpecDocsWith loads the documents filled with values, for a world in
// l: values that do not match l make documents of another deployment.
func loadSpecDocsWith(t testing.TB, l layout, values map[string]string) specDocs {
	t.Helper()
	load := func(file string) map[string]any { return loadIAMWith(t, values, file).doc }
	return specDocs{
		layout:                 l,
		signingTrust:           load(fileSigningTrust),
		signingPolicy:          load(fileSigningPolicy),
		repoPolicy:             load(fileRepoPolicy),
		codebuildPolicy:        load(fileCodebuildPolicy),
		codebuildProfilePolicy: load(fileCodebuildProfile),
		deployPolicy:           load(fileDeployPolicy),
		profilePermissions:     loadProfilePermissionsWith(t, values),
	}
}

// set replaces the document of a spec/iam file (nil: no such policy).
func (d *specDocs) set(file string, doc map[string]any) {
	switch file {
	case fileSigningTrust:
		d.signingTrust = doc
	case fileSigningPolicy:
		d.signingPolicy = doc
	case fileRepoPolicy:
		d.repoPolicy = doc
	case fileCodebuildPolicy:
		d.codebuildPolicy = doc
	case fileCodebuildProfile:
		d.codebuildProfilePolicy = doc
	case fileDeployPolicy:
		d.deployPolicy = doc
	}
}

func policies(docs ...map[string]any) []any {
	out := []any{}
	for _, d := range docs {
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

// world builds the emulator world from the documents: account A with the
// signing role, the signing profile (with the profile permissions), the
// repository (with its policy) and an admin; account B with the CodeBuild
// and deploy roles and the user standing in for the CodeBuild service. Both
// accounts are in the partition of d.layout, the profile and the
// repository in its region.
func (d specDocs) world(t testing.TB) []byte {
	t.Helper()
	l := d.layout
	signingTrust := d.signingTrust
	if signingTrust == nil { // a role needs a trust policy: trust only account A
		signingTrust = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow",
			"Principal": map[string]any{"AWS": l.iamARN(accountA, "root")}, "Action": "sts:AssumeRole"}}}
	}
	serviceTrust := map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow",
		"Principal": map[string]any{"AWS": l.serviceUser()}, "Action": "sts:AssumeRole"}}}
	repo := map[string]any{"region": l.region}
	if d.repoPolicy != nil {
		repo["policy"] = d.repoPolicy
	}
	perms := []any{}
	for _, p := range d.profilePermissions {
		perms = append(perms, p)
	}
	w := map[string]any{"accounts": map[string]any{
		accountA: map[string]any{
			"partition": l.partition,
			"users": map[string]any{"admin": map[string]any{
				"accessKeys": []any{map[string]any{"accessKeyId": adminKeyID, "secretAccessKey": adminSecret}},
				"policies": []any{map[string]any{"Version": "2012-10-17", "Statement": []any{
					map[string]any{"Effect": "Allow", "Action": []string{"ecr:*", "signer:*"}, "Resource": "*"}}}},
			}},
			"roles": map[string]any{placeholders["SIGNING_ROLE_NAME"]: map[string]any{
				"trustPolicy": signingTrust, "policies": policies(d.signingPolicy)}},
			"signingProfiles": []any{map[string]any{"name": profileName, "region": l.region, "permissions": perms}},
			"repositories":    map[string]any{repoName: repo},
		},
		accountB: map[string]any{
			"partition": l.partition,
			"users": map[string]any{"codebuild-service": map[string]any{
				"accessKeys": []any{map[string]any{"accessKeyId": serviceKeyID, "secretAccessKey": serviceSecret}},
				"policies": []any{map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow",
					"Action": "sts:AssumeRole", "Resource": []string{l.codebuildRole(), l.deployRole()}}}}},
			}},
			"roles": map[string]any{
				placeholders["CODEBUILD_ROLE_NAME"]: map[string]any{"trustPolicy": serviceTrust,
					"policies": policies(d.codebuildPolicy, d.codebuildProfilePolicy)},
				placeholders["DEPLOY_ROLE_NAME"]: map[string]any{"trustPolicy": serviceTrust, "policies": policies(d.deployPolicy)},
			},
		},
	}}
	out, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func timeNow() time.Time { return time.Now() }
