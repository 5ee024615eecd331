//go:build e2e

package spec

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
// (install, pre_build, build) of spec/buildspec/*.yml in CodeBuild's order,
// each command in a fresh bash that starts with the shell variables (scalars
// only) and working directory the previous command left, with the
// buildspec's env.variables overridden by the build's own variables, the
// real aws CLI, notation of .tools/bin and the plugin of bin/, against
// xsigner-emulator (STS, Signer, ECR and its registry endpoint in front of a
// real registry). Downloads are file:// URLs of local archives with their
// real SHA-256.
//
// Each command's exit status is checked and the first failure ends the
// build, as CodeBuild's default on-failure ABORT does. What CodeBuild does
// not carry from one command to the next is not carried here either: bash
// arrays, functions and shell options (set -o pipefail, set -e). A
// buildspec that relies on them passes in one bash but not in CodeBuild.
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

// commandPrologue starts every command: restore what the previous one left.
const commandPrologue = `__xs_state=%q
if [ -f "$__xs_state" ]; then . "$__xs_state"; fi
`

// commandEpilogue ends every command: keep its exit status, save the shell
// variables CodeBuild keeps (scalars; not arrays, not read-only or bash's own)
// and the working directory for the next command.
const commandEpilogue = `
__xs_rc=$?
{
	for __xs_n in $(compgen -v); do
		case "$__xs_n" in
		__xs_* | BASH* | SHELLOPTS | EUID | UID | PPID | GROUPS | FUNCNAME | PIPESTATUS | _ | SHLVL | RANDOM | SRANDOM | SECONDS | LINENO | HISTCMD | OPTIND | OPTARG | OPTERR | PWD | OLDPWD | IFS | PS4 | DIRSTACK | EPOCHSECONDS | EPOCHREALTIME | COMP_WORDBREAKS | HOSTNAME | HOSTTYPE | MACHTYPE | OSTYPE) continue ;;
		esac
		__xs_d=$(declare -p "$__xs_n" 2>/dev/null) || continue
		__xs_f=${__xs_d#declare -}
		__xs_f=${__xs_f%% *}
		case "$__xs_f" in *a* | *A* | *r*) continue ;; esac
		printf '%s\n' "$__xs_d"
	done
	printf 'cd %q\n' "$PWD"
} >"$__xs_state"
exit "$__xs_rc"
`

