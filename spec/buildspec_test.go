//go:build e2e

package spec

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xsigner/xsigner/internal/e2e/harness"
	"github.com/xsigner/xsigner/internal/emulator"
)

// The buildspecs run as CodeBuild would run them: the phase commands
// (install, pre_build, build) of spec/buildspec/*.yml in one bash, with the
// buildspec's env.variables overridden by the build's own variables, the
// real aws CLI, notation of .tools/bin and the plugin of bin/, against
// xsigner-emulator (STS, Signer, ECR and its registry endpoint in front of a
// real registry). Downloads are file:// URLs of local archives with their
// real SHA-256.
//
// Variables the test sets (what a CodeBuild project sets, plus the endpoint
// overrides): ACCOUNT_A_ID, REPO_NAME, IMAGE_TAG, SIGNING_PROFILE_NAME,
// SIGNING_ROLE_ARN, XSIGNER_EXTERNAL_ID, AWS_REGION, AWS_DEFAULT_REGION, the
// role's AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, REGISTRY,
// NOTATION_FLAGS=--insecure-registry, NOTATION_URL/SHA256,
// XSIGNER_URL/SHA256, SIGNER_ROOT_CERT_URL/SHA256, TRUST_POLICY,
// AWS_ENDPOINT_URL_{ECR,STS,SIGNER} (aws CLI) and
// XSIGNER_{STS,SIGNER}_ENDPOINT_URL (plugin).

// buildspec is the part of a CodeBuild buildspec the runner uses.
type buildspec struct {
	Version string `yaml:"version"`
	Env     struct {
		Shell            string            `yaml:"shell"`
		Variables        map[string]string `yaml:"variables"`
		ExportedVariable []string          `yaml:"exported-variables"`
	} `yaml:"env"`
	Phases map[string]struct {
		Commands []string `yaml:"commands"`
	} `yaml:"phases"`
}

func loadBuildspec(t *testing.T, name string) buildspec {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("buildspec", name))
	if err != nil {
		t.Fatal(err)
	}
	var b buildspec
	if err := yaml.Unmarshal(data, &b); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if b.Version != "0.2" || b.Env.Shell != "bash" {
		t.Fatalf("%s: version %q shell %q, want 0.2 and bash", name, b.Version, b.Env.Shell)
	}
	return b
}

// script is the build as one bash script: the phases in CodeBuild's order,
// then the exported variables printed as NAME=value lines.
func (b buildspec) script() string {
	var s strings.Builder
	for _, phase := range []string{"install", "pre_build", "build"} {
		fmt.Fprintf(&s, "echo '[phase %s]'\n", phase)
		for _, c := range b.Phases[phase].Commands {
			s.WriteString(c + "\n")
		}
	}
	for _, v := range b.Env.ExportedVariable {
		fmt.Fprintf(&s, "echo \"exported %s=${%s}\"\n", v, v)
	}
	return s.String()
}

// awsCLI finds the real aws CLI (not a pyenv shim, which needs pyenv's
// environment), or skips.
func awsCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("skipped: the aws CLI is not installed (pip install awscli, or AWS CLI v2)")
	}
	if strings.Contains(p, "/.pyenv/shims/") {
		home, _ := os.UserHomeDir()
		if m, _ := filepath.Glob(filepath.Join(home, ".pyenv", "versions", "*", "bin", "aws")); len(m) > 0 {
			return m[len(m)-1]
		}
	}
	return p
}

// tarGz writes a .tar.gz holding file as name and returns its file:// URL and SHA-256.
func tarGz(t *testing.T, file, name string) (string, string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name+".tar.gz")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return "file://" + out, fileSHA256(t, out)
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// pipeline is one test's emulator, registry, pushed image and tools.
type pipeline struct {
	t     *testing.T
	f     *flowEnv
	tools harness.ToolPaths
	aws   string
	vars  map[string]string // common build variables
}

