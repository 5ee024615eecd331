package readme

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/xsigner/xsigner/internal/config"
	"github.com/xsigner/xsigner/internal/emulator"
	"github.com/xsigner/xsigner/internal/emulator/emulatortest"
)

// Markers in README.md that announce the fenced block the tests run.
const (
	worldMarker     = "<!-- world-example -->"
	clientEnvMarker = "<!-- client-env -->"
)

// moduleRoot is the repository root: two levels above this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(data), "module github.com/xsigner/xsigner\n") {
		t.Fatalf("%s is not the xsigner module root (go.mod: %v)", root, err)
	}
	return root
}

func readme(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(moduleRoot(t), "README.md"))
	if err != nil {
		t.Fatalf("reading README.md: %v", err)
	}
	return string(data)
}

// fencedBlockAfter returns the language and body of the first fenced code
// block after marker.
func fencedBlockAfter(t *testing.T, doc, marker string) (lang, body string) {
	t.Helper()
	i := strings.Index(doc, marker)
	if i < 0 {
		t.Fatalf("README.md has no %s marker before the block this test runs", marker)
	}
	rest := doc[i+len(marker):]
	open := strings.Index(rest, "```")
	if open < 0 {
		t.Fatalf("README.md: no fenced block after %s", marker)
	}
	if between := strings.TrimSpace(rest[:open]); between != "" {
		t.Fatalf("README.md: text %q between %s and its fenced block", between, marker)
	}
	rest = rest[open+3:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		t.Fatalf("README.md: unterminated fenced block after %s", marker)
	}
	lang, rest = strings.TrimSpace(rest[:nl]), rest[nl+1:]
	end := strings.Index(rest, "\n```")
	if end < 0 {
		t.Fatalf("README.md: unterminated fenced block after %s", marker)
	}
	return lang, rest[:end+1]
}

// section returns the text of the "## title" section, up to the next "## ".
func section(t *testing.T, doc, title string) string {
	t.Helper()
	head := "\n## " + title + "\n"
	i := strings.Index(doc, head)
	if i < 0 {
		t.Fatalf("README.md has no %q section", "## "+title)
	}
	s := doc[i+len(head):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// clientEnv is the documented client environment: variables to set, to
// unset, and the aws command to run.
type clientEnv struct {
	set     [][2]string
	unset   []string
	command []string
}

// parseClientEnv reads the client-env block: `export K=V ...`, `unset K ...`
// and one `aws ...` line, with $URL standing for the emulator's URL. Any
// other line fails the test, so the block stays something a test can run.
func parseClientEnv(t *testing.T, block, url string) clientEnv {
	t.Helper()
	word := func(w string) string {
		w = strings.Trim(w, `"`)
		return strings.ReplaceAll(w, "$URL", url)
	}
	var env clientEnv
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "export" && len(f) > 1:
			for _, kv := range f[1:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					t.Fatalf("client-env block: %q in %q is not NAME=VALUE", kv, line)
				}
				env.set = append(env.set, [2]string{k, word(v)})
			}
		case f[0] == "unset" && len(f) > 1:
			env.unset = append(env.unset, f[1:]...)
		case f[0] == "aws" && env.command == nil:
			for _, w := range f {
				env.command = append(env.command, word(w))
			}
		default:
			t.Fatalf("client-env block: cannot run line %q (only export, unset and one aws command)", line)
		}
	}
	if len(env.set) == 0 || env.command == nil {
		t.Fatalf("client-env block sets no variables or has no aws command:\n%s", block)
	}
	return env
}

func (e clientEnv) get(name string) string {
	for _, kv := range e.set {
		if kv[0] == name {
			return kv[1]
		}
	}
	return ""
}

// userARN returns the ARN of the world-file user owning accessKeyID.
func userARN(t *testing.T, w *emulator.World, accessKeyID string) string {
	t.Helper()
	for acct, a := range w.Accounts {
		for name, u := range a.Users {
			for _, k := range u.AccessKeys {
				if k.AccessKeyID == accessKeyID {
					return "arn:aws:iam::" + acct + ":user/" + name
				}
			}
		}
	}
	t.Fatalf("the documented AWS_ACCESS_KEY_ID %q belongs to no user of the README's example world", accessKeyID)
	return ""
}