// script writes the build into dir as CodeBuild runs it and returns the
// path of the driver script. Every command becomes its own file, run by the
// driver with a fresh bash; the driver stops at the first command that
// exits non-zero, printing CodeBuild's message, and at the end prints the
// exported variables as "exported NAME=value" lines.
func (b buildspec) script(t *testing.T, dir string) string {
	t.Helper()
	state := filepath.Join(dir, "state.sh")
	var driver strings.Builder
	driver.WriteString("#!/bin/bash\n")
	n := 0
	for _, phase := range []string{"install", "pre_build", "build"} {
		fmt.Fprintf(&driver, "echo '[phase %s]'\n", phase)
		for _, c := range b.Phases[phase].Commands {
			n++
			file := filepath.Join(dir, fmt.Sprintf("command-%02d.sh", n))
			body := fmt.Sprintf(commandPrologue, state) + c + "\n" + commandEpilogue
			if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&driver, "/bin/bash %q\n__rc=$?\n", file)
			fmt.Fprintf(&driver, "if [ $__rc -ne 0 ]; then echo %q\"$__rc\" >&2; echo %q >&2; exit $__rc; fi\n",
				"[Container] Command did not exit successfully "+c+" exit status ", "Phase complete: "+strings.ToUpper(phase)+" State: FAILED")
		}
	}
	var exports strings.Builder
	fmt.Fprintf(&exports, ". %q\n", state)
	for _, v := range b.Env.ExportedVariable {
		fmt.Fprintf(&exports, "echo \"exported %s=${%s}\"\n", v, v)
	}
	exportsFile := filepath.Join(dir, "exported.sh")
	if err := os.WriteFile(exportsFile, []byte(exports.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&driver, "/bin/bash %q\n", exportsFile)
	path := filepath.Join(dir, "build.sh")
	if err := os.WriteFile(path, []byte(driver.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
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
	script := b.script(p.t, p.t.TempDir())
	moduleRoot := harness.ModuleRoot(p.t)
	r := env.Run(moduleRoot, "/bin/bash", script)
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
					if k != "AWS_PARTITION" { // left to the script, which derives it from AWS_REGION
						env.Set(k, v)
					}
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
			before := len(p.f.emu.Calls())
			r, exported := p.run("sign.yml", codebuildRole, extra)
			mustSucceed(t, r)
			if exported["IMAGE_DIGEST"] != digest {
				t.Fatalf("exported IMAGE_DIGEST %q, want %s", exported["IMAGE_DIGEST"], digest)
			}
			// The model really used: SignPayload called as account A's
			// signing role, or as the CodeBuild role itself.
			wantCaller := "arn:aws:sts::" + accountB + ":assumed-role/codebuild-sign/"
			if model["SIGNING_ROLE_ARN"] != "" {
				wantCaller = "arn:aws:sts::" + accountA + ":assumed-role/xsigner-signer/"
			}
			var signers []string
			for _, c := range p.f.emu.Calls()[before:] {
				if c.Service == "signer" && c.Operation == "SignPayload" {
					signers = append(signers, c.Caller)
				}
			}
			if len(signers) != 1 || !strings.HasPrefix(signers[0], wantCaller) {
				t.Fatalf("SignPayload called by %q, want once by %s...", signers, wantCaller)
			}
			r, _ = p.run("verify.yml", awsLayout.deployRole(), map[string]string{"IMAGE_DIGEST": digest})
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
		r, _ := p.run("verify.yml", awsLayout.deployRole(), map[string]string{"IMAGE_DIGEST": digest})
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

// TestBuildspecRunnerIsCodeBuildLike pins the runner's semantics on a small
// buildspec: scalar variables, exports and the directory carry over; arrays
// and shell options do not; only a command's own exit status counts; the
// first failing command ends the build with its status.
func TestBuildspecRunnerIsCodeBuildLike(t *testing.T) {
	var b buildspec
	b.Env.ExportedVariable = []string{"KEPT"}
	b.Phases = map[string]struct {
		Commands []string `yaml:"commands"`
	}{
		"install": {Commands: []string{
			`KEPT=scalar; export EXP=exported; ARR=(a b); set -o pipefail; set -e; cd /`,
			`[ "$KEPT" = scalar ] && [ "$EXP" = exported ] && [ "$PWD" = / ]`,
			`[ -z "${ARR[*]:-}" ]`,
			`false | true`,
			`false; true`,
		}},
		"build": {Commands: []string{`echo reached build; exit 3`, `echo not reached`}},
	}
	cmd := exec.Command("/bin/bash", b.script(t, t.TempDir()))
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("build ended with %v, want exit status 3:\n%s", err, out)
	}
	for _, want := range []string{"reached build", "Command did not exit successfully echo reached build; exit 3 exit status 3", "Phase complete: BUILD State: FAILED"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "not reached") || strings.Contains(string(out), "INSTALL State: FAILED") {
		t.Errorf("runner did not behave like CodeBuild:\n%s", out)
	}
}

// TestBuildspecPartitions runs the pre_build commands that derive the
// partition and registry, and the profile ARN and trust policy lines that use
// them, of both buildspecs for a region of each partition: the ARNs and the
// ECR host must be those of that partition (no arn:aws: in aws-cn or
// aws-us-gov, amazonaws.com.cn in China).
func TestBuildspecPartitions(t *testing.T) {
	tests := []struct{ region, partition, registry string }{
		{"us-west-2", "aws", "111111111111.dkr.ecr.us-west-2.amazonaws.com"},
		{"cn-north-1", "aws-cn", "111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn"},
		{"us-gov-west-1", "aws-us-gov", "111111111111.dkr.ecr.us-gov-west-1.amazonaws.com"},
	}
	for _, file := range []string{"sign.yml", "verify.yml"} {
		b := loadBuildspec(t, file)
		var picked []string
		for _, c := range b.Phases["pre_build"].Commands {
			if strings.Contains(c, "AWS_PARTITION=") || strings.HasPrefix(c, "REGISTRY=") {
				picked = append(picked, c)
			}
		}
		if len(picked) != 2 {
			t.Fatalf("%s: found %d partition/registry commands in pre_build, want 2: %q", file, len(picked), picked)
		}
		for _, c := range b.Phases["build"].Commands {
			if strings.HasPrefix(c, "PROFILE_ARN=") {
				picked = append(picked, c)
			}
		}
		// verify.yml's own trust-policy rendering, whichever buildspec picked
		// the variables: the policy must trust the ARN sign.yml signs with.
		var render string
		for _, c := range loadBuildspec(t, "verify.yml").Phases["pre_build"].Commands {
			if strings.Contains(c, `s|\${AWS_PARTITION}|`) {
				render = c
			}
		}
		if render == "" {
			t.Fatal("verify.yml's pre_build has no sed command that fills ${AWS_PARTITION} into the trust policy")
		}
		policy, err := filepath.Abs("trustpolicy.json")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range tests {
			t.Run(file+"/"+tc.region, func(t *testing.T) {
				var sb strings.Builder
				for _, c := range picked {
					sb.WriteString(c + "\n")
				}
				sb.WriteString(render + "\n")
				sb.WriteString(`cat "$TOOLS_DIR/trustpolicy.json"` + "\n")
				sb.WriteString(`echo "registry=$REGISTRY"; echo "profile=${PROFILE_ARN:-}"` + "\n")
				cmd := exec.Command("/bin/bash", "-c", sb.String())
				cmd.Env = []string{"PATH=/usr/bin:/bin", "AWS_REGION=" + tc.region, "ACCOUNT_A_ID=111111111111",
					"REPO_NAME=team/app", "SIGNING_PROFILE_NAME=release_signer", "TRUST_POLICY=" + policy, "TOOLS_DIR=" + t.TempDir()}
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				got := string(out)
				wantARN := "arn:" + tc.partition + ":signer:" + tc.region + ":111111111111:/signing-profiles/release_signer"
				if !strings.Contains(got, "registry="+tc.registry+"\n") {
					t.Errorf("registry is not %s:\n%s", tc.registry, got)
				}
				if !strings.Contains(got, `"`+wantARN+`"`) {
					t.Errorf("trust policy does not trust %s:\n%s", wantARN, got)
				}
				if file == "sign.yml" && !strings.Contains(got, "profile="+wantARN+"\n") {
					t.Errorf("sign.yml signs with another profile ARN than %s:\n%s", wantARN, got)
				}
				if strings.Contains(got, "${") {
					t.Errorf("a placeholder is left:\n%s", got)
				}
			})
		}
	}
}
