package harness

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modulePath is the main module's path; [ModuleRoot] looks for its go.mod.
const modulePath = "github.com/xsigner/xsigner"

// Binary names, as placed by `make tools` (.tools/bin) and `make build` (bin).
const (
	notationName = "notation"
	registryName = "registry"
	orasName     = "oras"
	pluginName   = "notation-xsigner"
	emulatorName = "xsigner-emulator"
)

// ExternalToolPaths holds absolute paths of the pinned third-party tools.
type ExternalToolPaths struct {
	// Dir is the directory holding all three (<module root>/.tools/bin).
	Dir      string
	Notation string
	Registry string
	Oras     string
}

// ToolPaths holds absolute paths of every binary the end-to-end tests run.
type ToolPaths struct {
	ExternalToolPaths
	// Plugin is the built notation plugin (<module root>/bin/notation-xsigner).
	Plugin string
	// Emulator is the built AWS emulator (<module root>/bin/xsigner-emulator).
	Emulator string
}

// ExternalTools locates notation, registry and oras in .tools/bin under the
// module root. It fails the test, telling to run `make tools`, when one is
// missing.
func ExternalTools(t testing.TB) ExternalToolPaths {
	t.Helper()
	root := ModuleRoot(t)
	dir := filepath.Join(root, ".tools", "bin")
	paths := ExternalToolPaths{
		Dir:      dir,
		Notation: filepath.Join(dir, notationName),
		Registry: filepath.Join(dir, registryName),
		Oras:     filepath.Join(dir, orasName),
	}
	if missing := missingExecutables(paths.Notation, paths.Registry, paths.Oras); len(missing) > 0 {
		t.Fatalf("end-to-end tools missing: %s; run `make tools` (bash internal/tools/install-tools.sh) first",
			strings.Join(missing, ", "))
	}
	return paths
}

// Tools locates the pinned third-party tools (see [ExternalTools]) and the
// project's built plugin and emulator in bin/ under the module root. It fails
// the test, telling to run `make tools` or `make build`, when one is missing.
func Tools(t testing.TB) ToolPaths {
	t.Helper()
	paths := ToolPaths{ExternalToolPaths: ExternalTools(t)}
	binDir := filepath.Join(ModuleRoot(t), "bin")
	paths.Plugin = filepath.Join(binDir, pluginName)
	paths.Emulator = filepath.Join(binDir, emulatorName)
	if missing := missingExecutables(paths.Plugin, paths.Emulator); len(missing) > 0 {
		t.Fatalf("project binaries missing: %s; run `make build` first", strings.Join(missing, ", "))
	}
	return paths
}

// missingExecutables returns those of paths that are not executable regular files.
func missingExecutables(paths ...string) []string {
	var missing []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	return missing
}

// ModuleRoot returns the directory of the go.mod declaring module
// github.com/xsigner/xsigner, found by walking up from the working directory
// (a test's working directory is its package directory). Nested modules, such
// as the tools modules under internal/tools, are skipped.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("finding module root: %v", err)
	}
	root, err := findModuleRoot(wd, modulePath)
	if err != nil {
		t.Fatalf("finding module root: %v", err)
	}
	return root
}

// findModuleRoot walks up from dir to the directory whose go.mod declares module want.
func findModuleRoot(dir, want string) (string, error) {
	for d := filepath.Clean(dir); ; {
		got, err := goModModule(filepath.Join(d, "go.mod"))
		switch {
		case err == nil && got == want:
			return d, nil
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod declaring module %s in %s or any parent", want, dir)
		}
		d = parent
	}
}

// goModModule returns the module path declared in the go.mod file at path.
func goModModule(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	return "", nil
}