// TestWorldExampleServesDocumentedClients starts the README's example world
// and calls it with exactly the documented client environment: a real STS
// and Signer SDK client configured by that environment alone, and the aws
// CLI when it is installed. Not parallel: the SDK reads the process
// environment, which the test sets.
func TestWorldExampleServesDocumentedClients(t *testing.T) {
	doc := readme(t)
	lang, worldJSON := fencedBlockAfter(t, doc, worldMarker)
	if lang != "json" {
		t.Errorf("the world example block is %q, want a json block", lang)
	}
	world, err := emulator.ParseWorld([]byte(worldJSON))
	if err != nil {
		t.Fatalf("the README's example world does not parse: %v", err)
	}
	srv := emulatortest.Start(t, worldJSON)
	_, block := fencedBlockAfter(t, doc, clientEnvMarker)
	env := parseClientEnv(t, block, srv.URL)
	wantARN := userARN(t, world, env.get("AWS_ACCESS_KEY_ID"))
	if !slices.Contains(env.command, srv.URL) {
		t.Errorf("the documented aws command %q does not name the emulator URL ($URL)", env.command)
	}

	t.Run("sdk", func(t *testing.T) {
		isolateAWSEnv(t, env)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			t.Fatalf("LoadDefaultConfig with the documented environment: %v", err)
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity with the documented environment: %v", err)
		}
		if got := aws.ToString(out.Arn); got != wantARN {
			t.Errorf("GetCallerIdentity Arn = %q, want %q", got, wantARN)
		}
		if !journalHas(srv.Calls(), "sts", "GetCallerIdentity", wantARN) {
			t.Errorf("the emulator journal has no GetCallerIdentity by %s: AWS_ENDPOINT_URL_STS did not reach it", wantARN)
		}

		// AWS_ENDPOINT_URL_SIGNER: any answer recorded by the emulator
		// (allowed or denied) proves the Signer client reached it.
		_, _ = signer.NewFromConfig(cfg).ListProfilePermissions(ctx, &signer.ListProfilePermissionsInput{ProfileName: aws.String("any_profile")})
		if !journalHas(srv.Calls(), "signer", "ListProfilePermissions", wantARN) {
			t.Errorf("the emulator journal has no Signer call by %s: AWS_ENDPOINT_URL_SIGNER did not reach it", wantARN)
		}
	})

	t.Run("aws-cli", func(t *testing.T) {
		runAWSCLI(t, env, env.command, wantARN)
	})

	t.Run("aws-cli-service-endpoint-env", func(t *testing.T) {
		// The same command relying on AWS_ENDPOINT_URL_STS alone, which the
		// README says the CLI honours from 1.29 / 2.13.
		var cmd []string
		for i := 0; i < len(env.command); i++ {
			if env.command[i] == "--endpoint-url" {
				i++
				continue
			}
			cmd = append(cmd, env.command[i])
		}
		if len(cmd) == len(env.command) {
			t.Fatalf("the documented aws command %q has no --endpoint-url", env.command)
		}
		requireCLIWithServiceEndpoints(t)
		runAWSCLI(t, env, cmd, wantARN)
	})
}

// isolateAWSEnv sets the documented variables, unsets the documented ones and
// every other AWS_* variable of this process, and points HOME and the shared
// config files at an empty directory, all restored after t.
func isolateAWSEnv(t *testing.T, env clientEnv) {
	t.Helper()
	unset := func(name string) {
		t.Setenv(name, "") // restores the old value after the test
		os.Unsetenv(name)
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			unset(name)
		}
	}
	for _, name := range env.unset {
		unset(name)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "no-credentials"))
	for _, kv := range env.set {
		t.Setenv(kv[0], kv[1])
	}
}

func journalHas(calls []emulator.Call, service, operation, caller string) bool {
	for _, c := range calls {
		if c.Service == service && c.Operation == operation && c.Caller == caller {
			return true
		}
	}
	return false
}

// awsCLI returns the aws CLI's path, skipping the test when it is missing.
func awsCLI(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("skipped: the aws CLI is not on PATH, so the README's documented `aws sts get-caller-identity --endpoint-url URL` run cannot be checked (the SDK subtest covers the same environment)")
	}
	return path
}

// runAWSCLI runs the aws CLI with the documented environment and nothing
// else but PATH and an empty HOME, and checks the Arn it prints.
func runAWSCLI(t *testing.T, env clientEnv, command []string, wantARN string) {
	t.Helper()
	path := awsCLI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, command[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for _, kv := range env.set {
		cmd.Env = append(cmd.Env, kv[0]+"="+kv[1])
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%q: %v\nstderr: %s", command, err, stderr.String())
	}
	var out struct{ Arn string }
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("%q printed no JSON: %v\nstdout: %s", command, err, stdout.String())
	}
	if out.Arn != wantARN {
		t.Errorf("%q: Arn = %q, want %q", command, out.Arn, wantARN)
	}
}