func newPipeline(t *testing.T, docs specDocs) *pipeline {
	t.Helper()
	awsPath := awsCLI(t)
	tools := harness.Tools(t)
	reg := harness.StartRegistry(t)
	f := startFlowEnv(t, "http://"+reg.Host, docs)
	notationURL, notationSum := tarGz(t, tools.Notation, "notation")
	xsignerURL, xsignerSum := tarGz(t, tools.Plugin, "notation-xsigner")
	root := filepath.Join(t.TempDir(), "root.crt")
	if err := os.WriteFile(root, f.emu.RootPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	policy, err := filepath.Abs("trustpolicy.json")
	if err != nil {
		t.Fatal(err)
	}
	return &pipeline{t: t, f: f, tools: tools, aws: awsPath, vars: map[string]string{
		"ACCOUNT_A_ID": accountA, "REPO_NAME": repoName, "SIGNING_PROFILE_NAME": profileName,
		"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "REGISTRY": f.host, "NOTATION_FLAGS": "--insecure-registry",
		"NOTATION_URL": notationURL, "NOTATION_SHA256": notationSum, "XSIGNER_URL": xsignerURL, "XSIGNER_SHA256": xsignerSum,
		"SIGNER_ROOT_CERT_URL": "file://" + root, "SIGNER_ROOT_CERT_SHA256": fileSHA256(t, root), "TRUST_POLICY": policy,
		"AWS_ENDPOINT_URL_ECR": f.url, "AWS_ENDPOINT_URL_STS": f.url, "AWS_ENDPOINT_URL_SIGNER": f.url,
		"XSIGNER_STS_ENDPOINT_URL": f.url, "XSIGNER_SIGNER_ENDPOINT_URL": f.url,
		"AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": "", "XSIGNER_CREDENTIAL_CACHE": "off",
	}}
}

// roleEnv returns the variables of a build that runs as role (CodeBuild
// gives the build the project's service role credentials).
func (p *pipeline) roleEnv(role string) map[string]string {
	p.t.Helper()
	c, err := p.f.assume(context.Background(), creds(serviceKeyID, serviceSecret, ""), role, "")
	if err != nil {
		p.t.Fatal(err)
	}
	v, err := c.Retrieve(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	return map[string]string{"AWS_ACCESS_KEY_ID": v.AccessKeyID, "AWS_SECRET_ACCESS_KEY": v.SecretAccessKey, "AWS_SESSION_TOKEN": v.SessionToken}
}

// run runs a buildspec as role with extra variables; it returns the result
// and the exported variables.
func (p *pipeline) run(file, role string, extra map[string]string) (harness.Result, map[string]string) {
	p.t.Helper()
	b := loadBuildspec(p.t, file)
	env := harness.NewEnv(p.t)
	env.Set("PATH", filepath.Join(env.Home, ".local", "bin")+":"+filepath.Dir(p.aws)+":/usr/bin:/bin")
	for _, layer := range []map[string]string{b.Env.Variables, p.vars, p.roleEnv(role), extra} {
		for k, v := range layer {
			env.Set(k, v)
		}
	}
	script := filepath.Join(p.t.TempDir(), "build.sh")
	if err := os.WriteFile(script, []byte(b.script()), 0o600); err != nil {
		p.t.Fatal(err)
	}
	moduleRoot := harness.ModuleRoot(p.t)
	r := env.Run(moduleRoot, "/bin/bash", "-e", script)
	exported := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^exported ([A-Z_]+)=(.*)$`).FindAllStringSubmatch(r.Stdout, -1) {
		exported[m[1]] = m[2]
	}
	return r, exported
}

func mustSucceed(t *testing.T, r harness.Result) {
	t.Helper()
	if r.ExitCode != 0 || r.Err != nil {
		t.Fatalf("build failed: %s", r)
	}
}

func mustFailWith(t *testing.T, r harness.Result, wants ...string) {
	t.Helper()
	if r.ExitCode == 0 {
		t.Fatalf("build succeeded, want failure: %s", r)
	}
	for _, w := range wants {
		if !strings.Contains(r.Stdout+r.Stderr, w) {
			t.Fatalf("build output lacks %q: %s", w, r)
		}
	}
}

var signingModels = map[string]map[string]string{
	"role assumption":    {"SIGNING_ROLE_ARN": signingRole, "XSIGNER_EXTERNAL_ID": externalID},
	"profile permission": {"SIGNING_ROLE_ARN": ""},
}

// TestBuildspecsSignAndVerify: sign.yml then verify.yml, for both
// cross-account models. For the profile-permission model the world starts
// without profile permissions and iam/profile-permissions.sh adds them with
// the aws CLI as account A's admin.
func TestBuildspecsSignAndVerify(t *testing.T) {
	t.Parallel()
	for name, model := range signingModels {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			docs := loadSpecDocs(t)
			if model["SIGNING_ROLE_ARN"] == "" {
				docs.profilePermissions = nil
			}
			p := newPipeline(t, docs)
			digest := p.f.pushImage(t, "v1")
			if model["SIGNING_ROLE_ARN"] == "" {
				env := harness.NewEnv(t)
				env.Set("PATH", filepath.Dir(p.aws)+":/usr/bin:/bin")
				for k, v := range placeholders {
					env.Set(k, v)
				}
				for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": adminKeyID, "AWS_SECRET_ACCESS_KEY": adminSecret,
					"AWS_ENDPOINT_URL_SIGNER": p.f.url, "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""} {
					env.Set(k, v)
				}
				mustSucceed(t, env.Run("", "/bin/bash", filepath.Join("iam", "profile-permissions.sh")))
			}
			extra := map[string]string{"IMAGE_TAG": "v1"}
			for k, v := range model {
				extra[k] = v
			}
			r, exported := p.run("sign.yml", codebuildRole, extra)
			mustSucceed(t, r)
			if exported["IMAGE_DIGEST"] != digest {
				t.Fatalf("exported IMAGE_DIGEST %q, want %s", exported["IMAGE_DIGEST"], digest)
			}
			r, _ = p.run("verify.yml", deployRole, map[string]string{"IMAGE_DIGEST": digest})
			mustSucceed(t, r)
			if !strings.Contains(r.Stdout, "Successfully verified signature") {
				t.Fatalf("verify output: %s", r)
			}
		})
	}
}

// TestBuildspecRefusals are the negative runs: the guide's repository
// policy, the CodeBuild role without sts:AssumeRole, and an unsigned image
// at the verify gate.
func TestBuildspecRefusals(t *testing.T) {
	t.Parallel()
	roleModel := signingModels["role assumption"]
	withTag := func(m map[string]string) map[string]string {
		out := map[string]string{"IMAGE_TAG": "v1"}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	t.Run("guide repository policy", func(t *testing.T) {
		t.Parallel()
		docs := loadSpecDocs(t)
		docs.repoPolicy = guideRepositoryPolicy()
		p := newPipeline(t, docs)
		p.f.pushImage(t, "v1")
		r, _ := p.run("sign.yml", codebuildRole, withTag(roleModel))
		mustFailWith(t, r, "403")
		wantDenied(t, p.f.emu, "ecr:BatchGetImage")
	})
	t.Run("guide repository policy with pull", func(t *testing.T) {
		t.Parallel()
		// Even with the manifest readable, the guide grants no push: the
		// signature upload is refused, naming the action.
		docs := loadSpecDocs(t)
		pol := guideRepositoryPolicy()
		stmt := pol["Statement"].([]any)[0].(map[string]any)
		stmt["Action"] = append(stmt["Action"].([]string), "ecr:BatchGetImage")
		docs.repoPolicy = pol
		p := newPipeline(t, docs)
		p.f.pushImage(t, "v1")
		r, _ := p.run("sign.yml", codebuildRole, withTag(roleModel))
		mustFailWith(t, r, "403", "is not authorized to perform: ecr:InitiateLayerUpload on resource: arn:aws:ecr:us-west-2:111111111111:repository/team/app")
	})
	t.Run("no sts:AssumeRole", func(t *testing.T) {
		t.Parallel()
		docs := loadSpecDocs(t)
		doc := loadIAM(t, fileCodebuildPolicy)
		for i, s := range doc.statements() {
			if s.(map[string]any)["Sid"] == "AssumeTheSigningRoleOfAccountA" {
				docs.codebuildPolicy = doc.without(i)
			}
		}
		p := newPipeline(t, docs)
		p.f.pushImage(t, "v1")
		r, _ := p.run("sign.yml", codebuildRole, withTag(roleModel))
		mustFailWith(t, r, "sts:AssumeRole", signingRole)
	})
	t.Run("unsigned image at the verify gate", func(t *testing.T) {
		t.Parallel()
		p := newPipeline(t, loadSpecDocs(t))
		digest := p.f.pushImage(t, "unsigned")
		r, _ := p.run("verify.yml", deployRole, map[string]string{"IMAGE_DIGEST": digest})
		mustFailWith(t, r, "no signature is associated")
	})
}

// wantDenied asserts the emulator journal has a registry call denied for action.
func wantDenied(t *testing.T, emu *emulator.Emulator, action string) {
	t.Helper()
	for _, c := range emu.Calls() {
		if c.Service == "registry" && c.Status == 403 && strings.Contains(c.Operation, action) {
			return
		}
	}
	t.Fatalf("no registry call denied for %s in the journal", action)
}
