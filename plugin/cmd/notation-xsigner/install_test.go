package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/xsigner/xsigner/internal/plugintest"
)

// installScript is ../../../install.sh, the script under test.
func installScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../../install.sh")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runInstall runs install.sh with a temp XDG_CONFIG_HOME and a PATH of
// pathDirs plus /usr/bin:/bin, where notation must not be.
func runInstall(t *testing.T, xdg string, pathDirs []string, extraEnv []string, args ...string) (string, error) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the install tests use the Linux plugin directory layout")
	}
	path := strings.Join(append(pathDirs, "/usr/bin", "/bin"), ":")
	cmd := exec.Command("bash", append([]string{installScript(t)}, args...)...)
	cmd.Env = append([]string{"PATH=" + path, "HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + xdg, "TMPDIR=" + t.TempDir()}, extraEnv...)
	if lp, err := lookPathIn("notation", path); err == nil {
		t.Skipf("notation is on the test PATH (%s); these tests cover the copy path", lp)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func lookPathIn(file, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, file)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}

func TestInstallBinaryIdempotentWithAlias(t *testing.T) {
	t.Parallel()
	xdg := t.TempDir()
	own := filepath.Join(xdg, "notation", "plugins", "xsigner", "notation-xsigner")
	alias := filepath.Join(xdg, "notation", "plugins", "com.amazonaws.signer.notation.plugin", "notation-com.amazonaws.signer.notation.plugin")

	out, err := runInstall(t, xdg, nil, nil, "--binary", plugintest.Binary(t))
	if err != nil {
		t.Fatalf("install.sh --binary: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"name":"xsigner"`) {
		t.Errorf("install.sh did not print the installed plugin's metadata:\n%s", out)
	}
	assertInstalled(t, own, "xsigner")
	if _, err := os.Stat(alias); err == nil {
		t.Errorf("alias installed without --as-aws-plugin")
	}

	for i := range 2 { // the second run must change nothing and still succeed
		out, err = runInstall(t, xdg, nil, nil, "--binary", plugintest.Binary(t), "--as-aws-plugin")
		if err != nil {
			t.Fatalf("run %d of install.sh --as-aws-plugin: %v\n%s", i+1, err, out)
		}
	}
	if !strings.Contains(out, `"name":"com.amazonaws.signer.notation.plugin"`) {
		t.Errorf("install.sh did not print the alias metadata:\n%s", out)
	}
	assertInstalled(t, own, "xsigner")
	assertInstalled(t, alias, "com.amazonaws.signer.notation.plugin")
	entries, err := os.ReadDir(filepath.Dir(own))
	if err != nil || len(entries) != 1 {
		t.Errorf("plugin directory holds %v (%v), want only the executable", entries, err)
	}
}

func assertInstalled(t *testing.T, path, wantName string) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("not installed: %v", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o755 {
		t.Errorf("%s: mode %v, want a regular 0755 file", path, fi.Mode())
	}
	r := run(t, path, "{}", nil, "get-plugin-metadata")
	if !strings.Contains(r.stdout, `"name":"`+wantName+`"`) {
		t.Errorf("%s reports %q, want name %q", path, r.stdout, wantName)
	}
}

func TestInstallHonoursNotationLibexec(t *testing.T) {
	t.Parallel()
	libexec := t.TempDir()
	out, err := runInstall(t, t.TempDir(), nil, []string{"NOTATION_LIBEXEC=" + libexec}, "--binary", plugintest.Binary(t))
	if err != nil {
		t.Fatalf("install.sh: %v\n%s", err, out)
	}
	assertInstalled(t, filepath.Join(libexec, "plugins", "xsigner", "notation-xsigner"), "xsigner")
}

func TestInstallFromSource(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds from source")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	goEnv := []string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS", "GONOSUMDB", "GOSUMDB"} {
		out, err := exec.Command(goBin, "env", k).Output()
		if err == nil && strings.TrimSpace(string(out)) != "" {
			goEnv = append(goEnv, k+"="+strings.TrimSpace(string(out)))
		}
	}
	xdg := t.TempDir()
	out, err := runInstall(t, xdg, []string{filepath.Dir(goBin)}, append(goEnv, "VERSION=9.8.7"))
	if err != nil {
		t.Fatalf("install.sh (source build): %v\n%s", err, out)
	}
	if !strings.Contains(out, `"version":"9.8.7"`) {
		t.Errorf("the source build does not report VERSION 9.8.7:\n%s", out)
	}
	assertInstalled(t, filepath.Join(xdg, "notation", "plugins", "xsigner", "notation-xsigner"), "xsigner")
}

func TestInstallRejectsOldGo(t *testing.T) {
	t.Parallel()
	fake := t.TempDir()
	script := "#!/bin/sh\n[ \"$1 $2\" = \"env GOVERSION\" ] && echo go1.19.3 && exit 0\nexit 99\n"
	if err := os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := runInstall(t, t.TempDir(), []string{fake}, nil)
	if err == nil || !strings.Contains(out, "Go 1.19.3 is too old: go.mod needs Go >= 1.24") {
		t.Errorf("install.sh with Go 1.19: err %v, output:\n%s", err, out)
	}
}

func TestInstallUsageErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		args    []string
		wantErr bool
		wantOut string
	}{
		"help":            {[]string{"--help"}, false, "Usage: ./install.sh"},
		"unknown flag":    {[]string{"--bogus"}, true, "unknown argument: --bogus"},
		"missing binary":  {[]string{"--binary", "/nonexistent/notation-xsigner"}, true, "no such file"},
		"binary no value": {[]string{"--binary"}, true, "--binary needs a path"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := runInstall(t, t.TempDir(), nil, nil, tc.args...)
			if (err != nil) != tc.wantErr || !strings.Contains(out, tc.wantOut) {
				t.Errorf("install.sh %v: err %v, output:\n%s\nwant error=%v and %q", tc.args, err, out, tc.wantErr, tc.wantOut)
			}
		})
	}
}