// requireCLIWithServiceEndpoints skips unless the aws CLI reads
// AWS_ENDPOINT_URL_<SERVICE> (aws-cli 1.29+ or 2.13+).
func requireCLIWithServiceEndpoints(t *testing.T) {
	t.Helper()
	path := awsCLI(t)
	out, err := exec.Command(path, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("aws --version: %v: %s", err, out)
	}
	m := regexp.MustCompile(`aws-cli/(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("aws --version printed no aws-cli/X.Y: %q", out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))
	if (major == 1 && minor < 29) || (major == 2 && minor < 13) {
		t.Skipf("skipped: %s predates AWS_ENDPOINT_URL_<SERVICE> (needs aws-cli 1.29 or 2.13)", m[0])
	}
}

// pflagDefiners match the pflag FlagSet methods that define a flag: the
// name is the first argument, or the second for the ...Var forms.
var (
	pflagDefine    = regexp.MustCompile(`^(Bool|String|Int|Int64|Uint|Float64|Duration|StringSlice|StringArray|Count|IP)(P)?$`)
	pflagDefineVar = regexp.MustCompile(`^(Bool|String|Int|Int64|Uint|Float64|Duration|StringSlice|StringArray|Count|IP)Var(P)?$`)
)

// emulatorFlags reads the flags the xsigner-emulator command defines from
// its source: long names and shorthands.
func emulatorFlags(t *testing.T) (long, short []string) {
	t.Helper()
	for _, file := range parseDir(t, filepath.Join(moduleRoot(t), "internal", "cmd", "xsigner-emulator")) {
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			nameArg := -1
			var withShort bool
			if m := pflagDefine.FindStringSubmatch(sel.Sel.Name); m != nil {
				nameArg, withShort = 0, m[2] == "P"
			} else if m := pflagDefineVar.FindStringSubmatch(sel.Sel.Name); m != nil {
				nameArg, withShort = 1, m[2] == "P"
			}
			if nameArg < 0 || len(call.Args) <= nameArg {
				return true
			}
			name, ok := stringLit(call.Args[nameArg])
			if !ok {
				return true
			}
			long = append(long, name)
			if withShort && len(call.Args) > nameArg+1 {
				if s, ok := stringLit(call.Args[nameArg+1]); ok && s != "" {
					short = append(short, s)
				}
			}
			return true
		})
	}
	return long, short
}

// adminEndpoints reads the admin API's endpoint names from the emulator's
// source: the routes map of serveAdmin, and every /_xsigner/<name> the
// non-test sources mention.
func adminEndpoints(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join(moduleRoot(t), "internal", "emulator")
	seen := map[string]bool{}
	routes := 0
	for path, file := range parseDirByPath(t, dir) {
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "serveAdmin" {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				if mt, ok := lit.Type.(*ast.MapType); !ok || !isIdent(mt.Key, "string") {
					return true
				}
				for _, elt := range lit.Elts {
					if kv, ok := elt.(*ast.KeyValueExpr); ok {
						if k, ok := stringLit(kv.Key); ok {
							seen[k] = true
							routes++
						}
					}
				}
				return true
			})
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range adminPathPattern.FindAllStringSubmatch(string(src), -1) {
			seen[m[1]] = true
		}
	}
	if routes == 0 {
		t.Fatalf("found no routes map in serveAdmin under %s; update this test to where the admin routes are declared", dir)
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var adminPathPattern = regexp.MustCompile(`/_xsigner/([a-z][a-z0-9.-]*[a-z0-9])`)

// TestEmulatorFlagsAndAdminEndpointsDocumented: every flag of
// xsigner-emulator and every admin endpoint the code has appears in the
// README's Emulator section, and the README names no admin endpoint that
// does not exist.
func TestEmulatorFlagsAndAdminEndpointsDocumented(t *testing.T) {
	t.Parallel()
	doc := readme(t)
	emu := section(t, doc, "Emulator")

	long, short := emulatorFlags(t)
	if len(long) == 0 {
		t.Fatal("found no flag definitions in internal/cmd/xsigner-emulator; update emulatorFlags")
	}
	for _, name := range long {
		if !regexp.MustCompile(`(^|[^-\w])--` + regexp.QuoteMeta(name) + `\b`).MatchString(emu) {
			t.Errorf("README.md's Emulator section does not document flag --%s", name)
		}
	}
	for _, s := range short {
		if !strings.Contains(emu, "`-"+s+"`") {
			t.Errorf("README.md's Emulator section does not document shorthand -%s", s)
		}
	}

	endpoints := adminEndpoints(t)
	for _, name := range endpoints {
		if !strings.Contains(emu, "/_xsigner/"+name) {
			t.Errorf("README.md's Emulator section does not document admin endpoint /_xsigner/%s", name)
		}
	}
	for _, m := range adminPathPattern.FindAllStringSubmatch(doc, -1) {
		if !slices.Contains(endpoints, m[1]) {
			t.Errorf("README.md mentions /_xsigner/%s, which the emulator does not have (it has %v)", m[1], endpoints)
		}
	}
}

// TestConfigTableMatchesKeys: each configuration key's README row names its
// environment variable, aliases and default exactly as internal/config does.
func TestConfigTableMatchesKeys(t *testing.T) {
	t.Parallel()
	cfgSection := section(t, readme(t), "Configuration")
	for _, k := range config.Keys {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			var row string
			for _, line := range strings.Split(cfgSection, "\n") {
				if strings.HasPrefix(line, "| `"+k.Name+"` |") {
					row = line
					break
				}
			}
			if row == "" {
				t.Fatalf("README.md's configuration table has no row for `%s`", k.Name)
			}
			for _, want := range append([]string{"`" + k.Env + "`", k.Default}, k.Aliases...) {
				if !strings.Contains(row, want) {
					t.Errorf("README.md's row for %s does not contain %q (from internal/config/keys.go):\n%s", k.Name, want, row)
				}
			}
		})
	}
}

// TestTroubleshootingMessagesExistInSource: every message fragment in the
// first column of the Troubleshooting table occurs in a Go source file of
// this module or of notation-go (whose messages notation prints). A
// fragment's parts separated by "…" must occur in one file, in order.
func TestTroubleshootingMessagesExistInSource(t *testing.T) {
	t.Parallel()
	tbl := section(t, readme(t), "Troubleshooting")
	root := moduleRoot(t)
	sources := goSources(t, root)
	for path, text := range goSources(t, moduleDir(t, root, notationGo)) {
		sources[path] = text
	}

	rows := 0
	for _, line := range strings.Split(tbl, "\n") {
		if !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| ---") || strings.HasPrefix(line, "| Message contains") {
			continue
		}
		rows++
		cells := strings.Split(line, "|")
		spans := regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cells[1], -1)
		if len(spans) == 0 {
			t.Errorf("Troubleshooting row has no `message fragment` in its first column: %s", line)
			continue
		}
		for _, s := range spans {
			if file := findInOrder(sources, s[1]); file == "" {
				t.Errorf("Troubleshooting message %q occurs in no Go source file (module or notation-go); the table has rotted", s[1])
			}
		}
	}
	if rows < 10 {
		t.Errorf("the Troubleshooting table has %d rows; expected the full table", rows)
	}
}

// findInOrder returns a file whose text holds every "…"-separated part of
// fragment, in order, or "".
func findInOrder(sources map[string]string, fragment string) string {
	var parts []string
	for _, p := range strings.Split(fragment, "…") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	paths := make([]string, 0, len(sources))
	for p := range sources {
		paths = append(paths, p)
	}
	slices.Sort(paths)
next:
	for _, path := range paths {
		text := sources[path]
		for _, p := range parts {
			i := strings.Index(text, p)
			if i < 0 {
				continue next
			}
			text = text[i+len(p):]
		}
		return path
	}
	return ""
}

// goSources reads every non-test .go file under dir (skipping testdata,
// hidden directories and build outputs).
func goSources(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != dir && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out[path] = string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("reading Go sources under %s: %v", dir, err)
	}
	if len(out) == 0 {
		t.Fatalf("no Go sources under %s", dir)
	}
	return out
}

// notationGo is the notation-go of the notation CLI that make tools builds
// (internal/tools/notation/go.mod), whose messages notation prints.
const notationGo = "github.com/notaryproject/notation-go@v1.3.2"

// moduleDir returns the directory of module (path@version) in the module
// cache, downloading it when the cache lacks it: nothing in this module
// imports notation-go, so a fresh machine's build does not fetch it.
func moduleDir(t *testing.T, root, module string) string {
	t.Helper()
	cmd := exec.Command("go", "mod", "download", "-json", module)
	cmd.Dir = root
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go mod download %s: %v: %s%s", module, err, out, ee.Stderr)
	}
	if err != nil {
		t.Fatalf("go mod download %s: %v", module, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("go mod download -json %s: %v: %s", module, err, out)
	}
	if info.Dir == "" {
		t.Fatalf("go mod download %s: no directory (%s)", module, info.Error)
	}
	return info.Dir
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	var files []*ast.File
	for _, f := range parseDirByPath(t, dir) {
		files = append(files, f)
	}
	return files
}

// parseDirByPath parses the non-test .go files of dir (not recursive).
func parseDirByPath(t *testing.T, dir string) map[string]*ast.File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]*ast.File{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatalf("parsing %s: %v", path, err)
		}
		out[path] = f
	}
	if len(out) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}
